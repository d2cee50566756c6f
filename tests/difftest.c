/*
** difftest.c - the differential test: random SQL expressions evaluated by
** sluice and by the sqlite3 library, compared for value AND type.
**
** A seeded generator builds expressions over integers (small, large, near
** the 64-bit limits), reals (fractions, exponents, negative zero), text
** (numeric-looking or not, empty, with spaces) and NULL, nested with the
** operators and functions of SQLite's expression language.  Each is run as
** `SELECT <expr>` in both engines.  Results match when both fail, or both
** give the same storage class and the same value (REAL bit for bit, TEXT and
** BLOB byte for byte).
**
** usage: difftest [--seed N] [--count N] [--engine sluice|sqlite] [-v]
** (--engine sqlite compares sqlite with itself: a check of the harness.)
** Ends with "N passed, M failed"; exits 0 only when M == 0.
*/
#include <math.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice.h"

/* ---- generator --------------------------------------------------------- */

static uint64_t rng;

static uint64_t rnd(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

static int pick(int n) {
  return (int)(rnd() % (uint64_t)n);
}

typedef struct buf {
  char *z;
  size_t n, cap;
} buf;

static void put(buf *b, const char *s) {
  size_t l = strlen(s);
  if (b->n + l + 1 > b->cap) {
    b->cap = (b->n + l + 1) * 2;
    b->z = realloc(b->z, b->cap);
  }
  memcpy(b->z + b->n, s, l + 1);
  b->n += l;
}

static const char *const ints[] = {"0", "1", "-1", "2", "3", "7", "-7", "10", "42", "-100", "255",
                                   "9223372036854775807", "-9223372036854775808",
                                   "9223372036854775806", "4611686018427387904", "2147483648",
                                   "-2147483649", "9007199254740993", "1000000"};
static const char *const reals[] = {"0.0",  "-0.0",  "0.5",    "1.5",     "-2.5",   "3.14159",
                                    "1e10", "1.0e-5", "-1e300", "2.0",     "100.25", "1e308",
                                    "0.1",  "-0.75", "123456.789", "9.2233720368547758e18"};
static const char *const texts[] = {"''",    "'abc'",  "'12'",   "' 7 '",   "'1e3'",  "'3.5x'",
                                    "'-4'",  "'0x10'", "'ABC'",  "'a%c'",   "'hello world'",
                                    "'9223372036854775808'", "'  '",  "'1.0'", "'-0'", "'x_y'",
                                    "'{\"a\":1,\"b\":[2,3.5,\"t\"],\"c\":{\"d\":null}}'", "'[1,2,3]'"};

static void gen(buf *b, int depth);

static void leaf(buf *b) {
  switch (pick(10)) {
  case 0:
  case 1:
  case 2:
  case 3: put(b, ints[pick((int)(sizeof ints / sizeof *ints))]); break;
  case 4:
  case 5:
  case 6: put(b, reals[pick((int)(sizeof reals / sizeof *reals))]); break;
  case 7:
  case 8: put(b, texts[pick((int)(sizeof texts / sizeof *texts))]); break;
  default: put(b, "NULL"); break;
  }
}

static void call(buf *b, const char *name, int nargs, int depth) {
  put(b, name);
  put(b, "(");
  for (int i = 0; i < nargs; i++) {
    if (i) put(b, ", ");
    gen(b, depth - 1);
  }
  put(b, ")");
}

static void gen(buf *b, int depth) {
  if (depth <= 0 || pick(4) == 0) {
    leaf(b);
    return;
  }
  static const char *const binops[] = {" + ", " - ",  " * ",  " / ",  " % ",   " & ",  " | ",
                                       " << ", " >> ", " || ", " = ",  " == ", " <> ", " != ",
                                       " < ",  " <= ", " > ",  " >= ", " AND ", " OR ", " IS ",
                                       " IS NOT ", " IS DISTINCT FROM ", " IS NOT DISTINCT FROM "};
  static const char *const types[] = {"INTEGER", "REAL", "TEXT", "NUMERIC", "BLOB"};
  static const char *const f1[] = {"abs", "length", "lower", "upper", "trim", "ltrim", "rtrim",
                                   "typeof", "hex", "sign", "sqrt", "exp", "ln", "floor", "ceil",
                                   "round", "quote", "unicode", "log10", "trunc", "degrees"};
  static const char *const f2[] = {"substr", "instr", "round", "pow", "nullif", "ifnull", "trim",
                                   "mod", "atan2", "log", "max", "min", "glob", "like"};
  switch (pick(18)) {
  case 0:
  case 1:
  case 2:
  case 3:
  case 4:
    put(b, "(");
    gen(b, depth - 1);
    put(b, binops[pick((int)(sizeof binops / sizeof *binops))]);
    gen(b, depth - 1);
    put(b, ")");
    break;
  case 5: {
    static const char *const un[] = {"-", "+", "~", "NOT "};
    put(b, "(");
    put(b, un[pick(4)]);
    gen(b, depth - 1);
    put(b, ")");
    break;
  }
  case 6:
    put(b, "CAST(");
    gen(b, depth - 1);
    put(b, " AS ");
    put(b, types[pick(5)]);
    put(b, ")");
    break;
  case 7:
    put(b, "(CASE ");
    if (pick(2)) gen(b, depth - 1);
    for (int i = 0, n = 1 + pick(2); i < n; i++) {
      put(b, " WHEN ");
      gen(b, depth - 1);
      put(b, " THEN ");
      gen(b, depth - 1);
    }
    if (pick(2)) {
      put(b, " ELSE ");
      gen(b, depth - 1);
    }
    put(b, " END)");
    break;
  case 8:
    put(b, "(");
    gen(b, depth - 1);
    put(b, pick(2) ? " BETWEEN " : " NOT BETWEEN ");
    gen(b, depth - 1);
    put(b, " AND ");
    gen(b, depth - 1);
    put(b, ")");
    break;
  case 9:
    put(b, "(");
    gen(b, depth - 1);
    put(b, pick(2) ? " IN (" : " NOT IN (");
    /* at least one element: see docs/differences.md on `x IS (y IN ())` */
    for (int i = 0, n = 1 + pick(3); i < n; i++) {
      if (i) put(b, ", ");
      gen(b, depth - 1);
    }
    put(b, "))");
    break;
  case 10:
    put(b, "(");
    gen(b, depth - 1);
    put(b, pick(2) ? " LIKE " : pick(2) ? " NOT LIKE " : " GLOB ");
    gen(b, depth - 1);
    put(b, ")");
    break;
  case 11:
    put(b, "(");
    gen(b, depth - 1);
    put(b, pick(2) ? " IS NULL)" : " NOTNULL)");
    break;
  case 12: call(b, f1[pick((int)(sizeof f1 / sizeof *f1))], 1, depth); break;
  case 13: call(b, f2[pick((int)(sizeof f2 / sizeof *f2))], 2, depth); break;
  case 14:
    call(b, pick(2) ? "coalesce" : "iif", pick(2) ? 3 : 3, depth);
    break;
  case 15:
    call(b, pick(3) ? "substr" : "replace", 3, depth);
    break;
  case 16: {
    /* no %c: see docs/differences.md on NUL characters */
    static const char *const fmts[] = {"'%d'",  "'%s'",   "'%x'",   "'%5d|%-5s|'", "'%%'",
                                       "'%q'",  "'%Q'",   "'%o'",   "'%3s'",       "'%.2f'",
                                       "'%e'",  "'%g'",   "'%!.3g'", "'%10.4f'",   "'%,d'"};
    put(b, "printf(");
    put(b, fmts[pick((int)(sizeof fmts / sizeof *fmts))]);
    put(b, ", ");
    gen(b, depth - 1);
    put(b, ")");
    break;
  }
  default: {
    static const char *const paths[] = {"'$.a'", "'$.b[1]'", "'$.c'", "'$.c.d'", "'$.b'",
                                        "'$[0]'", "'$.nope'", "'$.b[#-1]'"};
    const char *json = texts[16 + pick(2)];
    const char *path = paths[pick((int)(sizeof paths / sizeof *paths))];
    int form = pick(3);
    put(b, form == 0 ? "json_extract(" : "(");
    put(b, json);
    put(b, form == 0 ? ", " : form == 1 ? " ->> " : " -> ");
    put(b, path);
    put(b, ")");
    break;
  }
  }
}

/* ---- engines ---------------------------------------------------------------- */

typedef struct val {
  int failed;
  int type; /* SLUICE_* / SQLITE_* share numbering 1..5 */
  long long i;
  double r;
  char *bytes;
  size_t n;
} val;

static void val_free(val *v) {
  free(v->bytes);
  memset(v, 0, sizeof *v);
}

static void eval_sqlite(sqlite3 *db, const char *sql, val *out) {
  sqlite3_stmt *st;
  memset(out, 0, sizeof *out);
  if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
    out->failed = 1;
    return;
  }
  int rc = sqlite3_step(st);
  if (rc != SQLITE_ROW) {
    out->failed = 1;
    sqlite3_finalize(st);
    return;
  }
  int t = sqlite3_column_type(st, 0);
  out->type = t == SQLITE_NULL ? 0 : t;
  if (t == SQLITE_INTEGER) out->i = sqlite3_column_int64(st, 0);
  if (t == SQLITE_FLOAT) out->r = sqlite3_column_double(st, 0);
  if (t == SQLITE_TEXT || t == SQLITE_BLOB) {
    const void *p = t == SQLITE_TEXT ? (const void *)sqlite3_column_text(st, 0) : sqlite3_column_blob(st, 0);
    out->n = (size_t)sqlite3_column_bytes(st, 0);
    out->bytes = malloc(out->n + 1);
    if (out->n) memcpy(out->bytes, p, out->n);
    out->bytes[out->n] = 0;
  }
  if (sqlite3_step(st) == SQLITE_ERROR) out->failed = 1;
  sqlite3_finalize(st);
}

