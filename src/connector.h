/*
** connector.h - sources and sinks: where records come from and go to.
**
** A connector is named in SQL as a table function, `file('x.json', format =>
** 'json')` after FROM (a source) or after INTO (a sink).  The planner looks
** the name up (sl_connector_find), hands it the call's options, and gets back
** an sl_source or sl_sink behind a small vtable.  A connector moves bytes; the
** format (format.h) turns them into rows.
**
** Options.  Every `name => value` of the call arrives in an sl_options; the
** first positional argument is option "0" (the path, the topic).  A connector
** reads the options it knows with sl_opt_*(), which marks them used, and then
** calls sl_options_check(), which makes any option nobody read a bind error:
** an unknown option is never silently ignored.
*/
#ifndef SLUICE_CONNECTOR_H
#define SLUICE_CONNECTOR_H

#include <signal.h>

#include "auth.h"
#include "format.h"

/* ---- options ------------------------------------------------------------ */
typedef struct sl_option {
  char *name;     /* owned; "0", "1"... for positional arguments */
  sl_value value; /* constant value, owns its bytes */
  int line, col;  /* where it was written, for errors */
  int used;       /* set when a connector read it */
} sl_option;

typedef struct sl_options {
  int n;
  sl_option *v;   /* owned */
  const char *fn; /* the call's name ("file"), for messages; borrowed */
  /* CREATE STREAM s (cols) FROM ...: the declared columns (borrowed), the
  ** default of `columns =>` for formats that need columns (csv) */
  const struct sl_schema *declared;
  /* the engine checkpoints (a state directory): a sink must not discard what
  ** is there when it opens, as a checkpoint may resume it (load_pos) */
  int resume;
  /* processing.guarantee = 'exactly_once': the sink writes each id once;
  ** query_fp (borrowed) marks this query's outputs */
  int exactly_once;
  const char *query_fp;
  /* The identity of the queries a source feeds (sl_plan_source_identity:
  ** 16 hex digits of their normalized statements), the same for the same
  ** queries on any process and different for any other query.  A source
  ** whose input is shared among processes (a Kafka consumer group) names its
  ** share by it.  Set by the runtime when a source is opened for a run;
  ** NULL when planning (EXPLAIN passes it to sl_source_vt.explain). */
  const char *feeds_id;
  /* SET application_id (borrowed), or NULL: what names the consumer groups
  ** of the application's sources ("sluice" when NULL) */
  const char *app_id;
  /* Set by the runtime when the run keeps checkpoints: the identity of this
  ** source in this state directory ("<store id>-<source number>"), the same
  ** when a run resumes it and different in every other state directory.  A
  ** Kafka source makes its static group membership of it; NULL otherwise. */
  const char *instance_id;
  /* Planning (the planner opens nothing): read and check every option and
  ** fill in what the planner inspects (schema, format, fmt_opts, errors,
  ** key_col, key_implicit) exactly as a real open would, but do no I/O: open
  ** no file or socket, start no thread, create no client handle, contact no
  ** broker.  The only exception is local metadata a schema is made of (a
  ** CSV file's header line, a SQLite table's columns), read when present.
  ** The result is inspected and closed, never read from or written to. */
  int check_only;
  /* Set by the runtime when a source is opened for a run: the engine's
  ** interrupt flag, so that an open waiting for a peer (Kafka metadata) can
  ** give up at Ctrl-C or SIGTERM; NULL otherwise. */
  volatile sig_atomic_t *interrupted;
  /* A source: the longest record it frames (SET max_record_bytes); 0 for
  ** the default, SL_MAX_RECORD. */
  int64_t max_record;
  /* The engine's authorizer (borrowed; NULL: everything allowed): a
  ** connector asks it, through sl_opt_authorize, before it reads or writes
  ** a file, connects to a host or passes a property, when planning as when
  ** opening. */
  const struct sl_auth *auth;
  /* Set by the runtime for a query run as parallel tasks (SET parallelism):
  ** this source is part `split` of `nsplit` of the input.  A connector that
  ** can divide its input (a file into byte ranges cut at record boundaries,
  ** a Kafka group into several consumers) reads only its part and says in
  ** sl_source.nsplit how many parts it makes (at most nsplit; split 0 is
  ** opened first and decides); one that cannot leaves sl_source.nsplit 0
  ** and reads everything.  nsplit 0: the whole input. */
  int split, nsplit;
  /* split > 0: the source opened as part 0 of the same input (borrowed; it
  ** outlives this one's open): the connector may share the parts' work
  ** through it (a file's chunks) */
  const struct sl_source *split_first;
  /* the smallest piece a file is divided into (SET min_split_bytes) */
  int64_t min_split;
} sl_options;

