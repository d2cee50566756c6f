/*
** run.c - a plan made live (run.h): operators made from their specs and
** chained, sources opened into tasks, streams' fanouts, checkpoints
** restored; then the tasks run, on threads of their own, while other
** threads read their counters and terminate queries.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run.h"

struct sl_run {
  sl_plan *plan;   /* owned */
  sl_task **tasks; /* one per plan source, same index (owned) */
  int ntask;
  sl_lquery **queries; /* one per plan query, same index (owned) */
  int nquery;
  sl_operator **fanouts; /* one per plan stream, same index (owned) */
  int nstream;
  int *tops; /* indexes of the caller's queries, in order */
  int ntop;
  sl_ckgroup **groups; /* the checkpoint groups (owned; their members borrowed) */
  int ngroup;
  volatile sig_atomic_t stop; /* sl_run_stop: this run only */
  int borrowed;               /* plan is the caller's (sl_run_borrow): not freed with the run */
};

void sl_run_stop(sl_run *run) {
  run->stop = 1;
}

int sl_run_ntop(const sl_run *run) {
  return run->ntop;
}

const sl_plan *sl_run_plan(const sl_run *run) {
  return run->plan;
}

/* ---- making a run ------------------------------------------------------------ */

/* 1 when source i of plan keeps its queries' state per partition
** (state_topic =>, sl_source.per_partition). */
static int pstate_source(const sl_plan *plan, int i) {
  if (i < 0 || i >= plan->nsource || !plan->sources[i]->conn) return 0;
  return sl_opt_find_unused((sl_options *)&plan->sources[i]->opts, "state_topic") != NULL;
}

/* 1 when source i runs as parallel tasks (the run keeps no checkpoints,
** its queries no state per partition), else 0. */
static int runs_parallel(const sl_run *run, int i, const sl_run_cfg *cfg) {
  const sl_psource *ps = run->plan->sources[i];
  return ps->parallel > 1 && ps->conn && !cfg->ckpt && !pstate_source(run->plan, i);
}

/* Query q (its operators made) keeps its state per partition of its
** source: its operators before the sink become the router's template
** (op_partition.c), which makes a copy per partition; q->ops is then the
** router and the sink.  0, or -1 with err set when the query is not one
** that can (a query that reads its source, directly or through a stream,
** and writes INTO a sink). */
static int make_router(sl_lquery *q, const sl_make_env *env, sl_err *err) {
  const sl_pquery *pq = q->plan;
  if (!q->nops || pq->ops[q->nops - 1].kind != &sl_op_sink || pq->source2 >= 0 ||
      pq->out_stream >= 0 || q->ops[0]->port) {
    sl_err_set(err, SL_EBIND,
               "%s: state_topic => needs a query that reads its source (or a stream of it) and "
               "writes INTO a sink, without a join of two streams",
               pq->id);
    return -1;
  }
  int nc = q->nops - 1;
  sl_operator *r = sl_op_partition_new(pq->ops, nc, q->ops[nc], env, pq->fp, err);
  if (!r) return -1;
  for (int k = 0; k < nc; k++)
    q->ops[k]->vt->free(q->ops[k]);
  q->ops[0] = r;
  q->ops[1] = q->ops[nc];
  q->nops = 2;
  q->pstate = 1;
  return 0;
}

/* 1 when query qi of plan may run as parallel tasks that each encode
** their rows for one shared sink (sl_sink_share): its source is planned
** parallel and its sink's format has no header. */
static int shares_sink(const sl_plan *plan, int qi) {
  const sl_pquery *pq = plan->queries[qi];
  if (pq->source < 0 || !pq->nops || pq->ops[pq->nops - 1].kind != &sl_op_sink) return 0;
  const sl_psource *ps = plan->sources[pq->source];
  const sl_sink_spec *sp = pq->ops[pq->nops - 1].spec;
  return ps->parallel > 1 && ps->par_query == qi && ps->exchange_at < 0 && !sp->format->begin &&
         !pstate_source(plan, pq->source);
}

/* Query qi's live operators, chained (ckpt: the run keeps checkpoints, so
** it runs as one task).  0, or -1 with err set. */
static int make_query(sl_run *run, int qi, const sl_make_env *env0, int ckpt, sl_err *err) {
  const sl_pquery *pq = run->plan->queries[qi];
  sl_lquery *q = run->queries[qi] = sl_calloc(1, sizeof *q);
  q->plan = pq;
  sl_make_env shared = *env0;
  const sl_make_env *env = env0;
  if (!ckpt && shares_sink(run->plan, qi)) { /* its sink is opened as a share's member */
    q->share = sl_sink_share_new();
    shared.open_sink = sl_sink_share_open;
    shared.open_ud = q->share;
    env = &shared;
  }
  q->ops = sl_calloc((size_t)(pq->nops ? pq->nops : 1), sizeof(*q->ops));
  for (int k = 0; k < pq->nops; k++) {
    sl_operator *op = pq->ops[k].kind->make(pq->ops[k].spec, env, err);
    if (!op) return -1;
    op->stats = &q->stats;
    op->qname = pq->id;
    q->stats.mem_limit = pq->max_mem;
    if (op->port) {
      op->port->stats = &q->stats;
      op->port->qname = pq->id;
      op->port->halt = &q->stopped;
    }
    if (k) q->ops[k - 1]->next = op;
    q->ops[q->nops++] = op;
  }
  if (pstate_source(run->plan, pq->source) && make_router(q, env, err)) return -1;
  if (pq->top && q->nops) q->ops[0]->halt = &q->stopped;
  if (pq->out_stream >= 0 && q->nops) q->ops[q->nops - 1]->next = run->fanouts[pq->out_stream];
  return 0;
}

