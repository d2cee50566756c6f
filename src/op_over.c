/*
** op_over.c - window functions over a stream ordered by its event time
** (op_window.h), as Flink's OVER aggregation: each row is held until the
** watermark passes its time (ORDER BY's value), then rows are released in
** event-time order (ties in arrival order) and each gets its calls' values
** from its partition's state:
**   ROW_NUMBER, RANK, DENSE_RANK   counters (peers: equal times);
**   LAG(x, n, d)                   the last n rows' values of the partition;
**   LEAD(x, n, d)                  the row waits for the partition's next n
**                                  rows (d when the input ends first);
**   aggregates                     ROWS BETWEEN n PRECEDING AND CURRENT ROW
**                                  (xStep, and xInverse of the row leaving),
**                                  ROWS UNBOUNDED PRECEDING, and the default
**                                  RANGE frame (the row's peers included).
** A row behind the watermark when it comes is late: counted, logged and
** dropped.  The rows go on as their input columns and one value per call,
** an append-only stream.
**
** The watermark (sl_evclock, op_window.c) is op_aggregate's: the smallest, over the source's
** partitions, of the largest time seen there, minus the stream's lateness
** (idle partitions left out).  Memory: the rows not yet released, and per
** partition its keys, counters, aggregate states and its last rows (as many
** as the largest LAG offset or ROWS frame needs): accounted, checkpointed.
*/
#include <stdlib.h>
#include <string.h>

#include "wpart.h"

/* A row: its input columns, the program's results and its calls' values. */
typedef struct orec {
  sl_value *v;
  int64_t ts, seq;
  int64_t idx; /* its place in its partition, once released */
  struct opart *part;
} orec;

/* A partition (wpart.h: its keys, aggregate states and history in the
** table's block). */
typedef struct opart {
  sl_wpart base;
  int64_t count;        /* rows released */
  int64_t rank, dense;  /* the last row's */
  int64_t last_ts;      /* the last row's time */
  unsigned char *state; /* every aggregate call's state block (the extra bytes' end) */
  sl_value *hist;       /* the last hcap rows' program results: place i at i % hcap (the
                        ** extra bytes' start) */
  orec *wait;           /* rows waiting for their LEAD values, in order (owned) */
  int nwait, capwait;
} opart;

typedef struct op_over {
  sl_operator base;
  const sl_window_spec *sp;
  const sl_wdef *w;
  sl_vm vm;
  int nres, ncall, ncol_in, width; /* width: ncol_in + nres + ncall */
  const sl_func **funcs;           /* per call: the aggregate used (NULL for the others) */
  size_t *state_off;
  size_t state_size;
  int hcap;       /* rows of history kept per partition */
  int64_t lead;   /* the largest LEAD offset (0: none) */
  sl_wptab parts; /* opart by its keys */
  orec *heap;     /* rows held, by (ts, seq) */
  int nheap, capheap;
  int64_t next_seq;
  sl_evclock clock; /* the watermark */
  int64_t now;
  sl_value **spare;
  int nspare, capspare;
  orec *run; /* the rows being released */
  int nrun, caprun;
  sl_value *out; /* output rows (values pinned into arena) */
  int nout, capout;
  sl_arena arena;
  sl_buf msg;
} op_over;

static sl_value *rec_values(op_over *p) {
  if (p->nspare) return p->spare[--p->nspare];
  return sl_calloc((size_t)p->width, sizeof(sl_value));
}

static int64_t rec_bytes(const op_over *p, const sl_value *v) {
  int64_t n = (int64_t)sizeof(orec);
  for (int c = 0; c < p->width; c++)
    n += sl_wvalue_bytes(&v[c]);
  return n;
}

static void rec_free(op_over *p, orec *r) {
  sl_op_account(&p->base, -rec_bytes(p, r->v), -1);
  for (int c = 0; c < p->width; c++)
    sl_value_free(&r->v[c]);
  if (p->nspare == p->capspare) {
    p->capspare = p->capspare ? 2 * p->capspare : 64;
    p->spare = sl_realloc(p->spare, sizeof(sl_value *) * (size_t)p->capspare);
  }
  p->spare[p->nspare++] = r->v;
  r->v = NULL;
}

