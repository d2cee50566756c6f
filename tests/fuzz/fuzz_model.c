/*
** fuzz_model.c - libFuzzer target for the model loaders (src/model*.c):
** the input is a model file's text, parsed as sl_model_load parses it and
** recognised as the sluice model format (linear, trees, MLP, k-means,
** preprocessing pipelines) or XGBoost's JSON; a model that loads scores
** one row of features (and its decision values when the kind has them),
** and its description is made as DESCRIBE makes it.
*/
#include <cjson/cJSON.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "model.h"

static void describe_cb(void *ud, const char *k, const char *v) {
  (void)ud, (void)k, (void)v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  cJSON *o = cJSON_ParseWithLength((const char *)data, size);
  if (!o) return 0;
  sl_err err = {0};
  sl_model *m = cJSON_IsObject(o) ? sl_model_from_object(o, "fuzz.json", &err) : NULL;
  cJSON_Delete(o);
  sl_err_clear(&err);
  if (!m) return 0;
  sl_model_describe(m, describe_cb, NULL);
  if (m->n_in > 0 && m->n_in <= 1 << 16 && m->n_out <= 1 << 16 && m->n_decision <= 1 << 16 &&
      m->scratch_per_row <= 1 << 20) {
    double *x = calloc((size_t)m->n_in, sizeof *x);
    for (int i = 0; i < m->n_in; i++)
      x[i] = m->missing_ok && i % 3 == 2 ? NAN : (double)(i % 5) - 1.5;
    int width = m->n_out > m->n_decision ? m->n_out : m->n_decision;
    double *out = calloc((size_t)(width > 0 ? width : 1), sizeof *out);
    double *scratch =
        calloc((size_t)(m->scratch_per_row > 0 ? m->scratch_per_row : 1), sizeof *scratch);
    sl_model_score(m, x, 1, out, scratch);
    if (m->n_out > 0 &&
        (m->out == SL_OUT_PROBA || m->out == SL_OUT_DISTANCE || m->out == SL_OUT_DECISION))
      (void)sl_model_argmax(m, out);
    if (m->vt->decision && m->n_decision > 0) m->vt->decision(m, x, 1, out, scratch);
    free(scratch);
    free(out);
    free(x);
  }
  sl_model_release(m);
  return 0;
}