/* Open source i of the plan (part split of nsplit: sl_options.split; 0
** and 0 for the whole input; a part after the first is told the first's
** source, run->tasks[i]'s).  The source, or NULL with err set. */
static sl_source *open_part(sl_run *run, int i, int split, int nsplit, const sl_run_cfg *cfg,
                            sl_err *err) {
  const sl_psource *ps = run->plan->sources[i];
  if (!ps->conn) return sl_table_source_new(ps->table);
  sl_options o;
  sl_options_copy(&o, &ps->opts);
  o.declared = ps->declared ? &ps->desc->schema : NULL;
  o.interrupted = cfg->interrupted;
  char feeds[17], inst[40];
  sl_plan_source_identity(run->plan, i, feeds);
  o.feeds_id = feeds;
  if (cfg->ckpt) {
    snprintf(inst, sizeof inst, "%s-%d", sl_ckpt_id(cfg->ckpt), i);
    o.instance_id = inst;
  }
  o.split = split;
  o.nsplit = nsplit;
  o.split_first = split > 0 ? run->tasks[i]->src : NULL;
  o.min_split = ps->min_split;
  sl_source *src = ps->conn->open_source(&o, err);
  sl_options_free(&o);
  if (!src) {
    if (!err->line) {
      err->line = ps->line;
      err->col = ps->col;
    }
    return NULL;
  }
  /* the columns as planned: an open schema grew while queries were bound */
  sl_schema_free(&src->schema);
  sl_schema_copy(&src->schema, &ps->desc->schema);
  return src;
}

static void watch_query(sl_task *t, sl_lquery *q);

/* Part k of m of source i opened as one more parallel task of query q: the
** task (in q->par), an array for its nops copies of q's operators (in
** q->pops, made and chained by the caller) and its counters (q->pstats,
** limited as the query is).  NULL with err set when the part does not
** open. */
static sl_task *part_task(sl_run *run, int i, int k, int m, sl_lquery *q, int nops,
                          const sl_run_cfg *cfg, sl_err *err) {
  sl_source *src = open_part(run, i, k, m, cfg, err);
  if (!src) return NULL;
  sl_task *t = q->par[q->npar] = sl_task_new(run->plan->sources[i], src);
  q->pops[q->npar] = sl_calloc((size_t)(nops ? nops : 1), sizeof(sl_operator *));
  q->pstats[q->npar++].mem_limit = q->plan->max_mem;
  t->stop = &run->stop;
  t->interrupted = cfg->interrupted;
  t->tops = sl_calloc(1, sizeof(*t->tops));
  t->tops[t->ntop++] = q;
  watch_query(t, q);
  return t;
}

/* Source i's query runs as m parallel tasks (its first task made): m - 1
** more tasks, each reading its part of the source through its own copy of
** the query's operators: every one, its sink a member of the query's
** shared sink (sl_lquery.share), or every one but the sink, with a gather
** in front of the sink for all of them (sl_lquery.par).  0, or -1 with err
** set (what was made is freed with the run). */
static int make_parallel(sl_run *run, int i, int m, const sl_run_cfg *cfg, sl_err *err) {
  const sl_psource *ps = run->plan->sources[i];
  SL_ASSERT(ps->par_query >= 0);
  sl_lquery *q = run->queries[ps->par_query];
  const sl_pquery *pq = q->plan;
  /* operators copied: all, each task encoding for a member of the shared
  ** sink; else all but the sink, which the tasks reach through a gather */
  int nc = q->share ? pq->nops : pq->nops - 1;
  sl_make_env env = {cfg->interrupted, q->share ? sl_sink_share_open : NULL, q->share};
  if (!q->share) {
    q->gather = sl_op_gather_new(q->ops[nc], m);
    if (nc)
      q->ops[nc - 1]->next = q->gather;
    else
      run->tasks[i]->head = q->gather;
  }
  q->par = sl_calloc((size_t)(m - 1), sizeof(*q->par));
  q->pops = sl_calloc((size_t)(m - 1), sizeof(*q->pops));
  q->pstats = sl_calloc((size_t)(m - 1), sizeof(*q->pstats));
  for (int k = 1; k < m; k++) {
    sl_task *t = part_task(run, i, k, m, q, nc, cfg, err);
    if (!t) return -1;
    sl_operator **ops = q->pops[q->npar - 1];
    sl_stats *st = &q->pstats[q->npar - 1];
    for (int j = 0; j < nc; j++) {
      sl_operator *op = ops[j] = pq->ops[j].kind->make(pq->ops[j].spec, &env, err);
      if (!op) return -1;
      op->stats = st;
      op->qname = pq->id;
      if (j) ops[j - 1]->next = op;
    }
    if (nc) {
      ops[0]->halt = &q->stopped;
      ops[nc - 1]->next = q->gather; /* NULL: the copy ends with its own sink */
    }
    t->head = nc ? ops[0] : q->gather;
  }
  return 0;
}

