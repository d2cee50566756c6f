/*
** plan.h - the planner: statements to plans (plan.c, plan_expr.c,
** plan_group.c, plan_join.c).
**
** A plan is what a set of continuous queries started together will do,
** decided and checked in full before anything runs: per query, the chain
** of operator specs (operator.h: compiled programs and parameters) and
** where its rows go; per source, the connector call that will open it (its
** options evaluated and checked) and the schema the queries bound against;
** per named stream read by several queries, one source computed once and
** fanned out.  Planning does no I/O and starts nothing: connectors are
** checked with check_only (connector.h), which contacts no broker and opens
** no file but to read a schema's local metadata (a CSV header, a SQLite
** table's columns); so EXPLAIN, which prints a plan, answers at once.
**
** The runtime (run.h) reads a plan's structures below to make live
** operators and tasks, and calls nothing of the planner.  A plan is
** immutable once planned, and outlives every run made of it.
*/
#ifndef SLUICE_PLAN_H
#define SLUICE_PLAN_H

#include "catalog.h"
#include "operator.h"

/* What the planner reads of the engine: the catalog (streams, tables,
** models, functions, settings; the caller holds it while planning) and the
** engine's query counter, which gives queries their ids (q1, q2, ...). */
typedef struct sl_plan_ctx {
  sl_catalog *cat;
  int *nquery;
  const struct sl_auth *auth; /* the engine's authorizer, handed to every connector call */
  /* 1: the plan only checks a CREATE STREAM's SELECT and learns its columns
  ** (never run): a ranking over a stream that only a Top-N reader plans
  ** (FROM s WHERE rn <= N) is checked as a Top-N */
  int defining;
} sl_plan_ctx;

/* Where a source's batches go first. */
typedef enum sl_head_kind {
  SL_HEAD_QUERY,  /* the first operator of query `index` */
  SL_HEAD_STREAM, /* the fanout of stream `index` */
  SL_HEAD_PORT    /* the second input (sl_operator.port) of query `index`'s first operator */
} sl_head_kind;

/* One source of a plan: a task of a run reads it. */
typedef struct sl_psource {
  char *name;               /* the query id or stream name it was planned for (owned) */
  char fp[17];              /* fingerprint of the statement that made it (checkpoints) */
  const sl_connector *conn; /* the connector to open, or NULL for a table snapshot */
  sl_options opts;          /* its call's options, evaluated (owned) */
  int line, col;            /* where the call was written, for errors when it opens */
  int declared;             /* it was opened with a CREATE STREAM's columns: a run opens it
                               with desc's schema as the declared columns */
  sl_table *table;   /* conn NULL: the rows to read (owned copy), or NULL for one empty row */
  sl_source *desc;   /* the source as checked, never read: its vtable, format, options and
                        the schema queries bind against (open schemas grow) (owned) */
  char *app_id;      /* SET application_id when it was planned, or NULL (owned) */
  int batch;         /* records per batch */
  int64_t commit_ms; /* how often its positions are committed */
  int fail_on_error; /* errors => 'fail' */
  int utf8_reject;   /* SET invalid_utf8 = 'reject': text not UTF-8 rejects the record */
  /* dlq => sink(...): the dead-letter sink's connector and its evaluated,
  ** checked options (owned), or NULL */
  const sl_connector *dlq_conn;
  sl_options dlq_opts;
  sl_head_kind head;
  int head_index;
  int *tops; /* the caller's queries it feeds (indexes into queries) (owned) */
  int ntop;
  /* SET parallelism as it applies to this source (sl_plan_query): the
  ** most parallel tasks a run divides it among (1: one task), each with its
  ** own copy of its query's operators but the sink, which they share; a
  ** file is cut into chunks of min_split bytes, claimed by the tasks */
  int parallel;
  int64_t min_split;
  /* why it runs as one task although parallelism asks for more (static
  ** text, for EXPLAIN), or NULL */
  const char *serial_why;
  /* >= 0 when its parallel tasks meet at an exchange (op_exchange.c): the
  ** index, in its query's operators, of the GROUP BY they are cut before;
  ** -1 when each task runs every operator (a query without state) */
  int exchange_at;
  /* the query its parallel tasks run (parallel > 1): the one it feeds, or
  ** the one reader of the plain stream it feeds (CREATE STREAM s (...)
  ** FROM ..., read by one query alone), which its tasks then feed
  ** directly instead of through the stream's fanout; -1 otherwise */
  int par_query;
} sl_psource;

