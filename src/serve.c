/*
** serve.c - `sluice serve`: one engine holding the catalog, with statements
** submitted over HTTP (libmicrohttpd, one thread per connection).  Each
** submission's continuous queries run together on a thread of their own.
** Endpoints: POST /statements, GET /queries, DELETE /queries/ID, GET
** /metrics (see docs/serve.md).  Also the thin clients' HTTP/1.1 request over
** a plain socket.
*/
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <cjson/cJSON.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "serve.h"

#define SL_SERVE_MAX_BODY (1u << 20) /* larger request bodies get 413 */

/* One submission whose continuous queries run on their own thread. */
typedef struct sl_job {
  int id;
  char *sql;      /* owned */
  sl_run *run;    /* owned by the thread until it finishes */
  int state;      /* 0 running, 1 finished, 2 failed */
  int terminated; /* DELETE /queries/ID asked it to stop */
  int started;    /* its thread was started (and must be joined) */
  char *stats;    /* owned: per-query counts once finished */
  char *error;    /* owned: the failure, if any */
  pthread_t thread;
  struct sl_job *next;
} sl_job;

typedef struct {
  sluice *db;
  const char *token;  /* NULL: no authentication (loopback only) */
  pthread_mutex_t mu; /* guards db's catalog during exec and the job list */
  sl_job *jobs;
  int njob;
  FILE *log; /* the submissions log in the state directory, or NULL */
} sl_server;

/* Append one record to the submissions log: "S LEN JOB" and a submitted text
** (JOB: the job it made, 0 for none), or "T LEN 0" and "ID NQUERIES" of a
** terminated job; flushed to disk before the request is answered.  A no-op
** without a state directory.  Called with s->mu held. */
static void log_record(sl_server *s, char kind, const char *text, int job) {
  if (!s->log) return;
  fprintf(s->log, "%c %zu %d\n%s\n", kind, strlen(text), job, text);
  fflush(s->log);
  fsync(fileno(s->log));
}

/* Execute sql in deferred mode and start the queries it planned as a new
** job (terminated: planned, to keep ids and catalog as they were, but not
** started).  Returns the job (NULL when no query was planned) with *rc 0, or
** NULL with *rc -1 and err set.  Called with s->mu held. */
static sl_job *submit(sl_server *s, const char *sql, int terminated, int *rc, sl_err *err);

/* The body of one request, collected across calls. */
typedef struct {
  char *z;
  size_t n;
  int too_big;
} sl_req;

/* Thread body: run one job's queries to the end, then record the outcome. */
static void *job_main(void *arg) {
  sl_job *j = arg;
  sl_err err = {0};
  int rc = sl_run_execute(j->run, 1, &err);
  sl_buf st;
  sl_buf_init(&st);
  sl_run_stats(j->run, &st, NULL);
  j->stats = sl_strndup(st.z ? st.z : "", st.z ? strlen(st.z) : 0);
  sl_buf_free(&st);
  if (rc) j->error = sl_strndup(err.msg ? err.msg : "error", strlen(err.msg ? err.msg : "error"));
  sl_err_clear(&err);
  __atomic_store_n(&j->state, rc ? 2 : 1, __ATOMIC_RELEASE);
  return NULL;
}

/* Queue a response of JSON (takes ownership of json, a cJSON tree). */
static enum MHD_Result reply_json(struct MHD_Connection *c, unsigned status, cJSON *json) {
  char *s = cJSON_PrintUnformatted(json);
  cJSON_Delete(json);
  struct MHD_Response *r = MHD_create_response_from_buffer(strlen(s), s, MHD_RESPMEM_MUST_FREE);
  MHD_add_response_header(r, "Content-Type", "application/json");
  enum MHD_Result ret = MHD_queue_response(c, status, r);
  MHD_destroy_response(r);
  return ret;
}

/* A JSON error {"error": msg} with the given status. */
static enum MHD_Result reply_error(struct MHD_Connection *c, unsigned status, const char *msg) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "error", msg);
  return reply_json(c, status, o);
}

