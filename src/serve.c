/*
** serve.c - `sluice serve`: one engine holding the catalog, with statements
** submitted over HTTP (libmicrohttpd, one thread per connection).
**
** A submission (POST /statements) is executed with every query only planned
** (sl_engine_exec with SL_EXEC_PLAN_ALL); its continuous queries then run together on a
** thread of their own (a job), each query with its own id (q1, q2, ...:
** the engine's), terminated alone (DELETE /queries/q3, TERMINATE q3) while
** the others run on.  POST /query is the shell's (sluice --connect): its
** statements' rows, and the rows of one SELECT without INTO (a transient
** query, bound to the connection), stream back as NDJSON lines.  Also GET
** /queries, GET /describe/NAME, GET /metrics (Prometheus text), and the
** submissions log of a state directory, applied again at start (see
** docs/serve.md).  --listen names an IPv4 or IPv6 address or a host name;
** every address it resolves to gets a socket and a daemon of its own.
**
** The restart strategy: the log also records when a submission's queries
** start, end, have run stably, fail, or are removed from the list, so that
** at start a submission the server did not survive --restart-attempts
** times in a row is applied for its definitions only, its queries failed
** and not started; a query that failed of its own error is not started
** again either (see "When a query fails" in docs/serve.md).
**
** A client is not trusted (check_headers): a request's Host must name the
** server and its Origin, when it has one, be the server's own site or an
** --allow-origin (403: web pages of other sites, DNS rebinding), a POST
** body be application/sql or application/json (415), all before its body
** is read.  A connection must send a whole request within
** --request-timeout (the watchdog closes it), and past SL_SERVE_MAX_CONN
** connections the one idle the longest is closed (on_connection); one
** answering a request is never closed by either.
**
** Locking: s->mu is the catalog lock.  Every statement executes under it,
** and so does everything that reads or changes the job list; a job's run is
** read under it (its counters without stopping its tasks: plan.h).
** s->cmu, taken alone, guards the connection records.
*/
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <malloc.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <cjson/cJSON.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "console.h"
#include "json.h"
#include "model.h"
#include "serve.h"
#include "serve_hist.h"
#include "serve_plan.h"

#define SL_SERVE_MAX_BODY (1u << 20) /* larger request bodies get 413 */
#define SL_SERVE_MAX_CONN 256u       /* connections at once (a thread each): see on_connection */
#define SL_STREAM_HIGH (1u << 20)    /* rows a slow client has not read: the query waits */
#define SL_STREAM_STMTS (16u << 20)  /* rows of statements queued before the answer starts */
#define SL_STREAM_HEARTBEAT_MS 1000  /* an idle stream sends an empty line this often */
/* every statement all or nothing, every query planned for a job to run */
#define SERVE_EXEC (SL_EXEC_DEFERRED | SL_EXEC_PLAN_ALL)
/* libmicrohttpd's own limit is this much above SL_SERVE_MAX_CONN, for the
** connections closed by the server and not yet cleaned up */
#define SL_SERVE_CONN_SLACK 64u
#define SL_SERVE_WATCH_MS 100 /* how often idle connections are checked for the timeout */

/* The queries of one job, as they were when its run ended and was freed
** (or, for a job never started, as planned). */
typedef struct sl_final {
  sl_query_info qi; /* id, sql, error and repart_topic point into the strings below */
  char *id, *sql, *error, *topic;
  char *plan; /* its plan's graph (sl_plan_graph) as JSON text, or NULL */
} sl_final;

/* What the server keeps of one query beyond its run (and, through the
** submissions log, over restarts). */
typedef struct sl_qmark {
  char *failed; /* owned: why it failed (its error, or why it was not started), or NULL */
  int own;      /* it failed of its own error (not: a server that kept ending under it) */
  int removed;  /* a user removed it from the list once it had failed */
} sl_qmark;

/* One submission whose continuous queries run on a thread of their own, or
** (transient) the one streaming SELECT of a POST /query. */
typedef struct sl_job {
  int id;          /* the submission's number; 0 for a transient query */
  char *sql;       /* owned: the submitted text */
  sl_run *run;     /* owned; freed when a persistent job ends (see final) */
  sl_final *final; /* owned: its queries once the run was freed */
  int nfinal;
  int transient;   /* streams to one connection (struct sl_rowpipe) */
  int done;        /* its thread has finished (atomic) */
  int started;     /* its thread was started (and must be joined) */
  char *error;     /* owned: why the run could not start or stopped, or NULL */
  sl_qmark *marks; /* owned: one per query (job_query's index) */
  int nmark;
  int attempts;     /* starts in a row the server did not survive (from the log) */
  int64_t start_ms; /* when its thread started (monotonic) */
  int stable;       /* it has run --stable-after since then (U logged) */
  pthread_t thread;
  struct sl_server *server;
  struct sl_rowpipe *stream; /* transient: where its rows go */
  sl_qhist **hist;           /* owned: per query its recent past (sampled while it runs), or NULL */
  int nhist;
  int64_t sampled_ms; /* when hist was last sampled (monotonic) */
  struct sl_job *next;
} sl_job;

typedef struct sl_server {
  sluice *db;
  const char *token;    /* NULL: no authentication (loopback only) */
  pthread_mutex_t mu;   /* the catalog lock: db during exec, and the job list */
  sl_job *jobs, **tail; /* oldest first */
  int njob;             /* submissions numbered so far */
  FILE *log;            /* the submissions log in the state directory, or NULL */
  int restart_attempts; /* a submission the server did not survive this often is not started */
  int64_t stable_ms;    /* a crash after a submission ran this long is not held against it */
  sl_engine_hooks hooks;
  int64_t started_ms;
  /* browser safety: what a request's Host may name, the origins allowed CORS */
  struct sl_hostname *names; /* owned */
  int nnames;
  /* listening on a wildcard address (0.0.0.0, [::]) on this port, else 0:
  ** a Host that is an IP address with this port is the server's too (a
  ** page of another site cannot make a browser send one: DNS rebinding
  ** sends the attacker's name) */
  int wild_port;
  const char *const *origins; /* borrowed from the options */
  int norigins;
  /* the connections (struct sl_conn), under cmu; the watchdog closes
  ** those idle past the request timeout */
  pthread_mutex_t cmu;
  pthread_cond_t ccv; /* the watchdog's sleep (CLOCK_MONOTONIC), cut short to stop */
  struct sl_conn *conns, *conns_tail; /* oldest first */
  unsigned nlive;                     /* connections not closed by the server */
  int64_t request_timeout_ms;
  int stopping; /* the watchdog is to end */
  int watching; /* the watchdog thread runs (and must be joined) */
  pthread_t watchdog;
} sl_server;

/* A name a request's Host may give: host (lowercase, an IPv6 address in
** brackets) and port (0: any). */
typedef struct sl_hostname {
  char *host; /* owned */
  int port;
} sl_hostname;

/* One client connection, from libmicrohttpd's NOTIFY_STARTED to its
** NOTIFY_CLOSED (the socket is closed after that, so fd is valid while the
** record is listed).  Every field but cors is under s->cmu. */
typedef struct sl_conn {
  int fd;
  int64_t since_ms; /* when it connected, or its last request ended (monotonic) */
  int busy;         /* a whole request of it is being answered: never closed by the server */
  int shut;         /* the server closed it (timeout, eviction): it answers nothing more */
  const char *cors; /* the connection's thread's: the --allow-origin of its request, or NULL */
  struct sl_conn *prev, *next;
} sl_conn;

/* Rows of a POST /query: NDJSON lines queued for the connection.  Filled
** by the executing statements (under s->mu) and then by a transient
** query's task thread; drained by libmicrohttpd's content reader on the
** connection's thread. */
typedef struct sl_rowpipe {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  sl_buf q; /* queued bytes; q.z[off..q.n) not yet sent */
  size_t off;
  int closed;               /* the client went away: the query stops */
  int ended;                /* the last line is queued */
  int executing;            /* the statements run (under s->mu): nobody reads yet */
  int cut;                  /* executing, rows past SL_STREAM_STMTS were dropped */
  const char *const *names; /* the columns line was sent for these */
  int ncol;
  sl_job *job; /* the transient query, or NULL */
} sl_rowpipe;

/* ---- the submissions log -------------------------------------------------- */

/* Append one record to the submissions log: "KIND LEN JOB\nTEXT\n", TEXT
** being LEN bytes.  S: a submitted text (JOB: the submission number it got,
** 0 for none); X: the text of a POST /query that streamed a transient
** query; Q: query TEXT (an id) of submission JOB was terminated.  The
** restart strategy's, for submission JOB: R: its queries (TEXT: their ids,
** "q3 q4", or empty when not known yet) are being made live and started;
** E: its run ended (its queries ended, or the server stopped cleanly); U:
** it has run stably (s->stable_ms) since its R; F: query "ID ERROR" failed
** of its own error; D: failed query TEXT was removed from the list.  An R
** without an E or U after it is a start the server did not survive.  Each
** record is flushed to disk (fsync) before anything depends on it; a
** record cut short by a crash ends the log and is cut off at the next start
** (open_state).  A no-op without a state directory.  Called with s->mu
** held. */
static void log_record(sl_server *s, char kind, const char *text, int job) {
  if (!s->log) return;
  fprintf(s->log, "%c %zu %d\n%s\n", kind, strlen(text), job, text);
  fflush(s->log);
  fsync(fileno(s->log));
}

/* ---- jobs -------------------------------------------------------------------- */

/* Monotonic milliseconds. */
static int64_t mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* How many queries job j has (live from its run, or as it ended). */
static int job_nqueries(const sl_job *j) {
  return j->run ? sl_run_ntop(j->run) : j->nfinal;
}

/* Query i of job j as the server shows it: live from its run, or as it
** ended; a failure the server keeps (j->marks) overrides its run's state.
** Returns 0 when a user removed it from the list (qi is filled all the
** same), else 1.  qi's strings are j's or its run's. */
static int job_query(sl_job *j, int i, sl_query_info *qi) {
  if (j->run)
    sl_run_query_info(j->run, i, qi);
  else
    *qi = j->final[i].qi;
  const sl_qmark *m = &j->marks[i];
  if (m->failed) {
    qi->state = SL_QUERY_FAILED;
    qi->error = m->failed;
  }
  return !m->removed;
}

/* The id of query i of job j (borrowed from j or its run). */
static const char *job_qid(sl_job *j, int i) {
  sl_query_info qi;
  job_query(j, i, &qi);
  return qi.id;
}

/* The index of query id (len bytes, not terminated) in job j, or -1. */
static int job_index(sl_job *j, const char *id, size_t len) {
  for (int i = 0; i < job_nqueries(j); i++) {
    const char *q = job_qid(j, i);
    if (strlen(q) == len && !memcmp(q, id, len)) return i;
  }
  return -1;
}

/* The plan graph of query i of job j (sl_plan_graph): from its run while
** it has one, else as kept when the run ended; NULL if none.  The caller
** owns the result. */
static cJSON *job_plan(sl_job *j, int i) {
  if (j->run) {
    sl_query_info qi;
    sl_run_query_info(j->run, i, &qi);
    return sl_plan_graph(sl_run_plan(j->run), qi.id);
  }
  return i < j->nfinal && j->final[i].plan ? cJSON_Parse(j->final[i].plan) : NULL;
}

/* How many failed starts in a row query i of job j has had: the server
** ended under its submission (j->attempts), plus one when it failed of its
** own error. */
static int job_attempts(const sl_job *j, int i) {
  return j->attempts + j->marks[i].own;
}

/* Log record kind (R, E or U: see log_record) for persistent job j, with
** its query ids as text.  Called with s->mu held. */
static void log_ids(sl_server *s, char kind, sl_job *j) {
  if (!s->log || j->transient) return;
  sl_buf b;
  sl_buf_init(&b);
  for (int i = 0; i < job_nqueries(j); i++) {
    if (i) sl_buf_putc(&b, ' ');
    sl_buf_puts(&b, job_qid(j, i));
  }
  log_record(s, kind, b.z ? b.z : "", j->id);
  sl_buf_free(&b);
}

/* Keep (in j->marks, and in the log: F) every query of persistent job j
** that has failed since last looked at, with its error: it is shown failed
** from now on and not started again at the next start.  Called with s->mu
** held. */
static void note_failures(sl_server *s, sl_job *j) {
  for (int i = 0; !j->transient && i < job_nqueries(j); i++) {
    sl_qmark *m = &j->marks[i];
    sl_query_info qi;
    job_query(j, i, &qi);
    if (m->failed || qi.state != SL_QUERY_FAILED) continue;
    m->failed = sl_strdup(qi.error ? qi.error : "failed");
    m->own = 1;
    sl_buf b;
    sl_buf_init(&b);
    sl_buf_printf(&b, "%s %s", qi.id, m->failed);
    log_record(s, 'F', b.z, j->id);
    sl_buf_free(&b);
  }
}