/* Source i's GROUP BY query runs as m parallel tasks (its first task made)
** meeting at an exchange before its aggregate, operator a
** (op_exchange.c): m - 1 more tasks, each reading its part of the source
** through its own copy of the operators before a; m lanes, copies of the
** operators from a to the sink (lane 0's: the query's own), all pushing
** into a gather in front of the one sink.  0, or -1 with err set (what was
** made is freed with the run). */
static int make_exchange(sl_run *run, int i, int m, const sl_run_cfg *cfg, sl_err *err) {
  const sl_psource *ps = run->plan->sources[i];
  sl_lquery *q = run->queries[ps->par_query];
  const sl_pquery *pq = q->plan;
  int a = ps->exchange_at, ns = pq->nops - 1; /* the aggregate, the sink */
  SL_ASSERT(a >= 0 && a < ns && pq->ops[ns].kind == &sl_op_sink && q->nops == pq->nops);
  sl_make_env env = {cfg->interrupted, NULL, NULL};
  q->gather = sl_op_gather_new(q->ops[ns], m);
  q->ops[ns - 1]->next = q->gather;
  q->nlane = m;
  q->lstats = sl_calloc((size_t)m, sizeof(*q->lstats));
  q->par = sl_calloc((size_t)(m - 1), sizeof(*q->par));
  q->pops = sl_calloc((size_t)(m - 1), sizeof(*q->pops));
  q->pstats = sl_calloc((size_t)(m - 1), sizeof(*q->pstats));
  sl_operator **tails = sl_calloc((size_t)m, sizeof(*tails));
  sl_stats **lst = sl_calloc((size_t)m, sizeof(*lst));
  sl_operator **heads = sl_calloc((size_t)m, sizeof(*heads)); /* each task's last before a */
  sl_task **tasks = sl_calloc((size_t)m, sizeof(*tasks));
  /* each lane holds an equal share of the query's state */
  int64_t share = pq->max_mem > 0 ? (pq->max_mem + m - 1) / m : 0;
  for (int k = 0; k < m; k++) {
    lst[k] = &q->lstats[k];
    lst[k]->mem_limit = share;
  }
  for (int k = a; k < ns; k++)
    q->ops[k]->stats = lst[0];
  tails[0] = q->ops[a];
  heads[0] = a ? q->ops[a - 1] : NULL;
  tasks[0] = run->tasks[i];
  int rc = 0;
  for (int k = 1; k < m && !rc; k++) {
    sl_task *t = tasks[k] = part_task(run, i, k, m, q, pq->nops, cfg, err);
    if (!t) {
      rc = -1;
      break;
    }
    sl_operator **ops = q->pops[q->npar - 1];
    sl_stats *st = &q->pstats[q->npar - 1];
    for (int j = 0; j < ns && !rc; j++) {
      sl_operator *op = ops[j] = pq->ops[j].kind->make(pq->ops[j].spec, &env, err);
      if (!op) {
        rc = -1;
        break;
      }
      op->stats = j < a ? st : lst[k];
      op->qname = pq->id;
      if (j && j != a) ops[j - 1]->next = op;
    }
    if (rc) break;
    ops[ns - 1]->next = q->gather;
    if (a) ops[0]->halt = &q->stopped;
    tails[k] = ops[a];
    heads[k] = a ? ops[a - 1] : NULL;
  }
  if (!rc) {
    /* a part of a file has no partitions: its task's index is the clock
    ** its rows' event time is followed by (op_exchange.c) */
    int by_task = !tasks[0]->src->norigins;
    q->exch = sl_exchange_new(pq->ops[a].spec, m, tails, lst, &q->stats, by_task, pq->id);
    for (int k = 0; k < m; k++) {
      sl_operator *port = sl_exchange_port(q->exch, k);
      if (heads[k]) {
        heads[k]->next = port;
      } else { /* the port is the query's first operator: it carries the flag */
        port->halt = &q->stopped;
        q->ops[0]->halt = NULL;
        tasks[k]->head = port;
      }
      if (k) tasks[k]->head = a ? q->pops[k - 1][0] : port;
      if (by_task) tasks[k]->src->norigins = m;
    }
  }
  free(tails);
  free(lst);
  free(heads);
  free(tasks);
  return rc;
}

/* Source i keeps state per partition: the one query it feeds (directly or
** through a stream read by that query alone) has a router (make_router),
** whose hooks the source calls.  0, or -1 with err set. */
static int link_router(sl_run *run, int i, sl_task *t, const sl_run_cfg *cfg, sl_err *err) {
  const sl_psource *ps = run->plan->sources[i];
  sl_lquery *q = NULL;
  int n = 0;
  if (ps->head == SL_HEAD_QUERY) {
    q = run->queries[ps->head_index];
    n = 1;
  } else if (ps->head == SL_HEAD_STREAM) {
    for (int k = 0; k < run->nquery; k++)
      if (run->plan->queries[k]->in_stream == ps->head_index ||
          run->plan->queries[k]->in_stream2 == ps->head_index)
        q = run->queries[k], n++;
  }
  if (n != 1 || !q->pstate) {
    sl_err_setpos(err, SL_EBIND, ps->line, ps->col,
                  "state_topic => keeps the state of the one query reading this source per "
                  "partition: %s",
                  n ? "it is read by more than one query" : "nothing reads it that way");
    return -1;
  }
  t->src->pstate = sl_op_partition_hooks(q->ops[0]);
  t->pstate_ms = cfg->ckpt_ms > 0 ? cfg->ckpt_ms : 5000;
  return 0;
}

