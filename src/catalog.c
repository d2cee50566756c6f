/*
** catalog.c - named streams, tables and settings of an engine (catalog.h).
** Lists are short (a handful of objects), so they are plain linked lists.
*/
#include "catalog.h"
#include "extension.h"
#include "model.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

void sl_catalog_init(sl_catalog *c) {
  memset(c, 0, sizeof *c);
  c->funcs = sl_functab_new();
  sl_functab_add_all(c->funcs, sl_builtin_core);
  sl_functab_add_all(c->funcs, sl_builtin_printf);
  sl_functab_add_all(c->funcs, sl_builtin_json);
  sl_functab_add_all(c->funcs, sl_builtin_aggregate);
  sl_functab_add_all(c->funcs, sl_builtin_model);
}

void sl_table_free(sl_table *t) {
  for (int i = 0; i < t->nrow * t->schema.ncol; i++)
    sl_value_free(&t->rows[i]);
  free(t->rows);
  sl_schema_free(&t->schema);
  free(t->name);
  free(t);
}

static void stream_free(sl_stream *s) {
  sl_schema_free(&s->schema);
  free(s->name);
  free(s);
}

sl_model_slot *sl_catalog_model(sl_catalog *c, const char *name) {
  for (int i = 0; i < c->nmodel; i++)
    if (sl_stricmp(c->models[i]->name, name) == 0) return c->models[i];
  return NULL;
}

void sl_catalog_put_model(sl_catalog *c, const char *name, sl_model *m) {
  sl_model_slot *s = sl_catalog_model(c, name);
  if (s) {
    sl_model_slot_swap(s, m);
    return;
  }
  sl_catalog_add_model(c, sl_model_slot_new(name, m));
}

void sl_catalog_add_model(sl_catalog *c, sl_model_slot *s) {
  c->models = sl_realloc(c->models, sizeof(*c->models) * (size_t)(c->nmodel + 1));
  c->models[c->nmodel++] = s;
}

int sl_catalog_drop_model(sl_catalog *c, const char *name) {
  for (int i = 0; i < c->nmodel; i++)
    if (sl_stricmp(c->models[i]->name, name) == 0) {
      sl_model_slot_release(c->models[i]);
      memmove(c->models + i, c->models + i + 1, sizeof(*c->models) * (size_t)(c->nmodel - i - 1));
      c->nmodel--;
      return 1;
    }
  return 0;
}

void sl_catalog_free(sl_catalog *c) {
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
  return s;
}

int sl_catalog_drop_table(sl_catalog *c, const char *name) {
  for (sl_table **pp = &c->tables; *pp; pp = &(*pp)->next) {
    if (sl_stricmp((*pp)->name, name) == 0) {
      sl_table *t = *pp;
      *pp = t->next;
      sl_table_free(t);
      return 1;
    }
  }
  return 0;
}

int sl_catalog_drop_stream(sl_catalog *c, const char *name) {
  for (sl_stream **pp = &c->streams; *pp; pp = &(*pp)->next) {
    if (sl_stricmp((*pp)->name, name) == 0) {
      sl_stream *s = *pp;
      *pp = s->next;
      stream_free(s);
      return 1;
    }
  }
  return 0;
}

void sl_catalog_set(sl_catalog *c, const char *name, const sl_value *v) {
  sl_setting *s;
  for (s = c->settings; s; s = s->next)
    if (sl_stricmp(s->name, name) == 0) break;
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
