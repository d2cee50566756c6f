/*
** ast.c - builders for the syntax tree, called from the grammar's actions.
**
** Every node is allocated in the parse context's arena (see ast.h).  The
** builders also record each expression's source span, used for the default
** names of result columns (SELECT a+1 -> column "a+1", as in SQLite).
*/
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ast.h"
#include "value.h"
#include "parse.h"

static void *node(sl_parse *p, size_t n) {
  void *x = sl_arena_alloc(&p->arena, n);
  memset(x, 0, n);
  return x;
}

sl_expr *sl_expr_new(sl_parse *p, int kind, const sl_token *at) {
  sl_expr *e = node(p, sizeof *e);
  e->kind = (uint8_t)kind;
  e->height = 1;
  e->agg = -1;
  e->mcall = -1;
  e->bcall = -1;
  e->wcall = -1;
  e->col = -1;
  if (at) {
    e->line = at->line;
    e->pos_col = at->col;
    e->span = at->z;
    e->spanlen = at->n;
  }
  return e;
}

void sl_expr_span(sl_parse *p, sl_expr *e, const char *start, const char *end) {
  (void)p;
  if (!start || !end || end < start) return;
  e->span = start;
  e->spanlen = (int)(end - start);
}

void sl_expr_height(sl_parse *p, sl_expr *e) {
  int h = 0;
  if (e->left && e->left->height > h) h = e->left->height;
  if (e->right && e->right->height > h) h = e->right->height;
  if (e->list)
    for (int i = 0; i < e->list->n; i++)
      if (e->list->a[i] && e->list->a[i]->height > h) h = e->list->a[i]->height;
  e->height = h + 1;
  if (e->height > SL_MAX_EXPR_DEPTH && !p->err.code)
    sl_err_setpos(&p->err, SL_ESYNTAX, e->line, e->pos_col,
                  "expression tree is too deep (more than %d levels)", SL_MAX_EXPR_DEPTH);
}

/* The span end of e (one past its last byte), or NULL. */
static const char *span_end(const sl_expr *e) {
  return e && e->span ? e->span + e->spanlen : NULL;
}

sl_expr *sl_expr_binary(sl_parse *p, int kind, int op, sl_expr *l, sl_expr *r) {
  sl_expr *e = node(p, sizeof *e);
  e->kind = (uint8_t)kind;
  e->op = op;
  e->agg = -1;
  e->mcall = -1;
  e->bcall = -1;
  e->wcall = -1;
  e->col = -1;
  e->left = l;
  e->right = r;
  e->line = l->line;
  e->pos_col = l->pos_col;
  sl_expr_span(p, e, l->span, r ? span_end(r) : span_end(l));
  sl_expr_height(p, e);
  return e;
}

sl_expr *sl_expr_and(sl_parse *p, sl_expr *l, sl_expr *r) {
  if (!((l->kind == E_INT && l->i == 0 && l->op != TK_FALSE) ||
        (r->kind == E_INT && r->i == 0 && r->op != TK_FALSE)))
    return sl_expr_binary(p, E_AND, TK_AND, l, r);
  sl_expr *e = sl_expr_new(p, E_INT, NULL); /* the two sides stay in the arena, unused */
  e->line = l->line;
  e->pos_col = l->pos_col;
  sl_expr_span(p, e, l->span, span_end(r)); /* the column is named by the whole text */
  return e;
}

sl_expr *sl_expr_unary(sl_parse *p, int op, sl_expr *x, const sl_token *at) {
  /* -9223372036854775808 is the one integer literal that only fits negated. */
  if (op == TK_MINUS && x->kind == E_REAL && x->op == TK_INTEGER && x->n == 1) {
    sl_expr *e = sl_expr_new(p, E_INT, at);
    e->i = INT64_MIN;
    sl_expr_span(p, e, at->z, span_end(x));
    return e;
  }
  sl_expr *e = sl_expr_new(p, E_UNARY, at);
  e->op = op;
  e->left = x;
  sl_expr_span(p, e, at->z, span_end(x));
  sl_expr_height(p, e);
  return e;
}

static int hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}

