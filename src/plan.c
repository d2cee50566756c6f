/*
** plan.c - the planner's frame (plan.h): plans, their sources and named
** streams, the input and the output of each query, EXPLAIN.
**
** Planning a query (sl_plan_query):
**   1. the input: FROM a connector call (a source is planned for it), a
**      table (a copy of its rows), a named stream (planned on first use and
**      shared through a fanout), or nothing (one empty row);
**   2. the body: a join (plan_join.c), GROUP BY (plan_group.c), or WHERE and
**      the select list (plan_expr.c), each compiled into operator specs;
**   3. the output: INTO a connector (op_sink), a stream's fanout, or the
**      caller's callback (op_result).
** Connector calls are checked with check_only: no I/O, nothing started.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ctype.h>
#include <unistd.h>

#include "ast.h"
#include "checkpoint.h"
#include "op_aggregate.h"
#include "op_compound.h"
#include "parse.h"
#include "plan_int.h"

#define BATCH_ROWS 1024

sl_plan *sl_plan_new(const sl_plan_ctx *ctx) {
  sl_plan *p = sl_calloc(1, sizeof *p);
  p->ctx = *ctx;
  sl_arena_init(&p->arena);
  return p;
}

int sl_plan_ntop(const sl_plan *plan) {
  int n = 0;
  for (int i = 0; i < plan->nquery; i++)
    n += plan->queries[i]->top;
  return n;
}

/* ---- sources ---------------------------------------------------------------- */

/* A new source of plan named name: a connector's (desc checked, opts the
** evaluated options, both taken) or, with conn NULL, a table's (a copy of
** t's rows; t NULL: one empty row).  Returns its index. */
static int add_source(sl_plan *plan, const char *name, const sl_connector *conn, sl_options *opts,
                      sl_source *desc, const sl_table *t) {
  sl_psource *s = sl_calloc(1, sizeof *s);
  s->name = sl_strdup(name);
  memcpy(s->fp, plan->fp, sizeof s->fp);
  s->conn = conn;
  if (opts) {
    s->opts = *opts;
    memset(opts, 0, sizeof *opts);
    s->opts.declared = NULL; /* the catalog's: a run uses desc's copy (sl_psource) */
  }
  if (!conn && t) {
    s->table = sl_calloc(1, sizeof *s->table);
    s->table->name = sl_strdup(t->name);
    sl_schema_init(&s->table->schema, 0);
    sl_schema_copy(&s->table->schema, &t->schema);
    for (int r = 0; r < t->nrow; r++)
      sl_table_insert(s->table, t->rows + (size_t)r * (size_t)t->schema.ncol);
  }
  s->desc = desc ? desc : sl_table_source_new(s->table);
  s->fail_on_error = s->desc->errors && sl_stricmp(s->desc->errors, "fail") == 0;
  const char *app = sl_setting_text(plan->ctx.cat, SL_SET_APPLICATION_ID);
  s->app_id = app ? sl_strdup(app) : NULL;
  if (opts) s->opts.app_id = s->app_id;
  s->commit_ms = sl_setting_int(plan->ctx.cat, SL_SET_COMMIT_INTERVAL);
  s->utf8_reject = sl_setting_int(plan->ctx.cat, SL_SET_INVALID_UTF8) == SL_UTF8_REJECT;
  /* Tables are small (and a constant SELECT is one row): small batches.
  ** SET batch_size = N caps the records per batch (tests of determinism). */
  s->batch = s->desc->vt->read_rows ? 64 : BATCH_ROWS;
  int64_t bs = sl_setting_int(plan->ctx.cat, SL_SET_BATCH_SIZE);
  if (bs >= 1 && bs < s->batch) s->batch = (int)bs;
  plan->sources = sl_realloc(plan->sources, sizeof(*plan->sources) * (size_t)(plan->nsource + 1));
  plan->sources[plan->nsource] = s;
  return plan->nsource++;
}

/* The option dlq => sink(...) of source call c: split off into *rest (c
** without it; rest->args points to args, whose array the caller frees) and
** *dlq (the option, or NULL). */
static void split_dlq(const sl_call *c, sl_call *rest, sl_exprlist *args, const sl_expr **dlq) {
  *rest = *c;
  *dlq = NULL;
  memset(args, 0, sizeof *args);
  if (!c->args) return;
  args->a = sl_calloc((size_t)c->args->n + 1, sizeof(sl_expr *));
  for (int i = 0; i < c->args->n; i++) {
    sl_expr *a = c->args->a[i];
    if (a->kind == E_OPTION && !sl_stricmp(a->name, "dlq"))
      *dlq = a;
    else
      args->a[args->n++] = a;
  }
  args->cap = args->n;
  rest->args = args;
}

/* Check the dead-letter sink of a source (the dlq => option d; desc the
** source as checked) into s's dlq_conn and dlq_opts.  0, or -1 with err. */
static int check_dlq(sl_plan *plan, const sl_expr *d, const sl_source *desc, sl_psource *s,
                     sl_err *err) {
  int errors_dlq = desc->errors && !sl_stricmp(desc->errors, "dlq");
  if (!d) {
    if (!errors_dlq) return 0;
    sl_err_set(err, SL_EBIND, "errors => 'dlq' needs a sink: dlq => file('bad.jsonl')");
    return -1;
  }
  const sl_expr *v = d->left;
  if (!v || v->kind != E_CALL) {
    sl_err_setpos(err, SL_EBIND, d->line, d->pos_col,
                  "dlq => takes a sink call: dlq => file('bad.jsonl') or kafka('topic')");
    return -1;
  }
  if (desc->errors && !sl_stricmp(desc->errors, "fail")) {
    sl_err_setpos(err, SL_EBIND, d->line, d->pos_col,
                  "dlq => and errors => 'fail' contradict each other");
    return -1;
  }
  sl_call dc = {.name = v->name, .line = v->line, .col = v->pos_col, .args = v->list};
  sl_sink *sink = sl_plan_check(plan, &dc, 1, NULL, &s->dlq_opts, err);
  if (!sink) return -1;
  int json = sink->format == &sl_fmt_json;
  sink->vt->close(sink);
  if (!json) {
    sl_err_setpos(err, SL_EBIND, v->line, v->pos_col,
                  "a dead-letter sink writes JSON lines: drop its format => option");
    return -1;
  }
  s->dlq_opts.exactly_once = 0; /* dead letters have no output ids */
  s->dlq_conn = sl_connector_find(v->name, strlen(v->name));
  return 0;
}

/* A source for connector call c (declared: a CREATE STREAM's columns, or
** NULL).  Its index, or -1 with err set. */
static int add_connector_source(sl_plan *plan, const char *name, const sl_call *call,
                                const sl_schema *declared, sl_err *err) {
  sl_options o;
  sl_call cc;
  sl_exprlist args;
  const sl_expr *dlq;
  split_dlq(call, &cc, &args, &dlq);
  const sl_call *c = &cc;
  sl_source *desc = sl_plan_check(plan, c, 0, declared, &o, err);
  if (!desc) {
    free(args.a);
    sl_options_free(&o);
    return -1;
  }
  sl_psource tmp = {0};
  if (check_dlq(plan, dlq, desc, &tmp, err)) {
    free(args.a);
    sl_options_free(&tmp.dlq_opts);
    desc->vt->close(desc);
    sl_options_free(&o);
    return -1;
  }
  free(args.a);
  if (declared && declared->ncol) {
    sl_schema_free(&desc->schema);
    sl_schema_copy(&desc->schema, declared);
  }
  /* changelog => 'op': the column op holds each row's kind (an open schema
  ** gets it now, a declared one must have it) */
  if (desc->changelog == SL_CHANGELOG_OP && sl_schema_find(&desc->schema, "op", 2) < 0) {
    if (!desc->schema.open) {
      sl_err_setpos(err, SL_EBIND, c->line, c->col,
                    "changelog => 'op' reads each row's kind from a column op: the source has "
                    "no such column (declare op TEXT)");
      desc->vt->close(desc);
      sl_options_free(&o);
      sl_options_free(&tmp.dlq_opts);
      return -1;
    }
    sl_schema_add(&desc->schema, "op", 2, "TEXT");
  }
  int k = add_source(plan, name, sl_connector_find(c->name, strlen(c->name)), &o, desc, NULL);
  plan->sources[k]->declared = declared && declared->ncol;
  plan->sources[k]->dlq_conn = tmp.dlq_conn;
  plan->sources[k]->dlq_opts = tmp.dlq_opts;
  plan->sources[k]->line = c->line;
  plan->sources[k]->col = c->col;
  return k;
}

static void psource_free(sl_psource *s) {
  if (s->desc) s->desc->vt->close(s->desc);
  sl_options_free(&s->opts);
  sl_options_free(&s->dlq_opts);
  sl_table_free(s->table);
  free(s->app_id);
  free(s->tops);
  free(s->name);
  free(s);
}

