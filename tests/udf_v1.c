/*
** udf_v1.c - a test extension built for the extension API version 1 (no
** batch form; sluice_function without the `batch` member), as an extension
** compiled against an older sluice.h would be: the engine must read its
** definitions with the version 1 layout.  They are registered from one
** array, so a wrong layout would read the next definition's name as a
** batch callback.
**
**   v1_add(x, y)  x + y as integers
**   v1_count(x)   an aggregate: the number of non-NULL x
*/
#define SLUICE_USE_API_VERSION 1
#define SLUICE_EXTENSION
#include <sluice.h>

static void v1_add(sluice_context *ctx, int argc, sluice_value **argv) {
  sluice_result_int64(ctx, sluice_value_int64(argv[0]) + sluice_value_int64(argv[1]));
}

static void v1_count_step(sluice_context *ctx, int argc, sluice_value **argv) {
  if (sluice_value_type(argv[0]) != SLUICE_NULL) ++*(int64_t *)sluice_aggregate_state(ctx);
}

static void v1_count_final(sluice_context *ctx) {
  sluice_result_int64(ctx, *(int64_t *)sluice_aggregate_state(ctx));
}

int sluice_extension_init(sluice_ext *ext, const sluice_api *api) {
  SLUICE_EXTENSION_INIT(ext, api);
  static const sluice_function defs[] = {
      {.name = "v1_add", .nargs = 2, .scalar = v1_add, .doc = "x + y (API version 1)"},
      {.name = "v1_count",
       .nargs = 1,
       .step = v1_count_step,
       .final = v1_count_final,
       .value = v1_count_final,
       .state_size = sizeof(int64_t),
       .doc = "count of non-NULL x (API version 1)"},
  };
  for (int i = 0; i < 2; i++)
    if (sluice_create_function(ext, &defs[i])) return 1;
  return 0;
}
