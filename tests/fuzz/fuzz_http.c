/*
** fuzz_http.c - libFuzzer target for `sluice serve`'s request handling: the
** input (after its first byte) is the raw bytes a client sends on one
** connection, one HTTP/1.1 request or several pipelined, written into a
** socket pair whose other end is handed to a real libmicrohttpd daemon of
** src/serve.c (sl_serve_open, a thread per connection as in `sluice
** serve`).  So MHD's parsing and the server's own code run as they do for a
** client: the token check, routing by method and URL, the body as SQL
** (plain or JSON), submissions and their job threads, streamed answers of
** POST /query, /queries, /queries/ID, /describe/NAME, /metrics.
**
** The first byte chooses the server: bit 0 set, one with --token fuzz (the
** requests then need "Authorization: Bearer fuzz").  Every input gets a new
** engine and server (a stream s, a table t and a model m in its catalog),
** so that an input replays alone as it ran; the answer is read until the
** server closes the connection, or for ANSWER_MS at most (a streamed query
** may never end), and then the server is stopped, which interrupts every
** query and waits for their threads.
**
** What an input may reach is what `sluice serve` grants its clients: the
** server runs with the authorizer of `sluice serve --data-dir TMP`
** (grant.h), TMP a temporary directory, and no broker or host granted,
** no LOAD.  So every path, host, property and LOAD an input invents is
** judged by the real authorizer; this program only checks the verdicts:
** file(), sqlite(), CREATE MODEL FROM, EXPORT MODEL and sl_authorize are
** linked with --wrap, and when one of them really opens a path, that path must resolve
** inside TMP (abort otherwise: the authorizer let a client out).  A plain
** file name ("s.jsonl": 1 to MAX_NAME letters, digits, '_', '-', '.', not
** starting with '.') is taken as TMP's file of that name, so that inputs
** can name files without knowing TMP; any other path goes to the
** authorizer as written.  TMP is emptied after every input and removed at
** exit.
**
** With FUZZ_HTTP_SHOW set in the environment, the server's answers are
** copied to stderr: `FUZZ_HTTP_SHOW=1 fuzz_http FILE` shows what an input
** got.
*/
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "connector.h"
#include "engine.h"
#include "grant.h"
#include "model.h"
#include "serve.h"

#define ANSWER_MS 2000 /* the longest an input's answer is read */
#define MAX_NAME 64    /* the longest plain file name */

static char tmpdir[] = "/tmp/fuzz_http.XXXXXX";
static int show;       /* FUZZ_HTTP_SHOW set: the answers go to stderr */
static sl_grant grant; /* --data-dir TMP, nothing else */

/* ---- the sandbox ------------------------------------------------------------ */

/* 1 when z is a plain file name: 1 to MAX_NAME bytes of letters, digits,
** '_', '-' and '.', not starting with '.'. */
static int plain_name(const char *z) {
  size_t n = strlen(z);
  return n && n <= MAX_NAME && z[0] != '.' &&
         strspn(z, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") == n;
}

/* The path an input meant by z: TMP/z for a plain name (written into out,
** cap bytes), else z itself. */
static const char *input_path(const char *z, char *out, size_t cap) {
  if (!plain_name(z)) return z;
  snprintf(out, cap, "%s/%s", tmpdir, z);
  return out;
}

/* The verdict check: a path that is really opened must be inside TMP. */
static void must_be_inside(const char *what, const char *path) {
  if (sl_path_inside(path, tmpdir)) return;
  fprintf(stderr, "fuzz_http: %s opened '%s', outside %s: the authorizer let it out\n", what, path,
          tmpdir);
  abort();
}

/* Point the path options of a file() or sqlite() call ("0", "path") at
** TMP when they are plain names.  Returns the path the call names (in
** the options, valid while they are), or NULL. */
static const char *input_options(sl_options *opts) {
  static const char *const names[] = {"0", "path"};
  const char *path = NULL;
  for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
    sl_option *o = sl_opt_find_unused(opts, names[i]);
    if (!o || o->value.type == SL_NULL) continue;
    char p[sizeof tmpdir + MAX_NAME + 2];
    const char *z = input_path(sl_value_cstr(&o->value), p, sizeof p);
    if (z == p) sl_value_set_text(&o->value, p, strlen(p));
    if (!path) path = sl_value_cstr(&o->value);
  }
  return path;
}