/* ---- queries -------------------------------------------------------------- */

static sl_pquery *new_query(sl_plan *plan, const char *id, int top) {
  sl_pquery *q = sl_calloc(1, sizeof *q);
  q->id = sl_strdup(id);
  q->top = top;
  q->out_stream = q->source = q->source2 = q->in_stream = q->in_stream2 = -1;
  q->max_mem = sl_setting_int(plan->ctx.cat, SL_SET_MAX_QUERY_MEMORY);
  memcpy(q->fp, plan->fp, sizeof q->fp);
  plan->queries = sl_realloc(plan->queries, sizeof(*plan->queries) * (size_t)(plan->nquery + 1));
  plan->queries[plan->nquery++] = q;
  return q;
}

static void query_free(sl_pquery *q) {
  for (int i = 0; i < q->nops; i++)
    q->ops[i].kind->free_spec(q->ops[i].spec);
  for (int i = 0; i < q->ncol; i++)
    free(q->names[i]);
  free(q->names);
  free(q->affs);
  free(q->key_cols);
  free(q->wtime);
  free(q->stage_of);
  free(q->repart_topic);
  free(q->ops);
  free(q->id);
  free(q);
}

/* ---- inputs: streams, tables, connectors -------------------------------------- */

static int plan_select(sl_plan *plan, const sl_select *sel, const char *id, int top, int out_stream,
                       sl_row_fn fn, void *ud, sl_err *err);
static int plan_select_body(sl_plan *plan, const sl_select *sel, const char *id, int top,
                            sl_input *in, sl_input *rin, sl_err *err);
static int plan_select_rest(sl_plan *plan, const sl_select *sel, sl_pquery *q, sl_input *in,
                            sl_exprlist *cols, sl_order_plan *ord, int agg, sl_err *err);

/* A WATERMARK ts - INTERVAL '5' SECOND (or ts - 5000): its lateness in ms
** (else 0); the parser took only these forms (sl_expr_watermark). */
static int64_t watermark_lateness(const sl_stmt *d) {
  const sl_expr *wm = d->watermark;
  if (wm && wm->kind == E_BINARY && wm->right &&
      (wm->right->kind == E_INTERVAL || wm->right->kind == E_INT))
    return wm->right->i;
  return 0;
}

/* The column a stream's WATERMARK is of (WATERMARK ts, ts - INTERVAL ...):
** its event time, or NULL. */
static const char *watermark_column(const sl_stmt *d) {
  const sl_expr *wm = d->watermark;
  if (wm && wm->kind == E_BINARY) wm = wm->left;
  return wm && wm->kind == E_COLUMN && !wm->tab ? wm->name : NULL;
}

/* Plan what stream k is made of: its query (AS SELECT) or its source. */
static int plan_stream_def(sl_plan *plan, int k, sl_err *err) {
  sl_pstream *si = plan->streams[k];
  const sl_stream *s = si->def;
  const sl_stmt *d = s->def;
  if (d->select) {
    int qi = plan_select(plan, d->select, s->name, 0, k, NULL, NULL, err);
    if (qi < 0) return -1;
    sl_pquery *q = plan->queries[qi];
    for (int c = 0; c < q->ncol; c++) {
      /* a repeated name becomes name:1, name:2 ... (SQLite's), so that
      ** SELECT * reads each column */
      char alt[256];
      const char *nm = q->names[c];
      for (int k = 1; sl_schema_find(&si->own, nm, strlen(nm)) >= 0; k++) {
        snprintf(alt, sizeof alt, "%.200s:%d", q->names[c], k);
        nm = alt;
      }
      int idx = sl_schema_add(&si->own, nm, strlen(nm), NULL);
      si->own.cols[idx].aff = q->affs[c];
    }
    si->query = qi;
    si->source = q->source;
    return 0;
  }
  int src = add_connector_source(plan, s->name, d->source, d->ncols ? &s->schema : NULL, err);
  if (src < 0) return -1;
  plan->sources[src]->head = SL_HEAD_STREAM;
  plan->sources[src]->head_index = k;
  si->source = src;
  return 0;
}

/* The stream's schema as its readers bind against it. */
static sl_schema *stream_schema(sl_plan *plan, const sl_pstream *si) {
  return si->query >= 0 ? (sl_schema *)&si->own : &plan->sources[si->source]->desc->schema;
}

/* Plan the reading of stream s, named by from: its definition is planned
** at its first reader (a fanout the later ones share).  0, or -1 with err
** set (also for a stream whose definition reaches the stream itself). */
static int plan_stream(sl_plan *plan, const sl_stream *s, const sl_call *from, sl_input *in,
                       sl_err *err) {
  int k = 0;
  while (k < plan->nstream && plan->streams[k]->def != s)
    k++;
  if (k == plan->nstream) {
    sl_pstream *si = sl_calloc(1, sizeof *si);
    si->def = s;
    si->query = si->source = -1;
    si->lateness = watermark_lateness(s->def);
    sl_schema_init(&si->own, 0);
    plan->streams = sl_realloc(plan->streams, sizeof(*plan->streams) * (size_t)(plan->nstream + 1));
    plan->streams[plan->nstream++] = si;
    /* the stream's own statement is what its source and query are made from */
    char saved[17];
    memcpy(saved, plan->fp, sizeof saved);
    sl_ckpt_fingerprint(s->def->sql, (size_t)s->def->sqllen, plan->fp);
    int rc = plan_stream_def(plan, k, err);
    memcpy(plan->fp, saved, sizeof saved);
    if (rc) return -1;
    const char *wc = watermark_column(s->def);
    const sl_schema *sch = stream_schema(plan, si);
    if (wc && !sch->open && sl_schema_find(sch, wc, strlen(wc)) < 0) {
      const sl_expr *wm = s->def->watermark;
      sl_err_setpos(err, SL_EBIND, wm->line, wm->pos_col,
                    "WATERMARK %s: stream %s has no such column", wc, s->name);
      return -1;
    }
  }
  sl_pstream *si = plan->streams[k];
  if (si->source < 0) { /* read while its definition is being planned */
    sl_err_setpos(err, SL_EBIND, from->line, from->col, "stream %s reads itself", s->name);
    return -1;
  }
  si->nreader++;
  in->source = si->source;
  in->stream = k;
  in->schema = stream_schema(plan, si);
  in->name = s->name;
  in->lateness = si->lateness;
  in->changes =
      si->query >= 0 ? plan->queries[si->query]->changes : sl_plan_source_changes(plan, si->source);
  in->proctime1 = si->query >= 0 ? plan->queries[si->query]->proctime1 : 0;
  in->evtime = si->query >= 0 ? NULL : watermark_column(s->def);
  in->wtime = si->query >= 0 ? plan->queries[si->query]->wtime : NULL;
  return 0;
}

/* sel planned as an anonymous stream (its own query feeding a fanout, as
** CREATE STREAM s AS SELECT is) read by in: FROM (SELECT ...), and each
** input of a UNION ALL of streams.  0, or -1 with err set. */
static int plan_anon_stream(sl_plan *plan, const sl_select *sel, const sl_call *from, sl_input *in,
                            sl_err *err) {
  sl_stmt *d = sl_arena_alloc(&plan->arena, sizeof *d);
  memset(d, 0, sizeof *d);
  d->kind = S_CREATE_STREAM;
  d->select = (sl_select *)sel;
  d->line = from->line;
  d->col = from->col;
  sl_stream *s = sl_arena_alloc(&plan->arena, sizeof *s);
  memset(s, 0, sizeof *s);
  char name[48];
  int *counter = plan->subq_counter ? plan->subq_counter : &plan->subq_count;
  snprintf(name, sizeof name, "(subquery %d)", ++*counter); /* numbered with the others */
  s->name = sl_arena_strndup(&plan->arena, name, strlen(name));
  d->name = s->name;
  /* its checkpoints belong to the statement it is part of: its text, for
  ** the fingerprint, is its name and that statement's fingerprint */
  char text[80];
  snprintf(text, sizeof text, "%s of %.16s", name, plan->fp);
  d->sql = sl_arena_strndup(&plan->arena, text, strlen(text));
  d->sqllen = (int)strlen(text);
  s->def = d;
  return plan_stream(plan, s, from, in, err);
}

/* FROM (SELECT ...): an anonymous stream, so it also reads unbounded input. */
static int plan_from_subquery(sl_plan *plan, const sl_call *from, sl_input *in, sl_err *err) {
  return plan_anon_stream(plan, from->sub, from, in, err);
}

