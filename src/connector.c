/*
** connector.c - what every connector shares: call options, schemas, the
** connector registry, and reading format options (see connector.h and
** format.h for the contracts).
*/
#include "connector.h"
#include "auth.h"
#include "kafka.h"
#include "conn_postgres.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* ---- options ------------------------------------------------------------- */

void sl_options_free(sl_options *o) {
  for (int i = 0; i < o->n; i++) {
    free(o->v[i].name);
    sl_value_free(&o->v[i].value);
  }
  free(o->v);
  o->v = NULL;
  o->n = 0;
}

void sl_options_copy(sl_options *dst, const sl_options *src) {
  *dst = *src;
  dst->n = 0;
  dst->v = NULL;
  for (int i = 0; i < src->n; i++)
    sl_options_add(dst, src->v[i].name, &src->v[i].value, src->v[i].line, src->v[i].col);
}

int sl_opt_authorize(const sl_options *o, int action, const char *target, sl_err *err) {
  return sl_authorize(o->auth, action, target, o->fn, err);
}

void sl_options_add(sl_options *o, const char *name, const sl_value *value, int line, int col) {
  o->v = sl_realloc(o->v, sizeof(*o->v) * (size_t)(o->n + 1));
  sl_option *opt = &o->v[o->n++];
  memset(opt, 0, sizeof *opt);
  opt->name = sl_strdup(name);
  sl_value_copy(&opt->value, value);
  sl_value_own(&opt->value);
  opt->line = line;
  opt->col = col;
}

sl_option *sl_opt_find(sl_options *o, const char *name) {
  for (int i = 0; i < o->n; i++) {
    if (sl_stricmp(o->v[i].name, name) == 0) {
      o->v[i].used = 1;
      return &o->v[i];
    }
  }
  return NULL;
}

sl_option *sl_opt_find_unused(sl_options *o, const char *name) {
  for (int i = 0; i < o->n; i++)
    if (sl_stricmp(o->v[i].name, name) == 0) return &o->v[i];
  return NULL;
}

const char *sl_opt_str(sl_options *o, const char *name, const char *dflt) {
  sl_option *opt = sl_opt_find(o, name);
  if (!opt || opt->value.type == SL_NULL) return dflt;
  return sl_value_cstr(&opt->value);
}

int sl_opt_bool(sl_options *o, const char *name, int dflt, sl_err *err) {
  sl_option *opt = sl_opt_find(o, name);
  if (!opt) return dflt;
  sl_value *v = &opt->value;
  if (v->type == SL_INTEGER) return v->u.i != 0;
  const char *z = sl_value_cstr(v);
  if (z && (!sl_stricmp(z, "true") || !sl_stricmp(z, "yes") || !strcmp(z, "1"))) return 1;
  if (z && (!sl_stricmp(z, "false") || !sl_stricmp(z, "no") || !strcmp(z, "0"))) return 0;
  sl_err_setpos(err, SL_EBIND, opt->line, opt->col, "%s => needs true or false, not '%s'", name,
                z ? z : "NULL");
  return -1;
}

int64_t sl_opt_int(sl_options *o, const char *name, int64_t dflt, sl_err *err) {
  sl_option *opt = sl_opt_find(o, name);
  if (!opt) return dflt;
  if (opt->value.type == SL_INTEGER) return opt->value.u.i;
  const char *z = sl_value_cstr(&opt->value);
  int64_t i;
  if (z && sl_atoi64(z, strlen(z), &i) == 0) return i;
  sl_err_setpos(err, SL_EBIND, opt->line, opt->col, "%s => needs an integer, not '%s'", name,
                z ? z : "NULL");
  return dflt;
}

int sl_options_check(sl_options *o, sl_err *err) {
  for (int i = 0; i < o->n; i++) {
    if (o->v[i].used) continue;
    if (isdigit((unsigned char)o->v[i].name[0]))
      sl_err_setpos(err, SL_EBIND, o->v[i].line, o->v[i].col, "too many arguments to %s()",
                    o->fn ? o->fn : "?");
    else
      sl_err_setpos(err, SL_EBIND, o->v[i].line, o->v[i].col, "unknown option '%s' for %s()",
                    o->v[i].name, o->fn ? o->fn : "?");
    return -1;
  }
  return 0;
}

/* ---- schemas ----------------------------------------------------------------- */

void sl_schema_init(sl_schema *s, int open) {
  memset(s, 0, sizeof *s);
  s->open = open;
}

void sl_schema_free(sl_schema *s) {
  for (int i = 0; i < s->ncol; i++) {
    free(s->cols[i].name);
    free(s->cols[i].decltype);
  }
  free(s->cols);
  memset(s, 0, sizeof *s);
}

