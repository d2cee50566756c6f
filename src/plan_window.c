/*
** plan_window.c - planning a SELECT whose select list calls functions over
** windows (f(...) OVER (PARTITION BY ... ORDER BY ... [frame])): the calls
** bound and grouped by window, a program computing WHERE and every key and
** argument per row, and the operator that fits the input (op_window.h):
**   a bounded input           op_window, then op_project over the rows and
**                             the calls' values (every frame SQLite has,
**                             but GROUPS and RANGE with offsets);
**   a stream read by a Top-N  op_topn (the query reading this one as FROM
**                             (SELECT ...) keeps `rank <= N`: plan.c
**                             notes N in sel->topn), an updating stream;
**   any other stream          op_over, when its one window is ordered by
**                             the event time (ascending): rows released
**                             once the watermark passes them.
*/
#include <stdlib.h>
#include <string.h>

#include "op_window.h"
#include "parse.h"
#include "plan_int.h"

/* 1 when e (not looking into subqueries) calls a function over a window. */
int sl_plan_has_window(const sl_expr *e) {
  if (!e) return 0;
  if (e->kind == E_CALL && e->win) return 1;
  if (sl_plan_has_window(e->left) || sl_plan_has_window(e->right)) return 1;
  for (int i = 0; e->list && i < e->list->n; i++)
    if (sl_plan_has_window(e->list->a[i])) return 1;
  return 0;
}

/* 1 when windows a and b partition and order alike (one sort serves both). */
static int same_window(const sl_window *a, const sl_window *b) {
  int na = a->partition ? a->partition->n : 0, nb = b->partition ? b->partition->n : 0;
  int oa = a->order ? a->order->n : 0, ob = b->order ? b->order->n : 0;
  if (na != nb || oa != ob) return 0;
  for (int i = 0; i < na; i++)
    if (!sl_expr_equal(a->partition->a[i], b->partition->a[i])) return 0;
  for (int i = 0; i < oa; i++) {
    const sl_orderterm *x = &a->order->a[i], *y = &b->order->a[i];
    if (x->desc != y->desc || x->nulls != y->nulls || !sl_expr_equal(x->e, y->e)) return 0;
  }
  return 1;
}

/* A frame offset (n PRECEDING / FOLLOWING): a constant non-negative
** integer, as SQLite wants it.  0, or -1 with err set. */
static int frame_offset(const sl_fbound *fb, const char *which, int64_t *out, sl_err *err) {
  *out = 0;
  if (!fb->n) return 0;
  sl_value v = SL_VALUE_INIT;
  int ok = fb->n->is_const && sl_expr_eval_const(fb->n, &v, err) == 0;
  if (ok) {
    sl_value_apply_affinity(&v, SL_AFF_NUMERIC);
    ok = v.type == SL_INTEGER && v.u.i >= 0;
    if (ok) *out = v.u.i;
  }
  sl_value_free(&v);
  if (!ok) {
    sl_err_clear(err);
    sl_err_setpos(err, SL_EBIND, fb->line, fb->col,
                  "frame %s offset must be a non-negative integer", which);
    return -1;
  }
  return 0;
}