/* ---- partitions ------------------------------------------------------------ */

/* The extra bytes of a partition: its history (hcap * nres values), then
** its aggregate states (state_size bytes, 16-byte aligned). */
static size_t hist_size(const op_over *p) {
  return ((size_t)p->hcap * (size_t)p->nres * sizeof(sl_value) + 15) & ~(size_t)15;
}

/* A new partition's pointers into its extra bytes. */
static void part_init(op_over *p, opart *t) {
  t->hist = sl_wpart_extra(&p->parts, &t->base);
  t->state = (unsigned char *)t->hist + hist_size(p);
}

/* The partition of the keys at keys (made, with its pointers, when new). */
static opart *find_part(op_over *p, const sl_value *keys) {
  int added;
  opart *t = (opart *)sl_wptab_put(&p->parts, keys, sl_wpart_hash(p->w, keys), &added);
  if (added) part_init(p, t);
  return t;
}

/* sl_wptab_free's callback: what a partition owns (aggregate states,
** history values, rows waiting). */
static void part_free(void *ctx, sl_wpart *pt) {
  op_over *p = ctx;
  opart *t = (opart *)pt;
  for (int k = 0; k < p->sp->ncall; k++)
    if (p->funcs[k]) {
      sl_value v = SL_VALUE_INIT;
      sl_fctx ctx = {p->funcs[k], &v, t->state + p->state_off[k], SL_COLL_BINARY, 0, &p->msg, 0, 1,
                     NULL,        0};
      p->funcs[k]->xFinal(&ctx);
      sl_value_free(&v);
    }
  for (int i = 0; i < p->hcap * p->nres; i++)
    sl_value_free(&t->hist[i]);
  for (int i = 0; i < t->nwait; i++)
    rec_free(p, &t->wait[i]);
  free(t->wait);
}

/* ---- the held rows: a heap by (ts, seq) ------------------------------------ */

static int rec_before(const orec *a, const orec *b) {
  return a->ts < b->ts || (a->ts == b->ts && a->seq < b->seq);
}

static void heap_push(op_over *p, orec r) {
  if (p->nheap == p->capheap) {
    p->capheap = p->capheap ? 2 * p->capheap : 256;
    p->heap = sl_realloc(p->heap, sizeof(orec) * (size_t)p->capheap);
  }
  int i = p->nheap++;
  while (i > 0 && rec_before(&r, &p->heap[(i - 1) / 2])) {
    p->heap[i] = p->heap[(i - 1) / 2];
    i = (i - 1) / 2;
  }
  p->heap[i] = r;
}

static orec heap_pop(op_over *p) {
  orec top = p->heap[0], last = p->heap[--p->nheap];
  int i = 0;
  for (;;) {
    int l = 2 * i + 1, m = i;
    const orec *best = &last;
    if (l < p->nheap && rec_before(&p->heap[l], best)) m = l, best = &p->heap[l];
    if (l + 1 < p->nheap && rec_before(&p->heap[l + 1], best)) m = l + 1;
    if (m == i) break;
    p->heap[i] = p->heap[m];
    i = m;
  }
  if (p->nheap) p->heap[i] = last;
  return top;
}

/* ---- computing ------------------------------------------------------------- */

static sl_value shallow(const sl_value *v) {
  sl_value t = *v;
  t.buf = NULL;
  t.cap = 0;
  t.flags &= (uint8_t)~SL_F_OWNBUF;
  return t;
}

