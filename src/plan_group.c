/*
** plan_group.c - planning GROUP BY (plan_int.h): keys and an optional
** TUMBLE, HOP or SESSION window, bound and compiled into op_aggregate's two
** programs: the "step" program per input row (WHERE, keys, event time, each
** aggregate's arguments and FILTER) and the "output" program per group row
** (HAVING and the select list over [keys, window_start, window_end,
** aggregate values]).  Model calls anywhere go to an op_score before it.
*/
#include <stdlib.h>
#include <string.h>

#include "op_aggregate.h"
#include "plan_int.h"
#include "vm.h"

/* 1 if g is a window call of GROUP BY. */
static int is_window(const sl_expr *g) {
  return g->kind == E_CALL && (!sl_stricmp(g->name, "tumble") || !sl_stricmp(g->name, "hop") ||
                               !sl_stricmp(g->name, "session"));
}

/* 1 when name is a column of the query's input (either side of a join). */
static int input_column(const sl_input *in, const char *name) {
  size_t n = strlen(name);
  return (in->schema && sl_schema_find(in->schema, name, n) >= 0) ||
         (in->schema2 && sl_schema_find(in->schema2, name, n) >= 0);
}

/* GROUP BY's terms: keys (keys->a owned by the caller) and the window
** (*win, or NULL).  A term that is an ordinal (GROUP BY 1) or the alias of
** a result column of cols (and not an input column's name: that wins, as
** in SQLite) stands for that column's expression.  0, or -1 with err set. */
static int split_group(const sl_select *sel, const sl_input *in, const sl_exprlist *cols, int nvis,
                       sl_exprlist *keys, sl_expr **win, sl_err *err) {
  *win = NULL;
  for (int i = 0; sel->group && i < sel->group->n; i++) {
    sl_expr *g = sel->group->a[i];
    int col = -1;
    if (g->kind == E_COLUMN && !g->tab && input_column(in, g->name)) {
      /* an input column */
    } else if (sl_plan_result_column(cols, nvis, g, "GROUP BY", i, &col, err)) {
      return -1;
    } else if (col >= 0) {
      g = cols->a[col];
    }
    if (is_window(g)) {
      if (*win) {
        sl_err_setpos(err, SL_EBIND, g->line, g->pos_col, "GROUP BY has one window at most");
        return -1;
      }
      *win = g;
      continue;
    }
    keys->a = sl_realloc(keys->a, sizeof(sl_expr *) * (size_t)(keys->n + 1));
    keys->a[keys->n++] = g;
  }
  return 0;
}

/* The most windows a HOP puts one row in (size / slide): more would make a
** row's step a long loop. */
#define SL_HOP_MAX 100000

/* A window size or slide: an INTERVAL or a number of milliseconds. */
static int window_ms(sl_expr *e, int64_t *ms, sl_err *err) {
  if (e->kind == E_INTERVAL || e->kind == E_INT) {
    *ms = e->i;
    if (*ms > 0 && *ms <= SL_SPAN_LIMIT) return 0;
  }
  sl_err_setpos(err, SL_EBIND, e->line, e->pos_col,
                "a window size must be a positive INTERVAL (or milliseconds) of at most about "
                "31,000 years");
  return -1;
}