static int sluice_cb(void *ud, int ncol, const char *const *names, sluice_value **row) {
  val *out = ud;
  int t = sluice_value_type(row[0]);
  out->type = t;
  if (t == SLUICE_INTEGER) out->i = sluice_value_int64(row[0]);
  if (t == SLUICE_FLOAT) out->r = sluice_value_double(row[0]);
  if (t == SLUICE_TEXT || t == SLUICE_BLOB) {
    size_t n;
    const char *z = sluice_value_text(row[0], &n);
    out->n = n;
    out->bytes = malloc(n + 1);
    if (n) memcpy(out->bytes, z, n);
    out->bytes[n] = 0;
  }
  return 0;
}

static void eval_sluice(sluice *db, const char *sql, val *out) {
  memset(out, 0, sizeof *out);
  char *err = NULL;
  if (sluice_exec(db, sql, sluice_cb, out, &err)) out->failed = 1;
  free(err);
}

static int same(const val *a, const val *b) {
  if (a->failed || b->failed) return a->failed == b->failed;
  if (a->type != b->type) return 0;
  switch (a->type) {
  case 0: return 1;
  case 1: return a->i == b->i;
  case 2: return memcmp(&a->r, &b->r, sizeof a->r) == 0 || (a->r == b->r && a->r == 0);
  default: return a->n == b->n && (a->n == 0 || memcmp(a->bytes, b->bytes, a->n) == 0);
  }
}