sl_expr *sl_expr_literal(sl_parse *p, int tk, const sl_token *t) {
  sl_expr *e;
  switch (tk) {
  case TK_NULL: return sl_expr_new(p, E_NULL, t);
  case TK_TRUE:
  case TK_FALSE:
    e = sl_expr_new(p, E_INT, t);
    e->i = tk == TK_TRUE;
    e->op = tk; /* a keyword, not a literal 0 or 1 (sl_expr_and) */
    return e;
  case TK_STRING:
    e = sl_expr_new(p, E_STRING, t);
    e->z = sl_token_str(p, t);
    e->n = (int)strlen(e->z);
    return e;
  case TK_BLOB: {
    e = sl_expr_new(p, E_BLOB, t);
    int nhex = t->n - 3;
    char *b = sl_arena_alloc(&p->arena, (size_t)nhex / 2 + 1);
    for (int i = 0; i < nhex / 2; i++)
      b[i] = (char)(hexval(t->z[2 + 2 * i]) * 16 + hexval(t->z[3 + 2 * i]));
    e->z = b;
    e->n = nhex / 2;
    return e;
  }
  case TK_FLOAT:
    /* SQLite's own decimal conversion, so literals read as SQLite reads them */
    e = sl_expr_new(p, E_REAL, t);
    sl_atof(t->z, (size_t)t->n, &e->r);
    return e;
  default: { /* TK_INTEGER */
    const char *z = t->z;
    int n = t->n;
    if (n > 2 && z[0] == '0' && (z[1] == 'x' || z[1] == 'X')) {
      uint64_t u = 0;
      int i = 2;
      while (i < n && z[i] == '0')
        i++;
      if (n - i > 16) {
        sl_parse_error(p, t, "hex literal too big");
        return sl_expr_new(p, E_NULL, t);
      }
      for (; i < n; i++)
        u = u * 16 + (uint64_t)hexval(z[i]);
      e = sl_expr_new(p, E_INT, t);
      e->i = (int64_t)u;
      return e;
    }
    uint64_t u = 0;
    int overflow = 0;
    for (int i = 0; i < n; i++) {
      unsigned d = (unsigned)(z[i] - '0');
      if (u > (UINT64_MAX - d) / 10) overflow = 1;
      u = u * 10 + d;
    }
    if (!overflow && u <= (uint64_t)INT64_MAX) {
      e = sl_expr_new(p, E_INT, t);
      e->i = (int64_t)u;
      return e;
    }
    /* Too big for an integer: a REAL, as SQLite does.  Remember the
    ** spelling 9223372036854775808 so that unary minus can make INT64_MIN. */
    e = sl_expr_new(p, E_REAL, t);
    sl_atof(z, (size_t)n, &e->r);
    e->op = TK_INTEGER;
    e->n = (!overflow && u == (uint64_t)INT64_MAX + 1) ? 1 : 0;
    return e;
  }
  }
}

sl_expr *sl_expr_column(sl_parse *p, const sl_token *tab, const sl_token *name) {
  sl_expr *e = sl_expr_new(p, E_COLUMN, tab ? tab : name);
  e->name = sl_token_name(p, name);
  if (tab) {
    e->tab = sl_token_name(p, tab);
    sl_expr_span(p, e, tab->z, name->z + name->n);
  }
  return e;
}

sl_expr *sl_expr_call(sl_parse *p, const sl_token *name, sl_exprlist *args, int distinct,
                      int star) {
  sl_expr *e = sl_expr_new(p, E_CALL, name);
  e->name = sl_token_name(p, name);
  e->list = args;
  e->distinct = (uint8_t)distinct;
  e->star = (uint8_t)star;
  sl_expr_height(p, e);
  return e;
}

sl_expr *sl_expr_option(sl_parse *p, const sl_token *name, sl_expr *value) {
  sl_expr *e = sl_expr_new(p, E_OPTION, name);
  e->name = name->z[0] == '\'' ? sl_token_str(p, name) : sl_token_name(p, name);
  e->left = value;
  sl_expr_height(p, e);
  return e;
}

/* Milliseconds in one unit of an INTERVAL, or 0 if the unit is unknown. */
static int64_t unit_ms(const char *u) {
  static const struct {
    const char *name;
    int64_t ms;
  } units[] = {{"millisecond", 1}, {"second", 1000},  {"minute", 60000},
               {"hour", 3600000},  {"day", 86400000}, {"week", 604800000}};
  size_t n = strlen(u);
  if (n > 1 && (u[n - 1] == 's' || u[n - 1] == 'S')) n--; /* plural */
  for (size_t i = 0; i < SL_ARRAY_SIZE(units); i++)
    if (strlen(units[i].name) == n && sl_strnicmp(u, units[i].name, n) == 0) return units[i].ms;
  return 0;
}