/* The window win into spec: its kind, time (bound with b), size, slide,
** lateness and idle timeout.  0, or -1 with err set. */
static int plan_window(const sl_plan *plan, const sl_select *sel, const sl_input *in, sl_bind *b,
                       sl_expr *win, sl_agg_spec *spec, sl_err *err) {
  int n = win->list ? win->list->n : 0;
  int hop = !sl_stricmp(win->name, "hop");
  int session = !sl_stricmp(win->name, "session");
  if (n != (hop ? 3 : 2)) {
    sl_err_setpos(err, SL_EBIND, win->line, win->pos_col, "%s(time, %s)",
                  hop       ? "HOP"
                  : session ? "SESSION"
                            : "TUMBLE",
                  hop       ? "slide, size"
                  : session ? "gap"
                            : "size");
    return -1;
  }
  if (session && sel->emit_changes) {
    sl_err_setpos(err, SL_EBIND, win->line, win->pos_col,
                  "SESSION windows emit on close (EMIT CHANGES is not supported for them)");
    return -1;
  }
  sl_expr *te = win->list->a[0];
  int noargs = te->kind == E_CALL && (!te->list || !te->list->n);
  if (noargs && !sl_stricmp(te->name, "proctime"))
    spec->proctime = 1; /* the task's clock, not an expression */
  else if (noargs && !sl_stricmp(te->name, "rowtime"))
    spec->rowtime = 1; /* the record's own timestamp (Kafka) */
  else if (sl_bind_expr(b, te))
    return -1;
  else if (te->kind == E_COLUMN && te->col == in->proctime1 - 1)
    spec->proctime = 1; /* a stream's PROCTIME() column: processing time, as Flink's */
  if (window_ms(win->list->a[1], hop ? &spec->slide : &spec->size, err)) return -1;
  if (hop && window_ms(win->list->a[2], &spec->size, err)) return -1;
  if (!hop) spec->slide = spec->size;
  if (spec->size % spec->slide) {
    sl_err_setpos(err, SL_EBIND, win->line, win->pos_col,
                  "HOP: the size must be a multiple of the slide");
    return -1;
  }
  if (spec->size / spec->slide > SL_HOP_MAX) {
    sl_err_setpos(err, SL_EBIND, win->line, win->pos_col,
                  "HOP: at most %d windows per row (the size over the slide)", SL_HOP_MAX);
    return -1;
  }
  spec->wkind = hop ? SL_WIN_HOP : session ? SL_WIN_SESSION : SL_WIN_TUMBLE;
  spec->lateness = spec->proctime ? 0 : in->lateness;
  spec->idle_ms = sl_setting_int(plan->ctx.cat, SL_SET_IDLE_TIMEOUT);
  return 0;
}

/* Collect the aggregate calls of e by their index (e->agg). */
static void collect_aggs(sl_expr *e, sl_expr **aggs) {
  if (!e) return;
  if (e->kind == E_CALL && e->agg >= 0) {
    aggs[e->agg] = e;
    return;
  }
  collect_aggs(e->left, aggs);
  collect_aggs(e->right, aggs);
  if (e->list)
    for (int i = 0; i < e->list->n; i++)
      collect_aggs(e->list->a[i], aggs);
}

/* Arguments an aggregate call passes (train(m, ...) does not pass m). */
static int agg_nargs(const sl_expr *e) {
  int n = e->star || !e->list ? 0 : e->list->n;
  return e->func->flags & SL_FUNC_MODELARG ? n - 1 : n;
}

/* Aggregate a of the step program: its descriptor, arguments from register
** *off on (then its FILTER's), compiled with sc. */
static int step_agg(sl_compiler *sc, sl_expr *e, sl_agg_call *ac, int retract, int *off,
                    sl_err *err) {
  /* what the aggregate must be able to do: take rows back (xInverse) over
  ** an updating input; else the cheaper form that never removes a row (a
  ** running min/max keeps one value where the inverse needs every one) */
  ac->func = retract ? e->func : sl_agg_no_inverse(e->func);
  /* group_concat's inverse removes the oldest row (a sliding frame's) */
  if (retract && (!e->func->xInverse || !sl_stricmp(e->func->name, "group_concat"))) {
    sl_err_setpos(err, SL_EBIND, e->line, e->pos_col,
                  "%s() cannot take a row back, so it cannot read an updating input (a "
                  "changelog: EMIT CHANGES, a GROUP BY without a window, changelog => 'op' or "
                  "'upsert')%s",
                  e->func->name,
                  !sl_stricmp(e->func->name, "any_value")
                      ? "; a column neither grouped nor aggregated is any_value(): group by it"
                      : "");
    return -1;
  }
  ac->nargs = agg_nargs(e);
  int skip = e->func->flags & SL_FUNC_MODELARG ? 1 : 0; /* train(m, ...): m is bound */
  ac->arg_reg = *off;
  ac->distinct = e->distinct;
  ac->coll = ac->nargs ? sl_compare_coll(e->list->a[0], e->list->a[0]) : SL_COLL_BINARY;
  if (ac->distinct && ac->nargs != 1) {
    sl_err_setpos(err, SL_EBIND, e->line, e->pos_col, "DISTINCT aggregates take one argument");
    return -1;
  }
  for (int k = 0; k < ac->nargs; k++)
    if (sl_expr_code(sc, e->list->a[k + skip], *off + k)) return -1;
  *off += ac->nargs;
  ac->filter_reg = -1;
  if (e->right) {
    if (sl_expr_code(sc, e->right, *off)) return -1;
    ac->filter_reg = (*off)++;
  }
  return 0;
}