/* Keep a copy of every query's last state and free the run (its sources'
** and sinks' connections and buffers).  Called with s->mu held, once the
** run has ended. */
static void job_finalize(sl_job *j) {
  int n = sl_run_ntop(j->run);
  j->final = sl_calloc((size_t)(n ? n : 1), sizeof *j->final);
  for (int i = 0; i < n; i++) {
    sl_final *f = &j->final[i];
    sl_run_query_info(j->run, i, &f->qi);
    f->id = sl_strdup(f->qi.id);
    f->sql = f->qi.sql ? sl_strndup(f->qi.sql, (size_t)f->qi.sqllen) : NULL;
    f->error = f->qi.error ? sl_strdup(f->qi.error) : NULL;
    f->topic = f->qi.repart_topic ? sl_strdup(f->qi.repart_topic) : NULL;
    cJSON *g = sl_plan_graph(sl_run_plan(j->run), f->qi.id);
    f->plan = g ? cJSON_PrintUnformatted(g) : NULL;
    cJSON_Delete(g);
    if (f->qi.state == SL_QUERY_RUNNING) {
      /* its run ended without it: stopped by the server's shutdown or an
      ** error of the run's own */
      f->qi.state = j->error ? SL_QUERY_FAILED : SL_QUERY_TERMINATED;
      if (j->error && !f->error) f->error = sl_strdup(j->error);
    }
    f->qi.id = f->id;
    f->qi.sql = f->sql;
    f->qi.error = f->error;
    f->qi.repart_topic = f->topic;
  }
  j->nfinal = n;
  sl_run_free(j->run);
  j->run = NULL;
}

/* A persistent job's run has ended (or could not start): keep its
** failures and log its end (E), so that the next start does not hold this
** start against it.  Called with s->mu held, after job_finalize. */
static void job_ended(sl_server *s, sl_job *j) {
  if (j->transient) return;
  note_failures(s, j);
  log_ids(s, 'E', j);
}

static void job_free(sl_job *j) {
  if (j->run) sl_run_free(j->run);
  for (int i = 0; i < j->nfinal; i++) {
    free(j->final[i].id);
    free(j->final[i].sql);
    free(j->final[i].error);
    free(j->final[i].topic);
    free(j->final[i].plan);
  }
  for (int i = 0; i < j->nmark; i++)
    free(j->marks[i].failed);
  free(j->marks);
  for (int i = 0; i < j->nhist; i++)
    sl_qhist_free(j->hist[i]);
  free(j->hist);
  free(j->final);
  free(j->sql);
  free(j->error);
  free(j);
}

static void stream_end(sl_rowpipe *st, const char *error);

/* Thread body: run one job's queries to the end.  A persistent job then
** keeps its queries' last state, frees its run and logs its end; a
** transient one queues its last line for the connection (which frees
** it). */
static void *job_main(void *arg) {
  sl_job *j = arg;
  sl_err err = {0};
  int rc = sl_run_execute(j->run, 1, &err);
  if (rc) j->error = sl_strdup(err.msg ? err.msg : "error");
  sl_err_clear(&err);
  if (j->transient) {
    stream_end(j->stream, j->error);
  } else {
    pthread_mutex_lock(&j->server->mu);
    job_finalize(j);
    job_ended(j->server, j);
    pthread_mutex_unlock(&j->server->mu);
  }
  __atomic_store_n(&j->done, 1, __ATOMIC_RELEASE);
  return NULL;
}

/* Make a job of run (taken; NULL: the caller fills j->final and j->marks),
** numbered when it is a submission, and add it to the list; not started.
** Called with s->mu held. */
static sl_job *job_new(sl_server *s, sl_run *run, const char *sql, int transient) {
  sl_job *j = sl_calloc(1, sizeof *j);
  j->id = transient ? 0 : ++s->njob;
  j->sql = sl_strdup(sql);
  j->run = run;
  j->transient = transient;
  j->server = s;
  if (run) {
    j->nmark = sl_run_ntop(run);
    j->marks = sl_calloc((size_t)(j->nmark ? j->nmark : 1), sizeof *j->marks);
  }
  *s->tail = j;
  s->tail = &j->next;
  return j;
}

/* Unlink j from the list.  Called with s->mu held. */
static void job_unlink(sl_server *s, sl_job *j) {
  for (sl_job **pp = &s->jobs; *pp; pp = &(*pp)->next)
    if (*pp == j) {
      *pp = j->next;
      if (s->tail == &j->next) s->tail = pp;
      return;
    }
}

/* Start j's run (made, opened and restored by the engine) on a thread of
** its own.  A run that cannot start fails alone: the job keeps why.  A
** persistent job's start is logged (R) by the caller, before.  Called with
** s->mu held. */
static void job_start(sl_job *j) {
  j->start_ms = mono_ms();
  if (!pthread_create(&j->thread, NULL, job_main, j)) {
    j->started = 1;
    return;
  }
  j->error = sl_strdup("cannot start a thread");
  if (j->transient) {
    stream_end(j->stream, j->error);
  } else {
    job_finalize(j);
    for (int i = 0; i < j->nfinal; i++)
      j->final[i].qi.state = SL_QUERY_FAILED;
    job_ended(j->server, j);
  }
  j->done = 1;
}

/* Find the job with query id (one not removed from the list); NULL if
** none.  Called with s->mu held. */
static sl_job *find_query(sl_server *s, const char *id, int *index) {
  for (sl_job *j = s->jobs; j; j = j->next)
    for (int i = 0; i < job_nqueries(j); i++) {
      sl_query_info qi;
      if (!job_query(j, i, &qi)) continue;
      if (!strcmp(qi.id, id)) {
        if (index) *index = i;
        return j;
      }
    }
  return NULL;
}

/* Terminate query id (as an interrupt would: checkpointed with a state
** directory; the other queries run on) and log it; a persistent query that
** has failed is removed from the list instead (logged too: it stays
** removed after a restart).  1 if it was running, 2 if it was removed, 0
** if it had already ended otherwise, -1 if there is no such query.  Called
** with s->mu held. */
static int terminate_query(sl_server *s, const char *id) {
  int i;
  sl_job *j = find_query(s, id, &i);
  if (!j) return -1;
  sl_query_info qi;
  job_query(j, i, &qi);
  if (qi.state == SL_QUERY_FAILED && !j->transient) {
    note_failures(s, j); /* its F record before its D */
    j->marks[i].removed = 1;
    log_record(s, 'D', id, j->id);
    return 2;
  }
  if (!j->run || qi.state != SL_QUERY_RUNNING) return 0;
  sl_run_terminate(j->run, id);
  if (!j->transient) log_record(s, 'Q', id, j->id);
  return 1;
}

/* What terminate_query's result says, as DELETE and TERMINATE answer. */
static const char *terminate_status(int rc) {
  return rc == 2 ? "removed" : rc ? "terminating" : "already ended";
}

static const char *state_name(int state) {
  switch (state) {
  case SL_QUERY_RUNNING: return "running";
  case SL_QUERY_FINISHED: return "finished";
  case SL_QUERY_FAILED: return "failed";
  default: return "terminated";
  }
}

/* Log what the server must remember of its running jobs: a query that
** failed (F: it is not started again) and a job that has run stably since
** it started (U: an end of the server from now on is not held against it,
** and its count of failed starts is reset).  Called by the serving thread
** every 100 ms, with s->mu free. */
static void watch_jobs(sl_server *s) {
  int64_t now = mono_ms();
  pthread_mutex_lock(&s->mu);
  for (sl_job *j = s->jobs; j; j = j->next) {
    if (j->run && j->started && now - j->sampled_ms >= 1000) { /* a second of history */
      j->sampled_ms = now;
      if (!j->hist) {
        j->nhist = job_nqueries(j);
        j->hist = sl_calloc((size_t)(j->nhist ? j->nhist : 1), sizeof *j->hist);
      }
      int64_t wall = sl_wall_ms();
      for (int i = 0; i < j->nhist; i++) {
        sl_query_info qi;
        job_query(j, i, &qi);
        if (qi.state == SL_QUERY_RUNNING) sl_qhist_sample(&j->hist[i], &qi, now, wall);
      }
    }
    if (j->transient || !j->run || !j->started) continue;
    note_failures(s, j);
    if (!j->stable && now - j->start_ms >= s->stable_ms) {
      j->stable = 1;
      j->attempts = 0;
      log_ids(s, 'U', j);
    }
  }
  pthread_mutex_unlock(&s->mu);
}

/* ---- the engine's hooks: SHOW QUERIES, DESCRIBE qN, TERMINATE ------------ */

/* SHOW QUERIES: a row per query of the list.  Called from sl_engine_exec,
** so with s->mu held. */
static void hook_show_queries(void *ud, sl_row_fn fn, void *fud) {
  sl_server *s = ud;
  static const char *const names[] = {"id",       "state",    "kind",  "records_in", "records_out",
                                      "rejected", "attempts", "error", "sql"};
  for (sl_job *j = s->jobs; j; j = j->next)
    for (int i = 0; i < job_nqueries(j); i++) {
      sl_query_info qi;
      if (!job_query(j, i, &qi)) continue;
      char in[24], out[24], rej[24], att[16];
      snprintf(in, sizeof in, "%lld", (long long)qi.in);
      snprintf(out, sizeof out, "%lld", (long long)qi.out);
      snprintf(rej, sizeof rej, "%lld", (long long)qi.rejected);
      snprintf(att, sizeof att, "%d", job_attempts(j, i));
      char *sql = qi.sql ? sl_strndup(qi.sql, (size_t)qi.sqllen) : NULL;
      const char *cells[] = {qi.id,
                             state_name(qi.state),
                             j->transient ? "transient" : "persistent",
                             in,
                             out,
                             rej,
                             att,
                             qi.error,
                             sql};
      sl_engine_text_row(fn, fud, 9, names, cells);
      free(sql);
    }
}

/* Append the properties of query qi (of job j; attempts: its failed starts
** in a row) as (name, value) text cells to a cJSON object or as rows to fn
** (exactly one of the two is non-NULL). */
static void query_props(const sl_job *j, const sl_query_info *qi, int attempts, cJSON *o,
                        sl_row_fn fn, void *fud) {
  static const char *const names[] = {"property", "value"};
  char sub[16];
  snprintf(sub, sizeof sub, "%d", j->id);
  char *sql = qi->sql ? sl_strndup(qi->sql, (size_t)qi->sqllen) : NULL;
  /* state_topic =>: the input partitions whose state this process owns */
  char owned[SL_PLAG_MAX * 12 + 8] = "none";
  for (int k = 0, n = 0; k < qi->nowned; k++)
    n += snprintf(owned + n, sizeof owned - (size_t)n, "%s%d", k ? "," : "", (int)qi->owned[k]);
  const char *text[][2] = {{"id", qi->id},
                           {"state", state_name(qi->state)},
                           {"kind", j->transient ? "transient" : "persistent"},
                           {"sql", sql},
                           {"error", qi->error},
                           {"partitions_owned", qi->pstate ? owned : NULL},
                           {"repartition_topic", qi->repart_topic}};
  for (size_t k = 0; k < sizeof text / sizeof text[0]; k++) {
    if (!text[k][1]) continue;
    if (o)
      cJSON_AddStringToObject(o, text[k][0], text[k][1]);
    else
      sl_engine_text_row(fn, fud, 2, names, text[k]);
  }
  const struct {
    const char *name;
    int64_t v;
  } num[] = {{"submission", j->id},
             {"records_in", qi->in},
             {"records_out", qi->out},
             {"rejected", qi->rejected},
             {"bytes_in", qi->bytes_in},
             {"bytes_out", qi->bytes_out},
             {"batches", qi->nbatch},
             {"consumer_lag", qi->lag},
             {"checkpoint_age_ms", qi->ckpt_age_ms},
             {"attempts", attempts ? attempts : -1},
             {"groups", qi->groups},
             {"state_bytes", qi->state_bytes},
             {"states_restored", qi->pstate ? qi->ps_restored : -1},
             {"state_restore_bytes", qi->pstate ? qi->ps_restore_bytes : -1},
             {"state_restore_ms", qi->pstate ? qi->ps_restore_us / 1000 : -1},
             {"state_writes", qi->pstate ? qi->ps_written : -1},
             {"replays_dropped", qi->pstate ? qi->ps_replays : -1}};
  for (size_t k = 0; k < sizeof num / sizeof num[0]; k++) {
    /* unknown, no submission, or no failed start */
    if (num[k].v < 0 || (!j->id && !k)) continue;
    if (o) {
      cJSON_AddNumberToObject(o, num[k].name, (double)num[k].v);
    } else {
      char v[24];
      snprintf(v, sizeof v, "%lld", (long long)num[k].v);
      const char *cells[] = {num[k].name, v};
      sl_engine_text_row(fn, fud, 2, names, cells);
    }
  }
  /* the batch latency's median and 99th percentile since it started */
  const struct {
    const char *name;
    double v;
  } ms[] = {{"batch_p50_ms", sl_lat_quantile(qi->lat, 0.5)},
            {"batch_p99_ms", sl_lat_quantile(qi->lat, 0.99)}};
  for (size_t k = 0; k < sizeof ms / sizeof ms[0]; k++) {
    if (ms[k].v < 0) continue;
    if (o) {
      cJSON_AddNumberToObject(o, ms[k].name, ms[k].v);
    } else {
      char v[32];
      snprintf(v, sizeof v, "%.3f", ms[k].v);
      const char *cells[] = {ms[k].name, v};
      sl_engine_text_row(fn, fud, 2, names, cells);
    }
  }
  free(sql);
}

