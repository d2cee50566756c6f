/*
** plan.h - the planner: statements to pipelines, and running them.
**
** A run (sl_run) is a set of continuous queries started together.  Each
** query is a chain of operators (operator.h); each source is driven by a
** task that reads records, decodes them into rows of the source's schema and
** pushes batches into the chain.  A named stream read by several queries in
** one run gets one task whose chain ends in a fanout to every reader, so it
** is computed once.  The planner binds names while it builds the chains;
** decoders are created when the run starts, once every query has told an
** open (schemaless) source which fields it needs.
*/
#ifndef SLUICE_PLAN_H
#define SLUICE_PLAN_H

#include "catalog.h"
#include "operator.h"

typedef struct sl_run sl_run;
typedef struct sl_query sl_query;
struct sluice;

/* A new, empty run of the engine db. */
sl_run *sl_run_new(struct sluice *db);
/* Plan a SELECT statement (stmt->select) as a query of the run.  Rows of a
** SELECT without INTO go to fn(ud, ...).  Returns the query (owned by the
** run), or NULL with err set (line:column of the offending name). */
sl_query *sl_plan_query(sl_run *run, const sl_stmt *stmt, sl_row_fn fn, void *ud, sl_err *err);
/* Output columns of a planned query (names owned by the query). */
int sl_query_columns(const sl_query *q, const char *const **names, const uint8_t **affs);
/* Start every task of the run and wait until all have finished (bounded
** sources ended, a consumer stopped, an error, or an interrupt).  With
** threaded != 0 each task runs on its own thread.  Returns 0, or -1 with the
** first task error in err ("q1: data.json:3: ..."). */
int sl_run_execute(sl_run *run, int threaded, sl_err *err);
/* Ask the tasks of run (only this run) to stop as an interrupt does; safe
** from another thread while sl_run_execute runs; it then returns 0. */
void sl_run_stop(sl_run *run);
/* Append the EXPLAIN text of every query of the run. */
void sl_run_explain(sl_run *run, sl_buf *out);
/* Append "q1: 10 in, 9 out, 1 rejected" lines, one per query. */
void sl_run_stats(sl_run *run, sl_buf *out, int64_t *rejected_total);
int sl_run_nqueries(const sl_run *run);
/* Load the run's checkpoints (a state directory) and settle what its tasks
** read of the catalog, without starting anything: a server calls it while
** it holds the catalog, then sl_run_execute on another thread.  Idempotent;
** sl_run_execute calls it when nobody did.  0, or -1 with err set. */
int sl_run_prepare(sl_run *run, sl_err *err);
/* Mark run as never checkpointed (a server's interactive SELECT). */
void sl_run_set_transient(sl_run *run);

/* ---- one query of a running run, for a server (any thread) ---- */
enum { SL_QUERY_RUNNING, SL_QUERY_FINISHED, SL_QUERY_FAILED, SL_QUERY_TERMINATED };
#define SL_LAT_NB 12
/* Upper bounds (seconds) of the batch latency histogram's buckets; the
** last is +Inf. */
extern const double sl_lat_bounds[SL_LAT_NB];
typedef struct sl_query_info {
  const char *id;  /* "q3" (owned by the run) */
  const char *sql; /* its statement's text, sqllen bytes (not terminated) */
  int sqllen;
  int sink;          /* it writes INTO a sink (else rows go to a callback) */
  int state;         /* SL_QUERY_* */
  const char *error; /* why it failed (owned by the run), else NULL */
  int64_t in, out, rejected, bytes_in, bytes_out, groups;
  int64_t lag;             /* consumer lag of its Kafka sources, -1 unknown */
  int64_t ckpt_age_ms;     /* since its source's last checkpoint, -1 none */
  uint64_t lat[SL_LAT_NB]; /* batches by decode + push time (not cumulative) */
  int64_t lat_us, nbatch;
} sl_query_info;
/* How many queries the caller planned into run (sl_plan_query), and a
** snapshot of query i of them, read while the run's tasks run: counters are
** read without stopping them (each exact, not all at one instant). */
int sl_run_ntop(const sl_run *run);
void sl_run_query_info(sl_run *run, int i, sl_query_info *qi);
/* Terminate one query of run, by id, while the run goes on: it gets no more
** rows, its sink flushes what it has, and a task that feeds only
** terminated queries stops as after an interrupt (checkpointed).  Safe from
** any thread.  1 if run has that query, else 0. */
int sl_run_terminate(sl_run *run, const char *id);
struct sl_options;
/* Evaluate the arguments of a call (a connector's, or CREATE MODEL ... WITH)
** into options: constants only; positional arguments are named "0", "1"...
** Returns 0, or -1 with err set (o may hold some options: free it). */
int sl_call_options(struct sluice *db, const sl_call *call, struct sl_options *o, sl_err *err);
void sl_run_free(sl_run *run);

/* conn_table.c: a source over a copy of a table's rows as they are now, or
** (t == NULL) over one empty row, which is what a SELECT without FROM
** evaluates. */
sl_source *sl_table_source_new(const sl_table *t);

/* Count a rejected record and log the first few to stderr with the query id
** and the record's position. */
void sl_log_reject(sl_stats *st, const char *qname, sl_source *src, const sl_record *rec,
                   const char *why);

#endif /* SLUICE_PLAN_H */