/* The start of a per-row program in sc: WHERE into a register of its own
** (when there is one) and the nk keys into res...  The index of the jump
** WHERE takes when false (-1: no WHERE), or -2 with err set. */
static int code_where_keys(sl_compiler *sc, sl_expr *where, const sl_exprlist *keys, int res) {
  int fj = -1;
  if (where) {
    int w = sl_reg_alloc(sc, 1);
    if (sl_expr_code(sc, where, w)) return -2;
    fj = sl_program_add(sc->prog, OP_IfNot, w, 0, 1);
  }
  for (int i = 0; i < keys->n; i++)
    if (sl_expr_code(sc, keys->a[i], res + i)) return -2;
  return fj;
}

/* The end of a per-row program pg: its n results from res, then the Halt
** that WHERE's jump fj (-1: none) lands on when it skips the row. */
static void end_row_program(sl_program *pg, int res, int n, int fj) {
  sl_program_add(pg, OP_Result, res, n, 0);
  if (fj >= 0) {
    pg->ops[fj].p2 = pg->nop;
    sl_program_add(pg, OP_Halt, 1, 0, 0);
  }
  sl_program_finish(pg);
}

/* The route program: per input row WHERE (skips), the group keys and, for
** event-time windows on a column or expression, the event time (what the
** exchange of parallel tasks sends the row by and tells every lane of
** its input's progress: op_exchange.c).  0, or -1 with err set. */
static int route_program(sl_agg_spec *spec, sl_expr *where, const sl_exprlist *keys,
                         const sl_expr *win, int ncol_in, sl_err *err) {
  spec->route = sl_program_new();
  sl_compiler sc = {spec->route, 0, err, 0, ncol_in, NULL, 0, 0};
  spec->route_ts = win && !spec->proctime && !spec->rowtime;
  int n = keys->n + spec->route_ts;
  int res = sl_reg_alloc(&sc, n);
  spec->route->result_reg = res;
  spec->route->nresult = n;
  int fj = code_where_keys(&sc, where, keys, res);
  if (fj == -2) return -1;
  if (spec->route_ts && sl_expr_code(&sc, win->list->a[0], res + keys->n)) return -1;
  end_row_program(spec->route, res, n, fj);
  return 0;
}

/* The step program: per input row WHERE (skips), keys, event time (win's),
** each aggregate's arguments and FILTER.  0, or -1 with err set. */
static int step_program(sl_agg_spec *spec, sl_expr *where, const sl_exprlist *keys, sl_expr *win,
                        sl_expr **aggs, int ncol_in, sl_err *err) {
  int retract = spec->retract;
  spec->step = sl_program_new();
  sl_compiler sc = {spec->step, 0, err, 0, ncol_in, NULL, 0, 0};
  int total = keys->n + 1;
  for (int a = 0; a < spec->naggs; a++)
    total += agg_nargs(aggs[a]) + (aggs[a]->right != NULL);
  int res = sl_reg_alloc(&sc, total);
  spec->step->result_reg = res;
  spec->step->nresult = total;
  spec->key_reg = res;
  spec->nkeys = keys->n;
  int fj = code_where_keys(&sc, where, keys, res);
  if (fj == -2) return -1;
  spec->ts_reg = res + keys->n;
  if (win && !spec->proctime && !spec->rowtime && sl_expr_code(&sc, win->list->a[0], spec->ts_reg))
    return -1;
  spec->aggs = sl_calloc((size_t)(spec->naggs ? spec->naggs : 1), sizeof(sl_agg_call));
  int off = res + keys->n + 1;
  for (int a = 0; a < spec->naggs; a++) {
    if (step_agg(&sc, aggs[a], &spec->aggs[a], retract, &off, err)) return -1;
    spec->has_distinct |= spec->aggs[a].distinct;
  }
  end_row_program(spec->step, res, total, fj);
  return keys->n ? route_program(spec, where, keys, win, ncol_in, err) : 0;
}

