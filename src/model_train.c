/*
** model_train.c - online learning: models that keep learning from a stream
** (scenario S6), with Spark MLlib's streaming update rules.
**
**   CREATE MODEL m TYPE linear_sgd | logistic_sgd | kmeans_stream WITH (...);
**   SELECT train(m, label, features) FROM s GROUP BY TUMBLE(ts, INTERVAL '10' SECOND);
**
** train() is an aggregate: xStep appends the record's label and features to
** its group's batch; xFinal (the window closed) applies one update to the
** trainer's state and swaps a new immutable model version into the slot, so
** predict(m, ...) in any query scores with the latest version from its next
** batch on.  The result of train() is that version as JSON.
**
** The rules, as Spark MLlib 3.x implements them:
**
** linear_sgd (StreamingLinearRegressionWithSGD) and logistic_sgd
** (StreamingLogisticRegressionWithSGD) run GradientDescent.runMiniBatchSGD
** on the batch, starting from the current weights: for i = 1..iterations,
** sample the batch (fraction mini_batch_fraction), sum the gradient over the
** sample - least squares: (w.x - y) x; logistic: (1/(1+exp(-w.x)) - y) x -
** and step w -= step/sqrt(i) * sum/count (logistic first shrinks w by
** (1 - step/sqrt(i) * reg_param), Spark's SquaredL2Updater).  Iterations
** stop early when ||w_i - w_(i-1)|| < convergence_tol * max(||w_i||, 1),
** compared from the second iteration on.  With intercept => true a constant
** 1 is appended to the features, so the intercept is the last weight.
**
** kmeans_stream (StreamingKMeans): each point goes to its nearest centre
** (squared distance, first minimum); every cluster weight is discounted by
** decay (time_unit 'batches') or decay^n for n points ('points'); a cluster
** with points gets weight w' = w + count and centre c' = (1 - l) c + (l /
** count) sum with l = count / max(w', 1e-16).  Then, if the smallest weight
** is below 1e-8 times the largest, the largest cluster is split: both get
** the mean weight, centres x + p and x - p with p = 1e-14 max(|x|, 1).
**
** Where sluice departs from Spark (docs/models.md): sampling uses a
** splitmix64 Bernoulli sampler seeded 42 + i (Spark: its own RNG with the
** same seeds); random initial centres are standard normal from splitmix64
** (Spark: its XORShiftRandom); the intercept carries over from batch to
** batch (Spark restarts it at 1.0 each batch, as it passes only the weights
** on); an empty window is no batch at all.
**
** Concurrency: a trainer's state is guarded by its mutex; several queries may
** train the same model, their batches are applied one at a time.  The
** dimension is fixed by initial weights / centres, by `features => n`, or
** else by the first batch trained; before that the model predicts NULL.
*/
#include <cjson/cJSON.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "connector.h"
#include "func.h"
#include "json.h"
#include "model.h"

typedef enum { T_LINEAR, T_LOGISTIC, T_KMEANS } tkind;

static const char *const type_names[] = {"linear_sgd", "logistic_sgd", "kmeans_stream"};
static const char *const spark_names[] = {"StreamingLinearRegressionWithSGD",
                                          "StreamingLogisticRegressionWithSGD", "StreamingKMeans"};

struct sl_trainer {
  tkind kind;
  sl_func fn;          /* train(): user = this trainer */
  sl_model_slot *slot; /* the slot owning this trainer */
  pthread_mutex_t mu;  /* guards everything below */
  /* parameters (Spark's defaults) */
  double step;      /* 0.1 */
  int iterations;   /* 50 */
  double fraction;  /* mini_batch_fraction, 1.0 */
  double reg;       /* logistic: reg_param, 0.0 */
  double tol;       /* convergence_tol, 0.001 */
  int intercept;    /* false */
  int k;            /* kmeans: 2 */
  double decay;     /* 1.0 */
  int points;       /* time_unit 'points' (else 'batches') */
  uint64_t seed;    /* random centres, 42 */
  double cw_random; /* the weight of random centres, 0.0 */
  /* state */
  int dim;         /* features; 0 until known */
  double *w;       /* linear: dim weights, then the intercept when asked */
  double *centers; /* kmeans: k x dim */
  double *cw;      /* kmeans: k cluster weights */
  int64_t updates; /* batches applied */
  int64_t seen;    /* records trained on */
  int64_t last_count, last_time;
  double *scratch; /* update work space */
  /* the last SL_TRAIN_HISTORY updates, oldest first from hist[nhist %
  ** SL_TRAIN_HISTORY] once full: DESCRIBE's "history" (not checkpointed) */
  struct {
    int version;
    int64_t time, count;
    double loss; /* the batch's loss before the update (batch_loss) */
  } hist[SL_TRAIN_HISTORY];
  int64_t nhist;
};

/* ---- random numbers: splitmix64 ------------------------------------------- */

