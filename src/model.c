/*
** model.c - loading model files, reference counting, swappable slots.
**
** sl_model_load reads a whole file, parses it with cJSON, recognises the
** format (the sluice model JSON, or XGBoost's own JSON, which has a
** "learner" member), reads the fields every model has (features, classes)
** and hands the object to the loader of its kind (model_linear.c,
** model_trees.c, model_xgb.c, model_mlp.c, model_prep.c).  Every error names
** the file and the problem; a model that fails to load never reaches the
** catalog.
*/
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model.h"

/* ---- JSON field helpers ------------------------------------------------- */

int sl_mj_int(const cJSON *o, const char *field, int *out, sl_err *err) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, field);
  if (!cJSON_IsNumber(v) || !sl_mj_is_int(v->valuedouble)) {
    sl_err_set(err, SL_EBIND, "%s: %s", field, v ? "not an integer" : "missing");
    return -1;
  }
  *out = (int)v->valuedouble;
  return 0;
}

int sl_mj_num(const cJSON *o, const char *field, double *out, sl_err *err) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, field);
  if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble)) {
    sl_err_set(err, SL_EBIND, "%s: %s", field, v ? "not a finite number" : "missing");
    return -1;
  }
  *out = v->valuedouble;
  return 0;
}

const char *sl_mj_str(const cJSON *o, const char *field, sl_err *err) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, field);
  if (!cJSON_IsString(v)) {
    sl_err_set(err, SL_EBIND, "%s: %s", field, v ? "not a string" : "missing");
    return NULL;
  }
  return v->valuestring;
}

/* Read the numbers of array a into x[0..n); 0 or -1 (err names field). */
static int read_numbers(const cJSON *a, double *x, int n, const char *field, sl_err *err) {
  int i = 0;
  const cJSON *e;
  cJSON_ArrayForEach(e, a) {
    if (i >= n) break;
    if (!cJSON_IsNumber(e)) {
      sl_err_set(err, SL_EBIND, "%s: element %d is not a number", field, i);
      return -1;
    }
    if (!isfinite(e->valuedouble)) {
      sl_err_set(err, SL_EBIND, "%s: element %d is not finite (NaN or infinite weight)", field, i);
      return -1;
    }
    x[i++] = e->valuedouble;
  }
  return 0;
}

double *sl_mj_vec(const cJSON *o, const char *field, int n, int *n_out, sl_err *err) {
  const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, field);
  if (!cJSON_IsArray(a)) {
    sl_err_set(err, SL_EBIND, "%s: %s", field, a ? "not an array" : "missing");
    return NULL;
  }
  int len = cJSON_GetArraySize(a);
  if (n >= 0 && len != n) {
    sl_err_set(err, SL_EBIND, "%s: %d elements, expected %d", field, len, n);
    return NULL;
  }
  double *x = sl_malloc(sizeof(double) * (size_t)(len ? len : 1));
  if (read_numbers(a, x, len, field, err)) {
    free(x);
    return NULL;
  }
  if (n_out) *n_out = len;
  return x;
}

double *sl_mj_mat(const cJSON *o, const char *field, int rows, int cols, int *rows_out,
                  int *cols_out, sl_err *err) {
  const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, field);
  if (!cJSON_IsArray(a)) {
    sl_err_set(err, SL_EBIND, "%s: %s", field, a ? "not an array" : "missing");
    return NULL;
  }
  int nr = cJSON_GetArraySize(a);
  if ((rows >= 0 && nr != rows) || nr == 0) {
    sl_err_set(err, SL_EBIND, "%s: %d rows, expected %d", field, nr, rows);
    return NULL;
  }
  int nc = cJSON_GetArraySize(cJSON_GetArrayItem(a, 0));
  if (cols >= 0 && nc != cols) {
    sl_err_set(err, SL_EBIND, "%s: %d columns, expected %d", field, nc, cols);
    return NULL;
  }
  double *x = sl_malloc(sizeof(double) * (size_t)nr * (size_t)(nc ? nc : 1));
  int r = 0;
  const cJSON *row;
  cJSON_ArrayForEach(row, a) {
    if (!cJSON_IsArray(row) || cJSON_GetArraySize(row) != nc) {
      sl_err_set(err, SL_EBIND, "%s: row %d does not have %d numbers", field, r, nc);
      free(x);
      return NULL;
    }
    if (read_numbers(row, x + (size_t)r * (size_t)nc, nc, field, err)) {
      free(x);
      return NULL;
    }
    r++;
  }
  if (rows_out) *rows_out = nr;
  if (cols_out) *cols_out = nc;
  return x;
}

