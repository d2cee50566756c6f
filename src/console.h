/*
** console.h - the web console of `sluice serve`: its static files
** (src/console/), embedded into the binary at build time by
** src/console/embed.sh (generated src/console_files.c), looked up by URL
** path.  The page talks to the server through the public HTTP API only
** (docs/serve.md, "The console").
*/
#ifndef SLUICE_CONSOLE_H
#define SLUICE_CONSOLE_H

#include <stddef.h>
#include <stdint.h>

/* One embedded file: served at path ("/" for index.html) with the
** Content-Type type; size bytes at data (static, never freed). */
typedef struct sl_console_file {
  const char *path;
  const char *type;
  const unsigned char *data;
  size_t size;
} sl_console_file;

/* Every embedded file, ended by an entry whose path is NULL (generated). */
extern const sl_console_file sl_console_files[];

/* The file served at URL path url ("/", "/console.js", ...), or NULL when
** none is: nothing else is a console file.  The result is static. */
const sl_console_file *sl_console_find(const char *url);

/* The entity tag of f: a quoted hash of its bytes ("\"1a2b...\""), written
** into tag (cap bytes, at least 20). */
void sl_console_etag(const sl_console_file *f, char *tag, size_t cap);

/* The Content-Security-Policy the console's files are served with: scripts
** and styles from the server only (none inline), requests to it only, no
** frames, no forms, no plugins. */
#define SL_CONSOLE_CSP                                                                             \
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "                \
  "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

#endif /* SLUICE_CONSOLE_H */