static int plan_input1(sl_plan *plan, const sl_call *from, const char *id, sl_input *in,
                       sl_err *err) {
  memset(in, 0, sizeof *in);
  in->stream = -1;
  if (from && from->sub) {
    if (plan_from_subquery(plan, from, in, err)) return -1;
    if (from->nest) sl_plan_nest_tabs(plan, from, in);
    return 0;
  }
  if (from && from->stream) return plan_stream(plan, from->stream, from, in, err);
  if (!from) {
    /* A constant SELECT: its errors are the statement's own, unprefixed. */
    in->source = add_source(plan, "", NULL, NULL, NULL, NULL);
    return 0;
  }
  if (from->bare) {
    sl_table *t = sl_catalog_table(plan->ctx.cat, from->name);
    if (t) {
      in->source = add_source(plan, id, NULL, NULL, NULL, t);
      in->schema = &plan->sources[in->source]->desc->schema;
      in->name = t->name;
      return 0;
    }
    sl_stream *s = sl_catalog_stream(plan->ctx.cat, from->name);
    if (s) return plan_stream(plan, s, from, in, err);
    if (!sl_connector_find(from->name, strlen(from->name))) {
      sl_err_setpos(err, SL_EBIND, from->line, from->col, "no such stream or table: %s",
                    from->name);
      return -1;
    }
  }
  in->source = add_connector_source(plan, id, from, NULL, err);
  if (in->source < 0) return -1;
  in->changes = sl_plan_source_changes(plan, in->source);
  in->schema = &plan->sources[in->source]->desc->schema;
  in->name = from->name;
  return 0;
}

/* The input of a query: its source, stream or table (named by its alias if
** it has one).  0, or -1 with err set. */
static int plan_input(sl_plan *plan, const sl_call *from, const char *id, sl_input *in,
                      sl_err *err) {
  if (plan_input1(plan, from, id, in, err)) return -1;
  if (from && from->alias) in->name = from->alias;
  return 0;
}

/* Expand `*` in the select list into column references. */
static sl_exprlist *expand_star(sl_plan *plan, const sl_exprlist *cols, const sl_input *in,
                                sl_err *err) {
  int has_star = 0;
  for (int i = 0; i < cols->n; i++)
    has_star |= cols->a[i]->kind == E_STAR;
  if (!has_star) return (sl_exprlist *)cols;
  /* one input, or the two of a join of two streams (schema2: the right's) */
  const sl_schema *sch[2] = {in->schema, in->schema2};
  const char *qual[2] = {in->name, in->name2};
  int nside = in->schema2 ? 2 : 1;
  int width = 0;
  for (int k = 0; k < nside; k++)
    width += sch[k] ? sch[k]->ncol : 0;
  sl_exprlist *l = sl_plan_list(plan, cols->n * (width ? width : 1));
  for (int i = 0; i < cols->n; i++) {
    sl_expr *e = cols->a[i];
    if (e->kind != E_STAR) {
      l->names[l->n] = cols->names[i];
      l->a[l->n++] = e;
      continue;
    }
    int matched = 0;
    for (int k = 0; k < nside; k++) {
      /* t.* of a join: the side t names */
      if (nside > 1 && e->tab && !(qual[k] && !sl_stricmp(e->tab, qual[k]))) continue;
      matched = 1;
      if (!sch[k]) {
        sl_err_setpos(err, SL_EBIND, e->line, e->pos_col, "no tables specified");
        return NULL;
      }
      if (sch[k]->open) {
        sl_plan_star_open(e, err);
        return NULL;
      }
      for (int c = 0; c < sch[k]->ncol; c++) {
        sl_expr *x = sl_arena_alloc(&plan->arena, sizeof *x);
        memset(x, 0, sizeof *x);
        x->kind = E_COLUMN;
        x->name = sch[k]->cols[c].name;
        x->tab = nside > 1 ? qual[k] : NULL; /* a join's columns by their side */
        x->line = e->line;
        x->pos_col = e->pos_col;
        x->agg = -1;
        l->names[l->n] = NULL;
        l->a[l->n++] = x;
      }
    }
    if (!matched) {
      sl_err_setpos(err, SL_EBIND, e->line, e->pos_col, "no such table: %s", e->tab);
      return NULL;
    }
  }
  return l;
}

/* ---- outputs ------------------------------------------------------------------ */

/* A GROUP BY with a TUMBLE, HOP or SESSION window. */
static int has_window(const sl_select *sel) {
  for (int i = 0; sel->group && i < sel->group->n; i++) {
    const sl_expr *g = sel->group->a[i];
    if (g->kind == E_CALL && (!sl_stricmp(g->name, "tumble") || !sl_stricmp(g->name, "hop") ||
                              !sl_stricmp(g->name, "session")))
      return 1;
  }
  return 0;
}

/* What sink desc (checked) writes of q's rows into sp: with changelog =>
** 'op', a column op first (the query may not have one); an updating query
** into Kafka as upserts, keyed by key => or the GROUP BY columns (one of
** them is needed); other sinks leave take-backs out.  Sets err on error. */
static void sink_changelog(const sl_pquery *q, const sl_sink *desc, sl_sink_spec *sp,
                           const sl_call *into, sl_err *err) {
  sp->updating = q->changes == SL_UPDATING;
  if (desc->changelog == SL_CHANGELOG_OP) {
    for (int c = 0; c < q->ncol; c++)
      if (!sl_stricmp(q->names[c], "op")) {
        sl_err_setpos(err, SL_EBIND, into->line, into->col,
                      "changelog => 'op' writes each row's kind in a column op: the query has a "
                      "column op already (rename it with AS)");
        return;
      }
    return;
  }
  if (!sp->updating || strcmp(desc->vt->name, "kafka") || sp->key_col >= 0) return;
  if (!q->key_cols) {
    sl_err_setpos(err, SL_EBIND, into->line, into->col,
                  "an updating query (a changelog) is written to Kafka as upserts, keyed by its "
                  "GROUP BY columns: select every GROUP BY column (and window_start of a "
                  "window), or name the key with key => 'column', or write every change with "
                  "changelog => 'op'");
    return;
  }
  sp->key_cols = sl_calloc((size_t)q->nkey_cols, sizeof(int));
  memcpy(sp->key_cols, q->key_cols, sizeof(int) * (size_t)q->nkey_cols);
  sp->nkey_cols = q->nkey_cols;
}

/* ---- window bounds through queries ---------------------------------------------
** A window's bounds (TUMBLE, HOP: windows close in order of their end) never
** go down along a windowed aggregate's output, nor along the queries that
** read them (filters, projections, aggregates grouped by them): such
** columns are noted per query (sl_pquery.wtime).  A GROUP BY over them is
** an aggregate per window of its input (Flink's cascaded window
** aggregates: its groups are final once later windows come), and a join
** may take an equality between two of them as its time bound. */

/* A GROUP BY with TUMBLE or HOP (windows closed in order of their end). */
static int ordered_window(const sl_select *sel) {
  for (int i = 0; sel->group && i < sel->group->n; i++) {
    const sl_expr *g = sel->group->a[i];
    if (g->kind == E_CALL && (!sl_stricmp(g->name, "tumble") || !sl_stricmp(g->name, "hop")))
      return 1;
  }
  return 0;
}

/* The column of in (a single input) a plain column reference e names, by
** name, or -1. */
static int input_col(const sl_input *in, const sl_expr *e) {
  if (e->kind != E_COLUMN || !e->name || !in->schema || in->schema2 || in->ntabs) return -1;
  if (e->tab && !(in->name && !sl_stricmp(e->tab, in->name))) return -1;
  return sl_schema_find(in->schema, e->name, strlen(e->name));
}

/* 1 if GROUP BY has in's column c as a plain term. */
static int grouped_by(const sl_select *sel, const sl_input *in, int c) {
  for (int i = 0; sel->group && i < sel->group->n; i++)
    if (input_col(in, sel->group->a[i]) == c) return 1;
  return 0;
}

/* sel, or, when it groups (without a window, not EMIT CHANGES) by a window
** bound of its input, a copy grouped also by TUMBLE(that bound, 1 ms):
** each bound value its own window, closed once a later one comes (or the
** input ends), so the rows are final (a cascaded window aggregate). */
static const sl_select *cascade_window(sl_plan *plan, const sl_select *sel, const sl_input *in) {
  if (!sel->group || sel->emit_changes || !in->wtime || has_window(sel)) return sel;
  for (int i = 0; i < sel->group->n; i++) {
    sl_expr *g = sel->group->a[i];
    int c = input_col(in, g);
    if (c < 0 || !in->wtime[c]) continue;
    sl_expr *t = sl_arena_alloc(&plan->arena, sizeof *t);
    sl_expr *one = sl_arena_alloc(&plan->arena, sizeof *one);
    sl_expr *call = sl_arena_alloc(&plan->arena, sizeof *call);
    *t = *g;
    memset(one, 0, sizeof *one);
    one->kind = E_INT;
    one->i = 1;
    one->line = g->line;
    one->pos_col = g->pos_col;
    one->height = 1;
    one->agg = one->mcall = one->bcall = -1;
    memset(call, 0, sizeof *call);
    call->kind = E_CALL;
    call->name = "tumble";
    call->line = g->line;
    call->pos_col = g->pos_col;
    call->height = 1 + (g->height > 1 ? g->height : 1);
    call->agg = call->mcall = call->bcall = -1;
    call->list = sl_plan_list(plan, 2);
    call->list->a[call->list->n++] = t;
    call->list->a[call->list->n++] = one;
    sl_exprlist *group = sl_plan_list(plan, sel->group->n + 1);
    for (int k = 0; k < sel->group->n; k++)
      group->a[group->n++] = sel->group->a[k];
    group->a[group->n++] = call;
    sl_select *copy = sl_arena_alloc(&plan->arena, sizeof *copy);
    *copy = *sel;
    copy->group = group;
    return copy;
  }
  return sel;
}

