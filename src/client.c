/*
** client.c - the client side of a running `sluice serve` (see client.h).
**
** The transport is libcurl: one easy handle per request, driven by a multi
** handle whose waits last at most SL_HTTP_TICK_MS, so that a flag set by a
** SIGINT handler ends a request that is resolving, connecting, sending or
** streaming within that time (the handle is cleaned up, which closes the
** connection: the server sees the client go away).  The body of the answer
** is cut into lines as it arrives and each line handed on at once.
**
** On top of it, POST /query: one NDJSON object per line (columns, rows,
** query ids, a final status or error), rows converted to sl_values of the
** storage class the JSON text says (an integer has no '.', 'e' or 'E'; a
** BLOB is {"blob": "hex"}) and printed with the shell's sl_printer.
*/
#include "client.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "sluice.h"

#define SL_HTTP_TICK_MS 100          /* how often *stop is looked at while waiting */
#define SL_HTTP_CONNECT_MS 10000     /* how long resolving and connecting may take */
#define SL_HTTP_MAX_LINE (64u << 20) /* one line of a body */
#define SL_HTTP_MAX_ERROR (1u << 20) /* the body of an error answer */

/* Never through a proxy, whatever the environment says. */
#define SL_HTTP_NO_PROXY "localhost,127.0.0.0/8,::1"

/* How http_request ended. */
enum {
  SL_HTTP_FAILED = -1, /* no answer, or the answer broke off (err set) */
  SL_HTTP_DONE = 0,    /* the whole body was read */
  SL_HTTP_STOPPED = 1, /* *stop became non-zero: the connection was closed */
  SL_HTTP_CALLER = 2   /* the line callback asked to stop */
};

/* Called with each line of an answer's body as it arrives: status is the
** answer's HTTP status, line the bytes without "\n" or "\r\n" (NUL-terminated,
** writable, valid during the call only; a last line without "\n" counts too).
** Also called with line NULL after each piece of the body received, a moment
** to flush output.  Returns 0 to read on, non-zero to stop. */
typedef int (*sl_http_line_fn)(void *ud, int status, char *line, size_t n);

/* ---- the transport ------------------------------------------------------- */

