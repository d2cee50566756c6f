/*
** catalog.c - named streams, tables and settings of an engine (catalog.h).
** Lists are short (a handful of objects), so they are plain linked lists.
**
** The savepoint's journal is a stack of undo entries, the latest first:
** each change made while c->saving records the one entry that reverses
** it, and a rollback pops and applies them.  Nothing an entry refers to is
** freed before the savepoint closes: a dropped object waits in its entry,
** and model slots and versions keep a reference there.
*/
#include "catalog.h"
#include "extension.h"
#include "model.h"

#include <ctype.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

void sl_catalog_init(sl_catalog *c) {
  memset(c, 0, sizeof *c);
  c->funcs = sl_functab_new();
  sl_functab_add_all(c->funcs, sl_builtin_core);
  sl_functab_add_all(c->funcs, sl_builtin_printf);
  sl_functab_add_all(c->funcs, sl_builtin_json);
  sl_functab_add_all(c->funcs, sl_builtin_date);
  sl_functab_add_all(c->funcs, sl_builtin_flink);
  sl_functab_add_all(c->funcs, sl_builtin_window);
  sl_functab_add_all(c->funcs, sl_builtin_aggregate);
  sl_functab_add_all(c->funcs, sl_builtin_model);
}

void sl_table_free(sl_table *t) {
  if (!t) return;
  for (int i = 0; i < t->nrow * t->schema.ncol; i++)
    sl_value_free(&t->rows[i]);
  free(t->rows);
  sl_schema_free(&t->schema);
  free(t->name);
  free(t->sql);
  free(t);
}

/* Free nrow rows of ncol values and their array. */
static void rows_free(sl_value *rows, int nrow, int ncol) {
  for (int i = 0; i < nrow * ncol; i++)
    sl_value_free(&rows[i]);
  free(rows);
}

static void stream_free(sl_stream *s) {
  sl_schema_free(&s->schema);
  free(s->name);
  free(s);
}

/* ---- the journal ------------------------------------------------------------ */

typedef enum undo_kind {
  U_ADD_TABLE,   /* obj: the table added */
  U_DROP_TABLE,  /* obj: the table dropped (owned here), at: its position in the list */
  U_ROWS,        /* obj: the table, at: its row count before */
  U_ADD_STREAM,  /* obj: the stream added */
  U_DROP_STREAM, /* obj: the stream dropped (owned here), at: its position */
  U_ADD_MODEL,   /* obj: the slot added */
  U_DROP_MODEL,  /* obj: the slot dropped (the catalog's reference), at: its index */
  U_SWAP_MODEL,  /* obj: the slot (a reference), model: the version swapped out (a
                    reference), at: its number */
  U_TRAINING,    /* obj: the slot (a reference), state: its learning state, at: its version */
  U_SET,         /* name, value: the old value, at: its position + 1 if it existed, else 0 */
  U_FUNC,        /* func: the descriptor added, old_func: the one it replaced, or NULL */
  U_EXT,         /* obj: the extension loaded */
  U_UNDONE,      /* applied by a rollback: holds nothing any more */
  U_SET_ROWS,    /* obj: the table, rows/nrow/cap: its rows before (owned here), at: ncol */
} undo_kind;

struct sl_undo {
  undo_kind kind;
  int at;
  void *obj;
  sl_model *model;
  const sl_func *func, *old_func;
  char *name;
  sl_value value;
  sl_buf state;
  sl_undo *next;
  sl_value *rows; /* U_SET_ROWS */
  int nrow, cap;
};

/* A new entry of kind k on top of c's journal, or NULL when no savepoint is
** open (nothing to record). */
static sl_undo *journal(sl_catalog *c, undo_kind k, void *obj) {
  if (!c->saving) return NULL;
  sl_undo *u = sl_calloc(1, sizeof *u);
  u->kind = k;
  u->obj = obj;
  u->next = c->journal;
  c->journal = u;
  return u;
}

/* Free an entry and what it still holds: the objects a drop moved aside,
** the references to slots and to versions swapped out. */
static void undo_free(sl_undo *u) {
  switch (u->kind) {
  case U_DROP_TABLE: sl_table_free(u->obj); break;
  case U_DROP_STREAM: stream_free(u->obj); break;
  case U_DROP_MODEL: sl_model_slot_release(u->obj); break;
  case U_SWAP_MODEL:
    sl_model_release(u->model);
    sl_model_slot_release(u->obj);
    break;
  case U_TRAINING: sl_model_slot_release(u->obj); break;
  case U_SET_ROWS: rows_free(u->rows, u->nrow, u->at); break; /* the table may be gone */
  default: break;
  }
  free(u->name);
  sl_value_free(&u->value);
  sl_buf_free(&u->state);
  free(u);
}

