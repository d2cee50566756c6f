/*
** plan.c - builds pipelines from SELECT statements and runs them (plan.h).
**
** Planning a query:
**   1. the input: FROM a connector call (a task is created for it), a table,
**      a named stream (its instance in this run is created on first use and
**      shared through a fanout), or nothing (one empty row);
**   2. binding: the select list (with * expanded), WHERE, against the input's
**      schema;
**   3. one program for WHERE + select list (op_project);
**   4. the output: INTO a connector (op_sink), or the caller (op_result).
** Running: each task loops read -> decode -> push until its source ends.
*/
#include <math.h>
#include <pthread.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "engine_int.h"
#include "expr.h"
#include "op_aggregate.h"
#include "op_ijoin.h"
#include "op_join.h"
#include "parse.h"
#include "vm.h"

#define BATCH_ROWS 1024
#define LOG_REJECTS 5

typedef struct sl_task {
  char *name;        /* the query id it was created for, or the stream name */
  sl_source *src;    /* owned */
  sl_decoder *dec;   /* owned, created at start */
  sl_operator *head; /* first operator fed (borrowed: owned by a query or the run) */
  sl_stats stats;    /* records in, decode rejections */
  sl_err err;
  int fail_on_error; /* errors => 'fail' */
  int reported;      /* its failure was reported when it happened */
  int64_t commit_ms; /* how often a source's offsets are committed */
  sluice *db;
  volatile sig_atomic_t *stop; /* the run's own stop flag (sl_run_stop) */
  pthread_t thread;
  /* checkpoints (a state directory) */
  char fp[17];          /* fingerprint of the statement that made the source */
  sl_ckpt *ckpt;        /* the store (the engine's), or NULL */
  int64_t ckpt_ms;      /* how often */
  struct sl_query **qs; /* the queries it feeds (their operators' state) */
  int nq;
  int64_t nckpt, nfailed;      /* checkpoints written, failed */
  int64_t ckpt_bytes, ckpt_us; /* the last one's size and duration */
  int resumed;                 /* started from a checkpoint */
  int64_t ckpt_wall;           /* when the last one was written (epoch ms), 0: none */
  /* the queries of the run's callers it feeds: when every one of them was
  ** terminated alone (sl_run_terminate), the task stops */
  struct sl_query **tops;
  int ntop;
  int batch; /* records per batch (SET batch_size caps it), fixed when planned */
  /* live counters, read by other threads (sl_run_query_info) */
  int done;                /* the task has ended (its err is then final) */
  int64_t lag;             /* the source's lag as last seen, -1 unknown */
  uint64_t lat[SL_LAT_NB]; /* batches by how long decode + push took */
  int64_t lat_us, nbatch;  /* their total duration, count */
} sl_task;

struct sl_query {
  char *id;        /* "q1" */
  const char *sql; /* its statement's text (in the engine's kept parse), or NULL */
  int sqllen;      /* for streams' own queries */
  int stopped;     /* terminated alone (sl_run_terminate); read by the task threads */
  int64_t in_at_stop, bytes_at_stop; /* its sources' counts when it was terminated */
  sl_task *task2;                    /* an interval join's right input, or NULL */
  char fp[17];                       /* fingerprint of its statement (checkpoints) */
  sl_stats stats;                    /* out, evaluation rejections */
  sl_task *task;                     /* the task feeding it (possibly through streams) */
  sl_operator **ops;                 /* the chain, owned, in order */
  int nops;
  int ncol;
  char **names;  /* output column names, owned */
  uint8_t *affs; /* output column affinities */
};

typedef struct stream_inst {
  const sl_stream *def;
  sl_operator *fanout; /* owned by the run */
  sl_schema *schema;   /* what readers bind against (owned by the task's source or here) */
  sl_schema own;       /* for AS SELECT streams: the select's output columns */
  sl_task *task;
} stream_inst;

struct sl_run {
  sluice *db;
  sl_task **tasks;
  int ntask;
  sl_query **queries;
  int nquery;
  stream_inst **streams;
  int nstream;
  sl_arena arena;             /* expressions made while planning (expanded *) */
  char fp[17];                /* fingerprint of the statement being planned */
  volatile sig_atomic_t stop; /* sl_run_stop: this run only */
  int transient;              /* never checkpointed (sl_run_set_transient) */
  int prepared;               /* sl_run_prepare has run */
  sl_query **tops;            /* the queries planned by sl_plan_query, in order */
  int ntop;
};

const double sl_lat_bounds[SL_LAT_NB] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                         0.01,   0.025,   0.05,   0.1,   1,      HUGE_VAL};

void sl_run_stop(sl_run *run) {
  run->stop = 1;
}

sl_run *sl_run_new(sluice *db) {
  sl_run *r = sl_calloc(1, sizeof *r);
  r->db = db;
  sl_arena_init(&r->arena);
  return r;
}

int sl_run_nqueries(const sl_run *run) {
  return run->nquery;
}

/* Monotonic milliseconds: the task's clock (operators get time from it). */
static int64_t sl_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Monotonic microseconds, for measuring durations. */
static int64_t sl_now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Wall-clock milliseconds since the epoch: processing time, read by the
** task and handed to the operators (they never read a clock). */
static int64_t sl_wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- logging rejected records ------------------------------------------ */

void sl_log_reject(sl_stats *st, const char *qname, sl_source *src, const sl_record *rec,
                   const char *why) {
  st->rejected++;
  if (st->logged >= LOG_REJECTS) return;
  st->logged++;
  sl_buf pos;
  sl_buf_init(&pos);
  if (src && rec && src->vt->position) src->vt->position(src, rec, &pos);
  fprintf(stderr, "sluice: %s: %s%s%s (record skipped)%s\n", qname ? qname : "query",
          pos.n ? pos.z : "", pos.n ? ": " : "", why,
          st->logged == LOG_REJECTS ? "; further rejections are counted, not logged" : "");
  sl_buf_free(&pos);
}

void sl_op_reject(sl_operator *op, const sl_batch *b, int row, const char *why) {
  sl_log_reject(op->stats, op->qname, b->src, b->recs ? b->recs[row] : NULL, why);
}

int sl_op_pass_time(sl_operator *op, int64_t watermark, int64_t now, sl_err *err) {
  return op->next ? op->next->vt->on_time(op->next, watermark, now, err) : 0;
}

/* ---- tasks --------------------------------------------------------------- */

static sl_task *task_new(sl_run *run, const char *name, sl_source *src) {
  sl_task *t = sl_calloc(1, sizeof *t);
  t->name = sl_strdup(name);
  t->src = src;
  t->db = run->db;
  t->stop = &run->stop;
  t->fail_on_error = src->errors && sl_stricmp(src->errors, "fail") == 0;
  t->commit_ms = sl_setting_int(&run->db->cat, SL_SET_COMMIT_INTERVAL);
  /* Tables are small (and a constant SELECT is one row): small batches.
  ** SET batch_size = N caps the records per batch (tests of determinism).
  ** Read here, while the caller holds the catalog, not on the task's thread. */
  t->batch = src->vt->read_rows ? 64 : BATCH_ROWS;
  int64_t bs = sl_setting_int(&run->db->cat, SL_SET_BATCH_SIZE);
  if (bs < t->batch) t->batch = (int)bs;
  t->lag = -1;
  memcpy(t->fp, run->fp, sizeof t->fp);
  run->tasks = sl_realloc(run->tasks, sizeof(*run->tasks) * (size_t)(run->ntask + 1));
  run->tasks[run->ntask++] = t;
  return t;
}

static void task_free(sl_task *t) {
  if (t->dec) t->src->format->decoder_free(t->dec);
  if (t->src) t->src->vt->close(t->src);
  sl_err_clear(&t->err);
  free(t->qs);
  free(t->tops);
  free(t->name);
  free(t);
}

/* ---- checkpoints ------------------------------------------------------------ */

/* Write one checkpoint of t: its source's position and the state of every
** operator of the queries it feeds, in one transaction.  Called at a
** barrier (everything pushed has been written and flushed).  A failure
** (disk full, read-only) is reported and the task goes on: the last good
** checkpoint stays the one a restart uses. */
static void task_checkpoint(sl_task *t) {
  int64_t t0 = sl_now_us();
  sl_buf b = {0};
  sl_err e = {0};
  char key[32];
  int64_t bytes = 0;
  if (sl_ckpt_begin(t->ckpt, &e)) goto failed;
  if (t->src->vt->save_pos) {
    if (t->src->vt->save_pos(t->src, &b, &e) ||
        sl_ckpt_put(t->ckpt, t->name, "source", t->fp, b.z, b.n, &e))
      goto abort;
    bytes += (int64_t)b.n;
  }
  for (int i = 0; i < t->nq; i++) {
    struct sl_query *q = t->qs[i];
    for (int k = 0; k < q->nops; k++) {
      sl_operator *op = q->ops[k];
      if (!op->vt->save) continue;
      sl_buf_reset(&b);
      snprintf(key, sizeof key, "op%d", k);
      if (op->vt->save(op, &b, &e) || sl_ckpt_put(t->ckpt, q->id, key, q->fp, b.z, b.n, &e))
        goto abort;
      bytes += (int64_t)b.n;
    }
  }
  if (sl_ckpt_commit(t->ckpt, &e)) goto failed;
  t->nckpt++;
  __atomic_store_n(&t->ckpt_wall, sl_wall_ms(), __ATOMIC_RELAXED);
  t->ckpt_bytes = bytes;
  t->ckpt_us = sl_now_us() - t0;
  sl_buf_free(&b);
  return;
abort:
  sl_ckpt_abort(t->ckpt);
failed:
  if (t->nfailed++ < 5 || t->nfailed % 100 == 0)
    fprintf(stderr,
            "sluice: %s: checkpoint failed (%lld so far; a restart uses the last good one, "
            "%lld written): %s\n",
            t->name[0] ? t->name : "query", (long long)t->nfailed, (long long)t->nckpt,
            e.msg ? e.msg : "?");
  sl_err_clear(&e);
  sl_buf_free(&b);
}