static uint64_t splitmix64(uint64_t *s) {
  uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/* Uniform in [0, 1) with 53 random bits. */
static double uniform(uint64_t *s) {
  return (double)(splitmix64(s) >> 11) * 0x1.0p-53;
}

/* Standard normal (Box-Muller, the cosine branch). */
static double gaussian(uint64_t *s) {
  double u1 = uniform(s), u2 = uniform(s);
  if (u1 <= 0) u1 = 0x1.0p-53;
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* ---- state --------------------------------------------------------------- */

static int nweights(const sl_trainer *t) {
  return t->dim + (t->intercept ? 1 : 0);
}

/* Allocate the state for dimension dim (weights zero, random centres). */
static void init_state(sl_trainer *t, int dim) {
  t->dim = dim;
  if (t->kind == T_KMEANS) {
    if (!t->centers) {
      uint64_t s = t->seed;
      t->centers = sl_malloc(sizeof(double) * (size_t)t->k * (size_t)dim);
      for (size_t i = 0; i < (size_t)t->k * (size_t)dim; i++)
        t->centers[i] = gaussian(&s);
    }
    if (!t->cw) {
      t->cw = sl_malloc(sizeof(double) * (size_t)t->k);
      for (int c = 0; c < t->k; c++)
        t->cw[c] = t->cw_random;
    }
    t->scratch = sl_realloc(t->scratch, sizeof(double) * (size_t)t->k * (size_t)(dim + 1));
  } else {
    if (!t->w) t->w = sl_calloc((size_t)nweights(t), sizeof(double));
    t->scratch = sl_realloc(t->scratch, sizeof(double) * 2 * (size_t)nweights(t));
  }
}

/* ---- the model versions --------------------------------------------------- */

static cJSON *num_array(const double *x, int n) {
  cJSON *a = cJSON_CreateArray();
  for (int i = 0; i < n; i++)
    cJSON_AddItemToArray(a, cJSON_CreateNumber(x[i]));
  return a;
}

/* The current state as a sluice-format model object (t->mu held, dim > 0). */
static cJSON *state_json(const sl_trainer *t) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "format", "sluice-model");
  cJSON_AddNumberToObject(o, "version", 1);
  cJSON_AddStringToObject(o, "source",
                          t->kind == T_LINEAR     ? "spark.StreamingLinearRegressionWithSGD"
                          : t->kind == T_LOGISTIC ? "spark.StreamingLogisticRegressionWithSGD"
                                                  : "spark.StreamingKMeans");
  cJSON_AddNumberToObject(o, "n_features", t->dim);
  if (t->kind == T_KMEANS) {
    cJSON_AddStringToObject(o, "kind", "kmeans");
    cJSON *c = cJSON_AddArrayToObject(o, "centers");
    for (int i = 0; i < t->k; i++)
      cJSON_AddItemToArray(c, num_array(t->centers + (size_t)i * (size_t)t->dim, t->dim));
    cJSON_AddItemToObject(o, "cluster_weights", num_array(t->cw, t->k));
  } else {
    cJSON_AddStringToObject(o, "kind", "linear");
    cJSON_AddStringToObject(o, "link", t->kind == T_LOGISTIC ? "logistic" : "identity");
    if (t->kind == T_LOGISTIC) {
      static const double cls[2] = {0, 1};
      cJSON_AddItemToObject(o, "classes", num_array(cls, 2));
    }
    cJSON *coef = cJSON_AddArrayToObject(o, "coef");
    cJSON_AddItemToArray(coef, num_array(t->w, t->dim));
    double b = t->intercept ? t->w[t->dim] : 0.0;
    cJSON_AddItemToObject(o, "intercept", num_array(&b, 1));
  }
  cJSON *tr = cJSON_AddObjectToObject(o, "trained");
  cJSON_AddStringToObject(tr, "type", type_names[t->kind]);
  cJSON_AddNumberToObject(tr, "updates", (double)t->updates);
  cJSON_AddNumberToObject(tr, "records", (double)t->seen);
  return o;
}

cJSON *sl_trainer_json(sl_trainer *t) {
  pthread_mutex_lock(&t->mu);
  cJSON *o = t->dim ? state_json(t) : NULL;
  pthread_mutex_unlock(&t->mu);
  if (!o) { /* nothing learnt yet: the type and parameters only */
    o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "format", "sluice-model");
    cJSON_AddStringToObject(o, "untrained", type_names[t->kind]);
  }
  return o;
}

static void untrained_score(const sl_model *m, const double *x, int n, double *out,
                            double *scratch) {
  (void)m, (void)x, (void)n, (void)out, (void)scratch;
}

static const sl_model_vt untrained_vt = {"untrained", untrained_score, NULL, NULL};

/* The model before its dimension is known: n_in 0, every prediction NULL. */
static sl_model *untrained_model(const sl_trainer *t) {
  sl_model *m = sl_model_new();
  m->vt = &untrained_vt;
  m->n_in = 0;
  sl_buf b = {0};
  sl_buf_printf(&b, "%s, untrained (no features seen yet)", spark_names[t->kind]);
  m->kind_desc = sl_strndup(b.z, b.n);
  sl_buf_free(&b);
  m->path = sl_strdup("(trained by train())");
  if (t->kind == T_KMEANS) {
    m->out = SL_OUT_DISTANCE;
    m->n_out = t->k;
  } else if (t->kind == T_LOGISTIC) {
    m->out = SL_OUT_PROBA;
    m->n_out = m->nclass = 2;
    m->classes = sl_calloc(2, sizeof(sl_value));
    sl_value_set_int(&m->classes[0], 0);
    sl_value_set_int(&m->classes[1], 1);
  } else {
    m->out = SL_OUT_VALUE;
    m->n_out = 1;
  }
  return m;
}

/* The version for the current state (t->mu held). */
static sl_model *state_model(const sl_trainer *t) {
  if (!t->dim) return untrained_model(t);
  cJSON *o = state_json(t);
  sl_err e = {0};
  sl_model *m = sl_model_from_object(o, "(trained by train())", &e);
  cJSON_Delete(o);
  if (!m) { /* the object is built here: failing to read it back is a bug */
    fprintf(stderr, "sluice: internal error: trained model %s: %s\n", t->slot ? t->slot->name : "?",
            e.msg ? e.msg : "?");
    abort();
  }
  return m;
}

