/*
** op_exchange.c - where the parallel tasks of one keyed query change hands
** (SET parallelism over a GROUP BY: docs/scale-out.md, "Parallel tasks in
** one process").
**
** A query whose source is divided among m tasks and whose first stateful
** operator is a GROUP BY is cut in two at that operator.  Each task runs
** its own copy of the head (the projections before it) and pushes into its
** own port of the exchange (this operator).  The tail (the aggregate and
** what follows it up to the sink) is made m times, one copy a lane, each
** lane guarded by a mutex.  A port sends every row to the lane its GROUP
** BY key hashes to, so each key's groups live in one lane, and pushes the
** lane's rows itself, on its task's thread, holding the lane's mutex: the
** tasks share the lanes, not their threads, and nothing is copied but the
** batch's row values and records (shallow; they stay borrowed for the push,
** as every batch is).  The lanes' last operators push into one op_gather
** in front of the query's one sink.
**
** Event time.  A lane gets rows of every task, each task's part of the
** input with its own progress, so a port marks each record it passes with
** where it came from (sl_record.origin: 1 + the Kafka partition it was read
** from, or 1 + the task's index for a part of a file) and the aggregate
** follows event time per origin (its source says how many there are:
** sl_source.norigins), as it does for a repartition topic.  The window
** closing is then the same as one task's, whatever the interleaving.
**
** A lane's rows are counted in that lane's counters (one sl_stats per lane,
** given by the run), its memory against its share of max_query_memory: a
** port raises the query's own over flag when a lane passes it, so the task
** that drives the query fails it as it would fail a single task's.
**
** Ticks and barriers go to every lane.  Finish: when the last task's input
** ends, every lane is finished (its windows emitted) and the gather
** finishes the sink; a task that ends before the others flushes the sink.
*/
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "op_aggregate.h"
#include "operator.h"
#include "vm.h"

#define MAXCLK 64

/* One copy of the tail, and its guard. */
typedef struct xlane {
  pthread_mutex_t mu;
  sl_operator *tail; /* the lane's first operator (borrowed: the run owns it) */
  sl_stats *stats;   /* its counters (borrowed) */
} xlane;

struct sl_exchange {
  int m; /* tasks, ports and lanes */
  xlane *lanes;
  sl_operator **ports;     /* one per task (owned) */
  const sl_agg_spec *spec; /* the tail's GROUP BY (borrowed from the plan) */
  sl_stats *qstats;        /* the query's counters: its over flag (borrowed) */
  int by_task;             /* the records have no partition: a task's index is their clock */
  pthread_mutex_t fmu;     /* guards nfinished */
  int nfinished;
};

/* A lane's rows of the batch being routed: shallow copies. */
typedef struct xout {
  sl_value *rows;
  const sl_record **recs;
  sl_record *copies; /* the records, marked with their origin */
  uint64_t *ids;
  uint8_t *ops;
  int n, cap;
} xout;

typedef struct op_xport {
  sl_operator base;
  struct sl_exchange *x;
  int index; /* its task's */
  sl_vm vroute;
  xout *out;              /* per lane */
  unsigned char *pending; /* per lane: rows waiting */
  /* the event-time clocks of the batch being routed (at most MAXCLK: more
  ** are not told to the lanes that get no row of them) and the latest event
  ** time of each; timed: the GROUP BY has event-time windows */
  int32_t clk[MAXCLK];
  int64_t clkts[MAXCLK];
  int nclk, timed;
  /* every clock its task's records ever had (those ended with it) */
  int32_t seen[MAXCLK];
  int nseen;
} op_xport;

/* The lane of the row whose key values the route program left in reg. */
static int route_lane(const op_xport *p, const sl_value *keys) {
  /* the high bits of the key hash, stirred once more, scaled to the lanes */
  uint64_t h = sl_aggregate_key_hash(p->x->spec, keys) * 0x9e3779b97f4a7c15ull;
  return (int)(((h >> 32) * (uint64_t)p->x->m) >> 32);
}

/* Room in o for one more row of ncol values. */
static void out_grow(xout *o, int ncol) {
  if (o->n < o->cap) return;
  int cap = o->cap ? o->cap * 2 : 256;
  o->rows = sl_realloc(o->rows, sizeof(sl_value) * (size_t)cap * (size_t)(ncol ? ncol : 1));
  o->recs = sl_realloc(o->recs, sizeof(*o->recs) * (size_t)cap);
  o->copies = sl_realloc(o->copies, sizeof(*o->copies) * (size_t)cap);
  o->ids = sl_realloc(o->ids, sizeof(*o->ids) * (size_t)cap);
  o->ops = sl_realloc(o->ops, sizeof(*o->ops) * (size_t)cap);
  /* the records' pointers follow their copies */
  for (int r = 0; r < o->n; r++)
    if (o->recs[r]) o->recs[r] = &o->copies[r];
  o->cap = cap;
}

