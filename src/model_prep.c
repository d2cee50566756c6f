/*
** model_prep.c - k-means, scalers and pipelines (docs/models.md).
**
** kmeans:          the Euclidean distance to every centre (the nearest one
**                  is the primary output), as KMeans.transform / predict;
** standard_scaler: (x - mean) / scale, as StandardScaler.transform;
** min_max_scaler:  x * scale + min (clipped when asked), as MinMaxScaler;
** pipeline:        the steps in order, each step's output the next one's
**                  input, in the caller's scratch space.
*/
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

/* ---- k-means ------------------------------------------------------------- */

typedef struct kmeans {
  double *centers; /* k x n_in */
} kmeans;

static void kmeans_score(const sl_model *m, const double *x, int n, double *out, double *scratch) {
  (void)scratch;
  const kmeans *k = m->impl;
  for (int i = 0; i < n; i++) {
    const double *xi = x + (size_t)i * (size_t)m->n_in;
    for (int c = 0; c < m->n_out; c++) {
      const double *ce = k->centers + (size_t)c * (size_t)m->n_in;
      double s = 0;
      for (int j = 0; j < m->n_in; j++) {
        double d = xi[j] - ce[j];
        s += d * d;
      }
      out[(size_t)i * (size_t)m->n_out + (size_t)c] = sqrt(s);
    }
  }
}

static void kmeans_free(sl_model *m) {
  kmeans *k = m->impl;
  if (!k) return;
  free(k->centers);
  free(k);
}

static const sl_model_vt kmeans_vt = {"kmeans", kmeans_score, NULL, kmeans_free};

int sl_model_kmeans_load(sl_model *m, const cJSON *o, sl_err *err) {
  kmeans *k = sl_calloc(1, sizeof *k);
  m->vt = &kmeans_vt;
  m->impl = k;
  k->centers = sl_mj_mat(o, "centers", -1, m->n_in, &m->n_out, NULL, err);
  if (!k->centers) return -1;
  m->out = SL_OUT_DISTANCE;
  return 0;
}

/* ---- scalers ------------------------------------------------------------- */

typedef struct scaler {
  double *a, *b; /* standard: mean, scale (either may be NULL); minmax: scale, min */
  int minmax, clip;
  double lo, hi;
} scaler;

static void scaler_score(const sl_model *m, const double *x, int n, double *out, double *scratch) {
  (void)scratch;
  const scaler *s = m->impl;
  int w = m->n_in;
  for (int i = 0; i < n; i++)
    for (int j = 0; j < w; j++) {
      size_t at = (size_t)i * (size_t)w + (size_t)j;
      double v = x[at];
      if (s->minmax) {
        v = v * s->a[j] + s->b[j];
        if (s->clip) v = v < s->lo ? s->lo : v > s->hi ? s->hi : v;
      } else {
        if (s->a) v -= s->a[j];
        if (s->b) v /= s->b[j];
      }
      out[at] = v;
    }
}

static void scaler_free(sl_model *m) {
  scaler *s = m->impl;
  if (!s) return;
  free(s->a);
  free(s->b);
  free(s);
}

static const sl_model_vt scaler_vt = {"scaler", scaler_score, NULL, scaler_free};

/* An optional vector field: NULL when absent or null. */
static int opt_vec(const cJSON *o, const char *f, int n, double **out, sl_err *err) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, f);
  *out = NULL;
  if (!v || cJSON_IsNull(v)) return 0;
  *out = sl_mj_vec(o, f, n, NULL, err);
  return *out ? 0 : -1;
}

int sl_model_scaler_load(sl_model *m, const cJSON *o, int minmax, sl_err *err) {
  scaler *s = sl_calloc(1, sizeof *s);
  m->vt = &scaler_vt;
  m->impl = s;
  m->out = SL_OUT_TRANSFORM;
  m->n_out = m->n_in;
  s->minmax = minmax;
  if (!minmax) {
    if (opt_vec(o, "mean", m->n_in, &s->a, err) || opt_vec(o, "scale", m->n_in, &s->b, err))
      return -1;
    for (int j = 0; s->b && j < m->n_in; j++)
      if (s->b[j] == 0) {
        sl_err_set(err, SL_EBIND, "scale: element %d is zero", j);
        return -1;
      }
    return 0;
  }
  s->a = sl_mj_vec(o, "scale", m->n_in, NULL, err);
  if (!s->a) return -1;
  s->b = sl_mj_vec(o, "min", m->n_in, NULL, err);
  if (!s->b) return -1;
  const cJSON *clip = cJSON_GetObjectItemCaseSensitive(o, "clip");
  s->clip = cJSON_IsTrue(clip);
  if (s->clip) {
    double *r = sl_mj_vec(o, "feature_range", 2, NULL, err);
    if (!r) return -1;
    s->lo = r[0];
    s->hi = r[1];
    free(r);
  }
  return 0;
}