/* The output program: per group row HAVING (skips) and the select list. */
static int out_program(sl_agg_spec *spec, sl_expr *having, const sl_exprlist *keys,
                       const sl_exprlist *cols, sl_err *err) {
  spec->out = sl_program_new();
  sl_compiler oc = {spec->out, 0, err, 0, 0, keys, 1, 0};
  int ores = sl_reg_alloc(&oc, cols->n ? cols->n : 1);
  spec->out->result_reg = ores;
  spec->out->nresult = cols->n;
  int hj = -1;
  if (having) {
    int h = sl_reg_alloc(&oc, 1);
    if (sl_expr_code(&oc, having, h)) return -1;
    hj = sl_program_add(spec->out, OP_IfNot, h, 0, 1);
  }
  for (int i = 0; i < cols->n; i++)
    if (sl_expr_code(&oc, cols->a[i], ores + i)) return -1;
  sl_program_add(spec->out, OP_Result, ores, cols->n, 0);
  if (hj >= 0) {
    spec->out->ops[hj].p2 = spec->out->nop;
    sl_program_add(spec->out, OP_Halt, 1, 0, 0);
  }
  sl_program_finish(spec->out);
  spec->ncol = cols->n;
  return 0;
}

/* SQLite's bare columns: a column of a grouped query's select list or
** HAVING (ORDER BY's hidden columns are in the list) that is neither a
** GROUP BY key nor inside an aggregate is the value of some row of the
** group: SQLite 3.40's first, or the row of the query's one max() or min()
** (mm).  Over bound expressions (ba, the aggregates' binder): a node equal
** to a key is grouped; a bare column becomes any_value(column), or
** max_by/min_by(column, c) next to max(c)/min(c), bound as one more
** aggregate.  Window bounds, outer values of a subquery and nested queries
** are left alone.  0, or -1 with err set. */
static int bare_columns(sl_bind *ba, const sl_exprlist *keys, const sl_expr *mm, sl_expr *e,
                        sl_arena *arena) {
  if (!e || e->kind == E_SUBQUERY || (e->kind == E_CALL && e->agg >= 0)) return 0;
  for (int i = 0; i < keys->n; i++)
    if (sl_expr_equal(e, keys->a[i])) return 0;
  if (e->kind == E_COLUMN) {
    if (e->col < 0) return 0; /* window_start/end, an enclosing query's value */
    sl_expr *x = sl_arena_alloc(arena, sizeof *x);
    *x = *e;
    sl_exprlist *l = sl_arena_alloc(arena, sizeof *l);
    memset(l, 0, sizeof *l);
    l->a = sl_arena_alloc(arena, 2 * sizeof(*l->a));
    l->a[0] = x;
    l->n = l->cap = 1;
    e->kind = E_CALL;
    e->name = "any_value";
    if (mm) {
      sl_expr *y = sl_arena_alloc(arena, sizeof *y);
      *y = *mm->list->a[0];
      l->a[l->n++] = y;
      l->cap = 2;
      e->name = sl_stricmp(mm->name, "max") ? "min_by" : "max_by";
    }
    e->tab = NULL;
    e->list = l;
    e->height = x->height + 1;
    e->func = NULL;
    e->agg = e->mcall = e->bcall = -1; /* (the span stays: the result column's name) */
    return sl_bind_expr(ba, e);
  }
  if (bare_columns(ba, keys, mm, e->left, arena) || bare_columns(ba, keys, mm, e->right, arena))
    return -1;
  for (int i = 0; e->list && i < e->list->n; i++)
    if (bare_columns(ba, keys, mm, e->list->a[i], arena)) return -1;
  return 0;
}

/* The aggregate calls of bound e (not of nested queries): how many, into
** *n, and the last in *last. */
static void count_aggs(const sl_expr *e, int *n, const sl_expr **last) {
  if (!e || e->kind == E_SUBQUERY) return;
  if (e->kind == E_CALL && e->agg >= 0) {
    ++*n;
    *last = e;
    return;
  }
  count_aggs(e->left, n, last);
  count_aggs(e->right, n, last);
  for (int i = 0; e->list && i < e->list->n; i++)
    count_aggs(e->list->a[i], n, last);
}