static int hook_describe(void *ud, const char *name, sl_row_fn fn, void *fud) {
  sl_server *s = ud;
  int i;
  sl_job *j = find_query(s, name, &i);
  if (!j) return 0;
  sl_query_info qi;
  job_query(j, i, &qi);
  query_props(j, &qi, job_attempts(j, i), NULL, fn, fud);
  static const char *const names[] = {"property", "value"};
  if (qi.npart) { /* "source0 partition 2: 17, ..." */
    sl_buf b;
    sl_buf_init(&b);
    for (int k = 0; k < qi.npart; k++)
      sl_buf_printf(&b, "%ssource%d partition %d: %lld", k ? ", " : "", qi.parts[k].source,
                    (int)qi.parts[k].partition, (long long)qi.parts[k].lag);
    const char *cells[] = {"partition_lag", b.z};
    sl_engine_text_row(fn, fud, 2, names, cells);
    sl_buf_free(&b);
  }
  /* its plan, as GET /queries/ID draws it */
  cJSON *g = job_plan(j, i);
  if (g) {
    sl_buf b;
    sl_buf_init(&b);
    sl_plan_graph_text(g, &b);
    const char *cells[] = {"plan", b.z ? b.z : ""};
    sl_engine_text_row(fn, fud, 2, names, cells);
    sl_buf_free(&b);
    cJSON_Delete(g);
  }
  return 1;
}

static int hook_terminate(void *ud, const char *id, sl_row_fn fn, void *fud, sl_err *err) {
  sl_server *s = ud;
  static const char *const names[] = {"id", "status"};
  if (!strcmp(id, "ALL")) {
    for (sl_job *j = s->jobs; j; j = j->next)
      for (int i = 0; i < job_nqueries(j); i++) {
        sl_query_info qi;
        if (!job_query(j, i, &qi) || j->transient || qi.state != SL_QUERY_RUNNING) continue;
        const char *cells[] = {qi.id, "terminating"};
        char *qid = sl_strdup(qi.id);
        terminate_query(s, qid);
        sl_engine_text_row(fn, fud, 2, names, cells);
        free(qid);
      }
    return 0;
  }
  int rc = terminate_query(s, id);
  if (rc < 0) {
    sl_err_set(err, SL_EBIND, "no such query: %s", id);
    return -1;
  }
  const char *cells[] = {id, terminate_status(rc)};
  sl_engine_text_row(fn, fud, 2, names, cells);
  return 0;
}

/* ---- NDJSON rows ---------------------------------------------------------------- */

/* Append v as the wire protocol has it: an INTEGER as a JSON integer, a REAL
** always with '.' or an exponent (infinities as +-1e999), TEXT always as a
** string, a BLOB as {"blob": "HEX"}, NULL as null. */
static void wire_value(sl_buf *b, sl_value *v) {
  if (v->type == SL_TEXT) {
    sl_json_append_string(b, v->u.z, v->n);
  } else if (v->type == SL_BLOB) {
    sl_buf_puts(b, "{\"blob\":");
    sl_json_append_value(b, v);
    sl_buf_putc(b, '}');
  } else if (v->type == SL_REAL && !isfinite(v->u.r)) {
    sl_buf_puts(b, v->u.r > 0 ? "1e999" : "-1e999");
  } else {
    sl_json_append_value(b, v);
  }
}

/* Append one row as NDJSON to st->q, after a columns line when the columns
** changed (a new statement's rows).  Called with st->mu held. */
static void stream_append_row(sl_rowpipe *st, int ncol, const char *const *names, sl_value **row) {
  sl_buf *b = &st->q;
  if (names != st->names || ncol != st->ncol) {
    st->names = names;
    st->ncol = ncol;
    sl_buf_puts(b, "{\"columns\":[");
    for (int i = 0; i < ncol; i++) {
      if (i) sl_buf_putc(b, ',');
      sl_json_append_string(b, names[i], strlen(names[i]));
    }
    sl_buf_puts(b, "]}\n");
  }
  sl_buf_puts(b, "{\"row\":[");
  for (int i = 0; i < ncol; i++) {
    if (i) sl_buf_putc(b, ',');
    wire_value(b, row[i]);
  }
  sl_buf_puts(b, "]}\n");
}

/* sl_row_fn of POST /query: rows of SHOW/DESCRIBE/EXPLAIN (under s->mu) and
** of the transient query (its task's thread), which waits while the client
** has more than SL_STREAM_HIGH bytes unread.  The statements' rows come
** before the answer starts, so nobody reads them yet: they never wait (the
** catalog lock is held), and past SL_STREAM_STMTS bytes they are dropped
** (cut).  Returns 1 (stop) once the client has gone or rows are dropped. */
static int stream_row(void *ud, int ncol, const char *const *names, sl_value **row) {
  sl_rowpipe *st = ud;
  pthread_mutex_lock(&st->mu);
  while (!st->executing && st->q.n - st->off > SL_STREAM_HIGH && !st->closed)
    pthread_cond_wait(&st->cv, &st->mu);
  if (st->executing && st->q.n > SL_STREAM_STMTS) st->cut = 1;
  int closed = st->closed || st->cut;
  if (!closed) stream_append_row(st, ncol, names, row);
  pthread_cond_broadcast(&st->cv);
  pthread_mutex_unlock(&st->mu);
  return closed;
}

/* Queue a line of text (a whole JSON object and its newline). */
static void stream_line(sl_rowpipe *st, const char *line) {
  pthread_mutex_lock(&st->mu);
  sl_buf_puts(&st->q, line);
  pthread_cond_broadcast(&st->cv);
  pthread_mutex_unlock(&st->mu);
}

/* Queue the last line ({"status": "ok"} or {"error": ...}) and end the
** stream. */
static void stream_end(sl_rowpipe *st, const char *error) {
  cJSON *o = cJSON_CreateObject();
  if (error)
    cJSON_AddStringToObject(o, "error", error);
  else
    cJSON_AddStringToObject(o, "status", "ok");
  char *z = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  pthread_mutex_lock(&st->mu);
  sl_buf_puts(&st->q, z);
  sl_buf_putc(&st->q, '\n');
  st->ended = 1;
  pthread_cond_broadcast(&st->cv);
  pthread_mutex_unlock(&st->mu);
  free(z);
}

/* libmicrohttpd's content reader of a streamed answer (the connection's
** thread): what is queued, an empty line after SL_STREAM_HEARTBEAT_MS of
** nothing (so that a client gone away is noticed by the failed write), or
** the end once the last line is sent. */
static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max) {
  sl_rowpipe *st = cls;
  pthread_mutex_lock(&st->mu);
  if (st->q.n == st->off && !st->ended) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += SL_STREAM_HEARTBEAT_MS / 1000;
    while (st->q.n == st->off && !st->ended)
      if (pthread_cond_timedwait(&st->cv, &st->mu, &until) == ETIMEDOUT) break;
  }
  ssize_t n;
  if (st->q.n > st->off) {
    size_t k = st->q.n - st->off;
    if (k > max) k = max;
    memcpy(buf, st->q.z + st->off, k);
    st->off += k;
    if (st->off == st->q.n) {
      sl_buf_reset(&st->q);
      st->off = 0;
    }
    n = (ssize_t)k;
  } else if (st->ended) {
    n = MHD_CONTENT_READER_END_OF_STREAM;
  } else {
    buf[0] = '\n';
    n = 1;
  }
  pthread_cond_broadcast(&st->cv); /* room for a waiting query */
  pthread_mutex_unlock(&st->mu);
  return n;
}

/* libmicrohttpd frees the streamed answer (sent, or the client went away):
** stop the transient query, wait for its thread, drop it from the list. */
static void stream_free(void *cls) {
  sl_rowpipe *st = cls;
  pthread_mutex_lock(&st->mu);
  st->closed = 1;
  pthread_cond_broadcast(&st->cv);
  pthread_mutex_unlock(&st->mu);
  sl_job *j = st->job;
  if (j) {
    sl_run_stop(j->run);
    if (j->started) pthread_join(j->thread, NULL);
    pthread_mutex_lock(&j->server->mu);
    job_unlink(j->server, j);
    pthread_mutex_unlock(&j->server->mu);
    job_free(j);
  }
  sl_buf_free(&st->q);
  pthread_cond_destroy(&st->cv);
  pthread_mutex_destroy(&st->mu);
  free(st);
}

static sl_rowpipe *stream_new(void) {
  sl_rowpipe *st = sl_calloc(1, sizeof *st);
  pthread_mutex_init(&st->mu, NULL);
  pthread_cond_init(&st->cv, NULL);
  sl_buf_init(&st->q);
  return st;
}

/* ---- connections: the request timeout and eviction ------------------------- */

/* The record of connection c (NULL when it has none: none could be made). */
static sl_conn *conn_of(struct MHD_Connection *c) {
  const union MHD_ConnectionInfo *i =
      MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
  return i ? i->socket_context : NULL;
}

/* Close cn's connection from the server's side: its socket is shut down,
** which wakes its thread (it reads the end and closes), and it no longer
** counts.  Called with s->cmu held, on a connection not busy nor shut. */
static void conn_shut(sl_server *s, sl_conn *cn) {
  if (cn->fd >= 0) shutdown(cn->fd, SHUT_RDWR);
  cn->shut = 1;
  s->nlive--;
}

/* libmicrohttpd's connection notification (its daemon thread): a new
** connection gets a record (owned by *socket_context until it closes)
** and, past SL_SERVE_MAX_CONN, the connection idle the longest is closed
** (the new one when every other one is busy); a closed one's record is
** unlisted and freed. */
static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode code) {
  sl_server *s = cls;
  if (code == MHD_CONNECTION_NOTIFY_STARTED) {
    const union MHD_ConnectionInfo *fi =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    sl_conn *cn = calloc(1, sizeof *cn);
    if (!cn) { /* untracked, it would escape the limit: closed at once */
      if (fi) shutdown(fi->connect_fd, SHUT_RDWR);
      return;
    }
    cn->fd = fi ? fi->connect_fd : -1;
    cn->since_ms = mono_ms();
    pthread_mutex_lock(&s->cmu);
    cn->prev = s->conns_tail;
    if (s->conns_tail)
      s->conns_tail->next = cn;
    else
      s->conns = cn;
    s->conns_tail = cn;
    s->nlive++;
    if (s->nlive > SL_SERVE_MAX_CONN) {
      sl_conn *victim = NULL; /* the one idle the longest; the new one is the last resort */
      for (sl_conn *x = s->conns; x; x = x->next)
        if (!x->busy && !x->shut && (!victim || x->since_ms < victim->since_ms)) victim = x;
      conn_shut(s, victim); /* found: cn itself is idle */
    }
    pthread_mutex_unlock(&s->cmu);
    *socket_context = cn;
    return;
  }
  sl_conn *cn = *socket_context;
  if (!cn) return;
  pthread_mutex_lock(&s->cmu);
  if (cn->prev)
    cn->prev->next = cn->next;
  else
    s->conns = cn->next;
  if (cn->next)
    cn->next->prev = cn->prev;
  else
    s->conns_tail = cn->prev;
  if (!cn->shut) s->nlive--;
  pthread_mutex_unlock(&s->cmu);
  free(cn);
  *socket_context = NULL;
}

/* A request of c is to be answered (it is whole, or refused from its
** headers): its connection is busy, never closed by the server, until
** on_done.  0 when the server has closed it already (timed out or evicted
** a moment before): nothing of the request may run. */
static int conn_begin(sl_server *s, struct MHD_Connection *c) {
  sl_conn *cn = conn_of(c);
  if (!cn) return 1;
  pthread_mutex_lock(&s->cmu);
  int open = !cn->shut;
  if (open) cn->busy = 1;
  pthread_mutex_unlock(&s->cmu);
  return open;
}

/* A request of c has been answered (or abandoned): its connection is idle,
** its next request due within the request timeout from now. */
static void conn_end(sl_server *s, struct MHD_Connection *c) {
  sl_conn *cn = conn_of(c);
  if (!cn) return;
  pthread_mutex_lock(&s->cmu);
  cn->busy = 0;
  cn->since_ms = mono_ms();
  pthread_mutex_unlock(&s->cmu);
  cn->cors = NULL;
}

/* Thread body: every SL_SERVE_WATCH_MS, close the connections idle (not
** answering a request) for the request timeout or more, until s->stopping. */
static void *watchdog_main(void *arg) {
  sl_server *s = arg;
  pthread_mutex_lock(&s->cmu);
  while (!s->stopping) {
    int64_t now = mono_ms();
    for (sl_conn *cn = s->conns; cn; cn = cn->next)
      if (!cn->busy && !cn->shut && now - cn->since_ms >= s->request_timeout_ms) conn_shut(s, cn);
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_nsec += SL_SERVE_WATCH_MS * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
      until.tv_sec++;
      until.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&s->ccv, &s->cmu, &until);
  }
  pthread_mutex_unlock(&s->cmu);
  return NULL;
}

