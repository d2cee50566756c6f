/*
** plan_join.c - planning joins (plan_int.h).
**
** FROM s [LEFT] JOIN t ON ...: t is a table (a catalog table, whose rows
** the plan copies, or a bounded connector such as a file or sqlite(...),
** read when the query starts); ON's equalities between a column of t and
** an expression of s give the keys op_join hashes t on, the rest of ON is a
** residual program.  The joined row is [t's columns, s's columns].
**
** FROM a JOIN b ON a.k = b.k AND b.ts BETWEEN a.ts [+ lo] AND a.ts + hi:
** two streams, joined by op_ijoin within the time bound; b's input feeds
** the operator's port.  The joined row is [a's columns, b's columns]; a's
** width is fixed before binding by first adding every column the query
** names to open schemas.
*/
#include <stdlib.h>
#include <string.h>

#include "op_ijoin.h"
#include "op_join.h"
#include "parse.h"
#include "plan_int.h"
#include "vm.h"

/* Columns of e: 1 when e reads table columns only (col < nt), 2 when input
** columns only, 3 for both, 0 for none. */
static int join_sides(const sl_expr *e, int nt) {
  if (!e) return 0;
  int m = 0;
  if (e->kind == E_COLUMN && e->col >= 0) m |= e->col < nt ? 1 : 2;
  m |= join_sides(e->left, nt) | join_sides(e->right, nt);
  if (e->list)
    for (int i = 0; i < e->list->n; i++)
      m |= join_sides(e->list->a[i], nt);
  return m;
}

/* The conjuncts of e into *v (grown; owned by the caller). */
static void split_and(sl_expr *e, sl_expr ***v, int *n) {
  if (e->kind == E_AND) {
    split_and(e->left, v, n);
    split_and(e->right, v, n);
    return;
  }
  *v = sl_realloc(*v, sizeof(sl_expr *) * (size_t)(*n + 1));
  (*v)[(*n)++] = e;
}

/* 1 if the ON condition has a BETWEEN at its top level (an interval join). */
static int on_has_between(const sl_expr *e) {
  if (!e) return 0;
  if (e->kind == E_AND) return on_has_between(e->left) || on_has_between(e->right);
  return e->kind == E_BETWEEN;
}

/* ---- stream-table joins --------------------------------------------------------- */

/* t of FROM s JOIN t into js: a copy of a catalog table's rows, or a
** connector checked now and read when the query starts.  0, or -1. */
static int join_table(sl_plan *plan, const sl_call *c, sl_join_spec *js, sl_err *err) {
  js->tname = sl_strdup(c->alias ? c->alias : c->name);
  js->line = c->line;
  js->col = c->col;
  sl_schema_init(&js->schema, 0);
  sl_table *cat = c->bare ? sl_catalog_table(plan->ctx.cat, c->name) : NULL;
  if (cat) {
    js->table = sl_calloc(1, sizeof *js->table);
    js->table->name = sl_strdup(js->tname);
    sl_schema_init(&js->table->schema, 0);
    sl_schema_copy(&js->table->schema, &cat->schema);
    for (int r = 0; r < cat->nrow; r++)
      sl_table_insert(js->table, cat->rows + (size_t)r * (size_t)cat->schema.ncol);
    sl_schema_copy(&js->schema, &cat->schema);
    return 0;
  }
  if (c->bare && !sl_connector_find(c->name, strlen(c->name))) {
    sl_err_setpos(err, SL_EBIND, c->line, c->col, "no such table: %s", c->name);
    return -1;
  }
  sl_source *desc = sl_plan_check(plan, c, 0, NULL, &js->opts, err);
  if (!desc) return -1;
  js->conn = sl_connector_find(c->name, strlen(c->name));
  sl_schema_copy(&js->schema, &desc->schema);
  desc->vt->close(desc);
  if (js->schema.ncol == 0) {
    sl_err_setpos(err, SL_EBIND, c->line, c->col,
                  "the joined table needs known columns (columns => '...', a CSV header, "
                  "or a sqlite table)");
    return -1;
  }
  return 0;
}