/* q->wtime from its select list cols over input in: window_start and
** window_end of TUMBLE or HOP windows, and the input's window bounds that
** a projection passes or an ordered window's GROUP BY keeps as a key. */
static void note_wtime(const sl_select *sel, sl_pquery *q, const sl_input *in,
                       const sl_exprlist *cols) {
  int win = ordered_window(sel) && !sel->emit_changes;
  for (int i = 0; i < cols->n && i < q->ncol; i++) {
    const sl_expr *e = cols->a[i];
    if (e->kind != E_COLUMN || !e->name) continue;
    int c = input_col(in, e), w = 0;
    if (c >= 0)
      w = in->wtime && in->wtime[c] && (sel->group ? win && grouped_by(sel, in, c) : 1);
    else
      w = win && (!sl_stricmp(e->name, "window_start") || !sl_stricmp(e->name, "window_end"));
    if (!w) continue;
    if (!q->wtime) q->wtime = sl_calloc((size_t)q->ncol, 1);
    q->wtime[i] = 1;
  }
}

/* 1 when call (INTO's) is given option name, whatever its value. */
static int call_has_option(const sl_call *call, const char *name) {
  for (int i = 0; call->args && i < call->args->n; i++) {
    const sl_expr *e = call->args->a[i];
    if (e->kind == E_OPTION && e->name && !sl_stricmp(e->name, name)) return 1;
  }
  return 0;
}

/* INTO a connector: what the guarantee needs, then the sink checked and
** op_sink's spec.  0, or -1 with err set.
**
** Exactly once needs a state directory, except where the state is not
** there: a query whose source keeps its state per partition in Kafka
** (state_topic =>, docs/scale-out.md), whose sink must then be Kafka's
** (it reads back its outputs per partition, kafka_sink.c), and the writer
** of a repartition topic (origin => true), which writes at least once: its
** reader drops the copies a replay writes by their origin. */
static int plan_sink(sl_plan *plan, const sl_select *sel, sl_pquery *q, sl_err *err) {
  const sl_call *into = sel->into;
  if (into->bare && !sl_connector_find(into->name, strlen(into->name))) {
    sl_err_setpos(err, SL_EBIND, into->line, into->col, "no such sink: %s", into->name);
    return -1;
  }
  int pstate = sl_opt_find_unused(&plan->sources[q->source]->opts, "state_topic") != NULL;
  int no_dir = !sl_setting_text(plan->ctx.cat, SL_SET_STATE_DIR);
  if (sl_plan_exactly_once(plan) && no_dir && !pstate && !call_has_option(into, "origin")) {
    sl_err_setpos(err, SL_EBIND, into->line, into->col,
                  "processing.guarantee = 'exactly_once' needs a state directory (--state-dir "
                  "or SET state_dir)");
    return -1;
  }
  int aggregates = sel->group || sl_plan_is_aggregate(plan, sel, sel->cols);
  if (sl_plan_exactly_once(plan) &&
      ((aggregates && (sel->emit_changes || (!has_window(sel) && !sl_plan_bounded(plan, q)))) ||
       q->changes == SL_UPDATING)) {
    sl_err_setpos(err, SL_EBIND, into->line, into->col,
                  "processing.guarantee = 'exactly_once' needs results that are the same on "
                  "replay: a changelog (EMIT CHANGES, GROUP BY without a window) is not");
    return -1;
  }
  const sl_source *src = plan->sources[q->source]->desc;
  if (sl_plan_exactly_once(plan) && !src->vt->save_pos) {
    sl_err_set(err, SL_EBIND,
               "processing.guarantee = 'exactly_once' needs sources that can be replayed "
               "(kafka or a file), not %s()",
               src->vt->name);
    return -1;
  }
  sl_sink_spec *sp = sl_calloc(1, sizeof *sp);
  sl_sink *desc = sl_plan_check(plan, into, 1, NULL, &sp->opts, err);
  sp->key_col = -1;
  if (desc && desc->key_col) {
    for (int c = 0; c < q->ncol && sp->key_col < 0; c++)
      if (sl_stricmp(q->names[c], desc->key_col) == 0) sp->key_col = c;
    if (sp->key_col < 0 && !desc->key_implicit)
      sl_err_setpos(err, SL_EBIND, into->line, into->col,
                    "key => '%s': no such column in the query's result", desc->key_col);
  }
  if (desc && desc->part_cols && !err->code) { /* partition_by => columns of the result */
    int *pc = sl_calloc((size_t)(q->ncol ? q->ncol : 1), sizeof(int));
    if (sl_part_cols_resolve(desc->part_cols, q->ncol, q->names, pc, err) < 0) {
      err->line = into->line;
      err->col = into->col;
    }
    free(pc);
  }
  sp->conn = sl_connector_find(into->name, strlen(into->name));
  sp->line = into->line;
  sp->col = into->col;
  sp->opts.query_fp = q->fp;
  sp->ncol = q->ncol;
  sp->names = sl_calloc((size_t)(q->ncol ? q->ncol : 1), sizeof(char *));
  for (int c = 0; c < q->ncol; c++)
    sp->names[c] = sl_strdup(q->names[c]);
  if (desc && !err->code && sl_plan_exactly_once(plan)) {
    if (desc->want_origin) { /* a repartition topic: at least once (above) */
      sp->opts.exactly_once = 0;
    } else if (pstate && strcmp(desc->vt->name, "kafka")) {
      sl_err_setpos(err, SL_EBIND, into->line, into->col,
                    "processing.guarantee = 'exactly_once' with state_topic => writes INTO "
                    "kafka(...) only (it reads back its outputs per partition), not %s",
                    desc->vt->name);
    } else if (!pstate && no_dir) {
      sl_err_setpos(err, SL_EBIND, into->line, into->col,
                    "processing.guarantee = 'exactly_once' needs a state directory (--state-dir "
                    "or SET state_dir)");
    }
  }
  if (desc && !err->code) sink_changelog(q, desc, sp, into, err);
  if (desc) {
    sp->conn_name = desc->vt->name;
    sp->format = desc->format;
    sp->drop_key = desc->key_implicit;
    sp->changelog = desc->changelog;
    desc->vt->close(desc);
  }
  sl_plan_add_op(q, &sl_op_sink, sp); /* freed with the query, also on failure */
  q->into = 1;
  return err->code ? -1 : 0;
}

/* A running GROUP BY whose rows go to the caller or to a sink that leaves
** take-backs out (all but changelog => 'op') need not keep its groups'
** rows from before each batch, when it makes no -D either (no HAVING, an
** append-only input): op_aggregate then does not (the common running
** GROUP BY pays nothing for changelogs). */
static void no_take_backs(const sl_select *sel, sl_pquery *q) {
  if (sel->having || sel->distinct || q->changes != SL_UPDATING) return;
  const sl_opspec *last = &q->ops[q->nops - 1];
  if (last->kind == &sl_op_sink && ((const sl_sink_spec *)last->spec)->changelog) return;
  for (int k = 0; k < q->nops; k++)
    if (q->ops[k].kind == &sl_op_aggregate) {
      sl_agg_spec *sp = q->ops[k].spec;
      if (!sp->retract) sp->before_rows = 0;
    }
}

/* Where q's rows go: into a stream's fanout (out_stream >= 0), a sink, or
** the caller's fn. */
static int plan_output(sl_plan *plan, const sl_select *sel, sl_pquery *q, int out_stream,
                       sl_row_fn fn, void *ud, sl_err *err) {
  if (out_stream >= 0) {
    q->out_stream = out_stream;
    return 0;
  }
  if (sel->into) {
    if (plan_sink(plan, sel, q, err)) return -1;
    no_take_backs(sel, q);
    return 0;
  }
  sl_result_spec *r = sl_calloc(1, sizeof *r);
  r->ncol = q->ncol;
  r->names = sl_calloc((size_t)(q->ncol ? q->ncol : 1), sizeof(char *));
  for (int c = 0; c < q->ncol; c++)
    r->names[c] = sl_strdup(q->names[c]);
  r->fn = fn;
  r->ud = ud;
  sl_plan_add_op(q, &sl_op_result, r);
  no_take_backs(sel, q);
  return 0;
}

