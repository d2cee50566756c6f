/*
** grant.c - the authorizer of `sluice serve` (grant.h): paths compared
** after resolving them, hosts compared as written (lower case), every
** other action refused unless the owner's flags say otherwise.
*/
#include "grant.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"

void sl_grant_init(sl_grant *g) {
  memset(g, 0, sizeof *g);
}

void sl_grant_free(sl_grant *g) {
  for (int i = 0; i < g->ndir; i++)
    free(g->dirs[i]);
  for (int i = 0; i < g->nhost; i++)
    free(g->hosts[i]);
  free(g->dirs);
  free(g->hosts);
  free(g->state_dir);
  sl_grant_init(g);
}

int sl_grant_dir(sl_grant *g, const char *dir, sl_err *err) {
  char *real = realpath(dir, NULL);
  if (!real) {
    sl_err_set(err, SL_EIO, "--data-dir %s: no such directory", dir);
    return -1;
  }
  g->dirs = sl_realloc(g->dirs, sizeof(*g->dirs) * (size_t)(g->ndir + 1));
  g->dirs[g->ndir++] = real;
  return 0;
}

/* sl_host_list_each's callback: add hostport to the grant ud. */
static int add_host(void *ud, const char *hostport, sl_err *err) {
  (void)err;
  sl_grant *g = ud;
  g->hosts = sl_realloc(g->hosts, sizeof(*g->hosts) * (size_t)(g->nhost + 1));
  g->hosts[g->nhost++] = sl_strdup(hostport);
  return 0;
}

int sl_grant_hosts(sl_grant *g, const char *list, sl_err *err) {
  return sl_host_list_each(list, add_host, g, err);
}

/* 1 when path resolves to a granted directory or below one. */
static int path_granted(const sl_grant *g, const char *path) {
  char *real = sl_path_resolve(path);
  int yes = 0;
  for (int i = 0; real && i < g->ndir && !yes; i++) {
    size_t n = strlen(g->dirs[i]);
    yes = !strncmp(real, g->dirs[i], n) &&
          (real[n] == '/' || real[n] == 0 || (n == 1 && g->dirs[i][0] == '/'));
  }
  free(real);
  return yes;
}

int sl_grant_check(void *ud, int action, const char *target, const char *detail) {
  (void)detail;
  const sl_grant *g = ud;
  switch (action) {
  case SLUICE_AUTH_READ:
  case SLUICE_AUTH_WRITE: return path_granted(g, target) ? SLUICE_ALLOW : SLUICE_DENY;
  case SLUICE_AUTH_DIRECTORY:
    return (g->state_dir && !strcmp(target, g->state_dir)) || path_granted(g, target) ? SLUICE_ALLOW
                                                                                      : SLUICE_DENY;
  case SLUICE_AUTH_CONNECT: {
    char hp[300];
    if (sl_host_port(target, strlen(target), hp, sizeof hp)) return SLUICE_DENY;
    for (int i = 0; i < g->nhost; i++)
      if (!strcmp(g->hosts[i], hp)) return SLUICE_ALLOW;
    return SLUICE_DENY;
  }
  case SLUICE_AUTH_LOAD: return g->load ? SLUICE_ALLOW : SLUICE_DENY;
  }
  return SLUICE_DENY; /* properties not listed, code, stdin/stdout, anything new */
}

const char *sl_grant_why(void *ud, int action, const char *target) {
  (void)target;
  const sl_grant *g = ud;
  switch (action) {
  case SLUICE_AUTH_READ:
  case SLUICE_AUTH_WRITE:
  case SLUICE_AUTH_DIRECTORY:
    return g->ndir ? "a client of sluice serve reaches the files under its --data-dir "
                     "directories only"
                   : "a client of sluice serve reaches files only under a --data-dir DIR "
                     "of the server, and it was started with none";
  case SLUICE_AUTH_CONNECT:
    return "a client of sluice serve connects only to the server's own brokers and those "
           "granted with --allow-broker HOST:PORT";
  case SLUICE_AUTH_PROPERTY:
    return "a client of sluice serve passes only the Kafka properties docs/security.md lists";
  case SLUICE_AUTH_LOAD:
    return "LOAD on a running engine needs its --load-path DIRS (the directories it may load "
           "from)";
  case SLUICE_AUTH_STDIO: return "the server's standard input and output are not its clients'";
  case SLUICE_AUTH_CODE:
    return "it loads code or runs a command, never taken from a client of sluice serve";
  }
  return NULL;
}
