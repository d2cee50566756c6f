/*
** vm.c - the interpreter of compiled expression programs (see vm.h).
**
** One loop around one switch; each case reads and writes the preallocated
** registers.  Arithmetic and comparisons take an inline fast path for
** INTEGER/REAL operands and fall back to value.c for SQLite's full rules.
** Errors leave through one label at the bottom.
*/
#include "vm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const opnames[] = {
#define OPCODE(name, syn) #name,
#include "opcodes.def"
#undef OPCODE
};

static const char *const opsyn[] = {
#define OPCODE(name, syn) syn,
#include "opcodes.def"
#undef OPCODE
};

const char *sl_opcode_name(int op) {
  return op >= 0 && op < OP__COUNT ? opnames[op] : "?";
}

/* ---- programs ---------------------------------------------------------- */

sl_program *sl_program_new(void) {
  sl_program *p = sl_calloc(1, sizeof *p);
  return p;
}

void sl_program_free(sl_program *p) {
  if (!p) return;
  for (int i = 0; i < p->nconst; i++) {
    sl_value_free(p->consts[i]);
    free(p->consts[i]);
  }
  for (int i = 0; i < p->ncall; i++)
    free(p->calls[i]);
  for (int i = 0; i < p->nstring; i++)
    free(p->strings[i]);
  for (int i = 0; i < p->nhoist; i++) {
    sl_value_free(p->hoist[i]);
    free(p->hoist[i]);
  }
  free(p->hoist);
  free(p->consts);
  free(p->calls);
  free(p->strings);
  for (int i = 0; i < p->nsubq; i++)
    free(p->subqs[i]);
  free(p->subqs);
  free(p->ops);
  free(p);
}

int sl_program_add(sl_program *p, int opcode, int p1, int p2, int p3) {
  if (p->nop == p->cap) {
    p->cap = p->cap ? p->cap * 2 : 32;
    p->ops = sl_realloc(p->ops, sizeof(sl_op) * (size_t)p->cap);
  }
  sl_op *op = &p->ops[p->nop];
  memset(op, 0, sizeof *op);
  op->opcode = (uint8_t)opcode;
  op->p1 = p1;
  op->p2 = p2;
  op->p3 = p3;
  return p->nop++;
}

sl_value *sl_program_const(sl_program *p, const sl_value *v) {
  sl_value *c = sl_calloc(1, sizeof *c);
  sl_value_copy(c, v);
  p->consts = sl_realloc(p->consts, sizeof(*p->consts) * (size_t)(p->nconst + 1));
  p->consts[p->nconst++] = c;
  return c;
}

int sl_program_hoist(sl_program *p, const sl_value *v) {
  sl_value *c = sl_calloc(1, sizeof *c);
  sl_value_copy(c, v);
  p->hoist = sl_realloc(p->hoist, sizeof(*p->hoist) * (size_t)(p->nhoist + 1));
  p->hoist[p->nhoist] = c;
  return SL_HOIST_BASE + p->nhoist++;
}

void sl_program_finish(sl_program *p) {
  for (int i = 0; i < p->nop; i++) {
    sl_op *op = &p->ops[i];
    if (op->p1 >= SL_HOIST_BASE) op->p1 = p->nreg + (op->p1 - SL_HOIST_BASE);
    if (op->p2 >= SL_HOIST_BASE) op->p2 = p->nreg + (op->p2 - SL_HOIST_BASE);
  }
  p->nreg += p->nhoist;
}

sl_callsite *sl_program_call(sl_program *p, const sl_func *f, int nargs, int first_arg) {
  sl_callsite *c = sl_calloc(1, sizeof *c);
  c->func = f;
  c->nargs = nargs;
  c->first_arg = first_arg;
  p->calls = sl_realloc(p->calls, sizeof(*p->calls) * (size_t)(p->ncall + 1));
  p->calls[p->ncall++] = c;
  return c;
}

