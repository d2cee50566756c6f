/*
** func_api.c - the public API of values and C functions (include/sluice.h):
** value accessors, the context of a call, result setters (thin wrappers over
** value.h and func.h), and the batch form's accessors over an sl_fbatch:
** an argument column converted to doubles or integers once per call, the
** results as an array, or row by row.
**
** These are what an extension reaches through its sluice_api table
** (extension.c) and what an embedding program calls directly.  A
** sluice_value is an sl_value and a sluice_context an sl_fctx, so no
** conversion happens between the public and the internal form.
*/
#include <math.h>
#include <string.h>

#include "func.h"
#include "sluice.h"

/* ---- values -------------------------------------------------------------- */

int sluice_value_type(sluice_value *v) {
  return v->type;
}

int64_t sluice_value_int64(sluice_value *v) {
  return v->type == SL_INTEGER ? v->u.i : sl_value_as_int(v);
}

double sluice_value_double(sluice_value *v) {
  return v->type == SL_REAL ? v->u.r : sl_value_as_real(v);
}

const char *sluice_value_text(sluice_value *v, size_t *n) {
  const char *z = sl_value_cstr(v);
  if (n) *n = z ? strlen(z) : 0;
  if (z && v->type == SL_TEXT && n) *n = v->n;
  return z;
}

const void *sluice_value_blob(sluice_value *v, size_t *n) {
  if (v->type == SL_TEXT || v->type == SL_BLOB) {
    if (n) *n = v->n;
    return v->n ? v->u.z : "";
  }
  return sluice_value_text(v, n);
}

const double *sluice_value_vector(sluice_value *v, size_t *n) {
  if (v->type != SL_VECTOR) {
    if (n) *n = 0;
    return NULL;
  }
  if (n) *n = v->n;
  return v->u.v;
}

/* ---- the context of a call ------------------------------------------------ */

void *sluice_user_data(sluice_context *ctx) {
  return ctx->def->user;
}

void *sluice_aggregate_state(sluice_context *ctx) {
  return ctx->state;
}

/* ---- results ---------------------------------------------------------------- */

void sluice_result_null(sluice_context *ctx) {
  sl_result_null(ctx);
}

void sluice_result_int64(sluice_context *ctx, int64_t i) {
  sl_result_int(ctx, i);
}

void sluice_result_double(sluice_context *ctx, double r) {
  if (r != r) /* NaN */
    sl_value_set_null(ctx->out);
  else
    sl_value_set_real(ctx->out, r);
}

void sluice_result_text(sluice_context *ctx, const char *z, size_t n) {
  sl_result_text(ctx, z, n);
}

void sluice_result_static_text(sluice_context *ctx, const char *z, size_t n) {
  sl_result_static_text(ctx, z, n);
}

void sluice_result_blob(sluice_context *ctx, const void *z, size_t n) {
  sl_result_blob(ctx, z, n);
}

void sluice_result_vector(sluice_context *ctx, const double *x, size_t n) {
  sl_value_set_vector(ctx->out, x, n);
}

void sluice_result_value(sluice_context *ctx, sluice_value *v) {
  sl_result_value(ctx, v);
}

void sluice_result_error(sluice_context *ctx, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  sl_result_verror(ctx, fmt, ap);
  va_end(ap);
}

/* ---- the batch form ------------------------------------------------------------ */

const double *sluice_batch_double(sluice_context *ctx, int arg) {
  sl_fbatch *b = ctx->batch;
  if (!b || arg < 0 || arg >= b->argc) return NULL;
  double *d = b->dcol + (size_t)arg * (size_t)b->cap;
  if (!(b->have[arg] & 1)) {
    for (int k = 0; k < b->nrow; k++) {
      const sl_value *v = sl_fbatch_arg(b, arg, k);
      d[k] = v->type == SL_REAL      ? v->u.r
             : v->type == SL_INTEGER ? (double)v->u.i
             : v->type == SL_NULL    ? NAN
                                     : sl_value_as_real(v);
    }
    b->have[arg] |= 1;
  }
  return d;
}

const int64_t *sluice_batch_int64(sluice_context *ctx, int arg) {
  sl_fbatch *b = ctx->batch;
  if (!b || arg < 0 || arg >= b->argc) return NULL;
  int64_t *x = b->icol + (size_t)arg * (size_t)b->cap;
  if (!(b->have[arg] & 2)) {
    for (int k = 0; k < b->nrow; k++) {
      const sl_value *v = sl_fbatch_arg(b, arg, k);
      x[k] = v->type == SL_INTEGER ? v->u.i : sl_value_as_int(v);
    }
    b->have[arg] |= 2;
  }
  return x;
}

/* The arguments are the caller's and read-only, and accessors may convert
** a value in place: a function gets copies (made once per call and
** argument, buffers reused). */
sluice_value *sluice_batch_value(sluice_context *ctx, int arg, int row) {
  sl_fbatch *b = ctx->batch;
  if (!b || arg < 0 || arg >= b->argc || row < 0 || row >= b->nrow) return NULL;
  sl_value *col = b->vcol + (size_t)arg * (size_t)b->cap;
  if (!(b->have[arg] & 4)) {
    for (int k = 0; k < b->nrow; k++) {
      const sl_value *v = sl_fbatch_arg(b, arg, k);
      col[k].type = v->type; /* a shallow copy that keeps col[k]'s own buffer */
      col[k].flags = v->flags & (uint8_t)~SL_F_OWNBUF;
      col[k].n = v->n;
      col[k].u = v->u;
    }
    b->have[arg] |= 4;
  }
  return &col[row];
}

double *sluice_batch_result_double(sluice_context *ctx) {
  sl_fbatch *b = ctx->batch;
  if (!b) return NULL;
  b->res_kind = 1;
  return b->dres;
}

int64_t *sluice_batch_result_int64(sluice_context *ctx) {
  sl_fbatch *b = ctx->batch;
  if (!b) return NULL;
  b->res_kind = 2;
  return b->ires;
}

void sluice_batch_row(sluice_context *ctx, int row) {
  sl_fbatch *b = ctx->batch;
  if (!b || row < 0 || row >= b->nrow) return;
  sl_fbatch_null_rest(b); /* rows never set are NULL */
  b->row = row;
  ctx->out = &b->out[row];
}
