/*
** op_aggregate.h - what the planner hands op_aggregate.c: the compiled
** programs of a GROUP BY query and where things are in their registers.
*/
#ifndef SLUICE_OP_AGGREGATE_H
#define SLUICE_OP_AGGREGATE_H

#include "func.h"
#include "operator.h"
#include "vm.h"

typedef enum sl_win_kind {
  SL_WIN_NONE = 0,
  SL_WIN_TUMBLE = 1,
  SL_WIN_HOP = 2,
  SL_WIN_SESSION = 3 /* size is the gap */
} sl_win_kind;

/* One aggregate call of the query, in the step program's registers. */
typedef struct sl_agg_call {
  const sl_func *func;
  int nargs;
  int arg_reg;    /* first argument register */
  int filter_reg; /* FILTER (WHERE ...) result register, or -1 */
  int distinct;   /* DISTINCT: each value once per group */
  sl_coll coll;
} sl_agg_call;

typedef struct sl_agg_spec {
  sl_program *step; /* per input row: WHERE (skips), keys, event time, arguments */
  sl_program *out;  /* per group row: HAVING (skips) and the select list */
  /* per input row: WHERE (skips), the group keys (result registers) and,
  ** when route_ts, the event time after them: where the parallel tasks'
  ** exchange sends the row, and the progress it tells every lane of
  ** (op_exchange.c) */
  sl_program *route;
  int route_ts;
  int key_reg; /* step: the first of nkeys group key registers */
  int nkeys;
  int ts_reg; /* step: the event time (windows) */
  sl_win_kind wkind;
  int64_t size, slide; /* window size and slide in ms (TUMBLE: slide == size) */
  int64_t lateness;    /* allowed lateness in ms (the stream's WATERMARK) */
  int proctime;        /* windows on processing time (TUMBLE(proctime(), ...)) */
  int rowtime;         /* event time from the record (a Kafka message's timestamp) */
  int64_t idle_ms;     /* a partition silent this long does not hold the watermark */
  sl_agg_call *aggs;   /* owned */
  int naggs;
  int has_distinct;
  int emit_changes; /* a changelog after every batch (always for no window) */
  /* the input is updating (sl_batch.ops): a take-back runs each aggregate's
  ** xInverse (the planner gave every aggregate its retracting form: min/max
  ** keep every value) and a group left with no row is removed */
  int retract;
  /* EMIT CHANGES: give -U (a group's row before the batch changed it) and
  ** -D; the planner clears it when nothing downstream reads take-backs and
  ** none can be made (no HAVING, an append-only input) */
  int before_rows;
  int ncol; /* output columns */
  /* trainable models whose train() this query calls: one slot reference
  ** each, released with the operator (their trainers must outlive it) */
  struct sl_model_slot **held;
  int nheld;
  /* aggregates without GROUP BY: one row at the end even when no row came */
  int one_row;
  /* a window's rows go on as one batch of their own (an ORDER BY per window) */
  int flush_per_window;
  /* per key: the collation it groups by (GROUP BY b COLLATE NOCASE), or
  ** NULL when every key is BINARY (owned) */
  sl_coll *key_colls;
} sl_agg_spec;

/* The hash of a row's GROUP BY key values (keys: the first of sp->nkeys),
** equal for keys the aggregate groups together (its collations): what an
** exchange sends the row to a lane by (op_exchange.c). */
uint64_t sl_aggregate_key_hash(const sl_agg_spec *sp, const sl_value *keys);

/* A live aggregate fed by an exchange (op_exchange.c): rows of the input
** partition (or part) whose event time is followed as clock, the latest
** at event time ts (INT64_MIN: none), were read at processing time now,
** whether or not they came to this aggregate: the watermark follows and
** clock is not idle.  done: clock has ended (that part of the input is
** read) and no longer holds the watermark.  Windows the watermark passes
** close.  Nothing for processing-time windows or no window.  0, or -1
** with err set. */
int sl_aggregate_origin(sl_operator *op, int32_t clock, int64_t ts, int64_t now, int done,
                        sl_err *err);
/* The event time of value v in ms since the epoch (an integer, a real, or
** a 'YYYY-MM-DD HH:MM:SS[.fff]' text): 0, or -1 when v is not a time or is
** more than SL_TIME_LIMIT from the epoch. */
int sl_event_time(const sl_value *v, int64_t *ms);

/* The operator's kind: a spec (owned by the plan, with its programs,
** aggregate array and held slots) to a live aggregate. */
extern const sl_op_kind sl_op_aggregate;
#endif /* SLUICE_OP_AGGREGATE_H */
