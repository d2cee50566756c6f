/*
** func.h - the one descriptor for every SQL function in sluice.
**
** Built-in scalar functions (func_*.c), aggregates (agg_*.c), model functions
** (bind.c) and C UDFs loaded from shared libraries (extension.c) are all
** described by an sl_func and registered in the catalog's function table
** (sl_functab).  The VM calls them the same way: a scalar through xFunc (or
** its batch form xBatch with one row), an aggregate through xStep / xInverse
** / xValue / xFinal on a per-group state block of `state_size` bytes.
** op_project calls a function's batch form once for a whole batch of rows.
**
** Calling convention (like SQLite's):
**   void xFunc(sl_fctx *ctx, int argc, sl_value **argv);
** argv[i] are the argument registers; a function may convert them in place
** with the accessors of value.h (the VM does not read them afterwards) but must
** not keep pointers to them past the call.  The result is set with one of
** sl_result_*(); if none is called the result is NULL.  sl_result_error()
** makes the call fail: the current record is rejected (counted, logged) and the
** query goes on, or the statement fails for a constant expression.
*/
#ifndef SLUICE_FUNC_H
#define SLUICE_FUNC_H

#include <stdarg.h>

#include "value.h"

typedef struct sl_fctx sl_fctx;
typedef struct sl_func sl_func;

typedef void (*sl_xfunc)(sl_fctx *ctx, int argc, sl_value **argv);
/* Aggregate callbacks: the state block is sl_fctx_state(ctx). */
typedef void (*sl_xfinal)(sl_fctx *ctx);
/* The batch form: nrow rows at once, arguments and results in ctx->batch
** (read and written with the sluice_batch_* accessors of sluice.h). */
typedef void (*sl_xbatch)(sl_fctx *ctx, int nrow, int argc);

/* function flags */
#define SL_FUNC_DETERMINISTIC 0x01 /* same args -> same result: may be constant-folded */
#define SL_FUNC_AGGREGATE 0x02     /* an aggregate: xStep/xFinal set */
#define SL_FUNC_NEEDCOLL 0x04      /* receives the collation of its first argument */
#define SL_FUNC_JSONRESULT 0x08    /* result TEXT is JSON (sets SL_F_JSON) */
#define SL_FUNC_COUNTSTAR 0x10     /* count(*): called with zero arguments */
#define SL_FUNC_MODELARG 0x20   /* train(m, ...): the first argument names the model (not passed) */
#define SL_FUNC_MODEL 0x40      /* a model function: scored by op_score, never called */
#define SL_FUNC_PLAINSTATE 0x80 /* aggregate state without pointers: checkpointed as bytes */
/* a window function (row_number, rank, dense_rank, lag, lead): computed by
** the window operators (op_window, op_topn, op_over) from the rows of its
** window, never called; its kind (sl_wfunc) is sl_func_window_kind(f) */
#define SL_FUNC_WINDOW 0x100
/* an aggregate whose result does not depend on the order of its rows (but
** for the rounding of a floating-point sum): a GROUP BY of only such may
** run as parallel tasks meeting at an exchange (op_exchange.c), which
** interleaves the rows of a group read by different tasks */
#define SL_FUNC_ANYORDER 0x200

/* A window frame's bounds and types (ROWS BETWEEN 2 PRECEDING AND CURRENT
** ROW), as the grammar reads them and the window operators apply them. */
typedef enum sl_fbound_kind {
  SL_FB_UNBOUNDED_PRECEDING = 1,
  SL_FB_PRECEDING, /* n PRECEDING */
  SL_FB_CURRENT,   /* CURRENT ROW */
  SL_FB_FOLLOWING, /* n FOLLOWING */
  SL_FB_UNBOUNDED_FOLLOWING
} sl_fbound_kind;
/* frame types (0: none written, SQLite's default) */
enum { SL_FRAME_ROWS = 1, SL_FRAME_RANGE, SL_FRAME_GROUPS };

/* The window functions' kinds (func_window.c). */
typedef enum sl_wfunc {
  SL_WF_ROW_NUMBER = 1,
  SL_WF_RANK,
  SL_WF_DENSE_RANK,
  SL_WF_LAG,
  SL_WF_LEAD
} sl_wfunc;

