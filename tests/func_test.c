/*
** func_test.c - the built-in scalar functions (func_core.c) and the basic
** aggregates (agg_basic.c) called through their sl_func descriptors and
** compared with the sqlite3 library, value AND type.
**
** Scalars: every descriptor of sl_builtin_core[] and sl_builtin_date[] (the
** latter never without arguments: that is 'now') is called on combinations of
** a pool of tricky values (integers near the 64-bit limits, reals with
** fractions, exponents and negative zero, numeric-looking and unicode text,
** text with an embedded NUL, blobs, NULL) and sqlite3 evaluates
** `SELECT f(?1, ..., ?N)` with the same values bound.  Results match when both
** fail with the same message, or both give the same storage class and the
** same value (REAL bit for bit, TEXT and BLOB byte for byte).
**
** Aggregates: small generated tables, `SELECT agg(x) FROM t` against
** xStep.../xFinal, and `agg(x) OVER (ORDER BY id ROWS BETWEEN 2 PRECEDING AND
** CURRENT ROW)` against xStep/xInverse/xValue (a sliding frame).
**
** Deliberate differences, not compared: random() and randomblob() (only the
** type and length of randomblob's result are checked); concat(), concat_ws()
** and octet_length() are newer than SQLite 3.40.1, so their expected values
** are computed here from SQLite's text rendering of each argument.
**
** usage: func_test [-v] [--seed N].  Ends with "N passed, M failed"; exits
** 0 only when M == 0.
*/
#include <math.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "func.h"

/* ---- the pool of argument values ---------------------------------------- */

/* One test value as both engines receive it. */
typedef struct tv {
  int type; /* SL_NULL .. SL_BLOB */
  int64_t i;
  double r;
  const char *z;
  int n;
} tv;

#define TI(x)                                                                                      \
  { SL_INTEGER, (x), 0, NULL, 0 }
#define TR(x)                                                                                      \
  { SL_REAL, 0, (x), NULL, 0 }
#define TT(s)                                                                                      \
  { SL_TEXT, 0, 0, s, (int)sizeof(s) - 1 }
#define TB(s)                                                                                      \
  { SL_BLOB, 0, 0, s, (int)sizeof(s) - 1 }
#define TN                                                                                         \
  { SL_NULL, 0, 0, NULL, 0 }

static const tv pool[] = {
    TN,
    TI(0),
    TI(1),
    TI(-1),
    TI(2),
    TI(3),
    TI(-7),
    TI(42),
    TI(100),
    TI(255),
    TI(-300),
    TI(65),
    TI(233),
    TI(1000000),
    TI(1114112),
    TI(INT64_MAX),
    TI(INT64_MIN),
    TI(INT64_MIN + 1),
    TI(9007199254740993LL),
    TI(4503599627370497LL),
    TI(55296),
    TI(57343), /* char(): the last surrogate, and each UTF-8 length's bounds */
    TI(127),
    TI(128),
    TI(2047),
    TI(2048),
    TI(65535),
    TI(65536),
    TI(1114111),
    TI(2147483648LL),
    TI(-2147483649LL),
    TI(4294967297LL),
    TR(0.0),
    TR(-0.0),
    TR(0.5),
    TR(-0.5),
    TR(1.5),
    TR(2.5),
    TR(-2.5),
    TR(0.1),
    TR(3.14159),
    TR(-1.25),
    TR(1e20),
    TR(-1e300),
    TR(1e-300),
    TR(123456789.987654321),
    TR(4503599627370497.0),
    TR(9.2233720368547758e18),
    TR(2.0),
    TR(1.0 / 3.0),
    TR(12.345678),
    TR(2.675),
    TR(1.005),
    TR(-1.5),
    TR(1e15 + 0.5),
    TR(0.49999999999999994),
    TR(INFINITY),
    TR(-INFINITY),
    TR(5e-324),
    TR(1.7976931348623157e308),
    TR(-123456.5),
    TT(""),
    TT("abc"),
    TT("ABC"),
    TT("héllo"),
    TT("HÉLLO"),
    TT("日本語"),
    TT("  padded  "),
    TT("12"),
    TT(" 12 "),
    TT("1.5"),
    TT("-2.5e1"),
    TT("1e3"),
    TT("0x10"),
    TT("12abc"),
    TT("abc%"),
    TT("a_c"),
    TT("%"),
    TT("_"),
    TT("%b%"),
    TT("a%"),
    TT("[a-c]*"),
    TT("*"),
    TT("?"),
    TT("[^x]?c"),
    TT("it's"),
    TT("xyx"),
    TT("x"),
    TT("é"),
    TT("a\0b"),
    TT("9223372036854775808"),
    TT("-9223372036854775808"),
    TT("2.0"),
    TT("inf"),
    TT("\x80z"),
    TT("\xf0\x9f\x98\x80!"),
    TT("\xc3\x84"
       "b"),
    TT("%\xc3\xa9%"),
    TT("[\xc3\xa9]"),
    TT("\\"),
    TT("a\\%"),
    TT("\\%"),
    TT("0.0"),
    TT(" "),
    TT("1e400"),
    TT("-0"),
    TB(""),
    TB("\x00"),
    TB("ABC"),
    TB("\xff\x00\x41"),
    TB("\xc3\xa9"),
    TB("b"),
    TB("\x80"),
    TB("12"),
};
#define NPOOL ((int)SL_ARRAY_SIZE(pool))

