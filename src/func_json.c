/*
** func_json.c - SQLite 3.40's JSON functions and sluice's VECTOR functions.
**
** JSON: json, json_valid, json_type, json_array_length, json_extract, the
** operators -> and ->> (registered as functions of those names), json_array,
** json_object and json_quote.  They work on JSON text in place with the
** tree-free scanner of json.c; nothing builds a tree.  Behaviour follows
** SQLite 3.40.1 as observed (tests/printf_json_test.c compares the two):
**
**  - JSON input is the argument's text up to its first NUL byte (numbers are
**    read as their text); NULL gives NULL; malformed text is the error
**    "malformed JSON", whatever else the call would have done.
**  - Paths are evaluated lazily, one step at a time, the way SQLite walks
**    its parse tree: a step that cannot apply (".a" on an array) ends the
**    walk with "nothing there" before the rest of the path is read, so a
**    syntax error later in the path is only reported when the walk gets
**    there ("JSON path error near '<rest of path>'").  Object keys are
**    compared with the key as written in the JSON text (escapes and all),
**    and the first of duplicate keys wins.  "[#]" and "[#-N]" count from the
**    end of an array.
**  - Results that are JSON text carry SL_F_JSON (SQLite's JSON subtype), and
**    TEXT arguments carrying it are embedded as JSON, not as strings.  REALs
**    are embedded with their SQL text ("%!.15g": 1.0, 1.0e+100, Inf).
**
** VECTOR (sluice's numeric arrays): vector(X) from a JSON array of numbers or
** vector(a, b, ...) from numbers; vector_len, vector_get (0-based), vector_dot,
** vector_norm; V -> i and V ->> i give element i as a REAL.
*/
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "func.h"
#include "json.h"

/* ---- helpers ------------------------------------------------------------- */

/* The text of v as a C string would see it (cut at the first NUL), or NULL
** for SQL NULL.  Numbers are rendered into v's own buffer. */
static const char *cstr_arg(sl_value *v, size_t *n) {
  *n = 0;
  if (v->type == SL_NULL) return NULL;
  size_t len;
  const char *z = sl_value_text(v, &len);
  if (!z) return NULL;
  const char *nul = memchr(z, 0, len);
  *n = nul ? (size_t)(nul - z) : len;
  return z;
}

/* The JSON text of argument v with leading and trailing whitespace trimmed:
** returns NULL with *err = 0 for SQL NULL, NULL with *err = 1 (the error
** already set on ctx) when the text is malformed. */
static const char *json_arg(sl_fctx *ctx, sl_value *v, size_t *n, int *err) {
  *err = 0;
  size_t len;
  const char *z = cstr_arg(v, &len);
  if (!z) return NULL;
  if (!sl_json_valid(z, len)) {
    sl_result_error(ctx, "malformed JSON");
    *err = 1;
    return NULL;
  }
  size_t s = sl_json_ws(z, len, 0);
  size_t e = len;
  while (e > s && (z[e - 1] == ' ' || z[e - 1] == '\t' || z[e - 1] == '\n' || z[e - 1] == '\r'))
    e--;
  *n = e - s;
  return z + s;
}

/* Fail the call with SQLite's path error, quoting the path from `at` on with
** single quotes doubled (its %q). */
static void path_error(sl_fctx *ctx, const char *at, size_t n) {
  sl_buf b;
  sl_buf_init(&b);
  for (size_t i = 0; i < n; i++) {
    if (at[i] == '\'') sl_buf_putc(&b, '\'');
    sl_buf_putc(&b, at[i]);
  }
  sl_result_error(ctx, "JSON path error near '%s'", b.z ? b.z : "");
  sl_buf_free(&b);
}

static int is_digit(char c) {
  return c >= '0' && c <= '9';
}