/* ---- the update rules -------------------------------------------------------- */

/* One batch: rows of width 1 + dim (label, features) or dim (k-means). */
typedef struct tbatch {
  double *x;
  int64_t n, cap; /* rows */
  int dim;        /* features per row; 0 until the first row */
  int width;      /* doubles per row: the label (when there is one) and dim */
} tbatch;

static double dot(const double *a, const double *b, int n) {
  double s = 0;
  for (int j = 0; j < n; j++)
    s += a[j] * b[j];
  return s;
}

/* GradientDescent.runMiniBatchSGD over the batch (t->mu held). */
static void sgd(sl_trainer *t, const tbatch *b) {
  int d = t->dim, nw = nweights(t);
  double *w = t->w, *g = t->scratch, *prev = t->scratch + nw;
  int have_prev = 0;
  size_t width = (size_t)d + 1;
  for (int i = 1; i <= t->iterations; i++) {
    memset(g, 0, sizeof(double) * (size_t)nw);
    int64_t cnt = 0;
    uint64_t rng = 42 + (uint64_t)i;
    for (int64_t r = 0; r < b->n; r++) {
      if (t->fraction < 1.0 && uniform(&rng) >= t->fraction) continue;
      const double *row = b->x + (size_t)r * width, *x = row + 1;
      double m = dot(x, w, d) + (t->intercept ? w[d] : 0.0);
      double mult = t->kind == T_LOGISTIC ? 1.0 / (1.0 + exp(-m)) - row[0] : m - row[0];
      for (int j = 0; j < d; j++)
        g[j] += mult * x[j];
      if (t->intercept) g[d] += mult;
      cnt++;
    }
    if (!cnt) continue; /* Spark: "the size of sampled batch is zero" */
    double s = t->step / sqrt((double)i);
    double shrink = t->kind == T_LOGISTIC ? 1.0 - s * t->reg : 1.0;
    for (int j = 0; j < nw; j++)
      w[j] = w[j] * shrink - s * (g[j] / (double)cnt);
    if (have_prev) {
      double diff = 0, norm = 0;
      for (int j = 0; j < nw; j++) {
        diff += (prev[j] - w[j]) * (prev[j] - w[j]);
        norm += w[j] * w[j];
      }
      if (sqrt(diff) < t->tol * fmax(sqrt(norm), 1.0)) break;
    }
    memcpy(prev, w, sizeof(double) * (size_t)nw);
    have_prev = 1;
  }
}

/* Index of the centre nearest to x (squared distance, first minimum). */
static int nearest(const sl_trainer *t, const double *x) {
  int best = 0;
  double bd = INFINITY;
  for (int c = 0; c < t->k; c++) {
    const double *ce = t->centers + (size_t)c * (size_t)t->dim;
    double s = 0;
    for (int j = 0; j < t->dim; j++)
      s += (x[j] - ce[j]) * (x[j] - ce[j]);
    if (s < bd) {
      bd = s;
      best = c;
    }
  }
  return best;
}

/* StreamingKMeansModel.update over the batch (t->mu held). */
/* The mean loss of batch b under the current state, before it is applied
** (test, then train): the squared error (linear), the log loss (logistic,
** probabilities kept within [1e-15, 1 - 1e-15]), the squared distance to
** the nearest centre (kmeans). */
static double batch_loss(const sl_trainer *t, const tbatch *b) {
  int d = t->dim;
  double sum = 0;
  for (int64_t r = 0; r < b->n; r++) {
    if (t->kind == T_KMEANS) {
      const double *x = b->x + (size_t)r * (size_t)d;
      const double *c = t->centers + (size_t)nearest(t, x) * (size_t)d;
      for (int j = 0; j < d; j++)
        sum += (x[j] - c[j]) * (x[j] - c[j]);
      continue;
    }
    const double *row = b->x + (size_t)r * ((size_t)d + 1), *x = row + 1;
    double m = dot(x, t->w, d) + (t->intercept ? t->w[d] : 0.0);
    if (t->kind == T_LINEAR) {
      sum += (m - row[0]) * (m - row[0]);
    } else {
      double p = fmin(fmax(1.0 / (1.0 + exp(-m)), 1e-15), 1.0 - 1e-15);
      sum -= row[0] * log(p) + (1.0 - row[0]) * log(1.0 - p);
    }
  }
  return sum / (double)b->n;
}

