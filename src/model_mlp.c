/*
** model_mlp.c - multi-layer perceptrons (kind "mlp", docs/models.md):
** scikit-learn's MLPClassifier and MLPRegressor.
**
** h = x; per layer h = act(h @ W + b), the last layer with the output
** activation, in scikit-learn's order (product, then bias, then activation).
** A batch goes through each layer as one cblas_dgemm (OpenBLAS, single
** threaded, its kernels chosen for the CPU at run time), a single row
** through vecmat (AVX2/FMA when the CPU has them); the activations live in the caller's scratch
*space, two
** buffers of the widest layer per row, used in turn.
*/
#include <cblas.h>
#include <immintrin.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

typedef enum { A_IDENTITY, A_RELU, A_TANH, A_LOGISTIC, A_SOFTMAX } act_kind;

typedef struct layer {
  double *w; /* n_in x n_out */
  double *b; /* n_out */
  int n_in, n_out;
} layer;

typedef struct mlp {
  layer *layers;
  int nlayers;
  int widest;
  act_kind hidden, output;
  int binary; /* one logistic output: probabilities [1 - p, p] */
} mlp;

static void activate(act_kind a, double *h, int n, int w) {
  size_t len = (size_t)n * (size_t)w;
  switch (a) {
  case A_IDENTITY: break;
  case A_RELU: /* without a branch (a mispredicted one per value costs more than the math) */
    for (size_t i = 0; i < len; i++)
      h[i] *= (double)(h[i] > 0); /* no branch: x or (-)0 */
    break;
  case A_TANH:
    for (size_t i = 0; i < len; i++)
      h[i] = tanh(h[i]);
    break;
  case A_LOGISTIC:
    for (size_t i = 0; i < len; i++)
      h[i] = sl_expit(h[i]);
    break;
  case A_SOFTMAX:
    for (int r = 0; r < n; r++)
      sl_softmax(h + (size_t)r * (size_t)w, w);
    break;
  }
}

