/*
** stats.c - an example extension with two aggregate functions:
**
**   ewma(x, alpha)  the exponentially weighted moving average of x in
**                   arrival order: m = x1, then m = alpha*x + (1-alpha)*m
**   geomean(x)      the geometric mean of positive x
**
** An aggregate keeps its running state in a per-group block the engine
** allocates (state_size bytes, zeroed) and hands back on every call.
** geomean can remove a row again (inverse: sliding frames); ewma cannot,
** because its value depends on the order of every row it saw.  NULLs are
** skipped; an alpha outside (0, 1] or a non-positive x for geomean fails
** that record, which the engine rejects and counts.
*/
#define SLUICE_EXTENSION
#include <math.h>
#include <stdint.h>
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

int sluice_extension_init(sluice_ext *ext, const sluice_api *api) {
  SLUICE_EXTENSION_INIT(ext, api);
  static const sluice_function defs[] = {
      {.name = "ewma",
       .nargs = 2,
       .step = ewma_step,
       .value = ewma_value,
       .final = ewma_value,
       .state_size = sizeof(ewma_state),
       .doc = "ewma(X, ALPHA): exponentially weighted moving average, in arrival order"},
      {.name = "geomean",
       .nargs = 1,
       .step = geomean_step,
       .inverse = geomean_inverse,
       .value = geomean_value,
       .final = geomean_value,
       .state_size = sizeof(geomean_state),
       .doc = "geomean(X): geometric mean of positive X"},
  };
  for (size_t i = 0; i < sizeof defs / sizeof defs[0]; i++)
    if (sluice_create_function(ext, &defs[i])) return 1;
  return 0;
}
