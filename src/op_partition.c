/*
** op_partition.c - the router of a query whose state is kept per input
** partition (a Kafka source with state_topic =>, docs/scale-out.md).
**
** The query's operators (every one but the sink) are copied once per input
** partition this process owns: a chain per partition, made from the plan's
** specs when the source is given the partition and freed when it loses it.
** The source gives the records of one partition per read, so a batch
** belongs to one chain, and this operator pushes it there; every chain ends
** in a tail that passes its rows on to the one sink they share (the query's,
** not owned here).  Ticks go to every chain, barriers to the sink alone (the
** operators before a sink only pass them on), finish to every chain and then
** once to the sink.
**
** Replays: each chain keeps, per origin partition (sl_record.origin, a
** repartition topic's records), the highest origin position it has seen,
** and drops (counts, without a rejection) a record whose position is not
** above it: the writer of a repartition topic that crashed writes again
** what it wrote since its last commit, and the records of one origin reach
** one repartition partition in order.
**
** The source reaches the router through the hooks of connector.h
** (sl_pstate_hooks): load a partition's state (or start it empty), flush
** the sink, save a partition's state, drop it.  A state is: the query's
** fingerprint (a state of another statement is refused), the highest
** position per origin, then each operator's checkpoint encoding (the local
** checkpoint's, checkpoint.h).
**
** Exactly once (a sink that writes by id, processing.guarantee =
** 'exactly_once'): each chain's tail stamps the ids of its rows with its
** partition (SL_ID_WITH_PART), and a state ends with where the sink's
** outputs of that partition written after it will be (the sink's
** part_save, after the flush that precedes every state).  Loading a state
** (or starting a partition that has none) has the sink read back the
** outputs of that partition written since (part_load), which the replay
** of the partition's input from the state's offset then does not write
** again.  Ids are deterministic: a closed window's are its key and window,
** the others its input record's position, and the records a repartition
** topic holds twice are dropped by origin before they reach a chain.
**
** Counters: each chain counts into its own sl_stats; after every call into
** a chain what changed (rejections, late records, groups and their bytes) is
** moved to the query's, and a dropped chain takes its groups and bytes back
** out, so the query's state is what the chains it owns now hold.
*/
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "operator.h"

typedef struct op_partition op_partition;

typedef struct chain {
  int32_t part;
  sl_operator tail; /* where the last operator pushes: on to the router's sink */
  op_partition *r;
  sl_operator **ops; /* owned, nops of them; the last pushes into the router's tail */
  int nops;
  sl_stats st;     /* the chain's counters (its operators') */
  sl_stats synced; /* what of st has been moved to the query's */
  int64_t *omax;   /* per origin partition (origin - 1): the highest position seen, -1 none */
  int nomax;
} chain;

struct op_partition {
  sl_operator base; /* next: the shared sink (borrowed) */
  sl_sink *sink;    /* the sink's sink when it writes exactly once by id (eos), else NULL */
  uint64_t *ids;    /* eos: a batch's ids stamped with its partition */
  int idcap;
  const sl_opspec *specs; /* the plan's operators before the sink (borrowed) */
  int nspec;
  sl_make_env env;
  char *fp; /* the query's fingerprint (owned) */
  chain **chains;
  int nchain;
  sl_pstate_hooks hooks;
  sl_value *keep; /* a batch without its replayed rows (values borrowed) */
  const sl_record **krecs;
  uint8_t *kops;
  uint8_t *kflag; /* per row of the batch: kept */
  int kcap;
  /* read by other threads: records dropped as replays, partitions owned */
  int64_t replays;
  int32_t owned[SL_PART_OWNED_MAX];
  int nowned;
};

/* ---- the tail: the chains' rows to the one sink ---------------------------- */