/* ---- a SELECT ------------------------------------------------------------------ */

/* The value of LIMIT's or OFFSET's expression e (a constant) into *out, as
** SQLite reads it: an integer, or text that is one.  0, or -1 with err set. */
static int limit_value(const sl_plan *plan, sl_expr *e, const char *what, int64_t *out,
                       sl_err *err) {
  sl_input none = {0};
  sl_bind b = sl_plan_binder(plan, &none, err);
  b.schema = NULL;
  if (sl_bind_expr(&b, e)) return -1;
  if (!e->is_const) {
    sl_err_setpos(err, SL_EBIND, e->line, e->pos_col, "%s must be a constant", what);
    return -1;
  }
  sl_value v = SL_VALUE_INIT;
  if (sl_expr_eval_const(e, &v, err)) return -1;
  sl_value_apply_affinity(&v, SL_AFF_INTEGER);
  int ok = v.type == SL_INTEGER;
  if (ok) *out = v.u.i;
  sl_value_free(&v);
  if (!ok) {
    sl_err_setpos(err, SL_EBIND, e->line, e->pos_col,
                  "%s: datatype mismatch (an integer is needed)", what);
    return -1;
  }
  return 0;
}

/* ORDER BY, SELECT DISTINCT and LIMIT/OFFSET: operators after the query's
** body, over its output columns cols (with ORDER BY's hidden ones, as ord
** resolved them; ord NULL without ORDER BY).  agg: the body aggregates.
** ORDER BY sorts before DISTINCT and LIMIT (with LIMIT and no DISTINCT it
** keeps only the rows it passes: top-N).  0, or -1 with err set. */
static int plan_tail(sl_plan *plan, const sl_select *sel, sl_pquery *q, const sl_exprlist *cols,
                     sl_order_plan *ord, int agg, sl_err *err) {
  int bounded = sl_plan_bounded(plan, q);
  int windowed = sel->group && has_window(sel);
  /* a changelog: each group's value as it changes, not a table */
  int running = (sel->group || agg) && (sel->emit_changes || (!windowed && !bounded));
  if (sel->distinct && running) {
    sl_err_set(err, SL_EBIND,
               "SELECT DISTINCT over a running GROUP BY is not supported: its rows are a "
               "changelog (each group's value as it changes), not a table; group by a window "
               "(TUMBLE, HOP, SESSION) to get final rows, or read a bounded input");
    return -1;
  }
  if (sel->order && q->changes == SL_UPDATING && !running) {
    const sl_expr *e = sel->order->a[0].e;
    return sl_plan_append_only(q->changes, "ORDER BY",
                               "sorted rows cannot be taken back; aggregate the changelog first",
                               e->line, e->pos_col, err);
  }
  if (sel->order && (running || (!bounded && !windowed))) {
    const sl_expr *e = sel->order->a[0].e;
    sl_err_setpos(err, SL_EBIND, e->line, e->pos_col,
                  running ? "ORDER BY over a running aggregate is not supported: its rows are a "
                            "changelog, not a table; group by a window (TUMBLE, HOP, SESSION) "
                            "to sort each window's rows, or read a bounded input"
                          : "ORDER BY over an unbounded stream would wait for its end forever: "
                            "sort each window's rows (GROUP BY TUMBLE(ts, INTERVAL '1' MINUTE), "
                            "... ORDER BY ... LIMIT n), or read a bounded input (a file, a table, "
                            "kafka(..., stop => 'end'))");
    return -1;
  }
  int64_t limit = -1, offset = 0;
  if (sel->limit && (limit_value(plan, sel->limit, "LIMIT", &limit, err) ||
                     (sel->offset && limit_value(plan, sel->offset, "OFFSET", &offset, err))))
    return -1;
  if (limit < 0) limit = -1; /* as SQLite: a negative LIMIT is none */
  if (offset < 0) offset = 0;
  int limited = sel->limit != NULL;
  if (sel->order) {
    /* unbounded: windows closed together are sorted (and limited) apart */
    int per_batch = !bounded;
    int topn = per_batch || !sel->distinct;
    sl_plan_sort(plan, q, ord, cols, topn ? limit : -1, topn ? offset : 0, per_batch);
    if (topn) limited = 0;
  }
  if (sel->distinct && sel->from) { /* over one row (no FROM) it changes nothing */
    sl_distinct_spec *d = sl_calloc(1, sizeof *d);
    d->ncol = q->ncol;
    d->counted = q->changes == SL_UPDATING;
    for (int c = 0; cols && c < q->ncol && c < cols->n; c++) { /* each column's collation */
      sl_coll coll = sl_compare_coll(cols->a[c], cols->a[c]);
      if (coll == SL_COLL_BINARY) continue;
      if (!d->colls) d->colls = sl_calloc((size_t)q->ncol, 1);
      d->colls[c] = (unsigned char)coll;
    }
    sl_plan_add_op(q, &sl_op_distinct, d);
  }
  if (!limited) return 0;
  sl_limit_spec *l = sl_calloc(1, sizeof *l);
  l->limit = limit;
  l->offset = offset;
  sl_plan_add_op(q, &sl_op_limit, l);
  return 0;
}

/* The tail of a compound's query q (its rows made): ORDER BY over its
** result columns, DISTINCT, LIMIT.  0, or -1 with err set. */
static int compound_tail(sl_plan *plan, const sl_select *sel, sl_pquery *q, sl_err *err) {
  if (!sel->order) return plan_tail(plan, sel, q, NULL, NULL, 0, err);
  sl_order_plan ord = {0};
  sl_exprlist *cols = sl_plan_order_result(plan, sel->order, q, &ord, err);
  int rc = cols ? plan_tail(plan, sel, q, cols, &ord, 0, err) : -1;
  sl_order_plan_free(&ord);
  return rc;
}

/* a UNION ALL b where a or b reads a stream: each an anonymous stream,
** merged by op_merge (a feeds it, b its port: two tasks); then the tail
** and the output as for any query.  The query's index, or -1 with err. */
static int plan_merge(sl_plan *plan, const sl_select *sel, const char *id, int top, int out_stream,
                      sl_row_fn fn, void *ud, sl_err *err) {
  sl_input a, b;
  sl_call at = {.name = "(subquery)"};
  if (plan_anon_stream(plan, sel->prior, &at, &a, err) ||
      plan_anon_stream(plan, sel->arm, &at, &b, err))
    return -1;
  const sl_pquery *qa = plan->queries[plan->streams[a.stream]->query];
  const sl_pquery *qb = plan->queries[plan->streams[b.stream]->query];
  if (sl_plan_append_only(qa->changes, "UNION ALL of streams", "read append-only streams", 0, 0,
                          err) ||
      sl_plan_append_only(qb->changes, "UNION ALL of streams", "read append-only streams", 0, 0,
                          err))
    return -1;
  if (qa->ncol != qb->ncol) {
    sl_err_set(err, SL_EBIND,
               "SELECTs to the left and right of UNION ALL do not have the same number of "
               "result columns");
    return -1;
  }
  sl_pquery *q = new_query(plan, id, top);
  int qi = plan->nquery - 1;
  q->source = a.source;
  q->in_stream = a.stream;
  q->source2 = b.source;
  q->in_stream2 = b.stream;
  q->ncol = qa->ncol;
  q->names = sl_calloc((size_t)(q->ncol ? q->ncol : 1), sizeof(char *));
  q->affs = sl_calloc((size_t)(q->ncol ? q->ncol : 1), 1);
  for (int c = 0; c < q->ncol; c++) {
    q->names[c] = sl_strdup(qa->names[c]);
    q->affs[c] = qa->affs[c];
  }
  sl_merge_spec *m = sl_calloc(1, sizeof *m);
  m->ncol = q->ncol;
  m->left = sl_strdup(plan->streams[a.stream]->def->name);
  m->right = sl_strdup(plan->streams[b.stream]->def->name);
  sl_plan_add_op(q, &sl_op_merge, m);
  if (compound_tail(plan, sel, q, err) || plan_output(plan, sel, q, out_stream, fn, ud, err))
    return -1;
  return qi;
}

