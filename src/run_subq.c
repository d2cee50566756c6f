/*
** run_subq.c - the runtime's runner of subqueries (vm.h, sl_subq_runner):
** a subquery (plan.h, sl_psubq) is evaluated as a run of its own plan,
** made, executed on the calling thread and freed; its rows are collected
** by its query's result callback into the caller's buffer.  The VM calls
** it through the pointer registered here, so nothing below the runtime
** calls the runtime.
*/
#include <stdlib.h>

#include "run.h"
#include "vm.h"

/* Run subquery desc with outer values params[0..nparam) (nparam -1: a
** compound's arm, reading the frame it runs in) into out.  0, or -1 with
** err set. */
static int run_subq(const void *desc, const sl_value *params, int nparam, sl_subq_rows *out,
                    sl_err *err) {
  sl_psubq *s = (sl_psubq *)desc;
  sl_subq_rows_clear(out);
  sl_vm_frame f;
  if (nparam >= 0) sl_vm_frame_push(&f, params, nparam);
  sl_subq_rows *saved = s->out;
  s->out = out;
  sl_run_cfg cfg = {0};
  sl_run *run = sl_run_borrow(s->plan, &cfg, err);
  int rc = -1;
  if (run) {
    rc = sl_run_execute(run, 0, err);
    sl_run_free(run);
  }
  s->out = saved;
  if (nparam >= 0) sl_vm_frame_pop(&f);
  return rc;
}

void sl_run_subq_register(void) {
  sl_vm_set_subq_runner(run_subq);
}
