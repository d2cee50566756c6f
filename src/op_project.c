/*
** op_project.c - filter and projection: runs one compiled program (the WHERE
** clause and the select list, see expr.c) over every row of a batch.
**
** Output rows are built in the operator's own batch.  A value the program
** left in a register's private buffer is copied ("pinned") into the
** operator's arena, reset once per batch; values that borrow input bytes stay
** borrowed, which is safe because the input outlives the synchronous push.
** A row whose evaluation fails (a function error) is rejected: counted,
** logged with its position, and skipped.
**
** Batch calls.  Calls of a function with a batch form (func.h) that every
** row evaluates are taken out of the program by the planner and made here,
** once per batch.  Their arguments are gathered into one column each: a
** plain input column is read from the row as it is, anything else is
** computed per row by a first program, which also applies the WHERE clause
** (when WHERE has no batch call itself) so that dropped rows never reach a
** function.  Each function then runs once over its columns
** (sl_fbatch_call); finally the main program runs per kept row and reads
** call k's result for its row with OP_BatchResult.  A row a batch function
** failed is rejected like any other failing row.  Columns and results are
** the operator's and grow to the largest batch: no allocation per row.
*/
#include <stdlib.h>
#include <string.h>

#include "operator.h"
#include "vm.h"

/* One batch call's scratch and results. */
typedef struct bstate {
  sl_fbatch fb;  /* the call's scratch */
  sl_value *out; /* cap results set row by row (owned, buffers reused) */
} bstate;

typedef struct op_project {
  sl_operator base;
  const sl_program *prog; /* the spec's */
  sl_vm vm;
  int ncol;               /* output columns */
  sl_value *rows;         /* output values, cap rows of ncol */
  const sl_record **recs; /* output row -> source record */
  uint64_t *ids;          /* output row -> its input row's identity (when the input has them) */
  uint8_t *ops;           /* output row -> its input row's kind (an updating input) */
  int cap;
  sl_arena arena; /* pinned bytes of the current output batch */
  int strict;     /* evaluation errors fail the query */
  /* batch calls (sl_op_project_batch), or ncall == 0 */
  const sl_program *pre; /* the filter and the computed arguments (the spec's), or NULL */
  sl_vm vpre;
  const sl_bcall *calls; /* the spec's */
  int ncall;
  const sl_barg *args; /* every call's arguments, in order (the spec's) */
  int narg;
  const sl_value **acol; /* per argument: where its values are (the input, or comp) */
  int *astride;          /* per argument: values from one row to the next */
  sl_value **comp;       /* per computed argument: bcap values, by input row (owned) */
  bstate *bs;            /* per call */
  sl_fbatch **bres;      /* per call: &bs[k].fb, read by OP_BatchResult */
  int *keep;             /* kept row -> input row (with pre) */
  int bcap;              /* rows the buffers hold */
} op_project;

/* Grow the output batch (and the batch calls' columns) to n rows. */
static void reserve(op_project *p, int n) {
  if (n > p->cap) {
    p->cap = n;
    p->rows =
        sl_realloc(p->rows, sizeof(sl_value) * (size_t)p->cap * (size_t)(p->ncol ? p->ncol : 1));
    p->recs = sl_realloc(p->recs, sizeof(*p->recs) * (size_t)p->cap);
    p->ids = sl_realloc(p->ids, sizeof(*p->ids) * (size_t)p->cap);
    p->ops = sl_realloc(p->ops, (size_t)p->cap);
  }
  if (!p->ncall || n <= p->bcap) return;
  size_t add = (size_t)(n - p->bcap);
  for (int a = 0; a < p->narg; a++)
    if (p->args[a].col < 0) {
      p->comp[a] = sl_realloc(p->comp[a], sizeof(sl_value) * (size_t)n);
      memset(p->comp[a] + p->bcap, 0, sizeof(sl_value) * add);
    }
  for (int k = 0; k < p->ncall; k++) {
    bstate *b = &p->bs[k];
    b->out = sl_realloc(b->out, sizeof(sl_value) * (size_t)n);
    memset(b->out + p->bcap, 0, sizeof(sl_value) * add);
  }
  p->keep = sl_realloc(p->keep, sizeof(int) * (size_t)n);
  p->bcap = n;
}

/* Input row i failed with why: the query fails (strict, -1 with err set)
** or the row is rejected (0). */
static int fail_row(op_project *p, sl_batch *in, int i, const char *why, sl_err *err) {
  if (!why) why = "evaluation failed";
  if (p->strict) {
    sl_err_set(err, SL_ERUNTIME, "%s", why);
    return -1;
  }
  sl_op_reject(&p->base, in, i, why);
  return 0;
}