static void kmeans_update(sl_trainer *t, const tbatch *b) {
  int k = t->k, d = t->dim;
  double *sum = t->scratch, *cnt = t->scratch + (size_t)k * (size_t)d;
  memset(t->scratch, 0, sizeof(double) * (size_t)k * (size_t)(d + 1));
  for (int64_t r = 0; r < b->n; r++) {
    const double *x = b->x + (size_t)r * (size_t)d;
    int c = nearest(t, x);
    for (int j = 0; j < d; j++)
      sum[(size_t)c * (size_t)d + (size_t)j] += x[j];
    cnt[c] += 1;
  }
  double discount = t->points ? pow(t->decay, (double)b->n) : t->decay;
  for (int c = 0; c < k; c++)
    t->cw[c] *= discount;
  for (int c = 0; c < k; c++) {
    if (cnt[c] == 0) continue;
    double *ce = t->centers + (size_t)c * (size_t)d;
    double updated = t->cw[c] + cnt[c];
    double lambda = cnt[c] / fmax(updated, 1e-16);
    t->cw[c] = updated;
    for (int j = 0; j < d; j++)
      ce[j] = ce[j] * (1.0 - lambda) + (lambda / cnt[c]) * sum[(size_t)c * (size_t)d + (size_t)j];
  }
  int largest = 0, smallest = 0;
  for (int c = 1; c < k; c++) {
    if (t->cw[c] > t->cw[largest]) largest = c;
    if (t->cw[c] < t->cw[smallest]) smallest = c;
  }
  if (t->cw[smallest] < 1e-8 * t->cw[largest]) { /* a dying cluster: split the largest */
    double wt = (t->cw[largest] + t->cw[smallest]) / 2.0;
    t->cw[largest] = t->cw[smallest] = wt;
    double *lc = t->centers + (size_t)largest * (size_t)d;
    double *sc = t->centers + (size_t)smallest * (size_t)d;
    for (int j = 0; j < d; j++) {
      double x = lc[j], p = 1e-14 * fmax(fabs(x), 1.0);
      lc[j] = x + p;
      sc[j] = x - p;
    }
  }
}

/* ---- train(): the aggregate ------------------------------------------------ */

/* Make room for one more row of `width` doubles; what the buffer grew by is
** added to ctx->grew (the query's state: max_query_memory). */
static double *batch_row(sl_fctx *ctx, tbatch *b, int width) {
  if (b->n == b->cap) {
    int64_t was = b->cap;
    b->cap = b->cap ? 2 * b->cap : 64;
    ctx->grew += (int64_t)sizeof(double) * (b->cap - was) * width;
    b->x = sl_realloc(b->x, sizeof(double) * (size_t)b->cap * (size_t)width);
  }
  return b->x + (size_t)b->n * (size_t)width;
}

/* Features of one record into out (room for cap), from a VECTOR, a text
** list ("[1, 2]" or "1,2"), or numbers one per argument.  Returns the count
** (more than cap: not stored), or -1 with *why set. */
static int features(int argc, sl_value **argv, double *out, int cap, const char **why) {
  if (argc == 1 && argv[0]->type == SL_VECTOR) {
    int n = (int)argv[0]->n;
    if (n > 0 && n <= cap) memcpy(out, argv[0]->u.v, sizeof(double) * (size_t)n);
    return n;
  }
  if (argc == 1 && argv[0]->type == SL_TEXT) {
    int n = sl_parse_numlist(argv[0]->u.z, argv[0]->n, out, cap);
    if (n < 0) *why = "the features are text, not a list of numbers";
    return n;
  }
  for (int i = 0; i < argc; i++) {
    double v;
    switch (argv[i]->type) {
    case SL_INTEGER: v = (double)argv[i]->u.i; break;
    case SL_REAL: v = argv[i]->u.r; break;
    case SL_TEXT:
      if (sl_atof(argv[i]->u.z, argv[i]->n, &v)) break;
      *why = "a feature is text that is not a number";
      return -1;
    case SL_NULL: *why = "a NULL feature"; return -1;
    default: *why = "a feature is not a number"; return -1;
    }
    if (i < cap) out[i] = v;
  }
  return argc;
}

static void train_step(sl_fctx *ctx, int argc, sl_value **argv) {
  sl_trainer *t = sl_fctx_user(ctx);
  tbatch *b = sl_fctx_state(ctx);
  int nl = t->kind == T_KMEANS ? 0 : 1;
  double label = 0;
  if (nl) {
    sl_value *l = argv[0];
    if (l->type == SL_INTEGER)
      label = (double)l->u.i;
    else if (l->type == SL_REAL)
      label = l->u.r;
    else if (l->type != SL_TEXT || !sl_atof(l->u.z, l->n, &label)) {
      sl_result_error(ctx, "train(%s): the label is %s", t->slot->name,
                      l->type == SL_NULL ? "NULL" : "not a number");
      return;
    }
    if (t->kind == T_LOGISTIC && label != 0 && label != 1) {
      sl_result_error(ctx, "train(%s): a logistic label must be 0 or 1, not %g", t->slot->name,
                      label);
      return;
    }
  }
  if (!b->dim) { /* the first row fixes the batch's width */
    pthread_mutex_lock(&t->mu);
    int td = t->dim;
    pthread_mutex_unlock(&t->mu);
    const char *why = NULL;
    double probe;
    int n = td ? td : features(argc - nl, argv + nl, &probe, 0, &why);
    if (n <= 0) {
      sl_result_error(ctx, "train(%s): %s", t->slot->name, why ? why : "no features");
      return;
    }
    b->dim = n;
  }
  int width = b->width = b->dim + nl;
  double *row = batch_row(ctx, b, width);
  const char *why = NULL;
  int n = features(argc - nl, argv + nl, row + nl, b->dim, &why);
  if (n != b->dim) {
    if (n >= 0)
      sl_result_error(ctx, "train(%s): %d features, the model has %d", t->slot->name, n, b->dim);
    else
      sl_result_error(ctx, "train(%s): %s", t->slot->name, why);
    return;
  }
  for (int j = 0; j < b->dim; j++)
    if (isnan(row[nl + j]) || isinf(row[nl + j])) {
      sl_result_error(ctx, "train(%s): a feature is not a finite number", t->slot->name);
      return;
    }
  if (nl) row[0] = label;
  b->n++;
}

/* Append x as the shortest text that reads back as x. */
static void put_num(sl_buf *out, double x) {
  char num[40];
  sl_buf_append(out, num, (size_t)sl_real_to_shortest(x, num));
}

