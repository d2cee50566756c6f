/*
** func_window.c - the descriptors of the window functions that are not
** aggregates: ROW_NUMBER(), RANK(), DENSE_RANK(), LAG(x[, n[, default]]),
** LEAD(x[, n[, default]]).  They take their values from the rows of a
** window (OVER (PARTITION BY ... ORDER BY ...)), which only the window
** operators see (op_window.c over a bounded input, op_topn.c and op_over.c
** over a stream), so they are never called: the binder finds them here
** (one sl_func per function, as every function), checks that a call has an
** OVER clause, and the operators read their kind (sl_func_window_kind).
** Aggregates (sum, count, ...) are window functions too, through their
** own descriptors (agg_basic.c).
*/
#include <stdint.h>

#include "func.h"

#define WFN(name, n, kind, doc)                                                                    \
  {                                                                                                \
    name, n, SL_FUNC_WINDOW, (void *)(intptr_t)(kind), NULL, NULL, NULL, NULL, NULL, 0, NULL, doc, \
        NULL, NULL, NULL                                                                           \
  }

const sl_func sl_builtin_window[] = {
    WFN("row_number", 0, SL_WF_ROW_NUMBER, "the row's number in its partition, from 1 (OVER)"),
    WFN("rank", 0, SL_WF_RANK, "1 + the rows before the row's peers in its partition (OVER)"),
    WFN("dense_rank", 0, SL_WF_DENSE_RANK, "the number of the row's peer group, from 1 (OVER)"),
    WFN("lag", 1, SL_WF_LAG, "x of the row before in the partition, or NULL (OVER)"),
    WFN("lag", 2, SL_WF_LAG, "x of the row n before in the partition, or NULL (OVER)"),
    WFN("lag", 3, SL_WF_LAG, "x of the row n before in the partition, or default (OVER)"),
    WFN("lead", 1, SL_WF_LEAD, "x of the row after in the partition, or NULL (OVER)"),
    WFN("lead", 2, SL_WF_LEAD, "x of the row n after in the partition, or NULL (OVER)"),
    WFN("lead", 3, SL_WF_LEAD, "x of the row n after in the partition, or default (OVER)"),
    {NULL, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL, NULL, NULL, NULL}};
