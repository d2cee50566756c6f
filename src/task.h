/*
** task.h - a task drives one source of a run: it reads records, decodes
** them into rows of the source's schema and pushes batches into the first
** operator its source feeds; between batches it sends ticks and the
** barriers of the commit and checkpoint protocol down the chains (task.c).
** The run (run.c) makes tasks and the live queries they feed.
*/
#ifndef SLUICE_TASK_H
#define SLUICE_TASK_H

#include <pthread.h>
#include <signal.h>

#include "checkpoint.h"
#include "plan.h"

#define SL_LAT_NB 12
/* partitions whose lag a task keeps (sl_source_vt.partition_lag) */
#define SL_PLAG_MAX 64
/* Upper bounds (seconds) of the batch latency histogram's buckets; the
** last is +Inf. */
extern const double sl_lat_bounds[SL_LAT_NB];

typedef struct sl_task sl_task;

/* Tasks whose checkpoints are taken together: those that feed the two
** sides of an interval join (transitively).  A join's kept records come
** from both, so its state is consistent only with both positions taken at
** one moment: a checkpoint of the group waits until every member is
** between two batches (each flushed), then one of them writes every
** member's position and every state of the queries they feed in one
** transaction, while the others wait (task.c). */
typedef struct sl_ckgroup {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  sl_task **members; /* borrowed */
  int n;
  int waiting;     /* members at the rendezvous */
  int gone;        /* members whose loop ended: they never come again */
  int want;        /* a checkpoint is due: each member comes at its next chance */
  int broken;      /* a member failed: no checkpoint of the group any more */
  uint64_t rounds; /* checkpoints taken: a waiting member waits for it to change */
} sl_ckgroup;

/* A query of a run: its live operators, made from its plan. */
typedef struct sl_lquery {
  const sl_pquery *plan;
  sl_operator **ops; /* the chain, in order (owned) */
  int nops;
  sl_stats stats;                    /* out, evaluation rejections, state */
  int stopped;                       /* terminated alone; read by the task threads */
  int64_t in_at_stop, bytes_at_stop; /* its sources' counts when it was terminated */
  sl_task *task, *task2;             /* the tasks feeding it (task2: an interval join's right) */
  /* it failed alone (its state passed max_query_memory) and was halted
  ** like a terminated query: why (owned; set once by a task thread, read
  ** with __atomic_load_n by others), else NULL */
  char *error;
  /* Parallel tasks (SET parallelism, sl_psource.parallel): the npar tasks
  ** besides `task` that feed it, each through its own copy of the
  ** query's operators (pops[k], owned, their counters pstats[k]): every
  ** one but the sink, the copies and the first task's chain all pushing
  ** into gather (owned), which passes on to the one sink they share; or,
  ** with share, every one, each copy's sink a member of it. */
  sl_task **par; /* owned */
  int npar;
  sl_operator ***pops;
  sl_stats *pstats;
  sl_operator *gather;
  /* or, for a sink format without a header, each copy is the whole chain,
  ** its own op_sink writing to a member of this share (owned), else NULL */
  struct sl_sink_share *share;
  /* or, for a GROUP BY (sl_psource.exchange_at), the tasks' copies of the
  ** operators before the aggregate push into the ports of this exchange
  ** (owned), whose nlane lanes are copies of the rest but the sink (lane
  ** 0's is in ops, lane k's in pops[k - 1]), all pushing into gather;
  ** lane k's counters are lstats[k] (owned) */
  struct sl_exchange *exch;
  sl_stats *lstats;
  int nlane;
  /* its source keeps state per input partition (state_topic =>): ops are
  ** the router (op_partition.c, a copy of the plan's operators per owned
  ** partition) and the sink; its state is in Kafka, not in the run's
  ** checkpoints */
  int pstate;
} sl_lquery;

struct sl_task {
  const sl_psource *plan; /* what it reads (the run's plan) */
  sl_source *src;         /* owned */
  sl_decoder *dec;        /* owned, created when it starts */
  sl_dlq *dlq;            /* its source's dead-letter sink (owned; src->dlq), or NULL */
  sl_operator *head;      /* the first operator fed (owned by a query or the run) */
  sl_stats stats;         /* records in, decode rejections */
  sl_err err;
  int reported; /* its failure was reported when it happened */
  /* stops as at an interrupt when either is set (the engine's, the run's) */
  volatile sig_atomic_t *interrupted, *stop;
  pthread_t thread;
  /* checkpoints (a state directory) */
  sl_ckpt *ckpt;   /* the store, or NULL */
  int64_t ckpt_ms; /* how often */
  /* a source with per-partition state (sl_source.per_partition): how often
  ** every owned partition's state is written (checkpoint_interval) */
  int64_t pstate_ms;
  sl_lquery **qs; /* the queries it feeds (their operators' state) */
  int nq;
  sl_ckgroup *group; /* the tasks it checkpoints with (owned by the run), or NULL */
  /* the key of its source's position in the checkpoint (owner: its name):
  ** "source", or "source-N" for the N-th task of the same name (an
  ** interval join's right input is named after its query too) */
  char pos_key[24];
  /* the queries whose state its pushes grow (qs and the interval joins
  ** whose right side it feeds): checked against max_query_memory after each
  ** batch (borrowed) */
  sl_lquery **watch;
  int nwatch;
  /* the longest string or blob its queries may build: the smallest
  ** max_query_memory among them, at most SL_MAX_LENGTH (0: that) */
  size_t max_len;
  int64_t nckpt, nfailed;            /* checkpoints written, failed */
  int64_t ckpt_bytes, ckpt_us;       /* the last one's size and duration */
  int resumed;                       /* started from a checkpoint */
  int64_t restore_bytes, restore_us; /* what was loaded from it, and how long that took */
  int64_t ckpt_wall;                 /* when the last one was written (epoch ms), 0: none */
  /* the caller's queries it feeds: when every one of them was terminated
  ** alone, the task stops */
  sl_lquery **tops;
  int ntop;
  /* live counters, read by other threads (sl_run_query_info) */
  int done;                /* the task has ended (its err is then final) */
  int64_t lag;             /* the source's lag as last seen, -1 unknown */
  uint64_t lat[SL_LAT_NB]; /* batches by how long decode + push took */
  int64_t lat_us, nbatch;  /* their total duration, count */
  /* lag per partition (Kafka): nplag (partition, lag) pairs, each read alone */
  int32_t ppart[SL_PLAG_MAX];
  int64_t plag[SL_PLAG_MAX];
  int nplag;
};

/* A task reading src (taken) as plan describes it. */
/* Note q's sources' counts now (in_at_stop, bytes_at_stop): what a query
** stopped alone (terminated, or failed by itself) shows from now on. */
void sl_lquery_note_stop(sl_lquery *q);
sl_task *sl_task_new(const sl_psource *plan, sl_source *src);
void sl_task_free(sl_task *t);
/* Load t's last checkpoint (source position and the state of every
** operator of t->qs) from t->ckpt, before its first batch.  0, or -1 with
** err set (also when an operator's state cannot be checkpointed). */
int sl_task_restore(sl_task *t, sl_err *err);
/* Drive t until its source ends, a consumer stops, it fails (t->err) or is
** stopped; then t->done.  sl_task_thread is the same for pthread_create,
** and reports a failure at once on stderr. */
void sl_task_run(sl_task *t);
void *sl_task_thread(void *arg);
/* The state of t seen from another thread: 0 running, 1 ended, 2 failed. */
int sl_task_state(const sl_task *t);

#endif /* SLUICE_TASK_H */
