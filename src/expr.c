/*
** expr.c - the expression compiler: bound syntax trees to VM instructions.
**
** sl_expr_code(c, e, target) emits code that leaves e's value in register
** `target`.  Temporaries are allocated above c->nreg and released when the
** node is done (register allocation is a stack).  Constant subtrees are
** evaluated once, here, by running a small program, and replaced by a single
** load: `exp(-(0.5 + 1))` costs one OP_Const per row, not three operations.
** Lazy forms (CASE, COALESCE, IFNULL, IIF) compile to jumps so that
** arguments not needed are never evaluated, as in SQLite.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expr.h"
#include "parse.h"

int sl_reg_alloc(sl_compiler *c, int n) {
  int r = c->nreg;
  c->nreg += n;
  if (c->nreg > c->prog->nreg) c->prog->nreg = c->nreg;
  return r;
}

static int add(sl_compiler *c, int op, int p1, int p2, int p3) {
  return sl_program_add(c->prog, op, p1, p2, p3);
}

/* Emit a load of the constant v into target. */
static void code_const(sl_compiler *c, const sl_value *v, int target) {
  int a;
  switch (v->type) {
  case SL_NULL: add(c, OP_Null, 0, target, 0); break;
  case SL_INTEGER:
    a = add(c, OP_Integer, 0, target, 0);
    c->prog->ops[a].p4.i = v->u.i;
    break;
  case SL_REAL:
    a = add(c, OP_Real, 0, target, 0);
    c->prog->ops[a].p4.r = v->u.r;
    break;
  default:
    a = add(c, OP_Const, 0, target, 0);
    c->prog->ops[a].p4.v = sl_program_const(c->prog, v);
    break;
  }
}

int sl_expr_eval_const(sl_expr *e, sl_value *out, sl_err *err) {
  sl_program *p = sl_program_new();
  sl_compiler c = {p, 0, err, 1, 0, NULL, 0, 0};
  int target = sl_reg_alloc(&c, 1);
  int rc = sl_expr_code(&c, e, target);
  if (rc == 0) {
    sl_program_add(p, OP_Result, target, 1, 0);
    sl_program_finish(p);
    sl_vm vm;
    sl_vm_init(&vm, p);
    int r = sl_vm_run(&vm, NULL);
    if (r == SL_VM_ROW) {
      sl_value_copy(out, &vm.reg[target]);
    } else {
      sl_err_setpos(err, SL_ERUNTIME, e->line, e->pos_col, "%s",
                    vm.errmsg.z ? vm.errmsg.z : "error");
      rc = -1;
    }
    sl_vm_free(&vm);
  }
  sl_program_free(p);
  return rc;
}

/* Is e a plain literal (already a single load)? */
static int is_literal(const sl_expr *e) {
  return e->kind == E_NULL || e->kind == E_INT || e->kind == E_REAL || e->kind == E_STRING ||
         e->kind == E_BLOB || e->kind == E_INTERVAL;
}

/* Try to fold e into a constant load.  Returns 1 if done.  A subtree whose
** evaluation fails is not folded: the error then happens at run time, per
** row, exactly where SQLite would raise it. */
static int try_fold(sl_compiler *c, sl_expr *e, int target) {
  if (c->no_fold || !e->is_const || is_literal(e)) return 0;
  sl_value v = SL_VALUE_INIT;
  sl_err err = {0};
  int rc = sl_expr_eval_const(e, &v, &err);
  if (rc == 0) code_const(c, &v, target);
  sl_value_free(&v);
  sl_err_clear(&err);
  return rc == 0;
}

static int cmp_opcode(int tk) {
  switch (tk) {
  case TK_EQ: return OP_Eq;
  case TK_NE: return OP_Ne;
  case TK_LT: return OP_Lt;
  case TK_LE: return OP_Le;
  case TK_GT: return OP_Gt;
  case TK_GE: return OP_Ge;
  default: return -1;
  }
}

static int arith_opcode(int tk) {
  switch (tk) {
  case TK_PLUS: return OP_Add;
  case TK_MINUS: return OP_Subtract;
  case TK_STAR: return OP_Multiply;
  case TK_SLASH: return OP_Divide;
  case TK_REM: return OP_Remainder;
  case TK_BITAND: return OP_BitAnd;
  case TK_BITOR: return OP_BitOr;
  case TK_LSHIFT: return OP_ShiftLeft;
  case TK_RSHIFT: return OP_ShiftRight;
  case TK_CONCAT: return OP_Concat;
  default: return -1;
  }
}

