/*
** avro_schema.c - Avro schemas (JSON) compiled into av_type trees, and
** the resolution of a writer schema against a reader schema (avro.h).
**
** A schema's text is first validated by avro-c (avro_schema_from_json_length,
** Debian's libavro), whose messages say what is wrong; then read again with
** cJSON into our own nodes, which keep what avro-c drops: field defaults
** (as JSON text) and aliases.  Named types (records, enums, fixed) are looked
** up by full name, so recursive types are graphs, not infinite trees.
*/
#include <avro.h>
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "avro_types.h"
#include "json.h"

#define MAX_SCHEMA_DEPTH 64

typedef struct parser {
  av_schema *s;
  sl_err *err;
} parser;

/* A new node owned by the schema. */
static av_type *new_type(av_schema *s, av_kind k) {
  av_type *t = sl_calloc(1, sizeof *t);
  t->kind = k;
  t->enum_dflt = -1;
  t->null_branch = -1;
  if (s->nall == s->cap) {
    s->cap = s->cap ? 2 * s->cap : 16;
    s->all = sl_realloc(s->all, sizeof(*s->all) * (size_t)s->cap);
  }
  s->all[s->nall++] = t;
  return t;
}

static const struct {
  const char *name;
  av_kind kind;
} primitives[] = {{"null", AV_NULL},   {"boolean", AV_BOOLEAN}, {"int", AV_INT},
                  {"long", AV_LONG},   {"float", AV_FLOAT},     {"double", AV_DOUBLE},
                  {"bytes", AV_BYTES}, {"string", AV_STRING}};

/* The named type called name (full, or relative to namespace ns), or NULL. */
static av_type *find_named(av_schema *s, const char *name, const char *ns) {
  char buf[512];
  if (!strchr(name, '.') && ns && *ns) {
    snprintf(buf, sizeof buf, "%s.%s", ns, name);
    for (int i = 0; i < s->nall; i++)
      if (s->all[i]->name && !strcmp(s->all[i]->name, buf)) return s->all[i];
  }
  for (int i = 0; i < s->nall; i++)
    if (s->all[i]->name && !strcmp(s->all[i]->name, name)) return s->all[i];
  return NULL;
}

/* The full name of a named type declared as j in namespace ns (owned). */
static char *full_name(const cJSON *j, const char *ns) {
  const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "name"));
  const char *space = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "namespace"));
  if (!name) return NULL;
  if (strchr(name, '.')) return sl_strdup(name);
  if (space) ns = space;
  return ns && *ns ? sl_mprintf("%s.%s", ns, name) : sl_strdup(name);
}

static av_type *parse_type(parser *p, const cJSON *j, const char *ns, int depth);

/* Minified JSON text of j (owned). */
static char *json_text(const cJSON *j) {
  char *t = cJSON_PrintUnformatted(j);
  char *r = sl_strdup(t ? t : "null");
  cJSON_free(t);
  return r;
}

/* The fields of record t (declared as j); t, or NULL with p->err set. */
static av_type *parse_record(parser *p, av_type *t, const cJSON *j, int depth) {
  const cJSON *fields = cJSON_GetObjectItemCaseSensitive(j, "fields");
  if (!cJSON_IsArray(fields)) {
    sl_err_set(p->err, SL_EBIND, "Avro schema: record %s has no fields array", t->name);
    return NULL;
  }
  /* the namespace of the record's own name */
  char *ns = sl_strdup(t->name);
  char *dot = strrchr(ns, '.');
  if (dot)
    *dot = 0;
  else
    ns[0] = 0;
  t->n = cJSON_GetArraySize(fields);
  t->fields = sl_calloc((size_t)(t->n ? t->n : 1), sizeof(av_field));
  int i = 0;
  const cJSON *f;
  cJSON_ArrayForEach(f, fields) {
    av_field *af = &t->fields[i++];
    const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(f, "name"));
    af->name = sl_strdup(name ? name : "");
    const cJSON *al = cJSON_GetObjectItemCaseSensitive(f, "aliases");
    if (cJSON_IsArray(al)) {
      af->alias = sl_calloc((size_t)cJSON_GetArraySize(al) + 1, sizeof(char *));
      const cJSON *a;
      cJSON_ArrayForEach(a, al) if (cJSON_IsString(a)) af->alias[af->nalias++] =
          sl_strdup(a->valuestring);
    }
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(f, "default");
    if (d) af->dflt = json_text(d);
    af->type = parse_type(p, cJSON_GetObjectItemCaseSensitive(f, "type"), ns, depth + 1);
    if (!af->type) {
      free(ns);
      return NULL;
    }
  }
  free(ns);
  return t;
}