struct sl_func {
  const char *name;  /* lower-case name as written in SQL */
  int nargs;         /* exact argument count, or -1 for any, or -(N+2) for "at least N" */
  unsigned flags;    /* SL_FUNC_* */
  void *user;        /* user data, returned by sl_fctx_user() */
  sl_xfunc xFunc;    /* scalar: compute the result */
  sl_xfunc xStep;    /* aggregate: add one row */
  sl_xfunc xInverse; /* aggregate: remove one row (sliding windows), or NULL */
  sl_xfinal xValue;  /* aggregate: current value without finishing, or NULL */
  sl_xfinal xFinal;  /* aggregate: final value; must release what the state owns */
  size_t state_size; /* aggregate: bytes of per-group state, zero-initialised */
  void (*xDestroy)(void *user); /* called on `user` when the function is dropped */
  const char *doc;              /* one line for SHOW FUNCTIONS */
  sl_xbatch xBatch;             /* scalar: the batch form, or NULL (xFunc then) */
  /* aggregate checkpoints: xSave appends what the state block holds
  ** (checkpoint.h encoding); xLoad restores it into a zeroed block (0, or -1
  ** when the bytes are not its).  An aggregate without them checkpoints
  ** only with SL_FUNC_PLAINSTATE (its block is copied as it is).  f is the
  ** function itself (an extension's adapters find its callbacks there). */
  void (*xSave)(const sl_func *f, const void *state, sl_buf *out);
  int (*xLoad)(const sl_func *f, void *state, const void *z, size_t n);
};

/* The arguments and results of one batch call (xBatch) of nrow rows.
** Arguments are read where the caller has them, without a copy: argument a
** of row k is args[a][i * stride[a]] with i = rows ? rows[k] : k (so a
** column of the input batch is read in place, and rows skips the rows a
** filter dropped).  Results are the caller's out values when set row by
** row, else the dres / ires arrays (res_kind): sl_fbatch_result reads
** either.  The rest is scratch the batch owns and reuses (sl_fbatch_free
** releases it): a call allocates nothing once buffers have grown. */
typedef struct sl_fbatch {
  int nrow, argc;
  const sl_value *const *args; /* per argument: its values (the caller's, read-only) */
  const int *stride;           /* per argument: values from one row to the next; NULL: 1 */
  const int *rows;             /* row k's index in the columns, or NULL (k) */
  sl_value *out;               /* nrow results set row by row (the caller's) */
  int nulled;                  /* out[1 ..] were set to NULL (out[0] always is) */
  uint8_t *failed;             /* per row: the function failed it (sl_result_error) */
  char **why;                  /* per failed row: the message (owned) */
  int nfailed;
  int row;         /* the row sl_result_* write (sluice_batch_row) */
  double *dcol;    /* argc columns of cap doubles (sluice_batch_double) */
  int64_t *icol;   /* argc columns of cap integers */
  sl_value *vcol;  /* argc columns of cap values (sluice_batch_value's copies) */
  uint8_t *have;   /* per argument: 1 doubles converted, 2 integers, 4 values copied */
  double *dres;    /* results as doubles (sluice_batch_result_double) */
  int64_t *ires;   /* results as integers */
  int res_kind;    /* 0 row by row, 1 dres, 2 ires */
  int cap, argcap; /* rows and arguments the buffers hold */
} sl_fbatch;

/* Argument a of row k. */
static inline const sl_value *sl_fbatch_arg(const sl_fbatch *b, int a, int k) {
  size_t i = (size_t)(b->rows ? b->rows[k] : k);
  return &b->args[a][i * (size_t)(b->stride ? b->stride[a] : 1)];
}

/* Call f's batch form over b's nrow rows (args, stride, rows and out set by
** the caller).  Rows the function failed have failed[row] and why[row]
** set; b->nfailed counts them. */
void sl_fbatch_call(const sl_func *f, sl_fbatch *b, int nrow, sl_coll coll);
/* Make the results set row by row complete: the rows the function did not
** set are NULL.  (sl_fbatch_call leaves that to the first sluice_batch_row,
** so that a function filling dres never pays for it.) */
void sl_fbatch_null_rest(sl_fbatch *b);
void sl_fbatch_free(sl_fbatch *b);