/* The query's only aggregate when it is max(c) or min(c) of a column c
** (SQLite's bare columns then take the row of that extreme), else NULL. */
static const sl_expr *only_minmax(const sl_select *sel, const sl_exprlist *cols) {
  int n = 0;
  const sl_expr *last = NULL;
  for (int i = 0; i < cols->n; i++)
    count_aggs(cols->a[i], &n, &last);
  count_aggs(sel->having, &n, &last);
  if (n != 1 || (sl_stricmp(last->name, "max") && sl_stricmp(last->name, "min")) || !last->list ||
      last->list->n != 1 || last->list->a[0]->kind != E_COLUMN || last->distinct || last->right)
    return NULL;
  return last;
}

/* Bind keys, window, WHERE, the select list and HAVING with b (model calls
** and held models collected there), and collect the aggregates into
** *aggs (owned by the caller).  0, or -1 with err set. */
static int bind_grouped(const sl_plan *plan, const sl_select *sel, const sl_input *in, sl_bind *b,
                        const sl_exprlist *keys, sl_expr *win, sl_exprlist *cols, sl_agg_spec *spec,
                        sl_expr ***aggs, sl_err *err) {
  for (int i = 0; i < keys->n; i++)
    if (sl_bind_expr(b, keys->a[i])) return -1;
  if (win && plan_window(plan, sel, in, b, win, spec, err)) return -1;
  if (sel->where) {
    sl_bind bw = *b;
    if (sl_bind_expr(&bw, sel->where)) return -1;
  }
  sl_bind ba = *b;
  ba.allow_agg = 1;
  ba.window_cols = win != NULL;
  for (int i = 0; i < cols->n; i++)
    if (sl_bind_expr(&ba, cols->a[i])) return -1;
  if (sel->having && sl_bind_expr(&ba, sel->having)) return -1;
  if (!win) { /* bare columns as SQLite (a window's rows are strict, as Flink's) */
    const sl_expr *mm = only_minmax(sel, cols);
    sl_arena *arena = (sl_arena *)&plan->arena;
    for (int i = 0; i < cols->n; i++)
      if (bare_columns(&ba, keys, mm, cols->a[i], arena)) return -1;
    if (bare_columns(&ba, keys, mm, sel->having, arena)) return -1;
  }
  spec->naggs = ba.naggs;
  *aggs = sl_calloc((size_t)(spec->naggs ? spec->naggs : 1), sizeof(sl_expr *));
  for (int i = 0; i < cols->n; i++)
    collect_aggs(cols->a[i], *aggs);
  collect_aggs(sel->having, *aggs);
  for (int a = 0; a < spec->naggs; a++)
    if ((*aggs)[a]->func->flags & SL_FUNC_MODELARG && (!win || sel->emit_changes)) {
      sl_err_setpos(err, SL_EBIND, (*aggs)[a]->line, (*aggs)[a]->pos_col,
                    "%s() learns once per window: it needs GROUP BY a TUMBLE, HOP or SESSION "
                    "window and EMIT ON CLOSE",
                    (*aggs)[a]->name);
      return -1;
    }
  return 0;
}

int sl_plan_bounded(const sl_plan *plan, const sl_pquery *q) {
  if (q->source < 0 || !plan->sources[q->source]->desc->bounded) return 0;
  return q->source2 < 0 || plan->sources[q->source2]->desc->bounded;
}

/* 1 when e calls an aggregate function (not inside a nested query). */
static int has_agg(const sl_functab *funcs, const sl_expr *e) {
  if (!e) return 0;
  if (e->kind == E_CALL && e->win) return 0; /* f(...) OVER (...): a window call */
  if (e->kind == E_CALL && e->name) {
    int argc = e->star || !e->list ? 0 : e->list->n;
    const sl_func *f = sl_functab_find(funcs, e->name, strlen(e->name), argc, NULL);
    if (f && f->flags & SL_FUNC_AGGREGATE) return 1;
  }
  if (has_agg(funcs, e->left) || has_agg(funcs, e->right)) return 1;
  for (int i = 0; e->list && i < e->list->n; i++)
    if (has_agg(funcs, e->list->a[i])) return 1;
  return 0;
}

int sl_plan_is_aggregate(const sl_plan *plan, const sl_select *sel, const sl_exprlist *cols) {
  if (sel->group) return 0;
  if (sel->having) return 1; /* HAVING makes an aggregate query (as SQLite) */
  for (int i = 0; i < cols->n; i++)
    if (has_agg(plan->ctx.cat->funcs, cols->a[i])) return 1;
  return 0;
}

