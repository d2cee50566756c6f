/*
** bind.c - name resolution for expressions.
**
** Walks a parsed expression and resolves column names against the input
** schema (adding fields to an open schema, which is how a schemaless JSON
** source learns which fields to decode), function names against the function
** table (checking argument counts), and collation names.  It also records,
** per node, the affinity SQLite would give the expression and whether it is
** constant.  Errors carry the line:column of the offending name.
*/
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "expr.h"
#include "model.h"
#include "parse.h"

/* Functions the compiler evaluates inline (lazily), not through a call. */
static int is_inline_func(const char *name) {
  return sl_stricmp(name, "coalesce") == 0 || sl_stricmp(name, "ifnull") == 0 ||
         sl_stricmp(name, "iif") == 0;
}

static int bind_list(sl_bind *b, sl_exprlist *l) {
  if (!l) return 0;
  for (int i = 0; i < l->n; i++)
    if (sl_bind_expr(b, l->a[i])) return -1;
  return 0;
}

static int list_const(const sl_exprlist *l) {
  if (!l) return 1;
  for (int i = 0; i < l->n; i++)
    if (!l->a[i]->is_const) return 0;
  return 1;
}

/* 1 if FROM item k of b is the one qualifier q names. */
static int tab_named(const sl_bind *b, int k, const char *q) {
  if (q[0] == '\x01') return atoi(q + 1) == k;
  return b->tabs[k].name && sl_stricmp(b->tabs[k].name, q) == 0;
}

/* A column over a FROM list (b->tabs): qualified, the named item's;
** unqualified, the one item that has it (hidden columns skipped), else a
** new field of an open schema.  0, or -1 with b->err set. */
static int bind_column_tabs(sl_bind *b, sl_expr *e) {
  size_t n = strlen(e->name);
  int found = -1, idx = -1;
  for (int k = 0; k < b->ntabs; k++) {
    const sl_bind_tab *t = &b->tabs[k];
    if (e->tab && !tab_named(b, k, e->tab)) continue;
    int c = sl_schema_find(t->schema, e->name, n);
    if (c < 0 || (!e->tab && t->hidden && t->hidden[c])) continue;
    if (found >= 0) {
      if (e->tab)
        sl_err_setpos(b->err, SL_EBIND, e->line, e->pos_col, "ambiguous column name: %s.%s", e->tab,
                      e->name);
      else
        sl_err_setpos(b->err, SL_EBIND, e->line, e->pos_col, "ambiguous column name: %s", e->name);
      return -1;
    }
    found = k;
    idx = c;
  }
  if (found < 0) { /* an open schema learns the field */
    for (int k = 0; k < b->ntabs && found < 0; k++)
      if (b->tabs[k].schema->open && (!e->tab || tab_named(b, k, e->tab))) {
        idx = sl_schema_need(b->tabs[k].schema, e->name, n);
        if (idx >= 0) found = k;
      }
  }
  if (found < 0) {
    if (e->tab && e->tab[0] != '\x01')
      sl_err_setpos(b->err, SL_EBIND, e->line, e->pos_col, "no such column: %s.%s", e->tab,
                    e->name);
    else
      sl_err_setpos(b->err, SL_EBIND, e->line, e->pos_col, "no such column: %s", e->name);
    return -1;
  }
  e->col = b->tabs[found].base + idx;
  e->aff = (uint8_t)b->tabs[found].schema->cols[idx].aff;
  e->is_const = 0;
  return 0;
}

/* e, a column of the query enclosing the subquery b binds: bound there (a
** copy, kept in b->outer->refs once per column) and read here as outer
** value k (col SL_COL_PARAM0 - k).  0, or -1 with err set. */
static int bind_outer(sl_bind *b, sl_expr *e) {
  sl_outer *o = b->outer;
  sl_expr *x = sl_malloc(sizeof *x);
  *x = *e;
  if (sl_bind_expr(o->bind, x)) {
    free(x);
    return -1;
  }
  int k = 0;
  while (k < o->n && !(o->refs[k]->col == x->col && o->refs[k]->aff == x->aff))
    k++;
  if (k == o->n) {
    o->refs = sl_realloc(o->refs, sizeof(*o->refs) * (size_t)(o->n + 1));
    o->refs[o->n++] = x;
  } else {
    free(x);
  }
  e->col = SL_COL_PARAM0 - k;
  e->aff = o->refs[k]->aff;
  e->coll = o->refs[k]->coll;
  e->is_const = 0;
  return 0;
}

