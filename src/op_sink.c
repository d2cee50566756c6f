/*
** op_sink.c - the last operator of a query with INTO: encodes rows with the
** sink's format and writes them, one write per batch.
**
** Encoding (JSON numbers and strings, CSV quoting) costs about as much as
** decoding and evaluating, so it runs on a thread of its own: push() copies
** the batch into one of two slots (values, and their bytes into the slot's
** arena, so nothing borrowed from the producer is kept) and hands it to the
** encoder thread; while that thread encodes and writes one slot, the task
** fills the other.  The two slots bound the memory held.  A write error is
** kept by the encoder thread and returned by the next push or by finish.
** Slots, buffers and arenas are reused, so steady state allocates nothing.
**
** A small batch (at most INLINE_ROWS rows: a window's results, a few
** changed groups) that finds the encoder idle is encoded and written on
** the task's own thread instead: waking the encoder costs a few times more
** than encoding a few rows (S5 at parallelism 1 spent about 7% of its CPU
** in the futex wakeups of 20-row batches).  Order is kept: the encoder is
** idle only when every earlier slot is written.
**
** An updating query's rows carry their kinds (sl_batch.ops).  With
** changelog => 'op' every row is written with a first column op ('+I',
** '-U', '+U', '-D', as Flink prints a changelog).  A Kafka sink otherwise
** writes upserts, as ksqlDB's tables and Flink's upsert-kafka: the message
** key is the changelog's key (key => 'col', or the GROUP BY columns), +I
** and +U are written, a -U followed by the +U of the same key is left out
** (another is a tombstone), and -D is a tombstone (a message without a
** value).  Other sinks write the rows that add (+I, +U: each changed
** group's new value) and leave the take-backs out.
*/
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "json.h"
#include "operator.h"

#define NSLOT 2
#define INLINE_ROWS 64 /* a batch this small is encoded on the task's thread when it can */

typedef struct slot {
  sl_value *rows; /* nrow * ncol copied values; bytes in arena */
  uint64_t *ids;  /* nrow output identities (want_ids) */
  uint8_t *ops;   /* nrow row kinds (an updating query) */
  int32_t *opart; /* nrow input partitions (want_origin; -1: none) */
  int64_t *opos;  /* nrow input positions (want_origin) */
  int nrow, cap;
  sl_arena arena;
} slot;

typedef struct op_sink {
  sl_operator base;
  sl_sink *sink;   /* owned */
  sl_encoder *enc; /* owned; used by the encoder thread only */
  int ncol;
  sl_buf buf;   /* encoder thread: records of the slot being written */
  size_t *ends; /* encoder thread: end offset of each record in buf */
  int ends_cap;
  int begun;      /* begin() (a csv header) written */
  int want_ids;   /* the sink writes exactly once by id: give it every row's */
  int key_col;    /* message keys from this column, or -1 */
  int drop_key;   /* the key column is not part of the value */
  sl_value *vrow; /* encoder thread: a row without the key column */
  sl_buf keys;    /* encoder thread: the keys of the slot */
  size_t *kends;  /* end of each key in keys */
  int32_t *wpart; /* encoder thread: origins of the records made (want_origin) */
  int64_t *wpos;
  sl_value kscratch; /* renders non-text keys */
  int npart;         /* partition_by (a file sink): the columns whose values are the key */
  int *part;         /* their indexes */
  uint8_t *dropped;  /* per column: left out of the value (partition columns) */
  /* an updating query: SL_CHANGELOG_OP (an op column first), upserts (a
  ** keyed Kafka sink), or take-backs left out */
  int updating;
  int op_col; /* changelog => 'op' */
  int upsert;
  const int *kcols; /* upserts: the key's columns (the spec's), or NULL: key_col */
  int nkcols;
  sl_value *crow; /* encoder thread: a row with its op column first */

  slot slots[NSLOT];
  int head;    /* next slot the encoder takes */
  int filled;  /* slots waiting for the encoder (0..NSLOT) */
  int busy;    /* the encoder is working on a slot */
  int stop;    /* no more batches: the encoder exits when idle */
  int started; /* the thread exists */
  pthread_t thread;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  sl_err werr; /* first write error (encoder thread) */
  /* SL_BARRIER_MARK / SL_BARRIER_CHECK: durability without waiting */
  int64_t pushed;    /* rows pushed (task thread) */
  int64_t written;   /* rows written to the sink (encoder thread, under mu) */
  int64_t mark_rows; /* the rows pushed at the last mark (-1: none) */
  int64_t mark_seq;  /* the sink's produced() once those were written (-1: not yet) */
} op_sink;

