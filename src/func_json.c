/*
** func_json.c - SQLite 3.40's JSON functions and sluice's VECTOR functions.
**
** JSON: json, json_valid, json_type, json_array_length, json_extract, the
** operators -> and ->> (registered as functions of those names), json_array,
** json_object and json_quote work on JSON text in place with the tree-free
** scanner of json.c; json_set, json_insert, json_replace, json_remove and
** json_patch build a small tree of indices (see the section on editing).  Behaviour follows
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

/* ---- editing: json_set, json_insert, json_replace, json_remove, json_patch ---
**
** These build a small tree of the document (nodes in a per-thread scratch
** buffer, addressed by index, so no allocation per row once warm), mark it
** the way SQLite 3.40 marks its parse tree, and render it minified:
**
**  - A path is looked up over the tree as it stands: members and elements
**    added by earlier path/value pairs of the same call are found, values
**    put in place by them are opaque (a later path cannot look inside a
**    value it set), and a path into a node that was replaced finds the node
**    that was there before (its new value is what is rendered).
**  - json_set / json_insert add what a path names when it is missing: a
**    member of an object (with objects, and arrays whose step is "[0]",
**    created for the rest of the path), or the element one past the end of
**    an array ("[N]" with N its length, "[#]").  An error in the part of a
**    path that would be created is no error: nothing is added.
**  - Removed elements no longer count as array positions; a removed member
**    is still found by its key (a second removal of a duplicate key removes
**    the same member again).
**  - Replacing the root gives the new value itself, with its type.
**  - json_patch merges as RFC 7396 describes, with SQLite's details: only
**    the target's own members are matched (the first with the key as
**    written), each at most once per patch object; nulls inside an added
**    value are dropped.
**  - Keys added from a path are written as JSON strings (escaped); all other
**    text is written as it was in its document.
*/

enum { JN_REMOVE = 1, JN_REPLACE = 2, JN_PATCH = 4, JN_ADDED = 8, JN_KEYTEXT = 16 };

/* A node: a JSON value (its raw text for scalars, children for arrays and
** objects) that may be a member of an object (key set). */
typedef struct jnode {
  uint8_t kind;  /* sl_json_kind */
  uint8_t flags; /* JN_* */
  int32_t first; /* first child, -1 */
  int32_t last;  /* last child, -1 */
  int32_t next;  /* next sibling, -1 */
  int32_t sub;   /* JN_REPLACE: the argument that replaces it; JN_PATCH: its node */
  const char *z; /* scalar: its text */
  size_t n;
  const char *key; /* member: the key, raw (as written between the quotes) or,
                      with JN_KEYTEXT, as text to escape (added from a path) */
  size_t klen;
} jnode;

typedef struct jtree {
  sl_buf *b; /* the nodes */
  int32_t count;
} jtree;

#define JN(t, i) (((jnode *)(t)->b->z)[i])

/* A new node of kind k, childless; returns its index. */
static int32_t jn_new(jtree *t, int kind) {
  sl_buf_reserve(t->b, sizeof(jnode));
  int32_t i = t->count++;
  t->b->n += sizeof(jnode);
  jnode *x = &JN(t, i);
  memset(x, 0, sizeof *x);
  x->kind = (uint8_t)kind;
  x->first = x->last = x->next = x->sub = -1;
  return i;
}

static void jn_append(jtree *t, int32_t parent, int32_t child) {
  if (JN(t, parent).last < 0)
    JN(t, parent).first = child;
  else
    JN(t, JN(t, parent).last).next = child;
  JN(t, parent).last = child;
}