static int bind_column(sl_bind *b, sl_expr *e);

/* In a subquery (b->outer set): e as a column of the subquery's own input
** when it is one (however that input resolves names), else as one of the
** enclosing query's.  0, or -1 with b->err set. */
static int bind_column_scoped(sl_bind *b, sl_expr *e) {
  sl_bind here = *b;
  sl_err err = {0};
  here.outer = NULL;
  here.err = &err;
  if (bind_column(&here, e) == 0) return 0;
  if (!err.msg || strncmp(err.msg, "no such column", 14) != 0) {
    *b->err = err; /* ambiguous, or another error of its own: the subquery's */
    return -1;
  }
  sl_err_clear(&err);
  return bind_outer(b, e);
}

static int bind_column(sl_bind *b, sl_expr *e) {
  if (b->outer) return bind_column_scoped(b, e);
  if (b->ntabs && !(b->window_cols && !e->tab &&
                    (!sl_stricmp(e->name, "window_start") || !sl_stricmp(e->name, "window_end"))))
    return bind_column_tabs(b, e);
  if (b->window_cols && !e->tab &&
      (!sl_stricmp(e->name, "window_start") || !sl_stricmp(e->name, "window_end"))) {
    e->col = sl_stricmp(e->name, "window_start") == 0 ? SL_COL_WSTART : SL_COL_WEND;
    e->aff = SL_AFF_INTEGER;
    e->is_const = 0;
    return 0;
  }
  if (b->schema2) { /* a join: the other side's columns, by qualifier or by name */
    int qual2 = e->tab && b->srcname2 && sl_stricmp(e->tab, b->srcname2) == 0;
    int t = qual2 ? sl_schema_need(b->schema2, e->name, strlen(e->name))
                  : sl_schema_find(b->schema2, e->name, strlen(e->name));
    if (qual2 && t < 0) {
      sl_err_setpos(b->err, SL_EBIND, e->line, e->pos_col, "no such column: %s.%s", e->tab,
                    e->name);
      return -1;
    }
    if (t >= 0 && !e->tab && b->schema && !b->schema->open &&
        sl_schema_find(b->schema, e->name, strlen(e->name)) >= 0) {
      sl_err_setpos(b->err, SL_EBIND, e->line, e->pos_col, "ambiguous column name: %s", e->name);
      return -1;
    }
    if (qual2 || (t >= 0 && !e->tab)) {
      e->col = t + b->base2;
      e->aff = (uint8_t)b->schema2->cols[t].aff;
      e->is_const = 0;
      return 0;
    }
  }
  if (!b->schema) {
    sl_err_setpos(b->err, SL_EBIND, e->line, e->pos_col, "no such column: %s", e->name);
    return -1;
  }
  if (e->tab && b->srcname && sl_stricmp(e->tab, b->srcname) != 0) {
    sl_err_setpos(b->err, SL_EBIND, e->line, e->pos_col, "no such column: %s.%s", e->tab, e->name);
    return -1;
  }
  int idx = sl_schema_need(b->schema, e->name, strlen(e->name));
  if (idx < 0) {
    sl_err_setpos(b->err, SL_EBIND, e->line, e->pos_col, "no such column: %s", e->name);
    return -1;
  }
  e->col = idx + b->base1;
  e->aff = (uint8_t)b->schema->cols[idx].aff;
  e->is_const = 0;
  return 0;
}

static int list_equal(const sl_exprlist *a, const sl_exprlist *b) {
  if (!a || !b) return a == b || (!a && b->n == 0) || (!b && a->n == 0);
  if (a->n != b->n) return 0;
  for (int i = 0; i < a->n; i++)
    if (!sl_expr_equal(a->a[i], b->a[i])) return 0;
  return 1;
}

