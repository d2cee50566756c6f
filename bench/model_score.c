/*
** model_score.c - sluice's model evaluators alone, for `make bench`.
**
** usage: model_score MODEL.json X.csv EXPECTED
**
** Loads the model with sl_model_load, reads the rows of X.csv (header, then
** id and the features), and scores them one row per call (n = 1, the way a
** record-at-a-time engine would call it) and 1000 rows per call (as op_score
** does); prints rows/s of each and the largest difference of P(class 1) from
** EXPECTED (the library's, one per line).  For an XGBoost model it also
** times libxgboost's C API (XGBoosterPredictFromDense, loaded with dlopen
** when libxgboost.so is installed) the same two ways, for the choice between
** it and sluice's own evaluator.
*/
#include <dlfcn.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cblas.h>

#include "model.h"

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Read the feature rows of a CSV file (id first): returns rows, sets *n. */
static double *read_csv(const char *path, int nf, int *n) {
  FILE *f = fopen(path, "r");
  if (!f) return NULL;
  char line[4096];
  int cap = 1024, rows = 0;
  double *x = malloc(sizeof(double) * (size_t)cap * (size_t)nf);
  if (!fgets(line, sizeof line, f)) return NULL; /* header */
  while (fgets(line, sizeof line, f)) {
    if (rows == cap) {
      cap *= 2;
      x = realloc(x, sizeof(double) * (size_t)cap * (size_t)nf);
    }
    char *p = strchr(line, ',');
    for (int j = 0; j < nf && p; j++) {
      x[(size_t)rows * (size_t)nf + (size_t)j] = strtod(p + 1, &p);
    }
    rows++;
  }
  fclose(f);
  *n = rows;
  return x;
}

/* libxgboost's C API, when present. */
typedef void *BoosterHandle;
typedef uint64_t bst_ulong;
static int (*XGBoosterCreate)(const void *, bst_ulong, BoosterHandle *);
static int (*XGBoosterLoadModel)(BoosterHandle, const char *);
static int (*XGBoosterPredictFromDense)(BoosterHandle, const char *, const char *, void *,
                                        bst_ulong const **, bst_ulong *, const float **);
static int (*XGBoosterSetParam)(BoosterHandle, const char *, const char *);
static const char *(*XGBGetLastError)(void);

static int xgb_predict(BoosterHandle b, const double *x, int n, int nf, const float **out) {
  char arr[256];
  snprintf(arr, sizeof arr,
           "{\"data\": [%llu, true], \"shape\": [%d, %d], \"typestr\": \"<f8\", \"version\": 3}",
           (unsigned long long)(uintptr_t)x, n, nf);
  const char *cfg = "{\"type\": 0, \"training\": false, \"iteration_begin\": 0, "
                    "\"iteration_end\": 0, \"strict_shape\": false, \"missing\": NaN, "
                    "\"cache_id\": 0}";
  bst_ulong const *shape;
  bst_ulong dim;
  return XGBoosterPredictFromDense(b, arr, cfg, NULL, &shape, &dim, out);
}

static void bench_xgb(const char *path, const double *x, int n, int nf) {
  void *h = dlopen("libxgboost.so", RTLD_NOW);
  if (!h) h = dlopen("libxgboost.so.0", RTLD_NOW);
  if (!h) {
    printf("  libxgboost: not installed (libxgboost-dev), not compared\n");
    return;
  }
  *(void **)&XGBoosterCreate = dlsym(h, "XGBoosterCreate");
  *(void **)&XGBoosterLoadModel = dlsym(h, "XGBoosterLoadModel");
  *(void **)&XGBoosterPredictFromDense = dlsym(h, "XGBoosterPredictFromDense");
  *(void **)&XGBoosterSetParam = dlsym(h, "XGBoosterSetParam");
  *(void **)&XGBGetLastError = dlsym(h, "XGBGetLastError");
  BoosterHandle b;
  if (!XGBoosterCreate || !XGBoosterPredictFromDense || XGBoosterCreate(NULL, 0, &b) ||
      XGBoosterLoadModel(b, path)) {
    printf("  libxgboost: cannot load the model\n");
    return;
  }
  XGBoosterSetParam(b, "nthread", "1");
  const float *out;
  double t0 = now();
  for (int i = 0; i < n; i++)
    if (xgb_predict(b, x + (size_t)i * (size_t)nf, 1, nf, &out)) {
      printf("  libxgboost: %s\n", XGBGetLastError ? XGBGetLastError() : "predict failed");
      return;
    }
  double t1 = now();
  for (int i = 0; i < n; i += 1000)
    if (xgb_predict(b, x + (size_t)i * (size_t)nf, n - i < 1000 ? n - i : 1000, nf, &out)) return;
  double t2 = now();
  printf("  libxgboost C API: per_row %.0f rows/s  batched %.0f rows/s\n", n / (t1 - t0),
         n / (t2 - t1));
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: model_score MODEL.json X.csv EXPECTED\n");
    return 2;
  }
  openblas_set_num_threads(1); /* as the engine runs it */
  sl_err err = {0};
  sl_model *m = sl_model_load(argv[1], &err);
  if (!m) {
    fprintf(stderr, "%s\n", err.msg);
    return 1;
  }
  int n = 0, nf = m->n_in;
  double *x = read_csv(argv[2], nf, &n);
  if (!x || !n) return 1;
  double *out = malloc(sizeof(double) * (size_t)n * (size_t)m->n_out);
  double *scratch = malloc(sizeof(double) * 1000 * (size_t)(m->scratch_per_row + 1));
  double t0 = now();
  for (int i = 0; i < n; i++)
    sl_model_score(m, x + (size_t)i * (size_t)nf, 1, out + (size_t)i * (size_t)m->n_out, scratch);
  double t1 = now();
  for (int i = 0; i < n; i += 1000)
    sl_model_score(m, x + (size_t)i * (size_t)nf, n - i < 1000 ? n - i : 1000,
                   out + (size_t)i * (size_t)m->n_out, scratch);
  double t2 = now();
  FILE *e = fopen(argv[3], "r");
  double maxd = 0, want;
  for (int i = 0; e && i < n && fscanf(e, "%lf", &want) == 1; i++) {
    double d = fabs(out[(size_t)i * (size_t)m->n_out + 1] - want);
    if (d > maxd) maxd = d;
  }
  if (e) fclose(e);
  printf("  sluice evaluator: per_row %.0f rows/s  batched %.0f rows/s  max |diff| %.3g\n",
         n / (t1 - t0), n / (t2 - t1), maxd);
  if (!strncmp(m->kind_desc, "XGBoost", 7)) bench_xgb(argv[1], x, n, nf);
  free(x);
  free(out);
  free(scratch);
  sl_model_release(m);
  return 0;
}
