/*
** op_dedup.c - deduplication keeping each key's first row (op_window.h):
** `SELECT * FROM (SELECT ..., ROW_NUMBER() OVER (PARTITION BY k ORDER BY t
** ASC) AS rn FROM s) WHERE rn = 1` with t a time attribute, as Flink's
** deduplication.  Its output is append-only: one row per key, never taken
** back (rn is 1), so windows, interval joins and append-only sinks may
** read it.
**
** Two clocks:
**   processing time (ORDER BY PROCTIME() or the stream's PROCTIME() column):
**     the first row of a key to come is its row: emitted at once, and the
**     key is remembered;
**   event time (ORDER BY the stream's WATERMARK column): the first row by
**     event time (ties: the first to come).  A key's earliest row so far is
**     held until the watermark (sl_evclock: the stream's lateness) passes
**     its time, then emitted; rows of a key already emitted are dropped at
**     once, a row earlier than the held one replaces it, and a row behind
**     the watermark when it comes is late (counted, logged, dropped), so
**     what is emitted does not depend on batching.  Rows go out in
**     event-time order.
**
** State: per key its values (and, while held, its row: the select list);
** with SET state_ttl a key is forgotten that long (processing time) after
** its row went, so a later row of it is a first again (Flink's state TTL
** over deduplication).  Accounted as the query's state, checkpointed.
*/
#include <stdlib.h>
#include <string.h>

#include "wpart.h"

/* A key: a partition of the table (wpart.h: its values in the table's
** block; base.bytes: what is accounted for it, its held row included). */
typedef struct dkey {
  sl_wpart base;
  sl_value *row;     /* held (event time): the select list's nout values (owned), else NULL */
  int64_t ts, seq;   /* the held row's time and arrival number */
  int64_t at;        /* when its row went (processing time; state_ttl) */
  int heap_at;       /* its place in the heap while held, else -1 */
  struct dkey *next; /* keys whose row went, in the order it went */
} dkey;

typedef struct op_dedup {
  sl_operator base;
  const sl_window_spec *sp;
  const sl_wdef *w;
  sl_vm vm;
  int nout;
  sl_wptab keys; /* dkey by its values */
  dkey **heap;   /* held keys by (ts, seq) */
  int nheap, capheap;
  dkey *first, *last; /* keys whose row went, oldest first (state_ttl) */
  sl_evclock clock;
  int64_t next_seq, now;
  sl_value **spare; /* row arrays of emitted keys, for the next held rows */
  int nspare, capspare;
  sl_value *out; /* the batch's rows (values pinned into arena) */
  int nrows, caprows;
  sl_arena arena;
} op_dedup;

/* ---- keys ------------------------------------------------------------------ */

static int64_t row_bytes(const op_dedup *p, const sl_value *v) {
  int64_t n = (int64_t)sizeof(sl_value *);
  for (int c = 0; c < p->nout; c++)
    n += sl_wvalue_bytes(&v[c]);
  return n;
}

/* The key of values v (whose hash is h), made (and accounted) when new:
** *added says so. */
static dkey *find_key(op_dedup *p, const sl_value *v, uint64_t h, int *added) {
  dkey *d = (dkey *)sl_wptab_put(&p->keys, v, h, added);
  if (*added) d->heap_at = -1;
  return d;
}

/* Free d's held row (its array kept for the next). */
static void drop_row(op_dedup *p, dkey *d) {
  if (!d->row) return;
  int64_t b = row_bytes(p, d->row);
  sl_op_account(&p->base, -b, 0);
  d->base.bytes -= b;
  for (int c = 0; c < p->nout; c++)
    sl_value_free(&d->row[c]);
  if (p->nspare == p->capspare) {
    p->capspare = p->capspare ? 2 * p->capspare : 64;
    p->spare = sl_realloc(p->spare, sizeof(sl_value *) * (size_t)p->capspare);
  }
  p->spare[p->nspare++] = d->row;
  d->row = NULL;
}

/* An array for a held row's nout values (empty; from the spares). */
static sl_value *new_row(op_dedup *p) {
  return p->nspare ? p->spare[--p->nspare] : sl_calloc((size_t)p->nout, sizeof(sl_value));
}

/* Account d's row, just filled, as d's. */
static void account_row(op_dedup *p, dkey *d) {
  int64_t b = row_bytes(p, d->row);
  sl_op_account(&p->base, b, 0);
  d->base.bytes += b;
}

