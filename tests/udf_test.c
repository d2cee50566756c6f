/*
** udf_test.c - C functions from the embedding side (sluice.h): extensions
** linked into the program (sluice_register_extension), a replaced function
** and its destroy callback, a failed LOAD that leaves the engine unchanged,
** a version this engine cannot load, and an aggregate's inverse driven
** directly through its descriptor (no operator removes rows from a frame
** yet).  Run from the build directory (make check), which holds udf/ and
** tests/ with the libraries.
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "engine_int.h"
#include "sluice.h"

/* ---- extensions linked in ---------------------------------------------------------- */

static int destroyed; /* destroy callbacks run */

static void count_destroy(void *user) {
  destroyed += *(int *)user;
}

static void add_user(sluice_context *ctx, int argc, sluice_value **argv) {
  sluice_result_int64(ctx, sluice_value_int64(argv[0]) + *(int *)sluice_user_data(ctx));
}

static void neg_batch(sluice_context *ctx, int nrow, int argc) {
  const double *x = sluice_batch_double(ctx, 0);
  double *y = sluice_batch_result_double(ctx);
  for (int i = 0; i < nrow; i++)
    y[i] = -x[i];
}

static int one = 1, hundred = 100;

static int init_plus1(sluice_ext *ext, const sluice_api *api) {
  SLUICE_EXTENSION_INIT(ext, api);
  sluice_function f = {
      .name = "plus", .nargs = 1, .user = &one, .scalar = add_user, .destroy = count_destroy};
  sluice_function g = {.name = "neg", .nargs = 1, .batch = neg_batch};
  return sluice_create_function(ext, &f) || sluice_create_function(ext, &g);
}

static int init_plus100(sluice_ext *ext, const sluice_api *api) {
  SLUICE_EXTENSION_INIT(ext, api);
  sluice_function f = {
      .name = "PLUS", .nargs = 1, .user = &hundred, .scalar = add_user, .destroy = count_destroy};
  return sluice_create_function(ext, &f);
}

static int init_future(sluice_ext *ext, const sluice_api *api) {
  if (sluice_extension_declare(ext, SLUICE_API_VERSION + 1)) return 1;
  return 0;
}

/* The first column of the last row, as text. */
static int last_cell(void *ud, int ncol, const char *const *names, sluice_value **row) {
  char *out = ud;
  const char *z = sluice_value_text(row[0], NULL);
  snprintf(out, 64, "%s", z ? z : "NULL");
  return 0;
}

/* Run sql; the first cell of its last row, or "ERROR: message". */
static const char *run(sluice *db, const char *sql) {
  static char out[256];
  char *err = NULL;
  strcpy(out, "(no row)");
  if (sluice_exec(db, sql, last_cell, out, &err)) {
    snprintf(out, sizeof out, "ERROR: %s", err);
    free(err);
  }
  return out;
}

static void test_linked(void) {
  sluice *db = sluice_open();
  char *err = NULL;
  CHECK(sluice_register_extension(db, "plus1", init_plus1, &err) == 0, "register: %s", err);
  CHECK(!strcmp(run(db, "SELECT plus(41)"), "42"), "plus(41): %s", run(db, "SELECT plus(41)"));
  CHECK(!strcmp(run(db, "SELECT neg(2.5)"), "-2.5"), "neg: %s", run(db, "SELECT neg(2.5)"));
  CHECK(sluice_register_extension(db, "plus100", init_plus100, &err) == 0, "register: %s", err);
  CHECK(!strcmp(run(db, "SELECT plus(1)"), "101"), "replaced: %s", run(db, "SELECT plus(1)"));
  CHECK(destroyed == 0, "destroy ran before close: %d", destroyed);
  CHECK(sluice_register_extension(db, "future", init_future, &err) != 0,
        "an extension of a newer API version loaded");
  char want[96];
  snprintf(want, sizeof want, "LOAD 'future': it was built for the sluice extension API version %d",
           SLUICE_API_VERSION + 1);
  CHECK(err && strstr(err, want), "version message: %s", err ? err : "(none)");
  free(err);
  sluice_close(db);
  CHECK(destroyed == 101, "destroy callbacks: %d, want both (1 + 100)", destroyed);
}

/* A LOAD that fails registers nothing, even what it registered first. */
static void test_failed_load(void) {
  sluice *db = sluice_open();
  char *err = NULL;
  CHECK(sluice_load_extension(db, "tests/libbad_FAIL.so", &err) != 0, "bad library loaded");
  CHECK(err && strstr(err, "deliberate failure"), "message: %s", err ? err : "(none)");
  free(err);
  const char *r = run(db, "SELECT bad_fn()");
  CHECK(strstr(r, "no such function: bad_fn"), "bad_fn after a failed LOAD: %s", r);
  sluice_close(db);
}

/* geomean's step / inverse / value / final through the descriptor LOAD made. */
static void test_inverse(void) {
  sluice *db = sluice_open();
  char *err = NULL;
  CHECK(sluice_load_extension(db, "udf/libstats.so", &err) == 0, "load: %s", err);
  const sl_func *f = sl_functab_find(db->cat.funcs, "geomean", 7, 1, NULL);
  CHECK(f && (f->flags & SL_FUNC_AGGREGATE) && f->xInverse && f->xValue, "geomean descriptor");
  if (f) {
    void *state = calloc(1, f->state_size);
    sl_value arg = SL_VALUE_INIT, out = SL_VALUE_INIT;
    sl_value *argv[1] = {&arg};
    sl_buf msg;
    sl_buf_init(&msg);
    sl_fctx ctx = {f, &out, state, SL_COLL_BINARY, 0, &msg, 0, 0, NULL, 0};
    const double xs[] = {2, 8, 4};
    for (int i = 0; i < 3; i++) {
      sl_value_set_real(&arg, xs[i]);
      f->xStep(&ctx, 1, argv);
    }
    f->xValue(&ctx);
    CHECK(fabs(sl_value_as_real(&out) - 4) < 1e-12, "geomean(2, 8, 4) = %g",
          sl_value_as_real(&out));
    sl_value_set_real(&arg, 2);
    f->xInverse(&ctx, 1, argv); /* the oldest row leaves the frame */
    f->xFinal(&ctx);
    CHECK(fabs(sl_value_as_real(&out) - sqrt(32)) < 1e-12, "geomean(8, 4) = %g",
          sl_value_as_real(&out));
    sl_value_set_real(&arg, -1);
    f->xStep(&ctx, 1, argv);
    CHECK(ctx.failed && strstr(msg.z, "not positive"), "a failing step: %s", msg.z ? msg.z : "");
    sl_buf_free(&msg);
    free(state);
  }
  sluice_close(db);
}

int main(void) {
  test_linked();
  test_failed_load();
  test_inverse();
  if (nfail)
    fprintf(stderr, "udf_test: %d failed\n", nfail);
  else
    printf("udf_test: ok\n");
  return nfail ? 1 : 0;
}
