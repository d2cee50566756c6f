/*
** engine_dml.c - statements that change the rows of catalog tables:
** INSERT [OR REPLACE] ... VALUES / SELECT (with or without a column list),
** REPLACE INTO, UPDATE, DELETE and CREATE TABLE ... AS SELECT, with SQLite's
** semantics where sluice has the construct (docs/dml.md).
**
** Tables are small and held in memory (catalog.h), so a statement works
** on whole arrays: UPDATE and DELETE compute the table's new rows and swap
** them in at once (sl_catalog_set_rows, journaled), so a failure half-way
** changes nothing.  WHERE and SET expressions are bound against the table's
** columns and compiled to one VM program (sl_plan_row_program), run over
** each row.  A running query is not affected: its plan copied the table's
** rows when it was planned (a snapshot).
**
** INSERT ... SELECT runs the SELECT to its end first (sl_engine_run_select)
** and adds its rows only then: all or nothing, as SQLite.  A query over a
** Kafka topic without stop => 'end' is refused (it never ends); other
** inputs end, and an interrupt before they do adds nothing.
*/
#include "engine_dml.h"

#include <stdlib.h>
#include <string.h>

#include "expr.h"
#include "plan_int.h"
#include "vm.h"

/* ---- rows collected from a query ------------------------------------------- */

/* Rows of a SELECT, collected by collect_row (values owned). */
typedef struct rowbuf {
  sl_value *v;
  int ncol, nrow, cap;
} rowbuf;

static void rowbuf_free(rowbuf *b) {
  for (int i = 0; i < b->nrow * b->ncol; i++)
    sl_value_free(&b->v[i]);
  free(b->v);
  memset(b, 0, sizeof *b);
}

/* sl_row_fn: copy one result row into the rowbuf ud (owned copies). */
static int collect_row(void *ud, int ncol, const char *const *names, sl_value **row) {
  (void)names;
  rowbuf *b = ud;
  if (!b->nrow && !b->cap) b->ncol = ncol;
  if (ncol != b->ncol) return 0; /* one query: never happens */
  if (b->nrow == b->cap) {
    b->cap = b->cap ? b->cap * 2 : 16;
    b->v = sl_realloc(b->v, sizeof(sl_value) * (size_t)b->cap * (size_t)(ncol ? ncol : 1));
  }
  sl_value *dst = b->v + (size_t)b->nrow * (size_t)ncol;
  for (int i = 0; i < ncol; i++) {
    memset(&dst[i], 0, sizeof dst[i]);
    sl_value_copy(&dst[i], row[i]);
    sl_value_own(&dst[i]);
  }
  b->nrow++;
  return 0;
}

/* ---- primary keys ------------------------------------------------------------- */

/* Row index of t whose PRIMARY KEY equals v (skipping row skip), or -1.
** A NULL key matches nothing (SQLite: NULLs are distinct). */
static int pk_find(const sl_table *t, const sl_value *v, int skip) {
  if (!t->pk || v->type == SL_NULL) return -1;
  int k = t->pk - 1, ncol = t->schema.ncol;
  for (int r = 0; r < t->nrow; r++)
    if (r != skip &&
        sl_value_compare(&t->rows[(size_t)r * (size_t)ncol + (size_t)k], v, SL_COLL_BINARY) == 0)
      return r;
  return -1;
}

/* The key of a new row (ncol values, affinity applied in place): an
** INTEGER PRIMARY KEY that is NULL becomes one more than the largest, one
** that is not an integer is an error.  0, or -1 with err. */
static int pk_prepare(const sl_table *t, sl_value *row, const sl_stmt *st, sl_err *err) {
  if (!t->ipk) return 0;
  int k = t->pk - 1, ncol = t->schema.ncol;
  sl_value *v = &row[k];
  if (v->type == SL_NULL) {
    int64_t max = 0;
    for (int r = 0; r < t->nrow; r++) {
      const sl_value *o = &t->rows[(size_t)r * (size_t)ncol + (size_t)k];
      if (o->type == SL_INTEGER && o->u.i > max) max = o->u.i;
    }
    sl_value_set_int(v, max + 1);
    return 0;
  }
  if (v->type != SL_INTEGER) {
    sl_err_setpos(err, SL_ERUNTIME, st->line, st->col, "datatype mismatch");
    return -1;
  }
  return 0;
}