/* Walk path[0..plen) over the valid JSON value z[0..n) (no surrounding
** whitespace).  Returns 1 and the span [*vs, *ve) of the value found, 0 if
** nothing is there, or -1 after setting the path error on ctx. */
static int walk(sl_fctx *ctx, const char *z, size_t n, const char *path, size_t plen, size_t *vs,
                size_t *ve) {
  size_t s = 0, e = n;
  if (plen == 0 || path[0] != '$') {
    path_error(ctx, path, plen);
    return -1;
  }
  size_t p = 1;
  while (p < plen) {
    const char *step = path + p;
    size_t rest = plen - p;
    if (path[p] == '.') {
      if (z[s] != '{') return 0;
      p++;
      const char *key;
      size_t klen, next;
      if (p < plen && path[p] == '"') {
        size_t q = p + 1;
        while (q < plen && path[q] != '"')
          q++;
        if (q >= plen) {
          path_error(ctx, path + p, plen - p);
          return -1;
        }
        key = path + p + 1;
        klen = q - p - 1;
        next = q + 1;
      } else {
        size_t q = p;
        while (q < plen && path[q] != '.' && path[q] != '[')
          q++;
        if (q == p) {
          path_error(ctx, path + p, plen - p);
          return -1;
        }
        key = path + p;
        klen = q - p;
        next = q;
      }
      size_t i = s + 1, a, b;
      const char *k;
      size_t kl;
      int esc, rc, found = 0;
      sl_json_kind kind;
      while ((rc = sl_json_member(z, e, &i, &k, &kl, &esc, &a, &b, &kind)) == 1) {
        if (kl == klen && memcmp(k, key, klen) == 0) {
          found = 1;
          break;
        }
      }
      if (!found) return 0;
      s = a;
      e = b;
      p = next;
    } else if (path[p] == '[') {
      uint32_t idx = 0;
      size_t j = 1;
      while (j < rest && is_digit(step[j]))
        idx = idx * 10 + (uint32_t)(step[j++] - '0');
      if (j < 2 || j >= rest || step[j] != ']') {
        if (rest > 1 && step[1] == '#') {
          if (z[s] != '[') return 0;
          size_t i = s + 1, a, b;
          sl_json_kind kind;
          while (sl_json_element(z, e, &i, &a, &b, &kind) == 1)
            idx++;
          j = 2;
          if (rest > 3 && step[2] == '-' && is_digit(step[3])) {
            uint32_t x = 0;
            j = 3;
            do {
              x = x * 10 + (uint32_t)(step[j++] - '0');
            } while (j < rest && is_digit(step[j]));
            if (x > idx) return 0;
            idx -= x;
          }
          if (j >= rest || step[j] != ']') {
            path_error(ctx, step, rest);
            return -1;
          }
        } else {
          path_error(ctx, step, rest);
          return -1;
        }
      }
      if (z[s] != '[') return 0;
      p += j + 1;
      size_t i = s + 1, a = 0, b = 0;
      sl_json_kind kind;
      uint32_t c = 0;
      int found = 0;
      while (sl_json_element(z, e, &i, &a, &b, &kind) == 1) {
        if (c++ == idx) {
          found = 1;
          break;
        }
      }
      if (!found) return 0;
      s = a;
      e = b;
    } else {
      path_error(ctx, step, rest);
      return -1;
    }
  }
  *vs = s;
  *ve = e;
  return 1;
}

/* Set the result to JSON text (minified) flagged SL_F_JSON. */
static void result_json(sl_fctx *ctx, const char *z, size_t n) {
  char *p = sl_value_text_space(ctx->out, n);
  sl_buf b = {p, 0, (size_t)n + 1};
  sl_json_minify(z, n, &b); /* never grows: minified text is not longer */
  sl_value_commit_text(ctx->out, b.n);
  ctx->out->flags |= SL_F_JSON;
}

/* Set the result to the SQL value of the JSON value z[0..n) (json_extract's
** conversion); arrays and objects are minified text flagged SL_F_JSON unless
** plain is set (->> gives them without the flag). */
static void result_sql(sl_fctx *ctx, const char *z, size_t n, int plain) {
  if (sl_json_to_value(z, n, ctx->out, NULL)) {
    sl_result_error(ctx, "malformed JSON");
    return;
  }
  if (plain) ctx->out->flags &= (uint8_t)~SL_F_JSON;
}

