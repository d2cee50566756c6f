/*
** engine.c - statement execution and the public embedding API (sluice.h).
**
** sl_engine_exec parses a script and executes its statements in order: DDL
** changes the catalog, SET changes settings, LOAD adds C functions
** (extension.c), SHOW/DESCRIBE/EXPLAIN return rows, and a SELECT becomes a
** continuous query (planned by plan.c) that either runs to completion at
** once or, in deferred mode (`sluice run`), is collected and started with
** the others when the script has been read.
**
** All or nothing: a deferred (or SL_EXEC_ATOMIC) script runs under one
** savepoint of the catalog, any other script under one per statement; a
** failure rolls the savepoint back (catalog.h) after the queries planned
** since have been freed, so nothing the failed part created is visible.
*/
#include "engine_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <pthread.h>
#include <string.h>

#include "checkpoint.h"
#include "connector.h"
#include "engine_dml.h"
#include "expr.h"
#include "extension.h"
#include "model.h"
#include "parse.h"
#include "show_topics.h"

#include <cblas.h>

/* OpenBLAS's own thread pool: made when the library loads (one worker per
** core but one), whose workers spin on sched_yield for about 2^28 cycles
** before they sleep.  sluice scores on its query's own threads, so the
** pool only takes a core from them: it is told to use one thread and its
** workers are stopped.  blas_thread_shutdown_ is OpenBLAS's (exported,
** not in cblas.h); weak, so a BLAS without it is simply not asked. */
extern int blas_thread_shutdown_(void) __attribute__((weak));

static void blas_one_thread(void) {
  openblas_set_num_threads(1);
  if (blas_thread_shutdown_) blas_thread_shutdown_();
}

/* ---- public API ------------------------------------------------------------ */

sluice *sluice_open(void) {
  static pthread_once_t blas_once = PTHREAD_ONCE_INIT;
  sluice *db = sl_calloc(1, sizeof *db);
  sl_catalog_init(&db->cat);
  pthread_once(&blas_once, blas_one_thread); /* a query scores on its own thread */
  sl_buf_init(&db->stats);
  return db;
}

void sluice_close(sluice *db) {
  if (!db) return;
  sl_run_free(db->pending);
  sl_plan_free(db->planning);
  sl_ckpt_close(db->ckpt);
  free(db->ckpt_dir);
  for (int i = 0; i < db->nold_ckpt; i++) {
    sl_ckpt_close(db->old_ckpt[i]);
    free(db->old_ckpt_dir[i]);
  }
  free(db->old_ckpt);
  free(db->old_ckpt_dir);
  sl_catalog_free(&db->cat);
  while (db->parses) {
    sl_parse_node *n = db->parses->next;
    sl_parse_free(&db->parses->parse);
    free(db->parses->sql);
    free(db->parses);
    db->parses = n;
  }
  sl_buf_free(&db->stats);
  free(db);
}

void sluice_interrupt(sluice *db) {
  db->interrupted = 1;
}

void sluice_set_authorizer(sluice *db, sluice_authorizer fn, void *ud) {
  db->auth.fn = fn;
  db->auth.ud = ud;
  db->auth.why = NULL;
}

void sl_engine_set_auth(sluice *db, sluice_authorizer fn, void *ud,
                        const char *(*why)(void *ud, int action, const char *target)) {
  db->auth.fn = fn;
  db->auth.ud = ud;
  db->auth.why = why;
}

void sl_engine_allow_unsafe_properties(sluice *db) {
  db->auth.unsafe_ok = 1;
}

int sluice_exec(sluice *db, const char *sql, sluice_row_cb cb, void *ud, char **errmsg) {
  sl_err err = {0};
  int rc = sl_engine_exec(db, sql, SL_EXEC_IMMEDIATE, (sl_row_fn)cb, ud, &err);
  if (errmsg) *errmsg = NULL;
  if (rc) {
    if (errmsg) {
      if (err.line)
        *errmsg = sl_mprintf("%d:%d: %s", err.line, err.col, err.msg ? err.msg : "error");
      else
        *errmsg = sl_mprintf("%s", err.msg ? err.msg : "error");
    }
  }
  sl_err_clear(&err);
  return rc;
}

/* ---- rows for SHOW / DESCRIBE / EXPLAIN ------------------------------------- */

int sl_engine_text_row(sl_row_fn fn, void *ud, int ncol, const char *const *names,
                       const char *const *cells) {
  if (!fn) return 0;
  sl_value vals[SL_TEXT_ROW_MAX];
  sl_value *ptrs[SL_TEXT_ROW_MAX];
  SL_ASSERT(ncol >= 0 && ncol <= SL_TEXT_ROW_MAX);
  if (ncol > SL_TEXT_ROW_MAX) ncol = SL_TEXT_ROW_MAX; /* fn never reads past what is set */
  for (int i = 0; i < ncol; i++) {
    memset(&vals[i], 0, sizeof vals[i]);
    if (cells[i]) sl_value_borrow_text(&vals[i], cells[i], strlen(cells[i]), 0);
    ptrs[i] = &vals[i];
  }
  int rc = fn(ud, ncol, names, ptrs);
  for (int i = 0; i < ncol; i++)
    sl_value_free(&vals[i]); /* fn may have rendered into a value's buffer */
  return rc;
}

