/*
** op_fanout.c - one named stream, many readers: pushes every batch of the
** stream to the first operator of each query that reads it, so the stream
** is computed once however many queries use it.  The fanout does not own
** its children (each belongs to its query); finish is passed to all.  A
** child whose query was terminated alone (sl_op_halted) gets nothing more
** but the barriers that make what it was given durable (flush, mark,
** check): no rows, no time; at the end a flush instead of finish.
*/
#include <stdlib.h>

#include "operator.h"

typedef struct op_fanout {
  sl_operator base;
  sl_operator **kids; /* borrowed */
  int nkid;
} op_fanout;

static int fanout_push(sl_operator *base, sl_batch *in, sl_err *err) {
  op_fanout *f = (op_fanout *)base;
  for (int i = 0; i < f->nkid; i++) {
    if (sl_op_halted(f->kids[i])) continue;
    sl_batch b = *in; /* children must not see each other's changes */
    int rc = f->kids[i]->vt->push(f->kids[i], &b, err);
    if (rc < 0) return rc;
  }
  return 0;
}

/* Ticks go to the readers still fed. */
static int fanout_tick(sl_operator *base, int64_t now, sl_err *err) {
  op_fanout *f = (op_fanout *)base;
  for (int i = 0; i < f->nkid; i++) {
    if (sl_op_halted(f->kids[i])) continue;
    if (f->kids[i]->vt->tick(f->kids[i], now, err) < 0) return -1;
  }
  return 0;
}

/* Barriers go to every reader, halted ones too: their sinks must end
** durable.  CHECK: not durable (1) while any reader's sink is not. */
static int fanout_barrier(sl_operator *base, sl_barrier what, sl_err *err) {
  op_fanout *f = (op_fanout *)base;
  int pending = 0;
  for (int i = 0; i < f->nkid; i++) {
    int rc = f->kids[i]->vt->barrier(f->kids[i], what, err);
    if (rc < 0) return -1;
    pending |= rc > 0;
  }
  return pending;
}

static int fanout_finish(sl_operator *base, sl_err *err) {
  op_fanout *f = (op_fanout *)base;
  int rc = 0;
  for (int i = 0; i < f->nkid; i++) {
    sl_operator *k = f->kids[i];
    /* a halted reader's open windows stay open: only flush what it has */
    int r = sl_op_halted(k) ? k->vt->barrier(k, SL_BARRIER_FLUSH, err) : k->vt->finish(k, err);
    if (r < 0) rc = -1;
  }
  return rc;
}

static void fanout_free(sl_operator *base) {
  op_fanout *f = (op_fanout *)base;
  free(f->kids);
  free(f);
}

static const sl_op_vt fanout_vt = {"fanout",      fanout_push, fanout_tick, fanout_barrier,
                                   fanout_finish, fanout_free, NULL,        NULL};

sl_operator *sl_op_fanout_new(void) {
  op_fanout *f = sl_calloc(1, sizeof *f);
  f->base.vt = &fanout_vt;
  return &f->base;
}

void sl_op_fanout_add(sl_operator *base, sl_operator *child) {
  op_fanout *f = (op_fanout *)base;
  f->kids = sl_realloc(f->kids, sizeof(*f->kids) * (size_t)(f->nkid + 1));
  f->kids[f->nkid++] = child;
}
