/*
** op_window.h - what the planner (plan_window.c) hands the window
** operators: the calls f(...) OVER (PARTITION BY ... ORDER BY ... [frame])
** of a query, the windows they use, and the program that computes, per
** input row, WHERE and every key and argument they need.
**
** Three operators read it:
**   op_window.c  a bounded input: every row kept until the input ends, then
**                each window's partitions sorted and every call computed as
**                SQLite does (any frame of ROWS, RANGE without offsets);
**   op_topn.c    a stream read through `WHERE rank <= N`: one ranking call
**                (ROW_NUMBER, RANK, DENSE_RANK), the top N rows of each
**                partition kept and their changes emitted (an updating
**                stream);
**   op_over.c    a stream whose one window is ordered by its event time:
**                rows released in event-time order once the watermark
**                passes them, each with its calls' values (LAG, LEAD,
**                ROW_NUMBER, RANK, DENSE_RANK, aggregates over ROWS
**                BETWEEN n PRECEDING AND CURRENT ROW, UNBOUNDED PRECEDING
**                or the default frame).
** op_window and op_over pass on each row's input columns followed by one
** value per call (the select list then reads call k as column ncol_in + k);
** op_topn passes on the select list itself (its rank column filled in).
*/
#ifndef SLUICE_OP_WINDOW_H
#define SLUICE_OP_WINDOW_H

#include "func.h"
#include "op_sort.h"
#include "vm.h"

/* One window of the query: its partition and order keys, in registers of
** the spec's program. */
typedef struct sl_wdef {
  int part_reg, npart;   /* PARTITION BY values */
  sl_coll *part_colls;   /* per partition key its collation (owned) */
  int order_reg, norder; /* ORDER BY values */
  sl_sortkey *order;     /* per ORDER BY term how it sorts (col unused) (owned) */
} sl_wdef;

/* One call over a window. */
typedef struct sl_wcall_spec {
  const sl_func *func; /* an aggregate, or a window function (SL_FUNC_WINDOW) */
  int kind;            /* sl_wfunc, or 0 for an aggregate */
  int win;             /* its window: an index into the spec's wins */
  int nargs;
  int arg_reg;    /* its first argument's register */
  int filter_reg; /* FILTER (WHERE ...)'s register, or -1 */
  sl_coll coll;   /* its first argument's collation */
  /* an aggregate's frame: SL_FRAME_ROWS or SL_FRAME_RANGE (RANGE: peers,
  ** no offsets), and its bounds (sl_fbound_kind) with their offsets */
  int frame;
  int start, end;
  int64_t start_n, end_n;
  /* LAG / LEAD with a constant offset (the streams need one): the offset,
  ** else -1 */
  int64_t offset;
} sl_wcall_spec;

typedef enum sl_window_mode {
  SL_WINDOW_BOUNDED = 0, /* op_window */
  SL_WINDOW_TOPN,        /* op_topn */
  SL_WINDOW_OVER,        /* op_over */
  SL_WINDOW_DEDUP        /* op_dedup */
} sl_window_mode;

typedef struct sl_window_spec {
  sl_window_mode mode;
  sl_program *pre; /* per input row: WHERE (skips), the keys and arguments (owned) */
  int ncol_in;     /* the input rows' columns (op_window, op_over pass them on) */
  sl_wdef *wins;   /* owned */
  int nwin;
  sl_wcall_spec *calls; /* owned */
  int ncall;
  /* op_topn: the select list (pre's registers out_reg ..), the column its
  ** ranking call fills, and the most rank kept */
  int out_reg, nout;
  int rank_col;
  int64_t limit;
  /* op_over: the event time is the window's ORDER BY value; the stream's
  ** allowed lateness and idle timeout (as op_aggregate's) */
  int64_t lateness;
  int64_t idle_ms;
  /* op_dedup (the Top-1 of ROW_NUMBER ordered by time ascending, nout and
  ** rank_col as op_topn's): proctime 1 when the window is ordered by
  ** processing time (PROCTIME(): the first row to come wins), else the
  ** ORDER BY value is the event time (lateness, idle_ms); ttl_ms: a key
  ** is forgotten this long after its row went (SET state_ttl; 0 never) */
  int proctime;
  int64_t ttl_ms;
} sl_window_spec;

