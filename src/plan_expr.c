/*
** plan_expr.c - planning a SELECT without GROUP BY (plan_int.h): the select
** list and WHERE bound, model calls moved into op_score, calls of functions
** with a batch form taken out for op_project to make once per batch, and
** the rest compiled into op_project's program.
*/
#include <stdlib.h>
#include <string.h>

#include "plan_int.h"
#include "vm.h"

sl_program *sl_plan_row_program(sl_expr *where, sl_expr **e, int n, int mcall_base, sl_err *err) {
  return sl_plan_row_program_w(where, e, n, mcall_base, 0, err);
}

sl_program *sl_plan_row_program_w(sl_expr *where, sl_expr **e, int n, int mcall_base,
                                  int wcall_base, sl_err *err) {
  sl_program *p = sl_program_new();
  sl_compiler c = {p, 0, err, 0, mcall_base, NULL, 0, wcall_base};
  int res = sl_reg_alloc(&c, n ? n : 1);
  p->result_reg = res;
  p->nresult = n;
  int skip = -1;
  if (where) {
    int w = sl_reg_alloc(&c, 1);
    if (sl_expr_code(&c, where, w)) goto fail;
    /* false or NULL: jump to the Halt placed after Result */
    skip = sl_program_add(p, OP_IfNot, w, 0, 1);
    c.nreg = res + n; /* WHERE's registers are free again */
  }
  for (int i = 0; i < n; i++)
    if (sl_expr_code(&c, e[i], res + i)) goto fail;
  sl_program_add(p, OP_Result, res, n, 0);
  if (skip >= 0) {
    p->ops[skip].p2 = p->nop;
    sl_program_add(p, OP_Halt, 1, 0, 0);
  }
  sl_program_finish(p);
  return p;
fail:
  sl_program_free(p);
  return NULL;
}

int sl_plan_score(const sl_plan *plan, sl_pquery *q, sl_mcalls *mcalls, sl_expr *where, int ncol_in,
                  int strict, sl_err *err) {
  int total = 0;
  for (int i = 0; i < mcalls->n; i++)
    total += mcalls->a[i].nargs + (mcalls->a[i].cls != NULL);
  sl_expr **args = sl_malloc(sizeof(sl_expr *) * (size_t)(total ? total : 1));
  int *arg_reg = sl_malloc(sizeof(int) * (size_t)(mcalls->n ? mcalls->n : 1));
  int off = 0;
  for (int i = 0; i < mcalls->n; i++) {
    const sl_mcall *mc = &mcalls->a[i];
    arg_reg[i] = off;
    for (int j = 0; j < mc->nargs; j++)
      args[off++] = mc->args[j];
    if (mc->cls) args[off++] = mc->cls;
  }
  sl_program *sp = sl_plan_row_program(where, args, total, 0, err);
  free(args);
  if (!sp) {
    free(arg_reg);
    return -1;
  }
  for (int i = 0; i < mcalls->n; i++)
    arg_reg[i] += sp->result_reg;
  sl_score_spec *s = sl_calloc(1, sizeof *s);
  s->prog = sp;
  s->ncol_in = ncol_in;
  s->calls = sl_malloc(sizeof *s->calls);
  *s->calls = *mcalls;
  memset(mcalls, 0, sizeof *mcalls);
  s->arg_reg = arg_reg;
  s->trace = (int)sl_setting_int(plan->ctx.cat, SL_SET_VM_TRACE);
  s->strict = strict;
  sl_plan_add_op(q, &sl_op_score, s);
  return 0;
}

/* Collect into l the calls under e that op_project can make once per batch:
** calls of a function with a batch form that every row evaluates (not
** under CASE, COALESCE, IFNULL or IIF, which may skip them; not constant,
** which are folded; not model calls, made by op_score).  The outermost such
** call is taken, its arguments evaluated per row; each gets e->bcall. */
static void collect_batch_calls(sl_expr *e, sl_exprs *l) {
  if (!e || e->kind == E_CASE) return;
  if (e->kind == E_CALL) {
    if (e->mcall >= 0 || e->agg >= 0 || !e->func) return;
    if (e->func->xBatch && !e->is_const) {
      e->bcall = l->n;
      l->a = sl_realloc(l->a, sizeof(*l->a) * (size_t)(l->n + 1));
      l->a[l->n++] = e;
      return;
    }
  }
  collect_batch_calls(e->left, l);
  collect_batch_calls(e->right, l);
  for (int i = 0; e->list && i < e->list->n; i++)
    collect_batch_calls(e->list->a[i], l);
}

