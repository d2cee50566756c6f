/*
** conn_socket.c - socket('host:port', ...): text records from a TCP server,
** as Spark's socketTextStream reads them.
**
** The source connects to the server and frames records with its format
** (one line each, or a CSV record).  When the connection cannot be made or
** drops, it tries again with a growing pause (100 ms up to 2 s) and goes on
** where the new connection starts; with reconnect => false the end of the
** connection is the end of the input (a bounded source, for tests and
** replays).  Reads wait at most the task's timeout, so the task keeps
** control (commits, windows closing on processing time).  Records point into
** the read buffer until the next read.
*/
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "connector.h"

typedef struct socket_source {
  sl_source base;
  char *addr; /* "host:port", owned */
  char *host, *port;
  int fd; /* -1 when not connected */
  int reconnect;
  int64_t next_try_ms; /* when to try connecting again */
  int64_t backoff_ms;
  char *buf;
  size_t cap, start, end;
  int64_t line;       /* records read (position for logs) */
  int ended;          /* reconnect => false and the server closed */
  int skip_header;    /* csv header => true: skip the first record of a connection */
  int header_pending; /* the next record is a header */
  int connected_once;
  size_t max_record; /* the longest record waited for (max_record_bytes) */
} socket_source;

static int64_t mono_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Connect (non-blocking attempts are not needed: a loopback or LAN server
** answers or refuses at once).  0, or -1 when it failed (try later). */
static int try_connect(socket_source *s) {
  struct addrinfo hints, *res = NULL;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  if (getaddrinfo(s->host, s->port, &hints, &res) != 0) return -1;
  int fd = -1;
  for (struct addrinfo *a = res; a; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) break;
    close(fd);
    fd = -1;
  }
  freeaddrinfo(res);
  if (fd < 0) return -1;
  s->fd = fd;
  s->start = s->end = 0; /* a partial line from an old connection is gone */
  s->header_pending = s->skip_header;
  s->backoff_ms = 100;
  return 0;
}

/* The connection ended: the input too (reconnect => false), or try again
** after a pause. */
static void drop(socket_source *s) {
  if (s->fd >= 0) close(s->fd);
  s->fd = -1;
  if (!s->reconnect) s->ended = 1;
  s->next_try_ms = mono_ms() + 100;
}