/* A copy of t's rows without row `drop`, as a new array for
** sl_catalog_set_rows (*cap set). */
static sl_value *rows_without(const sl_table *t, int drop, int *cap) {
  int ncol = t->schema.ncol;
  *cap = t->nrow > 0 ? t->nrow : 1;
  sl_value *rows = sl_calloc((size_t)*cap * (size_t)(ncol ? ncol : 1), sizeof(sl_value));
  int n = 0;
  for (int r = 0; r < t->nrow; r++) {
    if (r == drop) continue;
    for (int c = 0; c < ncol; c++) {
      sl_value *d = &rows[(size_t)n * (size_t)ncol + (size_t)c];
      sl_value_copy(d, &t->rows[(size_t)r * (size_t)ncol + (size_t)c]);
      sl_value_own(d);
    }
    n++;
  }
  return rows;
}

/* Add one row (ncol values in table order, not yet with the columns'
** affinity) to the catalog's table t: its key checked (a key taken is an
** error, or with replace the old row goes).  0, or -1 with err. */
static int put_row(sluice *db, sl_table *t, sl_value *row, int replace, const sl_stmt *st,
                   sl_err *err) {
  if (t->pk) {
    int k = t->pk - 1;
    sl_value_own(&row[k]);
    sl_value_apply_affinity(&row[k], t->schema.cols[k].aff);
    if (pk_prepare(t, row, st, err)) return -1;
    int at = pk_find(t, &row[k], -1);
    if (at >= 0 && !replace) {
      sl_err_setpos(err, SL_ERUNTIME, st->line, st->col, "UNIQUE constraint failed: %s.%s", t->name,
                    t->schema.cols[k].name);
      return -1;
    }
    if (at >= 0) {
      int cap;
      sl_value *rows = rows_without(t, at, &cap);
      sl_catalog_set_rows(&db->cat, t, rows, t->nrow - 1, cap);
    }
  }
  sl_catalog_insert(&db->cat, t, row);
  return 0;
}

/* ---- the target of a write ------------------------------------------------------ */

/* The catalog table a statement writes, or NULL with err set (a view cannot
** be written, as in SQLite). */
static sl_table *target_table(sluice *db, const char *name, const sl_stmt *st, sl_err *err) {
  sl_table *t = sl_catalog_table(&db->cat, name);
  if (t) return t;
  sl_stream *s = sl_catalog_stream(&db->cat, name);
  if (s && s->view)
    sl_err_setpos(err, SL_EBIND, st->line, st->col, "cannot modify %s because it is a view", name);
  else if (s)
    sl_err_setpos(err, SL_EBIND, st->line, st->col,
                  "%s is a stream: INSERT INTO a stream's source, or SELECT ... INTO a sink", name);
  else
    sl_err_setpos(err, SL_EBIND, st->line, st->col, "no such table: %s", name);
  return NULL;
}

/* map[i] of a value whose column was listed before: the value is dropped. */
#define SKIP_VALUE (-1)