#define SL_MAX_RECORD ((int64_t)64 << 20)

void sl_options_free(sl_options *o);
/* dst = a copy of src: the options (deep, none marked used) and the flags
** and borrowed pointers as they are. */
void sl_options_copy(sl_options *dst, const sl_options *src);
/* Append a copy of value under name. */
void sl_options_add(sl_options *o, const char *name, const sl_value *value, int line, int col);
/* Look up by name (case-insensitive) and mark used; NULL if absent. */
sl_option *sl_opt_find(sl_options *o, const char *name);
/* Look up by name without marking it used. */
sl_option *sl_opt_find_unused(sl_options *o, const char *name);
/* Text of an option (or dflt if absent); a non-text value is rendered. */
const char *sl_opt_str(sl_options *o, const char *name, const char *dflt);
/* Boolean option: true/false, 1/0, 'true'/'false', 'yes'/'no'; -1 on a bad
** value (err set). */
int sl_opt_bool(sl_options *o, const char *name, int dflt, sl_err *err);
int64_t sl_opt_int(sl_options *o, const char *name, int64_t dflt, sl_err *err);
/* Ask the call's authorizer (auth.h: sl_authorize) whether action may be
** done on target, detail the connector's name.  0, or -1 with err set. */
int sl_opt_authorize(const sl_options *o, int action, const char *target, sl_err *err);
/* Error for the first option not marked used: "unknown option 'x' for file()". */
int sl_options_check(sl_options *o, sl_err *err);

/* ---- records ------------------------------------------------------------ */
/* A row's kind in a changelog (Flink's RowKind; printed +I, -U, +U, -D).
** An append-only stream has inserts only.  An updating stream (a running
** GROUP BY, a Top-N, a join fed by an updating input, a source read as a
** table) says of each row whether it adds it to the result (INSERT,
** UPDATE_AFTER) or takes back a row it gave before (UPDATE_BEFORE, DELETE:
** the same values as then).  An UPDATE_BEFORE is followed, in the same
** batch, by the UPDATE_AFTER of the same key.  An operator that keeps state
** folds a take-back in (an aggregate's inverse, a join's kept record
** removed) and emits the take-backs of what it gave from it. */
typedef enum sl_rowkind {
  SL_ROW_INSERT = 0,
  SL_ROW_UPDATE_BEFORE = 1,
  SL_ROW_UPDATE_AFTER = 2,
  SL_ROW_DELETE = 3
} sl_rowkind;

/* 1 when a row of kind k takes a row back (UPDATE_BEFORE, DELETE). */
static inline int sl_rowkind_retracts(int k) {
  return k == SL_ROW_UPDATE_BEFORE || k == SL_ROW_DELETE;
}

/* One record as read by a source.  Bytes are owned by the source and valid
** until its next read call. */
typedef struct sl_record {
  const char *data; /* the record (a line without its newline, a message value) */
  size_t len;
  const char *key; /* message key or NULL */
  size_t keylen;
  int64_t pos;       /* file: 1-based line number of the record's start; kafka: offset */
  int32_t partition; /* kafka partition, or -1 */
  int64_t timestamp; /* ms since the epoch, or -1 when the source has none */
  /* NULL, or why the source could not frame this record (a CSV quote never
  ** closed, a line longer than max_record_bytes): the task rejects it with
  ** this reason (a static string) without decoding it; data is then the
  ** bytes rejected (or their first part) */
  const char *error;
  /* its row kind (sl_rowkind) when the source makes a
  ** changelog itself (kafka with changelog => 'upsert'), else 0: an insert */
  int op;
  /* A record read back from a repartition topic (docs/scale-out.md): 1 +
  ** the partition of the source record it was made from, and that record's
  ** offset (origin_pos), carried in the message header "sluice-origin"; 0
  ** (and origin_pos -1 or 0) for any other record.  Event-time progress is
  ** tracked per origin partition (sl_record_clock), and a query whose state
  ** is kept per partition drops a record whose origin it has already seen
  ** (a writer's replay after a crash). */
  int32_t origin;
  int64_t origin_pos;
} sl_record;