/* ---- common fields ------------------------------------------------------ */

static int read_classes(sl_model *m, const cJSON *o, sl_err *err) {
  const cJSON *c = cJSON_GetObjectItemCaseSensitive(o, "classes");
  if (!c || cJSON_IsNull(c)) return 0;
  if (!cJSON_IsArray(c) || cJSON_GetArraySize(c) < 2) {
    sl_err_set(err, SL_EBIND, "classes: not an array of at least two labels");
    return -1;
  }
  m->nclass = cJSON_GetArraySize(c);
  m->classes = sl_calloc((size_t)m->nclass, sizeof(sl_value));
  int i = 0;
  const cJSON *e;
  cJSON_ArrayForEach(e, c) {
    /* an integer label: integral and within int64_t (-2^63 <= v < 2^63) */
    if (cJSON_IsNumber(e) && e->valuedouble == floor(e->valuedouble) && e->valuedouble >= -0x1p63 &&
        e->valuedouble < 0x1p63)
      sl_value_set_int(&m->classes[i], (int64_t)e->valuedouble);
    else if (cJSON_IsString(e))
      sl_value_set_text(&m->classes[i], e->valuestring, strlen(e->valuestring));
    else if (cJSON_IsBool(e))
      sl_value_set_int(&m->classes[i], cJSON_IsTrue(e));
    else {
      sl_err_set(err, SL_EBIND, "classes: label %d is not a string or an integer", i);
      return -1;
    }
    i++;
  }
  return 0;
}

static int read_feature_names(sl_model *m, const cJSON *o, sl_err *err) {
  const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, "feature_names");
  if (!f || cJSON_IsNull(f)) return 0;
  if (!cJSON_IsArray(f) || cJSON_GetArraySize(f) != m->n_in) {
    sl_err_set(err, SL_EBIND, "feature_names: not an array of %d names", m->n_in);
    return -1;
  }
  m->feature_names = sl_calloc((size_t)m->n_in, sizeof(char *));
  int i = 0;
  const cJSON *e;
  cJSON_ArrayForEach(e, f) {
    if (!cJSON_IsString(e)) {
      sl_err_set(err, SL_EBIND, "feature_names: element %d is not a string", i);
      return -1;
    }
    m->feature_names[i++] = sl_strdup(e->valuestring);
  }
  return 0;
}

int sl_model_load_object(sl_model *m, const cJSON *o, sl_err *err) {
  const char *kind = sl_mj_str(o, "kind", err);
  if (!kind) return -1;
  if (sl_mj_int(o, "n_features", &m->n_in, err)) return -1;
  if (m->n_in < 1 || m->n_in > SL_MODEL_MAX_WIDTH) {
    sl_err_set(err, SL_EBIND, "n_features: %d is out of range", m->n_in);
    return -1;
  }
  if (read_feature_names(m, o, err) || read_classes(m, o, err)) return -1;
  const cJSON *src = cJSON_GetObjectItemCaseSensitive(o, "source");
  const char *s = cJSON_IsString(src) ? strrchr(src->valuestring, '.') : NULL;
  m->kind_desc = sl_strdup(s ? s + 1 : kind);
  int rc;
  if (!strcmp(kind, "linear"))
    rc = sl_model_linear_load(m, o, err);
  else if (!strcmp(kind, "tree_ensemble"))
    rc = sl_model_trees_load(m, o, err);
  else if (!strcmp(kind, "mlp"))
    rc = sl_model_mlp_load(m, o, err);
  else if (!strcmp(kind, "kmeans"))
    rc = sl_model_kmeans_load(m, o, err);
  else if (!strcmp(kind, "standard_scaler"))
    rc = sl_model_scaler_load(m, o, 0, err);
  else if (!strcmp(kind, "min_max_scaler"))
    rc = sl_model_scaler_load(m, o, 1, err);
  else if (!strcmp(kind, "pipeline"))
    rc = sl_model_pipeline_load(m, o, err);
  else {
    sl_err_set(err, SL_EBIND, "unknown model kind \"%s\"", kind);
    return -1;
  }
  if (rc) return -1;
  if ((m->out == SL_OUT_PROBA || m->out == SL_OUT_DECISION) && !m->classes) {
    sl_err_set(err, SL_EBIND, "a classifier needs \"classes\"");
    return -1;
  }
  if (m->out == SL_OUT_PROBA && m->n_out != m->nclass) {
    sl_err_set(err, SL_EBIND, "%d classes but %d probabilities", m->nclass, m->n_out);
    return -1;
  }
  /* predict_label() indexes the labels by the output row's argmax: a
  ** decision row of one value picks one of two labels, any other row one
  ** label per value.  Labels on a model that outputs no class (a pipeline's
  ** top-level "classes" over a last step that is a transformer) would be
  ** indexed by a feature's position. */
  if (m->classes && m->out != SL_OUT_PROBA && m->out != SL_OUT_DECISION) {
    sl_err_set(err, SL_EBIND, "classes: %d labels, but the model (%s) is not a classifier",
               m->nclass, m->kind_desc ? m->kind_desc : kind);
    return -1;
  }
  if (m->out == SL_OUT_DECISION && m->nclass != (m->n_out == 1 ? 2 : m->n_out)) {
    sl_err_set(err, SL_EBIND, "%d classes but %d decision values", m->nclass, m->n_out);
    return -1;
  }
  return 0;
}

