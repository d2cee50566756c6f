/*
** model_trees.c - tree ensembles: scikit-learn's decision trees, random
** forests, extra trees and gradient boosting (kind "tree_ensemble",
** docs/models.md), and XGBoost gbtree models read from xgboost's own JSON.
**
** Both are one flat node array per tree.  They differ only in how a record
** goes down a tree, and each follows its library bit for bit:
**   scikit-learn: x is rounded to float32 and compared in double:
**                 (double)(float)x <= threshold goes left;
**   XGBoost:      x and the split are float32, x < split goes left, a
**                 missing value (NULL/NaN) takes default_left; leaf values are
**                 summed in float32 as xgboost's CPU predictor does.
** The combination (mean of class probabilities, mean, boosting with a link)
** is computed in the same order as the library.
*/
#include <cjson/cJSON.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

/* 16 bytes.  Records are compared as float32 values: scikit-learn rounds x
** to float32 and compares x <= t in double, which for a float x is the same
** as x <= the largest float not above t, stored here; XGBoost's splits are
** float32 already. */
typedef struct tnode {
  int32_t kid[2];   /* children: [1] where x goes when the test holds (left),
                    ** [0] otherwise (right); kid[1] < 0 at a leaf */
  uint32_t feature; /* feature index; bit 31: XGBoost's default_left */
  float threshold;
} tnode;
#define DEFAULT_LEFT 0x80000000u

typedef struct tree {
  tnode *nodes;
  double *value; /* nnodes x nv */
  int nnodes;
  int depth;  /* longest root-to-leaf path (leaves point to themselves) */
  int output; /* output column it adds to (boosting) */
} tree;

typedef enum { C_PROBA_MEAN, C_MEAN, C_BOOST, C_XGB } combine_kind;
typedef enum { K_IDENTITY, K_LOGISTIC, K_SOFTMAX } link_kind;

typedef struct ensemble {
  tree *trees;
  int ntrees;
  int nv; /* values per node */
  combine_kind combine;
  link_kind link;
  int nraw;     /* raw outputs (boosting) */
  double *init; /* boosting: nraw starting scores */
  double lr;
} ensemble;

/* One walk down a tree for one row. */
typedef struct walk {
  const tree *t;
  const float *x; /* the row's features as float32 */
} walk;

/* The leaves the k (<= 8) walks w reach, into leaf.  They go down together,
** one level per step, without a branch on the data: the test indexes kid,
** and a leaf points to itself, so a shallower tree waits at its leaf; the k
** chains of loads overlap.  lt = 0: scikit-learn (x <= threshold goes
** left); lt = 1: XGBoost (x < split goes left, NaN takes default_left). */
static inline void walk_leaves(const walk *w, int k, int lt, int *leaf) {
  int depth = 0;
  for (int j = 0; j < k; j++) {
    leaf[j] = 0;
    if (w[j].t->depth > depth) depth = w[j].t->depth;
  }
  for (int d = 0; d < depth; d++)
    for (int j = 0; j < k; j++) {
      const tnode *nd = &w[j].t->nodes[leaf[j]];
      float v = w[j].x[nd->feature & ~DEFAULT_LEFT];
      int go =
          lt ? (v < nd->threshold) | ((v != v) & (int)(nd->feature >> 31)) : v <= nd->threshold;
      leaf[j] = nd->kid[go];
    }
}

/* Add the leaf of tree t for row r to the row's sums, as the library does. */
static inline void accumulate(const sl_model *m, const ensemble *e, int t, int leaf, int r,
                              double *out, void *raw) {
  const tree *tr = &e->trees[t];
  switch (e->combine) {
  case C_PROBA_MEAN:
  case C_MEAN: {
    const double *v = tr->value + (size_t)leaf * (size_t)e->nv;
    double *p = out + (size_t)r * (size_t)m->n_out;
    for (int j = 0; j < e->nv; j++)
      p[j] += v[j];
    break;
  }
  case C_BOOST:
    ((double *)raw)[(size_t)r * (size_t)e->nraw + (size_t)tr->output] += tr->value[leaf];
    break;
  case C_XGB:
    ((float *)raw)[(size_t)r * (size_t)e->nraw + (size_t)tr->output] += (float)tr->value[leaf];
    break;
  }
}

