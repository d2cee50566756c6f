/*
** expr.h - binding expressions to names and compiling them to VM programs.
**
** bind.c resolves the names in an expression tree (input columns, functions,
** collations), finds aggregates, and annotates every node with its affinity
** and constness.  expr.c turns bound trees into instructions of a program
** (vm.h), folding constant subtrees at compile time.
*/
#ifndef SLUICE_EXPR_H
#define SLUICE_EXPR_H

#include "ast.h"
#include "format.h"
#include "vm.h"

/* A model function call found by the binder (predict(m, ...), m(...), ...),
** scored by op_score.c for a whole batch before the rest of the query. */
typedef enum sl_mcall_mode {
  SL_MC_PREDICT,   /* m(...) / predict(m, ...): the primary output */
  SL_MC_LABEL,     /* predict_label */
  SL_MC_PROBA,     /* predict_proba: all classes as a JSON object */
  SL_MC_PROBA1,    /* predict_proba(m, ..., class): one class */
  SL_MC_TRANSFORM, /* transform: a VECTOR */
  SL_MC_DECISION   /* decision_function */
} sl_mcall_mode;

typedef struct sl_model_slot sl_model_slot;
typedef struct sl_catalog sl_catalog;

typedef struct sl_mcall {
  sl_model_slot *slot; /* a reference owned by whoever owns the list */
  sl_mcall_mode mode;
  sl_expr **args; /* the features: n_in scalars, or one VECTOR */
  int nargs;
  int vector;   /* args[0] is a VECTOR of features */
  sl_expr *cls; /* SL_MC_PROBA1: the class */
  const char *fname;
  int line, col;
} sl_mcall;

typedef struct sl_mcalls {
  sl_mcall *a;
  int n;
} sl_mcalls;
/* Release the slots and the array. */
void sl_mcalls_free(sl_mcalls *l);
/* Why model m cannot serve a call in this mode (predict_label of a
** regressor...), or NULL.  At bind time, and per batch after a replace. */
struct sl_model;
const char *sl_mcall_misfit(sl_mcall_mode mode, const struct sl_model *m);

/* Model slots a query holds a reference to (train()'s models). */
typedef struct sl_held {
  struct sl_model_slot **a;
  int n;
} sl_held;
void sl_held_free(sl_held *h); /* releases each reference */

/* The window calls of a query (f(...) OVER (...)), in the order the binder
** met them: call k's value is column wcall_base + k of the rows the
** window operator passes on (sl_compiler.wcall_base).  The array is owned
** by the planner that collects them. */
typedef struct sl_wcalls {
  sl_expr **a;
  int n;
} sl_wcalls;

typedef struct sl_bind {
  sl_schema *schema;   /* input columns (may grow if open), NULL without FROM */
  const char *srcname; /* name the input may be qualified with, or NULL */
  const sl_functab *funcs;
  sl_err *err;
  int allow_agg;     /* aggregates are allowed in this clause */
  int in_agg;        /* binding the arguments of an aggregate */
  int naggs;         /* aggregates found so far (each E_CALL gets ->agg) */
  sl_catalog *cat;   /* models by name; NULL: model calls are not allowed here */
  sl_mcalls *mcalls; /* where model calls are collected (each E_CALL gets ->mcall) */
  int in_model;      /* binding a model call's arguments */
  int agg_models;    /* model calls may be aggregate arguments (op_score runs first) */
  sl_held *held;     /* train(m, ...) is allowed; m's slot is held here */
  int window_cols;   /* window_start / window_end name the group's window */
  /* A join: the other side's columns (schema2, named srcname2) at offset
  ** base2 in the joined row, this input's at base1.  Stream-table: the
  ** table's first (base2 0, base1 = its width); interval join: the left
  ** input's first, the right's at a provisional base2 remapped after
  ** binding (the left's open schema may still grow). */
  sl_schema *schema2;
  const char *srcname2;
  int base1, base2;
  /* A FROM list of several items (plan_join.c): when ntabs > 0, names
  ** resolve over tabs alone (schema and schema2 unused). */
  const struct sl_bind_tab *tabs;
  int ntabs;
  /* subqueries: the planner's hook that plans an E_SUBQUERY (plan_int.h),
  ** NULL where none is allowed; and, in a subquery's clauses, the
  ** enclosing query's scope (columns not found here are looked up there
  ** and read as outer values: a correlated subquery), else NULL */
  int (*plan_subq)(void *ud, struct sl_bind *b, sl_expr *e);
  void *subq_ud;
  struct sl_outer *outer;
  /* window calls: where they are collected (each E_CALL gets ->wcall),
  ** NULL where none is allowed (WHERE, GROUP BY, ...); windows: the
  ** select's WINDOW clause (named windows), or NULL */
  sl_wcalls *wcalls;
  const struct sl_window *windows;
  int in_window; /* binding a window call's arguments or window */
} sl_bind;