void sl_program_explain(const sl_program *p, sl_buf *out) {
  for (int i = 0; i < p->nhoist; i++) {
    sl_value tmp = SL_VALUE_INIT;
    sl_value_copy(&tmp, p->hoist[i]);
    size_t n;
    const char *z = sl_value_text(&tmp, &n);
    sl_buf_printf(out, "r[%d] = %s%.*s%s (constant, loaded once)\n", p->nreg - p->nhoist + i,
                  tmp.type == SL_TEXT ? "'" : "", z ? (int)(n > 40 ? 40 : n) : 4, z ? z : "NULL",
                  tmp.type == SL_TEXT ? "'" : "");
    sl_value_free(&tmp);
  }
  sl_buf_printf(out, "addr  opcode        p1    p2    p3    p4               p5  comment\n");
  sl_buf_printf(out, "----  ------------  ----  ----  ----  ---------------  --  -------\n");
  for (int i = 0; i < p->nop; i++) {
    const sl_op *op = &p->ops[i];
    char p4[64] = "";
    switch (op->opcode) {
    case OP_Integer: snprintf(p4, sizeof p4, "%lld", (long long)op->p4.i); break;
    case OP_Real: snprintf(p4, sizeof p4, "%.17g", op->p4.r); break;
    case OP_Const: {
      sl_value tmp = SL_VALUE_INIT;
      sl_value_copy(&tmp, op->p4.v);
      size_t n;
      const char *z = sl_value_text(&tmp, &n);
      if (z)
        snprintf(p4, sizeof p4, "%s%.*s%s", tmp.type == SL_TEXT ? "'" : "", (int)(n > 40 ? 40 : n),
                 z, tmp.type == SL_TEXT ? "'" : "");
      else
        snprintf(p4, sizeof p4, "NULL");
      sl_value_free(&tmp);
      break;
    }
    case OP_Subquery: snprintf(p4, sizeof p4, "%s", op->p4.sq->label); break;
    case OP_Function:
    case OP_AggStep:
    case OP_AggFinal:
      snprintf(p4, sizeof p4, "%s(%d)%s", op->p4.call->func->name, op->p4.call->nargs,
               op->opcode == OP_Function && !op->p4.call->func->xFunc ? " 1-row batch" : "");
      break;
    case OP_Eq:
    case OP_Ne:
    case OP_Lt:
    case OP_Le:
    case OP_Gt:
    case OP_Ge:
      if (op->p4.i) snprintf(p4, sizeof p4, "%s", op->p4.i == SL_COLL_NOCASE ? "NOCASE" : "RTRIM");
      break;
    default: break;
    }
    sl_buf_printf(out, "%-4d  %-12s  %-4d  %-4d  %-4d  %-15s  %-2d  %s\n", i, opnames[op->opcode],
                  op->p1, op->p2, op->p3, p4, op->p5,
                  op->comment ? op->comment : opsyn[op->opcode]);
  }
}

/* ---- machines ------------------------------------------------------------ */

#ifdef SL_DEBUG
/* Registers r[first .. first+n-1] exist (n may be 0). */
#define REGS_OK(p, first, n) ((n) == 0 || ((first) >= 0 && (n) > 0 && (first) + (n) <= (p)->nreg))
#define REG_OK(p, r) REGS_OK(p, r, 1)

/* A call site's arguments are registers of the program. */
static void check_call(const sl_program *p, const sl_callsite *c) {
  SL_ASSERT(c && c->func);
  SL_ASSERT(c->nargs >= 0 && REGS_OK(p, c->first_arg, c->nargs));
}