/* Step (inverse: remove) call k's arguments (regs: a row's program
** results) into t's state.  0, or -1 with err. */
static int agg_step(op_over *p, opart *t, int k, const sl_value *regs, int inverse, sl_err *err) {
  const sl_wcall_spec *c = &p->sp->calls[k];
  const sl_func *f = p->funcs[k];
  if (c->filter_reg >= 0 && sl_value_truth(&regs[c->filter_reg]) != 1) return 0;
  sl_value args[8], *argv[8];
  int na = c->nargs < 8 ? c->nargs : 8;
  for (int i = 0; i < na; i++) {
    args[i] = shallow(&regs[c->arg_reg + i]);
    argv[i] = &args[i];
  }
  sl_value dummy = SL_VALUE_INIT;
  sl_fctx ctx = {f, &dummy, t->state + p->state_off[k], c->coll, 0, &p->msg, 0, 0, NULL, 0};
  (inverse ? f->xInverse : f->xStep)(&ctx, na, argv);
  sl_value_free(&dummy);
  for (int j = 0; j < na; j++) /* what a conversion in place allocated */
    sl_value_free(&args[j]);
  if (ctx.grew) sl_op_account(&p->base, ctx.grew, 0);
  if (ctx.failed) {
    sl_err_set(err, SL_ERUNTIME, "%s", p->msg.z ? p->msg.z : "aggregate failed");
    return -1;
  }
  return 0;
}

static void agg_value(op_over *p, opart *t, int k, sl_value *dst) {
  sl_value v = SL_VALUE_INIT;
  sl_fctx ctx = {
      p->funcs[k], &v, t->state + p->state_off[k], p->sp->calls[k].coll, 0, &p->msg, 0, 0, NULL, 0};
  p->funcs[k]->xValue(&ctx);
  sl_value_copy(dst, &v);
  sl_value_free(&v);
}

/* The program results of place j of t (it must be in the history). */
static const sl_value *hist_at(const op_over *p, const opart *t, int64_t j) {
  return t->hist + (size_t)(j % p->hcap) * (size_t)p->nres;
}

/* The first pass over released row r: counters, LAG, ROWS aggregates;
** the row enters its partition's history.  0, or -1 with err. */
static int release_row(op_over *p, orec *r, sl_err *err) {
  const sl_window_spec *sp = p->sp;
  sl_value *regs = r->v + p->ncol_in, *res = regs + p->nres;
  opart *t = find_part(p, regs + p->w->part_reg);
  r->part = t;
  int64_t i = r->idx = t->count;
  int peer = i > 0 && r->ts == t->last_ts;
  t->rank = peer ? t->rank : i + 1;
  t->dense = peer ? t->dense : t->dense + 1;
  for (int k = 0; k < sp->ncall; k++) {
    const sl_wcall_spec *c = &sp->calls[k];
    switch (c->kind) {
    case SL_WF_ROW_NUMBER: sl_value_set_int(&res[k], i + 1); break;
    case SL_WF_RANK: sl_value_set_int(&res[k], t->rank); break;
    case SL_WF_DENSE_RANK: sl_value_set_int(&res[k], t->dense); break;
    case SL_WF_LAG:
      if (c->offset == 0)
        sl_value_copy(&res[k], &regs[c->arg_reg]);
      else if (i - c->offset >= 0)
        sl_value_copy(&res[k], &hist_at(p, t, i - c->offset)[c->arg_reg]);
      else if (c->nargs == 3)
        sl_value_copy(&res[k], &regs[c->arg_reg + 2]);
      else
        sl_value_set_null(&res[k]);
      break;
    case SL_WF_LEAD:
      if (c->offset == 0)
        sl_value_copy(&res[k], &regs[c->arg_reg]);
      else if (c->nargs == 3) /* until the row it names comes */
        sl_value_copy(&res[k], &regs[c->arg_reg + 2]);
      else
        sl_value_set_null(&res[k]);
      break;
    default: {
      if (agg_step(p, t, k, regs, 0, err)) return -1;
      if (c->frame == SL_FRAME_ROWS) {
        int64_t n = c->start == SL_FB_PRECEDING ? c->start_n : c->start == SL_FB_CURRENT ? 0 : -1;
        if (n >= 0 && i - n - 1 >= 0 && agg_step(p, t, k, hist_at(p, t, i - n - 1), 1, err))
          return -1;
        agg_value(p, t, k, &res[k]);
      }
    }
    }
  }
  if (p->hcap) {
    sl_value *h = t->hist + (size_t)(i % p->hcap) * (size_t)p->nres;
    for (int j = 0; j < p->nres; j++)
      sl_value_copy(&h[j], &regs[j]);
  }
  t->count++;
  t->last_ts = r->ts;
  return 0;
}

