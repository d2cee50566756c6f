/*
** operator.h - the one small vtable every operator of a pipeline implements,
** the batch of rows that flows between operators, and the spec each
** operator is planned as.
**
** A query is a chain of operators fed by a source task: the task decodes a
** batch of records into rows and pushes it into the first operator; each
** operator processes the batch and pushes its own output batch to the next
** one, synchronously.  So a batch (and everything its values borrow: record
** bytes, the producer's arena) is valid exactly for the duration of the push
** call.  Between batches the task sends ticks (processing time) and
** barriers (the commit and checkpoint protocol) down the chain: operators
** never read a clock.  The planner makes a spec per operator (sl_opspec:
** immutable, owned by the plan); a run makes the live operator from it
** (sl_op_kind.make), whose state is its own.
*/
#ifndef SLUICE_OPERATOR_H
#define SLUICE_OPERATOR_H

#include "connector.h"
#include "value.h"

/* Per-query counters, shared by the operators of one query. */
typedef struct sl_stats {
  int64_t in;                      /* records read from the source */
  int64_t out;                     /* rows delivered to the sink or caller */
  int64_t rejected;                /* records rejected: malformed or failing evaluation */
  int64_t logged;                  /* rejections logged so far (the first few are) */
  int64_t bytes_in;                /* bytes of records read */
  int64_t bytes_out;               /* bytes encoded into the sink (op_sink) */
  int64_t late;                    /* of the rejected: late for their windows */
  int64_t groups, groups_peak;     /* open groups (GROUP BY state) now and at most */
  int64_t state_bytes, state_peak; /* their memory (keys, aggregate states, kept rows) */
  /* SET max_query_memory as the query was planned (0: no limit), set by
  ** the run; over is set (and stays) once state_bytes passed it: the task
  ** that drives the query checks it after each batch and fails the query */
  int64_t mem_limit;
  int over;
  /* a join of two inputs (op_ijoin), per side (0 left, 1 right): the
  ** distinct keys it keeps records of and those records' bytes (part of
  ** state_bytes); join is set once it kept a record */
  int64_t jkeys[2], jbytes[2];
  int join;
} sl_stats;

/* A row's kind in a changelog: sl_rowkind (connector.h, where records carry
** theirs too). */

/* A batch of rows: nrow rows of ncol values, row-major.  recs (when not NULL)
** gives each row's source record, for error positions. */
typedef struct sl_batch {
  int ncol;
  int nrow;
  sl_value *rows;         /* nrow * ncol values, borrowed for the push */
  const sl_record **recs; /* per-row record, or NULL */
  sl_source *src;         /* for positions, or NULL */
  int64_t now;            /* when the task read it: ms since the epoch (processing time) */
  /* per row: its identity as an output, the same every time the input is
  ** replayed (a closed window's group), or NULL; exactly-once sinks skip
  ** outputs already written by id */
  const uint64_t *ids;
  /* per row: its sl_rowkind, or NULL when every row is an INSERT (an
  ** append-only stream's batches always have NULL here) */
  const uint8_t *ops;
} sl_batch;

typedef struct sl_operator sl_operator;

/* A barrier between two batches, sent down a chain by its task (the commit
** and checkpoint protocol, task.c).  Operators pass every barrier on; sinks
** act on them. */
typedef enum sl_barrier {
  SL_BARRIER_FLUSH, /* write and flush everything given so far (then 0 or -1) */
  SL_BARRIER_MARK,  /* note what has been given so far; does not wait */
  SL_BARRIER_CHECK, /* 1 while part of what was noted is not yet durable, else 0 */
  /* the task is stopping (interrupt, terminate): sinks may bound the
  ** flushes that follow (a broker that does not answer); does not wait */
  SL_BARRIER_STOPPING
} sl_barrier;

/* A live operator's entries.  Every entry returns 0, or -1 with err set when
** the query must stop on an error; push may also return 1 when a consumer
** asked to stop (not an error), and barrier(SL_BARRIER_CHECK) 1 while not
** durable.  Whatever a downstream call returns is passed up. */
typedef struct sl_op_vt {
  const char *name;
  /* Process one batch; push results to op->next. */
  int (*push)(sl_operator *op, sl_batch *in, sl_err *err);
  /* Processing time is now `now` (ms since the epoch): processing-time
  ** windows close, idle partitions stop holding event time.  Pass it on. */
  int (*tick)(sl_operator *op, int64_t now, sl_err *err);
  /* A barrier (see sl_barrier): pass it on; sinks write, flush, note. */
  int (*barrier)(sl_operator *op, sl_barrier what, sl_err *err);
  /* The input ended: emit what is pending, flush, pass finish downstream. */
  int (*finish)(sl_operator *op, sl_err *err);
  void (*free)(sl_operator *op); /* frees op (not op->next) */
  /* Checkpoints (optional; NULL: no state).  save appends the operator's
  ** state to out (checkpoint.h encoding) at a barrier between batches; load
  ** restores it before the first batch.  Both return 0 or -1 with err set. */
  int (*save)(sl_operator *op, sl_buf *out, sl_err *err);
  int (*load)(sl_operator *op, const void *z, size_t n, sl_err *err);
} sl_op_vt;

