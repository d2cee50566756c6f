/*
** output.c - result printing for the command line (see output.h).
**
** table: a header and aligned columns; the widths fit the header and the
**   rows held before it (all of a result that ends within 200 ms, else the
**   first 500 or those of the first 200 ms, see sl_printer.held); rows of a
**   continuous query are then printed as they arrive (a longer value later
**   simply widens its line).
** csv:   RFC 4180, a header line, fields quoted when needed, NULL empty.
** json:  one object per row keyed by column name (json.c's value encoding).
*/
#include "output.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "format.h"
#include "json.h"

void sl_printer_init(sl_printer *p, sl_outfmt fmt, FILE *f) {
  memset(p, 0, sizeof *p);
  p->fmt = fmt;
  p->f = f;
  pthread_mutex_init(&p->mu, NULL);
  pthread_cond_init(&p->cv, NULL);
  sl_buf_init(&p->line);
  sl_buf_init(&p->held);
}

static void flush_held(sl_printer *p);
static void free_names(sl_printer *p);

void sl_printer_free(sl_printer *p) {
  pthread_mutex_lock(&p->mu);
  if (p->nheld) flush_held(p);
  p->stop = 1;
  pthread_cond_signal(&p->cv);
  pthread_mutex_unlock(&p->mu);
  if (p->has_flusher) pthread_join(p->flusher, NULL);
  pthread_cond_destroy(&p->cv);
  pthread_mutex_destroy(&p->mu);
  free(p->widths);
  free_names(p);
  sl_buf_free(&p->line);
  sl_buf_free(&p->held);
}

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The flusher thread: prints the held rows of a result once the first is
** 200 ms old (a continuous query's first rows), until sl_printer_free. */
static void *flusher_main(void *ud) {
  sl_printer *p = ud;
  pthread_mutex_lock(&p->mu);
  while (!p->stop) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += 50 * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
      ts.tv_sec++;
      ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&p->cv, &p->mu, &ts);
    if (p->nheld && now_ms() - p->held_ms >= 200) flush_held(p);
  }
  pthread_mutex_unlock(&p->mu);
  return NULL;
}

int sl_outfmt_parse(const char *z) {
  if (sl_stricmp(z, "table") == 0) return SL_OUT_TABLE;
  if (sl_stricmp(z, "csv") == 0) return SL_OUT_CSV;
  if (sl_stricmp(z, "json") == 0) return SL_OUT_JSON;
  return -1;
}

