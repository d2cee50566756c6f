/*
** func_json.c - SQLite's JSON functions (json, json_valid, json_type,
** json_array_length, json_extract, ->, ->>, json_array, json_object,
** json_quote) and sluice's VECTOR functions (vector, vector_len,
** vector_get, vector_dot, vector_norm), working on JSON text in place with
** json.c.  Results that are JSON carry the JSON flag so that another JSON
** function embeds them as JSON rather than as a string, as SQLite's JSON
** subtype does.
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "func.h"
#include "json.h"

/* Append v as SQLite's JSON functions render it (REAL with 15 digits). */
static int append_sql_json(sl_fctx *ctx, sl_buf *out, sl_value *v) {
  char tmp[420];
  switch (v->type) {
  case SL_REAL: {
    if (isinf(v->u.r)) {
      sl_buf_puts(out, v->u.r < 0 ? "-9.0e+999" : "9.0e+999");
      return 0;
    }
    int k = sl_real_to_text(v->u.r, tmp);
    sl_buf_append(out, tmp, (size_t)k);
    return 0;
  }
  case SL_BLOB: sl_result_error(ctx, "JSON cannot hold BLOB values"); return -1;
  default: sl_json_append_value(out, v); return 0;
  }
}

/* JSON text of an argument: its bytes, or NULL (error set) if malformed. */
static const char *json_arg(sl_fctx *ctx, sl_value *v, size_t *n) {
  const char *z = sl_value_text(v, n);
  if (!sl_json_valid(z, *n)) {
    sl_result_error(ctx, "malformed JSON");
    return NULL;
  }
  return z;
}

static void result_json(sl_fctx *ctx, const char *z, size_t n) {
  sl_buf b;
  sl_buf_init(&b);
  sl_json_minify(z, n, &b);
  sl_result_text(ctx, b.z ? b.z : "", b.n);
  ctx->out->flags |= SL_F_JSON;
  sl_buf_free(&b);
}

static void f_json(sl_fctx *ctx, int argc, sl_value **argv) {
  size_t n;
  if (argv[0]->type == SL_NULL) return;
  const char *z = json_arg(ctx, argv[0], &n);
  if (z) result_json(ctx, z + sl_json_ws(z, n, 0), n - sl_json_ws(z, n, 0));
}

static void f_json_valid(sl_fctx *ctx, int argc, sl_value **argv) {
  size_t n;
  if (argv[0]->type == SL_NULL) return;
  const char *z = sl_value_text(argv[0], &n);
  sl_result_int(ctx, argv[0]->type != SL_BLOB && sl_json_valid(z, n));
}

/* Find the value path P names in JSON X: 1 found, 0 absent, -1 error set. */
static int locate(sl_fctx *ctx, sl_value *x, sl_value *p, const char **z, size_t *v, size_t *ve) {
  size_t n, pn;
  const char *json = sl_value_text(x, &n);
  const char *path = sl_value_text(p, &pn);
  const char *why = NULL;
  int rc = sl_json_path(json, n, path, pn, v, ve, &why);
  if (rc == -2) {
    sl_result_error(ctx, "malformed JSON");
    return -1;
  }
  if (rc == -1) {
    sl_result_error(ctx, "JSON path error near '%.*s'", (int)(pn > 20 ? 20 : pn), path);
    return -1;
  }
  *z = json;
  return rc;
}

static const char *kind_name(sl_json_kind k) {
  static const char *const names[] = {"?",       "null", "true", "false", "integer",
                                      "real", "text", "array", "object"};
  return names[k];
}

static void f_json_type(sl_fctx *ctx, int argc, sl_value **argv) {
  if (argv[0]->type == SL_NULL || (argc > 1 && argv[1]->type == SL_NULL)) return;
  const char *z;
  size_t v, ve, n;
  sl_json_kind k;
  if (argc == 1) {
    z = json_arg(ctx, argv[0], &n);
    if (!z) return;
    v = sl_json_ws(z, n, 0);
    ve = n;
  } else if (locate(ctx, argv[0], argv[1], &z, &v, &ve) != 1) {
    return;
  }
  sl_json_skip(z, ve, v, &k);
  const char *t = kind_name(k);
  sl_result_static_text(ctx, t, strlen(t));
}

static void f_json_array_length(sl_fctx *ctx, int argc, sl_value **argv) {
  if (argv[0]->type == SL_NULL || (argc > 1 && argv[1]->type == SL_NULL)) return;
  const char *z;
  size_t v, ve, n;
  if (argc == 1) {
    z = json_arg(ctx, argv[0], &n);
    if (!z) return;
    v = sl_json_ws(z, n, 0);
    ve = n;
  } else if (locate(ctx, argv[0], argv[1], &z, &v, &ve) != 1) {
    return;
  }
  if (z[v] != '[') {
    sl_result_int(ctx, 0);
    return;
  }
  size_t i = 1, a, b;
  sl_json_kind k;
  int64_t count = 0;
  while (sl_json_element(z + v, ve - v, &i, &a, &b, &k) == 1) count++;
  sl_result_int(ctx, count);
}