/* Debug builds check a program once, when a machine is made for it: every
** operand names a register, a column, a jump target or an aggregate slot
** that exists, as opcodes.def describes them; the program is finished
** (no hoisted numbering left) and cannot run past its end. */
static void program_check(const sl_program *p) {
  SL_ASSERT(p->nop > 0 && p->nreg >= p->nhoist);
  int last = p->ops[p->nop - 1].opcode;
  SL_ASSERT(last == OP_Halt || last == OP_Result || last == OP_Goto);
  for (int i = 0; i < p->nop; i++) {
    const sl_op *op = &p->ops[i];
    switch (op->opcode) {
    case OP_Halt: break;
    case OP_Goto: SL_ASSERT(op->p2 >= 0 && op->p2 < p->nop); break;
    case OP_Null: SL_ASSERT(op->p3 >= 0 && REGS_OK(p, op->p2, op->p3 + 1)); break;
    case OP_Integer:
    case OP_Real: SL_ASSERT(REG_OK(p, op->p2)); break;
    case OP_Const: SL_ASSERT(REG_OK(p, op->p2) && op->p4.v); break;
    case OP_Column: SL_ASSERT(op->p1 >= 0 && REG_OK(p, op->p2)); break;
    case OP_Copy:
    case OP_SCopy:
    case OP_Negative:
    case OP_BitNot:
    case OP_Not:
    case OP_IsNull:
    case OP_NotNull: SL_ASSERT(REG_OK(p, op->p1) && REG_OK(p, op->p2)); break;
    case OP_If:
    case OP_IfNot:
    case OP_IfNull:
    case OP_IfNotNull: SL_ASSERT(REG_OK(p, op->p1) && op->p2 >= 0 && op->p2 < p->nop); break;
    case OP_Cast:
      SL_ASSERT(REG_OK(p, op->p1) && op->p2 >= SL_AFF_NONE && op->p2 <= SL_AFF_REAL);
      break;
    case OP_Function:
      check_call(p, op->p4.call);
      SL_ASSERT(REG_OK(p, op->p3));
      break;
    case OP_BatchResult: SL_ASSERT(op->p1 >= 0 && REG_OK(p, op->p2)); break;
    case OP_Param: SL_ASSERT(op->p1 >= 0 && REG_OK(p, op->p2)); break;
    case OP_Subquery:
      SL_ASSERT(op->p4.sq && op->p4.sq->slot < p->nsubq && REGS_OK(p, op->p1, op->p2 + 1) &&
                REG_OK(p, op->p3));
      break;
    case OP_AggStep:
      check_call(p, op->p4.call);
      SL_ASSERT(op->p3 >= 0 && op->p3 < p->nagg);
      break;
    case OP_AggFinal:
      check_call(p, op->p4.call);
      SL_ASSERT(REG_OK(p, op->p2) && op->p3 >= 0 && op->p3 < p->nagg);
      break;
    case OP_Result: SL_ASSERT(op->p2 >= 0 && REGS_OK(p, op->p1, op->p2)); break;
    case OP_Add:
    case OP_Subtract:
    case OP_Multiply:
    case OP_Divide:
    case OP_Remainder:
    case OP_BitAnd:
    case OP_BitOr:
    case OP_ShiftLeft:
    case OP_ShiftRight:
    case OP_Concat:
    case OP_Eq:
    case OP_Ne:
    case OP_Lt:
    case OP_Le:
    case OP_Gt:
    case OP_Ge:
    case OP_Is:
    case OP_IsNot:
    case OP_And:
    case OP_Or: SL_ASSERT(REG_OK(p, op->p1) && REG_OK(p, op->p2) && REG_OK(p, op->p3)); break;
    default: SL_ASSERT(!"an opcode program_check does not know (opcodes.def)"); break;
    }
  }
}
#endif

void sl_vm_init(sl_vm *vm, const sl_program *prog) {
#ifdef SL_DEBUG
  program_check(prog);
#endif
  memset(vm, 0, sizeof *vm);
  vm->prog = prog;
  vm->reg = sl_calloc((size_t)(prog->nreg ? prog->nreg : 1), sizeof(sl_value));
  if (prog->nagg) vm->aggstate = sl_calloc((size_t)prog->nagg, sizeof(void *));
  /* Hoisted constants sit in the last registers (see sl_program_finish). */
  for (int i = 0; i < prog->nhoist; i++)
    sl_value_ref(&vm->reg[prog->nreg - prog->nhoist + i], prog->hoist[i]);
  sl_buf_init(&vm->errmsg);
}

void sl_vm_reset_aggs(sl_vm *vm) {
  for (int i = 0; i < vm->prog->nagg; i++) {
    free(vm->aggstate[i]);
    vm->aggstate[i] = NULL;
  }
}