void sl_printer_end(sl_printer *p) {
  pthread_mutex_lock(&p->mu);
  if (p->nheld) flush_held(p);
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

/* Free the copies of the current result's names. */
static void free_names(sl_printer *p) {
  for (int i = 0; p->hnames && i < p->ncol; i++)
    free(p->hnames[i]);
  free(p->hnames);
  p->hnames = NULL;
}

/* A new result with these columns: a csv header now; in table mode the
** widths start from the names (the header waits for the held rows). */
static void header(sl_printer *p, int ncol, const char *const *names) {
  sl_buf *b = &p->line;
  if (p->nheld) flush_held(p); /* the previous result's */
  free_names(p);
  p->names = names;
  p->ncol = ncol;
  p->hnames = sl_calloc((size_t)ncol + 1, sizeof *p->hnames);
  for (int i = 0; i < ncol; i++)
    p->hnames[i] = sl_strdup(names[i]);
  p->shown = 0;
  free(p->widths);
  p->widths = sl_calloc((size_t)(ncol ? ncol : 1), sizeof(int));
  if (p->fmt == SL_OUT_JSON) return;
  for (int i = 0; i < ncol; i++)
    p->widths[i] = (int)strlen(names[i]);
  if (p->fmt == SL_OUT_CSV) {
    for (int i = 0; i < ncol; i++) {
      if (i) sl_buf_putc(b, ',');
      sl_csv_append_field(b, names[i], strlen(names[i]), ',');
    }
    sl_buf_putc(b, '\n');
  }
}

/* Append a table row of cells (texts z[i] of n[i] bytes) to b. */
static void table_row(sl_printer *p, sl_buf *b, int ncol, const char *const *z, const size_t *n,
                      const uint8_t *right) {
  for (int i = 0; i < ncol; i++) {
    int pad = p->widths[i] - (int)n[i];
    if (i) sl_buf_puts(b, " | ");
    for (int k = 0; right[i] && k < pad; k++)
      sl_buf_putc(b, ' ');
    sl_buf_append(b, z[i], n[i]);
    for (int k = 0; !right[i] && k < pad && i + 1 < ncol; k++)
      sl_buf_putc(b, ' ');
  }
  sl_buf_putc(b, '\n');
}

/* Read the next held cell at *at: its text and length, alignment. */
static const char *held_cell(const sl_buf *h, size_t *at, size_t *n, uint8_t *right) {
  *right = (uint8_t)h->z[*at];
  uint32_t len;
  memcpy(&len, h->z + *at + 1, 4);
  *n = len;
  const char *z = h->z + *at + 5;
  *at += 5 + (size_t)len;
  return z;
}

/* Print the header and the held rows, the widths fitted to them all
** (p->mu held). */
static void flush_held(sl_printer *p) {
  int ncol = p->ncol;
  const char **z = sl_calloc((size_t)ncol + 1, sizeof *z);
  size_t *n = sl_calloc((size_t)ncol + 1, sizeof *n);
  uint8_t *right = sl_calloc((size_t)ncol + 1, 1);
  size_t at = 0;
  for (int r = 0; r < p->nheld; r++)
    for (int i = 0; i < ncol; i++) {
      held_cell(&p->held, &at, &n[i], &right[i]);
      if ((int)n[i] > p->widths[i]) p->widths[i] = (int)n[i];
    }
  sl_buf b;
  sl_buf_init(&b);
  for (int i = 0; i < ncol; i++)
    sl_buf_printf(&b, "%s%-*s", i ? " | " : "", p->widths[i], p->hnames[i]);
  sl_buf_putc(&b, '\n');
  for (int i = 0; i < ncol; i++) {
    if (i) sl_buf_puts(&b, "-+-");
    for (int k = 0; k < p->widths[i]; k++)
      sl_buf_putc(&b, '-');
  }
  sl_buf_putc(&b, '\n');
  at = 0;
  for (int r = 0; r < p->nheld; r++) {
    for (int i = 0; i < ncol; i++)
      z[i] = held_cell(&p->held, &at, &n[i], &right[i]);
    table_row(p, &b, ncol, z, n, right);
  }
  fwrite(b.z, 1, b.n, p->f);
  fflush(p->f);
  sl_buf_free(&b);
  free(z);
  free(n);
  free(right);
  sl_buf_reset(&p->held);
  p->nheld = 0;
  p->shown = 1;
}

int sl_printer_row(void *ud, int ncol, const char *const *names, sl_value **row) {
  sl_printer *p = ud;
  pthread_mutex_lock(&p->mu);
  sl_buf *b = &p->line;
  sl_buf_reset(b);
  if (p->only) { /* one column's values, as they are */
    for (int i = 0; i < ncol; i++)
      if (!strcmp(names[i], p->only)) {
        size_t n;
        const char *z = cell(row[i], &n, 0);
        fwrite(z, 1, n, p->f);
        fputc('\n', p->f);
      }
    pthread_mutex_unlock(&p->mu);
    return 0;
  }
  if (names != p->names || ncol != p->ncol) header(p, ncol, names);
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
    if (!p->shown) { /* held until the widths are known */
      for (int i = 0; i < ncol; i++) {
        size_t n;
        const char *z = cell(row[i], &n, 1);
        uint32_t len = (uint32_t)n;
        sl_buf_putc(&p->held, row[i]->type == SL_INTEGER || row[i]->type == SL_REAL);
        sl_buf_append(&p->held, (const char *)&len, 4);
        sl_buf_append(&p->held, z, n);
      }
      if (!p->nheld++) p->held_ms = now_ms();
      if (!p->has_flusher) p->has_flusher = pthread_create(&p->flusher, NULL, flusher_main, p) == 0;
      if (p->nheld >= 500) flush_held(p);
      break;
    }
    {
      const char *z[64] = {0}; /* (a table row is for people: zeroing costs nothing here) */
      size_t n[64] = {0};
      uint8_t right[64] = {0};
      const char **zp = ncol <= 64 ? z : sl_calloc((size_t)ncol, sizeof *zp);
      size_t *np = ncol <= 64 ? n : sl_calloc((size_t)ncol, sizeof *np);
      uint8_t *rp = ncol <= 64 ? right : sl_calloc((size_t)ncol, 1);
      for (int i = 0; i < ncol; i++) {
        zp[i] = cell(row[i], &np[i], 1);
        rp[i] = row[i]->type == SL_INTEGER || row[i]->type == SL_REAL;
      }
      table_row(p, b, ncol, zp, np, rp);
      if (ncol > 64) {
        free(zp);
        free(np);
        free(rp);
      }
    }
    break;
  }
  if (b->n) fwrite(b->z, 1, b->n, p->f);
  pthread_mutex_unlock(&p->mu);
  return 0;
}
