/*
** vm.h - the register virtual machine that evaluates compiled expressions.
**
** A program (sl_program) is built once by the expression compiler (expr.c)
** and is immutable afterwards; a machine (sl_vm) holds the registers of one
** running copy.  One run evaluates one input row: it reads input columns
** (OP_Column), computes into registers, and either stops at OP_Result with
** the output in consecutive registers, or stops early because a WHERE clause
** filtered the row out, or fails (a function error), leaving a message.
**
** Instruction layout:
**
**     opcode | p5 | p1 | p2 | p3 | p4 (integer, real, constant value or call site)
**
** Registers own their buffers and reuse them, so evaluating numeric
** expressions never allocates, and text only allocates while a register's
** buffer grows.
**
** Batch calls: op_project may evaluate some calls for a whole batch before
** running the program per row (their batch form, func.h); the program then
** reads call k's result for the current row with OP_BatchResult from the
** batch bres[k], row brow, which the operator sets.
*/
#ifndef SLUICE_VM_H
#define SLUICE_VM_H

#include "func.h"

enum {
#define OPCODE(name, syn) OP_##name,
#include "opcodes.def"
#undef OPCODE
  OP__COUNT
};

/* A function call site: the descriptor and a prepared argument vector. */
typedef struct sl_callsite {
  const sl_func *func;
  int nargs;
  int first_arg; /* register of the first argument */
  sl_coll coll;  /* collation for SL_FUNC_NEEDCOLL */
} sl_callsite;

typedef struct sl_op {
  uint8_t opcode;
  uint8_t p5;
  int p1, p2, p3;
  union {
    int64_t i;
    double r;
    sl_value *v;       /* OP_Const: owned by the program's constant pool */
    sl_callsite *call; /* OP_Function, OP_AggStep, OP_AggFinal: owned by the program */
    /* OP_Subquery: owned by the program */
    struct sl_subqsite *sq;
  } p4;
  const char *comment; /* EXPLAIN annotation, or NULL (static or owned by the program) */
} sl_op;

typedef struct sl_program {
  sl_op *ops;
  int nop, cap;
  int nreg;          /* registers used */
  int nagg;          /* aggregate state blocks (single-row aggregates) */
  sl_value **consts; /* constant pool, owned */
  int nconst;
  sl_callsite **calls; /* call sites, owned */
  int ncall;
  char **strings; /* owned strings referred to by comments */
  int nstring;
  sl_value **hoist; /* constants loaded into registers once, at sl_vm_init (owned) */
  int nhoist;
  int result_reg; /* first output register */
  int nresult;    /* output columns */
  /* OP_Subquery sites (owned), slot i at index i */
  struct sl_subqsite **subqs;
  int nsubq;
} sl_program;

sl_program *sl_program_new(void);
void sl_program_free(sl_program *p);
/* Append an instruction; returns its address. */
int sl_program_add(sl_program *p, int opcode, int p1, int p2, int p3);
/* Add a constant (deep-copied into the pool) and return its pointer. */
sl_value *sl_program_const(sl_program *p, const sl_value *v);
sl_callsite *sl_program_call(sl_program *p, const sl_func *f, int nargs, int first_arg);
/* Constant operands are hoisted: the compiler numbers their registers
** SL_HOIST_BASE + i while it works (it does not know how many registers the
** program needs yet), and sl_program_finish moves them after the others.
** The VM loads them once; no instruction writes them. */
#define SL_HOIST_BASE (1 << 24)
/* Register of a new hoisted constant (v is deep-copied). */
int sl_program_hoist(sl_program *p, const sl_value *v);
/* Renumber hoisted registers once the program is complete. */
void sl_program_finish(sl_program *p);
/* Append the EXPLAIN listing of the program. */
void sl_program_explain(const sl_program *p, sl_buf *out);
/* Name of an opcode. */
const char *sl_opcode_name(int op);

/* Results of sl_vm_run. */
#define SL_VM_ROW 1   /* an output row is in r[result_reg ..] */
#define SL_VM_SKIP 2  /* the row was filtered out */
#define SL_VM_ERROR 3 /* evaluation failed: message in vm->errmsg */