/* FROM s JOIN t FOR SYSTEM_TIME AS OF x: Flink's lookup join, which is what
** a join of a stream with a table is here (the table's rows as they are
** when the stream's row is joined).  x must be the stream's processing
** time (in, the first item's input: its PROCTIME() column, by name,
** qualified by the item's alias or name or not at all); t a table, not a
** stream (ij: the join is one of two streams).  0, or -1 with err set. */
static int check_as_of(const sl_select *sel, const sl_input *in, int ij, sl_err *err) {
  const sl_call *first = sel->from;
  for (const sl_call *c = first; c; c = c->join) {
    const sl_expr *x = c->as_of;
    if (!x) continue;
    /* pos1: the place as written when the planner moved a stream first */
    int written_first = c->pos1 ? c->pos1 == 1 : c == first;
    if (written_first || c == first || ij) {
      sl_err_setpos(err, SL_EBIND, x->line, x->pos_col,
                    "FOR SYSTEM_TIME AS OF is a lookup of a table joined to a stream: %s is %s",
                    c->alias ? c->alias : c->name,
                    written_first ? "the first item of FROM" : "a stream");
      return -1;
    }
    const char *fname = first->alias ? first->alias : first->name;
    int pc = in->proctime1 - 1;
    if (x->kind != E_COLUMN || pc < 0 || !in->schema || pc >= in->schema->ncol ||
        sl_stricmp(x->name, in->schema->cols[pc].name) || (x->tab && sl_stricmp(x->tab, fname))) {
      sl_err_setpos(err, SL_EBIND, x->line, x->pos_col,
                    "FOR SYSTEM_TIME AS OF takes the processing time of the stream joined (its "
                    "PROCTIME() column): a temporal join in event time is not supported");
      return -1;
    }
  }
  return 0;
}

/* Plan sel as query id: its input, body and output.  top: the caller's
** query (else a stream's own, whose rows go to stream out_stream).  The
** query's index, or -1 with err set. */
static int plan_select(sl_plan *plan, const sl_select *sel, const char *id, int top, int out_stream,
                       sl_row_fn fn, void *ud, sl_err *err) {
  sl_input in, rin;
  if (sel->op == SL_UNION_ALL &&
      !(sl_plan_select_bounded(plan, sel->prior) && sl_plan_select_bounded(plan, sel->arm)))
    return plan_merge(plan, sel, id, top, out_stream, fn, ud, err);
  if (sel->op) { /* a compound: its arms are subqueries, its rows op_compound's */
    if (plan_input(plan, NULL, id, &in, err)) return -1;
    sl_pquery *q = new_query(plan, id, top);
    int qi = plan->nquery - 1;
    q->source = in.source;
    plan->sources[in.source]->head = SL_HEAD_QUERY;
    plan->sources[in.source]->head_index = qi;
    if (sl_plan_compound(plan, sel, q, err) || compound_tail(plan, sel, q, err) ||
        plan_output(plan, sel, q, out_stream, fn, ud, err))
      return -1;
    return qi;
  }
  sel = sl_plan_join_reorder(plan, sel);   /* FROM t, stream: the stream first */
  sel = sl_plan_join_nest(plan, sel, err); /* FROM a JOIN b ... JOIN c: (a JOIN b ...) JOIN c */
  if (!sel) return -1;
  sel = sl_plan_topn_view(plan, sel); /* FROM s WHERE rn <= N, s ranking: FROM (s's SELECT) */
  sl_plan_note_topn(plan, sel);       /* FROM (SELECT ..., ROW_NUMBER() ...) WHERE rn <= N */
  int ij = sl_plan_is_interval_join(sel) || sl_plan_is_stream_join(plan, sel);
  if (plan_input(plan, sel->from, id, &in, err) ||
      (ij && plan_input(plan, sel->from->join, id, &rin, err)) || check_as_of(sel, &in, ij, err))
    return -1;
  int qi = plan_select_body(plan, sel, id, top, &in, ij ? &rin : NULL, err);
  if (qi < 0) return -1;
  if (plan_output(plan, sel, plan->queries[qi], out_stream, fn, ud, err)) return -1;
  return qi;
}

/* The query of plan_select: its body (joins, then GROUP BY or aggregates,
** or the select list) and tail (ORDER BY, DISTINCT, LIMIT).  Its index, or
** -1 with err set. */
static int plan_select_body(sl_plan *plan, const sl_select *sel, const char *id, int top,
                            sl_input *in_, sl_input *rin, sl_err *err) {
  sl_input in = *in_;
  int ij = rin != NULL;
  sl_pquery *q = new_query(plan, id, top);
  int qi = plan->nquery - 1;
  q->source = in.source;
  if (in.stream < 0) {
    plan->sources[in.source]->head = SL_HEAD_QUERY;
    plan->sources[in.source]->head_index = qi;
  }
  q->in_stream = in.stream;
  const sl_select *body = sel; /* sel without the WHERE terms a join took */
  if (sel->from && sel->from->join &&
      (sl_plan_append_only(in.changes, "a join",
                           "its kept records cannot be taken back yet; aggregate the changelog "
                           "first or join an append-only stream",
                           sel->from->line, sel->from->col, err) ||
       (ij && sl_plan_append_only(rin->changes, "a join",
                                  "its kept records cannot be taken back yet; join an "
                                  "append-only stream",
                                  sel->from->join->line, sel->from->join->col, err))))
    return -1;
  if (sel->from && sel->from->join && sl_plan_join(plan, sel, qi, &in, ij ? rin : NULL, &body, err))
    return -1;
  sel = cascade_window(plan, body, &in);
  sl_exprlist *cols = in.ntabs ? sl_plan_expand_star_tabs(plan, sel->cols, &in, err)
                               : expand_star(plan, sel->cols, &in, err);
  if (!cols) return -1;
  int agg = sl_plan_is_aggregate(plan, sel, cols);
  /* an outer join of two streams without a time bound is updating: what
  ** reads its rows reads their kinds (a GROUP BY takes rows back with
  ** xInverse; windows and aggregates without an inverse are refused there) */
  if (ij && q->changes == SL_UPDATING) in.changes = SL_UPDATING;
  if (ij && q->changes == SL_UPDATING && (sel->distinct || sel->order)) {
    sl_err_setpos(err, SL_EBIND, sel->from->line, sel->from->col,
                  "an outer join of two streams without a time bound is updating (a row joined "
                  "with NULLs is taken back when its match comes): DISTINCT and ORDER BY over "
                  "it are not supported; aggregate it (GROUP BY), give the join a time bound "
                  "(b.ts BETWEEN a.ts AND a.ts + INTERVAL ...) or make it an inner join");
    return -1;
  }
  if (!sel->group && !agg && sel->emit_changes) {
    sl_err_set(err, SL_EBIND, "EMIT CHANGES needs GROUP BY or an aggregate");
    return -1;
  }
  /* ORDER BY's terms that are not result columns: hidden columns after them */
  sl_order_plan ord = {0};
  if (sel->order && !(cols = sl_plan_order_cols(plan, sel->order, cols, &ord, err))) {
    sl_order_plan_free(&ord);
    return -1;
  }
  int rc = plan_select_rest(plan, sel, q, &in, cols, &ord, agg, err);
  if (!rc && !ij) note_wtime(sel, q, &in, cols);
  sl_order_plan_free(&ord);
  return rc ? -1 : qi;
}

/* The rest of plan_select_body: GROUP BY, aggregates or the select list
** cols, then the tail.  0, or -1 with err set. */
static int plan_select_rest(sl_plan *plan, const sl_select *sel, sl_pquery *q, sl_input *in_,
                            sl_exprlist *cols, sl_order_plan *ord, int agg, sl_err *err) {
  sl_input in = *in_;
  if (sel->group && !sel->from) {
    sl_err_set(err, SL_EBIND, "GROUP BY needs FROM");
    return -1;
  }
  int windowed = 0;
  for (int i = 0; i < cols->n && !windowed; i++)
    windowed = sl_plan_has_window(cols->a[i]);
  if (windowed ? sl_plan_window(plan, sel, q, &in, cols, agg, err)
      : sel->group || agg
          ? sl_plan_grouped(plan, sel, q, &in, cols, sel->order ? ord->nvis : cols->n, err)
          : sl_plan_project(plan, sel, q, &in, cols, err))
    return -1;
  /* a filter and a projection pass the row kinds on (op_aggregate and the
  ** window operators set their own: a Top-N is updating over an append-only
  ** input) */
  if (!sel->group && !agg && !windowed) q->changes = in.changes;
  if (plan_tail(plan, sel, q, cols, sel->order ? ord : NULL, agg, err)) return -1;
  return 0;
}

/* Note that source s feeds the caller's query qi (once). */
static void source_add_top(sl_psource *s, int qi) {
  for (int i = 0; i < s->ntop; i++)
    if (s->tops[i] == qi) return;
  s->tops = sl_realloc(s->tops, sizeof(*s->tops) * (size_t)(s->ntop + 1));
  s->tops[s->ntop++] = qi;
}

int sl_plan_select_rows(sl_plan *plan, const sl_select *sel, const char *id, sl_row_fn fn, void *ud,
                        sl_err *err) {
  int ns0 = plan->nsource;
  int qi = plan_select(plan, sel, id, 1, -1, fn, ud, err);
  if (qi < 0) return -1;
  sl_pquery *q = plan->queries[qi];
  if (sl_plan_append_only(q->changes, "a subquery",
                          "its rows are read as a table; aggregate the changelog in it", 0, 0, err))
    return -1;
  for (int i = ns0; i < plan->nsource; i++)
    source_add_top(plan->sources[i], qi);
  source_add_top(plan->sources[q->source], qi);
  if (q->source2 >= 0) source_add_top(plan->sources[q->source2], qi);
  return qi;
}