/* A smaller pool for three-argument functions. */
static const int small[] = {0,  1,  2,  3,  7,  11, 15, 16, 21, 24, 27, 30, 39, 40,
                            42, 47, 48, 54, 55, 58, 62, 64, 65, 66, 67, 73, 74, 75};
#define NSMALL ((int)SL_ARRAY_SIZE(small))

/* ---- results ------------------------------------------------------------- */

/* A result: type, value, bytes (copied), or an error message. */
typedef struct res {
  int failed;
  char msg[256];
  int type;
  int64_t i;
  double r;
  char *z;
  int n;
} res;

static void res_clear(res *r) {
  free(r->z);
  memset(r, 0, sizeof *r);
}

static void res_set_bytes(res *r, const void *z, int n) {
  r->z = malloc((size_t)n + 1);
  if (n) memcpy(r->z, z, (size_t)n);
  r->z[n] = 0;
  r->n = n;
}

static int res_equal(const res *a, const res *b) {
  if (a->failed || b->failed) return a->failed == b->failed && strcmp(a->msg, b->msg) == 0;
  if (a->type != b->type) return 0;
  switch (a->type) {
  case SL_NULL: return 1;
  case SL_INTEGER: return a->i == b->i;
  case SL_REAL: return memcmp(&a->r, &b->r, sizeof(double)) == 0;
  default: return a->n == b->n && memcmp(a->z, b->z, (size_t)a->n) == 0;
  }
}

static void res_print(FILE *f, const res *r) {
  if (r->failed) {
    fprintf(f, "error \"%s\"", r->msg);
    return;
  }
  switch (r->type) {
  case SL_NULL: fprintf(f, "NULL"); break;
  case SL_INTEGER: fprintf(f, "%lld", (long long)r->i); break;
  case SL_REAL: fprintf(f, "%.17g (real)", r->r); break;
  case SL_TEXT: fprintf(f, "'%.*s' (text, %d bytes)", r->n, r->z, r->n); break;
  default:
    fprintf(f, "x'");
    for (int i = 0; i < r->n; i++)
      fprintf(f, "%02x", (unsigned char)r->z[i]);
    fprintf(f, "' (blob)");
  }
}

static void tv_print(FILE *f, const tv *v) {
  switch (v->type) {
  case SL_NULL: fprintf(f, "NULL"); break;
  case SL_INTEGER: fprintf(f, "%lld", (long long)v->i); break;
  case SL_REAL: fprintf(f, "%.17g", v->r); break;
  case SL_TEXT:
    fputc('\'', f);
    for (int i = 0; i < v->n; i++)
      if (v->z[i])
        fputc(v->z[i], f);
      else
        fputs("\\0", f);
    fputc('\'', f);
    break;
  default:
    fprintf(f, "x'");
    for (int i = 0; i < v->n; i++)
      fprintf(f, "%02x", (unsigned char)v->z[i]);
    fputc('\'', f);
  }
}

