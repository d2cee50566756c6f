/*
** plan_join.c - planning joins (plan_int.h).
**
** FROM s [LEFT] JOIN t ON ...: t is a table (a catalog table, whose rows
** the plan copies, or a bounded connector such as a file or sqlite(...),
** read when the query starts); ON's equalities between a column of t and
** an expression of s give the keys op_join hashes t on, the rest of ON is a
** residual program (no keys: op_join's nested loop).  The joined row is
** [t's columns, s's columns].  A FROM list s, t1, ..., tn (commas, CROSS,
** INNER, LEFT, USING, NATURAL, parenthesised inner joins flattened by the
** parser) is a chain of n op_joins, left-deep; the row after the chain is
** [tn, ..., t1, s], and join k's conditions are bound over its own row
** [tk, ..., t1, s].  USING and NATURAL add equalities and hide the right
** item's copy of the column from names alone and `*`; WHERE terms that
** read only the items and plain deterministic functions move into the
** first inner join that has every item they read (keys or residual).
**
** FROM a JOIN b ON a.k = b.k AND b.ts BETWEEN a.ts [+ lo] AND a.ts + hi:
** two streams, joined by op_ijoin within the time bound; b's input feeds
** the operator's port.  The joined row is [a's columns, b's columns]; a's
** width is fixed before binding by first adding every column the query
** names to open schemas.  FROM a JOIN b ON a.k = b.k without a time bound,
** b a stream (a catalog stream, a connector whose input does not end): the
** same operator in processing time (op_ijoin.h, proctime), bounded by SET
** state_ttl.
*/
#include <stdio.h>
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

/* 1 if the hash on t's column l finds exactly the rows for which l = r
** holds as SQLite compares them (op_join gives r's value l's affinity):
** a binary collation, and no conversion SQLite would apply to l's side. */
static int key_safe(const sl_expr *l, const sl_expr *r) {
  if (sl_compare_coll(l, r) != SL_COLL_BINARY) return 0;
  if (l->aff >= SL_AFF_NUMERIC) return 1;
  if (l->aff == SL_AFF_TEXT) return r->aff <= SL_AFF_TEXT;
  return r->aff == SL_AFF_NONE;
}

/* ---- FROM lists: a chain of op_joins -------------------------------------------- */

/* 1 if FROM item c is a named stream (not a table of the same name). */
static int item_is_stream(const sl_plan *plan, const sl_call *c) {
  return c->bare && !sl_catalog_table(plan->ctx.cat, c->name) &&
         sl_catalog_stream(plan->ctx.cat, c->name);
}

/* One FROM item after the first, as planned. */
typedef struct jitem {
  const sl_call *call; /* the item */
  const sl_call *prev; /* the item before it: how it is joined (on, left_join, using, natural) */
  int lo;              /* the first item its ON and USING see (a parenthesised list's) */
  sl_join_spec *js;    /* its op_join (owned by the query) */
  unsigned char *hidden;
  sl_expr **conj; /* the join's conditions: ON's conjuncts, USING's equalities, WHERE's pushed */
  int nconj, capconj;
  int nown;      /* conj[0..nown-1] are ON's and USING's (they see items lo..k only) */
  sl_expr **pre; /* WHERE's terms over the items before it: a filter on its input */
  int npre;
} jitem;

static void add_conj(jitem *it, sl_expr *e) {
  if (it->nconj == it->capconj) {
    it->capconj = it->capconj ? 2 * it->capconj : 8;
    it->conj = sl_realloc(it->conj, sizeof(sl_expr *) * (size_t)it->capconj);
  }
  it->conj[it->nconj++] = e;
}

/* A column reference to FROM item k's column name (in the plan's arena). */
static sl_expr *item_column(sl_plan *plan, int k, const char *name, int line, int col) {
  sl_expr *x = sl_arena_alloc(&plan->arena, sizeof *x);
  memset(x, 0, sizeof *x);
  x->kind = E_COLUMN;
  x->name = name;
  char q[16];
  snprintf(q, sizeof q, "\x01%d", k);
  x->tab = sl_arena_strndup(&plan->arena, q, strlen(q));
  x->line = line;
  x->pos_col = col;
  x->agg = x->mcall = x->bcall = -1;
  return x;
}

/* l = r (in the plan's arena). */
static sl_expr *make_eq(sl_plan *plan, sl_expr *l, sl_expr *r) {
  sl_expr *x = sl_arena_alloc(&plan->arena, sizeof *x);
  memset(x, 0, sizeof *x);
  x->kind = E_BINARY;
  x->op = TK_EQ;
  x->left = l;
  x->right = r;
  x->line = l->line;
  x->pos_col = l->pos_col;
  x->height = 2;
  x->agg = x->mcall = x->bcall = -1;
  return x;
}

/* The first of items 0..k-1 (tabs) with an unhidden column name: its
** index and the column in *c, or -1.  An open schema (the first item's)
** learns the name when grow is set and no item has it. */
static int find_left(sl_bind_tab *tabs, int lo, int k, const char *name, int grow, int *c) {
  size_t n = strlen(name);
  for (int j = lo; j < k; j++) {
    int x = sl_schema_find(tabs[j].schema, name, n);
    if (x >= 0 && !(tabs[j].hidden && tabs[j].hidden[x])) {
      *c = x;
      return j;
    }
  }
  if (grow && lo == 0 && tabs[0].schema->open) {
    *c = sl_schema_need(tabs[0].schema, name, n);
    if (*c >= 0) return 0;
  }
  return -1;
}