static int str_equal(const char *a, const char *b) {
  return a == b || (a && b && sl_stricmp(a, b) == 0);
}

int sl_expr_equal(const sl_expr *a, const sl_expr *b) {
  if (!a || !b) return a == b;
  if (a->kind != b->kind || a->op != b->op || a->not_ != b->not_ || a->distinct != b->distinct ||
      a->star != b->star)
    return 0;
  switch (a->kind) {
  case E_COLUMN: return a->col == b->col;
  case E_INT:
  case E_INTERVAL: return a->i == b->i;
  case E_REAL: return a->r == b->r || (a->r != a->r && b->r != b->r);
  case E_STRING:
  case E_BLOB: return a->n == b->n && memcmp(a->z, b->z, (size_t)a->n) == 0;
  case E_CAST: return str_equal(a->z, b->z) && sl_expr_equal(a->left, b->left);
  default: break;
  }
  if (a->win || b->win) return a == b; /* calls over windows: each is its own */
  return a->sub == b->sub && str_equal(a->name, b->name) && sl_expr_equal(a->left, b->left) &&
         sl_expr_equal(a->right, b->right) && list_equal(a->list, b->list);
}

void sl_held_free(sl_held *h) {
  for (int i = 0; i < h->n; i++)
    sl_model_slot_release(h->a[i]);
  free(h->a);
  h->a = NULL;
  h->n = 0;
}

void sl_mcalls_free(sl_mcalls *l) {
  for (int i = 0; i < l->n; i++)
    sl_model_slot_release(l->a[i].slot);
  free(l->a);
  l->a = NULL;
  l->n = 0;
}

const char *sl_mcall_misfit(sl_mcall_mode mode, const sl_model *m) {
  switch (mode) {
  case SL_MC_LABEL:
    return m->classes && (m->out == SL_OUT_PROBA || m->out == SL_OUT_DECISION)
               ? NULL
               : "predict_label() needs a classifier";
  case SL_MC_PROBA:
  case SL_MC_PROBA1:
    return m->out == SL_OUT_PROBA ? NULL : "predict_proba() needs a classifier with probabilities";
  case SL_MC_TRANSFORM:
    return m->out == SL_OUT_TRANSFORM || m->out == SL_OUT_DISTANCE
               ? NULL
               : "transform() needs a transformer or k-means";
  case SL_MC_DECISION: return m->vt->decision ? NULL : "decision_function() needs a linear model";
  default: return NULL;
  }
}

/* The model functions, which take a model name first.  They are registered
** like every function (SHOW FUNCTIONS lists them) but never called: the
** binder sends each call to op_score, which scores a whole batch.  `user`
** holds the call's sl_mcall_mode. */
#define MODEL_FN(name, mode, doc)                                                                  \
  {                                                                                                \
    name, -3, SL_FUNC_MODEL, (void *)(uintptr_t)(mode), NULL, NULL, NULL, NULL, NULL, 0, NULL,     \
        doc, NULL, NULL, NULL                                                                      \
  }
const sl_func sl_builtin_model[] = {
    MODEL_FN("predict", SL_MC_PREDICT, "predict(M, ...): model M's prediction (also M(...))"),
    MODEL_FN("predict_label", SL_MC_LABEL, "predict_label(M, ...): a classifier's class"),
    MODEL_FN("predict_proba", SL_MC_PROBA,
             "predict_proba(M, ... [, class]): class probabilities as JSON, or one class's"),
    MODEL_FN("transform", SL_MC_TRANSFORM, "transform(M, ...): a transformer's output VECTOR"),
    MODEL_FN("decision_function", SL_MC_DECISION,
             "decision_function(M, ...): a linear model's decision values"),
    {NULL, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL, NULL, NULL, NULL},
};