/* Before the first batch: load t's last checkpoint (source position and
** operator states), if there is one.  0, or -1 with err set. */
static int task_restore(sl_task *t, sl_err *err) {
  sl_buf b = {0};
  char key[32];
  int rc = 0, found;
  if (t->src->vt->save_pos) {
    found = sl_ckpt_get(t->ckpt, t->name, "source", t->fp, &b, err);
    if (found < 0 || (found && t->src->vt->load_pos(t->src, b.z, b.n, err))) rc = -1;
    t->resumed |= found > 0;
  }
  for (int i = 0; i < t->nq && !rc; i++) {
    struct sl_query *q = t->qs[i];
    for (int k = 0; k < q->nops && !rc; k++) {
      sl_operator *op = q->ops[k];
      const char *bad =
          !strcmp(op->vt->name, "aggregate") ? sl_op_aggregate_uncheckpointable(op) : NULL;
      if (bad) {
        sl_err_set(err, SL_EBIND,
                   "%s: aggregate %s() cannot be checkpointed (a C function without xSave): run "
                   "it without a state directory",
                   q->id, bad);
        rc = -1;
        continue;
      }
      if (!op->vt->load) {
        if (!strcmp(op->vt->name, "interval join")) {
          sl_err_set(err, SL_EBIND,
                     "%s: the state of interval joins is not checkpointed yet: run it without a "
                     "state directory",
                     q->id);
          rc = -1;
        }
        continue;
      }
      snprintf(key, sizeof key, "op%d", k);
      found = sl_ckpt_get(t->ckpt, q->id, key, q->fp, &b, err);
      if (found < 0 || (found && op->vt->load(op, b.z, b.n, err))) rc = -1;
      t->resumed |= found > 0;
    }
  }
  sl_buf_free(&b);
  return rc;
}

/* 1 when t is to stop as at an interrupt: the engine was interrupted, its
** run stopped, or every query it feeds terminated alone. */
static int task_stopping(const sl_task *t) {
  if (t->db->interrupted || *t->stop) return 1;
  if (!t->ntop) return 0;
  for (int i = 0; i < t->ntop; i++)
    if (!__atomic_load_n(&t->tops[i]->stopped, __ATOMIC_ACQUIRE)) return 0;
  return 1;
}

/* Count one batch that took us microseconds into t's histogram (only t's
** thread writes; sl_run_query_info reads). */
static void task_time_batch(sl_task *t, int64_t us) {
  int k = 0;
  while (k < SL_LAT_NB - 1 && (double)us > sl_lat_bounds[k] * 1e6)
    k++;
  __atomic_fetch_add(&t->lat[k], 1, __ATOMIC_RELAXED);
  __atomic_fetch_add(&t->lat_us, us, __ATOMIC_RELAXED);
  __atomic_fetch_add(&t->nbatch, 1, __ATOMIC_RELAXED);
}

/* Drive one task: read, decode, push, until the source ends. */
static void task_run(sl_task *t) {
  sl_source *src = t->src;
  int ncol = src->schema.ncol;
  int typed = src->vt->read_rows != NULL;
  int batch = t->batch;
  size_t ncells = (size_t)batch * (size_t)(ncol ? ncol : 1);
  sl_value *rows = sl_calloc(ncells, sizeof(sl_value));
  sl_record *recs = typed ? NULL : sl_calloc((size_t)batch, sizeof(sl_record));
  const sl_record **recp = typed ? NULL : sl_calloc((size_t)batch, sizeof(*recp));
  sl_arena arena;
  sl_arena_init(&arena);
  if (!typed && !t->dec) {
    sl_fmt_opts opts = src->fmt_opts;
    opts.schema = &src->schema;
    t->dec = src->format->decoder_new(&opts, &t->err);
    if (!t->dec) goto done;
  }
  /* A first checkpoint before any output: a crash before the first
  ** periodic one then resumes from here, and an exactly-once sink knows
  ** where its output of this run starts. */
  if (t->ckpt) task_checkpoint(t);
  int64_t last_commit = sl_now_ms(), last_ckpt = last_commit, last_lag = 0;
  int marked = 0; /* positions noted, their outputs not yet all acknowledged */
  while (!task_stopping(t)) {
    int n, nrow = 0;
    int64_t now = sl_now_ms();
    if (src->vt->lag && now - last_lag >= 100) {
      /* while idle too: the broker may have been written to since */
      __atomic_store_n(&t->lag, src->vt->lag(src), __ATOMIC_RELAXED);
      last_lag = now;
    }

    if (t->ckpt && now - last_ckpt >= t->ckpt_ms) {
      /* a checkpoint: behind a barrier (the sinks write and flush all they
      ** were given), then the state, then the source's offsets */
      if (t->head->vt->on_time(t->head, SL_TIME_FLUSH, sl_wall_ms(), &t->err)) goto done;
      task_checkpoint(t);
      if (src->vt->commit && src->vt->commit(src, SL_COMMIT_NOW, &t->err)) goto done;
      last_ckpt = last_commit = now;
      marked = 0;
    } else if (!marked && now - last_commit >= t->commit_ms) {
      /* a commit without stopping: note the positions and what the sinks
      ** were given (time passes for the operators too); commit once all of
      ** that is acknowledged, while the task reads on */
      if (t->head->vt->on_time(t->head, SL_TIME_MARK, sl_wall_ms(), &t->err) < 0) goto done;
      if (src->vt->commit && src->vt->commit(src, SL_COMMIT_NOTE, &t->err)) goto done;
      marked = 1;
    }
    if (marked) {
      int rc = t->head->vt->on_time(t->head, SL_TIME_CHECK, sl_wall_ms(), &t->err);
      if (rc < 0) goto done;
      if (rc == 0) {
        if (src->vt->commit && src->vt->commit(src, SL_COMMIT_NOTED, &t->err)) goto done;
        marked = 0;
        last_commit = now;
      }
    }
    if (typed) {
      n = src->vt->read_rows(src, rows, ncol, batch, &t->err);
    } else {
      n = src->vt->read(src, recs, batch, 200, &t->err);
    }
    if (n == SL_READ_AGAIN) continue;
    if (n == SL_READ_END) break;
    if (n < 0) {
      if (!t->err.code) sl_err_set(&t->err, SL_EIO, "source failed");
      break;
    }
    int64_t t0 = sl_now_us();
    if (src->vt->lag) {
      /* after each read, before the push (which may wait on a slow consumer) */
      __atomic_store_n(&t->lag, src->vt->lag(src), __ATOMIC_RELAXED);
      last_lag = t0 / 1000;
    }
    t->stats.in += n;
    if (typed) {
      nrow = n;
    } else {
      sl_arena_reset(&arena);
      for (int i = 0; i < n; i++) {
        sl_value *row = rows + (size_t)nrow * (size_t)ncol;
        const char *why = NULL;
        t->stats.bytes_in += (int64_t)recs[i].len;
        if (src->format->decode(t->dec, recs[i].data, recs[i].len, row, &arena, &why)) {
          if (t->fail_on_error) {
            sl_buf pos;
            sl_buf_init(&pos);
            src->vt->position(src, &recs[i], &pos);
            sl_err_set(&t->err, SL_EFORMAT, "%s: %s (errors => 'fail')", pos.z ? pos.z : "?",
                       why ? why : "malformed record");
            sl_buf_free(&pos);
            t->stats.rejected++;
            goto done;
          }
          sl_log_reject(&t->stats, t->name, src, &recs[i], why ? why : "malformed record");
          continue;
        }
        recp[nrow++] = &recs[i];
      }
    }
    if (!nrow) continue;
    sl_batch b = {ncol, nrow, rows, typed ? NULL : recp, src, sl_wall_ms(), NULL};
    int rc = t->head->vt->push(t->head, &b, &t->err);
    task_time_batch(t, sl_now_us() - t0);
    if (rc < 0) goto done;
    if (rc > 0) break; /* a consumer has had enough */
  }
  if (task_stopping(t) && t->ckpt && !t->err.code) {
    /* a clean stop of a checkpointed query: everything written, then the
    ** state as it is (open windows stay open, to go on after a restart) */
    if (t->head->vt->on_time(t->head, SL_TIME_FLUSH, sl_wall_ms(), &t->err) == 0) {
      task_checkpoint(t);
      if (src->vt->commit) src->vt->commit(src, SL_COMMIT_NOW, &t->err);
    }
    goto done;
  }
  /* Everything read has been written and flushed downstream: only now is
  ** it consumed (at-least-once). */
  if (!t->err.code && t->head->vt->finish(t->head, &t->err) == 0) {
    if (t->ckpt) task_checkpoint(t); /* the end: a restart has nothing left to do */
    if (src->vt->commit) src->vt->commit(src, SL_COMMIT_NOW, &t->err);
  }
done:
  sl_arena_free(&arena);
  free(rows);
  free(recs);
  free(recp);
  __atomic_store_n(&t->done, 1, __ATOMIC_RELEASE);
}

/* A task on a thread of its own: when it fails, say so at once, since the
** others go on (a continuous query may run for days). */
static void *task_thread(void *arg) {
  sl_task *t = arg;
  task_run(t);
  if (t->err.code) {
    fprintf(stderr, "sluice: %s stopped: %s\n", t->name[0] ? t->name : "query",
            t->err.msg ? t->err.msg : "failed");
    t->reported = 1;
  }
  return NULL;
}

