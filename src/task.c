/*
** task.c - the task loop (task.h): read, decode, push, until the source
** ends; and between batches, the commit and checkpoint protocol.
**
** The protocol, at-least-once, with positions made durable only after
** everything derived from the records before them is:
**   - a checkpoint (a state directory, every ckpt_ms): a FLUSH barrier (the
**     sinks write and flush all they were given), then the source position
**     and every operator's state in one transaction, then the source's
**     offsets committed;
**     (a task in a group, sl_ckgroup, checkpoints with the others at a
**     rendezvous: see group_checkpoint);
**   - a commit without stopping (every commit_ms otherwise): a MARK barrier
**     (the sinks note what they were given) and the source's positions
**     noted; then, while the task reads on, a CHECK barrier between batches
**     until the sinks say all of it is acknowledged, and the noted
**     positions are committed.
** Ticks (processing time) go down the chains every TICK_MS and with every
** barrier.  A clean stop of a checkpointed task flushes and checkpoints the
** state as it is (open windows stay open, to go on after a restart); the end
** of a bounded source finishes the chains, then checkpoints and commits.
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafka.h"
#include "task.h"

#define TICK_MS 100

const double sl_lat_bounds[SL_LAT_NB] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                         0.01,   0.025,   0.05,   0.1,   1,      HUGE_VAL};

sl_task *sl_task_new(const sl_psource *plan, sl_source *src) {
  sl_task *t = sl_calloc(1, sizeof *t);
  t->plan = plan;
  t->src = src;
  t->lag = -1;
  return t;
}

void sl_task_free(sl_task *t) {
  if (t->dec) t->src->format->decoder_free(t->dec);
  sl_dlq_free(t->dlq);
  if (t->src) t->src->vt->close(t->src);
  sl_err_clear(&t->err);
  free(t->qs);
  free(t->watch);
  free(t->tops);
  free(t);
}

/* The task's name in messages: its query id or stream name ("query" for a
** constant SELECT's). */
static const char *task_name(const sl_task *t) {
  return t->plan->name[0] ? t->plan->name : "query";
}

/* ---- checkpoints ------------------------------------------------------------ */

/* Every operator state of t's queries into the open checkpoint; b is
** scratch.  0, or -1 with e set. */
static int put_states(sl_task *t, sl_buf *b, int64_t *bytes, sl_err *e) {
  char key[32];
  for (int i = 0; i < t->nq; i++) {
    sl_lquery *q = t->qs[i];
    if (q->pstate) continue; /* its state is in its source's state topic */
    for (int k = 0; k < q->nops; k++) {
      sl_operator *op = q->ops[k];
      if (!op->vt->save) continue;
      sl_buf_reset(b);
      snprintf(key, sizeof key, "op%d", k);
      if (op->vt->save(op, b, e) ||
          sl_ckpt_put(t->ckpt, q->plan->id, key, q->plan->fp, b->z, b->n, e))
        return -1;
      *bytes += (int64_t)b->n;
    }
  }
  return 0;
}

/* t's source position into the open checkpoint.  0, or -1 with e set. */
static int put_position(sl_task *t, sl_buf *b, int64_t *bytes, sl_err *e) {
  if (!t->src->vt->save_pos) return 0;
  sl_buf_reset(b);
  if (t->src->vt->save_pos(t->src, b, e) ||
      sl_ckpt_put(t->ckpt, t->plan->name, t->pos_key, t->plan->fp, b->z, b->n, e))
    return -1;
  *bytes += (int64_t)b->n;
  return 0;
}

