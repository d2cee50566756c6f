/*
** sluice.h - the public C interface of sluice, a streaming SQL engine.
**
** Two uses:
**   Embedding: open an engine, run SQL text through it, receive result rows
**   in a callback.  Link with the engine.
**   Extensions: a shared library of C functions (scalar, aggregate and batch
**   functions) that sluice loads with `LOAD 'lib.so'` or `--load lib.so`.
**   Write `#define SLUICE_EXTENSION` before including this header: every
**   sluice_* call then goes through the table of functions the engine hands
**   to sluice_extension_init(), so the library links against nothing.
**   docs/udf.md takes you from an empty file to a loaded function.
**
** Values and contexts are opaque and used through accessors.
**
** Ownership: the caller owns the engine handle (sluice_close frees it); the
** engine owns every value passed to a callback or a function, valid only
** during the call; an error message returned through errmsg is the caller's
** to free().  Result setters say whether they copy.
**
** Versioning: functions are only ever added (a changed contract gets a new
** name with a _v2 suffix).  SLUICE_VERSION_NUMBER is MAJOR*1000000 +
** MINOR*1000 + PATCH.  Extensions are versioned apart, by
** SLUICE_API_VERSION (below): an extension built against an older version
** keeps loading.
*/
#ifndef SLUICE_H
#define SLUICE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SLUICE_VERSION "0.1.0"
#define SLUICE_VERSION_NUMBER 1000

typedef struct sluice sluice;         /* an engine: catalog, settings, queries */
typedef struct sl_value sluice_value; /* a dynamically typed value */

/* Storage classes, numbered as SQLite's (plus VECTOR). */
#define SLUICE_NULL 0
#define SLUICE_INTEGER 1
#define SLUICE_FLOAT 2
#define SLUICE_TEXT 3
#define SLUICE_BLOB 4
#define SLUICE_VECTOR 5

/* ===== Embedding ========================================================== */

/* Open a fresh engine with the built-in functions and connectors.  Never
** returns NULL (out of memory aborts). */
sluice *sluice_open(void);
/* Stop every query, free the engine and everything it owns (the destroy
** callbacks of loaded functions run here, then the libraries are closed). */
void sluice_close(sluice *db);

/* Called once per result row of a statement that returns rows.  names and
** row have ncol entries; both are valid only during the call.  Return 0 to go
** on, non-zero to stop this statement (sluice_exec then returns 0). */
typedef int (*sluice_row_cb)(void *ud, int ncol, const char *const *names, sluice_value **row);

/* Run every statement of sql in order, to completion: a continuous query on
** an unbounded source runs until the source ends or the engine is
** interrupted (sluice_interrupt).  Rows of a SELECT without INTO go to cb (if
** cb is NULL they are dropped).  Returns 0, or non-zero on the first failing
** statement, with a message "line:col: ..." in *errmsg (caller frees; errmsg
** may be NULL). */
int sluice_exec(sluice *db, const char *sql, sluice_row_cb cb, void *ud, char **errmsg);

/* Ask running statements to stop soon (safe from a signal handler). */
void sluice_interrupt(sluice *db);

/* ===== Values (arguments of functions, cells of result rows) ================ */

/* The storage class of v (SLUICE_NULL ...). */
int sluice_value_type(sluice_value *v);
/* v as a 64-bit integer / a double, with SQLite's conversions (NULL is 0,
** text is read as a number prefix, a REAL is truncated toward zero). */
int64_t sluice_value_int64(sluice_value *v);
double sluice_value_double(sluice_value *v);
/* NUL-terminated text of v (numbers rendered as SQLite renders them); *n gets
** the length if n is not NULL.  Valid until v changes.  NULL for a NULL. */
const char *sluice_value_text(sluice_value *v, size_t *n);
/* The bytes of a BLOB or TEXT as they are (not NUL-terminated), or of a
** number's text; *n gets the length.  NULL for a NULL.  Valid during the call. */
const void *sluice_value_blob(sluice_value *v, size_t *n);
/* The elements of a VECTOR (*n of them), or NULL when v is not a VECTOR. */
const double *sluice_value_vector(sluice_value *v, size_t *n);

