/*
** op_result.c - the last operator of a query whose rows go back to the
** caller (a SELECT without INTO run through sluice_exec or the shell): hands
** each row to a callback.  The callback may stop the query by returning
** non-zero; push then returns 1, which stops the query without an error.
** Of an updating query's changelog the callback gets the rows it adds (+I,
** +U: each changed group's new value, as EMIT CHANGES always gave), not
** the take-backs (-U, -D), which a row callback has no way to tell apart.
*/
#include <stdlib.h>

#include "operator.h"

typedef struct op_result {
  sl_operator base;
  int ncol;
  char *const *names; /* the spec's */
  sl_value *cells;    /* per column: the row's value, referenced (owns only its buf) */
  sl_value **ptrs;    /* pointers to cells, as the callback takes them */
  sl_row_fn fn;
  void *ud;
  int stopped;
} op_result;

static int result_push(sl_operator *base, sl_batch *in, sl_err *err) {
  op_result *r = (op_result *)base;
  for (int i = 0; i < in->nrow && !r->stopped; i++) {
    if (in->ops && sl_rowkind_retracts(in->ops[i])) continue;
    sl_value *row = in->rows + (size_t)i * (size_t)in->ncol;
    /* The callback may convert values (sluice_value_text renders numbers
    ** into the value's buffer): hand it cells whose buffers we own. */
    for (int c = 0; c < r->ncol; c++)
      sl_value_ref(&r->cells[c], &row[c]);
    base->stats->out++;
    if (r->fn && r->fn(r->ud, r->ncol, (const char *const *)r->names, r->ptrs)) {
      r->stopped = 1;
      return 1; /* the consumer had enough: stop the query, not an error */
    }
  }
  return 0;
}

static int result_finish(sl_operator *base, sl_err *err) {
  return 0;
}

static void result_explain(const void *spec, sl_buf *out) {
  const sl_result_spec *r = spec;
  sl_buf_printf(out, "result: %d column%s to the caller\n", r->ncol, r->ncol == 1 ? "" : "s");
}

static void result_free(sl_operator *base) {
  op_result *r = (op_result *)base;
  for (int i = 0; i < r->ncol; i++)
    sl_value_free(&r->cells[i]);
  free(r->cells);
  free(r->ptrs);
  free(r);
}

static const sl_op_vt result_vt = {
    "result", result_push, sl_op_pass_tick, sl_op_pass_barrier, result_finish, result_free,
    NULL,     NULL};

static sl_operator *result_make(const void *spec, const sl_make_env *env, sl_err *err) {
  const sl_result_spec *sp = spec;
  op_result *r = sl_calloc(1, sizeof *r);
  r->base.vt = &result_vt;
  r->ncol = sp->ncol;
  r->names = sp->names;
  r->cells = sl_calloc((size_t)(r->ncol ? r->ncol : 1), sizeof(sl_value));
  r->ptrs = sl_calloc((size_t)(r->ncol ? r->ncol : 1), sizeof(sl_value *));
  for (int i = 0; i < r->ncol; i++)
    r->ptrs[i] = &r->cells[i];
  r->fn = sp->fn;
  r->ud = sp->ud;
  return &r->base;
}

static void result_free_spec(void *spec) {
  sl_result_spec *r = spec;
  for (int i = 0; i < r->ncol; i++)
    free(r->names[i]);
  free(r->names);
  free(r);
}

const sl_op_kind sl_op_result = {"result", result_make, result_explain, result_free_spec, NULL};