/* A call of a model (m(...), predict(m, ...), ...): record it in b->mcalls
** and give e its index.  Returns 1 when e is not a model call, 0 when bound,
** -1 on error.  The feature count is checked against the current version;
** a VECTOR's length is checked per record by op_score. */
static int bind_model_call(sl_bind *b, sl_expr *e) {
  int argc = e->list ? e->list->n : 0;
  sl_expr **args = e->list ? e->list->a : NULL;
  sl_model_slot *slot = sl_catalog_model(b->cat, e->name);
  sl_mcall_mode mode = SL_MC_PREDICT;
  const char *fname = e->name;
  if (!slot) {
    const sl_func *f = sl_functab_find(b->funcs, e->name, strlen(e->name), argc, NULL);
    if (!f || !(f->flags & SL_FUNC_MODEL)) return 1;
    mode = (sl_mcall_mode)(uintptr_t)f->user;
    fname = f->name;
    if (argc < 1 || args[0]->kind != E_COLUMN || args[0]->tab ||
        !(slot = sl_catalog_model(b->cat, args[0]->name))) {
      sl_err_setpos(b->err, SL_EBIND, e->line, e->pos_col,
                    argc >= 1 && args[0]->kind == E_COLUMN
                        ? "%s(): no such model: %s"
                        : "%s(): the first argument must be a model name%s",
                    fname, argc >= 1 && args[0]->kind == E_COLUMN ? args[0]->name : "");
      return -1;
    }
    args++;
    argc--;
  }
  if ((b->in_agg && !b->agg_models) || b->in_model || e->distinct || e->right || e->star) {
    sl_err_setpos(b->err, SL_EBIND, e->line, e->pos_col,
                  b->in_agg && !b->agg_models ? "%s(): a model inside an aggregate needs GROUP BY"
                  : b->in_model ? "%s(): a model call inside another model call's arguments"
                                  " is not supported (use a named stream)"
                                : "%s(): not an aggregate",
                  fname);
    return -1;
  }
  sl_model *m = sl_model_slot_acquire(slot);
  int nf = m->n_in;
  sl_mcall mc = {slot, mode, args, argc, 0, NULL, fname, e->line, e->pos_col};
  const char *bad = NULL;
  if (mode == SL_MC_PROBA && (argc == nf + 1 || (argc == 2 && nf > 2))) {
    mc.mode = SL_MC_PROBA1;
    mc.cls = args[argc - 1];
    mc.nargs = --argc;
  }
  if (argc == nf || (nf == 0 && argc > 1)) /* nf 0: a trainable model, untrained */
    mc.vector = 0;
  else if (argc == 1)
    mc.vector = 1;
  else
    bad = "count";
  if (!bad) bad = sl_mcall_misfit(mc.mode, m);
  sl_model_release(m);
  if (bad) {
    if (!strcmp(bad, "count"))
      sl_err_setpos(b->err, SL_EBIND, e->line, e->pos_col,
                    "model %s takes %d features (or one VECTOR of them); %d given", slot->name, nf,
                    argc);
    else
      sl_err_setpos(b->err, SL_EBIND, e->line, e->pos_col, "model %s: %s", slot->name, bad);
    return -1;
  }
  b->in_model = 1;
  for (int i = 0; i < argc; i++)
    if (sl_bind_expr(b, args[i])) {
      b->in_model = 0;
      return -1;
    }
  if (mc.cls && sl_bind_expr(b, mc.cls)) {
    b->in_model = 0;
    return -1;
  }
  b->in_model = 0;
  sl_model_slot_retain(slot);
  sl_mcalls *l = b->mcalls;
  l->a = sl_realloc(l->a, sizeof(*l->a) * (size_t)(l->n + 1));
  l->a[l->n] = mc;
  e->mcall = l->n++;
  e->func = NULL;
  e->is_const = 0;
  e->aff = SL_AFF_NONE;
  return 0;
}