/* Parse the schema j in namespace ns; NULL with p->err set. */
static av_type *parse_type(parser *p, const cJSON *j, const char *ns, int depth) {
  if (depth > MAX_SCHEMA_DEPTH) {
    sl_err_set(p->err, SL_EBIND, "Avro schema nested deeper than %d levels", MAX_SCHEMA_DEPTH);
    return NULL;
  }
  if (!j) {
    sl_err_set(p->err, SL_EBIND, "Avro schema: a type is missing");
    return NULL;
  }
  if (cJSON_IsArray(j)) {
    av_type *t = new_type(p->s, AV_UNION);
    t->n = cJSON_GetArraySize(j);
    t->branch = sl_calloc((size_t)(t->n ? t->n : 1), sizeof(av_type *));
    int i = 0;
    const cJSON *b;
    cJSON_ArrayForEach(b, j) {
      if (!(t->branch[i] = parse_type(p, b, ns, depth + 1))) return NULL;
      if (t->branch[i]->kind == AV_NULL && t->null_branch < 0) t->null_branch = i;
      i++;
    }
    return t;
  }
  const char *tn = cJSON_IsString(j)
                       ? j->valuestring
                       : cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "type"));
  if (!tn) {
    if (cJSON_IsObject(j) && cJSON_GetObjectItemCaseSensitive(j, "type"))
      return parse_type(p, cJSON_GetObjectItemCaseSensitive(j, "type"), ns, depth + 1);
    sl_err_set(p->err, SL_EBIND, "Avro schema: a type must be a name, an object or a union");
    return NULL;
  }
  for (size_t k = 0; k < SL_ARRAY_SIZE(primitives); k++)
    if (!strcmp(tn, primitives[k].name)) return new_type(p->s, primitives[k].kind);
  if (cJSON_IsString(j) || (strcmp(tn, "record") && strcmp(tn, "error") && strcmp(tn, "enum") &&
                            strcmp(tn, "array") && strcmp(tn, "map") && strcmp(tn, "fixed"))) {
    av_type *t = find_named(p->s, tn, ns);
    if (!t) sl_err_set(p->err, SL_EBIND, "Avro schema: unknown type '%s'", tn);
    return t;
  }
  if (!strcmp(tn, "array") || !strcmp(tn, "map")) {
    av_type *t = new_type(p->s, tn[0] == 'a' ? AV_ARRAY : AV_MAP);
    t->items = parse_type(p, cJSON_GetObjectItemCaseSensitive(j, tn[0] == 'a' ? "items" : "values"),
                          ns, depth + 1);
    return t->items ? t : NULL;
  }
  av_kind k = !strcmp(tn, "enum") ? AV_ENUM : !strcmp(tn, "fixed") ? AV_FIXED : AV_RECORD;
  av_type *t = new_type(p->s, k);
  t->name = full_name(j, ns);
  if (!t->name) {
    sl_err_set(p->err, SL_EBIND, "Avro schema: a %s without a name", tn);
    return NULL;
  }
  const char *dot = strrchr(t->name, '.');
  t->sname = dot ? dot + 1 : t->name;
  if (k == AV_FIXED) {
    const cJSON *sz = cJSON_GetObjectItemCaseSensitive(j, "size");
    if (!cJSON_IsNumber(sz) || sz->valuedouble < 0 || sz->valuedouble > (1 << 24)) {
      sl_err_set(p->err, SL_EBIND, "Avro schema: fixed %s needs a size", t->name);
      return NULL;
    }
    t->size = (int64_t)sz->valuedouble;
    return t;
  }
  if (k == AV_ENUM) {
    const cJSON *syms = cJSON_GetObjectItemCaseSensitive(j, "symbols");
    t->n = cJSON_GetArraySize(syms);
    t->symbols = sl_calloc((size_t)(t->n ? t->n : 1), sizeof(char *));
    int i = 0;
    const cJSON *sy;
    cJSON_ArrayForEach(sy, syms) t->symbols[i++] =
        sl_strdup(cJSON_IsString(sy) ? sy->valuestring : "");
    const char *d = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "default"));
    for (i = 0; d && i < t->n; i++)
      if (!strcmp(t->symbols[i], d)) t->enum_dflt = i;
    return t;
  }
  return parse_record(p, t, j, depth);
}