/* The key program: the input's side of each key, over the joined row. */
static sl_program *key_program(sl_expr **skey, int nkeys, sl_err *err) {
  sl_program *p = sl_program_new();
  sl_compiler kc = {.prog = p, .err = err};
  int kr = sl_reg_alloc(&kc, nkeys);
  p->result_reg = kr;
  p->nresult = nkeys;
  for (int i = 0; i < nkeys; i++)
    if (sl_expr_code(&kc, skey[i], kr + i)) {
      sl_program_free(p);
      return NULL;
    }
  sl_program_add(p, OP_Result, kr, nkeys, 0);
  sl_program_finish(p);
  return p;
}

/* The rest of ON: a program that skips the joined row unless all of
** resid[] hold. */
static sl_program *residual_program(sl_expr **resid, int nres, sl_err *err) {
  sl_program *p = sl_program_new();
  sl_compiler rc = {.prog = p, .err = err};
  int w = sl_reg_alloc(&rc, 1);
  int *jumps = sl_calloc((size_t)nres, sizeof(int));
  for (int i = 0; i < nres; i++) {
    if (sl_expr_code(&rc, resid[i], w)) {
      free(jumps);
      sl_program_free(p);
      return NULL;
    }
    jumps[i] = sl_program_add(p, OP_IfNot, w, 0, 1);
  }
  p->result_reg = w;
  p->nresult = 0;
  sl_program_add(p, OP_Result, w, 0, 0);
  for (int i = 0; i < nres; i++)
    p->ops[jumps[i]].p2 = p->nop;
  sl_program_add(p, OP_Halt, 1, 0, 0);
  free(jumps);
  sl_program_finish(p);
  return p;
}

/* ON's conjuncts into js's keys (t's columns, the input's expressions in
** skey) and the rest (resid).  Counts in js->nkeys, *nres. */
static void split_on(sl_expr **conj, int nconj, int nt, sl_join_spec *js, sl_expr **skey,
                     sl_expr **resid, int *nres) {
  for (int i = 0; i < nconj; i++) {
    sl_expr *c = conj[i];
    if (c->kind == E_BINARY && c->op == TK_EQ) {
      sl_expr *l = c->left, *r = c->right;
      if (r->kind == E_COLUMN && r->col >= 0 && r->col < nt && join_sides(l, nt) == 2) {
        sl_expr *x = l;
        l = r;
        r = x;
      }
      if (l->kind == E_COLUMN && l->col >= 0 && l->col < nt && join_sides(r, nt) == 2) {
        js->tkey[js->nkeys] = l->col;
        skey[js->nkeys++] = r;
        continue;
      }
    }
    resid[(*nres)++] = c;
  }
}

/* FROM s [LEFT] JOIN t ON ...: plan t, bind ON, add op_join, which looks
** each record's key up in t and emits the joined rows [t's columns, s's]. */
static int plan_table_join(sl_plan *plan, const sl_call *from, sl_pquery *q, sl_input *in,
                           sl_err *err) {
  sl_join_spec *js = sl_calloc(1, sizeof *js);
  sl_plan_add_op(q, &sl_op_join, js); /* freed with the query, also on failure */
  js->left = from->left_join;
  if (join_table(plan, from->join, js, err)) return -1;
  in->schema2 = &js->schema;
  in->name2 = js->tname;
  in->base1 = js->schema.ncol;
  sl_bind b = sl_plan_binder(plan, in, err);
  if (sl_bind_expr(&b, from->on)) return -1;
  sl_expr **conj = NULL;
  int nconj = 0, nres = 0, rc = -1;
  split_and(from->on, &conj, &nconj);
  js->tkey = sl_calloc((size_t)nconj, sizeof(int));
  sl_expr **skey = sl_calloc((size_t)nconj, sizeof(sl_expr *));
  sl_expr **resid = sl_calloc((size_t)nconj, sizeof(sl_expr *));
  split_on(conj, nconj, js->schema.ncol, js, skey, resid, &nres);
  if (!js->nkeys) {
    sl_err_setpos(err, SL_EBIND, from->on->line, from->on->pos_col,
                  "JOIN ... ON needs an equality between a column of %s and the input", js->tname);
    goto done;
  }
  js->keyprog = key_program(skey, js->nkeys, err);
  if (!js->keyprog) goto done;
  if (nres) { /* the rest of ON decides whether a matching row joins */
    js->residual = residual_program(resid, nres, err);
    if (!js->residual) goto done;
  }
  rc = 0;
done:
  free(conj);
  free(skey);
  free(resid);
  return rc;
}