/* Open source i of the plan as the run's task i (and, when its query runs
** as parallel tasks, the others: make_parallel).  0, or -1 with err set. */
static int make_task(sl_run *run, int i, const sl_run_cfg *cfg, sl_err *err) {
  const sl_psource *ps = run->plan->sources[i];
  /* checkpoints are taken per task and source: one task (the planner
  ** already plans one under a state directory) */
  int want = runs_parallel(run, i, cfg) ? ps->parallel : 0;
  sl_source *src = open_part(run, i, 0, want, cfg, err);
  if (!src) return -1;
  SL_ASSERT(ps->head_index >= 0 &&
            ps->head_index < (ps->head == SL_HEAD_STREAM ? run->nstream : run->plan->nquery));
  sl_task *t = run->tasks[i] = sl_task_new(ps, src);
  if (ps->dlq_conn) { /* dlq => sink(...) */
    sl_options o;
    sl_options_copy(&o, &ps->dlq_opts);
    o.check_only = 0;
    sl_sink *sink = ps->dlq_conn->open_sink(&o, err);
    sl_options_free(&o);
    if (!sink) return -1;
    src->dlq = t->dlq = sl_dlq_new(sink);
  }
  t->stop = &run->stop;
  t->interrupted = cfg->interrupted;
  t->head = want && ps->head == SL_HEAD_STREAM ? run->queries[ps->par_query]->ops[0] /* direct */
            : ps->head == SL_HEAD_STREAM       ? run->fanouts[ps->head_index]
            : ps->head == SL_HEAD_PORT         ? run->queries[ps->head_index]->ops[0]->port
                                               : run->queries[ps->head_index]->ops[0];
  SL_ASSERT(t->head != NULL); /* every source feeds something */
  t->tops = sl_calloc((size_t)(ps->ntop ? ps->ntop : 1), sizeof(*t->tops));
  for (int k = 0; k < ps->ntop; k++)
    t->tops[t->ntop++] = run->queries[ps->tops[k]];
  if (src->per_partition && link_router(run, i, t, cfg, err)) return -1;
  if (want && src->nsplit > 1)
    return ps->exchange_at >= 0 ? make_exchange(run, i, src->nsplit, cfg, err)
                                : make_parallel(run, i, src->nsplit, cfg, err);
  return 0;
}

/* q joins what t watches: its state against max_query_memory, and the
** longest value t's thread may build. */
static void watch_query(sl_task *t, sl_lquery *q) {
  t->watch = sl_realloc(t->watch, sizeof(*t->watch) * (size_t)(t->nwatch + 1));
  t->watch[t->nwatch++] = q;
  size_t lim = q->plan->max_mem > 0 && q->plan->max_mem < SL_MAX_LENGTH ? (size_t)q->plan->max_mem
                                                                        : SL_MAX_LENGTH;
  if (!t->max_len || lim < t->max_len) t->max_len = lim;
}

/* Every query fed by a task (directly or through streams) is checkpointed
** with it; every query knows its tasks, and its tasks watch its memory. */
static void link_tasks(sl_run *run) {
  for (int k = 0; k < run->nquery; k++) {
    sl_lquery *q = run->queries[k];
    SL_ASSERT(q->plan->source >= 0 && q->plan->source < run->ntask);
    sl_task *t = run->tasks[q->plan->source];
    q->task = t;
    if (q->plan->source2 >= 0) q->task2 = run->tasks[q->plan->source2];
    t->qs = sl_realloc(t->qs, sizeof(*t->qs) * (size_t)(t->nq + 1));
    t->qs[t->nq++] = q;
    watch_query(t, q);
    if (q->task2 && q->task2 != t) watch_query(q->task2, q);
  }
}

/* The checkpoint groups (task.h, sl_ckgroup): tasks joined by a query
** fed by two of them (an interval join), transitively.  Only with a state
** directory; a task alone has none. */
static void make_groups(sl_run *run) {
  int n = run->ntask;
  int *root = sl_calloc((size_t)(n ? n : 1), sizeof(int));
  for (int i = 0; i < n; i++)
    root[i] = i;
  for (int k = 0; k < run->nquery; k++) {
    const sl_lquery *q = run->queries[k];
    if (!q->task2 || q->task2 == q->task) continue;
    int a = q->plan->source, b = q->plan->source2;
    while (root[a] != a)
      a = root[a];
    while (root[b] != b)
      b = root[b];
    if (a != b) root[a > b ? a : b] = a < b ? a : b;
  }
  for (int i = 0; i < n; i++) {
    int r = i;
    while (root[r] != r)
      r = root[r];
    if (r == i) continue; /* a root: its group is made by its members */
    sl_task *head = run->tasks[r];
    if (!head->group) {
      head->group = sl_calloc(1, sizeof *head->group);
      pthread_mutex_init(&head->group->mu, NULL);
      pthread_cond_init(&head->group->cv, NULL);
      head->group->members = sl_calloc((size_t)n, sizeof(sl_task *));
      head->group->members[head->group->n++] = head;
      run->groups = sl_realloc(run->groups, sizeof(*run->groups) * (size_t)(run->ngroup + 1));
      run->groups[run->ngroup++] = head->group;
    }
    run->tasks[i]->group = head->group;
    head->group->members[head->group->n++] = run->tasks[i];
  }
  free(root);
}