static int socket_read(sl_source *base, sl_record *recs, int max, int timeout_ms, sl_err *err) {
  socket_source *s = (socket_source *)base;
  int64_t deadline = mono_ms() + (timeout_ms < 0 ? 1000 : timeout_ms);
  int n = 0;
  for (;;) {
    /* frame what is buffered */
    while (n < max && s->end > s->start) {
      size_t rlen = 0;
      int eof = s->fd < 0 && s->ended;
      size_t flen = base->format->frame(s->buf + s->start, s->end - s->start, eof, &rlen);
      const char *bad = NULL;
      if (flen == SL_FRAME_BAD) { /* the input ended inside a CSV quote: reject the rest */
        flen = rlen = s->end - s->start;
        bad = "the input ends inside a quoted field";
      }
      if (!flen) break;
      const char *rec = s->buf + s->start;
      s->start += flen;
      if (s->header_pending) {
        s->header_pending = 0;
        continue;
      }
      sl_record *r = &recs[n++];
      memset(r, 0, sizeof *r);
      r->data = rec;
      r->len = rlen;
      r->pos = ++s->line;
      r->error = bad;
      r->partition = -1;
      r->timestamp = -1;
    }
    if (n) return n; /* records point into buf: no compaction until the next call */
    if (s->ended) return SL_READ_END;
    int64_t now = mono_ms();
    if (now >= deadline) return SL_READ_AGAIN;
    if (s->fd < 0) {
      if (now >= s->next_try_ms && try_connect(s) == 0) {
        s->connected_once = 1;
      } else {
        if (!s->reconnect) {
          sl_err_set(err, SL_EIO, "socket %s: cannot connect: %s", s->addr, strerror(errno));
          return SL_READ_ERROR;
        }
        if (now >= s->next_try_ms) {
          s->next_try_ms = now + s->backoff_ms;
          s->backoff_ms = s->backoff_ms * 2 > 2000 ? 2000 : s->backoff_ms * 2;
        }
        int64_t wait = (s->next_try_ms < deadline ? s->next_try_ms : deadline) - now;
        if (wait > 0) {
          struct timespec ts = {wait / 1000, (wait % 1000) * 1000000};
          nanosleep(&ts, NULL);
        }
        continue;
      }
    }
    /* compact, grow, read what arrives before the deadline */
    if (s->start > 0) {
      memmove(s->buf, s->buf + s->start, s->end - s->start);
      s->end -= s->start;
      s->start = 0;
    }
    if (s->end >= s->max_record) { /* an endless line would take all memory */
      sl_err_set(err, SL_EFORMAT, "socket %s: record %lld is longer than max_record_bytes (%zu)",
                 s->addr, (long long)s->line + 1, s->max_record);
      return SL_READ_ERROR;
    }
    if (s->end == s->cap) {
      s->cap = s->cap ? 2 * s->cap : 1 << 16;
      s->buf = sl_realloc(s->buf, s->cap);
    }
    struct pollfd pfd = {s->fd, POLLIN, 0};
    int pr = poll(&pfd, 1, (int)(deadline - now));
    if (pr < 0 && errno == EINTR) continue;
    if (pr <= 0) continue; /* the deadline check returns AGAIN */
    ssize_t r = read(s->fd, s->buf + s->end, s->cap - s->end);
    if (r < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (r <= 0) { /* the server closed or the connection broke */
      drop(s);
      continue;
    }
    s->end += (size_t)r;
  }
}

static void socket_position(sl_source *base, const sl_record *rec, sl_buf *out) {
  socket_source *s = (socket_source *)base;
  sl_buf_printf(out, "socket %s record %lld", s->addr, (long long)rec->pos);
}

static void socket_close(sl_source *base) {
  socket_source *s = (socket_source *)base;
  if (s->fd >= 0) close(s->fd);
  sl_source_fini(base);
  free(s->buf);
  free(s->addr);
  free(s->host);
  free(s);
}

static const sl_source_vt socket_source_vt = {
    "socket", socket_read, socket_position, socket_close, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
    NULL,     NULL};

static sl_source *socket_open_source(sl_options *o, sl_err *err) {
  const char *addr = sl_opt_str(o, "0", NULL);
  const char *colon = addr ? strrchr(addr, ':') : NULL;
  if (!addr || !colon || colon == addr || !colon[1]) {
    sl_err_set(err, SL_EBIND, "socket() needs 'host:port': socket('127.0.0.1:9999')");
    return NULL;
  }
  if (sl_opt_authorize(o, SLUICE_AUTH_CONNECT, addr, err)) return NULL;
  socket_source *s = sl_calloc(1, sizeof *s);
  s->max_record = (size_t)(o->max_record > 0 ? o->max_record : SL_MAX_RECORD);
  s->base.vt = &socket_source_vt;
  s->fd = -1;
  s->addr = sl_strdup(addr);
  s->host = sl_strndup(addr, (size_t)(colon - addr));
  s->port = s->addr + (colon - addr) + 1;
  s->backoff_ms = 100;
  s->reconnect = sl_opt_bool(o, "reconnect", 1, err);
  if (err->code || sl_source_init_format(&s->base, o, "raw", err) || sl_options_check(o, err)) {
    socket_close(&s->base);
    return NULL;
  }
  if (s->base.format == &sl_fmt_csv) {
    if (s->base.schema.ncol == 0) {
      sl_err_set(err, SL_EBIND, "socket csv needs columns => 'a TEXT, b REAL, ...'");
      socket_close(&s->base);
      return NULL;
    }
    s->skip_header = s->base.fmt_opts.header;
  }
  return &s->base;
}

const sl_connector sl_conn_socket = {"socket", socket_open_source, NULL};
