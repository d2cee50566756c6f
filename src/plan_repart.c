/*
** plan_repart.c - a GROUP BY over a continuous Kafka read split in two
** queries that meet at a Kafka topic keyed by the GROUP BY key (SET
** repartition = 'on'; docs/scale-out.md, "Repartition topics").
**
** The split is a rewrite of the SELECT's tree before planning: two SELECTs
** that the planner then plans as any others, with all of its checks.
**   stage 1: the source, its WHERE and its joins with tables, projecting
**            the columns the GROUP BY, HAVING, the select list and ORDER BY
**            read, INTO kafka('<app>-<identity>-repartition', key => the
**            GROUP BY key, format => 'json');
**   stage 2: that topic read continuously in the query's own consumer group
**            (through a stream made here, with the source stream's WATERMARK),
**            with the GROUP BY, HAVING, select list, ORDER BY and LIMIT
**            over the projected columns, INTO the query's own sink.
** Every process running the query writes each key's rows to one partition
** of the topic, and the group gives each partition to one of them, so each
** key's rows meet in one process.
**
** Memory: every node made here lives in the plan's arena; the trees share
** the original statement's nodes only where one stage alone reads them
** (stage 1: FROM, WHERE, the joins; stage 2: INTO, LIMIT, OFFSET).
*/
#include <stdio.h>
#include <string.h>

#include "plan_int.h"

/* A column the stateful part reads: as written (tab may be NULL) and the
** name stage 1 gives it. */
typedef struct rp_col {
  const char *tab, *name, *alias;
} rp_col;

typedef struct rp_ctx {
  sl_plan *plan;
  const sl_select *sel;
  int windowed;
  rp_col *cols;
  int ncol, cap;
} rp_ctx;

/* ---- nodes ---------------------------------------------------------------------- */

static sl_expr *new_expr(sl_plan *plan, int kind, int line, int col) {
  sl_expr *e = sl_arena_alloc(&plan->arena, sizeof *e);
  memset(e, 0, sizeof *e);
  e->kind = (uint8_t)kind;
  e->height = 1;
  e->agg = e->mcall = e->bcall = e->wcall = e->col = -1;
  e->line = line;
  e->pos_col = col;
  return e;
}

static const char *arena_str(sl_plan *plan, const char *z) {
  return sl_arena_strndup(&plan->arena, z, strlen(z));
}

static sl_expr *new_string(sl_plan *plan, const char *z, int line, int col) {
  sl_expr *e = new_expr(plan, E_STRING, line, col);
  e->z = arena_str(plan, z);
  e->n = (int)strlen(z);
  return e;
}

static sl_expr *new_option(sl_plan *plan, const char *name, sl_expr *value) {
  sl_expr *e = new_expr(plan, E_OPTION, value->line, value->pos_col);
  e->name = arena_str(plan, name);
  e->left = value;
  e->height = 1 + value->height;
  return e;
}

static void list_add(sl_exprlist *l, sl_expr *e, const char *name) {
  l->a[l->n] = e;
  if (l->names) l->names[l->n] = (char *)name;
  l->n++;
}

/* ---- what qualifies ------------------------------------------------------------- */

static int is_window_call(const sl_expr *g) {
  return g->kind == E_CALL && (!sl_stricmp(g->name, "tumble") || !sl_stricmp(g->name, "hop") ||
                               !sl_stricmp(g->name, "session"));
}

/* 1 when e holds what stage 2 could not evaluate over the projected
** columns: a subquery, a window function (OVER), or rowtime() (the
** message's own timestamp, which stage 2's messages do not carry). */
static int unsplittable(const sl_expr *e) {
  if (!e) return 0;
  if (e->kind == E_SUBQUERY || (e->kind == E_CALL && e->win)) return 1;
  if (e->kind == E_CALL && e->name && !sl_stricmp(e->name, "rowtime")) return 1;
  if (unsplittable(e->left) || unsplittable(e->right)) return 1;
  for (int i = 0; e->list && e->list->a && i < e->list->n; i++)
    if (unsplittable(e->list->a[i])) return 1;
  return 0;
}

static int list_unsplittable(const sl_exprlist *l) {
  for (int i = 0; l && i < l->n; i++)
    if (l->a[i]->kind == E_STAR || unsplittable(l->a[i])) return 1;
  return 0;
}