/* The SQL value of JSON text (json_extract semantics) into the result. */
static void result_value(sl_fctx *ctx, const char *z, size_t n) {
  if (sl_json_to_value(z, n, ctx->out, NULL)) sl_result_error(ctx, "malformed JSON");
}

static void f_json_extract(sl_fctx *ctx, int argc, sl_value **argv) {
  if (argv[0]->type == SL_NULL) return;
  if (argc == 2) {
    if (argv[1]->type == SL_NULL) return;
    const char *z;
    size_t v, ve;
    if (locate(ctx, argv[0], argv[1], &z, &v, &ve) == 1) result_value(ctx, z + v, ve - v);
    return;
  }
  sl_buf b;
  sl_buf_init(&b);
  sl_buf_putc(&b, '[');
  for (int i = 1; i < argc; i++) {
    if (argv[i]->type == SL_NULL) {
      sl_buf_free(&b);
      return;
    }
    const char *z;
    size_t v, ve;
    int rc = locate(ctx, argv[0], argv[i], &z, &v, &ve);
    if (rc < 0) {
      sl_buf_free(&b);
      return;
    }
    if (i > 1) sl_buf_putc(&b, ',');
    if (rc == 1)
      sl_json_minify(z + v, ve - v, &b);
    else
      sl_buf_puts(&b, "null");
  }
  sl_buf_putc(&b, ']');
  sl_result_text(ctx, b.z, b.n);
  ctx->out->flags |= SL_F_JSON;
  sl_buf_free(&b);
}

/* The right operand of -> / ->> as a path: '$...' as is, a label 'a' as
** '$.a', an integer N as '$[N]'. */
static void arrow_path(sl_value *p, sl_buf *out) {
  size_t n;
  if (p->type == SL_INTEGER) {
    sl_buf_printf(out, "$[%lld]", (long long)p->u.i);
    return;
  }
  const char *z = sl_value_text(p, &n);
  if (n && z[0] == '$') {
    sl_buf_append(out, z, n);
    return;
  }
  sl_buf_puts(out, "$.\"");
  sl_buf_append(out, z, n);
  sl_buf_putc(out, '"');
}

static void arrow(sl_fctx *ctx, sl_value **argv, int sql_value) {
  if (argv[0]->type == SL_NULL || argv[1]->type == SL_NULL) return;
  if (argv[0]->type == SL_VECTOR) { /* V -> i, V ->> i: element i as REAL */
    int64_t i = sl_value_as_int(argv[1]);
    if (i >= 0 && i < (int64_t)argv[0]->n) sl_result_real(ctx, argv[0]->u.v[i]);
    return;
  }
  sl_buf path;
  sl_buf_init(&path);
  arrow_path(argv[1], &path);
  sl_value pv = SL_VALUE_INIT;
  sl_value_borrow_text(&pv, path.z, path.n, SL_F_TERM);
  const char *z;
  size_t v, ve;
  if (locate(ctx, argv[0], &pv, &z, &v, &ve) == 1) {
    if (sql_value) {
      result_value(ctx, z + v, ve - v);
    } else {
      result_json(ctx, z + v, ve - v);
    }
  }
  sl_buf_free(&path);
}

static void f_arrow(sl_fctx *ctx, int argc, sl_value **argv) {
  arrow(ctx, argv, 0);
}
static void f_arrow2(sl_fctx *ctx, int argc, sl_value **argv) {
  arrow(ctx, argv, 1);
}

static void f_json_array(sl_fctx *ctx, int argc, sl_value **argv) {
  sl_buf b;
  sl_buf_init(&b);
  sl_buf_putc(&b, '[');
  for (int i = 0; i < argc; i++) {
    if (i) sl_buf_putc(&b, ',');
    if (append_sql_json(ctx, &b, argv[i])) {
      sl_buf_free(&b);
      return;
    }
  }
  sl_buf_putc(&b, ']');
  sl_result_text(ctx, b.z, b.n);
  ctx->out->flags |= SL_F_JSON;
  sl_buf_free(&b);
}

static void f_json_object(sl_fctx *ctx, int argc, sl_value **argv) {
  if (argc % 2) {
    sl_result_error(ctx, "json_object() requires an even number of arguments");
    return;
  }
  sl_buf b;
  sl_buf_init(&b);
  sl_buf_putc(&b, '{');
  for (int i = 0; i < argc; i += 2) {
    if (argv[i]->type != SL_TEXT) {
      sl_result_error(ctx, "json_object() labels must be TEXT");
      sl_buf_free(&b);
      return;
    }
    if (i) sl_buf_putc(&b, ',');
    sl_json_append_string(&b, argv[i]->u.z, argv[i]->n);
    sl_buf_putc(&b, ':');
    if (append_sql_json(ctx, &b, argv[i + 1])) {
      sl_buf_free(&b);
      return;
    }
  }
  sl_buf_putc(&b, '}');
  sl_result_text(ctx, b.z, b.n);
  ctx->out->flags |= SL_F_JSON;
  sl_buf_free(&b);
}