/* USING (names) or NATURAL of item k: the equalities between its shared
** columns and the earlier items', its shared columns hidden.  0, or -1. */
static int using_terms(sl_plan *plan, sl_bind_tab *tabs, int k, jitem *it, sl_err *err) {
  const sl_call *pv = it->prev;
  sl_schema *ts = tabs[k].schema;
  if (pv->using) {
    for (int i = 0; i < pv->using->n; i++) {
      const sl_expr *u = pv->using->a[i];
      int c = sl_schema_find(ts, u->name, strlen(u->name)), lc = -1;
      int j = c >= 0 ? find_left(tabs, it->lo, k, u->name, 1, &lc) : -1;
      if (j < 0) {
        sl_err_setpos(err, SL_EBIND, u->line, u->pos_col,
                      "cannot join using column %s - column not present in both tables", u->name);
        return -1;
      }
      it->hidden[c] = 1;
      add_conj(it, make_eq(plan,
                           item_column(plan, j, tabs[j].schema->cols[lc].name, u->line, u->pos_col),
                           item_column(plan, k, ts->cols[c].name, u->line, u->pos_col)));
    }
  } else if (pv->natural) {
    for (int c = 0; c < ts->ncol; c++) {
      int lc = -1, j = find_left(tabs, it->lo, k, ts->cols[c].name, 0, &lc);
      if (j < 0) continue;
      it->hidden[c] = 1;
      add_conj(it,
               make_eq(plan, item_column(plan, j, tabs[j].schema->cols[lc].name, pv->line, pv->col),
                       item_column(plan, k, ts->cols[c].name, pv->line, pv->col)));
    }
  }
  return 0;
}

/* The FROM item a column of a WHERE term names, by name alone (nothing is
** bound): its index, or -1 when it is not one item's. */
static int ref_item(const sl_bind_tab *tabs, int ntab, const sl_expr *e) {
  size_t n = strlen(e->name);
  int found = -1;
  for (int k = 0; k < ntab; k++) {
    const sl_bind_tab *t = &tabs[k];
    if (e->tab && !(t->name && sl_stricmp(t->name, e->tab) == 0)) continue;
    int c = sl_schema_find(t->schema, e->name, n);
    if (c < 0 || (!e->tab && t->hidden && t->hidden[c])) continue;
    if (found >= 0) return -1;
    found = k;
  }
  if (found < 0 && tabs[0].schema->open && (!e->tab || sl_stricmp(tabs[0].name, e->tab) == 0))
    found = 0;
  return found;
}

/* The last FROM item a WHERE term reads (-1: none), or -2 when the term
** cannot move into a join (a name not resolved by name alone, a call that
** is not a plain deterministic function, anything the binder may treat
** specially). */
static int term_items(const sl_plan *plan, const sl_bind_tab *tabs, int ntab, const sl_expr *e) {
  if (!e) return -1;
  int m = -1;
  switch (e->kind) {
  case E_COLUMN: {
    if (!sl_stricmp(e->name, "window_start") || !sl_stricmp(e->name, "window_end")) return -2;
    int k = ref_item(tabs, ntab, e);
    return k < 0 ? -2 : k;
  }
  case E_CALL: {
    int known = 0, argc = e->star ? 0 : (e->list ? e->list->n : 0);
    const sl_func *f =
        sl_functab_find(plan->ctx.cat->funcs, e->name, strlen(e->name), argc, &known);
    if (!f || e->right || e->distinct || e->star || sl_catalog_model(plan->ctx.cat, e->name) ||
        (f->flags & (SL_FUNC_AGGREGATE | SL_FUNC_MODEL)) || !(f->flags & SL_FUNC_DETERMINISTIC))
      return -2;
    break;
  }
  case E_NULL:
  case E_INT:
  case E_REAL:
  case E_STRING:
  case E_BLOB:
  case E_UNARY:
  case E_BINARY:
  case E_AND:
  case E_OR:
  case E_IS:
  case E_ISNULL:
  case E_BETWEEN:
  case E_IN:
  case E_LIKE:
  case E_CAST:
  case E_CASE:
  case E_COLLATE: break;
  default: return -2;
  }
  const sl_expr *kids[2] = {e->left, e->right};
  for (int i = 0; i < 2; i++) {
    int x = term_items(plan, tabs, ntab, kids[i]);
    if (x == -2) return -2;
    if (x > m) m = x;
  }
  for (int i = 0; e->list && i < e->list->n; i++) {
    int x = term_items(plan, tabs, ntab, e->list->a[i]);
    if (x == -2) return -2;
    if (x > m) m = x;
  }
  return m;
}

/* e1 AND e2 (in the plan's arena); either may be NULL. */
static sl_expr *make_and(sl_plan *plan, sl_expr *l, sl_expr *r) {
  if (!l || !r) return l ? l : r;
  sl_expr *x = sl_arena_alloc(&plan->arena, sizeof *x);
  memset(x, 0, sizeof *x);
  x->kind = E_AND;
  x->left = l;
  x->right = r;
  x->line = l->line;
  x->pos_col = l->pos_col;
  x->height = 1 + (l->height > r->height ? l->height : r->height);
  x->agg = x->mcall = x->bcall = -1;
  return x;
}