/* The partition whose event-time progress rec shows (the watermarks of
** windows, OVER and interval joins): its origin's when it was repartitioned,
** else its own (-1: none). */
static inline int32_t sl_record_clock(const sl_record *rec) {
  return rec->origin ? rec->origin - 1 : rec->partition;
}

/* What a source's records or a sink's rows say of their row kinds (the
** changelog option of every connector, docs/sql.md "Changelogs"). */
typedef enum sl_changelog {
  SL_CHANGELOG_NONE = 0,  /* rows are inserts (a sink: take-backs left out) */
  SL_CHANGELOG_OP = 1,    /* changelog => 'op': a column op holds '+I', '-U', '+U', '-D' */
  SL_CHANGELOG_UPSERT = 2 /* changelog => 'upsert' (kafka source): key -> row, tombstones delete */
} sl_changelog;

/* ---- sources ------------------------------------------------------------ */
typedef struct sl_source sl_source;

/* State kept per input partition (a Kafka source's state_topic =>,
** docs/scale-out.md).  The source learns which partitions are this
** process's (a consumer group's rebalances) and stores each one's state in
** Kafka; the query's router (op_partition.c) keeps one copy of the query's
** operators per partition.  The runtime gives the source these hooks
** (sl_source.pstate, borrowed) before its first read; the source calls them
** on the task's thread, between batches (inside its read, when the
** consumer's rebalance runs).  Each returns 0, or -1 with err set (the
** query then stops). */
typedef struct sl_pstate_hooks {
  void *ud;
  /* Partition p is now this process's: make its operators and load blob
  ** z[0..n) (what save gave for p before, on this or another process), or
  ** start it empty (z NULL). */
  int (*load)(void *ud, int32_t p, const void *z, size_t n, sl_err *err);
  /* Write and flush everything derived from the records read so far (the
  ** sink's FLUSH barrier): a state record may then say they were made. */
  int (*flush)(void *ud, sl_err *err);
  /* Append partition p's state (the operators' checkpoint encoding and the
  ** highest origin position seen per origin) to out. */
  int (*save)(void *ud, int32_t p, sl_buf *out, sl_err *err);
  /* Partition p is no longer this process's: drop its operators. */
  void (*drop)(void *ud, int32_t p);
} sl_pstate_hooks;

#define SL_READ_END 0    /* bounded source exhausted */
#define SL_READ_ERROR -1 /* err is set; the query stops */
#define SL_READ_AGAIN -2 /* nothing within the timeout; call again */

#define SL_COMMIT_NOW 0
#define SL_COMMIT_NOTE 1
#define SL_COMMIT_NOTED 2

typedef struct sl_source_vt {
  const char *name;
  /* Read up to max records into recs; returns how many (> 0) or SL_READ_*.
  ** May block up to timeout_ms (negative: until data or end). */
  int (*read)(sl_source *s, sl_record *recs, int max, int timeout_ms, sl_err *err);
  /* Append a human-readable position of rec for logs: "data.json:17". */
  void (*position)(sl_source *s, const sl_record *rec, sl_buf *out);
  void (*close)(sl_source *s); /* frees s */
  /* Optional, for sources of typed rows (tables): fill up to max rows of
  ** ncol values directly (bytes borrowed from the source, valid until the
  ** next call) instead of records; same return values as read.  A source
  ** with read_rows has no format. */
  int (*read_rows)(sl_source *s, sl_value *rows, int ncol, int max, sl_err *err);
  /* Optional: make positions durable as consumed (Kafka offsets): what =
  ** SL_COMMIT_NOW everything read so far; SL_COMMIT_NOTE only remember the
  ** positions read so far; SL_COMMIT_NOTED commit the ones last remembered.
  ** The task commits positions only once everything derived from the records
  ** before them has been written and acknowledged by the sinks:
  ** at-least-once. */
  int (*commit)(sl_source *s, int what, sl_err *err);
  /* Checkpoints (optional; NULL: the source cannot be replayed, as a socket
  ** or stdin).  save_pos appends the position after the last record handed
  ** to the task; load_pos, before the first read, makes the source go on
  ** from a saved position.  0, or -1 with err set. */
  int (*save_pos)(sl_source *s, sl_buf *out, sl_err *err);
  int (*load_pos)(sl_source *s, const void *z, size_t n, sl_err *err);
  /* Optional: the partitions that still have records to give (up to max
  ** into out; returns how many there are).  Event-time windows wait for
  ** every one of them (until it is idle), not only for those seen so far,
  ** so that results do not depend on which partition happens to come first. */
  int (*partitions)(sl_source *s, int32_t *out, int max);
  /* Optional: how many records the source's broker holds past what was
  ** read (Kafka consumer lag, summed over the partitions read), from what
  ** the client already knows (no request); -1 when it does not know yet.
  ** Called by the task between reads. */
  int64_t (*lag)(sl_source *s);
  /* Optional, for sources with read_rows: the records (positions, for
  ** output identities and messages) of the rows the last read_rows gave,
  ** one per row, valid until the next read; NULL when there are none. */
  const sl_record *(*row_records)(sl_source *s);
  /* Optional, for EXPLAIN: append (with a leading ", ") what a run of the
  ** queries whose identity is feeds_id (sl_options.feeds_id) would open
  ** besides the format: a Kafka source's consumer group.  s was opened with
  ** check_only. */
  void (*explain)(sl_source *s, const char *feeds_id, sl_buf *out);
  /* Optional, for a source with per-partition state (sl_source.pstate):
  ** write the state of every partition it owns now (the hooks' flush, then
  ** save for each), and wait until the broker has them.  Called by the task
  ** between batches every checkpoint_interval.  0, or -1 with err set. */
  int (*pstate_write)(sl_source *s, sl_err *err);
} sl_source_vt;