/* Give every task the queries it feeds and, with a state directory (and a
** run that is not transient), its store, and load its last checkpoint.
** 0, or -1 with err set. */
static int run_restore(sl_run *run, sl_err *err) {
  for (int i = 0; i < run->ntask; i++) {
    sl_task *t = run->tasks[i];
    for (int k = 0; k < run->nquery; k++)
      if (run->queries[k]->task == t) {
        t->qs = sl_realloc(t->qs, sizeof(*t->qs) * (size_t)(t->nq + 1));
        t->qs[t->nq++] = run->queries[k];
      }
  }
  if (run->transient) return 0;
  int eo = sl_setting_int(&run->db->cat, SL_SET_GUARANTEE) == SL_GUARANTEE_EXACTLY_ONCE;
  for (int i = 0; eo && i < run->nquery; i++) {
    sl_query *q = run->queries[i];
    if (q->nops && !strcmp(q->ops[q->nops - 1]->vt->name, "sink") && q->task &&
        !q->task->src->vt->save_pos) {
      sl_err_set(err, SL_EBIND,
                 "processing.guarantee = 'exactly_once' needs sources that can be replayed "
                 "(kafka or a file), not %s()",
                 q->task->src->vt->name);
      return -1;
    }
  }
  sl_ckpt *c = sl_engine_state(run->db, err);
  if (!c) return err->code ? -1 : 0;
  int64_t every = sl_setting_int(&run->db->cat, SL_SET_CHECKPOINT_INTERVAL);
  for (int i = 0; i < run->ntask; i++) {
    sl_task *t = run->tasks[i];
    t->ckpt = c;
    t->ckpt_ms = every > 0 ? every : 5000;
    if (task_restore(t, err)) return -1;
  }
  return 0;
}

int sl_run_prepare(sl_run *run, sl_err *err) {
  if (run->prepared) return 0;
  run->prepared = 1;
  return run_restore(run, err);
}

int sl_run_execute(sl_run *run, int threaded, sl_err *err) {
  if (!run->prepared && sl_run_prepare(run, err)) return -1;
  if (threaded && run->ntask > 1) {
    for (int i = 0; i < run->ntask; i++)
      if (pthread_create(&run->tasks[i]->thread, NULL, task_thread, run->tasks[i])) {
        sl_err_set(err, SL_EINTERNAL, "cannot start a thread");
        run->ntask = i; /* only join what started */
        break;
      }
    for (int i = 0; i < run->ntask; i++)
      pthread_join(run->tasks[i]->thread, NULL);
  } else {
    for (int i = 0; i < run->ntask; i++)
      task_run(run->tasks[i]);
  }
  int nreported = 0;
  for (int i = 0; i < run->ntask; i++) {
    sl_task *t = run->tasks[i];
    nreported += t->reported;
    if (t->err.code && !t->reported && !err->code) {
      sl_err_set(err, t->err.code, "%s%s%s", t->name, t->name[0] ? ": " : "",
                 t->err.msg ? t->err.msg : "failed");
    }
  }
  if (nreported && !err->code)
    sl_err_set(err, SL_EIO, "%d quer%s stopped with an error (reported above)", nreported,
               nreported == 1 ? "y" : "ies");
  return err->code ? -1 : 0;
}

/* ---- options of connector calls ----------------------------------------- */

int sl_call_options(sluice *db, const sl_call *call, sl_options *o, sl_err *err) {
  memset(o, 0, sizeof *o);
  o->fn = call->name;
  int pos = 0;
  for (int i = 0; call->args && i < call->args->n; i++) {
    sl_expr *a = call->args->a[i];
    sl_expr *v = a->kind == E_OPTION ? a->left : a;
    sl_bind b = {.funcs = db->cat.funcs, .err = err};
    if (sl_bind_expr(&b, v)) return -1;
    if (!v->is_const) {
      sl_err_setpos(err, SL_EBIND, v->line, v->pos_col, "arguments of %s() must be constants",
                    call->name);
      return -1;
    }
    sl_value val = SL_VALUE_INIT;
    if (sl_expr_eval_const(v, &val, err)) return -1;
    char name[16];
    if (a->kind != E_OPTION) snprintf(name, sizeof name, "%d", pos++);
    sl_options_add(o, a->kind == E_OPTION ? a->name : name, &val, a->line, a->pos_col);
    sl_value_free(&val);
  }
  return 0;
}

/* SET processing.guarantee = 'exactly_once' (else at-least-once). */
static int exactly_once(sluice *db) {
  return sl_setting_int(&db->cat, SL_SET_GUARANTEE) == SL_GUARANTEE_EXACTLY_ONCE;
}

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

/* Open a connector call as a source or a sink. */
static void *open_connector(sluice *db, const sl_call *call, int sink, const sl_schema *declared,
                            const char *query_fp, sl_err *err) {
  const sl_connector *c = sl_connector_find(call->name, strlen(call->name));
  if (!c || !(sink ? (void *)c->open_sink : (void *)c->open_source)) {
    sl_err_setpos(err, SL_EBIND, call->line, call->col,
                  c ? "%s() cannot be used as a %s" : "no such %2$s: %1$s", call->name,
                  sink ? "sink" : "source");
    return NULL;
  }
  sl_options o;
  if (sl_call_options(db, call, &o, err)) {
    sl_options_free(&o);
    return NULL;
  }
  o.declared = declared;
  o.resume = sink && sl_setting_text(&db->cat, SL_SET_STATE_DIR) != NULL;
  o.exactly_once = sink && exactly_once(db);
  o.query_fp = query_fp;
  /* SET kafka.brokers = 'h:p' is the default brokers => of every kafka() call,
  ** and SET kafka.some.property a default librdkafka property. */
  size_t plen = strlen(c->name);
  for (sl_setting *st = db->cat.settings; st; st = st->next) {
    if (strlen(st->name) > plen + 1 && sl_strnicmp(st->name, c->name, plen) == 0 &&
        st->name[plen] == '.' && !sl_opt_find_unused(&o, st->name + plen + 1))
      sl_options_add(&o, st->name + plen + 1, &st->value, call->line, call->col);
  }
  sl_err e2 = {0};
  void *r = sink ? (void *)c->open_sink(&o, &e2) : (void *)c->open_source(&o, &e2);
  if (!r) {
    if (!e2.line) {
      e2.line = call->line;
      e2.col = call->col;
    }
    sl_err_move(err, &e2);
  }
  sl_err_clear(&e2);
  sl_options_free(&o);
  return r;
}

/* ---- inputs --------------------------------------------------------------- */

/* Where a query's first operator goes, and what it binds against. */
typedef struct input {
  sl_task *task;       /* the task feeding (directly or through streams) */
  sl_operator *fanout; /* attach here when reading a stream */
  sl_schema *schema;   /* columns to bind against, NULL for no columns */
  const char *name;    /* qualifier the columns may be written with */
  int64_t lateness;    /* the stream's WATERMARK ts - INTERVAL: allowed lateness (ms) */
  /* FROM s JOIN t: where t's columns and s's are in the joined rows */
  sl_schema *schema2;
  const char *name2;
  int base1, base2;
} input;

/* A program that skips the row unless where holds (when where is not
** NULL) and computes the n expressions e[] into consecutive registers from
** its result_reg: the first stage of op_score (model calls) and of
** op_project's batch calls.  mcall_base: see sl_compiler.  NULL with err
** set on a compile error. */
static sl_program *args_program(sl_expr *where, sl_expr **e, int n, int mcall_base, sl_err *err) {
  sl_program *p = sl_program_new();
  sl_compiler c = {p, 0, err, 0, mcall_base, NULL, 0};
  int res = sl_reg_alloc(&c, n ? n : 1);
  p->result_reg = res;
  p->nresult = n;
  int skip = -1;
  if (where) {
    int w = sl_reg_alloc(&c, 1);
    if (sl_expr_code(&c, where, w)) goto fail;
    skip = sl_program_add(p, OP_IfNot, w, 0, 1);
  }
  for (int i = 0; i < n; i++)
    if (sl_expr_code(&c, e[i], res + i)) goto fail;
  sl_program_add(p, OP_Result, res, n, 0);
  if (skip >= 0) {
    p->ops[skip].p2 = p->nop;
    sl_program_add(p, OP_Halt, 1, 0, 0);
  }
  sl_program_finish(p);
  return p;
fail:
  sl_program_free(p);
  return NULL;
}

typedef struct exprs {
  sl_expr **a;
  int n;
} exprs;

/* Collect into l the calls under e that op_project can make once per batch:
** calls of a function with a batch form that every row evaluates (not
** under CASE, COALESCE, IFNULL or IIF, which may skip them; not constant,
** which are folded; not model calls, made by op_score).  The outermost such
** call is taken, its arguments evaluated per row; each gets e->bcall. */
static void collect_batch_calls(sl_expr *e, exprs *l) {
  if (!e || e->kind == E_CASE) return;
  if (e->kind == E_CALL) {
    if (e->mcall >= 0 || e->agg >= 0 || !e->func) return;
    if (e->func->xBatch && !e->is_const) {
      e->bcall = l->n;
      l->a = sl_realloc(l->a, sizeof(*l->a) * (size_t)(l->n + 1));
      l->a[l->n++] = e;
      return;
    }
  }
  collect_batch_calls(e->left, l);
  collect_batch_calls(e->right, l);
  for (int i = 0; e->list && i < e->list->n; i++)
    collect_batch_calls(e->list->a[i], l);
}

static sl_query *plan_select(sl_run *run, const sl_select *sel, const char *id, sl_operator *out,
                             sl_row_fn fn, void *ud, sl_err *err);

/* Plan what a stream is made of: its query (AS SELECT) or its source. */
static int plan_stream_def(sl_run *run, const sl_stream *s, stream_inst *si, const sl_stmt *d,
                           sl_err *err) {
  if (d->select) {
    sl_query *q = plan_select(run, d->select, s->name, si->fanout, NULL, NULL, err);
    if (!q) return -1;
    memcpy(q->fp, run->fp, sizeof q->fp);
    for (int c = 0; c < q->ncol; c++) {
      int idx = sl_schema_add(&si->own, q->names[c], strlen(q->names[c]), NULL);
      si->own.cols[idx].aff = q->affs[c];
    }
    si->schema = &si->own;
    si->task = q->task;
    return 0;
  }
  sl_source *src = open_connector(run->db, d->source, 0, d->ncols ? &s->schema : NULL, NULL, err);
  if (!src) return -1;
  if (d->ncols) {
    sl_schema_free(&src->schema);
    sl_schema_copy(&src->schema, &s->schema);
  }
  si->task = task_new(run, s->name, src);
  si->task->head = si->fanout;
  si->schema = &src->schema;
  return 0;
}

