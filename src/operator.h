/*
** operator.h - the one small vtable every operator of a pipeline implements,
** and the batch of rows that flows between operators.
**
** A query is a chain of operators fed by a source task: the task decodes a
** batch of records into rows and pushes it into the first operator; each
** operator processes the batch and pushes its own output batch to the next
** one, synchronously.  So a batch (and everything its values borrow: record
** bytes, the producer's arena) is valid exactly for the duration of the push
** call.  Operators never read a clock: `now` and the watermark are arguments
** of on_time().  The plan (immutable) lives in the operator's constructor
** arguments; runtime state is the operator's own.
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
} sl_stats;

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
} sl_batch;

typedef struct sl_operator sl_operator;

/* What on_time asks of the sinks (the task's codes; operators keep their own
** event-time watermarks): */
#define SL_TIME_FLUSH INT64_MIN       /* a barrier: write and flush everything given so far */
#define SL_TIME_ONLY (INT64_MIN + 1)  /* time passed, nothing more */
#define SL_TIME_MARK (INT64_MIN + 2)  /* note what has been given so far (does not wait) */
#define SL_TIME_CHECK (INT64_MIN + 3) /* 1 while part of what was noted is not yet durable */

typedef struct sl_op_vt {
  const char *name;
  /* Process one batch; push results to op->next.  Returns 0; -1 with err
  ** set when the query must stop on an error; 1 when a consumer asked to
  ** stop (not an error).  Whatever a downstream push returns is passed up. */
  int (*push)(sl_operator *op, sl_batch *in, sl_err *err);
  /* Time moved on (processing time now, ms).  The task passes one of the
  ** SL_TIME_* codes below as watermark; operators pass it on unchanged.
  ** Returns 0, -1 with err set, or (SL_TIME_CHECK) 1 while not durable. */
  int (*on_time)(sl_operator *op, int64_t watermark, int64_t now, sl_err *err);
  /* The input ended: emit what is pending, flush, pass finish downstream. */
  int (*finish)(sl_operator *op, sl_err *err);
  /* Append a one-line description (and its programs) for EXPLAIN. */
  void (*explain)(sl_operator *op, sl_buf *out);
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
};

/* 1 when op belongs to a query that was terminated on its own. */
static inline int sl_op_halted(const sl_operator *op) {
  return op->halt && __atomic_load_n(op->halt, __ATOMIC_ACQUIRE);
}

/* Push to the next operator (no-op at the end of the chain). */
static inline int sl_op_emit(sl_operator *op, sl_batch *b, sl_err *err) {
  return op->next ? op->next->vt->push(op->next, b, err) : 0;
}
static inline int sl_op_finish_next(sl_operator *op, sl_err *err) {
  return op->next ? op->next->vt->finish(op->next, err) : 0;
}
/* Default on_time: pass it on. */
int sl_op_pass_time(sl_operator *op, int64_t watermark, int64_t now, sl_err *err);

/* Count a rejected row and log the first few with their position. */
void sl_op_reject(sl_operator *op, const sl_batch *b, int row, const char *why);

/* Row callback used by op_result: return non-zero to stop the query. */
typedef int (*sl_row_fn)(void *ud, int ncol, const char *const *names, sl_value **row);

/* ---- the operators (one file each) ---- */
struct sl_program;
/* op_project.c: run prog over every row (WHERE + select list); takes
** ownership of prog.  trace: print each instruction (debug builds).
** strict: an evaluation error fails the query (a constant SELECT) instead of
** rejecting the row. */
sl_operator *sl_op_project_new(struct sl_program *prog, int ncol_out, int trace, int strict);
/* A call op_project makes once per batch with the function's batch form. */
typedef struct sl_bcall {
  const struct sl_func *func;
  int nargs;
  int first_arg; /* its arguments are args[first_arg ...] of sl_op_project_batch */
  sl_coll coll;
} sl_bcall;
/* Where a batch call's argument comes from, row by row: an input column
** (col >= 0, read as it is) or a register of the first program (reg). */
typedef struct sl_barg {
  int col;
  int reg;
} sl_barg;
/* Give a project operator batch calls: pre (NULL when not needed)
** computes, per row, the filter (when the main program does not) and the
** arguments that are not plain columns; the main program reads call k's
** result with OP_BatchResult k.  Takes pre; copies calls and args. */
void sl_op_project_batch(sl_operator *op, struct sl_program *pre, const sl_bcall *calls, int ncall,
                         const sl_barg *args, int nargs);
/* Batched model scoring (op_score.c): prog computes the filter and every
** call's arguments (call i's from register arg_reg[i]); outputs rows of the
** first ncol_in input columns plus one column per call.  Takes the calls. */
struct sl_mcalls;
sl_operator *sl_op_score_new(struct sl_program *prog, int ncol_in, struct sl_mcalls *calls,
                             const int *arg_reg, int trace, int strict);
/* op_sink.c: encode rows with the sink's format and write them; takes
** ownership of sink.  key_col >= 0 gives message keys from that column,
** left out of the encoded value when drop_key. */
sl_operator *sl_op_sink_new(sl_sink *sink, int ncol, const char *const *names, int key_col,
                            int drop_key, sl_err *err);
/* op_result.c: hand rows to a callback; names are copied. */
sl_operator *sl_op_result_new(int ncol, const char *const *names, sl_row_fn fn, void *ud);
/* op_fanout.c: push every batch to several chains (a named stream read by
** many queries).  Children are added before the stream starts. */
sl_operator *sl_op_fanout_new(void);
void sl_op_fanout_add(sl_operator *fanout, sl_operator *child);

#endif /* SLUICE_OPERATOR_H */
