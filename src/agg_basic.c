/*
** agg_basic.c - SQLite's basic aggregates as sl_func descriptors with a
** per-group state block: count(*), count(X), sum, total, avg, min, max,
** group_concat, and the variances and standard deviations (var_samp,
** variance, var_pop, stddev_samp, stddev, stddev_pop), top_k, max_by and
** min_by (no xInverse for the last two: sliding frames cannot use them).  Every one has xStep,
*xInverse (remove one row, for sliding
** windows), xValue (the current result, state kept) and xFinal (the result;
** releases whatever the state owns).  State blocks arrive zero-initialised.
**
** Results follow SQLite 3.40.1, types included (tests/func_test.c compares
** them with the sqlite3 library, as aggregates and as window functions):
** sum() keeps an exact INTEGER sum until a REAL or non-numeric input, an
** INTEGER overflow is the error "integer overflow", no non-NULL input gives
** NULL; total() is always REAL; avg() is REAL.  As in SQLite, xInverse
** removes the oldest row still in the frame (group_concat relies on that);
** min/max accept any row.
*/
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "func.h"
#include "hash.h"
#include "json.h"

/* ---- helpers ------------------------------------------------------------ */

/* The numeric class of v as sqlite3_value_numeric_type gives it: SL_INTEGER
** with *i, SL_REAL with *r (numbers, and text that entirely reads as a
** number: '12' is INTEGER, '2.0' and '1e3' are REAL), otherwise v's own type
** (NULL, non-numeric TEXT, BLOB). */
static int numeric_type(const sl_value *v, int64_t *i, double *r) {
  if (v->type == SL_INTEGER) {
    *i = v->u.i;
    return SL_INTEGER;
  }
  if (v->type == SL_REAL) {
    *r = v->u.r;
    return SL_REAL;
  }
  if (v->type != SL_TEXT) return v->type;
  sl_value tmp = SL_VALUE_INIT;
  sl_value_ref(&tmp, v);
  sl_value_apply_affinity(&tmp, SL_AFF_NUMERIC);
  int t = tmp.type;
  if (t == SL_INTEGER) {
    *i = tmp.u.i;
    for (uint32_t k = 0; k < v->n; k++)
      if (v->u.z[k] == '.' || v->u.z[k] == 'e' || v->u.z[k] == 'E') {
        *r = (double)tmp.u.i;
        t = SL_REAL;
        break;
      }
  } else if (t == SL_REAL) {
    *r = tmp.u.r;
  } else {
    t = SL_TEXT;
  }
  sl_value_free(&tmp);
  return t;
}

/* ---- sum, total, avg ------------------------------------------------------ */

typedef struct sum_state {
  int64_t cnt;  /* non-NULL inputs in the frame */
  int64_t isum; /* integer sum while exact */
  double rsum;  /* sum as REAL */
  int approx;   /* a non-integer was seen, or the integer sum overflowed */
  int overflow; /* the integer sum overflowed (sticky, as in SQLite) */
} sum_state;

/* Add one value: an exact integer sum while every input is an integer, and
** always a REAL sum (SQLite's sumStep). */
static void sum_step(sl_fctx *ctx, int argc, sl_value **argv) {
  sum_state *s = sl_fctx_state(ctx);
  int64_t i = 0;
  double r = 0;
  int t = numeric_type(argv[0], &i, &r);
  if (t == SL_NULL) return;
  s->cnt++;
  if (t == SL_INTEGER) {
    s->rsum += (double)i;
    if (!s->approx && !s->overflow && __builtin_add_overflow(s->isum, i, &s->isum))
      s->approx = s->overflow = 1;
  } else {
    s->rsum += t == SL_REAL ? r : sl_value_as_real(argv[0]);
    s->approx = 1;
  }
}

