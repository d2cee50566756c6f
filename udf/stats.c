/*
** stats.c - an example extension with three aggregate functions:
**
**   ewma(x, alpha)  the exponentially weighted moving average of x in
**                   arrival order: m = x1, then m = alpha*x + (1-alpha)*m
**   geomean(x)      the geometric mean of positive x
**   median(x)       the median of x (the mean of the two middle values
**                   when there is an even number of them)
**
** An aggregate keeps its running state in a per-group block the engine
** allocates (state_size bytes, zeroed) and hands back on every call.
** geomean can remove a row again (inverse: sliding frames); ewma cannot,
** because its value depends on the order of every row it saw.  NULLs are
** skipped; an alpha outside (0, 1] or a non-positive x for geomean fails
** that record, which the engine rejects and counts.
**
** Checkpoints (a query run with a state directory): ewma's and geomean's
** blocks are plain numbers, declared with SLUICE_PLAIN_STATE and saved as
** they are; median's block points to memory it allocates, so it says how to
** save and load it (save, load).
*/
#define SLUICE_EXTENSION
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sluice.h>

/* ---- ewma ------------------------------------------------------------------ */

typedef struct ewma_state {
  double mean; /* the average so far */
  int64_t n;   /* rows seen */
} ewma_state;

static void ewma_step(sluice_context *ctx, int argc, sluice_value **argv) {
  ewma_state *s = sluice_aggregate_state(ctx);
  if (sluice_value_type(argv[0]) == SLUICE_NULL) return;
  double x = sluice_value_double(argv[0]), alpha = sluice_value_double(argv[1]);
  if (!(alpha > 0 && alpha <= 1)) {
    sluice_result_error(ctx, "ewma(): alpha %g is not in (0, 1]", alpha);
    return;
  }
  s->mean = s->n ? alpha * x + (1 - alpha) * s->mean : x;
  s->n++;
}

/* The value so far (EMIT CHANGES) and the final one: the state owns nothing. */
static void ewma_value(sluice_context *ctx) {
  ewma_state *s = sluice_aggregate_state(ctx);
  if (s->n) sluice_result_double(ctx, s->mean);
}

/* ---- geomean ------------------------------------------------------------------ */

typedef struct geomean_state {
  double logsum; /* sum of ln(x) */
  int64_t n;
} geomean_state;

/* Add (sign 1) or remove (sign -1) one row. */
static void geomean_add(sluice_context *ctx, sluice_value *arg, int sign) {
  geomean_state *s = sluice_aggregate_state(ctx);
  if (sluice_value_type(arg) == SLUICE_NULL) return;
  double x = sluice_value_double(arg);
  if (!(x > 0)) {
    sluice_result_error(ctx, "geomean(): %g is not positive", x);
    return;
  }
  s->logsum += sign * log(x);
  s->n += sign;
}

static void geomean_step(sluice_context *ctx, int argc, sluice_value **argv) {
  geomean_add(ctx, argv[0], 1);
}

static void geomean_inverse(sluice_context *ctx, int argc, sluice_value **argv) {
  geomean_add(ctx, argv[0], -1);
}

static void geomean_value(sluice_context *ctx) {
  geomean_state *s = sluice_aggregate_state(ctx);
  if (s->n) sluice_result_double(ctx, exp(s->logsum / (double)s->n));
}

/* ---- median -------------------------------------------------------------------- */

typedef struct median_state {
  double *x; /* the values, in arrival order (allocated here, freed by final) */
  int64_t n, cap;
} median_state;

static void median_step(sluice_context *ctx, int argc, sluice_value **argv) {
  median_state *s = sluice_aggregate_state(ctx);
  if (sluice_value_type(argv[0]) == SLUICE_NULL) return;
  if (s->n == s->cap) {
    int64_t cap = s->cap ? 2 * s->cap : 16;
    double *x = realloc(s->x, sizeof(double) * (size_t)cap);
    if (!x) {
      sluice_result_error(ctx, "median(): out of memory");
      return;
    }
    s->x = x;
    s->cap = cap;
  }
  s->x[s->n++] = sluice_value_double(argv[0]);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* The median so far; the state is kept (a sorted copy is made). */
static void median_value(sluice_context *ctx) {
  median_state *s = sluice_aggregate_state(ctx);
  if (!s->n) return;
  double *y = malloc(sizeof(double) * (size_t)s->n);
  if (!y) {
    sluice_result_error(ctx, "median(): out of memory");
    return;
  }
  memcpy(y, s->x, sizeof(double) * (size_t)s->n);
  qsort(y, (size_t)s->n, sizeof(double), cmp_double);
  int64_t h = s->n / 2;
  sluice_result_double(ctx, s->n % 2 ? y[h] : (y[h - 1] + y[h]) / 2);
  free(y);
}

/* The result, then the values are freed. */
static void median_final(sluice_context *ctx) {
  median_value(ctx);
  median_state *s = sluice_aggregate_state(ctx);
  free(s->x);
  memset(s, 0, sizeof *s);
}

/* Checkpoints: the count, then the values, as bytes of this machine (a
** checkpoint is read back by the same build). */
static size_t median_save(void *user, const void *state, void *out, size_t cap) {
  const median_state *s = state;
  size_t need = sizeof(int64_t) + sizeof(double) * (size_t)s->n;
  if (need <= cap) {
    memcpy(out, &s->n, sizeof(int64_t));
    if (s->n) memcpy((char *)out + sizeof(int64_t), s->x, sizeof(double) * (size_t)s->n);
  }
  return need;
}

static int median_load(void *user, void *state, const void *bytes, size_t n) {
  median_state *s = state;
  int64_t count;
  if (n < sizeof count) return -1;
  memcpy(&count, bytes, sizeof count);
  if (count < 0 || (size_t)count != (n - sizeof count) / sizeof(double) ||
      (n - sizeof count) % sizeof(double))
    return -1;
  if (count) {
    s->x = malloc(sizeof(double) * (size_t)count);
    if (!s->x) return -1;
    memcpy(s->x, (const char *)bytes + sizeof count, sizeof(double) * (size_t)count);
  }
  s->n = s->cap = count;
  return 0;
}

int sluice_extension_init(sluice_ext *ext, const sluice_api *api) {
  SLUICE_EXTENSION_INIT(ext, api);
  static const sluice_function defs[] = {
      {.name = "ewma",
       .nargs = 2,
       .flags = SLUICE_PLAIN_STATE,
       .step = ewma_step,
       .value = ewma_value,
       .final = ewma_value,
       .state_size = sizeof(ewma_state),
       .doc = "ewma(X, ALPHA): exponentially weighted moving average, in arrival order"},
      {.name = "geomean",
       .nargs = 1,
       .flags = SLUICE_PLAIN_STATE,
       .step = geomean_step,
       .inverse = geomean_inverse,
       .value = geomean_value,
       .final = geomean_value,
       .state_size = sizeof(geomean_state),
       .doc = "geomean(X): geometric mean of positive X"},
      {.name = "median",
       .nargs = 1,
       .step = median_step,
       .value = median_value,
       .final = median_final,
       .state_size = sizeof(median_state),
       .save = median_save,
       .load = median_load,
       .doc = "median(X): the middle value of X (the mean of the two middle ones)"},
  };
  for (size_t i = 0; i < sizeof defs / sizeof defs[0]; i++)
    if (sluice_create_function(ext, &defs[i])) return 1;
  return 0;
}
