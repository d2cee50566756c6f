/*
** run.h - the runtime: a run turns a plan into live operators and tasks,
** opens its connectors, restores its checkpoints, runs its tasks, and
** answers for its queries while they run (state, counters, terminate).
**
** A run has one task per source of its plan, each on a thread of its own
** when executed threaded; a named stream read by several queries is one
** task whose chain ends in a fanout to every reader, so it is computed
** once.  Runs read nothing of the catalog: what they need was settled when
** the plan was made, or comes in sl_run_cfg.
*/
#ifndef SLUICE_RUN_H
#define SLUICE_RUN_H

#include <signal.h>

#include "plan.h"
#include "task.h"

typedef struct sl_run sl_run;

/* What the engine lends a run. */
typedef struct sl_run_cfg {
  sl_ckpt *ckpt;   /* the checkpoint store, or NULL: nothing is checkpointed */
  int64_t ckpt_ms; /* how often each task checkpoints (with a store) */
  /* the engine's interrupt flag (Ctrl-C): tasks stop as at a clean stop
  ** when it is set; may be NULL */
  volatile sig_atomic_t *interrupted;
} sl_run_cfg;

/* Make a run of plan (taken: freed with the run, also on failure): a live
** operator for every operator spec, every source opened, every sink opened,
** every join's table read, and, with cfg->ckpt, every task's last
** checkpoint loaded.  Nothing runs yet.  NULL with err set. */
sl_run *sl_run_new(sl_plan *plan, const sl_run_cfg *cfg, sl_err *err);
/* A run of plan as sl_run_new makes it, but plan stays the caller's (it
** must outlive the run): a subquery's plan, run again per evaluation. */
sl_run *sl_run_borrow(const sl_plan *plan, const sl_run_cfg *cfg, sl_err *err);
/* Register the runner of subqueries with the VM (run_subq.c): a subquery
** is run as a run of its own plan on the thread that evaluates it. */
void sl_run_subq_register(void);
/* Start every task of the run and wait until all have finished (bounded
** sources ended, a consumer stopped, an error, or an interrupt).  With
** threaded != 0 each task runs on its own thread.  Returns 0, or -1 with the
** first task error in err ("q1: data.json:3: ..."). */
int sl_run_execute(sl_run *run, int threaded, sl_err *err);
/* Ask the tasks of run (only this run) to stop as an interrupt does; safe
** from another thread while sl_run_execute runs; it then returns 0. */
void sl_run_stop(sl_run *run);
/* Append "q1: 10 in, 9 out, 1 rejected" lines, one per query, and the
** checkpoint counts of each checkpointed task. */
void sl_run_stats(sl_run *run, sl_buf *out, int64_t *rejected_total);
void sl_run_free(sl_run *run);

/* ---- one query of a running run, for a server (any thread) ---- */
enum { SL_QUERY_RUNNING, SL_QUERY_FINISHED, SL_QUERY_FAILED, SL_QUERY_TERMINATED };
typedef struct sl_query_info {
  const char *id;  /* "q3" (owned by the run) */
  const char *sql; /* its statement's text, sqllen bytes (not terminated) */
  int sqllen;
  int sink;          /* it writes INTO a sink (else rows go to a callback) */
  int state;         /* SL_QUERY_* */
  const char *error; /* why it failed (owned by the run), else NULL */
  /* its internal topic: the repartition topic its stages meet at
  ** (plan_repart.c; owned by the run), else NULL */
  const char *repart_topic;
  int64_t in, out, rejected, bytes_in, bytes_out, groups;
  int64_t state_bytes; /* memory of its open groups or kept rows (operator.h) */
  /* a join of two inputs (join set): per side its distinct keys kept and
  ** the bytes of their records (sl_stats.jkeys, jbytes) */
  int join;
  int64_t jkeys[2], jbytes[2];
  int64_t lag;             /* consumer lag of its Kafka sources, -1 unknown */
  int64_t ckpt_age_ms;     /* since its source's last checkpoint, -1 none */
  uint64_t lat[SL_LAT_NB]; /* batches by decode + push time (not cumulative) */
  int64_t lat_us, nbatch;
  /* the consumer lag per partition of its Kafka sources (source: the
  ** index of the plan's source), as last seen */
  int npart;
  struct {
    int source;
    int32_t partition;
    int64_t lag;
  } parts[SL_PLAG_MAX];
  /* state kept per partition (state_topic =>): pstate 1, the partitions
  ** this process owns now (nowned of them in owned), the states restored
  ** from the state topic (their bytes, the time reading and loading them
  ** took), the writes of every owned partition's state, and the records
  ** dropped as replays of a repartition topic's writer */
  int pstate, nowned;
  int32_t owned[SL_PLAG_MAX];
  int64_t ps_restored, ps_restore_bytes, ps_restore_us, ps_written, ps_replays;
} sl_query_info;
/* How many queries the caller planned into the run's plan (sl_plan_query),
** and a snapshot of query i of them, read while the run's tasks run:
** counters are read without stopping them (each exact, not all at one
** instant). */
int sl_run_ntop(const sl_run *run);
void sl_run_query_info(sl_run *run, int i, sl_query_info *qi);
/* Terminate one query of run, by id, while the run goes on: it gets no more
** rows, its sink flushes what it has, and a task that feeds only
** terminated queries stops as after an interrupt (checkpointed).  Safe from
** any thread.  1 if run has that query, else 0. */
int sl_run_terminate(sl_run *run, const char *id);
/* The plan run was made of (owned by the run: valid while it is). */
const sl_plan *sl_run_plan(const sl_run *run);

#endif /* SLUICE_RUN_H */