/* Write one checkpoint of t: its source's position and the state of every
** operator of the queries it feeds, in one transaction; in a group, those
** of every member (which are all between batches: group_checkpoint).
** Called at a barrier (everything pushed has been written and flushed).  A
** failure (disk full, read-only) is reported and the task goes on: the last
** good checkpoint stays the one a restart uses. */
static void task_checkpoint(sl_task *t) {
  int64_t t0 = sl_clock_us(), bytes = 0;
  sl_buf b = {0};
  sl_err e = {0};
  if (sl_ckpt_begin(t->ckpt, &e)) goto failed;
  int n = t->group ? t->group->n : 1;
  for (int i = 0; i < n; i++) {
    sl_task *m = t->group ? t->group->members[i] : t;
    if (put_position(m, &b, &bytes, &e) || put_states(m, &b, &bytes, &e)) goto abort;
  }
  if (sl_ckpt_commit(t->ckpt, &e)) goto failed;
  for (int i = 0; i < n; i++) { /* the other members wait: their counters are t's to write */
    sl_task *m = t->group ? t->group->members[i] : t;
    m->nckpt++;
    __atomic_store_n(&m->ckpt_wall, sl_wall_ms(), __ATOMIC_RELAXED);
    m->ckpt_bytes = bytes;
    m->ckpt_us = sl_clock_us() - t0;
  }
  sl_buf_free(&b);
  return;
abort:
  sl_ckpt_abort(t->ckpt);
failed:
  if (t->nfailed++ < 5 || t->nfailed % 100 == 0)
    fprintf(stderr,
            "sluice: %s: checkpoint failed (%lld so far; a restart uses the last good one, "
            "%lld written): %s\n",
            task_name(t), (long long)t->nfailed, (long long)t->nckpt, e.msg ? e.msg : "?");
  sl_err_clear(&e);
  sl_buf_free(&b);
}

/* A checkpoint of t's group (t has flushed its chain): t waits at the
** rendezvous until every member that still runs is there, and the last to
** come writes the checkpoint for all (task_checkpoint) while the others
** wait; members that have ended count as there (their sources and states
** stay as they were left).  Nothing is written once a member has failed. */
static void group_checkpoint(sl_task *t) {
  sl_ckgroup *g = t->group;
  pthread_mutex_lock(&g->mu);
  if (!g->broken) {
    uint64_t round = g->rounds;
    g->want = 1; /* the others come at their next chance */
    if (++g->waiting + g->gone == g->n) {
      task_checkpoint(t);
      g->rounds++;
      g->want = 0;
      g->waiting = 0;
      pthread_cond_broadcast(&g->cv);
    } else {
      while (g->rounds == round && !g->broken)
        pthread_cond_wait(&g->cv, &g->mu);
      if (g->rounds == round) g->waiting--; /* broken while waiting */
    }
  }
  pthread_mutex_unlock(&g->mu);
}

/* A checkpoint of t alone, or of its group. */
static void checkpoint(sl_task *t) {
  if (t->group)
    group_checkpoint(t);
  else
    task_checkpoint(t);
}

/* t's loop has ended (failed: t->err set): its group no longer waits for
** it, and a failure ends the group's checkpoints. */
static void group_leave(sl_task *t) {
  sl_ckgroup *g = t->group;
  if (!g) return;
  pthread_mutex_lock(&g->mu);
  g->gone++;
  if (t->err.code) g->broken = 1;
  if (!g->broken && g->waiting && g->waiting + g->gone == g->n) {
    /* the others were waiting for this one only: it writes for them */
    task_checkpoint(t);
    g->rounds++;
    g->want = 0;
    g->waiting = 0;
  }
  pthread_cond_broadcast(&g->cv);
  pthread_mutex_unlock(&g->mu);
}

/* Load one query's operator states.  0, or -1 with err set. */
static int restore_query(sl_task *t, sl_lquery *q, sl_buf *b, sl_err *err) {
  char key[32];
  if (q->pstate) return 0; /* its state comes from its source's state topic */
  for (int k = 0; k < q->nops; k++) {
    const sl_opspec *os = &q->plan->ops[k];
    sl_buf why = {0};
    if (os->kind->no_checkpoint && os->kind->no_checkpoint(os->spec, &why)) {
      sl_err_set(err, SL_EBIND, "%s: %s: run it without a state directory", q->plan->id, why.z);
      sl_buf_free(&why);
      return -1;
    }
    sl_operator *op = q->ops[k];
    if (!op->vt->load) continue;
    snprintf(key, sizeof key, "op%d", k);
    int found = sl_ckpt_get(t->ckpt, q->plan->id, key, q->plan->fp, b, err);
    if (found < 0 || (found && op->vt->load(op, b->z, b->n, err))) return -1;
    t->resumed |= found > 0;
    if (found > 0) t->restore_bytes += (int64_t)b->n;
  }
  return 0;
}