int sl_schema_add(sl_schema *s, const char *name, size_t n, const char *decltype) {
  if (s->ncol == s->cap) {
    s->cap = s->cap ? s->cap * 2 : 8;
    s->cols = sl_realloc(s->cols, sizeof(sl_column) * (size_t)s->cap);
  }
  sl_column *c = &s->cols[s->ncol];
  memset(c, 0, sizeof *c);
  c->name = sl_strndup(name, n);
  if (decltype) {
    c->decltype = sl_strdup(decltype);
    c->aff = sl_affinity_of_typename(decltype, strlen(decltype));
    c->is_vector = sl_stricmp(decltype, "vector") == 0;
  }
  return s->ncol++;
}

int sl_schema_find(const sl_schema *s, const char *name, size_t n) {
  for (int i = 0; i < s->ncol; i++)
    if (strlen(s->cols[i].name) == n && memcmp(s->cols[i].name, name, n) == 0) return i;
  for (int i = 0; i < s->ncol; i++)
    if (strlen(s->cols[i].name) == n && sl_strnicmp(s->cols[i].name, name, n) == 0) return i;
  return -1;
}

int sl_schema_need(sl_schema *s, const char *name, size_t n) {
  int i = sl_schema_find(s, name, n);
  if (i >= 0 || !s->open) return i;
  return sl_schema_add(s, name, n, NULL);
}

void sl_schema_copy(sl_schema *dst, const sl_schema *src) {
  sl_schema_init(dst, src->open);
  for (int i = 0; i < src->ncol; i++) {
    int k = sl_schema_add(dst, src->cols[i].name, strlen(src->cols[i].name), src->cols[i].decltype);
    dst->cols[k].aff = src->cols[i].aff;
    dst->cols[k].is_vector = src->cols[i].is_vector;
  }
}

int sl_schema_parse(sl_schema *s, const char *spec, sl_err *err) {
  const char *p = spec;
  while (*p) {
    while (isspace((unsigned char)*p))
      p++;
    const char *name = p;
    if (*p == '"' || *p == '`') {
      char q = *p++;
      name = p;
      while (*p && *p != q)
        p++;
      if (!*p) {
        sl_err_set(err, SL_EBIND, "columns => '%s': unterminated quoted name", spec);
        return -1;
      }
    } else {
      while (*p && (isalnum((unsigned char)*p) || *p == '_' || (unsigned char)*p >= 0x80))
        p++;
    }
    size_t nlen = (size_t)(p - name);
    if (*p == '"' || *p == '`') p++;
    if (!nlen) {
      sl_err_set(err, SL_EBIND, "columns => '%s': expected a column name", spec);
      return -1;
    }
    while (isspace((unsigned char)*p))
      p++;
    const char *type = p;
    int depth = 0;
    while (*p && (depth || *p != ',')) {
      if (*p == '(') depth++;
      if (*p == ')') depth--;
      p++;
    }
    const char *tend = p;
    while (tend > type && isspace((unsigned char)tend[-1]))
      tend--;
    char *t = tend > type ? sl_strndup(type, (size_t)(tend - type)) : NULL;
    if (sl_schema_find(s, name, nlen) >= 0) {
      sl_err_set(err, SL_EBIND, "columns => '%s': duplicate column %.*s", spec, (int)nlen, name);
      free(t);
      return -1;
    }
    sl_schema_add(s, name, nlen, t);
    free(t);
    if (*p == ',') p++;
  }
  return 0;
}

/* ---- the registry ------------------------------------------------------------ */

static const sl_connector *const connectors[] = {&sl_conn_file,    &sl_conn_stdin,  &sl_conn_stdout,
                                                 &sl_conn_kafka,   &sl_conn_socket, &sl_conn_sqlite,
                                                 &sl_conn_postgres};

const sl_connector *sl_connector_find(const char *name, size_t n) {
  for (size_t i = 0; i < SL_ARRAY_SIZE(connectors); i++)
    if (strlen(connectors[i]->name) == n && sl_strnicmp(connectors[i]->name, name, n) == 0)
      return connectors[i];
  return NULL;
}

const sl_format *sl_format_find(const char *name) {
  static const sl_format *const formats[] = {&sl_fmt_json, &sl_fmt_csv, &sl_fmt_raw, &sl_fmt_avro,
                                             &sl_fmt_protobuf};
  for (size_t i = 0; i < SL_ARRAY_SIZE(formats); i++)
    if (sl_stricmp(formats[i]->name, name) == 0) return formats[i];
  return NULL;
}