/* Rows of SELECTs without INTO have nowhere to go in a server: dropped. */
static int drop_rows(void *ud, int ncol, const char *const *names, sl_value **row) {
  return 0;
}

/* POST /statements: execute body (SQL) in deferred mode; the continuous
** queries it planned start on a new job thread.  Called with s->mu free. */
static enum MHD_Result do_statements(sl_server *s, struct MHD_Connection *c, const char *sql) {
  sl_err err = {0};
  int rc;
  pthread_mutex_lock(&s->mu);
  sl_job *j = submit(s, sql, 0, &rc, &err);
  if (!rc) log_record(s, 'S', sql, j ? j->id : 0);
  int id = j ? j->id : 0;
  pthread_mutex_unlock(&s->mu);
  cJSON *o = cJSON_CreateObject();
  if (rc) {
    cJSON_AddStringToObject(o, "error", err.msg ? err.msg : "error");
    cJSON_AddNumberToObject(o, "line", err.line);
    cJSON_AddNumberToObject(o, "column", err.col);
    sl_err_clear(&err);
    return reply_json(c, MHD_HTTP_BAD_REQUEST, o);
  }
  if (id) cJSON_AddNumberToObject(o, "job", id);
  cJSON_AddStringToObject(o, "status", "ok");
  return reply_json(c, MHD_HTTP_OK, o);
}

static sl_job *submit(sl_server *s, const char *sql, int terminated, int *rc, sl_err *err) {
  *rc = sl_engine_exec(s->db, sql, 1, drop_rows, NULL, err);
  sl_run *run = s->db->pending;
  s->db->pending = NULL;
  if (*rc || !run) {
    if (run) sl_run_free(run);
    return NULL;
  }
  sl_job *j = sl_calloc(1, sizeof *j);
  j->id = ++s->njob;
  j->sql = sl_strdup(sql);
  j->run = run;
  j->next = s->jobs;
  s->jobs = j;
  if (terminated) {
    j->terminated = 1;
    j->state = 1;
    j->stats = sl_strdup("");
  } else if (pthread_create(&j->thread, NULL, job_main, j)) {
    j->state = 2;
    j->stats = sl_strdup("");
    j->error = sl_strdup("cannot start a thread");
  } else {
    j->started = 1;
  }
  return j;
}

/* Re-apply the submissions of the log at path in their order, so that the
** catalog, the query ids and thus the checkpoints are as before; the
** terminated ones are planned but not started.  A truncated last record (a
** crash while writing) ends the log.  Called before serving. */
static void replay_log(sl_server *s, const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return;
  char *text = sl_read_all(f);
  fclose(f);
  size_t total = strlen(text);
  for (int pass = 0; pass < 2; pass++) {
    const char *p = text;
    int nsub = 0;
    while (p < text + total) {
      char kind;
      size_t n;
      int used = 0, job = 0; /* T records (pass 0) become markers: jobs with id -ID */
      if (sscanf(p, "%c %zu %d\n%n", &kind, &n, &job, &used) != 3 || !used ||
          (size_t)(text + total - p - used) < n + 1)
        break;
      const char *body = p + used;
      char *one = sl_strndup(body, n);
      p = body + n + 1;
      if (pass == 0 && kind == 'T') {
        int id = 0, nq = 0;
        sscanf(one, "%d %d", &id, &nq);
        sl_job *m = sl_calloc(1, sizeof *m); /* a marker: -id, and its query count */
        m->id = -id;
        m->state = nq;
        m->next = s->jobs;
        s->jobs = m;
      } else if (pass == 1 && kind == 'S') {
        sl_job *term = NULL;
        for (sl_job *m = s->jobs; m; m = m->next)
          if (job && m->id == -job) term = m;
        if (term) {
          /* not executed again (planning would already open its sinks):
          ** its id and its queries' ids stay taken */
          sl_job *j = sl_calloc(1, sizeof *j);
          j->id = ++s->njob;
          j->sql = sl_strdup(one);
          j->state = 1;
          j->terminated = 1;
          j->stats = sl_strdup("");
          s->db->nquery += term->state;
          j->next = s->jobs;
          s->jobs = j;
        } else {
          sl_err err = {0};
          int rc;
          submit(s, one, 0, &rc, &err);
          if (rc)
            fprintf(stderr, "sluice serve: submission %d of the state directory fails now: %s\n",
                    nsub + 1, err.msg ? err.msg : "error");
          sl_err_clear(&err);
        }
        nsub++;
      }
      free(one);
    }
  }
  /* drop the markers */
  for (sl_job **pp = &s->jobs; *pp;) {
    if ((*pp)->id < 0) {
      sl_job *m = *pp;
      *pp = m->next;
      free(m);
    } else {
      pp = &(*pp)->next;
    }
  }
  free(text);
}

