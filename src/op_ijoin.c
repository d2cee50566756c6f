/*
** op_ijoin.c - stream-stream interval join:
**   FROM a JOIN b ON a.k = b.k AND b.ts BETWEEN a.ts + lo AND a.ts + hi
**
** The two inputs are two tasks, usually on two threads: the operator's own
** push takes a's records, a small port operator (owned here) takes b's; one
** mutex serialises both, and everything downstream is called under it.
** Each side keeps its records (owned copies) in a hash table on the key (one
** entry per key: its records chained, newest first); a new record probes
** the other side's and emits one joined row [a's columns,
** b's columns] per match in the time bound, then is kept itself.  State is
** expired by the watermarks: an a record at t can match no b once b's
** watermark passes t + hi, a b record at t no a once a's passes t - lo.
** Watermarks are per side: the largest event time seen minus the side's
** allowed lateness.  The join finishes downstream when both inputs have.
** The joined rows are the same whatever the threads do; their order across
** the two inputs is not fixed.
** The bound: one side's records (the ranged side) carry an interval
** [time + lo, top + hi], top being the record's time or, with a bound per
** row (b.ts BETWEEN a.ts AND a.expires), a column of its own; the other
** side's records are points.  A record's expiry (jrec.exp) is the time the
** other side's watermark must pass for it to meet nothing more: a ranged
** record's upper end, a point t's t - lo (no ranged record with a time
** past the ranged side's watermark reaches down to it).
** LEFT JOIN (and RIGHT, FULL: the same per side): a record remembers
** whether it met one of the other side; one that expires (or ends with
** both inputs) without having met any is emitted with NULLs for the other
** side's columns, and so is one that can meet none (a NULL key, or a
** record already past the other side's watermark that found no match when
** it came).  Such rows appear when the watermark shows that nothing can
** come for them, as in Flink's interval outer joins.
** Without a time bound (spec.proctime: FROM a JOIN b ON a.k = b.k over two
** streams) the same machinery is a symmetric hash join in processing time:
** a record's time is when its batch was read, the bound is +/- the state
** TTL, so a record meets what came within the TTL of it, and ticks expire
** records older than the TTL also while both inputs are idle; without a
** TTL nothing expires (memory grows with the inputs: --stats shows it).
** Its outer joins are updating (Flink's regular outer joins): a record that
** meets nothing is emitted with NULLs at once, and when its first match
** comes that row is taken back (an SL_ROW_DELETE in sl_batch.ops) before
** the joined row; a record the TTL drops goes without a word.
** Checkpoints save both sides' records (ijoin_save); the two tasks
** checkpoint together (task.h, sl_ckgroup), so the state matches both
** inputs' saved positions.
*/
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "hash.h"
#include "op_ijoin.h"

typedef struct jrec jrec;
struct jrec {
  jrec *next; /* the side's next older record with the same key */
  int64_t ts;
  int64_t top; /* the ranged side's: its interval's upper end (ts + hi, or its own column + hi) */
  int64_t exp; /* it can meet nothing once the other side's watermark passes this */
  uint64_t id; /* its identity as an input row (sl_batch_ids), 0: none */
  int matched; /* an outer join's padded side: it met a record of the other side */
  sl_value *keys; /* nkeys owned */
  sl_value *row;  /* the side's ncol owned values */
};

typedef struct side {
  sl_vm vm;       /* keys and time over a joined row */
  sl_htab recs;   /* key_type: per key, its newest record (p) */
  int ncol;       /* columns kept */
  int64_t max_ts; /* INT64_MIN until a record */
  int64_t
      min_exp; /* no kept record expires sooner (INT64_MAX: none kept); lets expire skip its scan */
  int pad;     /* an outer join: this side's unmatched records join NULLs */
  jrec *dying; /* expired unmatched records whose NULL-padded rows are pending */
  int done;
} side;

typedef struct op_ijoin op_ijoin;

typedef struct port {
  sl_operator base;
  op_ijoin *join;
} port;