/* Append row r (input columns and calls' values) to the output. */
static void output(op_over *p, const orec *r) {
  int wo = p->ncol_in + p->ncall;
  if (p->nout == p->capout) {
    p->capout = p->capout ? 2 * p->capout : 256;
    p->out = sl_realloc(p->out, sizeof(sl_value) * (size_t)p->capout * (size_t)wo);
  }
  sl_value *o = p->out + (size_t)p->nout++ * (size_t)wo;
  for (int c = 0; c < p->ncol_in; c++) {
    o[c] = shallow(&r->v[c]);
    sl_value_pin(&o[c], &p->arena);
  }
  for (int k = 0; k < p->ncall; k++) {
    o[p->ncol_in + k] = shallow(&r->v[p->ncol_in + p->nres + k]);
    sl_value_pin(&o[p->ncol_in + k], &p->arena);
  }
}

/* Row r is done (its LEAD values known): out, or into its partition's
** queue of rows waiting for them. */
static void settle(op_over *p, orec *r) {
  opart *t = r->part;
  if (p->lead) { /* fill the LEAD values of the rows waiting for this one */
    const sl_value *regs = r->v + p->ncol_in;
    for (int q = 0; q < t->nwait; q++) {
      orec *w = &t->wait[q];
      for (int k = 0; k < p->ncall; k++) {
        const sl_wcall_spec *c = &p->sp->calls[k];
        if (c->kind == SL_WF_LEAD && c->offset > 0 && w->idx + c->offset == r->idx)
          sl_value_copy(&w->v[p->ncol_in + p->nres + k], &regs[c->arg_reg]);
      }
    }
    if (t->nwait == t->capwait) {
      t->capwait = t->capwait ? 2 * t->capwait : 8;
      t->wait = sl_realloc(t->wait, sizeof(orec) * (size_t)t->capwait);
    }
    t->wait[t->nwait++] = *r;
    int done = 0;
    while (done < t->nwait && t->wait[done].idx + p->lead <= r->idx) {
      output(p, &t->wait[done]);
      rec_free(p, &t->wait[done]);
      done++;
    }
    memmove(t->wait, t->wait + done, sizeof(orec) * (size_t)(t->nwait - done));
    t->nwait -= done;
    return;
  }
  output(p, r);
  rec_free(p, r);
}

/* Release every held row before time `upto` (all: INT64_MAX), in order. */
static int release(op_over *p, int64_t upto, sl_err *err) {
  while (p->nheap && p->heap[0].ts < upto) {
    int64_t ts = p->heap[0].ts;
    p->nrun = 0;
    while (p->nheap && p->heap[0].ts == ts) { /* the peers: one time */
      if (p->nrun == p->caprun) {
        p->caprun = p->caprun ? 2 * p->caprun : 64;
        p->run = sl_realloc(p->run, sizeof(orec) * (size_t)p->caprun);
      }
      p->run[p->nrun] = heap_pop(p);
      if (release_row(p, &p->run[p->nrun++], err)) return -1;
    }
    for (int i = 0; i < p->nrun; i++) { /* RANGE frames: the peers are in */
      orec *r = &p->run[i];
      for (int k = 0; k < p->ncall; k++)
        if (p->funcs[k] && p->sp->calls[k].frame == SL_FRAME_RANGE)
          agg_value(p, r->part, k, &r->v[p->ncol_in + p->nres + k]);
      settle(p, r);
    }
  }
  return 0;
}

/* At the end: every row waiting for LEAD goes with what it has. */
static void drain_waiting(op_over *p) {
  sl_hiter it = sl_htab_iter(&p->parts.ht);
  for (sl_wpart *pt; (pt = sl_wptab_next(&p->parts, &it));) {
    opart *t = (opart *)pt;
    for (int i = 0; i < t->nwait; i++) {
      output(p, &t->wait[i]);
      rec_free(p, &t->wait[i]);
    }
    t->nwait = 0;
  }
}