/* ---- interval joins of two streams -------------------------------------------- */

/* Columns a query names on each side of an interval join, added to open
** schemas before binding, so that the left side's width is known: a
** qualified name goes to its side, an unqualified one to the left unless
** the right has it. */
static void grow_sides(const sl_expr *e, sl_schema *l, const char *lname, sl_schema *r,
                       const char *rname) {
  if (!e) return;
  if (e->kind == E_COLUMN && e->name && sl_stricmp(e->name, "window_start") &&
      sl_stricmp(e->name, "window_end")) {
    size_t n = strlen(e->name);
    if (e->tab && rname && !sl_stricmp(e->tab, rname)) {
      if (r->open) sl_schema_need(r, e->name, n);
    } else if (e->tab ? (lname && !sl_stricmp(e->tab, lname)) : sl_schema_find(r, e->name, n) < 0) {
      if (l->open) sl_schema_need(l, e->name, n);
    }
  }
  grow_sides(e->left, l, lname, r, rname);
  grow_sides(e->right, l, lname, r, rname);
  if (e->list)
    for (int i = 0; i < e->list->n; i++)
      grow_sides(e->list->a[i], l, lname, r, rname);
}

/* Every column the query names, on its side. */
static void grow_all(const sl_select *sel, sl_input *l, const sl_input *r) {
  const sl_exprlist *lists[] = {sel->cols, sel->group};
  for (int k = 0; k < 2; k++)
    for (int i = 0; lists[k] && i < lists[k]->n; i++)
      grow_sides(lists[k]->a[i], l->schema, l->name, r->schema, r->name);
  grow_sides(sel->where, l->schema, l->name, r->schema, r->name);
  grow_sides(sel->having, l->schema, l->name, r->schema, r->name);
  grow_sides(sel->from->on, l->schema, l->name, r->schema, r->name);
}

/* e is t or t + INTERVAL / t - INTERVAL (a constant in ms): *base = t, *off. */
static void split_offset(sl_expr *e, sl_expr **base, int64_t *off) {
  *base = e;
  *off = 0;
  if (e->kind == E_BINARY && (e->op == TK_PLUS || e->op == TK_MINUS) && e->right &&
      (e->right->kind == E_INTERVAL || e->right->kind == E_INT)) {
    *base = e->left;
    *off = e->op == TK_PLUS ? e->right->i : -e->right->i;
  }
}

/* ON's conjuncts into key pairs (akey, bkey) and the time bound (*ta, *tb,
** js->lo, js->hi).  0, or -1 with err set. */
static int ijoin_terms(sl_expr **conj, int nconj, sl_ijoin_spec *js, sl_expr **akey, sl_expr **bkey,
                       sl_expr **ta, sl_expr **tb, sl_err *err) {
  for (int i = 0; i < nconj; i++) {
    sl_expr *c = conj[i];
    if (c->kind == E_BINARY && c->op == TK_EQ) {
      int l = join_sides(c->left, js->na), r = join_sides(c->right, js->na);
      if ((l == 1 && r == 2) || (l == 2 && r == 1)) {
        akey[js->nkeys] = l == 1 ? c->left : c->right;
        bkey[js->nkeys++] = l == 1 ? c->right : c->left;
        continue;
      }
    }
    if (c->kind == E_BETWEEN && !c->not_ && !*ta && join_sides(c->left, js->na) == 2) {
      sl_expr *b1, *b2;
      split_offset(c->list->a[0], &b1, &js->lo);
      split_offset(c->list->a[1], &b2, &js->hi);
      if (sl_expr_equal(b1, b2) && join_sides(b1, js->na) == 1 && js->lo <= js->hi) {
        *ta = b1;
        *tb = c->left;
        continue;
      }
    }
    sl_err_setpos(err, SL_EBIND, c->line, c->pos_col,
                  "a stream-stream JOIN's ON takes key equalities and one time bound "
                  "(b.ts BETWEEN a.ts AND a.ts + INTERVAL ...); put other conditions in WHERE");
    return -1;
  }
  return 0;
}