/* Encode and write n rows (ids: theirs, or NULL); called by the encoder
** thread (or by finish). */
/* The kind name written in an op column. */
static const char *const kind_names[] = {"+I", "-U", "+U", "-D"};

/* Append row's message key (upserts: its key columns, one as its text,
** more as a JSON array of their values; else key_col's text) to keys. */
static void put_key(op_sink *s, sl_value *row) {
  if (s->kcols && s->nkcols > 1) {
    sl_buf_putc(&s->keys, '[');
    for (int k = 0; k < s->nkcols; k++) {
      if (k) sl_buf_putc(&s->keys, ',');
      sl_json_append_value(&s->keys, &row[s->kcols[k]]);
    }
    sl_buf_putc(&s->keys, ']');
    return;
  }
  sl_value_ref(&s->kscratch, &row[s->kcols ? s->kcols[0] : s->key_col]);
  size_t kn = 0;
  const char *kz = sl_value_text(&s->kscratch, &kn);
  if (kz) sl_buf_append(&s->keys, kz, kn);
}

/* 1 when rows a and b have the same key (upserts). */
static int same_key(const op_sink *s, const sl_value *a, const sl_value *b) {
  int n = s->kcols ? s->nkcols : 1;
  for (int k = 0; k < n; k++) {
    int c = s->kcols ? s->kcols[k] : s->key_col;
    if (a[c].type != b[c].type || sl_value_compare(&a[c], &b[c], SL_COLL_BINARY) != 0) return 0;
  }
  return 1;
}

static int encode_write(op_sink *s, sl_value *rows, const uint8_t *ops, const uint64_t *ids, int n,
                        const int32_t *opart, const int64_t *opos) {
  const sl_format *f = s->sink->format;
  sl_buf_reset(&s->buf);
  if (!s->begun) {
    s->begun = 1;
    if (f->begin) {
      f->begin(s->enc, &s->buf);
      if (s->buf.n) {
        size_t end = s->buf.n; /* the header goes out as a record of its own */
        if (s->sink->vt->write(s->sink, s->buf.z, &end, 1, NULL, NULL, NULL, &s->werr)) return -1;
        sl_buf_reset(&s->buf);
      }
    }
  }
  if (n > s->ends_cap) {
    s->ends_cap = n;
    s->ends = sl_realloc(s->ends, sizeof(size_t) * (size_t)n);
    s->kends = sl_realloc(s->kends, sizeof(size_t) * (size_t)n);
    if (opart) {
      s->wpart = sl_realloc(s->wpart, sizeof(int32_t) * (size_t)n);
      s->wpos = sl_realloc(s->wpos, sizeof(int64_t) * (size_t)n);
    }
  }
  sl_buf_reset(&s->keys);
  int w = 0; /* records made (take-backs may be left out) */
  for (int i = 0; i < n; i++) {
    sl_value *row = rows + (size_t)i * (size_t)s->ncol;
    int kind = ops ? ops[i] : SL_ROW_INSERT, tomb = 0;
    if (s->upsert && kind == SL_ROW_UPDATE_BEFORE && i + 1 < n &&
        ops[i + 1] == SL_ROW_UPDATE_AFTER && same_key(s, row, row + s->ncol))
      continue; /* its +U replaces it */
    if (s->upsert && sl_rowkind_retracts(kind)) {
      tomb = 1;
    } else if (!s->op_col && !s->upsert && sl_rowkind_retracts(kind)) {
      continue; /* a sink without keys or kinds writes what the changelog adds */
    }
    if (s->upsert) {
      put_key(s, row);
      s->kends[w] = s->keys.n;
      if (tomb) { /* no bytes at all: a message without a value */
        s->ends[w++] = s->buf.n;
        continue;
      }
    } else if (s->npart) { /* the partition values are the key, the rest the value */
      for (int k = 0; k < s->npart; k++) {
        sl_value_ref(&s->kscratch, &row[s->part[k]]);
        size_t kn = 0;
        const char *kz = sl_value_text(&s->kscratch, &kn);
        sl_part_key_put(&s->keys, kz, kn);
      }
      s->kends[w] = s->keys.n;
      for (int c = 0, o = 0; c < s->ncol; c++)
        if (!s->dropped[c]) s->vrow[o++] = row[c];
      row = s->vrow;
    } else if (s->key_col >= 0) {
      put_key(s, row);
      s->kends[w] = s->keys.n;
    }
    if (s->drop_key) {
      for (int c = 0, o = 0; c < s->ncol; c++)
        if (c != s->key_col) s->vrow[o++] = row[c];
      row = s->vrow;
    }
    if (s->op_col) { /* changelog => 'op': the kind first */
      sl_value_borrow_text(&s->crow[0], kind_names[kind & 3], 2, SL_F_TERM);
      memcpy(s->crow + 1, row, sizeof(sl_value) * (size_t)s->ncol);
      row = s->crow;
    }
    f->encode(s->enc, row, &s->buf);
    sl_buf_putc(&s->buf, '\n');
    if (opart) s->wpart[w] = opart[i], s->wpos[w] = opos[i];
    s->ends[w++] = s->buf.n;
  }
  if (!w) return 0;
  SL_ASSERT(w == n || !ids); /* exactly once refuses updating queries */
  n = w;
  /* read by the server's metrics from another thread */
  __atomic_fetch_add(&s->base.stats->bytes_out, (int64_t)s->buf.n, __ATOMIC_RELAXED);
  s->sink->origin_part = opart ? s->wpart : NULL;
  s->sink->origin_pos = opart ? s->wpos : NULL;
  int rc = s->sink->vt->write(
      s->sink, s->buf.z, s->ends, n,
      s->key_col >= 0 || s->npart || s->upsert ? (s->keys.z ? s->keys.z : "") : NULL, s->kends, ids,
      &s->werr);
  s->sink->origin_part = NULL;
  s->sink->origin_pos = NULL;
  return rc;
}