/* The register holding e's value for use as an operand: a hoisted
** constant register when e is a literal or folds to a constant (no
** instruction per row), else a fresh temporary that e is compiled into.
** Returns -1 on error. */
static int operand(sl_compiler *c, sl_expr *e) {
  if (e->is_const && !c->no_fold) {
    sl_value v = SL_VALUE_INIT;
    int ok = 1;
    switch (e->kind) {
    case E_NULL: break;
    case E_INT:
    case E_INTERVAL: sl_value_set_int(&v, e->i); break;
    case E_REAL: sl_value_set_real(&v, e->r); break;
    case E_STRING: sl_value_borrow_text(&v, e->z, (size_t)e->n, 0); break;
    case E_BLOB: sl_value_borrow_blob(&v, e->z, (size_t)e->n); break;
    default: {
      sl_err err = {0};
      ok = sl_expr_eval_const(e, &v, &err) == 0;
      sl_err_clear(&err);
    }
    }
    if (ok) {
      int r = sl_program_hoist(c->prog, &v);
      sl_value_free(&v);
      return r;
    }
    sl_value_free(&v);
  }
  int r = sl_reg_alloc(c, 1);
  return sl_expr_code(c, e, r) ? -1 : r;
}

/* Emit a comparison of registers ra and rb (holding l and r) into target. */
static void code_compare(sl_compiler *c, int opcode, const sl_expr *l, const sl_expr *r, int ra,
                         int rb, int target) {
  int a = add(c, opcode, ra, rb, target);
  c->prog->ops[a].p5 = (uint8_t)sl_compare_affinity(l, r);
  c->prog->ops[a].p4.i = sl_compare_coll(l, r);
}

/* Compile a call to f with the expressions of args into target. */
static int code_call(sl_compiler *c, const sl_func *f, sl_expr **args, int nargs, int target,
                     sl_coll coll) {
  int save = c->nreg;
  int first = sl_reg_alloc(c, nargs);
  for (int i = 0; i < nargs; i++)
    if (sl_expr_code(c, args[i], first + i)) return -1;
  sl_callsite *cs = sl_program_call(c->prog, f, nargs, first);
  cs->coll = coll;
  int a = add(c, OP_Function, nargs, first, target);
  c->prog->ops[a].p4.call = cs;
  c->nreg = save;
  return 0;
}

/* A subquery (bound by the planner: e->subq its plan, e->list the outer
** values it reads, e->i its number; IN: e->n the comparison's affinity,
** e->coll its collation): IN's operand and the outer values into
** consecutive registers, then OP_Subquery. */
static int code_subquery(sl_compiler *c, sl_expr *e, int target) {
  int save = c->nreg;
  int np = e->list ? e->list->n : 0;
  int base = sl_reg_alloc(c, 1 + np);
  if (e->op == SL_SUBQ_IN && sl_expr_code(c, e->left, base)) return -1;
  for (int i = 0; i < np; i++)
    if (sl_expr_code(c, e->list->a[i], base + 1 + i)) return -1;
  sl_subqsite *s = sl_program_subq(c->prog);
  s->desc = e->subq;
  s->kind = e->op;
  s->not_ = e->not_;
  s->nparam = np;
  s->aff = (uint8_t)e->n;
  s->coll = e->coll;
  snprintf(s->label, sizeof s->label, "subquery %lld", (long long)e->i);
  int a = add(c, OP_Subquery, base, np, target);
  c->prog->ops[a].p4.sq = s;
  c->nreg = save;
  return 0;
}