/* train(m, [label,] features...): the aggregate of trainable model m, in a
** grouped query (b->held); m's slot is held for the query's life. */
static int bind_train(sl_bind *b, sl_expr *e) {
  int argc = e->list ? e->list->n : 0;
  sl_expr **args = e->list ? e->list->a : NULL;
  int named = argc >= 1 && args[0]->kind == E_COLUMN && !args[0]->tab;
  sl_model_slot *slot = named && b->cat ? sl_catalog_model(b->cat, args[0]->name) : NULL;
  if (!slot) {
    sl_err_setpos(b->err, SL_EBIND, e->line, e->pos_col,
                  named ? "train(): no such model: %s"
                        : "train(): the first argument must be a model name%s",
                  named ? args[0]->name : "");
    return -1;
  }
  if (!slot->trainer) {
    sl_err_setpos(b->err, SL_EBIND, e->line, e->pos_col,
                  "train(): model %s does not learn (CREATE MODEL %s TYPE linear_sgd | "
                  "logistic_sgd | kmeans_stream makes one that does)",
                  slot->name, slot->name);
    return -1;
  }
  int nl = sl_trainer_nlabel(slot->trainer);
  if (argc < 2 + nl || e->star || e->distinct) {
    sl_err_setpos(b->err, SL_EBIND, e->line, e->pos_col, "train(%s, %sfeatures...)%s", slot->name,
                  nl ? "label, " : "", e->distinct ? ": DISTINCT is not allowed" : "");
    return -1;
  }
  if (!b->held || !b->allow_agg || b->in_agg) {
    sl_err_setpos(b->err, SL_EBIND, e->line, e->pos_col,
                  b->in_agg ? "misuse of aggregate function train()"
                            : "train() is an aggregate: it needs GROUP BY a window "
                              "(each window is one mini-batch)");
    return -1;
  }
  b->in_agg = 1;
  int rc = 0;
  for (int i = 1; i < argc && !rc; i++)
    rc = sl_bind_expr(b, args[i]);
  if (!rc && e->right) rc = sl_bind_expr(b, e->right); /* FILTER (WHERE ...) */
  b->in_agg = 0;
  if (rc) return -1;
  sl_model_slot_retain(slot);
  b->held->a = sl_realloc(b->held->a, sizeof(*b->held->a) * (size_t)(b->held->n + 1));
  b->held->a[b->held->n++] = slot;
  e->func = sl_trainer_func(slot->trainer);
  e->agg = b->naggs++;
  e->is_const = 0;
  e->aff = SL_AFF_NONE;
  return 0;
}

/* Merge into w the clauses of the named window it builds on (SQLite's
** rules: a base's PARTITION BY is taken and may not be repeated, its ORDER
** BY may not be overridden, and a base with a frame is only used as
** OVER name).  depth bounds chains of named windows.  0, or -1 with err. */
static int resolve_window(sl_bind *b, sl_window *w, int depth) {
  if (w->resolved || !w->base) {
    w->resolved = 1;
    return 0;
  }
  sl_window *base = NULL;
  for (const sl_window *n = b->windows; n && !base; n = n->next)
    if (n->name && !sl_stricmp(n->name, w->base) && n != w) base = (sl_window *)n;
  if (!base || depth > 64) {
    sl_err_setpos(b->err, SL_EBIND, w->line, w->col, "no such window: %s", w->base);
    return -1;
  }
  if (resolve_window(b, base, depth + 1)) return -1;
  int bare = !w->partition && !w->order && !w->frame.kind;
  if (w->partition && base->partition) {
    sl_err_setpos(b->err, SL_EBIND, w->line, w->col,
                  "cannot override PARTITION clause of window: %s", w->base);
    return -1;
  }
  if (w->order && base->order) {
    sl_err_setpos(b->err, SL_EBIND, w->line, w->col,
                  "cannot override ORDER BY clause of window: %s", w->base);
    return -1;
  }
  if (base->frame.kind && !bare) {
    sl_err_setpos(b->err, SL_EBIND, w->line, w->col,
                  "cannot override frame specification of window: %s", w->base);
    return -1;
  }
  if (!w->partition) w->partition = base->partition;
  if (!w->order) w->order = base->order;
  if (bare) w->frame = base->frame;
  w->resolved = 1;
  return 0;
}

