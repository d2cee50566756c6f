/*
** engine.h - the engine behind the public handle `sluice`: the catalog, the
** parsed scripts it keeps alive, settings, and statement execution.
*/
#ifndef SLUICE_ENGINE_H
#define SLUICE_ENGINE_H

#include <signal.h>

#include "catalog.h"
#include "plan.h"
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
  sl_run *pending;              /* deferred mode: queries collected to start together */
  int nquery;                   /* queries planned so far (for ids q1, q2, ...) */
  int vm_trace;                 /* SET vm_trace = 1 (debug builds) */
  int show_stats;               /* print per-query counts after each run */
  sl_buf stats;                 /* per-query counts of the queries run (the caller resets it) */
  struct sl_ckpt *ckpt;         /* the checkpoint store of SET state_dir, opened at the first run */
  char *ckpt_dir;               /* the directory it was opened for */
  const sl_engine_hooks *hooks; /* a server's, or NULL */
};

/* Execute every statement of sql.  In deferred mode (1) continuous queries
** with INTO are only planned into db->pending (started together by
** sl_engine_run_pending); every other query runs to completion before the
** next statement.  In mode 2 (a server) every query is only planned into
** db->pending, with or without INTO.  Rows of
** SELECTs without INTO and of SHOW/DESCRIBE/EXPLAIN go to fn.  Returns 0, or
** -1 with err set ("line:col: message" positions in err->line/col). */
int sl_engine_exec(sluice *db, const char *sql, int deferred, sl_row_fn fn, void *ud, sl_err *err);
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