/* Row k's result of the last call into dst: from dres / ires, or a shallow
** reference to out[k] (valid until the next call). */
static inline void sl_fbatch_result(const sl_fbatch *b, int k, sl_value *dst) {
  if (b->res_kind == 1) {
    double r = b->dres[k];
    if (r != r) /* NaN is NULL */
      sl_value_set_null(dst);
    else
      sl_value_set_real(dst, r);
  } else if (b->res_kind == 2) {
    sl_value_set_int(dst, b->ires[k]);
  } else {
    const sl_value *s = &b->out[k];
    dst->type = s->type;
    dst->flags = s->flags & (uint8_t)~SL_F_OWNBUF;
    dst->n = s->n;
    dst->u = s->u;
  }
}

/* The call context, prepared by the VM for each call site. */
struct sl_fctx {
  const sl_func *def; /* the function being called */
  sl_value *out;      /* where the result goes */
  void *state;        /* aggregate state block (state_size bytes), or NULL */
  sl_coll coll;       /* collation of the first argument (SL_FUNC_NEEDCOLL) */
  int failed;         /* set by sl_result_error */
  sl_buf *errmsg;     /* message of the failure */
  int64_t wend;       /* xFinal/xValue of a window's group: the window's end (ms), else 0 */
  int discard;        /* xFinal only to release the state: the group is dropped unfinished */
  sl_fbatch *batch;   /* a batch call (xBatch): its columns, or NULL */
  /* xStep: bytes the call added to what the state owns outside its block
  ** (a growing text, new entries), for the query's state accounting
  ** (max_query_memory); the caller reads it after the call.  What xFinal
  ** frees need not be reported: the caller takes it all back then. */
  int64_t grew;
};

/* A window function's kind (sl_wfunc), 0 for any other function. */
static inline int sl_func_window_kind(const sl_func *f) {
  return (f->flags & SL_FUNC_WINDOW) ? (int)(intptr_t)f->user : 0;
}

static inline void *sl_fctx_user(sl_fctx *ctx) {
  return ctx->def->user;
}
static inline void *sl_fctx_state(sl_fctx *ctx) {
  return ctx->state;
}