/* The length of z[0..n) as a JSON string, quotes included (as
** sl_json_append_string writes it). */
static uint64_t json_string_len(const char *z, size_t n) {
  uint64_t len = 2;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)z[i];
    len += c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t' || c == '\b' || c == '\f'
               ? 2
           : c < 0x20 ? 6
                      : 1;
  }
  return len;
}

/* Append SQL value v as SQLite's JSON functions embed it: NULL null, numbers
** as their SQL text, TEXT as a string (as is when flagged SL_F_JSON).  A
** BLOB fails the call (returns -1), and so does a value that would take the
** text past the longest string (sl_too_big), checked before it is appended:
** at most six bytes a byte of text (\u0001), 26 a vector element; only
** when that bound is over is a string's exact length counted. */
static int append_sql_value(sl_fctx *ctx, sl_buf *out, sl_value *v) {
  size_t n;
  uint64_t most = v->type == SL_TEXT     ? 6 * (uint64_t)v->n + 2
                  : v->type == SL_VECTOR ? 26 * (uint64_t)v->n + 2
                                         : 32;
  if (sl_too_big(out->n + most) &&
      (v->type != SL_TEXT ||
       sl_too_big(out->n + ((v->flags & SL_F_JSON) ? v->n : json_string_len(v->u.z, v->n))))) {
    sl_result_toobig(ctx);
    return -1;
  }
  switch (v->type) {
  case SL_NULL: sl_buf_append(out, "null", 4); return 0;
  case SL_INTEGER:
  case SL_REAL: {
    const char *z = sl_value_text(v, &n);
    sl_buf_append(out, z, n);
    return 0;
  }
  case SL_TEXT:
    if (v->flags & SL_F_JSON)
      sl_buf_append(out, v->u.z, v->n);
    else
      sl_json_append_string(out, v->u.z, v->n);
    return 0;
  case SL_VECTOR: sl_json_append_value(out, v); return 0;
  default: sl_result_error(ctx, "JSON cannot hold BLOB values"); return -1;
  }
}

/* Per-thread scratch buffer for building results (reused: no allocation per
** row once warm).  Callers reset it before use. */
static sl_buf *scratch(void) {
  return sl_scratch(SL_SCRATCH_JSON);
}

/* Copy the scratch buffer into the result as JSON text. */
static void result_buf_json(sl_fctx *ctx, sl_buf *b) {
  sl_result_text(ctx, b->z ? b->z : "", b->n);
  ctx->out->flags |= SL_F_JSON;
}

/* ---- JSON functions -------------------------------------------------------- */

/* json(X): X validated and minified. */
static void f_json(sl_fctx *ctx, int argc, sl_value **argv) {
  size_t n;
  int err;
  const char *z = json_arg(ctx, argv[0], &n, &err);
  if (z) result_json(ctx, z, n);
}

/* json_valid(X): 1 if X is well-formed JSON, else 0 (NULL gives 0). */
static void f_json_valid(sl_fctx *ctx, int argc, sl_value **argv) {
  size_t n;
  const char *z = cstr_arg(argv[0], &n);
  sl_result_int(ctx, z != NULL && sl_json_valid(z, n));
}

/* Locate the value json_type / json_array_length look at: X itself, or the
** value at path P.  Returns 1 with the span, 0 for a NULL result, -1 on error. */
static int locate(sl_fctx *ctx, int argc, sl_value **argv, const char **zp, size_t *vs,
                  size_t *ve) {
  size_t n, pn;
  int err;
  const char *z = json_arg(ctx, argv[0], &n, &err);
  if (!z) return err ? -1 : 0;
  *zp = z;
  if (argc < 2) {
    *vs = 0;
    *ve = n;
    return 1;
  }
  const char *path = cstr_arg(argv[1], &pn);
  if (!path) return 0;
  return walk(ctx, z, n, path, pn, vs, ve);
}