/* The readers of each stream: the first operator (or its port) of every
** query reading it, in the order they were planned; but the one reader of
** a plain stream whose source runs as parallel tasks, which its tasks
** feed directly (sl_psource.par_query). */
static void attach_readers(sl_run *run, const sl_run_cfg *cfg) {
  for (int k = 0; k < run->nquery; k++) {
    const sl_pquery *pq = run->plan->queries[k];
    sl_lquery *q = run->queries[k];
    int direct = pq->source >= 0 && run->plan->sources[pq->source]->head == SL_HEAD_STREAM &&
                 run->plan->sources[pq->source]->par_query == k &&
                 runs_parallel(run, pq->source, cfg);
    if (pq->in_stream >= 0 && !direct) sl_op_fanout_add(run->fanouts[pq->in_stream], q->ops[0]);
    SL_ASSERT(pq->in_stream2 < 0 || q->ops[0]->port);
    if (pq->in_stream2 >= 0) sl_op_fanout_add(run->fanouts[pq->in_stream2], q->ops[0]->port);
  }
}

static sl_run *run_make(sl_plan *plan, int borrowed, const sl_run_cfg *cfg, sl_err *err);

sl_run *sl_run_new(sl_plan *plan, const sl_run_cfg *cfg, sl_err *err) {
  sl_run_subq_register();
  return run_make(plan, 0, cfg, err);
}

sl_run *sl_run_borrow(const sl_plan *plan, const sl_run_cfg *cfg, sl_err *err) {
  return run_make((sl_plan *)plan, 1, cfg, err);
}

static sl_run *run_make(sl_plan *plan, int borrowed, const sl_run_cfg *cfg, sl_err *err) {
  sl_run *run = sl_calloc(1, sizeof *run);
  run->plan = plan;
  run->borrowed = borrowed;
  run->nstream = plan->nstream;
  run->fanouts = sl_calloc((size_t)(plan->nstream ? plan->nstream : 1), sizeof(*run->fanouts));
  for (int k = 0; k < plan->nstream; k++)
    run->fanouts[k] = sl_op_fanout_new();
  run->queries = sl_calloc((size_t)(plan->nquery ? plan->nquery : 1), sizeof(*run->queries));
  run->tops = sl_calloc((size_t)(plan->nquery ? plan->nquery : 1), sizeof(int));
  sl_make_env env = {.interrupted = cfg->interrupted};
  for (; run->nquery < plan->nquery; run->nquery++) {
    if (plan->queries[run->nquery]->top) run->tops[run->ntop++] = run->nquery;
    if (make_query(run, run->nquery, &env, cfg->ckpt != NULL, err)) goto fail;
  }
  attach_readers(run, cfg);
  run->tasks = sl_calloc((size_t)(plan->nsource ? plan->nsource : 1), sizeof(*run->tasks));
  for (; run->ntask < plan->nsource; run->ntask++)
    if (make_task(run, run->ntask, cfg, err)) goto fail;
  link_tasks(run);
  for (int i = 0; i < run->ntask; i++) {
    int same = 0;
    for (int j = 0; j < i; j++)
      same += !strcmp(run->tasks[j]->plan->name, run->tasks[i]->plan->name);
    if (same)
      snprintf(run->tasks[i]->pos_key, sizeof run->tasks[i]->pos_key, "source-%d", same + 1);
    else
      strcpy(run->tasks[i]->pos_key, "source");
  }
  if (cfg->ckpt) make_groups(run);
  for (int i = 0; cfg->ckpt && i < run->ntask; i++) {
    sl_task *t = run->tasks[i];
    t->ckpt = cfg->ckpt;
    t->ckpt_ms = cfg->ckpt_ms > 0 ? cfg->ckpt_ms : 5000;
    if (sl_task_restore(t, err)) goto fail;
  }
  return run;
fail:
  sl_run_free(run);
  return NULL;
}

/* ---- running ------------------------------------------------------------------- */

/* Every task of run into a new array (*n of them): the plan's sources'
** and the parallel tasks of their queries. */
static sl_task **all_tasks(const sl_run *run, int *n) {
  int total = run->ntask;
  for (int k = 0; k < run->nquery; k++)
    total += run->queries[k]->npar;
  sl_task **all = sl_calloc((size_t)(total ? total : 1), sizeof(*all));
  *n = 0;
  for (int i = 0; i < run->ntask; i++)
    all[(*n)++] = run->tasks[i];
  for (int k = 0; k < run->nquery; k++)
    for (int j = 0; j < run->queries[k]->npar; j++)
      all[(*n)++] = run->queries[k]->par[j];
  return all;
}