/* o[0..nout) = h[0..nin) @ W (nin x nout, row-major), one row: with AVX2 and
** FMA (checked at run time), eight accumulators of four outputs each stay
** in registers while h is read once; else OpenBLAS's dgemv. */
__attribute__((target("avx2,fma"))) static void
vecmat_avx2(const double *h, int nin, const double *W, int nout, const double *bias, double *o) {
  int j0 = 0;
  for (; j0 + 32 <= nout; j0 += 32) {
    __m256d a0 = _mm256_setzero_pd(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
    for (int i = 0; i < nin; i++) {
      __m256d b = _mm256_broadcast_sd(&h[i]);
      const double *w = W + (size_t)i * (size_t)nout + j0;
      a0 = _mm256_fmadd_pd(b, _mm256_loadu_pd(w), a0);
      a1 = _mm256_fmadd_pd(b, _mm256_loadu_pd(w + 4), a1);
      a2 = _mm256_fmadd_pd(b, _mm256_loadu_pd(w + 8), a2);
      a3 = _mm256_fmadd_pd(b, _mm256_loadu_pd(w + 12), a3);
      a4 = _mm256_fmadd_pd(b, _mm256_loadu_pd(w + 16), a4);
      a5 = _mm256_fmadd_pd(b, _mm256_loadu_pd(w + 20), a5);
      a6 = _mm256_fmadd_pd(b, _mm256_loadu_pd(w + 24), a6);
      a7 = _mm256_fmadd_pd(b, _mm256_loadu_pd(w + 28), a7);
    }
    /* the product, then the bias, as scikit-learn adds them */
    const double *b = bias + j0;
    _mm256_storeu_pd(o + j0, _mm256_add_pd(a0, _mm256_loadu_pd(b)));
    _mm256_storeu_pd(o + j0 + 4, _mm256_add_pd(a1, _mm256_loadu_pd(b + 4)));
    _mm256_storeu_pd(o + j0 + 8, _mm256_add_pd(a2, _mm256_loadu_pd(b + 8)));
    _mm256_storeu_pd(o + j0 + 12, _mm256_add_pd(a3, _mm256_loadu_pd(b + 12)));
    _mm256_storeu_pd(o + j0 + 16, _mm256_add_pd(a4, _mm256_loadu_pd(b + 16)));
    _mm256_storeu_pd(o + j0 + 20, _mm256_add_pd(a5, _mm256_loadu_pd(b + 20)));
    _mm256_storeu_pd(o + j0 + 24, _mm256_add_pd(a6, _mm256_loadu_pd(b + 24)));
    _mm256_storeu_pd(o + j0 + 28, _mm256_add_pd(a7, _mm256_loadu_pd(b + 28)));
  }
  for (; j0 + 4 <= nout; j0 += 4) {
    __m256d a = _mm256_setzero_pd();
    for (int i = 0; i < nin; i++)
      a = _mm256_fmadd_pd(_mm256_broadcast_sd(&h[i]),
                          _mm256_loadu_pd(W + (size_t)i * (size_t)nout + j0), a);
    _mm256_storeu_pd(o + j0, _mm256_add_pd(a, _mm256_loadu_pd(bias + j0)));
  }
  for (; j0 < nout; j0++) {
    double a = 0;
    for (int i = 0; i < nin; i++)
      a += h[i] * W[(size_t)i * (size_t)nout + j0];
    o[j0] = a + bias[j0];
  }
}

/* n rows of width w: add the bias to each, and with relu apply it (max(x, 0))
** in the same pass, four values at a time. */
__attribute__((target("avx2"))) static void bias_act_avx2(double *o, int n, int w,
                                                          const double *bias, int relu) {
  __m256d zero = _mm256_setzero_pd();
  for (int r = 0; r < n; r++) {
    double *row = o + (size_t)r * (size_t)w;
    int j = 0;
    for (; j + 4 <= w; j += 4) {
      __m256d v = _mm256_add_pd(_mm256_loadu_pd(row + j), _mm256_loadu_pd(bias + j));
      _mm256_storeu_pd(row + j, relu ? _mm256_max_pd(v, zero) : v);
    }
    for (; j < w; j++) {
      double v = row[j] + bias[j];
      row[j] = relu && !(v > 0) ? 0 : v;
    }
  }
}

__attribute__((target("avx2"))) static void relu_avx2(double *o, int w) {
  __m256d zero = _mm256_setzero_pd();
  int j = 0;
  for (; j + 4 <= w; j += 4)
    _mm256_storeu_pd(o + j, _mm256_max_pd(_mm256_loadu_pd(o + j), zero));
  for (; j < w; j++)
    o[j] = o[j] > 0 ? o[j] : 0;
}

static int have_avx2(void) {
  static int avx2 = -1;
  if (avx2 < 0) avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return avx2;
}

/* o = h @ W + bias for one row. */
static void vecmat(const double *h, int nin, const double *W, int nout, const double *bias,
                   double *o) {
  if (have_avx2()) {
    vecmat_avx2(h, nin, W, nout, bias, o);
    return;
  }
  cblas_dgemv(CblasRowMajor, CblasTrans, nin, nout, 1.0, W, nout, h, 1, 0.0, o, 1);
  for (int j = 0; j < nout; j++)
    o[j] += bias[j];
}

static void mlp_score(const sl_model *m, const double *x, int n, double *out, double *scratch) {
  const mlp *p = m->impl;
  double *buf[2] = {scratch, scratch + (size_t)n * (size_t)p->widest};
  const double *h = x;
  int w = m->n_in;
  for (int l = 0; l < p->nlayers; l++) {
    const layer *ly = &p->layers[l];
    double *o = buf[l & 1];
    act_kind act = l == p->nlayers - 1 ? p->output : p->hidden;
    if (n == 1) {
      vecmat(h, w, ly->w, ly->n_out, ly->b, o);
      if (act == A_RELU && have_avx2()) {
        relu_avx2(o, ly->n_out);
        act = A_IDENTITY; /* done */
      }
    } else {
      cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, ly->n_out, w, 1.0, h, w, ly->w,
                  ly->n_out, 0.0, o, ly->n_out);
      if (have_avx2()) {
        bias_act_avx2(o, n, ly->n_out, ly->b, act == A_RELU);
        if (act == A_RELU) act = A_IDENTITY; /* done */
      } else {
        for (int r = 0; r < n; r++) {
          double *orow = o + (size_t)r * (size_t)ly->n_out;
          for (int j = 0; j < ly->n_out; j++)
            orow[j] += ly->b[j];
        }
      }
    }
    activate(act, o, n, ly->n_out);
    h = o;
    w = ly->n_out;
  }
  for (int r = 0; r < n; r++) {
    if (p->binary) {
      double p1 = h[r];
      out[2 * (size_t)r] = 1.0 - p1;
      out[2 * (size_t)r + 1] = p1;
    } else {
      memcpy(out + (size_t)r * (size_t)m->n_out, h + (size_t)r * (size_t)w,
             sizeof(double) * (size_t)w);
    }
  }
}