/* A chain's rows on to the sink; exactly once, with their ids stamped
** with the chain's partition. */
static int tail_push(sl_operator *op, sl_batch *in, sl_err *err) {
  chain *c = (chain *)((char *)op - offsetof(chain, tail));
  op_partition *r = c->r;
  if (!r->sink) return sl_op_emit(op, in, err);
  if (in->nrow > r->idcap) {
    r->idcap = in->nrow;
    r->ids = sl_realloc(r->ids, sizeof(uint64_t) * (size_t)r->idcap);
  }
  sl_batch_ids(in, r->ids);
  for (int i = 0; i < in->nrow; i++)
    r->ids[i] = SL_ID_WITH_PART(r->ids[i], c->part);
  sl_batch b = *in;
  b.ids = r->ids;
  return sl_op_emit(op, &b, err);
}
static int tail_tick(sl_operator *op, int64_t now, sl_err *err) {
  (void)op, (void)now, (void)err; /* the router ticks the sink once */
  return 0;
}
static int tail_barrier(sl_operator *op, sl_barrier what, sl_err *err) {
  (void)op, (void)what, (void)err; /* the router passes barriers to the sink */
  return 0;
}
static int tail_finish(sl_operator *op, sl_err *err) {
  (void)op, (void)err; /* the router finishes the sink once every chain has */
  return 0;
}
static void tail_free(sl_operator *op) {
  (void)op; /* part of the router */
}
static const sl_op_vt tail_vt = {"partition tail", tail_push, tail_tick, tail_barrier,
                                 tail_finish,      tail_free, NULL,      NULL};

/* ---- chains ------------------------------------------------------------------ */

/* Move what changed in c's counters since the last time to the query's. */
static void sync_stats(op_partition *r, chain *c) {
  sl_stats *q = r->base.stats;
  int64_t drej = c->st.rejected - c->synced.rejected, dlate = c->st.late - c->synced.late;
  int64_t dg = c->st.groups - c->synced.groups, db = c->st.state_bytes - c->synced.state_bytes;
  if (drej) __atomic_fetch_add(&q->rejected, drej, __ATOMIC_RELAXED);
  if (dlate) __atomic_fetch_add(&q->late, dlate, __ATOMIC_RELAXED);
  if (dg || db) sl_stats_account(q, db, dg);
  c->synced = c->st;
}

/* The owned partitions as other threads read them (metrics). */
static void publish_owned(op_partition *r) {
  int n = 0;
  for (int i = 0; i < r->nchain && n < SL_PART_OWNED_MAX; i++)
    __atomic_store_n(&r->owned[n++], r->chains[i]->part, __ATOMIC_RELAXED);
  __atomic_store_n(&r->nowned, n, __ATOMIC_RELEASE);
}

static chain *find_chain(op_partition *r, int32_t p) {
  for (int i = 0; i < r->nchain; i++)
    if (r->chains[i]->part == p) return r->chains[i];
  return NULL;
}

static void chain_free(chain *c) {
  for (int k = 0; k < c->nops; k++)
    if (c->ops[k]) c->ops[k]->vt->free(c->ops[k]);
  free(c->ops);
  free(c->omax);
  free(c);
}

/* Drop partition p's chain (its groups leave the query's state). */
static void drop_chain(op_partition *r, int32_t p) {
  for (int i = 0; i < r->nchain; i++) {
    chain *c = r->chains[i];
    if (c->part != p) continue;
    sync_stats(r, c);
    sl_stats_account(r->base.stats, -c->synced.state_bytes, -c->synced.groups);
    chain_free(c);
    r->chains[i] = r->chains[--r->nchain];
    publish_owned(r);
    return;
  }
}

/* A new, empty chain for partition p (the operators made from the plan's
** specs).  NULL with err set. */
static chain *make_chain(op_partition *r, int32_t p, sl_err *err) {
  chain *c = sl_calloc(1, sizeof *c);
  c->part = p;
  c->r = r;
  c->tail.vt = &tail_vt;
  c->tail.next = r->base.next;
  c->tail.stats = r->base.stats;
  c->tail.qname = r->base.qname;
  c->ops = sl_calloc((size_t)(r->nspec ? r->nspec : 1), sizeof(*c->ops));
  for (int k = 0; k < r->nspec; k++) {
    sl_operator *op = r->specs[k].kind->make(r->specs[k].spec, &r->env, err);
    if (!op) {
      chain_free(c);
      return NULL;
    }
    op->stats = &c->st;
    op->qname = r->base.qname;
    if (k) c->ops[k - 1]->next = op;
    c->ops[c->nops++] = op;
  }
  if (c->nops) c->ops[c->nops - 1]->next = &c->tail;
  r->chains = sl_realloc(r->chains, sizeof(*r->chains) * (size_t)(r->nchain + 1));
  r->chains[r->nchain++] = c;
  publish_owned(r);
  return c;
}