static int plan_stream(sl_run *run, const sl_stream *s, input *in, sl_err *err) {
  for (int i = 0; i < run->nstream; i++) {
    stream_inst *si = run->streams[i];
    if (si->def == s) {
      in->task = si->task;
      in->fanout = si->fanout;
      in->schema = si->schema;
      in->name = s->name;
      const sl_expr *wm = s->def->watermark;
      if (wm && wm->kind == E_BINARY && wm->right && wm->right->kind == E_INTERVAL)
        in->lateness = wm->right->i;
      return 0;
    }
  }
  stream_inst *si = sl_calloc(1, sizeof *si);
  si->def = s;
  si->fanout = sl_op_fanout_new();
  sl_schema_init(&si->own, 0);
  run->streams = sl_realloc(run->streams, sizeof(*run->streams) * (size_t)(run->nstream + 1));
  run->streams[run->nstream++] = si;
  const sl_stmt *d = s->def;
  /* the stream's own statement is what its task and query are made from */
  char saved[17];
  memcpy(saved, run->fp, sizeof saved);
  sl_ckpt_fingerprint(d->sql, (size_t)d->sqllen, run->fp);
  int rc = plan_stream_def(run, s, si, d, err);
  memcpy(run->fp, saved, sizeof saved);
  if (rc) return -1;
  in->task = si->task;
  in->fanout = si->fanout;
  in->schema = si->schema;
  in->name = s->name;
  const sl_expr *wm = d->watermark; /* ts - INTERVAL '5' SECOND */
  if (wm && wm->kind == E_BINARY && wm->right && wm->right->kind == E_INTERVAL)
    in->lateness = wm->right->i;
  return 0;
}

static int plan_input1(sl_run *run, const sl_call *from, const char *id, input *in, sl_err *err);

/* The input of a query: its source, stream or table (named by its alias if
** it has one). */
static int plan_input(sl_run *run, const sl_call *from, const char *id, input *in, sl_err *err) {
  if (plan_input1(run, from, id, in, err)) return -1;
  if (from && from->alias) in->name = from->alias;
  return 0;
}

static int plan_input1(sl_run *run, const sl_call *from, const char *id, input *in, sl_err *err) {
  memset(in, 0, sizeof *in);
  if (!from) {
    /* A constant SELECT: its errors are the statement's own, unprefixed. */
    in->task = task_new(run, "", sl_table_source_new(NULL));
    in->schema = NULL;
    return 0;
  }
  if (from->bare) {
    sl_table *t = sl_catalog_table(&run->db->cat, from->name);
    if (t) {
      in->task = task_new(run, id, sl_table_source_new(t));
      in->schema = &in->task->src->schema;
      in->name = t->name;
      return 0;
    }
    sl_stream *s = sl_catalog_stream(&run->db->cat, from->name);
    if (s) return plan_stream(run, s, in, err);
    if (!sl_connector_find(from->name, strlen(from->name))) {
      sl_err_setpos(err, SL_EBIND, from->line, from->col, "no such stream or table: %s",
                    from->name);
      return -1;
    }
  }
  sl_source *src = open_connector(run->db, from, 0, NULL, NULL, err);
  if (!src) return -1;
  in->task = task_new(run, id, src);
  in->schema = &src->schema;
  in->name = from->name;
  return 0;
}

/* ---- queries -------------------------------------------------------------- */

static void query_add_op(sl_query *q, sl_operator *op) {
  op->stats = &q->stats;
  op->qname = q->id;
  if (q->nops) q->ops[q->nops - 1]->next = op;
  q->ops = sl_realloc(q->ops, sizeof(*q->ops) * (size_t)(q->nops + 1));
  q->ops[q->nops++] = op;
}

static void query_free(sl_query *q) {
  for (int i = 0; i < q->nops; i++)
    q->ops[i]->vt->free(q->ops[i]);
  for (int i = 0; i < q->ncol; i++)
    free(q->names[i]);
  free(q->names);
  free(q->affs);
  free(q->ops);
  free(q->id);
  free(q);
}

/* Expand `*` in the select list into column references. */
static sl_exprlist *expand_star(sl_run *run, const sl_exprlist *cols, const input *in,
                                sl_err *err) {
  int has_star = 0;
  for (int i = 0; i < cols->n; i++)
    has_star |= cols->a[i]->kind == E_STAR;
  if (!has_star) return (sl_exprlist *)cols;
  sl_exprlist *l = sl_arena_alloc(&run->arena, sizeof *l);
  memset(l, 0, sizeof *l);
  int cap = cols->n + (in->schema ? in->schema->ncol : 0);
  l->a = sl_arena_alloc(&run->arena, sizeof(*l->a) * (size_t)cap);
  l->names = sl_arena_alloc(&run->arena, sizeof(*l->names) * (size_t)cap);
  for (int i = 0; i < cols->n; i++) {
    sl_expr *e = cols->a[i];
    if (e->kind != E_STAR) {
      l->names[l->n] = cols->names[i];
      l->a[l->n++] = e;
      continue;
    }
    if (!in->schema) {
      sl_err_setpos(err, SL_EBIND, e->line, e->pos_col, "no tables specified");
      return NULL;
    }
    if (in->schema->open) {
      sl_err_setpos(err, SL_EBIND, e->line, e->pos_col,
                    "SELECT * needs declared columns: name the fields, or declare them with "
                    "columns => 'a TEXT, b REAL' or CREATE STREAM s (a TEXT, ...) FROM ...");
      return NULL;
    }
    for (int c = 0; c < in->schema->ncol; c++) {
      sl_expr *x = sl_arena_alloc(&run->arena, sizeof *x);
      memset(x, 0, sizeof *x);
      x->kind = E_COLUMN;
      x->name = in->schema->cols[c].name;
      x->line = e->line;
      x->pos_col = e->pos_col;
      x->agg = -1;
      l->names[l->n] = NULL;
      l->a[l->n++] = x;
    }
  }
  return l;
}

/* ---- joins ---------------------------------------------------------------- */

/* Load a bounded input (a catalog table, a file, sqlite(...)) completely
** into a new table with owned values. */
static sl_table *load_table(sl_run *run, const sl_call *c, sl_err *err) {
  sl_table *t = sl_calloc(1, sizeof *t);
  t->name = sl_strdup(c->alias ? c->alias : c->name);
  sl_schema_init(&t->schema, 0);
  sl_table *cat = c->bare ? sl_catalog_table(&run->db->cat, c->name) : NULL;
  if (cat) {
    sl_schema_copy(&t->schema, &cat->schema);
    for (int r = 0; r < cat->nrow; r++)
      sl_table_insert(t, cat->rows + (size_t)r * (size_t)cat->schema.ncol);
    return t;
  }
  if (c->bare && !sl_connector_find(c->name, strlen(c->name))) {
    sl_err_setpos(err, SL_EBIND, c->line, c->col, "no such table: %s", c->name);
    goto fail;
  }
  sl_source *src = open_connector(run->db, c, 0, NULL, NULL, err);
  if (!src) goto fail;
  if (src->schema.ncol == 0) {
    sl_err_setpos(err, SL_EBIND, c->line, c->col,
                  "the joined table needs known columns (columns => '...', a CSV header, "
                  "or a sqlite table)");
    src->vt->close(src);
    goto fail;
  }
  sl_schema_copy(&t->schema, &src->schema);
  int ncol = src->schema.ncol, cap = 256;
  sl_value *rows = sl_calloc((size_t)cap * (size_t)ncol, sizeof(sl_value));
  sl_record recs[256];
  sl_arena arena;
  sl_arena_init(&arena);
  sl_decoder *dec = NULL;
  int rc = 0;
  if (!src->vt->read_rows) {
    sl_fmt_opts opts = src->fmt_opts;
    opts.schema = &src->schema;
    dec = src->format->decoder_new(&opts, err);
    if (!dec) rc = -1;
  }
  while (!rc) {
    int n = src->vt->read_rows ? src->vt->read_rows(src, rows, ncol, cap, err)
                               : src->vt->read(src, recs, cap, -1, err);
    if (n == SL_READ_END) break;
    if (n == SL_READ_AGAIN) continue;
    if (n < 0) {
      rc = -1;
      break;
    }
    sl_arena_reset(&arena);
    for (int i = 0; i < n; i++) {
      sl_value *row = rows + (size_t)i * (size_t)ncol;
      const char *why = NULL;
      if (dec && src->format->decode(dec, recs[i].data, recs[i].len, row, &arena, &why)) {
        sl_buf pos;
        sl_buf_init(&pos);
        src->vt->position(src, &recs[i], &pos);
        sl_err_set(err, SL_EFORMAT, "%s: %s", pos.z ? pos.z : "?", why ? why : "malformed");
        sl_buf_free(&pos);
        rc = -1;
        break;
      }
      sl_table_insert(t, row);
    }
  }
  if (dec) src->format->decoder_free(dec);
  sl_arena_free(&arena);
  free(rows);
  src->vt->close(src);
  if (rc) goto fail;
  return t;
fail:
  sl_table_free(t);
  return NULL;
}

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

static void split_and(sl_expr *e, sl_expr ***v, int *n) {
  if (e->kind == E_AND) {
    split_and(e->left, v, n);
    split_and(e->right, v, n);
    return;
  }
  *v = sl_realloc(*v, sizeof(sl_expr *) * (size_t)(*n + 1));
  (*v)[(*n)++] = e;
}

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