/* Under s->mu: n more rows are written; a mark waiting for them notes the
** sink's produced() count (sink_durable). */
static void note_written(op_sink *s, int n) {
  s->written += n;
  if (s->mark_rows >= 0 && s->mark_seq < 0 && s->written >= s->mark_rows)
    s->mark_seq = s->sink->vt->produced ? s->sink->vt->produced(s->sink) : 0;
}

/* Encode and write the slot sl (its batch copied) on the calling thread:
** the encoder thread's work, done by whichever thread holds s->busy. */
static void write_slot(op_sink *s, slot *sl) {
  encode_write(s, sl->rows, s->updating ? sl->ops : NULL, s->want_ids ? sl->ids : NULL, sl->nrow,
               s->sink->want_origin ? sl->opart : NULL, sl->opos);
}

static void *encoder_main(void *arg) {
  op_sink *s = arg;
  pthread_mutex_lock(&s->mu);
  for (;;) {
    while (!s->filled && !s->stop)
      pthread_cond_wait(&s->cv, &s->mu);
    if (!s->filled) break; /* stop, and nothing left */
    slot *sl = &s->slots[s->head];
    s->busy = 1;
    int failed = s->werr.code != 0;
    pthread_mutex_unlock(&s->mu);
    if (!failed) write_slot(s, sl);
    pthread_mutex_lock(&s->mu);
    note_written(s, sl->nrow);
    s->busy = 0;
    s->head = (s->head + 1) % NSLOT;
    s->filled--;
    pthread_cond_broadcast(&s->cv);
  }
  pthread_mutex_unlock(&s->mu);
  return NULL;
}