/* One query of a plan: the caller's (sl_plan_query) or a stream's own. */
/* The kinds of rows a query's output (or a query's input) carries
** (sl_batch.ops): inserts only, or every kind (sl_rowkind), a take-back
** giving the values of a row given before.  The planner follows it from
** sources and streams through every query; an operator that cannot fold
** take-backs in refuses an updating input when the query is planned. */
typedef enum sl_changes { SL_APPEND_ONLY = 0, SL_UPDATING = 1 } sl_changes;

typedef struct sl_pquery {
  char *id;        /* "q1", or a stream's name for its own query (owned) */
  const char *sql; /* its statement's text (borrowed from the engine's kept parse) */
  int sqllen;
  char fp[17];    /* fingerprint of its statement (checkpoints) */
  int top;        /* planned by the caller, not a stream's own query */
  sl_opspec *ops; /* the chain, in order (owned) */
  int nops;
  int out_stream; /* >= 0: the chain goes on into that stream's fanout */
  int into;       /* it writes INTO a sink */
  int source;     /* the source feeding it, directly or through streams */
  int source2;    /* an interval join's right input, or -1 */
  int in_stream;  /* >= 0: the stream whose fanout feeds its first operator */
  int in_stream2; /* >= 0: the stream whose fanout feeds its first operator's port */
  int ncol;
  char **names;  /* output column names (owned) */
  uint8_t *affs; /* output column affinities (owned) */
  /* SET max_query_memory when it was planned: bytes, 0 no limit */
  int64_t max_mem;
  sl_changes changes; /* what its output carries (set by the operator that makes it updating) */
  /* 1 + the output column that is PROCTIME() (its processing-time
  ** attribute), 0 none */
  int proctime1;
  /* an updating output's key: the columns naming the row each change is
  ** of (a running GROUP BY's keys), which a Kafka sink writes as message
  ** keys (upserts) (owned), or NULL when not all of them are columns */
  int *key_cols;
  int nkey_cols;
  /* per output column: 1 for a window bound (window_start, window_end of
  ** TUMBLE or HOP windows, closed in order) or a column taken from one,
  ** whose values never go down along the output; NULL: none (owned) */
  unsigned char *wtime;
  /* a query planned as two through a repartition topic (plan_repart.c):
  ** stage 1 (the source to the topic) or 2 (the topic to the GROUP BY and
  ** the sink), else 0; ident, the identity of the query as written (both
  ** stages' sources are named by it); stage_of, stage 1's: the id of its
  ** stage 2, the query as the user knows it (owned); repart_topic, the
  ** topic (owned) */
  int stage;
  char ident[17];
  char *stage_of;
  char *repart_topic;
} sl_pquery;

/* A named stream read in this plan: one fanout to its readers. */
typedef struct sl_pstream {
  const sl_stream *def;
  int source;       /* its source (its own query's, for AS SELECT streams) */
  int query;        /* its own query (AS SELECT), or -1 */
  int64_t lateness; /* its WATERMARK's allowed lateness (ms) */
  sl_schema own;    /* an AS SELECT stream's columns */
  int nreader;
  /* a nest subquery's stream (plan_join.c, planning only): the FROM items
  ** whose columns its rows hold, in the plan's arena, else NULL */
  const struct sl_bind_tab *tabs;
  int ntabs;
} sl_pstream;

struct sl_outer;
struct sl_subq_rows;