/* ---- sluice side --------------------------------------------------------- */

static void tv_to_value(const tv *t, sl_value *v) {
  switch (t->type) {
  case SL_NULL: sl_value_set_null(v); break;
  case SL_INTEGER: sl_value_set_int(v, t->i); break;
  case SL_REAL: sl_value_set_real(v, t->r); break;
  case SL_TEXT: sl_value_set_text(v, t->z, (size_t)t->n); break;
  default: sl_value_set_blob(v, t->z, (size_t)t->n);
  }
}

static void value_to_res(const sl_value *v, res *r) {
  r->type = v->type;
  switch (v->type) {
  case SL_INTEGER: r->i = v->u.i; break;
  case SL_REAL: r->r = v->u.r; break;
  case SL_TEXT:
  case SL_BLOB: res_set_bytes(r, v->u.z, (int)v->n); break;
  default: break;
  }
}

#define MAXARG 6
static sl_value args[MAXARG];
static sl_value outv;
static sl_buf errbuf;
static sl_coll cur_coll = SL_COLL_BINARY; /* collation given to aggregates */

static void prep_ctx(sl_fctx *ctx, const sl_func *f, void *state) {
  memset(ctx, 0, sizeof *ctx);
  ctx->def = f;
  ctx->out = &outv;
  ctx->state = state;
  ctx->coll = cur_coll;
  ctx->errmsg = &errbuf;
  sl_buf_reset(&errbuf);
  sl_value_set_null(&outv);
}

static void ctx_to_res(sl_fctx *ctx, res *r) {
  if (ctx->failed) {
    r->failed = 1;
    snprintf(r->msg, sizeof r->msg, "%s", errbuf.z ? errbuf.z : "");
  } else {
    value_to_res(&outv, r);
  }
}

static void sluice_call(const sl_func *f, int argc, const tv **a, res *r) {
  sl_value *argv[MAXARG];
  sl_fctx ctx;
  for (int i = 0; i < argc; i++) {
    tv_to_value(a[i], &args[i]);
    argv[i] = &args[i];
  }
  prep_ctx(&ctx, f, NULL);
  f->xFunc(&ctx, argc, argv);
  ctx_to_res(&ctx, r);
}

/* ---- sqlite side --------------------------------------------------------- */

static sqlite3 *db;

static void bind_tv(sqlite3_stmt *s, int i, const tv *t) {
  switch (t->type) {
  case SL_NULL: sqlite3_bind_null(s, i); break;
  case SL_INTEGER: sqlite3_bind_int64(s, i, t->i); break;
  case SL_REAL: sqlite3_bind_double(s, i, t->r); break;
  case SL_TEXT: sqlite3_bind_text(s, i, t->z, t->n, SQLITE_STATIC); break;
  default: sqlite3_bind_blob(s, i, t->z, t->n, SQLITE_STATIC);
  }
}

static void column_to_res(sqlite3_stmt *s, int c, res *r) {
  r->type = sqlite3_column_type(s, c);
  if (r->type == SQLITE_NULL) r->type = SL_NULL;
  switch (r->type) {
  case SL_INTEGER: r->i = sqlite3_column_int64(s, c); break;
  case SL_REAL: r->r = sqlite3_column_double(s, c); break;
  case SL_TEXT: {
    const void *z = sqlite3_column_text(s, c);
    res_set_bytes(r, z, sqlite3_column_bytes(s, c));
    break;
  }
  case SL_BLOB: {
    const void *z = sqlite3_column_blob(s, c);
    res_set_bytes(r, z, sqlite3_column_bytes(s, c));
    break;
  }
  default: break;
  }
}

static sqlite3_stmt *prepare(const char *sql) {
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK) return NULL;
  return s;
}

