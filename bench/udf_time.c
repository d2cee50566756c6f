/*
** udf_time.c - the cost of C functions inside the engine, for `make bench`
** (bench/udf_run.sh).
**
** usage: udf_time LIBUDFBENCH.so [ROWS] [REPEAT]
**
** Fills an in-memory table t(x REAL) with ROWS rows (default 2,000,000),
** loads the bench extension (bench/udf_bench.c), and times, through
** sluice_exec with the rows dropped at the end (no output encoding):
**
**   base      SELECT x FROM t                the scan and projection alone
**   builtin   SELECT 2 * x + 1 FROM t        the expression compiled to the VM
**   scalar    SELECT lin(x) FROM t           the same as a C function, per row
**   batch     SELECT lin_batch(x) FROM t     its batch form, once per batch
**
** REPEAT (default 5) rounds, the queries interleaved within a round; prints
** each query's min and median in ns per row, the ratios of the medians
** (whole query), and the ratios of the function's own cost (median minus
** base's median).  Checks that the three forms compute the same sum.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine_int.h"
#include "sluice.h"

#define NQ 4
static const char *const names[NQ] = {"base", "builtin", "scalar", "batch"};
static const char *const sqls[NQ] = {
    "SELECT x FROM t",
    "SELECT 2 * x + 1 FROM t",
    "SELECT lin(x) FROM t",
    "SELECT lin_batch(x) FROM t",
};

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Sum of the first column, to check the forms agree. */
static int add_row(void *ud, int ncol, const char *const *names_, sluice_value **row) {
  *(double *)ud += sluice_value_double(row[0]);
  return 0;
}

static void die(const char *what, char *err) {
  fprintf(stderr, "udf_time: %s: %s\n", what, err ? err : "?");
  exit(1);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: udf_time LIBUDFBENCH.so [ROWS] [REPEAT]\n");
    return 2;
  }
  long rows = argc > 2 ? atol(argv[2]) : 2000000;
  int repeat = argc > 3 ? atoi(argv[3]) : 5;
  if (rows < 1 || repeat < 1) return 2;
  sluice *db = sluice_open();
  char *err = NULL;
  if (sluice_exec(db, "CREATE TABLE t (x REAL)", NULL, NULL, &err)) die("create", err);
  if (sluice_load_extension(db, argv[1], &err)) die("load", err);
  sl_table *t = sl_catalog_table(&db->cat, "t");
  sl_value v = SL_VALUE_INIT;
  for (long i = 0; i < rows; i++) {
    sl_value_set_real(&v, (double)(i % 1000) * 0.25 - 100);
    sl_table_insert(t, &v);
  }
  /* The three forms must agree (sum over one run each). */
  double sums[NQ];
  for (int q = 1; q < NQ; q++) {
    sums[q] = 0;
    if (sluice_exec(db, sqls[q], add_row, &sums[q], &err)) die(sqls[q], err);
  }
  if (sums[1] != sums[2] || sums[1] != sums[3]) {
    fprintf(stderr, "udf_time: the forms disagree: %.17g %.17g %.17g\n", sums[1], sums[2], sums[3]);
    return 1;
  }
  double *ts = malloc(sizeof(double) * (size_t)(NQ * repeat));
  for (int r = 0; r < repeat; r++)
    for (int q = 0; q < NQ; q++) {
      double t0 = now();
      if (sluice_exec(db, sqls[q], NULL, NULL, &err)) die(sqls[q], err);
      ts[q * repeat + r] = (now() - t0) * 1e9 / (double)rows;
    }
  double med[NQ], mn[NQ];
  for (int q = 0; q < NQ; q++) {
    qsort(ts + q * repeat, (size_t)repeat, sizeof(double), cmp_double);
    mn[q] = ts[q * repeat];
    med[q] = ts[q * repeat + (repeat - 1) / 2];
  }
  printf("C functions: %ld rows of t(x REAL), %d rounds; ns per row (min / median)\n", rows,
         repeat);
  for (int q = 0; q < NQ; q++)
    printf("  %-8s %6.1f / %6.1f   %s\n", names[q], mn[q], med[q], sqls[q]);
  double fb = med[1] - med[0], fs = med[2] - med[0], fbt = med[3] - med[0];
  printf("  whole query (medians): scalar/builtin %.2fx (target < 2)   batch/builtin %.2fx (target "
         "<= 1.2)   batch/scalar %.2fx\n",
         med[2] / med[1], med[3] / med[1], med[3] / med[2]);
  printf("  the function alone (median - base): builtin %.1f ns, scalar %.1f ns, batch %.1f ns;"
         " scalar/builtin %.2fx, batch/builtin %.2fx\n",
         fb, fs, fbt, fs / fb, fbt / fb);
  free(ts);
  sl_value_free(&v);
  sluice_close(db);
  return 0;
}
