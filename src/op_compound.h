/*
** op_compound.h - the operators of a compound SELECT: UNION [ALL],
** INTERSECT, EXCEPT over bounded inputs (op_compound.c) and UNION ALL of
** two streams (op_merge.c); their specs, as the planner makes them.
*/
#ifndef SLUICE_OP_COMPOUND_H
#define SLUICE_OP_COMPOUND_H

#include "operator.h"

/* The arms, left to right: arm i > 0 is combined with what the arms
** before it gave by ops[i] (SL_UNION, SL_UNION_ALL, SL_EXCEPT,
** SL_INTERSECT, ast.h).  Each arm is a planned subquery (plan.h's
** sl_psubq, borrowed from the plan that owns the spec), run through the
** VM's runner (vm.h) when the operator gets its one input row. */
typedef struct sl_compound_spec {
  int narm;
  const void **arms; /* owned array; the arms are the plan's */
  int *ops;          /* owned; ops[0] unused */
  char **labels;     /* "subquery 2" per arm, for EXPLAIN (owned) */
  int ncol;
} sl_compound_spec;
extern const sl_op_kind sl_op_compound;

/* op_merge.c: UNION ALL of two streams, the rows of both as they come: the
** left input feeds the operator, the right its port (two tasks). */
typedef struct sl_merge_spec {
  int ncol;
  char *left, *right; /* the inputs' names, for EXPLAIN (owned) */
} sl_merge_spec;
extern const sl_op_kind sl_op_merge;

#endif /* SLUICE_OP_COMPOUND_H */