static const char *state_name(const sl_job *j, int st) {
  if (st == 1 && j->terminated) return "terminated";
  return st == 0 ? "running" : st == 1 ? "finished" : "failed";
}

/* DELETE /queries/ID: stop that job's queries only (they end as after an
** interrupt, checkpointed when a state directory is set). */
static enum MHD_Result do_terminate(sl_server *s, struct MHD_Connection *c, const char *idtext) {
  char *end;
  long id = strtol(idtext, &end, 10);
  if (!*idtext || *end || id <= 0) return reply_error(c, MHD_HTTP_BAD_REQUEST, "bad query id");
  pthread_mutex_lock(&s->mu);
  sl_job *j = s->jobs;
  while (j && j->id != id)
    j = j->next;
  if (j && !j->terminated) {
    j->terminated = 1;
    sl_run_stop(j->run);
    char rec[64];
    snprintf(rec, sizeof rec, "%ld %d", id, sl_run_nqueries(j->run));
    log_record(s, 'T', rec, 0);
  }
  pthread_mutex_unlock(&s->mu);
  if (!j) return reply_error(c, MHD_HTTP_NOT_FOUND, "no such query");
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "id", (double)id);
  cJSON_AddStringToObject(o, "status", "terminating");
  return reply_json(c, MHD_HTTP_OK, o);
}

/* GET /queries: every job with its SQL, state and (once done) counts. */
static enum MHD_Result do_queries(sl_server *s, struct MHD_Connection *c) {
  cJSON *a = cJSON_CreateArray();
  pthread_mutex_lock(&s->mu);
  for (sl_job *j = s->jobs; j; j = j->next) {
    int st = __atomic_load_n(&j->state, __ATOMIC_ACQUIRE);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", j->id);
    cJSON_AddStringToObject(o, "sql", j->sql);
    cJSON_AddStringToObject(o, "state", state_name(j, st));
    if (st) cJSON_AddStringToObject(o, "stats", j->stats);
    if (st == 2) cJSON_AddStringToObject(o, "error", j->error);
    cJSON_AddItemToArray(a, o);
  }
  pthread_mutex_unlock(&s->mu);
  return reply_json(c, MHD_HTTP_OK, a);
}

/* GET /metrics: Prometheus text with the jobs per state. */
static enum MHD_Result do_metrics(sl_server *s, struct MHD_Connection *c) {
  int n[3] = {0, 0, 0};
  pthread_mutex_lock(&s->mu);
  for (sl_job *j = s->jobs; j; j = j->next)
    n[__atomic_load_n(&j->state, __ATOMIC_ACQUIRE)]++;
  pthread_mutex_unlock(&s->mu);
  char *t = malloc(512);
  snprintf(t, 512,
           "# HELP sluice_jobs Submissions with continuous queries, by state.\n"
           "# TYPE sluice_jobs gauge\n"
           "sluice_jobs{state=\"running\"} %d\n"
           "sluice_jobs{state=\"finished\"} %d\n"
           "sluice_jobs{state=\"failed\"} %d\n",
           n[0], n[1], n[2]);
  struct MHD_Response *r = MHD_create_response_from_buffer(strlen(t), t, MHD_RESPMEM_MUST_FREE);
  MHD_add_response_header(r, "Content-Type", "text/plain; version=0.0.4");
  enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, r);
  MHD_destroy_response(r);
  return ret;
}

