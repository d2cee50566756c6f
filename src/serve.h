/*
** serve.h - `sluice serve`: an engine behind a small HTTP JSON API.
*/
#ifndef SLUICE_SERVE_H
#define SLUICE_SERVE_H

#include <signal.h>
#include <sys/socket.h>

#include "engine.h"

/* Serve db on listen ("HOST:PORT", 127.0.0.1 when HOST is empty) until *stop
** becomes non-zero.  A listen address other than loopback requires token
** (non-NULL, non-empty), checked on every request as "Authorization: Bearer".
** db stays owned by the caller.  Returns the process exit status. */
int sl_serve(sluice *db, const char *listen, const char *token, volatile sig_atomic_t *stop);

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
