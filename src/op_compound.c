/*
** op_compound.c - a compound SELECT over bounded inputs: for each row it
** is pushed (one: its query reads one empty row, as a SELECT without FROM
** does) it runs its arms left to right through the VM's subquery runner
** and combines their rows with SQLite's rules: UNION ALL keeps every row,
** in the arms' order; UNION, INTERSECT and EXCEPT work on distinct rows
** (NULLs alike, 1 and 1.0 alike, text by its bytes) and give them sorted,
** as SQLite's temporary index does.  Then it pushes the rows on in
** batches.  Its state lives only during that push.
*/
#include <stdlib.h>
#include <string.h>

#include "ast.h"
#include "op_compound.h"
#include "vm.h"

#define OUT_BATCH 1024

typedef struct op_compound {
  sl_operator base;
  const sl_compound_spec *spec;
} op_compound;

/* Compare rows a and b (ncol values each) as DISTINCT and ORDER BY of
** every column do. */
static int row_cmp(const sl_value *a, const sl_value *b, int ncol) {
  for (int c = 0; c < ncol; c++) {
    int r = sl_value_compare(&a[c], &b[c], SL_COLL_BINARY);
    if (r) return r;
  }
  return 0;
}

static _Thread_local int sort_ncol;
static _Thread_local const sl_value *sort_base;

static int idx_cmp(const void *x, const void *y) {
  int a = *(const int *)x, b = *(const int *)y;
  int c = row_cmp(sort_base + (size_t)a * (size_t)sort_ncol,
                  sort_base + (size_t)b * (size_t)sort_ncol, sort_ncol);
  return c ? c : (a > b) - (a < b); /* equal rows stay in their order */
}

/* The rows of r in order, sorted (an index array of r->nrow, owned by the
** caller). */
static int *sorted(const sl_subq_rows *r, int ncol) {
  int *ix = sl_malloc(sizeof(int) * (size_t)(r->nrow ? r->nrow : 1));
  for (int i = 0; i < r->nrow; i++)
    ix[i] = i;
  sort_ncol = ncol;
  sort_base = r->v;
  qsort(ix, (size_t)r->nrow, sizeof(int), idx_cmp);
  return ix;
}

/* 1 when row x (ncol values) is among r's rows (ix: sorted). */
static int has_row(const sl_subq_rows *r, const int *ix, const sl_value *x, int ncol) {
  int lo = 0, hi = r->nrow - 1;
  while (lo <= hi) {
    int mid = (lo + hi) / 2;
    int c = row_cmp(x, r->v + (size_t)ix[mid] * (size_t)ncol, ncol);
    if (!c) return 1;
    if (c < 0)
      hi = mid - 1;
    else
      lo = mid + 1;
  }
  return 0;
}

/* Replace acc by its distinct rows, sorted (of equal rows, the last); with
** other (op SL_EXCEPT or SL_INTERSECT), only those (not) among other's rows. */
static void combine(sl_subq_rows *acc, const sl_subq_rows *other, int op, int ncol) {
  int *ix = sorted(acc, ncol);
  int *ox = other ? sorted(other, ncol) : NULL;
  sl_subq_rows out = {0};
  sl_value **row = sl_malloc(sizeof(sl_value *) * (size_t)(ncol ? ncol : 1));
  for (int i = 0; i < acc->nrow; i++) {
    const sl_value *x = acc->v + (size_t)ix[i] * (size_t)ncol;
    /* of equal rows the last one is kept (1 UNION 1.0 is 1.0), as SQLite's
    ** temporary index keeps the last row inserted under a key */
    if (i + 1 < acc->nrow && !row_cmp(x, acc->v + (size_t)ix[i + 1] * (size_t)ncol, ncol)) continue;
    if (other && has_row(other, ox, x, ncol) != (op == SL_INTERSECT)) continue;
    for (int c = 0; c < ncol; c++)
      row[c] = (sl_value *)&x[c];
    sl_subq_rows_add(&out, ncol, row);
  }
  out.ncol = ncol;
  free(row);
  free(ix);
  free(ox);
  sl_subq_rows_free(acc);
  *acc = out;
}

