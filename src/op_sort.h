/*
** op_sort.h - what the planner hands op_sort.c: ORDER BY's sort keys over a
** query's output rows, and how many rows it keeps (top-N).
*/
#ifndef SLUICE_OP_SORT_H
#define SLUICE_OP_SORT_H

#include "operator.h"

/* One ORDER BY term: a column of the input rows and how it sorts. */
typedef struct sl_sortkey {
  int col;         /* input column */
  int desc;        /* DESC */
  int nulls_first; /* NULLs before the other values (SQLite: ASC's default) */
  sl_coll coll;    /* how text compares */
} sl_sortkey;

typedef struct sl_sort_spec {
  sl_sortkey *keys; /* owned */
  int nkeys;
  int ncol_in;  /* columns of the rows it is given: the output's, then hidden sort columns */
  int ncol_out; /* the first ncol_out columns are passed on */
  /* Rows passed on: those at [offset, offset + limit) of the sorted order
  ** (limit < 0: all after offset); only offset + limit rows are kept while
  ** buffering (top-N). */
  int64_t limit, offset;
  /* 0: buffer every row and sort at the end of the input (a bounded query);
  ** 1: sort each batch on its own as it arrives (the groups of windows that
  ** closed together: an ORDER BY ... LIMIT n per window) */
  int per_batch;
} sl_sort_spec;

/* The operator's kind: a spec (owned by the plan, with its keys) to a live
** sort. */
extern const sl_op_kind sl_op_sort;
#endif /* SLUICE_OP_SORT_H */