static void global_init(void) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* The URL of path below base (http:// or https://, no query or fragment) in
** u.  Returns 0, or -1 with err set. */
static int set_url(CURLU *u, const char *base, const char *path, sl_err *err) {
  char *scheme = NULL, *old = NULL;
  int ok = curl_url_set(u, CURLUPART_URL, base, 0) == CURLUE_OK &&
           curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
           (!strcmp(scheme, "http") || !strcmp(scheme, "https")) &&
           curl_url_get(u, CURLUPART_QUERY, &old, 0) == CURLUE_NO_QUERY &&
           curl_url_get(u, CURLUPART_FRAGMENT, &old, 0) == CURLUE_NO_FRAGMENT &&
           curl_url_get(u, CURLUPART_PATH, &old, 0) == CURLUE_OK;
  if (ok) { /* the base's path, without a final '/', then path */
    size_t n = strlen(old);
    while (n && old[n - 1] == '/')
      n--;
    char *full = sl_mprintf("%.*s%s", (int)n, old, path);
    ok = curl_url_set(u, CURLUPART_PATH, full, 0) == CURLUE_OK;
    free(full);
  }
  curl_free(scheme);
  curl_free(old);
  if (!ok)
    sl_err_set(err, SL_EIO,
               "bad server URL '%s' (http://HOST:PORT, https://HOST[:PORT][/PATH], "
               "http://[IPV6]:PORT)",
               base);
  return ok ? 0 : -1;
}

/* One request and the answer being read: its body cut into lines. */
typedef struct request {
  CURL *h;
  CURLU *u;
  struct curl_slist *hdrs;
  char *noproxy;
  char errbuf[CURL_ERROR_SIZE];
  sl_http_line_fn fn;
  void *ud;
  int status;      /* HTTP status, once the body starts */
  sl_buf line;     /* body bytes not yet ending a line */
  int stopped;     /* the callback asked to stop */
  const char *bad; /* why the answer was refused (static text) */
} request;

/* Hand the line z[0..n) to the callback after dropping a final '\r' and
** terminating it (z[n] must be writable).  Returns the callback's answer. */
static int emit(request *r, char *z, size_t n) {
  if (n && z[n - 1] == '\r') n--;
  z[n] = 0;
  return r->fn(r->ud, r->status, z, n);
}

/* libcurl's write callback: n bytes of body appended to the line being
** read, every line they complete handed over.  Returns n, or 0 to stop the
** transfer (the callback asked to, or a line grew beyond SL_HTTP_MAX_LINE). */
static size_t on_body(char *p, size_t size, size_t nmemb, void *ud) {
  request *r = ud;
  size_t n = size * nmemb, start = 0, scan = r->line.n;
  long status = 0;
  curl_easy_getinfo(r->h, CURLINFO_RESPONSE_CODE, &status);
  r->status = (int)status;
  sl_buf_append(&r->line, p, n);
  for (char *nl; (nl = memchr(r->line.z + scan, '\n', r->line.n - scan));) {
    size_t end = (size_t)(nl - r->line.z);
    if (emit(r, r->line.z + start, end - start)) {
      r->stopped = 1;
      return 0;
    }
    start = scan = end + 1;
  }
  if (start) {
    memmove(r->line.z, r->line.z + start, r->line.n - start);
    r->line.n -= start;
    r->line.z[r->line.n] = 0;
  }
  if (r->line.n > SL_HTTP_MAX_LINE) {
    r->bad = "a line of the answer is too long";
    return 0;
  }
  if (r->fn(r->ud, r->status, NULL, 0)) {
    r->stopped = 1;
    return 0;
  }
  return n;
}

/* The hosts never reached through a proxy (caller frees): the
** environment's NO_PROXY (or no_proxy) and loopback. */
static char *no_proxy(void) {
  const char *env = getenv("NO_PROXY");
  if (!env || !*env) env = getenv("no_proxy");
  if (env && !strcmp(env, "*")) return sl_strdup("*"); /* only alone does it mean every host */
  return env && *env ? sl_mprintf("%s,%s", env, SL_HTTP_NO_PROXY) : sl_strdup(SL_HTTP_NO_PROXY);
}

/* Prepare r to send method on path (below rm's URL) with body[0..nbody)
** (POST when body is not NULL), rm's token and CA file, the answer's lines
** to fn(ud, ...).  Returns 0, or -1 with err set (a bad URL); either way
** request_free(r) releases it. */
static int request_init(request *r, const sl_remote *rm, const char *method, const char *path,
                        const char *body, size_t nbody, sl_http_line_fn fn, void *ud, sl_err *err) {
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, global_init);
  memset(r, 0, sizeof *r);
  r->fn = fn;
  r->ud = ud;
  r->u = curl_url();
  if (set_url(r->u, rm->url, path, err)) return -1;
  r->h = curl_easy_init();
  r->hdrs = curl_slist_append(NULL, "Expect:");
  if (body) r->hdrs = curl_slist_append(r->hdrs, "Content-Type: application/sql; charset=utf-8");
  if (rm->token && *rm->token) {
    char *auth = sl_mprintf("Authorization: Bearer %s", rm->token);
    r->hdrs = curl_slist_append(r->hdrs, auth); /* copied */
    free(auth);
  }
  r->noproxy = no_proxy();
  curl_easy_setopt(r->h, CURLOPT_CURLU, r->u);
  curl_easy_setopt(r->h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(r->h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(r->h, CURLOPT_NOPROXY, r->noproxy);
  curl_easy_setopt(r->h, CURLOPT_CONNECTTIMEOUT_MS, (long)SL_HTTP_CONNECT_MS);
  curl_easy_setopt(r->h, CURLOPT_USERAGENT, "sluice/" SLUICE_VERSION);
  curl_easy_setopt(r->h, CURLOPT_HTTPHEADER, r->hdrs);
  curl_easy_setopt(r->h, CURLOPT_ERRORBUFFER, r->errbuf);
  curl_easy_setopt(r->h, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(r->h, CURLOPT_WRITEDATA, r);
  if (rm->cacert && *rm->cacert) curl_easy_setopt(r->h, CURLOPT_CAINFO, rm->cacert);
  if (body) {
    curl_easy_setopt(r->h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(r->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)nbody);
  }
  if (strcmp(method, body ? "POST" : "GET")) curl_easy_setopt(r->h, CURLOPT_CUSTOMREQUEST, method);
  return 0;
}

/* Release what request_init made (the connection is closed). */
static void request_free(request *r) {
  curl_easy_cleanup(r->h);
  curl_url_cleanup(r->u);
  curl_slist_free_all(r->hdrs);
  free(r->noproxy);
  sl_buf_free(&r->line);
}

/* Run the transfer of r to its end, or until *stop (may be NULL) is
** non-zero, looked at every SL_HTTP_TICK_MS.  Returns SL_HTTP_STOPPED, or
** SL_HTTP_DONE with *code libcurl's result; SL_HTTP_FAILED when libcurl
** itself failed. */
static int request_run(request *r, volatile sig_atomic_t *stop, CURLcode *code) {
  CURLM *m = curl_multi_init();
  curl_multi_add_handle(m, r->h);
  int running = 1, result = SL_HTTP_DONE;
  while (running && result == SL_HTTP_DONE) {
    if (stop && *stop)
      result = SL_HTTP_STOPPED;
    else if (curl_multi_perform(m, &running) != CURLM_OK ||
             (running && curl_multi_poll(m, NULL, 0, SL_HTTP_TICK_MS, NULL) != CURLM_OK))
      result = SL_HTTP_FAILED;
  }
  *code = CURLE_OK;
  CURLMsg *msg;
  int left;
  while ((msg = curl_multi_info_read(m, &left)))
    if (msg->msg == CURLMSG_DONE) *code = msg->data.result;
  curl_multi_remove_handle(m, r->h);
  curl_multi_cleanup(m);
  return result;
}

/* The error of a transfer that ended with code c (msg: libcurl's words). */
static void transfer_error(const char *url, CURLcode c, const char *msg, const request *r,
                           sl_err *err) {
  if (r->bad)
    sl_err_set(err, SL_EIO, "from %s: %s", url, r->bad);
  else if (c == CURLE_COULDNT_CONNECT || c == CURLE_COULDNT_RESOLVE_HOST ||
           c == CURLE_COULDNT_RESOLVE_PROXY || (c == CURLE_OPERATION_TIMEDOUT && !r->status))
    sl_err_set(err, SL_EIO, "cannot reach %s: %s", url, msg);
  else if (r->status)
    sl_err_set(err, SL_EIO, "the answer from %s broke off: %s", url, msg);
  else
    sl_err_set(err, SL_EIO, "no HTTP answer from %s: %s", url, msg);
}

/* Send one request to the server rm names: method on path (below its URL)
** with body[0..nbody) (POST when body is not NULL).  The body of the answer
** goes to fn line by line as it arrives; *status gets the HTTP status (0 if
** none was read).  *stop (may be NULL) ends the request once non-zero.
** Returns one of SL_HTTP_*; err is set only for SL_HTTP_FAILED.  Nothing is
** printed. */
static int http_request(const sl_remote *rm, const char *method, const char *path, const char *body,
                        size_t nbody, volatile sig_atomic_t *stop, sl_http_line_fn fn, void *ud,
                        int *status, sl_err *err) {
  request r;
  int result = SL_HTTP_FAILED;
  CURLcode code = CURLE_OK;
  if (!request_init(&r, rm, method, path, body, nbody, fn, ud, err))
    result = request_run(&r, stop, &code);
  if (result == SL_HTTP_DONE) {
    long st = 0;
    curl_easy_getinfo(r.h, CURLINFO_RESPONSE_CODE, &st);
    r.status = (int)st;
    if (r.stopped) {
      result = SL_HTTP_CALLER;
    } else if (code != CURLE_OK) {
      transfer_error(rm->url, code, *r.errbuf ? r.errbuf : curl_easy_strerror(code), &r, err);
      result = SL_HTTP_FAILED;
    } else if (r.line.n && emit(&r, r.line.z, r.line.n)) { /* a last line without '\n' */
      result = SL_HTTP_CALLER;
    }
  } else if (result == SL_HTTP_FAILED && !err->code) {
    sl_err_set(err, SL_EINTERNAL, "libcurl failed on %s", rm->url);
  }
  *status = r.status;
  request_free(&r);
  return result;
}

/* The value of the hex digit c, or -1. */
static int hex_digit(char c) {
  return c >= '0' && c <= '9'   ? c - '0'
         : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                : -1;
}

/* ---- POST /query: the NDJSON answer --------------------------------------- */

/* The members of an answer line that are read; the others are ignored. */
enum { K_COLUMNS, K_ROW, K_QUERY, K_STARTED, K_STATUS, K_ERROR, K_LINE, K_COLUMN, K_N };
static const char *const member_names[K_N] = {"columns", "row",   "query", "started",
                                              "status",  "error", "line",  "column"};

/* Where one member's value is in the line. */
typedef struct {
  int has;
  size_t v, ve; /* the value is z[v..ve) */
  sl_json_kind kind;
} member;

/* The state of one /query answer. */
typedef struct {
  sl_printer *out;
  sl_err *err;
  int ncol;
  char **names;   /* the current result's column names, owned */
  sl_value *vals; /* ncol values, reused row after row */
  sl_value **row; /* pointers to vals, for sl_printer_row */
  sl_buf body;    /* the whole body of an answer other than 200 */
  sl_buf blob;    /* scratch: the bytes of a BLOB */
  char query[64]; /* the id of the streaming query, if one started */
  int final;      /* 1: {"status": "ok"} read; -1: the answer's error is in err */
} answer;

/* Split the object z[0..n) (one JSON object and space) into ms.  Returns 0,
** or -1 when z is not such an object. */
static int members(const char *z, size_t n, member *ms) {
  memset(ms, 0, K_N * sizeof *ms);
  size_t i = sl_json_ws(z, n, 0);
  sl_json_kind kind;
  size_t end = i < n ? sl_json_skip(z, n, i, &kind) : (size_t)-1;
  if (end == (size_t)-1 || kind != SL_JSON_OBJECT || sl_json_ws(z, n, end) != n) return -1;
  i++;
  const char *key;
  size_t klen, v, ve;
  int esc, rc;
  while ((rc = sl_json_member(z, end, &i, &key, &klen, &esc, &v, &ve, &kind)) == 1)
    for (int k = 0; k < K_N; k++)
      if (!esc && strlen(member_names[k]) == klen && !memcmp(key, member_names[k], klen))
        ms[k] = (member){1, v, ve, kind};
  return rc < 0 ? -1 : 0;
}

/* A fresh copy of the JSON string m in z, unescaped (caller frees), or NULL
** when it is not a string. */
static char *string_of(const char *z, const member *m) {
  if (!m->has || m->kind != SL_JSON_STRING) return NULL;
  size_t len = m->ve - m->v - 2;
  char *s = sl_malloc(len + 1);
  size_t got = sl_json_unescape(z + m->v + 1, len, s);
  if (got == (size_t)-1) got = 0;
  s[got] = 0;
  return s;
}

/* The JSON integer of m, or 0 when m is missing, not an integer, or beyond
** int (positions are small). */
static int int_of(const char *z, const member *m) {
  if (!m->has || m->kind != SL_JSON_INT || m->ve - m->v > 9) return 0;
  return atoi(z + m->v);
}

/* Record the error of an object (its "error", "line" and "column"), or
** fallback when it has no "error" string. */
static void set_error(answer *a, const char *z, const member *ms, const char *fallback) {
  char *msg = z ? string_of(z, &ms[K_ERROR]) : NULL;
  int line = z ? int_of(z, &ms[K_LINE]) : 0, col = z ? int_of(z, &ms[K_COLUMN]) : 0;
  sl_err_clear(a->err);
  if (line > 0)
    sl_err_setpos(a->err, SL_ERUNTIME, line, col, "%s", msg ? msg : fallback);
  else
    sl_err_set(a->err, SL_ERUNTIME, "%s", msg ? msg : fallback);
  free(msg);
  a->final = -1;
}

/* A malformed answer line: an error quoting its start.  Returns 1 (stop). */
static int malformed(answer *a, const char *why, const char *line) {
  sl_err_clear(a->err);
  sl_err_set(a->err, SL_EIO, "malformed answer from the server (%s): %.80s", why, line);
  a->final = -1;
  return 1;
}

/* Forget the current result's columns and values. */
static void drop_columns(answer *a) {
  for (int i = 0; i < a->ncol; i++) {
    free(a->names[i]);
    if (a->vals) sl_value_free(&a->vals[i]);
  }
  free(a->names);
  free(a->vals);
  free(a->row);
  a->names = NULL;
  a->vals = NULL;
  a->row = NULL;
  a->ncol = 0;
}

/* {"columns": [...]}: a new result starts.  Returns 0, or 1 (malformed). */
static int on_columns(answer *a, char *z, const member *m) {
  if (m->kind != SL_JSON_ARRAY) return malformed(a, "columns", z);
  sl_printer_end(a->out);
  drop_columns(a);
  size_t i = m->v + 1, v, ve;
  sl_json_kind kind;
  int cap = 0;
  while (sl_json_element(z, m->ve, &i, &v, &ve, &kind) == 1) {
    member one = {1, v, ve, kind};
    char *name = string_of(z, &one);
    if (!name) return malformed(a, "a column name is not a string", z);
    if (a->ncol == cap) {
      cap = cap ? 2 * cap : 8;
      a->names = sl_realloc(a->names, (size_t)cap * sizeof *a->names);
    }
    a->names[a->ncol++] = name;
  }
  a->vals = sl_calloc((size_t)(a->ncol ? a->ncol : 1), sizeof *a->vals);
  a->row = sl_calloc((size_t)(a->ncol ? a->ncol : 1), sizeof *a->row);
  for (int k = 0; k < a->ncol; k++)
    a->row[k] = &a->vals[k];
  return 0;
}

/* 1 if the object m is exactly {"blob": "..."}; then [*v, *ve) is the
** string with its quotes. */
static int blob_member(const char *z, const member *m, size_t *v, size_t *ve) {
  size_t i = m->v + 1, klen, v2, ve2;
  const char *key;
  int esc;
  sl_json_kind kind;
  if (sl_json_member(z, m->ve, &i, &key, &klen, &esc, v, ve, &kind) != 1 || klen != 4 ||
      memcmp(key, "blob", 4) || kind != SL_JSON_STRING)
    return 0;
  return sl_json_member(z, m->ve, &i, &key, &klen, &esc, &v2, &ve2, &kind) == 0;
}

/* Set out to the JSON value z[m->v..m->ve): a number without '.', 'e', 'E' is
** an INTEGER, any other number a REAL (read with strtod, so that the shortest
** digits the server wrote give back the same double), a string TEXT, null
** NULL, {"blob": "hex"} a BLOB; another object or an array is JSON text.
** Returns 0, or -1 for a malformed blob. */
static int set_value(answer *a, sl_value *out, const char *z, const member *m) {
  size_t n = m->ve - m->v;
  if (m->kind == SL_JSON_REAL && n < 64) {
    char tmp[64];
    memcpy(tmp, z + m->v, n);
    tmp[n] = 0;
    sl_value_set_real(out, strtod(tmp, NULL));
    return 0;
  }
  size_t v, ve;
  if (m->kind == SL_JSON_OBJECT && blob_member(z, m, &v, &ve)) {
    size_t hex = ve - v - 2;
    if (hex % 2) return -1;
    sl_buf_reset(&a->blob);
    sl_buf_reserve(&a->blob, hex / 2);
    for (size_t k = 0; k < hex; k += 2) {
      int hi = hex_digit(z[v + 1 + k]), lo = hex_digit(z[v + 2 + k]);
      if (hi < 0 || lo < 0) return -1;
      a->blob.z[a->blob.n++] = (char)(hi * 16 + lo);
    }
    sl_value_set_blob(out, a->blob.z ? a->blob.z : "", a->blob.n);
    return 0;
  }
  return sl_json_to_value(z + m->v, n, out, NULL);
}

/* {"row": [...]}: one row of the current result, printed.  Returns 0, or 1
** (malformed). */
static int on_row(answer *a, char *z, const member *m) {
  if (m->kind != SL_JSON_ARRAY) return malformed(a, "row", z);
  if (!a->names) return malformed(a, "a row before its columns", z);
  size_t i = m->v + 1;
  member e = {1, 0, 0, SL_JSON_BAD};
  int k = 0;
  while (sl_json_element(z, m->ve, &i, &e.v, &e.ve, &e.kind) == 1) {
    if (k == a->ncol) return malformed(a, "more values than columns", z);
    if (set_value(a, &a->vals[k++], z, &e)) return malformed(a, "a bad blob", z);
  }
  if (k != a->ncol) return malformed(a, "fewer values than columns", z);
  sl_printer_row(a->out, a->ncol, (const char *const *)a->names, a->row);
  return 0;
}

/* {"started": ["q3", ...]}: a note on stderr naming the queries. */
static void on_started(answer *a, const char *z, const member *m) {
  if (m->kind != SL_JSON_ARRAY) return;
  sl_buf note;
  sl_buf_init(&note);
  size_t i = m->v + 1;
  member e = {1, 0, 0, SL_JSON_BAD};
  while (sl_json_element(z, m->ve, &i, &e.v, &e.ve, &e.kind) == 1) {
    char *id = string_of(z, &e);
    if (id) sl_buf_printf(&note, "%s%s", note.n ? ", " : "started ", id);
    free(id);
  }
  if (note.n) {
    fflush(a->out->f);
    fprintf(stderr, "%s\n", note.z);
  }
  sl_buf_free(&note);
}

/* The sl_http_line_fn of POST /query: one line of the answer. */
static int on_line(void *ud, int status, char *line, size_t n) {
  answer *a = ud;
  if (!line) {
    fflush(a->out->f);
    return 0;
  }
  if (status != 200) {
    sl_buf_append(&a->body, line, n);
    sl_buf_putc(&a->body, '\n');
    return a->body.n > SL_HTTP_MAX_ERROR;
  }
  member ms[K_N];
  if (sl_json_ws(line, n, 0) == n) return 0;
  if (members(line, n, ms)) return malformed(a, "not a JSON object", line);
  if (ms[K_ERROR].has) {
    set_error(a, line, ms, "error");
    return 1;
  }
  if (ms[K_COLUMNS].has && on_columns(a, line, &ms[K_COLUMNS])) return 1;
  if (ms[K_ROW].has && on_row(a, line, &ms[K_ROW])) return 1;
  if (ms[K_QUERY].has) {
    char *id = string_of(line, &ms[K_QUERY]);
    snprintf(a->query, sizeof a->query, "%s", id ? id : "");
    free(id);
  }
  if (ms[K_STARTED].has) on_started(a, line, &ms[K_STARTED]);
  if (ms[K_STATUS].has) {
    char *st = string_of(line, &ms[K_STATUS]);
    if (st && !strcmp(st, "ok"))
      a->final = 1;
    else
      malformed(a, "an unknown status", line);
    free(st);
    return 1;
  }
  return 0;
}

int sl_client_query(const sl_remote *r, const char *sql, sl_printer *out,
                    volatile sig_atomic_t *stop, sl_err *err) {
  answer a = {.out = out, .err = err};
  sl_buf_init(&a.body);
  sl_buf_init(&a.blob);
  int status;
  int rc = http_request(r, "POST", "/query", sql, strlen(sql), stop, on_line, &a, &status, err);
  fflush(out->f);
  int result = -1;
  if (rc == SL_HTTP_STOPPED) {
    fprintf(stderr, "(stopped%s%s)\n", a.query[0] ? " " : "", a.query);
    result = 1;
  } else if (rc == SL_HTTP_FAILED) {
    result = -1;
  } else if (status != 200) {
    member ms[K_N];
    char fallback[64];
    snprintf(fallback, sizeof fallback, "the server answered %d", status);
    int ok = a.body.n && !members(a.body.z, a.body.n, ms);
    set_error(&a, ok ? a.body.z : NULL, ms, fallback);
  } else if (a.final == 1) {
    result = 0;
  } else if (!a.final) {
    sl_err_set(err, SL_EIO, "the answer from %s ended without a status", r->url);
  }
  sl_printer_end(out);
  drop_columns(&a);
  sl_buf_free(&a.body);
  sl_buf_free(&a.blob);
  return result;
}

/* The sl_http_line_fn of sl_client_request: each line of the body to stdout. */
static int print_line(void *ud, int status, char *line, size_t n) {
  if (line) {
    fwrite(line, 1, n, stdout);
    fputc('\n', stdout);
  }
  return 0;
}

int sl_client_request(const sl_remote *r, const char *method, const char *path, const char *body) {
  sl_err err = {0};
  int status = 0;
  int rc = http_request(r, method, path, body, body ? strlen(body) : 0, NULL, print_line, NULL,
                        &status, &err);
  fflush(stdout);
  if (rc == SL_HTTP_FAILED) {
    fprintf(stderr, "sluice: %s\n", err.msg ? err.msg : "no answer");
    sl_err_clear(&err);
    return 1;
  }
  return status >= 200 && status < 300 ? 0 : 1;
}