/* Put p at position at of a list (through the next field at offset off). */
static void list_insert(void **head, void *p, int at, size_t off) {
  void **pp = head;
  for (int i = 0; i < at && *pp; i++)
    pp = (void **)((char *)*pp + off);
  *(void **)((char *)p + off) = *pp;
  *pp = p;
}

/* Take p out of a list (through the next field at offset off). */
static void list_unlink(void **head, void *p, size_t off) {
  for (void **pp = head; *pp; pp = (void **)((char *)*pp + off))
    if (*pp == p) {
      *pp = *(void **)((char *)p + off);
      return;
    }
}

/* Reverse one change; the entry holds nothing afterwards (undo_free then
** frees only the entry itself). */
static void undo_one(sl_catalog *c, sl_undo *u) {
  switch (u->kind) {
  case U_ADD_TABLE:
    list_unlink((void **)&c->tables, u->obj, offsetof(sl_table, next));
    sl_table_free(u->obj);
    break;
  case U_DROP_TABLE:
    list_insert((void **)&c->tables, u->obj, u->at, offsetof(sl_table, next));
    break;
  case U_ROWS: {
    sl_table *t = u->obj;
    for (int i = u->at * t->schema.ncol; i < t->nrow * t->schema.ncol; i++)
      sl_value_free(&t->rows[i]);
    t->nrow = u->at;
    break;
  }
  case U_ADD_STREAM:
    list_unlink((void **)&c->streams, u->obj, offsetof(sl_stream, next));
    stream_free(u->obj);
    break;
  case U_DROP_STREAM:
    list_insert((void **)&c->streams, u->obj, u->at, offsetof(sl_stream, next));
    break;
  case U_ADD_MODEL:
    for (int i = 0; i < c->nmodel; i++)
      if (c->models[i] == u->obj) {
        memmove(c->models + i, c->models + i + 1, sizeof(*c->models) * (size_t)(c->nmodel - i - 1));
        c->nmodel--;
        break;
      }
    sl_model_slot_release(u->obj);
    break;
  case U_DROP_MODEL:
    c->models = sl_realloc(c->models, sizeof(*c->models) * (size_t)(c->nmodel + 1));
    memmove(c->models + u->at + 1, c->models + u->at,
            sizeof(*c->models) * (size_t)(c->nmodel - u->at));
    c->models[u->at] = u->obj;
    c->nmodel++;
    break;
  case U_SWAP_MODEL:
    sl_model_slot_restore(u->obj, u->model, u->at);
    u->model = NULL;
    sl_model_slot_release(u->obj);
    break;
  case U_TRAINING: {
    sl_model_slot *s = u->obj;
    pthread_mutex_lock(&s->mu);
    int trained = s->version != u->at;
    pthread_mutex_unlock(&s->mu);
    sl_err e = {0};
    /* the bytes are this trainer's own: they always fit */
    if (trained) {
      sl_trainer_restore(s->trainer, u->state.z, u->state.n, &e);
      sl_trainer_forget_after(s->trainer, u->at);
    }
    sl_err_clear(&e);
    sl_model_slot_release(s);
    break;
  }
  case U_SET: {
    sl_setting **pp = &c->settings;
    while (*pp && sl_stricmp((*pp)->name, u->name))
      pp = &(*pp)->next;
    sl_setting *st = *pp;
    if (st && u->at) { /* it had a value: back to it */
      sl_value_copy(&st->value, &u->value);
      sl_value_own(&st->value);
    } else if (st) { /* it was added */
      *pp = st->next;
      sl_value_free(&st->value);
      free(st->name);
      free(st);
    } else if (u->at) { /* it was removed: back in its place */
      st = sl_calloc(1, sizeof *st);
      st->name = u->name; /* already lower case */
      u->name = NULL;
      sl_value_copy(&st->value, &u->value);
      sl_value_own(&st->value);
      list_insert((void **)&c->settings, st, u->at - 1, offsetof(sl_setting, next));
    }
    break;
  }
  case U_FUNC:
    if (u->old_func)
      sl_functab_put(c->funcs, u->old_func); /* it takes u->func's place again */
    else
      sl_functab_take(c->funcs, u->func);
    break;
  case U_EXT: sl_ext_unload(c, u->obj); break;
  case U_SET_ROWS: {
    sl_table *t = u->obj;
    rows_free(t->rows, t->nrow, t->schema.ncol);
    t->rows = u->rows;
    t->nrow = u->nrow;
    t->cap = u->cap;
    u->rows = NULL;
    break;
  }
  case U_UNDONE: break;
  }
  u->kind = U_UNDONE; /* what it held is back in the catalog, or freed */
}

void sl_catalog_savepoint(sl_catalog *c) {
  c->saving = 1;
}