/* Append the version's JSON (the train() result) to out (t->mu held). */
static void result_json(const sl_trainer *t, int version, int64_t time, sl_buf *out) {
  sl_buf_printf(out, "{\"model\": \"%s\", \"version\": %d, \"time\": %lld, \"count\": %lld, ",
                t->slot->name, version, (long long)time, (long long)t->last_count);
  const double *v = t->kind == T_KMEANS ? t->centers : t->w;
  int rows = t->kind == T_KMEANS ? t->k : 1;
  sl_buf_puts(out, t->kind == T_KMEANS ? "\"centers\": [" : "\"weights\": ");
  for (int r = 0; r < rows; r++) {
    sl_buf_puts(out, r ? ", [" : "[");
    for (int j = 0; j < t->dim; j++) {
      if (j) sl_buf_puts(out, ", ");
      put_num(out, v[(size_t)r * (size_t)t->dim + j]);
    }
    sl_buf_putc(out, ']');
  }
  if (t->kind == T_KMEANS) {
    sl_buf_puts(out, "], \"cluster_weights\": [");
    for (int c = 0; c < t->k; c++) {
      if (c) sl_buf_puts(out, ", ");
      put_num(out, t->cw[c]);
    }
    sl_buf_putc(out, ']');
  } else {
    sl_buf_puts(out, ", \"intercept\": ");
    put_num(out, t->intercept ? t->w[t->dim] : 0.0);
  }
  sl_buf_putc(out, '}');
}

static void train_final(sl_fctx *ctx) {
  sl_trainer *t = sl_fctx_user(ctx);
  tbatch *b = sl_fctx_state(ctx);
  if (!ctx->discard && b->n > 0) {
    pthread_mutex_lock(&t->mu);
    if (!t->dim) init_state(t, b->dim);
    if (b->dim != t->dim) { /* another query fixed a different dimension first */
      pthread_mutex_unlock(&t->mu);
      sl_result_error(ctx, "train(%s): %d features, the model has %d", t->slot->name, b->dim,
                      t->dim);
      goto done;
    }
    double loss = batch_loss(t, b);
    if (t->kind == T_KMEANS)
      kmeans_update(t, b);
    else
      sgd(t, b);
    t->updates++;
    t->seen += b->n;
    t->last_count = b->n;
    t->last_time = ctx->wend;
    int version = sl_model_slot_swap(t->slot, state_model(t));
    int h = (int)(t->nhist++ % SL_TRAIN_HISTORY);
    t->hist[h].version = version;
    t->hist[h].time = ctx->wend;
    t->hist[h].count = b->n;
    t->hist[h].loss = loss;
    sl_buf out = {0};
    result_json(t, version, ctx->wend, &out);
    pthread_mutex_unlock(&t->mu);
    sl_result_text(ctx, out.z, out.n);
    ctx->out->flags |= SL_F_JSON;
    sl_buf_free(&out);
  }
done:
  free(b->x);
  memset(b, 0, sizeof *b);
}

/* Checkpoints of a group's batch: its rows as they are. */
static void train_save(const sl_func *f, const void *state, sl_buf *out) {
  (void)f;
  const tbatch *b = state;
  sl_ck_i64(out, b->dim);
  sl_ck_i64(out, b->n);
  sl_ck_i64(out, b->width);
  for (int64_t i = 0; i < b->n * b->width; i++)
    sl_ck_f64(out, b->x[i]);
}

static int train_load(const sl_func *f, void *state, const void *z, size_t n) {
  (void)f;
  tbatch *b = state;
  sl_ckrd r;
  sl_ckrd_init(&r, z, n);
  b->dim = (int)sl_ckr_i64(&r);
  int64_t rows = sl_ckr_i64(&r), width = sl_ckr_i64(&r);
  if (r.bad || rows < 0 || width < 0 ||
      (rows && (width < 1 || width > (int64_t)n || rows > (int64_t)n / 8 / width)))
    return -1;
  b->n = b->cap = rows;
  b->width = (int)width;
  b->x = sl_malloc(sizeof(double) * (size_t)(rows * width > 0 ? rows * width : 1));
  for (int64_t i = 0; i < rows * width; i++)
    b->x[i] = sl_ckr_f64(&r);
  return r.bad || r.p != r.end ? -1 : 0;
}

/* ---- creation -------------------------------------------------------------- */

/* A numeric option in [lo, hi] (exclusive bounds when open); dflt if absent. */
static int opt_num(sl_options *o, const char *name, double dflt, double lo, double hi, int open,
                   double *out, sl_err *err) {
  sl_option *opt = sl_opt_find(o, name);
  *out = dflt;
  if (!opt) return 0;
  const sl_value *v = &opt->value;
  double x;
  if (v->type == SL_INTEGER)
    x = (double)v->u.i;
  else if (v->type == SL_REAL)
    x = v->u.r;
  else if (!(v->type == SL_TEXT && sl_atof(v->u.z, v->n, &x)))
    goto bad;
  if (isnan(x) || x < lo || x > hi || (open && (x == lo || x == hi))) goto bad;
  *out = x;
  return 0;
bad:
  sl_err_setpos(err, SL_EBIND, opt->line, opt->col, "%s => needs a number in %c%g, %g%c", name,
                open ? '(' : '[', lo, hi, open ? ')' : ']');
  return -1;
}