sl_expr *sl_expr_interval(sl_parse *p, sl_expr *amount, const sl_token *unit, const sl_token *at) {
  sl_expr *e = sl_expr_new(p, E_INTERVAL, at);
  e->left = amount;
  sl_expr_height(p, e);
  e->name = sl_token_name(p, unit);
  int64_t ms = unit_ms(e->name);
  if (!ms) {
    sl_parse_error(p, unit, "unknown INTERVAL unit");
    return e;
  }
  double n;
  if (amount->kind == E_INT)
    n = (double)amount->i;
  else if (amount->kind == E_REAL)
    n = amount->r;
  else if (amount->kind == E_STRING)
    n = strtod(amount->z, NULL);
  else {
    sl_parse_error(p, at, "INTERVAL needs a constant amount");
    return e;
  }
  double v = n * (double)ms;
  if (!(v >= -(double)SL_SPAN_LIMIT && v <= (double)SL_SPAN_LIMIT)) { /* NaN too */
    sl_parse_error(p, at, "INTERVAL out of range (at most about 31,000 years)");
    return e;
  }
  e->i = (int64_t)llround(v);
  sl_expr_span(p, e, at->z, unit->z + unit->n);
  return e;
}

sl_expr *sl_expr_watermark(sl_parse *p, const sl_token *kw, sl_expr *x) {
  const sl_expr *late =
      x && x->kind == E_BINARY && (x->op == TK_MINUS || x->op == TK_PLUS) ? x->right : NULL;
  if (late && (x->op != TK_MINUS || (late->kind != E_INTERVAL && late->kind != E_INT) ||
               late->i < 0 || late->i > SL_SPAN_LIMIT))
    sl_parse_error(p, kw,
                   "WATERMARK takes the event time minus a constant lateness of 0 or more: "
                   "WATERMARK ts - INTERVAL '5' SECOND");
  return x;
}

sl_expr *sl_expr_extract(sl_parse *p, const sl_token *kw, const sl_token *field, sl_expr *x,
                         const char *end) {
  sl_expr *f = sl_expr_new(p, E_STRING, field);
  f->z = sl_token_name(p, field);
  f->n = (int)strlen(f->z);
  sl_expr_span(p, f, field->z, field->z + field->n);
  sl_exprlist *args = sl_list_append(p, sl_list_append(p, NULL, f, NULL), x, NULL);
  sl_expr *e = sl_expr_call(p, kw, args, 0, 0);
  e->name = "extract";
  sl_expr_span(p, e, kw->z, end);
  return e;
}

sl_exprlist *sl_list_append(sl_parse *p, sl_exprlist *l, sl_expr *e, const sl_token *alias) {
  if (!l) l = node(p, sizeof *l);
  if (l->n == l->cap) {
    int cap = l->cap ? l->cap * 2 : 4;
    sl_expr **a = sl_arena_alloc(&p->arena, sizeof(*a) * (size_t)cap);
    char **names = sl_arena_alloc(&p->arena, sizeof(*names) * (size_t)cap);
    memset(names, 0, sizeof(*names) * (size_t)cap);
    if (l->n) {
      memcpy(a, l->a, sizeof(*a) * (size_t)l->n);
      memcpy(names, l->names, sizeof(*names) * (size_t)l->n);
    }
    l->a = a;
    l->names = names;
    l->cap = cap;
  }
  l->names[l->n] =
      alias ? (alias->z[0] == '\'' ? sl_token_str(p, alias) : sl_token_name(p, alias)) : NULL;
  l->a[l->n++] = e;
  return l;
}

sl_orderby *sl_orderby_append(sl_parse *p, sl_orderby *l, sl_expr *e, int desc, int nulls) {
  if (!l) l = node(p, sizeof *l);
  if (l->n == l->cap) {
    int cap = l->cap ? l->cap * 2 : 4;
    sl_orderterm *a = sl_arena_alloc(&p->arena, sizeof(*a) * (size_t)cap);
    if (l->n) memcpy(a, l->a, sizeof(*a) * (size_t)l->n);
    l->a = a;
    l->cap = cap;
  }
  l->a[l->n++] = (sl_orderterm){e, desc, (sl_nulls)nulls};
  return l;
}

