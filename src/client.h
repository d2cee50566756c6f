/*
** client.h - the client side of `sluice --connect`: an HTTP/1.1 request to a
** running `sluice serve` over a plain IPv4 socket whose answer is handed on
** line by line as it arrives (chunked transfer encoding decoded here), and
** POST /query, the remote shell's statement, whose NDJSON answer is printed
** with the shell's printer as the local shell prints rows.
*/
#ifndef SLUICE_CLIENT_H
#define SLUICE_CLIENT_H

#include <signal.h>
#include <stddef.h>

#include "output.h"
#include "util.h"

/* How sl_http_request ended. */
enum {
  SL_HTTP_FAILED = -1, /* no answer, or the answer broke off (err set) */
  SL_HTTP_DONE = 0,    /* the whole body was read */
  SL_HTTP_STOPPED = 1, /* *stop became non-zero: the connection was closed */
  SL_HTTP_CALLER = 2   /* the line callback asked to stop */
};

/* Called with each line of an answer's body as it arrives: status is the
** answer's HTTP status, line the bytes without "\n" or "\r\n" (NUL-terminated,
** writable, valid during the call only; a last line without "\n" counts too).
** Also called with line NULL after each batch of bytes read from the socket,
** a moment to flush output.  Returns 0 to read on, non-zero to stop. */
typedef int (*sl_http_line_fn)(void *ud, int status, char *line, size_t n);

/* Send one request to url ("http://HOST:PORT[/]", HOST an IPv4 address or
** localhost): method on path with body[0..nbody) (body may be NULL when nbody
** is 0), "Authorization: Bearer token" when token is non-empty, and
** "Connection: close".  The body of the answer (chunked, with Content-Length,
** or up to the close) goes to fn line by line; *status gets the HTTP status
** (0 if none was read).  While waiting, *stop (may be NULL) is checked at
** least every 100 ms and, once non-zero, ends the request.  Returns one of
** SL_HTTP_*; err is set only for SL_HTTP_FAILED.  Nothing is printed. */
int sl_http_request(const char *url, const char *token, const char *method, const char *path,
                    const char *body, size_t nbody, volatile sig_atomic_t *stop, sl_http_line_fn fn,
                    void *ud, int *status, sl_err *err);

/* POST sql (SQL text, one statement or more) to url's /query and print its
** NDJSON answer as it arrives: rows with out (sl_printer_row, a new result at
** each "columns" line), and on stderr the ids of the persistent queries that
** started ("started q3") and "(stopped q7)" when *stop ended a streaming
** query.  Returns 0 when the server answered {"status": "ok"}, 1 when *stop
** ended the request, -1 with err set (the server's message and, when it gave
** them, line and column within sql) for any error: an HTTP error status, an
** error line, an unreachable server or an answer cut short.  out stays owned
** by the caller, who calls sl_printer_end afterwards. */
int sl_client_query(const char *url, const char *token, const char *sql, sl_printer *out,
                    volatile sig_atomic_t *stop, sl_err *err);

/* One request of the thin clients (sluice submit/queries/terminate/describe)
** to a server at url: method on path with body (NULL: none) and, when token
** is non-empty, "Authorization: Bearer token".  The answer's body goes to
** stdout (ending in a newline).  Returns 0 for a 2xx answer, 1 for any other
** answer or when the server cannot be reached (a message on stderr). */
int sl_client_request(const char *url, const char *token, const char *method, const char *path,
                      const char *body);

#endif /* SLUICE_CLIENT_H */