/* A list of numbers (a VECTOR or text "[1, 2]"), malloc'd into *out. */
static int opt_vec(sl_options *o, const char *name, double **out, int *n, sl_err *err) {
  sl_option *opt = sl_opt_find(o, name);
  *out = NULL;
  *n = 0;
  if (!opt) return 0;
  sl_value *v = &opt->value;
  const char *why = NULL;
  int cnt = features(1, &v, NULL, 0, &why);
  if (cnt > 0) {
    *out = sl_malloc(sizeof(double) * (size_t)cnt);
    features(1, &v, *out, cnt, &why);
    *n = cnt;
    for (int i = 0; i < cnt; i++)
      if (!isfinite((*out)[i])) cnt = -1;
  }
  if (cnt <= 0) {
    sl_err_setpos(err, SL_EBIND, opt->line, opt->col, "%s => needs a list of numbers", name);
    return -1;
  }
  return 0;
}

/* initial_centers => '[[...], ...]': k rows of equal length. */
static int opt_centers(sl_trainer *t, sl_options *o, sl_err *err) {
  sl_option *opt = sl_opt_find(o, "initial_centers");
  if (!opt) return 0;
  const char *z = sl_value_cstr(&opt->value);
  cJSON *a = z ? cJSON_Parse(z) : NULL;
  sl_err e = {0};
  int rows = 0, cols = 0;
  cJSON *wrap = cJSON_CreateObject();
  if (a) cJSON_AddItemToObject(wrap, "c", a);
  t->centers = a ? sl_mj_mat(wrap, "c", -1, -1, &rows, &cols, &e) : NULL;
  cJSON_Delete(wrap);
  if (!t->centers || rows < 1 || cols < 1) {
    sl_err_setpos(err, SL_EBIND, opt->line, opt->col,
                  "initial_centers => needs a JSON array of k arrays of numbers%s%s",
                  e.msg ? ": " : "", e.msg ? e.msg : "");
    sl_err_clear(&e);
    return -1;
  }
  sl_err_clear(&e);
  if (sl_opt_find_unused(o, "k") && t->k != rows) {
    sl_err_setpos(err, SL_EBIND, opt->line, opt->col, "initial_centers => has %d centres, k => %d",
                  rows, t->k);
    return -1;
  }
  t->k = rows;
  t->dim = cols;
  return 0;
}

static int parse_linear(sl_trainer *t, sl_options *o, sl_err *err) {
  double it, *w;
  int nw, feat;
  if (opt_num(o, "step", 0.1, 0, INFINITY, 1, &t->step, err) ||
      opt_num(o, "iterations", 50, 1, 1e6, 0, &it, err) ||
      opt_num(o, "mini_batch_fraction", 1.0, 0, 1, 0, &t->fraction, err) ||
      opt_num(o, "convergence_tol", 0.001, 0, 1, 0, &t->tol, err))
    return -1;
  if (t->fraction == 0) {
    sl_err_set(err, SL_EBIND, "mini_batch_fraction => must be above 0");
    return -1;
  }
  t->iterations = (int)it;
  if (t->kind == T_LOGISTIC && opt_num(o, "reg_param", 0.0, 0, INFINITY, 0, &t->reg, err))
    return -1;
  if ((t->intercept = sl_opt_bool(o, "intercept", 0, err)) < 0) return -1;
  double b0;
  if (opt_num(o, "initial_intercept", 0.0, -INFINITY, INFINITY, 0, &b0, err)) return -1;
  if (opt_vec(o, "initial_weights", &w, &nw, err)) return -1;
  feat = (int)sl_opt_int(o, "features", nw, err);
  if (err->code) {
    free(w);
    return -1;
  }
  if (feat < 0 || feat > 1000000 || (w && feat != nw)) {
    sl_err_set(err, SL_EBIND, "features => %d does not fit initial_weights (%d)", feat, nw);
    free(w);
    return -1;
  }
  if (feat) {
    t->w = sl_calloc((size_t)feat + 1, sizeof(double));
    if (w) memcpy(t->w, w, sizeof(double) * (size_t)nw);
    t->w[feat] = b0;
    init_state(t, feat);
  } else if (b0 != 0) {
    sl_err_set(err, SL_EBIND, "initial_intercept => needs features => or initial_weights =>");
  }
  free(w);
  if (!err->code && b0 != 0 && !t->intercept)
    sl_err_set(err, SL_EBIND, "initial_intercept => needs intercept => true");
  return err->code ? -1 : 0;
}

static int parse_kmeans(sl_trainer *t, sl_options *o, sl_err *err) {
  double k, half, seed;
  if (opt_num(o, "k", 2, 1, 100000, 0, &k, err)) return -1;
  t->k = (int)k;
  if (opt_num(o, "decay", 1.0, 0, 1, 0, &t->decay, err) ||
      opt_num(o, "half_life", 0, 0, INFINITY, 1, &half, err) ||
      opt_num(o, "weight", 0.0, 0, INFINITY, 0, &t->cw_random, err) ||
      opt_num(o, "seed", 42, 0, 9007199254740992.0, 0, &seed, err))
    return -1;
  t->seed = (uint64_t)seed;
  if (sl_opt_find_unused(o, "half_life")) {
    if (sl_opt_find_unused(o, "decay")) {
      sl_err_set(err, SL_EBIND, "give decay => or half_life =>, not both");
      return -1;
    }
    t->decay = exp(log(0.5) / half); /* Spark's setHalfLife */
  }
  const char *unit = sl_opt_str(o, "time_unit", "batches");
  if (!strcmp(unit, "points"))
    t->points = 1;
  else if (strcmp(unit, "batches") != 0) {
    sl_err_set(err, SL_EBIND, "time_unit => 'batches' or 'points', not '%s'", unit);
    return -1;
  }
  if (opt_centers(t, o, err)) return -1;
  double *cw;
  int ncw;
  if (opt_vec(o, "initial_weights", &cw, &ncw, err)) return -1;
  if (cw && (!t->centers || ncw != t->k)) {
    sl_err_set(err, SL_EBIND, "initial_weights => needs initial_centers => and one weight each");
    free(cw);
    return -1;
  }
  t->cw = cw;
  int feat = (int)sl_opt_int(o, "features", t->dim, err);
  if (err->code) return -1;
  if (feat < 0 || feat > 1000000 || (t->centers && feat != t->dim)) {
    sl_err_set(err, SL_EBIND, "features => %d does not fit initial_centers (%d)", feat, t->dim);
    return -1;
  }
  if (feat) init_state(t, feat);
  return 0;
}