/* The column list of INSERT INTO t(a, b, ...) (call c, written with
** arguments) into map: map[i] the table column of value i (or SKIP_VALUE);
** *n how many (the table's width without a list).  0, or -1 with err. */
static int column_map(const sl_table *t, const sl_call *c, int *map, int *n, sl_err *err) {
  int ncol = t->schema.ncol;
  if (!c || c->bare || !c->args) {
    for (int i = 0; i < ncol; i++)
      map[i] = i;
    *n = ncol;
    return 0;
  }
  *n = c->args->n;
  for (int i = 0; i < c->args->n; i++) {
    const sl_expr *a = c->args->a[i];
    if (a->kind != E_COLUMN || a->tab) {
      sl_err_setpos(err, SL_EBIND, a->line, a->pos_col, "INSERT INTO %s(...) takes column names",
                    t->name);
      return -1;
    }
    map[i] = sl_schema_find(&t->schema, a->name, strlen(a->name));
    if (map[i] < 0) {
      sl_err_setpos(err, SL_EBIND, a->line, a->pos_col, "table %s has no column named %s", t->name,
                    a->name);
      return -1;
    }
  }
  /* a column listed twice takes the first value, as in SQLite */
  for (int i = 0; i < *n; i++)
    for (int j = 0; j < i; j++)
      if (map[j] == map[i]) map[i] = SKIP_VALUE;
  return 0;
}

/* Error for a row of n values into m columns, in SQLite's words. */
static void count_error(const sl_table *t, const sl_call *c, int n, int m, const sl_stmt *st,
                        sl_err *err) {
  if (!c || c->bare || !c->args)
    sl_err_setpos(err, SL_EBIND, st->line, st->col,
                  "table %s has %d columns but %d values were supplied", t->name, m, n);
  else
    sl_err_setpos(err, SL_EBIND, st->line, st->col, "%d values for %d columns", n, m);
}

/* ---- INSERT ----------------------------------------------------------------------- */

int sl_dml_insert_values(sluice *db, const sl_stmt *st, sl_err *err) {
  sl_table *t = target_table(db, st->name, st, err);
  if (!t) return -1;
  int ncol = t->schema.ncol, n;
  int *map = sl_calloc((size_t)(st->source && st->source->args ? st->source->args->n : 0) +
                           (size_t)ncol + 1,
                       sizeof(int));
  sl_value *row = sl_calloc((size_t)ncol + 1, sizeof(sl_value));
  int rc = column_map(t, st->source, map, &n, err);
  for (int r = 0; r < st->nrows && !rc; r++) {
    sl_exprlist *l = st->values[r];
    if (l->n != n) {
      count_error(t, st->source, l->n, n, st, err);
      rc = -1;
      break;
    }
    for (int c = 0; c < ncol; c++)
      sl_value_free(&row[c]); /* columns not listed are NULL */
    for (int i = 0; i < n && !rc; i++) {
      if (map[i] == SKIP_VALUE) continue;
      sl_value *d = &row[map[i]];
      sl_value_free(d);
      if (l->lit) { /* a row of literals, kept as values by the parser */
        sl_value_copy(d, &l->lit[i]);
        continue;
      }
      sl_bind b = {.funcs = db->cat.funcs, .err = err};
      if (sl_bind_expr(&b, l->a[i]) || sl_expr_eval_const(l->a[i], d, err)) rc = -1;
    }
    if (!rc) rc = put_row(db, t, row, st->or_replace, st, err);
  }
  for (int c = 0; c < ncol; c++)
    sl_value_free(&row[c]);
  free(row);
  free(map);
  return rc;
}

int sl_dml_writes_table(sluice *db, const sl_stmt *st) {
  const sl_call *into = st->kind == S_SELECT && st->select ? st->select->into : NULL;
  if (!into) return 0;
  if (sl_catalog_table(&db->cat, into->name)) return 1;
  const sl_stream *s = sl_catalog_stream(&db->cat, into->name);
  return s && s->view;
}