/* Every (row, tree) of the batch, each row's trees in order: one row walks
** eight trees at a time; a batch walks each tree eight rows at a time. */
static void walk_all(const sl_model *m, const ensemble *e, const float *xf, int n, double *out,
                     void *raw) {
  size_t nin = (size_t)m->n_in;
  int lt = e->combine == C_XGB;
  walk w[8];
  int leaf[8];
  if (n == 1) {
    for (int t0 = 0; t0 < e->ntrees; t0 += 8) {
      int k = e->ntrees - t0 < 8 ? e->ntrees - t0 : 8;
      for (int j = 0; j < k; j++)
        w[j] = (walk){&e->trees[t0 + j], xf};
      walk_leaves(w, k, lt, leaf);
      for (int j = 0; j < k; j++)
        accumulate(m, e, t0 + j, leaf[j], 0, out, raw);
    }
    return;
  }
  for (int t = 0; t < e->ntrees; t++)
    for (int r0 = 0; r0 < n; r0 += 8) {
      int k = n - r0 < 8 ? n - r0 : 8;
      for (int j = 0; j < k; j++)
        w[j] = (walk){&e->trees[t], xf + (size_t)(r0 + j) * nin};
      walk_leaves(w, k, lt, leaf);
      for (int j = 0; j < k; j++)
        accumulate(m, e, t, leaf[j], r0 + j, out, raw);
    }
}

/* Score n rows (see walk_all).
** scratch: n * n_in doubles for the rounded features, then n * nraw for the
** raw sums.  Leaf values were scaled at load time exactly as the library
** scales them (normalised class counts, learning_rate * value), so each
** row's sums are added in the library's order. */
static void trees_score(const sl_model *m, const double *x, int n, double *out, double *scratch) {
  const ensemble *e = m->impl;
  size_t nin = (size_t)m->n_in, nout = (size_t)m->n_out;
  float *xf = (float *)scratch;
  for (size_t i = 0; i < (size_t)n * nin; i++)
    xf[i] = sl_to_float(x[i]);
  switch (e->combine) {
  case C_PROBA_MEAN:
  case C_MEAN: {
    for (size_t i = 0; i < (size_t)n * nout; i++)
      out[i] = 0;
    walk_all(m, e, xf, n, out, NULL);
    for (size_t i = 0; i < (size_t)n * nout; i++)
      out[i] /= (double)e->ntrees;
    return;
  }
  case C_BOOST: {
    double *raw = scratch + (size_t)n * ((nin + 1) / 2);
    for (int r = 0; r < n; r++)
      for (int j = 0; j < e->nraw; j++)
        raw[(size_t)r * (size_t)e->nraw + (size_t)j] = e->init[j];
    walk_all(m, e, xf, n, out, raw);
    for (int r = 0; r < n; r++) {
      const double *rw = raw + (size_t)r * (size_t)e->nraw;
      double *p = out + (size_t)r * nout;
      if (e->link == K_IDENTITY) {
        p[0] = rw[0];
      } else if (e->link == K_LOGISTIC) {
        double p1 = sl_expit(rw[0]);
        p[0] = 1.0 - p1;
        p[1] = p1;
      } else { /* exp(raw - logsumexp(raw)), as scipy computes logsumexp */
        double mx = rw[0];
        for (int j = 1; j < e->nraw; j++)
          if (rw[j] > mx) mx = rw[j];
        double s = 0;
        for (int j = 0; j < e->nraw; j++)
          s += exp(rw[j] - mx);
        double lse = log(s) + mx;
        for (int j = 0; j < e->nraw; j++)
          p[j] = exp(rw[j] - lse);
      }
    }
    return;
  }
  case C_XGB: {
    float *raw = (float *)(scratch + (size_t)n * ((nin + 1) / 2));
    for (int r = 0; r < n; r++)
      for (int j = 0; j < e->nraw; j++)
        raw[(size_t)r * (size_t)e->nraw + (size_t)j] = (float)e->init[j];
    walk_all(m, e, xf, n, out, raw);
    for (int r = 0; r < n; r++) {
      float *rw = raw + (size_t)r * (size_t)e->nraw;
      double *p = out + (size_t)r * nout;
      if (e->link == K_IDENTITY) {
        p[0] = rw[0];
      } else if (e->link == K_LOGISTIC) {
        float p1 = 1.0f / (1.0f + expf(-rw[0]));
        p[0] = 1.0 - (double)p1;
        p[1] = p1;
      } else {
        float mx = rw[0];
        for (int j = 1; j < e->nraw; j++)
          if (rw[j] > mx) mx = rw[j];
        double s = 0;
        for (int j = 0; j < e->nraw; j++) {
          rw[j] = expf(rw[j] - mx);
          s += rw[j];
        }
        for (int j = 0; j < e->nraw; j++)
          p[j] = (float)(rw[j] / s);
      }
    }
    return;
  }
  }
}