/* The Kafka call sel reads (directly, or through a stream over kafka()),
** continuous, or NULL when sel is not a GROUP BY over one (joined with
** tables only).  *stream: the stream read, or NULL. */
static const sl_call *kafka_input(sl_plan *plan, const sl_select *sel, const sl_stream **stream) {
  *stream = NULL;
  const sl_call *f = sel->from;
  if (sel->op || !sel->group || !f || f->sub || f->window || f->stream || sel->windows) return NULL;
  const sl_call *src = f;
  if (f->bare) {
    const sl_stream *s = sl_catalog_stream(plan->ctx.cat, f->name);
    if (!s || !s->def || s->def->select || !s->def->source) return NULL;
    *stream = s;
    src = s->def->source;
  }
  if (sl_stricmp(src->name, "kafka") || src->bare) return NULL;
  for (int i = 0; src->args && i < src->args->n; i++) {
    const sl_expr *a = src->args->a[i];
    if (a->kind == E_OPTION && !sl_stricmp(a->name, "stop")) return NULL;
  }
  for (const sl_call *j = f->join; j; j = j->join)
    if (!j->bare || j->sub || !sl_catalog_table(plan->ctx.cat, j->name)) return NULL;
  return src;
}

/* 1 when the GROUP BY's keys (its terms but the window) are just the
** Kafka message's key: the topic is already partitioned by them. */
static int grouped_by_message_key(const sl_select *sel) {
  int n = 0;
  for (int i = 0; i < sel->group->n; i++) {
    const sl_expr *g = sel->group->a[i];
    if (is_window_call(g)) continue;
    if (g->kind != E_COLUMN || sl_stricmp(g->name, "key")) return 0;
    n++;
  }
  return n > 0;
}

/* ---- the columns the stateful part reads ------------------------------------- */

/* 1 when the unqualified name z is not an input column here: a select
** list alias of another expression, or a window's bound. */
static int not_input(const rp_ctx *c, const char *z) {
  if (c->windowed && (!sl_stricmp(z, "window_start") || !sl_stricmp(z, "window_end"))) return 1;
  const sl_exprlist *cols = c->sel->cols;
  for (int i = 0; cols->names && i < cols->n; i++) {
    const sl_expr *e = cols->a[i];
    if (cols->names[i] && !sl_stricmp(cols->names[i], z) &&
        !(e->kind == E_COLUMN && !sl_stricmp(e->name, z)))
      return 1;
  }
  return 0;
}

static int same_name(const char *a, const char *b) {
  return (!a && !b) || (a && b && !sl_stricmp(a, b));
}

static rp_col *find_col(const rp_ctx *c, const sl_expr *e) {
  for (int i = 0; i < c->ncol; i++)
    if (same_name(c->cols[i].tab, e->tab) && !sl_stricmp(c->cols[i].name, e->name))
      return &c->cols[i];
  return NULL;
}

/* Note every input column e reads. */
static void collect(rp_ctx *c, const sl_expr *e) {
  if (!e) return;
  if (e->kind == E_COLUMN && e->name && !(!e->tab && not_input(c, e->name)) && !find_col(c, e)) {
    if (c->ncol == c->cap) {
      c->cap = c->cap ? 2 * c->cap : 8;
      rp_col *n = sl_arena_alloc(&c->plan->arena, sizeof(*n) * (size_t)c->cap);
      if (c->ncol) memcpy(n, c->cols, sizeof(*n) * (size_t)c->ncol);
      c->cols = n;
    }
    c->cols[c->ncol++] = (rp_col){e->tab, e->name, NULL};
  }
  collect(c, e->left);
  collect(c, e->right);
  for (int i = 0; e->list && e->list->a && i < e->list->n; i++)
    collect(c, e->list->a[i]);
}

/* Each collected column's name in stage 1's rows: its own, or tab_name
** when two tables' columns share it; unique either way. */
static void name_cols(rp_ctx *c) {
  for (int i = 0; i < c->ncol; i++) {
    rp_col *x = &c->cols[i];
    int clash = 0;
    for (int k = 0; k < c->ncol; k++)
      clash |= k != i && !sl_stricmp(c->cols[k].name, x->name);
    char buf[300];
    snprintf(buf, sizeof buf, "%.140s%s%.140s", clash && x->tab ? x->tab : "",
             clash && x->tab ? "_" : "", x->name);
    size_t len = strlen(buf);
    for (int n = 2;; n++) { /* past any name taken before */
      int taken = 0;
      for (int k = 0; k < i; k++)
        taken |= !sl_stricmp(c->cols[k].alias, buf);
      if (!taken) break;
      snprintf(buf + len, sizeof buf - len, "_%d", n);
    }
    x->alias = arena_str(c->plan, buf);
  }
}