/* A row of event-time clock c at event time ts (INT64_MIN: none) was
** routed: noted among the batch's clocks and the clocks its task ever had. */
static void note_clock(op_xport *p, int32_t c, int64_t ts) {
  int k = 0;
  while (k < p->nclk && p->clk[k] != c)
    k++;
  if (k == p->nclk) {
    if (k == MAXCLK) return;
    p->clk[p->nclk] = c;
    p->clkts[p->nclk++] = INT64_MIN;
    int s = 0;
    while (s < p->nseen && p->seen[s] != c)
      s++;
    if (s == p->nseen && s < MAXCLK) p->seen[p->nseen++] = c;
  }
  if (ts > p->clkts[k]) p->clkts[k] = ts;
}

/* Push lane j's rows of in (lock held by the caller). */
static int lane_push(op_xport *p, int j, const sl_batch *in, sl_err *err) {
  xout *o = &p->out[j];
  xlane *l = &p->x->lanes[j];
  sl_batch b = {in->ncol,
                o->n,
                o->rows,
                in->recs ? o->recs : NULL,
                in->src,
                in->now,
                in->ids ? o->ids : NULL,
                in->ops ? o->ops : NULL};
  int rc = l->tail->vt->push(l->tail, &b, err);
  if (l->stats->over) __atomic_store_n(&p->x->qstats->over, 1, __ATOMIC_RELAXED);
  return rc;
}

static int xport_push(sl_operator *base, sl_batch *in, sl_err *err) {
  op_xport *p = (op_xport *)base;
  int m = p->x->m, ncol = in->ncol;
  const sl_agg_spec *sp = p->x->spec;
  for (int j = 0; j < m; j++)
    p->out[j].n = 0;
  p->nclk = 0;
  for (int r = 0; r < in->nrow; r++) {
    sl_value *row = in->rows + (size_t)r * (size_t)ncol;
    const sl_record *rec = in->recs ? in->recs[r] : NULL;
    int rc = sl_vm_run(&p->vroute, row), j = 0;
    if (rc == SL_VM_SKIP) continue; /* WHERE: the aggregate would skip it */
    int64_t ts = INT64_MIN;
    if (rc == SL_VM_ROW) {
      const sl_value *reg = p->vroute.reg + p->vroute.prog->result_reg;
      j = route_lane(p, reg);
      if (sp->route_ts && sl_event_time(&reg[sp->nkeys], &ts)) ts = INT64_MIN;
      if (sp->rowtime && rec && rec->timestamp >= 0) ts = rec->timestamp;
    } /* else a row that fails to evaluate goes to lane 0, whose aggregate
      ** rejects it with the same error */
    xout *o = &p->out[j];
    out_grow(o, ncol);
    memcpy(o->rows + (size_t)o->n * (size_t)ncol, row, sizeof(sl_value) * (size_t)ncol);
    if (rec) {
      sl_record *c = &o->copies[o->n];
      *c = *rec;
      if (!c->origin) c->origin = p->x->by_task ? p->index + 1 : c->partition + 1;
      o->recs[o->n] = c;
      if (p->timed) note_clock(p, c->origin - 1, ts);
    } else {
      o->recs[o->n] = NULL;
    }
    if (in->ids) o->ids[o->n] = in->ids[r];
    if (in->ops) o->ops[o->n] = in->ops[r];
    o->n++;
  }
  /* each lane with rows or clocks to hear of, once: a free one first,
  ** else wait for the first still waiting */
  int left = 0;
  for (int j = 0; j < m; j++)
    left += p->pending[j] = p->out[j].n > 0 || p->nclk > 0;
  int rc = 0;
  while (left && rc == 0) {
    int took = -1;
    for (int k = 0; k < m && took < 0; k++) {
      int j = (p->index + k) % m;
      if (p->pending[j] && !pthread_mutex_trylock(&p->x->lanes[j].mu)) took = j;
    }
    if (took < 0) {
      for (int k = 0; k < m && took < 0; k++)
        if (p->pending[(p->index + k) % m]) took = (p->index + k) % m;
      pthread_mutex_lock(&p->x->lanes[took].mu);
    }
    rc = p->out[took].n ? lane_push(p, took, in, err) : 0;
    /* every lane follows the progress of every clock of the batch, also
    ** those it got no row of: a lane's watermark is then one task's */
    for (int c = 0; c < p->nclk && !rc; c++)
      rc = sl_aggregate_origin(p->x->lanes[took].tail, p->clk[c], p->clkts[c], in->now, 0, err);
    pthread_mutex_unlock(&p->x->lanes[took].mu);
    p->pending[took] = 0;
    left--;
  }
  return rc;
}