int sl_dml_insert_select(sluice *db, const sl_stmt *st, sl_err *err) {
  const sl_call *into = st->select->into;
  sl_table *t = target_table(db, into->name, st, err);
  if (!t) return -1;
  int ncol = t->schema.ncol, n;
  int *map = sl_calloc((size_t)(into->args ? into->args->n : 0) + (size_t)ncol + 1, sizeof(int));
  int rc = column_map(t, into, map, &n, err);
  rowbuf b = {0};
  sl_schema out;
  sl_schema_init(&out, 0);
  if (!rc) rc = sl_engine_run_select(db, st, collect_row, &b, &out, err);
  if (!rc && out.ncol != n) {
    count_error(t, into, out.ncol, n, st, err);
    rc = -1;
  }
  sl_value *row = sl_calloc((size_t)ncol + 1, sizeof(sl_value));
  for (int r = 0; r < b.nrow && !rc; r++) {
    for (int c = 0; c < ncol; c++)
      sl_value_free(&row[c]);
    for (int i = 0; i < n; i++)
      if (map[i] != SKIP_VALUE)
        sl_value_copy(&row[map[i]], &b.v[(size_t)r * (size_t)n + (size_t)i]);
    rc = put_row(db, t, row, st->or_replace, st, err);
  }
  for (int c = 0; c < ncol; c++)
    sl_value_free(&row[c]);
  free(row);
  rowbuf_free(&b);
  sl_schema_free(&out);
  free(map);
  return rc;
}

/* ---- CREATE TABLE ... AS SELECT ------------------------------------------------- */

/* The declared type SQLite gives a column of CREATE TABLE AS for an
** expression affinity. */
static const char *aff_typename(sl_affinity a) {
  switch (a) {
  case SL_AFF_INTEGER: return "INT";
  case SL_AFF_REAL: return "REAL";
  case SL_AFF_TEXT: return "TEXT";
  case SL_AFF_NUMERIC: return "NUM";
  default: return NULL;
  }
}

int sl_dml_create_table_as(sluice *db, const sl_stmt *st, sl_err *err) {
  rowbuf b = {0};
  sl_schema out;
  sl_schema_init(&out, 0);
  sl_stmt tmp = *st;
  tmp.kind = S_SELECT;
  int rc = sl_engine_run_select(db, &tmp, collect_row, &b, &out, err);
  if (!rc) {
    sl_table *t = sl_catalog_add_table(&db->cat, st->name);
    t->sql = sl_strndup(st->sql, (size_t)st->sqllen);
    for (int i = 0; i < out.ncol; i++) {
      /* a name taken by an earlier column gets ":1", ":2"... as in SQLite */
      char *name = sl_strdup(out.cols[i].name);
      for (int k = 1; sl_schema_find(&t->schema, name, strlen(name)) >= 0; k++) {
        free(name);
        name = sl_mprintf("%s:%d", out.cols[i].name, k);
      }
      sl_schema_add(&t->schema, name, strlen(name), aff_typename(out.cols[i].aff));
      free(name);
    }
    for (int r = 0; r < b.nrow; r++)
      sl_catalog_insert(&db->cat, t, b.v + (size_t)r * (size_t)out.ncol);
  }
  rowbuf_free(&b);
  sl_schema_free(&out);
  return rc;
}

/* ---- UPDATE and DELETE ------------------------------------------------------------ */

/* Bind e against t's columns.  0, or -1 with err. */
static int bind_to_table(sluice *db, sl_table *t, sl_expr *e, sl_err *err) {
  sl_bind b = {.schema = &t->schema, .srcname = t->name, .funcs = db->cat.funcs, .err = err};
  return sl_bind_expr(&b, e);
}