/* ---- pipelines ----------------------------------------------------------- */

typedef struct pipeline {
  sl_model **steps;
  int nsteps;
  size_t inter; /* scratch doubles per row for the intermediate outputs */
} pipeline;

/* Run every step but the last on the n rows x; returns the last step's
** input.  *scratch holds n * m->scratch_per_row doubles (NULL when that is
** 0): the intermediate outputs first, then the steps' own scratch, where
** *scratch is left pointing. */
static const double *run_prefix(const sl_model *m, const double *x, int n, double **scratch) {
  const pipeline *p = m->impl;
  const double *h = x;
  double *s = *scratch;
  if (!s) return h; /* no scratch: a single step that needs none (no NULL + 0) */
  double *tail = s + p->inter * (size_t)n; /* the steps' own scratch */
  for (int i = 0; i < p->nsteps - 1; i++) {
    const sl_model *st = p->steps[i];
    sl_model_score(st, h, n, s, tail);
    h = s;
    s += (size_t)n * (size_t)st->n_out;
  }
  *scratch = tail;
  return h;
}

static void pipeline_score(const sl_model *m, const double *x, int n, double *out,
                           double *scratch) {
  const pipeline *p = m->impl;
  const double *h = run_prefix(m, x, n, &scratch);
  sl_model_score(p->steps[p->nsteps - 1], h, n, out, scratch);
}

static void pipeline_decision(const sl_model *m, const double *x, int n, double *out,
                              double *scratch) {
  const pipeline *p = m->impl;
  const double *h = run_prefix(m, x, n, &scratch);
  const sl_model *last = p->steps[p->nsteps - 1];
  last->vt->decision(last, h, n, out, scratch);
}

static void pipeline_free(sl_model *m) {
  pipeline *p = m->impl;
  if (!p) return;
  for (int i = 0; i < p->nsteps; i++)
    sl_model_release(p->steps[i]);
  free(p->steps);
  free(p);
}

static const sl_model_vt pipeline_vt = {"pipeline", pipeline_score, NULL, pipeline_free};
static const sl_model_vt pipeline_dec_vt = {"pipeline", pipeline_score, pipeline_decision,
                                            pipeline_free};

int sl_model_pipeline_load(sl_model *m, const cJSON *o, sl_err *err) {
  pipeline *p = sl_calloc(1, sizeof *p);
  m->vt = &pipeline_vt;
  m->impl = p;
  const cJSON *steps = cJSON_GetObjectItemCaseSensitive(o, "steps");
  int ns = cJSON_IsArray(steps) ? cJSON_GetArraySize(steps) : 0;
  if (ns < 1) {
    sl_err_set(err, SL_EBIND, "steps: missing or empty");
    return -1;
  }
  p->steps = sl_calloc((size_t)ns, sizeof(sl_model *));
  int width = m->n_in, extra = 0;
  const cJSON *so;
  cJSON_ArrayForEach(so, steps) {
    sl_model *st = sl_calloc(1, sizeof *st);
    atomic_init(&st->ref, 1);
    p->steps[p->nsteps++] = st;
    sl_err e = {0};
    if (sl_model_load_object(st, so, &e)) {
      sl_err_set(err, SL_EBIND, "step %d: %s", p->nsteps - 1, e.msg ? e.msg : "cannot load");
      sl_err_clear(&e);
      return -1;
    }
    if (st->n_in != width) {
      sl_err_set(err, SL_EBIND, "step %d takes %d features but receives %d", p->nsteps - 1,
                 st->n_in, width);
      return -1;
    }
    if (p->nsteps < ns) {
      if (st->out != SL_OUT_TRANSFORM) {
        sl_err_set(err, SL_EBIND, "step %d is not a transformer", p->nsteps - 1);
        return -1;
      }
      p->inter += (size_t)st->n_out;
    }
    if (st->scratch_per_row > extra) extra = st->scratch_per_row;
    width = st->n_out;
  }
  sl_model *last = p->steps[ns - 1];
  m->scratch_per_row = (int)p->inter + extra;
  m->out = last->out;
  m->n_out = last->n_out;
  m->n_decision = last->n_decision;
  m->missing_ok = p->steps[0]->missing_ok;
  if (last->vt->decision) m->vt = &pipeline_dec_vt;
  if (!m->classes && last->classes) { /* the labels are the last step's */
    m->classes = last->classes;
    m->nclass = last->nclass;
    last->classes = NULL;
    last->nclass = 0;
  }
  return 0;
}
