/*
** auth.h - the one check every action that reaches outside the engine
** passes (sluice.h: sluice_set_authorizer): reading or writing a file, a
** database or a model, using a directory, connecting to a host, passing a
** connector property, loading a library, using stdin/stdout.
**
** The engine owns one sl_auth; the planner hands a pointer to it to every
** connector call (sl_options.auth) and the engine asks it itself for models,
** LOAD and the state directory.  Whoever does the action asks first, with
** the target as the SQL wrote it.
*/
#ifndef SLUICE_AUTH_H
#define SLUICE_AUTH_H

#include "sluice.h"
#include "util.h"

typedef struct sl_auth {
  /* NULL: every action allowed but SLUICE_AUTH_CODE, which only unsafe_ok
  ** allows; an authorizer decides that one too */
  sluice_authorizer fn;
  void *ud;
  /* Optional: a sentence saying what would grant a refused action (e.g.
  ** "sluice serve grants files under --data-dir DIR only"), appended to the
  ** message; the string is the callee's and must stay valid. */
  const char *(*why)(void *ud, int action, const char *target);
  /* connector properties that load code or run commands are allowed
  ** (--allow-unsafe-properties) */
  int unsafe_ok;
} sl_auth;

/* Ask whether action may be done on target (detail as sluice.h says).  a
** NULL (or one without fn) allows everything but SLUICE_AUTH_CODE, which
** needs unsafe_ok.  Returns 0, or -1 with err
** set (SL_EAUTH, "not authorized: read 'x' (file): <why>"). */
int sl_authorize(const sl_auth *a, int action, const char *target, const char *detail, sl_err *err);

/* 1 when path, resolved (realpath: `..` and symbolic links; a file that
** does not exist yet by its directory), names dir or something below it;
** dir is resolved too.  0 when either cannot be resolved. */
int sl_path_inside(const char *path, const char *dir);

/* The resolved path (owned) of path: realpath of it, or when it does not
** exist, realpath of its directory followed by its last component (a
** file a sink will create).  NULL when neither resolves. */
char *sl_path_resolve(const char *path);

/* The "host:port" of one broker list entry z (n bytes: "host", "host:port",
** "[::1]:port", a "proto://" prefix dropped) into out (cap bytes), lower
** case, port 9092 when it has none: what SLUICE_AUTH_CONNECT targets are.
** 0, or -1 when z is not such an entry. */
int sl_host_port(const char *z, size_t n, char *out, size_t cap);

/* Call fn(ud, hostport, err) for each entry of a broker list ("a:1, b",
** comma or space separated) as sl_host_port makes it, in order, until fn
** returns non-zero.  0, or -1 with err set: an entry that is not
** HOST:PORT ("'x' is not HOST:PORT"), or what fn set. */
int sl_host_list_each(const char *list, int (*fn)(void *ud, const char *hostport, sl_err *err),
                      void *ud, sl_err *err);

#endif /* SLUICE_AUTH_H */
