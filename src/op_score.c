/*
** op_score.c - batched model scoring: every model call of a query, for a
** whole batch, in one call per model.
**
** The planner moves each model call (predict(m, ...), m(...), ...) out of
** the query's expressions into this operator, which runs before op_project.
** Its program computes, per row, the WHERE clause (when it does not itself
** use a model) and the arguments of every call.  The features go into one
** row-major matrix per call; then each model scores its matrix in one call
** (sl_model_score: OpenBLAS for MLP layers and multinomial linear models)
** and the results are appended to each row as extra columns, which the
** project program reads like input columns.
**
** Versions: each call takes a reference to its model's current version for
** the batch, so a batch is scored by one version; CREATE OR REPLACE MODEL
** takes effect at the next batch.  A record whose features are unusable
** (NULL for a model without missing values, text that is not a number, a
** VECTOR of the wrong length, an unknown class) is rejected: counted,
** logged, skipped.  Buffers grow to the largest batch and are reused: no
** allocation per row.
*/
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "expr.h"
#include "json.h"
#include "model.h"
#include "operator.h"

typedef struct call_state {
  sl_model *m;        /* this batch's version (a reference) */
  double *x, *out;    /* features, outputs: cap rows each */
  int *cls;           /* SL_MC_PROBA1: class index per kept row */
  size_t xcap, ocap;  /* doubles allocated */
  int arg_reg;        /* first argument register in the program */
  const char *broken; /* why this version cannot serve the call, or NULL */
} call_state;

typedef struct op_score {
  sl_operator base;
  const sl_program *prog; /* the spec's */
  sl_vm vm;
  sl_mcalls calls; /* a shallow copy of the spec's (it holds the slot references) */
  call_state *cs;
  int ncol_in;  /* input columns the rest of the query reads */
  int ncol_out; /* ncol_in + calls.n */
  sl_value *rows;
  const sl_record **recs;
  uint64_t *ids; /* per output row: its input row's identity (when the input has them) */
  uint8_t *ops;  /* per output row: its input row's kind (an updating input) */
  int *keep;     /* kept row -> input row */
  int cap;
  double *scratch;
  size_t scratch_cap;
  sl_arena arena; /* JSON text of this batch */
  sl_buf msg;
  int strict; /* a rejected row fails the query (a constant SELECT) */
} op_score;

/* One feature value as a double; NULL on success, else why not. */
static const char *feature(const sl_value *v, int missing_ok, double *out) {
  switch (v->type) {
  case SL_INTEGER: *out = (double)v->u.i; return NULL;
  case SL_REAL: *out = v->u.r; return NULL;
  case SL_NULL:
    if (!missing_ok) return "a NULL feature (this model has no missing values)";
    *out = NAN;
    return NULL;
  case SL_TEXT:
    if (sl_atof(v->u.z, v->n, out)) return NULL;
    return "a feature is text that is not a number";
  default: return "a feature is not a number";
  }
}

/* The message for a VECTOR of n features given to model m. */
static const char *vector_misfit(op_score *p, const sl_mcall *mc, const sl_model *m, int n) {
  sl_buf_reset(&p->msg);
  sl_buf_printf(&p->msg, "model %s takes %d features; the VECTOR has %d", mc->slot->name, m->n_in,
                n);
  return p->msg.z;
}