static int xport_tick(sl_operator *base, int64_t now, sl_err *err) {
  op_xport *p = (op_xport *)base;
  int rc = 0;
  for (int j = 0; j < p->x->m && rc >= 0; j++) {
    xlane *l = &p->x->lanes[j];
    pthread_mutex_lock(&l->mu);
    rc = l->tail->vt->tick(l->tail, now, err);
    pthread_mutex_unlock(&l->mu);
  }
  return rc;
}

/* A barrier through every lane to the sink; a check is 1 while any lane's
** answer is. */
static int xport_barrier(sl_operator *base, sl_barrier what, sl_err *err) {
  op_xport *p = (op_xport *)base;
  int any = 0;
  for (int j = 0; j < p->x->m; j++) {
    xlane *l = &p->x->lanes[j];
    pthread_mutex_lock(&l->mu);
    int rc = l->tail->vt->barrier(l->tail, what, err);
    pthread_mutex_unlock(&l->mu);
    if (rc < 0) return -1;
    any |= rc;
  }
  return any;
}

static int xport_finish(sl_operator *base, sl_err *err) {
  op_xport *p = (op_xport *)base;
  struct sl_exchange *x = p->x;
  pthread_mutex_lock(&x->fmu);
  int last = ++x->nfinished == x->m;
  pthread_mutex_unlock(&x->fmu);
  for (int j = 0; j < x->m; j++) {
    xlane *l = &x->lanes[j];
    pthread_mutex_lock(&l->mu);
    int rc = 0;
    if (last) {
      rc = l->tail->vt->finish(l->tail, err);
    } else { /* its clocks end: they hold no lane's windows open */
      if (x->by_task) rc = sl_aggregate_origin(l->tail, p->index, INT64_MIN, sl_wall_ms(), 1, err);
      for (int c = 0; c < p->nseen && !rc; c++)
        rc = sl_aggregate_origin(l->tail, p->seen[c], INT64_MIN, sl_wall_ms(), 1, err);
    }
    pthread_mutex_unlock(&l->mu);
    if (rc) return rc;
  }
  return last ? 0 : xport_barrier(base, SL_BARRIER_FLUSH, err) < 0 ? -1 : 0;
}

/* Ports are freed with their exchange (sl_exchange_free). */
static void xport_free(sl_operator *base) {
  (void)base;
}

static const sl_op_vt xport_vt = {"exchange",   xport_push, xport_tick, xport_barrier,
                                  xport_finish, xport_free, NULL,       NULL};

sl_exchange *sl_exchange_new(const sl_agg_spec *spec, int m, sl_operator **tails,
                             sl_stats **lane_stats, sl_stats *qstats, int by_task,
                             const char *qname) {
  SL_ASSERT(m > 0 && spec->route);
  sl_exchange *x = sl_calloc(1, sizeof *x);
  x->m = m;
  x->spec = spec;
  x->qstats = qstats;
  x->by_task = by_task;
  pthread_mutex_init(&x->fmu, NULL);
  x->lanes = sl_calloc((size_t)m, sizeof *x->lanes);
  x->ports = sl_calloc((size_t)m, sizeof *x->ports);
  for (int j = 0; j < m; j++) {
    pthread_mutex_init(&x->lanes[j].mu, NULL);
    x->lanes[j].tail = tails[j];
    x->lanes[j].stats = lane_stats[j];
    op_xport *p = sl_calloc(1, sizeof *p);
    p->base.vt = &xport_vt;
    p->base.stats = qstats;
    p->base.qname = qname;
    p->x = x;
    p->index = j;
    sl_vm_init(&p->vroute, spec->route);
    p->out = sl_calloc((size_t)m, sizeof *p->out);
    p->pending = sl_calloc((size_t)m, 1);
    p->timed = spec->wkind != SL_WIN_NONE && !spec->proctime;
    x->ports[j] = &p->base;
  }
  return x;
}

sl_operator *sl_exchange_port(sl_exchange *x, int i) {
  SL_ASSERT(i >= 0 && i < x->m);
  return x->ports[i];
}

void sl_exchange_free(sl_exchange *x) {
  if (!x) return;
  for (int j = 0; j < x->m; j++) {
    op_xport *p = (op_xport *)x->ports[j];
    sl_vm_free(&p->vroute);
    for (int k = 0; k < x->m; k++) {
      free(p->out[k].rows);
      free(p->out[k].recs);
      free(p->out[k].copies);
      free(p->out[k].ids);
      free(p->out[k].ops);
    }
    free(p->out);
    free(p->pending);
    free(p);
    pthread_mutex_destroy(&x->lanes[j].mu);
  }
  pthread_mutex_destroy(&x->fmu);
  free(x->ports);
  free(x->lanes);
  free(x);
}