/* Check call e's frame and fill cs's (an aggregate's; window functions
** ignore frames, as in SQLite).  0, or -1 with err set. */
static int plan_frame(const sl_expr *e, sl_wcall_spec *cs, sl_err *err) {
  const sl_frame *f = &e->win->frame;
  int has_order = e->win->order && e->win->order->n;
  if (!f->kind) { /* SQLite's default: RANGE UNBOUNDED PRECEDING to the row's last peer */
    cs->frame = SL_FRAME_RANGE;
    cs->start = SL_FB_UNBOUNDED_PRECEDING;
    cs->end = SL_FB_CURRENT;
    return 0;
  }
  if (cs->kind) return 0;
  const sl_token *at = &f->at;
  if (f->kind == SL_FRAME_GROUPS) {
    sl_err_setpos(err, SL_EBIND, at->line, at->col, "GROUPS frames are not supported: use ROWS");
    return -1;
  }
  int s = f->start.kind, en = f->end.kind;
  if (s == SL_FB_UNBOUNDED_FOLLOWING || en == SL_FB_UNBOUNDED_PRECEDING ||
      (s == SL_FB_CURRENT && en == SL_FB_PRECEDING) ||
      (s == SL_FB_FOLLOWING && (en == SL_FB_PRECEDING || en == SL_FB_CURRENT))) {
    sl_err_setpos(err, SL_EBIND, at->line, at->col, "unsupported frame specification");
    return -1;
  }
  if (f->kind == SL_FRAME_RANGE && (f->start.n || f->end.n)) {
    sl_err_setpos(err, SL_EBIND, at->line, at->col,
                  has_order ? "RANGE with an offset PRECEDING or FOLLOWING is not supported: use "
                              "ROWS"
                            : "RANGE with offset PRECEDING/FOLLOWING requires one ORDER BY "
                              "expression");
    return -1;
  }
  cs->frame = f->kind;
  cs->start = s;
  cs->end = en;
  if (frame_offset(&f->start, "starting", &cs->start_n, err) ||
      frame_offset(&f->end, "ending", &cs->end_n, err))
    return -1;
  return 0;
}

/* The most rows a streaming window keeps per partition for LAG, LEAD and
** ROWS frames (op_over). */
#define SL_OVER_MAX_ROWS 1000000

/* LAG / LEAD's offset when it is a constant (else -1). */
static int64_t const_offset(const sl_expr *e) {
  if (!e->list || e->list->n < 2) return 1;
  sl_expr *n = e->list->a[1];
  if (!n->is_const) return -1;
  sl_value v = SL_VALUE_INIT;
  sl_err err = {0};
  int64_t r = -1;
  if (sl_expr_eval_const(n, &v, &err) == 0) {
    sl_value_apply_affinity(&v, SL_AFF_NUMERIC);
    if (v.type == SL_INTEGER && v.u.i >= 0) r = v.u.i;
  }
  sl_value_free(&v);
  sl_err_clear(&err);
  return r;
}

/* An expression list being built: the program's results. */
typedef struct elist {
  sl_expr **a;
  int n, cap;
} elist;
static int elist_add(elist *l, sl_expr *e) {
  if (l->n == l->cap) {
    l->cap = l->cap ? 2 * l->cap : 16;
    l->a = sl_realloc(l->a, sizeof(sl_expr *) * (size_t)l->cap);
  }
  l->a[l->n] = e;
  return l->n++;
}

/* The windows and calls of wc into sp, their keys and arguments into ex
** (register offsets from the program's first result).  0, or -1 with err. */
static int plan_calls(sl_window_spec *sp, const sl_wcalls *wc, elist *ex, sl_err *err) {
  const sl_window **defs = sl_calloc((size_t)wc->n, sizeof *defs);
  sp->wins = sl_calloc((size_t)wc->n, sizeof *sp->wins);
  sp->calls = sl_calloc((size_t)wc->n, sizeof *sp->calls);
  sp->ncall = wc->n;
  int rc = 0;
  for (int k = 0; k < wc->n && !rc; k++) {
    sl_expr *e = wc->a[k];
    int w = 0;
    while (w < sp->nwin && !same_window(defs[w], e->win))
      w++;
    if (w == sp->nwin) { /* a new window: its keys */
      const sl_window *win = e->win;
      sl_wdef *d = &sp->wins[sp->nwin];
      defs[sp->nwin++] = win;
      d->npart = win->partition ? win->partition->n : 0;
      d->part_reg = ex->n;
      d->part_colls = sl_calloc((size_t)(d->npart ? d->npart : 1), sizeof(sl_coll));
      for (int i = 0; i < d->npart; i++) {
        sl_expr *x = win->partition->a[i];
        d->part_colls[i] = sl_compare_coll(x, x);
        elist_add(ex, x);
      }
      d->norder = win->order ? win->order->n : 0;
      d->order_reg = ex->n;
      d->order = sl_calloc((size_t)(d->norder ? d->norder : 1), sizeof(sl_sortkey));
      for (int i = 0; i < d->norder; i++) {
        const sl_orderterm *t = &win->order->a[i];
        sl_expr *x = t->e;
        d->order[i].desc = t->desc;
        d->order[i].nulls_first =
            t->nulls == SL_NULLS_DEFAULT ? !t->desc : t->nulls == SL_NULLS_FIRST;
        d->order[i].coll = sl_compare_coll(x, x);
        elist_add(ex, x);
      }
    }
    sl_wcall_spec *cs = &sp->calls[k];
    cs->func = e->func;
    cs->kind = sl_func_window_kind(e->func);
    cs->win = w;
    cs->nargs = e->star || !e->list ? 0 : e->list->n;
    cs->arg_reg = ex->n;
    for (int i = 0; i < cs->nargs; i++)
      elist_add(ex, e->list->a[i]);
    cs->filter_reg = e->right ? elist_add(ex, e->right) : -1;
    cs->coll = cs->nargs ? sl_compare_coll(e->list->a[0], e->list->a[0]) : SL_COLL_BINARY;
    cs->offset = cs->kind == SL_WF_LAG || cs->kind == SL_WF_LEAD ? const_offset(e) : -1;
    if (!cs->kind && !e->func->xValue) {
      sl_err_setpos(err, SL_EBIND, e->line, e->pos_col,
                    "%s() has no running value: it cannot be used over a window", e->name);
      rc = -1;
    }
    if (!rc) rc = plan_frame(e, cs, err);
  }
  free(defs);
  return rc;
}