static int flush(op_over *p, const sl_batch *in, sl_err *err) {
  if (!p->nout) return 0;
  sl_batch b = {p->ncol_in + p->ncall, p->nout, p->out, NULL,
                in ? in->src : NULL,   p->now,  NULL,   NULL};
  int rc = sl_op_emit(&p->base, &b, err);
  p->nout = 0;
  sl_arena_reset(&p->arena);
  return rc;
}

/* ---- the watermark ---------------------------------------------------------- */

static int advance(op_over *p, sl_err *err) {
  if (!sl_evclock_advance(&p->clock, p->now)) return 0;
  return release(p, p->clock.watermark, err);
}

/* ---- the vtable ------------------------------------------------------------ */

static int over_push(sl_operator *base, sl_batch *in, sl_err *err) {
  op_over *p = (op_over *)base;
  if (in->now > p->now) p->now = in->now;
  /* records from a repartition topic: event time per origin partition */
  if (in->nrow && in->recs && in->recs[0] && in->recs[0]->origin) p->clock.by_origin = 1;
  sl_evclock_expect(&p->clock, in->src, 0, p->now);
  for (int r = 0; r < in->nrow; r++) {
    const sl_value *row = in->rows + (size_t)r * (size_t)in->ncol;
    int rc = sl_vm_run(&p->vm, (sl_value *)row);
    if (rc == SL_VM_SKIP) continue;
    if (rc == SL_VM_ERROR) {
      sl_op_reject(base, in, r, p->vm.errmsg.z ? p->vm.errmsg.z : "evaluation failed");
      continue;
    }
    const sl_value *regs = &p->vm.reg[p->vm.prog->result_reg];
    int64_t ts;
    if (sl_value_time(&regs[p->w->order_reg], &ts)) {
      sl_op_reject(base, in, r, SL_WEVTIME_BAD);
      continue;
    }
    if (ts < p->clock.watermark) {
      base->stats->late++;
      sl_op_reject(base, in, r, "late record: the watermark passed its time (OVER)");
      continue;
    }
    orec rec = {rec_values(p), ts, p->next_seq++, 0, NULL};
    for (int c = 0; c < p->ncol_in && c < in->ncol; c++)
      sl_value_copy(&rec.v[c], &row[c]);
    for (int j = 0; j < p->nres; j++)
      sl_value_copy(&rec.v[p->ncol_in + j], &regs[j]);
    sl_op_account(&p->base, rec_bytes(p, rec.v), 1);
    heap_push(p, rec);
    sl_evclock_note(&p->clock, in->recs && in->recs[r] ? sl_record_clock(in->recs[r]) : 0, ts,
                    p->now);
    if (advance(p, err)) return -1; /* per record: batching changes nothing */
  }
  if (in->src && in->src->vt->partitions) {
    sl_evclock_expect(&p->clock, in->src, 1, p->now);
    if (advance(p, err)) return -1;
  }
  return flush(p, in, err);
}

static int over_tick(sl_operator *base, int64_t now, sl_err *err) {
  op_over *p = (op_over *)base;
  if (now > p->now) p->now = now;
  if (advance(p, err) || flush(p, NULL, err) < 0) return -1;
  return sl_op_pass_tick(base, now, err);
}

static int over_finish(sl_operator *base, sl_err *err) {
  op_over *p = (op_over *)base;
  if (release(p, INT64_MAX, err)) return -1;
  drain_waiting(p);
  if (flush(p, NULL, err) < 0) return -1;
  return sl_op_finish_next(base, err);
}

static void over_free(sl_operator *base) {
  op_over *p = (op_over *)base;
  p->base.stats = NULL;
  sl_wptab_free(&p->parts, part_free, p);
  while (p->nheap) {
    orec r = heap_pop(p);
    rec_free(p, &r);
  }
  for (int i = 0; i < p->nspare; i++)
    free(p->spare[i]);
  free(p->spare);
  free(p->heap);
  free(p->run);
  free(p->out);
  sl_evclock_free(&p->clock);
  free(p->funcs);
  free(p->state_off);
  sl_vm_free(&p->vm);
  sl_arena_free(&p->arena);
  sl_buf_free(&p->msg);
  free(p);
}