static const char *const type_names[] = {"null", "null", "true",  "false", "integer",
                                         "real", "text", "array", "object"};

/* json_type(X) and json_type(X, P). */
static void f_json_type(sl_fctx *ctx, int argc, sl_value **argv) {
  const char *z;
  size_t vs, ve;
  if (locate(ctx, argc, argv, &z, &vs, &ve) != 1) return;
  sl_json_kind k;
  sl_json_skip(z, ve, vs, &k);
  const char *t = type_names[k];
  sl_result_static_text(ctx, t, strlen(t));
}

/* json_array_length(X) and json_array_length(X, P): 0 for a non-array. */
static void f_json_array_length(sl_fctx *ctx, int argc, sl_value **argv) {
  const char *z;
  size_t vs, ve;
  if (locate(ctx, argc, argv, &z, &vs, &ve) != 1) return;
  int64_t count = 0;
  if (z[vs] == '[') {
    size_t i = vs + 1, a, b;
    sl_json_kind k;
    while (sl_json_element(z, ve, &i, &a, &b, &k) == 1)
      count++;
  }
  sl_result_int(ctx, count);
}

/* json_extract(X, P): the SQL value at P.  json_extract(X, P1, P2, ...): a
** JSON array of the values (null where nothing is; a NULL path finds
** nothing). */
static void f_json_extract(sl_fctx *ctx, int argc, sl_value **argv) {
  size_t n, pn, vs, ve;
  int err;
  const char *z = json_arg(ctx, argv[0], &n, &err);
  if (!z) return;
  if (argc == 2) {
    const char *path = cstr_arg(argv[1], &pn);
    if (!path) return;
    if (walk(ctx, z, n, path, pn, &vs, &ve) == 1) result_sql(ctx, z + vs, ve - vs, 0);
    return;
  }
  sl_buf *b = scratch();
  sl_buf_putc(b, '[');
  for (int i = 1; i < argc; i++) {
    const char *path = cstr_arg(argv[i], &pn);
    int rc = path ? walk(ctx, z, n, path, pn, &vs, &ve) : 0;
    if (rc < 0) return;
    if (i > 1) sl_buf_putc(b, ',');
    if (rc == 1)
      sl_json_minify(z + vs, ve - vs, b);
    else
      sl_buf_append(b, "null", 4);
  }
  sl_buf_putc(b, ']');
  result_buf_json(ctx, b);
}

/* X -> P and X ->> P.  P is a path, or an abbreviation as SQLite 3.40 takes
** it: text starting with a digit (an integer operand is such text) is an
** array index "$[P]", text starting with '[' is "$P", other text a key path
** "$.P".  A VECTOR on the left is indexed: element P as a REAL. */
static void arrow(sl_fctx *ctx, sl_value **argv, int sql_value) {
  if (argv[0]->type == SL_VECTOR) {
    if (argv[1]->type == SL_NULL) return;
    int64_t i = sl_value_as_int(argv[1]);
    if (i >= 0 && i < (int64_t)argv[0]->n) sl_result_real(ctx, argv[0]->u.v[i]);
    return;
  }
  size_t n, pn, vs, ve;
  int err;
  const char *z = json_arg(ctx, argv[0], &n, &err);
  if (!z) return;
  const char *path = cstr_arg(argv[1], &pn);
  if (!path) return;
  sl_buf *b = NULL;
  if (pn == 0 || path[0] != '$') {
    b = scratch();
    if (pn > 0 && is_digit(path[0])) {
      sl_buf_append(b, "$[", 2);
      sl_buf_append(b, path, pn);
      sl_buf_putc(b, ']');
    } else {
      sl_buf_append(b, "$.", (pn > 0 && path[0] == '[') ? 1 : 2);
      sl_buf_append(b, path, pn);
    }
    path = b->z;
    pn = b->n;
  }
  if (walk(ctx, z, n, path, pn, &vs, &ve) != 1) return;
  if (sql_value)
    result_sql(ctx, z + vs, ve - vs, 1);
  else
    result_json(ctx, z + vs, ve - vs);
}

