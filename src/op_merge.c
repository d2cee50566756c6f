/*
** op_merge.c - UNION ALL of two streams: the rows of both inputs, as they
** come.  Its push takes the left input's batches, a small port operator
** (owned here, base.port) the right's; each input is a task of its own
** (usually its own thread), and one mutex serialises both and everything
** downstream, as op_ijoin does.  It finishes downstream once both inputs
** have.  It keeps no rows: nothing to checkpoint but what its inputs' tasks
** do.
*/
#include <pthread.h>
#include <stdlib.h>

#include "op_compound.h"

typedef struct op_merge op_merge;

typedef struct mport {
  sl_operator base;
  op_merge *merge;
} mport;

struct op_merge {
  sl_operator base;
  mport right;
  pthread_mutex_t mu;
  int done[2]; /* input k has finished */
};

/* A batch from input k (0 left, 1 right) goes on under the mutex. */
static int merge_side_push(op_merge *p, sl_batch *in, sl_err *err) {
  pthread_mutex_lock(&p->mu);
  int rc = sl_op_emit(&p->base, in, err);
  pthread_mutex_unlock(&p->mu);
  return rc;
}

/* The left input's batches. */
static int merge_push(sl_operator *base, sl_batch *in, sl_err *err) {
  return merge_side_push((op_merge *)base, in, err);
}

/* The right input's batches. */
static int mport_push(sl_operator *base, sl_batch *in, sl_err *err) {
  return merge_side_push(((mport *)base)->merge, in, err);
}

/* Ticks and barriers from either input go downstream under the mutex. */
static int merge_side_tick(op_merge *p, int64_t now, sl_err *err) {
  pthread_mutex_lock(&p->mu);
  int rc = sl_op_pass_tick(&p->base, now, err);
  pthread_mutex_unlock(&p->mu);
  return rc;
}

static int merge_side_barrier(op_merge *p, sl_barrier what, sl_err *err) {
  pthread_mutex_lock(&p->mu);
  int rc = sl_op_pass_barrier(&p->base, what, err);
  pthread_mutex_unlock(&p->mu);
  return rc;
}

/* Entries of each side: the shared ones above. */
static int merge_tick(sl_operator *base, int64_t now, sl_err *err) {
  return merge_side_tick((op_merge *)base, now, err);
}
static int mport_tick(sl_operator *base, int64_t now, sl_err *err) {
  return merge_side_tick(((mport *)base)->merge, now, err);
}
static int merge_barrier(sl_operator *base, sl_barrier what, sl_err *err) {
  return merge_side_barrier((op_merge *)base, what, err);
}
static int mport_barrier(sl_operator *base, sl_barrier what, sl_err *err) {
  return merge_side_barrier(((mport *)base)->merge, what, err);
}

/* Input k ended; the merge finishes downstream when both have. */
static int merge_side_finish(op_merge *p, int k, sl_err *err) {
  pthread_mutex_lock(&p->mu);
  p->done[k] = 1;
  int rc = p->done[!k] ? sl_op_finish_next(&p->base, err) : 0;
  pthread_mutex_unlock(&p->mu);
  return rc;
}

static int merge_finish(sl_operator *base, sl_err *err) {
  return merge_side_finish((op_merge *)base, 0, err);
}

static int mport_finish(sl_operator *base, sl_err *err) {
  return merge_side_finish(((mport *)base)->merge, 1, err);
}

/* Frees the merge and its port. */
static void merge_free(sl_operator *base) {
  op_merge *p = (op_merge *)base;
  pthread_mutex_destroy(&p->mu);
  free(p);
}

/* The port is the merge's. */
static void mport_free(sl_operator *base) {
  (void)base;
}

static const sl_op_vt merge_vt = {"union all",  merge_push, merge_tick, merge_barrier,
                                  merge_finish, merge_free, NULL,       NULL};
static const sl_op_vt mport_vt = {"union all (right)", mport_push, mport_tick, mport_barrier,
                                  mport_finish,        mport_free, NULL,       NULL};

/* The live merge; its right input is base.port. */
static sl_operator *merge_make(const void *spec, const sl_make_env *env, sl_err *err) {
  (void)spec;
  (void)env;
  (void)err;
  op_merge *p = sl_calloc(1, sizeof *p);
  p->base.vt = &merge_vt;
  p->right.base.vt = &mport_vt;
  p->right.merge = p;
  p->base.port = &p->right.base;
  pthread_mutex_init(&p->mu, NULL);
  return &p->base;
}

/* EXPLAIN: what it merges. */
static void merge_explain(const void *spec, sl_buf *out) {
  const sl_merge_spec *sp = spec;
  sl_buf_printf(out, "union all: the rows of %s and %s as they come, %d column%s\n", sp->left,
                sp->right, sp->ncol, sp->ncol == 1 ? "" : "s");
}

/* Free the spec. */
static void merge_free_spec(void *spec) {
  sl_merge_spec *sp = spec;
  free(sp->left);
  free(sp->right);
  free(sp);
}

const sl_op_kind sl_op_merge = {"union all", merge_make, merge_explain, merge_free_spec, NULL};