/* ---- who may ask: Host, Origin, Content-Type ------------------------------- */

/* Parse "HOST", "HOST:PORT", "[V6]" or "[V6]:PORT" (n bytes at z) into
** host (cap bytes: lowercase, brackets kept) and *port (defport when none).
** 0, or -1 when it is none of these (an empty host, a character no host
** name or address has, a port not from 1 to 65535). */
static int parse_hostport(const char *z, size_t n, char *host, size_t cap, int *port, int defport) {
  int v6 = n && z[0] == '[';
  const char *end = v6 ? memchr(z, ']', n) : memchr(z, ':', n);
  size_t hn = !end ? n : (size_t)(end - z) + (size_t)v6;
  if (hn <= (size_t)(v6 ? 2 : 0) || hn >= cap || (v6 && !end)) return -1;
  for (size_t i = 0; i < hn; i++) {
    unsigned char ch = (unsigned char)z[i];
    int inner = v6 && i > 0 && i < hn - 1;
    if (!(v6 && (i == 0 || i == hn - 1)) &&
        !(inner ? isxdigit(ch) || ch == ':' || ch == '.'
                : isalnum(ch) || ch == '.' || ch == '-' || ch == '_'))
      return -1;
    host[i] = (char)tolower(ch);
  }
  host[hn] = 0;
  *port = defport;
  if (hn == n) return 0;
  if (z[hn] != ':' || n - hn - 1 < 1 || n - hn - 1 > 5) return -1;
  int p = 0;
  for (size_t i = hn + 1; i < n; i++) {
    if (z[i] < '0' || z[i] > '9') return -1;
    p = p * 10 + (z[i] - '0');
  }
  if (p < 1 || p > 65535) return -1;
  *port = p;
  return 0;
}

/* Allow host (copied, lowercased) with port (0: any) in a request's Host. */
static void add_name(sl_server *s, const char *host, int port) {
  s->names = sl_realloc(s->names, sizeof *s->names * (size_t)(s->nnames + 1));
  char *h = sl_strdup(host);
  for (char *p = h; *p; p++)
    *p = (char)tolower((unsigned char)*p);
  s->names[s->nnames++] = (sl_hostname){h, port};
}

/* 1 when z (n bytes: "HOST[:PORT]", defport without a port) names the
** server: one of s->names. */
static int host_allowed(const sl_server *s, const char *z, size_t n, int defport) {
  char host[256];
  int port;
  if (parse_hostport(z, n, host, sizeof host, &port, defport)) return 0;
  if (s->wild_port && port == s->wild_port) {
    unsigned char bin[sizeof(struct in6_addr)];
    size_t hl = strlen(host);
    char v6[256];
    snprintf(v6, sizeof v6, "%.*s", hl > 2 ? (int)hl - 2 : 0, host + 1);
    if (inet_pton(AF_INET, host, bin) == 1 || (host[0] == '[' && inet_pton(AF_INET6, v6, bin) == 1))
      return 1;
  }
  for (int i = 0; i < s->nnames; i++)
    if (!strcmp(s->names[i].host, host) && (!s->names[i].port || s->names[i].port == port))
      return 1;
  return 0;
}

/* 1 when origin (a URL's "SCHEME://HOST[:PORT]") is http or https and names
** an allowed host, i.e. a page of the server itself. */
static int own_origin(const sl_server *s, const char *origin) {
  int https = !strncasecmp(origin, "https://", 8);
  if (!https && strncasecmp(origin, "http://", 7)) return 0;
  const char *h = origin + (https ? 8 : 7);
  return host_allowed(s, h, strlen(h), https ? 443 : 80);
}

/* 1 when origin (an --allow-origin) is "http://" or "https://" and a host
** with an optional port, nothing else. */
static int valid_origin(const char *origin) {
  int https = !strncmp(origin, "https://", 8);
  if (!https && strncmp(origin, "http://", 7)) return 0;
  const char *h = origin + (https ? 8 : 7);
  char host[256];
  int port;
  return !parse_hostport(h, strlen(h), host, sizeof host, &port, 0);
}

/* What a POST body is by its Content-Type ct (NULL: none): 1 for
** application/json, 2 for application/sql, with any parameters (charset);
** 0 for anything else. */
static int body_type(const char *ct) {
  if (!ct) return 0;
  ct += strspn(ct, " \t");
  size_t n = strcspn(ct, ";");
  while (n && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
    n--;
  if (n == 16 && !strncasecmp(ct, "application/json", 16)) return 1;
  if (n == 15 && !strncasecmp(ct, "application/sql", 15)) return 2;
  return 0;
}

/* ---- HTTP answers ---------------------------------------------------------------- */

/* Queue r (stays the caller's) as the answer of c with status, with the
** CORS headers when the request came from an origin --allow-origin lists
** (none otherwise). */
static enum MHD_Result queue_response(struct MHD_Connection *c, unsigned status,
                                      struct MHD_Response *r) {
  sl_conn *cn = conn_of(c);
  if (cn && cn->cors) {
    MHD_add_response_header(r, "Access-Control-Allow-Origin", cn->cors);
    MHD_add_response_header(r, "Vary", "Origin");
  }
  return MHD_queue_response(c, status, r);
}

/* Queue a response of JSON (takes ownership of json, a cJSON tree). */
static enum MHD_Result reply_json(struct MHD_Connection *c, unsigned status, cJSON *json) {
  char *s = cJSON_PrintUnformatted(json);
  cJSON_Delete(json);
  struct MHD_Response *r = MHD_create_response_from_buffer(strlen(s), s, MHD_RESPMEM_MUST_FREE);
  MHD_add_response_header(r, "Content-Type", "application/json");
  enum MHD_Result ret = queue_response(c, status, r);
  MHD_destroy_response(r);
  return ret;
}

/* A JSON error {"error": msg} with the given status. */
static enum MHD_Result reply_error(struct MHD_Connection *c, unsigned status, const char *msg) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "error", msg);
  return reply_json(c, status, o);
}

/* 400 {"error", "line", "column"} for a failed statement, 403 when the
** authorizer refused it (clears err). */
static enum MHD_Result reply_sql_error(struct MHD_Connection *c, sl_err *err) {
  unsigned status = err->code == SL_EAUTH ? MHD_HTTP_FORBIDDEN : MHD_HTTP_BAD_REQUEST;
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "error", err->msg ? err->msg : "error");
  if (err->line) {
    cJSON_AddNumberToObject(o, "line", err->line);
    cJSON_AddNumberToObject(o, "column", err->col);
  }
  sl_err_clear(err);
  return reply_json(c, status, o);
}

/* The ids of run's queries as a JSON array. */
static cJSON *query_ids(sl_run *run) {
  cJSON *a = cJSON_CreateArray();
  for (int i = 0; run && i < sl_run_ntop(run); i++) {
    sl_query_info qi;
    sl_run_query_info(run, i, &qi);
    cJSON_AddItemToArray(a, cJSON_CreateString(qi.id));
  }
  return a;
}

/* Execute sql as a submission: CREATE statements and settings apply, every
** query is planned (one without INTO is an error: rows has nowhere to go
** unless rows is given) and, when some were, they become a job, not yet
** started.  Returns 0 with *job set (NULL: no query), or -1 with err set.
** Called with s->mu held. */
static int submit(sl_server *s, const char *sql, sl_row_fn rows, void *ud, sl_job **job,
                  sl_err *err) {
  *job = NULL;
  int rc = sl_engine_exec(s->db, sql, SERVE_EXEC, rows, ud, err);
  sl_run *run = sl_engine_take_pending(s->db);
  if (rc || !run) {
    if (run) sl_run_free(run);
    return rc;
  }
  *job = job_new(s, run, sql, 0);
  return 0;
}

/* POST /statements: execute body (SQL) as a submission; its continuous
** queries start on a new job thread.  Called with s->mu free. */
static enum MHD_Result do_statements(sl_server *s, struct MHD_Connection *c, const char *sql) {
  sl_err err = {0};
  sl_job *j;
  pthread_mutex_lock(&s->mu);
  int64_t nchange = sl_engine_changes(s->db);
  int rc = submit(s, sql, NULL, NULL, &j, &err);
  cJSON *o = NULL;
  if (!rc) {
    if (sl_engine_changes(s->db) != nchange) log_record(s, 'S', sql, j ? j->id : 0);
    o = cJSON_CreateObject();
    if (j) {
      cJSON_AddNumberToObject(o, "submission", j->id);
      cJSON_AddItemToObject(o, "queries", query_ids(j->run));
      log_ids(s, 'R', j);
      job_start(j);
    }
    cJSON_AddStringToObject(o, "status", "ok");
  }
  pthread_mutex_unlock(&s->mu);
  if (rc) return reply_sql_error(c, &err);
  return reply_json(c, MHD_HTTP_OK, o);
}

/* POST /query (the shell's): execute body; rows of SHOW, DESCRIBE and
** EXPLAIN, the ids of persistent queries started, and the rows of a SELECT
** without INTO (a transient query: it runs until it ends or the client
** goes away) stream back as NDJSON lines, the last one {"status": "ok"} or
** {"error": ...}.  An error before anything ran is a 400.  Called with s->mu
** free. */
static enum MHD_Result do_query(sl_server *s, struct MHD_Connection *c, const char *sql) {
  sl_rowpipe *st = stream_new();
  sl_err err = {0};
  pthread_mutex_lock(&s->mu);
  int64_t nchange = sl_engine_changes(s->db);
  st->executing = 1; /* before any thread but this one has st */
  int rc = sl_engine_exec(s->db, sql, SERVE_EXEC, stream_row, st, &err);
  st->executing = 0;
  sl_run *run = sl_engine_take_pending(s->db);
  int transient = 0, persistent = 0;
  for (int i = 0; run && i < sl_run_ntop(run); i++) {
    sl_query_info qi;
    sl_run_query_info(run, i, &qi);
    if (qi.sink)
      persistent++;
    else
      transient++;
  }
  if (rc) {
    if (run) sl_run_free(run);
    pthread_mutex_unlock(&s->mu);
    stream_free(st);
    return reply_sql_error(c, &err);
  }
  /* X: replayed for the catalog and the query ids, never run again */
  if (sl_engine_changes(s->db) != nchange) /* not only SHOW, DESCRIBE, EXPLAIN, TERMINATE */
    log_record(s, transient ? 'X' : 'S', sql, persistent ? s->njob + 1 : 0);
  const char *cut = st->cut ? "the statements' rows are over 16 MiB: the rest were dropped" : NULL;
  if (cut && transient) { /* the answer ends here: its SELECT does not start */
    sl_run_free(run);
    run = NULL;
  }
  if (!run) {
    stream_end(st, cut);
  } else if (persistent) {
    sl_job *j = job_new(s, run, sql, 0);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "started", query_ids(run));
    char *z = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    stream_line(st, z);
    stream_line(st, "\n");
    free(z);
    log_ids(s, 'R', j);
    job_start(j);
    stream_end(st, cut);
  } else {
    sl_job *j = job_new(s, run, sql, 1); /* the engine made it transient: no sink */
    j->stream = st;
    st->job = j;
    sl_query_info qi;
    sl_run_query_info(run, 0, &qi);
    char line[64];
    snprintf(line, sizeof line, "{\"query\":\"%s\"}\n", qi.id);
    stream_line(st, line);
    job_start(j);
  }
  pthread_mutex_unlock(&s->mu);
  struct MHD_Response *r =
      MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, stream_read, st, stream_free);
  if (!r) {
    stream_free(st);
    return MHD_NO;
  }
  MHD_add_response_header(r, "Content-Type", "application/x-ndjson");
  enum MHD_Result ret = queue_response(c, MHD_HTTP_OK, r);
  MHD_destroy_response(r);
  return ret;
}

/* Rows of DESCRIBE, collected into {"columns": [...], "rows": [[...]]}. */
static int describe_row(void *ud, int ncol, const char *const *names, sl_value **row) {
  cJSON *o = ud;
  if (!cJSON_GetObjectItem(o, "columns")) {
    cJSON *cols = cJSON_AddArrayToObject(o, "columns");
    for (int i = 0; i < ncol; i++)
      cJSON_AddItemToArray(cols, cJSON_CreateString(names[i]));
  }
  cJSON *r = cJSON_CreateArray();
  for (int i = 0; i < ncol; i++) {
    /* DESCRIBE's cells are text (borrowed: copied, never converted in place) */
    sl_value *v = row[i];
    if (v->type != SL_TEXT) {
      cJSON_AddItemToArray(r, cJSON_CreateNull());
      continue;
    }
    char *z = sl_strndup(v->u.z, v->n);
    cJSON_AddItemToArray(r, cJSON_CreateString(z));
    free(z);
  }
  cJSON_AddItemToArray(cJSON_GetObjectItem(o, "rows"), r);
  return 0;
}