int sl_task_restore(sl_task *t, sl_err *err) {
  int64_t t0 = sl_clock_us();
  sl_buf b = {0};
  int rc = 0;
  if (t->src->vt->save_pos) {
    int found = sl_ckpt_get(t->ckpt, t->plan->name, t->pos_key, t->plan->fp, &b, err);
    if (found < 0 || (found && t->src->vt->load_pos(t->src, b.z, b.n, err))) rc = -1;
    t->resumed |= found > 0;
  }
  for (int i = 0; i < t->nq && !rc; i++)
    rc = restore_query(t, t->qs[i], &b, err);
  sl_buf_free(&b);
  t->restore_us = sl_clock_us() - t0;
  return rc;
}

/* ---- the loop ---------------------------------------------------------------- */

/* 1 when t is to stop as at an interrupt: the engine was interrupted, its
** run stopped, or every query it feeds terminated alone. */
static int task_stopping(const sl_task *t) {
  if ((t->interrupted && *t->interrupted) || (t->stop && *t->stop)) return 1;
  if (!t->ntop) return 0;
  for (int i = 0; i < t->ntop; i++)
    if (!__atomic_load_n(&t->tops[i]->stopped, __ATOMIC_ACQUIRE)) return 0;
  return 1;
}

/* Count one batch that took us microseconds into t's histogram (only t's
** thread writes; other threads read). */
static void task_time_batch(sl_task *t, int64_t us) {
  int k = 0;
  while (k < SL_LAT_NB - 1 && (double)us > sl_lat_bounds[k] * 1e6)
    k++;
  __atomic_fetch_add(&t->lat[k], 1, __ATOMIC_RELAXED);
  __atomic_fetch_add(&t->lat_us, us, __ATOMIC_RELAXED);
  __atomic_fetch_add(&t->nbatch, 1, __ATOMIC_RELAXED);
}

/* What a task reads into and decodes with, reused for every batch. */
typedef struct task_bufs {
  int ncol, batch, typed;
  sl_value *rows;              /* batch rows of ncol values */
  sl_record *recs;             /* batch records (untyped sources) */
  const sl_record **recp;      /* the record of each decoded row */
  sl_arena arena;              /* decoded bytes of the batch */
  uint8_t *ops;                /* a changelog source's row kinds (sl_rowkind), else NULL */
  int op_col;                  /* changelog => 'op': the column op, else -1 */
  int64_t src_bytes, src_keys; /* the source's state as last counted */
} task_bufs;

/* What the source keeps (sl_source.state_bytes) counted in the state of
** the caller's queries it feeds, as their operators count theirs. */
static void task_source_state(sl_task *t, task_bufs *b) {
  int64_t db = t->src->state_bytes - b->src_bytes, dk = t->src->state_keys - b->src_keys;
  if (!db && !dk) return;
  b->src_bytes += db;
  b->src_keys += dk;
  for (int i = 0; i < t->ntop; i++)
    sl_stats_account(&t->tops[i]->stats, db, dk);
}