static void show(const char *who, const val *v) {
  if (v->failed) {
    fprintf(stderr, "    %s: error\n", who);
    return;
  }
  switch (v->type) {
  case 0: fprintf(stderr, "    %s: NULL\n", who); break;
  case 1: fprintf(stderr, "    %s: integer %lld\n", who, v->i); break;
  case 2: fprintf(stderr, "    %s: real %.17g\n", who, v->r); break;
  case 3: fprintf(stderr, "    %s: text '%s'\n", who, v->bytes); break;
  default: fprintf(stderr, "    %s: blob of %zu bytes\n", who, v->n); break;
  }
}

int main(int argc, char **argv) {
  unsigned long long seed = 1;
  long count = 10000;
  int self = 0, verbose = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--seed") && i + 1 < argc)
      seed = strtoull(argv[++i], NULL, 10);
    else if (!strcmp(argv[i], "--count") && i + 1 < argc)
      count = atol(argv[++i]);
    else if (!strcmp(argv[i], "--engine") && i + 1 < argc)
      self = !strcmp(argv[++i], "sqlite");
    else if (!strcmp(argv[i], "-v"))
      verbose = 1;
    else {
      fprintf(stderr, "usage: difftest [--seed N] [--count N] [--engine sluice|sqlite] [-v]\n");
      return 2;
    }
  }
  rng = seed * 2654435761ULL + 88172645463325252ULL;
  sqlite3 *qdb;
  sqlite3_open(":memory:", &qdb);
  sluice *sdb = sluice_open();
  long pass = 0, fail = 0, errors_both = 0;
  buf b = {0};
  for (long k = 0; k < count; k++) {
    b.n = 0;
    put(&b, "SELECT ");
    gen(&b, 1 + pick(4));
    val want, got;
    eval_sqlite(qdb, b.z, &want);
    if (self)
      eval_sqlite(qdb, b.z, &got);
    else
      eval_sluice(sdb, b.z, &got);
    if (same(&want, &got)) {
      pass++;
      errors_both += want.failed;
    } else {
      fail++;
      if (fail <= 20 || verbose) {
        fprintf(stderr, "MISMATCH %s\n", b.z);
        show("sqlite", &want);
        show("sluice", &got);
      }
    }
    val_free(&want);
    val_free(&got);
  }
  printf("difftest seed %llu: %ld expressions, %ld of them errors in both engines\n", seed, count,
         errors_both);
  printf("%ld passed, %ld failed\n", pass, fail);
  free(b.z);
  sluice_close(sdb);
  sqlite3_close(qdb);
  return fail ? 1 : 0;
}
