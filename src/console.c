/*
** console.c - looks up the web console's embedded files (console.h) for
** `sluice serve`, which answers GET for them without the token: they hold
** no data, and every API call the page makes carries the token.
*/
#include <stdio.h>
#include <string.h>

#include "console.h"

const sl_console_file *sl_console_find(const char *url) {
  if (!strcmp(url, "/index.html")) url = "/";
  for (const sl_console_file *f = sl_console_files; f->path; f++)
    if (!strcmp(f->path, url)) return f;
  return NULL;
}

void sl_console_etag(const sl_console_file *f, char *tag, size_t cap) {
  uint64_t h = 1469598103934665603ull; /* FNV-1a, 64 bits */
  for (size_t i = 0; i < f->size; i++) {
    h ^= f->data[i];
    h *= 1099511628211ull;
  }
  snprintf(tag, cap, "\"%016llx\"", (unsigned long long)h);
}