static void f_json_quote(sl_fctx *ctx, int argc, sl_value **argv) {
  sl_buf b;
  sl_buf_init(&b);
  if (append_sql_json(ctx, &b, argv[0]) == 0) {
    sl_result_text(ctx, b.z, b.n);
    ctx->out->flags |= SL_F_JSON;
  }
  sl_buf_free(&b);
}

/* ---- VECTOR ---------------------------------------------------------------- */

static void f_vector(sl_fctx *ctx, int argc, sl_value **argv) {
  if (argc == 1 && argv[0]->type == SL_VECTOR) {
    sl_result_value(ctx, argv[0]);
    return;
  }
  if (argc == 1 && argv[0]->type == SL_TEXT) {
    if (sl_json_to_vector(argv[0]->u.z, argv[0]->n, ctx->out, NULL))
      sl_result_error(ctx, "vector(): not a JSON array of numbers");
    return;
  }
  double *x = sl_malloc(sizeof(double) * (size_t)(argc ? argc : 1));
  for (int i = 0; i < argc; i++) {
    if (argv[i]->type != SL_INTEGER && argv[i]->type != SL_REAL) {
      free(x);
      sl_result_error(ctx, "vector(): argument %d is not a number", i + 1);
      return;
    }
    x[i] = sl_value_as_real(argv[i]);
  }
  sl_value_set_vector(ctx->out, x, (size_t)argc);
  free(x);
}

static int need_vector(sl_fctx *ctx, sl_value *v) {
  if (v->type == SL_VECTOR) return 1;
  if (v->type != SL_NULL) sl_result_error(ctx, "not a VECTOR");
  return 0;
}

static void f_vector_len(sl_fctx *ctx, int argc, sl_value **argv) {
  if (need_vector(ctx, argv[0])) sl_result_int(ctx, argv[0]->n);
}

static void f_vector_get(sl_fctx *ctx, int argc, sl_value **argv) {
  if (!need_vector(ctx, argv[0])) return;
  int64_t i = sl_value_as_int(argv[1]);
  if (i >= 0 && i < (int64_t)argv[0]->n) sl_result_real(ctx, argv[0]->u.v[i]);
}

static void f_vector_dot(sl_fctx *ctx, int argc, sl_value **argv) {
  if (!need_vector(ctx, argv[0]) || !need_vector(ctx, argv[1])) return;
  if (argv[0]->n != argv[1]->n) {
    sl_result_error(ctx, "vector_dot(): vectors of %u and %u elements", argv[0]->n, argv[1]->n);
    return;
  }
  double s = 0;
  for (uint32_t i = 0; i < argv[0]->n; i++) s += argv[0]->u.v[i] * argv[1]->u.v[i];
  sl_result_real(ctx, s);
}

static void f_vector_norm(sl_fctx *ctx, int argc, sl_value **argv) {
  if (!need_vector(ctx, argv[0])) return;
  double s = 0;
  for (uint32_t i = 0; i < argv[0]->n; i++) s += argv[0]->u.v[i] * argv[0]->u.v[i];
  sl_result_real(ctx, sqrt(s));
}

#define J(name, n, fn, flags, doc)                                                                 \
  { name, n, SL_FUNC_DETERMINISTIC | (flags), NULL, fn, NULL, NULL, NULL, NULL, 0, NULL, doc }

const sl_func sl_builtin_json[] = {
    J("json", 1, f_json, SL_FUNC_JSONRESULT, "validate and minify JSON"),
    J("json_valid", 1, f_json_valid, 0, "1 if X is well-formed JSON"),
    J("json_type", 1, f_json_type, 0, "type of the JSON value"),
    J("json_type", 2, f_json_type, 0, "type of the value at path P"),
    J("json_array_length", 1, f_json_array_length, 0, "elements of a JSON array"),
    J("json_array_length", 2, f_json_array_length, 0, "elements of the array at path P"),
    J("json_extract", -4, f_json_extract, 0, "json_extract(X, P, ...): values at paths"),
    J("->", 2, f_arrow, SL_FUNC_JSONRESULT, "X -> P: JSON text at P"),
    J("->>", 2, f_arrow2, 0, "X ->> P: SQL value at P"),
    J("json_array", -1, f_json_array, SL_FUNC_JSONRESULT, "a JSON array of the arguments"),
    J("json_object", -1, f_json_object, SL_FUNC_JSONRESULT, "json_object(label, value, ...)"),
    J("json_quote", 1, f_json_quote, SL_FUNC_JSONRESULT, "X as a JSON value"),
    J("vector", -1, f_vector, 0, "a VECTOR from numbers or a JSON array"),
    J("vector_len", 1, f_vector_len, 0, "number of elements"),
    J("vector_get", 2, f_vector_get, 0, "element I (0-based) as REAL"),
    J("vector_dot", 2, f_vector_dot, 0, "dot product"),
    J("vector_norm", 1, f_vector_norm, 0, "Euclidean norm"),
    {NULL, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL},
};