typedef struct show_ctx {
  sl_row_fn fn;
  void *ud;
} show_ctx;

static void show_func(void *ud, const sl_func *f) {
  show_ctx *s = ud;
  static const char *const names[] = {"name", "args", "kind", "description"};
  char args[16];
  if (f->nargs >= 0)
    snprintf(args, sizeof args, "%d", f->nargs);
  else if (f->nargs == -1)
    snprintf(args, sizeof args, "any");
  else
    snprintf(args, sizeof args, "%d+", -(f->nargs + 2));
  const char *kind = (f->flags & SL_FUNC_AGGREGATE) ? "aggregate"
                     : (f->flags & SL_FUNC_MODEL)   ? "model"
                     : !f->xBatch                   ? "scalar"
                     : f->xFunc                     ? "scalar, batch"
                                                    : "batch";
  const char *cells[] = {f->name, args, kind, f->doc ? f->doc : ""};
  sl_engine_text_row(s->fn, s->ud, 4, names, cells);
}

/* A row of SHOW SETTINGS (settings.h). */
static void show_setting(void *ud, const char *name, const char *value, const char *dflt,
                         const char *doc) {
  show_ctx *s = ud;
  static const char *const names[] = {"name", "value", "default", "description"};
  const char *cells[] = {name, value, dflt, doc};
  sl_engine_text_row(s->fn, s->ud, 4, names, cells);
}

/* One row (type, name, sql) of SHOW SCHEMA, when only is NULL or names it. */
static void schema_row(sl_row_fn fn, void *ud, const char *only, const char *type, const char *name,
                       const char *sql, int len) {
  if (only && sl_stricmp(only, name)) return;
  static const char *const names[] = {"type", "name", "sql"};
  char *text = sl_mprintf("%.*s;", len, sql);
  const char *cells[] = {type, name, text};
  sl_engine_text_row(fn, ud, 3, names, cells);
  free(text);
}

/* SHOW SCHEMA [name]: the statements that made the tables, views and
** streams (the shell's .schema), in the order they were made. */
static int show_schema(sluice *db, const sl_stmt *st, sl_row_fn fn, void *ud, sl_err *err) {
  const char *only = st->value ? st->value->name : NULL;
  int n = 0;
  for (sl_table *t = db->cat.tables; t; t = t->next)
    n++;
  sl_table **ts = sl_calloc((size_t)n + 1, sizeof *ts);
  int i = n;
  for (sl_table *t = db->cat.tables; t; t = t->next)
    ts[--i] = t; /* the list is newest first */
  for (i = 0; i < n; i++)
    if (ts[i]->sql)
      schema_row(fn, ud, only, "table", ts[i]->name, ts[i]->sql, (int)strlen(ts[i]->sql));
  free(ts);
  for (sl_stream *s = db->cat.streams; s; s = s->next)
    schema_row(fn, ud, only, s->view ? "view" : "stream", s->name, s->def->sql, s->def->sqllen);
  (void)err;
  return 0;
}

static int exec_show(sluice *db, const sl_stmt *st, sl_row_fn fn, void *ud, sl_err *err) {
  const char *what = st->name;
  if (sl_stricmp(what, "schema") == 0) return show_schema(db, st, fn, ud, err);
  if (st->value) {
    sl_err_setpos(err, SL_EBIND, st->value->line, st->value->pos_col,
                  "SHOW %s takes no name (SHOW SCHEMA does)", what);
    return -1;
  }
  if (sl_stricmp(what, "topics") == 0) {
    int rc = sl_show_topics(&db->cat, &db->auth, &db->interrupted, fn, ud, err);
    if (rc && !err->line) {
      err->line = st->line;
      err->col = st->col;
    }
    return rc;
  }
  if (sl_stricmp(what, "functions") == 0) {
    show_ctx s = {fn, ud};
    sl_functab_foreach(db->cat.funcs, show_func, &s);
    return 0;
  }
  if (sl_stricmp(what, "streams") == 0) {
    static const char *const names[] = {"name", "definition"};
    for (sl_stream *s = db->cat.streams; s; s = s->next) {
      char *def = sl_strndup(s->def->sql, (size_t)s->def->sqllen);
      const char *cells[] = {s->name, def};
      sl_engine_text_row(fn, ud, 2, names, cells);
      free(def);
    }
    return 0;
  }
  if (sl_stricmp(what, "models") == 0) {
    static const char *const names[] = {"name", "kind", "inputs", "version", "file"};
    for (int i = 0; i < db->cat.nmodel; i++) {
      sl_model_slot *slot = db->cat.models[i];
      sl_model *m = sl_model_slot_acquire(slot);
      char nin[16], ver[16];
      snprintf(nin, sizeof nin, "%d", m->n_in);
      snprintf(ver, sizeof ver, "%d", slot->version);
      const char *cells[] = {slot->name, m->kind_desc, nin, ver, m->path};
      sl_engine_text_row(fn, ud, 5, names, cells);
      sl_model_release(m);
    }
    return 0;
  }
  if (sl_stricmp(what, "tables") == 0) {
    static const char *const names[] = {"name", "rows"};
    for (sl_table *t = db->cat.tables; t; t = t->next) {
      char n[24];
      snprintf(n, sizeof n, "%d", t->nrow);
      const char *cells[] = {t->name, n};
      sl_engine_text_row(fn, ud, 2, names, cells);
    }
    return 0;
  }
  if (sl_stricmp(what, "queries") == 0) {
    static const char *const names[] = {"id", "state"};
    if (db->hooks) {
      db->hooks->show_queries(db->hooks->ud, fn, ud);
      return 0;
    }
    if (db->planning) {
      for (int i = 0; i < sl_plan_ntop(db->planning); i++) {
        char id[16];
        snprintf(id, sizeof id, "q%d", i + 1);
        const char *cells[] = {id, "pending"};
        sl_engine_text_row(fn, ud, 2, names, cells);
      }
    }
    return 0;
  }
  if (sl_stricmp(what, "settings") == 0) {
    show_ctx s = {fn, ud};
    sl_setting_foreach(&db->cat, show_setting, &s);
    return 0;
  }
  sl_err_setpos(err, SL_EBIND, st->line, st->col,
                "SHOW what? (FUNCTIONS, STREAMS, TABLES, MODELS, QUERIES, SETTINGS, SCHEMA or "
                "TOPICS)");
  return -1;
}

