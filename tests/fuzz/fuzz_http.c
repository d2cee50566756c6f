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
** Nothing an input does may reach beyond a temporary directory: this
** program is linked with --wrap for sl_connector_find, sl_model_load and
** sl_model_export.  file() and sqlite() take only a plain file name (no
** '/', not starting with '.'), resolved in the temporary directory, and so
** do CREATE MODEL FROM and EXPORT MODEL; stdin(), stdout(), socket() and
** kafka() are refused as a bind error.  LOAD is refused by the server
** itself (no --load-path), and no state directory is opened.  The directory
** is emptied after every input and removed at exit.
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

#include "connector.h"
#include "engine.h"
#include "model.h"
#include "serve.h"

#define ANSWER_MS 2000 /* the longest an input's answer is read */
#define MAX_NAME 64    /* the longest plain file name */

static char tmpdir[] = "/tmp/fuzz_http.XXXXXX";
static int show; /* FUZZ_HTTP_SHOW set: the answers go to stderr */

/* ---- the sandbox ------------------------------------------------------------ */

/* 1 when z is a plain file name: 1 to MAX_NAME bytes of letters, digits,
** '_', '-' and '.', not starting with '.'. */
static int plain_name(const char *z) {
  size_t n = strlen(z);
  return n && n <= MAX_NAME && z[0] != '.' &&
         strspn(z, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") == n;
}

/* Write into out (cap bytes) the path of z in the temporary
** directory, when z is a plain name or already such a path (options are
** seen again when a query opens what planning checked).  0, or -1 with err
** set. */
static int sandbox_path(const char *z, char *out, size_t cap, sl_err *err) {
  size_t dn = strlen(tmpdir);
  if (!strncmp(z, tmpdir, dn) && z[dn] == '/') z += dn + 1;
  if (!plain_name(z)) {
    sl_err_set(err, SL_EBIND, "fuzz_http: a path is a plain file name here, not '%s'", z);
    return -1;
  }
  snprintf(out, cap, "%s/%s", tmpdir, z);
  return 0;
}

/* Point the path options of a file() or sqlite() call ("0", "path") into
** the temporary directory.  0, or -1 with err set. */
static int sandbox_options(sl_options *opts, sl_err *err) {
  static const char *const names[] = {"0", "path"};
  for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
    sl_option *o = sl_opt_find_unused(opts, names[i]);
    if (!o || o->value.type == SL_NULL) continue;
    char path[sizeof tmpdir + MAX_NAME + 2];
    if (sandbox_path(sl_value_cstr(&o->value), path, sizeof path, err)) return -1;
    sl_value_set_text(&o->value, path, strlen(path));
  }
  return 0;
}

static sl_source *file_source(sl_options *opts, sl_err *err) {
  return sandbox_options(opts, err) ? NULL : sl_conn_file.open_source(opts, err);
}
static sl_sink *file_sink(sl_options *opts, sl_err *err) {
  return sandbox_options(opts, err) ? NULL : sl_conn_file.open_sink(opts, err);
}
static sl_source *sqlite_source(sl_options *opts, sl_err *err) {
  return sandbox_options(opts, err) ? NULL : sl_conn_sqlite.open_source(opts, err);
}
static sl_sink *sqlite_sink(sl_options *opts, sl_err *err) {
  return sandbox_options(opts, err) ? NULL : sl_conn_sqlite.open_sink(opts, err);
}
static sl_source *refuse_source(sl_options *opts, sl_err *err) {
  sl_err_set(err, SL_EBIND, "fuzz_http: %s() is not available here", opts->fn ? opts->fn : "?");
  return NULL;
}
static sl_sink *refuse_sink(sl_options *opts, sl_err *err) {
  refuse_source(opts, err);
  return NULL;
}

static const sl_connector sandboxed_file = {"file", file_source, file_sink};
static const sl_connector sandboxed_sqlite = {"sqlite", sqlite_source, sqlite_sink};

const sl_connector *__real_sl_connector_find(const char *name, size_t n);

/* The connector of that name as this program allows it: file() and
** sqlite() in the temporary directory, any other refused (under its own
** name, for the planner's messages).  NULL if there is no such connector. */
const sl_connector *__wrap_sl_connector_find(const char *name, size_t n) {
  static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
  static sl_connector refused[16];
  static int nrefused;
  const sl_connector *c = __real_sl_connector_find(name, n);
  if (!c) return NULL;
  if (c == &sl_conn_file) return &sandboxed_file;
  if (c == &sl_conn_sqlite) return &sandboxed_sqlite;
  pthread_mutex_lock(&mu);
  int i = 0;
  while (i < nrefused && refused[i].name != c->name)
    i++;
  if (i == nrefused) {
    if (nrefused == (int)(sizeof refused / sizeof *refused)) abort(); /* more connectors: grow */
    refused[nrefused++] = (sl_connector){c->name, refuse_source, refuse_sink};
  }
  pthread_mutex_unlock(&mu);
  return &refused[i];
}

sl_model *__real_sl_model_load(const char *path, sl_err *err);
int __real_sl_model_export(sl_model_slot *s, const char *path, sl_err *err);

/* CREATE MODEL FROM and EXPORT MODEL TO, in the temporary directory only. */
sl_model *__wrap_sl_model_load(const char *path, sl_err *err) {
  char p[sizeof tmpdir + MAX_NAME + 2];
  return sandbox_path(path, p, sizeof p, err) ? NULL : __real_sl_model_load(p, err);
}
int __wrap_sl_model_export(sl_model_slot *s, const char *path, sl_err *err) {
  char p[sizeof tmpdir + MAX_NAME + 2];
  return sandbox_path(path, p, sizeof p, err) ? -1 : __real_sl_model_export(s, p, err);
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