static sl_source *file_source(sl_options *opts, sl_err *err) {
  const char *path = input_options(opts);
  char *keep = path ? sl_strdup(path) : NULL;
  int check = opts->check_only;
  sl_source *r = sl_conn_file.open_source(opts, err);
  if (r && !check && keep) must_be_inside("file()", keep);
  free(keep);
  return r;
}
static sl_sink *file_sink(sl_options *opts, sl_err *err) {
  const char *path = input_options(opts);
  char *keep = path ? sl_strdup(path) : NULL;
  int check = opts->check_only;
  sl_sink *r = sl_conn_file.open_sink(opts, err);
  if (r && !check && keep) must_be_inside("INTO file()", keep);
  free(keep);
  return r;
}
static sl_source *sqlite_source(sl_options *opts, sl_err *err) {
  const char *path = input_options(opts);
  char *keep = path ? sl_strdup(path) : NULL;
  sl_source *r = sl_conn_sqlite.open_source(opts, err);
  if (r && keep) must_be_inside("sqlite()", keep); /* it opens when planned, too */
  free(keep);
  return r;
}

static const sl_connector input_file = {"file", file_source, file_sink};
static const sl_connector input_sqlite = {"sqlite", sqlite_source, NULL};

const sl_connector *__real_sl_connector_find(const char *name, size_t n);

/* The connector of that name, file() and sqlite() through the wrappers
** above; NULL if there is no such connector. */
const sl_connector *__wrap_sl_connector_find(const char *name, size_t n) {
  const sl_connector *c = __real_sl_connector_find(name, n);
  return c == &sl_conn_file ? &input_file : c == &sl_conn_sqlite ? &input_sqlite : c;
}

sl_model *__real_sl_model_load(const char *path, sl_err *err);
int __real_sl_model_export(sl_model_slot *s, const char *path, sl_err *err);

int __real_sl_authorize(const sl_auth *a, int action, const char *target, const char *detail,
                        sl_err *err);

/* The authorizer asked about a plain name is asked about TMP's file of
** that name (the path the wrappers then open). */
int __wrap_sl_authorize(const sl_auth *a, int action, const char *target, const char *detail,
                        sl_err *err) {
  char p[sizeof tmpdir + MAX_NAME + 2];
  if (action == SLUICE_AUTH_READ || action == SLUICE_AUTH_WRITE)
    target = input_path(target, p, sizeof p);
  return __real_sl_authorize(a, action, target, detail, err);
}

/* CREATE MODEL FROM and EXPORT MODEL TO: the engine asked the authorizer
** about path before calling these, so it must be inside TMP. */
sl_model *__wrap_sl_model_load(const char *path, sl_err *err) {
  char p[sizeof tmpdir + MAX_NAME + 2];
  const char *z = input_path(path, p, sizeof p);
  must_be_inside("CREATE MODEL", z);
  return __real_sl_model_load(z, err);
}
int __wrap_sl_model_export(sl_model_slot *s, const char *path, sl_err *err) {
  char p[sizeof tmpdir + MAX_NAME + 2];
  const char *z = input_path(path, p, sizeof p);
  must_be_inside("EXPORT MODEL", z);
  return __real_sl_model_export(s, z, err);
}

/* ---- the temporary directory and the catalog ---------------------------------- */

/* Remove every file of the temporary directory (inputs make only files). */
static void empty_dir(void) {
  DIR *d = opendir(tmpdir);
  if (!d) return;
  struct dirent *e;
  char p[sizeof tmpdir + 300];
  while ((e = readdir(d)))
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
      snprintf(p, sizeof p, "%s/%s", tmpdir, e->d_name);
      unlink(p);
    }
  closedir(d);
}

static void remove_dir(void) {
  empty_dir();
  rmdir(tmpdir);
}

/* Write text into file name of the temporary directory. */
static void put_file(const char *name, const char *text) {
  char p[sizeof tmpdir + MAX_NAME + 2];
  snprintf(p, sizeof p, "%s/%s", tmpdir, name);
  FILE *f = fopen(p, "w");
  if (!f || fputs(text, f) < 0 || fclose(f)) {
    fprintf(stderr, "fuzz_http: cannot write %s\n", p);
    abort();
  }
}