/* 1 if e calls only deterministic functions (evaluating it once per row
** of a table gives what evaluating it per pair would). */
static int deterministic(const sl_expr *e) {
  if (!e) return 1;
  if (e->kind == E_CALL && (!e->func || !(e->func->flags & SL_FUNC_DETERMINISTIC))) return 0;
  if (!deterministic(e->left) || !deterministic(e->right)) return 0;
  for (int i = 0; e->list && i < e->list->n; i++)
    if (!deterministic(e->list->a[i])) return 0;
  return 1;
}

/* Bind join k's conditions over its row [item k, ..., item 1, item 0]
** and compile them into its spec: equalities between a column of item k
** and an expression of the earlier items are hash keys, the rest the
** residual.  0, or -1 with err set. */
static int compile_join(sl_plan *plan, sl_bind_tab *all, int k, jitem *it, sl_err *err) {
  sl_join_spec *js = it->js;
  static sl_schema none; /* an item outside a parenthesised list's ON: no columns */
  sl_bind_tab *tabs = sl_arena_alloc(&plan->arena, sizeof *tabs * (size_t)(k + 1));
  sl_bind_tab *scoped = sl_arena_alloc(&plan->arena, sizeof *tabs * (size_t)(k + 1));
  int base = 0;
  for (int j = k; j >= 0; j--) { /* item k first, the driving input last */
    tabs[j] = all[j];
    tabs[j].base = base;
    base += j ? all[j].schema->ncol : 0;
    scoped[j] = tabs[j];
    if (j < it->lo) {
      scoped[j].schema = &none;
      scoped[j].name = NULL;
    }
  }
  sl_bind b = {.funcs = plan->ctx.cat->funcs, .err = err, .tabs = scoped, .ntabs = k + 1};
  sl_expr **conj = NULL;
  int nconj = 0;
  for (int i = 0; i < it->nconj; i++) {
    if (i == it->nown) b.tabs = tabs; /* WHERE's terms see every item */
    if (sl_bind_expr(&b, it->conj[i])) {
      free(conj);
      return -1;
    }
    split_and(it->conj[i], &conj, &nconj);
  }
  for (int i = 0; i < it->npre; i++)
    if (sl_bind_expr(&b, it->pre[i])) {
      free(conj);
      return -1;
    }
  int nt = js->schema.ncol, nres = 0, nfilt = 0, rc = -1;
  js->tkey = sl_calloc((size_t)(nconj ? nconj : 1), sizeof(int));
  sl_expr **skey = sl_calloc((size_t)(nconj ? nconj : 1), sizeof(sl_expr *));
  sl_expr **resid = sl_calloc((size_t)(nconj ? nconj : 1), sizeof(sl_expr *));
  sl_expr **filt = sl_calloc((size_t)(nconj ? nconj : 1), sizeof(sl_expr *));
  for (int i = 0; i < nconj; i++) {
    sl_expr *c = conj[i];
    if (join_sides(c, nt) == 1 && deterministic(c)) { /* t's rows alone: once */
      filt[nfilt++] = c;
      continue;
    }
    if (c->kind == E_BINARY && c->op == TK_EQ) {
      sl_expr *l = c->left, *r = c->right;
      if (r->kind == E_COLUMN && r->col >= 0 && r->col < nt && join_sides(l, nt) == 2) {
        sl_expr *x = l;
        l = r;
        r = x;
      }
      if (l->kind == E_COLUMN && l->col >= 0 && l->col < nt && join_sides(r, nt) == 2 &&
          key_safe(l, r)) {
        js->tkey[js->nkeys] = l->col;
        skey[js->nkeys++] = r;
        continue;
      }
    }
    resid[nres++] = c;
  }
  if (js->nkeys && !(js->keyprog = key_program(skey, js->nkeys, err))) goto done;
  if (nres && !(js->residual = residual_program(resid, nres, err))) goto done;
  if (nfilt && !(js->tfilter = residual_program(filt, nfilt, err))) goto done;
  if (it->npre && !(js->pre = residual_program(it->pre, it->npre, err))) goto done;
  rc = 0;
done:
  free(conj);
  free(skey);
  free(resid);
  free(filt);
  return rc;
}

