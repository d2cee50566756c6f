/*
** plan_subquery.c - planning subqueries (plan_int.h): (SELECT ...), EXISTS
** (SELECT ...), x [NOT] IN (SELECT ...), x [NOT] IN t, and the arms of a
** compound SELECT (UNION [ALL], INTERSECT, EXCEPT).
**
** Each is planned as a plan of its own (sl_psubq, plan.h) with one query
** whose rows a callback collects; the binder calls sl_plan_subquery when
** it meets one, with its own scope as the subquery's outer scope, so a
** column the subquery does not have is bound in the enclosing query and
** read in the subquery as an outer value (a correlated subquery).  The
** outer query's program computes those values and OP_Subquery hands them
** to the run of the subquery's plan (vm_subq.c, run_subq.c).  Only bounded
** inputs are allowed (tables, files, sqlite(), postgres()): a subquery in
** an expression must end before the outer row's value is known.
** FROM (SELECT ...) is not planned here: plan.c plans it as an anonymous
** stream.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "op_compound.h"
#include "plan_int.h"
#include "vm.h"

/* The subquery's result callback: rows into the buffer its runner set;
** non-zero (stop) once it has the rows it needs. */
static int collect(void *ud, int ncol, const char *const *names, sl_value **row) {
  (void)names;
  sl_psubq *s = ud;
  sl_subq_rows_add(s->out, ncol, row);
  return s->need && s->out->nrow >= s->need;
}

void sl_psubq_free(sl_psubq *s) {
  if (!s) return;
  sl_plan_free(s->plan);
  if (s->refs) {
    for (int i = 0; i < s->refs->n; i++)
      free(s->refs->a[i]);
    free(s->refs->a);
    free(s->refs);
  }
  free(s);
}

/* The connector of a source of p that does not end (a stream; a Kafka read
** with stop => 'end' ends), or NULL. */
static const char *unbounded(const sl_plan *p) {
  static const char *bounded[] = {"file", "sqlite", "postgres"};
  for (int i = 0; i < p->nsource; i++) {
    const sl_psource *s = p->sources[i];
    if (!s->conn) continue;
    /* a Kafka read that stops at the end offsets it saw when it started */
    const sl_option *stop = sl_opt_find_unused((sl_options *)&s->opts, "stop");
    int ok = !strcmp(s->conn->name, "kafka") && stop && stop->value.type == SL_TEXT &&
             stop->value.n == 3 && !sl_strnicmp(stop->value.u.z, "end", 3);
    for (size_t k = 0; k < SL_ARRAY_SIZE(bounded); k++)
      ok |= !strcmp(s->conn->name, bounded[k]);
    if (!ok) return s->conn->name;
  }
  return NULL;
}

/* How deep call_bounded follows catalog streams' definitions: deeper is a
** definition that reaches itself (a CREATE OR REPLACE under check), which
** planning then refuses with its position. */
#define SL_BOUNDED_DEPTH 64

static int select_bounded(const sl_plan *plan, const sl_select *sel, int depth);

/* 1 when connector call c's input ends. */
static int call_bounded(const sl_plan *plan, const sl_call *c, int depth) {
  if (depth > SL_BOUNDED_DEPTH) return 0;
  if (c->sub) return select_bounded(plan, c->sub, depth + 1);
  if (c->bare && sl_catalog_table(plan->ctx.cat, c->name)) return 1;
  const sl_stream *st = c->bare ? sl_catalog_stream(plan->ctx.cat, c->name) : NULL;
  if (st)
    return st->def->select ? select_bounded(plan, st->def->select, depth + 1)
                           : call_bounded(plan, st->def->source, depth + 1);
  static const char *bounded[] = {"file", "sqlite", "postgres"};
  for (size_t k = 0; k < SL_ARRAY_SIZE(bounded); k++)
    if (!sl_stricmp(c->name, bounded[k])) return 1;
  return 0;
}

static int select_bounded(const sl_plan *plan, const sl_select *sel, int depth) {
  if (sel->op)
    return select_bounded(plan, sel->prior, depth) && select_bounded(plan, sel->arm, depth);
  for (const sl_call *c = sel->from; c; c = c->join)
    if (!call_bounded(plan, c, depth)) return 0;
  return 1;
}