static void trees_free(sl_model *m) {
  ensemble *e = m->impl;
  if (!e) return;
  for (int t = 0; t < e->ntrees; t++) {
    free(e->trees[t].nodes);
    free(e->trees[t].value);
  }
  free(e->trees);
  free(e->init);
  free(e);
}

static const sl_model_vt trees_vt = {"tree_ensemble", trees_score, NULL, trees_free};

/* Check that the nodes of t form a tree rooted at 0 whose features are in
** range: every child index is later than its parent (so there is no cycle). */
static int check_tree(const tree *t, int n_in, int ti, sl_err *err) {
  for (int i = 0; i < t->nnodes; i++) {
    const tnode *nd = &t->nodes[i];
    if (nd->kid[1] < 0) continue;
    if (nd->kid[1] <= i || nd->kid[0] <= i || nd->kid[1] >= t->nnodes || nd->kid[0] >= t->nnodes) {
      sl_err_set(err, SL_EBIND, "tree %d: node %d has children out of range", ti, i);
      return -1;
    }
    int f = (int)(nd->feature & ~DEFAULT_LEFT);
    if (f >= n_in) {
      sl_err_set(err, SL_EBIND, "tree %d: node %d splits on feature %d of %d", ti, i, f, n_in);
      return -1;
    }
  }
  return 0;
}

/* Make every leaf point to itself and measure the depth (children come
** after their parents: check_tree made sure). */
static void finish_tree(tree *t) {
  int *d = sl_calloc((size_t)t->nnodes, sizeof(int));
  t->depth = 0;
  for (int i = 0; i < t->nnodes; i++) {
    tnode *nd = &t->nodes[i];
    if (nd->kid[1] < 0) {
      nd->kid[0] = nd->kid[1] = i;
      nd->feature = 0;
      if (d[i] > t->depth) t->depth = d[i];
    } else {
      d[nd->kid[1]] = d[nd->kid[0]] = d[i] + 1;
    }
  }
  free(d);
}

/* An int array field of n elements into out[i].field (via a setter). */
static int read_ints(const cJSON *o, const char *field, int n, int *out, sl_err *err) {
  const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, field);
  if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) != n) {
    sl_err_set(err, SL_EBIND, "%s: not an array of %d integers", field, n);
    return -1;
  }
  int i = 0;
  const cJSON *e;
  cJSON_ArrayForEach(e, a) {
    if (cJSON_IsBool(e))
      out[i++] = cJSON_IsTrue(e);
    else if (cJSON_IsNumber(e) && sl_mj_is_int(e->valuedouble))
      out[i++] = (int)e->valuedouble;
    else {
      sl_err_set(err, SL_EBIND, "%s: element %d is not an integer", field, i);
      return -1;
    }
  }
  return 0;
}