/* A subquery of a plan (plan_subquery.c): (SELECT ...), EXISTS, IN
** (SELECT ...), or an arm of a compound SELECT.  It is planned as a plan of
** its own with one query whose rows are collected; a run evaluates it by
** making a run of that plan (run_subq.c), on the thread of the query that
** reads it: once for an uncorrelated one, per outer row (cached by the
** outer values) for a correlated one, whose programs read the outer values
** with OP_Param. */
typedef struct sl_psubq {
  struct sl_plan *plan; /* its own plan (owned) */
  int id;               /* its number, for EXPLAIN: "subquery 2" */
  /* the outer values it reads, pushed as its frame when it runs; -1: a
  ** compound's arm, reading the frame its compound runs in */
  int nparam;
  int ncol;
  int query; /* its query's index in plan */
  int need;  /* rows it needs: 1 for a scalar or EXISTS, 0 all */
  /* the outer values it reads, bound in the enclosing query (owned: the
  ** list, its array and each expression) */
  struct sl_exprlist *refs;
  /* where the rows of its current run go: set by the runner around a run
  ** (the one thing of a plan written while it runs, by the thread running
  ** the query that reads it) */
  struct sl_subq_rows *out;
} sl_psubq;

typedef struct sl_plan {
  sl_plan_ctx ctx;
  sl_psource **sources;
  int nsource;
  sl_pquery **queries;
  int nquery;
  sl_pstream **streams;
  int nstream;
  sl_arena arena; /* expressions made while planning (an expanded *) */
  char fp[17];    /* fingerprint of the statement being planned */
  /* the subqueries its queries read (owned) */
  sl_psubq **subqs;
  int nsubq;
  /* while a subquery's plan is planned: the enclosing query's scope, where
  ** columns it does not have are looked up (borrowed), else NULL */
  struct sl_outer *outer;
  /* numbers subqueries across nested plans (EXPLAIN): the top plan's
  ** subq_count, or its own when NULL */
  int *subq_counter;
  int subq_count;
} sl_plan;

/* A new, empty plan reading ctx (copied; its pointers borrowed). */
sl_plan *sl_plan_new(const sl_plan_ctx *ctx);
/* Plan a SELECT statement (stmt->select) as a query of plan.  Rows of a
** SELECT without INTO go to fn(ud, ...) once a run of the plan runs.
** Returns the query's index, or -1 with err set (line:column of the
** offending name); on failure the plan may hold part of the query, so the
** caller frees it. */
int sl_plan_query(sl_plan *plan, const sl_stmt *stmt, sl_row_fn fn, void *ud, sl_err *err);
/* Plan sel as the one query of plan (a subquery's own plan), its rows to
** fn(ud, ...).  The query's index, or -1 with err set. */
int sl_plan_select_rows(sl_plan *plan, const sl_select *sel, const char *id, sl_row_fn fn, void *ud,
                        sl_err *err);
/* The identity of the queries source i of plan feeds, into out (16 hex
** digits): a fingerprint of each one's statement, normalized (layout,
** comments and the case of keywords do not count; its INTO sink does), and of
** how many queries of the plan had the same text before it.  The same
** queries give the same identity on any process and in any submission
** order; any other query gives another.  A Kafka source names its consumer
** group by it (sl_options.feeds_id). */
void sl_plan_source_identity(const sl_plan *plan, int i, char out[17]);
/* Append (each with a leading ", ") what EXPLAIN says of source i of plan
** besides its format and columns: a Kafka source's consumer group. */
void sl_plan_source_detail(const sl_plan *plan, int i, sl_buf *out);
/* Append the EXPLAIN text of every query of plan. */
void sl_plan_explain(const sl_plan *plan, sl_buf *out);
/* How many queries the caller planned (streams' own not counted). */
int sl_plan_ntop(const sl_plan *plan);
void sl_plan_free(sl_plan *plan);

/* Evaluate the arguments of a call (a connector's, or CREATE MODEL ... WITH)
** into options: constants only; positional arguments are named "0", "1"...
** Returns 0, or -1 with err set (o may hold some options: free it). */
int sl_call_options(sl_functab *funcs, const sl_call *call, sl_options *o, sl_err *err);

#endif /* SLUICE_PLAN_H */
