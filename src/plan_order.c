/*
** plan_order.c - planning ORDER BY (plan_int.h) over a query's output
** columns: each term resolved as SQLite does (an ordinal, a result column's
** name or alias, else an expression over the input, computed by the body
** as a hidden column after the visible ones), then op_sort over the rows,
** which drops the hidden columns.  Any query body that makes its output
** through a list of expressions can use it (a SELECT's, a compound's).
*/
#include <stdlib.h>
#include <string.h>

#include "op_sort.h"
#include "plan_int.h"

/* The collation a COLLATE name stands for; -1 when none is known. */
static int coll_named(const char *name) {
  if (!sl_stricmp(name, "binary")) return SL_COLL_BINARY;
  if (!sl_stricmp(name, "nocase")) return SL_COLL_NOCASE;
  if (!sl_stricmp(name, "rtrim")) return SL_COLL_RTRIM;
  return -1;
}

/* "1st", "2nd", ... as SQLite's messages count terms. */
static const char *ordinal_suffix(int i) {
  if (i % 100 >= 11 && i % 100 <= 13) return "th";
  return i % 10 == 1 ? "st" : i % 10 == 2 ? "nd" : i % 10 == 3 ? "rd" : "th";
}

int sl_plan_result_column(const sl_exprlist *cols, int nvis, const sl_expr *e, const char *clause,
                          int term, int *col, sl_err *err) {
  *col = -1;
  if (e->kind == E_INT) {
    if (e->i < 1 || e->i > nvis) {
      sl_err_setpos(err, SL_EBIND, e->line, e->pos_col,
                    "%d%s %s term out of range - should be between 1 and %d", term + 1,
                    ordinal_suffix(term + 1), clause, nvis);
      return -1;
    }
    *col = (int)e->i - 1;
    return 0;
  }
  if (e->kind == E_COLUMN && !e->tab)
    for (int i = 0; i < nvis && *col < 0; i++)
      if (cols->names && cols->names[i] && !sl_stricmp(cols->names[i], e->name)) *col = i;
  return 0;
}

sl_exprlist *sl_plan_order_cols(sl_plan *plan, const sl_orderby *ob, sl_exprlist *cols,
                                sl_order_plan *op, sl_err *err) {
  memset(op, 0, sizeof *op);
  op->nvis = cols->n;
  op->keys = sl_calloc((size_t)ob->n, sizeof(sl_sortkey));
  op->explicit_coll = sl_calloc((size_t)ob->n, 1);
  op->nkeys = ob->n;
  int cap = cols->n + ob->n;
  sl_exprlist *l = sl_plan_list(plan, cap);
  for (int i = 0; i < cols->n; i++) {
    l->a[i] = cols->a[i];
    l->names[i] = cols->names ? cols->names[i] : NULL;
  }
  l->n = cols->n;
  l->cap = cap;
  for (int k = 0; k < ob->n; k++) {
    const sl_orderterm *t = &ob->a[k];
    sl_sortkey *key = &op->keys[k];
    key->desc = t->desc;
    key->nulls_first = t->nulls == SL_NULLS_DEFAULT ? !t->desc : t->nulls == SL_NULLS_FIRST;
    sl_expr *e = t->e;
    int coll = -1;
    if (e->kind == E_COLLATE) { /* x COLLATE c, x an ordinal or a result column's name */
      coll = coll_named(e->name);
      if (coll < 0) {
        sl_err_setpos(err, SL_EBIND, e->line, e->pos_col, "no such collation sequence: %s",
                      e->name);
        return NULL;
      }
    }
    int col;
    if (sl_plan_result_column(cols, cols->n, coll >= 0 ? e->left : e, "ORDER BY", k, &col, err))
      return NULL;
    if (col >= 0) {
      key->col = col;
      if (coll >= 0) {
        key->coll = (sl_coll)coll;
        op->explicit_coll[k] = 1;
      }
      continue;
    }
    key->col = l->n; /* a hidden column, computed by the body */
    l->names[l->n] = NULL;
    l->a[l->n++] = e;
  }
  op->ncol = l->n;
  return l;
}

sl_exprlist *sl_plan_order_result(sl_plan *plan, const sl_orderby *ob, const sl_pquery *q,
                                  sl_order_plan *op, sl_err *err) {
  sl_exprlist *cols = sl_plan_list(plan, q->ncol);
  for (int c = 0; c < q->ncol; c++) { /* column c of the rows, by its name */
    sl_expr *x = sl_arena_alloc(&plan->arena, sizeof *x);
    memset(x, 0, sizeof *x);
    x->kind = E_COLUMN;
    x->name = q->names[c];
    x->col = c;
    x->aff = q->affs[c];
    x->agg = -1;
    cols->a[c] = x;
    cols->names[c] = q->names[c];
  }
  cols->n = q->ncol;
  sl_exprlist *l = sl_plan_order_cols(plan, ob, cols, op, err);
  if (!l) return NULL;
  for (int k = 0; k < op->nkeys; k++)
    if (op->keys[k].col >= op->nvis) {
      const sl_expr *e = ob->a[k].e;
      sl_err_setpos(err, SL_EBIND, e->line, e->pos_col,
                    "%d%s ORDER BY term does not match any column in the result set", k + 1,
                    ordinal_suffix(k + 1));
      return NULL;
    }
  return l;
}

void sl_order_plan_free(sl_order_plan *op) {
  free(op->keys);
  free(op->explicit_coll);
  memset(op, 0, sizeof *op);
}

int sl_plan_sort(sl_plan *plan, sl_pquery *q, sl_order_plan *op, const sl_exprlist *cols,
                 int64_t limit, int64_t offset, int per_batch) {
  (void)plan;
  for (int k = 0; k < op->nkeys; k++)
    if (!op->explicit_coll[k]) {
      const sl_expr *e = cols->a[op->keys[k].col];
      op->keys[k].coll = sl_compare_coll(e, e);
    }
  sl_sort_spec *s = sl_calloc(1, sizeof *s);
  s->keys = op->keys;
  s->nkeys = op->nkeys;
  s->ncol_in = op->ncol;
  s->ncol_out = op->nvis;
  s->limit = limit;
  s->offset = offset;
  s->per_batch = per_batch;
  op->keys = NULL;
  sl_plan_add_op(q, &sl_op_sort, s);
  /* the hidden columns are the sort's own: the query's output is the rest */
  for (int c = op->nvis; c < q->ncol; c++)
    free(q->names[c]);
  if (q->ncol > op->nvis) q->ncol = op->nvis;
  return 0;
}
