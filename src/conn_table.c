/*
** conn_table.c - sources of rows that are already values: an in-memory
** table (CREATE TABLE / INSERT ... VALUES) and the single empty row that a
** SELECT without FROM is evaluated over.  Both are bounded.
*/
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "connector.h"
#include "plan.h"

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
  sl_schema_free(&s->schema);
  free(s);
}

static const sl_source_vt table_vt = {
    "table", table_read, table_position, table_close, table_read_rows,
    NULL,    NULL,       NULL,           NULL,        NULL};

sl_source *sl_table_source_new(const sl_table *t) {
  table_source *s = sl_calloc(1, sizeof *s);
  s->base.vt = &table_vt;
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