/* The tree of the valid JSON value z[0..n) (no surrounding whitespace).
** Nesting is bounded by validation (SL_JSON_MAX_DEPTH). */
static int32_t jn_parse(jtree *t, const char *z, size_t n) {
  sl_json_kind kind;
  sl_json_skip(z, n, 0, &kind);
  int32_t me = jn_new(t, kind);
  if (kind == SL_JSON_OBJECT) {
    size_t i = 1, a, b, klen;
    const char *key;
    int esc;
    sl_json_kind k;
    while (sl_json_member(z, n, &i, &key, &klen, &esc, &a, &b, &k) == 1) {
      int32_t c = jn_parse(t, z + a, b - a);
      JN(t, c).key = key;
      JN(t, c).klen = klen;
      jn_append(t, me, c);
    }
  } else if (kind == SL_JSON_ARRAY) {
    size_t i = 1, a, b;
    sl_json_kind k;
    while (sl_json_element(z, n, &i, &a, &b, &k) == 1)
      jn_append(t, me, jn_parse(t, z + a, b - a));
  } else {
    JN(t, me).z = z;
    JN(t, me).n = n;
  }
  return me;
}

/* A lookup: the path being followed, whether missing parts are added. */
typedef struct jpath {
  const char *z;
  size_t n;
  int add;      /* json_set / json_insert: add what is missing */
  int added;    /* set when the node found was added */
  size_t errat; /* the path error is near z + errat ... */
  int err;
} jpath;

static int32_t jn_step(jtree *t, int32_t at, jpath *p, size_t i);

/* Make the nodes for the rest of the path from i (nothing, ".key...",
** "[0]..."), under a new node returned; *found gets the node the path
** names.  -1 when the rest is none of those (nothing is added then). */
static int32_t jn_make(jtree *t, jpath *p, size_t i, int32_t *found) {
  int32_t top;
  if (i == p->n) {
    top = *found = jn_new(t, SL_JSON_NULL);
    p->added = 1;
    return top;
  }
  if (p->z[i] == '.')
    top = jn_new(t, SL_JSON_OBJECT);
  else if (p->n - i >= 3 && memcmp(p->z + i, "[0]", 3) == 0)
    top = jn_new(t, SL_JSON_ARRAY);
  else
    return -1;
  *found = jn_step(t, top, p, i);
  return *found < 0 ? -1 : top;
}

/* Follow the path from p->z[i] down from node at: the node it names, or -1
** when nothing is there (p->err set on a path error). */
static int32_t jn_step(jtree *t, int32_t at, jpath *p, size_t i) {
  const char *z = p->z;
  size_t n = p->n;
  if (i == n) return at;
  if (JN(t, at).flags & JN_REPLACE) return -1; /* a value set is opaque */
  if (z[i] == '.') {
    if (JN(t, at).kind != SL_JSON_OBJECT) return -1;
    size_t k = i + 1, klen, next;
    const char *key;
    if (k < n && z[k] == '"') {
      size_t q = k + 1;
      while (q < n && z[q] != '"')
        q++;
      if (q >= n) {
        p->err = 1, p->errat = k;
        return -1;
      }
      key = z + k + 1, klen = q - k - 1, next = q + 1;
    } else {
      size_t q = k;
      while (q < n && z[q] != '.' && z[q] != '[')
        q++;
      if (q == k) {
        p->err = 1, p->errat = k;
        return -1;
      }
      key = z + k, klen = q - k, next = q;
    }
    /* keys compare as written, added ones too (as SQLite compares labels) */
    for (int32_t c = JN(t, at).first; c >= 0; c = JN(t, c).next)
      if (JN(t, c).klen == klen && memcmp(JN(t, c).key, key, klen) == 0)
        return jn_step(t, c, p, next);
    if (!p->add) return -1;
    int32_t found, top = jn_make(t, p, next, &found);
    if (top < 0) return -1;
    JN(t, top).key = key;
    JN(t, top).klen = klen;
    JN(t, top).flags |= JN_KEYTEXT | JN_ADDED;
    jn_append(t, at, top);
    return found;
  }
  if (z[i] != '[') {
    p->err = 1, p->errat = i;
    return -1;
  }
  uint32_t idx = 0;
  size_t j = i + 1;
  while (j < n && is_digit(z[j]))
    idx = idx * 10 + (uint32_t)(z[j++] - '0');
  if (j == i + 1 || j >= n || z[j] != ']') {
    if (i + 1 >= n || z[i + 1] != '#') {
      p->err = 1, p->errat = i;
      return -1;
    }
    if (JN(t, at).kind != SL_JSON_ARRAY) return -1;
    idx = 0;
    for (int32_t c = JN(t, at).first; c >= 0; c = JN(t, c).next)
      if (!(JN(t, c).flags & JN_REMOVE)) idx++;
    j = i + 2;
    if (j + 1 < n && z[j] == '-' && is_digit(z[j + 1])) {
      uint32_t x = 0;
      j++;
      do {
        x = x * 10 + (uint32_t)(z[j++] - '0');
      } while (j < n && is_digit(z[j]));
      if (x > idx) return -1;
      idx -= x;
    }
    if (j >= n || z[j] != ']') {
      p->err = 1, p->errat = i;
      return -1;
    }
  }
  if (JN(t, at).kind != SL_JSON_ARRAY) return -1;
  /* SQLite 3.40 keeps an array's own elements in one block and each added
  ** one in a block of its own, and settles on the position it reaches in
  ** the last block: counting goes on across blocks, but once the count is
  ** reached every later block moves the choice to its first element that
  ** is not removed (so [0] of [1,2] with 3 added is the 3) */
  int32_t pick = -1;
  for (int32_t c = JN(t, at).first; c >= 0; c = JN(t, c).next) {
    if (JN(t, c).flags & JN_ADDED) pick = -1; /* a new block */
    if (pick >= 0 || (JN(t, c).flags & JN_REMOVE)) continue;
    if (idx == 0)
      pick = c;
    else
      idx--;
  }
  if (pick >= 0) return jn_step(t, pick, p, j + 1);
  if (idx != 0 || !p->add) return -1;
  int32_t found, top = jn_make(t, p, j + 1, &found);
  if (top < 0) return -1;
  JN(t, top).flags |= JN_ADDED;
  jn_append(t, at, top);
  return found;
}

