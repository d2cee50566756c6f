/*
** model.h - machine-learning models: loading, batched scoring, versions.
**
** A model is loaded from a file (the sluice model JSON format or an XGBoost
** JSON model, docs/models.md) into an immutable sl_model.  Scoring is by
** batch: sl_model_score() takes a row-major matrix of n rows of n_in
** features and writes n rows of n_out doubles, whose meaning is the model's
** `out` kind (probabilities, a regression value, distances, transformed
** features, or decision values).  The SQL functions (predict, predict_label,
** predict_proba, transform, decision_function, and the model's own name) are
** computed from those rows by op_score.c, which scores a whole batch in one
** call.
**
** Versions: the catalog holds a model in an sl_model_slot.  CREATE OR REPLACE
** loads and checks the new file completely and then swaps the slot's pointer
** under its mutex; a query takes a reference to the current version for one
** batch (sl_model_slot_acquire / sl_model_release), so a batch is scored by
** one version only, and an old version is freed by whoever drops the last
** reference.  Slots are reference-counted too: the catalog holds one, each
** query using the model another, so DROP MODEL does not pull a model from
** under a running query.  A script that fails after a CREATE OR REPLACE
** swaps the old version back into the same slot (the catalog's savepoint:
** sl_model_slot_replace / sl_model_slot_restore), so queries holding the
** slot go on with it.
*/
#ifndef SLUICE_MODEL_H
#define SLUICE_MODEL_H

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>

#include "util.h"
#include "value.h"

typedef struct cJSON cJSON;

/* What a row of model output holds. */
typedef enum sl_model_out {
  SL_OUT_VALUE,     /* one regression value */
  SL_OUT_PROBA,     /* one probability per class (n_out == nclass) */
  SL_OUT_DECISION,  /* a classifier without probabilities: decision values */
  SL_OUT_DISTANCE,  /* k-means: distance to each centre */
  SL_OUT_TRANSFORM, /* a transformer's output features */
} sl_model_out;

typedef struct sl_model sl_model;

/* One kind of model (linear, trees, mlp, ...): the scoring routines. */
typedef struct sl_model_vt {
  const char *kind;
  /* Score n rows: x is n x m->n_in (row-major), out is n x m->n_out.  scratch
  ** holds m->scratch_per_row * n doubles for the model's own use. */
  void (*score)(const sl_model *m, const double *x, int n, double *out, double *scratch);
  /* Decision values (n x m->n_decision), or NULL when the kind has none. */
  void (*decision)(const sl_model *m, const double *x, int n, double *out, double *scratch);
  void (*free)(sl_model *m); /* free the kind's own data (not the sl_model) */
} sl_model_vt;

struct sl_model {
  const sl_model_vt *vt;
  void *impl;          /* the kind's data */
  int n_in;            /* features per row */
  int n_out;           /* doubles per output row */
  int n_decision;      /* doubles per decision row (vt->decision) */
  sl_model_out out;    /* meaning of the output row */
  int scratch_per_row; /* doubles of scratch per scored row */
  int missing_ok;      /* NaN features are missing values (XGBoost), else an error */
  /* classifiers: the labels, in the library's order; NULL otherwise */
  int nclass;
  sl_value *classes;    /* INTEGER or TEXT values; text owned by the model */
  char **feature_names; /* n_in names or NULL */
  char *kind_desc;      /* "sklearn LogisticRegression (binary)" for DESCRIBE */
  char *path;           /* the file it came from */
  atomic_int ref;
};

/* Load a model file.  Returns the model with one reference, or NULL with err
** naming the file and the problem. */
sl_model *sl_model_load(const char *path, sl_err *err);
void sl_model_retain(sl_model *m);
void sl_model_release(sl_model *m);

/* Score n rows (see sl_model_vt.score); scratch as there. */
static inline void sl_model_score(const sl_model *m, const double *x, int n, double *out,
                                  double *scratch) {
  m->vt->score(m, x, n, out, scratch);
}
/* Index of the predicted class (first maximum probability, or the decision
** rule of a classifier without probabilities), from one output row. */
int sl_model_argmax(const sl_model *m, const double *row);