extern const sl_op_kind sl_op_window;
extern const sl_op_kind sl_op_topn;
extern const sl_op_kind sl_op_over;
extern const sl_op_kind sl_op_dedup;

/* Free a spec (its program, windows and calls): every kind's free_spec. */
void sl_window_spec_free(void *spec);
/* Append the description of spec's windows and calls, and its program,
** for EXPLAIN (every kind's explain starts with its own line). */
void sl_window_spec_explain(const sl_window_spec *sp, sl_buf *out);

/* ---- shared by the window operators (op_window.c) ---- */
/* Compare two rows' values of window w's PARTITION BY (a, b: the first
** partition value of each): <0, 0, >0 (NULLs equal, and first). */
int sl_wpart_cmp(const sl_wdef *w, const sl_value *a, const sl_value *b);
/* The hash of a row's PARTITION BY values (v: the first), equal for rows
** sl_wpart_cmp finds equal (its collations): the key of the partition
** table of op_over, op_topn and op_dedup (wpart.h). */
uint64_t sl_wpart_hash(const sl_wdef *w, const sl_value *v);
/* Compare two rows' ORDER BY values as the window sorts them. */
int sl_worder_cmp(const sl_wdef *w, const sl_value *a, const sl_value *b);
/* Why a stream row (op_over, op_dedup) is rejected when its window's ORDER
** BY value is not an event time (sl_value_time). */
#define SL_WEVTIME_BAD                                                                             \
  "the event time (the window's ORDER BY) is NULL, not a number or out of range"
/* Memory of a value kept as state (as op_sort counts it). */
int64_t sl_wvalue_bytes(const sl_value *v);

/* The event-time watermark of a stream's rows (op_over, op_dedup; as
** op_aggregate's): per source partition the largest time seen; the
** watermark is the smallest of them (partitions idle for idle_ms of
** processing time, or finished, left out) minus the lateness, and never
** goes down.  INT64_MIN until a time is seen. */
typedef struct sl_evpart {
  int32_t part;
  int64_t max_ts, seen; /* largest time; when last seen (processing time) */
  int done;             /* the source no longer reads it */
} sl_evpart;
typedef struct sl_evclock {
  sl_evpart *pts; /* owned */
  int npts;
  int64_t lateness, idle_ms;
  int64_t watermark;
  /* the records come from a repartition topic (sl_record.origin): the
  ** partitions are origins, of which the source's own partitions say
  ** nothing; the source's norigins are expected once (origins_expected) */
  int by_origin, origins_expected;
} sl_evclock;
void sl_evclock_init(sl_evclock *c, int64_t lateness, int64_t idle_ms);
void sl_evclock_free(sl_evclock *c);
/* Time ts seen in source partition part at processing time now. */
void sl_evclock_note(sl_evclock *c, int32_t part, int64_t ts, int64_t now);
/* Before a batch of src (after 0): every partition src reads holds the
** watermark back; after it (after 1): those it finished no longer do.
** With by_origin: the first call expects origins 0 to src->norigins - 1. */
void sl_evclock_expect(sl_evclock *c, sl_source *src, int after, int64_t now);
/* Move the watermark as far as the partitions allow at processing time
** now: 1 when it moved (c->watermark), else 0. */
int sl_evclock_advance(sl_evclock *c, int64_t now);
/* The partitions' times in a checkpoint, and back (0, or -1: damaged);
** the caller saves the watermark where its encoding has it. */
void sl_evclock_save(const sl_evclock *c, sl_buf *out);
struct sl_ckrd;
int sl_evclock_load(sl_evclock *c, struct sl_ckrd *r, int64_t now);

#endif /* SLUICE_OP_WINDOW_H */
