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
} sl_serve_opts;

/* The defaults of sl_serve_opts' restart strategy (docs/serve.md). */
#define SL_SERVE_RESTART_ATTEMPTS 3
#define SL_SERVE_STABLE_AFTER_S 60

/* Serve db as o says until *stop becomes non-zero.  A listen address other
** than loopback requires a token (non-NULL, non-empty), checked on every
** request as "Authorization: Bearer".  db and o stay owned by the caller.
** Returns the process exit status. */
int sl_serve(sluice *db, const sl_serve_opts *o, volatile sig_atomic_t *stop);

/* ---- the same server on no socket: connections handed to it ------------
** For tests/fuzz/fuzz_http.c, which feeds it requests in process: the
** request handling of sl_serve (token, endpoints, jobs) without a listener
** or a state directory (none is opened, and SET state_dir is refused). */
typedef struct sl_served sl_served;

/* Serve db with token (NULL or empty: none) on a daemon of its own, a
** thread per connection.  db stays the caller's (its hooks point at the
** server until sl_serve_close).  NULL when the daemon cannot start. */
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