static void f_arrow(sl_fctx *ctx, int argc, sl_value **argv) {
  arrow(ctx, argv, 0);
}

static void f_arrow2(sl_fctx *ctx, int argc, sl_value **argv) {
  arrow(ctx, argv, 1);
}

/* json_array(...): a JSON array of the arguments. */
static void f_json_array(sl_fctx *ctx, int argc, sl_value **argv) {
  sl_buf *b = scratch();
  sl_buf_putc(b, '[');
  for (int i = 0; i < argc; i++) {
    if (i) sl_buf_putc(b, ',');
    if (append_sql_value(ctx, b, argv[i])) return;
  }
  sl_buf_putc(b, ']');
  result_buf_json(ctx, b);
}

/* json_object(label, value, ...): labels must be TEXT. */
static void f_json_object(sl_fctx *ctx, int argc, sl_value **argv) {
  if (argc & 1) {
    sl_result_error(ctx, "json_object() requires an even number of arguments");
    return;
  }
  sl_buf *b = scratch();
  sl_buf_putc(b, '{');
  for (int i = 0; i < argc; i += 2) {
    if (argv[i]->type != SL_TEXT) {
      sl_result_error(ctx, "json_object() labels must be TEXT");
      return;
    }
    if (i) sl_buf_putc(b, ',');
    sl_json_append_string(b, argv[i]->u.z, argv[i]->n);
    sl_buf_putc(b, ':');
    if (append_sql_value(ctx, b, argv[i + 1])) return;
  }
  sl_buf_putc(b, '}');
  result_buf_json(ctx, b);
}

/* json_quote(X): X as a JSON value. */
static void f_json_quote(sl_fctx *ctx, int argc, sl_value **argv) {
  sl_buf *b = scratch();
  if (append_sql_value(ctx, b, argv[0]) == 0) result_buf_json(ctx, b);
}

/* ---- VECTOR ---------------------------------------------------------------- */

/* Make the result a VECTOR of n elements in its own buffer; returns them
** for the caller to fill. */
static double *vector_result(sl_fctx *ctx, int n) {
  double *x = (double *)(void *)sl_value_text_space(ctx->out, sizeof(double) * (size_t)n);
  ctx->out->type = SL_VECTOR;
  ctx->out->flags = SL_F_OWNBUF;
  ctx->out->n = (uint32_t)n;
  ctx->out->u.v = x;
  return x;
}

/* vector(X): X a JSON array of numbers, a comma-separated list of them, or
** already a VECTOR;
** vector(a, b, ...): the numbers given.  NULL in, NULL out. */
static void f_vector(sl_fctx *ctx, int argc, sl_value **argv) {
  if (argc == 1 && argv[0]->type == SL_NULL) return;
  if (argc == 1 && argv[0]->type == SL_VECTOR) {
    sl_result_value(ctx, argv[0]);
    return;
  }
  if (argc == 1 && argv[0]->type == SL_TEXT) {
    size_t s = sl_json_ws(argv[0]->u.z, argv[0]->n, 0), e = argv[0]->n;
    while (e > s && strchr(" \t\n\r", argv[0]->u.z[e - 1]))
      e--;
    if (sl_json_to_vector(argv[0]->u.z + s, e - s, ctx->out, NULL) == 0) return;
    /* "1,2,3" or "[1, 2, 3]" as Spark writes vectors */
    int cnt = sl_parse_numlist(argv[0]->u.z, argv[0]->n, NULL, 0);
    if (cnt < 0) {
      sl_result_error(ctx, "vector(): not a list of numbers");
      return;
    }
    sl_parse_numlist(argv[0]->u.z, argv[0]->n, vector_result(ctx, cnt), cnt);
    return;
  }
  for (int i = 0; i < argc; i++)
    if (argv[i]->type != SL_INTEGER && argv[i]->type != SL_REAL) {
      sl_result_error(ctx, "vector(): argument %d is not a number", i + 1);
      return;
    }
  double *x = vector_result(ctx, argc);
  for (int i = 0; i < argc; i++)
    x[i] = sl_value_as_real(argv[i]);
}