/* Run a one-row statement with bound values; the first column is the result. */
static void sqlite_eval(sqlite3_stmt *s, int argc, const tv **a, res *r) {
  sqlite3_reset(s);
  sqlite3_clear_bindings(s);
  for (int i = 0; i < argc; i++)
    bind_tv(s, i + 1, a[i]);
  int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) {
    column_to_res(s, 0, r);
  } else {
    r->failed = 1;
    snprintf(r->msg, sizeof r->msg, "%s", sqlite3_errmsg(db));
  }
  sqlite3_reset(s);
}

/* The text SQLite gives an argument (for the emulated newer functions). */
static void sqlite_text_of(const tv *t, res *r) {
  static sqlite3_stmt *s;
  if (!s) s = prepare("SELECT CAST(?1 AS TEXT)");
  const tv *a[1] = {t};
  sqlite_eval(s, 1, a, r);
}

/* Expected results of concat / concat_ws / octet_length (SQLite >= 3.43). */
static int emulate(const char *name, int argc, const tv **a, res *r) {
  if (!strcmp(name, "octet_length")) {
    if (a[0]->type == SL_NULL) {
      r->type = SL_NULL;
    } else {
      res t = {0};
      sqlite_text_of(a[0], &t);
      r->type = SL_INTEGER;
      r->i = t.n;
      res_clear(&t);
    }
    return 1;
  }
  int ws = !strcmp(name, "concat_ws");
  if (!ws && strcmp(name, "concat")) return 0;
  if (ws && a[0]->type == SL_NULL) {
    r->type = SL_NULL;
    return 1;
  }
  sl_buf b, sep;
  sl_buf_init(&b);
  sl_buf_init(&sep);
  if (ws) {
    res t = {0};
    sqlite_text_of(a[0], &t);
    sl_buf_append(&sep, t.z, (size_t)t.n);
    res_clear(&t);
  }
  int k = 0;
  for (int i = ws; i < argc; i++) {
    if (a[i]->type == SL_NULL) continue;
    res t = {0};
    sqlite_text_of(a[i], &t);
    if (k++ && ws) sl_buf_append(&b, sep.z, sep.n);
    sl_buf_append(&b, t.z, (size_t)t.n);
    res_clear(&t);
  }
  r->type = SL_TEXT;
  res_set_bytes(r, b.z ? b.z : "", (int)b.n);
  sl_buf_free(&b);
  sl_buf_free(&sep);
  return 1;
}

/* ---- bookkeeping --------------------------------------------------------- */

static long npass, nfail;
static int verbose;

static void report(const char *what, int argc, const tv **a, const res *got, const res *want) {
  nfail++;
  if (nfail > 20 && !verbose) return;
  fprintf(stderr, "MISMATCH %s(", what);
  for (int i = 0; i < argc; i++) {
    if (i) fputs(", ", stderr);
    tv_print(stderr, a[i]);
  }
  fputs("): sluice ", stderr);
  res_print(stderr, got);
  fputs(", sqlite ", stderr);
  res_print(stderr, want);
  fputc('\n', stderr);
}