/* Look path v up from the root (node 0).  -1 when nothing is there or v is
** NULL; -2 after setting the path error on ctx. */
static int32_t jn_lookup(sl_fctx *ctx, jtree *t, sl_value *v, int add, int *added) {
  jpath p = {0};
  p.z = cstr_arg(v, &p.n);
  if (!p.z) return -1;
  p.add = add;
  int32_t r;
  if (p.n == 0 || p.z[0] != '$') {
    p.err = 1, p.errat = 0;
    r = -1;
  } else {
    r = jn_step(t, 0, &p, 1);
  }
  if (p.err) {
    path_error(ctx, p.z + p.errat, p.n - p.errat);
    return -2;
  }
  if (added) *added = p.added;
  return r;
}

/* Append node i minified, with the values that replace nodes (argv).
** -1 when a value cannot be written (the error set on ctx). */
static int jn_render(sl_fctx *ctx, jtree *t, int32_t i, sl_value **argv, sl_buf *out) {
  const jnode *x = &JN(t, i);
  if (x->flags & JN_REPLACE) return append_sql_value(ctx, out, argv[x->sub]);
  if (x->flags & JN_PATCH) return jn_render(ctx, t, x->sub, argv, out);
  if (x->kind != SL_JSON_ARRAY && x->kind != SL_JSON_OBJECT) {
    sl_buf_append(out, x->z, x->n);
    return 0;
  }
  int obj = x->kind == SL_JSON_OBJECT, any = 0;
  sl_buf_putc(out, obj ? '{' : '[');
  for (int32_t c = x->first; c >= 0; c = JN(t, c).next) {
    if (JN(t, c).flags & JN_REMOVE) continue;
    if (any++) sl_buf_putc(out, ',');
    if (obj) {
      if (JN(t, c).flags & JN_KEYTEXT) {
        sl_json_append_string(out, JN(t, c).key, JN(t, c).klen);
      } else {
        sl_buf_putc(out, '"');
        sl_buf_append(out, JN(t, c).key, JN(t, c).klen);
        sl_buf_putc(out, '"');
      }
      sl_buf_putc(out, ':');
    }
    if (jn_render(ctx, t, c, argv, out)) return -1;
    if (sl_too_big(out->n)) {
      sl_result_toobig(ctx);
      return -1;
    }
  }
  sl_buf_putc(out, obj ? '}' : ']');
  return 0;
}