/* f(args) OVER (window): a window function or an aggregate over a window,
** collected into b->wcalls; its arguments, FILTER and window bound over the
** input.  0, or -1 with err set. */
static int bind_window_call(sl_bind *b, sl_expr *e) {
  int argc = e->star ? 0 : (e->list ? e->list->n : 0);
  int known = 0;
  const sl_func *f = sl_functab_find(b->funcs, e->name, strlen(e->name), argc, &known);
  if (!f) {
    sl_err_setpos(b->err, SL_EBIND, e->line, e->pos_col,
                  known ? "wrong number of arguments to function %s()" : "no such function: %s",
                  e->name);
    return -1;
  }
  if (!(f->flags & (SL_FUNC_WINDOW | SL_FUNC_AGGREGATE)) ||
      (f->flags & (SL_FUNC_MODELARG | SL_FUNC_MODEL))) {
    sl_err_setpos(b->err, SL_EBIND, e->line, e->pos_col,
                  "%s() may not be used as a window function", e->name);
    return -1;
  }
  if (!b->wcalls || b->in_agg || b->in_window) {
    sl_err_setpos(b->err, SL_EBIND, e->line, e->pos_col, "misuse of window function %s()", e->name);
    return -1;
  }
  if (e->distinct) {
    sl_err_setpos(b->err, SL_EBIND, e->line, e->pos_col,
                  "DISTINCT is not supported for window functions");
    return -1;
  }
  if (e->right && (f->flags & SL_FUNC_WINDOW)) {
    sl_err_setpos(b->err, SL_EBIND, e->line, e->pos_col,
                  "FILTER clause may only be used with aggregate window functions");
    return -1;
  }
  if (e->star && !(f->flags & SL_FUNC_COUNTSTAR)) {
    sl_err_setpos(b->err, SL_EBIND, e->line, e->pos_col, "%s(*) is not allowed", e->name);
    return -1;
  }
  if (resolve_window(b, e->win, 0)) return -1;
  e->func = f;
  b->in_window = 1;
  int allow = b->allow_agg;
  b->allow_agg = 0;
  int rc = bind_list(b, e->list);
  if (!rc && e->right) rc = sl_bind_expr(b, e->right);
  if (!rc) rc = bind_list(b, e->win->partition);
  for (int i = 0; !rc && e->win->order && i < e->win->order->n; i++)
    rc = sl_bind_expr(b, e->win->order->a[i].e);
  if (!rc) rc = sl_bind_expr(b, e->win->frame.start.n);
  if (!rc) rc = sl_bind_expr(b, e->win->frame.end.n);
  b->allow_agg = allow;
  b->in_window = 0;
  if (rc) return -1;
  e->agg = -1;
  e->wcall = b->wcalls->n;
  b->wcalls->a = sl_realloc(b->wcalls->a, sizeof(sl_expr *) * (size_t)(b->wcalls->n + 1));
  b->wcalls->a[b->wcalls->n++] = e;
  e->is_const = 0;
  e->aff = SL_AFF_NONE;
  return 0;
}