/* Hold the select list at reg as d's row (replacing what it held). */
static void hold_row(op_dedup *p, dkey *d, const sl_value *reg) {
  drop_row(p, d);
  d->row = new_row(p);
  for (int c = 0; c < p->nout; c++)
    sl_value_copy(&d->row[c], &reg[c]);
  account_row(p, d);
}

/* sl_wptab_free's callback: what a key owns (its held row). */
static void key_free(void *ctx, sl_wpart *pt) {
  drop_row(ctx, (dkey *)pt);
}

/* ---- held keys: a heap by (ts, seq), each knowing its place ------------------ */

static int before(const dkey *a, const dkey *b) {
  return a->ts < b->ts || (a->ts == b->ts && a->seq < b->seq);
}

static void heap_set(op_dedup *p, int i, dkey *d) {
  p->heap[i] = d;
  d->heap_at = i;
}

static void sift_up(op_dedup *p, int i) {
  dkey *d = p->heap[i];
  while (i > 0 && before(d, p->heap[(i - 1) / 2])) {
    heap_set(p, i, p->heap[(i - 1) / 2]);
    i = (i - 1) / 2;
  }
  heap_set(p, i, d);
}

static void heap_push(op_dedup *p, dkey *d) {
  if (p->nheap == p->capheap) {
    p->capheap = p->capheap ? 2 * p->capheap : 256;
    p->heap = sl_realloc(p->heap, sizeof(dkey *) * (size_t)p->capheap);
  }
  p->heap[p->nheap] = d;
  sift_up(p, p->nheap++);
}

static dkey *heap_pop(op_dedup *p) {
  dkey *top = p->heap[0], *last = p->heap[--p->nheap];
  top->heap_at = -1;
  if (!p->nheap) return top;
  int i = 0;
  for (;;) {
    int l = 2 * i + 1, m = i;
    const dkey *best = last;
    if (l < p->nheap && before(p->heap[l], best)) m = l, best = p->heap[l];
    if (l + 1 < p->nheap && before(p->heap[l + 1], best)) m = l + 1;
    if (m == i) break;
    heap_set(p, i, p->heap[m]);
    i = m;
  }
  heap_set(p, i, last);
  return top;
}

/* ---- emitting -------------------------------------------------------------- */

/* Append row v (the select list; its rank column 1) to the batch. */
static void output(op_dedup *p, const sl_value *v) {
  if (p->nrows == p->caprows) {
    p->caprows = p->caprows ? 2 * p->caprows : 256;
    p->out = sl_realloc(p->out, sizeof(sl_value) * (size_t)p->caprows * (size_t)p->nout);
  }
  sl_value *o = p->out + (size_t)p->nrows++ * (size_t)p->nout;
  for (int c = 0; c < p->nout; c++) {
    o[c] = v[c];
    o[c].buf = NULL;
    o[c].cap = 0;
    o[c].flags &= (uint8_t)~SL_F_OWNBUF;
    sl_value_pin(&o[c], &p->arena); /* the held row is freed before the batch goes */
  }
  sl_value_set_int(&o[p->sp->rank_col], 1);
}

/* Key d's row went: remembered in the order rows went (state_ttl). */
static void went(op_dedup *p, dkey *d) {
  d->at = p->now;
  d->next = NULL;
  if (p->last)
    p->last->next = d;
  else
    p->first = d;
  p->last = d;
}

/* Emit every held row before time upto (all: INT64_MAX), in time order. */
static void release(op_dedup *p, int64_t upto) {
  while (p->nheap && p->heap[0]->ts < upto) {
    dkey *d = heap_pop(p);
    output(p, d->row);
    drop_row(p, d);
    went(p, d);
  }
}

/* Forget the keys whose row went state_ttl ago or more. */
static void expire(op_dedup *p) {
  if (p->sp->ttl_ms <= 0) return;
  while (p->first && p->now - p->first->at >= p->sp->ttl_ms) {
    dkey *d = p->first;
    p->first = d->next;
    if (!p->first) p->last = NULL;
    drop_row(p, d);
    sl_wptab_remove(&p->keys, &d->base);
  }
}

static int flush(op_dedup *p, const sl_batch *in, sl_err *err) {
  if (!p->nrows) return 0;
  sl_batch b = {p->nout, p->nrows, p->out, NULL, in ? in->src : NULL, p->now, NULL, NULL};
  int rc = sl_op_emit(&p->base, &b, err);
  p->nrows = 0;
  sl_arena_reset(&p->arena);
  return rc;
}

/* ---- the vtable ------------------------------------------------------------ */