/* A copy of e (in the plan's arena) for stage 2: its input columns by
** their names in stage 1's rows (rename), or as written (for stage 1). */
static sl_expr *copy_expr(rp_ctx *c, const sl_expr *e, int rename);

static sl_exprlist *copy_list(rp_ctx *c, const sl_exprlist *l, int rename) {
  if (!l) return NULL;
  sl_exprlist *r = sl_arena_alloc(&c->plan->arena, sizeof *r);
  *r = *l;
  if (!l->a) return r;
  r->a = sl_arena_alloc(&c->plan->arena, sizeof(sl_expr *) * (size_t)(l->n ? l->n : 1));
  r->cap = l->n;
  if (l->names) {
    r->names = sl_arena_alloc(&c->plan->arena, sizeof(char *) * (size_t)(l->n ? l->n : 1));
    memcpy(r->names, l->names, sizeof(char *) * (size_t)l->n);
  }
  for (int i = 0; i < l->n; i++)
    r->a[i] = copy_expr(c, l->a[i], rename);
  return r;
}

static sl_expr *copy_expr(rp_ctx *c, const sl_expr *e, int rename) {
  if (!e) return NULL;
  sl_expr *r = sl_arena_alloc(&c->plan->arena, sizeof *r);
  *r = *e;
  r->left = copy_expr(c, e->left, rename);
  r->right = copy_expr(c, e->right, rename);
  r->list = copy_list(c, e->list, rename);
  if (rename && e->kind == E_COLUMN) {
    const rp_col *x = find_col(c, e);
    if (x) {
      r->tab = NULL;
      r->name = x->alias;
    }
  }
  return r;
}

/* The select list expression the unqualified name z is the alias of, or
** NULL (GROUP BY u where u names lower(user)). */
static const sl_expr *alias_target(const rp_ctx *c, const sl_expr *g) {
  if (g->kind != E_COLUMN || g->tab || !not_input(c, g->name)) return NULL;
  const sl_exprlist *cols = c->sel->cols;
  for (int i = 0; cols->names && i < cols->n; i++)
    if (cols->names[i] && !sl_stricmp(cols->names[i], g->name)) return cols->a[i];
  return NULL;
}

/* ---- the option lists of the two stages ------------------------------------------ */

/* The options of src (the original kafka() call) that name how to reach
** the brokers: brokers => and the connection's properties (security,
** SASL, SSL), which both stages' clients need. */
static int connection_option(const sl_expr *a) {
  if (a->kind != E_OPTION) return 0;
  return !sl_stricmp(a->name, "brokers") || !sl_strnicmp(a->name, "security.", 9) ||
         !sl_strnicmp(a->name, "sasl.", 5) || !sl_strnicmp(a->name, "ssl.", 4);
}

/* A call kafka(args) at src's place, in plan's arena. */
static sl_call *kafka_call(sl_plan *plan, const sl_call *src, sl_exprlist *args) {
  sl_call *call = sl_arena_alloc(&plan->arena, sizeof *call);
  memset(call, 0, sizeof *call);
  call->name = "kafka";
  call->line = src->line;
  call->col = src->col;
  call->args = args;
  return call;
}

/* Stage 1's sink: kafka('<topic>', key => 'keycol', format => 'json',
** partitions => n | partitions_of => <the source's topic>, and the
** source's connection options).  The one place its options are made. */
static sl_call *stage1_sink(rp_ctx *c, const sl_call *src, const char *topic, const char *keycol) {
  sl_plan *plan = c->plan;
  int nsrc = src->args ? src->args->n : 0;
  sl_exprlist *args = sl_plan_list(plan, 5 + nsrc);
  args->names = NULL;
  list_add(args, new_string(plan, topic, src->line, src->col), NULL);
  list_add(args, new_option(plan, "key", new_string(plan, keycol, src->line, src->col)), NULL);
  list_add(args, new_option(plan, "format", new_string(plan, "json", src->line, src->col)), NULL);
  /* each message says which input record it came from: stage 2 tracks
  ** event time per input partition and drops a crashed writer's replays */
  sl_expr *yes = new_expr(plan, E_INT, src->line, src->col);
  yes->i = 1;
  list_add(args, new_option(plan, "origin", yes), NULL);
  int64_t parts = sl_setting_int(plan->ctx.cat, SL_SET_REPARTITION_PARTITIONS);
  if (parts > 0) {
    sl_expr *n = new_expr(plan, E_INT, src->line, src->col);
    n->i = parts;
    list_add(args, new_option(plan, "partitions", n), NULL);
  } else if (nsrc && src->args->a[0]->kind != E_OPTION) {
    list_add(args, new_option(plan, "partitions_of", src->args->a[0]), NULL);
  }
  for (int i = 0; i < nsrc; i++)
    if (connection_option(src->args->a[i])) list_add(args, src->args->a[i], NULL);
  return kafka_call(plan, src, args);
}