/* ---- the hooks (connector.h) ---------------------------------------------------- */

static int hook_flush(void *ud, sl_err *err);

/* Exactly once: the sink reads back the outputs of partition p written
** since the state that said where they would be, pos[0..n) (NULL: a
** partition without a state, whose outputs may be anywhere), once nothing
** is being written.  0, or -1 with err set. */
static int sink_readback(op_partition *r, int32_t p, const void *pos, size_t n, sl_err *err) {
  if (!r->sink) return 0;
  if (hook_flush(r, err)) return -1;
  return r->sink->vt->part_load(r->sink, p, pos, n, err);
}

/* Load partition p's state z[0..n) (NULL: none) into a new chain. */
static int hook_load(void *ud, int32_t p, const void *z, size_t n, sl_err *err) {
  op_partition *r = ud;
  drop_chain(r, p);
  chain *c = make_chain(r, p, err);
  if (!c) return -1;
  if (!z) {
    if (!sink_readback(r, p, NULL, 0, err)) return 0;
    drop_chain(r, p);
    return -1;
  }
  sl_ckrd rd;
  sl_ckrd_init(&rd, z, n);
  size_t fn;
  const char *fp = sl_ckr_bytes(&rd, &fn);
  if (!rd.bad && (fn != strlen(r->fp) || memcmp(fp, r->fp, fn))) {
    sl_err_set(err, SL_EBIND,
               "%s: the state of partition %d in its state topic was written by another "
               "statement (the query changed): give another state_topic or application_id",
               r->base.qname, (int)p);
    drop_chain(r, p);
    return -1;
  }
  int64_t no = sl_ckr_i64(&rd);
  if (!rd.bad && (no < 0 || no > (1 << 20))) rd.bad = 1;
  if (!rd.bad && no) {
    c->omax = sl_malloc(sizeof(int64_t) * (size_t)no);
    c->nomax = (int)no;
    for (int64_t i = 0; i < no; i++)
      c->omax[i] = sl_ckr_i64(&rd);
  }
  int64_t nops = sl_ckr_i64(&rd);
  if (!rd.bad && nops != c->nops) rd.bad = 1;
  for (int k = 0; k < c->nops && !rd.bad; k++) {
    int has = (int)sl_ckr_i64(&rd);
    if (!has) continue;
    size_t bn;
    const char *b = sl_ckr_bytes(&rd, &bn);
    if (rd.bad) break;
    sl_operator *op = c->ops[k];
    if (!op->vt->load) {
      rd.bad = 1;
      break;
    }
    if (op->vt->load(op, b, bn, err)) {
      drop_chain(r, p);
      return -1;
    }
  }
  /* then, written in exactly-once mode: where the sink's outputs of p went
  ** on after this state */
  const char *spos = NULL;
  size_t sn = 0;
  if (!rd.bad && rd.p != rd.end && sl_ckr_i64(&rd) == 1) spos = sl_ckr_bytes(&rd, &sn);
  if (rd.bad || rd.p != rd.end) {
    drop_chain(r, p);
    sl_err_set(err, SL_EIO, "%s: the state of partition %d in its state topic is corrupt",
               r->base.qname, (int)p);
    return -1;
  }
  sync_stats(r, c);
  if (!sink_readback(r, p, spos, sn, err)) return 0;
  drop_chain(r, p);
  return -1;
}

static int hook_flush(void *ud, sl_err *err) {
  op_partition *r = ud;
  return sl_op_pass_barrier(&r->base, SL_BARRIER_FLUSH, err);
}