/* One side's program: its keys, then its time, in result registers. */
static sl_program *side_program(sl_expr **key, int nkeys, sl_expr *t, sl_err *err) {
  sl_program *pg = sl_program_new();
  sl_compiler c = {.prog = pg, .err = err};
  int r0 = sl_reg_alloc(&c, nkeys + 1);
  pg->result_reg = r0;
  pg->nresult = nkeys + 1;
  for (int i = 0; i < nkeys; i++)
    if (sl_expr_code(&c, key[i], r0 + i)) goto fail;
  if (sl_expr_code(&c, t, r0 + nkeys)) goto fail;
  sl_program_add(pg, OP_Result, r0, nkeys + 1, 0);
  sl_program_finish(pg);
  return pg;
fail:
  sl_program_free(pg);
  return NULL;
}

/* b's input feeds the join's port: directly, or through its stream. */
static void attach_right(sl_plan *plan, int qi, const sl_input *rin) {
  sl_pquery *q = plan->queries[qi];
  q->source2 = rin->source;
  if (rin->stream >= 0) {
    q->in_stream2 = rin->stream;
  } else {
    plan->sources[rin->source]->head = SL_HEAD_PORT;
    plan->sources[rin->source]->head_index = qi;
  }
}

/* FROM a JOIN b ON a.k = b.k AND b.ts BETWEEN a.ts [+ lo] AND a.ts + hi:
** plan b's input too, bind ON over the joined row [a's columns, b's],
** compile each side's keys and time, and add op_ijoin. */
static int plan_ijoin(sl_plan *plan, const sl_select *sel, int qi, sl_input *in, sl_input *r,
                      sl_err *err) {
  const sl_call *from = sel->from;
  sl_pquery *q = plan->queries[qi];
  sl_input rin = *r;
  if (!in->schema || !rin.schema) {
    sl_err_setpos(err, SL_EBIND, from->line, from->col, "an interval join needs two streams");
    return -1;
  }
  attach_right(plan, qi, &rin);
  grow_all(sel, in, &rin);
  sl_ijoin_spec *js = sl_calloc(1, sizeof *js);
  sl_plan_add_op(q, &sl_op_ijoin, js); /* freed with the query, also on failure */
  js->na = in->schema->ncol;
  js->nb = rin.schema->ncol;
  js->left = from->left_join;
  js->lateness[0] = in->lateness;
  js->lateness[1] = rin.lateness;
  in->schema2 = rin.schema;
  in->name2 = rin.name;
  in->base1 = 0;
  in->base2 = js->na;
  sl_bind b = sl_plan_binder(plan, in, err);
  sl_expr **conj = NULL, *ta = NULL, *tb = NULL;
  int nconj = 0, rc = -1;
  if (sl_bind_expr(&b, from->on)) return -1;
  split_and(from->on, &conj, &nconj);
  sl_expr **akey = sl_calloc((size_t)nconj, sizeof(sl_expr *));
  sl_expr **bkey = sl_calloc((size_t)nconj, sizeof(sl_expr *));
  if (ijoin_terms(conj, nconj, js, akey, bkey, &ta, &tb, err)) goto done;
  if (!ta || !js->nkeys) {
    sl_err_setpos(err, SL_EBIND, from->on->line, from->on->pos_col,
                  "a stream-stream JOIN needs a key equality and a time bound: ON a.k = b.k AND "
                  "b.ts BETWEEN a.ts AND a.ts + INTERVAL '...'");
    goto done;
  }
  js->aprog = side_program(akey, js->nkeys, ta, err);
  js->bprog = js->aprog ? side_program(bkey, js->nkeys, tb, err) : NULL;
  rc = js->bprog ? 0 : -1;
done:
  free(conj);
  free(akey);
  free(bkey);
  return rc;
}

int sl_plan_is_interval_join(const sl_select *sel) {
  return sel->from && sel->from->join && on_has_between(sel->from->on);
}

int sl_plan_join(sl_plan *plan, const sl_select *sel, int qi, sl_input *in, sl_input *rin,
                 sl_err *err) {
  return rin ? plan_ijoin(plan, sel, qi, in, rin, err)
             : plan_table_join(plan, sel->from, plan->queries[qi], in, err);
}