struct op_ijoin {
  sl_operator base;
  sl_ijoin_spec spec;
  side s[2];
  port right; /* b's entry point */
  pthread_mutex_t mu;
  sl_value *jrow;  /* a joined row being built: na + nb */
  sl_value *nulls; /* max(na, nb) NULLs: the other part of an unmatched record's row */
  sl_value *out;   /* output rows */
  uint64_t *oid;   /* their identities: of the pair of input rows (0: unknown) */
  uint8_t *okind;  /* their sl_rowkind */
  int nout, cap;
  int ndel;       /* of them, take-backs (a join without a time bound's padded rows) */
  uint64_t *inid; /* the identities of the rows being pushed */
  int ninid;
  sl_buf msg;
};

static int width(const op_ijoin *p) {
  return p->spec.na + p->spec.nb;
}

/* Place side k's input row into the joined row (the other part NULL). */
static void place(op_ijoin *p, int k, const sl_value *row, int ncol) {
  sl_value *j = p->jrow;
  memset(j, 0, sizeof(sl_value) * (size_t)width(p));
  int off = k ? p->spec.na : 0, n = k ? p->spec.nb : p->spec.na;
  for (int c = 0; c < n && c < ncol; c++) {
    j[off + c] = row[c];
    j[off + c].buf = NULL;
    j[off + c].cap = 0;
    j[off + c].flags &= (uint8_t)~SL_F_OWNBUF;
  }
}

static int emit_pending(op_ijoin *p, const sl_batch *in, sl_err *err) {
  if (!p->nout) return 0;
  sl_batch b = {width(p),
                p->nout,
                p->out,
                NULL,
                in ? in->src : NULL,
                in ? in->now : 0,
                p->oid,
                p->ndel ? p->okind : NULL};
  int rc = sl_op_emit(&p->base, &b, err);
  for (int i = 0; i < p->nout * width(p); i++)
    memset(&p->out[i], 0, sizeof p->out[i]);
  p->nout = 0;
  p->ndel = 0;
  return rc;
}

/* One joined row from a's values and b's (both owned by kept records or
** borrowed from the batch being pushed: valid through the emit), a's and
** b's identities making its own (the same pair on any replay: exactly-once
** sinks know it again); 0 when either has none. */
static void add_out(op_ijoin *p, const sl_value *a, const sl_value *b, uint64_t ida, uint64_t idb) {
  if (p->nout == p->cap) {
    p->cap = p->cap ? 2 * p->cap : 256;
    p->out = sl_realloc(p->out, sizeof(sl_value) * (size_t)p->cap * (size_t)width(p));
    p->oid = sl_realloc(p->oid, sizeof(uint64_t) * (size_t)p->cap);
    p->okind = sl_realloc(p->okind, (size_t)p->cap);
  }
  p->okind[p->nout] = SL_ROW_INSERT;
  p->oid[p->nout] = sl_id_pair(ida, idb);
  sl_value *o = p->out + (size_t)p->nout++ * (size_t)width(p);
  for (int c = 0; c < p->spec.na; c++) {
    o[c] = a[c];
    o[c].buf = NULL;
    o[c].cap = 0;
    o[c].flags &= (uint8_t)~SL_F_OWNBUF;
  }
  for (int c = 0; c < p->spec.nb; c++) {
    o[p->spec.na + c] = b[c];
    o[p->spec.na + c].buf = NULL;
    o[p->spec.na + c].cap = 0;
    o[p->spec.na + c].flags &= (uint8_t)~SL_F_OWNBUF;
  }
}

/* The identity of a's row joined with NULLs: a second input that is the
** same on every replay (and RIGHT_PAD_ID first, for b's). */
#define LEFT_PAD_ID UINT64_C(0x4c45465450414444)
#define RIGHT_PAD_ID UINT64_C(0x5249474854504144)
#define UNPAD_ID UINT64_C(0x554e504144444544)

/* Side k's record (row, identity id) joined with NULLs for the other side. */
static void add_padded(op_ijoin *p, int k, const sl_value *row, uint64_t id) {
  if (k == 0)
    add_out(p, row, p->nulls, id, LEFT_PAD_ID);
  else
    add_out(p, p->nulls, row, RIGHT_PAD_ID, id);
}

