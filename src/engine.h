/*
** engine.h - the engine behind the public handle `sluice`, as the command
** line, the shell and the server see it: statement execution, settings,
** the queries a deferred script planned, counts, and the hooks a server
** lends.  struct sluice itself is private to the engine (engine_int.h).
*/
#ifndef SLUICE_ENGINE_H
#define SLUICE_ENGINE_H

#include <stdint.h>

#include "plan.h"
#include "run.h"
#include "settings.h"
#include "sluice.h"

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

/* Modes of sl_engine_exec, or-ed.
**   IMMEDIATE: each statement runs (a query to its end) before the next;
**   DEFERRED: queries with INTO wait in the engine's pending run (implies ATOMIC);
**   ATOMIC: the whole script or nothing (immediate mode too);
**   PLAN_ALL: with DEFERRED (a server), every query waits, with or without INTO;
**   PLAN_ONLY: with DEFERRED, no run is made of the script's queries: they
**     are planned (their ids taken) and the plan waits for
**     sl_engine_take_plan; nothing is opened, no checkpoint read (a server
**     applying a logged submission again whose queries are not to run). */
#define SL_EXEC_IMMEDIATE 0
#define SL_EXEC_DEFERRED 1
#define SL_EXEC_ATOMIC 2
#define SL_EXEC_PLAN_ALL 4
#define SL_EXEC_PLAN_ONLY 8

/* Execute every statement of sql.  In deferred mode (`sluice run`, serve)
** continuous queries with INTO are only planned, into one plan; when the
** script has succeeded, a run is made of it (connectors opened, checkpoints
** loaded: a failure there fails the script) and kept as the engine's
** pending run, to be started by sl_engine_run_pending or taken by
** sl_engine_take_pending; every other query runs to completion before the
** next statement; with SL_EXEC_PLAN_ALL every query is only planned, its
** rows (without INTO) going to fn once it runs.  Rows of SELECTs without
** INTO and of SHOW/DESCRIBE/EXPLAIN go to fn.  Returns 0, or -1 with err set
** ("line:col: message" positions in err->line/col).
**
** All or nothing: in deferred mode, or with SL_EXEC_ATOMIC, the script runs
** under a savepoint of the catalog (catalog.h).  When a statement fails, the
** queries the script planned are freed (nothing is pending again), the
** catalog is rolled back - streams, tables and their rows, models and
** their versions and learning state, settings, the functions of a LOAD -
** and the query ids are as before: the script changed nothing.
** Not undone are the effects of queries that already ran (rows handed to
** fn; in immediate mode a SELECT ... INTO's output) and the file an EXPORT
** MODEL wrote.  Deferred mode needs nothing pending on entry (callers run
** or take it after each script).  Without either mode each statement is
** all or nothing by itself; the statements before a failing one stay.
** Clears the interrupt flag (sluice_interrupt) first. */
int sl_engine_exec(sluice *db, const char *sql, int mode, sl_row_fn fn, void *ud, sl_err *err);
/* Run the queries collected in deferred mode, each source on its own thread,
** until all finish; their counts are added to sl_engine_stats.  Returns 0 or
** -1 with err set. */
int sl_engine_run_pending(sluice *db, sl_err *err);
/* The queries collected in deferred mode, handed to the caller (who frees
** the run, or runs it: run.h); NULL when none.  Nothing is pending after. */
sl_run *sl_engine_take_pending(sluice *db);
/* The queries a SL_EXEC_PLAN_ONLY script planned, handed to the caller, who
** frees the plan (sl_plan_free) before executing anything else (it borrows
** from the catalog); NULL when none.  Nothing is pending after. */
sl_plan *sl_engine_take_plan(sluice *db);

/* SET name = text from the command line (--state-dir and the like): the
** registry's checks (settings.h), the text read as the setting's type reads
** text.  Returns 0, or -1 with err set. */
int sl_engine_set(sluice *db, const char *name, const char *text, sl_err *err);
/* From now on a SET of setting id fails: the command line fixed it. */
void sl_engine_fix_setting(sluice *db, sl_setting_id id);
/* The value of a text or path setting (settings.h: sl_setting_text), NULL
** when none; valid until the setting changes. */
const char *sl_engine_setting_text(sluice *db, sl_setting_id id);
/* The value of an integer, boolean, duration or enum setting
** (settings.h: sl_setting_int). */
int64_t sl_engine_setting_int(sluice *db, sl_setting_id id);

/* The per-query counts ("q1: 3 in, 3 out, 0 rejected\n" lines) of the
** queries run since the last sl_engine_stats_reset; "" when none.  Valid
** until the next statement executes. */
const char *sl_engine_stats(sluice *db);
void sl_engine_stats_reset(sluice *db);
/* How many statements that may change the catalog or plan a query have
** executed (SHOW, DESCRIBE, EXPLAIN and TERMINATE do not count): a caller
** compares two readings to tell whether a script changed anything. */
int64_t sl_engine_changes(const sluice *db);
/* Models in the catalog. */
int sl_engine_nmodels(const sluice *db);
/* A server's hooks for SHOW QUERIES, DESCRIBE qN and TERMINATE (NULL: none;
** h stays the caller's and must outlive its use). */
void sl_engine_set_hooks(sluice *db, const sl_engine_hooks *h);

/* The authorizer (auth.h) with a sentence for refusals (why, may be NULL):
** what a server installs for its clients.  Replaces sluice_set_authorizer's. */
void sl_engine_set_auth(sluice *db, sluice_authorizer fn, void *ud,
                        const char *(*why)(void *ud, int action, const char *target));
/* Connector properties that load code or run commands are taken from now
** on (--allow-unsafe-properties). */
void sl_engine_allow_unsafe_properties(sluice *db);

/* The checkpoint store of SET state_dir (--state-dir), opened on first use
** of each directory; SET reset_state = 1 (--reset-state) discards what it
** holds when it opens.  A store is never closed before the engine is
** (runs started with it may still hold it when state_dir changes).  NULL
** without a state directory (err untouched) or when it cannot be opened
** (err set). */
struct sl_ckpt *sl_engine_state(sluice *db, sl_err *err);
/* Send one row of ncol (at most SL_TEXT_ROW_MAX) text cells to fn (a no-op
** when fn is NULL); NULL cells become NULL values.  The cells stay the
** caller's.  Returns what fn returns. */
#define SL_TEXT_ROW_MAX 16
int sl_engine_text_row(sl_row_fn fn, void *ud, int ncol, const char *const *names,
                       const char *const *cells);

#endif /* SLUICE_ENGINE_H */