static void grow_list(const sl_exprlist *x, sl_schema *l, const char *lname, sl_schema *r,
                      const char *rname) {
  for (int i = 0; x && i < x->n; i++)
    grow_sides(x->a[i], l, lname, r, rname);
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

/* FROM a JOIN b ON a.k = b.k AND b.ts BETWEEN a.ts [+ lo] AND a.ts + hi:
** plan b's input too, bind ON over the joined row [a's columns, b's],
** compile each side's keys and time, and add op_ijoin (a feeds it; b feeds
** its right port). */
static int plan_ijoin(sl_run *run, const sl_select *sel, sl_query *q, input *in, sl_err *err) {
  const sl_call *from = sel->from;
  input rin;
  if (plan_input(run, from->join, q->id, &rin, err)) return -1;
  if (!in->schema || !rin.schema) {
    sl_err_setpos(err, SL_EBIND, from->line, from->col, "an interval join needs two streams");
    return -1;
  }
  grow_list(sel->cols, in->schema, in->name, rin.schema, rin.name);
  grow_sides(sel->where, in->schema, in->name, rin.schema, rin.name);
  grow_list(sel->group, in->schema, in->name, rin.schema, rin.name);
  grow_sides(sel->having, in->schema, in->name, rin.schema, rin.name);
  grow_sides(from->on, in->schema, in->name, rin.schema, rin.name);
  sl_ijoin_spec js;
  memset(&js, 0, sizeof js);
  js.na = in->schema->ncol;
  js.nb = rin.schema->ncol;
  js.lateness[0] = in->lateness;
  js.lateness[1] = rin.lateness;
  in->schema2 = rin.schema;
  in->name2 = rin.name;
  in->base1 = 0;
  in->base2 = js.na;
  sl_bind b = {.schema = in->schema,
               .srcname = in->name,
               .funcs = run->db->cat.funcs,
               .err = err,
               .schema2 = in->schema2,
               .srcname2 = in->name2,
               .base2 = in->base2};
  sl_expr **conj = NULL, **akey = NULL, **bkey = NULL;
  sl_expr *ta = NULL, *tb = NULL;
  int nconj = 0, rc = -1, have_time = 0;
  if (sl_bind_expr(&b, from->on)) goto done;
  split_and(from->on, &conj, &nconj);
  akey = sl_calloc((size_t)nconj, sizeof(sl_expr *));
  bkey = sl_calloc((size_t)nconj, sizeof(sl_expr *));
  for (int i = 0; i < nconj; i++) {
    sl_expr *c = conj[i];
    if (c->kind == E_BINARY && c->op == TK_EQ) {
      int l = join_sides(c->left, js.na), r = join_sides(c->right, js.na);
      if ((l == 1 && r == 2) || (l == 2 && r == 1)) {
        akey[js.nkeys] = l == 1 ? c->left : c->right;
        bkey[js.nkeys++] = l == 1 ? c->right : c->left;
        continue;
      }
    }
    if (c->kind == E_BETWEEN && !c->not_ && !have_time && join_sides(c->left, js.na) == 2) {
      sl_expr *b1, *b2;
      split_offset(c->list->a[0], &b1, &js.lo);
      split_offset(c->list->a[1], &b2, &js.hi);
      if (sl_expr_equal(b1, b2) && join_sides(b1, js.na) == 1 && js.lo <= js.hi) {
        ta = b1;
        tb = c->left;
        have_time = 1;
        continue;
      }
    }
    sl_err_setpos(err, SL_EBIND, c->line, c->pos_col,
                  "a stream-stream JOIN's ON takes key equalities and one time bound "
                  "(b.ts BETWEEN a.ts AND a.ts + INTERVAL ...); put other conditions in WHERE");
    goto done;
  }
  if (!have_time || !js.nkeys) {
    sl_err_setpos(err, SL_EBIND, from->on->line, from->on->pos_col,
                  "a stream-stream JOIN needs a key equality and a time bound: ON a.k = b.k AND "
                  "b.ts BETWEEN a.ts AND a.ts + INTERVAL '...'");
    goto done;
  }
  for (int k = 0; k < 2; k++) {
    sl_program *pg = sl_program_new();
    sl_compiler c = {.prog = pg, .err = err};
    int r0 = sl_reg_alloc(&c, js.nkeys + 1);
    pg->result_reg = r0;
    pg->nresult = js.nkeys + 1;
    if (k)
      js.bprog = pg;
    else
      js.aprog = pg;
    for (int i = 0; i < js.nkeys; i++)
      if (sl_expr_code(&c, k ? bkey[i] : akey[i], r0 + i)) goto done;
    if (sl_expr_code(&c, k ? tb : ta, r0 + js.nkeys)) goto done;
    sl_program_add(pg, OP_Result, r0, js.nkeys + 1, 0);
    sl_program_finish(pg);
  }
  sl_operator *right = NULL;
  query_add_op(q, sl_op_ijoin_new(&js, &right));
  right->stats = &q->stats;
  right->qname = q->id;
  right->halt = &q->stopped;
  q->task2 = rin.task;
  if (rin.fanout)
    sl_op_fanout_add(rin.fanout, right);
  else
    rin.task->head = right;
  rc = 0;
done:
  free(conj);
  free(akey);
  free(bkey);
  sl_program_free(js.aprog);
  sl_program_free(js.bprog);
  return rc;
}

/* 1 if the ON condition has a BETWEEN at its top level (an interval join). */
static int on_has_between(const sl_expr *e) {
  if (!e) return 0;
  if (e->kind == E_AND) return on_has_between(e->left) || on_has_between(e->right);
  return e->kind == E_BETWEEN;
}

/* FROM s [LEFT] JOIN t ON ...: load t, bind ON, and add op_join, which
** looks each record's key up in t (a hash on t's key columns: the ON
** equalities between a column of t and an expression of s) and emits the
** joined rows [t's columns, s's columns]. */
static int plan_join(sl_run *run, const sl_call *from, sl_query *q, input *in, sl_err *err) {
  sl_table *t = load_table(run, from->join, err);
  if (!t) return -1;
  in->schema2 = &t->schema;
  in->name2 = t->name;
  in->base1 = t->schema.ncol;
  sl_bind b = {.schema = in->schema,
               .srcname = in->name,
               .funcs = run->db->cat.funcs,
               .err = err,
               .schema2 = in->schema2,
               .srcname2 = in->name2,
               .base1 = in->base1,
               .base2 = in->base2};
  sl_join_spec js;
  memset(&js, 0, sizeof js);
  js.table = t;
  js.left = from->left_join;
  sl_expr **conj = NULL;
  int nconj = 0, rc = -1;
  if (sl_bind_expr(&b, from->on)) goto done;
  split_and(from->on, &conj, &nconj);
  int nt = t->schema.ncol;
  js.tkey = sl_calloc((size_t)nconj, sizeof(int));
  sl_expr **skey = sl_calloc((size_t)nconj, sizeof(sl_expr *));
  sl_expr **resid = sl_calloc((size_t)nconj, sizeof(sl_expr *));
  int nres = 0;
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
        js.tkey[js.nkeys] = l->col;
        skey[js.nkeys++] = r;
        continue;
      }
    }
    resid[nres++] = c;
  }
  if (!js.nkeys) {
    sl_err_setpos(err, SL_EBIND, from->on->line, from->on->pos_col,
                  "JOIN ... ON needs an equality between a column of %s and the input", t->name);
    goto done2;
  }
  /* the input's side of each key, over the joined row */
  js.keyprog = sl_program_new();
  sl_compiler kc = {.prog = js.keyprog, .err = err};
  int kr = sl_reg_alloc(&kc, js.nkeys);
  js.keyprog->result_reg = kr;
  js.keyprog->nresult = js.nkeys;
  for (int i = 0; i < js.nkeys; i++)
    if (sl_expr_code(&kc, skey[i], kr + i)) goto done2;
  sl_program_add(js.keyprog, OP_Result, kr, js.nkeys, 0);
  sl_program_finish(js.keyprog);
  if (nres) { /* the rest of ON decides whether a matching row joins */
    js.residual = sl_program_new();
    sl_compiler rcmp = {.prog = js.residual, .err = err};
    int w = sl_reg_alloc(&rcmp, 1);
    int *jumps = sl_calloc((size_t)nres, sizeof(int));
    for (int i = 0; i < nres; i++) {
      if (sl_expr_code(&rcmp, resid[i], w)) {
        free(jumps);
        goto done2;
      }
      jumps[i] = sl_program_add(js.residual, OP_IfNot, w, 0, 1);
    }
    js.residual->result_reg = w;
    js.residual->nresult = 0;
    sl_program_add(js.residual, OP_Result, w, 0, 0);
    for (int i = 0; i < nres; i++)
      js.residual->ops[jumps[i]].p2 = js.residual->nop;
    sl_program_add(js.residual, OP_Halt, 1, 0, 0);
    free(jumps);
    sl_program_finish(js.residual);
  }
  query_add_op(q, sl_op_join_new(&js));
  t = NULL; /* the operator owns it */
  rc = 0;
done2:
  free(skey);
  free(resid);
done:
  free(conj);
  sl_program_free(js.keyprog);
  sl_program_free(js.residual);
  free(js.tkey);
  if (t) {
    in->schema2 = NULL;
    sl_table_free(t);
  }
  return rc;
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

/* A window size or slide: an INTERVAL or a number of milliseconds. */
static int window_ms(sl_expr *e, int64_t *ms, sl_err *err) {
  if (e->kind == E_INTERVAL || e->kind == E_INT) {
    *ms = e->i;
    if (*ms > 0) return 0;
  }
  sl_err_setpos(err, SL_EBIND, e->line, e->pos_col,
                "a window size must be a positive INTERVAL (or milliseconds)");
  return -1;
}

/* Columns of the input's rows (both sides of a join), once binding is done
** (an open schema grows while binding). */
static int input_width(const input *in) {
  int n = in->base1 + (in->schema ? in->schema->ncol : 0);
  if (in->schema2 && in->base2 + in->schema2->ncol > n) n = in->base2 + in->schema2->ncol;
  return n;
}

/* Add op_score to q for the model calls collected while binding: its program
** computes every call's arguments (and where, when given: a WHERE that uses
** no model, so rows it drops are not scored).  Takes mcalls' slot references
** on success (mcalls is zeroed); on failure the caller frees them. */
static int add_score(sluice *db, sl_query *q, sl_mcalls *mcalls, sl_expr *where, int ncol_in,
                     int strict, sl_err *err) {
  int total = 0;
  for (int i = 0; i < mcalls->n; i++)
    total += mcalls->a[i].nargs + (mcalls->a[i].cls != NULL);
  sl_expr **args = sl_malloc(sizeof(sl_expr *) * (size_t)(total ? total : 1));
  int *arg_reg = sl_malloc(sizeof(int) * (size_t)mcalls->n);
  int off = 0;
  for (int i = 0; i < mcalls->n; i++) {
    const sl_mcall *mc = &mcalls->a[i];
    arg_reg[i] = off;
    for (int j = 0; j < mc->nargs; j++)
      args[off++] = mc->args[j];
    if (mc->cls) args[off++] = mc->cls;
  }
  sl_program *sp = args_program(where, args, total, 0, err);
  free(args);
  if (sp) {
    for (int i = 0; i < mcalls->n; i++)
      arg_reg[i] += sp->result_reg;
    query_add_op(q, sl_op_score_new(sp, ncol_in, mcalls, arg_reg,
                                    (int)sl_setting_int(&db->cat, SL_SET_VM_TRACE), strict));
  }
  free(arg_reg);
  return sp ? 0 : -1;
}