char *sl_token_name(sl_parse *p, const sl_token *t) {
  const char *z = t->z;
  int n = t->n;
  char q = z[0];
  if (q == '[') return sl_arena_strndup(&p->arena, z + 1, (size_t)n - 2);
  if (q == '"' || q == '`' || q == '\'') {
    char *out = sl_arena_alloc(&p->arena, (size_t)n);
    int j = 0;
    for (int i = 1; i < n - 1; i++) {
      out[j++] = z[i];
      if (z[i] == q) i++; /* doubled quote */
    }
    out[j] = 0;
    return out;
  }
  return sl_arena_strndup(&p->arena, z, (size_t)n);
}

char *sl_token_str(sl_parse *p, const sl_token *t) {
  return sl_token_name(p, t);
}

sl_expr *sl_expr_subquery(sl_parse *p, int op, sl_expr *left, sl_select *sub, const sl_token *at,
                          const char *end) {
  sl_expr *e =
      left ? sl_expr_binary(p, E_SUBQUERY, op, left, NULL) : sl_expr_new(p, E_SUBQUERY, at);
  e->op = op;
  e->sub = sub;
  sl_expr_span(p, e, e->span, end);
  return e;
}

sl_select *sl_select_table(sl_parse *p, const sl_token *name) {
  sl_select *s = node(p, sizeof *s);
  s->from = sl_call_new(p, name, NULL, 1);
  s->cols = sl_list_append(p, NULL, sl_expr_new(p, E_STAR, name), NULL);
  return s;
}

sl_select *sl_select_compound(sl_parse *p, sl_select *left, int op, sl_select *right) {
  static const char *names[] = {"", "UNION", "UNION ALL", "EXCEPT", "INTERSECT"};
  if ((!left->op && (left->limit || left->into || left->order)) || right->op) {
    if (!p->err.code)
      sl_err_set(&p->err, SL_ESYNTAX, "%s clause should come after %s not before",
                 left->into    ? "INTO"
                 : left->order ? "ORDER BY"
                               : "LIMIT",
                 names[op]);
    return left;
  }
  sl_select *s = node(p, sizeof *s);
  s->op = op;
  s->prior = left;
  s->arm = right;
  s->cols = left->cols;
  /* the last SELECT's trailing clauses are the compound's: its ORDER BY,
  ** LIMIT and INTO (applied by plan.c's tail over the compound's rows) */
  s->order = right->order;
  s->limit = right->limit;
  s->offset = right->offset;
  s->into = right->into;
  right->order = NULL;
  right->limit = right->offset = NULL;
  right->into = NULL;
  return s;
}

sl_call *sl_call_new(sl_parse *p, const sl_token *name, sl_exprlist *args, int bare) {
  sl_call *c = node(p, sizeof *c);
  c->name = sl_token_name(p, name);
  c->line = name->line;
  c->col = name->col;
  c->args = args;
  c->bare = bare;
  return c;
}

sl_call *sl_call_window_tvf(sl_parse *p, const sl_token *fn, const sl_token *tab,
                            const sl_token *ts, sl_exprlist *args) {
  sl_call *c = sl_call_new(p, tab, NULL, 1);
  char *name = sl_token_name(p, fn);
  if (sl_stricmp(name, "tumble") && sl_stricmp(name, "hop") && sl_stricmp(name, "session")) {
    if (!p->err.code)
      sl_err_setpos(&p->err, SL_ESYNTAX, fn->line, fn->col,
                    "near \"%.*s\": windowing table functions are TUMBLE, HOP and SESSION", fn->n,
                    fn->z);
    return c;
  }
  sl_exprlist *l = sl_list_append(p, NULL, sl_expr_column(p, NULL, ts), NULL);
  for (int i = 0; args && i < args->n; i++)
    sl_list_append(p, l, args->a[i], NULL);
  c->window = sl_expr_call(p, fn, l, 0, 0);
  return c;
}

/* 1 when g is the column window_start or window_end (which: *end) of the
** FROM item c, unqualified or qualified by its alias or name. */
static int window_bound(const sl_expr *g, const sl_call *c, int *end) {
  if (g->kind != E_COLUMN) return 0;
  if (g->tab && sl_stricmp(g->tab, c->alias ? c->alias : c->name)) return 0;
  if (!sl_stricmp(g->name, "window_start"))
    *end = 0;
  else if (!sl_stricmp(g->name, "window_end"))
    *end = 1;
  else
    return 0;
  return 1;
}

