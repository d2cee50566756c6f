/*
** fuzz_format.h - the driver shared by the format targets (fuzz_json.c,
** fuzz_csv.c, fuzz_raw.c): bytes -> records -> rows -> bytes through the
** format.h vtable, as a file source and a sink use it.
**
** The first input byte chooses the setup: bit 0 a declared schema (columns
** of every type) or none (JSON: an open schema that grows by name as a
** query's fields would; CSV: the first record is a header naming the
** columns; raw: one TEXT column), bit 1 the delimiter ';' instead of ','
** for CSV.  The rest is framed as a file (eof at its end); every record is
** decoded, and a row that decodes is encoded again.
*/
#ifndef SLUICE_FUZZ_FORMAT_H
#define SLUICE_FUZZ_FORMAT_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"

#define FUZZ_DECLARED                                                                              \
  "id INTEGER, name TEXT, x REAL, n NUMERIC, ts TIMESTAMP, v VECTOR, b BLOB, any"

static int fuzz_header_field(void *ud, int i, const char *z, size_t n, int quoted) {
  (void)i, (void)quoted;
  sl_schema *s = ud;
  if (s->ncol >= 64) return 1;
  sl_schema_add(s, z, n, NULL);
  return 0;
}

static void fuzz_format(const sl_format *f, const uint8_t *data, size_t size) {
  if (size < 1) return;
  int mode = data[0];
  const char *buf = (const char *)data + 1;
  size_t len = size - 1;

  sl_schema schema;
  sl_schema_init(&schema, 0);
  if (mode & 1) {
    sl_err err = {0};
    if (sl_schema_parse(&schema, FUZZ_DECLARED, &err)) abort();
  } else if (f == &sl_fmt_json) {
    schema.open = 1;
    static const char *const names[] = {"id", "name", "x", "nested", "a", "B", "tags"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
      sl_schema_need(&schema, names[i], strlen(names[i]));
  } else if (f == &sl_fmt_raw) {
    sl_schema_add(&schema, "value", 5, "TEXT");
  }
  sl_fmt_opts opts = {0};
  opts.delim = (mode & 2) ? ';' : ',';
  opts.schema = &schema;

  sl_err err = {0};
  sl_decoder *d = f->decoder_new(&opts, &err);
  if (!d) abort();
  sl_arena arena;
  sl_arena_init(&arena);
  sl_value *row = NULL;
  int header_pending = f == &sl_fmt_csv && !(mode & 1);
  sl_buf out;
  sl_buf_init(&out);

  size_t at = 0;
  while (at < len) {
    size_t rec_len = len - at, used = len - at;
    if (f->frame) {
      used = f->frame(buf + at, len - at, 1, &rec_len);
      if (used == 0) break;
      if (used == SL_FRAME_BAD) { /* as the reader: the first line is rejected, the next read */
        const char *nl = memchr(buf + at, '\n', len - at);
        if (!nl) break;
        at = (size_t)(nl - buf) + 1;
        continue;
      }
    }
    const char *rec = buf + at;
    at += used;
    if (header_pending) {
      header_pending = 0;
      if (sl_csv_split(rec, rec_len, opts.delim, &arena, fuzz_header_field, &schema) < 0) break;
      continue;
    }
    if (!row) row = calloc((size_t)(schema.ncol ? schema.ncol : 1), sizeof *row);
    const char *why = NULL;
    if (f->decode(d, rec, rec_len, row, &arena, &why) == 0 && schema.ncol > 0) {
      const char **names = calloc((size_t)schema.ncol, sizeof *names);
      for (int c = 0; c < schema.ncol; c++)
        names[c] = schema.cols[c].name;
      sl_encoder *e = f->encoder_new(schema.ncol, names, &opts, &err);
      if (e) {
        if (f->begin) f->begin(e, &out);
        f->encode(e, row, &out);
        f->encoder_free(e);
      }
      free(names);
      sl_buf_reset(&out);
    }
    sl_arena_reset(&arena);
    if (!f->frame) break;
  }
  if (row)
    for (int c = 0; c < schema.ncol; c++)
      sl_value_free(&row[c]);
  free(row);
  sl_buf_free(&out);
  sl_arena_free(&arena);
  f->decoder_free(d);
  sl_schema_free(&schema);
  sl_err_clear(&err);
}

#endif /* SLUICE_FUZZ_FORMAT_H */