/* ---- parallel tasks ------------------------------------------------------------ */

/* 1 when operator spec o keeps no state (a projection, a model's scoring). */
static int stateless_op(const sl_opspec *o) {
  return o->kind == &sl_op_project || o->kind == &sl_op_score;
}

/* The index of q's GROUP BY where its parallel tasks may meet at an
** exchange (op_exchange.c), or -1: projections before it, projections
** after it up to the sink, and a GROUP BY that has keys to send rows by,
** reads an append-only input, trains no model (a model's trainer is one),
** emits its windows one batch each only without an ORDER BY per window
** (whose order one lane cannot give), and whose aggregates' results do not
** depend on the order of their rows (SL_FUNC_ANYORDER), which a lane,
** taking rows from every task, does not keep. */
static int exchange_point(const sl_pquery *q) {
  int a = 0;
  while (a < q->nops - 1 && stateless_op(&q->ops[a]))
    a++;
  if (a >= q->nops - 1 || q->ops[a].kind != &sl_op_aggregate) return -1;
  for (int k = a + 1; k < q->nops - 1; k++)
    if (!stateless_op(&q->ops[k])) return -1;
  const sl_agg_spec *sp = q->ops[a].spec;
  if (!sp->nkeys || !sp->route || sp->one_row || sp->retract || sp->nheld || sp->flush_per_window)
    return -1;
  for (int k = 0; k < sp->naggs; k++) /* a lane gets a group's rows in no defined order */
    if (!(sp->aggs[k].func->flags & SL_FUNC_ANYORDER)) return -1;
  return a;
}

/* Why query q cannot run as parallel copies of its operators (static
** text), or NULL when it can: it is one of the caller's, fed by its own
** source only, writes INTO a sink, and either keeps no state (every
** operator before the sink is a projection or a model's scoring) or keeps
** it in a GROUP BY whose rows an exchange can send by key (*xat: its
** index, else -1). */
static const char *serial_query(const sl_plan *plan, const sl_pquery *q, int *xat) {
  *xat = -1;
  if (!q->top || q->out_stream >= 0 || q->in_stream2 >= 0 || q->source2 >= 0)
    return "its source feeds a named stream or a join of two inputs";
  if (!q->into || q->ops[q->nops - 1].kind != &sl_op_sink)
    return "its rows go to the caller, in order, on the caller's thread";
  if (plan->nsubq) return "it runs subqueries";
  for (int k = 0; k < q->nops - 1; k++)
    if (!stateless_op(&q->ops[k])) {
      *xat = exchange_point(q);
      return *xat >= 0 ? NULL
                       : "it keeps state other than a GROUP BY with keys whose aggregates "
                         "do not depend on row order (global aggregates, group_concat, "
                         "any_value, max_by, C aggregates, joins, DISTINCT, OVER, ORDER BY, "
                         "LIMIT, model training and aggregates over a changelog run as one "
                         "task)";
    }
  return NULL;
}

/* Settle how many parallel tasks source si may run as (sl_psource.parallel):
** SET parallelism (0: the number of cores) when the source can be divided
** (a file of lines or CSV records, a Kafka group) and its query allows it,
** else 1 with the reason EXPLAIN gives. */
/* The one query reading plain stream k (a stream of a source, without a
** query of its own), or -1 when none or several do. */
static int sole_reader(const sl_plan *plan, int k) {
  int qi = -1;
  for (int i = 0; i < plan->nquery; i++)
    if (plan->queries[i]->in_stream == k || plan->queries[i]->in_stream2 == k) {
      if (qi >= 0) return -1;
      qi = i;
    }
  return qi;
}

static void plan_parallel(sl_plan *plan, int si) {
  sl_psource *s = plan->sources[si];
  s->parallel = 1;
  s->exchange_at = -1;
  s->par_query = -1;
  s->serial_why = NULL;
  int64_t want = sl_setting_int(plan->ctx.cat, SL_SET_PARALLELISM);
  if (want == 0) {
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    want = cores > 1 ? cores : 1;
  }
  if (want <= 1 || !s->conn) return;
  s->min_split = sl_setting_int(plan->ctx.cat, SL_SET_MIN_SPLIT_BYTES);
  const char *fmt = s->desc->format ? s->desc->format->name : "";
  int lines = !strcmp(fmt, "json") || !strcmp(fmt, "csv") || !strcmp(fmt, "raw");
  if (s->conn == &sl_conn_file ? !lines : strcmp(s->conn->name, "kafka") || s->desc->bounded) {
    s->serial_why = "its source is not divided (a file of JSON lines, CSV or raw lines is, and "
                    "so is a continuous Kafka read)";
    return;
  }
  if (s->conn == &sl_conn_file && sl_plan_source_changes(plan, si) == SL_UPDATING) {
    /* a changelog's changes of one row must meet the sink in their order */
    s->serial_why = "its source is a changelog, whose changes are read in order";
    return;
  }
  int qi = s->head == SL_HEAD_QUERY    ? s->head_index
           : s->head == SL_HEAD_STREAM ? sole_reader(plan, s->head_index)
                                       : -1;
  if (qi < 0) {
    s->serial_why = "its source feeds a named stream read by several queries, or a join of two "
                    "inputs";
    return;
  }
  if (s->dlq_conn) {
    s->serial_why = "its source has a dead-letter sink";
    return;
  }
  if (sl_setting_text(plan->ctx.cat, SL_SET_STATE_DIR)) {
    s->serial_why = "a state directory checkpoints one task per source";
    return;
  }
  s->serial_why = serial_query(plan, plan->queries[qi], &s->exchange_at);
  if (!s->serial_why) {
    s->parallel = (int)want;
    s->par_query = qi;
  }
}

static void query_identity(const sl_plan *plan, const char *sql, int n, char out[17]);

/* Plan sel, the SELECT of statement stmt (or one of its stages), as the
** caller's query id: planned, its text noted (its identity), the sources
** it feeds and their parallel tasks settled.  Its index, or -1 with err. */
static int plan_top(sl_plan *plan, const sl_stmt *stmt, const sl_select *sel, const char *id,
                    sl_row_fn fn, void *ud, sl_err *err) {
  int ns0 = plan->nsource;
  /* constants folded while planning stay under the query's limit on values
  ** (one over it is not folded: its rows fail at run time) */
  int64_t mem = sl_setting_int(plan->ctx.cat, SL_SET_MAX_QUERY_MEMORY);
  size_t max_len = sl_max_length_set(mem > 0 && mem < SL_MAX_LENGTH ? (size_t)mem : 0);
  int qi = plan_select(plan, sel, id, 1, -1, fn, ud, err);
  sl_max_length_set(max_len);
  if (qi < 0) return -1;
  sl_pquery *q = plan->queries[qi];
  SL_ASSERT(q->top && q->nops > 0 && q->source >= 0);
  q->sql = stmt->sql;
  q->sqllen = stmt->sqllen;
  /* the sources it feeds: those made for it, and a shared stream's */
  for (int i = ns0; i < plan->nsource; i++)
    source_add_top(plan->sources[i], qi);
  source_add_top(plan->sources[q->source], qi);
  if (q->source2 >= 0) source_add_top(plan->sources[q->source2], qi);
  for (int i = ns0; i < plan->nsource; i++)
    plan_parallel(plan, i);
  /* a stream made before: it has one more reader, which may change how
  ** its source runs */
  if (q->source < ns0 && plan->sources[q->source]->head == SL_HEAD_STREAM)
    plan_parallel(plan, q->source);
  if (q->source2 >= 0 && q->source2 < ns0 && plan->sources[q->source2]->head == SL_HEAD_STREAM)
    plan_parallel(plan, q->source2);
  return qi;
}

/* stmt split by rp (plan_repart.c): stage 1 as query <id>_repartition,
** stage 2 as query id, both named by the identity ident.  Stage 2's index,
** or -1 with err set. */
static int plan_stages(sl_plan *plan, const sl_stmt *stmt, const sl_repart *rp, const char *ident,
                       const char *id, sl_row_fn fn, void *ud, sl_err *err) {
  char id1[64];
  snprintf(id1, sizeof id1, "%s_repartition", id);
  int q1 = plan_top(plan, stmt, rp->stage1, id1, NULL, NULL, err);
  if (q1 < 0) return -1;
  sl_pquery *a = plan->queries[q1];
  a->stage = 1;
  memcpy(a->ident, ident, sizeof a->ident);
  a->stage_of = sl_strdup(id);
  a->repart_topic = sl_strdup(rp->topic);
  int q2 = plan_top(plan, stmt, rp->stage2, id, fn, ud, err);
  if (q2 < 0) return -1;
  sl_pquery *b = plan->queries[q2];
  b->stage = 2;
  memcpy(b->ident, ident, sizeof b->ident);
  b->repart_topic = sl_strdup(rp->topic);
  return q2;
}