/* Copy a batch into sl (values, and their bytes into sl's arena). */
static void copy_batch(op_sink *s, slot *sl, const sl_batch *in) {
  size_t ncell = (size_t)in->nrow * (size_t)s->ncol;
  if (in->nrow > sl->cap) {
    sl->cap = in->nrow;
    sl->rows = sl_realloc(sl->rows, sizeof(sl_value) * (ncell ? ncell : 1));
    if (s->want_ids) sl->ids = sl_realloc(sl->ids, sizeof(uint64_t) * (size_t)in->nrow);
    if (s->updating) sl->ops = sl_realloc(sl->ops, (size_t)in->nrow);
    if (s->sink->want_origin) {
      sl->opart = sl_realloc(sl->opart, sizeof(int32_t) * (size_t)in->nrow);
      sl->opos = sl_realloc(sl->opos, sizeof(int64_t) * (size_t)in->nrow);
    }
  }
  /* origin => true: each row's Kafka record (a row without one has none) */
  int kafka = s->sink->want_origin && in->recs && in->src && !strcmp(in->src->vt->name, "kafka");
  for (int i = 0; s->sink->want_origin && i < in->nrow; i++) {
    const sl_record *r = kafka ? in->recs[i] : NULL;
    int has = r && r->partition >= 0;
    sl->opart[i] = has ? r->partition : -1;
    sl->opos[i] = has ? r->pos : -1;
  }
  if (s->updating) { /* an updating query's batches all say their kinds (NULL: inserts) */
    if (in->ops)
      memcpy(sl->ops, in->ops, (size_t)in->nrow);
    else
      memset(sl->ops, SL_ROW_INSERT, (size_t)in->nrow);
  }
  if (s->want_ids) sl_batch_ids(in, sl->ids);
  sl_arena_reset(&sl->arena);
  for (int i = 0; i < in->nrow; i++) {
    const sl_value *src = in->rows + (size_t)i * (size_t)in->ncol;
    sl_value *dst = sl->rows + (size_t)i * (size_t)s->ncol;
    for (int c = 0; c < s->ncol; c++) {
      dst[c] = src[c];
      dst[c].buf = NULL;
      dst[c].cap = 0;
      sl_value_pin(&dst[c], &sl->arena);
    }
  }
  sl->nrow = in->nrow;
}

static int sink_push(sl_operator *base, sl_batch *in, sl_err *err) {
  op_sink *s = (op_sink *)base;
  if (!in->nrow) return 0;
  pthread_mutex_lock(&s->mu);
  if (!s->started) {
    if (pthread_create(&s->thread, NULL, encoder_main, s)) {
      pthread_mutex_unlock(&s->mu);
      sl_err_set(err, SL_EINTERNAL, "cannot start the encoder thread");
      return -1;
    }
    s->started = 1;
  }
  while (s->filled == NSLOT && !s->werr.code)
    pthread_cond_wait(&s->cv, &s->mu);
  if (s->werr.code) {
    sl_err_set(err, s->werr.code, "%s", s->werr.msg ? s->werr.msg : "write failed");
    pthread_mutex_unlock(&s->mu);
    return -1;
  }
  slot *sl = &s->slots[(s->head + s->filled) % NSLOT];
  /* the encoder idle with nothing before this batch: a small one is
  ** written here, in the slot the encoder would take next (it takes only
  ** filled ones), else the slot is handed to the encoder */
  int here = in->nrow <= INLINE_ROWS && !s->filled && !s->busy;
  if (here) s->busy = 1;
  pthread_mutex_unlock(&s->mu);
  copy_batch(s, sl, in); /* the slot is ours until it is counted as filled */
  if (here) write_slot(s, sl);
  pthread_mutex_lock(&s->mu);
  int rc = 0;
  if (here) {
    note_written(s, sl->nrow);
    s->busy = 0;
    rc = s->werr.code;
    if (rc) sl_err_set(err, rc, "%s", s->werr.msg ? s->werr.msg : "write failed");
  } else {
    s->filled++;
    pthread_cond_broadcast(&s->cv);
  }
  pthread_mutex_unlock(&s->mu);
  if (rc) return -1;
  base->stats->out += in->nrow;
  s->pushed += in->nrow;
  return 0;
}

/* Wait for the encoder to finish everything and stop it. */
static void stop_encoder(op_sink *s) {
  if (!s->started) return;
  pthread_mutex_lock(&s->mu);
  s->stop = 1;
  pthread_cond_broadcast(&s->cv);
  pthread_mutex_unlock(&s->mu);
  pthread_join(s->thread, NULL);
  s->started = 0;
}

/* SL_BARRIER_MARK: note the rows pushed so far (the encoder notes the
** sink's produced() count once it has written them).  SL_BARRIER_CHECK: 1
** while the rows noted are not all acknowledged, 0 once they are, -1 on a
** failure. */
static int sink_durable(op_sink *s, sl_barrier what, sl_err *err) {
  pthread_mutex_lock(&s->mu);
  if (what == SL_BARRIER_MARK) {
    s->mark_rows = s->pushed;
    s->mark_seq = -1;
    if (s->written >= s->mark_rows)
      s->mark_seq = s->sink->vt->produced ? s->sink->vt->produced(s->sink) : 0;
    pthread_mutex_unlock(&s->mu);
    return 0;
  }
  int64_t seq = s->mark_seq;
  int werr = s->werr.code != 0;
  if (werr) sl_err_set(err, s->werr.code, "%s", s->werr.msg ? s->werr.msg : "write failed");
  pthread_mutex_unlock(&s->mu);
  if (werr) return -1;
  if (seq < 0) return 1; /* the encoder has not written them yet */
  if (!s->sink->vt->acked) return 0;
  int rc = s->sink->vt->acked(s->sink, seq, err);
  return rc < 0 ? -1 : !rc;
}