/* One row in processing time: the first of its key goes. */
static void take_proctime(op_dedup *p, const sl_value *reg) {
  int added;
  const sl_value *v = reg + p->w->part_reg;
  dkey *d = find_key(p, v, sl_wpart_hash(p->w, v), &added);
  if (!added) return;
  output(p, reg + p->sp->out_reg);
  went(p, d);
}

/* One row in event time (ts its time): held when it is its key's earliest. */
static void take_evtime(op_dedup *p, sl_batch *in, int r, const sl_value *reg, int64_t ts) {
  const sl_value *v = reg + p->w->part_reg;
  uint64_t h = sl_wpart_hash(p->w, v);
  const dkey *seen = (const dkey *)sl_wptab_get(&p->keys, v, h);
  if (seen && !seen->row) return; /* its key's row went: never first */
  if (ts < p->clock.watermark) {
    p->base.stats->late++;
    sl_op_reject(&p->base, in, r, "late record: the watermark passed its time (deduplication)");
    return;
  }
  int added;
  dkey *d = find_key(p, v, h, &added);
  if (!added && ts >= d->ts) return; /* a row of the key as early or earlier is held */
  hold_row(p, d, reg + p->sp->out_reg);
  d->ts = ts;
  d->seq = p->next_seq++;
  if (added)
    heap_push(p, d);
  else
    sift_up(p, d->heap_at);
}

static int dedup_push(sl_operator *base, sl_batch *in, sl_err *err) {
  op_dedup *p = (op_dedup *)base;
  if (in->now > p->now) p->now = in->now;
  expire(p);
  if (in->nrow && in->recs && in->recs[0] && in->recs[0]->origin) p->clock.by_origin = 1;
  if (!p->sp->proctime) sl_evclock_expect(&p->clock, in->src, 0, p->now);
  for (int r = 0; r < in->nrow; r++) {
    int rc = sl_vm_run(&p->vm, in->rows + (size_t)r * (size_t)in->ncol);
    if (rc == SL_VM_SKIP) continue;
    if (rc == SL_VM_ERROR) {
      sl_op_reject(base, in, r, p->vm.errmsg.z ? p->vm.errmsg.z : "evaluation failed");
      continue;
    }
    const sl_value *reg = &p->vm.reg[p->vm.prog->result_reg];
    if (p->sp->proctime) {
      take_proctime(p, reg);
      continue;
    }
    int64_t ts;
    if (sl_value_time(&reg[p->w->order_reg], &ts)) {
      sl_op_reject(base, in, r, SL_WEVTIME_BAD);
      continue;
    }
    take_evtime(p, in, r, reg, ts);
    sl_evclock_note(&p->clock, in->recs && in->recs[r] ? sl_record_clock(in->recs[r]) : 0, ts,
                    p->now);
    if (sl_evclock_advance(&p->clock, p->now)) release(p, p->clock.watermark);
  }
  if (!p->sp->proctime && in->src && in->src->vt->partitions) {
    sl_evclock_expect(&p->clock, in->src, 1, p->now);
    if (sl_evclock_advance(&p->clock, p->now)) release(p, p->clock.watermark);
  }
  return flush(p, in, err);
}

static int dedup_tick(sl_operator *base, int64_t now, sl_err *err) {
  op_dedup *p = (op_dedup *)base;
  if (now > p->now) p->now = now;
  expire(p);
  if (!p->sp->proctime && sl_evclock_advance(&p->clock, p->now)) release(p, p->clock.watermark);
  if (flush(p, NULL, err) < 0) return -1;
  return sl_op_pass_tick(base, now, err);
}

static int dedup_finish(sl_operator *base, sl_err *err) {
  op_dedup *p = (op_dedup *)base;
  release(p, INT64_MAX);
  if (flush(p, NULL, err) < 0) return -1;
  return sl_op_finish_next(base, err);
}

static void dedup_free(sl_operator *base) {
  op_dedup *p = (op_dedup *)base;
  p->base.stats = NULL;
  sl_wptab_free(&p->keys, key_free, p);
  for (int i = 0; i < p->nspare; i++)
    free(p->spare[i]);
  free(p->spare);
  free(p->heap);
  sl_evclock_free(&p->clock);
  sl_vm_free(&p->vm);
  free(p->out);
  sl_arena_free(&p->arena);
  free(p);
}

