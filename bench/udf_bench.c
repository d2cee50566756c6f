/*
** udf_bench.c - the C functions of the UDF benchmark (bench/udf_run.sh):
** the same trivial expression, 2 * x + 1, three ways.
**
**   lin(x)        a scalar function, called once per row
**   lin_batch(x)  the batch form only, called once per batch of rows
**
** The built-in peer is the expression 2 * x + 1 itself.  NULL gives NULL
** in each, as in the expression.
*/
#define SLUICE_EXTENSION
#include <sluice.h>

static void lin(sluice_context *ctx, int argc, sluice_value **argv) {
  if (sluice_value_type(argv[0]) == SLUICE_NULL) return;
  sluice_result_double(ctx, 2 * sluice_value_double(argv[0]) + 1);
}

static void lin_batch(sluice_context *ctx, int nrow, int argc) {
  const double *x = sluice_batch_double(ctx, 0);
  double *y = sluice_batch_result_double(ctx);
  for (int i = 0; i < nrow; i++) /* a NULL is NaN, and a NaN result NULL */
    y[i] = 2 * x[i] + 1;
}

int sluice_extension_init(sluice_ext *ext, const sluice_api *api) {
  SLUICE_EXTENSION_INIT(ext, api);
  static const sluice_function defs[] = {
      {.name = "lin", .nargs = 1, .flags = SLUICE_DETERMINISTIC, .scalar = lin},
      {.name = "lin_batch", .nargs = 1, .flags = SLUICE_DETERMINISTIC, .batch = lin_batch},
  };
  for (int i = 0; i < 2; i++)
    if (sluice_create_function(ext, &defs[i])) return 1;
  return 0;
}