/* FROM a, b, c ... (any joins but an interval join): each item after the
** first is a bounded table joined by one op_join, left-deep; the joined
** row is [c's columns, b's, a's] (the driving input last, so that an open
** schema can grow).  WHERE terms over the items move into the first inner
** join that has all they read; *body is sel with the rest of WHERE. */
static int plan_chain(sl_plan *plan, const sl_select *sel, sl_pquery *q, sl_input *in,
                      const sl_select **body, sl_err *err) {
  const sl_call *from = sel->from;
  if (from->unsupported) {
    sl_err_setpos(err, SL_EBIND, from->line, from->col, "%s is not supported", from->unsupported);
    return -1;
  }
  if (!in->schema) {
    sl_err_setpos(err, SL_EBIND, from->line, from->col, "a join needs an input with columns");
    return -1;
  }
  int n = 0;
  for (const sl_call *c = from->join; c; c = c->join)
    n++;
  jitem *items = sl_calloc((size_t)n + 1, sizeof *items);
  sl_bind_tab *tabs = sl_arena_alloc(&plan->arena, sizeof *tabs * (size_t)(n + 1));
  memset(tabs, 0, sizeof *tabs * (size_t)(n + 1));
  tabs[0].schema = in->schema;
  tabs[0].name = in->name;
  tabs[0].order = from->pos1 ? from->pos1 - 1 : 0;
  int rc = -1, k = 1;
  for (const sl_call *pv = from; pv->join; pv = pv->join, k++) {
    jitem *it = &items[k];
    it->call = pv->join;
    it->prev = pv;
    it->js = sl_calloc(1, sizeof *it->js);
    sl_plan_add_op(q, &sl_op_join, it->js); /* freed with the query, also on failure */
    it->js->left = pv->left_join;
    const sl_call *c = it->call;
    if (pv->right_join) {
      sl_err_setpos(err, SL_EBIND, c->line, c->col,
                    "%s JOIN joins two streams only (an interval join: ON a.k = b.k AND b.ts "
                    "BETWEEN a.ts AND a.ts + INTERVAL '...'), and %s is a table",
                    pv->left_join ? "FULL" : "RIGHT", c->alias ? c->alias : c->name);
      goto done;
    }
    for (int j = 1; j < k && c->group; j++)
      if (items[j].call == c->group) it->lo = j;
    if (item_is_stream(plan, c)) {
      if (from->bare && sl_catalog_table(plan->ctx.cat, from->name))
        sl_err_setpos(err, SL_EBIND, c->line, c->col,
                      "%s is a stream: write it first in FROM (the first item drives the "
                      "joins, the later ones are tables read whole when the query starts; a "
                      "stream written later moves to the front only when every join is an "
                      "inner join without USING, NATURAL or parentheses)",
                      c->name);
      else
        sl_err_setpos(err, SL_EBIND, c->line, c->col,
                      "%s is a stream: a FROM list joins one stream to tables, or streams "
                      "only (a JOIN b ON ... JOIN c ON ...); join the streams in a subquery "
                      "first: FROM (SELECT ... FROM a JOIN b ON a.k = b.k) AS ab JOIN t ON ...",
                      c->name);
      goto done;
    }
    if (join_table(plan, c, it->js, err)) goto done;
    tabs[k].schema = &it->js->schema;
    tabs[k].name = it->js->tname;
    tabs[k].order = c->pos1 ? c->pos1 - 1 : k;
    it->hidden = sl_arena_alloc(&plan->arena, (size_t)(it->js->schema.ncol + 1));
    memset(it->hidden, 0, (size_t)(it->js->schema.ncol + 1));
    tabs[k].hidden = it->hidden;
    if (pv->on && pv->using) {
      sl_err_setpos(err, SL_EBIND, c->line, c->col,
                    "cannot have both ON and USING clauses in the same join");
      goto done;
    }
    if (pv->natural && (pv->on || pv->using)) {
      sl_err_setpos(err, SL_EBIND, c->line, c->col,
                    "a NATURAL join may not have an ON or USING clause");
      goto done;
    }
    if (using_terms(plan, tabs, k, it, err)) goto done;
    if (pv->on) add_conj(it, pv->on);
    it->nown = it->nconj;
  }
  /* WHERE's terms (and a parenthesised join's ON) into the first inner join
  ** that has every item they read */
  sl_expr **w = NULL;
  int nw = 0;
  if (sel->where) split_and(sel->where, &w, &nw);
  if (from->extra) split_and(from->extra, &w, &nw);
  sl_expr *rest = NULL;
  for (int i = 0; i < nw; i++) {
    int m = term_items(plan, tabs, n + 1, w[i]);
    if (m >= 1 && !items[m].js->left) { /* a condition of join m */
      add_conj(&items[m], w[i]);
    } else if (m >= 0 && m < n) { /* a filter on the rows entering join m + 1 */
      jitem *it = &items[m + 1];
      it->pre = sl_realloc(it->pre, sizeof(sl_expr *) * (size_t)(it->npre + 1));
      it->pre[it->npre++] = w[i];
    } else {
      rest = make_and(plan, rest, w[i]);
    }
  }
  free(w);
  if (rest != sel->where) {
    sl_select *copy = sl_arena_alloc(&plan->arena, sizeof *copy);
    *copy = *sel;
    copy->where = rest;
    *body = copy;
  }
  for (k = 1; k <= n; k++)
    if (compile_join(plan, tabs, k, &items[k], err)) goto done;
  /* the final row: [item n, ..., item 1, item 0] */
  int base = 0;
  for (k = n; k >= 1; k--) {
    tabs[k].base = base;
    base += tabs[k].schema->ncol;
  }
  tabs[0].base = base;
  in->tabs = tabs;
  in->ntabs = n + 1;
  in->base1 = base;
  in->schema2 = NULL;
  rc = 0;
done:
  for (k = 1; k <= n; k++) {
    free(items[k].conj);
    free(items[k].pre);
  }
  free(items);
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
      (e->right->kind == E_INTERVAL || e->right->kind == E_INT) && e->right->i >= -SL_SPAN_LIMIT &&
      e->right->i <= SL_SPAN_LIMIT) { /* else the whole of e is the bound, checked per row */
    *base = e->left;
    *off = e->op == TK_PLUS ? e->right->i : -e->right->i;
  }
}

/* 1 if e holds a subquery (it is planned when bound: bound once only). */
static int has_subquery(const sl_expr *e) {
  if (!e) return 0;
  if (e->kind == E_SUBQUERY) return 1;
  if (has_subquery(e->left) || has_subquery(e->right)) return 1;
  for (int i = 0; e->list && i < e->list->n; i++)
    if (has_subquery(e->list->a[i])) return 1;
  return 0;
}

