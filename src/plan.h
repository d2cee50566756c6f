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
struct sl_options;
/* Evaluate the arguments of a call (a connector's, or CREATE MODEL ... WITH)
** into options: constants only; positional arguments are named "0", "1"...
** Returns 0, or -1 with err set (o may hold some options: free it). */
int sl_call_options(struct sluice *db, const sl_call *call, struct sl_options *o, sl_err *err);
void sl_run_free(sl_run *run);

/* conn_table.c: a source over a table's rows, or (t == NULL) over one empty
** row, which is what a SELECT without FROM evaluates. */
sl_source *sl_table_source_new(const sl_table *t);

/* Count a rejected record and log the first few to stderr with the query id
** and the record's position. */
void sl_log_reject(sl_stats *st, const char *qname, sl_source *src, const sl_record *rec,
                   const char *why);

#endif /* SLUICE_PLAN_H */
