/*
** serve.h - `sluice serve`: an engine behind a small HTTP JSON API.
*/
#ifndef SLUICE_SERVE_H
#define SLUICE_SERVE_H

#include <signal.h>
#include <sys/socket.h>

#include "engine.h"

/* How a server is run (the options of `sluice serve`). */
typedef struct sl_serve_opts {
  const char *listen; /* "HOST:PORT", 127.0.0.1 when HOST is empty; NULL: 127.0.0.1:8080 */
  const char *token;  /* NULL or empty: none */
  /* with a state directory: a submission whose starts the server did not
  ** survive this many times in a row is not started again (0: always is) */
  int restart_attempts;
  /* a submission that has run this long since it started is stable: an end
  ** of the server after that is not held against it (0: 60 s) */
  int stable_after_s;
  /* Browser safety: the names a request's Host may give besides the listen
  ** address ("NAME" any port, "NAME:PORT", "[V6]:PORT"), and the origins
  ** ("https://console.example") allowed cross-origin requests (CORS).
  ** Borrowed arrays of n strings each. */
  const char *const *server_names;
  int nserver_names;
  const char *const *allow_origins;
  int nallow_origins;
  /* a connection that has not sent a whole request this long after it
  ** connected or its last request ended is closed (0: SL_SERVE_REQUEST_TIMEOUT_S) */
  int request_timeout_s;
} sl_serve_opts;

/* The defaults of sl_serve_opts' restart strategy (docs/serve.md). */
#define SL_SERVE_RESTART_ATTEMPTS 3
#define SL_SERVE_STABLE_AFTER_S 60
/* The default of sl_serve_opts' request_timeout_s. */
#define SL_SERVE_REQUEST_TIMEOUT_S 10

/* Serve db as o says until *stop becomes non-zero.  A listen address other
** than loopback requires a token (non-NULL, non-empty), checked on every
** request as "Authorization: Bearer".  Every request's Host and Origin
** are checked (403 for a name or site not the server's: docs/serve.md),
** and a POST body must be application/sql or application/json (415).
** db and o stay owned by the caller.  Returns the process exit status
** (2 for a bad option value, with a message). */
int sl_serve(sluice *db, const sl_serve_opts *o, volatile sig_atomic_t *stop);

/* ---- the same server on no socket: connections handed to it ------------
** For tests/fuzz/fuzz_http.c, which feeds it requests in process: the
** request handling of sl_serve (token, endpoints, jobs) without a listener
** or a state directory (none is opened, and SET state_dir is refused). */
typedef struct sl_served sl_served;

/* Serve db with token (NULL or empty: none) on a daemon of its own, a
** thread per connection, as a loopback server with no port of its own: a
** request's Host (and Origin) may name localhost, 127.0.0.1 or [::1] with
** any port; the default request timeout.  db stays the caller's (its hooks
** point at the server until sl_serve_close).  NULL when the daemon cannot
** start. */
sl_served *sl_serve_open(sluice *db, const char *token);

/* Hand fd, a connected stream socket, to the server as a client connection
** from peer; the server owns fd from then on (closed even on failure).
** 0, or -1. */
int sl_serve_connection(sl_served *v, int fd, const struct sockaddr *peer, socklen_t peerlen);

/* Stop: every query of db interrupted (db stays so until its next
** statement), the connections closed, the jobs' threads waited for and
** freed, the hooks taken off db.  NULL is a no-op. */
void sl_serve_close(sl_served *v);

#endif /* SLUICE_SERVE_H */