/* What a stream join takes from its conditions. */
typedef struct jterms {
  sl_expr **akey, **bkey; /* key pairs (js->nkeys) */
  sl_expr *tp;            /* the point side's time, or NULL: no time bound */
  sl_expr *tr, *trhi;     /* the ranged side's time and its own upper end (or NULL) */
} jterms;

/* c as a key equality (1), a time bound (2), or neither (0), into t and js. */
static int ijoin_term(sl_expr *c, sl_ijoin_spec *js, jterms *t) {
  int na = js->na;
  if (c->kind == E_BINARY && c->op == TK_EQ) {
    int l = join_sides(c->left, na), r = join_sides(c->right, na);
    if ((l == 1 && r == 2) || (l == 2 && r == 1)) {
      t->akey[js->nkeys] = l == 1 ? c->left : c->right;
      t->bkey[js->nkeys++] = l == 1 ? c->right : c->left;
      return 1;
    }
  }
  /* x BETWEEN lo_base [+ lo] AND hi_base [+ hi]: x of one side, the bounds
  ** of the other (the ranged side); hi_base another column than lo_base
  ** (a.expires) gives each record an upper end of its own */
  if (c->kind == E_BETWEEN && !c->not_ && !t->tp) {
    int xs = join_sides(c->left, na);
    if (xs != 1 && xs != 2) return 0;
    int other = 3 - xs;
    sl_expr *b1, *b2;
    int64_t lo, hi;
    split_offset(c->list->a[0], &b1, &lo);
    split_offset(c->list->a[1], &b2, &hi);
    if (join_sides(b1, na) != other || join_sides(b2, na) != other) return 0;
    int same = sl_expr_equal(b1, b2);
    if (same && lo > hi) return 0;
    js->ranged = other == 2;
    js->lo = lo;
    js->hi = hi;
    js->rhi = !same;
    t->tp = c->left;
    t->tr = b1;
    t->trhi = same ? NULL : b2;
    return 2;
  }
  return 0;
}