sl_trainer *sl_trainer_new(const char *type, sl_options *opts, sl_err *err) {
  int kind = -1;
  for (int i = 0; i < 3; i++)
    if (!sl_stricmp(type, type_names[i])) kind = i;
  if (kind < 0) {
    sl_err_set(err, SL_EBIND,
               "unknown model type %s (linear_sgd, logistic_sgd and kmeans_stream learn "
               "from a stream; CREATE MODEL m FROM 'file' loads one)",
               type);
    return NULL;
  }
  sl_trainer *t = sl_calloc(1, sizeof *t);
  t->kind = (tkind)kind;
  pthread_mutex_init(&t->mu, NULL);
  int rc = t->kind == T_KMEANS ? parse_kmeans(t, opts, err) : parse_linear(t, opts, err);
  if (!rc) rc = sl_options_check(opts, err);
  if (rc) {
    sl_trainer_free(t);
    return NULL;
  }
  sl_func *f = &t->fn;
  f->name = "train";
  f->nargs = -1;
  f->flags = SL_FUNC_AGGREGATE | SL_FUNC_JSONRESULT | SL_FUNC_MODELARG;
  f->user = t;
  f->xStep = train_step;
  f->xFinal = train_final;
  f->state_size = sizeof(tbatch);
  f->xSave = train_save;
  f->xLoad = train_load;
  f->doc = "train(model, [label,] features): one update of a trainable model per group";
  return t;
}

sl_model_slot *sl_trainer_slot(sl_trainer *t, const char *name) {
  pthread_mutex_lock(&t->mu);
  sl_model *m = state_model(t);
  pthread_mutex_unlock(&t->mu);
  sl_model_slot *s = sl_model_slot_new(name, m);
  t->slot = s;
  s->trainer = t;
  return s;
}

void sl_trainer_free(sl_trainer *t) {
  if (!t) return;
  pthread_mutex_destroy(&t->mu);
  free(t->w);
  free(t->centers);
  free(t->cw);
  free(t->scratch);
  free(t);
}

/* ---- checkpoints ------------------------------------------------------------ */

static void save_array(sl_buf *out, const double *x, int64_t n) {
  sl_ck_i64(out, x ? n : -1);
  for (int64_t i = 0; x && i < n; i++)
    sl_ck_f64(out, x[i]);
}

/* n doubles into a new array (NULL when saved absent); *ok = 0 on a misfit
** or a number that is not finite (state_model could not make a model). */
static double *load_array(sl_ckrd *r, int64_t want, int *ok) {
  int64_t n = sl_ckr_i64(r);
  if (n < 0) return NULL;
  if (n != want || n > (int64_t)(r->end - r->p) / 8) {
    *ok = 0;
    return NULL;
  }
  double *x = sl_malloc(sizeof(double) * (size_t)(n ? n : 1));
  for (int64_t i = 0; i < n; i++)
    if (!isfinite(x[i] = sl_ckr_f64(r))) *ok = 0;
  return x;
}

void sl_trainer_save(sl_trainer *t, sl_buf *out) {
  pthread_mutex_lock(&t->mu);
  sl_ck_i64(out, t->kind);
  sl_ck_i64(out, t->dim);
  sl_ck_i64(out, t->k);
  sl_ck_i64(out, t->intercept);
  sl_ck_i64(out, t->updates);
  sl_ck_i64(out, t->seen);
  sl_ck_i64(out, t->last_count);
  sl_ck_i64(out, t->last_time);
  pthread_mutex_lock(&t->slot->mu);
  sl_ck_i64(out, t->slot->version);
  pthread_mutex_unlock(&t->slot->mu);
  save_array(out, t->w, t->dim ? nweights(t) : 0);
  save_array(out, t->centers, (int64_t)t->k * t->dim);
  save_array(out, t->cw, t->k);
  pthread_mutex_unlock(&t->mu);
}