/* Allocate the buffers and the decoder.  0, or -1 with t->err set. */
static int task_begin(sl_task *t, task_bufs *b) {
  sl_source *src = t->src;
  b->ncol = src->schema.ncol;
  b->typed = src->vt->read_rows != NULL;
  b->batch = t->plan->batch;
  b->rows = sl_calloc((size_t)b->batch * (size_t)(b->ncol ? b->ncol : 1), sizeof(sl_value));
  b->recs = b->typed ? NULL : sl_calloc((size_t)b->batch, sizeof(sl_record));
  /* typed rows have records too when their source says (row_records) */
  b->recp = sl_calloc((size_t)b->batch, sizeof(*b->recp));
  sl_arena_init(&b->arena);
  b->op_col = -1;
  if (src->changelog != SL_CHANGELOG_NONE) {
    b->ops = sl_calloc((size_t)b->batch, 1);
    if (src->changelog == SL_CHANGELOG_OP) b->op_col = sl_schema_find(&src->schema, "op", 2);
  }
  if (b->typed || t->dec) return 0;
  sl_fmt_opts opts = src->fmt_opts;
  opts.schema = &src->schema;
  opts.utf8_reject = t->plan->utf8_reject;
  t->dec = src->format->decoder_new(&opts, &t->err);
  return t->dec ? 0 : -1;
}

static void task_bufs_free(task_bufs *b) {
  sl_arena_free(&b->arena);
  free(b->rows);
  free(b->recs);
  free(b->recp);
  free(b->ops);
}

/* The row kind an op column's value names ('+I', '-U', '+U', '-D', as
** Flink prints them; also 'I', 'UB', 'UA', 'D'), or -1. */
static int op_kind(const sl_value *v) {
  if (v->type != SL_TEXT) return -1;
  static const char *const names[][2] = {{"+I", "I"}, {"-U", "UB"}, {"+U", "UA"}, {"-D", "D"}};
  for (int k = 0; k < 4; k++)
    for (int j = 0; j < 2; j++)
      if (v->n == strlen(names[k][j]) && !memcmp(v->u.z, names[k][j], v->n)) return k;
  return -1;
}

/* A changelog source's row kinds into b->ops for its nrow rows: from each
** row's op column (changelog => 'op'; a row whose op is not a kind is
** rejected and the rows after it move up) or from each record (upsert).
** Rows kept. */
static int task_ops(sl_task *t, task_bufs *b, int nrow, const sl_record **recs) {
  int w = 0;
  for (int i = 0; i < nrow; i++) {
    int k;
    if (b->op_col >= 0) {
      k = op_kind(&b->rows[(size_t)i * (size_t)b->ncol + (size_t)b->op_col]);
    } else if (b->op_col < 0 && t->src->changelog == SL_CHANGELOG_OP) {
      k = -2; /* no op column in the schema */
    } else {
      k = recs && recs[i] ? recs[i]->op : SL_ROW_INSERT;
    }
    if (k < 0) {
      sl_log_reject(&t->stats, t->plan->name, t->src, recs ? recs[i] : NULL,
                    k == -2 ? "changelog => 'op': the source has no column op"
                            : "changelog => 'op': op is not '+I', '-U', '+U' or '-D'");
      continue;
    }
    if (w != i) { /* swapped, not copied: a value's buffer stays with one row */
      sl_value *x = b->rows + (size_t)w * (size_t)b->ncol,
               *y = b->rows + (size_t)i * (size_t)b->ncol;
      for (int c = 0; c < b->ncol; c++) {
        sl_value tmp = x[c];
        x[c] = y[c];
        y[c] = tmp;
      }
      if (recs) recs[w] = recs[i];
    }
    b->ops[w++] = (uint8_t)k;
  }
  return w;
}

/* The bytes of rec to decode: rec's own when they are UTF-8; else (SET
** invalid_utf8 = 'replace', the default) a copy in the arena with each
** ill-formed sequence replaced by U+FFFD, or (invalid_utf8 = 'reject') NULL
** with the reason in *why. */
static const char *utf8_bytes(sl_task *t, task_bufs *b, const sl_record *rec, size_t *len,
                              const char **why) {
  *len = rec->len;
  size_t bad = sl_utf8_check(rec->data, rec->len);
  if (bad == rec->len) return rec->data;
  if (t->plan->utf8_reject) {
    char *m = sl_arena_alloc(&b->arena, 64);
    snprintf(m, 64, "invalid UTF-8 at byte %zu (invalid_utf8 = 'reject')", bad + 1);
    *why = m;
    return NULL;
  }
  char *p = sl_arena_alloc(&b->arena, 3 * rec->len + 1);
  *len = sl_utf8_repair(rec->data, rec->len, p);
  p[*len] = 0;
  return p;
}