static void model_free(sl_model *m) {
  if (!m) return;
  if (m->vt && m->vt->free) m->vt->free(m);
  for (int i = 0; i < m->nclass; i++)
    sl_value_free(&m->classes[i]);
  free(m->classes);
  if (m->feature_names)
    for (int i = 0; i < m->n_in; i++)
      free(m->feature_names[i]);
  free(m->feature_names);
  free(m->kind_desc);
  free(m->path);
  free(m);
}

/* The most bytes a model file may have (1 GiB): far more than a model
** scored at streaming speed needs, and a bound on what a file that grows
** while it is read makes sluice hold. */
#define MODEL_MAX_FILE ((size_t)1 << 30)

/* Read the whole regular file at path into a new NUL-terminated string.
** NULL with err set to "model PATH: problem" when it cannot be opened, is
** not a regular file (a device such as /dev/urandom, a FIFO or a
** directory: opened without blocking and never read), holds more than
** MODEL_MAX_FILE bytes (checked before reading and while reading), or a
** read fails. */
static char *read_model_file(const char *path, sl_err *err) {
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    sl_err_set(err, SL_EIO, "model %s: %s", path, strerror(errno));
    return NULL;
  }
  struct stat st;
  char *text = NULL;
  if (fstat(fd, &st) != 0) {
    sl_err_set(err, SL_EIO, "model %s: %s", path, strerror(errno));
    goto fail;
  }
  if (!S_ISREG(st.st_mode)) {
    sl_err_set(err, SL_EIO, "model %s: not a regular file", path);
    goto fail;
  }
  if ((uint64_t)st.st_size > MODEL_MAX_FILE) goto toobig;
  size_t cap = (size_t)st.st_size + 1, n = 0;
  text = sl_malloc(cap + 1);
  for (;;) {
    if (n == cap) { /* the file grew: read on, within the bound */
      if (cap > MODEL_MAX_FILE) goto toobig;
      cap = cap * 2 > MODEL_MAX_FILE + 1 ? MODEL_MAX_FILE + 1 : cap * 2;
      text = sl_realloc(text, cap + 1);
    }
    ssize_t r = read(fd, text + n, cap - n);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      sl_err_set(err, SL_EIO, "model %s: %s", path, strerror(errno));
      goto fail;
    }
    if (r == 0) break;
    n += (size_t)r;
  }
  if (n > MODEL_MAX_FILE) goto toobig;
  text[n] = 0;
  close(fd);
  return text;
toobig:
  sl_err_set(err, SL_EIO, "model %s: larger than %zu bytes (the most a model file may have)", path,
             MODEL_MAX_FILE);
fail:
  free(text);
  close(fd);
  return NULL;
}

