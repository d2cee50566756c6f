/*
** output.c - result printing for the command line (see output.h).
**
** table: a header and aligned columns; widths come from the header and the
** first row, since rows of a continuous query are printed as they arrive
**   (a longer value later simply widens its line).
** csv:   RFC 4180, a header line, fields quoted when needed, NULL empty.
** json:  one object per row keyed by column name (json.c's value encoding).
*/
#include "output.h"

#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "json.h"

void sl_printer_init(sl_printer *p, sl_outfmt fmt, FILE *f) {
  memset(p, 0, sizeof *p);
  p->fmt = fmt;
  p->f = f;
  pthread_mutex_init(&p->mu, NULL);
  sl_buf_init(&p->line);
}

void sl_printer_free(sl_printer *p) {
  pthread_mutex_destroy(&p->mu);
  free(p->widths);
  sl_buf_free(&p->line);
}

int sl_outfmt_parse(const char *z) {
  if (sl_stricmp(z, "table") == 0) return SL_OUT_TABLE;
  if (sl_stricmp(z, "csv") == 0) return SL_OUT_CSV;
  if (sl_stricmp(z, "json") == 0) return SL_OUT_JSON;
  return -1;
}

void sl_printer_end(sl_printer *p) {
  pthread_mutex_lock(&p->mu);
  p->names = NULL;
  pthread_mutex_unlock(&p->mu);
}

/* Text of a cell for table and csv modes ("NULL" shown only in tables). */
static const char *cell(sl_value *v, size_t *n, int table) {
  if (v->type == SL_NULL) {
    *n = table ? 4 : 0;
    return table ? "NULL" : "";
  }
  const char *z = sl_value_text(v, n);
  return z ? z : "";
}

static void header(sl_printer *p, int ncol, const char *const *names, sl_value **row) {
  sl_buf *b = &p->line;
  p->names = names;
  p->ncol = ncol;
  free(p->widths);
  p->widths = sl_calloc((size_t)(ncol ? ncol : 1), sizeof(int));
  if (p->fmt == SL_OUT_JSON) return;
  for (int i = 0; i < ncol; i++) {
    size_t n;
    cell(row[i], &n, 1);
    int w = (int)strlen(names[i]);
    if ((int)n > w) w = (int)n;
    p->widths[i] = w;
  }
  if (p->fmt == SL_OUT_CSV) {
    for (int i = 0; i < ncol; i++) {
      if (i) sl_buf_putc(b, ',');
      sl_csv_append_field(b, names[i], strlen(names[i]), ',');
    }
    sl_buf_putc(b, '\n');
    return;
  }
  for (int i = 0; i < ncol; i++)
    sl_buf_printf(b, "%s%-*s", i ? " | " : "", p->widths[i], names[i]);
  sl_buf_putc(b, '\n');
  for (int i = 0; i < ncol; i++) {
    if (i) sl_buf_puts(b, "-+-");
    for (int k = 0; k < p->widths[i]; k++)
      sl_buf_putc(b, '-');
  }
  sl_buf_putc(b, '\n');
}

int sl_printer_row(void *ud, int ncol, const char *const *names, sl_value **row) {
  sl_printer *p = ud;
  pthread_mutex_lock(&p->mu);
  sl_buf *b = &p->line;
  sl_buf_reset(b);
  if (names != p->names || ncol != p->ncol) header(p, ncol, names, row);
  switch (p->fmt) {
  case SL_OUT_JSON:
    sl_buf_putc(b, '{');
    for (int i = 0; i < ncol; i++) {
      if (i) sl_buf_putc(b, ',');
      sl_json_append_string(b, names[i], strlen(names[i]));
      sl_buf_putc(b, ':');
      sl_json_append_value(b, row[i]);
    }
    sl_buf_puts(b, "}\n");
    break;
  case SL_OUT_CSV:
    for (int i = 0; i < ncol; i++) {
      size_t n;
      const char *z = cell(row[i], &n, 0);
      if (i) sl_buf_putc(b, ',');
      sl_csv_append_field(b, z, n, ',');
    }
    sl_buf_putc(b, '\n');
    break;
  case SL_OUT_TABLE:
    for (int i = 0; i < ncol; i++) {
      size_t n;
      const char *z = cell(row[i], &n, 1);
      int right = row[i]->type == SL_INTEGER || row[i]->type == SL_REAL;
      int pad = p->widths[i] - (int)n;
      if (i) sl_buf_puts(b, " | ");
      for (int k = 0; right && k < pad; k++)
        sl_buf_putc(b, ' ');
      sl_buf_append(b, z, n);
      for (int k = 0; !right && k < pad && i + 1 < ncol; k++)
        sl_buf_putc(b, ' ');
    }
    sl_buf_putc(b, '\n');
    break;
  }
  fwrite(b->z, 1, b->n, p->f);
  pthread_mutex_unlock(&p->mu);
  return 0;
}