/* One side's program: its keys, then its time (t; NULL: none, a join
** without a time bound), then its upper end (t2, or NULL), in result
** registers. */
static sl_program *side_program(sl_expr **key, int nkeys, sl_expr *t, sl_expr *t2, sl_err *err) {
  sl_program *pg = sl_program_new();
  sl_compiler c = {.prog = pg, .err = err};
  int nres = nkeys + (t != NULL) + (t2 != NULL);
  int r0 = sl_reg_alloc(&c, nres ? nres : 1);
  pg->result_reg = r0;
  pg->nresult = nres;
  for (int i = 0; i < nkeys; i++)
    if (sl_expr_code(&c, key[i], r0 + i)) goto fail;
  if (t && sl_expr_code(&c, t, r0 + nkeys)) goto fail;
  if (t2 && sl_expr_code(&c, t2, r0 + nkeys + 1)) goto fail;
  sl_program_add(pg, OP_Result, r0, nres, 0);
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

/* FROM a [LEFT | RIGHT | FULL] JOIN b ON a.k = b.k [AND b.ts BETWEEN a.ts
** [+ lo] AND a.ts + hi]: plan b's input too, bind the join's conditions
** over the joined row [a's columns, b's], compile each side's keys and
** time, and add op_ijoin.  An inner join also takes WHERE's key equalities
** and time bound (FROM a, b WHERE ...), and its other conditions, ON's too,
** are a filter after it: *body is sel with them as its WHERE. */
static int plan_ijoin(sl_plan *plan, const sl_select *sel, int qi, sl_input *in, sl_input *r,
                      const sl_select **body, sl_err *err) {
  const sl_call *from = sel->from;
  sl_pquery *q = plan->queries[qi];
  sl_input rin = *r;
  if (!in->schema || !rin.schema) {
    sl_err_setpos(err, SL_EBIND, from->line, from->col, "an interval join needs two streams");
    return -1;
  }
  attach_right(plan, qi, &rin);
  grow_all(sel, in, &rin);
  if (in->ntabs) { /* a is a nest subquery: its items' columns, then b's */
    sl_bind_tab *t = sl_arena_alloc(&plan->arena, sizeof *t * (size_t)(in->ntabs + 1));
    memcpy(t, in->tabs, sizeof *t * (size_t)in->ntabs);
    t[in->ntabs] = (sl_bind_tab){
        .schema = rin.schema, .name = rin.name, .base = in->schema->ncol, .order = in->ntabs};
    in->tabs = t;
    in->ntabs++;
  }
  sl_ijoin_spec *js = sl_calloc(1, sizeof *js);
  sl_plan_add_op(q, &sl_op_ijoin, js); /* freed with the query, also on failure */
  js->na = in->schema->ncol;
  js->nb = rin.schema->ncol;
  js->left = from->left_join;
  js->right = from->right_join;
  int outer = js->left || js->right;
  js->lateness[0] = in->lateness;
  js->lateness[1] = rin.lateness;
  in->schema2 = rin.schema;
  in->name2 = rin.name;
  in->base1 = 0;
  in->base2 = js->na;
  sl_bind b = sl_plan_binder(plan, in, err);
  sl_expr **conj = NULL, **w = NULL, *rest = NULL;
  int nconj = 0, non = 0, nw = 0, rc = -1;
  jterms t = {0};
  if (from->on) {
    if (sl_bind_expr(&b, from->on)) return -1;
    split_and(from->on, &conj, &nconj);
  }
  non = nconj;
  if (!outer && sel->where) split_and(sel->where, &w, &nw);
  for (int i = 0; i < nw; i++) { /* WHERE's candidates: bound here, the rest in the body */
    sl_expr *c = w[i];
    if ((c->kind == E_BETWEEN || (c->kind == E_BINARY && c->op == TK_EQ)) && !has_subquery(c)) {
      if (sl_bind_expr(&b, c)) goto fail;
      conj = sl_realloc(conj, sizeof(sl_expr *) * (size_t)(nconj + 1));
      conj[nconj++] = c;
    } else {
      rest = make_and(plan, rest, c);
    }
  }
  t.akey = sl_calloc((size_t)nconj + 1, sizeof(sl_expr *));
  t.bkey = sl_calloc((size_t)nconj + 1, sizeof(sl_expr *));
  for (int i = 0; i < nconj; i++) {
    sl_expr *c = conj[i];
    if (ijoin_term(c, js, &t)) continue;
    if (i < non && (outer || has_subquery(c))) {
      sl_err_setpos(err, SL_EBIND, c->line, c->pos_col,
                    "a stream-stream %sJOIN's ON takes key equalities and one time bound "
                    "(b.ts BETWEEN a.ts AND a.ts + INTERVAL ...)%s",
                    outer ? "outer " : "",
                    outer ? "; filter its inputs in subqueries (FROM (SELECT ... WHERE ...) AS a)"
                          : "; put other conditions in WHERE");
      goto fail;
    }
    rest = make_and(plan, rest, c); /* an inner join's filter after it */
  }
  for (int i = 0; !t.tp && i < js->nkeys && in->wtime && rin.wtime; i++) {
    /* an equality of two window bounds (each never going down along its
    ** input): the time bound, b's bound within [a's, a's] */
    const sl_expr *x = t.akey[i], *y = t.bkey[i];
    if (x->kind == E_COLUMN && y->kind == E_COLUMN && x->col >= 0 && x->col < js->na &&
        y->col >= js->na && y->col < js->na + js->nb && in->wtime[x->col] &&
        rin.wtime[y->col - js->na]) {
      t.tp = t.bkey[i];
      t.tr = t.akey[i];
      js->ranged = 0;
      js->rhi = 0;
      js->lo = js->hi = 0;
    }
  }
  if (!t.tp) { /* two streams on keys alone */
    /* an outer join's NULL-padded rows are taken back when their match comes */
    if (outer) q->changes = SL_UPDATING;
    if (!js->nkeys) {
      const sl_expr *at = from->on ? from->on : sel->where;
      sl_err_setpos(err, SL_EBIND, at ? at->line : from->line, at ? at->pos_col : from->col,
                    "a join of two streams needs a key equality: ON a.k = b.k");
      goto fail;
    }
    int64_t ttl = sl_setting_int(plan->ctx.cat, SL_SET_STATE_TTL);
    js->proctime = 1;
    js->ranged = 0;
    js->hi = ttl > 0 ? ttl : SL_IJOIN_FOREVER;
    js->lo = -js->hi;
  } else if (!js->nkeys) {
    const sl_expr *at = from->on ? from->on : sel->where;
    sl_err_setpos(err, SL_EBIND, at->line, at->pos_col,
                  "a stream-stream JOIN needs a key equality and a time bound: ON a.k = b.k AND "
                  "b.ts BETWEEN a.ts AND a.ts + INTERVAL '...'");
    goto fail;
  }
  {
    int ar = !js->proctime && js->ranged == 0;
    int br = !js->proctime && js->ranged == 1;
    js->aprog = side_program(t.akey, js->nkeys, ar ? t.tr : t.tp, ar ? t.trhi : NULL, err);
    js->bprog = js->aprog
                    ? side_program(t.bkey, js->nkeys, br ? t.tr : t.tp, br ? t.trhi : NULL, err)
                    : NULL;
  }
  if (js->bprog) {
    rc = 0;
    if (rest != sel->where) {
      sl_select *copy = sl_arena_alloc(&plan->arena, sizeof *copy);
      *copy = *sel;
      copy->where = rest;
      *body = copy;
    }
  }
fail:
  free(t.akey);
  free(t.bkey);
  free(conj);
  free(w);
  return rc;
}

static int select_is_stream(sl_plan *plan, const sl_select *sel);

/* 1 if FROM item c is a stream: a catalog stream (not a table of the same
** name), a connector whose input does not end (its check says, doing no
** I/O), or a subquery that reads one. */
static int call_is_stream(sl_plan *plan, const sl_call *c) {
  if (c->sub) return select_is_stream(plan, c->sub);
  if (c->bare && sl_catalog_table(plan->ctx.cat, c->name)) return 0;
  if (c->bare && sl_catalog_stream(plan->ctx.cat, c->name)) return 1;
  if (c->bare || !sl_connector_find(c->name, strlen(c->name))) return 0;
  sl_options o;
  sl_err e = {0};
  sl_source *desc = sl_plan_check(plan, c, 0, NULL, &o, &e);
  int stream = desc && !desc->bounded;
  if (desc) desc->vt->close(desc);
  sl_options_free(&o);
  sl_err_clear(&e);
  return stream;
}

/* 1 if sel (or an arm of its compound) reads a stream in its FROM. */
static int select_is_stream(sl_plan *plan, const sl_select *sel) {
  if (!sel) return 0;
  if (sel->op) return select_is_stream(plan, sel->prior) || select_is_stream(plan, sel->arm);
  for (const sl_call *c = sel->from; c; c = c->join)
    if (call_is_stream(plan, c)) return 1;
  return 0;
}

int sl_plan_is_stream_join(sl_plan *plan, const sl_select *sel) {
  const sl_call *from = sel->from;
  if (!from || !from->join || from->join->join || from->natural || from->using) return 0;
  /* an outer join's conditions are its ON; an inner join's may be in WHERE */
  if (!from->on && (from->left_join || from->right_join || !sel->where)) return 0;
  if (from->bare && sl_catalog_table(plan->ctx.cat, from->name)) return 0; /* a table first */
  return call_is_stream(plan, from->join);
}

int sl_plan_is_interval_join(const sl_select *sel) {
  return sel->from && sel->from->join && !sel->from->join->join && on_has_between(sel->from->on);
}

int sl_plan_join(sl_plan *plan, const sl_select *sel, int qi, sl_input *in, sl_input *rin,
                 const sl_select **body, sl_err *err) {
  return rin ? plan_ijoin(plan, sel, qi, in, rin, body, err)
             : plan_chain(plan, sel, plan->queries[qi], in, body, err);
}

const sl_select *sl_plan_join_reorder(sl_plan *plan, const sl_select *sel) {
  const sl_call *from = sel->from;
  if (!from || !from->join || from->unsupported || call_is_stream(plan, from))
    return sel; /* a stream first already (a connector, FROM (SELECT ... FROM stream) ...) */
  int n = 0, si = -1;
  for (const sl_call *c = from; c; c = c->join, n++) {
    if (c->left_join || c->right_join || c->using || c->natural || c->group) return sel;
    if (n > 0 && item_is_stream(plan, c)) {
      if (si >= 0) return sel; /* two streams: refused by the chain */
      si = n;
    }
  }
  if (si < 0) return sel;
  sl_call **v = sl_arena_alloc(&plan->arena, sizeof(sl_call *) * (size_t)n);
  const sl_call *c = from;
  sl_expr *on = from->extra;
  for (int k = 0; k < n; k++, c = c->join) {
    sl_call *x = sl_arena_alloc(&plan->arena, sizeof *x);
    *x = *c;
    x->pos1 = k + 1;
    x->on = NULL; /* inner joins: ON is a WHERE term */
    x->extra = NULL;
    if (c->on) on = make_and(plan, on, c->on);
    v[k] = x;
  }
  sl_call *head = v[si];
  sl_call *last = head;
  for (int k = 0; k < n; k++)
    if (k != si) last = last->join = v[k];
  last->join = NULL;
  head->extra = on;
  sl_select *copy = sl_arena_alloc(&plan->arena, sizeof *copy);
  *copy = *sel;
  copy->from = head;
  return copy;
}

/* The name of the `t.*` items of a nest subquery's select list (compared
** by address: their errors say where they come from). */
static const char nest_star[] = "(join)";

void sl_plan_star_open(const sl_expr *e, sl_err *err) {
  if (e->name == nest_star)
    sl_err_setpos(err, SL_EBIND, e->line, e->pos_col,
                  "%s needs declared columns in a join of more than two streams (all but the "
                  "last): declare them with columns => 'a TEXT, b REAL' or CREATE STREAM s (a "
                  "TEXT, ...) FROM ...",
                  e->tab);
  else
    sl_err_setpos(err, SL_EBIND, e->line, e->pos_col,
                  "SELECT * needs declared columns: name the fields, or declare them with "
                  "columns => 'a TEXT, b REAL' or CREATE STREAM s (a TEXT, ...) FROM ...");
}

/* The name FROM item c's columns are qualified by. */
static const char *item_name(const sl_call *c) {
  return c->alias ? c->alias : c->name;
}

const sl_select *sl_plan_join_nest(sl_plan *plan, const sl_select *sel, sl_err *err) {
  const sl_call *from = sel->from;
  if (!from || !from->join || !from->join->join || from->unsupported || from->extra) return sel;
  int n = 0;
  for (const sl_call *c = from; c; c = c->join, n++)
    if (c->group || c->window || c->as_of || !call_is_stream(plan, c)) return sel;
  /* every item a stream: items 0..n-2 joined in a subquery, its rows
  ** [item 0's columns, ..., item n-2's], joined to item n-1 */
  const sl_call *c = from;
  for (int k = 0; k < n; k++, c = c->join) {
    for (const sl_call *d = from; d != c; d = d->join)
      if (!sl_stricmp(item_name(c), item_name(d))) {
        sl_err_setpos(err, SL_EBIND, c->line, c->col,
                      "%s is named twice in a join of more than two streams: give each its own "
                      "name (FROM a JOIN b ON ... JOIN a AS a2 ON ...)",
                      item_name(c));
        return NULL;
      }
    if (k < n - 2 && (!c->on || c->using || c->natural)) {
      const sl_call *at = c->join;
      sl_err_setpos(err, SL_EBIND, at->line, at->col,
                    "a join of more than two streams takes each join's conditions in its ON "
                    "(a JOIN b ON a.k = b.k JOIN c ON c.k = b.k)");
      return NULL;
    }
  }
  sl_call **v = sl_arena_alloc(&plan->arena, sizeof(sl_call *) * (size_t)(n - 1));
  c = from;
  for (int k = 0; k < n - 1; k++, c = c->join) {
    v[k] = sl_arena_alloc(&plan->arena, sizeof **v);
    *v[k] = *c;
    if (k) v[k - 1]->join = v[k];
  }
  const sl_call *last = c, *prev = v[n - 2];
  sl_call *x = sl_arena_alloc(&plan->arena, sizeof *x); /* the subquery, joined as prev was */
  memset(x, 0, sizeof *x);
  x->name = "(subquery)";
  x->line = from->line;
  x->col = from->col;
  x->nest = 1;
  x->join = (sl_call *)last;
  x->on = prev->on;
  x->left_join = prev->left_join;
  x->right_join = prev->right_join;
  x->natural = prev->natural;
  x->using = prev->using;
  v[n - 2]->join = NULL;
  v[n - 2]->on = NULL;
  v[n - 2]->left_join = v[n - 2]->right_join = v[n - 2]->natural = 0;
  v[n - 2]->using = NULL;
  sl_select *sub = sl_arena_alloc(&plan->arena, sizeof *sub);
  memset(sub, 0, sizeof *sub);
  sub->from = v[0];
  sub->cols = sl_plan_list(plan, n - 1);
  for (int k = 0; k < n - 1; k++) { /* item k's columns: item_name(k).* */
    sl_expr *e = sl_arena_alloc(&plan->arena, sizeof *e);
    memset(e, 0, sizeof *e);
    e->kind = E_STAR;
    e->name = nest_star; /* made here: its errors say so */
    e->tab = item_name(v[k]);
    e->line = v[k]->line;
    e->pos_col = v[k]->col;
    e->agg = e->mcall = e->bcall = e->wcall = e->col = -1;
    sub->cols->names[sub->cols->n] = NULL;
    sub->cols->a[sub->cols->n++] = e;
  }
  x->sub = sub;
  sl_select *copy = sl_arena_alloc(&plan->arena, sizeof *copy);
  *copy = *sel;
  copy->from = x;
  return copy;
}

/* The columns input (stream, source) of a query gives its rows. */
static sl_schema *input_schema(sl_plan *plan, int stream, int source) {
  if (stream < 0) return &plan->sources[source]->desc->schema;
  sl_pstream *si = plan->streams[stream];
  return si->query >= 0 ? &si->own : &plan->sources[si->source]->desc->schema;
}

void sl_plan_nest_tabs(sl_plan *plan, const sl_call *from, sl_input *in) {
  sl_pstream *si = plan->streams[in->stream];
  const sl_pquery *q = plan->queries[si->query];    /* the subquery's a JOIN b */
  const sl_call *a = from->sub->from, *b = a->join; /* a: its FROM nested too when b is not last */
  while (b->join)
    b = b->join;
  const sl_pstream *as = q->in_stream >= 0 ? plan->streams[q->in_stream] : NULL;
  int na = as && as->tabs ? as->ntabs : 1;
  sl_bind_tab *t = sl_arena_alloc(&plan->arena, sizeof *t * (size_t)(na + 1));
  memset(t, 0, sizeof *t * (size_t)(na + 1));
  if (as && as->tabs) {
    memcpy(t, as->tabs, sizeof *t * (size_t)na); /* a is a nest itself */
  } else {
    t[0].schema = input_schema(plan, q->in_stream, q->source);
    t[0].name = item_name(a);
  }
  int w = 0;
  for (int k = 0; k < na; k++)
    w += t[k].schema->ncol;
  t[na].schema = input_schema(plan, q->in_stream2, q->source2);
  t[na].name = item_name(b);
  t[na].base = w;
  t[na].order = na;
  SL_ASSERT(w + t[na].schema->ncol == in->schema->ncol);
  si->tabs = t;
  si->ntabs = na + 1;
  in->tabs = t;
  in->ntabs = na + 1;
}

sl_exprlist *sl_plan_expand_star_tabs(sl_plan *plan, const sl_exprlist *cols, const sl_input *in,
                                      sl_err *err) {
  int cap = cols->n;
  for (int k = 0; k < in->ntabs; k++)
    cap += in->tabs[k].schema->ncol;
  sl_exprlist *l = sl_plan_list(plan, cap);
  for (int i = 0; i < cols->n; i++) {
    sl_expr *e = cols->a[i];
    if (e->kind != E_STAR) {
      l->names[l->n] = cols->names[i];
      l->a[l->n++] = e;
      continue;
    }
    int any = 0;
    for (int o = 0; o < in->ntabs; o++) { /* in FROM's order as written */
      int k = 0;
      while (k < in->ntabs - 1 && in->tabs[k].order != o)
        k++;
      const sl_bind_tab *t = &in->tabs[k];
      if (e->tab && !(t->name && sl_stricmp(t->name, e->tab) == 0)) continue;
      any = 1;
      if (t->schema->open) {
        sl_plan_star_open(e, err);
        return NULL;
      }
      for (int c = 0; c < t->schema->ncol; c++) {
        if (!e->tab && t->hidden && t->hidden[c]) continue; /* USING's column: once */
        l->names[l->n] = NULL;
        l->a[l->n++] = item_column(plan, k, t->schema->cols[c].name, e->line, e->pos_col);
      }
    }
    if (!any) {
      sl_err_setpos(err, SL_EBIND, e->line, e->pos_col, "no such table: %s", e->tab);
      return NULL;
    }
  }
  return l;
}
