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
*/
#include <stdlib.h>
#include <string.h>

#include "operator.h"
#include "vm.h"

typedef struct op_project {
  sl_operator base;
  sl_program *prog; /* owned */
  sl_vm vm;
  int ncol;               /* output columns */
  sl_value *rows;         /* output values, cap rows of ncol */
  const sl_record **recs; /* output row -> source record */
  int cap;
  sl_arena arena; /* pinned bytes of the current output batch */
  int strict;     /* evaluation errors fail the query */
} op_project;

static int project_push(sl_operator *base, sl_batch *in, sl_err *err) {
  op_project *p = (op_project *)base;
  if (in->nrow > p->cap) {
    p->cap = in->nrow;
    p->rows =
        sl_realloc(p->rows, sizeof(sl_value) * (size_t)p->cap * (size_t)(p->ncol ? p->ncol : 1));
    p->recs = sl_realloc(p->recs, sizeof(*p->recs) * (size_t)p->cap);
  }
  sl_arena_reset(&p->arena);
  int nout = 0;
  int rr = p->prog->result_reg;
  for (int i = 0; i < in->nrow; i++) {
    int rc = sl_vm_run(&p->vm, in->rows + (size_t)i * (size_t)in->ncol);
    if (rc == SL_VM_SKIP) continue;
    if (rc == SL_VM_ERROR && p->strict) {
      sl_err_set(err, SL_ERUNTIME, "%s", p->vm.errmsg.z ? p->vm.errmsg.z : "evaluation failed");
      return -1;
    }
    if (rc == SL_VM_ERROR) {
      sl_op_reject(base, in, i, p->vm.errmsg.z ? p->vm.errmsg.z : "evaluation failed");
      continue;
    }
    sl_value *out = p->rows + (size_t)nout * (size_t)p->ncol;
    for (int c = 0; c < p->ncol; c++) {
      const sl_value *r = &p->vm.reg[rr + c];
      sl_value *o = &out[c];
      *o = *r;
      o->buf = NULL;
      o->cap = 0;
      o->flags &= (uint8_t)~SL_F_OWNBUF;
      if (r->flags & SL_F_OWNBUF) sl_value_pin(o, &p->arena);
    }
    p->recs[nout] = in->recs ? in->recs[i] : NULL;
    nout++;
  }
  if (!nout) return 0;
  sl_batch b = {p->ncol, nout, p->rows, in->recs ? p->recs : NULL, in->src, in->now};
  return sl_op_emit(base, &b, err);
}

static int project_finish(sl_operator *base, sl_err *err) {
  return sl_op_finish_next(base, err);
}

static void project_explain(sl_operator *base, sl_buf *out) {
  op_project *p = (op_project *)base;
  sl_buf_printf(out, "project: %d column%s\n", p->ncol, p->ncol == 1 ? "" : "s");
  sl_program_explain(p->prog, out);
}

static void project_free(sl_operator *base) {
  op_project *p = (op_project *)base;
  sl_vm_free(&p->vm);
  sl_program_free(p->prog);
  sl_arena_free(&p->arena);
  free(p->rows);
  free(p->recs);
  free(p);
}

static const sl_op_vt project_vt = {"project",      project_push,    sl_op_pass_time,
                                    project_finish, project_explain, project_free};

sl_operator *sl_op_project_new(sl_program *prog, int ncol_out, int trace, int strict) {
  op_project *p = sl_calloc(1, sizeof *p);
  p->base.vt = &project_vt;
  p->prog = prog;
  p->ncol = ncol_out;
  sl_vm_init(&p->vm, prog);
  p->vm.trace = trace;
  p->strict = strict;
  sl_arena_init(&p->arena);
  return &p->base;
}