void sl_select_window_tvf(sl_parse *p, sl_select *s) {
  const sl_call *w = NULL;
  for (const sl_call *c = s->from; c; c = c->join)
    if (c->window) {
      w = c;
      break;
    }
  if (!w || p->err.code) return;
  const sl_expr *call = w->window;
  if (s->from->join) {
    sl_err_setpos(&p->err, SL_ESYNTAX, call->line, call->pos_col,
                  "a windowing table function must be the only item of its FROM");
    return;
  }
  int seen[2] = {0, 0}, n = 0, end;
  for (int i = 0; s->group && i < s->group->n; i++) {
    sl_expr *g = s->group->a[i];
    if (window_bound(g, w, &end))
      seen[end] = 1;
    else
      s->group->a[n++] = g;
  }
  if (!seen[0] || !seen[1]) {
    sl_err_setpos(&p->err, SL_ESYNTAX, call->line, call->pos_col,
                  "a windowing table function's rows are aggregated per window: GROUP BY "
                  "window_start, window_end");
    return;
  }
  s->group->n = n;
  sl_list_append(p, s->group, w->window, NULL);
}

void sl_join_add(sl_parse *p, sl_call *head, sl_call *x, int jt, const sl_onusing *o) {
  sl_call *last = head;
  while (last->join)
    last = last->join;
  last->join = x;
  if (!head->unsupported) head->unsupported = x->unsupported;
  if (x->extra) head->extra = head->extra ? sl_expr_and(p, head->extra, x->extra) : x->extra;
  x->extra = NULL;
  x->unsupported = NULL;
  if (!x->join) { /* one item */
    last->on = o->on;
    last->using = o->using;
    last->left_join = (jt & SL_JT_LEFT) != 0;
    last->right_join = (jt & SL_JT_RIGHT) != 0;
    last->natural = (jt & SL_JT_NATURAL) != 0;
    return;
  }
  for (sl_call *c = x->join; c; c = c->join)
    if (!c->group) c->group = x;
  /* a parenthesised inner join: the same rows as its items joined in the
  ** list, its ON a condition over them all */
  if (jt != SL_JT_INNER || o->using)
    head->unsupported = "a parenthesised join on the right of LEFT JOIN, NATURAL JOIN or USING";
  if (o->on) head->extra = head->extra ? sl_expr_and(p, head->extra, o->on) : o->on;
}

sl_stmt *sl_stmt_new(sl_parse *p, int kind) {
  sl_stmt *s = node(p, sizeof *s);
  s->kind = (sl_stmt_kind)kind;
  s->line = p->stmt_line;
  s->col = p->stmt_col;
  return s;
}

/* Make room for one more item in the arena array *a of *n items of size
** bytes each, with room for *cap: the room doubles when full (the old
** array stays in the arena until the parse is freed), so n appends copy
** O(n) bytes in all. */
static void grow(sl_parse *p, void **a, int n, int *cap, size_t size) {
  if (n < *cap) return;
  int c = *cap ? 2 * *cap : 8;
  void *b = sl_arena_alloc(&p->arena, size * (size_t)c);
  if (n) memcpy(b, *a, size * (size_t)n);
  *a = b;
  *cap = c;
}

void sl_stmt_add_col(sl_parse *p, sl_stmt *s, const sl_token *name, const char *type) {
  void *a = s->cols;
  grow(p, &a, s->ncols, &s->capcols, sizeof(sl_coldef));
  s->cols = a;
  s->cols[s->ncols].name = sl_token_name(p, name);
  s->cols[s->ncols].type = type;
  s->ncols++;
}

/* 1 when every item of row is a literal (NULL, a number, a string, a blob). */
static int literal_row(const sl_exprlist *row) {
  for (int i = 0; i < row->n; i++) {
    int k = row->a[i]->kind;
    if (k != E_NULL && k != E_INT && k != E_REAL && k != E_STRING && k != E_BLOB) return 0;
  }
  return row->n > 0;
}