/* Fill row k of call i's matrix from the program's registers; NULL or why
** the record is rejected. */
static const char *fill(op_score *p, int i, int k) {
  const sl_mcall *mc = &p->calls.a[i];
  call_state *c = &p->cs[i];
  const sl_model *m = c->m;
  /* a trainable model before its first update: NULL (and c->x may be NULL) */
  if (m->n_in == 0) return NULL;
  double *x = c->x + (size_t)k * (size_t)m->n_in;
  sl_value *r = &p->vm.reg[c->arg_reg];
  if (mc->vector) {
    sl_value *v = &r[0];
    if (v->type == SL_TEXT) { /* a JSON array, or "1,2,3" */
      int n = sl_parse_numlist(v->u.z, v->n, x, m->n_in);
      if (n < 0) return "the features are text, not a list of numbers";
      if (n != m->n_in) return vector_misfit(p, mc, m, n);
      for (int j = 0; j < n; j++)
        if (isnan(x[j]) && !m->missing_ok)
          return "a NaN feature (this model has no missing values)";
    } else if (v->type != SL_VECTOR) {
      if (m->n_in != 1) return "the features are not a VECTOR (a JSON array of numbers)";
      const char *why = feature(v, m->missing_ok, x);
      if (why) return why;
    } else {
      if ((int)v->n != m->n_in) return vector_misfit(p, mc, m, (int)v->n);
      for (int j = 0; j < m->n_in; j++) {
        x[j] = v->u.v[j];
        if (isnan(x[j]) && !m->missing_ok)
          return "a NaN feature (this model has no missing values)";
      }
    }
  } else {
    if (mc->nargs != m->n_in) {
      sl_buf_reset(&p->msg);
      sl_buf_printf(&p->msg, "model %s now takes %d features; the query passes %d", mc->slot->name,
                    m->n_in, mc->nargs);
      return p->msg.z;
    }
    for (int j = 0; j < m->n_in; j++) {
      const char *why = feature(&r[j], m->missing_ok, &x[j]);
      if (why) return why;
    }
  }
  if (mc->mode == SL_MC_PROBA1) {
    const sl_value *want = &r[mc->nargs];
    int found = -1;
    for (int k2 = 0; k2 < m->nclass && found < 0; k2++) {
      const sl_value *cl = &m->classes[k2];
      if (cl->type == SL_INTEGER && (want->type == SL_INTEGER || want->type == SL_REAL)) {
        if (sl_value_as_real(want) == (double)cl->u.i) found = k2;
      } else if (cl->type == SL_INTEGER && want->type == SL_TEXT) {
        double d;
        if (sl_atof(want->u.z, want->n, &d) && d == (double)cl->u.i) found = k2;
      } else if (cl->type == SL_TEXT && want->type == SL_TEXT) {
        if (cl->n == want->n && memcmp(cl->u.z, want->u.z, want->n) == 0) found = k2;
      }
    }
    if (found < 0) {
      sl_buf_reset(&p->msg);
      sl_buf_printf(&p->msg, "model %s has no class ", mc->slot->name);
      sl_value tmp = SL_VALUE_INIT;
      sl_value_copy(&tmp, want);
      const char *z = sl_value_cstr(&tmp);
      sl_buf_puts(&p->msg, z ? z : "NULL");
      sl_value_free(&tmp);
      return p->msg.z;
    }
    c->cls[k] = found;
  }
  return NULL;
}

/* Make room for n rows in every buffer. */
static void reserve(op_score *p, int n) {
  if (n > p->cap) {
    p->cap = n;
    p->rows = sl_realloc(p->rows, sizeof(sl_value) * (size_t)n * (size_t)p->ncol_out);
    p->recs = sl_realloc(p->recs, sizeof(*p->recs) * (size_t)n);
    p->ids = sl_realloc(p->ids, sizeof(*p->ids) * (size_t)n);
    p->ops = sl_realloc(p->ops, (size_t)n);
    p->keep = sl_realloc(p->keep, sizeof(int) * (size_t)n);
  }
  size_t scratch = 0;
  for (int i = 0; i < p->calls.n; i++) {
    call_state *c = &p->cs[i];
    size_t xs = (size_t)n * (size_t)c->m->n_in;
    size_t width = (size_t)(c->m->n_out > c->m->n_decision ? c->m->n_out : c->m->n_decision);
    size_t os = (size_t)n * width;
    if (xs > c->xcap) {
      c->xcap = xs;
      c->x = sl_realloc(c->x, sizeof(double) * xs);
    }
    if (os > c->ocap) {
      c->ocap = os;
      c->out = sl_realloc(c->out, sizeof(double) * os);
    }
    if (p->calls.a[i].mode == SL_MC_PROBA1)
      c->cls = sl_realloc(c->cls, sizeof(int) * (size_t)p->cap);
    size_t s = (size_t)n * (size_t)c->m->scratch_per_row;
    if (s > scratch) scratch = s;
  }
  if (scratch > p->scratch_cap) {
    p->scratch_cap = scratch;
    p->scratch = sl_realloc(p->scratch, sizeof(double) * scratch);
  }
}