int sl_run_execute(sl_run *run, int threaded, sl_err *err) {
  int nall;
  sl_task **all = all_tasks(run, &nall);
  /* a checkpoint group's members meet to checkpoint, and parallel tasks
  ** share a sink: each on its thread */
  if ((threaded || run->ngroup || nall > run->ntask) && nall > 1) {
    int started = 0;
    for (; started < nall; started++)
      if (pthread_create(&all[started]->thread, NULL, sl_task_thread, all[started])) {
        sl_err_set(err, SL_EINTERNAL, "cannot start a thread");
        run->stop = 1; /* the others stop too */
        break;
      }
    for (int i = 0; i < started; i++)
      pthread_join(all[i]->thread, NULL);
  } else {
    for (int i = 0; i < nall; i++)
      sl_task_run(all[i]);
  }
  int nreported = 0;
  for (int i = 0; i < run->nquery; i++) /* failed alone: reported when they failed */
    nreported += run->queries[i]->error != NULL;
  for (int i = 0; i < nall; i++) {
    sl_task *t = all[i];
    /* parallel tasks of one source (one query) count once */
    int again = 0;
    for (int j = 0; j < i && t->reported && !again; j++)
      again = all[j]->reported && all[j]->plan == t->plan;
    nreported += t->reported && !again;
    if (t->err.code && !t->reported && !err->code)
      sl_err_set(err, t->err.code, "%s%s%s", t->plan->name, t->plan->name[0] ? ": " : "",
                 t->err.msg ? t->err.msg : "failed");
  }
  free(all);
  if (nreported && !err->code)
    sl_err_set(err, SL_EIO, "%d quer%s stopped with an error (reported above)", nreported,
               nreported == 1 ? "y" : "ies");
  return err->code ? -1 : 0;
}

/* ---- queries seen from other threads ------------------------------------------- */

/* Add task x's live counters to qi (src: the index of the plan's source
** it reads). */
static void add_task_info(int src, const sl_task *x, sl_query_info *qi) {
  qi->in += __atomic_load_n(&x->stats.in, __ATOMIC_RELAXED);
  qi->rejected += __atomic_load_n(&x->stats.rejected, __ATOMIC_RELAXED);
  qi->bytes_in += __atomic_load_n(&x->stats.bytes_in, __ATOMIC_RELAXED);
  int64_t lag = __atomic_load_n(&x->lag, __ATOMIC_RELAXED);
  if (lag >= 0) qi->lag = (qi->lag < 0 ? 0 : qi->lag) + lag;
  int64_t w = __atomic_load_n(&x->ckpt_wall, __ATOMIC_RELAXED);
  if (w > 0) {
    int64_t age = sl_wall_ms() - w;
    if (age < 0) age = 0;
    if (qi->ckpt_age_ms < 0 || age > qi->ckpt_age_ms) qi->ckpt_age_ms = age;
  }
  int np = __atomic_load_n(&x->nplag, __ATOMIC_ACQUIRE);
  for (int j = 0; j < np && qi->npart < SL_PLAG_MAX; j++) {
    qi->parts[qi->npart].source = src;
    qi->parts[qi->npart].partition = __atomic_load_n(&x->ppart[j], __ATOMIC_RELAXED);
    qi->parts[qi->npart++].lag = __atomic_load_n(&x->plag[j], __ATOMIC_RELAXED);
  }
  for (int j = 0; j < SL_LAT_NB; j++)
    qi->lat[j] += __atomic_load_n(&x->lat[j], __ATOMIC_RELAXED);
  qi->lat_us += __atomic_load_n(&x->lat_us, __ATOMIC_RELAXED);
  qi->nbatch += __atomic_load_n(&x->nbatch, __ATOMIC_RELAXED);
}

/* q keeps its state per partition: what its router and source say of it
** (read while they run). */
static void pstate_info(const sl_lquery *q, sl_query_info *qi) {
  const sl_source *src = q->task->src;
  qi->pstate = 1;
  qi->nowned = sl_op_partition_info(q->ops[0], qi->owned, SL_PLAG_MAX, &qi->ps_replays);
  if (qi->nowned < 0) qi->nowned = 0;
  qi->ps_restored = __atomic_load_n(&src->ps_restored, __ATOMIC_RELAXED);
  qi->ps_restore_bytes = __atomic_load_n(&src->ps_restore_bytes, __ATOMIC_RELAXED);
  qi->ps_restore_us = __atomic_load_n(&src->ps_restore_us, __ATOMIC_RELAXED);
  qi->ps_written = __atomic_load_n(&src->ps_written, __ATOMIC_RELAXED);
}