/* Rows of a source without a decoder that reads outside bytes (kafka()
** without format, sqlite()): each TEXT value (JSON text included) that is
** not UTF-8 is replaced, in the batch arena, by a copy with U+FFFD for each
** ill-formed sequence, whatever invalid_utf8 says (these rows have no record
** to reject).  Tables hold SQL values and are left alone.  The check is the
** ASCII fast path of sl_utf8_check; nothing is allocated for valid text. */
static void task_repair_rows(sl_task *t, task_bufs *b, int n) {
  if (!strcmp(t->src->vt->name, "table")) return;
  sl_arena_reset(&b->arena);
  size_t nv = (size_t)n * (size_t)b->ncol;
  for (size_t i = 0; i < nv; i++) {
    sl_value *v = &b->rows[i];
    if (v->type != SL_TEXT || sl_utf8_check(v->u.z, v->n) == v->n) continue;
    char *p = sl_arena_alloc(&b->arena, 3 * v->n + 1);
    size_t len = sl_utf8_repair(v->u.z, v->n, p);
    p[len] = 0;
    sl_value_borrow_text(v, p, len, SL_F_TERM | (v->flags & SL_F_JSON));
  }
}

/* Decode the n records read into rows; rejected ones are counted and
** logged, or (errors => 'fail') fail the task.  Rows made, or -1. */
static int task_decode(sl_task *t, task_bufs *b, int n) {
  sl_source *src = t->src;
  int nrow = 0;
  sl_arena_reset(&b->arena);
  for (int i = 0; i < n; i++) {
    sl_value *row = b->rows + (size_t)nrow * (size_t)b->ncol;
    const char *why = b->recs[i].error, *data = NULL;
    size_t len = 0;
    t->stats.bytes_in += (int64_t)b->recs[i].len;
    if (!why && src->format->binary) /* the decoder checks its own text */
      data = b->recs[i].data, len = b->recs[i].len;
    else if (!why)
      data = utf8_bytes(t, b, &b->recs[i], &len, &why);
    if (data && !src->format->decode(t->dec, data, len, row, &b->arena, &why)) {
      b->recp[nrow++] = &b->recs[i];
      continue;
    }
    if (t->plan->fail_on_error) {
      sl_buf pos;
      sl_buf_init(&pos);
      src->vt->position(src, &b->recs[i], &pos);
      sl_err_set(&t->err, SL_EFORMAT, "%s: %s (errors => 'fail')", pos.z ? pos.z : "?",
                 why ? why : "malformed record");
      sl_buf_free(&pos);
      t->stats.rejected++;
      return -1;
    }
    sl_log_reject(&t->stats, t->plan->name, src, &b->recs[i], why ? why : "malformed record");
  }
  return nrow;
}

/* The source's lag (and a Kafka source's per partition), read after every
** read and every 100 ms while idle. */
static void task_poll_lag(sl_task *t, int64_t now, int64_t *last) {
  if (!t->src->vt->lag || now - *last < 100) return;
  __atomic_store_n(&t->lag, t->src->vt->lag(t->src), __ATOMIC_RELAXED);
  int32_t parts[SL_PLAG_MAX];
  int64_t lags[SL_PLAG_MAX];
  int n = sl_kafka_partition_lag(t->src, parts, lags, SL_PLAG_MAX);
  for (int i = 0; i < n; i++) {
    __atomic_store_n(&t->ppart[i], parts[i], __ATOMIC_RELAXED);
    __atomic_store_n(&t->plag[i], lags[i], __ATOMIC_RELAXED);
  }
  __atomic_store_n(&t->nplag, n, __ATOMIC_RELEASE);
  *last = now;
}