/* Partition p's state (the format hook_load reads) appended to out. */
static int hook_save(void *ud, int32_t p, sl_buf *out, sl_err *err) {
  op_partition *r = ud;
  chain *c = find_chain(r, p);
  sl_ck_bytes(out, r->fp, strlen(r->fp));
  sl_ck_i64(out, c ? c->nomax : 0);
  for (int i = 0; c && i < c->nomax; i++)
    sl_ck_i64(out, c->omax[i]);
  int nops = c ? c->nops : r->nspec;
  sl_ck_i64(out, nops);
  for (int k = 0; k < nops; k++) {
    sl_operator *op = c ? c->ops[k] : NULL;
    sl_ck_i64(out, op && op->vt->save ? 1 : 0);
    if (!op || !op->vt->save) continue;
    size_t at = sl_ck_open(out);
    if (op->vt->save(op, out, err)) return -1;
    sl_ck_close(out, at);
  }
  if (r->sink) { /* exactly once: where the sink's outputs of p go on */
    sl_ck_i64(out, 1);
    size_t at = sl_ck_open(out);
    if (r->sink->vt->part_save(r->sink, p, out, err)) return -1;
    sl_ck_close(out, at);
  }
  return 0;
}

static void hook_drop(void *ud, int32_t p) {
  drop_chain(ud, p);
}

/* ---- the operator ----------------------------------------------------------- */

/* Room for n rows of ncol values in r's scratch. */
static void keep_room(op_partition *r, int n, int ncol) {
  if (n <= r->kcap) return;
  r->kcap = n;
  r->keep = sl_realloc(r->keep, sizeof(sl_value) * (size_t)n * (size_t)(ncol ? ncol : 1));
  r->krecs = sl_realloc(r->krecs, sizeof(*r->krecs) * (size_t)n);
  r->kops = sl_realloc(r->kops, (size_t)n);
  r->kflag = sl_realloc(r->kflag, (size_t)n);
}

/* in without the rows whose records are replays (see the top of the file):
** in itself when none is, else *out, made of r's scratch (values borrowed
** from in).  Updates c's positions. */
static sl_batch *drop_replays(op_partition *r, chain *c, sl_batch *in, sl_batch *out) {
  if (!in->recs) return in;
  int dropped = 0;
  keep_room(r, in->nrow, in->ncol);
  for (int i = 0; i < in->nrow; i++) {
    const sl_record *rec = in->recs[i];
    r->kflag[i] = 1;
    if (!rec || rec->origin <= 0) continue;
    int o = rec->origin - 1;
    if (o >= c->nomax) {
      c->omax = sl_realloc(c->omax, sizeof(int64_t) * (size_t)(o + 1));
      for (int j = c->nomax; j <= o; j++)
        c->omax[j] = -1;
      c->nomax = o + 1;
    }
    if (rec->origin_pos <= c->omax[o]) {
      r->kflag[i] = 0;
      dropped++;
      continue;
    }
    c->omax[o] = rec->origin_pos;
  }
  if (!dropped) return in;
  __atomic_fetch_add(&r->replays, dropped, __ATOMIC_RELAXED);
  int w = 0;
  for (int i = 0; i < in->nrow; i++) {
    if (!r->kflag[i]) continue;
    memcpy(r->keep + (size_t)w * (size_t)in->ncol, in->rows + (size_t)i * (size_t)in->ncol,
           sizeof(sl_value) * (size_t)in->ncol);
    r->krecs[w] = in->recs[i];
    if (in->ops) r->kops[w] = in->ops[i];
    w++;
  }
  *out = *in;
  out->nrow = w;
  out->rows = r->keep;
  out->recs = r->krecs;
  out->ops = in->ops ? r->kops : NULL;
  out->ids = NULL; /* a source's batches have none */
  return out;
}

static int partition_push(sl_operator *base, sl_batch *in, sl_err *err) {
  op_partition *r = (op_partition *)base;
  if (!in->nrow) return 0;
  int32_t p = in->recs && in->recs[0] ? in->recs[0]->partition : -1;
  chain *c = find_chain(r, p);
  if (!c && !(c = make_chain(r, p, err))) return -1; /* a partition not announced: empty */
  sl_batch kept;
  sl_batch *b = drop_replays(r, c, in, &kept);
  if (!b->nrow) return 0;
  int rc = c->nops ? c->ops[0]->vt->push(c->ops[0], b, err) : sl_op_emit(base, b, err);
  sync_stats(r, c);
  return rc;
}