sl_model *sl_model_load(const char *path, sl_err *err) {
  char *text = read_model_file(path, err);
  if (!text) return NULL;
  cJSON *o = cJSON_Parse(text);
  if (!o || !cJSON_IsObject(o)) {
    const char *at = cJSON_GetErrorPtr();
    long off = at && at >= text && at <= text + strlen(text) ? (long)(at - text) : -1;
    if (!*text)
      sl_err_set(err, SL_EBIND, "model %s: the file is empty", path);
    else if (o)
      sl_err_set(err, SL_EBIND, "model %s: not a JSON object", path);
    else
      sl_err_set(err, SL_EBIND, "model %s: not valid JSON (truncated or corrupt) near byte %ld",
                 path, off);
    cJSON_Delete(o);
    free(text);
    return NULL;
  }
  free(text);
  sl_err e = {0};
  sl_model *m = sl_model_from_object(o, path, &e);
  cJSON_Delete(o);
  if (!m) {
    sl_err_set(err, SL_EBIND, "model %s: %s", path, e.msg ? e.msg : "cannot load");
    sl_err_clear(&e);
  }
  return m;
}

sl_model *sl_model_new(void) {
  sl_model *m = sl_calloc(1, sizeof *m);
  atomic_init(&m->ref, 1);
  return m;
}

sl_model *sl_model_from_object(const cJSON *o, const char *origin, sl_err *err) {
  sl_model *m = sl_model_new();
  m->path = sl_strdup(origin);
  sl_err e = {0};
  int rc;
  if (cJSON_GetObjectItemCaseSensitive(o, "learner")) {
    rc = sl_model_xgb_load(m, o, &e);
  } else {
    const char *fmt = sl_mj_str(o, "format", &e);
    int version = 0;
    if (!fmt)
      rc = -1;
    else if (strcmp(fmt, "sluice-model") != 0) {
      sl_err_set(&e, SL_EBIND, "format \"%s\" is not \"sluice-model\"", fmt);
      rc = -1;
    } else if (sl_mj_int(o, "version", &version, &e))
      rc = -1;
    else if (version != 1) {
      sl_err_set(&e, SL_EBIND, "format version %d is not supported (this sluice reads 1)", version);
      rc = -1;
    } else
      rc = sl_model_load_object(m, o, &e);
  }
  if (rc) {
    sl_err_move(err, &e);
    sl_err_clear(&e);
    model_free(m);
    return NULL;
  }
  return m;
}

void sl_model_retain(sl_model *m) {
  atomic_fetch_add(&m->ref, 1);
}

void sl_model_release(sl_model *m) {
  if (m && atomic_fetch_sub(&m->ref, 1) == 1) model_free(m);
}

void sl_softmax(double *p, int k) {
  double mx = p[0];
  for (int j = 1; j < k; j++)
    if (p[j] > mx) mx = p[j];
  double s = 0;
  for (int j = 0; j < k; j++) {
    p[j] = exp(p[j] - mx);
    s += p[j];
  }
  for (int j = 0; j < k; j++)
    p[j] /= s;
}

int sl_model_argmax(const sl_model *m, const double *row) {
  if (m->out == SL_OUT_DECISION && m->n_out == 1) return row[0] > 0;
  if (m->out == SL_OUT_DISTANCE) {
    int best = 0;
    for (int k = 1; k < m->n_out; k++)
      if (row[k] < row[best]) best = k;
    return best;
  }
  int best = 0;
  for (int k = 1; k < m->n_out; k++)
    if (row[k] > row[best]) best = k;
  return best;
}

/* ---- slots ------------------------------------------------------------- */

sl_model_slot *sl_model_slot_new(const char *name, sl_model *m) {
  sl_model_slot *s = sl_calloc(1, sizeof *s);
  s->name = sl_strdup(name);
  pthread_mutex_init(&s->mu, NULL);
  s->cur = m;
  s->version = 1;
  atomic_init(&s->ref, 1);
  return s;
}

int sl_model_slot_swap(sl_model_slot *s, sl_model *m) {
  pthread_mutex_lock(&s->mu);
  sl_model *old = s->cur;
  s->cur = m;
  int v = ++s->version;
  pthread_mutex_unlock(&s->mu);
  sl_model_release(old);
  return v;
}

sl_model *sl_model_slot_replace(sl_model_slot *s, sl_model *m, int *old_version) {
  pthread_mutex_lock(&s->mu);
  sl_model *old = s->cur;
  s->cur = m;
  *old_version = s->version++;
  pthread_mutex_unlock(&s->mu);
  return old;
}

void sl_model_slot_restore(sl_model_slot *s, sl_model *m, int version) {
  pthread_mutex_lock(&s->mu);
  sl_model *displaced = s->cur;
  s->cur = m;
  s->version = version;
  pthread_mutex_unlock(&s->mu);
  sl_model_release(displaced);
}