/* The protocol's state between batches. */
typedef struct commit_state {
  int64_t last_commit, last_ckpt, last_tick;
  int64_t last_pstate; /* the last write of the partitions' states (per_partition) */
  int marked;          /* positions noted, their outputs not yet all acknowledged */
} commit_state;

/* A barrier down the chain, after a tick.  What the barrier returns. */
static int task_barrier(sl_task *t, sl_barrier what) {
  if (t->head->vt->tick(t->head, sl_wall_ms(), &t->err) < 0) return -1;
  return t->head->vt->barrier(t->head, what, &t->err);
}

/* The source's commit (when it has one): what is SL_COMMIT_*. */
static int task_commit(sl_task *t, int what) {
  return t->src->vt->commit ? t->src->vt->commit(t->src, what, &t->err) : 0;
}

/* Between two batches: ticks, checkpoints and commits as they fall due
** (see the top of the file).  0, or -1 when the task fails (t->err). */
static int task_between(sl_task *t, commit_state *cs, int64_t now) {
  SL_ASSERT(!t->ckpt || t->ckpt_ms > 0);
  if (t->src->per_partition && now - cs->last_pstate >= t->pstate_ms) {
    /* the sink flushed, then every owned partition's state written */
    if (t->src->vt->pstate_write(t->src, &t->err)) return -1;
    cs->last_pstate = now;
  }
  int due = t->ckpt && now - cs->last_ckpt >= t->ckpt_ms;
  if (t->ckpt && t->group) /* its own time, or another member's */
    due = due || __atomic_load_n(&t->group->want, __ATOMIC_ACQUIRE);
  if (due) {
    if (task_barrier(t, SL_BARRIER_FLUSH) || (t->dlq && sl_dlq_flush(t->dlq, &t->err))) return -1;
    checkpoint(t);
    if (task_commit(t, SL_COMMIT_NOW)) return -1;
    cs->last_ckpt = cs->last_commit = cs->last_tick = now;
    cs->marked = 0;
  } else if (!cs->marked && now - cs->last_commit >= t->plan->commit_ms) {
    if (task_barrier(t, SL_BARRIER_MARK) < 0 || task_commit(t, SL_COMMIT_NOTE)) return -1;
    cs->marked = 1;
    cs->last_tick = now;
  } else if (now - cs->last_tick >= TICK_MS) {
    if (t->head->vt->tick(t->head, sl_wall_ms(), &t->err) < 0) return -1;
    cs->last_tick = now;
  }
  if (!cs->marked) return 0;
  int rc = t->head->vt->barrier(t->head, SL_BARRIER_CHECK, &t->err);
  if (rc < 0) return -1;
  if (rc == 0) {
    if (task_commit(t, SL_COMMIT_NOTED)) return -1;
    cs->marked = 0;
    cs->last_commit = now;
  }
  return 0;
}

/* The end of the loop: a clean stop of a checkpointed task keeps its state
** as it is; else everything read is finished, written and flushed
** downstream, and only then consumed (at-least-once). */
static void task_end(sl_task *t) {
  if (t->err.code) return;
  /* stopping: what is left is written if the sinks' peers answer within
  ** SL_STOP_WAIT_MS; if not, nothing is committed (read again next time) */
  if (task_stopping(t) && t->head->vt->barrier(t->head, SL_BARRIER_STOPPING, &t->err)) return;
  if (t->src->per_partition) {
    /* open windows stay open: the partitions' states keep them for
    ** whichever process owns each partition next */
    t->src->vt->pstate_write(t->src, &t->err);
    return;
  }
  if (task_stopping(t) && t->ckpt) {
    if (task_barrier(t, SL_BARRIER_FLUSH) == 0 && (!t->dlq || !sl_dlq_flush(t->dlq, &t->err))) {
      checkpoint(t);
      task_commit(t, SL_COMMIT_NOW);
    }
    return;
  }
  if (t->head->vt->finish(t->head, &t->err)) return;
  if (t->dlq && sl_dlq_flush(t->dlq, &t->err)) return;
  if (t->ckpt) checkpoint(t); /* the end: a restart has nothing left to do */
  task_commit(t, SL_COMMIT_NOW);
}