typedef struct sl_vm {
  const sl_program *prog;
  sl_value *reg;   /* prog->nreg registers, owned */
  void **aggstate; /* prog->nagg state blocks, owned */
  sl_value **argv; /* scratch argument vector, owned */
  int argv_cap;
  sl_value scratch[2]; /* for comparisons with affinity */
  sl_buf errmsg;       /* message of the last failure */
  int trace;           /* print each instruction to stderr (debug builds) */
  sl_fbatch one;       /* a one-row batch, for functions with only a batch form */
  sl_fbatch **bres;    /* batch calls (the operator's), for OP_BatchResult */
  int brow;            /* the row of bres the program reads */
  /* per OP_Subquery site: its results (vm_subq.c), or NULL */
  struct sl_subqc *subc;
} sl_vm;

/* Prepare a machine for prog (which must outlive it). */
void sl_vm_init(sl_vm *vm, const sl_program *prog);
void sl_vm_free(sl_vm *vm);
/* Evaluate prog over the input row (prog's OP_Column reads row[]).  Returns
** SL_VM_ROW, SL_VM_SKIP or SL_VM_ERROR. */
int sl_vm_run(sl_vm *vm, sl_value *row);
/* Reset single-row aggregate states (zero them, after finalizing). */
void sl_vm_reset_aggs(sl_vm *vm);

/* ---- subqueries (vm_subq.c) ----------------------------------------------
** OP_Subquery evaluates a subquery the planner made (an opaque descriptor,
** plan.h's sl_psubq) through the runner the runtime registers (run_subq.c):
** the VM calls nothing of the runtime itself.  Each machine keeps the
** results per site by the outer values they were computed for (bounded),
** so an uncorrelated subquery runs once per machine and a correlated one
** once per distinct outer values.  A subquery's programs read its outer values
** with OP_Param from the frame its runner pushed on the thread. */

/* Rows a subquery returned: nrow rows of ncol values, owned. */
typedef struct sl_subq_rows {
  sl_value *v;
  int nrow, ncol, cap;
} sl_subq_rows;
/* Append a row of ncol values (deep copies; the buffers of rows cleared
** before are reused). */
void sl_subq_rows_add(sl_subq_rows *r, int ncol, sl_value *const *row);
/* No rows (the values keep their buffers for the next ones). */
void sl_subq_rows_clear(sl_subq_rows *r);
void sl_subq_rows_free(sl_subq_rows *r);

/* Run subquery desc with its outer values params[0..nparam) (nparam -1:
** those of the frame it runs in) into out (cleared first).  0, or -1 with
** err set. */
typedef int (*sl_subq_runner)(const void *desc, const sl_value *params, int nparam,
                              sl_subq_rows *out, sl_err *err);
/* Set the runner (the runtime's; the same function every time). */
void sl_vm_set_subq_runner(sl_subq_runner fn);
/* Call the runner; -1 with err set when there is none. */
int sl_vm_subquery(const void *desc, const sl_value *params, int nparam, sl_subq_rows *out,
                   sl_err *err);

/* The outer values of the subquery running on this thread (a stack: a
** subquery runs inside the evaluation of its outer query's row). */
typedef struct sl_vm_frame {
  const sl_value *v;
  int n;
  struct sl_vm_frame *up;
} sl_vm_frame;
/* Push f (the caller's, valid until popped) with outer values v[0..n);
** pop it after the subquery's run. */
void sl_vm_frame_push(sl_vm_frame *f, const sl_value *v, int n);
void sl_vm_frame_pop(sl_vm_frame *f);

/* An OP_Subquery site: what to make of the rows. */
typedef struct sl_subqsite {
  const void *desc; /* the planned subquery (borrowed from the plan) */
  int kind;         /* SL_SUBQ_SCALAR, SL_SUBQ_EXISTS, SL_SUBQ_IN (ast.h) */
  int not_;         /* NOT IN */
  int nparam;       /* outer values (registers after IN's operand) */
  int slot;         /* its index in the program's subqs */
  uint8_t aff;      /* IN: the comparison's affinity */
  uint8_t coll;     /* IN: the comparison's collation */
  char label[24];   /* "subquery 3", for EXPLAIN */
} sl_subqsite;
/* A new site of p (owned by p). */
sl_subqsite *sl_program_subq(sl_program *p);
/* Execute OP_Subquery op on vm's registers r: 0, or -1 with vm->errmsg set. */
int sl_vm_subq_exec(sl_vm *vm, const sl_op *op, sl_value *r);
/* Read outer value k of the running subquery into d (borrowed): 0, or -1
** with vm->errmsg set when there is none. */
int sl_vm_param(sl_vm *vm, int k, sl_value *d);
/* Free vm's subquery results (sl_vm_free calls it). */
void sl_vm_subq_free(sl_vm *vm);

#endif /* SLUICE_VM_H */
