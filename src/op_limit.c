/*
** op_limit.c - LIMIT n OFFSET m: the first m rows that reach it are dropped,
** the next n passed on; once n have passed, push returns 1, which a task
** takes as "this query has had enough": it stops reading and finishes the
** chain as at the end of a bounded source (a peek at a stream, as ksqlDB's
** LIMIT).  On a named stream shared with other queries the task goes on for
** them, and this one passes nothing more.  The count is the operator's
** state: a checkpoint keeps it, so a restarted query does not start over.
*/
#include <stdlib.h>

#include "checkpoint.h"
#include "operator.h"

typedef struct op_limit {
  sl_operator base;
  sl_limit_spec spec;
  int64_t seen; /* rows that have reached it */
} op_limit;

/* Pass the rows of in that fall inside [offset, offset + limit). */
static int limit_push(sl_operator *base, sl_batch *in, sl_err *err) {
  op_limit *p = (op_limit *)base;
  int64_t from = p->spec.offset, to = p->spec.limit < 0 ? INT64_MAX : from + p->spec.limit;
  if (p->spec.limit >= 0 && to < from) to = INT64_MAX; /* offset + limit overflowed */
  if (p->seen >= to) return 1;
  int64_t first = p->seen, last = p->seen + in->nrow; /* the batch's rows: [first, last) */
  p->seen = last;
  int64_t a = first > from ? first : from, b = last < to ? last : to;
  int rc = 0;
  if (a < b) {
    int skip = (int)(a - first), n = (int)(b - a);
    sl_batch out = {in->ncol,
                    n,
                    in->rows + (size_t)skip * (size_t)in->ncol,
                    in->recs ? in->recs + skip : NULL,
                    in->src,
                    in->now,
                    in->ids ? in->ids + skip : NULL,
                    in->ops ? in->ops + skip : NULL};
    rc = sl_op_emit(base, &out, err);
    if (rc < 0) return rc;
  }
  return rc > 0 || p->seen >= to ? 1 : 0;
}

static int limit_finish(sl_operator *base, sl_err *err) {
  return sl_op_finish_next(base, err);
}

static int limit_save(sl_operator *base, sl_buf *out, sl_err *err) {
  sl_ck_i64(out, ((op_limit *)base)->seen);
  return 0;
}

static int limit_load(sl_operator *base, const void *z, size_t n, sl_err *err) {
  sl_ckrd r;
  sl_ckrd_init(&r, z, n);
  int64_t seen = sl_ckr_i64(&r);
  if (r.bad || r.p != r.end || seen < 0) {
    sl_err_set(err, SL_EIO, "LIMIT: its checkpointed count is damaged");
    return -1;
  }
  ((op_limit *)base)->seen = seen;
  return 0;
}

static void limit_free(sl_operator *base) {
  free(base);
}

static const sl_op_vt limit_vt = {"limit",      limit_push, sl_op_pass_tick, sl_op_pass_barrier,
                                  limit_finish, limit_free, limit_save,      limit_load};

static sl_operator *limit_make(const void *spec, const sl_make_env *env, sl_err *err) {
  op_limit *p = sl_calloc(1, sizeof *p);
  p->base.vt = &limit_vt;
  p->spec = *(const sl_limit_spec *)spec;
  return &p->base;
}

static void limit_explain(const void *spec, sl_buf *out) {
  const sl_limit_spec *p = spec;
  if (p->limit < 0)
    sl_buf_printf(out, "limit: all rows after the first %lld\n", (long long)p->offset);
  else
    sl_buf_printf(out, "limit: %lld row%s after the first %lld, then the query ends\n",
                  (long long)p->limit, p->limit == 1 ? "" : "s", (long long)p->offset);
}

static void limit_free_spec(void *spec) {
  free(spec);
}

const sl_op_kind sl_op_limit = {"limit", limit_make, limit_explain, limit_free_spec, NULL};
