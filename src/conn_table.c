/*
** conn_table.c - tables and sources: sources of rows that are already
** values (an in-memory table made by CREATE TABLE / INSERT ... VALUES, and
** the single empty row that a SELECT without FROM is evaluated over; both
** bounded), and a bounded source read into a table (a join's table side).
*/
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "connector.h"

typedef struct table_source {
  sl_source base;
  char *name;     /* owned: the table's name, for positions */
  sl_value *rows; /* owned copy of the table's rows as planned: a statement
                  ** changing the table later (another thread's INSERT in a
                  ** server) does not reach a running query */
  int nrow, ncol;
  int next;   /* next row to deliver */
  int single; /* the one-empty-row source */
} table_source;

static int table_read_rows(sl_source *s, sl_value *rows, int ncol, int max, sl_err *err) {
  table_source *t = (table_source *)s;
  if (t->single) {
    if (t->next++) return SL_READ_END;
    return 1;
  }
  int n = 0;
  int tcol = t->ncol;
  while (n < max && t->next < t->nrow) {
    const sl_value *src = t->rows + (size_t)t->next * (size_t)tcol;
    for (int c = 0; c < ncol && c < tcol; c++) {
      sl_value *o = &rows[(size_t)n * (size_t)ncol + (size_t)c];
      *o = src[c];
      o->buf = NULL;
      o->cap = 0;
      o->flags &= (uint8_t)~SL_F_OWNBUF;
    }
    n++;
    t->next++;
  }
  return n ? n : SL_READ_END;
}

static int table_read(sl_source *s, sl_record *recs, int max, int timeout_ms, sl_err *err) {
  sl_err_set(err, SL_EINTERNAL, "table sources deliver rows, not records");
  return SL_READ_ERROR;
}

static void table_position(sl_source *s, const sl_record *rec, sl_buf *out) {
  table_source *t = (table_source *)s;
  sl_buf_printf(out, "%s", t->single ? "(values)" : t->name);
}

static void table_close(sl_source *s) {
  table_source *t = (table_source *)s;
  for (size_t i = 0; i < (size_t)t->nrow * (size_t)t->ncol; i++)
    sl_value_free(&t->rows[i]);
  free(t->rows);
  free(t->name);
  sl_source_fini(s);
  free(s);
}

static const sl_source_vt table_vt = {
    "table", table_read, table_position, table_close, table_read_rows, NULL, NULL, NULL, NULL,
    NULL,    NULL,       NULL,           NULL};

sl_source *sl_table_source_new(const sl_table *t) {
  table_source *s = sl_calloc(1, sizeof *s);
  s->base.vt = &table_vt;
  s->base.bounded = 1;
  s->single = t == NULL;
  sl_schema_init(&s->base.schema, 0);
  if (t) {
    sl_schema_copy(&s->base.schema, &t->schema);
    s->name = sl_strdup(t->name);
    s->nrow = t->nrow;
    s->ncol = t->schema.ncol;
    size_t n = (size_t)t->nrow * (size_t)t->schema.ncol;
    s->rows = sl_calloc(n ? n : 1, sizeof(sl_value));
    for (size_t i = 0; i < n; i++)
      sl_value_copy(&s->rows[i], &t->rows[i]);
  }
  return &s->base;
}

/* z[0..*n) when it is UTF-8; else a copy in arena with U+FFFD for each
** ill-formed sequence (*n its length).  A table side is loaded whole and
** fails at its first bad record, so text is always repaired here, never
** rejected (invalid_utf8 applies to streamed records). */
static const char *utf8_text(const char *z, size_t *n, sl_arena *arena) {
  if (sl_utf8_check(z, *n) == *n) return z;
  char *p = sl_arena_alloc(arena, 3 * *n + 1);
  *n = sl_utf8_repair(z, *n, p);
  p[*n] = 0;
  return p;
}

/* The TEXT values of row[0..ncol) of a typed source (sqlite()) that are
** not UTF-8 repaired into arena, as utf8_text does. */
static void utf8_row(sl_value *row, int ncol, sl_arena *arena) {
  for (int c = 0; c < ncol; c++) {
    sl_value *v = &row[c];
    if (v->type != SL_TEXT) continue;
    size_t n = v->n;
    const char *z = utf8_text(v->u.z, &n, arena);
    if (z != v->u.z) sl_value_borrow_text(v, z, n, SL_F_TERM | (v->flags & SL_F_JSON));
  }
}

/* Decode the n records of recs into rows of t (text that is not UTF-8
** repaired first).  0, or -1 with err set at the first malformed record. */
static int load_records(sl_source *src, sl_decoder *dec, sl_record *recs, int n, sl_value *row,
                        sl_arena *arena, sl_table *t, sl_err *err) {
  for (int i = 0; i < n; i++) {
    const char *why = recs[i].error, *data = NULL;
    size_t len = recs[i].len;
    if (!why) /* a binary format checks its own text */
      data = src->format->binary ? recs[i].data : utf8_text(recs[i].data, &len, arena);
    if (why || src->format->decode(dec, data, len, row, arena, &why)) {
      sl_buf pos;
      sl_buf_init(&pos);
      src->vt->position(src, &recs[i], &pos);
      sl_err_set(err, SL_EFORMAT, "%s: %s", pos.z ? pos.z : "?", why ? why : "malformed");
      sl_buf_free(&pos);
      return -1;
    }
    sl_table_insert(t, row);
  }
  return 0;
}

sl_table *sl_source_load(const sl_connector *c, const sl_options *opts, const char *name,
                         sl_err *err) {
  sl_options o;
  sl_options_copy(&o, opts);
  o.check_only = 0;
  sl_source *src = c->open_source(&o, err);
  sl_options_free(&o);
  if (!src) return NULL;
  sl_table *t = sl_calloc(1, sizeof *t);
  t->name = sl_strdup(name);
  sl_schema_init(&t->schema, 0);
  sl_schema_copy(&t->schema, &src->schema);
  int ncol = src->schema.ncol, cap = 256, rc = 0;
  sl_value *rows = sl_calloc((size_t)cap * (size_t)(ncol ? ncol : 1), sizeof(sl_value));
  sl_record recs[256];
  sl_arena arena;
  sl_arena_init(&arena);
  sl_decoder *dec = NULL;
  if (!src->vt->read_rows) {
    sl_fmt_opts fo = src->fmt_opts;
    fo.schema = &src->schema;
    dec = src->format->decoder_new(&fo, err);
    if (!dec) rc = -1;
  }
  while (!rc) {
    int n = src->vt->read_rows ? src->vt->read_rows(src, rows, ncol, cap, err)
                               : src->vt->read(src, recs, cap, -1, err);
    if (n == SL_READ_END) break;
    if (n == SL_READ_AGAIN) continue;
    if (n < 0) {
      rc = -1;
      break;
    }
    if (src->vt->read_rows) {
      sl_arena_reset(&arena);
      for (int i = 0; i < n; i++) {
        utf8_row(rows + (size_t)i * (size_t)ncol, ncol, &arena);
        sl_table_insert(t, rows + (size_t)i * (size_t)ncol);
      }
      continue;
    }
    sl_arena_reset(&arena);
    rc = load_records(src, dec, recs, n, rows, &arena, t, err);
  }
  if (dec) src->format->decoder_free(dec);
  sl_arena_free(&arena);
  free(rows);
  src->vt->close(src);
  if (!rc) return t;
  sl_table_free(t);
  return NULL;
}