/* A row of literals as values only (sl_exprlist.lit): a VALUES row's parse
** tree costs about 300 bytes an item, its values 32 and their bytes.  When
** the arena was marked after s's previous row, the tree (all allocated
** since: the row's list, arrays, expressions and their strings) is
** released first, so a million-row INSERT holds its values, not its trees.
** The values are staged on the stack (or the heap, for a wide row). */
static sl_exprlist *compact_row(sl_parse *p, sl_stmt *s, sl_exprlist *row) {
  int n = row->n;
  size_t bytes = 0;
  for (int i = 0; i < n; i++)
    if (row->a[i]->kind == E_STRING || row->a[i]->kind == E_BLOB) bytes += (size_t)row->a[i]->n + 1;
  sl_value vstack[16];
  char zstack[512];
  sl_value *v = n <= 16 ? vstack : sl_malloc(sizeof(sl_value) * (size_t)n);
  char *z = bytes <= sizeof zstack ? zstack : sl_malloc(bytes);
  size_t off = 0;
  for (int i = 0; i < n; i++) {
    const sl_expr *e = row->a[i];
    memset(&v[i], 0, sizeof v[i]);
    switch (e->kind) {
    case E_INT: sl_value_set_int(&v[i], e->i); break;
    case E_REAL: sl_value_set_real(&v[i], e->r); break;
    case E_STRING:
    case E_BLOB:
      memcpy(z + off, e->z, (size_t)e->n);
      z[off + (size_t)e->n] = 0;
      v[i].type = e->kind == E_STRING ? SL_TEXT : SL_BLOB;
      v[i].n = (uint32_t)e->n;
      v[i].u.i = (int64_t)off; /* the offset, until the bytes have their place */
      off += (size_t)e->n + 1;
      break;
    default: break; /* E_NULL */
    }
  }
  if (p->row_stmt == s) sl_arena_rewind(&p->arena, p->row_mark); /* the tree goes */
  sl_exprlist *l = node(p, sizeof *l);
  l->n = l->cap = n;
  l->lit = sl_arena_alloc(&p->arena, sizeof(sl_value) * (size_t)n);
  char *at = bytes ? sl_arena_alloc(&p->arena, bytes) : NULL;
  if (bytes) memcpy(at, z, bytes);
  for (int i = 0; i < n; i++) {
    l->lit[i] = v[i];
    if (v[i].type == SL_TEXT)
      sl_value_borrow_text(&l->lit[i], at + v[i].u.i, v[i].n, SL_F_TERM);
    else if (v[i].type == SL_BLOB)
      sl_value_borrow_blob(&l->lit[i], at + v[i].u.i, v[i].n);
  }
  if (v != vstack) free(v);
  if (z != zstack) free(z);
  return l;
}

void sl_stmt_add_row(sl_parse *p, sl_stmt *s, sl_exprlist *row) {
  if (literal_row(row)) row = compact_row(p, s, row);
  void *a = s->values;
  grow(p, &a, s->nrows, &s->caprows, sizeof(sl_exprlist *));
  s->values = a;
  s->values[s->nrows++] = row;
  p->row_stmt = s; /* a next row of literals starts here */
  p->row_mark = sl_arena_tell(&p->arena);
}

void sl_parse_stmt_done(sl_parse *p, sl_stmt *s, const char *end) {
  if (!s) return;
  s->line = p->stmt_line;
  s->col = p->stmt_col;
  s->sql = p->stmt_start;
  s->sqllen = (int)(end - p->stmt_start);
  if (p->last)
    p->last->next = s;
  else
    p->first = s;
  p->last = s;
}

void sl_parse_error(sl_parse *p, const sl_token *t, const char *msg) {
  if (p->err.code) return;
  if (!t) {
    sl_err_set(&p->err, SL_ESYNTAX, "%s", msg);
    return;
  }
  if (t->n == 0)
    sl_err_setpos(&p->err, SL_ESYNTAX, t->line, t->col, "incomplete input%s%s", msg ? ": " : "",
                  msg ? msg : "");
  else
    sl_err_setpos(&p->err, SL_ESYNTAX, t->line, t->col, "near \"%.*s\": %s", t->n, t->z,
                  msg ? msg : "syntax error");
}

/* ---- windows (OVER, WINDOW) ---- */

sl_window *sl_window_new(sl_parse *p, const sl_token *at, const sl_token *base,
                         sl_exprlist *partition, struct sl_orderby *order, const sl_frame *frame) {
  sl_window *w = node(p, sizeof *w);
  w->line = at && at->line ? at->line : p->stmt_line;
  w->col = at && at->line ? at->col : p->stmt_col;
  w->base = base ? sl_token_name(p, base) : NULL;
  w->partition = partition;
  w->order = order;
  if (frame) w->frame = *frame;
  return w;
}

void sl_window_name(sl_parse *p, sl_window *w, const sl_token *name) {
  w->name = sl_token_name(p, name);
}

sl_window *sl_window_append(sl_parse *p, sl_window *l, sl_window *w, const sl_token *name) {
  sl_window_name(p, w, name);
  sl_window *t = l;
  while (t->next)
    t = t->next;
  t->next = w;
  return l;
}