/* Append b's rows to acc. */
static void append(sl_subq_rows *acc, const sl_subq_rows *b, int ncol) {
  sl_value **row = sl_malloc(sizeof(sl_value *) * (size_t)(ncol ? ncol : 1));
  for (int i = 0; i < b->nrow; i++) {
    for (int c = 0; c < ncol; c++)
      row[c] = &b->v[(size_t)i * (size_t)ncol + (size_t)c];
    sl_subq_rows_add(acc, ncol, row);
  }
  free(row);
}

/* Run the arms and push the compound's rows on.  0, 1 (enough) or -1. */
static int compound_run(op_compound *p, int64_t now, sl_err *err) {
  const sl_compound_spec *sp = p->spec;
  int ncol = sp->ncol;
  sl_subq_rows acc = {0}, arm = {0};
  int rc = sl_vm_subquery(sp->arms[0], NULL, -1, &acc, err);
  for (int i = 1; !rc && i < sp->narm; i++) {
    rc = sl_vm_subquery(sp->arms[i], NULL, -1, &arm, err);
    if (rc) break;
    if (sp->ops[i] == SL_UNION_ALL || sp->ops[i] == SL_UNION) append(&acc, &arm, ncol);
    if (sp->ops[i] != SL_UNION_ALL)
      combine(&acc, sp->ops[i] == SL_UNION ? NULL : &arm, sp->ops[i], ncol);
  }
  for (int r = 0; !rc && r < acc.nrow; r += OUT_BATCH) {
    int n = acc.nrow - r < OUT_BATCH ? acc.nrow - r : OUT_BATCH;
    sl_batch b = {ncol, n, acc.v + (size_t)r * (size_t)ncol, NULL, NULL, now, NULL, NULL};
    rc = sl_op_emit(&p->base, &b, err);
  }
  sl_subq_rows_free(&acc);
  sl_subq_rows_free(&arm);
  return rc;
}

/* Each row pushed (one) runs the compound. */
static int compound_push(sl_operator *base, sl_batch *in, sl_err *err) {
  for (int i = 0; i < in->nrow; i++) {
    int rc = compound_run((op_compound *)base, in->now, err);
    if (rc) return rc;
  }
  return 0;
}

/* The input ended: nothing is pending; pass it on. */
static int compound_finish(sl_operator *base, sl_err *err) {
  return sl_op_finish_next(base, err);
}

/* The operator holds nothing but itself. */
static void compound_free(sl_operator *base) {
  free(base);
}

static const sl_op_vt compound_vt = {
    "compound", compound_push, sl_op_pass_tick, sl_op_pass_barrier, compound_finish, compound_free,
    NULL,       NULL};

/* A live compound reading spec (borrowed from the plan). */
static sl_operator *compound_make(const void *spec, const sl_make_env *env, sl_err *err) {
  (void)env;
  (void)err;
  op_compound *p = sl_calloc(1, sizeof *p);
  p->base.vt = &compound_vt;
  p->spec = spec;
  return &p->base;
}

/* EXPLAIN: the arms and their operators. */
static void compound_explain(const void *spec, sl_buf *out) {
  static const char *names[] = {"", "UNION", "UNION ALL", "EXCEPT", "INTERSECT"};
  const sl_compound_spec *sp = spec;
  sl_buf_printf(out, "compound: %s", sp->labels[0]);
  for (int i = 1; i < sp->narm; i++)
    sl_buf_printf(out, " %s %s", names[sp->ops[i]], sp->labels[i]);
  sl_buf_printf(out, " (run when the query starts)\n");
}

/* Free the spec (not its arms: the plan's). */
static void compound_free_spec(void *spec) {
  sl_compound_spec *sp = spec;
  for (int i = 0; i < sp->narm; i++)
    free(sp->labels[i]);
  free(sp->labels);
  free(sp->arms);
  free(sp->ops);
  free(sp);
}

const sl_op_kind sl_op_compound = {"compound", compound_make, compound_explain, compound_free_spec,
                                   NULL};