/* A named, swappable model in the catalog. */
typedef struct sl_trainer sl_trainer;
typedef struct sl_model_slot {
  char *name;
  pthread_mutex_t mu;
  sl_model *cur;       /* the current version (one reference held by the slot) */
  int version;         /* 1, 2, ... per CREATE OR REPLACE and per training update */
  sl_trainer *trainer; /* a trainable model's learning state (owned), or NULL */
  atomic_int ref;
} sl_model_slot;

sl_model_slot *sl_model_slot_new(const char *name, sl_model *m); /* takes m's reference */
/* Swap in a new version (takes m's reference); the old one is released.
** Returns the new version number. */
int sl_model_slot_swap(sl_model_slot *s, sl_model *m);
/* Swap in a new version (takes m's reference) like sl_model_slot_swap, but
** hand the old version's reference to the caller, with its version number
** in *old_version: the catalog's savepoint keeps it to put it back. */
sl_model *sl_model_slot_replace(sl_model_slot *s, sl_model *m, int *old_version);
/* Put back a version that sl_model_slot_replace took out (takes m's
** reference), numbered version again; the version it displaces is
** released.  Queries holding the slot score with m from their next batch. */
void sl_model_slot_restore(sl_model_slot *s, sl_model *m, int version);
/* The current version with a reference for the caller. */
sl_model *sl_model_slot_acquire(sl_model_slot *s);
void sl_model_slot_retain(sl_model_slot *s);
void sl_model_slot_release(sl_model_slot *s);

/* Describe a model for DESCRIBE: one (property, value) pair per call of cb. */
void sl_model_describe(const sl_model *m, void (*cb)(void *ud, const char *k, const char *v),
                       void *ud);

/* Write the current version of a slot's model to path in the sluice model
** format (a trained model), or copy the file it was loaded from.  0, or -1
** with err set. */
int sl_model_export(sl_model_slot *s, const char *path, sl_err *err);

/* ---- online learning (model_train.c) -------------------------------------- */
/* A trainable model (CREATE MODEL m TYPE linear_sgd | logistic_sgd |
** kmeans_stream WITH (...)) keeps its learning state in an sl_trainer owned
** by its slot.  train(m, ...) is an aggregate whose every finished group is
** one mini-batch: its xFinal applies Spark MLlib's update rule to the state
** and swaps a new immutable version into the slot, which predict() and the
** other model functions then use.  docs/models.md has the rules. */
struct sl_options;
/* A trainer of `type` from the WITH options (unknown options are errors).
** Returns NULL with err set. */
sl_trainer *sl_trainer_new(const char *type, struct sl_options *opts, sl_err *err);
/* A new slot named name that owns t, holding t's first version (one
** reference, for the caller). */
sl_model_slot *sl_trainer_slot(sl_trainer *t, const char *name);
void sl_trainer_free(sl_trainer *t);
/* The train() aggregate of this trainer (lives as long as the trainer). */
const struct sl_func *sl_trainer_func(sl_trainer *t);
/* How many arguments train(m, ...) has before the features (1: the label). */
int sl_trainer_nlabel(const sl_trainer *t);
/* Updates a trainer remembers for DESCRIBE's history. */
#define SL_TRAIN_HISTORY 256
/* Properties for DESCRIBE: type, parameters, version, updates, state, and
** (once trained) history: its last SL_TRAIN_HISTORY updates as JSON,
** [{"version", "time" (the window end), "count", "loss"}] oldest first, the
** loss being the batch's mean loss under the version before it (test, then
** train): squared error (linear_sgd), log loss (logistic_sgd), squared
** distance to the nearest centre (kmeans_stream); null when not finite. */
void sl_trainer_describe(sl_trainer *t, void (*cb)(void *ud, const char *k, const char *v),
                         void *ud);