static int describe_schema(const sl_schema *s, sl_row_fn fn, void *ud) {
  static const char *const names[] = {"column", "type"};
  for (int i = 0; i < s->ncol; i++) {
    const char *cells[] = {s->cols[i].name, s->cols[i].decltype ? s->cols[i].decltype : ""};
    sl_engine_text_row(fn, ud, 2, names, cells);
  }
  return 0;
}

static void describe_prop(void *ud, const char *k, const char *v) {
  show_ctx *s = ud;
  static const char *const names[] = {"property", "value"};
  const char *cells[] = {k, v};
  sl_engine_text_row(s->fn, s->ud, 2, names, cells);
}

static int exec_describe(sluice *db, const sl_stmt *st, sl_row_fn fn, void *ud, sl_err *err) {
  sl_model_slot *ms = sl_catalog_model(&db->cat, st->name);
  if (ms) {
    sl_model *m = sl_model_slot_acquire(ms);
    show_ctx s = {fn, ud};
    sl_model_describe(m, describe_prop, &s);
    sl_model_release(m);
    if (ms->trainer) sl_trainer_describe(ms->trainer, describe_prop, &s);
    return 0;
  }
  sl_table *t = sl_catalog_table(&db->cat, st->name);
  if (t) return describe_schema(&t->schema, fn, ud);
  sl_stream *s = sl_catalog_stream(&db->cat, st->name);
  if (s) {
    if (s->schema.open && !s->schema.ncol) {
      static const char *const names[] = {"column", "type"};
      const char *cells[] = {"(schemaless: any field)", ""};
      return sl_engine_text_row(fn, ud, 2, names, cells);
    }
    return describe_schema(&s->schema, fn, ud);
  }
  if (db->hooks && db->hooks->describe(db->hooks->ud, st->name, fn, ud)) return 0;
  sl_err_setpos(err, SL_EBIND, st->line, st->col, "no such stream, table%s or model: %s",
                db->hooks ? ", query" : "", st->name);
  return -1;
}

/* TERMINATE id | ALL: a running engine's queries (sluice serve). */
static int exec_terminate(sluice *db, const sl_stmt *st, sl_row_fn fn, void *ud, sl_err *err) {
  if (!db->hooks) {
    sl_err_setpos(err, SL_EBIND, st->line, st->col,
                  "TERMINATE stops a query of a running engine (sluice serve; attach with "
                  "sluice --connect URL); here queries run until they end or Ctrl-C");
    return -1;
  }
  if (db->hooks->terminate(db->hooks->ud, st->name, fn, ud, err) == 0) return 0;
  if (!err->line) {
    err->line = st->line;
    err->col = st->col;
  }
  return -1;
}

/* ---- plans and runs ------------------------------------------------------------ */

/* A new plan over the engine's catalog. */
static sl_plan *engine_plan(sluice *db) {
  sl_plan_ctx ctx = {&db->cat, &db->nquery, &db->auth, 0};
  return sl_plan_new(&ctx);
}

/* A run of plan (taken) with the engine's checkpoint store (SET state_dir),
** unless transient (a server's SELECT without INTO: never checkpointed).
** NULL with err set. */
static sl_run *engine_run(sluice *db, sl_plan *plan, int transient, sl_err *err) {
  sl_run_cfg cfg = {NULL, 5000, &db->interrupted};
  if (!transient) {
    cfg.ckpt = sl_engine_state(db, err);
    if (!cfg.ckpt && err->code) {
      sl_plan_free(plan);
      return NULL;
    }
    cfg.ckpt_ms = sl_setting_int(&db->cat, SL_SET_CHECKPOINT_INTERVAL);
  }
  return sl_run_new(plan, &cfg, err);
}

