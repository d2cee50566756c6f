/*
** grant.h - what the owner of a `sluice serve` grants its clients: the
** authorizer (auth.h) the server installs.  By default a client reaches
** nothing outside the engine; the server's flags grant directories of
** files (--data-dir), hosts to connect to (--allow-broker, and the
** server's own brokers), its state directory, and LOAD (--load-path).
** A grant is filled before the server starts and only read after, from
** any thread.
*/
#ifndef SLUICE_GRANT_H
#define SLUICE_GRANT_H

#include "util.h"

typedef struct sl_grant {
  char **dirs; /* --data-dir, resolved (realpath), owned */
  int ndir;
  char **hosts; /* "host:port", lower case, owned */
  int nhost;
  char *state_dir; /* the owner's state directory as set (owned), or NULL */
  int load;        /* LOAD allowed (the owner gave --load-path) */
} sl_grant;

/* An empty grant: nothing allowed. */
void sl_grant_init(sl_grant *g);
void sl_grant_free(sl_grant *g);
/* Grant the files below directory dir (which must exist).  0, or -1 with
** err set. */
int sl_grant_dir(sl_grant *g, const char *dir, sl_err *err);
/* Grant connections to each "host:port" of list (comma-separated, as a
** broker list; a "proto://" prefix is dropped, 9092 is the port when none).
** 0, or -1 with err set (an entry that is not host:port). */
int sl_grant_hosts(sl_grant *g, const char *list, sl_err *err);
/* A sluice_authorizer over g (ud: the grant), and the sentence that says
** what would grant a refused action (for sl_engine_set_auth). */
int sl_grant_check(void *ud, int action, const char *target, const char *detail);
const char *sl_grant_why(void *ud, int action, const char *target);

#endif /* SLUICE_GRANT_H */