/* Set the result to the tree from node i, as JSON text. */
static void jn_result(sl_fctx *ctx, jtree *t, int32_t i, sl_value **argv) {
  sl_buf *out = scratch();
  if (jn_render(ctx, t, i, argv, out) == 0) result_buf_json(ctx, out);
}

/* Start a tree over argument v (valid JSON): 1 with the root as node 0, 0
** for NULL (result NULL), -1 after an error. */
static int jn_begin(sl_fctx *ctx, jtree *t, sl_value *v) {
  size_t n;
  int err;
  const char *z = json_arg(ctx, v, &n, &err);
  if (!z) return err ? -1 : 0;
  t->b = sl_scratch(SL_SCRATCH_JSON_TREE);
  t->count = 0;
  jn_parse(t, z, n);
  return 1;
}

enum { EDIT_SET, EDIT_INSERT, EDIT_REPLACE };
static const char *const edit_names[] = {"json_set", "json_insert", "json_replace"};

/* json_set / json_insert / json_replace(X, P1, V1, ...). */
static void edit(sl_fctx *ctx, int argc, sl_value **argv, int mode) {
  if (argc < 1) return;
  if ((argc & 1) == 0) {
    sl_result_error(ctx, "%s() needs an odd number of arguments", edit_names[mode]);
    return;
  }
  jtree t;
  if (jn_begin(ctx, &t, argv[0]) <= 0) return;
  for (int i = 1; i < argc; i += 2) {
    int added = 0;
    int32_t at = jn_lookup(ctx, &t, argv[i], mode != EDIT_REPLACE, &added);
    if (at == -2) return;
    if (at >= 0 && (mode != EDIT_INSERT || added)) {
      JN(&t, at).flags |= JN_REPLACE;
      JN(&t, at).sub = i + 1;
    }
  }
  if (JN(&t, 0).flags & JN_REPLACE)
    sl_result_value(ctx, argv[JN(&t, 0).sub]);
  else
    jn_result(ctx, &t, 0, argv);
}

static void f_json_set(sl_fctx *ctx, int argc, sl_value **argv) {
  edit(ctx, argc, argv, EDIT_SET);
}
static void f_json_insert(sl_fctx *ctx, int argc, sl_value **argv) {
  edit(ctx, argc, argv, EDIT_INSERT);
}
static void f_json_replace(sl_fctx *ctx, int argc, sl_value **argv) {
  edit(ctx, argc, argv, EDIT_REPLACE);
}

/* json_remove(X, P, ...): a NULL path makes the result NULL. */
static void f_json_remove(sl_fctx *ctx, int argc, sl_value **argv) {
  if (argc < 1) return;
  jtree t;
  if (jn_begin(ctx, &t, argv[0]) <= 0) return;
  for (int i = 1; i < argc; i++) {
    if (argv[i]->type == SL_NULL) return;
    int32_t at = jn_lookup(ctx, &t, argv[i], 0, NULL);
    if (at == -2) return;
    if (at >= 0) JN(&t, at).flags |= JN_REMOVE;
  }
  if (!(JN(&t, 0).flags & JN_REMOVE)) jn_result(ctx, &t, 0, argv);
}

/* Mark the null members of object i (and of the objects in it) removed. */
static void jn_drop_nulls(jtree *t, int32_t i) {
  if (JN(t, i).kind != SL_JSON_OBJECT) return;
  for (int32_t c = JN(t, i).first; c >= 0; c = JN(t, c).next)
    if (JN(t, c).kind == SL_JSON_NULL)
      JN(t, c).flags |= JN_REMOVE;
    else
      jn_drop_nulls(t, c);
}