/* ---- DDL ----------------------------------------------------------------------- */

/* CREATE [OR REPLACE] MODEL name TYPE t [WITH (options)]: a model that
** learns (model_train.c).  A replacement is a new slot: queries running on
** the old one keep it, new queries get the new one. */
static int create_trainable(sluice *db, const sl_stmt *st, sl_err *err) {
  sl_options o;
  sl_err e = {0};
  sl_trainer *t = NULL;
  if (sl_call_options(db->cat.funcs, st->source, &o, &e) == 0)
    t = sl_trainer_new(st->source->name, &o, &e);
  sl_options_free(&o);
  if (!t) {
    if (!e.line) {
      e.line = st->source->line;
      e.col = st->source->col;
    }
    sl_err_move(err, &e);
    return -1;
  }
  sl_catalog_drop_model(&db->cat, st->name);
  sl_catalog_add_model(&db->cat, sl_trainer_slot(t, st->name));
  return 0;
}

/* EXPORT MODEL name TO 'path'. */
static int exec_export_model(sluice *db, const sl_stmt *st, sl_err *err) {
  sl_model_slot *ms = sl_catalog_model(&db->cat, st->name);
  if (!ms) {
    sl_err_setpos(err, SL_EBIND, st->line, st->col, "no such model: %s", st->name);
    return -1;
  }
  char *path = sl_strndup(st->value->z, (size_t)st->value->n);
  sl_err e = {0};
  int rc = sl_authorize(&db->auth, SLUICE_AUTH_WRITE, path, "model", &e);
  if (!rc) rc = sl_model_export(ms, path, &e);
  free(path);
  if (rc) {
    sl_err_setpos(err, e.code, st->line, st->col, "%s", e.msg);
    sl_err_clear(&e);
  }
  return rc;
}

/* CREATE [OR REPLACE] MODEL name FROM 'path': the file is loaded and checked
** completely before the catalog changes; a replacement is swapped in under
** running queries (their next batch uses it). */
static int exec_create_model(sluice *db, const sl_stmt *st, sl_err *err) {
  sl_model_slot *old = sl_catalog_model(&db->cat, st->name);
  if (old && st->if_exists) return 0;
  if (old && !st->or_replace) {
    sl_err_setpos(err, SL_EBIND, st->line, st->col,
                  "model %s already exists (CREATE OR REPLACE MODEL swaps it)", st->name);
    return -1;
  }
  if (st->source) return create_trainable(db, st, err);
  char *path = sl_strndup(st->value->z, (size_t)st->value->n);
  sl_err e = {0};
  sl_model *m = NULL;
  if (!sl_authorize(&db->auth, SLUICE_AUTH_READ, path, "model", &e)) m = sl_model_load(path, &e);
  free(path);
  if (!m) {
    sl_err_setpos(err, e.code == SL_EAUTH ? SL_EAUTH : SL_EBIND, st->line, st->col, "%s",
                  e.msg ? e.msg : "cannot load model");
    sl_err_clear(&e);
    return -1;
  }
  sl_catalog_put_model(&db->cat, st->name, m);
  return 0;
}

static int exec_create_stream(sluice *db, const sl_stmt *st, sl_err *err) {
  if (sl_catalog_stream(&db->cat, st->name) || sl_catalog_table(&db->cat, st->name)) {
    if (st->if_exists) return 0;
    if (!st->or_replace || sl_catalog_table(&db->cat, st->name)) {
      sl_err_setpos(err, SL_EBIND, st->line, st->col, "%s already exists", st->name);
      return -1;
    }
    sl_catalog_drop_stream(&db->cat, st->name);
  }
  sl_stream *s = sl_catalog_add_stream(&db->cat, st->name, st);
  s->view = st->view;
  int rc = 0;
  if (st->select) {
    /* Plan it once now: validates the definition and gives its columns. */
    sl_stmt tmp = *st;
    tmp.kind = S_SELECT;
    int saved = db->nquery;
    sl_plan *plan = engine_plan(db);
    plan->ctx.defining = 1;
    int qi = sl_plan_query(plan, &tmp, NULL, NULL, err);
    db->nquery = saved;
    if (qi < 0) {
      rc = -1;
    } else {
      const sl_pquery *q = plan->queries[qi];
      for (int i = 0; i < q->ncol; i++) {
        int idx = sl_schema_add(&s->schema, q->names[i], strlen(q->names[i]), NULL);
        s->schema.cols[idx].aff = q->affs[i];
      }
    }
    sl_plan_free(plan);
  } else {
    for (int i = 0; i < st->ncols; i++)
      sl_schema_add(&s->schema, st->cols[i].name, strlen(st->cols[i].name), st->cols[i].type);
    s->schema.open = st->ncols == 0;
  }
  if (rc) sl_catalog_drop_stream(&db->cat, st->name);
  return rc;
}

