/*
** engine.h - the engine behind the public handle `sluice`: the catalog, the
** parsed scripts it keeps alive, settings, and statement execution.
*/
#ifndef SLUICE_ENGINE_H
#define SLUICE_ENGINE_H

#include <signal.h>

#include "catalog.h"
#include "plan.h"
#include "run.h"
#include "sluice.h"

typedef struct sl_parse_node {
  sl_parse parse;
  char *sql; /* owned copy of the script text */
  struct sl_parse_node *next;
} sl_parse_node;

/* What a server (serve.c) lends the statements that concern its running
** queries.  Called from sl_engine_exec, so with whatever lock the caller
** holds while it executes.  Rows go to fn(fud, ...). */
typedef struct sl_engine_hooks {
  void *ud;
  /* SHOW QUERIES: one row per query of the server */
  void (*show_queries)(void *ud, sl_row_fn fn, void *fud);
  /* DESCRIBE name for a name the catalog does not know: 1 when name is a
  ** query (rows sent), else 0 */
  int (*describe)(void *ud, const char *name, sl_row_fn fn, void *fud);
  /* TERMINATE id (id "ALL": every running query): 0, or -1 with err set */
  int (*terminate)(void *ud, const char *id, sl_row_fn fn, void *fud, sl_err *err);
} sl_engine_hooks;

struct sluice {
  sl_catalog cat;
  sl_parse_node *parses; /* every parsed script, kept for the catalog's pointers */
  volatile sig_atomic_t interrupted;
  sl_plan *planning;            /* deferred mode: the script's queries, planned so far */
  sl_run *pending;              /* deferred mode: the last script's queries, ready to start */
  int nquery;                   /* queries planned so far (for ids q1, q2, ...) */
  int vm_trace;                 /* SET vm_trace = 1 (debug builds) */
  int show_stats;               /* print per-query counts after each run */
  sl_buf stats;                 /* per-query counts of the queries run (the caller resets it) */
  struct sl_ckpt *ckpt;         /* the checkpoint store of SET state_dir, opened at the first run */
  char *ckpt_dir;               /* the directory it was opened for */
  const sl_engine_hooks *hooks; /* a server's, or NULL */
  int64_t nchange; /* statements executed that may change the catalog or plan a query */
};

/* Modes of sl_engine_exec, or-ed. */
#define SL_EXEC_DEFERRED 1 /* queries with INTO wait in db->pending; implies SL_EXEC_ATOMIC */
#define SL_EXEC_ATOMIC 2   /* the whole script or nothing (immediate mode too) */
#define SL_EXEC_PLAN_ALL 4 /* with DEFERRED (a server): every query waits, with or without INTO */

/* Execute every statement of sql.  In deferred mode (`sluice run`, serve)
** continuous queries with INTO are only planned, into one plan; when the
** script has succeeded, a run is made of it (connectors opened, checkpoints
** loaded: a failure there fails the script) and left in db->pending, to be
** started by sl_engine_run_pending or a server; every other query runs to completion
** before the next statement; with SL_EXEC_PLAN_ALL every query is only
** planned, its rows (without INTO) going to fn once it runs.  Rows of SELECTs without INTO and of
** SHOW/DESCRIBE/EXPLAIN go to fn.  Returns 0, or -1 with err set
** ("line:col: message" positions in err->line/col).
**
** All or nothing: in deferred mode, or with SL_EXEC_ATOMIC, the script runs
** under a savepoint of the catalog (catalog.h).  When a statement fails, the
** queries the script planned are freed (db->pending is NULL again), the
** catalog is rolled back - streams, tables and their rows, models and
** their versions and learning state, settings, the functions of a LOAD -
** and db->nquery and vm_trace are as before: the script changed nothing.
** Not undone are the effects of queries that already ran (rows handed to
** fn; in immediate mode a SELECT ... INTO's output) and the file an EXPORT
** MODEL wrote.  Deferred mode needs db->pending NULL on entry (callers run
** or take it after each script).  Without either mode each statement is
** all or nothing by itself; the statements before a failing one stay. */
int sl_engine_exec(sluice *db, const char *sql, int mode, sl_row_fn fn, void *ud, sl_err *err);
/* Run the queries collected in deferred mode, each source on its own thread,
** until all finish.  Returns 0 or -1 with err set. */
int sl_engine_run_pending(sluice *db, sl_err *err);
/* The checkpoint store of SET state_dir (--state-dir), opened (or reopened
** for a new directory) on first use; SET reset_state = 1 (--reset-state)
** discards what it holds when it opens.  NULL without a state directory
** (err untouched) or when it cannot be opened (err set). */
struct sl_ckpt *sl_engine_state(sluice *db, sl_err *err);
/* Send one row of ncol (at most 8) text cells to fn (a no-op when fn is
** NULL); NULL cells become NULL values.  The cells stay the caller's.
** Returns what fn returns. */
int sl_engine_text_row(sl_row_fn fn, void *ud, int ncol, const char *const *names,
                       const char *const *cells);
/* A duration setting in milliseconds: a number is milliseconds; text may
** carry a unit: '500ms', '2s', '1min'.  -1 when it is not a duration. */
int64_t sl_interval_ms(const sl_value *v);

#endif /* SLUICE_ENGINE_H */