static int code_case(sl_compiler *c, sl_expr *e, int target) {
  int save = c->nreg;
  int base = -1, cond = sl_reg_alloc(c, 1);
  int nfix = 0;
  int *fix = sl_malloc(sizeof(int) * (size_t)(e->list->n / 2 + 1));
  if (e->left) {
    base = sl_reg_alloc(c, 1);
    if (sl_expr_code(c, e->left, base)) goto fail;
  }
  for (int i = 0; i + 1 < e->list->n; i += 2) {
    sl_expr *when = e->list->a[i], *then = e->list->a[i + 1];
    if (base >= 0) {
      int rw = sl_reg_alloc(c, 1);
      if (sl_expr_code(c, when, rw)) goto fail;
      code_compare(c, OP_Eq, e->left, when, base, rw, cond);
    } else if (sl_expr_code(c, when, cond)) {
      goto fail;
    }
    int skip = add(c, OP_IfNot, cond, 0, 1);
    if (sl_expr_code(c, then, target)) goto fail;
    fix[nfix++] = add(c, OP_Goto, 0, 0, 0);
    c->prog->ops[skip].p2 = c->prog->nop;
  }
  if (e->right) {
    if (sl_expr_code(c, e->right, target)) goto fail;
  } else {
    add(c, OP_Null, 0, target, 0);
  }
  for (int i = 0; i < nfix; i++)
    c->prog->ops[fix[i]].p2 = c->prog->nop;
  free(fix);
  c->nreg = save;
  return 0;
fail:
  free(fix);
  return -1;
}

/* COALESCE / IFNULL: the first non-NULL argument, evaluated lazily. */
static int code_coalesce(sl_compiler *c, sl_expr *e, int target) {
  int n = e->list->n;
  int *fix = sl_malloc(sizeof(int) * (size_t)n);
  for (int i = 0; i < n; i++) {
    if (sl_expr_code(c, e->list->a[i], target)) {
      free(fix);
      return -1;
    }
    if (i + 1 < n) fix[i] = add(c, OP_IfNotNull, target, 0, 0);
  }
  for (int i = 0; i + 1 < n; i++)
    c->prog->ops[fix[i]].p2 = c->prog->nop;
  free(fix);
  return 0;
}

static int code_iif(sl_compiler *c, sl_expr *e, int target) {
  int save = c->nreg;
  int cond = sl_reg_alloc(c, 1);
  if (sl_expr_code(c, e->list->a[0], cond)) return -1;
  int skip = add(c, OP_IfNot, cond, 0, 1);
  if (sl_expr_code(c, e->list->a[1], target)) return -1;
  int done = add(c, OP_Goto, 0, 0, 0);
  c->prog->ops[skip].p2 = c->prog->nop;
  if (sl_expr_code(c, e->list->a[2], target)) return -1;
  c->prog->ops[done].p2 = c->prog->nop;
  c->nreg = save;
  return 0;
}

static int code_in(sl_compiler *c, sl_expr *e, int target) {
  int save = c->nreg;
  int rx = sl_reg_alloc(c, 1), ri = sl_reg_alloc(c, 1), rt = sl_reg_alloc(c, 1);
  if (sl_expr_code(c, e->left, rx)) return -1;
  int a = add(c, OP_Integer, 0, target, 0);
  c->prog->ops[a].p4.i = 0;
  /* a IN (x, y) is a = +x OR a = +y: only a's affinity applies. */
  for (int i = 0; e->list && i < e->list->n; i++) {
    if (sl_expr_code(c, e->list->a[i], ri)) return -1;
    int op = add(c, OP_Eq, rx, ri, rt);
    c->prog->ops[op].p5 = e->left->aff;
    c->prog->ops[op].p4.i = sl_compare_coll(e->left, e->list->a[i]);
    add(c, OP_Or, target, rt, target);
  }
  if (e->not_) add(c, OP_Not, target, target, 0);
  c->nreg = save;
  return 0;
}

static int code_between(sl_compiler *c, sl_expr *e, int target) {
  int save = c->nreg;
  int rx = sl_reg_alloc(c, 1), ra = sl_reg_alloc(c, 1), rb = sl_reg_alloc(c, 1);
  int t1 = sl_reg_alloc(c, 1);
  sl_expr *lo = e->list->a[0], *hi = e->list->a[1];
  if (sl_expr_code(c, e->left, rx) || sl_expr_code(c, lo, ra) || sl_expr_code(c, hi, rb)) return -1;
  code_compare(c, OP_Ge, e->left, lo, rx, ra, t1);
  code_compare(c, OP_Le, e->left, hi, rx, rb, target);
  add(c, OP_And, t1, target, target);
  if (e->not_) add(c, OP_Not, target, target, 0);
  c->nreg = save;
  return 0;
}