int sl_plan_query(sl_plan *plan, const sl_stmt *stmt, sl_row_fn fn, void *ud, sl_err *err) {
  char id[32];
  snprintf(id, sizeof id, "q%d", ++*plan->ctx.nquery);
  sl_ckpt_fingerprint(stmt->sql, (size_t)stmt->sqllen, plan->fp);
  if (sl_setting_int(plan->ctx.cat, SL_SET_REPARTITION) && stmt->sql) {
    char ident[17];
    query_identity(plan, stmt->sql, stmt->sqllen, ident);
    sl_repart rp;
    if (sl_plan_repart_split(plan, stmt->select, ident, &rp))
      return plan_stages(plan, stmt, &rp, ident, id, fn, ud, err);
  }
  return plan_top(plan, stmt, stmt->select, id, fn, ud, err);
}

/* ---- query identity ------------------------------------------------------------ */

/* sql[0..n) normalized into out: its tokens one space apart, comments and
** layout dropped, keywords in lower case, so the same query written
** otherwise has the same text.  Names keep their case: a column's name as
** written is its output's name. */
static void normalize_sql(const char *sql, int n, sl_buf *out) {
  char *z = sl_malloc((size_t)n + 1); /* the tokenizer reads to a NUL */
  memcpy(z, sql, (size_t)n);
  z[n] = 0;
  for (int i = 0; i < n;) {
    int tk, len = sl_get_token(z + i, &tk);
    if (len <= 0) len = 1;
    if (tk != TK_SPACE) {
      if (out->n) sl_buf_putc(out, ' ');
      for (int k = 0; k < len && i + k < n; k++)
        sl_buf_putc(out, tk == TK_STRING || tk == TK_ID ? z[i + k]
                                                        : (char)tolower((unsigned char)z[i + k]));
    }
    i += len;
  }
  free(z);
}

/* How many top queries among the first n of plan have the normalized
** text norm (a split query counted once, by its stage 1). */
static int seen_before(const sl_plan *plan, int n, const sl_buf *norm) {
  sl_buf other;
  sl_buf_init(&other);
  int seen = 0;
  for (int j = 0; j < n; j++) {
    const sl_pquery *p = plan->queries[j];
    if (!p->top || !p->sql || p->stage == 2) continue;
    sl_buf_reset(&other);
    normalize_sql(p->sql, p->sqllen, &other);
    seen += other.n == norm->n && (!norm->n || !memcmp(other.z, norm->z, norm->n));
  }
  sl_buf_free(&other);
  return seen;
}

/* The identity of a query of text sql[0..n) planned next in plan: what
** sl_plan_source_identity gives a source feeding it alone. */
static void query_identity(const sl_plan *plan, const char *sql, int n, char out[17]) {
  sl_buf b, mine;
  sl_buf_init(&b);
  sl_buf_init(&mine);
  normalize_sql(sql, n, &mine);
  sl_buf_printf(&b, "%d:", seen_before(plan, plan->nquery, &mine));
  if (mine.n) sl_buf_append(&b, mine.z, mine.n);
  sl_buf_putc(&b, ';');
  sl_ckpt_fingerprint(b.z, b.n, out);
  sl_buf_free(&b);
  sl_buf_free(&mine);
}

void sl_plan_source_identity(const sl_plan *plan, int i, char out[17]) {
  const sl_psource *ps = plan->sources[i];
  /* a stage of a split query: the query's identity as written */
  if (ps->ntop == 1 && plan->queries[ps->tops[0]]->ident[0]) {
    memcpy(out, plan->queries[ps->tops[0]]->ident, 17);
    return;
  }
  sl_buf b, mine;
  sl_buf_init(&b);
  sl_buf_init(&mine);
  for (int k = 0; k < ps->ntop; k++) {
    const sl_pquery *q = plan->queries[ps->tops[k]];
    sl_buf_reset(&mine);
    if (q->sql)
      normalize_sql(q->sql, q->sqllen, &mine);
    else
      sl_buf_printf(&mine, "%s", q->fp);
    /* the same text twice in one plan: two queries, two identities */
    sl_buf_printf(&b, "%d:", seen_before(plan, ps->tops[k], &mine));
    if (mine.n) sl_buf_append(&b, mine.z, mine.n);
    sl_buf_putc(&b, ';');
  }
  if (!ps->ntop) sl_buf_printf(&b, "%s", ps->fp);
  sl_ckpt_fingerprint(b.z ? b.z : "", b.n, out);
  sl_buf_free(&b);
  sl_buf_free(&mine);
}

/* ---- EXPLAIN ------------------------------------------------------------------- */

void sl_plan_source_detail(const sl_plan *plan, int i, sl_buf *out) {
  const sl_psource *s = plan->sources[i];
  if (s->desc->vt->explain) {
    char feeds[17];
    sl_plan_source_identity(plan, i, feeds);
    s->desc->vt->explain(s->desc, feeds, out);
  }
  if (s->parallel > 1 && s->conn == &sl_conn_file)
    sl_buf_printf(out, ", up to %d parallel tasks (claiming chunks of %lld bytes)", s->parallel,
                  (long long)s->min_split);
  else if (s->parallel > 1)
    sl_buf_printf(out, ", %d parallel tasks (consumers of the group)", s->parallel);
  if (s->parallel > 1 && s->exchange_at >= 0)
    sl_buf_puts(out, ", rows exchanged between them by the GROUP BY key");
  else if (s->parallel <= 1 && s->serial_why)
    sl_buf_printf(out, ", one task: %s", s->serial_why);
  for (int k = 0; k < s->ntop; k++) { /* a stage of a split query: its topic */
    const sl_pquery *q = plan->queries[s->tops[k]];
    if (q->stage == 1)
      sl_buf_printf(out, ", repartitioned into topic %s by the GROUP BY key (stage 1 of %s)",
                    q->repart_topic, q->stage_of);
    else if (q->stage == 2)
      sl_buf_printf(out, ", reads repartition topic %s (stage 2 of %s)", q->repart_topic, q->id);
  }
}

void sl_plan_explain(const sl_plan *plan, sl_buf *out) {
  for (int i = 0; i < plan->nsource; i++) {
    const sl_psource *s = plan->sources[i];
    const sl_source *d = s->desc;
    sl_buf_printf(out, "task%s%s: source %s", s->name[0] ? " " : "", s->name, d->vt->name);
    if (!d->vt->read_rows) sl_buf_printf(out, ", format %s", d->format->name);
    sl_plan_source_detail(plan, i, out);
    sl_buf_printf(out, ", %d column%s", d->schema.ncol, d->schema.ncol == 1 ? "" : "s");
    for (int c = 0; c < d->schema.ncol; c++)
      sl_buf_printf(out, "%s%s", c ? ", " : " (", d->schema.cols[c].name);
    sl_buf_printf(out, "%s\n", d->schema.ncol ? ")" : "");
  }
  for (int i = 0; i < plan->nstream; i++) {
    const sl_pstream *st = plan->streams[i];
    const sl_psource *src = st->query < 0 && st->source >= 0 ? plan->sources[st->source] : NULL;
    if (src && src->parallel > 1 && src->par_query >= 0)
      sl_buf_printf(out, "stream %s: read by one query, whose parallel tasks read its source\n",
                    st->def->name);
    else
      sl_buf_printf(out, "stream %s: computed once, fanout\n", st->def->name);
  }
  for (int i = 0; i < plan->nquery; i++) {
    const sl_pquery *q = plan->queries[i];
    if (q->stage == 1)
      sl_buf_printf(out, "query %s: stage 1 of %s, into repartition topic %s\n", q->id, q->stage_of,
                    q->repart_topic);
    else if (q->stage == 2)
      sl_buf_printf(out, "query %s: stage 2, from repartition topic %s\n", q->id, q->repart_topic);
    else
      sl_buf_printf(out, "query %s:\n", q->id);
    for (int k = 0; k < q->nops; k++)
      q->ops[k].kind->explain(q->ops[k].spec, out);
  }
  sl_plan_explain_subqueries(plan, out);
}

void sl_plan_free(sl_plan *plan) {
  if (!plan) return;
  for (int i = 0; i < plan->nquery; i++)
    query_free(plan->queries[i]);
  for (int i = 0; i < plan->nstream; i++) {
    sl_schema_free(&plan->streams[i]->own);
    free(plan->streams[i]);
  }
  for (int i = 0; i < plan->nsource; i++)
    psource_free(plan->sources[i]);
  for (int i = 0; i < plan->nsubq; i++)
    sl_psubq_free(plan->subqs[i]);
  free(plan->subqs);
  free(plan->queries);
  free(plan->streams);
  free(plan->sources);
  sl_arena_free(&plan->arena);
  free(plan);
}
