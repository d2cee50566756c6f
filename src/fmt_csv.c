/*
** fmt_csv.c - CSV as RFC 4180 describes it: fields separated by a delimiter
** (',' by default), records by CRLF or LF; a field in double quotes may hold
** the delimiter, newlines and doubled quotes ("").
**
** Decoding: the record must have exactly as many fields as the schema has
** columns.  Unquoted fields are borrowed from the record; quoted fields with
** "" are unescaped into the arena.  Declared types apply SQLite affinity; a
** REAL/INTEGER/NUMERIC column whose text is not a number makes the record
** malformed.  An empty unquoted field is NULL in a typed non-TEXT column and
** '' otherwise.  Encoding quotes a field only when it needs it; NULL is an
** empty field.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"

typedef struct csv_decoder {
  const sl_schema *schema;
  char delim;
  sl_buf why; /* last error message */
} csv_decoder;

typedef struct csv_encoder {
  int ncol;
  char delim;
  int header;
  char **names;
  sl_value scratch;
} csv_encoder;

static size_t csv_frame(const char *buf, size_t len, int eof, size_t *rec_len) {
  int quoted = 0;
  for (size_t i = 0; i < len; i++) {
    char c = buf[i];
    if (c == '"') {
      quoted = !quoted; /* "" inside quotes toggles twice */
    } else if (c == '\n' && !quoted) {
      *rec_len = i && buf[i - 1] == '\r' ? i - 1 : i;
      return i + 1;
    }
  }
  if (!eof || !len) return 0;
  if (quoted) return SL_FRAME_BAD; /* the input ends inside quotes */
  *rec_len = len;
  return len;
}

static sl_decoder *csv_decoder_new(const sl_fmt_opts *opts, sl_err *err) {
  csv_decoder *d = sl_calloc(1, sizeof *d);
  d->schema = opts->schema;
  d->delim = opts->delim ? opts->delim : ',';
  sl_buf_init(&d->why);
  return (sl_decoder *)d;
}

static void csv_decoder_free(sl_decoder *dd) {
  csv_decoder *d = (csv_decoder *)dd;
  sl_buf_free(&d->why);
  free(d);
}

int sl_csv_split(const char *rec, size_t len, char delim, sl_arena *arena,
                 int (*put)(void *ud, int i, const char *z, size_t n, int quoted), void *ud) {
  size_t i = 0;
  int f = 0;
  for (;;) {
    if (i < len && rec[i] == '"') {
      size_t start = ++i, dq = 0;
      for (;;) {
        if (i >= len) return -1; /* unterminated quote */
        if (rec[i] == '"') {
          if (i + 1 < len && rec[i + 1] == '"') {
            dq++;
            i += 2;
            continue;
          }
          break;
        }
        i++;
      }
      size_t n = i - start;
      const char *z = rec + start;
      if (dq) {
        char *p = sl_arena_alloc(arena, n - dq + 1);
        size_t k = 0;
        for (size_t j = 0; j < n; j++) {
          p[k++] = z[j];
          if (z[j] == '"') j++;
        }
        p[k] = 0;
        z = p;
        n = k;
      }
      i++; /* closing quote */
      if (i < len && rec[i] != delim) return -1;
      if (put(ud, f++, z, n, 1)) return -1;
    } else {
      size_t start = i;
      while (i < len && rec[i] != delim)
        i++;
      if (put(ud, f++, rec + start, i - start, 0)) return -1;
    }
    if (i >= len) break;
    i++; /* delimiter */
  }
  return f;
}

typedef struct put_ctx {
  csv_decoder *d;
  sl_value *row;
  int ncol;
  int bad; /* 1: too many fields; 2: type error */
} put_ctx;