/* UPDATE (del 0) or DELETE (del 1): one program (WHERE, then the SET
** values) run over each row; the new rows replace the old at once.  0, or
** -1 with err set (the table unchanged). */
static int update_or_delete(sluice *db, const sl_stmt *st, int del, sl_err *err) {
  sl_table *t = target_table(db, st->name, st, err);
  if (!t) return -1;
  int ncol = t->schema.ncol, nset = del || !st->sets ? 0 : st->sets->n;
  int *setcol = sl_calloc((size_t)nset + 1, sizeof(int));
  sl_expr **exprs = sl_calloc((size_t)nset + 1, sizeof(sl_expr *));
  int rc = 0;
  for (int i = 0; i < nset && !rc; i++) {
    const char *name = st->sets->names[i];
    setcol[i] = sl_schema_find(&t->schema, name, strlen(name));
    if (setcol[i] < 0) {
      sl_err_setpos(err, SL_EBIND, st->sets->a[i]->line, st->sets->a[i]->pos_col,
                    "no such column: %s", name);
      rc = -1;
      break;
    }
    exprs[i] = st->sets->a[i];
    rc = bind_to_table(db, t, exprs[i], err);
  }
  if (!rc && st->where) rc = bind_to_table(db, t, st->where, err);
  sl_program *prog = rc ? NULL : sl_plan_row_program(st->where, exprs, nset, 0, err);
  if (!rc && !prog) rc = -1;
  int cap = t->nrow > 0 ? t->nrow : 1, n = 0, changed = 0;
  sl_value *rows = NULL;
  if (!rc) {
    rows = sl_calloc((size_t)cap * (size_t)(ncol ? ncol : 1), sizeof(sl_value));
    sl_vm vm;
    sl_vm_init(&vm, prog);
    for (int r = 0; r < t->nrow && !rc; r++) {
      sl_value *old = t->rows + (size_t)r * (size_t)ncol;
      int v = sl_vm_run(&vm, old);
      if (v == SL_VM_ERROR) {
        sl_err_setpos(err, SL_ERUNTIME, st->line, st->col, "%s",
                      vm.errmsg.z ? vm.errmsg.z : "error");
        rc = -1;
        break;
      }
      if (v == SL_VM_ROW && del) { /* deleted */
        changed++;
        continue;
      }
      sl_value *dst = rows + (size_t)n * (size_t)ncol;
      for (int c = 0; c < ncol; c++) {
        sl_value_copy(&dst[c], &old[c]);
        sl_value_own(&dst[c]);
      }
      if (v == SL_VM_ROW) { /* updated: the last assignment of a column wins */
        changed++;
        for (int i = 0; i < nset; i++) {
          sl_value *d = &dst[setcol[i]];
          sl_value_copy(d, &vm.reg[prog->result_reg + i]);
          sl_value_own(d);
          sl_value_apply_affinity(d, t->schema.cols[setcol[i]].aff);
        }
      }
      n++;
    }
    sl_vm_free(&vm);
  }
  /* An UPDATE may not give two rows the same key, nor an INTEGER PRIMARY
  ** KEY something else than an integer. */
  if (!rc && !del && t->pk && changed) {
    int k = t->pk - 1;
    for (int r = 0; r < n && !rc; r++) {
      const sl_value *v = &rows[(size_t)r * (size_t)ncol + (size_t)k];
      if (t->ipk && v->type != SL_INTEGER) {
        sl_err_setpos(err, SL_ERUNTIME, st->line, st->col, "datatype mismatch");
        rc = -1;
      }
      for (int q = 0; q < r && !rc && v->type != SL_NULL; q++)
        if (sl_value_compare(&rows[(size_t)q * (size_t)ncol + (size_t)k], v, SL_COLL_BINARY) == 0) {
          sl_err_setpos(err, SL_ERUNTIME, st->line, st->col, "UNIQUE constraint failed: %s.%s",
                        t->name, t->schema.cols[k].name);
          rc = -1;
        }
    }
  }
  if (!rc && changed) {
    sl_catalog_set_rows(&db->cat, t, rows, n, cap);
    rows = NULL;
  }
  if (rows) {
    for (int i = 0; i < cap * ncol; i++)
      sl_value_free(&rows[i]);
    free(rows);
  }
  sl_program_free(prog);
  free(exprs);
  free(setcol);
  return rc;
}

int sl_dml_update(sluice *db, const sl_stmt *st, sl_err *err) {
  return update_or_delete(db, st, 0, err);
}

int sl_dml_delete(sluice *db, const sl_stmt *st, sl_err *err) {
  return update_or_delete(db, st, 1, err);
}