/* GET /describe/NAME: the rows of DESCRIBE "NAME" (a stream, table, model
** or query), or 404.  Called with s->mu free. */
static enum MHD_Result do_describe(sl_server *s, struct MHD_Connection *c, const char *name) {
  size_t n = strlen(name);
  if (!n || n > 256) return reply_error(c, MHD_HTTP_BAD_REQUEST, "bad name");
  sl_buf sql;
  sl_buf_init(&sql);
  sl_buf_puts(&sql, "DESCRIBE \"");
  for (const char *p = name; *p; p++) {
    if (*p == '"') sl_buf_putc(&sql, '"');
    sl_buf_putc(&sql, *p);
  }
  sl_buf_puts(&sql, "\";");
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "name", name);
  cJSON_AddArrayToObject(o, "rows");
  sl_err err = {0};
  pthread_mutex_lock(&s->mu);
  int rc = sl_engine_exec(s->db, sql.z, SERVE_EXEC, describe_row, o, &err);
  pthread_mutex_unlock(&s->mu);
  sl_buf_free(&sql);
  if (rc) {
    cJSON_Delete(o);
    enum MHD_Result ret = reply_error(c, MHD_HTTP_NOT_FOUND, err.msg ? err.msg : "not found");
    sl_err_clear(&err);
    return ret;
  }
  if (!cJSON_GetObjectItem(o, "columns")) cJSON_AddArrayToObject(o, "columns");
  return reply_json(c, MHD_HTTP_OK, o);
}

/* DELETE /queries/ID: stop query ID ("q3") only, or (a number) every query
** of submission ID; they end as after an interrupt, checkpointed when a
** state directory is set. */
static enum MHD_Result do_terminate(sl_server *s, struct MHD_Connection *c, const char *id) {
  char *end;
  long sub = strtol(id, &end, 10);
  int isq = id[0] == 'q' && id[1] >= '1' && id[1] <= '9' &&
            strspn(id + 1, "0123456789") == strlen(id + 1);
  if (!isq && (!*id || *end || sub <= 0))
    return reply_error(c, MHD_HTTP_BAD_REQUEST, "bad query id (q3, or a submission number)");
  cJSON *o = cJSON_CreateObject();
  int found = 0;
  pthread_mutex_lock(&s->mu);
  if (isq) {
    int rc = terminate_query(s, id);
    found = rc >= 0;
    cJSON_AddStringToObject(o, "id", id);
    cJSON_AddStringToObject(o, "status", terminate_status(rc));
  } else {
    cJSON *a = cJSON_CreateArray();
    for (sl_job *j = s->jobs; j; j = j->next) {
      if (j->id != sub) continue;
      found = 1;
      for (int i = 0; i < job_nqueries(j); i++) {
        sl_query_info qi;
        /* the running ones (a failed one is removed only by its id) */
        if (!job_query(j, i, &qi) || qi.state != SL_QUERY_RUNNING) continue;
        char *qid = sl_strdup(qi.id);
        if (terminate_query(s, qid) > 0) cJSON_AddItemToArray(a, cJSON_CreateString(qid));
        free(qid);
      }
    }
    cJSON_AddNumberToObject(o, "submission", (double)sub);
    cJSON_AddItemToObject(o, "terminating", a);
  }
  pthread_mutex_unlock(&s->mu);
  if (!found) {
    cJSON_Delete(o);
    return reply_error(c, MHD_HTTP_NOT_FOUND, "no such query");
  }
  return reply_json(c, MHD_HTTP_OK, o);
}

/* GET /queries: every query, oldest first, with its state and counters. */
static enum MHD_Result do_queries(sl_server *s, struct MHD_Connection *c) {
  cJSON *a = cJSON_CreateArray();
  pthread_mutex_lock(&s->mu);
  for (sl_job *j = s->jobs; j; j = j->next)
    for (int i = 0; i < job_nqueries(j); i++) {
      sl_query_info qi;
      if (!job_query(j, i, &qi)) continue;
      cJSON *o = cJSON_CreateObject();
      query_props(j, &qi, job_attempts(j, i), o, NULL, NULL);
      cJSON_AddItemToArray(a, o);
    }
  pthread_mutex_unlock(&s->mu);
  return reply_json(c, MHD_HTTP_OK, a);
}

/* GET /queries/ID: query ID as in GET /queries, with its batch latency
** histogram ("latency": {"le_ms": upper bounds, the last null for +Inf;
** "counts": cumulative}), the lag per Kafka partition ("partitions"), its
** plan as a graph ("plan", sl_plan_graph, kept when its run ends) and its
** last minutes ("history", sl_qhist_json), or 404. */
static enum MHD_Result do_query_detail(sl_server *s, struct MHD_Connection *c, const char *id) {
  pthread_mutex_lock(&s->mu);
  int i;
  sl_job *j = find_query(s, id, &i);
  if (!j) {
    pthread_mutex_unlock(&s->mu);
    return reply_error(c, MHD_HTTP_NOT_FOUND, "no such query");
  }
  sl_query_info qi;
  job_query(j, i, &qi);
  cJSON *o = cJSON_CreateObject();
  query_props(j, &qi, job_attempts(j, i), o, NULL, NULL);
  cJSON *lat = cJSON_AddObjectToObject(o, "latency");
  cJSON *le = cJSON_AddArrayToObject(lat, "le_ms"), *counts = cJSON_AddArrayToObject(lat, "counts");
  uint64_t cum = 0;
  for (int l = 0; l < SL_LAT_NB; l++) {
    cum += qi.lat[l];
    cJSON_AddItemToArray(le, l == SL_LAT_NB - 1 ? cJSON_CreateNull()
                                                : cJSON_CreateNumber(sl_lat_bounds[l] * 1e3));
    cJSON_AddItemToArray(counts, cJSON_CreateNumber((double)cum));
  }
  cJSON *parts = cJSON_AddArrayToObject(o, "partitions");
  for (int k = 0; k < qi.npart; k++) {
    cJSON *p = cJSON_CreateObject();
    char src[24];
    snprintf(src, sizeof src, "source%d", qi.parts[k].source);
    cJSON_AddStringToObject(p, "source", src);
    cJSON_AddNumberToObject(p, "partition", qi.parts[k].partition);
    cJSON_AddNumberToObject(p, "lag", (double)qi.parts[k].lag);
    cJSON_AddItemToArray(parts, p);
  }
  cJSON *g = job_plan(j, i);
  cJSON_AddItemToObject(o, "plan", g ? g : cJSON_CreateNull());
  cJSON_AddItemToObject(o, "history",
                        sl_qhist_json(i < j->nhist ? j->hist[i] : NULL, sl_wall_ms()));
  pthread_mutex_unlock(&s->mu);
  return reply_json(c, MHD_HTTP_OK, o);
}

/* GET of a console file (console.h): its bytes with its Content-Type, the
** console's Content-Security-Policy, and an ETag (304 when the request's
** If-None-Match has it), revalidated on every load (no-cache). */
static enum MHD_Result do_console(struct MHD_Connection *c, const sl_console_file *f) {
  char tag[32];
  sl_console_etag(f, tag, sizeof tag);
  const char *inm = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "If-None-Match");
  int same = inm && !strcmp(inm, tag);
  struct MHD_Response *r =
      MHD_create_response_from_buffer(same ? 0 : f->size, (void *)f->data, MHD_RESPMEM_PERSISTENT);
  if (!r) return MHD_NO;
  MHD_add_response_header(r, "Content-Type", f->type);
  MHD_add_response_header(r, "Content-Security-Policy", SL_CONSOLE_CSP);
  MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
  MHD_add_response_header(r, "X-Frame-Options", "DENY");
  MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
  MHD_add_response_header(r, "Cache-Control", "no-cache");
  MHD_add_response_header(r, "ETag", tag);
  enum MHD_Result ret = queue_response(c, same ? MHD_HTTP_NOT_MODIFIED : MHD_HTTP_OK, r);
  MHD_destroy_response(r);
  return ret;
}

/* The resident set of this process in bytes (Linux), or -1. */
static int64_t rss_bytes(void) {
  FILE *f = fopen("/proc/self/statm", "r");
  long long pages = -1, rss = -1;
  if (f) {
    if (fscanf(f, "%lld %lld", &pages, &rss) != 2) rss = -1;
    fclose(f);
  }
  return rss < 0 ? -1 : rss * (int64_t)sysconf(_SC_PAGESIZE);
}

