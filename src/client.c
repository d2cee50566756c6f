/*
** client.c - the client side of `sluice --connect` (see client.h).
**
** The transport: a non-blocking IPv4 socket, the request written whole, and
** the answer read as it comes: the status line and headers, then the body,
** decoded from chunked transfer encoding (or taken by Content-Length, or up
** to the close) and cut into lines.  Every wait is a poll of at most
** SL_HTTP_TICK_MS, so a flag set by a SIGINT handler ends a request that is
** connecting, sending or streaming within that time (the socket is closed:
** the server sees the client go away).
**
** On top of it, POST /query: one NDJSON object per line (columns, rows,
** query ids, a final status or error), rows converted to sl_values of the
** storage class the JSON text says (an integer has no '.', 'e' or 'E'; a
** BLOB is {"blob": "hex"}) and printed with the shell's sl_printer.
*/
#include "client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "json.h"

#define SL_HTTP_TICK_MS 100          /* how often *stop is looked at while waiting */
#define SL_HTTP_CONNECT_MS 10000     /* how long a connect may take */
#define SL_HTTP_MAX_HEAD (64u << 10) /* status line and headers */
#define SL_HTTP_MAX_LINE (64u << 20) /* one line of a body, or a chunk-size line */
#define SL_HTTP_MAX_ERROR (1u << 20) /* the body of an error answer */

/* ---- waiting, connecting, sending ------------------------------------- */

/* Wait until fd is ready for events (POLLIN or POLLOUT; an error or hangup
** counts as ready), looking at *stop (may be NULL) every tick.  timeout_ms < 0
** waits without limit.  Returns 1 ready, 0 timed out, -1 stopped, -2 when poll
** failed (errno set). */
static int wait_fd(int fd, short events, volatile sig_atomic_t *stop, int timeout_ms) {
  int waited = 0;
  for (;;) {
    if (stop && *stop) return -1;
    if (timeout_ms >= 0 && waited >= timeout_ms) return 0;
    struct pollfd p = {.fd = fd, .events = events};
    int r = poll(&p, 1, SL_HTTP_TICK_MS);
    if (r > 0) return 1;
    if (r < 0 && errno != EINTR) return -2;
    if (r == 0) waited += SL_HTTP_TICK_MS;
  }
}

/* Parse url ("http://HOST:PORT" and an optional "/"; HOST an IPv4 address or
** localhost) into sa and the Host header's text host (hostcap bytes).
** Returns 0, or -1 with err set. */
static int parse_url(const char *url, struct sockaddr_in *sa, char *host, size_t hostcap,
                     sl_err *err) {
  char name[64];
  int port = 0, used = 0;
  if (strncmp(url, "http://", 7) || sscanf(url + 7, "%63[^:/]:%d%n", name, &port, &used) != 2 ||
      port <= 0 || port > 65535 || (url[7 + used] && strcmp(url + 7 + used, "/"))) {
    sl_err_set(err, SL_EIO, "bad server URL '%s' (http://HOST:PORT)", url);
    return -1;
  }
  memset(sa, 0, sizeof *sa);
  sa->sin_family = AF_INET;
  sa->sin_port = htons((uint16_t)port);
  const char *ip = !strcmp(name, "localhost") ? "127.0.0.1" : name;
  if (inet_pton(AF_INET, ip, &sa->sin_addr) != 1) {
    sl_err_set(err, SL_EIO, "bad server URL '%s': HOST is an IPv4 address or localhost", url);
    return -1;
  }
  snprintf(host, hostcap, "%s:%d", name, port);
  return 0;
}

/* Open a non-blocking connection to sa (at most SL_HTTP_CONNECT_MS).
** Returns the socket (the caller closes it), -1 with err set, or -2 when
** *stop ended the wait. */
static int open_conn(const struct sockaddr_in *sa, const char *url, volatile sig_atomic_t *stop,
                     sl_err *err) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0 || fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
    sl_err_set(err, SL_EIO, "socket: %s", strerror(errno));
    if (fd >= 0) close(fd);
    return -1;
  }
  int e = 0;
  if (connect(fd, (const struct sockaddr *)sa, sizeof *sa) < 0) {
    e = errno;
    if (e == EINPROGRESS || e == EINTR) {
      int w = wait_fd(fd, POLLOUT, stop, SL_HTTP_CONNECT_MS);
      socklen_t len = sizeof e;
      if (w == -1) {
        close(fd);
        return -2;
      }
      if (w == 0)
        e = ETIMEDOUT;
      else if (w < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) < 0)
        e = errno;
    }
  }
  if (e) {
    sl_err_set(err, SL_EIO, "cannot reach %s: %s", url, strerror(e));
    close(fd);
    return -1;
  }
  return fd;
}