struct sl_source {
  const sl_source_vt *vt;
  const sl_format *format; /* how records decode; never NULL (raw by default) */
  sl_fmt_opts fmt_opts;    /* header, delimiter... (schema set by the planner) */
  sl_schema schema;        /* the columns of this source: declared or open */
  char *errors;            /* errors => 'skip' (default, NULL) | 'fail' | 'dlq' */
  struct sl_dlq *dlq;      /* where its rejected records go (dlq => sink), borrowed, or NULL */
  /* 1 when its input ends (a file, a table, a database query, a Kafka read
  ** with stop => 'end'): a GROUP BY over it emits its final rows once, at
  ** the end, instead of a changelog (set by the connector when it opens) */
  int bounded;
  /* changelog => ...: SL_CHANGELOG_OP, its column op gives each row's kind;
  ** SL_CHANGELOG_UPSERT, each record says its own (sl_record.op) */
  sl_changelog changelog;
  /* opened as part of a divided input (sl_options.split, nsplit): how many
  ** parts the connector makes, 0 when it reads the whole input */
  int nsplit;
  /* what the source keeps between reads (an upsert source's last value per
  ** key): bytes and keys, kept up to date by the source; the task counts
  ** them in the state of the queries it feeds (--stats, max_query_memory) */
  int64_t state_bytes, state_keys;
  /* state_topic => (a Kafka source): 1 when its queries keep their state
  ** per input partition (set by the connector when it opens); then pstate,
  ** the runtime's hooks (borrowed), set before the first read.  Such a
  ** source gives the records of one partition per read call. */
  int per_partition;
  const sl_pstate_hooks *pstate;
  /* how many origin partitions its records may come from (a Kafka source:
  ** its topic's partition count, as a repartition topic has its source
  ** topic's), 0 when unknown: event-time windows over records with origins
  ** wait for each of them (until it is idle), not only for those seen */
  int norigins;
  /* restore progress, counted by the source (read by other threads with
  ** __atomic_load_n): partition states loaded, their bytes, the time spent
  ** reading them (microseconds), and states written */
  int64_t ps_restored, ps_restore_bytes, ps_restore_us, ps_written;
};

/* ---- sinks -------------------------------------------------------------- */
typedef struct sl_sink sl_sink;