/* Remove one value (SQLite's sumInverse; an overflow stays sticky). */
static void sum_inverse(sl_fctx *ctx, int argc, sl_value **argv) {
  sum_state *s = sl_fctx_state(ctx);
  int64_t i = 0;
  double r = 0;
  int t = numeric_type(argv[0], &i, &r);
  if (t == SL_NULL) return;
  s->cnt--;
  if (t == SL_INTEGER && !s->approx) {
    s->rsum -= (double)i;
    s->isum = (int64_t)((uint64_t)s->isum - (uint64_t)i);
  } else {
    s->rsum -= t == SL_INTEGER ? (double)i : t == SL_REAL ? r : sl_value_as_real(argv[0]);
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

/* ---- count ---------------------------------------------------------------- */

typedef struct count_state {
  int64_t n;
} count_state;

/* count(*) (no argument) counts rows; count(X) counts non-NULL values. */
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

/* ---- min, max -------------------------------------------------------------- */

/* min/max keep a multiset of the values in the frame so that xInverse can
** remove any row: a sorted array of distinct values with their counts.
** Values that compare equal but differ (1 and 1.0, or 'a' and 'A' under
** NOCASE) are separate entries kept in order of arrival, so the result is
** the first of the equal extremes, as SQLite's aggregate gives it. */
typedef struct ms_entry {
  sl_value v;    /* owns its bytes */
  int64_t count; /* rows holding exactly this value */
} ms_entry;

typedef struct minmax_state {
  ms_entry *e; /* sorted by sl_value_compare, ties by arrival */
  size_t n, cap;
} minmax_state;

/* Same storage class and same bytes: the very same value. */
static int identical(const sl_value *a, const sl_value *b) {
  if (a->type != b->type) return 0;
  switch (a->type) {
  case SL_INTEGER: return a->u.i == b->u.i;
  case SL_REAL: return memcmp(&a->u.r, &b->u.r, sizeof(double)) == 0;
  case SL_TEXT:
  case SL_BLOB: return a->n == b->n && memcmp(a->u.z, b->u.z, a->n) == 0;
  case SL_VECTOR: return a->n == b->n && memcmp(a->u.v, b->u.v, a->n * sizeof(double)) == 0;
  default: return 1;
  }
}

/* First index whose value compares >= v (lo) and first that compares > v
** (*hi): the range of entries equal to v. */
static size_t ms_range(const minmax_state *s, const sl_value *v, sl_coll coll, size_t *hi) {
  size_t a = 0, b = s->n;
  while (a < b) {
    size_t m = (a + b) / 2;
    if (sl_value_compare(&s->e[m].v, v, coll) < 0)
      a = m + 1;
    else
      b = m;
  }
  size_t lo = a;
  b = s->n;
  while (a < b) {
    size_t m = (a + b) / 2;
    if (sl_value_compare(&s->e[m].v, v, coll) <= 0)
      a = m + 1;
    else
      b = m;
  }
  *hi = a;
  return lo;
}

static void minmax_step(sl_fctx *ctx, int argc, sl_value **argv) {
  minmax_state *s = sl_fctx_state(ctx);
  sl_value *v = argv[0];
  if (v->type == SL_NULL) return;
  size_t hi, lo = ms_range(s, v, ctx->coll, &hi);
  for (size_t k = lo; k < hi; k++)
    if (identical(&s->e[k].v, v)) {
      s->e[k].count++;
      return;
    }
  if (s->n == s->cap) {
    ctx->grew += (int64_t)((s->cap ? s->cap : 8) * sizeof(ms_entry));
    s->cap = s->cap ? 2 * s->cap : 8;
    s->e = sl_realloc(s->e, s->cap * sizeof(ms_entry));
  }
  memmove(s->e + hi + 1, s->e + hi, (s->n - hi) * sizeof(ms_entry));
  memset(&s->e[hi], 0, sizeof(ms_entry));
  sl_value_copy(&s->e[hi].v, v);
  ctx->grew += s->e[hi].v.cap;
  s->e[hi].count = 1;
  s->n++;
}

static void minmax_inverse(sl_fctx *ctx, int argc, sl_value **argv) {
  minmax_state *s = sl_fctx_state(ctx);
  sl_value *v = argv[0];
  if (v->type == SL_NULL) return;
  size_t hi, lo = ms_range(s, v, ctx->coll, &hi);
  if (lo == hi) return; /* not in the frame: nothing to remove */
  size_t k = lo;
  while (k < hi && !identical(&s->e[k].v, v))
    k++;
  if (k == hi) k = lo;
  if (--s->e[k].count > 0) return;
  ctx->grew -= (int64_t)s->e[k].v.cap; /* what its step counted */
  sl_value_free(&s->e[k].v);
  memmove(s->e + k, s->e + k + 1, (s->n - k - 1) * sizeof(ms_entry));
  s->n--;
}

static void min_value(sl_fctx *ctx) {
  minmax_state *s = sl_fctx_state(ctx);
  if (s->n) sl_result_value(ctx, &s->e[0].v);
}

static void max_value(sl_fctx *ctx) {
  minmax_state *s = sl_fctx_state(ctx);
  if (!s->n) return;
  size_t k = s->n - 1;
  while (k > 0 && sl_value_compare(&s->e[k - 1].v, &s->e[s->n - 1].v, ctx->coll) == 0)
    k--;
  sl_result_value(ctx, &s->e[k].v);
}

static void minmax_free(minmax_state *s) {
  for (size_t k = 0; k < s->n; k++)
    sl_value_free(&s->e[k].v);
  free(s->e);
  memset(s, 0, sizeof *s);
}

static void min_final(sl_fctx *ctx) {
  min_value(ctx);
  minmax_free(sl_fctx_state(ctx));
}

static void max_final(sl_fctx *ctx) {
  max_value(ctx);
  minmax_free(sl_fctx_state(ctx));
}

/* ---- group_concat ----------------------------------------------------------- */

/* The joined text and, for xInverse, what SQLite 3.40 keeps to cut the
** oldest value and its separator off the front: the number of values, the
** length of the separator given with the first value, and once separators
** of different lengths were seen, the length of the separator after each
** value (a queue sep[head .. head+nacc)). */
typedef struct concat_state {
  sl_buf b;         /* the text so far */
  int has;          /* a value was added since the text was last empty */
  int tracking;     /* sep[] is in use */
  int64_t nacc;     /* values in the text */
  size_t first_sep; /* separator length when no sep[] */
  size_t *sep;      /* separator lengths, from sep[head] */
  size_t head, cap;
} concat_state;

/* Make room for sep[head + need - 1]. */
static void sep_room(concat_state *s, size_t need) {
  if (s->head + need <= s->cap) return;
  if (s->head > 0) {
    memmove(s->sep, s->sep + s->head, (s->cap - s->head) * sizeof(size_t));
    s->head = 0;
    if (need <= s->cap) return;
  }
  while (s->cap < need)
    s->cap = s->cap ? 2 * s->cap : 8;
  s->sep = sl_realloc(s->sep, s->cap * sizeof(size_t));
}

/* Append X, preceded (except for the first) by the separator: ',' for
** group_concat(X), the text of Y for group_concat(X, Y) (nothing if Y is
** NULL).  NULL values are skipped. */
static void concat_step(sl_fctx *ctx, int argc, sl_value **argv) {
  concat_state *s = sl_fctx_state(ctx);
  if (argv[0]->type == SL_NULL) return;
  size_t n, nsep = 0;
  sl_value_text(argv[0], &n);
  if (argc > 1 && argv[1]->type != SL_NULL) sl_value_text(argv[1], &nsep);
  if (sl_too_big((uint64_t)s->b.n + (argc > 1 ? nsep : 1) + n)) {
    sl_result_toobig(ctx);
    return;
  }
  size_t had = s->b.cap + s->cap * sizeof(size_t);
  nsep = 0;
  int first = !s->has;
  s->has = 1;
  if (argc == 1) {
    if (!first)
      sl_buf_putc(&s->b, ',');
    else
      s->first_sep = 1;
  } else if (!first) {
    if (argv[1]->type != SL_NULL) {
      const char *sep = sl_value_text(argv[1], &nsep);
      sl_buf_append(&s->b, sep, nsep);
    }
    if ((nsep != s->first_sep || s->tracking) && s->nacc > 0) {
      if (!s->tracking) {
        s->head = 0;
        sep_room(s, (size_t)s->nacc);
        for (int64_t i = 0; i + 1 < s->nacc; i++)
          s->sep[i] = s->first_sep;
        s->tracking = 1;
      }
      sep_room(s, (size_t)s->nacc);
      s->sep[s->head + (size_t)s->nacc - 1] = nsep;
    }
  } else {
    if (argv[1]->type != SL_NULL) sl_value_text(argv[1], &nsep);
    s->first_sep = nsep;
  }
  s->nacc++;
  const char *z = sl_value_text(argv[0], &n);
  sl_buf_append(&s->b, z, n);
  ctx->grew += (int64_t)(s->b.cap + s->cap * sizeof(size_t)) - (int64_t)had;
}

/* Remove the oldest value and the separator after it. */
static void concat_inverse(sl_fctx *ctx, int argc, sl_value **argv) {
  concat_state *s = sl_fctx_state(ctx);
  if (argv[0]->type == SL_NULL) return;
  size_t cut;
  sl_value_text(argv[0], &cut);
  s->nacc--;
  if (s->tracking) {
    if (s->nacc > 0) cut += s->sep[s->head++];
  } else {
    cut += s->first_sep;
  }
  if (cut >= s->b.n) {
    sl_buf_reset(&s->b);
  } else {
    memmove(s->b.z, s->b.z + cut, s->b.n - cut);
    s->b.n -= cut;
    s->b.z[s->b.n] = 0;
  }
  if (s->b.n == 0) { /* as SQLite: start afresh, the next value gets no separator */
    s->has = 0;
    s->tracking = 0;
    s->head = 0;
  }
}

/* The current text, as concat_final gives it: a changelog's row (EMIT
** CHANGES) is the aggregate over the rows so far, so empty values give ''
** (not NULL, as SQLite's window function would). */
static void concat_value(sl_fctx *ctx) {
  concat_state *s = sl_fctx_state(ctx);
  if (s->has) sl_result_text(ctx, s->b.z ? s->b.z : "", s->b.n);
}

/* The final text: '' when only empty values were added, NULL for none. */
static void concat_final(sl_fctx *ctx) {
  concat_state *s = sl_fctx_state(ctx);
  if (s->has) sl_result_text(ctx, s->b.z ? s->b.z : "", s->b.n);
  sl_buf_free(&s->b);
  free(s->sep);
  memset(s, 0, sizeof *s);
}

/* ---- the table -------------------------------------------------------------- */

/* ---- variance and standard deviation ---------------------------------------- */

/* Welford's running mean and sum of squared deviations; numbers (and text
** that reads entirely as a number) count, anything else is skipped.
** xInverse removes a value exactly as it was added (sliding windows). */
typedef struct var_state {
  int64_t n;
  double mean, m2;
} var_state;

/* v as a double when it is a number (or text reading as one): 1, else 0. */
static int number_of(const sl_value *v, double *x) {
  int64_t i;
  int t = numeric_type(v, &i, x);
  if (t == SL_INTEGER) *x = (double)i;
  return t == SL_INTEGER || t == SL_REAL;
}

static void var_step(sl_fctx *ctx, int argc, sl_value **argv) {
  (void)argc;
  double x;
  if (!number_of(argv[0], &x)) return;
  var_state *s = sl_fctx_state(ctx);
  s->n++;
  double d = x - s->mean;
  s->mean += d / (double)s->n;
  s->m2 += d * (x - s->mean);
}

static void var_inverse(sl_fctx *ctx, int argc, sl_value **argv) {
  (void)argc;
  double x;
  if (!number_of(argv[0], &x)) return;
  var_state *s = sl_fctx_state(ctx);
  if (s->n <= 1) {
    memset(s, 0, sizeof *s);
    return;
  }
  double old = s->mean;
  s->mean = (s->mean * (double)s->n - x) / (double)(s->n - 1);
  s->m2 -= (x - old) * (x - s->mean);
  if (s->m2 < 0) s->m2 = 0;
  s->n--;
}

static void var_samp_value(sl_fctx *ctx) {
  var_state *s = sl_fctx_state(ctx);
  if (s->n > 1) sl_result_real(ctx, s->m2 / (double)(s->n - 1));
}
static void var_pop_value(sl_fctx *ctx) {
  var_state *s = sl_fctx_state(ctx);
  if (s->n > 0) sl_result_real(ctx, s->m2 / (double)s->n);
}
static void stddev_samp_value(sl_fctx *ctx) {
  var_state *s = sl_fctx_state(ctx);
  if (s->n > 1) sl_result_real(ctx, sqrt(s->m2 / (double)(s->n - 1)));
}
static void stddev_pop_value(sl_fctx *ctx) {
  var_state *s = sl_fctx_state(ctx);
  if (s->n > 0) sl_result_real(ctx, sqrt(s->m2 / (double)s->n));
}

/* ---- top_k --------------------------------------------------------------- */

/* top_k(x, k): the k most frequent non-NULL values with their counts, as a
** JSON array [{"value": v, "count": n}, ...], most frequent first, ties in
** ascending value order (so the result does not depend on arrival order).
** The state owns a table of distinct values and counts. */
typedef struct topk_entry {
  sl_value v;
  int64_t n;
} topk_entry;
typedef struct topk_state {
  topk_entry *e; /* in order of arrival */
  int n, cap;
  int64_t k;
  sl_htab idx; /* over e (sl_vindex_put) */
} topk_state;

static void topk_step(sl_fctx *ctx, int argc, sl_value **argv) {
  topk_state *s = sl_fctx_state(ctx);
  if (argc != 2 || argv[0]->type == SL_NULL) return;
  s->k = sl_value_as_int(argv[1]);
  if (s->k < 1) {
    sl_result_error(ctx, "top_k(x, k): k must be at least 1");
    return;
  }
  int i = sl_vindex_put(&s->idx, s->e, sizeof(topk_entry), s->n, argv[0]);
  if (i < 0) { /* a new value: entry n (and about 16 bytes of its index) */
    if (s->n == s->cap) {
      ctx->grew += (int64_t)sizeof(topk_entry) * (s->cap ? s->cap : 8);
      s->cap = s->cap ? 2 * s->cap : 8;
      s->e = sl_realloc(s->e, sizeof(topk_entry) * (size_t)s->cap);
    }
    i = s->n++;
    memset(&s->e[i], 0, sizeof s->e[i]);
    sl_value_copy(&s->e[i].v, argv[0]);
    ctx->grew += (int64_t)s->e[i].v.cap + 16;
  }
  s->e[i].n++;
}

static void topk_inverse(sl_fctx *ctx, int argc, sl_value **argv) {
  topk_state *s = sl_fctx_state(ctx);
  if (argc != 2 || argv[0]->type == SL_NULL) return;
  int i = sl_vindex_find(&s->idx, s->e, sizeof(topk_entry), s->n, argv[0]);
  if (i >= 0 && s->e[i].n > 0) s->e[i].n--;
}

static int topk_cmp(const void *a, const void *b) {
  const topk_entry *x = a, *y = b;
  if (x->n != y->n) return x->n > y->n ? -1 : 1;
  return sl_value_compare(&x->v, &y->v, SL_COLL_BINARY);
}

static void topk_value(sl_fctx *ctx) {
  topk_state *s = sl_fctx_state(ctx);
  if (!s->n) return;
  /* the k best by a partial selection (the index keeps the entries' order) */
  int64_t k = s->k < s->n ? s->k : s->n;
  topk_entry *best = malloc(sizeof(topk_entry) * (size_t)k);
  int nb = 0;
  for (int i = 0; i < s->n; i++) {
    if (!s->e[i].n) continue;
    if (nb < k) {
      best[nb++] = s->e[i];
    } else if (topk_cmp(&s->e[i], &best[nb - 1]) < 0) {
      best[nb - 1] = s->e[i];
    } else {
      continue;
    }
    for (int j = nb - 1; j > 0 && topk_cmp(&best[j], &best[j - 1]) < 0; j--) {
      topk_entry t = best[j];
      best[j] = best[j - 1];
      best[j - 1] = t;
    }
  }
  sl_buf b;
  sl_buf_init(&b);
  sl_buf_putc(&b, '[');
  for (int i = 0; i < nb; i++) {
    if (i) sl_buf_putc(&b, ',');
    sl_buf_puts(&b, "{\"value\":");
    sl_json_append_value(&b, &best[i].v);
    sl_buf_printf(&b, ",\"count\":%lld}", (long long)best[i].n);
  }
  sl_buf_putc(&b, ']');
  free(best);
  sl_result_text(ctx, b.z, b.n);
  ctx->out->flags |= SL_F_JSON;
  sl_buf_free(&b);
}

static void topk_final(sl_fctx *ctx) {
  topk_value(ctx);
  topk_state *s = sl_fctx_state(ctx);
  for (int i = 0; i < s->n; i++)
    sl_value_free(&s->e[i].v);
  free(s->e);
  sl_htab_free(&s->idx);
  memset(s, 0, sizeof *s);
}

/* ---- max_by / min_by ---------------------------------------------------- */

/* max_by(x, y): x of the row with the largest y (the first such row on
** ties; rows with NULL y are skipped); min_by likewise with the smallest. */
typedef struct by_state {
  int has;
  sl_value x, y; /* owned copies */
} by_state;

static void by_step(sl_fctx *ctx, sl_value *x, sl_value *y, int sign, sl_coll coll) {
  by_state *s = sl_fctx_state(ctx);
  if (y->type == SL_NULL) return;
  if (s->has && sign * sl_value_compare(y, &s->y, coll) <= 0) return;
  sl_value_copy(&s->x, x);
  sl_value_copy(&s->y, y);
  s->has = 1;
}
static void max_by_step(sl_fctx *ctx, int argc, sl_value **argv) {
  (void)argc;
  by_step(ctx, argv[0], argv[1], 1, SL_COLL_BINARY);
}
static void min_by_step(sl_fctx *ctx, int argc, sl_value **argv) {
  (void)argc;
  by_step(ctx, argv[0], argv[1], -1, SL_COLL_BINARY);
}
/* any_value(x) (SQL:2023's ANY_VALUE): x of some row of the group: its
** first, which is the value SQLite 3.40 gives a bare column (a column of a
** grouped query neither grouped nor aggregated; the planner writes such a
** column as any_value, or as max_by/min_by next to one max() or min()). */
static void any_step(sl_fctx *ctx, int argc, sl_value **argv) {
  (void)argc;
  by_state *s = sl_fctx_state(ctx);
  if (s->has) return;
  sl_value_copy(&s->x, argv[0]);
  s->has = 1;
}
/* Running min/max, for GROUP BY and windows, which never remove a row: the
** extreme so far (the first of equal extremes, as SQLite keeps it), O(1) a
** row where the multiset that xInverse needs is O(distinct values). */
static void run_max_step(sl_fctx *ctx, int argc, sl_value **argv) {
  (void)argc;
  by_step(ctx, argv[0], argv[0], 1, ctx->coll);
}
static void run_min_step(sl_fctx *ctx, int argc, sl_value **argv) {
  (void)argc;
  by_step(ctx, argv[0], argv[0], -1, ctx->coll);
}
static void by_value(sl_fctx *ctx) {
  by_state *s = sl_fctx_state(ctx);
  if (s->has) sl_result_value(ctx, &s->x);
}
static void by_final(sl_fctx *ctx) {
  by_value(ctx);
  by_state *s = sl_fctx_state(ctx);
  sl_value_free(&s->x);
  sl_value_free(&s->y);
  memset(s, 0, sizeof *s);
}

/* ---- checkpoints: the states that hold pointers ------------------------------ */

/* 0 when r read exactly its bytes, else -1. */
static int read_done(const sl_ckrd *r) {
  return r->bad || r->p != r->end ? -1 : 0;
}

static void by_save(const sl_func *f, const void *state, sl_buf *out) {
  (void)f;
  const by_state *s = state;
  sl_ck_i64(out, s->has);
  sl_ck_value(out, &s->x);
  sl_ck_value(out, &s->y);
}

static int by_load(const sl_func *f, void *state, const void *z, size_t n) {
  (void)f;
  by_state *s = state;
  sl_ckrd r;
  sl_ckrd_init(&r, z, n);
  s->has = (int)sl_ckr_i64(&r);
  sl_ckr_value(&r, &s->x);
  sl_ckr_value(&r, &s->y);
  return read_done(&r);
}

/* min/max's multiset, and top_k's table: (value, count) entries in order. */
static void entries_save(sl_buf *out, const void *e, size_t stride, int64_t n) {
  sl_ck_i64(out, n);
  for (int64_t i = 0; i < n; i++) {
    const char *at = (const char *)e + (size_t)i * stride;
    sl_ck_value(out, (const sl_value *)(const void *)at);
    int64_t c;
    memcpy(&c, at + sizeof(sl_value), sizeof c);
    sl_ck_i64(out, c);
  }
}

static void minmax_save(const sl_func *f, const void *state, sl_buf *out) {
  (void)f;
  const minmax_state *s = state;
  entries_save(out, s->e, sizeof(ms_entry), (int64_t)s->n);
}

static int minmax_load(const sl_func *f, void *state, const void *z, size_t n) {
  (void)f;
  minmax_state *s = state;
  sl_ckrd r;
  sl_ckrd_init(&r, z, n);
  int64_t cnt = sl_ckr_i64(&r);
  if (cnt < 0 || cnt > (int64_t)n) return -1;
  s->cap = s->n = (size_t)cnt;
  s->e = sl_calloc(s->cap ? s->cap : 1, sizeof(ms_entry));
  for (size_t i = 0; i < s->n; i++) {
    sl_ckr_value(&r, &s->e[i].v);
    s->e[i].count = sl_ckr_i64(&r);
  }
  return read_done(&r);
}

static void topk_save(const sl_func *f, const void *state, sl_buf *out) {
  (void)f;
  const topk_state *s = state;
  sl_ck_i64(out, s->k);
  entries_save(out, s->e, sizeof(topk_entry), s->n);
}

static int topk_load(const sl_func *f, void *state, const void *z, size_t n) {
  (void)f;
  topk_state *s = state;
  sl_ckrd r;
  sl_ckrd_init(&r, z, n);
  s->k = sl_ckr_i64(&r);
  int64_t cnt = sl_ckr_i64(&r);
  /* k comes from the step, which refuses k < 1 before counting a value */
  if (cnt < 0 || cnt > (int64_t)n || (cnt > 0 && s->k < 1)) return -1;
  s->cap = (int)cnt;
  s->n = 0;
  if (s->cap) s->e = sl_realloc(s->e, sizeof(topk_entry) * (size_t)s->cap);
  for (int64_t i = 0; i < cnt && !r.bad; i++) {
    topk_entry *e = &s->e[s->n];
    memset(e, 0, sizeof *e);
    sl_ckr_value(&r, &e->v);
    e->n = sl_ckr_i64(&r);
    if (sl_vindex_put(&s->idx, s->e, sizeof(topk_entry), s->n, &e->v) >= 0) r.bad = 1;
    s->n++;
  }
  return read_done(&r);
}

static void concat_save(const sl_func *f, const void *state, sl_buf *out) {
  (void)f;
  const concat_state *s = state;
  sl_ck_bytes(out, s->b.z, s->b.n);
  sl_ck_i64(out, s->has);
  sl_ck_i64(out, s->nacc);
  sl_ck_i64(out, (int64_t)s->first_sep);
  int64_t nsep = s->tracking && s->nacc > 0 ? s->nacc - 1 : -1;
  sl_ck_i64(out, nsep);
  for (int64_t i = 0; i < nsep; i++)
    sl_ck_i64(out, (int64_t)s->sep[s->head + (size_t)i]);
}

static int concat_load(const sl_func *f, void *state, const void *z, size_t n) {
  (void)f;
  concat_state *s = state;
  sl_ckrd r;
  sl_ckrd_init(&r, z, n);
  size_t len;
  const void *text = sl_ckr_bytes(&r, &len);
  sl_buf_append(&s->b, text, len);
  s->has = (int)sl_ckr_i64(&r);
  s->nacc = sl_ckr_i64(&r);
  s->first_sep = (size_t)sl_ckr_i64(&r);
  int64_t nsep = sl_ckr_i64(&r);
  if (nsep > (int64_t)n) return -1;
  s->tracking = nsep >= 0;
  if (nsep > 0) {
    sep_room(s, (size_t)nsep + 1);
    for (int64_t i = 0; i < nsep; i++)
      s->sep[i] = (size_t)sl_ckr_i64(&r);
  }
  return read_done(&r);
}

/* An aggregate whose state is plain bytes (AGG), or holds pointers and has
** its own checkpoint functions (AGGX). */
#define AGGX(name, n, flags, step, inv, value, final, state, save, load, doc)                      \
  {                                                                                                \
    name, n, SL_FUNC_AGGREGATE | SL_FUNC_DETERMINISTIC | (flags), NULL, NULL, step, inv, value,    \
        final, sizeof(state), NULL, doc, NULL, save, load                                          \
  }
#define AGG(name, n, flags, step, inv, value, final, state, doc)                                   \
  AGGX(name, n, SL_FUNC_PLAINSTATE | (flags), step, inv, value, final, state, NULL, NULL, doc)

static const sl_func running_max =
    AGGX("max", 1, SL_FUNC_NEEDCOLL | SL_FUNC_ANYORDER, run_max_step, NULL, by_value, by_final,
         by_state, by_save, by_load, "largest value");
static const sl_func running_min =
    AGGX("min", 1, SL_FUNC_NEEDCOLL | SL_FUNC_ANYORDER, run_min_step, NULL, by_value, by_final,
         by_state, by_save, by_load, "smallest value");

const sl_func *sl_agg_no_inverse(const sl_func *f) {
  if (f->xStep == minmax_step && f->xFinal == max_final) return &running_max;
  if (f->xStep == minmax_step && f->xFinal == min_final) return &running_min;
  return f;
}

const sl_func sl_builtin_aggregate[] = {
    AGG("count", 0, SL_FUNC_COUNTSTAR | SL_FUNC_ANYORDER, count_step, count_inverse, count_value,
        count_value, count_state, "count(*): number of rows"),
    AGG("count", 1, SL_FUNC_ANYORDER, count_step, count_inverse, count_value, count_value,
        count_state, "number of non-NULL values"),
    AGG("sum", 1, SL_FUNC_ANYORDER, sum_step, sum_inverse, sum_value, sum_value, sum_state,
        "sum (INTEGER while exact; NULL for no values)"),
    AGG("total", 1, SL_FUNC_ANYORDER, sum_step, sum_inverse, total_value, total_value, sum_state,
        "sum as REAL (0.0 for no values)"),
    AGG("avg", 1, SL_FUNC_ANYORDER, sum_step, sum_inverse, avg_value, avg_value, sum_state,
        "average (REAL)"),
    AGGX("max", 1, SL_FUNC_NEEDCOLL | SL_FUNC_ANYORDER, minmax_step, minmax_inverse, max_value,
         max_final, minmax_state, minmax_save, minmax_load, "largest value"),
    AGGX("min", 1, SL_FUNC_NEEDCOLL | SL_FUNC_ANYORDER, minmax_step, minmax_inverse, min_value,
         min_final, minmax_state, minmax_save, minmax_load, "smallest value"),
    AGGX("group_concat", 1, 0, concat_step, concat_inverse, concat_value, concat_final,
         concat_state, concat_save, concat_load, "values joined with ','"),
    AGGX("group_concat", 2, 0, concat_step, concat_inverse, concat_value, concat_final,
         concat_state, concat_save, concat_load, "values joined with a separator"),
    AGG("var_samp", 1, SL_FUNC_ANYORDER, var_step, var_inverse, var_samp_value, var_samp_value,
        var_state, "sample variance (REAL; NULL for fewer than 2 values)"),
    AGG("variance", 1, SL_FUNC_ANYORDER, var_step, var_inverse, var_samp_value, var_samp_value,
        var_state, "sample variance, as var_samp"),
    AGG("var_pop", 1, SL_FUNC_ANYORDER, var_step, var_inverse, var_pop_value, var_pop_value,
        var_state, "population variance (REAL)"),
    AGG("stddev_samp", 1, SL_FUNC_ANYORDER, var_step, var_inverse, stddev_samp_value,
        stddev_samp_value, var_state, "sample standard deviation (REAL)"),
    AGG("stddev", 1, SL_FUNC_ANYORDER, var_step, var_inverse, stddev_samp_value, stddev_samp_value,
        var_state, "sample standard deviation, as stddev_samp"),
    AGG("stddev_pop", 1, SL_FUNC_ANYORDER, var_step, var_inverse, stddev_pop_value,
        stddev_pop_value, var_state, "population standard deviation (REAL)"),
    AGGX("max_by", 2, 0, max_by_step, NULL, by_value, by_final, by_state, by_save, by_load,
         "max_by(x, y): x of the row with the largest y"),
    AGGX("min_by", 2, 0, min_by_step, NULL, by_value, by_final, by_state, by_save, by_load,
         "min_by(x, y): x of the row with the smallest y"),
    AGGX("any_value", 1, 0, any_step, NULL, by_value, by_final, by_state, by_save, by_load,
         "any_value(x): x of some row of the group (its first: a bare column's value)"),
    AGGX("top_k", 2, SL_FUNC_JSONRESULT, topk_step, topk_inverse, topk_value, topk_final,
         topk_state, topk_save, topk_load,
         "top_k(x, k): the k most frequent values with their counts (JSON)"),
    {NULL, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL, NULL, NULL, NULL},
};