static uint64_t rng = 88172645463325252ULL;
static uint64_t rnd(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

/* ---- scalar functions ---------------------------------------------------- */

static void check_call(const sl_func *f, sqlite3_stmt *s, int argc, const tv **a) {
  res got = {0}, want = {0};
  sluice_call(f, argc, a, &got);
  if (!s) {
    if (!emulate(f->name, argc, a, &want)) {
      res_clear(&got);
      return;
    }
  } else {
    sqlite_eval(s, argc, a, &want);
  }
  if (res_equal(&got, &want))
    npass++;
  else
    report(f->name, argc, a, &got, &want);
  res_clear(&got);
  res_clear(&want);
}

/* randomblob(N): a BLOB of SQLite's length. */
static void check_randomblob(const sl_func *f) {
  sqlite3_stmt *s = prepare("SELECT length(randomblob(?1)), typeof(randomblob(?1))");
  for (int i = 0; i < NPOOL; i++) {
    const tv *a[1] = {&pool[i]};
    res got = {0}, want = {0};
    sluice_call(f, 1, a, &got);
    sqlite_eval(s, 1, a, &want);
    if ((got.failed && want.failed && !strcmp(got.msg, want.msg)) ||
        (!got.failed && !want.failed && got.type == SL_BLOB && got.n == want.i)) {
      npass++;
    } else {
      res gl = {0};
      gl.type = SL_INTEGER;
      gl.i = got.type == SL_BLOB ? got.n : -1;
      gl.failed = got.failed;
      memcpy(gl.msg, got.msg, sizeof gl.msg);
      report("length(randomblob)", 1, a, &gl, &want);
    }
    res_clear(&got);
    res_clear(&want);
  }
  sqlite3_finalize(s);
}

static void check_random(const sl_func *f) {
  res got = {0};
  sluice_call(f, 0, NULL, &got);
  if (got.type == SL_INTEGER)
    npass++;
  else
    report("typeof(random)", 0, NULL, &got, &got);
}

/* likelihood(X, P) needs a constant P in SQLite: P is 0.5 here. */
static void check_likelihood(const sl_func *f) {
  static const tv half = TR(0.5);
  sqlite3_stmt *s = prepare("SELECT likelihood(?1, 0.5)");
  for (int i = 0; i < NPOOL; i++) {
    const tv *a[2] = {&pool[i], &half};
    res got = {0}, want = {0};
    sluice_call(f, 2, a, &got);
    sqlite_eval(s, 1, a, &want);
    if (res_equal(&got, &want))
      npass++;
    else
      report(f->name, 2, a, &got, &want);
    res_clear(&got);
    res_clear(&want);
  }
  sqlite3_finalize(s);
}

/* min/max/nullif under NOCASE: the collation of the first argument. */
static void check_nocase(const sl_func *f) {
  char sql[100];
  snprintf(sql, sizeof sql, "SELECT %s(?1 COLLATE NOCASE, ?2)", f->name);
  sqlite3_stmt *s = prepare(sql);
  for (int i = 0; i < NPOOL; i++)
    for (int j = 0; j < NPOOL; j++) {
      const tv *a[2] = {&pool[i], &pool[j]};
      sl_value *argv[2];
      sl_fctx ctx;
      res got = {0}, want = {0};
      for (int k = 0; k < 2; k++) {
        tv_to_value(a[k], &args[k]);
        argv[k] = &args[k];
      }
      prep_ctx(&ctx, f, NULL);
      ctx.coll = SL_COLL_NOCASE;
      f->xFunc(&ctx, 2, argv);
      ctx_to_res(&ctx, &got);
      sqlite_eval(s, 2, a, &want);
      if (res_equal(&got, &want))
        npass++;
      else
        report(f->name, 2, a, &got, &want);
      res_clear(&got);
      res_clear(&want);
    }
  sqlite3_finalize(s);
}

/* Set while testing functions whose call without arguments is not
** reproducible (the date and time functions: 'now'). */
static int skip_no_args;

static void test_scalar(const sl_func *f) {
  if (!strcmp(f->name, "likelihood")) {
    check_likelihood(f);
    return;
  }
  if (f->flags & SL_FUNC_NEEDCOLL) check_nocase(f);
  if (!strcmp(f->name, "random")) {
    check_random(f);
    return;
  }
  if (!strcmp(f->name, "randomblob")) {
    check_randomblob(f);
    return;
  }
  int lo, hi;
  if (f->nargs >= 0) {
    lo = hi = f->nargs;
  } else if (f->nargs == -1) {
    lo = 0;
    hi = 4;
  } else {
    lo = -(f->nargs + 2);
    hi = lo + 3;
  }
  for (int argc = lo; argc <= hi; argc++) {
    if (argc == 0 && skip_no_args) continue;
    char sql[256];
    int k = snprintf(sql, sizeof sql, "SELECT %s(", f->name);
    for (int i = 0; i < argc; i++)
      k += snprintf(sql + k, sizeof sql - (size_t)k, "%s?%d", i ? "," : "", i + 1);
    snprintf(sql + k, sizeof sql - (size_t)k, ")");
    sqlite3_stmt *s = prepare(sql);
    if (!s) {
      /* sqlite refuses this arity (coalesce(x)), or the function is newer */
      if (strcmp(f->name, "concat") && strcmp(f->name, "concat_ws") &&
          strcmp(f->name, "octet_length"))
        continue;
    }
    const tv *a[MAXARG];
    if (f->nargs >= 0 && argc <= 2) {
      if (argc == 0) check_call(f, s, 0, a);
      for (int i = 0; argc >= 1 && i < NPOOL; i++) {
        a[0] = &pool[i];
        if (argc == 1) {
          check_call(f, s, 1, a);
          continue;
        }
        for (int j = 0; j < NPOOL; j++) {
          a[1] = &pool[j];
          check_call(f, s, 2, a);
        }
      }
    } else if (f->nargs == 3) {
      for (int i = 0; i < NSMALL; i++)
        for (int j = 0; j < NSMALL; j++)
          for (int m = 0; m < NSMALL; m++) {
            a[0] = &pool[small[i]];
            a[1] = &pool[small[j]];
            a[2] = &pool[small[m]];
            check_call(f, s, 3, a);
          }
    } else {
      for (int t = 0; t < 3000; t++) {
        for (int i = 0; i < argc; i++)
          a[i] = &pool[rnd() % NPOOL];
        check_call(f, s, argc, a);
      }
    }
    if (s) sqlite3_finalize(s);
  }
}

/* ---- aggregates ---------------------------------------------------------- */

#define MAXROWS 9

/* One generated table: rows of (x, y) in id order. */
typedef struct table {
  int n;
  const tv *x[MAXROWS], *y[MAXROWS];
} table;

static const tv *pick_value(int kind) {
  /* kind 0: anything; 1: numbers and NULL; 2: integers near the limits */
  for (;;) {
    const tv *v = &pool[rnd() % NPOOL];
    if (kind == 0) return v;
    if (kind == 1 && v->type <= SL_REAL) return v;
    if (kind == 2 && (v->type == SL_NULL ||
                      (v->type == SL_INTEGER && (rnd() % 3 || v->i > 1000000 || v->i < -1000000))))
      return v;
  }
}

static void make_table(table *t) {
  int kind = (int)(rnd() % 3);
  t->n = (int)(rnd() % MAXROWS);
  sqlite3_exec(db, "DELETE FROM t", NULL, NULL, NULL);
  sqlite3_stmt *s = prepare("INSERT INTO t(id, x, y) VALUES (?1, ?2, ?3)");
  static const tv seps[] = {TT(","), TT(""), TT("; "), TN, TI(7), TT("é")};
  for (int i = 0; i < t->n; i++) {
    t->x[i] = pick_value(kind);
    t->y[i] = &seps[rnd() % SL_ARRAY_SIZE(seps)];
    sqlite3_reset(s);
    sqlite3_bind_int(s, 1, i);
    bind_tv(s, 2, t->x[i]);
    bind_tv(s, 3, t->y[i]);
    sqlite3_step(s);
  }
  sqlite3_finalize(s);
}

/* Arguments of row i for an aggregate with argc arguments. */
static int row_args(const table *t, int i, int argc, sl_value **argv) {
  if (argc >= 1) tv_to_value(t->x[i], &args[0]);
  if (argc >= 2) tv_to_value(t->y[i], &args[1]);
  for (int k = 0; k < argc; k++)
    argv[k] = &args[k];
  return argc;
}

static void table_print(const table *t) {
  fprintf(stderr, "  table:");
  for (int i = 0; i < t->n; i++) {
    fputs(" (", stderr);
    tv_print(stderr, t->x[i]);
    fputs(", ", stderr);
    tv_print(stderr, t->y[i]);
    fputc(')', stderr);
  }
  fputc('\n', stderr);
}

static void agg_report(const char *sql, const table *t, const res *got, const res *want) {
  nfail++;
  if (nfail > 20 && !verbose) return;
  fprintf(stderr, "MISMATCH %s: sluice ", sql);
  res_print(stderr, got);
  fputs(", sqlite ", stderr);
  res_print(stderr, want);
  fputc('\n', stderr);
  table_print(t);
}

/* The whole table in one group: step every row, then xFinal. */
static void test_agg_group(const sl_func *f, const table *t) {
  char sql[200];
  const char *argl = f->nargs == 0   ? "*"
                     : f->nargs == 2 ? "x, y"
                     : cur_coll      ? "x COLLATE NOCASE"
                                     : "x";
  snprintf(sql, sizeof sql, "SELECT %s(%s) FROM t", f->name, argl);
  sqlite3_stmt *s = prepare(sql);
  res want = {0}, got = {0};
  sqlite_eval(s, 0, NULL, &want);
  sqlite3_finalize(s);

  void *state = calloc(1, f->state_size ? f->state_size : 8);
  sl_fctx ctx;
  sl_value *argv[MAXARG];
  int failed = 0;
  prep_ctx(&ctx, f, state);
  for (int i = 0; i < t->n; i++) {
    int argc = row_args(t, i, f->nargs, argv);
    f->xStep(&ctx, argc, argv);
    if (ctx.failed) failed = 1;
  }
  if (!failed) {
    f->xFinal(&ctx);
  } else {
    sl_fctx c2;
    prep_ctx(&c2, f, state);
    f->xFinal(&c2); /* release the state */
    prep_ctx(&ctx, f, state);
    ctx.failed = 1;
  }
  ctx_to_res(&ctx, &got);
  free(state);
  if (res_equal(&got, &want))
    npass++;
  else
    agg_report(sql, t, &got, &want);
  res_clear(&got);
  res_clear(&want);
}

/* A sliding frame of 3 rows: inverse the row leaving, step the new one,
** xValue per row; compared with SQLite's window function. */
static void test_agg_window(const sl_func *f, const table *t) {
  char sql[300];
  const char *argl = f->nargs == 0   ? ""
                     : f->nargs == 2 ? "x, y"
                     : cur_coll      ? "x COLLATE NOCASE"
                                     : "x";
  snprintf(sql, sizeof sql,
           "SELECT %s(%s) OVER (ORDER BY id ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) FROM t "
           "ORDER BY id",
           f->name, argl);
  sqlite3_stmt *s = prepare(sql);
  if (!s) {
    fprintf(stderr, "cannot prepare %s: %s\n", sql, sqlite3_errmsg(db));
    nfail++;
    return;
  }
  void *state = calloc(1, f->state_size ? f->state_size : 8);
  sl_value *argv[MAXARG];
  sl_fctx ctx;
  int failed = 0;
  for (int i = 0; i < t->n; i++) {
    res want = {0}, got = {0};
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
      column_to_res(s, 0, &want);
    } else {
      want.failed = 1;
      snprintf(want.msg, sizeof want.msg, "%s", sqlite3_errmsg(db));
    }
    prep_ctx(&ctx, f, state);
    int argc;
    if (i >= 3) { /* SQLite removes the leaving row before adding the new one */
      argc = row_args(t, i - 3, f->nargs, argv);
      f->xInverse(&ctx, argc, argv);
      if (ctx.failed) failed = 1;
    }
    argc = row_args(t, i, f->nargs, argv);
    f->xStep(&ctx, argc, argv);
    if (ctx.failed) failed = 1;
    if (!failed) f->xValue(&ctx);
    if (failed) {
      got.failed = 1;
      snprintf(got.msg, sizeof got.msg, "%s", errbuf.z ? errbuf.z : "");
    } else {
      ctx_to_res(&ctx, &got);
    }
    int same = res_equal(&got, &want);
    /* SQLite's sliding min/max keep the frame in an index where equal values
    ** (1 and 1.0, -0.0 and 0.0, 'abc' and 'ABC' under NOCASE) come out in
    ** index order; sluice gives the first of them.  An equal value is
    ** accepted. */
    if (!same && f->flags & SL_FUNC_NEEDCOLL && !got.failed && !want.failed &&
        (got.type == SL_INTEGER || got.type == SL_REAL) &&
        (want.type == SL_INTEGER || want.type == SL_REAL)) {
      double a = got.type == SL_INTEGER ? (double)got.i : got.r;
      double b = want.type == SL_INTEGER ? (double)want.i : want.r;
      same = a == b;
    }
    if (!same && f->flags & SL_FUNC_NEEDCOLL && cur_coll == SL_COLL_NOCASE && !got.failed &&
        !want.failed && got.type == SL_TEXT && want.type == SL_TEXT && got.n == want.n)
      same = sl_strnicmp(got.z, want.z, (size_t)got.n) == 0;
    if (same)
      npass++;
    else
      agg_report(sql, t, &got, &want);
    res_clear(&got);
    res_clear(&want);
    if (rc != SQLITE_ROW || !same) break;
  }
  prep_ctx(&ctx, f, state);
  f->xFinal(&ctx);
  free(state);
  sqlite3_finalize(s);
}

