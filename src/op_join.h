/*
** op_join.h - what the planner hands op_join.c for FROM s [LEFT] JOIN t ON.
*/
#ifndef SLUICE_OP_JOIN_H
#define SLUICE_OP_JOIN_H

#include "catalog.h"
#include "operator.h"
#include "vm.h"

typedef struct sl_join_spec {
  sl_table *table; /* the rows of t, owned */
  int *tkey;       /* t's key columns */
  int nkeys;
  sl_program *keyprog;  /* over a joined row (t's part NULL): the input's key values */
  sl_program *residual; /* the rest of ON over a joined row (skips when false), or NULL */
  int left;             /* LEFT JOIN: a record without a match joins NULLs */
} sl_join_spec;

/* Takes everything in spec (which is zeroed). */
sl_operator *sl_op_join_new(sl_join_spec *spec);

#endif /* SLUICE_OP_JOIN_H */