/* One scikit-learn tree object. */
static int load_sk_tree(tree *t, const cJSON *o, int nv, int ti, int n_in, sl_err *err) {
  const cJSON *l = cJSON_GetObjectItemCaseSensitive(o, "left");
  int n = cJSON_IsArray(l) ? cJSON_GetArraySize(l) : 0;
  if (n < 1) {
    sl_err_set(err, SL_EBIND, "tree %d: left: missing or empty", ti);
    return -1;
  }
  t->nnodes = n;
  t->nodes = sl_calloc((size_t)n, sizeof(tnode));
  int *tmp = sl_malloc(sizeof(int) * (size_t)n);
  int rc = -1;
  double *thr = NULL;
  if (read_ints(o, "left", n, tmp, err)) goto done;
  for (int i = 0; i < n; i++)
    t->nodes[i].kid[1] = tmp[i];
  if (read_ints(o, "right", n, tmp, err)) goto done;
  for (int i = 0; i < n; i++)
    t->nodes[i].kid[0] = tmp[i];
  if (read_ints(o, "feature", n, tmp, err)) goto done;
  for (int i = 0; i < n; i++)
    if (tmp[i] < 0 && t->nodes[i].kid[1] >= 0) {
      sl_err_set(err, SL_EBIND, "tree %d: node %d splits on feature %d", ti, i, tmp[i]);
      goto done;
    } else
      t->nodes[i].feature = tmp[i] < 0 ? 0 : (uint32_t)tmp[i]; /* leaves: -2 */
  /* thresholds of leaves are -2 in scikit-learn: finite, fine */
  thr = sl_mj_vec(o, "threshold", n, NULL, err);
  if (!thr) goto done;
  for (int i = 0; i < n; i++) {
    float f = sl_to_float(thr[i]); /* the largest float not above the threshold */
    if ((double)f > thr[i]) f = nextafterf(f, -INFINITY);
    t->nodes[i].threshold = f;
  }
  int rows = 0;
  t->value = sl_mj_mat(o, "value", n, nv, &rows, NULL, err);
  if (!t->value) goto done;
  const cJSON *out = cJSON_GetObjectItemCaseSensitive(o, "output");
  t->output = 0;
  if (out && !cJSON_IsNull(out)) {
    if (!cJSON_IsNumber(out) || !sl_mj_is_int(out->valuedouble)) {
      sl_err_set(err, SL_EBIND, "tree %d: output: not an integer", ti);
      goto done;
    }
    t->output = (int)out->valuedouble;
  }
  rc = check_tree(t, n_in, ti, err);
  if (!rc) finish_tree(t);
done:
  free(tmp);
  free(thr);
  return rc;
}

/* Scale a tree's leaf values as the library does before adding them:
** class counts divided by their sum (a zero sum counts as 1) for
** proba_mean, learning_rate * value for boosting. */
static void scale_leaves(const ensemble *e, tree *t) {
  for (int i = 0; i < t->nnodes; i++) {
    double *v = t->value + (size_t)i * (size_t)e->nv;
    if (e->combine == C_PROBA_MEAN) {
      double s = 0;
      for (int j = 0; j < e->nv; j++)
        s += v[j];
      if (s == 0) s = 1;
      for (int j = 0; j < e->nv; j++)
        v[j] /= s;
    } else if (e->combine == C_BOOST) {
      v[0] = e->lr * v[0];
    }
  }
}