/* 1 if v is a VECTOR; 0 if not (an error unless v is NULL, which gives NULL). */
static int need_vector(sl_fctx *ctx, sl_value *v) {
  if (v->type == SL_VECTOR) return 1;
  if (v->type != SL_NULL) sl_result_error(ctx, "not a VECTOR");
  return 0;
}

static void f_vector_len(sl_fctx *ctx, int argc, sl_value **argv) {
  if (need_vector(ctx, argv[0])) sl_result_int(ctx, argv[0]->n);
}

/* vector_get(V, i): element i (0-based) as a REAL; NULL when out of range. */
static void f_vector_get(sl_fctx *ctx, int argc, sl_value **argv) {
  if (!need_vector(ctx, argv[0]) || argv[1]->type == SL_NULL) return;
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
  for (uint32_t i = 0; i < argv[0]->n; i++)
    s += argv[0]->u.v[i] * argv[1]->u.v[i];
  sl_result_real(ctx, s);
}

static void f_vector_norm(sl_fctx *ctx, int argc, sl_value **argv) {
  if (!need_vector(ctx, argv[0])) return;
  double s = 0;
  for (uint32_t i = 0; i < argv[0]->n; i++)
    s += argv[0]->u.v[i] * argv[0]->u.v[i];
  sl_result_real(ctx, sqrt(s));
}

#define J(name, n, fn, flags, doc)                                                                 \
  {                                                                                                \
    name, n, SL_FUNC_DETERMINISTIC | (flags), NULL, fn, NULL, NULL, NULL, NULL, 0, NULL, doc,      \
        NULL, NULL, NULL                                                                           \
  }

const sl_func sl_builtin_json[] = {
    J("json", 1, f_json, SL_FUNC_JSONRESULT, "json(X): X validated and minified"),
    J("json_valid", 1, f_json_valid, 0, "json_valid(X): 1 if X is well-formed JSON"),
    J("json_type", 1, f_json_type, 0, "json_type(X): type of the JSON value"),
    J("json_type", 2, f_json_type, 0, "json_type(X, P): type of the value at path P"),
    J("json_array_length", 1, f_json_array_length, 0, "json_array_length(X): elements"),
    J("json_array_length", 2, f_json_array_length, 0, "json_array_length(X, P)"),
    J("json_extract", -4, f_json_extract, 0, "json_extract(X, P, ...): values at paths"),
    J("->", 2, f_arrow, SL_FUNC_JSONRESULT, "X -> P: JSON text at P"),
    J("->>", 2, f_arrow2, 0, "X ->> P: SQL value at P"),
    J("json_array", -1, f_json_array, SL_FUNC_JSONRESULT, "json_array(...): a JSON array"),
    J("json_object", -1, f_json_object, SL_FUNC_JSONRESULT, "json_object(label, value, ...)"),
    J("json_quote", 1, f_json_quote, SL_FUNC_JSONRESULT, "json_quote(X): X as a JSON value"),
    J("vector", -1, f_vector, 0,
      "vector(X) or vector(a, b, ...): a VECTOR from a JSON array, '1,2,3' or numbers"),
    J("vector_len", 1, f_vector_len, 0, "vector_len(V): number of elements"),
    J("vector_get", 2, f_vector_get, 0, "vector_get(V, i): element i (0-based) as REAL"),
    J("vector_dot", 2, f_vector_dot, 0, "vector_dot(A, B): dot product"),
    J("vector_norm", 1, f_vector_norm, 0, "vector_norm(V): Euclidean norm"),
    {NULL, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL, NULL, NULL, NULL},
};
