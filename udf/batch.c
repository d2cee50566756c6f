/*
** batch.c - an example extension of batch functions: one call computes a
** whole batch of rows (up to batch_size, 1024 by default), reading each
** argument as an array of doubles and writing the results as one.
**
**   logistic(x)  1 / (1 + e^-x)
**   logit(p)     ln(p / (1 - p)); a p outside (0, 1) fails that row
**
** Only the batch form is given: where the engine evaluates a single row (a
** CASE branch, an aggregate's argument) it calls it with a batch of one.
** A NULL argument arrives as NaN, and a NaN result is NULL.
*/
#define SLUICE_EXTENSION
#include <math.h>
#include <sluice.h>

static void logistic(sluice_context *ctx, int nrow, int argc) {
  const double *x = sluice_batch_double(ctx, 0);
  double *y = sluice_batch_result_double(ctx);
  for (int i = 0; i < nrow; i++) /* NaN in, NaN (NULL) out */
    y[i] = 1 / (1 + exp(-x[i]));
}

static void logit(sluice_context *ctx, int nrow, int argc) {
  const double *p = sluice_batch_double(ctx, 0);
  double *y = sluice_batch_result_double(ctx);
  for (int i = 0; i < nrow; i++) {
    y[i] = log(p[i] / (1 - p[i]));
    if (!(p[i] > 0 && p[i] < 1) && !isnan(p[i])) { /* this row only fails */
      sluice_batch_row(ctx, i);
      sluice_result_error(ctx, "logit(): %g is not in (0, 1)", p[i]);
    }
  }
}

int sluice_extension_init(sluice_ext *ext, const sluice_api *api) {
  SLUICE_EXTENSION_INIT(ext, api);
  static const sluice_function defs[] = {
      {.name = "logistic",
       .nargs = 1,
       .flags = SLUICE_DETERMINISTIC,
       .batch = logistic,
       .doc = "logistic(X): 1 / (1 + e^-X), a batch at a time"},
      {.name = "logit",
       .nargs = 1,
       .flags = SLUICE_DETERMINISTIC,
       .batch = logit,
       .doc = "logit(P): ln(P / (1 - P)), a batch at a time"},
  };
  for (size_t i = 0; i < sizeof defs / sizeof defs[0]; i++)
    if (sluice_create_function(ext, &defs[i])) return 1;
  return 0;
}
