/*
** serve.h - `sluice serve`: an engine behind a small HTTP JSON API.
*/
#ifndef SLUICE_SERVE_H
#define SLUICE_SERVE_H

#include "engine.h"

/* Serve db on listen ("HOST:PORT", 127.0.0.1 when HOST is empty) until *stop
** becomes non-zero.  A listen address other than loopback requires token
** (non-NULL, non-empty), checked on every request as "Authorization: Bearer".
** db stays owned by the caller.  Returns the process exit status. */
int sl_serve(sluice *db, const char *listen, const char *token, volatile sig_atomic_t *stop);

/* One request of the thin clients (sluice submit/queries/terminate) to a
** server at url ("http://HOST:PORT", IPv4, no TLS): method on path with body
** (NULL: none) and, when token is non-empty, "Authorization: Bearer token".
** The answer's body goes to stdout.  Returns 0 for a 2xx answer, 1 for any
** other answer or when the server cannot be reached (a message on stderr). */
int sl_client_request(const char *url, const char *token, const char *method, const char *path,
                      const char *body);

#endif /* SLUICE_SERVE_H */