/* Checkpoints: the learning state (weights or centres and cluster weights,
** counters); load restores it into a trainer of the same type and options
** and swaps in its version.  0, or -1 with err set when it does not fit. */
void sl_trainer_save(sl_trainer *t, sl_buf *out);
int sl_trainer_load(sl_trainer *t, const void *z, size_t n, sl_err *err);
/* Roll t back to a state sl_trainer_save took of t itself (the catalog's
** savepoint): like sl_trainer_load, but the dimension may change, back to
** unknown too. */
int sl_trainer_restore(sl_trainer *t, const void *z, size_t n, sl_err *err);
/* Drop the updates after version from t's history (DESCRIBE's), as a
** rollback to that version does (the newest first; older ones the ring
** has already dropped stay gone). */
void sl_trainer_forget_after(sl_trainer *t, int version);
/* The current state as a model object in the sluice format (caller frees
** with cJSON_Delete). */
cJSON *sl_trainer_json(sl_trainer *t);

/* ---- for the kinds (model_*.c) ------------------------------------------ */
/* A model built from a sluice-format object (not a file); origin is shown by
** DESCRIBE as its file.  NULL with err set. */
sl_model *sl_model_from_object(const cJSON *o, const char *origin, sl_err *err);
/* An empty model with one reference, for kinds built in code. */
sl_model *sl_model_new(void);
/* scikit-learn's (scipy's) expit: 1 / (1 + exp(-v)). */
static inline double sl_expit(double v) {
  return 1.0 / (1.0 + exp(-v));
}
/* scikit-learn's softmax over p[0..k), in place: subtract the maximum,
** exponentiate, divide by the sum. */
void sl_softmax(double *p, int k);
/* The most features, classes or outputs a model may have: every width read
** from a file is checked against it before anything is sized by it. */
#define SL_MODEL_MAX_WIDTH 1000000
/* Whether v is an integral number within int's range (so (int)v is
** defined); NaN is not. */
static inline int sl_mj_is_int(double v) {
  return v >= -2147483648.0 && v <= 2147483647.0 && v == floor(v);
}
/* v rounded to float32 as a C cast does, but defined for every double: beyond
** float's range it is +-FLT_MAX or +-infinity, whichever the rounding gives
** (numpy's float32 conversion); NaN stays NaN. */
static inline float sl_to_float(double v) {
  if (v > 0x1.fffffep+127) return v < 0x1.ffffffp+127 ? 0x1.fffffep+127f : INFINITY;
  if (v < -0x1.fffffep+127) return v > -0x1.ffffffp+127 ? -0x1.fffffep+127f : -INFINITY;
  return (float)v;
}
/* Read helpers: each returns 0, or -1 with err set to "FIELD: problem". */
int sl_mj_int(const cJSON *o, const char *field, int *out, sl_err *err);
int sl_mj_num(const cJSON *o, const char *field, double *out, sl_err *err);
const char *sl_mj_str(const cJSON *o, const char *field, sl_err *err);
/* An array of n numbers (n < 0: any length, stored in *n_out) into a new
** array; NaN/infinite values are an error. */
double *sl_mj_vec(const cJSON *o, const char *field, int n, int *n_out, sl_err *err);
/* A matrix rows x cols (rows/cols < 0: any), row-major into a new array. */
double *sl_mj_mat(const cJSON *o, const char *field, int rows, int cols, int *rows_out,
                  int *cols_out, sl_err *err);

/* Loaders: fill m (vt, impl, n_out, out, ...) from the object; n_in is set. */
int sl_model_linear_load(sl_model *m, const cJSON *o, sl_err *err);
int sl_model_trees_load(sl_model *m, const cJSON *o, sl_err *err);
int sl_model_xgb_load(sl_model *m, const cJSON *o, sl_err *err);
int sl_model_mlp_load(sl_model *m, const cJSON *o, sl_err *err);
int sl_model_kmeans_load(sl_model *m, const cJSON *o, sl_err *err);
int sl_model_scaler_load(sl_model *m, const cJSON *o, int minmax, sl_err *err);
int sl_model_pipeline_load(sl_model *m, const cJSON *o, sl_err *err);
/* Load one model object of the sluice format (a pipeline step too). */
int sl_model_load_object(sl_model *m, const cJSON *o, sl_err *err);

#endif /* SLUICE_MODEL_H */