static int exec_create_table(sluice *db, const sl_stmt *st, sl_err *err) {
  if (sl_catalog_table(&db->cat, st->name) || sl_catalog_stream(&db->cat, st->name)) {
    if (st->if_exists) return 0;
    sl_err_setpos(err, SL_EBIND, st->line, st->col, "table %s already exists", st->name);
    return -1;
  }
  if (st->select) return sl_dml_create_table_as(db, st, err);
  sl_table *t = sl_catalog_add_table(&db->cat, st->name);
  t->sql = sl_strndup(st->sql, (size_t)st->sqllen);
  for (int i = 0; i < st->ncols; i++) {
    sl_schema_add(&t->schema, st->cols[i].name, strlen(st->cols[i].name), st->cols[i].type);
    if (st->cols[i].pk && !t->pk) {
      t->pk = i + 1;
      t->ipk = st->cols[i].type && sl_stricmp(st->cols[i].type, "INTEGER") == 0;
    }
  }
  return 0;
}

/* DROP STREAM | TABLE | VIEW [IF EXISTS] name (S_DROP: or_replace marks a
** table, view a view). */
static int exec_drop(sluice *db, const sl_stmt *st, sl_err *err) {
  const char *what = st->view ? "view" : st->or_replace ? "table" : "stream";
  sl_stream *s = sl_catalog_stream(&db->cat, st->name);
  if (st->or_replace && !sl_catalog_table(&db->cat, st->name) && s && s->view) {
    sl_err_setpos(err, SL_EBIND, st->line, st->col, "use DROP VIEW to delete view %s", st->name);
    return -1;
  }
  if (st->view && s && !s->view) {
    sl_err_setpos(err, SL_EBIND, st->line, st->col, "use DROP STREAM to delete stream %s",
                  st->name);
    return -1;
  }
  int ok = st->or_replace ? sl_catalog_drop_table(&db->cat, st->name)
                          : sl_catalog_drop_stream(&db->cat, st->name);
  if (!ok && !st->if_exists) {
    sl_err_setpos(err, SL_EBIND, st->line, st->col, "no such %s: %s", what, st->name);
    return -1;
  }
  return 0;
}

/* SET name = value: through the registry (settings.h).  An unknown name is
** an error at the statement, a value the setting does not take at the
** value. */
static int exec_set(sluice *db, const sl_stmt *st, sl_err *err) {
  sl_bind b = {.funcs = db->cat.funcs, .err = err};
  sl_value v = SL_VALUE_INIT;
  /* A bare word (SET x = earliest) is taken as text. */
  if (st->value->kind == E_COLUMN) {
    sl_value_borrow_text(&v, st->value->name, strlen(st->value->name), 0);
  } else if (sl_bind_expr(&b, st->value) || sl_expr_eval_const(st->value, &v, err)) {
    return -1;
  }
  sl_err e = {0};
  int rc = sl_setting_set(&db->cat, st->name, &v, &e);
  sl_value_free(&v);
  if (rc == 0) return 0;
  int line = rc == -2 ? st->value->line : st->line, col = rc == -2 ? st->value->pos_col : st->col;
  sl_err_setpos(err, e.code, line, col, "%s", e.msg);
  sl_err_clear(&e);
  return -1;
}

/* ---- checkpoints -------------------------------------------------------------- */

sl_ckpt *sl_engine_state(sluice *db, sl_err *err) {
  const char *dir = sl_setting_text(&db->cat, SL_SET_STATE_DIR);
  if (!dir) return NULL;
  if (db->ckpt && !strcmp(db->ckpt_dir, dir)) return db->ckpt;
  /* Another directory.  The store in use is kept open, not closed: runs
  ** started with it (a server's running submissions) hold it until the
  ** engine closes.  A directory used before gets its store back. */
  if (db->ckpt) {
    db->old_ckpt = sl_realloc(db->old_ckpt, sizeof *db->old_ckpt * (size_t)(db->nold_ckpt + 1));
    db->old_ckpt_dir =
        sl_realloc(db->old_ckpt_dir, sizeof *db->old_ckpt_dir * (size_t)(db->nold_ckpt + 1));
    db->old_ckpt[db->nold_ckpt] = db->ckpt;
    db->old_ckpt_dir[db->nold_ckpt++] = db->ckpt_dir;
    db->ckpt = NULL;
    db->ckpt_dir = NULL;
  }
  for (int i = 0; i < db->nold_ckpt; i++)
    if (!strcmp(db->old_ckpt_dir[i], dir)) {
      db->ckpt = db->old_ckpt[i];
      db->ckpt_dir = db->old_ckpt_dir[i];
      db->old_ckpt[i] = db->old_ckpt[--db->nold_ckpt];
      db->old_ckpt_dir[i] = db->old_ckpt_dir[db->nold_ckpt];
      return db->ckpt;
    }
  if (sl_authorize(&db->auth, SLUICE_AUTH_DIRECTORY, dir, "state_dir", err)) return NULL;
  db->ckpt = sl_ckpt_open(dir, sl_setting_int(&db->cat, SL_SET_RESET_STATE) != 0, err);
  if (db->ckpt) db->ckpt_dir = sl_strdup(dir);
  return db->ckpt;
}