/* One metric family's HELP and TYPE lines. */
static void metric_head(sl_buf *b, const char *name, const char *type, const char *help) {
  sl_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* GET /metrics: Prometheus text format 0.0.4: per query its state,
** counters, consumer lag, checkpoint age and batch latency histogram; per
** engine queries by state, memory, models, uptime. */
static enum MHD_Result do_metrics(sl_server *s, struct MHD_Connection *c) {
  sl_buf b;
  sl_buf_init(&b);
  pthread_mutex_lock(&s->mu);
  int nq = 0;
  for (sl_job *j = s->jobs; j; j = j->next)
    nq += job_nqueries(j);
  sl_query_info *qs = sl_calloc((size_t)(nq ? nq : 1), sizeof *qs);
  int *sub = sl_calloc((size_t)(nq ? nq : 1), sizeof *sub);
  int k = 0;
  for (sl_job *j = s->jobs; j; j = j->next)
    for (int i = 0; i < job_nqueries(j); i++)
      if (job_query(j, i, &qs[k])) sub[k++] = j->id;
  nq = k; /* without the queries removed from the list */
  int by_state[4] = {0, 0, 0, 0};
  for (int i = 0; i < nq; i++)
    by_state[qs[i].state]++;
  metric_head(&b, "sluice_queries", "gauge", "Continuous queries by state.");
  for (int st = 0; st < 4; st++)
    sl_buf_printf(&b, "sluice_queries{state=\"%s\"} %d\n", state_name(st), by_state[st]);
  metric_head(&b, "sluice_query_info", "gauge", "One per query: its state and submission.");
  for (int i = 0; i < nq; i++)
    sl_buf_printf(&b, "sluice_query_info{query=\"%s\",state=\"%s\",submission=\"%d\"} 1\n",
                  qs[i].id, state_name(qs[i].state), sub[i]);
  static const struct {
    const char *name, *help;
    size_t off;
  } counters[] = {
      {"sluice_query_records_in_total", "Records read by the query's sources.",
       offsetof(sl_query_info, in)},
      {"sluice_query_records_out_total", "Rows the query delivered.", offsetof(sl_query_info, out)},
      {"sluice_query_records_rejected_total", "Records rejected (malformed or failing).",
       offsetof(sl_query_info, rejected)},
      {"sluice_query_bytes_in_total", "Bytes of records read.", offsetof(sl_query_info, bytes_in)},
      {"sluice_query_bytes_out_total", "Bytes encoded into the query's sink.",
       offsetof(sl_query_info, bytes_out)},
  };
  for (size_t m = 0; m < sizeof counters / sizeof counters[0]; m++) {
    metric_head(&b, counters[m].name, "counter", counters[m].help);
    for (int i = 0; i < nq; i++)
      sl_buf_printf(&b, "%s{query=\"%s\"} %lld\n", counters[m].name, qs[i].id,
                    (long long)*(const int64_t *)((const char *)&qs[i] + counters[m].off));
  }
  metric_head(&b, "sluice_query_consumer_lag", "gauge",
              "Records the Kafka brokers hold past what the query read.");
  for (int i = 0; i < nq; i++)
    if (qs[i].lag >= 0)
      sl_buf_printf(&b, "sluice_query_consumer_lag{query=\"%s\"} %lld\n", qs[i].id,
                    (long long)qs[i].lag);
  metric_head(&b, "sluice_query_partition_lag", "gauge",
              "The consumer lag of one partition a Kafka source of the query reads.");
  for (int i = 0; i < nq; i++)
    for (int k = 0; k < qs[i].npart; k++)
      sl_buf_printf(
          &b,
          "sluice_query_partition_lag{query=\"%s\",source=\"source%d\",partition=\"%d\"} %lld\n",
          qs[i].id, qs[i].parts[k].source, (int)qs[i].parts[k].partition,
          (long long)qs[i].parts[k].lag);
  metric_head(&b, "sluice_query_partition_owned", "gauge",
              "1 per input partition whose state this process owns (state_topic =>).");
  for (int i = 0; i < nq; i++)
    for (int k = 0; k < qs[i].nowned; k++)
      sl_buf_printf(&b, "sluice_query_partition_owned{query=\"%s\",partition=\"%d\"} 1\n", qs[i].id,
                    (int)qs[i].owned[k]);
  static const struct {
    const char *name, *help;
    size_t off;
  } pstate[] = {
      {"sluice_query_states_restored_total",
       "Partition states read back from the state topic and loaded.",
       offsetof(sl_query_info, ps_restored)},
      {"sluice_query_state_restore_bytes_total", "Bytes of the partition states loaded.",
       offsetof(sl_query_info, ps_restore_bytes)},
      {"sluice_query_state_writes_total", "Writes of every owned partition's state.",
       offsetof(sl_query_info, ps_written)},
      {"sluice_query_replays_dropped_total",
       "Records of a repartition topic dropped as a writer's replays.",
       offsetof(sl_query_info, ps_replays)},
  };
  for (size_t m = 0; m < sizeof pstate / sizeof pstate[0]; m++) {
    metric_head(&b, pstate[m].name, "counter", pstate[m].help);
    for (int i = 0; i < nq; i++)
      if (qs[i].pstate)
        sl_buf_printf(&b, "%s{query=\"%s\"} %lld\n", pstate[m].name, qs[i].id,
                      (long long)*(const int64_t *)((const char *)&qs[i] + pstate[m].off));
  }
  metric_head(&b, "sluice_query_state_restore_seconds_total", "counter",
              "Time spent reading and loading partition states.");
  for (int i = 0; i < nq; i++)
    if (qs[i].pstate)
      sl_buf_printf(&b, "sluice_query_state_restore_seconds_total{query=\"%s\"} %.6f\n", qs[i].id,
                    (double)qs[i].ps_restore_us / 1e6);
  metric_head(&b, "sluice_query_checkpoint_age_seconds", "gauge",
              "Time since the query's last checkpoint.");
  for (int i = 0; i < nq; i++)
    if (qs[i].ckpt_age_ms >= 0)
      sl_buf_printf(&b, "sluice_query_checkpoint_age_seconds{query=\"%s\"} %.3f\n", qs[i].id,
                    (double)qs[i].ckpt_age_ms / 1000.0);
  metric_head(
      &b, "sluice_query_state_bytes", "gauge",
      "Memory of the query's state: groups, kept records of joins, sorts, DISTINCT values.");
  for (int i = 0; i < nq; i++)
    sl_buf_printf(&b, "sluice_query_state_bytes{query=\"%s\"} %lld\n", qs[i].id,
                  (long long)qs[i].state_bytes);
  metric_head(&b, "sluice_query_state_entries", "gauge",
              "Entries of the query's state: open groups, a join's kept records (bytes / entries "
              "is the memory per entry).");
  for (int i = 0; i < nq; i++)
    sl_buf_printf(&b, "sluice_query_state_entries{query=\"%s\"} %lld\n", qs[i].id,
                  (long long)qs[i].groups);
  metric_head(&b, "sluice_query_join_keys", "gauge",
              "A join of two streams: the distinct keys it keeps records of, per side.");
  for (int i = 0; i < nq; i++)
    for (int k = 0; qs[i].join && k < 2; k++)
      sl_buf_printf(&b, "sluice_query_join_keys{query=\"%s\",side=\"%s\"} %lld\n", qs[i].id,
                    k ? "right" : "left", (long long)qs[i].jkeys[k]);
  metric_head(&b, "sluice_query_join_key_bytes", "gauge",
              "A join of two streams: the memory of its kept records per key, per side.");
  for (int i = 0; i < nq; i++)
    for (int k = 0; qs[i].join && k < 2; k++)
      sl_buf_printf(&b, "sluice_query_join_key_bytes{query=\"%s\",side=\"%s\"} %lld\n", qs[i].id,
                    k ? "right" : "left",
                    (long long)(qs[i].jkeys[k] ? qs[i].jbytes[k] / qs[i].jkeys[k] : 0));
  metric_head(&b, "sluice_query_batch_duration_seconds", "histogram",
              "Time to decode and process one batch of records.");
  for (int i = 0; i < nq; i++) {
    uint64_t cum = 0;
    for (int l = 0; l < SL_LAT_NB; l++) {
      cum += qs[i].lat[l];
      if (l == SL_LAT_NB - 1)
        sl_buf_printf(&b,
                      "sluice_query_batch_duration_seconds_bucket{query=\"%s\",le=\"+Inf\"} %llu\n",
                      qs[i].id, (unsigned long long)cum);
      else
        sl_buf_printf(&b,
                      "sluice_query_batch_duration_seconds_bucket{query=\"%s\",le=\"%g\"} %llu\n",
                      qs[i].id, sl_lat_bounds[l], (unsigned long long)cum);
    }
    sl_buf_printf(&b, "sluice_query_batch_duration_seconds_sum{query=\"%s\"} %.6f\n", qs[i].id,
                  (double)qs[i].lat_us / 1e6);
    sl_buf_printf(&b, "sluice_query_batch_duration_seconds_count{query=\"%s\"} %lld\n", qs[i].id,
                  (long long)qs[i].nbatch);
  }
  int nmodel = sl_engine_nmodels(s->db);
  int njob = s->njob;
  pthread_mutex_unlock(&s->mu);
  free(qs);
  free(sub);
  metric_head(&b, "sluice_submissions_total", "counter", "Submissions that started queries.");
  sl_buf_printf(&b, "sluice_submissions_total %d\n", njob);
  metric_head(&b, "sluice_models", "gauge", "Models in the catalog.");
  sl_buf_printf(&b, "sluice_models %d\n", nmodel);
  int64_t rss = rss_bytes();
  if (rss >= 0) {
    metric_head(&b, "sluice_memory_resident_bytes", "gauge", "Resident memory of the engine.");
    sl_buf_printf(&b, "sluice_memory_resident_bytes %lld\n", (long long)rss);
  }
  struct mallinfo2 mi = mallinfo2();
  metric_head(&b, "sluice_memory_heap_bytes", "gauge", "Heap memory in use (malloc).");
  sl_buf_printf(&b, "sluice_memory_heap_bytes %llu\n",
                (unsigned long long)(mi.uordblks + mi.hblkhd));
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  metric_head(&b, "sluice_uptime_seconds", "gauge", "Time since the engine started serving.");
  sl_buf_printf(&b, "sluice_uptime_seconds %.3f\n",
                (double)((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 - s->started_ms) /
                    1000.0);
  struct MHD_Response *r =
      MHD_create_response_from_buffer(b.n, b.z, MHD_RESPMEM_MUST_FREE); /* takes b.z */
  MHD_add_response_header(r, "Content-Type", "text/plain; version=0.0.4");
  enum MHD_Result ret = queue_response(c, MHD_HTTP_OK, r);
  MHD_destroy_response(r);
  return ret;
}

/* The body of one request, collected across calls. */
typedef struct {
  char *z;
  size_t n;
  int too_big;
} sl_req;

/* Answer the request of c from its headers alone (its body is not read):
** status with {"error": msg}, or 204 with the CORS preflight headers when
** msg is NULL.  MHD_NO when the server has closed the connection already. */
static enum MHD_Result refuse(sl_server *s, struct MHD_Connection *c, unsigned status,
                              const char *msg) {
  if (!conn_begin(s, c)) return MHD_NO;
  if (msg) return reply_error(c, status, msg);
  struct MHD_Response *r = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
  if (!r) return MHD_NO;
  MHD_add_response_header(r, "Access-Control-Allow-Methods", "GET, POST, DELETE");
  MHD_add_response_header(r, "Access-Control-Allow-Headers", "Authorization, Content-Type");
  MHD_add_response_header(r, "Access-Control-Max-Age", "600");
  enum MHD_Result ret = queue_response(c, MHD_HTTP_NO_CONTENT, r);
  MHD_destroy_response(r);
  return ret;
}

/* The checks of a request's headers, before any of its body is read: its
** Host must name the server and its Origin (when it has one) be the
** server's own site or an --allow-origin (403: a web page of another site,
** or DNS rebinding); an allowed origin's CORS preflight (OPTIONS) is
** answered 204; then the token (401) and a POST body's Content-Type (415).
** Returns MHD_YES to read on, else what answering did. */
static enum MHD_Result check_headers(sl_server *s, struct MHD_Connection *c, const char *url,
                                     const char *method) {
  sl_conn *cn = conn_of(c);
  const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");
  if (host && !host_allowed(s, host, strlen(host), 80))
    return refuse(s, c, MHD_HTTP_FORBIDDEN,
                  "the Host header names no address of this server (a name it is reached by "
                  "is given to it with --server-name NAME[:PORT])");
  const char *origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
  const char *cors = NULL;
  for (int i = 0; origin && i < s->norigins; i++)
    if (!strcmp(origin, s->origins[i])) cors = s->origins[i];
  if (origin && !cors && !own_origin(s, origin))
    return refuse(s, c, MHD_HTTP_FORBIDDEN,
                  "a request from a web page of another site is refused (its Origin is not this "
                  "server; --allow-origin ORIGIN allows a site)");
  if (cn) cn->cors = cors;
  if (cors && !strcmp(method, "OPTIONS")) return refuse(s, c, MHD_HTTP_NO_CONTENT, NULL);
  /* the console's files hold no data: the page asks for the token */
  int console = !strcmp(method, "GET") && sl_console_find(url);
  if (s->token && !console) {
    const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    if (!auth || strncmp(auth, "Bearer ", 7) || strcmp(auth + 7, s->token))
      return refuse(s, c, MHD_HTTP_UNAUTHORIZED, "missing or wrong token");
  }
  int post_sql = !strcmp(url, "/statements") || !strcmp(url, "/query");
  if (post_sql && !strcmp(method, "POST") &&
      !body_type(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type")))
    return refuse(s, c, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
                  "the body must be Content-Type: application/sql (SQL text) or "
                  "application/json ({\"sql\": \"...\"})");
  return MHD_YES;
}

/* libmicrohttpd's request handler: check the headers (check_headers),
** collect the body (at most SL_SERVE_MAX_BODY bytes), dispatch on method
** and URL once the request is whole. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *data,
                                  size_t *size, void **con_cls) {
  sl_server *s = cls;
  sl_req *rq = *con_cls;
  if (!rq) {
    rq = calloc(1, sizeof *rq);
    if (!rq) return MHD_NO;
    *con_cls = rq;
    return check_headers(s, c, url, method);
  }
  if (*size) {
    if (!rq->too_big && rq->n + *size <= SL_SERVE_MAX_BODY) {
      char *z = realloc(rq->z, rq->n + *size + 1);
      if (!z) return MHD_NO;
      rq->z = z;
      memcpy(rq->z + rq->n, data, *size);
      rq->n += *size;
      rq->z[rq->n] = 0;
    } else {
      rq->too_big = 1;
    }
    *size = 0;
    return MHD_YES;
  }
  if (!conn_begin(s, c)) return MHD_NO; /* timed out or evicted just now: nothing runs */
  if (rq->too_big) return reply_error(c, 413, "request body over 1 MiB");
  int post_sql = !strcmp(url, "/statements") || !strcmp(url, "/query");
  if (post_sql) {
    if (strcmp(method, "POST")) return reply_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "use POST");
    if (!rq->n || memchr(rq->z, 0, rq->n))
      return reply_error(c, MHD_HTTP_BAD_REQUEST, "empty or binary body");
    const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
    if (body_type(ct) == 1) {
      /* {"sql": "..."} (or ksqlDB's {"ksql": "..."}) instead of plain SQL */
      cJSON *o = cJSON_ParseWithLength(rq->z, rq->n);
      cJSON *q = cJSON_GetObjectItemCaseSensitive(o, "sql");
      if (!q) q = cJSON_GetObjectItemCaseSensitive(o, "ksql");
      if (!cJSON_IsString(q) || !*q->valuestring) {
        enum MHD_Result r = reply_error(c, MHD_HTTP_BAD_REQUEST,
                                        o ? "a JSON body is an object with \"sql\": \"statements\""
                                          : "malformed JSON body");
        cJSON_Delete(o);
        return r;
      }
      char *sql = sl_strdup(q->valuestring);
      cJSON_Delete(o);
      enum MHD_Result r = url[1] == 's' ? do_statements(s, c, sql) : do_query(s, c, sql);
      free(sql);
      return r;
    }
    return url[1] == 's' ? do_statements(s, c, rq->z) : do_query(s, c, rq->z);
  }
  if (!strncmp(url, "/queries/", 9)) {
    if (!strcmp(method, "GET")) return do_query_detail(s, c, url + 9);
    if (strcmp(method, "DELETE"))
      return reply_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "use GET or DELETE");
    return do_terminate(s, c, url + 9);
  }
  if (strcmp(method, "GET")) return reply_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "use GET");
  const sl_console_file *f = sl_console_find(url);
  if (f) return do_console(c, f);
  if (!strcmp(url, "/queries")) return do_queries(s, c);
  if (!strcmp(url, "/metrics")) return do_metrics(s, c);
  if (!strncmp(url, "/describe/", 10)) return do_describe(s, c, url + 10);
  return reply_error(c, MHD_HTTP_NOT_FOUND, "no such endpoint");
}

/* libmicrohttpd's NOTIFY_COMPLETED: free the per-request state of
** on_request; the connection is idle again. */
static void on_done(void *cls, struct MHD_Connection *c, void **con_cls,
                    enum MHD_RequestTerminationCode tc) {
  sl_req *rq = *con_cls;
  if (rq) {
    free(rq->z);
    free(rq);
  }
  *con_cls = NULL;
  conn_end(cls, c);
}

/* Rows of statements applied again from the log go nowhere. */
static int drop_rows(void *ud, int ncol, const char *const *names, sl_value **row) {
  return 0;
}

/* One record of the submissions log (see log_record). */
typedef struct sl_logrec {
  char kind;
  int job;
  char *text; /* owned */
} sl_logrec;