/* ---- main ---------------------------------------------------------------- */

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "-v"))
      verbose = 1;
    else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
      rng = strtoull(argv[++i], NULL, 10) * 2654435761ULL + 1;
  }
  if (sqlite3_open(":memory:", &db) != SQLITE_OK) return 2;
  sqlite3_exec(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, x, y)", NULL, NULL, NULL);
  sl_buf_init(&errbuf);

  for (const sl_func *f = sl_builtin_core; f->name; f++) {
    if (!f->xFunc || !f->doc || !*f->doc) {
      fprintf(stderr, "descriptor %s/%d: no xFunc or no doc\n", f->name, f->nargs);
      nfail++;
      continue;
    }
    test_scalar(f);
  }
  /* the date and time functions: without arguments they read the clock
  ** ('now'), which each side reads at its own moment.  They draw their own
  ** random numbers: the aggregates' tables below stay those of a seed. */
  uint64_t rng_before_date = rng;
  skip_no_args = 1;
  for (const sl_func *f = sl_builtin_date; f->name; f++) {
    if (!f->xFunc || !f->doc || !*f->doc || (f->flags & SL_FUNC_DETERMINISTIC)) {
      fprintf(stderr, "descriptor %s/%d: no xFunc or no doc, or deterministic\n", f->name,
              f->nargs);
      nfail++;
      continue;
    }
    test_scalar(f);
  }
  skip_no_args = 0;
  rng = rng_before_date;

  for (int round = 0; round < 300; round++) {
    table t;
    make_table(&t);
    for (const sl_func *f = sl_builtin_aggregate; f->name; f++) {
      if (!f->xStep || !f->xFinal || !(f->flags & SL_FUNC_AGGREGATE)) {
        if (round == 0) {
          fprintf(stderr, "descriptor %s/%d: not a complete aggregate\n", f->name, f->nargs);
          nfail++;
        }
        continue;
      }
      /* sluice's own aggregates (variances, top_k) have no sqlite3
      ** counterpart: tests/windows.sh checks them against Python */
      char probe[128];
      snprintf(probe, sizeof probe, "SELECT %s(%s) FROM t", f->name,
               f->nargs == 0   ? "*"
               : f->nargs == 2 ? "x, y"
                               : "x");
      sqlite3_stmt *ps = prepare(probe);
      if (!ps) {
        if (round == 0)
          fprintf(stderr, "aggregate %s: not in sqlite3, not compared here\n", f->name);
        continue;
      }
      sqlite3_finalize(ps);
      cur_coll = round % 2 && f->flags & SL_FUNC_NEEDCOLL ? SL_COLL_NOCASE : SL_COLL_BINARY;
      test_agg_group(f, &t);
      if (f->xInverse && f->xValue)
        test_agg_window(f, &t);
      else if (round == 0) {
        fprintf(stderr, "descriptor %s/%d: no xInverse/xValue\n", f->name, f->nargs);
        nfail++;
      }
    }
  }

  for (int i = 0; i < MAXARG; i++)
    sl_value_free(&args[i]);
  sl_value_free(&outv);
  sl_buf_free(&errbuf);
  sqlite3_close(db);
  printf("%ld passed, %ld failed\n", npass, nfail);
  return nfail == 0 ? 0 : 1;
}
