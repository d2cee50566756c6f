/*
** conn_sqlite.c - sqlite('file.db', 'table'): the rows of a table in an
** SQLite database, as a bounded source of typed rows (for lookups and
** stream-table joins, or read like any source).
**
** The database is opened read-only; the columns are the table's, with the
** affinity of their declared types.  Values are SQLite's own (INTEGER,
** REAL, TEXT, BLOB, NULL); text and blobs are copied into an arena that
** lives until the next read.
*/
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "connector.h"

typedef struct sqlite_source {
  sl_source base;
  sqlite3 *db;
  sqlite3_stmt *st;
  char *name; /* "file.db:table" for positions */
  sl_arena arena;
  int64_t row;
  int done;
} sqlite_source;

static int sqlite_read_rows(sl_source *s, sl_value *rows, int ncol, int max, sl_err *err) {
  sqlite_source *q = (sqlite_source *)s;
  if (q->done) return SL_READ_END;
  sl_arena_reset(&q->arena);
  int n = 0;
  while (n < max) {
    int rc = sqlite3_step(q->st);
    if (rc == SQLITE_DONE) {
      q->done = 1;
      break;
    }
    if (rc != SQLITE_ROW) {
      sl_err_set(err, SL_EIO, "sqlite %s: %s", q->name, sqlite3_errmsg(q->db));
      return SL_READ_ERROR;
    }
    sl_value *row = rows + (size_t)n * (size_t)ncol;
    for (int c = 0; c < ncol; c++) {
      sl_value *v = &row[c];
      if (c >= sqlite3_column_count(q->st)) {
        sl_value_set_null(v);
        continue;
      }
      switch (sqlite3_column_type(q->st, c)) {
      case SQLITE_INTEGER: sl_value_set_int(v, sqlite3_column_int64(q->st, c)); break;
      case SQLITE_FLOAT: sl_value_set_real(v, sqlite3_column_double(q->st, c)); break;
      case SQLITE_TEXT: {
        const char *z = (const char *)sqlite3_column_text(q->st, c);
        size_t len = (size_t)sqlite3_column_bytes(q->st, c);
        sl_value_borrow_text(v, sl_arena_strndup(&q->arena, z, len), len, SL_F_TERM);
        break;
      }
      case SQLITE_BLOB: {
        size_t len = (size_t)sqlite3_column_bytes(q->st, c);
        void *p = sl_arena_alloc(&q->arena, len + 1);
        if (len) memcpy(p, sqlite3_column_blob(q->st, c), len);
        sl_value_borrow_blob(v, p, len);
        break;
      }
      default: sl_value_set_null(v); break;
      }
    }
    n++;
    q->row++;
  }
  return n ? n : SL_READ_END;
}

static int sqlite_read(sl_source *s, sl_record *recs, int max, int timeout_ms, sl_err *err) {
  (void)s, (void)recs, (void)max, (void)timeout_ms;
  sl_err_set(err, SL_EINTERNAL, "sqlite sources deliver rows, not records");
  return SL_READ_ERROR;
}

static void sqlite_position(sl_source *s, const sl_record *rec, sl_buf *out) {
  (void)rec;
  sl_buf_printf(out, "%s", ((sqlite_source *)s)->name);
}

static void sqlite_close(sl_source *s) {
  sqlite_source *q = (sqlite_source *)s;
  sqlite3_finalize(q->st);
  sqlite3_close(q->db);
  sl_arena_free(&q->arena);
  sl_source_fini(s);
  free(q->name);
  free(q);
}

static const sl_source_vt sqlite_vt = {"sqlite",
                                       sqlite_read,
                                       sqlite_position,
                                       sqlite_close,
                                       sqlite_read_rows,
                                       NULL,
                                       NULL,
                                       NULL,
                                       NULL,
                                       NULL,
                                       NULL,
                                       NULL,
                                       NULL};

static sl_source *sqlite_open_source(sl_options *o, sl_err *err) {
  const char *path = sl_opt_str(o, "0", NULL);
  const char *table = sl_opt_str(o, "1", NULL);
  if (!path || !table) {
    sl_err_set(err, SL_EBIND, "sqlite() needs a database and a table: sqlite('ref.db', 'users')");
    return NULL;
  }
  if (sl_options_check(o, err) || sl_opt_authorize(o, SLUICE_AUTH_READ, path, err)) return NULL;
  if (!strncmp(path, "file:", 5)) { /* what was checked is what gets opened: no URI */
    sl_err_set(err, SL_EBIND, "sqlite(): '%s': give a path, not a URI", path);
    return NULL;
  }
  sqlite_source *q = sl_calloc(1, sizeof *q);
  q->base.vt = &sqlite_vt;
  q->base.bounded = 1;
  sl_arena_init(&q->arena);
  sl_schema_init(&q->base.schema, 0);
  size_t nl = strlen(path) + strlen(table) + 2;
  q->name = sl_malloc(nl);
  snprintf(q->name, nl, "%s:%s", path, table);
  if (sqlite3_open_v2(path, &q->db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
    sl_err_set(err, SL_EIO, "sqlite %s: %s", path, q->db ? sqlite3_errmsg(q->db) : "cannot open");
    sqlite_close(&q->base);
    return NULL;
  }
  char *sql = sqlite3_mprintf("SELECT * FROM \"%w\"", table);
  int rc = sqlite3_prepare_v2(q->db, sql, -1, &q->st, NULL);
  sqlite3_free(sql);
  if (rc != SQLITE_OK) {
    sl_err_set(err, SL_EBIND, "sqlite %s: %s", q->name, sqlite3_errmsg(q->db));
    sqlite_close(&q->base);
    return NULL;
  }
  for (int c = 0; c < sqlite3_column_count(q->st); c++) {
    const char *name = sqlite3_column_name(q->st, c);
    sl_schema_add(&q->base.schema, name, strlen(name), sqlite3_column_decltype(q->st, c));
  }
  return &q->base;
}

const sl_connector sl_conn_sqlite = {"sqlite", sqlite_open_source, NULL};