int sl_model_trees_load(sl_model *m, const cJSON *o, sl_err *err) {
  ensemble *e = sl_calloc(1, sizeof *e);
  m->vt = &trees_vt;
  m->impl = e;
  const char *comb = sl_mj_str(o, "combine", err);
  if (!comb) return -1;
  int nout = 1;
  if (sl_mj_int(o, "n_outputs", &nout, err)) return -1;
  if (nout < 1 || nout > SL_MODEL_MAX_WIDTH) {
    sl_err_set(err, SL_EBIND, "n_outputs: %d is out of range (1 to %d)", nout, SL_MODEL_MAX_WIDTH);
    return -1;
  }
  if (!strcmp(comb, "proba_mean")) {
    e->combine = C_PROBA_MEAN;
    if (!m->classes || nout != m->nclass) {
      sl_err_set(err, SL_EBIND, "n_outputs: %d does not match %d classes", nout, m->nclass);
      return -1;
    }
    e->nv = nout;
    m->out = SL_OUT_PROBA;
    m->n_out = nout;
  } else if (!strcmp(comb, "mean")) {
    e->combine = C_MEAN;
    e->nv = 1;
    m->out = SL_OUT_VALUE;
    m->n_out = 1;
  } else if (!strcmp(comb, "boost")) {
    e->combine = C_BOOST;
    e->nv = 1;
    const char *link = sl_mj_str(o, "link", err);
    if (!link || sl_mj_num(o, "learning_rate", &e->lr, err)) return -1;
    e->nraw = nout;
    e->init = sl_mj_vec(o, "init", nout, NULL, err);
    if (!e->init) return -1;
    if (!strcmp(link, "identity") && nout == 1) {
      e->link = K_IDENTITY;
      m->out = SL_OUT_VALUE;
      m->n_out = 1;
    } else if (!strcmp(link, "logistic") && nout == 1 && m->nclass == 2) {
      e->link = K_LOGISTIC;
      m->out = SL_OUT_PROBA;
      m->n_out = 2;
    } else if (!strcmp(link, "softmax") && nout == m->nclass && nout > 2) {
      e->link = K_SOFTMAX;
      m->out = SL_OUT_PROBA;
      m->n_out = nout;
    } else {
      sl_err_set(err, SL_EBIND, "link \"%s\" with %d outputs and %d classes is not supported", link,
                 nout, m->nclass);
      return -1;
    }
  } else {
    sl_err_set(err, SL_EBIND, "combine: unknown \"%s\"", comb);
    return -1;
  }
  const cJSON *ts = cJSON_GetObjectItemCaseSensitive(o, "trees");
  if (!cJSON_IsArray(ts) || cJSON_GetArraySize(ts) < 1) {
    sl_err_set(err, SL_EBIND, "trees: missing or empty");
    return -1;
  }
  m->scratch_per_row = (m->n_in + 1) / 2 + e->nraw; /* float features, raw sums */
  e->trees = sl_calloc((size_t)cJSON_GetArraySize(ts), sizeof(tree));
  const cJSON *t;
  cJSON_ArrayForEach(t, ts) {
    if (load_sk_tree(&e->trees[e->ntrees], t, e->nv, e->ntrees, m->n_in, err)) {
      e->ntrees++;
      return -1;
    }
    if (e->trees[e->ntrees].output < 0 ||
        e->trees[e->ntrees].output >= (e->combine == C_BOOST ? e->nraw : 1)) {
      sl_err_set(err, SL_EBIND, "tree %d: output %d out of range", e->ntrees,
                 e->trees[e->ntrees].output);
      e->ntrees++;
      return -1;
    }
    scale_leaves(e, &e->trees[e->ntrees]);
    e->ntrees++;
  }
  return 0;
}

/* ---- XGBoost ------------------------------------------------------------- */

/* A number xgboost writes as a string: "5E-1" or "[5E-1]". */
static int xgb_number(const cJSON *o, const char *field, double *out, sl_err *err) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, field);
  if (cJSON_IsNumber(v)) {
    *out = v->valuedouble;
    return 0;
  }
  if (!cJSON_IsString(v)) {
    sl_err_set(err, SL_EBIND, "learner_model_param.%s: missing", field);
    return -1;
  }
  const char *s = v->valuestring;
  while (*s == '[' || *s == ' ')
    s++;
  char *end;
  *out = strtod(s, &end);
  while (*end == ']' || *end == ' ')
    end++;
  if (end == s || *end || !isfinite(*out)) {
    sl_err_set(err, SL_EBIND, "learner_model_param.%s: \"%s\" is not a number", field,
               v->valuestring);
    return -1;
  }
  return 0;
}

/* A count xgboost writes as a string ("4"): an integer from lo to hi. */
static int xgb_count(const cJSON *o, const char *field, int lo, int hi, int *out, sl_err *err) {
  double v;
  if (xgb_number(o, field, &v, err)) return -1;
  if (v != floor(v) || v < lo || v > hi) {
    sl_err_set(err, SL_EBIND, "learner_model_param.%s: %.15g is out of range (%d to %d)", field, v,
               lo, hi);
    return -1;
  }
  *out = (int)v;
  return 0;
}