/* Read the options every format takes. */
static int format_options(sl_options *opts, const char *dflt, const sl_format **fmt,
                          sl_fmt_opts *fo, sl_err *err) {
  sl_option *o = sl_opt_find(opts, "format");
  const char *name = o ? sl_value_cstr(&o->value) : dflt;
  *fmt = name ? sl_format_find(name) : NULL;
  if (!*fmt) {
    sl_err_setpos(err, SL_EBIND, o ? o->line : 0, o ? o->col : 0,
                  "unknown format '%s' (json, csv, raw, avro or protobuf)", name ? name : "NULL");
    return -1;
  }
  memset(fo, 0, sizeof *fo);
  fo->delim = ',';
  int h = sl_opt_bool(opts, "header", 0, err);
  if (h < 0) return -1;
  fo->header = h;
  const char *d = sl_opt_str(opts, "delimiter", NULL);
  if (d) {
    if (strlen(d) != 1) {
      sl_err_set(err, SL_EBIND, "delimiter => needs one character, not '%s'", d);
      return -1;
    }
    fo->delim = d[0];
  }
  return 0;
}

/* changelog => 'op' (a source's or a sink's) or 'upsert' (upsert: a source
** that allows it, the Kafka source) into *out.  0, or -1 with err set. */
static int changelog_option(sl_options *opts, int upsert, sl_changelog *out, sl_err *err) {
  sl_option *o = sl_opt_find(opts, "changelog");
  const char *v = sl_opt_str(opts, "changelog", NULL);
  *out = SL_CHANGELOG_NONE;
  if (!v) return 0;
  if (!sl_stricmp(v, "op")) {
    *out = SL_CHANGELOG_OP;
    return 0;
  }
  if (upsert && !sl_stricmp(v, "upsert")) {
    *out = SL_CHANGELOG_UPSERT;
    return 0;
  }
  sl_err_setpos(err, SL_EBIND, o ? o->line : 0, o ? o->col : 0,
                "changelog => takes 'op'%s, not '%s'", upsert ? " or 'upsert'" : "", v);
  return -1;
}

int sl_source_init_format(sl_source *s, sl_options *opts, const char *dflt, sl_err *err) {
  if (format_options(opts, dflt, &s->format, &s->fmt_opts, err)) return -1;
  if (changelog_option(opts, s->changelog == SL_CHANGELOG_UPSERT, &s->changelog, err)) return -1;
  const char *cols = sl_opt_str(opts, "columns", NULL);
  sl_schema_init(&s->schema, 0);
  if (cols) {
    if (sl_schema_parse(&s->schema, cols, err)) return -1;
  } else if (opts->declared && opts->declared->ncol) {
    sl_schema_copy(&s->schema, opts->declared);
  } else if (s->format == &sl_fmt_raw) {
    sl_schema_add(&s->schema, "value", 5, "TEXT");
  } else if (s->format == &sl_fmt_json) {
    s->schema.open = 1; /* fields are found by name as queries use them */
  }
  const char *errors = sl_opt_str(opts, "errors", "skip");
  if (sl_stricmp(errors, "skip") != 0 && sl_stricmp(errors, "fail") != 0 &&
      sl_stricmp(errors, "dlq") != 0) {
    sl_err_set(err, SL_EBIND, "errors => takes 'skip', 'fail' or 'dlq', not '%s'", errors);
    return -1;
  }
  s->errors = sl_strdup(errors);
  if (s->format->configure && s->format->configure(&s->fmt_opts, opts, &s->schema, err)) return -1;
  return 0;
}

int sl_sink_init_format(sl_sink *s, sl_options *opts, const char *dflt, sl_err *err) {
  if (format_options(opts, dflt, &s->format, &s->fmt_opts, err)) return -1;
  if (changelog_option(opts, 0, &s->changelog, err)) return -1;
  if (s->format->configure && s->format->configure(&s->fmt_opts, opts, NULL, err)) return -1;
  return 0;
}

void sl_source_fini(sl_source *s) {
  sl_schema_free(&s->schema);
  free(s->errors);
  s->errors = NULL;
  if (s->fmt_opts.ctx && s->format && s->format->ctx_free) s->format->ctx_free(s->fmt_opts.ctx);
  s->fmt_opts.ctx = NULL;
}

void sl_sink_fini(sl_sink *s) {
  free(s->key_col);
  s->key_col = NULL;
  if (s->fmt_opts.ctx && s->format && s->format->ctx_free) s->format->ctx_free(s->fmt_opts.ctx);
  s->fmt_opts.ctx = NULL;
}