/* Unlink the members added to object i (they follow its own ones). */
static void jn_drop_added(jtree *t, int32_t i) {
  int32_t last = -1;
  for (int32_t c = JN(t, i).first; c >= 0 && !(JN(t, c).flags & JN_ADDED); c = JN(t, c).next)
    last = c;
  if (last < 0)
    JN(t, i).first = -1;
  else
    JN(t, last).next = -1;
  JN(t, i).last = last;
}

/* Merge patch node pa into target node ta; returns the node that stands for
** the result (ta, changed in place, or pa). */
static int32_t jn_merge(jtree *t, int32_t ta, int32_t pa) {
  if (JN(t, pa).kind != SL_JSON_OBJECT) return pa;
  if (JN(t, ta).kind != SL_JSON_OBJECT) {
    jn_drop_nulls(t, pa);
    return pa;
  }
  int added = 0;
  for (int32_t pm = JN(t, pa).first; pm >= 0; pm = JN(t, pm).next) {
    int32_t tm = JN(t, ta).first;
    for (; tm >= 0; tm = JN(t, tm).next)
      if (!(JN(t, tm).flags & JN_ADDED) && JN(t, tm).klen == JN(t, pm).klen &&
          memcmp(JN(t, tm).key, JN(t, pm).key, JN(t, pm).klen) == 0)
        break;
    if (tm >= 0) {
      if (JN(t, tm).flags & (JN_REMOVE | JN_PATCH)) continue;
      if (JN(t, pm).kind == SL_JSON_NULL) {
        JN(t, tm).flags |= JN_REMOVE;
      } else {
        int32_t r = jn_merge(t, tm, pm);
        if (r != tm) {
          JN(t, tm).flags |= JN_PATCH;
          JN(t, tm).sub = r;
        }
      }
    } else if (JN(t, pm).kind != SL_JSON_NULL) {
      /* SQLite 3.40 links what one merge adds from the target itself, so a
      ** second merge into the same object (a key twice in the patch) drops
      ** what the first one added */
      if (!added++) jn_drop_added(t, ta);
      jn_drop_nulls(t, pm);
      int32_t add = jn_new(t, SL_JSON_NULL);
      JN(t, add).key = JN(t, pm).key;
      JN(t, add).klen = JN(t, pm).klen;
      JN(t, add).flags = JN_ADDED | JN_PATCH;
      JN(t, add).sub = pm;
      jn_append(t, ta, add);
    }
  }
  return ta;
}

/* json_patch(T, P): T with the merge patch P applied (RFC 7396). */
static void f_json_patch(sl_fctx *ctx, int argc, sl_value **argv) {
  jtree t;
  if (jn_begin(ctx, &t, argv[0]) <= 0) return;
  size_t n;
  int err;
  const char *z = json_arg(ctx, argv[1], &n, &err);
  if (!z) return;
  int32_t pa = jn_parse(&t, z, n);
  jn_result(ctx, &t, jn_merge(&t, 0, pa), argv);
}

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
    J("json_set", -1, f_json_set, 0, "json_set(X, P, V, ...): X with V at P (set or added)"),
    J("json_insert", -1, f_json_insert, 0, "json_insert(X, P, V, ...): X with V added at P"),
    J("json_replace", -1, f_json_replace, 0, "json_replace(X, P, V, ...): X with P replaced"),
    J("json_remove", -1, f_json_remove, 0, "json_remove(X, P, ...): X without P"),
    J("json_patch", 2, f_json_patch, 0, "json_patch(T, P): T merge-patched with P (RFC 7396)"),
    J("vector", -1, f_vector, 0,
      "vector(X) or vector(a, b, ...): a VECTOR from a JSON array, '1,2,3' or numbers"),
    J("vector_len", 1, f_vector_len, 0, "vector_len(V): number of elements"),
    J("vector_get", 2, f_vector_get, 0, "vector_get(V, i): element i (0-based) as REAL"),
    J("vector_dot", 2, f_vector_dot, 0, "vector_dot(A, B): dot product"),
    J("vector_norm", 1, f_vector_norm, 0, "vector_norm(V): Euclidean norm"),
    {NULL, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL, NULL, NULL, NULL},
};