typedef struct sl_sink_vt {
  const char *name;
  /* Write n encoded records.  Record i is buf[ends[i-1] .. ends[i]) (ends[-1]
  ** taken as 0) and ends with '\n'; a message sink drops the newline, and so
  ** does a file sink for a binary format (format.h: sl_format.binary).  A
  ** record of no bytes at all is a tombstone (an upsert's delete): a message
  ** sink writes a message with its key and no value.  keys
  ** is NULL, or message keys laid out the same way in keys[kends[i-1] ..
  ** kends[i]) (an empty key is no key); sinks without keys ignore them.
  ** ids is NULL, or each record's identity (sl_batch.ids) for a sink that
  ** writes exactly once by id (Kafka with exactly_once).
  ** Returns 0 or -1 with err set. */
  int (*write)(sl_sink *s, const char *buf, const size_t *ends, int n, const char *keys,
               const size_t *kends, const uint64_t *ids, sl_err *err);
  int (*flush)(sl_sink *s, sl_err *err);
  void (*close)(sl_sink *s); /* flushes and frees s */
  /* Checkpoints (optional).  save_pos appends what has been written (after
  ** a flush); load_pos, before the first write, drops whatever was written
  ** after that (a file is cut back to its checkpointed length): replayed
  ** output then replaces it, exactly once.  0, or -1 with err set. */
  int (*save_pos)(sl_sink *s, sl_buf *out, sl_err *err);
  int (*load_pos)(sl_sink *s, const void *z, size_t n, sl_err *err);
  /* Optional, for sinks that acknowledge writes later (Kafka): produced()
  ** counts the records written so far; acked(s, n, err) is 1 once the first
  ** n are acknowledged, 0 while not yet, -1 (err set) when a delivery
  ** failed.  Without them a write is durable when write() returns. */
  int64_t (*produced)(sl_sink *s);
  int (*acked)(sl_sink *s, int64_t n, sl_err *err);
  /* Optional, for a sink that writes exactly once by id (by_id) fed by a
  ** query that keeps its state per input partition (op_partition.c): each
  ** id then carries that partition in its top 16 bits (SL_ID_PART).  Both
  ** are called on the query's task thread while nothing is being written
  ** (after a FLUSH barrier).  part_save appends where the outputs of input
  ** partition p written after this moment will be (a Kafka sink: its
  ** topic's end offsets, or older ones while p's replay has not yet come to
  ** every output read back for it); part_load takes what part_save gave
  ** (z NULL: nothing, the whole topic) and reads back the outputs of p
  ** written from there on, which are then not written again.  0, or -1
  ** with err set. */
  int (*part_save)(sl_sink *s, int32_t p, sl_buf *out, sl_err *err);
  int (*part_load)(sl_sink *s, int32_t p, const void *z, size_t n, sl_err *err);
} sl_sink_vt;

/* An output id of a query whose state is kept per input partition: the
** partition (mod 65536) in the top 16 bits, the rest of id below
** (op_partition.c makes them, sinks' part_load reads them). */
#define SL_ID_PART_SHIFT 48
#define SL_ID_PART(id) ((int32_t)((id) >> SL_ID_PART_SHIFT))
#define SL_ID_WITH_PART(id, p)                                                                     \
  (((id) & ((1ull << SL_ID_PART_SHIFT) - 1)) | ((uint64_t)((p)&0xffff) << SL_ID_PART_SHIFT))

struct sl_sink {
  const sl_sink_vt *vt;
  char *key_col;           /* the column giving message keys (owned), or NULL */
  int key_implicit;        /* key_col is the default "key": used only if present, and
                              then left out of the value */
  const sl_format *format; /* how rows encode */
  sl_fmt_opts fmt_opts;
  int by_id; /* writes each output once by its id (exactly once): write() needs ids */
  /* set (by op_sink) when its query is stopping: a flush that cannot
  ** complete (its peer does not answer) then gives up after
  ** SL_STOP_WAIT_MS with an error instead of waiting for its peer */
  volatile int stopping;
  /* the engine's interrupt flag (sl_options.interrupted at open), or NULL:
  ** once it is set a flush gives up after SL_STOP_WAIT_MS as when stopping
  ** (a query that ended by itself and is writing its last records when
  ** Ctrl-C or SIGTERM comes) */
  volatile sig_atomic_t *interrupted;
  /* partition_by => 'a,b' of a file sink (owned; freed by the sink's close),
  ** or NULL: op_sink gives each row's values of these columns as its key
  ** (sl_part_key_put) and leaves them out of the row encoded */
  char *part_cols;
  /* changelog => 'op' (SL_CHANGELOG_OP): op_sink writes every row of an
  ** updating query with a first column op ('+I', '-U', '+U', '-D'); else
  ** take-backs are left out (a keyed Kafka sink writes upserts) */
  sl_changelog changelog;
  /* origin => true (a Kafka sink writing a repartition topic): the sink
  ** wants each record's input position.  op_sink then sets origin_part and
  ** origin_pos (borrowed, one per record, -1: the row has no Kafka record)
  ** for the duration of each write() call, and NULL between calls. */
  int want_origin;
  const int32_t *origin_part;
  const int64_t *origin_pos;
};