/* Run the main program over input row i and append its output row, if any.
** Returns 0, or -1 when the query must stop (err set). */
static int project_row(op_project *p, sl_batch *in, int i, int *nout, sl_err *err) {
  int rc = sl_vm_run(&p->vm, in->rows + (size_t)i * (size_t)in->ncol);
  if (rc == SL_VM_SKIP) return 0;
  if (rc == SL_VM_ERROR) return fail_row(p, in, i, p->vm.errmsg.z, err);
  sl_value *out = p->rows + (size_t)*nout * (size_t)p->ncol;
  const sl_value *res = &p->vm.reg[p->prog->result_reg];
  for (int c = 0; c < p->ncol; c++) {
    const sl_value *r = &res[c];
    sl_value *o = &out[c];
    *o = *r;
    o->buf = NULL;
    o->cap = 0;
    o->flags &= (uint8_t)~SL_F_OWNBUF;
    if (r->flags & SL_F_OWNBUF) sl_value_pin(o, &p->arena);
  }
  p->recs[*nout] = in->recs ? in->recs[i] : NULL;
  p->ids[*nout] = in->ids ? in->ids[i] : 0;
  if (in->ops) p->ops[*nout] = in->ops[i]; /* a row WHERE drops takes its kind along */
  (*nout)++;
  return 0;
}

/* The batch calls over the batch: each function once, its arguments read
** in place - input columns from the batch, computed ones from comp, where
** the first program (if any) leaves them for the rows it keeps.  Sets
** *nkeep; with a first program, row k of the results is input row
** keep[k].  Returns 0, or -1 when the query must stop. */
static int batch_calls(op_project *p, sl_batch *in, int *nkeep, sl_err *err) {
  int n = in->nrow;
  if (p->pre) {
    n = 0;
    for (int i = 0; i < in->nrow; i++) {
      int rc = sl_vm_run(&p->vpre, in->rows + (size_t)i * (size_t)in->ncol);
      if (rc == SL_VM_SKIP) continue;
      if (rc == SL_VM_ERROR) {
        if (fail_row(p, in, i, p->vpre.errmsg.z, err)) return -1;
        continue;
      }
      for (int a = 0; a < p->narg; a++) {
        if (p->args[a].col >= 0) continue;
        const sl_value *s = &p->vpre.reg[p->args[a].reg];
        sl_value *d = &p->comp[a][i];
        if (s->flags & SL_F_OWNBUF) {
          sl_value_copy(d, s); /* a register's buffer: reused by the next row */
        } else {               /* borrows the input or a constant, valid for the push */
          d->type = s->type;
          d->flags = s->flags;
          d->n = s->n;
          d->u = s->u;
        }
      }
      p->keep[n++] = i;
    }
  }
  for (int a = 0; a < p->narg; a++) {
    p->acol[a] = p->args[a].col >= 0 ? in->rows + p->args[a].col : p->comp[a];
    p->astride[a] = p->args[a].col >= 0 ? in->ncol : 1;
  }
  for (int k = 0; k < p->ncall && n; k++) {
    sl_fbatch *fb = &p->bs[k].fb;
    fb->argc = p->calls[k].nargs;
    fb->args = p->acol + p->calls[k].first_arg;
    fb->stride = p->astride + p->calls[k].first_arg;
    fb->rows = p->pre ? p->keep : NULL;
    fb->out = p->bs[k].out;
    sl_fbatch_call(p->calls[k].func, fb, n, p->calls[k].coll);
  }
  *nkeep = n;
  return 0;
}

static int project_push(sl_operator *base, sl_batch *in, sl_err *err) {
  op_project *p = (op_project *)base;
  reserve(p, in->nrow);
  sl_arena_reset(&p->arena);
  int nout = 0;
  if (!p->ncall) {
    for (int i = 0; i < in->nrow; i++)
      if (project_row(p, in, i, &nout, err)) return -1;
  } else {
    int n;
    if (batch_calls(p, in, &n, err)) return -1;
    for (int k = 0; k < n; k++) {
      const char *why = NULL;
      for (int c = 0; c < p->ncall && !why; c++)
        if (p->bs[c].fb.nfailed && p->bs[c].fb.failed[k]) why = p->bs[c].fb.why[k];
      int i = p->pre ? p->keep[k] : k;
      if (why) {
        if (fail_row(p, in, i, why, err)) return -1;
        continue;
      }
      p->vm.brow = k;
      if (project_row(p, in, i, &nout, err)) return -1;
    }
  }
  if (!nout) return 0;
  return sl_op_emit_derived(base, in, p->ncol, nout, p->rows, p->recs, p->ids, p->ops, err);
}