/* The program: WHERE, then the expressions of ex (all but the select list
** are moved to start at its first result register).  NULL with err. */
static sl_program *pre_program(sl_expr *where, elist *ex, int ncol_in, sl_err *err) {
  return sl_plan_row_program_w(where, ex->a, ex->n, ncol_in, 0, err);
}

/* The first column a Top-N filter reads: call e must be a ranking
** function over a window ordered by something.  0, or -1 with err. */
static int check_topn(const sl_window_spec *sp, const sl_wcalls *wc, sl_err *err) {
  const sl_expr *e = wc->a[0];
  int kind = sp->calls[0].kind;
  if (wc->n != 1 || !(kind == SL_WF_ROW_NUMBER || kind == SL_WF_RANK || kind == SL_WF_DENSE_RANK)) {
    sl_err_setpos(err, SL_EBIND, e->line, e->pos_col,
                  "a Top-N over a stream computes one ROW_NUMBER(), RANK() or DENSE_RANK() and "
                  "nothing else over a window");
    return -1;
  }
  if (!sp->wins[0].norder) {
    sl_err_setpos(err, SL_EBIND, e->line, e->pos_col,
                  "a Top-N over a stream needs the window's ORDER BY (what ranks first)");
    return -1;
  }
  return 0;
}

/* Whether a Top-N is a deduplication keeping each key's first row
** (op_dedup): ROW_NUMBER() <= 1 over one ORDER BY term ascending that is a
** time attribute of the input: 1 processing time (PROCTIME(), or the
** stream's PROCTIME() column), 2 event time (the column of the stream's
** WATERMARK), else 0 (a Top-1: updating). */
static int dedup_clock(const sl_window_spec *sp, const sl_wcalls *wc, const sl_input *in) {
  const sl_wdef *w = &sp->wins[0];
  if (sp->calls[0].kind != SL_WF_ROW_NUMBER || sp->limit != 1 || w->norder != 1 || w->order[0].desc)
    return 0;
  const sl_expr *t = wc->a[0]->win->order->a[0].e;
  if (t->kind == E_CALL && (!t->list || !t->list->n) && !sl_stricmp(t->name, "proctime")) return 1;
  if (t->kind != E_COLUMN || in->schema2 || in->tabs) return 0;
  if (in->proctime1 && t->col == in->proctime1 - 1) return 1;
  if (in->evtime && !sl_stricmp(t->name, in->evtime)) return 2;
  return 0;
}

