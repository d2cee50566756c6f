/*
** serve.h - `sluice serve`: an engine behind a small HTTP JSON API.
*/
#ifndef SLUICE_SERVE_H
#define SLUICE_SERVE_H

#include <signal.h>

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

#endif /* SLUICE_SERVE_H */