void sl_catalog_rollback(sl_catalog *c) {
  while (c->journal) {
    sl_undo *u = c->journal;
    c->journal = u->next;
    undo_one(c, u);
    undo_free(u);
  }
  c->saving = 0;
}

void sl_catalog_release(sl_catalog *c) {
  while (c->journal) {
    sl_undo *u = c->journal;
    c->journal = u->next;
    undo_free(u);
  }
  c->saving = 0;
}

sl_model_slot *sl_catalog_model(sl_catalog *c, const char *name) {
  for (int i = 0; i < c->nmodel; i++)
    if (sl_stricmp(c->models[i]->name, name) == 0) return c->models[i];
  return NULL;
}

void sl_catalog_put_model(sl_catalog *c, const char *name, sl_model *m) {
  sl_model_slot *s = sl_catalog_model(c, name);
  if (!s) {
    sl_catalog_add_model(c, sl_model_slot_new(name, m));
    return;
  }
  if (!c->saving) {
    sl_model_slot_swap(s, m);
    return;
  }
  sl_undo *u = journal(c, U_SWAP_MODEL, s);
  sl_model_slot_retain(s);
  u->model = sl_model_slot_replace(s, m, &u->at);
}

void sl_catalog_add_model(sl_catalog *c, sl_model_slot *s) {
  c->models = sl_realloc(c->models, sizeof(*c->models) * (size_t)(c->nmodel + 1));
  c->models[c->nmodel++] = s;
  journal(c, U_ADD_MODEL, s);
}

int sl_catalog_drop_model(sl_catalog *c, const char *name) {
  for (int i = 0; i < c->nmodel; i++)
    if (sl_stricmp(c->models[i]->name, name) == 0) {
      sl_model_slot *s = c->models[i];
      memmove(c->models + i, c->models + i + 1, sizeof(*c->models) * (size_t)(c->nmodel - i - 1));
      c->nmodel--;
      sl_undo *u = journal(c, U_DROP_MODEL, s); /* keeps the catalog's reference */
      if (u)
        u->at = i;
      else
        sl_model_slot_release(s);
      return 1;
    }
  return 0;
}

void sl_catalog_note_training(sl_catalog *c, sl_model_slot *s) {
  if (!c->saving || !s->trainer) return;
  for (sl_undo *u = c->journal; u; u = u->next)
    if (u->obj == s && (u->kind == U_TRAINING || u->kind == U_ADD_MODEL))
      return; /* saved already, or made since the savepoint (a rollback drops it) */
  sl_undo *u = journal(c, U_TRAINING, s);
  sl_model_slot_retain(s);
  sl_buf_init(&u->state);
  pthread_mutex_lock(&s->mu);
  u->at = s->version;
  pthread_mutex_unlock(&s->mu);
  sl_trainer_save(s->trainer, &u->state);
}

void sl_catalog_add_func(sl_catalog *c, const sl_func *f) {
  if (!c->saving) {
    sl_functab_add(c->funcs, f);
    return;
  }
  sl_undo *u = journal(c, U_FUNC, NULL);
  u->func = f;
  u->old_func = sl_functab_put(c->funcs, f);
}

void sl_catalog_note_ext(sl_catalog *c, struct sluice_ext *x) {
  journal(c, U_EXT, x);
}

void sl_catalog_free(sl_catalog *c) {
  sl_catalog_release(c); /* what a drop set aside */
  for (int i = 0; i < c->nmodel; i++)
    sl_model_slot_release(c->models[i]);
  free(c->models);
  while (c->tables) {
    sl_table *n = c->tables->next;
    sl_table_free(c->tables);
    c->tables = n;
  }
  while (c->streams) {
    sl_stream *n = c->streams->next;
    stream_free(c->streams);
    c->streams = n;
  }
  while (c->settings) {
    sl_setting *n = c->settings->next;
    sl_value_free(&c->settings->value);
    free(c->settings->name);
    free(c->settings);
    c->settings = n;
  }
  sl_functab_free(c->funcs);
  c->funcs = NULL;
  sl_ext_free_all(c->exts); /* after the table: it points at their descriptors */
  c->exts = NULL;
}

sl_table *sl_catalog_table(sl_catalog *c, const char *name) {
  for (sl_table *t = c->tables; t; t = t->next)
    if (sl_stricmp(t->name, name) == 0) return t;
  return NULL;
}

sl_stream *sl_catalog_stream(sl_catalog *c, const char *name) {
  for (sl_stream *s = c->streams; s; s = s->next)
    if (sl_stricmp(s->name, name) == 0) return s;
  return NULL;
}