/* The counters of q's exchange lanes (none without one) added to sum:
** their rejections, late rows and state; the peaks as a sum of the
** lanes' (an upper bound).  Read while the lanes run: relaxed loads. */
static void lanes_add(const sl_lquery *q, sl_stats *sum) {
  for (int k = 0; k < q->nlane; k++) {
    const sl_stats *l = &q->lstats[k];
    sum->rejected += __atomic_load_n(&l->rejected, __ATOMIC_RELAXED);
    sum->late += __atomic_load_n(&l->late, __ATOMIC_RELAXED);
    sum->groups += __atomic_load_n(&l->groups, __ATOMIC_RELAXED);
    sum->groups_peak += __atomic_load_n(&l->groups_peak, __ATOMIC_RELAXED);
    sum->state_bytes += __atomic_load_n(&l->state_bytes, __ATOMIC_RELAXED);
    sum->state_peak += __atomic_load_n(&l->state_peak, __ATOMIC_RELAXED);
  }
}

void sl_run_query_info(sl_run *run, int i, sl_query_info *qi) {
  sl_lquery *q = run->queries[run->tops[i]];
  memset(qi, 0, sizeof *qi);
  qi->id = q->plan->id;
  qi->sql = q->plan->sql;
  qi->sqllen = q->plan->sqllen;
  qi->sink = q->plan->into;
  qi->repart_topic = q->plan->repart_topic;
  int a = sl_task_state(q->task), b = q->task2 ? sl_task_state(q->task2) : 1;
  for (int k = 0; k < q->npar; k++) { /* parallel tasks: one failed, or all ended */
    int p = sl_task_state(q->par[k]);
    a = a == 2 || p == 2 ? 2 : a == 1 && p == 1 ? 1 : 0;
  }
  int stopped = __atomic_load_n(&q->stopped, __ATOMIC_ACQUIRE);
  const char *alone = __atomic_load_n(&q->error, __ATOMIC_ACQUIRE);
  qi->state = alone              ? SL_QUERY_FAILED
              : stopped          ? SL_QUERY_TERMINATED
              : a == 2 || b == 2 ? SL_QUERY_FAILED
              : a == 1 && b == 1 ? SL_QUERY_FINISHED
                                 : SL_QUERY_RUNNING;
  if (alone) {
    qi->error = alone;
  } else if (a == 2 || b == 2) {
    const sl_task *bad = b == 2 ? q->task2 : q->task;
    for (int k = 0; k < q->npar && sl_task_state(bad) != 2; k++)
      bad = q->par[k];
    qi->error = bad->err.msg ? bad->err.msg : "failed";
  }
  qi->out = __atomic_load_n(&q->stats.out, __ATOMIC_RELAXED);
  qi->rejected = __atomic_load_n(&q->stats.rejected, __ATOMIC_RELAXED);
  qi->bytes_out = __atomic_load_n(&q->stats.bytes_out, __ATOMIC_RELAXED);
  qi->groups = __atomic_load_n(&q->stats.groups, __ATOMIC_RELAXED);
  qi->state_bytes = __atomic_load_n(&q->stats.state_bytes, __ATOMIC_RELAXED);
  qi->join = __atomic_load_n(&q->stats.join, __ATOMIC_RELAXED);
  for (int k = 0; k < 2; k++) {
    qi->jkeys[k] = __atomic_load_n(&q->stats.jkeys[k], __ATOMIC_RELAXED);
    qi->jbytes[k] = __atomic_load_n(&q->stats.jbytes[k], __ATOMIC_RELAXED);
  }
  qi->lag = -1;
  qi->ckpt_age_ms = -1;
  add_task_info(q->plan->source, q->task, qi);
  if (q->task2) add_task_info(q->plan->source2, q->task2, qi);
  for (int k = 0; k < q->npar; k++) {
    add_task_info(q->plan->source, q->par[k], qi);
    qi->rejected += __atomic_load_n(&q->pstats[k].rejected, __ATOMIC_RELAXED);
    qi->out += __atomic_load_n(&q->pstats[k].out, __ATOMIC_RELAXED);
    qi->bytes_out += __atomic_load_n(&q->pstats[k].bytes_out, __ATOMIC_RELAXED);
  }
  if (q->nlane) {
    sl_stats l = {0};
    lanes_add(q, &l);
    qi->rejected += l.rejected;
    qi->groups += l.groups;
    qi->state_bytes += l.state_bytes;
  }
  if (q->pstate) pstate_info(q, qi);
  if (stopped) {
    /* what its sources had read when it stopped: they may read on for the
    ** other readers of a shared stream, and lag for them */
    qi->in = __atomic_load_n(&q->in_at_stop, __ATOMIC_RELAXED);
    qi->bytes_in = __atomic_load_n(&q->bytes_at_stop, __ATOMIC_RELAXED);
    qi->lag = -1;
    qi->npart = 0;
  }
}

int sl_run_terminate(sl_run *run, const char *id) {
  int found = 0;
  for (int i = 0; i < run->ntop; i++) {
    sl_lquery *q = run->queries[run->tops[i]];
    /* the query, and stage 1 of a query split through a repartition topic */
    if (strcmp(q->plan->id, id) && !(q->plan->stage_of && !strcmp(q->plan->stage_of, id))) continue;
    found = 1;
    if (__atomic_load_n(&q->stopped, __ATOMIC_ACQUIRE)) continue;
    sl_lquery_note_stop(q);
    __atomic_store_n(&q->stopped, 1, __ATOMIC_RELEASE);
  }
  return found;
}