static int put_field(void *ud, int i, const char *z, size_t n, int quoted) {
  put_ctx *p = ud;
  if (i >= p->ncol) {
    p->bad = 1;
    return -1;
  }
  const sl_column *col = &p->d->schema->cols[i];
  sl_value *v = &p->row[i];
  if (!n && !quoted && col->aff != SL_AFF_NONE && col->aff != SL_AFF_TEXT) {
    sl_value_set_null(v);
    return 0;
  }
  sl_value_borrow_text(v, z, n, 0);
  if (col->aff == SL_AFF_NONE || col->aff == SL_AFF_TEXT) return 0;
  sl_value_apply_affinity(v, col->aff);
  if (v->type == SL_TEXT) {
    sl_buf_reset(&p->d->why);
    sl_buf_printf(&p->d->why, "column %s: '%.*s' is not a %s", col->name, (int)(n > 40 ? 40 : n), z,
                  col->decltype ? col->decltype : "number");
    p->bad = 2;
    return -1;
  }
  return 0;
}

static int csv_decode(sl_decoder *dd, const char *rec, size_t len, sl_value *row, sl_arena *arena,
                      const char **why) {
  csv_decoder *d = (csv_decoder *)dd;
  put_ctx p = {d, row, d->schema->ncol, 0};
  int nf = sl_csv_split(rec, len, d->delim, arena, put_field, &p);
  if (nf < 0 || nf != p.ncol) {
    if (p.bad == 2) { /* put_field wrote the message */
      *why = d->why.z;
      return -1;
    }
    sl_buf_reset(&d->why);
    if (nf < 0 && !p.bad)
      sl_buf_printf(&d->why, "malformed CSV (unbalanced quotes)");
    else
      sl_buf_printf(&d->why, "expected %d fields, found %s%d", p.ncol,
                    p.bad == 1 ? "more than " : "", p.bad == 1 ? p.ncol : nf);
    *why = d->why.z;
    return -1;
  }
  return 0;
}

void sl_csv_append_field(sl_buf *out, const char *z, size_t n, char delim) {
  int quote = 0;
  for (size_t i = 0; i < n && !quote; i++)
    quote = z[i] == delim || z[i] == '"' || z[i] == '\n' || z[i] == '\r';
  if (!quote) {
    sl_buf_append(out, z, n);
    return;
  }
  sl_buf_putc(out, '"');
  for (size_t i = 0; i < n; i++) {
    if (z[i] == '"') sl_buf_putc(out, '"');
    sl_buf_putc(out, z[i]);
  }
  sl_buf_putc(out, '"');
}

static sl_encoder *csv_encoder_new(int ncol, const char *const *names, const sl_fmt_opts *opts,
                                   sl_err *err) {
  csv_encoder *e = sl_calloc(1, sizeof *e);
  e->ncol = ncol;
  e->delim = opts->delim ? opts->delim : ',';
  e->header = opts->header;
  e->names = sl_calloc((size_t)(ncol ? ncol : 1), sizeof(char *));
  for (int i = 0; i < ncol; i++)
    e->names[i] = sl_strdup(names[i]);
  return (sl_encoder *)e;
}

static void csv_begin(sl_encoder *ee, sl_buf *out) {
  csv_encoder *e = (csv_encoder *)ee;
  if (!e->header) return;
  for (int i = 0; i < e->ncol; i++) {
    if (i) sl_buf_putc(out, e->delim);
    sl_csv_append_field(out, e->names[i], strlen(e->names[i]), e->delim);
  }
  sl_buf_putc(out, '\n');
}

static void csv_encode(sl_encoder *ee, sl_value *row, sl_buf *out) {
  csv_encoder *e = (csv_encoder *)ee;
  for (int i = 0; i < e->ncol; i++) {
    if (i) sl_buf_putc(out, e->delim);
    if (row[i].type == SL_NULL) continue;
    sl_value_ref(&e->scratch, &row[i]);
    size_t n;
    const char *z = sl_value_text(&e->scratch, &n);
    sl_csv_append_field(out, z, n, e->delim);
  }
}

static void csv_encoder_free(sl_encoder *ee) {
  csv_encoder *e = (csv_encoder *)ee;
  for (int i = 0; i < e->ncol; i++)
    free(e->names[i]);
  free(e->names);
  sl_value_free(&e->scratch);
  free(e);
}

const sl_format sl_fmt_csv = {"csv",
                              csv_frame,
                              csv_decoder_new,
                              csv_decode,
                              csv_decoder_free,
                              csv_encoder_new,
                              csv_begin,
                              csv_encode,
                              csv_encoder_free,
                              NULL,
                              NULL,
                              0};
