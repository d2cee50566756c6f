/*
** func.h - the one descriptor for every SQL function in sluice.
**
** Built-in scalar functions (func_*.c), aggregates (agg_*.c), model functions
** and C UDFs loaded from shared libraries are all described by an sl_func and
** registered in the catalog's function table (sl_functab).  The VM calls them
** the same way: a scalar through xFunc, an aggregate through xStep / xInverse /
** xValue / xFinal on a per-group state block of `state_size` bytes.
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

#include "value.h"

typedef struct sl_fctx sl_fctx;
typedef struct sl_func sl_func;

typedef void (*sl_xfunc)(sl_fctx *ctx, int argc, sl_value **argv);
/* Aggregate callbacks: the state block is sl_fctx_state(ctx). */
typedef void (*sl_xfinal)(sl_fctx *ctx);

/* function flags */
#define SL_FUNC_DETERMINISTIC 0x01 /* same args -> same result: may be constant-folded */
#define SL_FUNC_AGGREGATE 0x02     /* an aggregate: xStep/xFinal set */
#define SL_FUNC_NEEDCOLL 0x04      /* receives the collation of its first argument */
#define SL_FUNC_JSONRESULT 0x08    /* result TEXT is JSON (sets SL_F_JSON) */
#define SL_FUNC_COUNTSTAR 0x10     /* count(*): called with zero arguments */
#define SL_FUNC_MODELARG 0x20 /* train(m, ...): the first argument names the model (not passed) */

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
};

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
};

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
/* Fail the call with a message (printf-style). */
void sl_result_error(sl_fctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

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
extern const sl_func
    sl_builtin_aggregate[]; /* agg_basic.c: count, sum, total, avg, min, max, group_concat */

/* The cheaper descriptor to use where rows are never removed (GROUP BY,
** windows): running min/max instead of the multiset that xInverse needs;
** f itself for every other function. */
const sl_func *sl_agg_no_inverse(const sl_func *f);

/* SQLite's printf engine (%d %i %u %f %e %E %g %G %x %X %o %s %z %q %Q %w %c %%
** %!, flags, width, precision, '*'), over sl_value arguments as printf()
** takes them.  Appends to out.  Used by printf() / format(). */
void sl_value_printf(sl_buf *out, const char *fmt, size_t fmtlen, int argc, sl_value **argv);

/* LIKE and GLOB matching as SQLite implements them (LIKE is ASCII
** case-insensitive; esc is the ESCAPE character or 0).  Return 1 on match. */
int sl_like(const char *pat, size_t np, const char *str, size_t ns, unsigned esc);
int sl_glob(const char *pat, size_t np, const char *str, size_t ns);

#endif /* SLUICE_FUNC_H */