/* Stage 2's source: kafka('<topic>', format => 'json', state_topic =>
** '<app>-<identity>-state' (its state kept per partition in Kafka, moving
** with the partitions: docs/scale-out.md), and the source's connection
** options and client properties: a session timeout given for the source's
** group is wanted for this one too).  The one place its options are
** made. */
static sl_call *stage2_source(rp_ctx *c, const sl_call *src, const char *topic) {
  sl_plan *plan = c->plan;
  int nsrc = src->args ? src->args->n : 0;
  sl_exprlist *args = sl_plan_list(plan, 3 + nsrc);
  args->names = NULL;
  list_add(args, new_string(plan, topic, src->line, src->col), NULL);
  list_add(args, new_option(plan, "format", new_string(plan, "json", src->line, src->col)), NULL);
  char state[300];
  size_t suffix = strlen("-repartition"), n = strlen(topic);
  SL_ASSERT(n > suffix && !strcmp(topic + n - suffix, "-repartition"));
  snprintf(state, sizeof state, "%.*s-state", (int)(n - suffix), topic);
  list_add(args, new_option(plan, "state_topic", new_string(plan, state, src->line, src->col)),
           NULL);
  for (int i = 0; i < nsrc; i++) {
    sl_expr *a = src->args->a[i];
    if (connection_option(a) || (a->kind == E_OPTION && strchr(a->name, '.')))
      list_add(args, a, NULL);
  }
  return kafka_call(plan, src, args);
}

/* The stream stage 2 reads: the topic through stage2_source, with the
** WATERMARK of the stream the query read (wm, or NULL). */
static sl_call *stage2_input(rp_ctx *c, const sl_call *src, const char *topic, sl_expr *wm) {
  sl_plan *plan = c->plan;
  sl_stmt *d = sl_arena_alloc(&plan->arena, sizeof *d);
  memset(d, 0, sizeof *d);
  d->kind = S_CREATE_STREAM;
  d->line = src->line;
  d->col = src->col;
  d->source = stage2_source(c, src, topic);
  d->watermark = wm;
  char text[300];
  snprintf(text, sizeof text, "repartition topic %.250s", topic);
  d->sql = arena_str(plan, text); /* what its checkpoints are fingerprinted by */
  d->sqllen = (int)strlen(text);
  sl_stream *s = sl_arena_alloc(&plan->arena, sizeof *s);
  memset(s, 0, sizeof *s);
  s->name = (char *)arena_str(plan, topic);
  s->def = d;
  d->name = s->name;
  sl_call *from = sl_arena_alloc(&plan->arena, sizeof *from);
  memset(from, 0, sizeof *from);
  from->name = s->name;
  from->line = c->sel->from->line;
  from->col = c->sel->from->col;
  from->bare = 1;
  from->stream = s;
  return from;
}

/* ---- the split ------------------------------------------------------------------- */

