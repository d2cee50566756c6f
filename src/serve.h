/*
** serve.h - `sluice serve`: an engine behind a small HTTP JSON API.
*/
#ifndef SLUICE_SERVE_H
#define SLUICE_SERVE_H

#include <signal.h>

#include "engine.h"

/* Serve db on listen ("HOST:PORT", 127.0.0.1 when HOST is empty) until *stop
** becomes non-zero.  A listen address other than loopback requires token
** (non-NULL, non-empty), checked on every request as "Authorization: Bearer".
** db stays owned by the caller.  Returns the process exit status. */
int sl_serve(sluice *db, const char *listen, const char *token, volatile sig_atomic_t *stop);

#endif /* SLUICE_SERVE_H */