struct sl_operator {
  const sl_op_vt *vt;
  sl_operator *next; /* downstream, or NULL for the last operator */
  sl_stats *stats;   /* the query's counters (owned by the query) */
  const char *qname; /* query id for log lines (owned by the query) */
  /* A query's first operator (and an interval join's right port): its
  ** query's terminated flag, or NULL.  A fanout stops feeding a child whose
  ** flag is set (the other readers of the stream go on). */
  const int *halt;
  /* An operator with a second input (an interval join): the operator that
  ** input feeds (owned by this one), else NULL. */
  sl_operator *port;
};

/* 1 when op belongs to a query that was terminated on its own. */
static inline int sl_op_halted(const sl_operator *op) {
  return op->halt && __atomic_load_n(op->halt, __ATOMIC_ACQUIRE);
}

/* Push to the next operator (no-op at the end of the chain). */
static inline int sl_op_emit(sl_operator *op, sl_batch *b, sl_err *err) {
  return op->next ? op->next->vt->push(op->next, b, err) : 0;
}
/* Emit n rows of ncol values derived row by row from batch in: the
** caller's per-row records, identities and row kinds (recs, ids, ops,
** filled from in's) go with them where in has them, NULL where it has
** none; the rest (source, time) is in's.  The batch is borrowed for the
** push, as sl_op_emit's. */
static inline int sl_op_emit_derived(sl_operator *op, const sl_batch *in, int ncol, int n,
                                     sl_value *rows, const sl_record **recs, const uint64_t *ids,
                                     const uint8_t *ops, sl_err *err) {
  sl_batch b = {ncol,
                n,
                rows,
                in->recs ? recs : NULL,
                in->src,
                in->now,
                in->ids ? ids : NULL,
                in->ops ? ops : NULL};
  return sl_op_emit(op, &b, err);
}
static inline int sl_op_finish_next(sl_operator *op, sl_err *err) {
  return op->next ? op->next->vt->finish(op->next, err) : 0;
}

/* ---- operator.c: what every operator shares ---- */
/* Default tick and barrier: pass them on to op->next (0 at the end). */
int sl_op_pass_tick(sl_operator *op, int64_t now, sl_err *err);
int sl_op_pass_barrier(sl_operator *op, sl_barrier what, sl_err *err);
/* Count a rejected row of b and log the first few with their position. */
void sl_op_reject(sl_operator *op, const sl_batch *b, int row, const char *why);
/* Each row's identity as an output into ids[0..b->nrow): the batch's own
** (b->ids: a closed window), else one made of the record it came from
** (partition and position) and its rank among that record's rows; 0 when
** there is neither.  The same on every replay of the same input. */
void sl_batch_ids(const sl_batch *b, uint64_t *ids);
/* The identity of an output made of two things with identities a and b
** (a joined pair, a row and its table match): well mixed, order matters;
** 0 when either is 0 (unknown). */
uint64_t sl_id_pair(uint64_t a, uint64_t b);
/* Count a rejected record (st->rejected), send it to its source's
** dead-letter sink when it has one (src->dlq), and log the first few to
** stderr with the query or task name qname and the record's position (src
** and rec may be NULL). */
void sl_log_reject(sl_stats *st, const char *qname, sl_source *src, const sl_record *rec,
                   const char *why);
/* State accounting for --stats, metrics and max_query_memory: bytes and
** groups (or kept records) added, or removed with negative counts; peaks
** follow, and op->stats->over is set when the bytes pass the query's
** mem_limit (a compare; the task acts on it between batches). */
void sl_op_account(sl_operator *op, int64_t bytes, int64_t groups);
/* A join's side (0 left, 1 right) kept records of bytes more (fewer when
** negative), and keys more distinct keys (1: a key's first record, -1: its
** last one gone, else 0); called beside sl_op_account. */
void sl_op_account_keys(sl_operator *op, int side, int64_t bytes, int64_t keys);
/* The same for a query's counters st (NULL: nothing): what a source keeps
** for the queries it feeds (sl_source.state_bytes). */
void sl_stats_account(sl_stats *st, int64_t bytes, int64_t groups);

/* Row callback used by op_result: return non-zero to stop the query. */
typedef int (*sl_row_fn)(void *ud, int ncol, const char *const *names, sl_value **row);

