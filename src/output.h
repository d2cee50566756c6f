/*
** output.h - printing result rows for people and pipes: the table, csv and
** json output modes of the command line and the shell.
*/
#ifndef SLUICE_OUTPUT_H
#define SLUICE_OUTPUT_H

#include <pthread.h>
#include <stdio.h>

#include "value.h"

typedef enum sl_outfmt { SL_OUT_TABLE, SL_OUT_CSV, SL_OUT_JSON } sl_outfmt;

typedef struct sl_printer {
  sl_outfmt fmt;
  FILE *f;
  pthread_mutex_t mu;       /* rows of concurrent queries do not interleave */
  const char *const *names; /* names of the current result (identity marks a new result) */
  int ncol;
  int *widths; /* table mode column widths, owned */
  sl_buf line; /* scratch */
  /* table mode: the first rows of a result are held (their cells in held:
  ** per cell a byte 1 for right-aligned, 4 bytes of length, the text) until
  ** the result ends, 500 rows have come or the first is 200 ms old, so
  ** that the widths fit them all; then the header and they are printed, and
  ** later rows as they come.  A thread (flusher) watches the age. */
  sl_buf held;
  char **hnames; /* the held result's column names (owned: the query may end first) */
  int nheld;
  int64_t held_ms; /* when the first held row came */
  int shown;       /* the current result's header is printed */
  int stop;        /* the flusher is to end */
  int has_flusher;
  pthread_t flusher;
  pthread_cond_t cv;
  /* NULL, or the one column to print, its values alone one a line (the
  ** shell's .tables and .schema) */
  const char *only;
} sl_printer;

void sl_printer_init(sl_printer *p, sl_outfmt fmt, FILE *f);
void sl_printer_free(sl_printer *p);
/* An sl_row_fn: print one row (a header first when a new result starts). */
int sl_printer_row(void *ud, int ncol, const char *const *names, sl_value **row);
/* The current result ended: the next row starts a new one. */
void sl_printer_end(sl_printer *p);
/* Parse "table" | "csv" | "json"; -1 if unknown. */
int sl_outfmt_parse(const char *z);

#endif /* SLUICE_OUTPUT_H */