/* Nothing here depends on the clock. */
static int sink_tick(sl_operator *base, int64_t now, sl_err *err) {
  (void)base;
  (void)now;
  (void)err;
  return 0;
}

/* SL_BARRIER_FLUSH: wait until the encoder has written every slot, then
** flush the sink (a Kafka sink waits for its delivery reports), so the task
** may commit what it has read.  MARK and CHECK: see sink_durable.
** STOPPING: the sink's flushes from now on may give up (sl_sink.stopping). */
static int sink_barrier(sl_operator *base, sl_barrier what, sl_err *err) {
  op_sink *s = (op_sink *)base;
  if (what == SL_BARRIER_STOPPING) {
    s->sink->stopping = 1;
    return 0;
  }
  if (what != SL_BARRIER_FLUSH) return sink_durable(s, what, err);
  pthread_mutex_lock(&s->mu);
  while ((s->filled || s->busy) && !s->werr.code)
    pthread_cond_wait(&s->cv, &s->mu);
  pthread_mutex_unlock(&s->mu);
  if (s->werr.code) {
    sl_err_set(err, s->werr.code, "%s", s->werr.msg ? s->werr.msg : "write failed");
    return -1;
  }
  return s->sink->vt->flush ? s->sink->vt->flush(s->sink, err) : 0;
}

static int sink_finish(sl_operator *base, sl_err *err) {
  op_sink *s = (op_sink *)base;
  stop_encoder(s);
  if (!s->werr.code && !s->begun)
    encode_write(s, NULL, NULL, NULL, 0, NULL, NULL); /* an empty result gets its header */
  if (s->werr.code) {
    sl_err_set(err, s->werr.code, "%s", s->werr.msg ? s->werr.msg : "write failed");
    return -1;
  }
  return s->sink->vt->flush ? s->sink->vt->flush(s->sink, err) : 0;
}

static void sink_explain(const void *spec, sl_buf *out) {
  const sl_sink_spec *s = spec;
  sl_buf_printf(out, "sink: %s, format %s (encoded on its own thread)\n", s->conn_name,
                s->format->name);
}

static void sink_free(sl_operator *base) {
  op_sink *s = (op_sink *)base;
  stop_encoder(s);
  if (s->enc) s->sink->format->encoder_free(s->enc);
  s->sink->vt->close(s->sink);
  for (int i = 0; i < NSLOT; i++) {
    free(s->slots[i].rows);
    free(s->slots[i].ids);
    free(s->slots[i].ops);
    free(s->slots[i].opart);
    free(s->slots[i].opos);
    sl_arena_free(&s->slots[i].arena);
  }
  pthread_mutex_destroy(&s->mu);
  pthread_cond_destroy(&s->cv);
  sl_err_clear(&s->werr);
  sl_buf_free(&s->buf);
  sl_buf_free(&s->keys);
  sl_value_free(&s->kscratch);
  free(s->vrow);
  free(s->crow);
  free(s->kends);
  free(s->wpart);
  free(s->wpos);
  free(s->part);
  free(s->dropped);
  free(s->ends);
  free(s);
}

/* Checkpoint (after a flush barrier: everything is written): whether
** the header went out, and the sink's own position. */
static int sink_save(sl_operator *base, sl_buf *out, sl_err *err) {
  op_sink *s = (op_sink *)base;
  sl_ck_i64(out, s->begun);
  sl_ck_i64(out, s->sink->vt->save_pos != NULL);
  return s->sink->vt->save_pos ? s->sink->vt->save_pos(s->sink, out, err) : 0;
}

static int sink_load(sl_operator *base, const void *z, size_t n, sl_err *err) {
  op_sink *s = (op_sink *)base;
  sl_ckrd r;
  sl_ckrd_init(&r, z, n);
  int begun = (int)sl_ckr_i64(&r), has_pos = (int)sl_ckr_i64(&r);
  if (r.bad) {
    sl_err_set(err, SL_EIO, "sink: the checkpointed state is corrupt");
    return -1;
  }
  s->begun = begun;
  if (!has_pos || !s->sink->vt->load_pos) return 0;
  return s->sink->vt->load_pos(s->sink, r.p, (size_t)(r.end - r.p), err);
}

