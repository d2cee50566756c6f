/*
** sluice.h - the public C interface of sluice, a streaming SQL engine.
**
** Embedding: open an engine, run SQL text through it, receive result rows in
** a callback.  Values are opaque and read through accessors.
**
** Ownership: the caller owns the engine handle (sluice_close frees it); the
** engine owns every value passed to a callback, valid only during the call;
** an error message returned through errmsg is the caller's to free().
**
** Versioning: functions are only ever added (a changed contract gets a new
** name with a _v2 suffix).  SLUICE_VERSION_NUMBER is MAJOR*1000000 +
** MINOR*1000 + PATCH.
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

/* Open a fresh engine with the built-in functions and connectors.  Never
** returns NULL (out of memory aborts). */
sluice *sluice_open(void);
/* Stop every query, free the engine and everything it owns. */
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

/* Value accessors, with SQLite's conversions. */
int sluice_value_type(sluice_value *v);
int64_t sluice_value_int64(sluice_value *v);
double sluice_value_double(sluice_value *v);
/* NUL-terminated text of v (numbers rendered as SQLite renders them); *n gets
** the length if n is not NULL.  Valid until v changes.  NULL for a NULL. */
const char *sluice_value_text(sluice_value *v, size_t *n);

#ifdef __cplusplus
}
#endif
#endif /* SLUICE_H */