/* Append a JSON object of class probabilities to b. */
static void proba_json(sl_buf *b, const sl_model *m, const double *row) {
  sl_buf_putc(b, '{');
  for (int k = 0; k < m->nclass; k++) {
    const sl_value *cl = &m->classes[k];
    if (k) sl_buf_puts(b, ", ");
    sl_buf_putc(b, '"');
    if (cl->type == SL_INTEGER)
      sl_buf_printf(b, "%lld", (long long)cl->u.i);
    else
      for (uint32_t j = 0; j < cl->n; j++) {
        char ch = cl->u.z[j];
        if (ch == '"' || ch == '\\') sl_buf_putc(b, '\\');
        if ((unsigned char)ch < 0x20)
          sl_buf_printf(b, "\\u%04x", (unsigned char)ch);
        else
          sl_buf_putc(b, ch);
      }
    sl_buf_puts(b, "\": ");
    char num[40];
    int n = sl_real_to_shortest(row[k], num);
    sl_buf_append(b, num, (size_t)n);
  }
  sl_buf_putc(b, '}');
}

/* The value of call i for kept row k. */
static void result(op_score *p, int i, int k, sl_value *v) {
  const sl_mcall *mc = &p->calls.a[i];
  call_state *c = &p->cs[i];
  const sl_model *m = c->m;
  int width = mc->mode == SL_MC_DECISION ? m->n_decision : m->n_out;
  const double *row = c->out + (size_t)k * (size_t)width;
  sl_mcall_mode mode = mc->mode;
  if (m->n_in == 0) {
    sl_value_set_null(v);
    return;
  }
  if (mode == SL_MC_PREDICT) {
    switch (m->out) {
    case SL_OUT_VALUE: sl_value_set_real(v, row[0]); return;
    case SL_OUT_DISTANCE: sl_value_set_int(v, sl_model_argmax(m, row)); return;
    case SL_OUT_TRANSFORM: mode = SL_MC_TRANSFORM; break;
    case SL_OUT_PROBA:
      if (m->nclass == 2) {
        sl_value_set_real(v, row[1]);
        return;
      }
      mode = SL_MC_LABEL;
      break;
    case SL_OUT_DECISION: mode = SL_MC_LABEL; break;
    }
  }
  switch (mode) {
  case SL_MC_LABEL: {
    const sl_value *cl = &m->classes[sl_model_argmax(m, row)];
    if (cl->type == SL_INTEGER)
      sl_value_set_int(v, cl->u.i);
    else
      sl_value_borrow_text(v, cl->u.z, cl->n, 0);
    return;
  }
  case SL_MC_PROBA1: sl_value_set_real(v, row[c->cls[k]]); return;
  case SL_MC_PROBA: {
    sl_buf_reset(&p->msg);
    proba_json(&p->msg, m, row);
    char *z = sl_arena_strndup(&p->arena, p->msg.z, p->msg.n);
    sl_value_borrow_text(v, z, p->msg.n, SL_F_JSON);
    return;
  }
  case SL_MC_TRANSFORM:
  case SL_MC_DECISION:
    if (width == 1 && mode == SL_MC_DECISION)
      sl_value_set_real(v, row[0]);
    else
      sl_value_borrow_vector(v, row, (size_t)width);
    return;
  default: sl_value_set_null(v); return;
  }
}