/* The fewest bytes a value of t takes (recursion through a record being
** sized counts as 0). */
static int min_size(av_type *t, int depth) {
  if (depth > MAX_SCHEMA_DEPTH) return 0;
  switch (t->kind) {
  case AV_NULL: return 0;
  case AV_FLOAT: return 4;
  case AV_DOUBLE: return 8;
  case AV_FIXED: return t->size > 1 << 20 ? 1 << 20 : (int)t->size;
  case AV_RECORD: {
    int s = 0;
    for (int i = 0; i < t->n && s < (1 << 20); i++)
      s += min_size(t->fields[i].type, depth + 1);
    return s;
  }
  default: return 1;
  }
}

/* See avro_types.h. */
av_schema *av_schema_parse(const char *json, size_t n, sl_err *err) {
  avro_schema_t as = NULL;
  if (avro_schema_from_json_length(json, n, &as)) {
    const char *m = avro_strerror();
    size_t ml = m ? strlen(m) : 0;
    while (ml && (m[ml - 1] == '\n' || m[ml - 1] == ' '))
      ml--;
    sl_err_set(err, SL_EBIND, "not an Avro schema: %.*s", (int)ml, m ? m : "");
    return NULL;
  }
  avro_schema_decref(as);
  cJSON *j = cJSON_ParseWithLength(json, n);
  if (!j) {
    sl_err_set(err, SL_EBIND, "not an Avro schema: malformed JSON");
    return NULL;
  }
  av_schema *s = sl_calloc(1, sizeof *s);
  s->json = sl_strndup(json, n);
  parser p = {s, err};
  s->root = parse_type(&p, j, "", 0);
  cJSON_Delete(j);
  if (!s->root) {
    av_schema_free(s);
    return NULL;
  }
  for (int i = 0; i < s->nall; i++)
    s->all[i]->minsz = min_size(s->all[i], 0);
  return s;
}

/* Free s and every node it owns; NULL is nothing. */
void av_schema_free(av_schema *s) {
  if (!s) return;
  for (int i = 0; i < s->nall; i++) {
    av_type *t = s->all[i];
    free(t->name);
    for (int k = 0; t->kind == AV_RECORD && k < t->n; k++) {
      free(t->fields[k].name);
      for (int a = 0; a < t->fields[k].nalias; a++)
        free(t->fields[k].alias[a]);
      free(t->fields[k].alias);
      free(t->fields[k].dflt);
    }
    free(t->fields);
    for (int k = 0; t->kind == AV_ENUM && k < t->n; k++)
      free(t->symbols[k]);
    free(t->symbols);
    free(t->branch);
    free(t);
  }
  free(s->all);
  free(s->json);
  free(s);
}

/* ---- resolution ----------------------------------------------------------- */

/* 1 when data of kind w can be read as kind r (equal, or a promotion). */
static int promotes(av_kind w, av_kind r) {
  if (w == r) return 1;
  switch (w) {
  case AV_INT: return r == AV_LONG || r == AV_FLOAT || r == AV_DOUBLE;
  case AV_LONG: return r == AV_FLOAT || r == AV_DOUBLE;
  case AV_FLOAT: return r == AV_DOUBLE;
  case AV_STRING: return r == AV_BYTES;
  case AV_BYTES: return r == AV_STRING;
  default: return 0;
  }
}

/* 1 when a (non-union) writer type w matches reader type r. */
static int matches(const av_type *w, const av_type *r) {
  if (!promotes(w->kind, r->kind)) return 0;
  if (w->kind == AV_RECORD || w->kind == AV_ENUM || w->kind == AV_FIXED)
    if (strcmp(w->sname, r->sname) != 0) return 0;
  if (w->kind == AV_FIXED && w->size != r->size) return 0;
  return 1;
}

static av_res *resolve(av_resolver *rs, const av_type *w, const av_type *r);

/* The reader field of record r that writer field name (or one of its
** aliases in the reader) names, or -1. */
static int reader_field(const av_type *r, const char *name) {
  for (int i = 0; i < r->n; i++)
    if (!strcmp(r->fields[i].name, name)) return i;
  for (int i = 0; i < r->n; i++)
    for (int a = 0; a < r->fields[i].nalias; a++)
      if (!strcmp(r->fields[i].alias[a], name)) return i;
  return -1;
}