/* Load a state saved by sl_trainer_save into t and swap in its version.
** With any_dim the saved dimension replaces t's whatever it is (0: back to
** untrained), else it must be t's (or t's still unknown).  0, or -1 with err
** set (t unchanged) when the bytes do not fit t. */
static int load_state(sl_trainer *t, const void *z, size_t n, int any_dim, sl_err *err) {
  sl_ckrd r;
  sl_ckrd_init(&r, z, n);
  int kind = (int)sl_ckr_i64(&r), dim = (int)sl_ckr_i64(&r), k = (int)sl_ckr_i64(&r);
  int intercept = (int)sl_ckr_i64(&r);
  int ok = !r.bad && kind == (int)t->kind && k == t->k && intercept == t->intercept && dim >= 0 &&
           (any_dim || !t->dim || dim == t->dim);
  int64_t updates = sl_ckr_i64(&r), seen = sl_ckr_i64(&r), last_count = sl_ckr_i64(&r),
          last_time = sl_ckr_i64(&r), version = sl_ckr_i64(&r);
  double *w = NULL, *centers = NULL, *cw = NULL;
  if (ok) {
    w = load_array(&r, (int64_t)dim + (intercept ? 1 : 0), &ok);
    centers = load_array(&r, (int64_t)k * dim, &ok);
    cw = load_array(&r, k, &ok);
    /* a trainer that knows its dimension has its arrays (init_state): a
    ** dimension without them would be allocated here, however large */
    if (dim > 0 && (t->kind == T_KMEANS ? !centers || !cw : !w)) ok = 0;
  }
  if (version < 0 || version > INT_MAX) ok = 0; /* version - 1 below stays an int */
  if (!ok || r.bad || r.p != r.end) {
    free(w);
    free(centers);
    free(cw);
    sl_err_set(err, SL_EIO, "model %s: the checkpointed learning state does not fit it",
               t->slot->name);
    return -1;
  }
  pthread_mutex_lock(&t->mu);
  free(t->w);
  free(t->centers);
  free(t->cw);
  t->w = w;
  t->centers = centers;
  t->cw = cw;
  t->updates = updates;
  t->seen = seen;
  t->last_count = last_count;
  t->last_time = last_time;
  t->dim = dim;
  if (dim) init_state(t, dim); /* the scratch space; the arrays are there */
  sl_model *m = state_model(t);
  pthread_mutex_lock(&t->slot->mu);
  t->slot->version = (int)version - 1; /* the swap makes it the saved one */
  pthread_mutex_unlock(&t->slot->mu);
  sl_model_slot_swap(t->slot, m);
  pthread_mutex_unlock(&t->mu);
  return 0;
}

int sl_trainer_load(sl_trainer *t, const void *z, size_t n, sl_err *err) {
  return load_state(t, z, n, 0, err);
}

int sl_trainer_restore(sl_trainer *t, const void *z, size_t n, sl_err *err) {
  return load_state(t, z, n, 1, err);
}

void sl_trainer_forget_after(sl_trainer *t, int version) {
  pthread_mutex_lock(&t->mu);
  int64_t first = t->nhist > SL_TRAIN_HISTORY ? t->nhist - SL_TRAIN_HISTORY : 0;
  while (t->nhist > first && t->hist[(t->nhist - 1) % SL_TRAIN_HISTORY].version > version)
    t->nhist--;
  pthread_mutex_unlock(&t->mu);
}

const sl_func *sl_trainer_func(sl_trainer *t) {
  return &t->fn;
}

int sl_trainer_nlabel(const sl_trainer *t) {
  return t->kind == T_KMEANS ? 0 : 1;
}

void sl_trainer_describe(sl_trainer *t, void (*cb)(void *ud, const char *k, const char *v),
                         void *ud) {
  sl_buf b = {0};
  pthread_mutex_lock(&t->mu);
  cb(ud, "type", type_names[t->kind]);
  if (t->kind == T_KMEANS) {
    sl_buf_printf(&b, "k %d, decay ", t->k);
    put_num(&b, t->decay);
    sl_buf_printf(&b, " per %s, random centres: seed %llu, weight ", t->points ? "point" : "batch",
                  (unsigned long long)t->seed);
    put_num(&b, t->cw_random);
  } else {
    sl_buf_puts(&b, "step ");
    put_num(&b, t->step);
    sl_buf_printf(&b, ", iterations %d, mini_batch_fraction ", t->iterations);
    put_num(&b, t->fraction);
    sl_buf_puts(&b, ", convergence_tol ");
    put_num(&b, t->tol);
    sl_buf_puts(&b, t->intercept ? ", intercept" : ", no intercept");
  }
  if (t->kind == T_LOGISTIC) {
    sl_buf_puts(&b, ", reg_param ");
    put_num(&b, t->reg);
  }
  cb(ud, "parameters", b.z);
  sl_buf_reset(&b);
  sl_buf_printf(&b, "%lld updates from %lld records", (long long)t->updates, (long long)t->seen);
  cb(ud, "learnt", b.z);
  if (t->dim) {
    pthread_mutex_lock(&t->slot->mu);
    int version = t->slot->version;
    pthread_mutex_unlock(&t->slot->mu);
    sl_buf_reset(&b);
    result_json(t, version, t->last_time, &b);
    cb(ud, "state", b.z);
  }
  if (t->nhist) { /* [{"version", "time", "count", "loss"}, ...], oldest first */
    sl_buf_reset(&b);
    sl_buf_putc(&b, '[');
    int64_t first = t->nhist > SL_TRAIN_HISTORY ? t->nhist - SL_TRAIN_HISTORY : 0;
    for (int64_t i = first; i < t->nhist; i++) {
      int h = (int)(i % SL_TRAIN_HISTORY);
      sl_buf_printf(&b, "%s{\"version\": %d, \"time\": %lld, \"count\": %lld, \"loss\": ",
                    i > first ? ", " : "", t->hist[h].version, (long long)t->hist[h].time,
                    (long long)t->hist[h].count);
      if (isfinite(t->hist[h].loss))
        put_num(&b, t->hist[h].loss);
      else
        sl_buf_puts(&b, "null");
      sl_buf_putc(&b, '}');
    }
    sl_buf_putc(&b, ']');
    cb(ud, "history", b.z);
  }
  pthread_mutex_unlock(&t->mu);
  sl_buf_free(&b);
}