/* ---- the narrow API of engine.h ---------------------------------------------- */

sl_run *sl_engine_take_pending(sluice *db) {
  sl_run *run = db->pending;
  db->pending = NULL;
  return run;
}

sl_plan *sl_engine_take_plan(sluice *db) {
  sl_plan *plan = db->planning;
  db->planning = NULL;
  return plan;
}

int sl_engine_set(sluice *db, const char *name, const char *text, sl_err *err) {
  return sl_setting_set_text(&db->cat, name, text, err);
}

void sl_engine_fix_setting(sluice *db, sl_setting_id id) {
  sl_setting_fix(&db->cat, id);
}

const char *sl_engine_setting_text(sluice *db, sl_setting_id id) {
  return sl_setting_text(&db->cat, id);
}

int64_t sl_engine_setting_int(sluice *db, sl_setting_id id) {
  return sl_setting_int(&db->cat, id);
}

const char *sl_engine_stats(sluice *db) {
  return db->stats.z ? db->stats.z : "";
}

void sl_engine_stats_reset(sluice *db) {
  sl_buf_reset(&db->stats);
}

int64_t sl_engine_changes(const sluice *db) {
  return db->nchange;
}

int sl_engine_nmodels(const sluice *db) {
  return db->cat.nmodel;
}

void sl_engine_set_hooks(sluice *db, const sl_engine_hooks *h) {
  db->hooks = h;
}

/* ---- queries ------------------------------------------------------------------- */

static void note_training_select(sluice *db, const sl_select *sel, int depth);

/* The trainable models train(m, ...) calls in e name: their learning state
** goes into the savepoint (sl_catalog_note_training). */
static void note_training_expr(sluice *db, const sl_expr *e) {
  if (!e) return;
  if (e->kind == E_CALL && sl_stricmp(e->name, "train") == 0 && e->list && e->list->n >= 1 &&
      e->list->a[0]->kind == E_COLUMN && !e->list->a[0]->tab) {
    sl_model_slot *s = sl_catalog_model(&db->cat, e->list->a[0]->name);
    if (s) sl_catalog_note_training(&db->cat, s);
  }
  note_training_expr(db, e->left);
  note_training_expr(db, e->right);
  for (int i = 0; e->list && i < e->list->n; i++)
    note_training_expr(db, e->list->a[i]);
}

/* The same for every expression of a FROM clause (joins too), and for the
** definitions of the named streams it reads (depth bounds the nesting). */
static void note_training_from(sluice *db, const sl_call *c, int depth) {
  for (; c; c = c->join) {
    for (int i = 0; c->args && i < c->args->n; i++)
      note_training_expr(db, c->args->a[i]);
    note_training_expr(db, c->on);
    const sl_stream *s = c->bare ? sl_catalog_stream(&db->cat, c->name) : NULL;
    if (s && s->def->select && depth < 32) note_training_select(db, s->def->select, depth + 1);
  }
}

/* Before a query runs inside a script's savepoint: save the learning state
** of every model it may train, so that a rollback restores it. */
static void note_training_select(sluice *db, const sl_select *sel, int depth) {
  for (int i = 0; sel->cols && i < sel->cols->n; i++)
    note_training_expr(db, sel->cols->a[i]);
  for (int i = 0; sel->group && i < sel->group->n; i++)
    note_training_expr(db, sel->group->a[i]);
  note_training_expr(db, sel->where);
  note_training_expr(db, sel->having);
  note_training_from(db, sel->from, depth);
}

int sl_engine_run_select(sluice *db, const sl_stmt *st, sl_row_fn fn, void *ud, sl_schema *cols,
                         sl_err *err) {
  sl_select sel = *st->select;
  sel.into = NULL;
  sl_stmt tmp = *st;
  tmp.kind = S_SELECT;
  tmp.select = &sel;
  note_training_select(db, &sel, 0); /* (only under a savepoint) */
  sl_plan *plan = engine_plan(db);
  int qi = sl_plan_query(plan, &tmp, fn, ud, err);
  if (qi < 0) {
    sl_plan_free(plan);
    return -1;
  }
  /* rows go into a table when the query ends: refuse one that never ends */
  for (int i = 0; i < plan->nsource; i++) {
    sl_psource *ps = plan->sources[i];
    if (ps->conn && !strcmp(ps->conn->name, "kafka") && !sl_opt_find_unused(&ps->opts, "stop")) {
      sl_err_setpos(err, SL_EBIND, ps->line, ps->col,
                    "a table takes the rows of a query that ends: kafka() without stop => 'end' "
                    "never does (a continuous query writes INTO a sink, or is CREATE STREAM ... "
                    "AS SELECT)");
      sl_plan_free(plan);
      return -1;
    }
  }
  const sl_pquery *q = plan->queries[qi];
  for (int i = 0; cols && i < q->ncol; i++) {
    int idx = sl_schema_add(cols, q->names[i], strlen(q->names[i]), NULL);
    cols->cols[idx].aff = q->affs[i];
  }
  sl_run *run = engine_run(db, plan, 1, err);
  if (!run) return -1;
  int rc = sl_run_execute(run, 0, err);
  sl_run_stats(run, &db->stats, NULL);
  sl_run_free(run);
  return rc;
}