static int bind_call(sl_bind *b, sl_expr *e) {
  int argc = e->star ? 0 : (e->list ? e->list->n : 0);
  if (e->list)
    for (int i = 0; i < e->list->n; i++)
      if (e->list->a[i]->kind == E_OPTION) {
        sl_err_setpos(b->err, SL_EBIND, e->list->a[i]->line, e->list->a[i]->pos_col,
                      "named argument %s => is only allowed in source and sink calls",
                      e->list->a[i]->name);
        return -1;
      }
  e->bcall = -1;
  e->wcall = -1;
  if (e->win) return bind_window_call(b, e);
  if (sl_stricmp(e->name, "train") == 0) return bind_train(b, e);
  if (b->cat) {
    int r = bind_model_call(b, e);
    if (r <= 0) return r;
  }
  if (is_inline_func(e->name)) {
    int want_min = sl_stricmp(e->name, "coalesce") == 0 ? 2
                   : sl_stricmp(e->name, "iif") == 0    ? 3
                                                        : 2;
    int want_max = sl_stricmp(e->name, "coalesce") == 0 ? 1 << 20 : want_min;
    if (argc < want_min || argc > want_max) {
      sl_err_setpos(b->err, SL_EBIND, e->line, e->pos_col,
                    "wrong number of arguments to function %s()", e->name);
      return -1;
    }
    if (bind_list(b, e->list)) return -1;
    e->is_const = (uint8_t)list_const(e->list);
    e->aff = SL_AFF_NONE;
    return 0;
  }
  int known = 0;
  const sl_func *f = sl_functab_find(b->funcs, e->name, strlen(e->name), argc, &known);
  if (!f && e->star && !known) f = NULL;
  if (!f) {
    if (known)
      sl_err_setpos(b->err, SL_EBIND, e->line, e->pos_col,
                    "wrong number of arguments to function %s()", e->name);
    else
      sl_err_setpos(b->err, SL_EBIND, e->line, e->pos_col, "no such function: %s", e->name);
    return -1;
  }
  if (f->flags & SL_FUNC_MODEL) {
    sl_err_setpos(b->err, SL_EBIND, e->line, e->pos_col,
                  "%s(): model functions are not allowed here", e->name);
    return -1;
  }
  if (f->flags & SL_FUNC_WINDOW) {
    sl_err_setpos(b->err, SL_EBIND, e->line, e->pos_col, "misuse of window function %s()", e->name);
    return -1;
  }
  if (e->star && !(f->flags & SL_FUNC_COUNTSTAR) && !(f->flags & SL_FUNC_AGGREGATE && argc == 0)) {
    sl_err_setpos(b->err, SL_EBIND, e->line, e->pos_col, "%s(*) is not allowed", e->name);
    return -1;
  }
  e->func = f;
  if (f->flags & SL_FUNC_AGGREGATE) {
    if (b->in_agg) {
      sl_err_setpos(b->err, SL_EBIND, e->line, e->pos_col, "misuse of aggregate function %s()",
                    e->name);
      return -1;
    }
    if (!b->allow_agg) {
      sl_err_setpos(b->err, SL_EBIND, e->line, e->pos_col, "misuse of aggregate: %s()", e->name);
      return -1;
    }
    b->in_agg = 1;
    int rc = bind_list(b, e->list);
    if (!rc && e->right) rc = sl_bind_expr(b, e->right); /* FILTER (WHERE ...) */
    b->in_agg = 0;
    if (rc) return -1;
    e->agg = b->naggs++;
    e->is_const = 0;
    e->aff = SL_AFF_NONE;
    return 0;
  }
  if (e->distinct || e->right) {
    sl_err_setpos(b->err, SL_EBIND, e->line, e->pos_col, "%s is not an aggregate function",
                  e->name);
    return -1;
  }
  if (bind_list(b, e->list)) return -1;
  e->is_const = (uint8_t)((f->flags & SL_FUNC_DETERMINISTIC) && list_const(e->list));
  /* likely()/unlikely()/likelihood() keep their argument's affinity, as in SQLite. */
  if (e->list && e->list->n >= 1 &&
      (sl_stricmp(e->name, "likely") == 0 || sl_stricmp(e->name, "unlikely") == 0 ||
       sl_stricmp(e->name, "likelihood") == 0))
    e->aff = e->list->a[0]->aff;
  else
    e->aff = SL_AFF_NONE;
  return 0;
}