/* Arguments an aggregate call passes (train(m, ...) does not pass m). */
static int agg_nargs(const sl_expr *e) {
  int n = e->star || !e->list ? 0 : e->list->n;
  return e->func->flags & SL_FUNC_MODELARG ? n - 1 : n;
}

/* GROUP BY [keys], [TUMBLE(ts, size) | HOP(ts, slide, size)]: bind, compile
** the step and output programs, and add op_aggregate to q. */
static int plan_grouped(sl_run *run, const sl_select *sel, sl_query *q, input *in,
                        sl_exprlist *cols, sl_err *err) {
  sluice *db = run->db;
  sl_agg_spec spec;
  memset(&spec, 0, sizeof spec);
  sl_exprlist keys = {0, 0, NULL, NULL};
  sl_expr *win = NULL;
  sl_expr **aggs = NULL;
  sl_mcalls mcalls = {0};
  sl_held held = {0};
  int rc = -1;
  for (int i = 0; sel->group && i < sel->group->n; i++) {
    sl_expr *g = sel->group->a[i];
    if (g->kind == E_CALL && (!sl_stricmp(g->name, "tumble") || !sl_stricmp(g->name, "hop") ||
                              !sl_stricmp(g->name, "session"))) {
      if (win) {
        sl_err_setpos(err, SL_EBIND, g->line, g->pos_col, "GROUP BY has one window at most");
        goto done;
      }
      win = g;
      continue;
    }
    keys.a = sl_realloc(keys.a, sizeof(sl_expr *) * (size_t)(keys.n + 1));
    keys.a[keys.n++] = g;
  }
  /* model calls anywhere (op_score runs first and appends their results);
  ** train() holds its model's slot for the operator's life */
  sl_bind b = {.schema = in->schema,
               .srcname = in->name,
               .funcs = db->cat.funcs,
               .err = err,
               .cat = &db->cat,
               .mcalls = &mcalls,
               .agg_models = 1,
               .held = &held,
               .schema2 = in->schema2,
               .srcname2 = in->name2,
               .base1 = in->base1,
               .base2 = in->base2};
  for (int i = 0; i < keys.n; i++)
    if (sl_bind_expr(&b, keys.a[i])) goto done;
  if (win) {
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
      goto done;
    }
    if (session && sel->emit_changes) {
      sl_err_setpos(err, SL_EBIND, win->line, win->pos_col,
                    "SESSION windows emit on close (EMIT CHANGES is not supported for them)");
      goto done;
    }
    sl_expr *te = win->list->a[0];
    if (te->kind == E_CALL && !sl_stricmp(te->name, "proctime") && (!te->list || !te->list->n))
      spec.proctime = 1; /* the task's clock, not an expression */
    else if (te->kind == E_CALL && !sl_stricmp(te->name, "rowtime") && (!te->list || !te->list->n))
      spec.rowtime = 1; /* the record's own timestamp (Kafka) */
    else if (sl_bind_expr(&b, te))
      goto done;
    if (window_ms(win->list->a[1], hop ? &spec.slide : &spec.size, err)) goto done;
    if (hop && window_ms(win->list->a[2], &spec.size, err)) goto done;
    if (!hop) spec.slide = spec.size;
    if (spec.size % spec.slide) {
      sl_err_setpos(err, SL_EBIND, win->line, win->pos_col,
                    "HOP: the size must be a multiple of the slide");
      goto done;
    }
    spec.wkind = hop ? SL_WIN_HOP : session ? SL_WIN_SESSION : SL_WIN_TUMBLE;
    spec.lateness = spec.proctime ? 0 : in->lateness;
    spec.idle_ms = sl_setting_int(&db->cat, SL_SET_IDLE_TIMEOUT);
  }
  if (sel->where) {
    sl_bind bw = b;
    if (sl_bind_expr(&bw, sel->where)) goto done;
  }
  sl_bind ba = b;
  ba.allow_agg = 1;
  ba.window_cols = win != NULL;
  for (int i = 0; i < cols->n; i++)
    if (sl_bind_expr(&ba, cols->a[i])) goto done;
  if (sel->having && sl_bind_expr(&ba, sel->having)) goto done;
  spec.naggs = ba.naggs;
  aggs = sl_calloc((size_t)(spec.naggs ? spec.naggs : 1), sizeof(sl_expr *));
  for (int i = 0; i < cols->n; i++)
    collect_aggs(cols->a[i], aggs);
  collect_aggs(sel->having, aggs);
  for (int a = 0; a < spec.naggs; a++)
    if (aggs[a]->func->flags & SL_FUNC_MODELARG && (!win || sel->emit_changes)) {
      sl_err_setpos(err, SL_EBIND, aggs[a]->line, aggs[a]->pos_col,
                    "%s() learns once per window: it needs GROUP BY a TUMBLE, HOP or SESSION "
                    "window and EMIT ON CLOSE",
                    aggs[a]->name);
      goto done;
    }
  int ncol_in = input_width(in);
  if (mcalls.n && add_score(db, q, &mcalls, NULL, ncol_in, 0, err)) goto done;

  /* per row: WHERE, keys, event time, each aggregate's arguments and FILTER */
  spec.step = sl_program_new();
  sl_compiler sc = {spec.step, 0, err, 0, ncol_in, NULL, 0};
  int total = keys.n + 1;
  for (int a = 0; a < spec.naggs; a++)
    total += agg_nargs(aggs[a]) + (aggs[a]->right != NULL);
  int res = sl_reg_alloc(&sc, total);
  spec.step->result_reg = res;
  spec.step->nresult = total;
  int fj = -1;
  if (sel->where) {
    int w = sl_reg_alloc(&sc, 1);
    if (sl_expr_code(&sc, sel->where, w)) goto done;
    fj = sl_program_add(spec.step, OP_IfNot, w, 0, 1);
  }
  spec.key_reg = res;
  spec.nkeys = keys.n;
  for (int i = 0; i < keys.n; i++)
    if (sl_expr_code(&sc, keys.a[i], res + i)) goto done;
  spec.ts_reg = res + keys.n;
  if (win && !spec.proctime && !spec.rowtime && sl_expr_code(&sc, win->list->a[0], spec.ts_reg))
    goto done;
  spec.aggs = sl_calloc((size_t)(spec.naggs ? spec.naggs : 1), sizeof(sl_agg_call));
  int off = res + keys.n + 1;
  for (int a = 0; a < spec.naggs; a++) {
    sl_expr *e = aggs[a];
    sl_agg_call *ac = &spec.aggs[a];
    ac->func = sl_agg_no_inverse(e->func);
    ac->nargs = agg_nargs(e);
    int skip = e->func->flags & SL_FUNC_MODELARG ? 1 : 0; /* train(m, ...): m is bound */
    ac->arg_reg = off;
    ac->distinct = e->distinct;
    spec.has_distinct |= e->distinct;
    ac->coll = ac->nargs ? sl_compare_coll(e->list->a[0], e->list->a[0]) : SL_COLL_BINARY;
    if (ac->distinct && ac->nargs != 1) {
      sl_err_setpos(err, SL_EBIND, e->line, e->pos_col, "DISTINCT aggregates take one argument");
      goto done;
    }
    for (int k = 0; k < ac->nargs; k++)
      if (sl_expr_code(&sc, e->list->a[k + skip], off + k)) goto done;
    off += ac->nargs;
    ac->filter_reg = -1;
    if (e->right) {
      if (sl_expr_code(&sc, e->right, off)) goto done;
      ac->filter_reg = off++;
    }
  }
  sl_program_add(spec.step, OP_Result, res, total, 0);
  if (fj >= 0) {
    spec.step->ops[fj].p2 = spec.step->nop;
    sl_program_add(spec.step, OP_Halt, 1, 0, 0);
  }
  sl_program_finish(spec.step);

  /* per group: HAVING and the select list over [keys, window, aggregates] */
  spec.out = sl_program_new();
  sl_compiler oc = {spec.out, 0, err, 0, 0, &keys, 1};
  int ores = sl_reg_alloc(&oc, cols->n ? cols->n : 1);
  spec.out->result_reg = ores;
  spec.out->nresult = cols->n;
  int hj = -1;
  if (sel->having) {
    int h = sl_reg_alloc(&oc, 1);
    if (sl_expr_code(&oc, sel->having, h)) goto done;
    hj = sl_program_add(spec.out, OP_IfNot, h, 0, 1);
  }
  for (int i = 0; i < cols->n; i++)
    if (sl_expr_code(&oc, cols->a[i], ores + i)) goto done;
  sl_program_add(spec.out, OP_Result, ores, cols->n, 0);
  if (hj >= 0) {
    spec.out->ops[hj].p2 = spec.out->nop;
    sl_program_add(spec.out, OP_Halt, 1, 0, 0);
  }
  sl_program_finish(spec.out);
  spec.ncol = cols->n;
  spec.emit_changes = sel->emit_changes || !win;
  q->ncol = cols->n;
  q->names = sl_calloc((size_t)(cols->n ? cols->n : 1), sizeof(char *));
  q->affs = sl_calloc((size_t)(cols->n ? cols->n : 1), 1);
  for (int i = 0; i < cols->n; i++) {
    q->names[i] = sl_expr_colname(cols->a[i], cols->names[i]);
    q->affs[i] = cols->a[i]->aff;
  }
  spec.held = held.a;
  spec.nheld = held.n;
  held.a = NULL;
  held.n = 0;
  query_add_op(q, sl_op_aggregate_new(&spec));
  rc = 0;