/* ---- operators as planned ----------------------------------------------
** The planner describes each operator of a query by a spec (the compiled
** programs and parameters, immutable, owned by the plan) and the kind that
** reads it.  A run makes a live operator of each; several runs may make
** operators of one plan, which outlives them. */
/* What a run tells the operators it makes (borrowed, valid during make). */
typedef struct sl_make_env {
  /* the engine's interrupt flag (Ctrl-C, SIGTERM), or NULL: a sink or a
  ** table opened here may give up a wait for its peer when it is set */
  volatile sig_atomic_t *interrupted;
  /* NULL, or how a sink operator opens its sink instead of its connector's
  ** open_sink (with open_ud): the parallel tasks of a query sharing one
  ** sink (sl_sink_share_open) */
  sl_sink *(*open_sink)(void *ud, const sl_connector *conn, sl_options *o, sl_err *err);
  void *open_ud;
} sl_make_env;

/* sink_share.c: one sink written by several op_sinks (a query's parallel
** tasks, each encoding on its own thread): the first open opens the real
** sink, each open gives a member passing whole batches to it under a
** mutex, the last member's close closes it.  Formats without a header
** only (sl_format.begin NULL). */
typedef struct sl_sink_share sl_sink_share;
sl_sink_share *sl_sink_share_new(void);
/* Free sh once every member is closed (NULL: nothing). */
void sl_sink_share_free(sl_sink_share *sh);
/* An sl_make_env.open_sink: a member of the share ud. */
sl_sink *sl_sink_share_open(void *ud, const sl_connector *conn, sl_options *o, sl_err *err);

typedef struct sl_op_kind {
  const char *name;
  /* A live operator reading spec (borrowed: it must outlive the operator).
  ** This is where an operator does its I/O (a sink opens its connector, a
  ** join loads its table).  NULL with err set. */
  sl_operator *(*make)(const void *spec, const sl_make_env *env, sl_err *err);
  /* Append a description and the programs of spec, for EXPLAIN. */
  void (*explain)(const void *spec, sl_buf *out);
  void (*free_spec)(void *spec);
  /* Optional: 1 when its state cannot be checkpointed (why appended to
  ** why), else 0. */
  int (*no_checkpoint)(const void *spec, sl_buf *why);
} sl_op_kind;

typedef struct sl_opspec {
  const sl_op_kind *kind;
  void *spec; /* owned; freed by kind->free_spec */
} sl_opspec;

/* ---- the operators (one file each) ---- */
struct sl_program;
struct sl_mcalls;

/* A call op_project makes once per batch with the function's batch form. */
typedef struct sl_bcall {
  const struct sl_func *func;
  int nargs;
  int first_arg; /* its arguments are args[first_arg ...] of the spec */
  sl_coll coll;
} sl_bcall;
/* Where a batch call's argument comes from, row by row: an input column
** (col >= 0, read as it is) or a register of the first program (reg). */
typedef struct sl_barg {
  int col;
  int reg;
} sl_barg;

/* op_project.c: WHERE and the select list over every row. */
typedef struct sl_project_spec {
  struct sl_program *prog; /* WHERE + select list (owned) */
  int ncol;                /* output columns */
  int trace;               /* print each instruction (debug builds) */
  int strict;              /* an evaluation error fails the query (a constant SELECT) */
  /* Batch calls (ncall 0: none).  pre (owned, or NULL when not needed)
  ** computes, per row, the filter (when prog does not) and the arguments
  ** that are not plain columns; prog reads call k's result with
  ** OP_BatchResult k. */
  struct sl_program *pre;
  sl_bcall *calls; /* owned */
  int ncall;
  sl_barg *args; /* every call's arguments, in order (owned) */
  int narg;
} sl_project_spec;
extern const sl_op_kind sl_op_project;

/* op_score.c: batched model scoring.  prog computes the filter and every
** call's arguments (call i's from register arg_reg[i]); the operator
** outputs rows of the first ncol_in input columns plus one column per call. */
typedef struct sl_score_spec {
  struct sl_program *prog; /* owned */
  int ncol_in;
  struct sl_mcalls *calls; /* owned (each holds a model slot reference) */
  int *arg_reg;            /* per call (owned) */
  int trace, strict;       /* as sl_project_spec's */
} sl_score_spec;
extern const sl_op_kind sl_op_score;

