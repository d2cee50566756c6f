/*
** op_join.h - what the planner hands op_join.c for FROM s [LEFT] JOIN t ON.
*/
#ifndef SLUICE_OP_JOIN_H
#define SLUICE_OP_JOIN_H

#include "catalog.h"
#include "operator.h"
#include "vm.h"

typedef struct sl_join_spec {
  /* t: a copy of a catalog table's rows (owned), or NULL: t is read from
  ** conn with opts (owned) when the query starts, and must then have the
  ** columns it was planned with */
  sl_table *table;
  const sl_connector *conn;
  sl_options opts;
  char *tname;      /* t's name (or alias), owned */
  sl_schema schema; /* t's columns as planned (owned) */
  int line, col;    /* where t was written, for errors when it is read */
  int *tkey;        /* t's key columns (owned) */
  int nkeys;
  sl_program *keyprog;  /* over a joined row (t's part NULL): the input's key values */
  sl_program *residual; /* the rest of ON over a joined row (skips when false), or NULL */
  int left;             /* LEFT JOIN: a record without a match joins NULLs */
  /* over a joined row, t's part NULL: a record for which it skips joins
  ** nothing, not even NULLs (WHERE terms over the items before t), or NULL */
  sl_program *pre;
  /* over t's row alone: t's rows for which it skips (or fails) are left out
  ** when the query starts (ON and WHERE terms that read only t), or NULL */
  sl_program *tfilter;
} sl_join_spec;
/* The operator's kind: a spec (owned by the plan) to a live join. */
extern const sl_op_kind sl_op_join;
#endif /* SLUICE_OP_JOIN_H */
