/*
** model_linear.c - linear models (kind "linear", docs/models.md):
** LinearRegression, Ridge, Lasso, ElasticNet, SGDRegressor,
** LogisticRegression (binary, multinomial, one-vs-rest) and SGDClassifier.
**
** The decision is d = coef @ x + intercept per row; the link turns it into a
** value or class probabilities exactly as scikit-learn 1.2 does (expit is
** 1 / (1 + exp(-d)); softmax subtracts the row maximum, exponentiates and
** divides by the sum).  A batch with several decision rows (multinomial
** models) is one cblas_dgemm; a single decision row is a loop per row.
*/
#include <cblas.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

typedef enum { L_IDENTITY, L_LOGISTIC, L_SOFTMAX, L_OVR, L_NONE } link_kind;

typedef struct linear {
  double *coef;      /* rows x n_in */
  double *intercept; /* rows */
  int rows;
  link_kind link;
} linear;

/* d (n x rows) = x (n x n_in) @ coef^T + intercept. */
static void decide(const sl_model *m, const double *x, int n, double *d) {
  const linear *l = m->impl;
  int k = m->n_in;
  if (l->rows >= 4 && n >= 8) {
    for (int i = 0; i < n; i++)
      memset(d + (size_t)i * (size_t)l->rows, 0, sizeof(double) * (size_t)l->rows);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, l->rows, k, 1.0, x, k, l->coef, k, 0.0,
                d, l->rows);
    for (int i = 0; i < n; i++)
      for (int r = 0; r < l->rows; r++)
        d[(size_t)i * (size_t)l->rows + (size_t)r] += l->intercept[r];
    return;
  }
  for (int i = 0; i < n; i++) {
    const double *xi = x + (size_t)i * (size_t)k;
    for (int r = 0; r < l->rows; r++) {
      const double *w = l->coef + (size_t)r * (size_t)k;
      double s = 0;
      for (int j = 0; j < k; j++)
        s += xi[j] * w[j];
      d[(size_t)i * (size_t)l->rows + (size_t)r] = s + l->intercept[r];
    }
  }
}

static void linear_decision(const sl_model *m, const double *x, int n, double *out,
                            double *scratch) {
  (void)scratch;
  decide(m, x, n, out);
}

static void linear_score(const sl_model *m, const double *x, int n, double *out, double *scratch) {
  const linear *l = m->impl;
  if (l->link == L_IDENTITY || l->link == L_NONE || l->link == L_OVR || l->rows == m->n_out) {
    decide(m, x, n, out); /* out is n x rows */
  } else {
    decide(m, x, n, scratch); /* one decision row, two probabilities */
  }
  for (int i = 0; i < n; i++) {
    double *p = out + (size_t)i * (size_t)m->n_out;
    switch (l->link) {
    case L_IDENTITY:
    case L_NONE: break;
    case L_LOGISTIC: {
      double p1 = sl_expit(scratch[i]);
      p[0] = 1.0 - p1;
      p[1] = p1;
      break;
    }
    case L_SOFTMAX:
      if (l->rows == 1) {
        double d = scratch[i];
        p[0] = -d;
        p[1] = d;
      }
      sl_softmax(p, m->n_out);
      break;
    case L_OVR: {
      double s = 0;
      for (int j = 0; j < m->n_out; j++) {
        p[j] = sl_expit(p[j]);
        s += p[j];
      }
      for (int j = 0; j < m->n_out; j++)
        p[j] /= s;
      break;
    }
    }
  }
}

static void linear_free(sl_model *m) {
  linear *l = m->impl;
  if (!l) return;
  free(l->coef);
  free(l->intercept);
  free(l);
}

static const sl_model_vt linear_vt = {"linear", linear_score, linear_decision, linear_free};

int sl_model_linear_load(sl_model *m, const cJSON *o, sl_err *err) {
  linear *l = sl_calloc(1, sizeof *l);
  m->vt = &linear_vt;
  m->impl = l;
  int cols = 0;
  l->coef = sl_mj_mat(o, "coef", -1, m->n_in, &l->rows, &cols, err);
  if (!l->coef) return -1;
  l->intercept = sl_mj_vec(o, "intercept", l->rows, NULL, err);
  if (!l->intercept) return -1;
  const char *link = sl_mj_str(o, "link", err);
  if (!link) return -1;
  m->n_decision = l->rows;
  m->scratch_per_row = 1;
  if (!strcmp(link, "identity")) {
    if (l->rows != 1) {
      sl_err_set(err, SL_EBIND, "coef: a regressor with %d outputs (one is supported)", l->rows);
      return -1;
    }
    l->link = L_IDENTITY;
    m->out = SL_OUT_VALUE;
    m->n_out = 1;
    return 0;
  }
  if (!m->classes) {
    sl_err_set(err, SL_EBIND, "a classifier needs \"classes\"");
    return -1;
  }
  int k = m->nclass;
  if (!strcmp(link, "none")) {
    l->link = L_NONE;
    m->out = SL_OUT_DECISION;
    m->n_out = l->rows;
    if (!(l->rows == 1 && k == 2) && l->rows != k) goto shape;
    return 0;
  }
  m->out = SL_OUT_PROBA;
  m->n_out = k;
  if (!strcmp(link, "logistic")) {
    l->link = L_LOGISTIC;
    if (l->rows != 1 || k != 2) goto shape;
  } else if (!strcmp(link, "softmax")) {
    l->link = L_SOFTMAX;
    if (!(l->rows == 1 && k == 2) && l->rows != k) goto shape;
  } else if (!strcmp(link, "ovr")) {
    l->link = L_OVR;
    if (l->rows != k || k < 3) goto shape;
  } else {
    sl_err_set(err, SL_EBIND, "link: unknown link \"%s\"", link);
    return -1;
  }
  return 0;
shape:
  sl_err_set(err, SL_EBIND, "coef: %d rows do not fit %d classes with link \"%s\"", l->rows, k,
             link);
  return -1;
}