/* Write z[0..n) to fd.  Returns 0, -1 when the connection failed (errno set),
** -2 when *stop ended the wait. */
static int send_all(int fd, const char *z, size_t n, volatile sig_atomic_t *stop) {
  while (n) {
    ssize_t w = send(fd, z, n, MSG_NOSIGNAL);
    if (w > 0) {
      z += w;
      n -= (size_t)w;
      continue;
    }
    if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return -1;
    int r = wait_fd(fd, POLLOUT, stop, -1);
    if (r == -1) return -2;
    if (r < 0) return -1;
  }
  return 0;
}

/* ---- reading the answer ------------------------------------------------- */

enum { BODY_NONE, BODY_CHUNKED, BODY_LENGTH, BODY_CLOSE };
enum { CH_SIZE, CH_DATA, CH_DATA_END, CH_TRAILER };

/* The answer being read: the head, then the body's framing and its lines. */
typedef struct {
  sl_http_line_fn fn;
  void *ud;
  int status;      /* HTTP status, once the head is read */
  int body;        /* BODY_*: BODY_NONE while the head is read */
  int chunk;       /* CH_*: where in the chunked encoding */
  uint64_t left;   /* bytes left in the current chunk, or of the body */
  sl_buf head;     /* the head, then a chunk-size or trailer line being read */
  sl_buf line;     /* body bytes not yet ending a line */
  const char *bad; /* why the framing is malformed (static text) */
} reader;

/* Hand the line z[0..n) to the callback after dropping a final '\r' and
** terminating it (z[n] must be writable).  Returns the callback's answer. */
static int emit(reader *r, char *z, size_t n) {
  if (n && z[n - 1] == '\r') n--;
  z[n] = 0;
  return r->fn(r->ud, r->status, z, n);
}

/* Take n bytes of body: append them to the line being read and hand over
** every line they complete.  Returns 0, 2 when the callback asked to stop, -1
** when a line grows beyond SL_HTTP_MAX_LINE. */
static int body_bytes(reader *r, const char *p, size_t n) {
  if (!n) return 0;
  size_t start = 0, scan = r->line.n;
  sl_buf_append(&r->line, p, n);
  for (char *nl; (nl = memchr(r->line.z + scan, '\n', r->line.n - scan));) {
    size_t end = (size_t)(nl - r->line.z);
    if (emit(r, r->line.z + start, end - start)) return 2;
    start = scan = end + 1;
  }
  if (start) {
    memmove(r->line.z, r->line.z + start, r->line.n - start);
    r->line.n -= start;
    r->line.z[r->line.n] = 0;
  }
  if (r->line.n > SL_HTTP_MAX_LINE) {
    r->bad = "a line of the answer is too long";
    return -1;
  }
  return 0;
}

/* The body ended: hand over a last line that has no '\n'.  Returns 0 or 2
** (the callback asked to stop). */
static int body_end(reader *r) {
  if (!r->line.n) return 0;
  size_t n = r->line.n;
  r->line.n = 0;
  return emit(r, r->line.z, n) ? 2 : 0;
}

/* Case-insensitive: does the header line h (NUL-terminated) name `name`?
** Returns its value with leading space skipped, or NULL. */
static const char *header_value(const char *h, const char *name) {
  size_t n = strlen(name);
  if (sl_strnicmp(h, name, n) || h[n] != ':') return NULL;
  h += n + 1;
  while (*h == ' ' || *h == '\t')
    h++;
  return h;
}

/* Parse the complete head in r->head (up to and without the blank line):
** the status and how the body is framed.  Returns 0 or -1 (r->bad set). */
static int parse_head(reader *r) {
  char *z = r->head.z;
  if (sscanf(z, "HTTP/1.%*d %d", &r->status) != 1 || r->status < 100 || r->status > 999) {
    r->bad = "no HTTP answer";
    return -1;
  }
  r->body = BODY_CLOSE;
  int chunked = 0, has_length = 0;
  for (char *h = strchr(z, '\n'); h && *++h;) {
    char *end = strchr(h, '\n');
    if (end) *end = 0;
    size_t len = strlen(h);
    if (len && h[len - 1] == '\r') h[len - 1] = 0;
    const char *v;
    if ((v = header_value(h, "Transfer-Encoding")) && strstr(v, "chunked")) chunked = 1;
    if ((v = header_value(h, "Content-Length"))) {
      char *e;
      errno = 0;
      unsigned long long x = strtoull(v, &e, 10);
      if (e == v || errno) {
        r->bad = "a bad Content-Length";
        return -1;
      }
      r->left = x;
      has_length = 1;
    }
    if (!end) break;
    h = end;
  }
  if (chunked) {
    r->body = BODY_CHUNKED;
    r->chunk = CH_SIZE;
  } else if (has_length) {
    r->body = BODY_LENGTH;
  }
  return 0;
}