/* The state: watermark, counters, the source partitions' times, the held
** rows, then each partition (keys, counters, aggregate states, history,
** waiting rows). */
static void save_rec(const op_over *p, sl_buf *out, const orec *r) {
  sl_ck_i64(out, r->ts);
  sl_ck_i64(out, r->seq);
  sl_ck_i64(out, r->idx);
  for (int c = 0; c < p->width; c++)
    sl_ck_value(out, &r->v[c]);
}

/* A partition after its keys (wpart.h): counters, aggregate states,
** history, waiting rows. */
static int save_part(void *ctx, const sl_wpart *pt, sl_buf *out, sl_err *err) {
  const op_over *p = ctx;
  const opart *t = (const opart *)pt;
  sl_ck_i64(out, t->count);
  sl_ck_i64(out, t->rank);
  sl_ck_i64(out, t->dense);
  sl_ck_i64(out, t->last_ts);
  for (int k = 0; k < p->ncall; k++)
    if (p->funcs[k]) {
      size_t at = sl_ck_open(out);
      if (sl_agg_save(p->funcs[k], t->state + p->state_off[k], out, err)) return -1;
      sl_ck_close(out, at);
    }
  for (int i = 0; i < p->hcap * p->nres; i++)
    sl_ck_value(out, &t->hist[i]);
  sl_ck_i64(out, t->nwait);
  for (int i = 0; i < t->nwait; i++)
    save_rec(p, out, &t->wait[i]);
  return 0;
}

static int over_save(sl_operator *base, sl_buf *out, sl_err *err) {
  op_over *p = (op_over *)base;
  sl_ck_i64(out, p->clock.watermark);
  sl_ck_i64(out, p->next_seq);
  sl_evclock_save(&p->clock, out);
  sl_ck_i64(out, p->nheap);
  for (int i = 0; i < p->nheap; i++)
    save_rec(p, out, &p->heap[i]);
  return sl_wptab_save(&p->parts, out, save_part, p, err);
}

/* Read a record saved by save_rec into rec (its values owned by p's
** records, accounted).  0, or -1 when the bytes are damaged: nothing is
** kept. */
static int load_rec(op_over *p, sl_ckrd *r, orec *rec) {
  rec->ts = sl_ckr_i64(r);
  rec->seq = sl_ckr_i64(r);
  rec->idx = sl_ckr_i64(r);
  rec->v = rec_values(p);
  rec->part = NULL;
  for (int c = 0; c < p->width; c++)
    sl_ckr_value(r, &rec->v[c]);
  sl_op_account(&p->base, rec_bytes(p, rec->v), 1);
  if (!r->bad) return 0;
  rec_free(p, rec); /* a damaged record: its values go back to the spares */
  return -1;
}

/* Read what save_part wrote into the new partition pt.  0, or -1 when
** damaged (what was read stays in pt, freed with it). */
static int load_part(void *ctx, sl_wpart *pt, sl_ckrd *r, sl_err *err) {
  op_over *p = ctx;
  opart *t = (opart *)pt;
  part_init(p, t);
  t->count = sl_ckr_i64(r);
  t->rank = sl_ckr_i64(r);
  t->dense = sl_ckr_i64(r);
  t->last_ts = sl_ckr_i64(r);
  for (int k = 0; k < p->ncall && !r->bad; k++)
    if (p->funcs[k]) {
      size_t len;
      const void *b = sl_ckr_bytes(r, &len);
      if (!b || sl_agg_load(p->funcs[k], t->state + p->state_off[k], b, len, err)) return -1;
    }
  for (int j = 0; j < p->hcap * p->nres && !r->bad; j++)
    sl_ckr_value(r, &t->hist[j]);
  int64_t nw = sl_ckr_i64(r);
  if (nw < 0 || nw > INT32_MAX) return -1;
  for (int64_t j = 0; j < nw && !r->bad; j++) {
    orec rec;
    if (load_rec(p, r, &rec)) return -1;
    rec.part = t;
    if (t->nwait == t->capwait) {
      t->capwait = t->capwait ? 2 * t->capwait : 8;
      t->wait = sl_realloc(t->wait, sizeof(orec) * (size_t)t->capwait);
    }
    t->wait[t->nwait++] = rec;
  }
  return 0;
}