int sl_plan_repart_split(sl_plan *plan, const sl_select *sel, const char *ident, sl_repart *out) {
  memset(out, 0, sizeof *out);
  const sl_stream *stream;
  const sl_call *src = kafka_input(plan, sel, &stream);
  if (!src || grouped_by_message_key(sel) || list_unsplittable(sel->cols) ||
      list_unsplittable(sel->group) || unsplittable(sel->having))
    return 0;
  for (int i = 0; sel->order && i < sel->order->n; i++)
    if (unsplittable(sel->order->a[i].e)) return 0;
  rp_ctx c = {.plan = plan, .sel = sel};
  for (int i = 0; i < sel->group->n; i++)
    c.windowed |= is_window_call(sel->group->a[i]);
  /* the columns read after the GROUP BY's input */
  for (int i = 0; i < sel->cols->n; i++)
    collect(&c, sel->cols->a[i]);
  for (int i = 0; i < sel->group->n; i++)
    collect(&c, sel->group->a[i]);
  collect(&c, sel->having);
  for (int i = 0; sel->order && i < sel->order->n; i++)
    collect(&c, sel->order->a[i].e);
  name_cols(&c);
  const char *app = sl_setting_text(plan->ctx.cat, SL_SET_APPLICATION_ID);
  char topic[300];
  snprintf(topic, sizeof topic, "%.200s-%.16s-repartition", app ? app : "sluice", ident);
  out->topic = arena_str(plan, topic);

  /* stage 1: the input's columns; the key, one column or a JSON array of
  ** the GROUP BY's terms but the window */
  sl_select *s1 = sl_arena_alloc(&plan->arena, sizeof *s1);
  memset(s1, 0, sizeof *s1);
  s1->from = sel->from;
  s1->where = sel->where;
  s1->cols = sl_plan_list(plan, c.ncol + 1);
  for (int i = 0; i < c.ncol; i++) {
    sl_expr *e = new_expr(plan, E_COLUMN, sel->from->line, sel->from->col);
    e->tab = c.cols[i].tab;
    e->name = c.cols[i].name;
    list_add(s1->cols, e, (char *)c.cols[i].alias);
  }
  sl_exprlist *keys = sl_plan_list(plan, sel->group->n);
  keys->names = NULL;
  for (int i = 0; i < sel->group->n; i++) {
    const sl_expr *g = sel->group->a[i];
    if (is_window_call(g)) continue;
    const sl_expr *t = alias_target(&c, g);
    list_add(keys, copy_expr(&c, t ? t : g, 0), NULL);
  }
  const rp_col *one =
      keys->n == 1 && keys->a[0]->kind == E_COLUMN ? find_col(&c, keys->a[0]) : NULL;
  const char *keycol = one ? one->alias : NULL;
  if (!keycol) {
    char kname[64] = "_sluice_key";
    for (int n = 2; !keycol; n++) {
      int taken = 0;
      for (int i = 0; i < c.ncol; i++)
        taken |= !sl_stricmp(c.cols[i].alias, kname);
      if (!taken) break;
      snprintf(kname, sizeof kname, "_sluice_key_%d", n);
    }
    keycol = arena_str(plan, kname);
    sl_expr *call = new_expr(plan, E_CALL, sel->from->line, sel->from->col);
    call->name = "json_array";
    call->list = keys;
    for (int i = 0; i < keys->n; i++)
      if (keys->a[i]->height + 1 > call->height) call->height = keys->a[i]->height + 1;
    list_add(s1->cols, call, (char *)keycol);
  }
  s1->into = stage1_sink(&c, src, out->topic, keycol);
  out->stage1 = s1;

  /* stage 2: the rest over those columns, into the query's sink */
  sl_select *s2 = sl_arena_alloc(&plan->arena, sizeof *s2);
  *s2 = *sel;
  s2->where = NULL;
  s2->topn = 0;
  s2->from = stage2_input(&c, src, out->topic, stream ? stream->def->watermark : NULL);
  s2->cols = copy_list(&c, sel->cols, 1);
  if (!s2->cols->names) {
    s2->cols->names = sl_arena_alloc(&plan->arena, sizeof(char *) * (size_t)s2->cols->n);
    memset(s2->cols->names, 0, sizeof(char *) * (size_t)s2->cols->n);
  }
  /* a column's output name is its name as written, not stage 1's */
  for (int i = 0; i < sel->cols->n; i++)
    if (!s2->cols->names[i] && sel->cols->a[i]->kind == E_COLUMN)
      s2->cols->names[i] = (char *)sel->cols->a[i]->name;
  s2->group = copy_list(&c, sel->group, 1);
  s2->having = copy_expr(&c, sel->having, 1);
  if (sel->order) {
    sl_orderby *o = sl_arena_alloc(&plan->arena, sizeof *o);
    *o = *sel->order;
    o->a = sl_arena_alloc(&plan->arena, sizeof(*o->a) * (size_t)(o->n ? o->n : 1));
    for (int i = 0; i < o->n; i++) {
      o->a[i] = sel->order->a[i];
      o->a[i].e = copy_expr(&c, sel->order->a[i].e, 1);
    }
    s2->order = o;
  }
  out->stage2 = s2;
  return 1;
}