/* The take-back (DELETE) of what add_padded gave for that record, with an
** identity of its own. */
static void add_unpadded(op_ijoin *p, int k, const sl_value *row, uint64_t id) {
  add_padded(p, k, row, id);
  p->okind[p->nout - 1] = SL_ROW_DELETE;
  p->oid[p->nout - 1] = sl_id_pair(p->oid[p->nout - 1], UNPAD_ID);
  p->ndel++;
}

/* A lookup key of the record tables: nkeys values (borrowed), none NULL. */
typedef struct rec_key {
  const sl_value *keys;
  int nk;
} rec_key;

static uint64_t key_hash(const void *key) {
  const rec_key *k = key;
  uint64_t h = 7;
  for (int j = 0; j < k->nk; j++)
    h = h * 31 + sl_value_hash(&k->keys[j]);
  return h;
}

static int key_eq(const void *key, const sl_hslot *s) {
  const rec_key *k = key;
  const jrec *r = s->p;
  for (int j = 0; j < k->nk; j++)
    if (sl_value_compare(&r->keys[j], &k->keys[j], SL_COLL_BINARY) != 0) return 0;
  return 1;
}

static const sl_htype key_type = {key_hash, key_eq};

/* Memory of a kept record, for --stats. */
static int64_t rec_bytes(const op_ijoin *p, int k, const jrec *r) {
  int64_t n =
      (int64_t)sizeof(jrec) + (int64_t)(p->spec.nkeys + p->s[k].ncol) * (int64_t)sizeof(sl_value);
  for (int c = 0; c < p->s[k].ncol; c++)
    if (r->row[c].type == SL_TEXT || r->row[c].type == SL_BLOB) n += r->row[c].n;
  return n;
}

/* A kept record's bytes: one allocation holding the record, its keys and
** columns (values without buffers of their own) and their text, blob and
** vector bytes (a kept record is made once per input row: one malloc). */
static size_t value_bytes(const sl_value *v) {
  if (v->type == SL_VECTOR) return ((size_t)v->n * sizeof(double) + 7) & ~(size_t)7;
  if (v->type == SL_TEXT || v->type == SL_BLOB) return ((size_t)v->n + 1 + 7) & ~(size_t)7;
  return 0;
}

/* v into *dst, its bytes at *tail (moved past them). */
static void value_into(sl_value *dst, const sl_value *v, char **tail) {
  *dst = *v;
  dst->buf = NULL;
  dst->cap = 0;
  dst->flags &= (uint8_t)~SL_F_OWNBUF;
  size_t n = value_bytes(v);
  if (!n) return;
  size_t len = v->type == SL_VECTOR ? (size_t)v->n * sizeof(double) : v->n;
  if (len) memcpy(*tail, v->u.z, len);
  if (v->type != SL_VECTOR) {
    (*tail)[len] = 0;
    dst->flags |= SL_F_TERM;
  }
  dst->u.z = *tail;
  *tail += n;
}

/* A new record of side k: nk keys, then the side's columns from row (ncol
** of them; the side's columns past them NULL), copied into one block. */
static jrec *jrec_new(op_ijoin *p, int k, const sl_value *keys, const sl_value *row, int ncol) {
  int nk = p->spec.nkeys, sc = p->s[k].ncol;
  if (ncol > sc) ncol = sc;
  size_t head = (sizeof(jrec) + 7) & ~(size_t)7;
  size_t bytes = head + sizeof(sl_value) * (size_t)(nk + sc);
  for (int j = 0; j < nk; j++)
    bytes += value_bytes(&keys[j]);
  for (int c = 0; c < ncol; c++)
    bytes += value_bytes(&row[c]);
  char *blk = sl_malloc(bytes);
  jrec *r = (jrec *)blk;
  memset(r, 0, sizeof *r);
  r->keys = (sl_value *)(blk + head);
  r->row = r->keys + nk;
  char *tail = (char *)(r->row + sc);
  for (int j = 0; j < nk; j++)
    value_into(&r->keys[j], &keys[j], &tail);
  for (int c = 0; c < sc; c++) {
    if (c < ncol)
      value_into(&r->row[c], &row[c], &tail);
    else
      memset(&r->row[c], 0, sizeof r->row[c]);
  }
  return r;
}