/* ---- results --------------------------------------------------------- */
static inline void sl_result_null(sl_fctx *ctx) {
  sl_value_set_null(ctx->out);
}
static inline void sl_result_int(sl_fctx *ctx, int64_t i) {
  sl_value_set_int(ctx->out, i);
}
/* A NaN result becomes NULL, as in SQLite. */
void sl_result_real(sl_fctx *ctx, double r);
/* Copy n bytes of text into the result register. */
static inline void sl_result_text(sl_fctx *ctx, const char *z, size_t n) {
  sl_value_set_text(ctx->out, z, n);
}
/* Text that lives at least as long as the program (a constant string). */
static inline void sl_result_static_text(sl_fctx *ctx, const char *z, size_t n) {
  sl_value_borrow_text(ctx->out, z, n, 0);
}
static inline void sl_result_blob(sl_fctx *ctx, const void *z, size_t n) {
  sl_value_set_blob(ctx->out, z, n);
}
/* Copy v into the result (deep copy). */
static inline void sl_result_value(sl_fctx *ctx, const sl_value *v) {
  sl_value_copy(ctx->out, v);
}
/* Fail the call with a message (printf-style); in a batch call, fail the
** current row (sluice_batch_row). */
void sl_result_error(sl_fctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sl_result_verror(sl_fctx *ctx, const char *fmt, va_list ap);
/* Fail the call because its result would be over the longest string or
** blob (sl_too_big, value.h): SQLite's "string or blob too big". */
static inline void sl_result_toobig(sl_fctx *ctx) {
  sl_result_error(ctx, "%s", sl_too_big_msg());
}

/* ---- the function table ----------------------------------------------- */
/* A hash table of descriptors keyed by case-folded name; several entries may
** share a name with different nargs.  The table does not copy descriptors:
** they must outlive it (static tables, or memory owned by a model/extension). */
typedef struct sl_functab sl_functab;

sl_functab *sl_functab_new(void);
void sl_functab_free(sl_functab *t);
/* Add (or replace the entry with the same name and nargs). */
void sl_functab_add(sl_functab *t, const sl_func *f);
/* Add every entry of a NULL-name-terminated array. */
void sl_functab_add_all(sl_functab *t, const sl_func *fs);
/* Remove every entry with this name; returns how many. */
int sl_functab_remove(sl_functab *t, const char *name);
/* Add f, or put it in the place of the entry with the same name and nargs:
** that entry's descriptor is returned (NULL when there was none) and, unlike
** sl_functab_add, not destroyed: its owner still has it (the catalog's
** savepoint puts it back). */
const sl_func *sl_functab_put(sl_functab *t, const sl_func *f);
/* Take the descriptor f itself (not others of its name) out of the table,
** without destroying it; returns 1 if it was there. */
int sl_functab_take(sl_functab *t, const sl_func *f);
/* Find the best entry for name and argc: exact nargs first, then variadic.
** Returns NULL if the name is unknown; sets *name_known when the name exists
** but no entry takes argc arguments (for a clear bind error). */
const sl_func *sl_functab_find(const sl_functab *t, const char *name, size_t namelen, int argc,
                               int *name_known);
/* Visit every descriptor (for SHOW FUNCTIONS), sorted by name. */
void sl_functab_foreach(const sl_functab *t, void (*cb)(void *ud, const sl_func *f), void *ud);

/* Built-in tables, each terminated by an entry with name == NULL. */
extern const sl_func sl_builtin_core[];   /* func_core.c: strings, math, conversion, misc */
extern const sl_func sl_builtin_printf[]; /* func_printf.c: printf / format */
extern const sl_func sl_builtin_json[];   /* func_json.c: JSON and VECTOR functions */
extern const sl_func sl_builtin_date[];   /* func_date.c: date, time, datetime, strftime, ... */
extern const sl_func sl_builtin_flink[];  /* func_flink.c: hour, date_format, regexp_extract, ... */
extern const sl_func
    sl_builtin_aggregate[]; /* agg_basic.c: count, sum, total, avg, min, max, group_concat */
extern const sl_func sl_builtin_window[]; /* func_window.c: row_number, rank, lag, ... */
extern const sl_func sl_builtin_model[];  /* bind.c: predict, predict_label, ... (SL_FUNC_MODEL) */

/* Checkpoint an aggregate's state block (xSave, or the bytes with
** SL_FUNC_PLAINSTATE) / restore it into a zeroed block.  0, or -1 with err
** set: the aggregate cannot be checkpointed, or the bytes do not fit. */
int sl_agg_save(const sl_func *f, const void *state, sl_buf *out, sl_err *err);
int sl_agg_load(const sl_func *f, void *state, const void *z, size_t n, sl_err *err);

/* The cheaper descriptor to use where rows are never removed (GROUP BY,
** windows): running min/max instead of the multiset that xInverse needs;
** f itself for every other function. */
const sl_func *sl_agg_no_inverse(const sl_func *f);

/* SQLite's printf engine (%d %i %u %f %e %E %g %G %x %X %o %s %z %q %Q %w %c %%
** %!, flags, width, precision, '*'), over sl_value arguments as printf()
** takes them.  Appends to out and returns 0; returns -1 and appends nothing
** when the output would pass 999,999,999 bytes (SQLite's printf() is NULL
** then).  Used by printf() / format(). */
int sl_value_printf(sl_buf *out, const char *fmt, size_t fmtlen, int argc, sl_value **argv);

/* LIKE and GLOB matching as SQLite implements them (LIKE is ASCII
** case-insensitive; esc is the ESCAPE character or 0).  Return 1 on match. */
int sl_like(const char *pat, size_t np, const char *str, size_t ns, unsigned esc);
int sl_glob(const char *pat, size_t np, const char *str, size_t ns);

#endif /* SLUICE_FUNC_H */