/* The batch calls bc of a projection into sp (calls, args, and the first
** program computing the arguments that are not plain columns, with the
** filter pre_where when it is not NULL).  0, or -1 with err set. */
static int batch_spec(sl_project_spec *sp, const sl_exprs *bc, sl_expr *pre_where, int ncol_in,
                      sl_err *err) {
  int nbarg = 0;
  for (int k = 0; k < bc->n; k++)
    nbarg += bc->a[k]->list ? bc->a[k]->list->n : 0;
  /* A plain column is read from the row; the rest is computed by pre. */
  sl_expr **computed = sl_malloc(sizeof(sl_expr *) * (size_t)(nbarg ? nbarg : 1));
  int ncomputed = 0, off = 0;
  sp->args = sl_calloc((size_t)(nbarg ? nbarg : 1), sizeof *sp->args);
  sp->narg = nbarg;
  sp->calls = sl_calloc((size_t)bc->n, sizeof *sp->calls);
  sp->ncall = bc->n;
  for (int k = 0; k < bc->n; k++) {
    sl_expr *e = bc->a[k];
    sl_bcall *c = &sp->calls[k];
    c->func = e->func;
    c->nargs = e->list ? e->list->n : 0;
    c->first_arg = off;
    c->coll = c->nargs ? sl_compare_coll(e->list->a[0], e->list->a[0]) : SL_COLL_BINARY;
    for (int j = 0; j < c->nargs; j++, off++) {
      sl_expr *a = e->list->a[j];
      sp->args[off].col = a->kind == E_COLUMN && a->col >= 0 ? a->col : -1;
      if (sp->args[off].col < 0) {
        sp->args[off].reg = ncomputed;
        computed[ncomputed++] = a;
      }
    }
  }
  if (pre_where || ncomputed) {
    sp->pre = sl_plan_row_program(pre_where, computed, ncomputed, ncol_in, err);
    for (int i = 0; sp->pre && i < nbarg; i++)
      if (sp->args[i].col < 0) sp->args[i].reg += sp->pre->result_reg;
  }
  free(computed);
  return (pre_where || ncomputed) && !sp->pre ? -1 : 0;
}

/* Bind the select list and WHERE of sel over in (model calls into mcalls;
** aggregates only without FROM).  *where_models: WHERE calls a model.
** 0, or -1 with err set. */
static int bind_select(const sl_plan *plan, const sl_select *sel, const sl_input *in,
                       sl_exprlist *cols, sl_mcalls *mcalls, int *where_models, sl_err *err) {
  sl_bind b = sl_plan_binder(plan, in, err);
  b.allow_agg = sel->from == NULL;
  b.cat = plan->ctx.cat;
  b.mcalls = mcalls;
  for (int i = 0; i < cols->n; i++)
    if (sl_bind_expr(&b, cols->a[i])) return -1;
  if (b.naggs && sel->from) {
    sl_err_set(err, SL_EBIND, "aggregates over a stream need GROUP BY (a key, a window, or both)");
    return -1;
  }
  *where_models = 0;
  if (sel->where) {
    sl_bind bw = b;
    bw.allow_agg = 0;
    int before = mcalls->n;
    if (sl_bind_expr(&bw, sel->where)) return -1;
    *where_models = mcalls->n > before;
  }
  return 0;
}

int sl_plan_project(sl_plan *plan, const sl_select *sel, sl_pquery *q, sl_input *in,
                    sl_exprlist *cols, sl_err *err) {
  sl_mcalls mcalls = {0};
  int where_models;
  if (bind_select(plan, sel, in, cols, &mcalls, &where_models, err)) goto fail_bind;
  int ncol_in = sl_plan_input_width(in);
  /* Model calls: scored per batch by op_score, which also applies a WHERE
  ** that uses no model (so rows it drops are not scored). */
  int where_in_score = mcalls.n && sel->where && !where_models;
  if (mcalls.n && sl_plan_score(plan, q, &mcalls, where_in_score ? sel->where : NULL, ncol_in,
                                sel->from == NULL, err))
    goto fail_bind;

  /* Batch calls: made by op_project once per batch.  Taken from WHERE when
  ** it has some (the select list's calls then run per row: a row WHERE drops
  ** must not reach them), else from the select list, after WHERE. */
  sl_expr *where = sel->where && !where_in_score ? sel->where : NULL;
  sl_exprs bc = {0};
  if (where) collect_batch_calls(where, &bc);
  int where_batched = bc.n > 0;
  for (int i = 0; i < cols->n && !where_batched; i++)
    collect_batch_calls(cols->a[i], &bc);
  sl_project_spec *sp = sl_calloc(1, sizeof *sp);
  sl_plan_add_op(q, &sl_op_project, sp); /* freed with the query, also on failure */
  sp->ncol = cols->n;
  sp->trace = (int)sl_setting_int(plan->ctx.cat, SL_SET_VM_TRACE);
  sp->strict = sel->from == NULL;
  int rc = 0;
  if (bc.n) {
    rc = batch_spec(sp, &bc, where && !where_batched ? where : NULL, ncol_in, err);
    if (!where_batched) where = NULL; /* the first program applies it */
  }
  free(bc.a);
  if (rc) return -1;
  sl_plan_set_columns(q, cols);
  q->changes = in->changes; /* op_project passes each row's kind on */
  sp->prog = sl_plan_row_program(where, cols->a, cols->n, ncol_in, err);
  return sp->prog ? 0 : -1;
fail_bind:
  sl_mcalls_free(&mcalls);
  return -1;
}