static void jrec_free(op_ijoin *p, int k, jrec *r) {
  (void)p;
  (void)k;
  free(r);
}

/* Drop side k's records that can no longer match: those whose expiry the
** other side's watermark passed (an unmatched one of a padded side is
** emitted with NULLs, freed after the emit). */
static void expire(op_ijoin *p, int k) {
  side *o = &p->s[!k];
  if (o->max_ts == INT64_MIN) return;
  int64_t wm = o->max_ts - p->spec.lateness[!k];
  side *s = &p->s[k];
  if (s->min_exp == INT64_MAX || s->min_exp >= wm) return; /* not even the soonest can go */
  int64_t min_exp = INT64_MAX;
  sl_hiter it = sl_htab_iter(&s->recs);
  for (sl_hslot *hs; (hs = sl_htab_next(&s->recs, &it));) {
    jrec *head = hs->p;
    for (jrec **pp = &head; *pp;) {
      jrec *r = *pp;
      if (r->exp >= wm) {
        if (r->exp < min_exp) min_exp = r->exp;
        pp = &r->next;
        continue;
      }
      *pp = r->next;
      int64_t rb = rec_bytes(p, k, r);
      sl_op_account(&p->base, -rb, -1);
      sl_op_account_keys(&p->base, k, -rb, 0);
      if (s->pad && !r->matched &&
          !p->spec.proctime) { /* freed after the emit: its row borrows r's values */
        add_padded(p, k, r->row, r->id);
        r->next = s->dying;
        s->dying = r;
      } else {
        jrec_free(p, k, r);
      }
    }
    if (head) {
      hs->p = head;
    } else {
      sl_htab_remove_at(&s->recs, &it); /* the key's last record is gone */
      sl_op_account_keys(&p->base, k, 0, -1);
    }
  }
  s->min_exp = min_exp;
}

/* Free the expired records whose rows were emitted. */
static void free_dying(op_ijoin *p) {
  for (int k = 0; k < 2; k++) {
    for (jrec *r = p->s[k].dying, *next; r; r = next) {
      next = r->next;
      jrec_free(p, k, r);
    }
    p->s[k].dying = NULL;
  }
}