int sl_plan_select_bounded(const sl_plan *plan, const sl_select *sel) {
  return select_bounded(plan, sel, 0);
}

/* Plan sel as a new subquery of plan, reading the outer scope outer (or
** none); need: the rows it needs (0 all); compound: an arm of a compound
** SELECT (for the message when it reads a stream).  NULL with err set. */
static sl_psubq *plan_subq(sl_plan *plan, const sl_select *sel, sl_outer *outer, int need,
                           int compound, int line, int col, sl_err *err) {
  sl_psubq *s = sl_calloc(1, sizeof *s);
  int *counter = plan->subq_counter ? plan->subq_counter : &plan->subq_count;
  s->id = ++*counter;
  s->need = need;
  s->plan = sl_plan_new(&plan->ctx);
  s->plan->subq_counter = counter;
  memcpy(s->plan->fp, plan->fp, sizeof s->plan->fp);
  s->plan->outer = outer;
  plan->subqs = sl_realloc(plan->subqs, sizeof(*plan->subqs) * (size_t)(plan->nsubq + 1));
  plan->subqs[plan->nsubq++] = s; /* freed with plan from now on */
  char id[32];
  snprintf(id, sizeof id, "subquery %d", s->id);
  s->query = sl_plan_select_rows(s->plan, sel, id, collect, s, err);
  s->plan->outer = NULL;
  if (s->query < 0) return NULL;
  s->ncol = s->plan->queries[s->query]->ncol;
  const char *c = unbounded(s->plan);
  if (c && compound) {
    sl_err_set(err, SL_EBIND,
               "a compound SELECT (UNION, INTERSECT, EXCEPT) reads %s(), which does not end: "
               "its arms are read to their end before it gives a row, so it reads bounded input "
               "only (tables, files, sqlite(), postgres()); UNION ALL merges streams",
               c);
    return NULL;
  }
  if (c) {
    sl_err_setpos(err, SL_EBIND, line, col,
                  "a subquery reads %s(), which does not end: a subquery in an expression "
                  "is read to its end before the row it is part of has a value, so it reads "
                  "bounded input only (tables, files, sqlite(), postgres()); join the stream "
                  "with a table, or read the stream in FROM (SELECT ...)",
                  c);
    return NULL;
  }
  return s;
}

/* The first result expression of sel's last SELECT (bound), or NULL for
** *: as in SQLite, a compound's last arm gives the subquery its affinity
** and collation. */
static const sl_expr *last_col(const sl_select *sel) {
  if (sel->op) sel = sel->arm;
  const sl_expr *e = sel->cols && sel->cols->n ? sel->cols->a[0] : NULL;
  return e && e->kind != E_STAR ? e : NULL;
}

int sl_plan_subquery(void *ud, sl_bind *b, sl_expr *e) {
  sl_plan *plan = ud;
  if (e->op == SL_SUBQ_IN && sl_bind_expr(b, e->left)) return -1;
  sl_outer o = {b, NULL, 0};
  sl_psubq *s =
      plan_subq(plan, e->sub, &o, e->op == SL_SUBQ_IN ? 0 : 1, 0, e->line, e->pos_col, b->err);
  if (s) { /* the outer values it reads: its own from now on */
    s->refs = sl_calloc(1, sizeof *s->refs);
    s->refs->a = o.refs;
    s->refs->n = s->refs->cap = o.n;
    s->nparam = o.n;
  } else {
    for (int i = 0; i < o.n; i++)
      free(o.refs[i]);
    free(o.refs);
    return -1;
  }
  if (e->op != SL_SUBQ_EXISTS && s->ncol != 1) {
    sl_err_setpos(b->err, SL_EBIND, e->line, e->pos_col,
                  "sub-select returns %d columns - expected 1", s->ncol);
    return -1;
  }
  e->subq = s;
  e->list = s->refs->n ? s->refs : NULL;
  e->i = s->id;
  e->is_const = 0;
  const sl_expr *f = last_col(e->sub);
  uint8_t aff0 = f ? f->aff : s->plan->queries[s->query]->affs[0];
  e->aff = e->op == SL_SUBQ_SCALAR ? aff0 : SL_AFF_NONE;
  if (e->op == SL_SUBQ_IN) {
    sl_expr y = {.kind = E_NULL, .aff = aff0};
    e->n = (int)sl_compare_affinity(e->left, &y);
    e->coll = (uint8_t)sl_compare_coll(e->left, f ? f : &y);
  }
  return 0;
}

