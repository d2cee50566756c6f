/*
** udf_probe.c - a test extension (API version 2) that exercises the C
** function API for tests/udf.sh: every accessor and result setter, the
** batch form read and written both ways, and what the engine passes a
** batch function (how many rows per call).
**
**   batch_rows(x)      batch form only: every row gets the nrow of its call
**   twice(x)           batch form, integers in and out: 2 * x
**   shout(x)           batch form, row by row: x upper-cased, 'boom' fails
**   echo(x)            sluice_result_value: x itself
**   describe(x)        text: the type, int64, double, text and blob length of x
**   vsum(x)            the sum of a VECTOR's elements (NULL for other types)
**   vdouble(x)         a VECTOR of x's elements doubled
**   blob3()            a 3-byte blob
**   greeting()         the probe.greeting setting read when loaded, or NULL
*/
#define SLUICE_EXTENSION
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sluice.h>

static void batch_rows(sluice_context *ctx, int nrow, int argc) {
  int64_t *y = sluice_batch_result_int64(ctx);
  for (int i = 0; i < nrow; i++)
    y[i] = nrow;
}

static void twice(sluice_context *ctx, int nrow, int argc) {
  const int64_t *x = sluice_batch_int64(ctx, 0);
  int64_t *y = sluice_batch_result_int64(ctx);
  for (int i = 0; i < nrow; i++)
    y[i] = 2 * x[i];
}

static void shout(sluice_context *ctx, int nrow, int argc) {
  for (int i = 0; i < nrow; i++) {
    sluice_value *v = sluice_batch_value(ctx, 0, i);
    sluice_batch_row(ctx, i);
    size_t n;
    const char *z = sluice_value_text(v, &n);
    if (!z) continue; /* NULL stays NULL */
    if (n == 4 && memcmp(z, "boom", 4) == 0) {
      sluice_result_error(ctx, "shout(): boom at row %d", i);
      continue;
    }
    char buf[64];
    if (n >= sizeof buf) n = sizeof buf - 1;
    for (size_t k = 0; k < n; k++)
      buf[k] = (char)toupper((unsigned char)z[k]);
    sluice_result_text(ctx, buf, n);
  }
}

static void echo(sluice_context *ctx, int argc, sluice_value **argv) {
  sluice_result_value(ctx, argv[0]);
}

static void describe(sluice_context *ctx, int argc, sluice_value **argv) {
  size_t nb = 0;
  const void *b = sluice_value_blob(argv[0], &nb);
  char out[256];
  int t = sluice_value_type(argv[0]);
  long long i = (long long)sluice_value_int64(argv[0]);
  double d = sluice_value_double(argv[0]);
  const char *z = sluice_value_text(argv[0], NULL);
  snprintf(out, sizeof out, "%d|%lld|%g|%s|%zu%s", t, i, d, z ? z : "-", nb, b ? "" : "!");
  sluice_result_text(ctx, out, strlen(out));
}

static void vsum(sluice_context *ctx, int argc, sluice_value **argv) {
  size_t n;
  const double *x = sluice_value_vector(argv[0], &n);
  if (!x) return;
  double s = 0;
  for (size_t k = 0; k < n; k++)
    s += x[k];
  sluice_result_double(ctx, s);
}

static void vdouble(sluice_context *ctx, int argc, sluice_value **argv) {
  size_t n;
  const double *x = sluice_value_vector(argv[0], &n);
  if (!x) return;
  double y[16];
  if (n > 16) n = 16;
  for (size_t k = 0; k < n; k++)
    y[k] = 2 * x[k];
  sluice_result_vector(ctx, y, n);
}

static void blob3(sluice_context *ctx, int argc, sluice_value **argv) {
  sluice_result_blob(ctx, "a\0b", 3);
}

static void greeting(sluice_context *ctx, int argc, sluice_value **argv) {
  const char *g = sluice_user_data(ctx);
  if (g)
    sluice_result_text(ctx, g, strlen(g));
  else
    sluice_result_null(ctx);
}

int sluice_extension_init(sluice_ext *ext, const sluice_api *api) {
  SLUICE_EXTENSION_INIT(ext, api);
  const char *g = sluice_extension_setting(ext, "probe.greeting");
  static const sluice_function defs[] = {
      {.name = "batch_rows", .nargs = 1, .batch = batch_rows},
      {.name = "twice", .nargs = 1, .batch = twice, .flags = SLUICE_DETERMINISTIC},
      {.name = "shout", .nargs = 1, .batch = shout},
      {.name = "echo", .nargs = 1, .scalar = echo},
      {.name = "describe", .nargs = 1, .scalar = describe},
      {.name = "vsum", .nargs = 1, .scalar = vsum},
      {.name = "vdouble", .nargs = 1, .scalar = vdouble},
      {.name = "blob3", .nargs = 0, .scalar = blob3},
  };
  for (size_t i = 0; i < sizeof defs / sizeof defs[0]; i++)
    if (sluice_create_function(ext, &defs[i])) return 1;
  sluice_function gdef = {.name = "greeting", .nargs = 0, .scalar = greeting, .destroy = free};
  gdef.user = g ? strdup(g) : NULL;
  return sluice_create_function(ext, &gdef);
}
