/*
** op_gather.c - where the parallel tasks of one query meet: each task
** drives its own copy of the query's operators, and every copy's last one
** pushes into this operator, which passes everything on to the one tail
** they share (the query's sink) under a mutex, so the sink sees one batch
** at a time.  Batches of different tasks come in no defined order.  The
** gather does not own its tail (the query does).  Finish is passed on once
** every input has finished; an input that finishes before the others has
** the tail flush what it was given, so a task that ends (and commits its
** source) does so only once its own output is durable.
*/
#include <pthread.h>
#include <stdlib.h>

#include "operator.h"

typedef struct op_gather {
  sl_operator base;
  pthread_mutex_t mu;
  int ninput;    /* the tasks feeding it */
  int nfinished; /* of them, those whose input ended */
} op_gather;

static int gather_push(sl_operator *base, sl_batch *in, sl_err *err) {
  op_gather *g = (op_gather *)base;
  pthread_mutex_lock(&g->mu);
  int rc = sl_op_emit(base, in, err);
  pthread_mutex_unlock(&g->mu);
  return rc;
}

static int gather_tick(sl_operator *base, int64_t now, sl_err *err) {
  op_gather *g = (op_gather *)base;
  pthread_mutex_lock(&g->mu);
  int rc = sl_op_pass_tick(base, now, err);
  pthread_mutex_unlock(&g->mu);
  return rc;
}

/* A barrier of one task: the shared tail acts on everything it was given,
** by every task (a flush flushes all; a mark notes all, so a check answers
** for more than the asking task's rows: never less). */
static int gather_barrier(sl_operator *base, sl_barrier what, sl_err *err) {
  op_gather *g = (op_gather *)base;
  pthread_mutex_lock(&g->mu);
  int rc = sl_op_pass_barrier(base, what, err);
  pthread_mutex_unlock(&g->mu);
  return rc;
}

static int gather_finish(sl_operator *base, sl_err *err) {
  op_gather *g = (op_gather *)base;
  pthread_mutex_lock(&g->mu);
  int rc = ++g->nfinished == g->ninput ? sl_op_finish_next(base, err)
                                       : sl_op_pass_barrier(base, SL_BARRIER_FLUSH, err);
  pthread_mutex_unlock(&g->mu);
  return rc;
}

static void gather_free(sl_operator *base) {
  op_gather *g = (op_gather *)base;
  pthread_mutex_destroy(&g->mu);
  free(g);
}

static const sl_op_vt gather_vt = {"gather",      gather_push, gather_tick, gather_barrier,
                                   gather_finish, gather_free, NULL,        NULL};

sl_operator *sl_op_gather_new(sl_operator *tail, int ninput) {
  op_gather *g = sl_calloc(1, sizeof *g);
  g->base.vt = &gather_vt;
  g->base.next = tail;
  g->base.stats = tail->stats;
  g->base.qname = tail->qname;
  g->ninput = ninput;
  pthread_mutex_init(&g->mu, NULL);
  return &g->base;
}