sl_model *sl_model_slot_acquire(sl_model_slot *s) {
  pthread_mutex_lock(&s->mu);
  sl_model *m = s->cur;
  sl_model_retain(m);
  pthread_mutex_unlock(&s->mu);
  return m;
}

void sl_model_slot_retain(sl_model_slot *s) {
  atomic_fetch_add(&s->ref, 1);
}

void sl_model_slot_release(sl_model_slot *s) {
  if (!s || atomic_fetch_sub(&s->ref, 1) != 1) return;
  sl_trainer_free(s->trainer);
  sl_model_release(s->cur);
  pthread_mutex_destroy(&s->mu);
  free(s->name);
  free(s);
}

/* ---- DESCRIBE ------------------------------------------------------------ */

void sl_model_describe(const sl_model *m, void (*cb)(void *ud, const char *k, const char *v),
                       void *ud) {
  static const char *outs[] = {"value", "class probabilities", "decision values",
                               "distances to centres", "transformed features"};
  sl_buf b = {0};
  cb(ud, "kind", m->kind_desc);
  cb(ud, "file", m->path);
  sl_buf_printf(&b, "%d", m->n_in);
  if (m->feature_names) {
    sl_buf_puts(&b, ": ");
    for (int i = 0; i < m->n_in; i++)
      sl_buf_printf(&b, "%s%s", i ? ", " : "", m->feature_names[i]);
  }
  cb(ud, "inputs", b.z);
  sl_buf_reset(&b);
  sl_buf_printf(&b, "%d (%s)", m->n_out, outs[m->out]);
  cb(ud, "outputs", b.z);
  if (m->classes) {
    sl_buf_reset(&b);
    for (int i = 0; i < m->nclass; i++) {
      if (i) sl_buf_puts(&b, ", ");
      const sl_value *c = &m->classes[i];
      if (c->type == SL_INTEGER)
        sl_buf_printf(&b, "%lld", (long long)c->u.i);
      else
        sl_buf_append(&b, c->u.z, c->n);
    }
    cb(ud, "classes", b.z);
  }
  const char *primary = m->out == SL_OUT_VALUE       ? "the predicted value (REAL)"
                        : m->out == SL_OUT_DISTANCE  ? "the nearest centre (INTEGER)"
                        : m->out == SL_OUT_TRANSFORM ? "the transformed features (VECTOR)"
                        : m->out == SL_OUT_PROBA && m->nclass == 2 ? "P(second class) (REAL)"
                                                                   : "the predicted label";
  cb(ud, "primary output", primary);
  cb(ud, "missing values", m->missing_ok ? "NULL/NaN follow each split's default" : "rejected");
  sl_buf_free(&b);
}

/* ---- EXPORT MODEL ---------------------------------------------------------- */

/* Write n bytes to path atomically: a temporary file beside it, renamed. */
static int write_atomic(const char *path, const char *z, size_t n, sl_err *err) {
  size_t plen = strlen(path);
  char *tmp = sl_malloc(plen + 8);
  memcpy(tmp, path, plen);
  memcpy(tmp + plen, ".tmp", 5);
  FILE *f = fopen(tmp, "wb");
  int ok = f && fwrite(z, 1, n, f) == n;
  if (f && fclose(f) != 0) ok = 0;
  if (ok && rename(tmp, path) != 0) ok = 0;
  if (!ok) {
    sl_err_set(err, SL_EIO, "EXPORT MODEL: cannot write %s: %s", path, strerror(errno));
    remove(tmp);
  }
  free(tmp);
  return ok ? 0 : -1;
}

int sl_model_export(sl_model_slot *s, const char *path, sl_err *err) {
  char *text = NULL;
  if (s->trainer) {
    cJSON *o = sl_trainer_json(s->trainer);
    text = cJSON_Print(o);
    cJSON_Delete(o);
  } else {
    sl_model *m = sl_model_slot_acquire(s);
    sl_err e = {0};
    text = read_model_file(m->path, &e);
    sl_err_clear(&e);
    if (!text)
      sl_err_set(err, SL_EIO, "EXPORT MODEL %s: cannot read %s, the file it was loaded from",
                 s->name, m->path);
    sl_model_release(m);
    if (!text) return -1;
  }
  size_t n = strlen(text);
  text = sl_realloc(text, n + 2);
  text[n++] = '\n';
  int rc = write_atomic(path, text, n, err);
  free(text);
  return rc;
}