void sl_lquery_note_stop(sl_lquery *q) {
  int64_t in = 0, bytes = 0;
  for (int k = 0; k < 2 + q->npar; k++) { /* both inputs of a join; parallel tasks */
    sl_task *x = k == 0 ? q->task : k == 1 ? q->task2 : q->par[k - 2];
    if (!x) continue;
    in += __atomic_load_n(&x->stats.in, __ATOMIC_RELAXED);
    bytes += __atomic_load_n(&x->stats.bytes_in, __ATOMIC_RELAXED);
  }
  __atomic_store_n(&q->in_at_stop, in, __ATOMIC_RELAXED);
  __atomic_store_n(&q->bytes_at_stop, bytes, __ATOMIC_RELAXED);
}

/* n with thousands separators ("812,345") into out (room for 32). */
static const char *with_commas(char *out, int64_t n) {
  char digits[24];
  int len = snprintf(digits, sizeof digits, "%lld", (long long)(n < 0 ? 0 : n)), k = 0;
  for (int i = 0; i < len; i++) {
    if (i && (len - i) % 3 == 0) out[k++] = ',';
    out[k++] = digits[i];
  }
  out[k] = 0;
  return out;
}

/* q's state passed its max_query_memory (q->stats.over): q fails.  Alone
** when it is one of the caller's queries that t feeds through a stream's
** fanout, which then stops feeding it (as at a terminate: the stream's other
** readers go on): its message kept in q->error and said at once on stderr.
** Else t fails with it (t->err; its other queries depend on it).  Returns 0
** when t goes on, -1 when it fails. */
static int task_over_memory(sl_task *t, sl_lquery *q) {
  char limit[32], used[32], groups[32];
  const char *id = q->plan->id;
  int64_t bytes = q->stats.state_bytes, ng = q->stats.groups;
  for (int k = 0; k < q->nlane; k++) { /* an exchange's lanes (op_exchange.c) */
    bytes += __atomic_load_n(&q->lstats[k].state_bytes, __ATOMIC_RELAXED);
    ng += __atomic_load_n(&q->lstats[k].groups, __ATOMIC_RELAXED);
  }
  char *why = sl_mprintf("its state passed max_query_memory (%s): %s in %s group%s or kept row%s "
                         "(SET max_query_memory raises it)",
                         sl_size_text(limit, q->stats.mem_limit), sl_size_text(used, bytes),
                         with_commas(groups, ng), ng == 1 ? "" : "s", ng == 1 ? "" : "s");
  int alone = q->plan->top && q->nops && q->ops[0]->halt == &q->stopped && t->head != q->ops[0] &&
              !(q->ops[0]->port && t->head == q->ops[0]->port);
  if (!alone) { /* the task's messages name the task: say which query, when another */
    int other = strcmp(id, task_name(t)) != 0;
    sl_err_set(&t->err, SL_ERUNTIME, "%s%s%s", other ? id : "", other ? ": " : "", why);
    free(why);
    return -1;
  }
  sl_lquery_note_stop(q);
  fprintf(stderr, "sluice: %s stopped: %s\n", id, why);
  __atomic_store_n(&q->error, why, __ATOMIC_RELEASE);
  __atomic_store_n(&q->stopped, 1, __ATOMIC_RELEASE);
  return 0;
}

/* After a push: the queries t watches whose state passed their
** max_query_memory fail (task_over_memory).  A load of a flag per query:
** nothing per row.  0, or -1 when t fails. */
static int task_check_memory(sl_task *t) {
  for (int i = 0; i < t->nwatch; i++) {
    sl_lquery *q = t->watch[i];
    if (__atomic_load_n(&q->stats.over, __ATOMIC_RELAXED) &&
        !__atomic_load_n(&q->error, __ATOMIC_ACQUIRE) && task_over_memory(t, q))
      return -1;
  }
  return 0;
}