/* The value of the hex digit c, or -1. */
static int hex_digit(char c) {
  return c >= '0' && c <= '9'   ? c - '0'
         : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                : -1;
}

/* The value of a chunk-size line (hex digits, then maybe ";extension").
** Returns the size, or -1 when it is not one. */
static int64_t chunk_size(const char *z) {
  int64_t x = 0;
  int digits = 0, d;
  for (; (d = hex_digit(*z)) >= 0; z++, digits++) {
    if (digits == 15) return -1;
    x = x * 16 + d;
  }
  if (!digits || (*z && *z != ';' && *z != ' ' && *z != '\t')) return -1;
  return x;
}

/* Feed n bytes read from the socket.  Returns 0 to read on, 1 when the body
** is complete, 2 when the callback asked to stop, -1 on malformed framing
** (r->bad set). */
static int feed(reader *r, const char *p, size_t n) {
  while (r->body == BODY_NONE) { /* the head: up to an empty line */
    size_t old = r->head.n;
    sl_buf_append(&r->head, p, n);
    char *z = r->head.z, *sep = NULL;
    size_t from = old > 3 ? old - 3 : 0, seplen = 0;
    for (size_t i = from; i < r->head.n && !sep; i++)
      if (z[i] == '\n' && i + 1 < r->head.n && z[i + 1] == '\n')
        sep = z + i, seplen = 2;
      else if (z[i] == '\n' && i + 2 < r->head.n && z[i + 1] == '\r' && z[i + 2] == '\n')
        sep = z + i, seplen = 3;
    if (!sep) {
      if (r->head.n > SL_HTTP_MAX_HEAD) {
        r->bad = "the answer's headers are too long";
        return -1;
      }
      return 0;
    }
    *sep = 0;
    size_t used = (size_t)(sep - z) + seplen - old; /* bytes of p in the head */
    p += used;
    n -= used;
    if (parse_head(r)) return -1;
    sl_buf_reset(&r->head);
    if (r->status < 200) r->body = BODY_NONE; /* 1xx: the real answer follows */
  }
  if (r->body == BODY_CLOSE) return body_bytes(r, p, n) ? (r->bad ? -1 : 2) : 0;
  if (r->body == BODY_LENGTH) {
    size_t m = n < r->left ? n : (size_t)r->left;
    r->left -= m;
    int rc = body_bytes(r, p, m);
    if (rc) return r->bad ? -1 : 2;
    return r->left ? 0 : (body_end(r) ? 2 : 1);
  }
  while (n) { /* chunked */
    if (r->chunk == CH_DATA) {
      size_t m = n < r->left ? n : (size_t)r->left;
      if (body_bytes(r, p, m)) return r->bad ? -1 : 2;
      p += m;
      n -= m;
      r->left -= m;
      if (!r->left) r->chunk = CH_DATA_END;
      continue;
    }
    /* A line of the framing: a chunk size, the end of a chunk's data, a trailer. */
    const char *nl = memchr(p, '\n', n);
    size_t m = nl ? (size_t)(nl - p) : n;
    sl_buf_append(&r->head, p, m);
    if (r->head.n > SL_HTTP_MAX_HEAD) {
      r->bad = "a malformed chunk";
      return -1;
    }
    if (!nl) return 0;
    p += m + 1;
    n -= m + 1;
    if (r->head.n && r->head.z[r->head.n - 1] == '\r') r->head.z[--r->head.n] = 0;
    int empty = r->head.n == 0;
    if (r->chunk == CH_SIZE) {
      int64_t size = chunk_size(r->head.z ? r->head.z : "");
      if (size < 0) {
        r->bad = "a malformed chunk size";
        return -1;
      }
      r->left = (uint64_t)size;
      r->chunk = size ? CH_DATA : CH_TRAILER;
    } else if (r->chunk == CH_DATA_END) {
      if (!empty) {
        r->bad = "a chunk longer than its size";
        return -1;
      }
      r->chunk = CH_SIZE;
    } else if (empty) { /* CH_TRAILER: the blank line ends the body */
      return body_end(r) ? 2 : 1;
    }
    sl_buf_reset(&r->head);
  }
  return 0;
}