/* Read the records of the log at path.  A record that is not whole (a
** crash while writing it) ends the log: *valid is set to the bytes before
** it.  Returns how many records (*out owned by the caller). */
static int read_log(const char *path, sl_logrec **out, long *valid) {
  *out = NULL;
  *valid = 0;
  FILE *f = fopen(path, "rb");
  if (!f) return 0;
  char *text = sl_read_all(f);
  fclose(f);
  size_t total = strlen(text);
  const char *p = text, *end = text + total;
  int n = 0;
  while (p < end) {
    /* "K LEN JOB\n", parsed strictly: TEXT may start with blanks */
    char *q;
    if (end - p < 3 || p[1] != ' ' || !(p[2] >= '0' && p[2] <= '9')) break;
    errno = 0;
    unsigned long long len = strtoull(p + 2, &q, 10);
    if (errno || *q != ' ' || (q[1] != '-' && (q[1] < '0' || q[1] > '9'))) break;
    long job = strtol(q + 1, &q, 10);
    if (errno || *q != '\n' || job < 0 || job > 1000000000) break;
    q++;
    if ((unsigned long long)(end - q) < len + 1 || q[len] != '\n') break;
    *out = sl_realloc(*out, sizeof **out * (size_t)(n + 1));
    (*out)[n].kind = p[0];
    (*out)[n].job = (int)job;
    (*out)[n].text = sl_strndup(q, (size_t)len);
    n++;
    p = q + len + 1;
  }
  *valid = (long)(p - text);
  free(text);
  return n;
}

/* What the log holds of one submission (by its number), read at start. */
typedef struct sl_subhist {
  int crashes;     /* its starts in a row that the server did not survive */
  int open;        /* its last start (R) has no end (E) or stable mark (U) after it */
  const char *ids; /* its query ids as last logged ("q3 q4"), or NULL */
  int *stops;      /* owned: indexes of its Q, T, F and D records */
  int nstop;
} sl_subhist;

/* 1 when the log stops query id (len bytes) of h's submission: terminated
** (Q, or T: all of them), failed (F) or removed (D). */
static int log_stops(const sl_subhist *h, const sl_logrec *r, const char *id, size_t len) {
  for (int k = 0; k < h->nstop; k++) {
    const sl_logrec *x = &r[h->stops[k]];
    size_t n = x->kind == 'F' ? strcspn(x->text, " ") : strlen(x->text);
    if (x->kind == 'T' || (n == len && !memcmp(x->text, id, len))) return 1;
  }
  return 0;
}

/* 1 when the log knows h's query ids and stops every one of them. */
static int log_stops_all(const sl_subhist *h, const sl_logrec *r) {
  if (!h->ids || !*h->ids) return 0;
  for (const char *p = h->ids; *p;) {
    size_t len = strcspn(p, " ");
    if (!log_stops(h, r, p, len)) return 0;
    p += len;
    p += *p == ' ';
  }
  return 1;
}

/* Apply sql again for its definitions and query ids only
** (SL_EXEC_PLAN_ONLY: nothing opened, no checkpoint read, nothing run) and
** list its queries as a submission whose queries never started
** (terminated, until marked otherwise).  0 with *job set (NULL: it planned
** no query), or -1 with err set.  Called with s->mu held. */
static int submit_planned(sl_server *s, const char *sql, sl_job **job, sl_err *err) {
  *job = NULL;
  int rc = sl_engine_exec(s->db, sql, SERVE_EXEC | SL_EXEC_PLAN_ONLY, NULL, NULL, err);
  sl_plan *plan = sl_engine_take_plan(s->db);
  int n = rc || !plan ? 0 : sl_plan_ntop(plan);
  if (n) {
    sl_job *j = job_new(s, NULL, sql, 0);
    j->final = sl_calloc((size_t)n, sizeof *j->final);
    j->marks = sl_calloc((size_t)n, sizeof *j->marks);
    j->nmark = n;
    for (int k = 0; k < plan->nquery; k++) {
      const sl_pquery *q = plan->queries[k];
      if (!q->top) continue;
      sl_final *f = &j->final[j->nfinal++];
      f->id = sl_strdup(q->id);
      f->sql = sl_strndup(q->sql, (size_t)q->sqllen);
      f->qi.id = f->id;
      f->qi.sql = f->sql;
      f->qi.sqllen = q->sqllen;
      f->qi.sink = q->into;
      f->topic = q->repart_topic ? sl_strdup(q->repart_topic) : NULL;
      f->qi.repart_topic = f->topic;
      f->qi.state = SL_QUERY_TERMINATED;
      f->qi.lag = -1;
      f->qi.ckpt_age_ms = -1;
      cJSON *g = sl_plan_graph(plan, q->id);
      f->plan = g ? cJSON_PrintUnformatted(g) : NULL;
      cJSON_Delete(g);
    }
    j->done = 1;
    *job = j;
  }
  sl_plan_free(plan);
  return rc;
}

/* Mark and stop the queries of job j (made again from the log; h is what
** the log holds of it) that the log stops: terminated (Q, T), failed (F:
** with its error) or removed (D).  A job never started needs no stopping:
** its queries are terminated already.  Called with s->mu held. */
static void apply_stops(sl_job *j, const sl_subhist *h, const sl_logrec *r) {
  for (int k = 0; k < h->nstop; k++) {
    const sl_logrec *x = &r[h->stops[k]];
    size_t len = x->kind == 'F' ? strcspn(x->text, " ") : strlen(x->text);
    int only = x->kind == 'T' ? -1 : job_index(j, x->text, len);
    if (x->kind != 'T' && only < 0) continue; /* not a query of it (any more) */
    for (int i = 0; i < job_nqueries(j); i++) {
      if (only >= 0 && i != only) continue;
      if (x->kind == 'F' && !j->marks[i].failed) {
        j->marks[i].failed = sl_strdup(x->text[len] ? x->text + len + 1 : "failed");
        j->marks[i].own = 1;
      }
      if (x->kind == 'D') j->marks[i].removed = 1;
      if (j->run) sl_run_terminate(j->run, job_qid(j, i));
    }
  }
}

/* Apply the log's records r[0..n) again, in their order, so that the
** catalog, the submission numbers and the query ids (and so the
** checkpoints) are as before.  S records are executed and their queries
** started (R logged first), those the log stops (Q, T, F, D) planned and
** stopped at once; a submission whose queries are all stopped, or whose
** starts the server did not survive s->restart_attempts times in a row
** (its queries are then marked failed), is applied for its definitions and
** ids only, nothing of it opened or run; X records (an interactive SELECT)
** likewise.  Called before serving, with the hooks in place, the log open
** for appending and s->mu held. */
static void replay_log(sl_server *s, const sl_logrec *r, int n) {
  int nsub = 0, nth = 0;
  for (int i = 0; i < n; i++)
    nsub += r[i].kind == 'S';
  sl_subhist *hist = sl_calloc((size_t)nsub + 1, sizeof *hist);
  for (int k = 0; k < n; k++) {
    int job = r[k].kind == 'T' ? atoi(r[k].text) : r[k].job;
    if (job < 1 || job > nsub) continue; /* not a submission's record */
    sl_subhist *h = &hist[job];
    switch (r[k].kind) {
    case 'R':
      h->crashes += h->open;
      h->open = 1;
      break;
    case 'E':
    case 'U':
      h->crashes = 0;
      h->open = 0;
      break;
    case 'Q':
    case 'T':
    case 'F':
    case 'D':
      h->stops = sl_realloc(h->stops, sizeof *h->stops * (size_t)(h->nstop + 1));
      h->stops[h->nstop++] = k;
      continue;
    default: continue;
    }
    if (*r[k].text) h->ids = r[k].text;
  }
  for (int i = 1; i <= nsub; i++)
    hist[i].crashes += hist[i].open; /* the start this process follows */
  for (int i = 0; i < n; i++) {
    if (r[i].kind != 'S' && r[i].kind != 'X') continue;
    nth++;
    sl_err err = {0};
    sl_job *j = NULL;
    int rc, job = r[i].kind == 'S' && r[i].job <= nsub ? r[i].job : 0;
    sl_subhist *h = job ? &hist[job] : NULL;
    int given_up = h && s->restart_attempts > 0 && h->crashes >= s->restart_attempts;
    if (job && s->njob < job - 1) s->njob = job - 1; /* a number skipped stays skipped */
    if (r[i].kind == 'X') {
      rc = sl_engine_exec(s->db, r[i].text, SERVE_EXEC | SL_EXEC_PLAN_ONLY, drop_rows, NULL, &err);
      sl_plan_free(sl_engine_take_plan(s->db));
    } else if (given_up || (h && log_stops_all(h, r))) {
      rc = submit_planned(s, r[i].text, &j, &err);
    } else {
      if (h) log_record(s, 'R', h->ids ? h->ids : "", job);
      rc = submit(s, r[i].text, NULL, NULL, &j, &err);
      if (h && !j) log_record(s, 'E', "", job); /* nothing of it runs */
    }
    if (rc)
      fprintf(stderr, "sluice serve: submission %d of the state directory fails now: %s\n", nth,
              err.msg ? err.msg : "error");
    sl_err_clear(&err);
    if (!j) continue;
    if (h) {
      j->attempts = h->crashes;
      apply_stops(j, h, r);
    }
    if (given_up) {
      sl_buf why;
      sl_buf_init(&why);
      sl_buf_printf(&why,
                    "not restarted: the server ended abnormally (a crash or a kill) %d times in a "
                    "row while its submission ran (--restart-attempts %d)",
                    h->crashes, s->restart_attempts);
      for (int q = 0; q < j->nmark; q++)
        if (!j->marks[q].failed && !log_stops(h, r, job_qid(j, q), strlen(job_qid(j, q))))
          j->marks[q].failed = sl_strdup(why.z);
      fprintf(stderr, "sluice serve: submission %d: %s\n", j->id, why.z);
      sl_buf_free(&why);
    }
    if (j->run) job_start(j);
  }
  for (int i = 1; i <= nsub; i++)
    free(hist[i].stops);
  free(hist);
}

/* Open the state directory's checkpoint store (the job threads then share
** it rather than race to open it), read its submissions log (none with
** --reset-state: it is removed), cut off a record left unfinished by a
** crash, open the log for appending and apply it again.  0, or -1
** (reported). */
static int open_state(sl_server *s, const char *dir) {
  sl_buf path;
  sl_buf_init(&path);
  mkdir(dir, 0755); /* the checkpoint store may not have made it yet */
  sl_buf_printf(&path, "%s/serve-submissions.log", dir);
  sl_err err = {0};
  if (!sl_engine_state(s->db, &err)) {
    fprintf(stderr, "sluice serve: %s\n", err.msg ? err.msg : "cannot open the state directory");
    sl_err_clear(&err);
    sl_buf_free(&path);
    return -1;
  }
  /* --reset-state: the submissions go with the checkpoints (a submission
  ** that crashes the server at every start must not outlive it) */
  if (sl_engine_setting_int(s->db, SL_SET_RESET_STATE) && unlink(path.z) && errno != ENOENT)
    fprintf(stderr, "sluice serve: --reset-state: cannot remove %s: %s\n", path.z, strerror(errno));
  sl_logrec *r;
  long valid;
  int n = read_log(path.z, &r, &valid);
  struct stat st;
  if (!stat(path.z, &st) && st.st_size > valid && truncate(path.z, valid))
    fprintf(stderr, "sluice serve: cannot cut the unfinished record off %s: %s\n", path.z,
            strerror(errno));
  s->log = fopen(path.z, "ab");
  if (!s->log) fprintf(stderr, "sluice serve: cannot write %s: submissions are not kept\n", path.z);
  pthread_mutex_lock(&s->mu);
  replay_log(s, r, n);
  pthread_mutex_unlock(&s->mu);
  for (int i = 0; i < n; i++)
    free(r[i].text);
  free(r);
  sl_buf_free(&path);
  return 0;
}

/* The listening sockets of a server: one per address its --listen names. */
#define SL_SERVE_MAX_ADDR 8

typedef struct sl_listener {
  int fds[SL_SERVE_MAX_ADDR];
  int n;
  char shown[300]; /* "http://HOST:PORT" of the first, for the log */
  int loopback;    /* every address is a loopback one */
} sl_listener;

/* 1 when a is a loopback address (127.0.0.0/8, ::1, ::ffff:127.x.y.z). */
static int is_loopback(const struct sockaddr *a) {
  if (a->sa_family == AF_INET)
    return (ntohl(((const struct sockaddr_in *)a)->sin_addr.s_addr) >> 24) == 127;
  if (a->sa_family != AF_INET6) return 0;
  const struct in6_addr *x = &((const struct sockaddr_in6 *)a)->sin6_addr;
  return IN6_IS_ADDR_LOOPBACK(x) || (IN6_IS_ADDR_V4MAPPED(x) && x->s6_addr[12] == 127);
}