done:
  sl_mcalls_free(&mcalls);
  sl_held_free(&held);
  sl_program_free(spec.step);
  sl_program_free(spec.out);
  free(spec.aggs);
  free(aggs);
  free(keys.a);
  return rc;
}

static sl_query *plan_select(sl_run *run, const sl_select *sel, const char *id, sl_operator *out,
                             sl_row_fn fn, void *ud, sl_err *err) {
  sluice *db = run->db;
  /* DISTINCT over one row (no FROM) changes nothing; over a stream it needs state. */
  if ((sel->distinct && sel->from) || sel->limit || (!sel->group && sel->emit_changes) ||
      (sel->having && !sel->group)) {
    sl_err_set(err, SL_EBIND, "%s is not supported yet",
               sel->distinct ? "SELECT DISTINCT"
               : sel->limit  ? "LIMIT"
               : sel->having ? "HAVING without GROUP BY"
                             : "EMIT CHANGES without GROUP BY");
    return NULL;
  }
  input in;
  if (plan_input(run, sel->from, id, &in, err)) return NULL;
  sl_exprlist *cols = expand_star(run, sel->cols, &in, err);
  if (!cols) return NULL;

  sl_query *q = sl_calloc(1, sizeof *q);
  q->id = sl_strdup(id);
  memcpy(q->fp, run->fp, sizeof q->fp);
  q->task = in.task;
  run->queries = sl_realloc(run->queries, sizeof(*run->queries) * (size_t)(run->nquery + 1));
  run->queries[run->nquery++] = q;

  if (sel->from && sel->from->join) {
    int ij = on_has_between(sel->from->on);
    if (ij && sel->from->left_join) {
      sl_err_setpos(err, SL_EBIND, sel->from->line, sel->from->col,
                    "LEFT JOIN of two streams is not supported (an inner interval join is)");
      return NULL;
    }
    if (ij ? plan_ijoin(run, sel, q, &in, err) : plan_join(run, sel->from, q, &in, err))
      return NULL;
  }
  if (sel->group) {
    if (!sel->from) {
      sl_err_set(err, SL_EBIND, "GROUP BY needs FROM");
      return NULL;
    }
    if (plan_grouped(run, sel, q, &in, cols, err)) return NULL;
    goto output;
  }
  /* Bind. Aggregates are allowed only without FROM (one row). */
  sl_mcalls mcalls = {0};
  sl_bind b = {.schema = in.schema,
               .srcname = in.name,
               .funcs = db->cat.funcs,
               .err = err,
               .allow_agg = sel->from == NULL,
               .cat = &db->cat,
               .mcalls = &mcalls,
               .schema2 = in.schema2,
               .srcname2 = in.name2,
               .base1 = in.base1,
               .base2 = in.base2};
  for (int i = 0; i < cols->n; i++)
    if (sl_bind_expr(&b, cols->a[i])) goto fail_bind;
  if (b.naggs && sel->from) {
    sl_err_set(err, SL_EBIND, "aggregates over a stream need GROUP BY (a key, a window, or both)");
    goto fail_bind;
  }
  int where_models = 0;
  if (sel->where) {
    sl_bind bw = b;
    bw.allow_agg = 0;
    int before = mcalls.n;
    if (sl_bind_expr(&bw, sel->where)) goto fail_bind;
    where_models = mcalls.n > before;
  }
  int ncol_in = input_width(&in);
  /* Model calls: scored per batch by op_score, which also applies a WHERE
  ** that uses no model (so rows it drops are not scored). */
  int where_in_score = mcalls.n && sel->where && !where_models;
  if (mcalls.n && add_score(db, q, &mcalls, where_in_score ? sel->where : NULL, ncol_in,
                            sel->from == NULL, err))
    goto fail_bind;

  /* Batch calls: made by op_project once per batch.  Taken from WHERE when
  ** it has some (the select list's calls then run per row: a row WHERE drops
  ** must not reach them), else from the select list, after WHERE. */
  int where_here = sel->where && !where_in_score;
  exprs bcalls = {0};
  if (where_here) collect_batch_calls(sel->where, &bcalls);
  int where_batched = bcalls.n > 0;
  for (int i = 0; i < cols->n && !where_batched; i++)
    collect_batch_calls(cols->a[i], &bcalls);
  sl_program *pre = NULL;
  sl_bcall *bc = NULL;
  sl_barg *barg = NULL;
  int nbarg = 0;
  if (bcalls.n) {
    for (int k = 0; k < bcalls.n; k++)
      nbarg += bcalls.a[k]->list ? bcalls.a[k]->list->n : 0;
    /* A plain column is read from the row; the rest is computed by pre. */
    sl_expr **computed = sl_malloc(sizeof(sl_expr *) * (size_t)(nbarg ? nbarg : 1));
    int ncomputed = 0;
    barg = sl_calloc((size_t)(nbarg ? nbarg : 1), sizeof *barg);
    bc = sl_calloc((size_t)bcalls.n, sizeof *bc);
    int off = 0;
    for (int k = 0; k < bcalls.n; k++) {
      sl_expr *e = bcalls.a[k];
      bc[k].func = e->func;
      bc[k].nargs = e->list ? e->list->n : 0;
      bc[k].first_arg = off;
      bc[k].coll = bc[k].nargs ? sl_compare_coll(e->list->a[0], e->list->a[0]) : SL_COLL_BINARY;
      for (int j = 0; j < bc[k].nargs; j++, off++) {
        sl_expr *a = e->list->a[j];
        barg[off].col = a->kind == E_COLUMN && a->col >= 0 ? a->col : -1;
        if (barg[off].col < 0) {
          barg[off].reg = ncomputed;
          computed[ncomputed++] = a;
        }
      }
    }
    sl_expr *pre_where = where_here && !where_batched ? sel->where : NULL;
    if (pre_where || ncomputed) {
      pre = args_program(pre_where, computed, ncomputed, ncol_in, err);
      for (int i = 0; pre && i < nbarg; i++)
        if (barg[i].col < 0) barg[i].reg += pre->result_reg;
    }
    free(computed);
    if ((pre_where || ncomputed) && !pre) {
      free(bc);
      free(barg);
      free(bcalls.a);
      return NULL;
    }
    if (!where_batched) where_here = 0; /* the first program applies it */
  }

  /* Compile WHERE + select list into one program. */
  sl_program *prog = sl_program_new();
  sl_compiler c = {prog, 0, err, 0, ncol_in, NULL, 0};
  int result = sl_reg_alloc(&c, cols->n);
  prog->result_reg = result;
  prog->nresult = cols->n;
  int filter_jump = -1;
  if (where_here) {
    int w = sl_reg_alloc(&c, 1);
    if (sl_expr_code(&c, sel->where, w)) goto fail_prog;
    /* false or NULL: jump to the Halt placed after Result */
    filter_jump = sl_program_add(prog, OP_IfNot, w, 0, 1);
    c.nreg = result + cols->n;
  }
  q->ncol = cols->n;
  q->names = sl_calloc((size_t)(cols->n ? cols->n : 1), sizeof(char *));
  q->affs = sl_calloc((size_t)(cols->n ? cols->n : 1), 1);
  for (int i = 0; i < cols->n; i++) {
    if (sl_expr_code(&c, cols->a[i], result + i)) goto fail_prog;
    q->names[i] = sl_expr_colname(cols->a[i], cols->names[i]);
    q->affs[i] = cols->a[i]->aff;
  }
  sl_program_add(prog, OP_Result, result, cols->n, 0);
  if (filter_jump >= 0) {
    prog->ops[filter_jump].p2 = prog->nop;
    sl_program_add(prog, OP_Halt, 1, 0, 0);
  }
  sl_program_finish(prog);
  sl_operator *proj = sl_op_project_new(
      prog, cols->n, (int)sl_setting_int(&db->cat, SL_SET_VM_TRACE), sel->from == NULL);
  if (bcalls.n) sl_op_project_batch(proj, pre, bc, bcalls.n, barg, nbarg);
  free(bc);
  free(barg);
  free(bcalls.a);
  query_add_op(q, proj);

  /* Output. */
output:
  if (out) {
    q->ops[q->nops - 1]->next = out; /* a stream's fanout, owned by the run */
  } else if (sel->into) {
    sl_sink *sink = NULL;
    if (sel->into->bare && !sl_connector_find(sel->into->name, strlen(sel->into->name))) {
      sl_err_setpos(err, SL_EBIND, sel->into->line, sel->into->col, "no such sink: %s",
                    sel->into->name);
      return NULL;
    }
    if (exactly_once(db) && !sl_setting_text(&db->cat, SL_SET_STATE_DIR)) {
      sl_err_setpos(err, SL_EBIND, sel->into->line, sel->into->col,
                    "processing.guarantee = 'exactly_once' needs a state directory (--state-dir "
                    "or SET state_dir)");
      return NULL;
    }
    if (exactly_once(db) && sel->group && (sel->emit_changes || !has_window(sel))) {
      sl_err_setpos(err, SL_EBIND, sel->into->line, sel->into->col,
                    "processing.guarantee = 'exactly_once' needs results that are the same on "
                    "replay: a changelog (EMIT CHANGES, GROUP BY without a window) is not");
      return NULL;
    }
    sink = open_connector(db, sel->into, 1, NULL, q->fp, err);
    if (!sink) return NULL;
    int key_col = -1;
    if (sink->key_col) {
      for (int c = 0; c < q->ncol && key_col < 0; c++)
        if (sl_stricmp(q->names[c], sink->key_col) == 0) key_col = c;
      if (key_col < 0 && !sink->key_implicit) {
        sl_err_setpos(err, SL_EBIND, sel->into->line, sel->into->col,
                      "key => '%s': no such column in the query's result", sink->key_col);
        sink->vt->close(sink);
        return NULL;
      }
    }
    sl_operator *op = sl_op_sink_new(sink, q->ncol, (const char *const *)q->names, key_col,
                                     sink->key_implicit, err);
    if (!op) return NULL;
    query_add_op(q, op);
  } else {
    query_add_op(q, sl_op_result_new(q->ncol, (const char *const *)q->names, fn, ud));
  }

  /* Attach to the input. */
  if (in.fanout)
    sl_op_fanout_add(in.fanout, q->ops[0]);
  else
    in.task->head = q->ops[0];
  return q;

fail_prog:
  sl_program_free(prog);
  sl_program_free(pre);
  free(bc);
  free(barg);
  free(bcalls.a);
  return NULL;
fail_bind:
  sl_mcalls_free(&mcalls);
  return NULL;
}