/* The streaming OVER's conditions: one window, ordered by one value
** ascending (the event time), and calls op_over computes.  0, or -1. */
static int check_over(const sl_window_spec *sp, const sl_wcalls *wc, sl_err *err) {
  const sl_expr *e = wc->a[0];
  const char *why = NULL;
  if (sp->nwin != 1)
    why = "every window function over a stream must use one window";
  else if (sp->wins[0].norder != 1 || sp->wins[0].order[0].desc)
    why = "a window over a stream must be ordered by its event time, ascending (ORDER BY ts): "
          "rows are computed once the watermark passes them; a Top-N reads it as "
          "SELECT * FROM (SELECT ..., ROW_NUMBER() OVER (...) AS rn FROM s) WHERE rn <= N "
          "(or reads a stream so defined: FROM ranked WHERE rn <= N)";
  for (int k = 0; k < sp->ncall && !why; k++) {
    const sl_wcall_spec *c = &sp->calls[k];
    e = wc->a[k];
    if ((c->kind == SL_WF_LAG || c->kind == SL_WF_LEAD) && c->offset < 0)
      why = "LAG and LEAD over a stream need a constant non-negative offset";
    else if (c->offset > SL_OVER_MAX_ROWS || c->start_n > SL_OVER_MAX_ROWS)
      why = "a stream's window keeps at most 1000000 rows per partition: a smaller offset";
    else if (!c->kind && (c->end != SL_FB_CURRENT ||
                          (c->frame == SL_FRAME_RANGE && c->start != SL_FB_UNBOUNDED_PRECEDING)))
      why = "an aggregate over a stream's window ends at the current row: ROWS BETWEEN n "
            "PRECEDING AND CURRENT ROW, ROWS UNBOUNDED PRECEDING or the default frame";
    else if (!c->kind && c->start == SL_FB_PRECEDING && !c->func->xInverse)
      why = "this aggregate cannot slide over ROWS BETWEEN n PRECEDING (it has no inverse)";
  }
  if (why) {
    sl_err_setpos(err, SL_EBIND, e->line, e->pos_col, "%s", why);
    return -1;
  }
  return 0;
}

/* 1 when wc is one ranking call (ROW_NUMBER, RANK, DENSE_RANK) over a window
** that op_over cannot compute (not ordered by one value ascending): over a
** stream only a Top-N computes it. */
static int topn_only(const sl_wcalls *wc) {
  if (wc->n != 1) return 0;
  const sl_expr *e = wc->a[0];
  if (!e->name || (sl_stricmp(e->name, "row_number") && sl_stricmp(e->name, "rank") &&
                   sl_stricmp(e->name, "dense_rank")))
    return 0;
  const sl_orderby *o = e->win->order;
  return o && o->n && (o->n != 1 || o->a[0].desc);
}