/* The arms of compound sel, left to right, into arms/ops (grown). */
static void compound_arms(const sl_select *sel, const sl_select ***arms, int **ops, int *n) {
  if (sel->op) {
    compound_arms(sel->prior, arms, ops, n);
    *arms = sl_realloc(*arms, sizeof(**arms) * (size_t)(*n + 1));
    *ops = sl_realloc(*ops, sizeof(**ops) * (size_t)(*n + 1));
    (*arms)[*n] = sel->arm;
    (*ops)[(*n)++] = sel->op;
    return;
  }
  *arms = sl_realloc(*arms, sizeof(**arms) * (size_t)(*n + 1));
  *ops = sl_realloc(*ops, sizeof(**ops) * (size_t)(*n + 1));
  (*arms)[*n] = sel;
  (*ops)[(*n)++] = 0;
}

int sl_plan_compound(sl_plan *plan, const sl_select *sel, sl_pquery *q, sl_err *err) {
  static const char *names[] = {"", "UNION", "UNION ALL", "EXCEPT", "INTERSECT"};
  const sl_select **arms = NULL;
  int n = 0;
  sl_compound_spec *sp = sl_calloc(1, sizeof *sp);
  compound_arms(sel, &arms, &sp->ops, &n);
  sp->arms = sl_calloc((size_t)n, sizeof(*sp->arms));
  sp->labels = sl_calloc((size_t)n, sizeof(*sp->labels));
  sp->narm = n;
  sl_plan_add_op(q, &sl_op_compound, sp); /* freed with the query, also on failure */
  int rc = 0;
  for (int i = 0; i < n && !rc; i++) {
    /* an arm reads the enclosing query's scope as the compound does: the
    ** outer values it reads are the compound's, in the frame it runs in */
    sl_psubq *s = plan_subq(plan, arms[i], plan->outer, 0, 1, 0, 0, err);
    if (!s) {
      rc = -1;
      break;
    }
    s->nparam = -1;
    sp->arms[i] = s;
    char label[32];
    snprintf(label, sizeof label, "subquery %d", s->id);
    sp->labels[i] = sl_strdup(label);
    if (i && s->ncol != sp->ncol) {
      sl_err_set(err, SL_EBIND,
                 "SELECTs to the left and right of %s do not have the same number of result "
                 "columns",
                 names[sp->ops[i]]);
      rc = -1;
    }
    sp->ncol = s->ncol;
  }
  if (!rc) {
    const sl_pquery *a0 =
        ((const sl_psubq *)sp->arms[0])->plan->queries[((const sl_psubq *)sp->arms[0])->query];
    q->ncol = a0->ncol;
    q->names = sl_calloc((size_t)(a0->ncol ? a0->ncol : 1), sizeof(char *));
    q->affs = sl_calloc((size_t)(a0->ncol ? a0->ncol : 1), 1);
    for (int c = 0; c < a0->ncol; c++) {
      q->names[c] = sl_strdup(a0->names[c]);
      q->affs[c] = a0->affs[c];
    }
  }
  free(arms);
  return rc;
}

void sl_plan_explain_subqueries(const sl_plan *plan, sl_buf *out) {
  for (int i = 0; i < plan->nsubq; i++) {
    const sl_psubq *s = plan->subqs[i];
    sl_buf_printf(out, "subquery %d: ", s->id);
    if (s->nparam > 0)
      sl_buf_printf(out, "correlated: run again for each new value of its %d outer column%s\n",
                    s->nparam, s->nparam == 1 ? "" : "s");
    else if (s->nparam < 0)
      sl_buf_printf(out, "an arm of a compound SELECT, run when the compound runs\n");
    else
      sl_buf_printf(out, "run once, when the query reading it first needs it\n");
    sl_plan_explain(s->plan, out);
  }
}