/* op_sink.c: encode rows with the sink's format and write them.  The sink
** is opened when the operator is made. */
typedef struct sl_sink_spec {
  const sl_connector *conn;
  sl_options opts;         /* the INTO call's options, evaluated (owned) */
  const char *conn_name;   /* the sink's kind, for EXPLAIN (static) */
  const sl_format *format; /* its format, for EXPLAIN */
  int ncol;
  char **names;  /* output column names (owned) */
  int key_col;   /* message keys from this column, or -1 */
  int drop_key;  /* the key column is left out of the encoded value */
  int line, col; /* where the INTO call was written, for errors when it opens */
  /* what it writes of an updating query (q->changes): changelog => 'op',
  ** every row with its kind in a first column op; else the rows that add
  ** (+I, +U), and a keyed Kafka sink tombstones for -D (upserts) */
  sl_changelog changelog;
  int updating;  /* its query's output is a changelog */
  int *key_cols; /* upserts: the columns of each row's message key (owned), or NULL */
  int nkey_cols;
} sl_sink_spec;
extern const sl_op_kind sl_op_sink;
/* The sink (owned by op) that sink operator op writes, or NULL when op is
** not one (op_partition.c reads and restores its positions per partition). */
sl_sink *sl_op_sink_sink(sl_operator *op);

/* op_distinct.c: SELECT DISTINCT: each distinct row once, in the order
** first seen (the rows seen are kept, accounted as state, checkpointed);
** over an updating input, with a count each: -D when none is left. */
typedef struct sl_distinct_spec {
  int ncol;
  unsigned char *colls; /* per column its collation (sl_coll; owned), or NULL: all BINARY */
  int counted;          /* an updating input: each row's count is checkpointed with it */
} sl_distinct_spec;
extern const sl_op_kind sl_op_distinct;

/* op_limit.c: LIMIT n OFFSET m: skip m rows, pass n, then tell the task it
** has had enough (push returns 1: the query ends as a bounded one does). */
typedef struct sl_limit_spec {
  int64_t limit;  /* rows to pass; < 0: all */
  int64_t offset; /* rows to skip first */
} sl_limit_spec;
extern const sl_op_kind sl_op_limit;

/* op_result.c: hand rows to a callback. */
typedef struct sl_result_spec {
  int ncol;
  char **names; /* owned */
  sl_row_fn fn;
  void *ud;
} sl_result_spec;
extern const sl_op_kind sl_op_result;

/* op_fanout.c: push every batch to several chains (a named stream read by
** many queries).  Made by a run for each stream; children are added before
** the stream starts. */
sl_operator *sl_op_fanout_new(void);
void sl_op_fanout_add(sl_operator *fanout, sl_operator *child);
/* op_gather.c: the meeting point of a query's parallel tasks: ninput
** copies of its operators push into it, and it passes everything on to
** tail (borrowed: the query's sink, shared) under a mutex; finish once all
** inputs finished.  Made by a run. */
sl_operator *sl_op_gather_new(sl_operator *tail, int ninput);

/* op_exchange.c: the parallel tasks of a GROUP BY query meet at an
** exchange of m lanes (tails[j]: lane j's copy of the operators from the
** aggregate on, borrowed; lane_stats[j] its counters, borrowed), each row
** sent to the lane of its GROUP BY key (spec->route, the plan's) by the
** port of the task that read it (sl_exchange_port: owned by the exchange).
** qstats: the query's counters, whose over flag a lane's raises.  by_task:
** the records have no partitions (parts of a file), so each task's index
** is the event-time clock of what it reads.  Free the
** exchange after the tasks stopped; the tails are not its own. */
typedef struct sl_exchange sl_exchange;
struct sl_agg_spec;
sl_exchange *sl_exchange_new(const struct sl_agg_spec *spec, int m, sl_operator **tails,
                             sl_stats **lane_stats, sl_stats *qstats, int by_task,
                             const char *qname);
sl_operator *sl_exchange_port(sl_exchange *x, int i);
void sl_exchange_free(sl_exchange *x);

/* op_partition.c: the router of a query whose state is kept per input
** partition (a source with sl_source.per_partition): one copy of the
** operators specs[0..nspec) (the plan's, borrowed: they outlive it) per
** partition the source owns, all pushing into sink (borrowed: the query's
** own); each batch goes to its partition's copy.  fp: the query's
** fingerprint, kept with every state.  NULL with err set when an operator
** cannot checkpoint its state.  Made by a run. */
sl_operator *sl_op_partition_new(const sl_opspec *specs, int nspec, sl_operator *sink,
                                 const sl_make_env *env, const char *fp, sl_err *err);
/* The hooks the router's source calls (connector.h), owned by the router;
** NULL when op is not a router. */
const sl_pstate_hooks *sl_op_partition_hooks(sl_operator *op);
/* From any thread: the partitions the router op owns now (up to max into
** parts; how many) and the records it dropped as replays; -1 when op is not
** a router. */
#define SL_PART_OWNED_MAX 64
int sl_op_partition_info(const sl_operator *op, int32_t *parts, int max, int64_t *replays);

#endif /* SLUICE_OPERATOR_H */