static int code_aggregate(sl_compiler *c, sl_expr *e, int target) {
  /* Single-row aggregate (SELECT without FROM): step once, then final. */
  int save = c->nreg;
  int nargs = e->star ? 0 : (e->list ? e->list->n : 0);
  int first = sl_reg_alloc(c, nargs ? nargs : 1);
  int skip = -1;
  if (e->right) { /* FILTER (WHERE ...) */
    int f = sl_reg_alloc(c, 1);
    if (sl_expr_code(c, e->right, f)) return -1;
    skip = add(c, OP_IfNot, f, 0, 1);
  }
  for (int i = 0; i < nargs; i++)
    if (sl_expr_code(c, e->list->a[i], first + i)) return -1;
  sl_callsite *cs = sl_program_call(c->prog, e->func, nargs, first);
  int slot = c->prog->nagg++;
  int a = add(c, OP_AggStep, nargs, first, slot);
  c->prog->ops[a].p4.call = cs;
  if (skip >= 0) c->prog->ops[skip].p2 = c->prog->nop;
  a = add(c, OP_AggFinal, 0, target, slot);
  c->prog->ops[a].p4.call = cs;
  c->nreg = save;
  return 0;
}

/* Over group rows: a GROUP BY term, an aggregate or a window bound is a
** column of the row; returns 1 when e was one (coded), 0 if not, -1 on a
** column that is neither grouped nor aggregated. */
static int code_grouped(sl_compiler *c, sl_expr *e, int target) {
  int nk = c->group ? c->group->n : 0;
  int col = -1;
  if (e->kind == E_CALL && e->agg >= 0)
    col = nk + 2 + e->agg;
  else if (e->kind == E_COLUMN && e->col == SL_COL_WSTART)
    col = nk;
  else if (e->kind == E_COLUMN && e->col == SL_COL_WEND)
    col = nk + 1;
  for (int i = 0; col < 0 && i < nk; i++)
    if (sl_expr_equal(e, c->group->a[i])) col = i;
  if (col >= 0) {
    int a = add(c, OP_Column, col, target, 0);
    c->prog->ops[a].comment = e->name ? e->name : "group term";
    return 1;
  }
  if (e->kind == E_COLUMN || (e->kind == E_CALL && e->mcall >= 0)) {
    sl_err_setpos(c->err, SL_EBIND, e->line, e->pos_col,
                  e->kind == E_COLUMN
                      ? "column %s must appear in GROUP BY or be used in an aggregate"
                      : "%s(): a model call must appear in GROUP BY or be used in an aggregate",
                  e->name);
    return -1;
  }
  return 0;
}