void sl_vm_free(sl_vm *vm) {
  if (!vm->prog) return;
  for (int i = 0; i < vm->prog->nreg; i++)
    sl_value_free(&vm->reg[i]);
  sl_vm_reset_aggs(vm);
  free(vm->aggstate);
  free(vm->reg);
  free(vm->argv);
  sl_value_free(&vm->scratch[0]);
  sl_value_free(&vm->scratch[1]);
  sl_buf_free(&vm->errmsg);
  sl_fbatch_free(&vm->one);
  sl_vm_subq_free(vm);
  memset(vm, 0, sizeof *vm);
}

/* The argument vector for a call site (pointers to consecutive registers). */
static sl_value **call_args(sl_vm *vm, const sl_callsite *c) {
  if (c->nargs > vm->argv_cap) {
    vm->argv_cap = c->nargs;
    vm->argv = sl_realloc(vm->argv, sizeof(*vm->argv) * (size_t)vm->argv_cap);
  }
  for (int i = 0; i < c->nargs; i++)
    vm->argv[i] = &vm->reg[c->first_arg + i];
  return vm->argv;
}

/* Call a scalar: xFunc, or the batch form over a one-row batch (the
** arguments are columns of one value each). */
static void call_scalar(sl_vm *vm, sl_fctx *ctx, const sl_callsite *c) {
  sl_value **argv = call_args(vm, c);
  if (c->func->xFunc) {
    c->func->xFunc(ctx, c->nargs, argv);
    return;
  }
  sl_fbatch *b = &vm->one;
  b->argc = c->nargs;
  b->args = (const sl_value *const *)argv;
  b->out = ctx->out;
  sl_fbatch_call(c->func, b, 1, c->coll);
  if (b->res_kind) sl_fbatch_result(b, 0, ctx->out);
  if (b->nfailed) {
    ctx->failed = 1;
    sl_buf_reset(&vm->errmsg);
    sl_buf_puts(&vm->errmsg, b->why[0]);
  }
}

/* The state block of aggregate slot i, created zeroed on first use. */
static void *agg_state(sl_vm *vm, int i, const sl_func *f) {
  if (!vm->aggstate[i]) vm->aggstate[i] = sl_calloc(1, f->state_size ? f->state_size : 8);
  return vm->aggstate[i];
}

/* Comparison result of r1 OP r2 as a truth value into out: 1, 0 or NULL. */
static inline void set_cmp(sl_value *out, int c, int opcode) {
  int t;
  switch (opcode) {
  case OP_Eq: t = c == 0; break;
  case OP_Ne: t = c != 0; break;
  case OP_Lt: t = c < 0; break;
  case OP_Le: t = c <= 0; break;
  case OP_Gt: t = c > 0; break;
  default: t = c >= 0; break;
  }
  sl_value_set_int(out, t);
}