/* Fill x, the resolution of record w read as record r: the reader field of
** each writer field, how to read it, and the reader fields that take
** their default (x->why when one has none). */
static void resolve_record(av_resolver *rs, av_res *x, const av_type *w, const av_type *r) {
  x->wmap = sl_calloc((size_t)(w->n ? w->n : 1), sizeof(int));
  x->wres = sl_calloc((size_t)(w->n ? w->n : 1), sizeof(av_res *));
  x->dflt = sl_calloc((size_t)(r->n ? r->n : 1), sizeof(int));
  char *seen = sl_calloc((size_t)(r->n ? r->n : 1), 1);
  for (int i = 0; i < w->n; i++) {
    int k = reader_field(r, w->fields[i].name);
    if (k >= 0 && seen[k]) k = -1;
    x->wmap[i] = k;
    if (k < 0) continue;
    seen[k] = 1;
    x->wres[i] = resolve(rs, w->fields[i].type, r->fields[k].type);
  }
  for (int k = 0; k < r->n; k++) {
    if (seen[k]) continue;
    if (!r->fields[k].dflt) {
      if (!x->why)
        x->why = "a field of the reader schema is not in the writer's and has no default";
      continue;
    }
    x->dflt[x->ndflt++] = k;
  }
  free(seen);
}

/* The resolution of (w, r), made once per pair (recursive types). */
static av_res *resolve(av_resolver *rs, const av_type *w, const av_type *r) {
  for (int i = 0; i < rs->nall; i++)
    if (rs->pw[i] == w && rs->pr[i] == r) return rs->all[i];
  if (rs->nall == rs->cap) {
    rs->cap = rs->cap ? 2 * rs->cap : 16;
    rs->all = sl_realloc(rs->all, sizeof(*rs->all) * (size_t)rs->cap);
    rs->pw = sl_realloc(rs->pw, sizeof(*rs->pw) * (size_t)rs->cap);
    rs->pr = sl_realloc(rs->pr, sizeof(*rs->pr) * (size_t)rs->cap);
  }
  av_res *x = sl_calloc(1, sizeof *x);
  rs->all[rs->nall] = x;
  rs->pw[rs->nall] = w;
  rs->pr[rs->nall] = r;
  rs->nall++;
  x->w = w;
  x->r = r;
  if (w->kind == AV_UNION) { /* each branch on its own; a bad one fails only when met */
    x->bres = sl_calloc((size_t)(w->n ? w->n : 1), sizeof(av_res *));
    for (int i = 0; i < w->n; i++)
      x->bres[i] = resolve(rs, w->branch[i], r);
    return x;
  }
  if (r->kind == AV_UNION) { /* the first branch that matches */
    for (int i = 0; i < r->n; i++)
      if (r->branch[i]->kind == w->kind && matches(w, r->branch[i])) {
        x->r = r->branch[i];
        break;
      }
    for (int i = 0; x->r == r && i < r->n; i++)
      if (matches(w, r->branch[i])) {
        x->r = r->branch[i];
        break;
      }
    if (x->r == r) {
      x->why = "the writer's type is in no branch of the reader's union";
      return x;
    }
    r = x->r;
  }
  if (!matches(w, r)) {
    x->why = "the writer's and the reader's types do not match";
    return x;
  }
  switch (w->kind) {
  case AV_RECORD: resolve_record(rs, x, w, r); break;
  case AV_ENUM:
    x->emap = sl_calloc((size_t)(w->n ? w->n : 1), sizeof(int));
    for (int i = 0; i < w->n; i++) {
      x->emap[i] = r->enum_dflt;
      for (int k = 0; k < r->n; k++)
        if (!strcmp(w->symbols[i], r->symbols[k])) x->emap[i] = k;
    }
    break;
  case AV_ARRAY:
  case AV_MAP: x->items = resolve(rs, w->items, r->items); break;
  default: break;
  }
  return x;
}

/* See avro_types.h. */
av_resolver *av_resolve(const av_type *w, const av_type *r) {
  av_resolver *rs = sl_calloc(1, sizeof *rs);
  rs->top = resolve(rs, w, r);
  return rs;
}

/* Free rs and its nodes; NULL is nothing. */
void av_resolver_free(av_resolver *rs) {
  if (!rs) return;
  for (int i = 0; i < rs->nall; i++) {
    av_res *x = rs->all[i];
    free(x->wmap);
    free(x->wres);
    free(x->dflt);
    free(x->emap);
    free(x->bres);
    free(x);
  }
  free(rs->all);
  free(rs->pw);
  free(rs->pr);
  free(rs);
}