/* ---- the end ------------------------------------------------------------------- */

void sl_run_stats(sl_run *run, sl_buf *out, int64_t *rejected_total) {
  int64_t total = 0;
  for (int i = 0; i < run->nquery; i++) {
    sl_lquery *q = run->queries[i];
    sl_stats st = q->stats; /* with its exchange lanes' */
    lanes_add(q, &st);
    int64_t in = 0, rej = st.rejected, nout = st.out;
    for (int k = 0; k < 2 + q->npar; k++) { /* a join of two inputs, parallel tasks: all */
      const sl_task *t = k == 0 ? q->task : k == 1 ? q->task2 : q->par[k - 2];
      if (!t || (k == 1 && t == q->task)) continue;
      in += t->stats.in;
      rej += t->stats.rejected;
      if (k >= 2) rej += q->pstats[k - 2].rejected, nout += q->pstats[k - 2].out;
    }
    total += rej;
    sl_buf_printf(out, "%s: %lld in, %lld out, %lld rejected", q->plan->id, (long long)in,
                  (long long)nout, (long long)rej);
    if (st.late) sl_buf_printf(out, " (%lld late)", (long long)st.late);
    if (st.groups_peak)
      sl_buf_printf(out, "; state: at most %lld groups or kept records, %lld bytes (%lld each)",
                    (long long)st.groups_peak, (long long)st.state_peak,
                    (long long)(st.state_peak / st.groups_peak));
    if (q->stats.join) /* a join of two inputs: its keys now, per side */
      for (int k = 0; k < 2; k++) {
        int64_t n = q->stats.jkeys[k];
        sl_buf_printf(out, "%s %lld key%s (%lld bytes each)", k ? ", right" : "; join keys: left",
                      (long long)n, n == 1 ? "" : "s", (long long)(n ? q->stats.jbytes[k] / n : 0));
      }
    sl_buf_putc(out, '\n');
    if (q->pstate) {
      sl_query_info qi = {0};
      pstate_info(q, &qi);
      sl_buf_printf(out, "%s: state per partition: owns", q->plan->id);
      for (int k = 0; k < qi.nowned; k++)
        sl_buf_printf(out, "%s%d", k ? "," : " ", (int)qi.owned[k]);
      if (!qi.nowned) sl_buf_puts(out, " none");
      sl_buf_printf(out,
                    "; %lld states restored (%lld bytes in %.1f ms), written %lld times; %lld "
                    "replayed records dropped\n",
                    (long long)qi.ps_restored, (long long)qi.ps_restore_bytes,
                    (double)qi.ps_restore_us / 1000.0, (long long)qi.ps_written,
                    (long long)qi.ps_replays);
    }
  }
  for (int i = 0; i < run->ntask; i++) {
    sl_task *t = run->tasks[i];
    if (!t->ckpt) continue;
    char resumed[96] = "";
    if (t->resumed)
      snprintf(resumed, sizeof resumed, " (resumed from one: %lld bytes of state in %.1f ms)",
               (long long)t->restore_bytes, (double)t->restore_us / 1000.0);
    sl_buf_printf(
        out, "checkpoints of %s%s: %lld written%s, %lld failed; the last %lld bytes in %.1f ms\n",
        t->plan->name[0] ? t->plan->name : "query",
        strcmp(t->pos_key, "source") ? " (its second input)" : "", (long long)t->nckpt, resumed,
        (long long)t->nfailed, (long long)t->ckpt_bytes, (double)t->ckpt_us / 1000.0);
  }
  if (rejected_total) *rejected_total = total;
}

void sl_run_free(sl_run *run) {
  if (!run) return;
  for (int i = 0; i < run->plan->nquery; i++) {
    sl_lquery *q = run->queries[i];
    if (!q) continue;
    for (int k = 0; k < q->nops; k++)
      q->ops[k]->vt->free(q->ops[k]);
    for (int j = 0; q->pops && j < q->npar; j++) {
      for (int k = 0; q->pops[j] && k < q->plan->nops; k++)
        if (q->pops[j][k]) q->pops[j][k]->vt->free(q->pops[j][k]);
      free(q->pops[j]);
      sl_task_free(q->par[j]);
    }
    if (q->gather) q->gather->vt->free(q->gather);
    sl_exchange_free(q->exch);
    free(q->lstats);
    sl_sink_share_free(q->share); /* its members closed with their operators */
    free(q->pops);
    free(q->par);
    free(q->pstats);
    free(q->ops);
    free(q->error);
    free(q);
  }
  for (int k = 0; k < run->nstream; k++)
    run->fanouts[k]->vt->free(run->fanouts[k]);
  for (int i = 0; i < run->ntask; i++)
    sl_task_free(run->tasks[i]);
  free(run->queries);
  free(run->fanouts);
  free(run->tasks);
  free(run->tops);
  for (int i = 0; i < run->ngroup; i++) {
    pthread_mutex_destroy(&run->groups[i]->mu);
    pthread_cond_destroy(&run->groups[i]->cv);
    free(run->groups[i]->members);
    free(run->groups[i]);
  }
  free(run->groups);
  if (!run->borrowed) sl_plan_free(run->plan);
  free(run);
}