/* Note that task t feeds the caller's query q (once). */
static void task_add_top(sl_task *t, sl_query *q) {
  if (!t) return;
  for (int i = 0; i < t->ntop; i++)
    if (t->tops[i] == q) return;
  t->tops = sl_realloc(t->tops, sizeof(*t->tops) * (size_t)(t->ntop + 1));
  t->tops[t->ntop++] = q;
}

sl_query *sl_plan_query(sl_run *run, const sl_stmt *stmt, sl_row_fn fn, void *ud, sl_err *err) {
  char id[32];
  snprintf(id, sizeof id, "q%d", ++run->db->nquery);
  sl_ckpt_fingerprint(stmt->sql, (size_t)stmt->sqllen, run->fp);
  int nt0 = run->ntask;
  sl_query *q = plan_select(run, stmt->select, id, NULL, fn, ud, err);
  if (!q) return NULL;
  q->sql = stmt->sql;
  q->sqllen = stmt->sqllen;
  q->ops[0]->halt = &q->stopped;
  /* the tasks it feeds: those made for it, and a shared stream's */
  for (int i = nt0; i < run->ntask; i++)
    task_add_top(run->tasks[i], q);
  task_add_top(q->task, q);
  task_add_top(q->task2, q);
  run->tops = sl_realloc(run->tops, sizeof(*run->tops) * (size_t)(run->ntop + 1));
  run->tops[run->ntop++] = q;
  return q;
}

void sl_run_set_transient(sl_run *run) {
  run->transient = 1;
}

int sl_run_ntop(const sl_run *run) {
  return run->ntop;
}

/* The state of one task as seen from another thread: 0 running, 1 ended,
** 2 failed. */
static int task_state(const sl_task *t) {
  if (!t || !__atomic_load_n(&t->done, __ATOMIC_ACQUIRE)) return 0;
  return t->err.code ? 2 : 1;
}

void sl_run_query_info(sl_run *run, int i, sl_query_info *qi) {
  sl_query *q = run->tops[i];
  sl_task *t = q->task;
  memset(qi, 0, sizeof *qi);
  qi->id = q->id;
  qi->sql = q->sql;
  qi->sqllen = q->sqllen;
  qi->sink = q->nops && !strcmp(q->ops[q->nops - 1]->vt->name, "sink");
  int a = task_state(t), b = q->task2 ? task_state(q->task2) : 1;
  int stopped = __atomic_load_n(&q->stopped, __ATOMIC_ACQUIRE);
  qi->state = stopped            ? SL_QUERY_TERMINATED
              : a == 2 || b == 2 ? SL_QUERY_FAILED
              : a == 1 && b == 1 ? SL_QUERY_FINISHED
                                 : SL_QUERY_RUNNING;
  if (a == 2 || b == 2) {
    const sl_task *bad = a == 2 ? t : q->task2;
    qi->error = bad->err.msg ? bad->err.msg : "failed";
  }
  qi->out = __atomic_load_n(&q->stats.out, __ATOMIC_RELAXED);
  qi->rejected = __atomic_load_n(&q->stats.rejected, __ATOMIC_RELAXED);
  qi->bytes_out = __atomic_load_n(&q->stats.bytes_out, __ATOMIC_RELAXED);
  qi->groups = __atomic_load_n(&q->stats.groups, __ATOMIC_RELAXED);
  qi->lag = -1;
  qi->ckpt_age_ms = -1;
  for (int k = 0; k < 2; k++) {
    sl_task *x = k ? q->task2 : t;
    if (!x) continue;
    qi->in += __atomic_load_n(&x->stats.in, __ATOMIC_RELAXED);
    qi->rejected += __atomic_load_n(&x->stats.rejected, __ATOMIC_RELAXED);
    qi->bytes_in += __atomic_load_n(&x->stats.bytes_in, __ATOMIC_RELAXED);
    int64_t lag = __atomic_load_n(&x->lag, __ATOMIC_RELAXED);
    if (lag >= 0) qi->lag = (qi->lag < 0 ? 0 : qi->lag) + lag;
    int64_t w = __atomic_load_n(&x->ckpt_wall, __ATOMIC_RELAXED);
    if (w > 0) {
      int64_t age = sl_wall_ms() - w;
      if (age < 0) age = 0;
      if (qi->ckpt_age_ms < 0 || age > qi->ckpt_age_ms) qi->ckpt_age_ms = age;
    }
    for (int j = 0; j < SL_LAT_NB; j++)
      qi->lat[j] += __atomic_load_n(&x->lat[j], __ATOMIC_RELAXED);
    qi->lat_us += __atomic_load_n(&x->lat_us, __ATOMIC_RELAXED);
    qi->nbatch += __atomic_load_n(&x->nbatch, __ATOMIC_RELAXED);
  }
  if (stopped) {
    /* what its sources had read when it stopped: they may read on for the
    ** other readers of a shared stream, and lag for them */
    qi->in = __atomic_load_n(&q->in_at_stop, __ATOMIC_RELAXED);
    qi->bytes_in = __atomic_load_n(&q->bytes_at_stop, __ATOMIC_RELAXED);
    qi->lag = -1;
  }
}

int sl_run_terminate(sl_run *run, const char *id) {
  for (int i = 0; i < run->ntop; i++)
    if (!strcmp(run->tops[i]->id, id)) {
      sl_query *q = run->tops[i];
      if (__atomic_load_n(&q->stopped, __ATOMIC_ACQUIRE)) return 1;
      int64_t in = 0, bytes = 0;
      for (int k = 0; k < 2; k++) {
        sl_task *x = k ? q->task2 : q->task;
        if (!x) continue;
        in += __atomic_load_n(&x->stats.in, __ATOMIC_RELAXED);
        bytes += __atomic_load_n(&x->stats.bytes_in, __ATOMIC_RELAXED);
      }
      __atomic_store_n(&q->in_at_stop, in, __ATOMIC_RELAXED);
      __atomic_store_n(&q->bytes_at_stop, bytes, __ATOMIC_RELAXED);
      __atomic_store_n(&q->stopped, 1, __ATOMIC_RELEASE);
      return 1;
    }
  return 0;
}

int sl_query_columns(const sl_query *q, const char *const **names, const uint8_t **affs) {
  if (names) *names = (const char *const *)q->names;
  if (affs) *affs = q->affs;
  return q->ncol;
}

void sl_run_explain(sl_run *run, sl_buf *out) {
  for (int i = 0; i < run->ntask; i++) {
    sl_task *t = run->tasks[i];
    sl_buf_printf(out, "task %s: source %s", t->name, t->src->vt->name);
    if (!t->src->vt->read_rows) sl_buf_printf(out, ", format %s", t->src->format->name);
    sl_buf_printf(out, ", %d column%s", t->src->schema.ncol, t->src->schema.ncol == 1 ? "" : "s");
    for (int c = 0; c < t->src->schema.ncol; c++)
      sl_buf_printf(out, "%s%s", c ? ", " : " (", t->src->schema.cols[c].name);
    sl_buf_printf(out, "%s\n", t->src->schema.ncol ? ")" : "");
  }
  for (int i = 0; i < run->nstream; i++)
    sl_buf_printf(out, "stream %s: computed once, fanout\n", run->streams[i]->def->name);
  for (int i = 0; i < run->nquery; i++) {
    sl_query *q = run->queries[i];
    sl_buf_printf(out, "query %s:\n", q->id);
    for (int k = 0; k < q->nops; k++)
      q->ops[k]->vt->explain(q->ops[k], out);
  }
}

void sl_run_stats(sl_run *run, sl_buf *out, int64_t *rejected_total) {
  int64_t total = 0;
  for (int i = 0; i < run->nquery; i++) {
    sl_query *q = run->queries[i];
    sl_task *t = q->task;
    int64_t rej = q->stats.rejected + (t ? t->stats.rejected : 0);
    total += rej;
    sl_buf_printf(out, "%s: %lld in, %lld out, %lld rejected", q->id,
                  (long long)(t ? t->stats.in : 0), (long long)q->stats.out, (long long)rej);
    if (q->stats.late) sl_buf_printf(out, " (%lld late)", (long long)q->stats.late);
    if (q->stats.groups_peak)
      sl_buf_printf(out, "; state: at most %lld groups or kept records, %lld bytes (%lld each)",
                    (long long)q->stats.groups_peak, (long long)q->stats.state_peak,
                    (long long)(q->stats.state_peak / q->stats.groups_peak));
    sl_buf_putc(out, '\n');
  }
  for (int i = 0; i < run->ntask; i++) {
    sl_task *t = run->tasks[i];
    if (!t->ckpt) continue;
    sl_buf_printf(
        out, "checkpoints of %s: %lld written%s, %lld failed; the last %lld bytes in %.1f ms\n",
        t->name[0] ? t->name : "query", (long long)t->nckpt,
        t->resumed ? " (resumed from one)" : "", (long long)t->nfailed, (long long)t->ckpt_bytes,
        (double)t->ckpt_us / 1000.0);
  }
  if (rejected_total) *rejected_total = total;
}

void sl_run_free(sl_run *run) {
  if (!run) return;
  for (int i = 0; i < run->nquery; i++)
    query_free(run->queries[i]);
  for (int i = 0; i < run->nstream; i++) {
    run->streams[i]->fanout->vt->free(run->streams[i]->fanout);
    sl_schema_free(&run->streams[i]->own);
    free(run->streams[i]);
  }
  for (int i = 0; i < run->ntask; i++)
    task_free(run->tasks[i]);
  free(run->queries);
  free(run->tops);
  free(run->streams);
  free(run->tasks);
  sl_arena_free(&run->arena);
  free(run);
}