int sl_bind_expr(sl_bind *b, sl_expr *e) {
  if (!e) return 0;
  switch (e->kind) {
  case E_NULL:
  case E_INT:
  case E_REAL:
  case E_STRING:
  case E_BLOB:
  case E_INTERVAL:
    e->is_const = 1;
    e->aff = SL_AFF_NONE;
    return 0;
  case E_COLUMN: return bind_column(b, e);
  case E_STAR:
    sl_err_setpos(b->err, SL_EBIND, e->line, e->pos_col, "* is only allowed in a select list");
    return -1;
  case E_OPTION:
    sl_err_setpos(b->err, SL_EBIND, e->line, e->pos_col, "unexpected named argument %s =>",
                  e->name);
    return -1;
  case E_CALL: return bind_call(b, e);
  case E_SUBQUERY:
    if (!b->plan_subq) {
      sl_err_setpos(b->err, SL_EBIND, e->line, e->pos_col, "a subquery is not allowed here");
      return -1;
    }
    e->is_const = 0;
    return b->plan_subq(b->subq_ud, b, e);
  case E_CAST:
    if (sl_bind_expr(b, e->left)) return -1;
    e->aff = (uint8_t)sl_affinity_of_typename(e->z, strlen(e->z));
    e->is_const = e->left->is_const;
    return 0;
  case E_COLLATE: {
    if (sl_bind_expr(b, e->left)) return -1;
    if (sl_stricmp(e->name, "binary") == 0)
      e->coll = SL_COLL_BINARY;
    else if (sl_stricmp(e->name, "nocase") == 0)
      e->coll = SL_COLL_NOCASE;
    else if (sl_stricmp(e->name, "rtrim") == 0)
      e->coll = SL_COLL_RTRIM;
    else {
      sl_err_setpos(b->err, SL_EBIND, e->line, e->pos_col, "no such collation sequence: %s",
                    e->name);
      return -1;
    }
    e->has_coll = 1;
    e->aff = e->left->aff;
    e->is_const = e->left->is_const;
    return 0;
  }
  default: break;
  }
  /* Operators: bind the operands, then work out affinity and constness. */
  if (sl_bind_expr(b, e->left) || sl_bind_expr(b, e->right) || bind_list(b, e->list)) return -1;
  e->is_const = (uint8_t)((!e->left || e->left->is_const) && (!e->right || e->right->is_const) &&
                          list_const(e->list));
  e->aff = SL_AFF_NONE;
  if (e->kind == E_BINARY && (e->op == TK_PTR)) {
    int known = 0;
    const char *fname = e->n == 3 ? "->>" : "->";
    e->func = sl_functab_find(b->funcs, fname, strlen(fname), 2, &known);
    if (!e->func) {
      sl_err_setpos(b->err, SL_EBIND, e->line, e->pos_col, "no such function: %s", fname);
      return -1;
    }
  }
  if (e->kind == E_LIKE) {
    const char *fname = e->name;
    int argc = e->list ? 3 : 2;
    int known = 0;
    e->func = sl_functab_find(b->funcs, fname, strlen(fname), argc, &known);
    if (!e->func) {
      sl_err_setpos(b->err, SL_EBIND, e->line, e->pos_col, "no such function: %s", fname);
      return -1;
    }
    e->is_const = (uint8_t)(e->is_const && (e->func->flags & SL_FUNC_DETERMINISTIC));
  }
  return 0;
}

static int is_numeric_aff(int a) {
  return a >= SL_AFF_NUMERIC;
}

sl_affinity sl_compare_affinity(const sl_expr *l, const sl_expr *r) {
  int a1 = l->aff, a2 = r->aff;
  if (a1 > SL_AFF_NONE && a2 > SL_AFF_NONE) {
    if (is_numeric_aff(a1) || is_numeric_aff(a2)) return SL_AFF_NUMERIC;
    return SL_AFF_NONE;
  }
  return (sl_affinity)(a1 > SL_AFF_NONE ? a1 : a2);
}

/* The collation explicitly attached to e (through COLLATE), if any. */
static int explicit_coll(const sl_expr *e, sl_coll *out) {
  while (e) {
    if (e->kind == E_COLLATE) {
      *out = (sl_coll)e->coll;
      return 1;
    }
    if (e->kind == E_CAST || (e->kind == E_UNARY && e->op == TK_PLUS))
      e = e->left;
    else
      break;
  }
  return 0;
}

sl_coll sl_compare_coll(const sl_expr *l, const sl_expr *r) {
  sl_coll c;
  if (explicit_coll(l, &c)) return c;
  if (explicit_coll(r, &c)) return c;
  return SL_COLL_BINARY;
}