/* Read one batch into b: records (or rows) read, 0 when none came within
** the timeout, -1 at the end of the source (t->err set when it failed). */
static int task_read(sl_task *t, task_bufs *b) {
  int n = b->typed ? t->src->vt->read_rows(t->src, b->rows, b->ncol, b->batch, &t->err)
                   : t->src->vt->read(t->src, b->recs, b->batch, 200, &t->err);
  if (n == SL_READ_AGAIN) return 0;
  if (n == SL_READ_END) return -1;
  if (n < 0) {
    if (!t->err.code) sl_err_set(&t->err, SL_EIO, "source failed");
    return -1;
  }
  t->stats.in += n;
  return n;
}

void sl_task_run(sl_task *t) {
  task_bufs b = {0};
  /* the strings and blobs its queries build stay under their limit */
  size_t max_len = sl_max_length_set(t->max_len);
  if (task_begin(t, &b)) goto done;
  /* A first checkpoint before any output: a crash before the first
  ** periodic one then resumes from here, and an exactly-once sink knows
  ** where its output of this run starts. */
  if (t->ckpt) checkpoint(t);
  int64_t last_lag = 0;
  commit_state cs = {sl_clock_ms(), 0, 0, 0, 0};
  cs.last_ckpt = cs.last_tick = cs.last_pstate = cs.last_commit;
  while (!task_stopping(t)) {
    int64_t now = sl_clock_ms();
    task_poll_lag(t, now, &last_lag); /* while idle too: the broker may have been written to */
    if (task_between(t, &cs, now)) goto done;
    int n = task_read(t, &b);
    if (n < 0) {
      if (t->err.code) goto done;
      break;
    }
    if (!n) continue;
    int64_t t0 = sl_clock_us();
    /* after each read, before the push (which may wait on a slow consumer) */
    last_lag = 0;
    task_poll_lag(t, t0 / 1000, &last_lag);
    if (b.typed) task_repair_rows(t, &b, n);
    int nrow = b.typed ? n : task_decode(t, &b, n);
    if (nrow < 0) goto done;
    if (!nrow) continue;
    SL_ASSERT(nrow <= b.batch && (!b.typed || nrow == n));
    const sl_record **recs = b.typed ? NULL : b.recp;
    const sl_record *rr =
        b.typed && t->src->vt->row_records ? t->src->vt->row_records(t->src) : NULL;
    if (rr) { /* positions of typed rows: one record each */
      for (int i = 0; i < nrow; i++)
        b.recp[i] = &rr[i];
      recs = b.recp;
    }
    if (b.ops) task_source_state(t, &b);
    if (b.ops && !(nrow = task_ops(t, &b, nrow, recs))) continue;
    sl_batch batch = {b.ncol, nrow, b.rows, recs, t->src, sl_wall_ms(), NULL, b.ops};
    int rc = t->head->vt->push(t->head, &batch, &t->err);
    task_time_batch(t, sl_clock_us() - t0);
    if (rc < 0 || task_check_memory(t)) goto done;
    if (rc > 0) break; /* a consumer has had enough */
  }
  task_end(t);
done:
  group_leave(t);
  task_bufs_free(&b);
  sl_max_length_set(max_len);
  __atomic_store_n(&t->done, 1, __ATOMIC_RELEASE);
}

void *sl_task_thread(void *arg) {
  sl_task *t = arg;
  sl_task_run(t);
  if (t->err.code) {
    /* a task on a thread of its own says so at once, since the others go
    ** on (a continuous query may run for days) */
    fprintf(stderr, "sluice: %s stopped: %s\n", task_name(t), t->err.msg ? t->err.msg : "failed");
    t->reported = 1;
  }
  return NULL;
}

int sl_task_state(const sl_task *t) {
  if (!t || !__atomic_load_n(&t->done, __ATOMIC_ACQUIRE)) return 0;
  return t->err.code ? 2 : 1;
}