int sl_vm_run(sl_vm *vm, sl_value *row) {
  const sl_op *ops = vm->prog->ops;
  sl_value *r = vm->reg;
  int pc = 0;
  for (;;) {
    SL_ASSERT(pc >= 0 && pc < vm->prog->nop);
    const sl_op *op = &ops[pc];
#ifdef SL_DEBUG
    if (vm->trace)
      fprintf(stderr, "vm: %4d %-10s %d %d %d\n", pc, opnames[op->opcode], op->p1, op->p2, op->p3);
#endif
    switch (op->opcode) {
    /* Opcode: Halt P1 / stop; P1=1 means the row was filtered out. */
    case OP_Halt: return op->p1 ? SL_VM_SKIP : SL_VM_ROW;
    /* Opcode: Goto * P2 / jump. */
    case OP_Goto: pc = op->p2; continue;
    /* Opcode: Null * P2 P3 / r[P2..P2+P3] = NULL. */
    case OP_Null:
      for (int i = 0; i <= op->p3; i++)
        sl_value_set_null(&r[op->p2 + i]);
      break;
    /* Opcode: Integer * P2 * P4 / r[P2] = P4.i. */
    case OP_Integer: sl_value_set_int(&r[op->p2], op->p4.i); break;
    /* Opcode: Real * P2 * P4 / r[P2] = P4.r. */
    case OP_Real: sl_value_set_real(&r[op->p2], op->p4.r); break;
    /* Opcode: Const * P2 * P4 / r[P2] = constant (bytes borrowed from the pool). */
    case OP_Const: sl_value_ref(&r[op->p2], op->p4.v); break;
    /* Opcode: Column P1 P2 / r[P2] = row[P1], borrowed from the row. */
    case OP_Column: {
      sl_value *d = &r[op->p2];
      const sl_value *src = &row[op->p1];
      d->type = src->type;
      d->flags = src->flags & (uint8_t)~SL_F_OWNBUF;
      d->n = src->n;
      d->u = src->u;
      break;
    }
    /* Opcode: Copy P1 P2 / deep copy. */
    case OP_Copy: sl_value_copy(&r[op->p2], &r[op->p1]); break;
    /* Opcode: SCopy P1 P2 / shallow copy. */
    case OP_SCopy: sl_value_ref(&r[op->p2], &r[op->p1]); break;

    /* Opcode: Add/Subtract/Multiply P1 P2 P3 / r[P3] = r[P1] op r[P2]. */
    case OP_Add:
    case OP_Subtract:
    case OP_Multiply: {
      sl_value *a = &r[op->p1], *b = &r[op->p2], *o = &r[op->p3];
      if ((a->type == SL_REAL || b->type == SL_REAL) &&
          (a->type == SL_REAL || a->type == SL_INTEGER) &&
          (b->type == SL_REAL || b->type == SL_INTEGER)) {
        /* REAL op REAL, or a mix: computed in doubles, as SQLite does. */
        double x = a->type == SL_REAL ? a->u.r : (double)a->u.i;
        double y = b->type == SL_REAL ? b->u.r : (double)b->u.i;
        double z = op->opcode == OP_Add ? x + y : op->opcode == OP_Subtract ? x - y : x * y;
        if (z == z) { /* not NaN (inf - inf): value.c turns NaN into NULL */
          sl_value_set_real(o, z);
          break;
        }
      } else if (a->type == SL_INTEGER && b->type == SL_INTEGER) {
        int64_t z;
        int ovf = op->opcode == OP_Add        ? __builtin_add_overflow(a->u.i, b->u.i, &z)
                  : op->opcode == OP_Subtract ? __builtin_sub_overflow(a->u.i, b->u.i, &z)
                                              : __builtin_mul_overflow(a->u.i, b->u.i, &z);
        if (!ovf) {
          sl_value_set_int(o, z);
          break;
        }
      }
      sl_value_arith(op->opcode == OP_Add        ? SL_OP_ADD
                     : op->opcode == OP_Subtract ? SL_OP_SUB
                                                 : SL_OP_MUL,
                     a, b, o);
      break;
    }
    /* Opcode: Divide P1 P2 P3 / r[P3] = r[P1] / r[P2]. */
    case OP_Divide: {
      sl_value *a = &r[op->p1], *b = &r[op->p2];
      if ((a->type == SL_REAL || b->type == SL_REAL) &&
          (a->type == SL_REAL || a->type == SL_INTEGER) &&
          (b->type == SL_REAL || b->type == SL_INTEGER)) {
        double x = a->type == SL_REAL ? a->u.r : (double)a->u.i;
        double y = b->type == SL_REAL ? b->u.r : (double)b->u.i;
        double z = y != 0.0 ? x / y : 0.0 / 0.0; /* x/0 is NULL: value.c decides */
        if (z == z) {
          sl_value_set_real(&r[op->p3], z);
          break;
        }
      }
      sl_value_arith(SL_OP_DIV, a, b, &r[op->p3]);
      break;
    }
    case OP_Remainder: sl_value_arith(SL_OP_REM, &r[op->p1], &r[op->p2], &r[op->p3]); break;
    case OP_BitAnd: sl_value_arith(SL_OP_BITAND, &r[op->p1], &r[op->p2], &r[op->p3]); break;
    case OP_BitOr: sl_value_arith(SL_OP_BITOR, &r[op->p1], &r[op->p2], &r[op->p3]); break;
    case OP_ShiftLeft: sl_value_arith(SL_OP_SHL, &r[op->p1], &r[op->p2], &r[op->p3]); break;
    case OP_ShiftRight: sl_value_arith(SL_OP_SHR, &r[op->p1], &r[op->p2], &r[op->p3]); break;
    /* Opcode: Concat P1 P2 P3 / r[P3] = r[P1] || r[P2]. */
    case OP_Concat:
      if (sl_value_concat(&r[op->p1], &r[op->p2], &r[op->p3])) {
        sl_buf_reset(&vm->errmsg);
        sl_buf_puts(&vm->errmsg, sl_too_big_msg());
        goto abort_due_to_error;
      }
      break;
    /* Opcode: Negative P1 P2 / r[P2] = -r[P1]. */
    case OP_Negative:
      if (r[op->p1].type == SL_REAL)
        sl_value_set_real(&r[op->p2], -r[op->p1].u.r);
      else
        sl_value_negate(&r[op->p1], &r[op->p2]);
      break;
    case OP_BitNot: sl_value_bitnot(&r[op->p1], &r[op->p2]); break;
    case OP_Not: sl_value_not(&r[op->p1], &r[op->p2]); break;

    /* Opcode: Eq..Ge P1 P2 P3 P4 P5 / r[P3] = r[P1] op r[P2] with affinity
    ** P5 and collation P4.i; NULL if either side is NULL. */
    case OP_Eq:
    case OP_Ne:
    case OP_Lt:
    case OP_Le:
    case OP_Gt:
    case OP_Ge: {
      sl_value *a = &r[op->p1], *b = &r[op->p2];
      int c;
      if (a->type == SL_INTEGER && b->type == SL_INTEGER) {
        c = a->u.i < b->u.i ? -1 : a->u.i > b->u.i;
      } else if (a->type == SL_REAL && b->type == SL_REAL) {
        c = a->u.r < b->u.r ? -1 : a->u.r > b->u.r;
      } else {
        c = sl_value_compare_aff(a, b, (sl_affinity)op->p5, (sl_coll)op->p4.i, &vm->scratch[0],
                                 &vm->scratch[1]);
        if (c == -2) {
          sl_value_set_null(&r[op->p3]);
          break;
        }
      }
      set_cmp(&r[op->p3], c, op->opcode);
      break;
    }
    /* Opcode: Is / IsNot P1 P2 P3 / NULL-safe equality (never NULL). */
    case OP_Is:
    case OP_IsNot: {
      sl_value *a = &r[op->p1], *b = &r[op->p2];
      int eq;
      if (a->type == SL_NULL || b->type == SL_NULL)
        eq = a->type == b->type;
      else
        eq = sl_value_compare_aff(a, b, (sl_affinity)op->p5, (sl_coll)op->p4.i, &vm->scratch[0],
                                  &vm->scratch[1]) == 0;
      sl_value_set_int(&r[op->p3], op->opcode == OP_Is ? eq : !eq);
      break;
    }
    case OP_IsNull: sl_value_set_int(&r[op->p2], r[op->p1].type == SL_NULL); break;
    case OP_NotNull: sl_value_set_int(&r[op->p2], r[op->p1].type != SL_NULL); break;
    /* Opcode: And / Or P1 P2 P3 / three-valued logic. */
    case OP_And:
    case OP_Or: {
      int a = sl_value_truth(&r[op->p1]), b = sl_value_truth(&r[op->p2]);
      int t;
      if (op->opcode == OP_And)
        t = (a == 0 || b == 0) ? 0 : (a < 0 || b < 0) ? -1 : 1;
      else
        t = (a == 1 || b == 1) ? 1 : (a < 0 || b < 0) ? -1 : 0;
      if (t < 0)
        sl_value_set_null(&r[op->p3]);
      else
        sl_value_set_int(&r[op->p3], t);
      break;
    }
    /* Opcode: If P1 P2 / jump when r[P1] is true. */
    case OP_If:
      if (sl_value_truth(&r[op->p1]) == 1) {
        pc = op->p2;
        continue;
      }
      break;
    /* Opcode: IfNot P1 P2 P3 / jump when r[P1] is false, or NULL if P3. */
    case OP_IfNot: {
      int t = sl_value_truth(&r[op->p1]);
      if (t == 0 || (t < 0 && op->p3)) {
        pc = op->p2;
        continue;
      }
      break;
    }
    case OP_IfNull:
      if (r[op->p1].type == SL_NULL) {
        pc = op->p2;
        continue;
      }
      break;
    case OP_IfNotNull:
      if (r[op->p1].type != SL_NULL) {
        pc = op->p2;
        continue;
      }
      break;
    /* Opcode: Cast P1 P2 / r[P1] = CAST(r[P1] AS affinity P2). */
    case OP_Cast: sl_value_cast(&r[op->p1], (sl_affinity)op->p2); break;

    /* Opcode: Function P1 P2 P3 P4 / r[P3] = f(r[P2] .. r[P2+P1-1]). */
    case OP_Function: {
      const sl_callsite *c = op->p4.call;
      sl_fctx ctx = {c->func, &r[op->p3], NULL, c->coll, 0, &vm->errmsg, 0, 0, NULL, 0};
      /* The result register may be an argument register: compute into a
      ** scratch value first only when they overlap. */
      if (op->p3 >= c->first_arg && op->p3 < c->first_arg + c->nargs) {
        sl_value tmp = SL_VALUE_INIT;
        ctx.out = &tmp;
        call_scalar(vm, &ctx, c);
        sl_value_copy(&r[op->p3], &tmp);
        sl_value_free(&tmp);
      } else {
        sl_value_set_null(&r[op->p3]);
        call_scalar(vm, &ctx, c);
      }
      if (ctx.failed) goto abort_due_to_error;
      break;
    }
    /* Opcode: BatchResult P1 P2 / r[P2] = batch call P1's result for this row. */
    case OP_BatchResult:
      SL_ASSERT(vm->bres && vm->bres[op->p1] && vm->brow >= 0 && vm->brow < vm->bres[op->p1]->nrow);
      sl_fbatch_result(vm->bres[op->p1], vm->brow, &r[op->p2]);
      break;
    /* Opcode: AggStep P1 P2 P3 P4 / step aggregate P4 on state slot P3. */
    case OP_AggStep: {
      const sl_callsite *c = op->p4.call;
      sl_value dummy = SL_VALUE_INIT;
      sl_fctx ctx = {c->func, &dummy, agg_state(vm, op->p3, c->func), c->coll, 0, &vm->errmsg, 0, 0,
                     NULL,    0};
      c->func->xStep(&ctx, c->nargs, call_args(vm, c));
      sl_value_free(&dummy);
      if (ctx.failed) goto abort_due_to_error;
      break;
    }
    /* Opcode: AggFinal * P2 P3 P4 / r[P2] = final value of state slot P3. */
    case OP_AggFinal: {
      const sl_callsite *c = op->p4.call;
      sl_fctx ctx = {
          c->func, &r[op->p2], agg_state(vm, op->p3, c->func), c->coll, 0, &vm->errmsg, 0, 0,
          NULL,    0};
      sl_value_set_null(&r[op->p2]);
      c->func->xFinal(&ctx);
      free(vm->aggstate[op->p3]);
      vm->aggstate[op->p3] = NULL;
      if (ctx.failed) goto abort_due_to_error;
      break;
    }
    /* Opcode: Result P1 P2 / the output row is r[P1] .. r[P1+P2-1]. */
    case OP_Result: return SL_VM_ROW;
    /* Opcode: Param P1 P2 / r[P2] = outer value P1 of the running subquery. */
    case OP_Param:
      if (sl_vm_param(vm, op->p1, &r[op->p2])) goto abort_due_to_error;
      break;
    /* Opcode: Subquery P1 P2 P3 P4 / r[P3] = the subquery P4.sq's value. */
    case OP_Subquery:
      if (sl_vm_subq_exec(vm, op, r)) goto abort_due_to_error;
      break;
    default:
      sl_buf_reset(&vm->errmsg);
      sl_buf_printf(&vm->errmsg, "internal error: bad opcode %d at %d", op->opcode, pc);
      return SL_VM_ERROR;
    }
    pc++;
  }

abort_due_to_error:
  return SL_VM_ERROR;
}
