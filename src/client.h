/*
** client.h - the client side of a running `sluice serve`, on libcurl: the
** remote shell's POST /query (`sluice --connect URL`), whose NDJSON answer
** is printed with the shell's printer as it arrives, and the one request of
** each thin client (sluice submit, queries, terminate, describe).
**
** A server is named by a URL, http:// or https://, with a host name, an
** IPv4 address or a bracketed IPv6 one, an optional port and an optional
** path prefix (a server behind a reverse proxy): http://127.0.0.1:8080,
** http://[::1]:8081, https://sluice.example/engine.  The proxy variables of
** the environment (http_proxy, HTTPS_PROXY, ALL_PROXY, NO_PROXY) apply as
** libcurl reads them, except that loopback addresses and localhost are never
** proxied.
*/
#ifndef SLUICE_CLIENT_H
#define SLUICE_CLIENT_H

#include <signal.h>

#include "output.h"
#include "util.h"

/* A server and how to talk to it; the strings stay the caller's. */
typedef struct sl_remote {
  const char *url;    /* the server's base URL */
  const char *token;  /* "Authorization: Bearer token" when non-empty */
  const char *cacert; /* https: a file of CA certificates to trust; NULL: the system's */
} sl_remote;

/* POST sql (SQL text, one statement or more) to the server's /query and
** print its NDJSON answer as it arrives: rows with out (sl_printer_row, a
** new result at each "columns" line), and on stderr the ids of the
** persistent queries that started ("started q3") and "(stopped q7)" when
** *stop ended a streaming query.  *stop (may be NULL; a SIGINT flag) is
** looked at every 100 ms at most, and once non-zero the connection is
** closed, so the server sees the client go.  Returns 0 when the server
** answered {"status": "ok"}, 1 when *stop ended the request, -1 with err set
** (the server's message and, when it gave them, line and column within sql)
** for any error: an HTTP error status, an error line, an unreachable server
** or an answer cut short.  out stays owned by the caller, who calls
** sl_printer_end afterwards. */
int sl_client_query(const sl_remote *r, const char *sql, sl_printer *out,
                    volatile sig_atomic_t *stop, sl_err *err);

/* One request of the thin clients: method on path (below the base URL,
** already percent-encoded) with body (NULL: none).  The answer's body goes
** to stdout (ending in a newline).  Returns 0 for a 2xx answer, 1 for any
** other answer or when the server cannot be reached (a message on stderr). */
int sl_client_request(const sl_remote *r, const char *method, const char *path, const char *body);

#endif /* SLUICE_CLIENT_H */