sl_table *sl_catalog_add_table(sl_catalog *c, const char *name) {
  sl_table *t = sl_calloc(1, sizeof *t);
  t->name = sl_strdup(name);
  sl_schema_init(&t->schema, 0);
  t->next = c->tables;
  c->tables = t;
  journal(c, U_ADD_TABLE, t);
  return t;
}

sl_stream *sl_catalog_add_stream(sl_catalog *c, const char *name, const sl_stmt *def) {
  sl_stream *s = sl_calloc(1, sizeof *s);
  s->name = sl_strdup(name);
  s->def = def;
  sl_schema_init(&s->schema, 0);
  /* Keep definition order: append. */
  sl_stream **pp = &c->streams;
  while (*pp)
    pp = &(*pp)->next;
  *pp = s;
  journal(c, U_ADD_STREAM, s);
  return s;
}

int sl_catalog_drop_table(sl_catalog *c, const char *name) {
  int at = 0;
  for (sl_table **pp = &c->tables; *pp; pp = &(*pp)->next, at++) {
    if (sl_stricmp((*pp)->name, name) == 0) {
      sl_table *t = *pp;
      *pp = t->next;
      sl_undo *u = journal(c, U_DROP_TABLE, t); /* set aside until the savepoint closes */
      if (u)
        u->at = at;
      else
        sl_table_free(t);
      return 1;
    }
  }
  return 0;
}

int sl_catalog_drop_stream(sl_catalog *c, const char *name) {
  int at = 0;
  for (sl_stream **pp = &c->streams; *pp; pp = &(*pp)->next, at++) {
    if (sl_stricmp((*pp)->name, name) == 0) {
      sl_stream *s = *pp;
      *pp = s->next;
      sl_undo *u = journal(c, U_DROP_STREAM, s);
      if (u)
        u->at = at;
      else
        stream_free(s);
      return 1;
    }
  }
  return 0;
}

void sl_catalog_set(sl_catalog *c, const char *name, const sl_value *v) {
  sl_setting **pp = &c->settings;
  int pos = 1;
  for (; *pp && sl_stricmp((*pp)->name, name); pp = &(*pp)->next)
    pos++;
  sl_setting *s = *pp;
  if (!s && !v) return; /* nothing to remove */
  sl_undo *u = journal(c, U_SET, NULL);
  if (u) {
    u->name = sl_strdup(name);
    for (char *p = u->name; *p; p++)
      *p = (char)tolower((unsigned char)*p);
    u->at = s ? pos : 0;
    if (s) {
      sl_value_copy(&u->value, &s->value);
      sl_value_own(&u->value);
    }
  }
  if (!v) { /* remove it */
    *pp = s->next;
    sl_value_free(&s->value);
    free(s->name);
    free(s);
    return;
  }
  if (!s) {
    s = sl_calloc(1, sizeof *s);
    s->name = sl_strdup(name);
    for (char *p = s->name; *p; p++)
      *p = (char)tolower((unsigned char)*p);
    s->next = c->settings;
    c->settings = s;
  }
  sl_value_copy(&s->value, v);
  sl_value_own(&s->value);
}

const sl_value *sl_catalog_get(sl_catalog *c, const char *name) {
  for (sl_setting *s = c->settings; s; s = s->next)
    if (sl_stricmp(s->name, name) == 0) return &s->value;
  return NULL;
}

void sl_catalog_insert(sl_catalog *c, sl_table *t, sl_value *row) {
  sl_undo *top = c->journal;
  if (c->saving && !(top && top->kind == U_ROWS && top->obj == t))
    journal(c, U_ROWS, t)->at = t->nrow;
  sl_table_insert(t, row);
}

void sl_catalog_set_rows(sl_catalog *c, sl_table *t, sl_value *rows, int nrow, int cap) {
  sl_undo *u = journal(c, U_SET_ROWS, t);
  if (u) {
    u->rows = t->rows;
    u->nrow = t->nrow;
    u->cap = t->cap;
    u->at = t->schema.ncol;
  } else {
    rows_free(t->rows, t->nrow, t->schema.ncol);
  }
  t->rows = rows;
  t->nrow = nrow;
  t->cap = cap;
}

void sl_table_insert(sl_table *t, sl_value *row) {
  int ncol = t->schema.ncol;
  if (t->nrow == t->cap) {
    t->cap = t->cap ? t->cap * 2 : 16;
    t->rows = sl_realloc(t->rows, sizeof(sl_value) * (size_t)t->cap * (size_t)ncol);
  }
  sl_value *dst = t->rows + (size_t)t->nrow * (size_t)ncol;
  for (int i = 0; i < ncol; i++) {
    memset(&dst[i], 0, sizeof dst[i]);
    sl_value_copy(&dst[i], &row[i]);
    sl_value_own(&dst[i]);
    sl_value_apply_affinity(&dst[i], t->schema.cols[i].aff);
  }
  t->nrow++;
}