int sl_http_request(const char *url, const char *token, const char *method, const char *path,
                    const char *body, size_t nbody, volatile sig_atomic_t *stop, sl_http_line_fn fn,
                    void *ud, int *status, sl_err *err) {
  struct sockaddr_in sa;
  char host[96];
  *status = 0;
  if (parse_url(url, &sa, host, sizeof host, err)) return SL_HTTP_FAILED;
  int fd = open_conn(&sa, url, stop, err);
  if (fd == -2) return SL_HTTP_STOPPED;
  if (fd < 0) return SL_HTTP_FAILED;
  reader r = {.fn = fn, .ud = ud};
  sl_buf_init(&r.head);
  sl_buf_init(&r.line);
  sl_buf_printf(&r.head,
                "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\nContent-Length: %zu\r\n",
                method, path, host, nbody);
  if (token && *token) sl_buf_printf(&r.head, "Authorization: Bearer %s\r\n", token);
  sl_buf_puts(&r.head, "\r\n");
  int rc = send_all(fd, r.head.z, r.head.n, stop);
  if (!rc && nbody) rc = send_all(fd, body, nbody, stop);
  /* A failed send still reads on: the server may have answered (413) and
  ** closed before taking the whole body. */
  int send_failed = rc == -1, send_errno = errno;
  sl_buf_reset(&r.head);
  int result = SL_HTTP_FAILED;
  if (rc == -2) {
    result = SL_HTTP_STOPPED;
    goto done;
  }
  char chunk[16384];
  for (;;) {
    int w = wait_fd(fd, POLLIN, stop, -1);
    if (w == -1) {
      result = SL_HTTP_STOPPED;
      break;
    }
    ssize_t got = w < 0 ? -1 : recv(fd, chunk, sizeof chunk, 0);
    if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) continue;
    if (got <= 0) { /* the close, or a failed connection */
      int e = got < 0 ? errno : 0;
      if (r.body == BODY_CLOSE) {
        result = body_end(&r) ? SL_HTTP_CALLER : SL_HTTP_DONE;
      } else if (r.body == BODY_NONE) {
        if (send_failed)
          sl_err_set(err, SL_EIO, "connection to %s lost: %s", url, strerror(send_errno));
        else if (e)
          sl_err_set(err, SL_EIO, "connection to %s lost: %s", url, strerror(e));
        else
          sl_err_set(err, SL_EIO, "no HTTP answer from %s", url);
      } else {
        sl_err_set(err, SL_EIO, "the answer from %s broke off%s%s", url, e ? ": " : "",
                   e ? strerror(e) : "");
      }
      break;
    }
    int f = feed(&r, chunk, (size_t)got);
    if (r.body != BODY_NONE && fn(ud, r.status, NULL, 0) && f == 0) f = 2;
    if (f == 0) continue;
    if (f < 0) sl_err_set(err, SL_EIO, "from %s: %s", url, r.bad);
    result = f == 1 ? SL_HTTP_DONE : f == 2 ? SL_HTTP_CALLER : SL_HTTP_FAILED;
    break;
  }
done:
  *status = r.status;
  close(fd);
  sl_buf_free(&r.head);
  sl_buf_free(&r.line);
  return result;
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

int sl_client_query(const char *url, const char *token, const char *sql, sl_printer *out,
                    volatile sig_atomic_t *stop, sl_err *err) {
  answer a = {.out = out, .err = err};
  sl_buf_init(&a.body);
  sl_buf_init(&a.blob);
  int status;
  int rc = sl_http_request(url, token, "POST", "/query", sql, strlen(sql), stop, on_line, &a,
                           &status, err);
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
    sl_err_set(err, SL_EIO, "the answer from %s ended without a status", url);
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

int sl_client_request(const char *url, const char *token, const char *method, const char *path,
                      const char *body) {
  sl_err err = {0};
  int status = 0;
  int rc = sl_http_request(url, token, method, path, body, body ? strlen(body) : 0, NULL,
                           print_line, NULL, &status, &err);
  fflush(stdout);
  if (rc == SL_HTTP_FAILED) {
    fprintf(stderr, "sluice: %s\n", err.msg ? err.msg : "no answer");
    sl_err_clear(&err);
    return 1;
  }
  return status >= 200 && status < 300 ? 0 : 1;
}