int sl_expr_code(sl_compiler *c, sl_expr *e, int target) {
  if (c->grouped) {
    int g = code_grouped(c, e, target);
    if (g) return g < 0 ? -1 : 0;
  }
  if (try_fold(c, e, target)) return 0;
  int save = c->nreg;
  switch (e->kind) {
  case E_NULL: add(c, OP_Null, 0, target, 0); return 0;
  case E_INT:
  case E_INTERVAL: {
    int a = add(c, OP_Integer, 0, target, 0);
    c->prog->ops[a].p4.i = e->i;
    return 0;
  }
  case E_REAL: {
    int a = add(c, OP_Real, 0, target, 0);
    c->prog->ops[a].p4.r = e->r;
    return 0;
  }
  case E_STRING:
  case E_BLOB: {
    sl_value v = SL_VALUE_INIT;
    if (e->kind == E_STRING)
      sl_value_borrow_text(&v, e->z, (size_t)e->n, 0);
    else
      sl_value_borrow_blob(&v, e->z, (size_t)e->n);
    code_const(c, &v, target);
    return 0;
  }
  case E_COLUMN: {
    if (SL_COL_IS_PARAM(e->col)) { /* a correlated subquery's outer value */
      int a = add(c, OP_Param, SL_COL_PARAM_INDEX(e->col), target, 0);
      c->prog->ops[a].comment = e->name;
      return 0;
    }
    int a = add(c, OP_Column, e->col, target, 0);
    c->prog->ops[a].comment = e->name;
    return 0;
  }
  case E_COLLATE: return sl_expr_code(c, e->left, target);
  case E_CAST:
    if (sl_expr_code(c, e->left, target)) return -1;
    add(c, OP_Cast, target, (int)sl_affinity_of_typename(e->z, strlen(e->z)), 0);
    return 0;
  case E_CALL:
    if (e->bcall >= 0) { /* computed for the whole batch by op_project */
      int a = add(c, OP_BatchResult, e->bcall, target, 0);
      c->prog->ops[a].comment = e->name;
      return 0;
    }
    if (e->mcall >= 0) { /* scored by op_score, appended to the input row */
      int a = add(c, OP_Column, c->mcall_base + e->mcall, target, 0);
      c->prog->ops[a].comment = e->name;
      return 0;
    }
    if (e->win && e->wcall >= 0) { /* computed by a window operator, appended to the row */
      int a = add(c, OP_Column, c->wcall_base + e->wcall, target, 0);
      c->prog->ops[a].comment = e->name;
      return 0;
    }
    if (e->agg >= 0) return code_aggregate(c, e, target);
    if (!e->func) {
      if (sl_stricmp(e->name, "iif") == 0) return code_iif(c, e, target);
      return code_coalesce(c, e, target);
    }
    return code_call(c, e->func, e->list ? e->list->a : NULL, e->list ? e->list->n : 0, target,
                     e->list && e->list->n ? sl_compare_coll(e->list->a[0], e->list->a[0])
                                           : SL_COLL_BINARY);
  case E_CASE: return code_case(c, e, target);
  case E_SUBQUERY: return code_subquery(c, e, target);
  case E_IN: return code_in(c, e, target);
  case E_BETWEEN: return code_between(c, e, target);
  case E_LIKE: {
    /* x LIKE p [ESCAPE e]  ==  like(p, x [, e]) */
    sl_expr *args[3] = {e->right, e->left, e->list ? e->list->a[0] : NULL};
    if (code_call(c, e->func, args, e->list ? 3 : 2, target, SL_COLL_BINARY)) return -1;
    if (e->not_) add(c, OP_Not, target, target, 0);
    return 0;
  }
  case E_ISNULL:
    if (sl_expr_code(c, e->left, target)) return -1;
    add(c, e->not_ ? OP_NotNull : OP_IsNull, target, target, 0);
    return 0;
  case E_UNARY: {
    if (e->op == TK_PLUS) return sl_expr_code(c, e->left, target);
    if (e->op == TK_MINUS && e->left->kind != E_INT && e->left->kind != E_REAL) {
      /* As SQLite: -x is 0 - x (so -(0.0 + 0) is +0.0); only a numeric
      ** literal is negated directly (-0.0 stays negative zero). */
      int zero = sl_program_hoist(c->prog, &(sl_value){.type = SL_INTEGER});
      int rx = operand(c, e->left);
      if (rx < 0) return -1;
      add(c, OP_Subtract, zero, rx, target);
      return 0;
    }
    if (sl_expr_code(c, e->left, target)) return -1;
    int op = e->op == TK_MINUS ? OP_Negative : e->op == TK_BITNOT ? OP_BitNot : OP_Not;
    add(c, op, target, target, 0);
    return 0;
  }
  case E_AND:
  case E_OR:
  case E_IS:
  case E_BINARY: {
    if (e->kind == E_BINARY && e->op == TK_PTR) {
      sl_expr *args[2] = {e->left, e->right};
      return code_call(c, e->func, args, 2, target, SL_COLL_BINARY);
    }
    int ra = operand(c, e->left);
    int rb = ra < 0 ? -1 : operand(c, e->right);
    if (ra < 0 || rb < 0) return -1;
    if (e->kind == E_AND || e->kind == E_OR) {
      add(c, e->kind == E_AND ? OP_And : OP_Or, ra, rb, target);
    } else if (e->kind == E_IS) {
      code_compare(c, e->not_ ? OP_IsNot : OP_Is, e->left, e->right, ra, rb, target);
    } else if (cmp_opcode(e->op) >= 0) {
      code_compare(c, cmp_opcode(e->op), e->left, e->right, ra, rb, target);
    } else if (arith_opcode(e->op) >= 0) {
      add(c, arith_opcode(e->op), ra, rb, target);
    } else {
      sl_err_setpos(c->err, SL_EINTERNAL, e->line, e->pos_col, "unsupported operator");
      return -1;
    }
    c->nreg = save;
    return 0;
  }
  case E_STAR:
  case E_OPTION:
  default:
    sl_err_setpos(c->err, SL_EBIND, e->line, e->pos_col, "unexpected expression here");
    return -1;
  }
}

char *sl_expr_colname(const sl_expr *e, const char *alias) {
  if (alias) return sl_strdup(alias);
  if (e->kind == E_COLUMN) return sl_strdup(e->name);
  if (e->span && e->spanlen > 0) return sl_strndup(e->span, (size_t)e->spanlen);
  return sl_strdup("?");
}