static int side_push(op_ijoin *p, int k, sl_batch *in, sl_err *err) {
  side *s = &p->s[k], *o = &p->s[!k];
  int nk = p->spec.nkeys;
  const sl_program *prog = k ? p->spec.bprog : p->spec.aprog;
  int ranged = k == p->spec.ranged;
  int rc = 0;
  pthread_mutex_lock(&p->mu);
  if (in->nrow > p->ninid) {
    p->inid = sl_realloc(p->inid, sizeof(uint64_t) * (size_t)in->nrow);
    p->ninid = in->nrow;
  }
  sl_batch_ids(in, p->inid);
  for (int i = 0; i < in->nrow && !rc; i++) {
    const sl_value *row = in->rows + (size_t)i * (size_t)in->ncol;
    place(p, k, row, in->ncol);
    int vr = sl_vm_run(&s->vm, p->jrow);
    if (vr == SL_VM_ERROR) {
      sl_op_reject(k ? &p->right.base : &p->base, in, i,
                   s->vm.errmsg.z ? s->vm.errmsg.z : "evaluation failed");
      continue;
    }
    const sl_value *reg = &s->vm.reg[prog->result_reg];
    int64_t ts = in->now, top; /* proctime: when it came */
    if (!p->spec.proctime) {
      if (sl_value_time(&reg[nk], &ts)) {
        sl_op_reject(k ? &p->right.base : &p->base, in, i,
                     "the join's time is NULL, not a number or out of range");
        continue;
      }
    }
    top = ts;
    if (ranged && p->spec.rhi && sl_value_time(&reg[nk + 1], &top)) {
      sl_op_reject(k ? &p->right.base : &p->base, in, i,
                   "the join's upper time bound is NULL, not a number or out of range");
      continue;
    }
    if (ranged) top += p->spec.hi;
    int64_t exp = ranged ? top : ts - p->spec.lo;
    int has_null = 0;
    for (int j = 0; j < nk; j++)
      has_null |= reg[j].type == SL_NULL;
    if (ts > s->max_ts) s->max_ts = ts;
    if (has_null) { /* it meets nothing */
      if (s->pad) add_padded(p, k, row, p->inid[i]);
      continue;
    }
    rec_key key = {reg, nk};
    uint64_t h = key_hash(&key);
    /* probe the other side: the point within the ranged record's interval */
    sl_hslot *hs = sl_htab_find_t(&o->recs, &key_type, h, &key);
    int met = 0;
    for (jrec *r = hs ? hs->p : NULL; r && !rc; r = r->next) {
      int64_t base = ranged ? ts : r->ts, end = ranged ? top : r->top, pt = ranged ? r->ts : ts;
      if (pt < base + p->spec.lo || pt > end) continue;
      met = 1;
      if (o->pad && !r->matched &&
          p->spec.proctime) /* its NULL-padded row was given: take it back */
        add_unpadded(p, !k, r->row, r->id);
      r->matched = 1;
      if (k == 0)
        add_out(p, row, r->row, p->inid[i], r->id);
      else
        add_out(p, r->row, row, r->id, p->inid[i]);
      if (p->nout >= 1024) rc = emit_pending(p, in, err);
    }
    /* without a time bound a padded row comes at once, taken back if a match comes */
    if (s->pad && !met && p->spec.proctime) add_padded(p, k, row, p->inid[i]);
    /* keep it, unless the other side is already past what it could meet */
    int64_t owm = o->max_ts == INT64_MIN ? INT64_MIN : o->max_ts - p->spec.lateness[!k];
    if (owm != INT64_MIN && exp < owm) {
      if (s->pad && !met && !p->spec.proctime) add_padded(p, k, row, p->inid[i]);
      continue;
    }
    jrec *nr = jrec_new(p, k, reg, row, in->ncol);
    nr->ts = ts;
    nr->top = top;
    nr->exp = exp;
    if (exp < s->min_exp) s->min_exp = exp;
    nr->matched = met;
    nr->id = p->inid[i];
    int64_t rb = rec_bytes(p, k, nr);
    sl_op_account(&p->base, rb, 1);
    int added;
    hs = sl_htab_put_t(&s->recs, &key_type, h, &key, &added);
    nr->next = hs->p; /* NULL for a new key */
    hs->p = nr;
    sl_op_account_keys(&p->base, k, rb, added);
  }
  if (!rc) rc = emit_pending(p, in, err);
  /* this side's watermark moved (a join in processing time expires on ticks) */
  if (!rc && !p->spec.proctime) expire(p, !k);
  if (!rc) rc = emit_pending(p, in, err); /* an outer join's expired records */
  free_dying(p);
  pthread_mutex_unlock(&p->mu);
  return rc;
}

static int ijoin_push(sl_operator *base, sl_batch *in, sl_err *err) {
  return side_push((op_ijoin *)base, 0, in, err);
}

static int port_push(sl_operator *base, sl_batch *in, sl_err *err) {
  return side_push(((port *)base)->join, 1, in, err);
}

/* Ticks and barriers from either input go downstream under the mutex. */
static int side_tick(op_ijoin *p, int64_t now, sl_err *err) {
  pthread_mutex_lock(&p->mu);
  if (p->spec.proctime && p->spec.hi < SL_IJOIN_FOREVER) {
    /* processing time passes on both sides: what came before now - ttl
    ** expires, also while the inputs are idle */
    for (int k = 0; k < 2; k++)
      if (now > p->s[k].max_ts) p->s[k].max_ts = now;
    expire(p, 0);
    expire(p, 1);
    free_dying(p); /* (records expired by the TTL are dropped: nothing pending here) */
  }
  int rc = sl_op_pass_tick(&p->base, now, err);
  pthread_mutex_unlock(&p->mu);
  return rc;
}

