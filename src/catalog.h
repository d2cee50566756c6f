/*
** catalog.h - what an engine knows by name: streams, tables, functions and
** settings.
**
** Streams and tables keep pointers into the parsed scripts that defined them;
** the engine keeps every parsed script alive for its own lifetime, so those
** pointers stay valid.  Tables hold their rows as owned values (they are
** small: lookup data, test fixtures).
**
** Savepoints: between sl_catalog_savepoint and sl_catalog_release or
** sl_catalog_rollback, every change made through these functions records
** how to undo it in a journal: an added object is removed again, a dropped
** one is only moved aside (freed at release, put back in its place at
** rollback), inserted rows are cut off, settings get their old values back,
** a model version swapped out is kept to be swapped back into the same slot
** (queries holding the slot go on with it), a trainable model's learning
** state is saved before a query may train it, and a LOAD's functions leave
** the function table again (those they replaced come back) before the
** library is unloaded.  A rollback undoes in reverse order, so the catalog
** is as it was at the savepoint, list order included.  One savepoint at a
** time; the engine takes one per script or per statement (engine.h).
*/
#ifndef SLUICE_CATALOG_H
#define SLUICE_CATALOG_H

#include "ast.h"
#include "format.h"

typedef struct sl_table {
  char *name;       /* owned */
  sl_schema schema; /* declared columns */
  sl_value *rows;   /* nrow * schema.ncol owned values */
  int nrow, cap;
  struct sl_table *next;
  int pk;    /* 1 + the index of its PRIMARY KEY column, 0 when it has none */
  int ipk;   /* that column is an INTEGER PRIMARY KEY: a NULL there gets max + 1 */
  char *sql; /* the statement that created it (owned), or NULL */
} sl_table;

typedef struct sl_stream {
  char *name;         /* owned */
  const sl_stmt *def; /* the CREATE STREAM/VIEW statement (in a kept parse) */
  sl_schema schema;   /* its columns: declared, open (schemaless source) or the select's */
  struct sl_stream *next;
  int view; /* made by CREATE VIEW (dropped by DROP VIEW; never written to) */
} sl_stream;

typedef struct sl_setting {
  char *name; /* owned, lower case */
  sl_value value;
  struct sl_setting *next;
} sl_setting;

typedef struct sl_model_slot sl_model_slot;
typedef struct sl_model sl_model;

struct sluice_ext;
typedef struct sl_undo sl_undo; /* one journal entry (catalog.c) */

typedef struct sl_catalog {
  sl_model_slot **models; /* one reference each (model.h) */
  int nmodel;
  sl_table *tables;
  sl_stream *streams;
  sl_setting *settings;
  sl_functab *funcs;
  struct sluice_ext *exts; /* loaded extensions (extension.c), owning their functions */
  unsigned fixed;          /* bit i: setting i (settings.h) was fixed by the command line */
  int saving;              /* a savepoint is open: changes are journaled */
  sl_undo *journal;        /* its undo entries, the latest first (owned) */
} sl_catalog;

void sl_catalog_init(sl_catalog *c);
void sl_catalog_free(sl_catalog *c);
sl_table *sl_catalog_table(sl_catalog *c, const char *name);
sl_stream *sl_catalog_stream(sl_catalog *c, const char *name);
/* Add a table/stream (the name must be free). */
sl_table *sl_catalog_add_table(sl_catalog *c, const char *name);
sl_stream *sl_catalog_add_stream(sl_catalog *c, const char *name, const sl_stmt *def);
/* Remove by name; returns 1 if something was removed. */
int sl_catalog_drop_table(sl_catalog *c, const char *name);
int sl_catalog_drop_stream(sl_catalog *c, const char *name);
/* Settings, by name (any case; settings.h checks names and values): set
** (copying v; v NULL removes the setting) and get (NULL when unset). */
void sl_catalog_set(sl_catalog *c, const char *name, const sl_value *v);
const sl_value *sl_catalog_get(sl_catalog *c, const char *name);
/* Models: find a slot by name (NULL if none); add a model under a new name
** or swap it into the existing slot (takes m's reference); drop by name
** (1 if removed; running queries keep their reference). */
sl_model_slot *sl_catalog_model(sl_catalog *c, const char *name);
void sl_catalog_put_model(sl_catalog *c, const char *name, sl_model *m);
/* Add a slot under its name, taking its reference (the name must be free). */
void sl_catalog_add_model(sl_catalog *c, sl_model_slot *s);
int sl_catalog_drop_model(sl_catalog *c, const char *name);
/* Append a row to the catalog's table t (as sl_table_insert; journaled). */
void sl_catalog_insert(sl_catalog *c, sl_table *t, sl_value *row);
/* Replace all the rows of the catalog's table t by rows (nrow * ncol owned
** values in an array of room for cap rows, malloc'd; taken), for UPDATE and
** DELETE: the old array is journaled whole (a rollback puts it back), or
** freed when no savepoint is open. */
void sl_catalog_set_rows(sl_catalog *c, sl_table *t, sl_value *rows, int nrow, int cap);
/* Functions: add f to the function table, replacing the entry with its name
** and nargs (journaled: a rollback takes f out and puts that entry back).
** f must outlive the table (static, or owned by an extension). */
void sl_catalog_add_func(sl_catalog *c, const sl_func *f);
/* Extension x has just joined c->exts (extension.c): a rollback unloads it
** (sl_ext_unload) after its functions have left the table. */
void sl_catalog_note_ext(sl_catalog *c, struct sluice_ext *x);
/* A query is about to run that may train the trainable model of slot s:
** under a savepoint, its learning state is saved (once per savepoint) so
** that a rollback restores it and its version. */
void sl_catalog_note_training(sl_catalog *c, sl_model_slot *s);

/* Open a savepoint (none may be open).  Until it is released or rolled
** back, the catalog functions above journal their changes. */
void sl_catalog_savepoint(sl_catalog *c);
/* Undo everything journaled since the savepoint, latest first, and close
** it.  What a rollback frees (added objects, a LOAD's library) must not be
** in use: the caller has freed the queries planned since the savepoint. */
void sl_catalog_rollback(sl_catalog *c);
/* Keep the changes and close the savepoint: objects dropped since are
** freed now (a model slot only loses the catalog's reference), versions
** swapped out are released. */
void sl_catalog_release(sl_catalog *c);

/* Free a table that is not in a catalog (its rows and schema); NULL is a no-op. */
void sl_table_free(sl_table *t);
/* Append a row (ncol values copied, column affinity applied). */
void sl_table_insert(sl_table *t, sl_value *row);

#endif /* SLUICE_CATALOG_H */