/* The records of stream s and the model m (y = 1 + 2a + 3b). */
static const char records[] =
    "{\"id\": 1, \"name\": \"a\", \"x\": 0.5, \"ts\": \"2024-01-01T00:00:00Z\"}\n"
    "{\"id\": 2, \"name\": \"b\", \"x\": -1, \"ts\": \"2024-01-01T00:00:01Z\"}\n"
    "{\"id\": 3, \"name\": \"a\", \"x\": 2.25, \"ts\": \"2024-01-01T00:00:03Z\"}\n"
    "{\"id\": 4, \"name\": null, \"x\": 7, \"ts\": \"2024-01-01T00:00:09Z\"}\n"
    "{\"id\": \"bad\", \"name\": \"c\", \"x\": 1, \"ts\": \"2024-01-01T00:00:10Z\"}\n"
    "{\"id\": 6, \"name\": \"a\", \"x\": 3, \"ts\": \"2024-01-01T00:00:21Z\"}\n";
static const char model[] =
    "{\"format\": \"sluice-model\", \"version\": 1, \"kind\": \"linear\", \"n_features\": 2, "
    "\"feature_names\": [\"a\", \"b\"], \"coef\": [[2, 3]], \"intercept\": [1], "
    "\"link\": \"identity\"}";
static const char catalog[] =
    "CREATE STREAM s (id INTEGER, name TEXT, x REAL, ts TIMESTAMP) "
    "FROM file('s.jsonl', format => 'json') WATERMARK ts - INTERVAL '1' SECOND;\n"
    "CREATE TABLE t (k INTEGER, label TEXT, w REAL);\n"
    "INSERT INTO t VALUES (1, 'one', 0.5), (2, 'two', NULL), (NULL, 'none', -1);\n"
    "CREATE MODEL m FROM 'm.json';\n";

/* A new engine with the catalog every input starts from. */
static sluice *open_engine(void) {
  put_file("s.jsonl", records);
  put_file("m.json", model);
  sluice *db = sluice_open();
  sl_err err = {0};
  if (sl_engine_exec(db, catalog, SL_EXEC_IMMEDIATE, NULL, NULL, &err)) {
    fprintf(stderr, "fuzz_http: catalog: %s\n", err.msg ? err.msg : "?");
    abort();
  }
  sl_engine_set_auth(db, sl_grant_check, &grant, sl_grant_why); /* what follows is a client's */
  return db;
}

/* ---- one connection ------------------------------------------------------------------ */

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Send the n bytes at data on a new connection to v, then close the
** sending side, and read (and drop) the answer until the server closes or
** ANSWER_MS has passed; then close the connection. */
static void converse(sl_served *v, const uint8_t *data, size_t n) {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds)) abort();
  struct sockaddr_in peer = {.sin_family = AF_INET, .sin_port = htons(40000)};
  peer.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (sl_serve_connection(v, fds[0], (struct sockaddr *)&peer, sizeof peer)) {
    close(fds[1]);
    return;
  }
  int fd = fds[1];
  fcntl(fd, F_SETFL, O_NONBLOCK);
  size_t off = 0;
  int shut = 0;
  int64_t until = now_ms() + ANSWER_MS;
  static char buf[1 << 16];
  for (;;) {
    if (off == n && !shut) {
      shutdown(fd, SHUT_WR);
      shut = 1;
    }
    int64_t left = until - now_ms();
    if (left <= 0) break;
    struct pollfd p = {fd, (short)(POLLIN | (off < n ? POLLOUT : 0)), 0};
    int r = poll(&p, 1, (int)left);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    if (p.revents & POLLOUT) {
      ssize_t w = send(fd, data + off, n - off, MSG_NOSIGNAL);
      if (w > 0) off += (size_t)w;
      if (w < 0 && errno != EAGAIN && errno != EINTR) off = n; /* the server closed: read on */
    }
    if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t k = recv(fd, buf, sizeof buf, 0);
      if (k > 0 && show) fwrite(buf, 1, (size_t)k, stderr);
      if (k == 0 || (k < 0 && errno != EAGAIN && errno != EINTR)) break;
    }
  }
  close(fd);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  if (!mkdtemp(tmpdir)) {
    perror("fuzz_http: mkdtemp");
    abort();
  }
  atexit(remove_dir);
  sl_err err = {0};
  sl_grant_init(&grant);
  if (sl_grant_dir(&grant, tmpdir, &err)) abort();
  show = getenv("FUZZ_HTTP_SHOW") != NULL;
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!size) return 0;
  sluice *db = open_engine();
  sl_served *v = sl_serve_open(db, data[0] & 1 ? "fuzz" : NULL);
  if (!v) {
    fprintf(stderr, "fuzz_http: the server does not start\n");
    abort();
  }
  converse(v, data + 1, size - 1);
  sl_serve_close(v);
  sluice_close(db);
  empty_dir();
  return 0;
}