static int over_load(sl_operator *base, const void *z, size_t n, sl_err *err) {
  op_over *p = (op_over *)base;
  sl_ckrd r;
  sl_ckrd_init(&r, z, n);
  p->clock.watermark = sl_ckr_i64(&r);
  p->next_seq = sl_ckr_i64(&r);
  sl_evclock_load(&p->clock, &r, p->now);
  int64_t nh = sl_ckr_i64(&r);
  if (nh < 0 || nh > INT32_MAX) r.bad = 1;
  for (int64_t i = 0; i < nh && !r.bad; i++) {
    orec rec;
    if (load_rec(p, &r, &rec) == 0) heap_push(p, rec);
  }
  if (!r.bad) sl_wptab_load(&p->parts, &r, load_part, p, err);
  if (r.bad || r.p != r.end) {
    sl_err_clear(err);
    sl_err_set(err, SL_EIO, "OVER: its checkpointed state is damaged");
    return -1;
  }
  return 0;
}

static const sl_op_vt over_vt = {"over",      over_push, over_tick, sl_op_pass_barrier,
                                 over_finish, over_free, over_save, over_load};

static sl_operator *over_make(const void *spec, const sl_make_env *env, sl_err *err) {
  (void)env;
  (void)err;
  const sl_window_spec *sp = spec;
  op_over *p = sl_calloc(1, sizeof *p);
  p->base.vt = &over_vt;
  p->sp = sp;
  p->w = &sp->wins[0];
  p->ncall = sp->ncall;
  p->ncol_in = sp->ncol_in;
  p->nres = sp->pre->nresult;
  p->width = p->ncol_in + p->nres + p->ncall;
  if (p->width < 1) p->width = 1;
  p->funcs = sl_calloc((size_t)p->ncall + 1, sizeof *p->funcs);
  p->state_off = sl_calloc((size_t)p->ncall + 1, sizeof *p->state_off);
  for (int k = 0; k < p->ncall; k++) {
    const sl_wcall_spec *c = &sp->calls[k];
    int64_t need = 0;
    if (c->kind == SL_WF_LAG) need = c->offset;
    if (c->kind == SL_WF_LEAD && c->offset > p->lead) p->lead = c->offset;
    if (!c->kind) {
      int slides = c->frame == SL_FRAME_ROWS && c->start != SL_FB_UNBOUNDED_PRECEDING;
      p->funcs[k] = slides ? c->func : sl_agg_no_inverse(c->func);
      p->state_off[k] = p->state_size;
      p->state_size += (p->funcs[k]->state_size + 15) & ~(size_t)15;
      if (slides) need = (c->start == SL_FB_PRECEDING ? c->start_n : 0) + 1;
    }
    if (need > p->hcap) p->hcap = (int)need; /* at most 1000000: the planner checks */
  }
  sl_vm_init(&p->vm, sp->pre);
  sl_wptab_init(&p->parts, &p->base, p->w, sizeof(opart),
                hist_size(p) + ((p->state_size + 15) & ~(size_t)15));
  sl_arena_init(&p->arena);
  sl_evclock_init(&p->clock, sp->lateness, sp->idle_ms);
  return &p->base;
}

static void over_explain(const void *spec, sl_buf *out) {
  const sl_window_spec *sp = spec;
  sl_buf_printf(out,
                "over: %d call%s over a stream in event-time order, rows released as the "
                "watermark passes them (lateness %lld ms)\n",
                sp->ncall, sp->ncall == 1 ? "" : "s", (long long)sp->lateness);
  sl_window_spec_explain(sp, out);
}

const sl_op_kind sl_op_over = {"over", over_make, over_explain, sl_window_spec_free, NULL};