static int exec_select(sluice *db, const sl_stmt *st, int mode, sl_row_fn fn, void *ud,
                       sl_err *err) {
  if (sl_dml_writes_table(db, st)) return sl_dml_insert_select(db, st, err);
  /* Only queries into sinks are collected to start together (they may share
  ** named streams); a SELECT whose rows are printed runs now, in order. */
  if ((mode & SL_EXEC_PLAN_ALL) && !st->select->into && !fn) {
    sl_err_setpos(err, SL_EBIND, st->line, st->col,
                  "a query without INTO has nowhere to send its rows here: add INTO a sink, "
                  "or stream its rows from the shell (sluice --connect)");
    return -1;
  }
  if ((mode & SL_EXEC_PLAN_ALL) || ((mode & SL_EXEC_DEFERRED) && st->select->into)) {
    if (!db->planning) db->planning = engine_plan(db);
    return sl_plan_query(db->planning, st, fn, ud, err) < 0 ? -1 : 0;
  }
  if (mode) note_training_select(db, st->select, 0); /* it runs inside the script's savepoint */
  sl_plan *plan = engine_plan(db);
  if (sl_plan_query(plan, st, fn, ud, err) < 0) {
    sl_plan_free(plan);
    return -1;
  }
  sl_run *run = engine_run(db, plan, 0, err);
  if (!run) return -1;
  int rc = sl_run_execute(run, 0, err);
  sl_run_stats(run, &db->stats, NULL);
  sl_run_free(run);
  return rc;
}

static int exec_explain(sluice *db, const sl_stmt *st, sl_row_fn fn, void *ud, sl_err *err) {
  const sl_stmt *inner = st->inner;
  if (inner->kind != S_SELECT) {
    sl_err_setpos(err, SL_EBIND, st->line, st->col, "EXPLAIN takes a query");
    return -1;
  }
  /* the query's text is the statement's after EXPLAIN: what its identity
  ** (a Kafka source's consumer group) is made of, as when it runs */
  sl_stmt q = *inner;
  if (st->sql) {
    int i = 0, tk = TK_SPACE;
    while (i < st->sqllen && tk == TK_SPACE)
      i += sl_get_token(st->sql + i, &tk); /* through EXPLAIN */
    q.sql = st->sql + i;
    q.sqllen = st->sqllen - i;
  }
  sl_plan *plan = engine_plan(db);
  int saved = db->nquery;
  int rc = sl_plan_query(plan, &q, NULL, NULL, err) < 0 ? -1 : 0;
  db->nquery = saved;
  if (!rc) {
    sl_buf out;
    sl_buf_init(&out);
    sl_plan_explain(plan, &out);
    static const char *const names[] = {"plan"};
    char *line = out.z;
    while (line && *line) {
      char *nl = strchr(line, '\n');
      if (nl) *nl = 0;
      const char *cells[] = {line};
      sl_engine_text_row(fn, ud, 1, names, cells);
      line = nl ? nl + 1 : NULL;
    }
    sl_buf_free(&out);
  }
  sl_plan_free(plan);
  return rc;
}

/* Execute one statement (mode as sl_engine_exec's).  0, or -1 with err set. */
static int exec_stmt(sluice *db, const sl_stmt *st, int mode, sl_row_fn fn, void *ud, sl_err *err) {
  if (st->kind != S_SHOW && st->kind != S_DESCRIBE && st->kind != S_EXPLAIN &&
      st->kind != S_TERMINATE)
    db->nchange++;
  switch (st->kind) {
  case S_SELECT: return exec_select(db, st, mode, fn, ud, err);
  case S_CREATE_STREAM: return exec_create_stream(db, st, err);
  case S_CREATE_TABLE: return exec_create_table(db, st, err);
  case S_INSERT_VALUES: return sl_dml_insert_values(db, st, err);
  case S_UPDATE: return sl_dml_update(db, st, err);
  case S_DELETE: return sl_dml_delete(db, st, err);
  case S_DROP: return exec_drop(db, st, err);
  case S_CREATE_MODEL: return exec_create_model(db, st, err);
  case S_EXPORT_MODEL: return exec_export_model(db, st, err);
  case S_DROP_MODEL:
    if (!sl_catalog_drop_model(&db->cat, st->name) && !st->if_exists) {
      sl_err_setpos(err, SL_EBIND, st->line, st->col, "no such model: %s", st->name);
      return -1;
    }
    return 0;
  case S_SET: return exec_set(db, st, err);
  case S_LOAD: {
    char *path = sl_strndup(st->value->z, (size_t)st->value->n);
    int rc = sl_authorize(&db->auth, SLUICE_AUTH_LOAD, path, "extension", err);
    if (!rc) rc = sl_ext_load(&db->cat, path, err);
    free(path);
    return rc;
  }
  case S_SHOW: return exec_show(db, st, fn, ud, err);
  case S_DESCRIBE: return exec_describe(db, st, fn, ud, err);
  case S_EXPLAIN: return exec_explain(db, st, fn, ud, err);
  case S_TERMINATE: return exec_terminate(db, st, fn, ud, err);
  }
  return 0;
}