static int project_finish(sl_operator *base, sl_err *err) {
  return sl_op_finish_next(base, err);
}

static void project_explain(const void *spec, sl_buf *out) {
  const sl_project_spec *p = spec;
  sl_buf_printf(out, "project: %d column%s\n", p->ncol, p->ncol == 1 ? "" : "s");
  if (p->ncall) {
    sl_buf_printf(out, "  %d batch call%s, each once per batch:", p->ncall,
                  p->ncall == 1 ? "" : "s");
    for (int k = 0; k < p->ncall; k++)
      sl_buf_printf(out, " [%d] %s(%d)", k, p->calls[k].func->name, p->calls[k].nargs);
    sl_buf_printf(out, "\n  arguments:");
    for (int a = 0; a < p->narg; a++)
      sl_buf_printf(out, p->args[a].col >= 0 ? " row[%d]" : " r[%d]",
                    p->args[a].col >= 0 ? p->args[a].col : p->args[a].reg);
    sl_buf_printf(out, "\n");
    if (p->pre) {
      sl_buf_printf(out, "  per row, before the batch calls:\n");
      sl_program_explain(p->pre, out);
    }
    sl_buf_printf(out, "  per row, after them:\n");
  }
  sl_program_explain(p->prog, out);
}

static void project_free(sl_operator *base) {
  op_project *p = (op_project *)base;
  sl_vm_free(&p->vm);
  if (p->ncall) {
    if (p->pre) sl_vm_free(&p->vpre);
    for (int a = 0; a < p->narg; a++) {
      for (int r = 0; p->comp[a] && r < p->bcap; r++)
        sl_value_free(&p->comp[a][r]);
      free(p->comp[a]);
    }
    for (int k = 0; k < p->ncall; k++) {
      bstate *b = &p->bs[k];
      for (int r = 0; r < p->bcap; r++)
        sl_value_free(&b->out[r]);
      free(b->out);
      sl_fbatch_free(&b->fb);
    }
    free(p->acol);
    free(p->astride);
    free(p->comp);
    free(p->bs);
    free(p->bres);
    free(p->keep);
  }
  sl_arena_free(&p->arena);
  free(p->rows);
  free(p->recs);
  free(p->ids);
  free(p->ops);
  free(p);
}

static const sl_op_vt project_vt = {
    "project", project_push, sl_op_pass_tick, sl_op_pass_barrier, project_finish, project_free,
    NULL,      NULL};

/* The batch calls' scratch: a column per argument, a state per call. */
static void init_batch_calls(op_project *p, const sl_project_spec *sp) {
  int narg = sp->narg, ncall = sp->ncall;
  p->pre = sp->pre;
  if (p->pre) {
    sl_vm_init(&p->vpre, p->pre);
    p->vpre.trace = p->vm.trace;
  }
  p->ncall = ncall;
  p->calls = sp->calls;
  p->narg = narg;
  p->args = sp->args;
  p->acol = sl_calloc((size_t)(narg ? narg : 1), sizeof(const sl_value *));
  p->astride = sl_calloc((size_t)(narg ? narg : 1), sizeof(int));
  p->comp = sl_calloc((size_t)(narg ? narg : 1), sizeof(sl_value *));
  p->bs = sl_calloc((size_t)ncall, sizeof(bstate));
  p->bres = sl_calloc((size_t)ncall, sizeof(sl_fbatch *));
  for (int k = 0; k < ncall; k++)
    p->bres[k] = &p->bs[k].fb;
  p->vm.bres = p->bres;
}

static sl_operator *project_make(const void *spec, const sl_make_env *env, sl_err *err) {
  const sl_project_spec *sp = spec;
  op_project *p = sl_calloc(1, sizeof *p);
  p->base.vt = &project_vt;
  p->prog = sp->prog;
  p->ncol = sp->ncol;
  sl_vm_init(&p->vm, p->prog);
  p->vm.trace = sp->trace;
  p->strict = sp->strict;
  sl_arena_init(&p->arena);
  if (sp->ncall) init_batch_calls(p, sp);
  return &p->base;
}

static void project_free_spec(void *spec) {
  sl_project_spec *p = spec;
  sl_program_free(p->prog);
  sl_program_free(p->pre);
  free(p->calls);
  free(p->args);
  free(p);
}

const sl_op_kind sl_op_project = {"project", project_make, project_explain, project_free_spec,
                                  NULL};