/* Split listen ("HOST:PORT", "[IPV6]:PORT", ":PORT" or "PORT"; no HOST:
** 127.0.0.1) into host (hostcap bytes) and port (text, portcap bytes).
** Returns 0, or -1 when it is none of these. */
static int split_listen(const char *listen, char *host, size_t hostcap, char *port,
                        size_t portcap) {
  const char *colon = strrchr(listen, ':'), *h = listen, *hend = colon ? colon : listen;
  if (listen[0] == '[') { /* [IPv6]:PORT */
    const char *close = strchr(listen, ']');
    if (!close || close[1] != ':') return -1;
    h = listen + 1;
    hend = close;
    colon = close + 1;
  } else if (colon && memchr(listen, ':', (size_t)(colon - listen))) {
    return -1; /* an IPv6 address without brackets: where does the port start? */
  }
  const char *p = colon ? colon + 1 : listen;
  if ((size_t)(hend - h) >= hostcap || strlen(p) >= portcap || !*p ||
      strspn(p, "0123456789") != strlen(p) || atoi(p) < 1 || atoi(p) > 65535)
    return -1;
  snprintf(host, hostcap, "%.*s", (int)(hend - h), h);
  if (!*host) snprintf(host, hostcap, "127.0.0.1");
  memcpy(port, p, strlen(p) + 1); /* fits: checked above */
  return 0;
}

/* 1 when an entry of list before a holds a's address (a name listed twice
** in /etc/hosts). */
static int listed_before(const struct addrinfo *list, const struct addrinfo *a) {
  for (; list != a; list = list->ai_next)
    if (list->ai_addrlen == a->ai_addrlen && !memcmp(list->ai_addr, a->ai_addr, a->ai_addrlen))
      return 1;
  return 0;
}

/* Bind and listen on every address listen names (a host name may have
** several: localhost may be ::1 and 127.0.0.1).  An address family the
** machine lacks is skipped; any other failure, or no address at all, is an
** error.  Returns 0, or 2 (bad address) or 1 (cannot listen) with a message
** on stderr and no socket left open. */
static int open_listener(const char *where, sl_listener *l) {
  char host[256], port[8];
  memset(l, 0, sizeof *l);
  if (split_listen(where, host, sizeof host, port, sizeof port)) {
    fprintf(stderr, "sluice serve: bad --listen address '%s' (HOST:PORT, [IPV6]:PORT or PORT)\n",
            where);
    return 2;
  }
  struct addrinfo hints = {
      .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
  struct addrinfo *ai = NULL;
  int e = getaddrinfo(host, port, &hints, &ai);
  if (e) {
    fprintf(stderr, "sluice serve: --listen %s: %s\n", where, gai_strerror(e));
    return 2;
  }
  int rc = 0;
  l->loopback = 1;
  for (struct addrinfo *a = ai; a && !rc && l->n < SL_SERVE_MAX_ADDR; a = a->ai_next) {
    l->loopback &= is_loopback(a->ai_addr);
    if (listed_before(ai, a)) continue;
    int fd = socket(a->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), one = 1;
    if (fd >= 0 && !setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) &&
        !bind(fd, a->ai_addr, a->ai_addrlen) && !listen(fd, 64)) {
      l->fds[l->n++] = fd;
      continue;
    }
    int err = errno;
    if (fd >= 0) close(fd);
    if (err == EAFNOSUPPORT || err == EADDRNOTAVAIL) continue; /* no such family here */
    fprintf(stderr, "sluice serve: cannot listen on %s: %s\n", where, strerror(err));
    rc = 1;
  }
  freeaddrinfo(ai);
  if (!rc && !l->n) {
    fprintf(stderr, "sluice serve: cannot listen on %s: no usable address\n", where);
    rc = 1;
  }
  if (rc)
    while (l->n)
      close(l->fds[--l->n]);
  int v6 = strchr(host, ':') != NULL;
  snprintf(l->shown, sizeof l->shown, "http://%s%s%s:%s", v6 ? "[" : "", host, v6 ? "]" : "", port);
  return rc;
}

/* Fill s's names and origins (browser safety) for a server listening on
** listen (l: its sockets): the address as given and as bound, the loopback
** names when it is loopback, o's --server-name; o's --allow-origin
** (borrowed).  0, or -1 after a message for a bad --server-name or
** --allow-origin. */
static int allow_names(sl_server *s, const sl_serve_opts *o, const char *listen,
                       const sl_listener *l) {
  char host[256], port[8];
  if (split_listen(listen, host, sizeof host, port, sizeof port))
    return -1; /* opened: it is fine */
  int v6 = strchr(host, ':') != NULL, p = atoi(port);
  char name[300];
  snprintf(name, sizeof name, "%s%s%s", v6 ? "[" : "", host, v6 ? "]" : "");
  add_name(s, name, p);
  for (int i = 0; i < l->n; i++) {
    struct sockaddr_storage a;
    socklen_t alen = sizeof a;
    char text[INET6_ADDRSTRLEN];
    if (getsockname(l->fds[i], (struct sockaddr *)&a, &alen)) continue;
    int six = a.ss_family == AF_INET6;
    const void *bin = six ? (const void *)&((struct sockaddr_in6 *)&a)->sin6_addr
                          : (const void *)&((struct sockaddr_in *)&a)->sin_addr;
    if ((a.ss_family != AF_INET && !six) || !inet_ntop(a.ss_family, bin, text, sizeof text))
      continue;
    snprintf(name, sizeof name, "%s%s%s", six ? "[" : "", text, six ? "]" : "");
    add_name(s, name, p);
    if (!strcmp(text, "0.0.0.0") || !strcmp(text, "::")) s->wild_port = p;
  }
  if (l->loopback) {
    add_name(s, "localhost", p);
    add_name(s, "127.0.0.1", p);
    add_name(s, "[::1]", p);
  }
  for (int i = 0; i < o->nserver_names; i++) {
    const char *z = o->server_names[i];
    int np;
    if (parse_hostport(z, strlen(z), host, sizeof host, &np, 0)) {
      fprintf(stderr, "sluice serve: bad --server-name '%s' (NAME, NAME:PORT or [IPV6]:PORT)\n", z);
      return -1;
    }
    add_name(s, host, np);
  }
  for (int i = 0; i < o->nallow_origins; i++)
    if (!valid_origin(o->allow_origins[i])) {
      fprintf(stderr,
              "sluice serve: bad --allow-origin '%s' (http:// or https://, a host and an "
              "optional port: https://console.example)\n",
              o->allow_origins[i]);
      return -1;
    }
  s->origins = o->allow_origins;
  s->norigins = o->nallow_origins;
  return 0;
}

/* Set up s to serve db with token (NULL: none), closing connections idle
** for timeout_s (0: the default) or more: the engine's hooks point at it,
** the state settings become the owner's, the watchdog of the connections
** starts.  db stays the caller's; server_end undoes this. */
static void server_init(sl_server *s, sluice *db, const char *token, int timeout_s) {
  *s = (sl_server){.db = db, .token = token, .started_ms = mono_ms()};
  s->tail = &s->jobs;
  s->hooks = (sl_engine_hooks){s, hook_show_queries, hook_describe, hook_terminate};
  pthread_mutex_init(&s->mu, NULL);
  s->request_timeout_ms = 1000 * (int64_t)(timeout_s > 0 ? timeout_s : SL_SERVE_REQUEST_TIMEOUT_S);
  pthread_mutex_init(&s->cmu, NULL);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&s->ccv, &ca);
  pthread_condattr_destroy(&ca);
  s->watching = !pthread_create(&s->watchdog, NULL, watchdog_main, s);
  if (!s->watching)
    fprintf(stderr, "sluice serve: cannot start a thread: idle connections are not timed out\n");
  sl_engine_set_hooks(db, &s->hooks);
  /* Where the server keeps state is its owner's choice (--state-dir), never
  ** a client's: a client's SET state_dir would reach a directory nobody
  ** granted, and reopening the store under running queries freed it. */
  sl_engine_fix_setting(db, SL_SET_STATE_DIR);
  sl_engine_fix_setting(db, SL_SET_RESET_STATE);
  /* nor the most memory a query may take (--max-query-memory): a client
  ** must not lift the limit its owner chose */
  sl_engine_fix_setting(db, SL_SET_MAX_QUERY_MEMORY);
}

/* Free what s holds once its daemons are stopped (no request runs, no
** connection is left): stop the watchdog, wait for every job's thread
** (their queries interrupted by the caller) and free the jobs, close the
** log, take the hooks off the engine. */
static void server_end(sl_server *s) {
  pthread_mutex_lock(&s->cmu);
  s->stopping = 1;
  pthread_cond_signal(&s->ccv);
  pthread_mutex_unlock(&s->cmu);
  if (s->watching) pthread_join(s->watchdog, NULL);
  pthread_cond_destroy(&s->ccv);
  pthread_mutex_destroy(&s->cmu);
  for (int i = 0; i < s->nnames; i++)
    free(s->names[i].host);
  free(s->names);
  for (;;) {
    pthread_mutex_lock(&s->mu);
    sl_job *j = s->jobs;
    if (j) job_unlink(s, j);
    pthread_mutex_unlock(&s->mu);
    if (!j) break;
    if (j->started) pthread_join(j->thread, NULL);
    job_free(j);
  }
  if (s->log) fclose(s->log);
  sl_engine_set_hooks(s->db, NULL);
  pthread_mutex_destroy(&s->mu);
}

/* A daemon serving s (a thread per connection) on fd, a listening socket
** it takes, or, when fd < 0, on no socket: connections are then handed to
** it (MHD_add_connection).  Its connections are counted and timed out by s
** (on_connection, the watchdog); libmicrohttpd closes one with nothing
** sent or received for 30 s (a busy one too).  NULL when libmicrohttpd
** cannot start it. */
static struct MHD_Daemon *start_daemon(sl_server *s, int fd) {
  unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD;
  if (fd < 0) flags |= MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ITC;
  /* without a socket the option list ends before MHD_OPTION_LISTEN_SOCKET */
  return MHD_start_daemon(flags, 0, NULL, NULL, on_request, s, MHD_OPTION_NOTIFY_COMPLETED, on_done,
                          s, MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
                          MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_CONNECTION_LIMIT,
                          SL_SERVE_MAX_CONN + SL_SERVE_CONN_SLACK,
                          fd >= 0 ? MHD_OPTION_LISTEN_SOCKET : MHD_OPTION_END, fd, MHD_OPTION_END);
}

int sl_serve(sluice *db, const sl_serve_opts *o, volatile sig_atomic_t *stop) {
  const char *listen = o->listen, *token = o->token;
  sl_listener l;
  int rc = open_listener(listen && *listen ? listen : "127.0.0.1:8080", &l);
  if (rc) return rc;
  if (token && !*token) token = NULL;
  if (!l.loopback && !token) {
    fprintf(stderr, "sluice serve: listening on %s needs --token or SLUICE_TOKEN\n", listen);
    while (l.n)
      close(l.fds[--l.n]);
    return 2;
  }
  sl_server s;
  server_init(&s, db, token, o->request_timeout_s);
  if (allow_names(&s, o, listen && *listen ? listen : "127.0.0.1:8080", &l)) {
    rc = 2;
    server_end(&s);
    while (l.n)
      close(l.fds[--l.n]);
    return rc;
  }
  s.restart_attempts = o->restart_attempts;
  s.stable_ms =
      1000 * (int64_t)(o->stable_after_s > 0 ? o->stable_after_s : SL_SERVE_STABLE_AFTER_S);
  const char *dir = sl_engine_setting_text(db, SL_SET_STATE_DIR);
  struct MHD_Daemon *d[SL_SERVE_MAX_ADDR] = {0};
  int nd = 0;
  if (dir && open_state(&s, dir)) {
    rc = 1;
    goto done;
  }
  /* a daemon per socket (each closes its own when stopped) */
  for (; nd < l.n; nd++) {
    d[nd] = start_daemon(&s, l.fds[nd]);
    if (!d[nd]) {
      fprintf(stderr, "sluice serve: cannot serve on %s\n", listen);
      rc = 1;
      goto done;
    }
  }
  fprintf(stderr, "sluice serve: listening on %s\n", l.shown);
  while (!*stop) {
    usleep(100 * 1000);
    watch_jobs(&s);
  }
done:
  sluice_interrupt(db);        /* every query stops as at Ctrl-C (checkpointed) */
  for (int i = 0; i < nd; i++) /* the streams end, their transient queries with them */
    MHD_stop_daemon(d[i]);
  for (int i = nd; i < l.n; i++) /* sockets no daemon took */
    close(l.fds[i]);
  server_end(&s);
  return rc;
}

/* ---- a server on no socket (tests/fuzz/fuzz_http.c) ------------------------ */

struct sl_served {
  sl_server s;
  struct MHD_Daemon *d;
};

sl_served *sl_serve_open(sluice *db, const char *token) {
  sl_served *v = sl_calloc(1, sizeof *v);
  server_init(&v->s, db, token && *token ? token : NULL, 0);
  add_name(&v->s, "localhost", 0);
  add_name(&v->s, "127.0.0.1", 0);
  add_name(&v->s, "[::1]", 0);
  v->d = start_daemon(&v->s, -1);
  if (!v->d) {
    server_end(&v->s);
    free(v);
    return NULL;
  }
  return v;
}

int sl_serve_connection(sl_served *v, int fd, const struct sockaddr *peer, socklen_t peerlen) {
  return MHD_add_connection(v->d, fd, peer, peerlen) == MHD_YES ? 0 : -1;
}

void sl_serve_close(sl_served *v) {
  if (!v) return;
  sluice_interrupt(v->s.db);
  MHD_stop_daemon(v->d);
  server_end(&v->s);
  free(v);
}