static int side_barrier(op_ijoin *p, sl_barrier what, sl_err *err) {
  pthread_mutex_lock(&p->mu);
  int rc = sl_op_pass_barrier(&p->base, what, err);
  pthread_mutex_unlock(&p->mu);
  return rc;
}

static int ijoin_tick(sl_operator *base, int64_t now, sl_err *err) {
  return side_tick((op_ijoin *)base, now, err);
}
static int port_tick(sl_operator *base, int64_t now, sl_err *err) {
  return side_tick(((port *)base)->join, now, err);
}
static int ijoin_barrier(sl_operator *base, sl_barrier what, sl_err *err) {
  return side_barrier((op_ijoin *)base, what, err);
}
static int port_barrier(sl_operator *base, sl_barrier what, sl_err *err) {
  return side_barrier(((port *)base)->join, what, err);
}

/* Side k's input ended; the join finishes downstream when both have. */
static int side_finish(op_ijoin *p, int k, sl_err *err) {
  pthread_mutex_lock(&p->mu);
  p->s[k].done = 1;
  int rc = 0;
  for (int j = 0; j < 2 && p->s[!k].done; j++) { /* nothing can come: every unmatched record */
    side *s = &p->s[j];
    if (!s->pad || p->spec.proctime) continue; /* (without a time bound: given when it came) */
    sl_hiter it = sl_htab_iter(&s->recs);
    for (sl_hslot *hs; (hs = sl_htab_next(&s->recs, &it)) && !rc;)
      for (jrec *r = hs->p; r && !rc; r = r->next)
        if (!r->matched) {
          add_padded(p, j, r->row, r->id);
          r->matched = 1;
          if (p->nout >= 1024) rc = emit_pending(p, NULL, err);
        }
    if (!rc) rc = emit_pending(p, NULL, err);
  }
  if (!rc && p->s[!k].done) rc = sl_op_finish_next(&p->base, err);
  pthread_mutex_unlock(&p->mu);
  return rc;
}

static int ijoin_finish(sl_operator *base, sl_err *err) {
  return side_finish((op_ijoin *)base, 0, err);
}

static int port_finish(sl_operator *base, sl_err *err) {
  return side_finish(((port *)base)->join, 1, err);
}

/* ---- checkpoints ------------------------------------------------------------
** Per side: the largest time seen, then its kept records, each key's
** oldest first (so that a load, which puts each at the front of its key's
** chain, makes the chains as they were): time, (the ranged side's: its
** upper end,) identity, (a padded side's: whether it met a record,) keys,
** columns.  Saved under
** the mutex; the task's checkpoint group (task.h) makes both inputs'
** positions the ones this state was at. */
static int ijoin_save(sl_operator *base, sl_buf *out, sl_err *err) {
  op_ijoin *p = (op_ijoin *)base;
  sl_buf chain = {0}; /* one key's records, newest first */
  pthread_mutex_lock(&p->mu);
  for (int k = 0; k < 2; k++) {
    side *s = &p->s[k];
    sl_ck_i64(out, s->max_ts);
    int64_t n = 0;
    sl_hiter it = sl_htab_iter(&s->recs);
    for (sl_hslot *hs; (hs = sl_htab_next(&s->recs, &it));)
      for (const jrec *r = hs->p; r; r = r->next)
        n++;
    sl_ck_i64(out, n);
    it = sl_htab_iter(&s->recs);
    for (sl_hslot *hs; (hs = sl_htab_next(&s->recs, &it));) {
      sl_buf_reset(&chain);
      for (const jrec *r = hs->p; r; r = r->next)
        sl_buf_append(&chain, &r, sizeof r);
      for (size_t i = chain.n / sizeof(jrec *); i-- > 0;) {
        const jrec *r;
        memcpy(&r, chain.z + i * sizeof r, sizeof r);
        sl_ck_i64(out, r->ts);
        if (k == p->spec.ranged) sl_ck_i64(out, r->top);
        sl_ck_i64(out, (int64_t)r->id);
        if (s->pad) sl_ck_i64(out, r->matched);
        for (int j = 0; j < p->spec.nkeys; j++)
          sl_ck_value(out, &r->keys[j]);
        for (int c = 0; c < s->ncol; c++)
          sl_ck_value(out, &r->row[c]);
      }
    }
  }
  pthread_mutex_unlock(&p->mu);
  sl_buf_free(&chain);
  (void)err;
  return 0;
}