/* A changelog's key as its sink writes upserts: the result columns that are
** the GROUP BY keys (and window_start or window_end of a window) into
** q->key_cols; none when one of them is not a result column. */
static void upsert_key(sl_pquery *q, const sl_exprlist *keys, const sl_expr *win,
                       const sl_exprlist *cols, int nvis) {
  int n = keys->n + (win != NULL);
  int *kc = sl_calloc((size_t)(n ? n : 1), sizeof(int));
  for (int i = 0; i < n; i++) {
    kc[i] = -1;
    for (int c = 0; c < nvis && kc[i] < 0; c++) {
      const sl_expr *e = cols->a[c];
      if (i < keys->n
              ? sl_expr_equal(e, keys->a[i])
              : e->kind == E_COLUMN && e->name &&
                    (!sl_stricmp(e->name, "window_start") || !sl_stricmp(e->name, "window_end")))
        kc[i] = c;
    }
    if (kc[i] < 0) {
      free(kc);
      return;
    }
  }
  free(q->key_cols);
  q->key_cols = kc;
  q->nkey_cols = n;
}

int sl_plan_grouped(sl_plan *plan, const sl_select *sel, sl_pquery *q, sl_input *in,
                    sl_exprlist *cols, int nvis, sl_err *err) {
  sl_agg_spec *spec = sl_calloc(1, sizeof *spec);
  sl_exprlist keys = {0, 0, NULL, NULL, NULL};
  sl_expr *win = NULL, **aggs = NULL;
  sl_mcalls mcalls = {0};
  sl_held held = {0};
  int rc = -1;
  if (split_group(sel, in, cols, nvis, &keys, &win, err)) goto done;
  /* model calls anywhere (op_score runs first and appends their results);
  ** train() holds its model's slot for the operator's life */
  sl_bind b = sl_plan_binder(plan, in, err);
  b.cat = plan->ctx.cat;
  b.mcalls = &mcalls;
  b.agg_models = 1;
  b.held = &held;
  if (bind_grouped(plan, sel, in, &b, &keys, win, cols, spec, &aggs, err)) goto done;
  /* an updating input: the rows it takes back leave their groups (xInverse);
  ** a window gives its rows once, when it closes, and could not take them
  ** back when a take-back comes after that */
  spec->retract = in->changes == SL_UPDATING;
  if (win && sl_plan_append_only(in->changes, "a window (TUMBLE, HOP, SESSION)",
                                 "a closed window's rows are final; group the changelog without "
                                 "a window",
                                 win->line, win->pos_col, err))
    goto done;
  int ncol_in = sl_plan_input_width(in);
  if (mcalls.n && sl_plan_score(plan, q, &mcalls, NULL, ncol_in, 0, err)) goto done;
  if (step_program(spec, sel->where, &keys, win, aggs, ncol_in, err) ||
      out_program(spec, sel->having, &keys, cols, err))
    goto done;
  /* without a window: final rows at the end of a bounded input, else a
  ** running changelog (each batch's changed groups) */
  spec->emit_changes = sel->emit_changes || (!win && !sl_plan_bounded(plan, q));
  spec->one_row = !sel->group;
  /* a running GROUP BY's output is a changelog (+I, -U/+U, -D per group) */
  q->changes = spec->emit_changes ? SL_UPDATING : SL_APPEND_ONLY;
  spec->before_rows = spec->emit_changes; /* plan_output may clear it */
  if (spec->emit_changes) upsert_key(q, &keys, win, cols, nvis);
  for (int i = 0; i < keys.n; i++) {
    sl_coll c = sl_compare_coll(keys.a[i], keys.a[i]);
    if (c != SL_COLL_BINARY && !spec->key_colls)
      spec->key_colls = sl_calloc((size_t)keys.n, sizeof(sl_coll));
    if (spec->key_colls) spec->key_colls[i] = c;
  }
  spec->flush_per_window = win && sel->order;
  sl_plan_set_columns(q, cols);
  spec->held = held.a;
  spec->nheld = held.n;
  memset(&held, 0, sizeof held);
  sl_plan_add_op(q, &sl_op_aggregate, spec);
  spec = NULL;
  rc = 0;
done:
  sl_mcalls_free(&mcalls);
  sl_held_free(&held);
  if (spec) sl_op_aggregate.free_spec(spec);
  free(aggs);
  free(keys.a);
  return rc;
}
