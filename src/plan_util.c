/*
** plan_util.c - the planner's small tools (plan_int.h), below every other
** planner file: connector calls checked without I/O, settings read, the
** binder over a query's input, operator specs appended to a query.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan_int.h"

int sl_plan_exactly_once(const sl_plan *plan) {
  return sl_setting_int(plan->ctx.cat, SL_SET_GUARANTEE) == SL_GUARANTEE_EXACTLY_ONCE;
}

sl_changes sl_plan_source_changes(const sl_plan *plan, int source) {
  const sl_source *d = plan->sources[source]->desc;
  return d && d->changelog != SL_CHANGELOG_NONE ? SL_UPDATING : SL_APPEND_ONLY;
}

int sl_plan_append_only(sl_changes changes, const char *what, const char *why, int line, int col,
                        sl_err *err) {
  if (changes == SL_APPEND_ONLY) return 0;
  sl_err_setpos(err, SL_EBIND, line, col,
                "%s cannot read an updating input (a changelog: EMIT CHANGES, a GROUP BY without "
                "a window, a source read with changelog => 'op' or 'upsert'): %s",
                what, why);
  return -1;
}

/* ---- options of connector calls ----------------------------------------- */

int sl_call_options(sl_functab *funcs, const sl_call *call, sl_options *o, sl_err *err) {
  memset(o, 0, sizeof *o);
  o->fn = call->name;
  int pos = 0;
  for (int i = 0; call->args && i < call->args->n; i++) {
    sl_expr *a = call->args->a[i];
    sl_expr *v = a->kind == E_OPTION ? a->left : a;
    sl_bind b = {.funcs = funcs, .err = err};
    if (sl_bind_expr(&b, v)) return -1;
    if (!v->is_const) {
      sl_err_setpos(err, SL_EBIND, v->line, v->pos_col, "arguments of %s() must be constants",
                    call->name);
      return -1;
    }
    sl_value val = SL_VALUE_INIT;
    if (sl_expr_eval_const(v, &val, err)) return -1;
    char name[16];
    if (a->kind != E_OPTION) snprintf(name, sizeof name, "%d", pos++);
    sl_options_add(o, a->kind == E_OPTION ? a->name : name, &val, a->line, a->pos_col);
    sl_value_free(&val);
  }
  return 0;
}

/* SET kafka.brokers = 'h:p' is the default brokers => of every kafka() call,
** and SET kafka.some.property a default librdkafka property: add the
** settings named <connector>.<option> that the call does not give. */
static void connector_defaults(const sl_plan *plan, const sl_connector *c, const sl_call *call,
                               sl_options *o) {
  size_t plen = strlen(c->name);
  for (sl_setting *st = plan->ctx.cat->settings; st; st = st->next) {
    if (strlen(st->name) > plen + 1 && sl_strnicmp(st->name, c->name, plen) == 0 &&
        st->name[plen] == '.' && !sl_opt_find_unused(o, st->name + plen + 1))
      sl_options_add(o, st->name + plen + 1, &st->value, call->line, call->col);
  }
}

void *sl_plan_check(sl_plan *plan, const sl_call *call, int sink, const sl_schema *declared,
                    sl_options *keep, sl_err *err) {
  memset(keep, 0, sizeof *keep);
  const sl_connector *c = sl_connector_find(call->name, strlen(call->name));
  if (!c || !(sink ? (void *)c->open_sink : (void *)c->open_source)) {
    sl_err_setpos(err, SL_EBIND, call->line, call->col,
                  c ? "%s() cannot be used as a %s" : "no such %2$s: %1$s", call->name,
                  sink ? "sink" : "source");
    return NULL;
  }
  if (sl_call_options(plan->ctx.cat->funcs, call, keep, err)) return NULL;
  keep->declared = declared;
  keep->auth = plan->ctx.auth;
  keep->resume = sink && sl_setting_text(plan->ctx.cat, SL_SET_STATE_DIR) != NULL;
  keep->exactly_once = sink && sl_plan_exactly_once(plan);
  keep->app_id = sl_setting_text(plan->ctx.cat, SL_SET_APPLICATION_ID); /* the plan's copy later */
  keep->max_record = sink ? 0 : sl_setting_int(plan->ctx.cat, SL_SET_MAX_RECORD_BYTES);
  connector_defaults(plan, c, call, keep);
  sl_options o;
  sl_options_copy(&o, keep);
  o.check_only = 1;
  sl_err e2 = {0};
  void *r = sink ? (void *)c->open_sink(&o, &e2) : (void *)c->open_source(&o, &e2);
  if (!r) {
    if (!e2.line) {
      e2.line = call->line;
      e2.col = call->col;
    }
    sl_err_move(err, &e2);
  }
  sl_err_clear(&e2);
  sl_options_free(&o);
  return r;
}

void sl_plan_add_op(sl_pquery *q, const sl_op_kind *kind, void *spec) {
  SL_ASSERT(kind && kind->make && kind->explain && kind->free_spec && spec);
  q->ops = sl_realloc(q->ops, sizeof(*q->ops) * (size_t)(q->nops + 1));
  q->ops[q->nops].kind = kind;
  q->ops[q->nops++].spec = spec;
}

void sl_plan_set_columns(sl_pquery *q, const sl_exprlist *cols) {
  q->ncol = cols->n;
  q->names = sl_calloc((size_t)(cols->n ? cols->n : 1), sizeof(char *));
  q->affs = sl_calloc((size_t)(cols->n ? cols->n : 1), 1);
  for (int i = 0; i < cols->n; i++) {
    const sl_expr *e = cols->a[i];
    if (!q->proctime1 && e->kind == E_CALL && (!e->list || !e->list->n) &&
        !sl_stricmp(e->name, "proctime"))
      q->proctime1 = i + 1;
    q->names[i] = sl_expr_colname(cols->a[i], cols->names[i]);
    q->affs[i] = cols->a[i]->aff;
  }
}

sl_bind sl_plan_binder(const sl_plan *plan, const sl_input *in, sl_err *err) {
  sl_bind b = {.schema = in->schema,
               .srcname = in->name,
               .funcs = plan->ctx.cat->funcs,
               .err = err,
               .schema2 = in->schema2,
               .srcname2 = in->name2,
               .base1 = in->base1,
               .base2 = in->base2,
               .tabs = in->tabs,
               .ntabs = in->ntabs,
               .plan_subq = sl_plan_subquery,
               .subq_ud = (void *)plan,
               .outer = plan->outer};
  return b;
}

int sl_plan_input_width(const sl_input *in) {
  int n = in->base1 + (in->schema ? in->schema->ncol : 0);
  if (in->schema2 && in->base2 + in->schema2->ncol > n) n = in->base2 + in->schema2->ncol;
  return n;
}

sl_exprlist *sl_plan_list(sl_plan *plan, int cap) {
  sl_exprlist *l = sl_arena_alloc(&plan->arena, sizeof *l);
  memset(l, 0, sizeof *l);
  if (cap < 1) cap = 1;
  l->a = sl_arena_alloc(&plan->arena, sizeof(*l->a) * (size_t)cap);
  l->names = sl_arena_alloc(&plan->arena, sizeof(*l->names) * (size_t)cap);
  l->cap = cap;
  return l;
}