static void mlp_free(sl_model *m) {
  mlp *p = m->impl;
  if (!p) return;
  for (int l = 0; l < p->nlayers; l++) {
    free(p->layers[l].w);
    free(p->layers[l].b);
  }
  free(p->layers);
  free(p);
}

static const sl_model_vt mlp_vt = {"mlp", mlp_score, NULL, mlp_free};

static int parse_act(const char *s, act_kind *a) {
  static const char *names[] = {"identity", "relu", "tanh", "logistic", "softmax"};
  for (int i = 0; i < 5; i++)
    if (!strcmp(s, names[i])) {
      *a = (act_kind)i;
      return 0;
    }
  return -1;
}

int sl_model_mlp_load(sl_model *m, const cJSON *o, sl_err *err) {
  mlp *p = sl_calloc(1, sizeof *p);
  m->vt = &mlp_vt;
  m->impl = p;
  const char *hid = sl_mj_str(o, "activation", err);
  if (!hid) return -1;
  const char *outa = sl_mj_str(o, "out_activation", err);
  if (!outa) return -1;
  if (parse_act(hid, &p->hidden) || p->hidden == A_SOFTMAX || parse_act(outa, &p->output)) {
    sl_err_set(err, SL_EBIND, "activation: unknown \"%s\" / \"%s\"", hid, outa);
    return -1;
  }
  const cJSON *cs = cJSON_GetObjectItemCaseSensitive(o, "coefs");
  const cJSON *is = cJSON_GetObjectItemCaseSensitive(o, "intercepts");
  int nl = cJSON_IsArray(cs) ? cJSON_GetArraySize(cs) : 0;
  if (nl < 1 || !cJSON_IsArray(is) || cJSON_GetArraySize(is) != nl) {
    sl_err_set(err, SL_EBIND, "coefs/intercepts: missing or of different lengths");
    return -1;
  }
  p->layers = sl_calloc((size_t)nl, sizeof(layer));
  int w = m->n_in;
  for (int l = 0; l < nl; l++) {
    /* wrap the l-th matrix and vector as fields of a temporary object */
    cJSON *tmp = cJSON_CreateObject();
    cJSON_AddItemReferenceToObject(tmp, "coefs", cJSON_GetArrayItem(cs, l));
    cJSON_AddItemReferenceToObject(tmp, "intercepts", cJSON_GetArrayItem(is, l));
    layer *ly = &p->layers[l];
    ly->w = sl_mj_mat(tmp, "coefs", w, -1, NULL, &ly->n_out, err);
    ly->b = ly->w ? sl_mj_vec(tmp, "intercepts", ly->n_out, NULL, err) : NULL;
    cJSON_Delete(tmp);
    p->nlayers++;
    if (!ly->b) return -1; /* err says which field and shape */
    ly->n_in = w;
    w = ly->n_out;
    if (w > p->widest) p->widest = w;
  }
  m->scratch_per_row = 2 * p->widest;
  if (p->output == A_IDENTITY) {
    if (w != 1) {
      sl_err_set(err, SL_EBIND, "a regressor with %d outputs (one is supported)", w);
      return -1;
    }
    m->out = SL_OUT_VALUE;
    m->n_out = 1;
  } else if (p->output == A_LOGISTIC && w == 1) {
    p->binary = 1;
    m->out = SL_OUT_PROBA;
    m->n_out = 2;
  } else if (p->output == A_SOFTMAX) {
    m->out = SL_OUT_PROBA;
    m->n_out = w;
  } else {
    sl_err_set(err, SL_EBIND, "out_activation \"%s\" with %d outputs is not supported", outa, w);
    return -1;
  }
  return 0;
}