/* Load what ijoin_save wrote, before the first push.  0, or -1 with err set
** when the bytes are not such a state. */
static int ijoin_load(sl_operator *base, const void *z, size_t n, sl_err *err) {
  op_ijoin *p = (op_ijoin *)base;
  sl_ckrd r;
  sl_ckrd_init(&r, z, n);
  int nk = p->spec.nkeys;
  int most = nk + (p->s[0].ncol > p->s[1].ncol ? p->s[0].ncol : p->s[1].ncol);
  sl_value *tmp = sl_calloc((size_t)(most ? most : 1), sizeof(sl_value)); /* a record's values */
  for (int k = 0; k < 2 && !r.bad; k++) {
    side *s = &p->s[k];
    s->max_ts = sl_ckr_i64(&r);
    int64_t nrec = sl_ckr_i64(&r);
    for (int64_t i = 0; i < nrec && !r.bad; i++) {
      jrec h = {0};
      h.ts = sl_ckr_i64(&r);
      h.top = k == p->spec.ranged ? sl_ckr_i64(&r) : h.ts;
      h.exp = k == p->spec.ranged ? h.top : h.ts - p->spec.lo;
      h.id = (uint64_t)sl_ckr_i64(&r);
      if (s->pad) h.matched = sl_ckr_i64(&r) != 0;
      for (int j = 0; j < nk; j++)
        sl_ckr_value(&r, &tmp[j]);
      for (int c = 0; c < s->ncol; c++)
        sl_ckr_value(&r, &tmp[nk + c]);
      jrec *nr = r.bad ? NULL : jrec_new(p, k, tmp, tmp + nk, s->ncol);
      for (int j = 0; j < nk + s->ncol; j++)
        sl_value_free(&tmp[j]);
      if (!nr) break;
      h.keys = nr->keys;
      h.row = nr->row;
      *nr = h;
      rec_key key = {nr->keys, nk};
      int added;
      sl_hslot *hs = sl_htab_put_t(&s->recs, &key_type, key_hash(&key), &key, &added);
      nr->next = hs->p;
      hs->p = nr;
      if (nr->exp < s->min_exp) s->min_exp = nr->exp;
      int64_t rb = rec_bytes(p, k, nr);
      sl_op_account(&p->base, rb, 1);
      sl_op_account_keys(&p->base, k, rb, added);
    }
  }
  free(tmp);
  if (r.bad || r.p != r.end) {
    sl_err_set(err, SL_EIO, "interval join: its checkpointed state is damaged");
    return -1;
  }
  return 0;
}

static void ijoin_explain(const void *spec, sl_buf *out) {
  const sl_ijoin_spec *p = spec;
  if (p->proctime) {
    static const char *const outer[] = {"", "left ", "right ", "full "};
    sl_buf_printf(out, "%sstream join: %d key%s, no time bound, records kept ",
                  outer[(p->left ? 1 : 0) + (p->right ? 2 : 0)], p->nkeys,
                  p->nkeys == 1 ? "" : "s");
    if (p->hi < SL_IJOIN_FOREVER)
      sl_buf_printf(out, "%lld ms (state_ttl)", (long long)p->hi);
    else
      sl_buf_puts(out, "forever (no state_ttl)");
    sl_buf_printf(out, "; joined row = %d left columns, then %d right", p->na, p->nb);
    if (p->left || p->right)
      sl_buf_puts(out, "; updating: a row joined with NULLs comes at once, taken back (a delete) "
                       "when its first match comes");
    sl_buf_puts(out, "\nleft keys:\n");
    sl_program_explain(p->aprog, out);
    sl_buf_puts(out, "right keys:\n");
    sl_program_explain(p->bprog, out);
    return;
  }
  static const char *const kinds[] = {"", "left ", "right ", "full "};
  const char *kind = kinds[(p->left ? 1 : 0) + (p->right ? 2 : 0)];
  sl_buf_printf(out, "%sinterval join: %d key%s, ", kind, p->nkeys, p->nkeys == 1 ? "" : "s");
  const char *pt = p->ranged ? "left" : "right", *rg = p->ranged ? "right" : "left";
  if (p->rhi)
    sl_buf_printf(out, "%s time in [%s time %+lld ms, %s upper time %+lld ms]", pt, rg,
                  (long long)p->lo, rg, (long long)p->hi);
  else
    sl_buf_printf(out, "%s time in [%s time %+lld ms, %+lld ms]", pt, rg, (long long)p->lo,
                  (long long)p->hi);
  sl_buf_printf(out, "; joined row = %d left columns, then %d right\nleft keys and time%s:\n",
                p->na, p->nb, p->rhi && !p->ranged ? "s" : "");
  sl_program_explain(p->aprog, out);
  sl_buf_puts(out, p->rhi && p->ranged ? "right keys and times:\n" : "right keys and time:\n");
  sl_program_explain(p->bprog, out);
}