/* ===== C functions (extensions) ============================================ */

/* The extension API version this header describes.  History:
**   1  scalar and aggregate functions, settings, errors.
**   2  the batch form of a function (sluice_function.batch, sluice_batch_*).
** An extension is built for SLUICE_USE_API_VERSION (by default the newest);
** define it to an older number to build against that version's layout.  The
** engine loads extensions of every version from 1 to its own. */
#define SLUICE_API_VERSION 2
#ifndef SLUICE_USE_API_VERSION
#define SLUICE_USE_API_VERSION SLUICE_API_VERSION
#endif

typedef struct sl_fctx sluice_context; /* one call of a function in progress */
typedef struct sluice_ext sluice_ext;  /* an extension being loaded */
typedef struct sluice_api sluice_api;  /* the engine's table of functions */

/* A scalar function, or an aggregate's step / inverse: argv[0 .. argc-1] are
** the arguments, owned by the engine and valid during the call (accessors
** may convert them in place).  Set the result with one sluice_result_*();
** none means NULL.  sluice_result_error() fails the record being processed:
** it is rejected (counted and logged like any bad record) and the query goes
** on. */
typedef void (*sluice_scalar_fn)(sluice_context *ctx, int argc, sluice_value **argv);
/* An aggregate's value (the current result, state kept) or final (the
** result; releases what the state owns). */
typedef void (*sluice_final_fn)(sluice_context *ctx);
/* The batch form: one call for nrow rows.  Arguments are columns read with
** sluice_batch_double() / sluice_batch_int64() / sluice_batch_value(); the
** results are written through sluice_batch_result_double() (or _int64), or
** row by row with sluice_batch_row() and the sluice_result_* setters. */
typedef void (*sluice_batch_fn)(sluice_context *ctx, int nrow, int argc);

/* sluice_function.flags */
#define SLUICE_DETERMINISTIC 0x01 /* same arguments, same result: may be computed once */

/* What sluice_create_function registers.  A scalar function sets scalar,
** batch or both (the engine uses the batch form where it evaluates a whole
** batch of rows, a one-row batch where it has a single row, and scalar when
** given); an aggregate sets step and final, and may set inverse and value. */
typedef struct sluice_function {
  const char *name; /* the SQL name (letters, digits, '_'; case-insensitive); copied */
  int nargs;        /* number of arguments, or -1 for any number */
  unsigned flags;   /* SLUICE_DETERMINISTIC */
  void *user;       /* returned by sluice_user_data(); the engine does not own it */
  /* Called once with `user` when the engine closes (sluice_close, end of the
  ** program), after every query has stopped; NULL when nothing to free. */
  void (*destroy)(void *user);
  sluice_scalar_fn scalar;  /* scalar: the result of one row */
  sluice_scalar_fn step;    /* aggregate: add one row to the group's state */
  sluice_scalar_fn inverse; /* aggregate: remove the oldest row (sliding frames), or NULL */
  sluice_final_fn value;    /* aggregate: the current result, or NULL */
  sluice_final_fn final;    /* aggregate: the result; frees what the state owns */
  size_t state_size;        /* aggregate: bytes of per-group state, zeroed at the start */
  const char *doc;          /* one line for SHOW FUNCTIONS, or NULL; copied */
#if SLUICE_USE_API_VERSION >= 2
  sluice_batch_fn batch; /* scalar: the batch form, or NULL */
#endif
} sluice_function;

/* The entry point: a library exports
**     int sluice_extension_init(sluice_ext *ext, const sluice_api *api);
** which starts with SLUICE_EXTENSION_INIT(ext, api), registers its
** functions and returns 0, or returns non-zero after sluice_extension_error()
** (nothing it registered is kept then). */
typedef int (*sluice_extension_init_fn)(sluice_ext *ext, const sluice_api *api);