int sl_plan_window(sl_plan *plan, const sl_select *sel, sl_pquery *q, sl_input *in,
                   sl_exprlist *cols, int agg, sl_err *err) {
  sl_wcalls wc = {0};
  elist ex = {0};
  sl_window_spec *sp = NULL;
  int rc = -1;
  if (sel->group || agg) {
    sl_err_set(err, SL_EBIND,
               "window functions over a GROUP BY or aggregates are not supported: aggregate in "
               "a subquery, FROM (SELECT ... GROUP BY ...), and compute the windows over it");
    goto done;
  }
  if (in->changes == SL_UPDATING) {
    sl_err_set(err, SL_EBIND,
               "window functions over an updating input (a changelog) are not supported");
    goto done;
  }
  sl_bind b = sl_plan_binder(plan, in, err);
  b.wcalls = &wc;
  b.windows = sel->windows;
  for (int i = 0; i < cols->n; i++)
    if (sl_bind_expr(&b, cols->a[i])) goto done;
  if (sel->where) {
    sl_bind bw = b;
    bw.wcalls = NULL;
    if (sl_bind_expr(&bw, sel->where)) goto done;
  }
  int ncol_in = sl_plan_input_width(in);
  int bounded = sl_plan_bounded(plan, q);
  int64_t topn = sel->topn;
  if (!topn && !bounded && plan->ctx.defining && q->top && topn_only(&wc))
    topn = 1; /* a stream's definition that a reader's WHERE rn <= N makes a Top-N */
  sp = sl_calloc(1, sizeof *sp);
  sp->ncol_in = ncol_in;
  sp->mode = bounded ? SL_WINDOW_BOUNDED : topn > 0 ? SL_WINDOW_TOPN : SL_WINDOW_OVER;
  if (sp->mode == SL_WINDOW_TOPN) { /* the select list first: op_topn passes it on */
    sp->out_reg = 0;
    sp->nout = cols->n;
    sp->limit = topn;
    for (int i = 0; i < cols->n; i++)
      elist_add(&ex, cols->a[i]);
  }
  if (plan_calls(sp, &wc, &ex, err)) goto done;
  if (sp->mode == SL_WINDOW_TOPN) {
    if (check_topn(sp, &wc, err)) goto done;
    /* the rank column is op_topn's: the program leaves it NULL */
    sp->rank_col = -1;
    for (int i = 0; i < cols->n; i++)
      if (cols->a[i] == wc.a[0]) sp->rank_col = i;
    if (sp->rank_col < 0) {
      sl_err_setpos(err, SL_EBIND, wc.a[0]->line, wc.a[0]->pos_col,
                    "a Top-N's rank must be a column of its own: ROW_NUMBER() OVER (...) AS rn");
      goto done;
    }
    sl_expr *null_expr = sl_arena_alloc(&plan->arena, sizeof *null_expr);
    memset(null_expr, 0, sizeof *null_expr);
    null_expr->kind = E_NULL;
    null_expr->agg = null_expr->mcall = null_expr->bcall = null_expr->wcall = -1;
    null_expr->is_const = 1;
    ex.a[sp->rank_col] = null_expr;
    int clock = dedup_clock(sp, &wc, in);
    if (clock) { /* keep-first: append-only */
      sp->mode = SL_WINDOW_DEDUP;
      sp->proctime = clock == 1;
      sp->lateness = clock == 2 ? in->lateness : 0;
      sp->idle_ms = sl_setting_int(plan->ctx.cat, SL_SET_IDLE_TIMEOUT);
      sp->ttl_ms = sl_setting_int(plan->ctx.cat, SL_SET_STATE_TTL);
    }
  } else if (sp->mode == SL_WINDOW_OVER) {
    if (check_over(sp, &wc, err)) goto done;
    sp->lateness = in->lateness;
    sp->idle_ms = sl_setting_int(plan->ctx.cat, SL_SET_IDLE_TIMEOUT);
  }
  sp->pre = pre_program(sel->where, &ex, ncol_in, err);
  if (!sp->pre) goto done;
  const sl_op_kind *kind = sp->mode == SL_WINDOW_BOUNDED ? &sl_op_window
                           : sp->mode == SL_WINDOW_TOPN  ? &sl_op_topn
                           : sp->mode == SL_WINDOW_DEDUP ? &sl_op_dedup
                                                         : &sl_op_over;
  sl_plan_add_op(q, kind, sp); /* owned by the query from now on */
  sl_window_spec *added = sp;
  sp = NULL;
  sl_plan_set_columns(q, cols);
  if (added->mode == SL_WINDOW_TOPN || added->mode == SL_WINDOW_DEDUP) {
    if (added->mode == SL_WINDOW_TOPN) q->changes = SL_UPDATING;
    rc = 0;
    goto done;
  }
  /* the select list over the rows and the calls' values */
  sl_project_spec *ps = sl_calloc(1, sizeof *ps);
  sl_plan_add_op(q, &sl_op_project, ps);
  ps->ncol = cols->n;
  ps->trace = (int)sl_setting_int(plan->ctx.cat, SL_SET_VM_TRACE);
  ps->prog = sl_plan_row_program_w(NULL, cols->a, cols->n, ncol_in + wc.n, ncol_in, err);
  rc = ps->prog ? 0 : -1;
done:
  if (sp) sl_window_spec_free(sp);
  free(wc.a);
  free(ex.a);
  return rc;
}

/* ---- the Top-N pattern ---------------------------------------------------- */