static void ijoin_free(sl_operator *base) {
  op_ijoin *p = (op_ijoin *)base;
  for (int k = 0; k < 2; k++) {
    side *s = &p->s[k];
    sl_hiter it = sl_htab_iter(&s->recs);
    for (sl_hslot *hs; (hs = sl_htab_next(&s->recs, &it));)
      for (jrec *r = hs->p, *next; r; r = next) {
        next = r->next;
        jrec_free(p, k, r);
      }
    sl_htab_free(&s->recs);
    sl_vm_free(&s->vm);
  }
  pthread_mutex_destroy(&p->mu);
  free_dying(p);
  free(p->jrow);
  free(p->nulls);
  free(p->out);
  free(p->oid);
  free(p->okind);
  free(p->inid);
  sl_buf_free(&p->msg);
  free(p);
}

static void port_free(sl_operator *base) {
  (void)base; /* owned by the join */
}

static const sl_op_vt ijoin_vt = {"interval join", ijoin_push, ijoin_tick, ijoin_barrier,
                                  ijoin_finish,    ijoin_free, ijoin_save, ijoin_load};
static const sl_op_vt port_vt = {"interval join (right)",
                                 port_push,
                                 port_tick,
                                 port_barrier,
                                 port_finish,
                                 port_free,
                                 NULL,
                                 NULL};

/* The live join; its right input is base.port. */
static sl_operator *ijoin_make(const void *spec, const sl_make_env *env, sl_err *err) {
  op_ijoin *p = sl_calloc(1, sizeof *p);
  p->base.vt = &ijoin_vt;
  p->spec = *(const sl_ijoin_spec *)spec;
  p->right.base.vt = &port_vt;
  p->right.join = p;
  p->base.port = &p->right.base;
  pthread_mutex_init(&p->mu, NULL);
  p->jrow = sl_calloc((size_t)(width(p) ? width(p) : 1), sizeof(sl_value));
  int most = p->spec.na > p->spec.nb ? p->spec.na : p->spec.nb;
  p->nulls = sl_calloc((size_t)(most ? most : 1), sizeof(sl_value)); /* NULLs */
  for (int k = 0; k < 2; k++) {
    side *s = &p->s[k];
    sl_vm_init(&s->vm, k ? p->spec.bprog : p->spec.aprog);
    sl_htab_init(&s->recs, &key_type);
    s->ncol = k ? p->spec.nb : p->spec.na;
    s->max_ts = INT64_MIN;
    s->min_exp = INT64_MAX;
    s->pad = k ? p->spec.right : p->spec.left;
  }
  return &p->base;
}

static void ijoin_free_spec(void *spec) {
  sl_ijoin_spec *p = spec;
  sl_program_free(p->aprog);
  sl_program_free(p->bprog);
  free(p);
}

const sl_op_kind sl_op_ijoin = {"interval join", ijoin_make, ijoin_explain, ijoin_free_spec, NULL};