/* Register a function (call it from the entry point).  def is read during
** the call only.  A function with the name and argument count of an
** existing one replaces it.  Returns 0, or -1 (bad definition: the message
** is the extension's error, and loading fails). */
int sluice_create_function(sluice_ext *ext, const sluice_function *def);
/* The text of the engine setting `name` (SET name = '...' before LOAD), or
** NULL when unset: how an extension is configured.  Valid during the entry
** point. */
const char *sluice_extension_setting(sluice_ext *ext, const char *name);
/* Why loading failed (printf-style); the entry point then returns non-zero. */
void sluice_extension_error(sluice_ext *ext, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Declare the API version the extension is built for (SLUICE_EXTENSION_INIT
** does it).  Returns 0, or -1 when this engine cannot load that version. */
int sluice_extension_declare(sluice_ext *ext, int api_version);

/* The `user` pointer of the function's definition. */
void *sluice_user_data(sluice_context *ctx);
/* An aggregate's per-group state: state_size bytes, zeroed when the group
** starts, kept by the engine between calls.  Pointers stored in it are the
** aggregate's to free in final. */
void *sluice_aggregate_state(sluice_context *ctx);

/* Results.  Each replaces the previous result of the call. */
void sluice_result_null(sluice_context *ctx);
void sluice_result_int64(sluice_context *ctx, int64_t i);
/* A NaN becomes NULL, as in SQLite. */
void sluice_result_double(sluice_context *ctx, double r);
/* Copies n bytes of z; z stays the caller's. */
void sluice_result_text(sluice_context *ctx, const char *z, size_t n);
/* Borrows z: it must stay unchanged while the extension is loaded (a string
** constant, or the extension's own tables).  No copy. */
void sluice_result_static_text(sluice_context *ctx, const char *z, size_t n);
/* Copies n bytes of z / n doubles of x / the value v. */
void sluice_result_blob(sluice_context *ctx, const void *z, size_t n);
void sluice_result_vector(sluice_context *ctx, const double *x, size_t n);
void sluice_result_value(sluice_context *ctx, sluice_value *v);
/* Fail the call (the record; in a batch, the row chosen by sluice_batch_row)
** with a message (printf-style, copied). */
void sluice_result_error(sluice_context *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#if SLUICE_USE_API_VERSION >= 2
/* Batch form (version 2).  Argument `arg` of every row as nrow doubles /
** integers (SQLite's conversions; a NULL is NaN / 0), converted once per
** call; owned by the engine, valid during the call. */
const double *sluice_batch_double(sluice_context *ctx, int arg);
const int64_t *sluice_batch_int64(sluice_context *ctx, int arg);
/* Argument `arg` of row `row` as a value. */
sluice_value *sluice_batch_value(sluice_context *ctx, int arg, int row);
/* Room for the nrow results as doubles (NaN is NULL) / integers, to fill;
** owned by the engine.  Use one of these or sluice_batch_row, not both. */
double *sluice_batch_result_double(sluice_context *ctx);
int64_t *sluice_batch_result_int64(sluice_context *ctx);
/* Make the sluice_result_* setters (and sluice_result_error) apply to row
** `row` of the batch. */
void sluice_batch_row(sluice_context *ctx, int row);
#endif

/* Load the extension at path into db, as `LOAD 'path'` does (the load_path
** setting applies).  Returns 0, or non-zero with a message in *errmsg. */
int sluice_load_extension(sluice *db, const char *path, char **errmsg);
/* Run the entry point of an extension linked into the program (no shared
** library); name is what error messages call it. */
int sluice_register_extension(sluice *db, const char *name, sluice_extension_init_fn init,
                              char **errmsg);

/* The table of functions an extension calls through.  Entries are only
** ever appended: an extension built for version N uses the first N parts. */
struct sluice_api {
  int version; /* the engine's SLUICE_API_VERSION */
  /* ---- version 1 ---- */
  int (*extension_declare)(sluice_ext *ext, int api_version);
  void (*extension_error)(sluice_ext *ext, const char *fmt, ...);
  const char *(*extension_setting)(sluice_ext *ext, const char *name);
  int (*create_function)(sluice_ext *ext, const sluice_function *def);
  int (*value_type)(sluice_value *v);
  int64_t (*value_int64)(sluice_value *v);
  double (*value_double)(sluice_value *v);
  const char *(*value_text)(sluice_value *v, size_t *n);
  const void *(*value_blob)(sluice_value *v, size_t *n);
  const double *(*value_vector)(sluice_value *v, size_t *n);
  void *(*user_data)(sluice_context *ctx);
  void *(*aggregate_state)(sluice_context *ctx);
  void (*result_null)(sluice_context *ctx);
  void (*result_int64)(sluice_context *ctx, int64_t i);
  void (*result_double)(sluice_context *ctx, double r);
  void (*result_text)(sluice_context *ctx, const char *z, size_t n);
  void (*result_static_text)(sluice_context *ctx, const char *z, size_t n);
  void (*result_blob)(sluice_context *ctx, const void *z, size_t n);
  void (*result_vector)(sluice_context *ctx, const double *x, size_t n);
  void (*result_value)(sluice_context *ctx, sluice_value *v);
  void (*result_error)(sluice_context *ctx, const char *fmt, ...);
  /* ---- version 2 ---- */
  const double *(*batch_double)(sluice_context *ctx, int arg);
  const int64_t *(*batch_int64)(sluice_context *ctx, int arg);
  sluice_value *(*batch_value)(sluice_context *ctx, int arg, int row);
  double *(*batch_result_double)(sluice_context *ctx);
  int64_t *(*batch_result_int64)(sluice_context *ctx);
  void (*batch_row)(sluice_context *ctx, int row);
};

#ifdef SLUICE_EXTENSION
/* In an extension every sluice_* call goes through the engine's table,
** remembered by SLUICE_EXTENSION_INIT (one pointer per library: weak, so
** every file of the library shares it; hidden, so libraries do not). */
const sluice_api *sluice_api_ __attribute__((weak, visibility("hidden")));
#define SLUICE_EXTENSION_INIT(ext, api)                                                            \
  do {                                                                                             \
    sluice_api_ = (api);                                                                           \
    if (sluice_api_->extension_declare((ext), SLUICE_USE_API_VERSION)) return 1;                   \
  } while (0)
#define sluice_extension_declare sluice_api_->extension_declare
#define sluice_extension_error sluice_api_->extension_error
#define sluice_extension_setting sluice_api_->extension_setting
#define sluice_create_function sluice_api_->create_function
#define sluice_value_type sluice_api_->value_type
#define sluice_value_int64 sluice_api_->value_int64
#define sluice_value_double sluice_api_->value_double
#define sluice_value_text sluice_api_->value_text
#define sluice_value_blob sluice_api_->value_blob
#define sluice_value_vector sluice_api_->value_vector
#define sluice_user_data sluice_api_->user_data
#define sluice_aggregate_state sluice_api_->aggregate_state
#define sluice_result_null sluice_api_->result_null
#define sluice_result_int64 sluice_api_->result_int64
#define sluice_result_double sluice_api_->result_double
#define sluice_result_text sluice_api_->result_text
#define sluice_result_static_text sluice_api_->result_static_text
#define sluice_result_blob sluice_api_->result_blob
#define sluice_result_vector sluice_api_->result_vector
#define sluice_result_value sluice_api_->result_value
#define sluice_result_error sluice_api_->result_error
#if SLUICE_USE_API_VERSION >= 2
#define sluice_batch_double sluice_api_->batch_double
#define sluice_batch_int64 sluice_api_->batch_int64
#define sluice_batch_value sluice_api_->batch_value
#define sluice_batch_result_double sluice_api_->batch_result_double
#define sluice_batch_result_int64 sluice_api_->batch_result_int64
#define sluice_batch_row sluice_api_->batch_row
#endif
#else
/* Linked into the program (sluice_register_extension): direct calls. */
#define SLUICE_EXTENSION_INIT(ext, api)                                                            \
  do {                                                                                             \
    (void)(api);                                                                                   \
    if (sluice_extension_declare((ext), SLUICE_USE_API_VERSION)) return 1;                         \
  } while (0)
#endif

#ifdef __cplusplus
}
#endif
#endif /* SLUICE_H */
