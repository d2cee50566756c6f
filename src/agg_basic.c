/*
** agg_basic.c - SQLite's basic aggregates as sl_func descriptors with a
** per-group state block: count(*), count(X), sum, total, avg, min, max,
** group_concat.  Each has xStep and xFinal; the sums and counts also have
** xInverse (removing a row, for sliding windows) and xValue.
**
** sum() follows SQLite: an INTEGER sum that overflows is an error; any
** non-integer input makes the result REAL; no non-NULL input gives NULL.
*/
#include <stdlib.h>
#include <string.h>

#include "func.h"

typedef struct sum_state {
  int64_t cnt;  /* non-NULL inputs */
  int64_t isum; /* integer sum while exact */
  double rsum;  /* sum as REAL */
  int approx;   /* a non-integer was seen */
  int overflow; /* the integer sum overflowed */
} sum_state;

static void sum_step(sl_fctx *ctx, int argc, sl_value **argv) {
  sum_state *s = sl_fctx_state(ctx);
  sl_value *v = argv[0];
  if (v->type == SL_NULL) return;
  s->cnt++;
  if (v->type == SL_INTEGER) {
    s->rsum += (double)v->u.i;
    if (!s->approx && !s->overflow && __builtin_add_overflow(s->isum, v->u.i, &s->isum))
      s->overflow = 1;
  } else {
    s->rsum += sl_value_as_real(v);
    s->approx = 1;
  }
}

static void sum_inverse(sl_fctx *ctx, int argc, sl_value **argv) {
  sum_state *s = sl_fctx_state(ctx);
  sl_value *v = argv[0];
  if (v->type == SL_NULL) return;
  s->cnt--;
  if (v->type == SL_INTEGER) {
    s->rsum -= (double)v->u.i;
    if (!s->approx && !s->overflow) s->isum -= v->u.i;
  } else {
    s->rsum -= sl_value_as_real(v);
  }
}

static void sum_value(sl_fctx *ctx) {
  sum_state *s = sl_fctx_state(ctx);
  if (!s->cnt) return;
  if (s->overflow)
    sl_result_error(ctx, "integer overflow");
  else if (s->approx)
    sl_result_real(ctx, s->rsum);
  else
    sl_result_int(ctx, s->isum);
}

static void total_value(sl_fctx *ctx) {
  sum_state *s = sl_fctx_state(ctx);
  sl_result_real(ctx, s->rsum);
}

static void avg_value(sl_fctx *ctx) {
  sum_state *s = sl_fctx_state(ctx);
  if (s->cnt) sl_result_real(ctx, s->rsum / (double)s->cnt);
}

typedef struct count_state {
  int64_t n;
} count_state;

static void count_step(sl_fctx *ctx, int argc, sl_value **argv) {
  count_state *s = sl_fctx_state(ctx);
  if (argc == 0 || argv[0]->type != SL_NULL) s->n++;
}

static void count_inverse(sl_fctx *ctx, int argc, sl_value **argv) {
  count_state *s = sl_fctx_state(ctx);
  if (argc == 0 || argv[0]->type != SL_NULL) s->n--;
}

static void count_value(sl_fctx *ctx) {
  count_state *s = sl_fctx_state(ctx);
  sl_result_int(ctx, s->n);
}

typedef struct minmax_state {
  sl_value best; /* owns its bytes */
  int has;
} minmax_state;

static void minmax_step(sl_fctx *ctx, sl_value *v, int want_max) {
  minmax_state *s = sl_fctx_state(ctx);
  if (v->type == SL_NULL) return;
  if (s->has) {
    int c = sl_value_compare(v, &s->best, ctx->coll);
    if (want_max ? c <= 0 : c >= 0) return;
  }
  sl_value_copy(&s->best, v);
  sl_value_own(&s->best);
  s->has = 1;
}

static void max_step(sl_fctx *ctx, int argc, sl_value **argv) {
  minmax_step(ctx, argv[0], 1);
}
static void min_step(sl_fctx *ctx, int argc, sl_value **argv) {
  minmax_step(ctx, argv[0], 0);
}

static void minmax_value(sl_fctx *ctx) {
  minmax_state *s = sl_fctx_state(ctx);
  if (s->has) sl_result_value(ctx, &s->best);
}

static void minmax_final(sl_fctx *ctx) {
  minmax_state *s = sl_fctx_state(ctx);
  minmax_value(ctx);
  sl_value_free(&s->best);
  s->has = 0;
}

typedef struct concat_state {
  sl_buf b;
  int has;
} concat_state;

static void concat_step(sl_fctx *ctx, int argc, sl_value **argv) {
  concat_state *s = sl_fctx_state(ctx);
  if (argv[0]->type == SL_NULL) return;
  size_t n;
  if (s->has) {
    if (argc == 2) {
      if (argv[1]->type != SL_NULL) {
        const char *sep = sl_value_text(argv[1], &n);
        sl_buf_append(&s->b, sep, n);
      }
    } else {
      sl_buf_putc(&s->b, ',');
    }
  }
  const char *z = sl_value_text(argv[0], &n);
  sl_buf_append(&s->b, z, n);
  s->has = 1;
}

static void concat_value(sl_fctx *ctx) {
  concat_state *s = sl_fctx_state(ctx);
  if (s->has) sl_result_text(ctx, s->b.z ? s->b.z : "", s->b.n);
}

static void concat_final(sl_fctx *ctx) {
  concat_state *s = sl_fctx_state(ctx);
  concat_value(ctx);
  sl_buf_free(&s->b);
  s->has = 0;
}

#define AGG(name, n, flags, step, inv, value, final, state, doc)                                   \
  {                                                                                                \
    name, n, SL_FUNC_AGGREGATE | SL_FUNC_DETERMINISTIC | (flags), NULL, NULL, step, inv, value,    \
        final, sizeof(state), NULL, doc                                                            \
  }

const sl_func sl_builtin_aggregate[] = {
    AGG("count", 0, SL_FUNC_COUNTSTAR, count_step, count_inverse, count_value, count_value,
        count_state, "count(*): number of rows"),
    AGG("count", 1, 0, count_step, count_inverse, count_value, count_value, count_state,
        "number of non-NULL values"),
    AGG("sum", 1, 0, sum_step, sum_inverse, sum_value, sum_value, sum_state,
        "sum (INTEGER while exact; NULL for no values)"),
    AGG("total", 1, 0, sum_step, sum_inverse, total_value, total_value, sum_state,
        "sum as REAL (0.0 for no values)"),
    AGG("avg", 1, 0, sum_step, sum_inverse, avg_value, avg_value, sum_state, "average (REAL)"),
    AGG("max", 1, SL_FUNC_NEEDCOLL, max_step, NULL, minmax_value, minmax_final, minmax_state,
        "largest value"),
    AGG("min", 1, SL_FUNC_NEEDCOLL, min_step, NULL, minmax_value, minmax_final, minmax_state,
        "smallest value"),
    AGG("group_concat", 1, 0, concat_step, NULL, concat_value, concat_final, concat_state,
        "values joined with ','"),
    AGG("group_concat", 2, 0, concat_step, NULL, concat_value, concat_final, concat_state,
        "values joined with a separator"),
    {NULL, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL},
};