/* libmicrohttpd's request handler: collect the body (at most
** SL_SERVE_MAX_BODY bytes), check the token, dispatch on method and URL. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *data,
                                  size_t *size, void **con_cls) {
  sl_server *s = cls;
  sl_req *rq = *con_cls;
  if (!rq) {
    rq = calloc(1, sizeof *rq);
    *con_cls = rq;
    return MHD_YES;
  }
  if (*size) {
    if (!rq->too_big && rq->n + *size <= SL_SERVE_MAX_BODY) {
      rq->z = realloc(rq->z, rq->n + *size + 1);
      memcpy(rq->z + rq->n, data, *size);
      rq->n += *size;
      rq->z[rq->n] = 0;
    } else {
      rq->too_big = 1;
    }
    *size = 0;
    return MHD_YES;
  }
  if (s->token) {
    const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    if (!auth || strncmp(auth, "Bearer ", 7) || strcmp(auth + 7, s->token))
      return reply_error(c, MHD_HTTP_UNAUTHORIZED, "missing or wrong token");
  }
  if (rq->too_big) return reply_error(c, 413, "request body over 1 MiB");
  if (!strcmp(url, "/statements")) {
    if (strcmp(method, "POST")) return reply_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "use POST");
    if (!rq->n || memchr(rq->z, 0, rq->n))
      return reply_error(c, MHD_HTTP_BAD_REQUEST, "empty or binary body");
    return do_statements(s, c, rq->z);
  }
  if (!strncmp(url, "/queries/", 9)) {
    if (strcmp(method, "DELETE")) return reply_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "use DELETE");
    return do_terminate(s, c, url + 9);
  }
  if (strcmp(method, "GET")) return reply_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "use GET");
  if (!strcmp(url, "/queries")) return do_queries(s, c);
  if (!strcmp(url, "/metrics")) return do_metrics(s, c);
  return reply_error(c, MHD_HTTP_NOT_FOUND, "no such endpoint");
}

/* Free the per-request state of on_request. */
static void on_done(void *cls, struct MHD_Connection *c, void **con_cls,
                    enum MHD_RequestTerminationCode tc) {
  sl_req *rq = *con_cls;
  if (rq) {
    free(rq->z);
    free(rq);
  }
  *con_cls = NULL;
}

int sl_serve(sluice *db, const char *listen, const char *token, volatile sig_atomic_t *stop) {
  char host[64] = "127.0.0.1";
  const char *colon = listen ? strrchr(listen, ':') : NULL;
  int port = colon ? atoi(colon + 1) : (listen ? atoi(listen) : 8080);
  if (colon && colon > listen) {
    size_t n = (size_t)(colon - listen);
    if (n >= sizeof host) n = sizeof host - 1;
    memcpy(host, listen, n);
    host[n] = 0;
  }
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)port);
  if (port <= 0 || port > 65535 || inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
    fprintf(stderr, "sluice serve: bad --listen address '%s' (HOST:PORT, IPv4)\n",
            listen ? listen : "");
    return 2;
  }
  if (token && !*token) token = NULL;
  if ((ntohl(sa.sin_addr.s_addr) >> 24) != 127 && !token) {
    fprintf(stderr, "sluice serve: listening on %s needs --token or SLUICE_TOKEN\n", host);
    return 2;
  }
  sl_server s = {.db = db, .token = token};
  pthread_mutex_init(&s.mu, NULL);
  const sl_value *dir = sl_catalog_get(&db->cat, "state_dir");
  const char *dirz = dir ? sl_value_cstr((sl_value *)dir) : NULL;
  if (dirz && *dirz) {
    sl_buf path;
    sl_buf_init(&path);
    mkdir(dirz, 0755); /* the checkpoint store may not have made it yet */
    sl_buf_printf(&path, "%s/serve-submissions.log", dirz);
    /* open the checkpoint store now: the job threads then share it rather
    ** than race to open it */
    sl_err err = {0};
    if (!sl_engine_state(db, &err)) {
      fprintf(stderr, "sluice serve: %s\n", err.msg ? err.msg : "cannot open the state directory");
      sl_err_clear(&err);
      sl_buf_free(&path);
      pthread_mutex_destroy(&s.mu);
      return 1;
    }
    replay_log(&s, path.z);
    s.log = fopen(path.z, "ab");
    if (!s.log)
      fprintf(stderr, "sluice serve: cannot write %s: submissions are not kept\n", path.z);
    sl_buf_free(&path);
  }
  struct MHD_Daemon *d =
      MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL,
                       NULL, on_request, &s, MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_NOTIFY_COMPLETED,
                       on_done, NULL, MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_END);
  if (!d) {
    fprintf(stderr, "sluice serve: cannot listen on %s:%d\n", host, port);
    pthread_mutex_destroy(&s.mu);
    return 1;
  }
  fprintf(stderr, "sluice serve: listening on http://%s:%d\n", host, port);
  while (!*stop)
    usleep(100 * 1000);
  MHD_stop_daemon(d);
  sluice_interrupt(db);
  for (sl_job *j = s.jobs, *next; j; j = next) {
    next = j->next;
    if (j->started) pthread_join(j->thread, NULL);
    if (j->run) sl_run_free(j->run);
    free(j->sql);
    free(j->stats);
    free(j->error);
    free(j);
  }
  if (s.log) fclose(s.log);
  pthread_mutex_destroy(&s.mu);
  return 0;
}