static int partition_tick(sl_operator *base, int64_t now, sl_err *err) {
  op_partition *r = (op_partition *)base;
  for (int i = 0; i < r->nchain; i++) {
    chain *c = r->chains[i];
    int rc = c->nops ? c->ops[0]->vt->tick(c->ops[0], now, err) : 0;
    sync_stats(r, c);
    if (rc < 0) return rc;
  }
  return sl_op_pass_tick(base, now, err);
}

/* Barriers act on the sink alone: the operators before it pass them on. */
static int partition_barrier(sl_operator *base, sl_barrier what, sl_err *err) {
  return sl_op_pass_barrier(base, what, err);
}

static int partition_finish(sl_operator *base, sl_err *err) {
  op_partition *r = (op_partition *)base;
  for (int i = 0; i < r->nchain; i++) {
    chain *c = r->chains[i];
    int rc = c->nops ? c->ops[0]->vt->finish(c->ops[0], err) : 0;
    sync_stats(r, c);
    if (rc) return rc;
  }
  return sl_op_finish_next(base, err);
}

static void partition_free(sl_operator *base) {
  op_partition *r = (op_partition *)base;
  for (int i = 0; i < r->nchain; i++)
    chain_free(r->chains[i]);
  free(r->chains);
  free(r->keep);
  free(r->krecs);
  free(r->kops);
  free(r->kflag);
  free(r->ids);
  free(r->fp);
  free(r);
}

static const sl_op_vt partition_vt = {
    "partition",      partition_push, partition_tick, partition_barrier,
    partition_finish, partition_free, NULL,           NULL};

sl_operator *sl_op_partition_new(const sl_opspec *specs, int nspec, sl_operator *sink,
                                 const sl_make_env *env, const char *fp, sl_err *err) {
  for (int k = 0; k < nspec; k++) {
    sl_buf why = {0};
    if (specs[k].kind->no_checkpoint && specs[k].kind->no_checkpoint(specs[k].spec, &why)) {
      sl_err_set(err, SL_EBIND, "state_topic => keeps each partition's state: %s", why.z);
      sl_buf_free(&why);
      return NULL;
    }
  }
  sl_sink *sk = sl_op_sink_sink(sink);
  if (sk && sk->by_id && !sk->vt->part_save) {
    sl_err_set(err, SL_EBIND,
               "state_topic => with processing.guarantee = 'exactly_once' needs a sink that "
               "reads back its outputs per partition (kafka), not %s",
               sk->vt->name);
    return NULL;
  }
  op_partition *r = sl_calloc(1, sizeof *r);
  r->base.vt = &partition_vt;
  r->base.next = sink;
  r->base.stats = sink->stats;
  r->base.qname = sink->qname;
  r->sink = sk && sk->by_id ? sk : NULL;
  r->specs = specs;
  r->nspec = nspec;
  r->env = *env;
  r->fp = sl_strdup(fp ? fp : "");
  r->hooks = (sl_pstate_hooks){r, hook_load, hook_flush, hook_save, hook_drop};
  return &r->base;
}

const sl_pstate_hooks *sl_op_partition_hooks(sl_operator *op) {
  return op->vt == &partition_vt ? &((op_partition *)op)->hooks : NULL;
}

int sl_op_partition_info(const sl_operator *op, int32_t *parts, int max, int64_t *replays) {
  if (!op || op->vt != &partition_vt) return -1;
  const op_partition *r = (const op_partition *)op;
  int n = __atomic_load_n(&r->nowned, __ATOMIC_ACQUIRE);
  if (n > max) n = max;
  for (int i = 0; i < n; i++)
    parts[i] = __atomic_load_n(&r->owned[i], __ATOMIC_RELAXED);
  *replays = __atomic_load_n(&r->replays, __ATOMIC_RELAXED);
  return n;
}