/* 1 when a query of plan writes INTO a sink. */
static int plan_has_sink(const sl_plan *plan) {
  for (int i = 0; i < plan->nquery; i++)
    if (plan->queries[i]->into) return 1;
  return 0;
}

int sl_engine_exec(sluice *db, const char *sql, int mode, sl_row_fn fn, void *ud, sl_err *err) {
  int deferred = (mode & SL_EXEC_DEFERRED) != 0;
  int atomic = deferred || (mode & SL_EXEC_ATOMIC);
  if (deferred && (db->pending || db->planning)) {
    /* a failure would have to take this script's queries out of that run
    ** (or plan: SL_EXEC_PLAN_ONLY's, not taken) */
    sl_err_set(err, SL_EINTERNAL, "the queries of the previous script are still pending");
    return -1;
  }
  sl_parse_node *node = sl_calloc(1, sizeof *node);
  node->sql = sl_strdup(sql);
  if (sl_parse_script(&node->parse, node->sql)) {
    sl_err_move(err, &node->parse.err);
    sl_parse_free(&node->parse);
    free(node->sql);
    free(node);
    return -1;
  }
  if ((mode & SL_EXEC_PLAN_ALL) && fn) {
    /* a server streams the rows of a query without INTO to its one client:
    ** such a query is the script's only query */
    int nsel = 0, nbare = 0;
    for (const sl_stmt *st = node->parse.first; st; st = st->next) {
      if (st->kind != S_SELECT) continue;
      nsel++;
      nbare += !st->select->into;
      if (nsel > 1 && nbare) {
        sl_err_setpos(err, SL_EBIND, st->line, st->col,
                      "a SELECT without INTO streams its rows to this connection: send it as "
                      "the only query of its request");
        sl_parse_free(&node->parse);
        free(node->sql);
        free(node);
        return -1;
      }
    }
  }
  db->interrupted = 0;
  int rc = 0, keep = 0;
  int nquery = db->nquery;
  if (atomic) sl_catalog_savepoint(&db->cat);
  for (const sl_stmt *st = node->parse.first; st; st = st->next) {
    /* One statement's savepoint; a query changes no definition, and it may
    ** run for long while another thread executes statements (the journal
    ** is the catalog's, one at a time). */
    int own = !atomic && (st->kind != S_SELECT || sl_dml_writes_table(db, st));
    if (own) sl_catalog_savepoint(&db->cat);
    int failed =
        exec_stmt(db, st, atomic ? mode | SL_EXEC_ATOMIC : SL_EXEC_IMMEDIATE, fn, ud, err) != 0;
    if (own && failed) sl_catalog_rollback(&db->cat); /* the statement's own changes */
    if (own && !failed) sl_catalog_release(&db->cat);
    if (failed) {
      if (!err->line) {
        err->line = st->line;
        err->col = st->col;
      }
      rc = -1;
      break;
    }
    /* Streams and pending queries point into the tree: keep it then. */
    if (st->kind == S_CREATE_STREAM || (deferred && st->kind == S_SELECT)) keep = 1;
  }
  if (deferred && !rc && db->planning && !(mode & SL_EXEC_PLAN_ONLY)) {
    /* the script's queries, made live while its savepoint is open: a source
    ** or sink that cannot be opened fails the script (with PLAN_ONLY the
    ** plan waits for sl_engine_take_plan instead) */
    sl_plan *plan = db->planning;
    db->planning = NULL;
    int transient = (mode & SL_EXEC_PLAN_ALL) && !plan_has_sink(plan);
    db->pending = engine_run(db, plan, transient, err);
    if (!db->pending) rc = -1;
  }
  if (atomic && rc) {
    /* first what holds references into the catalog, then the catalog */
    if (deferred) {
      sl_plan_free(db->planning);
      db->planning = NULL;
      sl_run_free(db->pending);
      db->pending = NULL;
    }
    sl_catalog_rollback(&db->cat);
    db->nquery = nquery;
    keep = 0; /* nothing that points into the tree is left */
  } else if (atomic) {
    sl_catalog_release(&db->cat);
  }
  if (keep || (db->pending && deferred)) {
    node->next = db->parses;
    db->parses = node;
  } else {
    sl_parse_free(&node->parse);
    free(node->sql);
    free(node);
  }
  return rc;
}

int sl_engine_run_pending(sluice *db, sl_err *err) {
  if (!db->pending) return 0;
  sl_run *run = db->pending;
  db->pending = NULL;
  int rc = sl_run_execute(run, 1, err);
  sl_run_stats(run, &db->stats, NULL);
  sl_run_free(run);
  return rc;
}