/* One FROM item as the binder sees it: its columns at base in the joined
** row, the qualifier name, and per column whether it is a USING/NATURAL
** column merged into an earlier item's (hidden[c]: unqualified names and
** `*` skip it; NULL: none).  An open schema grows when a name is found
** nowhere (only the first item's may be open).  A qualifier of the form
** "\x01<k>" names item k (`*` expands to such names). */
typedef struct sl_bind_tab {
  sl_schema *schema;
  const char *name;
  int base;
  const unsigned char *hidden;
  int order; /* its place in FROM as written (the order of `*`) */
} sl_bind_tab;

/* The scope of the query enclosing a subquery being planned: its binder
** (where a column the subquery does not have is looked up) and the outer
** values the subquery reads, bound there (E_COLUMN col SL_COL_PARAM0 - k in
** the subquery reads refs[k]); refs is owned by the subquery's planner. */
typedef struct sl_outer {
  sl_bind *bind;
  sl_expr **refs;
  int n;
} sl_outer;

/* Columns of a grouped query's window (E_COLUMN col values). */
#define SL_COL_WSTART (-2)
#define SL_COL_WEND (-3)
/* A correlated subquery's outer value k (E_COLUMN col): read with OP_Param */
#define SL_COL_PARAM0 (-100)
#define SL_COL_IS_PARAM(c) ((c) <= SL_COL_PARAM0)
#define SL_COL_PARAM_INDEX(c) (SL_COL_PARAM0 - (c))

/* 1 if a and b are the same expression (for matching GROUP BY terms). */
int sl_expr_equal(const sl_expr *a, const sl_expr *b);

/* Bind e and its children.  Returns 0, or -1 with b->err set to an error
** with the offending name's line:column. */
int sl_bind_expr(sl_bind *b, sl_expr *e);

/* The affinity to apply when comparing l and r (SQLite's rules). */
sl_affinity sl_compare_affinity(const sl_expr *l, const sl_expr *r);
/* The collation for comparing l and r. */
sl_coll sl_compare_coll(const sl_expr *l, const sl_expr *r);

typedef struct sl_compiler {
  sl_program *prog;
  int nreg; /* next free register */
  sl_err *err;
  int no_fold;    /* disable constant folding (EXPLAIN of folding itself) */
  int mcall_base; /* input column of model call 0's result (op_score appends them) */
  /* A grouped query's output program reads a group row instead of input:
  ** [group keys..., window_start, window_end, aggregate values...]. */
  const sl_exprlist *group; /* the GROUP BY keys (without the window), or NULL */
  int grouped;              /* compiling over group rows */
  int wcall_base; /* input column of window call 0's value (the window operators append them) */
} sl_compiler;

/* Compile e so that its value ends up in register target.  Returns 0 or -1
** (err set).  Temporary registers above c->nreg are reused afterwards. */
int sl_expr_code(sl_compiler *c, sl_expr *e, int target);
/* Allocate n consecutive registers; returns the first. */
int sl_reg_alloc(sl_compiler *c, int n);

/* Evaluate a bound constant expression now.  Returns 0 with the value in
** out (owned by the caller's value), or -1 with err set. */
int sl_expr_eval_const(sl_expr *e, sl_value *out, sl_err *err);

/* Default result-column name for e: alias, column name, or source text. */
char *sl_expr_colname(const sl_expr *e, const char *alias);

#endif /* SLUICE_EXPR_H */