static int load_xgb_tree(tree *t, const cJSON *o, int ti, int n_in, sl_err *err) {
  const cJSON *l = cJSON_GetObjectItemCaseSensitive(o, "left_children");
  int n = cJSON_IsArray(l) ? cJSON_GetArraySize(l) : 0;
  if (n < 1) {
    sl_err_set(err, SL_EBIND, "tree %d: left_children: missing or empty", ti);
    return -1;
  }
  t->nnodes = n;
  t->nodes = sl_calloc((size_t)n, sizeof(tnode));
  t->value = sl_calloc((size_t)n, sizeof(double));
  int *tmp = sl_malloc(sizeof(int) * (size_t)n);
  double *cond = NULL;
  int rc = -1;
  if (read_ints(o, "left_children", n, tmp, err)) goto done;
  for (int i = 0; i < n; i++)
    t->nodes[i].kid[1] = tmp[i];
  if (read_ints(o, "right_children", n, tmp, err)) goto done;
  for (int i = 0; i < n; i++)
    t->nodes[i].kid[0] = tmp[i];
  if (read_ints(o, "split_indices", n, tmp, err)) goto done;
  for (int i = 0; i < n; i++)
    if (tmp[i] < 0 && t->nodes[i].kid[1] >= 0) {
      sl_err_set(err, SL_EBIND, "tree %d: node %d splits on feature %d", ti, i, tmp[i]);
      goto done;
    } else
      t->nodes[i].feature = tmp[i] < 0 ? 0 : (uint32_t)tmp[i];
  if (read_ints(o, "default_left", n, tmp, err)) goto done;
  for (int i = 0; i < n; i++)
    if (tmp[i]) t->nodes[i].feature |= DEFAULT_LEFT;
  const cJSON *st = cJSON_GetObjectItemCaseSensitive(o, "split_type");
  if (cJSON_IsArray(st)) {
    const cJSON *x;
    cJSON_ArrayForEach(x, st) if (cJSON_IsNumber(x) && x->valuedouble != 0) {
      sl_err_set(err, SL_EBIND, "tree %d: categorical splits are not supported", ti);
      goto done;
    }
  }
  cond = sl_mj_vec(o, "split_conditions", n, NULL, err);
  if (!cond) goto done;
  for (int i = 0; i < n; i++) {
    /* a leaf's split_condition is its value; xgboost writes float32s */
    if (fabs(cond[i]) > FLT_MAX) {
      sl_err_set(err, SL_EBIND, "tree %d: split_conditions: element %d (%g) is not a float32", ti,
                 i, cond[i]);
      goto done;
    }
    t->nodes[i].threshold = (float)cond[i];
    t->value[i] = (float)cond[i];
  }
  rc = check_tree(t, n_in, ti, err);
  if (!rc) finish_tree(t);
done:
  free(tmp);
  free(cond);
  return rc;
}