/* Whether `col <= N` (also col < N, col = 1, N >= col, N > col) with col
** the select's result column name (unqualified, or qualified by qual, the
** FROM item's name) holds in e: N, else 0. */
static int64_t rank_bound(const sl_expr *e, const char *name, const char *qual) {
  if (!e || e->kind != E_BINARY) return 0;
  const sl_expr *l = e->left, *r = e->right;
  int op = e->op;
  if (l->kind == E_INT && r->kind == E_COLUMN) { /* N >= col: col <= N */
    const sl_expr *t = l;
    l = r;
    r = t;
    op = op == TK_GE ? TK_LE : op == TK_GT ? TK_LT : op == TK_LE ? TK_GE : op == TK_LT ? TK_GT : op;
  }
  if (l->kind != E_COLUMN || r->kind != E_INT || sl_stricmp(l->name, name)) return 0;
  if (l->tab && !(qual && !sl_stricmp(l->tab, qual))) return 0;
  if (op == TK_LE && r->i >= 1) return r->i;
  if (op == TK_LT && r->i >= 2) return r->i - 1;
  if (op == TK_EQ && r->i == 1) return 1;
  return 0;
}

/* The smallest bound on name among WHERE's AND-ed terms, or 0. */
static int64_t where_bound(const sl_expr *w, const char *name, const char *qual) {
  if (!w) return 0;
  if (w->kind == E_AND) {
    int64_t a = where_bound(w->left, name, qual), b = where_bound(w->right, name, qual);
    return a && b ? (a < b ? a : b) : a ? a : b;
  }
  return rank_bound(w, name, qual);
}

/* The ranking column of sub (a SELECT over a stream) that where bounds, and
** the bound in *n: its index, or -1 (no Top-N: *n is 0).  qual: the name
** the reading query calls sub by, or NULL. */
static int topn_col(const sl_plan *plan, const sl_select *sub, const sl_expr *where,
                    const char *qual, int64_t *n) {
  *n = 0;
  if (!where || sub->op || sub->group || sub->distinct || sub->order || sub->limit) return -1;
  for (int c = 0; c < sub->cols->n; c++) {
    const sl_expr *e = sub->cols->a[c];
    if (e->kind != E_CALL || !e->win || !e->name) continue;
    if (sl_stricmp(e->name, "row_number") && sl_stricmp(e->name, "rank") &&
        sl_stricmp(e->name, "dense_rank"))
      continue;
    const char *name = sub->cols->names && sub->cols->names[c] ? sub->cols->names[c] : NULL;
    *n = name ? where_bound(where, name, qual) : 0;
    if (*n > 0 && !sl_plan_select_bounded(plan, sub)) return c; /* bounded: op_window */
    if (*n > 0) break;
  }
  *n = 0;
  return -1;
}

void sl_plan_note_topn(const sl_plan *plan, const sl_select *sel) {
  if (!sel->from || !sel->from->sub || sel->from->join) return;
  sl_select *sub = sel->from->sub;
  int64_t n;
  int c = topn_col(plan, sub, sel->where, sel->from->alias, &n);
  if (c >= 0) {
    sub->topn = n;
    sub->topn_col = c;
  }
}

const sl_select *sl_plan_topn_view(sl_plan *plan, const sl_select *sel) {
  const sl_call *from = sel->from;
  if (!from || from->join || !from->bare || sl_catalog_table(plan->ctx.cat, from->name)) return sel;
  const sl_stream *st = sl_catalog_stream(plan->ctx.cat, from->name);
  const char *qual = from->alias ? from->alias : from->name;
  int64_t n;
  if (!st || !st->def->select || topn_col(plan, st->def->select, sel->where, qual, &n) < 0)
    return sel;
  /* FROM (the stream's SELECT) AS qual: a copy, which note_topn marks */
  sl_select *sub = sl_arena_alloc(&plan->arena, sizeof *sub);
  *sub = *st->def->select;
  sl_call *x = sl_arena_alloc(&plan->arena, sizeof *x);
  *x = *from;
  x->bare = 0;
  x->name = "(subquery)";
  x->alias = qual;
  x->sub = sub;
  sl_select *copy = sl_arena_alloc(&plan->arena, sizeof *copy);
  *copy = *sel;
  copy->from = x;
  return copy;
}
