/*
** auth.c - the authorizer check (auth.h) and the path resolution that
** authorizers granting directories share (the server's grants in grant.c,
** LOAD's load_path in extension.c).
*/
#include "auth.h"

#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* How a refusal names action: the verb before the target. */
static const char *action_verb(int action) {
  switch (action) {
  case SLUICE_AUTH_READ: return "read";
  case SLUICE_AUTH_WRITE: return "write";
  case SLUICE_AUTH_DIRECTORY: return "use the directory";
  case SLUICE_AUTH_CONNECT: return "connect to";
  case SLUICE_AUTH_PROPERTY: return "set the property";
  case SLUICE_AUTH_LOAD: return "load";
  case SLUICE_AUTH_STDIO: return "use the program's";
  case SLUICE_AUTH_CODE: return "set the property";
  }
  return "do";
}

int sl_authorize(const sl_auth *a, int action, const char *target, const char *detail,
                 sl_err *err) {
  if (action == SLUICE_AUTH_CODE && !(a && (a->unsafe_ok || a->fn))) {
    sl_err_set(err, SL_EAUTH,
               "not authorized: set the property '%s' (%s): it loads code or runs a command, "
               "taken only by a program started with --allow-unsafe-properties",
               target, detail ? detail : "connector");
    return -1;
  }
  if (!a || !a->fn || a->fn(a->ud, action, target, detail) == SLUICE_ALLOW) return 0;
  const char *why = a->why ? a->why(a->ud, action, target) : NULL;
  if (detail && !strcmp(detail, target)) detail = NULL; /* stdout() asking for "stdout" */
  sl_err_set(err, SL_EAUTH, "not authorized: %s '%s'%s%s%s%s%s", action_verb(action), target,
             detail ? " (" : "", detail ? detail : "", detail ? ")" : "", why ? ": " : "",
             why ? why : "");
  return -1;
}

char *sl_path_resolve(const char *path) {
  if (!path || !*path) return NULL;
  char *real = realpath(path, NULL);
  if (real) return real;
  /* not there (yet): its directory, then its last component, which must
  ** be a plain name (not "." or "..") */
  const char *slash = strrchr(path, '/');
  const char *base = slash ? slash + 1 : path;
  if (!*base || !strcmp(base, ".") || !strcmp(base, "..")) return NULL;
  char *dir = slash ? sl_strndup(path, slash == path ? 1 : (size_t)(slash - path)) : sl_strdup(".");
  char *rd = realpath(dir, NULL);
  free(dir);
  if (!rd) return NULL;
  char *out = sl_mprintf("%s%s%s", rd, strcmp(rd, "/") ? "/" : "", base);
  free(rd);
  return out;
}

int sl_path_inside(const char *path, const char *dir) {
  char *real = sl_path_resolve(path);
  char *rd = real ? realpath(dir, NULL) : NULL;
  int yes = 0;
  if (rd) {
    size_t n = strlen(rd);
    yes = !strncmp(real, rd, n) && (real[n] == '/' || real[n] == 0 || (n == 1 && rd[0] == '/'));
  }
  free(real);
  free(rd);
  return yes;
}

int sl_host_port(const char *z, size_t n, char *out, size_t cap) {
  const char *scheme = NULL;
  for (size_t i = 0; i + 2 < n; i++)
    if (z[i] == ':' && z[i + 1] == '/' && z[i + 2] == '/') scheme = z + i + 3;
  if (scheme) {
    n -= (size_t)(scheme - z);
    z = scheme;
  }
  if (!n || n + 6 >= cap) return -1;
  for (size_t i = 0; i < n; i++)
    out[i] = (char)tolower((unsigned char)z[i]);
  out[n] = 0;
  const char *colon = strrchr(out, ':');
  const char *bracket = strrchr(out, ']');
  if (!colon || (bracket && colon < bracket)) strcat(out, ":9092");
  return out[0] == ':' ? -1 : 0;
}

int sl_host_list_each(const char *list, int (*fn)(void *ud, const char *hostport, sl_err *err),
                      void *ud, sl_err *err) {
  for (const char *p = list; *p;) {
    while (*p == ',' || *p == ' ')
      p++;
    size_t n = strcspn(p, ", ");
    if (!n) break;
    char hp[300];
    if (sl_host_port(p, n, hp, sizeof hp)) {
      sl_err_set(err, SL_EBIND, "'%.*s' is not HOST:PORT", (int)n, p);
      return -1;
    }
    if (fn(ud, hp, err)) return -1;
    p += n;
  }
  return 0;
}