/* conn_file.c: the partition columns of list ("a,b") among the ncol names
** into out (ncol entries); how many, or -1 with err set (an unknown or
** repeated column, none, or all of them). */
int sl_part_cols_resolve(const char *list, int ncol, char *const *names, int *out, sl_err *err);
/* conn_file.c: append one partition value z[0..n) (z NULL: a NULL value) to
** a row's key, as the partitioned file sink reads it. */
void sl_part_key_put(sl_buf *keys, const char *z, size_t n);

#define SL_STOP_WAIT_MS 5000

/* 1 when s's flushes may give up after SL_STOP_WAIT_MS: its query is
** stopping, or the engine was interrupted. */
static inline int sl_sink_giving_up(const sl_sink *s) {
  return s->stopping || (s->interrupted && *s->interrupted);
}

/* ---- dead letters (dlq.c) ------------------------------------------------- */
/* A source's dead-letter sink: every record it rejects, written as one JSON
** object a line (the query, the source, the record's position, the reason,
** the record's bytes).  Thread-safe. */
typedef struct sl_dlq sl_dlq;
/* A dead-letter writer to sink (taken). */
sl_dlq *sl_dlq_new(sl_sink *sink);
/* Write the dead letter of rec (read from src), rejected by query qname
** for why.  A failed write is kept for sl_dlq_flush to report. */
void sl_dlq_put(sl_dlq *q, const char *qname, sl_source *src, const sl_record *rec,
                const char *why);
/* Flush the sink (and wait for a sink that acknowledges).  0, or -1 with
** err set when it, or an earlier write, failed. */
int sl_dlq_flush(sl_dlq *q, sl_err *err);
/* Close the sink and free q (NULL: nothing). */
void sl_dlq_free(sl_dlq *q);

/* ---- the connector registry ---------------------------------------------- */
typedef struct sl_connector {
  const char *name; /* "file", "stdin", "stdout", "kafka" ... */
  /* Open a source/sink from the call's options; NULL with err set if the
  ** connector is not usable that way or the options are bad.  Both consume
  ** the options they read and must call sl_options_check() at the end. */
  sl_source *(*open_source)(sl_options *opts, sl_err *err);
  sl_sink *(*open_sink)(sl_options *opts, sl_err *err);
} sl_connector;

const sl_connector *sl_connector_find(const char *name, size_t n);

/* Shared by connectors: read `format`, `header`, `delimiter`, `columns`,
** `errors` and `changelog` options into the source/sink fields (default
** format: dflt), then hand the format its own options (sl_format.configure).
** changelog => 'upsert' is taken only by a source that set s->changelog to
** SL_CHANGELOG_UPSERT before the call (one that keys its records: kafka). */
int sl_source_init_format(sl_source *s, sl_options *opts, const char *dflt, sl_err *err);
int sl_sink_init_format(sl_sink *s, sl_options *opts, const char *dflt, sl_err *err);
/* Free what the base of a source (schema, errors, the format's ctx) or of a
** sink (key_col, the format's ctx) owns; a connector's close calls it
** before it frees its own struct. */
void sl_source_fini(sl_source *s);
void sl_sink_fini(sl_sink *s);

/* conn_table.c: a source over a copy of a table's rows as they are now, or
** (t == NULL) over one empty row, which is what a SELECT without FROM
** evaluates. */
struct sl_table;
sl_source *sl_table_source_new(const struct sl_table *t);
/* conn_table.c: read a bounded source (c opened with a copy of opts) to its
** end into a new table named name with owned values: the table side of a
** stream-table join.  A malformed record is an error (with its position).
** NULL with err set. */
struct sl_table *sl_source_load(const sl_connector *c, const sl_options *opts, const char *name,
                                sl_err *err);

extern const sl_connector sl_conn_file;   /* conn_file.c: file('path') */
extern const sl_connector sl_conn_socket; /* conn_socket.c: socket('host:port') */
extern const sl_connector sl_conn_sqlite; /* conn_sqlite.c: sqlite('db', 'table') */
extern const sl_connector sl_conn_stdin;  /* conn_file.c: stdin() */
extern const sl_connector sl_conn_stdout; /* conn_file.c: stdout() */

#endif /* SLUICE_CONNECTOR_H */