/* The state: the watermark, the partitions' times, the arrival counter,
** the keys whose row went (oldest first: values, when it went), then the
** held keys (values, time, arrival number, row). */
static int dedup_save(sl_operator *base, sl_buf *out, sl_err *err) {
  (void)err;
  op_dedup *p = (op_dedup *)base;
  sl_ck_i64(out, p->clock.watermark);
  sl_evclock_save(&p->clock, out);
  sl_ck_i64(out, p->next_seq);
  sl_ck_i64(out, (int64_t)p->keys.ht.count - p->nheap);
  for (const dkey *d = p->first; d; d = d->next) {
    sl_wpart_save_keys(&p->keys, &d->base, out);
    sl_ck_i64(out, d->at);
  }
  sl_ck_i64(out, p->nheap);
  for (int i = 0; i < p->nheap; i++) {
    const dkey *d = p->heap[i];
    sl_wpart_save_keys(&p->keys, &d->base, out);
    sl_ck_i64(out, d->ts);
    sl_ck_i64(out, d->seq);
    for (int c = 0; c < p->nout; c++)
      sl_ck_value(out, &d->row[c]);
  }
  return 0;
}

/* sl_wptab_load's callbacks for the new key pt: a key whose row went
** (when), and a held key (time, arrival number, row). */
static int load_went(void *ctx, sl_wpart *pt, sl_ckrd *r, sl_err *err) {
  (void)err;
  op_dedup *p = ctx;
  dkey *d = (dkey *)pt;
  d->heap_at = -1;
  int64_t now = p->now;
  p->now = sl_ckr_i64(r);
  went(p, d);
  p->now = now;
  return 0;
}

static int load_held(void *ctx, sl_wpart *pt, sl_ckrd *r, sl_err *err) {
  (void)err;
  op_dedup *p = ctx;
  dkey *d = (dkey *)pt;
  d->heap_at = -1;
  d->ts = sl_ckr_i64(r);
  d->seq = sl_ckr_i64(r);
  d->row = new_row(p);
  for (int c = 0; c < p->nout; c++)
    sl_ckr_value(r, &d->row[c]);
  account_row(p, d);
  if (r->bad) return -1;
  heap_push(p, d);
  return 0;
}

static int dedup_load(sl_operator *base, const void *z, size_t n, sl_err *err) {
  op_dedup *p = (op_dedup *)base;
  sl_ckrd r;
  sl_ckrd_init(&r, z, n);
  p->clock.watermark = sl_ckr_i64(&r);
  sl_evclock_load(&p->clock, &r, p->now);
  p->next_seq = sl_ckr_i64(&r);
  if (!r.bad) sl_wptab_load(&p->keys, &r, load_went, p, err);
  if (!r.bad) sl_wptab_load(&p->keys, &r, load_held, p, err);
  if (r.bad || r.p != r.end) {
    sl_err_set(err, SL_EIO, "deduplication: its checkpointed keys are damaged");
    return -1;
  }
  return 0;
}

static const sl_op_vt dedup_vt = {"dedup",      dedup_push, dedup_tick, sl_op_pass_barrier,
                                  dedup_finish, dedup_free, dedup_save, dedup_load};

static sl_operator *dedup_make(const void *spec, const sl_make_env *env, sl_err *err) {
  (void)env;
  (void)err;
  const sl_window_spec *sp = spec;
  op_dedup *p = sl_calloc(1, sizeof *p);
  p->base.vt = &dedup_vt;
  p->sp = sp;
  p->w = &sp->wins[0];
  p->nout = sp->nout;
  sl_vm_init(&p->vm, sp->pre);
  sl_wptab_init(&p->keys, &p->base, p->w, sizeof(dkey), 0);
  sl_arena_init(&p->arena);
  sl_evclock_init(&p->clock, sp->lateness, sp->idle_ms);
  return &p->base;
}

static void dedup_explain(const void *spec, sl_buf *out) {
  const sl_window_spec *sp = spec;
  if (sp->proctime)
    sl_buf_puts(out, "dedup: each key's first row in processing time, emitted at once "
                     "(append-only)");
  else
    sl_buf_printf(out,
                  "dedup: each key's first row in event time, emitted as the watermark passes "
                  "it (lateness %lld ms; append-only)",
                  (long long)sp->lateness);
  if (sp->ttl_ms > 0) sl_buf_printf(out, ", keys forgotten %lld ms after", (long long)sp->ttl_ms);
  sl_buf_puts(out, "\n");
  sl_window_spec_explain(sp, out);
}

const sl_op_kind sl_op_dedup = {"dedup", dedup_make, dedup_explain, sl_window_spec_free, NULL};