static int score_push(sl_operator *base, sl_batch *in, sl_err *err) {
  op_score *p = (op_score *)base;
  for (int i = 0; i < p->calls.n; i++) {
    p->cs[i].m = sl_model_slot_acquire(p->calls.a[i].slot);
    p->cs[i].broken = sl_mcall_misfit(p->calls.a[i].mode, p->cs[i].m);
  }
  reserve(p, in->nrow);
  sl_arena_reset(&p->arena);
  int n = 0, rc = 0;
  for (int r = 0; r < in->nrow; r++) {
    rc = sl_vm_run(&p->vm, in->rows + (size_t)r * (size_t)in->ncol);
    if (rc == SL_VM_SKIP) continue;
    if (rc == SL_VM_ERROR) {
      const char *why = p->vm.errmsg.z ? p->vm.errmsg.z : "evaluation failed";
      if (p->strict) {
        sl_err_set(err, SL_ERUNTIME, "%s", why);
        n = 0;
        rc = -1;
        goto done;
      }
      sl_op_reject(base, in, r, why);
      continue;
    }
    const char *why = NULL;
    for (int i = 0; i < p->calls.n && !why; i++) {
      why = p->cs[i].broken ? p->cs[i].broken : fill(p, i, n);
      if (why && why != p->msg.z) {
        sl_buf_reset(&p->msg);
        sl_buf_printf(&p->msg, "%s(): %s", p->calls.a[i].fname, why);
        why = p->msg.z;
      }
    }
    if (why && p->strict) {
      sl_err_set(err, SL_ERUNTIME, "%s", why);
      rc = -1;
      goto done;
    }
    if (why) {
      sl_op_reject(base, in, r, why);
      continue;
    }
    p->keep[n++] = r;
  }
  for (int i = 0; i < p->calls.n && n; i++) {
    call_state *c = &p->cs[i];
    if (p->calls.a[i].mode == SL_MC_DECISION)
      c->m->vt->decision(c->m, c->x, n, c->out, p->scratch);
    else
      sl_model_score(c->m, c->x, n, c->out, p->scratch);
  }
  for (int k = 0; k < n; k++) {
    int r = p->keep[k];
    sl_value *o = p->rows + (size_t)k * (size_t)p->ncol_out;
    const sl_value *src = in->rows + (size_t)r * (size_t)in->ncol;
    for (int j = 0; j < p->ncol_in; j++) {
      o[j] = src[j];
      o[j].buf = NULL; /* borrowed for the push */
      o[j].cap = 0;
      o[j].flags &= (uint8_t)~SL_F_OWNBUF;
    }
    for (int i = 0; i < p->calls.n; i++) {
      sl_value *v = &o[p->ncol_in + i];
      memset(v, 0, sizeof *v);
      result(p, i, k, v);
    }
    p->recs[k] = in->recs ? in->recs[r] : NULL;
    p->ids[k] = in->ids ? in->ids[r] : 0;
    if (in->ops) p->ops[k] = in->ops[r];
  }
  rc = 0;
  if (n) {
    rc = sl_op_emit_derived(base, in, p->ncol_out, n, p->rows, p->recs, p->ids, p->ops, err);
  }
done:
  for (int i = 0; i < p->calls.n; i++) {
    sl_model_release(p->cs[i].m);
    p->cs[i].m = NULL;
  }
  return rc;
}

static int score_finish(sl_operator *base, sl_err *err) {
  return sl_op_finish_next(base, err);
}

static void score_explain(const void *spec, sl_buf *out) {
  const sl_score_spec *p = spec;
  const sl_mcalls *calls = p->calls;
  sl_buf_printf(out, "score: %d model call%s, batched\n", calls->n, calls->n == 1 ? "" : "s");
  for (int i = 0; i < calls->n; i++)
    sl_buf_printf(out, "  [%d] %s(%s%s) -> column %d\n", i, calls->a[i].fname,
                  calls->a[i].slot->name, calls->a[i].vector ? ", VECTOR" : ", ...",
                  p->ncol_in + i);
  sl_program_explain(p->prog, out);
}

static void score_free(sl_operator *base) {
  op_score *p = (op_score *)base;
  sl_vm_free(&p->vm);
  for (int i = 0; i < p->calls.n; i++) {
    free(p->cs[i].x);
    free(p->cs[i].out);
    free(p->cs[i].cls);
  }
  free(p->cs);
  free(p->rows);
  free(p->recs);
  free(p->ids);
  free(p->ops);
  free(p->keep);
  free(p->scratch);
  sl_arena_free(&p->arena);
  sl_buf_free(&p->msg);
  free(p);
}

static const sl_op_vt score_vt = {
    "score", score_push, sl_op_pass_tick, sl_op_pass_barrier, score_finish, score_free, NULL, NULL};

static sl_operator *score_make(const void *spec, const sl_make_env *env, sl_err *err) {
  const sl_score_spec *sp = spec;
  op_score *p = sl_calloc(1, sizeof *p);
  p->base.vt = &score_vt;
  p->prog = sp->prog;
  p->calls = *sp->calls;
  p->cs = sl_calloc((size_t)(p->calls.n ? p->calls.n : 1), sizeof(call_state));
  for (int i = 0; i < p->calls.n; i++)
    p->cs[i].arg_reg = sp->arg_reg[i];
  p->ncol_in = sp->ncol_in;
  p->ncol_out = sp->ncol_in + p->calls.n;
  sl_vm_init(&p->vm, p->prog);
  p->vm.trace = sp->trace;
  p->strict = sp->strict;
  sl_arena_init(&p->arena);
  return &p->base;
}

static void score_free_spec(void *spec) {
  sl_score_spec *p = spec;
  sl_program_free(p->prog);
  if (p->calls) sl_mcalls_free(p->calls);
  free(p->calls);
  free(p->arg_reg);
  free(p);
}

const sl_op_kind sl_op_score = {"score", score_make, score_explain, score_free_spec, NULL};