int sl_client_request(const char *url, const char *token, const char *method, const char *path,
                      const char *body) {
  char host[64];
  int port = 0;
  if (strncmp(url, "http://", 7) || sscanf(url + 7, "%63[^:/]:%d", host, &port) != 2 || port <= 0 ||
      port > 65535) {
    fprintf(stderr, "sluice: bad server URL '%s' (http://HOST:PORT)\n", url);
    return 1;
  }
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)port);
  if (!strcmp(host, "localhost")) snprintf(host, sizeof host, "127.0.0.1");
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (inet_pton(AF_INET, host, &sa.sin_addr) != 1 || fd < 0 ||
      connect(fd, (struct sockaddr *)&sa, sizeof sa)) {
    fprintf(stderr, "sluice: cannot reach %s\n", url);
    if (fd >= 0) close(fd);
    return 1;
  }
  size_t nbody = body ? strlen(body) : 0;
  sl_buf req;
  sl_buf_init(&req);
  sl_buf_printf(&req,
                "%s %s HTTP/1.1\r\nHost: %s:%d\r\nConnection: close\r\nContent-Length: %zu\r\n",
                method, path, host, port, nbody);
  if (token && *token) sl_buf_printf(&req, "Authorization: Bearer %s\r\n", token);
  sl_buf_printf(&req, "\r\n");
  int rc = 1;
  size_t off = 0;
  const char *parts[2] = {req.z, body};
  size_t lens[2] = {strlen(req.z), nbody};
  for (int k = 0; k < 2; k++)
    for (off = 0; off < lens[k];) {
      ssize_t w = send(fd, parts[k] + off, lens[k] - off, MSG_NOSIGNAL);
      if (w <= 0) goto done;
      off += (size_t)w;
    }
  sl_buf_reset(&req);
  char chunk[4096];
  ssize_t r;
  while ((r = recv(fd, chunk, sizeof chunk, 0)) > 0)
    sl_buf_append(&req, chunk, (size_t)r);
  int status = 0;
  const char *sep = req.z ? strstr(req.z, "\r\n\r\n") : NULL;
  if (!sep || sscanf(req.z, "HTTP/1.%*d %d", &status) != 1) {
    fprintf(stderr, "sluice: no HTTP answer from %s\n", url);
    goto done;
  }
  fputs(sep + 4, stdout);
  if (sep[4] && req.z[req.n - 1] != '\n') fputc('\n', stdout);
  rc = status >= 200 && status < 300 ? 0 : 1;
done:
  close(fd);
  sl_buf_free(&req);
  return rc;
}