int sl_model_xgb_load(sl_model *m, const cJSON *root, sl_err *err) {
  ensemble *e = sl_calloc(1, sizeof *e);
  m->vt = &trees_vt;
  m->impl = e;
  e->combine = C_XGB;
  e->nv = 1;
  m->missing_ok = 1;
  const cJSON *ln = cJSON_GetObjectItemCaseSensitive(root, "learner");
  const cJSON *mp = cJSON_GetObjectItemCaseSensitive(ln, "learner_model_param");
  const cJSON *gb = cJSON_GetObjectItemCaseSensitive(ln, "gradient_booster");
  const cJSON *obj = cJSON_GetObjectItemCaseSensitive(ln, "objective");
  if (!cJSON_IsObject(mp) || !cJSON_IsObject(gb) || !cJSON_IsObject(obj)) {
    sl_err_set(err, SL_EBIND,
               "not an XGBoost JSON model (learner_model_param, "
               "gradient_booster or objective missing)");
    return -1;
  }
  const char *gname = sl_mj_str(gb, "name", err);
  if (!gname) return -1;
  if (strcmp(gname, "gbtree") != 0) {
    sl_err_set(err, SL_EBIND, "XGBoost booster \"%s\" is not supported (gbtree is)", gname);
    return -1;
  }
  const char *oname = sl_mj_str(obj, "name", err);
  if (!oname) return -1;
  double base = 0.5;
  int ncls = 0;
  if (xgb_number(mp, "base_score", &base, err) ||
      xgb_count(mp, "num_feature", 1, SL_MODEL_MAX_WIDTH, &m->n_in, err) ||
      xgb_count(mp, "num_class", 0, SL_MODEL_MAX_WIDTH, &ncls, err))
    return -1;
  if (fabs(base) > FLT_MAX) { /* a float32 in xgboost */
    sl_err_set(err, SL_EBIND, "learner_model_param.base_score: %g is not a float32", base);
    return -1;
  }
  if (!strcmp(oname, "binary:logistic")) {
    if (!(base > 0 && base < 1)) {
      sl_err_set(err, SL_EBIND, "base_score %g is not a probability", base);
      return -1;
    }
    e->link = K_LOGISTIC;
    e->nraw = 1;
    e->init = sl_malloc(sizeof(double));
    e->init[0] = -logf(1.0f / (float)base - 1.0f); /* xgboost's ProbToMargin */
    ncls = 2;
    m->out = SL_OUT_PROBA;
    m->n_out = 2;
  } else if (!strncmp(oname, "reg:", 4) && strcmp(oname, "reg:logistic") != 0 &&
             strcmp(oname, "reg:gamma") != 0 && strcmp(oname, "reg:tweedie") != 0) {
    e->link = K_IDENTITY;
    e->nraw = 1;
    e->init = sl_malloc(sizeof(double));
    e->init[0] = (float)base;
    ncls = 0;
    m->out = SL_OUT_VALUE;
    m->n_out = 1;
  } else if (!strcmp(oname, "multi:softprob") || !strcmp(oname, "multi:softmax")) {
    if (ncls < 2) {
      sl_err_set(err, SL_EBIND, "num_class %d for %s", ncls, oname);
      return -1;
    }
    e->link = K_SOFTMAX;
    e->nraw = ncls;
    e->init = sl_malloc(sizeof(double) * (size_t)ncls);
    for (int k = 0; k < ncls; k++)
      e->init[k] = (float)base;
    m->out = SL_OUT_PROBA;
    m->n_out = ncls;
  } else {
    sl_err_set(err, SL_EBIND, "XGBoost objective \"%s\" is not supported", oname);
    return -1;
  }
  if (ncls) {
    m->nclass = ncls;
    m->classes = sl_calloc((size_t)ncls, sizeof(sl_value));
    for (int k = 0; k < ncls; k++)
      sl_value_set_int(&m->classes[k], k);
  }
  const cJSON *fn = cJSON_GetObjectItemCaseSensitive(ln, "feature_names");
  if (cJSON_IsArray(fn) && cJSON_GetArraySize(fn) == m->n_in) {
    m->feature_names = sl_calloc((size_t)m->n_in, sizeof(char *));
    int i = 0;
    const cJSON *x;
    cJSON_ArrayForEach(x, fn) m->feature_names[i++] =
        sl_strdup(cJSON_IsString(x) ? x->valuestring : "?");
  }
  m->kind_desc = sl_malloc(strlen(oname) + 16);
  strcpy(m->kind_desc, "XGBoost ");
  strcat(m->kind_desc, oname);
  const cJSON *model = cJSON_GetObjectItemCaseSensitive(gb, "model");
  const cJSON *ts = cJSON_GetObjectItemCaseSensitive(model, "trees");
  const cJSON *info = cJSON_GetObjectItemCaseSensitive(model, "tree_info");
  int nt = cJSON_IsArray(ts) ? cJSON_GetArraySize(ts) : 0;
  if (nt < 1 || !cJSON_IsArray(info) || cJSON_GetArraySize(info) != nt) {
    sl_err_set(err, SL_EBIND, "gradient_booster.model: trees or tree_info missing");
    return -1;
  }
  m->scratch_per_row = (m->n_in + 1) / 2 + e->nraw; /* float features, raw sums */
  e->trees = sl_calloc((size_t)nt, sizeof(tree));
  int *cls = sl_malloc(sizeof(int) * (size_t)nt);
  int rc = read_ints(model, "tree_info", nt, cls, err);
  const cJSON *t;
  cJSON_ArrayForEach(t, ts) {
    if (rc) break;
    tree *tr = &e->trees[e->ntrees];
    rc = load_xgb_tree(tr, t, e->ntrees, m->n_in, err);
    tr->output = cls[e->ntrees];
    e->ntrees++;
    if (!rc && (tr->output < 0 || tr->output >= e->nraw)) {
      sl_err_set(err, SL_EBIND, "tree_info: class %d out of range", tr->output);
      rc = -1;
    }
  }
  free(cls);
  return rc;
}