static const sl_op_vt sink_vt = {"sink",      sink_push, sink_tick, sink_barrier,
                                 sink_finish, sink_free, sink_save, sink_load};

sl_sink *sl_op_sink_sink(sl_operator *op) {
  return op && op->vt == &sink_vt ? ((op_sink *)op)->sink : NULL;
}

/* The live operator: opens the sink from the spec's options (a copy: an
** open marks the options it reads) and makes its encoder. */
static sl_operator *sink_make(const void *spec, const sl_make_env *env, sl_err *err) {
  const sl_sink_spec *sp = spec;
  sl_options o;
  sl_options_copy(&o, &sp->opts);
  o.interrupted = env->interrupted;
  sl_sink *sink = env->open_sink ? env->open_sink(env->open_ud, sp->conn, &o, err)
                                 : sp->conn->open_sink(&o, err);
  sl_options_free(&o);
  if (!sink) {
    if (!err->line) {
      err->line = sp->line;
      err->col = sp->col;
    }
    return NULL;
  }
  sink->interrupted = env->interrupted;
  int ncol = sp->ncol, key_col = sp->key_col, drop_key = sp->drop_key;
  int *part = NULL, npart = 0;
  uint8_t *dropped = NULL;
  if (sink->part_cols) { /* partition_by: those columns are the key, not in the value */
    part = sl_calloc((size_t)(ncol ? ncol : 1), sizeof(int));
    npart = sl_part_cols_resolve(sink->part_cols, ncol, sp->names, part, err);
    if (npart < 0) {
      free(part);
      sink->vt->close(sink);
      return NULL;
    }
    dropped = sl_calloc((size_t)(ncol ? ncol : 1), 1);
    for (int k = 0; k < npart; k++)
      dropped[part[k]] = 1;
    key_col = -1;
  }
  /* the value's columns: all, or all but the key (or the partition
  ** columns); with changelog => 'op', op first */
  const char **vnames = sl_calloc((size_t)ncol + 1, sizeof(char *));
  int nv = 0;
  if (sink->changelog == SL_CHANGELOG_OP) vnames[nv++] = "op";
  for (int c = 0; c < ncol; c++)
    if (!(drop_key && c == key_col) && !(dropped && dropped[c])) vnames[nv++] = sp->names[c];
  sl_encoder *enc = sink->format->encoder_new(nv, vnames, &sink->fmt_opts, err);
  free(vnames);
  if (!enc) {
    free(part);
    free(dropped);
    sink->vt->close(sink);
    return NULL;
  }
  op_sink *s = sl_calloc(1, sizeof *s);
  s->base.vt = &sink_vt;
  s->sink = sink;
  s->enc = enc;
  s->ncol = ncol;
  s->key_col = key_col;
  s->drop_key = drop_key && key_col >= 0;
  s->npart = npart;
  s->part = part;
  s->dropped = dropped;
  s->want_ids = sink->by_id;
  s->mark_rows = s->mark_seq = -1;
  s->vrow = sl_calloc((size_t)(ncol ? ncol : 1), sizeof(sl_value));
  s->crow = sl_calloc((size_t)ncol + 1, sizeof(sl_value));
  s->updating = sp->updating;
  s->op_col = sink->changelog == SL_CHANGELOG_OP;
  s->upsert = sp->updating && !s->op_col && (sp->key_cols || key_col >= 0) && !npart &&
              !strcmp(sink->vt->name, "kafka");
  if (s->upsert && key_col < 0) {
    s->kcols = sp->key_cols;
    s->nkcols = sp->nkey_cols;
  }
  sl_buf_init(&s->keys);
  sl_buf_init(&s->buf);
  for (int i = 0; i < NSLOT; i++)
    sl_arena_init(&s->slots[i].arena);
  pthread_mutex_init(&s->mu, NULL);
  pthread_cond_init(&s->cv, NULL);
  return &s->base;
}

static void sink_free_spec(void *spec) {
  sl_sink_spec *s = spec;
  sl_options_free(&s->opts);
  free(s->key_cols);
  for (int i = 0; i < s->ncol; i++)
    free(s->names[i]);
  free(s->names);
  free(s);
}

const sl_op_kind sl_op_sink = {"sink", sink_make, sink_explain, sink_free_spec, NULL};
