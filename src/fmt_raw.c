/*
** fmt_raw.c - raw lines: each record is one line, one TEXT column `value`;
** the encoder writes the first column's text as the line.
*/
#include <stdlib.h>
#include <string.h>

#include "format.h"

typedef struct raw_coder {
  int ncol;
  sl_value scratch; /* encoder: renders numbers without allocating per row */
} raw_coder;

size_t sl_frame_line(const char *buf, size_t len, int eof, size_t *rec_len) {
  const char *nl = memchr(buf, '\n', len);
  if (!nl) {
    if (!eof || !len) return 0;
    *rec_len = len;
    return len;
  }
  size_t n = (size_t)(nl - buf);
  *rec_len = n && buf[n - 1] == '\r' ? n - 1 : n;
  return n + 1;
}

static sl_decoder *raw_decoder_new(const sl_fmt_opts *opts, sl_err *err) {
  raw_coder *d = sl_calloc(1, sizeof *d);
  d->ncol = opts->schema ? opts->schema->ncol : 1;
  return (sl_decoder *)d;
}

static int raw_decode(sl_decoder *dd, const char *rec, size_t len, sl_value *row, sl_arena *arena,
                      const char **why) {
  raw_coder *d = (raw_coder *)dd;
  if (d->ncol < 1) return 0;
  sl_value_borrow_text(&row[0], rec, len, 0);
  for (int i = 1; i < d->ncol; i++)
    row[i].type = SL_NULL;
  return 0;
}

static void raw_free(sl_decoder *d) {
  free(d);
}

static sl_encoder *raw_encoder_new(int ncol, const char *const *names, const sl_fmt_opts *opts,
                                   sl_err *err) {
  raw_coder *e = sl_calloc(1, sizeof *e);
  e->ncol = ncol;
  return (sl_encoder *)e;
}

static void raw_encode(sl_encoder *ee, sl_value *row, sl_buf *out) {
  raw_coder *e = (raw_coder *)ee;
  if (e->ncol < 1 || row[0].type == SL_NULL) return;
  sl_value_ref(&e->scratch, &row[0]);
  size_t n;
  const char *z = sl_value_text(&e->scratch, &n);
  sl_buf_append(out, z, n);
}

static void raw_encoder_free(sl_encoder *ee) {
  raw_coder *e = (raw_coder *)ee;
  sl_value_free(&e->scratch);
  free(e);
}

const sl_format sl_fmt_raw = {
    "raw", sl_frame_line, raw_decoder_new,  raw_decode, raw_free, raw_encoder_new,
    NULL,  raw_encode,    raw_encoder_free, NULL,       NULL,     0};
