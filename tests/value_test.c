/*
** value_test.c - checks src/value.c against the sqlite3 library.
**
** Every operator, comparison (with and without affinity and collation),
** CAST, unary operator, truth test, column affinity and accessor of value.h
** is run over all pairs of a pool of tricky values, both through sluice's
** functions and as `SELECT ?1 op ?2` (with bound parameters) in sqlite3;
** the results must have the same storage class and the same value (REAL bit
** for bit, TEXT and BLOB byte for byte).  Random doubles check REAL to text
** rendering against CAST(x AS TEXT) and that sl_real_to_shortest is the
** shortest round-trip form; random numeric strings check text to number
** conversion.  A few unit checks cover VECTOR values and buffer handling.
**
** usage: value_test [-v]   (build: value_test.c util.c value.c -lsqlite3 -lm)
** Prints the first 20 mismatches and ends with "N passed, M failed"; exits 0
** only when M == 0.
*/
#include <math.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util.h"
#include "value.h"

static sqlite3 *db;
static long npass, nfail;
static int verbose;

/* ---- helpers ------------------------------------------------------------ */

/* Prepare sql on the test database; aborts on error (a harness bug). */
static sqlite3_stmt *prep(const char *sql) {
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
    fprintf(stderr, "prepare failed: %s: %s\n", sql, sqlite3_errmsg(db));
    exit(2);
  }
  return st;
}

/* Bind v (not a VECTOR) as parameter i of st; sqlite copies the bytes. */
static void bind_value(sqlite3_stmt *st, int i, const sl_value *v) {
  switch (v->type) {
  case SL_INTEGER: sqlite3_bind_int64(st, i, v->u.i); break;
  case SL_REAL: sqlite3_bind_double(st, i, v->u.r); break;
  case SL_TEXT: sqlite3_bind_text(st, i, v->u.z, (int)v->n, SQLITE_TRANSIENT); break;
  case SL_BLOB: sqlite3_bind_blob(st, i, v->u.z, (int)v->n, SQLITE_TRANSIENT); break;
  default: sqlite3_bind_null(st, i); break;
  }
}

/* Copy column i of the current row of st into out (out owns the bytes). */
static void column_value(sqlite3_stmt *st, int i, sl_value *out) {
  switch (sqlite3_column_type(st, i)) {
  case SQLITE_INTEGER: sl_value_set_int(out, sqlite3_column_int64(st, i)); break;
  case SQLITE_FLOAT: sl_value_set_real(out, sqlite3_column_double(st, i)); break;
  case SQLITE_TEXT: {
    const char *z = (const char *)sqlite3_column_text(st, i);
    sl_value_set_text(out, z, (size_t)sqlite3_column_bytes(st, i));
    break;
  }
  case SQLITE_BLOB: {
    const void *z = sqlite3_column_blob(st, i);
    sl_value_set_blob(out, z ? z : "", (size_t)sqlite3_column_bytes(st, i));
    break;
  }
  default: sl_value_set_null(out); break;
  }
}

/* Run st (parameters already bound) and leave it on its first row. */
static void step(sqlite3_stmt *st) {
  int rc = sqlite3_step(st);
  if (rc != SQLITE_ROW) {
    fprintf(stderr, "step failed: %s: %s\n", sqlite3_sql(st), sqlite3_errmsg(db));
    exit(2);
  }
}

/* Same storage class and the same value: REAL bit for bit, bytes exactly. */
static int same(const sl_value *a, const sl_value *b) {
  if (a->type != b->type) return 0;
  switch (a->type) {
  case SL_NULL: return 1;
  case SL_INTEGER: return a->u.i == b->u.i;
  case SL_REAL: return memcmp(&a->u.r, &b->u.r, sizeof(double)) == 0;
  case SL_VECTOR: return a->n == b->n && memcmp(a->u.v, b->u.v, a->n * sizeof(double)) == 0;
  default: return a->n == b->n && (a->n == 0 || memcmp(a->u.z, b->u.z, a->n) == 0);
  }
}

/* Describe v for a message: type and a readable value, in out (256 bytes). */
static const char *describe(const sl_value *v, char *out) {
  switch (v->type) {
  case SL_NULL: snprintf(out, 256, "NULL"); break;
  case SL_INTEGER: snprintf(out, 256, "%lld", (long long)v->u.i); break;
  case SL_REAL: snprintf(out, 256, "real %.17g", v->u.r); break;
  case SL_VECTOR: snprintf(out, 256, "vector[%u]", v->n); break;
  default: {
    int k = snprintf(out, 256, v->type == SL_TEXT ? "'" : "x'");
    for (uint32_t i = 0; i < v->n && k < 200; i++) {
      unsigned char c = (unsigned char)v->u.z[i];
      if (v->type == SL_TEXT && c >= 32 && c < 127)
        out[k++] = (char)c;
      else
        k += snprintf(out + k, 256 - (size_t)k, v->type == SL_TEXT ? "\\x%02x" : "%02x", c);
    }
    snprintf(out + k, 256 - (size_t)k, "'");
    break;
  }
  }
  return out;
}

/* Record one check: got (sluice) against want (sqlite). */
static void check(const char *label, const sl_value *got, const sl_value *want) {
  if (same(got, want)) {
    npass++;
    return;
  }
  if (nfail++ < 20 || verbose) {
    char g[256], w[256];
    printf("MISMATCH %s: sluice %s, sqlite %s\n", label, describe(got, g), describe(want, w));
  }
}

/* Record a boolean check with a preformatted message. */
static void check_true(int ok, const char *label) {
  if (ok) {
    npass++;
    return;
  }
  if (nfail++ < 20 || verbose) printf("FAIL %s\n", label);
}

/* ---- the pool of operands -------------------------------------------------- */

static sl_value pool[160];
static int npool;

static sl_value *add(void) {
  sl_value init = SL_VALUE_INIT;
  pool[npool] = init;
  return &pool[npool++];
}
static void add_int(int64_t i) {
  sl_value_set_int(add(), i);
}
static void add_real(double r) {
  sl_value_set_real(add(), r);
}
static void add_text(const char *z) {
  sl_value_set_text(add(), z, strlen(z));
}
static void add_blob(const char *z, size_t n) {
  sl_value_set_blob(add(), z, n);
}

static void build_pool(void) {
  static const int64_t ints[] = {0,
                                 1,
                                 -1,
                                 2,
                                 3,
                                 -3,
                                 7,
                                 10,
                                 63,
                                 64,
                                 65,
                                 -64,
                                 -65,
                                 255,
                                 2147483648LL,
                                 INT64_MAX,
                                 INT64_MIN,
                                 INT64_MAX - 1,
                                 INT64_MIN + 1,
                                 9007199254740992LL,
                                 9007199254740993LL,
                                 9007199254740991LL,
                                 -9007199254740993LL,
                                 4611686018427387904LL,
                                 3037000500LL,
                                 1000000007LL};
  static const double reals[] = {0.0,
                                 -0.0,
                                 1.0,
                                 -1.0,
                                 0.5,
                                 1.5,
                                 -2.5,
                                 2.0,
                                 1.9,
                                 -1.9,
                                 0.1,
                                 3.14159,
                                 1e308,
                                 -1e308,
                                 1e-5,
                                 1e-300,
                                 4.9e-324,
                                 1e20,
                                 1e15,
                                 1e16,
                                 123456789012345.6,
                                 9007199254740992.0,
                                 9007199254740994.0,
                                 9.3e18,
                                 -9.3e18,
                                 9223372036854775807.0,
                                 -9223372036854775808.0,
                                 4.5e15,
                                 64.0,
                                 -64.5,
                                 0.30000000000000004,
                                 2251799813685248.0,
                                 2251799813685247.0,
                                 1e100};
  static const char *const texts[] = {"",
                                      " ",
                                      " 12 ",
                                      "12",
                                      "12abc",
                                      "12 abc",
                                      "abc",
                                      "ABC",
                                      "Abc",
                                      "abc ",
                                      "abc  ",
                                      "1e3",
                                      " 1e3 ",
                                      "1E3",
                                      "0x10",
                                      "-",
                                      "+",
                                      ".",
                                      ".5",
                                      "5.",
                                      "-.5",
                                      "+5",
                                      "12.0",
                                      "3.0",
                                      "0",
                                      "-0",
                                      "-0.0",
                                      "007",
                                      "1.5e",
                                      "1e+",
                                      "1e-2x",
                                      "e5",
                                      "\t7\n",
                                      "0.1",
                                      "2.5",
                                      "9223372036854775807",
                                      "9223372036854775808",
                                      "-9223372036854775808",
                                      "-9223372036854775809",
                                      "9223372036854775807.0",
                                      "00000000000000000000012",
                                      "123456789012345678901234567890",
                                      "1e400",
                                      "-1e400",
                                      "9.3e18",
                                      "inf",
                                      "NaN",
                                      "4.9e-324",
                                      "1e-400",
                                      "64",
                                      "-64",
                                      "1.0000000000000002",
                                      "0.30000000000000004",
                                      "2251799813685248.0",
                                      "9007199254740993",
                                      "9007199254740993.0",
                                      "\xc3\xa9t\xc3\xa9",
                                      "a\x01z"};
  add(); /* NULL */
  for (size_t i = 0; i < SL_ARRAY_SIZE(ints); i++)
    add_int(ints[i]);
  for (size_t i = 0; i < SL_ARRAY_SIZE(reals); i++)
    add_real(reals[i]);
  add_real(INFINITY);
  add_real(-INFINITY);
  for (size_t i = 0; i < SL_ARRAY_SIZE(texts); i++)
    add_text(texts[i]);
  sl_value_set_text(add(),
                    "12\0"
                    "34",
                    5); /* embedded NUL */
  add_blob("", 0);
  add_blob("\0", 1);
  add_blob("12", 2);
  add_blob("123", 3);
  add_blob("abc", 3);
  add_blob("A", 1);
  add_blob("1e3", 3);
  add_blob(" 5 ", 3);
}

/* ---- binary operators ---------------------------------------------------- */

static const char *const arith_sql[] = {"+", "-", "*", "/", "%", "&", "|", "<<", ">>"};

static void test_binary(void) {
  sqlite3_stmt *st[10];
  char sql[128];
  for (int o = 0; o < 9; o++) {
    snprintf(sql, sizeof sql, "SELECT ?1 %s ?2", arith_sql[o]);
    st[o] = prep(sql);
  }
  st[9] = prep("SELECT ?1 || ?2");
  sl_value got = SL_VALUE_INIT, want = SL_VALUE_INIT, a = SL_VALUE_INIT, b = SL_VALUE_INIT;
  for (int i = 0; i < npool; i++)
    for (int j = 0; j < npool; j++) {
      char da[256], db_[256], label[600];
      for (int o = 0; o < 10; o++) {
        sqlite3_reset(st[o]);
        bind_value(st[o], 1, &pool[i]);
        bind_value(st[o], 2, &pool[j]);
        step(st[o]);
        column_value(st[o], 0, &want);
        if (o < 9) {
          sl_value_arith((sl_arith_op)o, &pool[i], &pool[j], &got);
        } else {
          /* concat renders numbers into its operands' buffers: use copies */
          sl_value_copy(&a, &pool[i]);
          sl_value_copy(&b, &pool[j]);
          sl_value_concat(&a, &b, &got);
          check("concat leaves a unchanged", &a, &pool[i]);
          check("concat leaves b unchanged", &b, &pool[j]);
        }
        snprintf(label, sizeof label, "%s %s %s", describe(&pool[i], da),
                 o < 9 ? arith_sql[o] : "||", describe(&pool[j], db_));
        check(label, &got, &want);
      }
      /* out aliasing an input */
      sl_value_copy(&a, &pool[i]);
      sl_value_arith(SL_OP_ADD, &a, &pool[j], &a);
      sl_value_arith(SL_OP_ADD, &pool[i], &pool[j], &got);
      check("arith with out == a", &a, &got);
    }
  for (int o = 0; o < 10; o++)
    sqlite3_finalize(st[o]);
  sl_value_free(&got);
  sl_value_free(&want);
  sl_value_free(&a);
  sl_value_free(&b);
}

/* ---- comparisons ----------------------------------------------------------- */

static const char *const cmp_sql[] = {"<", "<=", ">", ">=", "=", "<>"};

/* The value of `c op 0` as SQL gives it: NULL for -2. */
static void cmp_result(int c, int op, sl_value *out) {
  int r;
  if (c == -2) {
    sl_value_set_null(out);
    return;
  }
  switch (op) {
  case 0: r = c < 0; break;
  case 1: r = c <= 0; break;
  case 2: r = c > 0; break;
  case 3: r = c >= 0; break;
  case 4: r = c == 0; break;
  default: r = c != 0; break;
  }
  sl_value_set_int(out, r);
}

/* One shape of comparison: SQL for the left and right operands (using ?1
** and ?2), the casts sluice applies first (-1: none), and the comparison
** affinity the compiler would pass. */
typedef struct cmp_shape {
  const char *left, *right;
  int cast_a, cast_b;
  sl_affinity aff;
} cmp_shape;

static void test_compare(void) {
  static const cmp_shape shapes[] = {
      {"?1", "?2", -1, -1, SL_AFF_NONE},
      {"?1", "CAST(?2 AS TEXT)", -1, SL_AFF_TEXT, SL_AFF_TEXT},
      {"?1", "CAST(?2 AS NUMERIC)", -1, SL_AFF_NUMERIC, SL_AFF_NUMERIC},
      {"?1", "CAST(?2 AS INTEGER)", -1, SL_AFF_INTEGER, SL_AFF_NUMERIC},
      {"?1", "CAST(?2 AS REAL)", -1, SL_AFF_REAL, SL_AFF_NUMERIC},
      {"CAST(?1 AS TEXT)", "CAST(?2 AS NUMERIC)", SL_AFF_TEXT, SL_AFF_NUMERIC, SL_AFF_NUMERIC},
      {"CAST(?1 AS TEXT)", "CAST(?2 AS TEXT)", SL_AFF_TEXT, SL_AFF_TEXT, SL_AFF_NONE},
      {"CAST(?1 AS BLOB)", "CAST(?2 AS TEXT)", SL_AFF_NONE, SL_AFF_TEXT, SL_AFF_TEXT},
  };
  static const char *const colls[] = {"", " COLLATE NOCASE", " COLLATE RTRIM"};
  sl_value a = SL_VALUE_INIT, b = SL_VALUE_INIT, got = SL_VALUE_INIT, want = SL_VALUE_INIT;
  sl_value s1 = SL_VALUE_INIT, s2 = SL_VALUE_INIT;
  for (size_t sh = 0; sh < SL_ARRAY_SIZE(shapes); sh++)
    for (int co = 0; co < 3; co++) {
      if (co && sh > 1 && sh != 6) continue; /* collations with the main shapes */
      char sql[512];
      int k = snprintf(sql, sizeof sql, "SELECT ");
      for (int op = 0; op < 6; op++)
        k += snprintf(sql + k, sizeof sql - (size_t)k, "%s%s %s %s%s", op ? ", " : "",
                      shapes[sh].left, cmp_sql[op], shapes[sh].right, colls[co]);
      sqlite3_stmt *st = prep(sql);
      for (int i = 0; i < npool; i++)
        for (int j = 0; j < npool; j++) {
          sqlite3_reset(st);
          bind_value(st, 1, &pool[i]);
          bind_value(st, 2, &pool[j]);
          step(st);
          sl_value_copy(&a, &pool[i]);
          sl_value_copy(&b, &pool[j]);
          if (shapes[sh].cast_a >= 0) sl_value_cast(&a, (sl_affinity)shapes[sh].cast_a);
          if (shapes[sh].cast_b >= 0) sl_value_cast(&b, (sl_affinity)shapes[sh].cast_b);
          int c = sl_value_compare_aff(&a, &b, shapes[sh].aff, (sl_coll)co, &s1, &s2);
          for (int op = 0; op < 6; op++) {
            column_value(st, op, &want);
            cmp_result(c, op, &got);
            if (!same(&got, &want)) {
              char da[256], db_[256], label[700];
              snprintf(label, sizeof label, "%s %s %s%s with ?1=%s ?2=%s", shapes[sh].left,
                       cmp_sql[op], shapes[sh].right, colls[co], describe(&pool[i], da),
                       describe(&pool[j], db_));
              check(label, &got, &want);
            } else {
              npass++;
            }
          }
        }
      sqlite3_finalize(st);
    }
  /* sort order: sl_value_compare against ORDER BY of a table holding the pool */
  sqlite3_exec(db, "CREATE TABLE ord(k INTEGER, v)", NULL, NULL, NULL);
  sqlite3_stmt *ins = prep("INSERT INTO ord VALUES(?1, ?2)");
  for (int i = 0; i < npool; i++) {
    sqlite3_reset(ins);
    sqlite3_bind_int(ins, 1, i);
    bind_value(ins, 2, &pool[i]);
    sqlite3_step(ins);
  }
  sqlite3_finalize(ins);
  static const char *const ordsql[] = {"SELECT k FROM ord ORDER BY v, k",
                                       "SELECT k FROM ord ORDER BY v COLLATE NOCASE, k",
                                       "SELECT k FROM ord ORDER BY v COLLATE RTRIM, k"};
  for (int co = 0; co < 3; co++) {
    sqlite3_stmt *st = prep(ordsql[co]);
    int prev = -1;
    while (sqlite3_step(st) == SQLITE_ROW) {
      int k = sqlite3_column_int(st, 0);
      if (prev >= 0) {
        int c = sl_value_compare(&pool[prev], &pool[k], (sl_coll)co);
        char da[256], db_[256], label[600];
        snprintf(label, sizeof label, "sort order (coll %d): %s then %s, compare gives %d", co,
                 describe(&pool[prev], da), describe(&pool[k], db_), c);
        check_true(c < 0 || (c == 0 && prev < k), label);
      }
      prev = k;
    }
    sqlite3_finalize(st);
  }
  sl_value_free(&a);
  sl_value_free(&b);
  sl_value_free(&got);
  sl_value_free(&want);
  sl_value_free(&s1);
  sl_value_free(&s2);
}

/* ---- unary operators, CAST, truth, accessors, column affinity ------------- */

static void test_unary(void) {
  static const char *const cast_names[] = {"BLOB", "TEXT", "NUMERIC", "INTEGER", "REAL"};
  sqlite3_stmt *st = prep("SELECT -?1, ~?1, NOT ?1, CASE WHEN ?1 THEN 1 WHEN NOT ?1 THEN 0 ELSE "
                          "-1 END, typeof(?1), CAST(?1 AS BLOB), CAST(?1 AS TEXT), CAST(?1 AS "
                          "NUMERIC), CAST(?1 AS INTEGER), CAST(?1 AS REAL), ?1 || '', ?1");
  sqlite3_exec(db, "CREATE TABLE aff(x BLOB, t TEXT, n NUMERIC, i INTEGER, r REAL)", NULL, NULL,
               NULL);
  sqlite3_stmt *ins = prep("INSERT INTO aff VALUES(?1, ?1, ?1, ?1, ?1)");
  sqlite3_stmt *sel = prep("SELECT x, t, n, i, r FROM aff");
  sl_value got = SL_VALUE_INIT, want = SL_VALUE_INIT, a = SL_VALUE_INIT;
  char da[256], label[400];
  for (int i = 0; i < npool; i++) {
    const sl_value *v = &pool[i];
    describe(v, da);
    sqlite3_reset(st);
    bind_value(st, 1, v);
    step(st);
    column_value(st, 0, &want);
    sl_value_negate(v, &got);
    snprintf(label, sizeof label, "-%s", da);
    check(label, &got, &want);
    column_value(st, 1, &want);
    sl_value_bitnot(v, &got);
    snprintf(label, sizeof label, "~%s", da);
    check(label, &got, &want);
    column_value(st, 2, &want);
    sl_value_not(v, &got);
    snprintf(label, sizeof label, "NOT %s", da);
    check(label, &got, &want);
    column_value(st, 3, &want);
    sl_value_set_int(&got, sl_value_truth(v));
    snprintf(label, sizeof label, "truth of %s", da);
    check(label, &got, &want);
    column_value(st, 4, &want);
    const char *tn = sl_type_name(v->type);
    sl_value_set_text(&got, tn, strlen(tn));
    snprintf(label, sizeof label, "typeof(%s)", da);
    check(label, &got, &want);
    for (int c = 0; c < 5; c++) {
      column_value(st, 5 + c, &want);
      sl_value_copy(&got, v);
      sl_value_cast(&got, (sl_affinity)c);
      snprintf(label, sizeof label, "CAST(%s AS %s)", da, cast_names[c]);
      check(label, &got, &want);
    }
    /* rendering: sl_value_text keeps the type; its bytes are ?1 || '' */
    column_value(st, 10, &want);
    sl_value_copy(&a, v);
    size_t n;
    const char *z = sl_value_text(&a, &n);
    if (z)
      sl_value_set_text(&got, z, n);
    else
      sl_value_set_null(&got);
    snprintf(label, sizeof label, "text of %s", da);
    check(label, &got, &want);
    check_true(a.type == v->type, "sl_value_text keeps the type");
    const char *zc = sl_value_cstr(&a);
    check_true(v->type == SL_NULL ? zc == NULL
                                  : (zc && zc[n] == 0 && memcmp(zc, z ? z : "", n) == 0),
               "sl_value_cstr is the terminated text");
    /* accessors */
    sqlite3_stmt *one = st; /* column 11 is ?1 itself */
    sl_value_set_int(&got, sl_value_as_int(v));
    sl_value_set_int(&want, sqlite3_column_int64(one, 11));
    snprintf(label, sizeof label, "as_int(%s)", da);
    check(label, &got, &want);
    sl_value_set_real(&got, sl_value_as_real(v));
    sl_value_set_real(&want, sqlite3_column_double(one, 11));
    snprintf(label, sizeof label, "as_real(%s)", da);
    check(label, &got, &want);
    /* column affinity */
    sqlite3_exec(db, "DELETE FROM aff", NULL, NULL, NULL);
    sqlite3_reset(ins);
    bind_value(ins, 1, v);
    sqlite3_step(ins);
    sqlite3_reset(sel);
    step(sel);
    for (int c = 0; c < 5; c++) {
      column_value(sel, c, &want);
      sl_value_copy(&got, v);
      sl_value_apply_affinity(&got, (sl_affinity)c);
      snprintf(label, sizeof label, "%s stored in a %s column", da, cast_names[c]);
      check(label, &got, &want);
    }
  }
  sqlite3_finalize(st);
  sqlite3_finalize(ins);
  sqlite3_finalize(sel);
  sl_value_free(&got);
  sl_value_free(&want);
  sl_value_free(&a);
}

/* sl_affinity_of_typename against the affinity sqlite gives a column of the
** declared type, observed through the storage of a few probe values. */
static void test_typenames(void) {
  static const char *const names[] = {"",
                                      "INT",
                                      "INTEGER",
                                      "TINYINT",
                                      "BIGINT",
                                      "int8",
                                      "VARCHAR(10)",
                                      "NCHAR",
                                      "TEXT",
                                      "CLOB",
                                      "BLOB",
                                      "REAL",
                                      "DOUBLE",
                                      "DOUBLE PRECISION",
                                      "FLOAT",
                                      "NUMERIC",
                                      "DECIMAL",
                                      "BOOLEAN",
                                      "DATE",
                                      "DATETIME",
                                      "STRING",
                                      "FLOATING POINT",
                                      "CHARINT",
                                      "BLOBBY",
                                      "TEXTBLOB",
                                      "VECTOR",
                                      "TIMESTAMP",
                                      "floa",
                                      "Doub",
                                      "xyz",
                                      "interval",
                                      "characters",
                                      "point"};
  sl_value probe[4] = {SL_VALUE_INIT, SL_VALUE_INIT, SL_VALUE_INIT, SL_VALUE_INIT};
  sl_value_set_text(&probe[0], "3.0", 3);
  sl_value_set_int(&probe[1], 3);
  sl_value_set_text(&probe[2], "3", 1);
  sl_value_set_real(&probe[3], 2.0);
  sl_value got = SL_VALUE_INIT, want = SL_VALUE_INIT;
  for (size_t i = 0; i < SL_ARRAY_SIZE(names); i++) {
    char sql[200];
    sqlite3_exec(db, "DROP TABLE IF EXISTS tn", NULL, NULL, NULL);
    snprintf(sql, sizeof sql, "CREATE TABLE tn(c %s)", names[i]);
    sqlite3_exec(db, sql, NULL, NULL, NULL);
    sl_affinity aff = sl_affinity_of_typename(names[i], strlen(names[i]));
    for (int p = 0; p < 4; p++) {
      sqlite3_exec(db, "DELETE FROM tn", NULL, NULL, NULL);
      sqlite3_stmt *ins = prep("INSERT INTO tn VALUES(?1)");
      bind_value(ins, 1, &probe[p]);
      sqlite3_step(ins);
      sqlite3_finalize(ins);
      sqlite3_stmt *sel = prep("SELECT c FROM tn");
      step(sel);
      column_value(sel, 0, &want);
      sqlite3_finalize(sel);
      sl_value_copy(&got, &probe[p]);
      sl_value_apply_affinity(&got, aff);
      char label[200];
      snprintf(label, sizeof label, "probe %d in a column of type '%s' (affinity %d)", p, names[i],
               (int)aff);
      check(label, &got, &want);
    }
  }
  for (int p = 0; p < 4; p++)
    sl_value_free(&probe[p]);
  sl_value_free(&got);
  sl_value_free(&want);
}

/* ---- random doubles and numeric strings ------------------------------------ */

static uint64_t rng = 0x9E3779B97F4A7C15ULL;

static uint64_t rnd(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

/* A random finite double: random bits, or a short decimal, or an integer. */
static double random_double(void) {
  for (;;) {
    double r;
    uint64_t bits = rnd();
    switch (rnd() % 6) {
    case 0:
    case 1: memcpy(&r, &bits, sizeof r); break;
    case 2: r = (double)(int64_t)(bits % 2000001) / 1000.0 - 1000.0; break;
    case 3: r = (double)(int64_t)(bits >> (rnd() % 64)); break;
    case 4: r = ldexp((double)(bits >> 11), (int)(rnd() % 200) - 150); break;
    default: {
      char z[40];
      snprintf(z, sizeof z, "%llue%d", (unsigned long long)(bits % 100000), (int)(rnd() % 80) - 40);
      r = strtod(z, NULL);
      break;
    }
    }
    if (isfinite(r)) return (rnd() & 1) ? r : -r;
  }
}

/* sl_real_to_text against CAST(x AS TEXT). */
static void test_real_text(int count) {
  sqlite3_stmt *st = prep("SELECT CAST(?1 AS TEXT)");
  sl_value got = SL_VALUE_INIT, want = SL_VALUE_INIT;
  for (int i = 0; i < count; i++) {
    double r = random_double();
    char out[40], label[80];
    int n = sl_real_to_text(r, out);
    sl_value_set_text(&got, out, (size_t)n);
    sqlite3_reset(st);
    sqlite3_bind_double(st, 1, r);
    step(st);
    column_value(st, 0, &want);
    snprintf(label, sizeof label, "sl_real_to_text(%.17g)", r);
    check(label, &got, &want);
  }
  sqlite3_finalize(st);
  sl_value_free(&got);
  sl_value_free(&want);
}

/* Significant digits in the decimal mantissa of z (as printed by %g or by
** sl_real_to_shortest). */
static int sig_digits(const char *z) {
  int n = 0, started = 0, zeros = 0;
  for (; *z && *z != 'e' && *z != 'E'; z++) {
    if (*z < '0' || *z > '9') continue;
    if (*z == '0' && !started) continue;
    started = 1;
    if (*z == '0') {
      zeros++;
    } else {
      n += zeros + 1;
      zeros = 0;
    }
  }
  return n ? n : 1;
}

/* sl_real_to_shortest: round-trips, has a '.' or an exponent, uses the
** fewest significant digits, is never longer than %.17g; then its speed. */
static void test_shortest(int count) {
  static const double fixed[] = {0.1,
                                 0.9325488640736544,
                                 1e300,
                                 1e-300,
                                 1.0,
                                 100.0,
                                 0.0,
                                 -0.0,
                                 5e-324,
                                 1.7976931348623157e308,
                                 2.2250738585072014e-308,
                                 9007199254740993.0,
                                 1e16,
                                 1e15,
                                 1e-5,
                                 1e-4,
                                 123456.789,
                                 0.30000000000000004,
                                 9.223372036854776e18,
                                 1e22,
                                 1e23};
  for (int i = 0; i < count + (int)SL_ARRAY_SIZE(fixed); i++) {
    double r = i < (int)SL_ARRAY_SIZE(fixed) ? fixed[i] : random_double();
    char out[64], ref[64], label[200];
    memset(out, 'X', sizeof out);
    int n = sl_real_to_shortest(r, out);
    int ok = n > 0 && n < 32 && out[n] == 0 && (int)strlen(out) == n;
    double back = ok ? strtod(out, NULL) : 0;
    ok = ok && memcmp(&back, &r, sizeof r) == 0;
    ok = ok && (strchr(out, '.') || strchr(out, 'e'));
    int p;
    for (p = 1; p < 17; p++) {
      snprintf(ref, sizeof ref, "%.*g", p, r);
      if (strtod(ref, NULL) == r) break;
    }
    /* not longer than %.17g or the shortest %g, plus a ".0" */
    int np = snprintf(ref, sizeof ref, "%.*g", p, r);
    int n17 = snprintf(ref, sizeof ref, "%.17g", r);
    ok = ok && sig_digits(out) <= (r == 0 ? 1 : p) && n <= (np > n17 ? np : n17) + 2;
    snprintf(label, sizeof label, "sl_real_to_shortest(%.17g) gave '%s' (%d digits needed)", r,
             ok || n < 40 ? out : "?", p);
    check_true(ok, label);
  }
  /* speed */
  enum { N = 1 << 20 };
  double *xs = malloc(N * sizeof *xs);
  for (int k = 0; k < 2; k++) {
    for (int i = 0; i < N; i++)
      xs[i] = k == 0 ? random_double() : (double)(int64_t)(rnd() % 2000001) / 1000.0 - 1000.0;
    struct timespec t0, t1;
    char out[64];
    size_t sum = 0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < N; i++)
      sum += (size_t)sl_real_to_shortest(xs[i], out);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ns = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / N;
    printf("sl_real_to_shortest: %.1f ns/call on %s (%zu bytes)\n", ns,
           k == 0 ? "random doubles" : "values with 3 decimals", sum);
  }
  free(xs);
}

/* A random numeric-looking string: spaces, sign, digits, point, exponent,
** and sometimes trailing junk. */
static void random_numeric_text(char *z, size_t cap) {
  size_t k = 0;
  static const char *const lead[] = {"", "", "", " ", "  ", "\t"};
  static const char *const tail[] = {"", "", "", "", " ", "x", "e", ".", " 1", "e+"};
  k += (size_t)snprintf(z + k, cap - k, "%s", lead[rnd() % 6]);
  int s = (int)(rnd() % 4);
  if (s == 1) z[k++] = '-';
  if (s == 2) z[k++] = '+';
  int nd = (int)(rnd() % 25);
  for (int i = 0; i < nd; i++)
    z[k++] = (char)('0' + (i == 0 && rnd() % 3 ? 1 + rnd() % 9 : rnd() % 10));
  if (rnd() % 2) {
    z[k++] = '.';
    int nf = (int)(rnd() % 22);
    for (int i = 0; i < nf; i++)
      z[k++] = (char)('0' + rnd() % 10);
  }
  if (rnd() % 3 == 0) {
    z[k++] = rnd() % 2 ? 'e' : 'E';
    int es = (int)(rnd() % 3);
    if (es == 1) z[k++] = '-';
    if (es == 2) z[k++] = '+';
    k += (size_t)snprintf(z + k, cap - k, "%d", (int)(rnd() % (rnd() % 4 ? 30 : 400)));
  }
  snprintf(z + k, cap - k, "%s", tail[rnd() % 10]);
}

/* Text to number: arithmetic, CAST to each numeric type, affinity, and the
** accessors on random numeric strings. */
static void test_numeric_text(int count) {
  sqlite3_stmt *st = prep("SELECT ?1 + 0, CAST(?1 AS REAL), CAST(?1 AS NUMERIC), CAST(?1 AS "
                          "INTEGER), ?1, ?1 < 1, -?1");
  sqlite3_stmt *ins = prep("INSERT INTO aff VALUES(?1, ?1, ?1, ?1, ?1)");
  sqlite3_stmt *sel = prep("SELECT n, r FROM aff");
  sl_value v = SL_VALUE_INIT, got = SL_VALUE_INIT, want = SL_VALUE_INIT, one = SL_VALUE_INIT;
  sl_value s1 = SL_VALUE_INIT, s2 = SL_VALUE_INIT;
  sl_value_set_int(&one, 1);
  for (int i = 0; i < count; i++) {
    char z[128], label[300];
    random_numeric_text(z, sizeof z);
    sl_value_set_text(&v, z, strlen(z));
    sqlite3_reset(st);
    bind_value(st, 1, &v);
    step(st);
    sl_value zero = SL_VALUE_INIT;
    sl_value_set_int(&zero, 0);
    column_value(st, 0, &want);
    sl_value_arith(SL_OP_ADD, &v, &zero, &got);
    snprintf(label, sizeof label, "'%s' + 0", z);
    check(label, &got, &want);
    static const sl_affinity casts[] = {SL_AFF_REAL, SL_AFF_NUMERIC, SL_AFF_INTEGER};
    static const char *const cn[] = {"REAL", "NUMERIC", "INTEGER"};
    for (int c = 0; c < 3; c++) {
      column_value(st, 1 + c, &want);
      sl_value_copy(&got, &v);
      sl_value_cast(&got, casts[c]);
      snprintf(label, sizeof label, "CAST('%s' AS %s)", z, cn[c]);
      check(label, &got, &want);
    }
    sl_value_set_int(&got, sl_value_as_int(&v));
    sl_value_set_int(&want, sqlite3_column_int64(st, 4));
    snprintf(label, sizeof label, "as_int('%s')", z);
    check(label, &got, &want);
    sl_value_set_real(&got, sl_value_as_real(&v));
    sl_value_set_real(&want, sqlite3_column_double(st, 4));
    snprintf(label, sizeof label, "as_real('%s')", z);
    check(label, &got, &want);
    column_value(st, 5, &want);
    int c = sl_value_compare_aff(&v, &one, SL_AFF_NONE, SL_COLL_BINARY, &s1, &s2);
    cmp_result(c, 0, &got);
    snprintf(label, sizeof label, "'%s' < 1", z);
    check(label, &got, &want);
    column_value(st, 6, &want);
    sl_value_negate(&v, &got);
    snprintf(label, sizeof label, "-'%s'", z);
    check(label, &got, &want);
    sqlite3_exec(db, "DELETE FROM aff", NULL, NULL, NULL);
    sqlite3_reset(ins);
    bind_value(ins, 1, &v);
    sqlite3_step(ins);
    sqlite3_reset(sel);
    step(sel);
    column_value(sel, 0, &want);
    sl_value_copy(&got, &v);
    sl_value_apply_affinity(&got, SL_AFF_NUMERIC);
    snprintf(label, sizeof label, "'%s' in a NUMERIC column", z);
    check(label, &got, &want);
    column_value(sel, 1, &want);
    sl_value_copy(&got, &v);
    sl_value_apply_affinity(&got, SL_AFF_REAL);
    snprintf(label, sizeof label, "'%s' in a REAL column", z);
    check(label, &got, &want);
  }
  sqlite3_finalize(st);
  sqlite3_finalize(ins);
  sqlite3_finalize(sel);
  sl_value_free(&v);
  sl_value_free(&got);
  sl_value_free(&want);
  sl_value_free(&one);
  sl_value_free(&s1);
  sl_value_free(&s2);
}

/* sl_atof and sl_atoi64 return codes on fixed cases. */
static void test_parsers(void) {
  static const struct {
    const char *z;
    int rc;
    double r;
  } af[] = {{"1e3", 1, 1000.0}, {" 1e3 ", 1, 1000.0}, {"12abc", 0, 12.0}, {"", 0, 0.0},
            {"-", 0, 0.0},      {".5", 1, 0.5},       {"5.", 1, 5.0},     {"0x10", 0, 0.0},
            {"1e", 0, 1.0},     {"  ", 0, 0.0},       {"-0", 1, -0.0},    {"1.5e+", 0, 1.5}};
  for (size_t i = 0; i < SL_ARRAY_SIZE(af); i++) {
    double r = -99;
    int rc = sl_atof(af[i].z, strlen(af[i].z), &r);
    char label[100];
    snprintf(label, sizeof label, "sl_atof('%s') = %d, %.17g", af[i].z, rc, r);
    check_true(rc == af[i].rc && r == af[i].r, label);
  }
  static const struct {
    const char *z;
    int rc;
    int64_t i;
  } ai[] = {{"12", 0, 12},
            {" 12 ", 0, 12},
            {"12abc", 1, 12},
            {"", 1, 0},
            {"-", 1, 0},
            {"9223372036854775807", 0, INT64_MAX},
            {"-9223372036854775808", 0, INT64_MIN},
            {"9223372036854775808", 3, INT64_MAX},
            {"9223372036854775809", 2, INT64_MAX},
            {"-9223372036854775809", 2, INT64_MIN},
            {"00000000000000000000012", 0, 12},
            {"1e3", 1, 1}};
  for (size_t i = 0; i < SL_ARRAY_SIZE(ai); i++) {
    int64_t x = -99;
    int rc = sl_atoi64(ai[i].z, strlen(ai[i].z), &x);
    char label[100];
    snprintf(label, sizeof label, "sl_atoi64('%s') = %d, %lld", ai[i].z, rc, (long long)x);
    check_true(rc == ai[i].rc && x == ai[i].i, label);
  }
}

/* ---- VECTOR and memory handling -------------------------------------------- */

/* ---- UTF-8 -------------------------------------------------------------- */

/* The reference: where the first byte that is not part of well-formed UTF-8
** is, found by decoding each sequence and then judging the code point
** (shortest form, no surrogate, at most U+10FFFF); util.c instead checks
** each byte against the ranges of Unicode's table 3-7. */
static size_t ref_utf8_valid(const unsigned char *u, size_t n) {
  static const uint32_t least[5] = {0, 0, 0x80, 0x800, 0x10000};
  size_t i = 0;
  while (i < n) {
    unsigned c = u[i];
    size_t len = c < 0x80             ? 1
                 : (c & 0xE0) == 0xC0 ? 2
                 : (c & 0xF0) == 0xE0 ? 3
                 : (c & 0xF8) == 0xF0 ? 4
                                      : 0;
    if (!len || i + len > n) return i;
    uint32_t cp = len == 1 ? c : c & (0x7F >> len);
    for (size_t k = 1; k < len; k++) {
      if ((u[i + k] & 0xC0) != 0x80) return i;
      cp = cp << 6 | (u[i + k] & 0x3F);
    }
    if (len > 1 && (cp < least[len] || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)) return i;
    i += len;
  }
  return n;
}

/* Append code point cp (any value below 2^21, surrogates too) as 1-4 bytes. */
static size_t put_cp(unsigned char *out, uint32_t cp) {
  if (cp < 0x80) return out[0] = (unsigned char)cp, 1;
  if (cp < 0x800) return out[0] = 0xC0 | cp >> 6, out[1] = 0x80 | (cp & 0x3F), 2;
  if (cp < 0x10000)
    return out[0] = 0xE0 | cp >> 12, out[1] = 0x80 | (cp >> 6 & 0x3F), out[2] = 0x80 | (cp & 0x3F),
           3;
  return out[0] = 0xF0 | cp >> 18, out[1] = 0x80 | (cp >> 12 & 0x3F),
         out[2] = 0x80 | (cp >> 6 & 0x3F), out[3] = 0x80 | (cp & 0x3F), 4;
}

/* sl_utf8_check against the reference on random texts (ASCII runs of every
** length around the 8- and 32-byte steps, characters of every length,
** surrogates, code points past U+10FFFF, stray and truncated bytes) read
** from every alignment; sl_utf8_repair's output is well formed and is the
** text itself when the text was. */
static void test_utf8(int rounds) {
  unsigned char buf[600], out[1800];
  uint64_t r = 0x9E3779B97F4A7C15ULL;
#define RND() (r ^= r << 13, r ^= r >> 7, r ^= r << 17, r)
  for (int round = 0; round < rounds; round++) {
    size_t n = 0;
    while (n < 500) {
      switch (RND() % 8) {
      case 0:
      case 1:
      case 2: { /* an ASCII run */
        size_t k = RND() % 70;
        for (size_t j = 0; j < k; j++)
          buf[n++] = (unsigned char)(0x20 + RND() % 95);
        break;
      }
      case 3: n += put_cp(buf + n, (uint32_t)(0x80 + RND() % 0x780)); break;
      case 4: n += put_cp(buf + n, (uint32_t)(0x800 + RND() % 0xF800)); break;
      case 5: n += put_cp(buf + n, (uint32_t)(0x10000 + RND() % 0x100000)); break;
      case 6: /* rare: a surrogate, past U+10FFFF, or a stray byte */
        if (RND() % 8) break;
        switch (RND() % 4) {
        case 0: n += put_cp(buf + n, (uint32_t)(0xD800 + RND() % 0x800)); break;
        case 1: n += put_cp(buf + n, (uint32_t)(0x110000 + RND() % 0xEFFFF)); break;
        case 2: buf[n++] = (unsigned char)(0x80 + RND() % 0x80); break;
        default: { /* a character cut short */
          unsigned char t[4];
          size_t k = put_cp(t, (uint32_t)(0x800 + RND() % 0x10F000));
          size_t keep = 1 + RND() % (k - 1);
          memcpy(buf + n, t, keep);
          n += keep;
        }
        }
        break;
      default: /* an overlong form */
        if (RND() % 8 == 0) buf[n++] = 0xC0 | (RND() % 2), buf[n++] = 0x80 | (RND() % 0x40);
      }
    }
    for (int t = 0; t < 16; t++) {
      size_t off = RND() % 40, len = RND() % (n - off + 1);
      size_t want = ref_utf8_valid(buf + off, len);
      size_t got = sl_utf8_check((const char *)buf + off, len);
      char label[160];
      snprintf(label, sizeof label,
               "sl_utf8_check round %d, offset %zu, length %zu: %zu, reference %zu", round, off,
               len, got, want);
      check_true(got == want, label);
      size_t m = sl_utf8_repair((const char *)buf + off, len, (char *)out);
      snprintf(label, sizeof label, "sl_utf8_repair round %d, offset %zu, length %zu", round, off,
               len);
      check_true(m <= 3 * len && ref_utf8_valid(out, m) == m &&
                     (want != len || (m == len && !memcmp(out, buf + off, len))),
                 label);
    }
  }
#undef RND
}

static void test_vector_and_memory(void) {
  sl_value v = SL_VALUE_INIT, w = SL_VALUE_INIT, out = SL_VALUE_INIT, one = SL_VALUE_INIT;
  sl_value s1 = SL_VALUE_INIT, s2 = SL_VALUE_INIT;
  const double x[] = {1.0, 0.1, -2.5, 1e300};
  sl_value_set_vector(&v, x, 4);
  size_t n;
  const char *z = sl_value_text(&v, &n);
  check_true(z && n == strlen(z) && strcmp(z, "[1.0,0.1,-2.5,1.0e+300]") == 0 &&
                 v.type == SL_VECTOR && v.u.v[3] == 1e300,
             "vector text is a JSON array and the vector survives");
  sl_value_set_int(&one, 1);
  sl_value_arith(SL_OP_ADD, &v, &one, &out);
  check_true(out.type == SL_NULL, "vector + 1 is NULL");
  sl_value_arith(SL_OP_BITAND, &one, &v, &out);
  check_true(out.type == SL_NULL, "1 & vector is NULL");
  sl_value_negate(&v, &out);
  check_true(out.type == SL_NULL, "-vector is NULL");
  check_true(sl_value_truth(&v) == 1, "non-empty vector is true");
  sl_value_borrow_vector(&w, x, 0);
  check_true(sl_value_truth(&w) == 0, "empty vector is false");
  sl_value_set_blob(&w, "zzz", 3);
  check_true(sl_value_compare(&w, &v, SL_COLL_BINARY) < 0, "blob sorts before vector");
  sl_value_borrow_vector(&w, x, 3);
  check_true(sl_value_compare(&w, &v, SL_COLL_BINARY) < 0, "shorter vector prefix sorts first");
  check_true(sl_value_compare_aff(&w, &one, SL_AFF_NONE, SL_COLL_BINARY, &s1, &s2) > 0,
             "vector sorts after numbers");
  sl_value_copy(&out, &v);
  check_true(same(&out, &v) && (out.flags & SL_F_OWNBUF) && out.u.v != v.u.v, "vector deep copy");
  sl_value_cast(&out, SL_AFF_TEXT);
  check_true(out.type == SL_TEXT && out.n == 23 &&
                 memcmp(out.u.z, "[1.0,0.1,-2.5,1.0e+300]", 23) == 0,
             "CAST(vector AS TEXT)");
  sl_value_concat(&v, &one, &out);
  check_true(out.type == SL_TEXT && strcmp(out.u.z, "[1.0,0.1,-2.5,1.0e+300]1") == 0,
             "vector || 1");

  /* setting text from a slice of the value's own buffer */
  sl_value_set_text(&v, "hello world", 11);
  sl_value_set_text(&v, v.u.z + 6, 5);
  check_true(v.n == 5 && strcmp(v.u.z, "world") == 0, "set_text from own buffer");
  char big[1000];
  memset(big, 'a', sizeof big);
  sl_value_set_text(&v, big, sizeof big);
  sl_value_set_text(&v, v.u.z + 1, 999);
  check_true(v.n == 999 && v.u.z[999] == 0 && v.cap >= 1000, "set_text from own grown buffer");
  char *before = v.buf;
  sl_value_set_text(&v, "x", 1);
  check_true(v.buf == before, "buffer is reused");
  /* cstr of unterminated borrowed text */
  const char raw[] = {'4', '2', 'x'};
  sl_value_borrow_text(&w, raw, 2, 0);
  const char *c = sl_value_cstr(&w);
  check_true(strcmp(c, "42") == 0 && w.type == SL_TEXT, "cstr of unterminated text");
  /* text_space / commit */
  char *p = sl_value_text_space(&w, 5);
  memcpy(p, "abcde", 5);
  sl_value_commit_text(&w, 5);
  check_true(w.type == SL_TEXT && strcmp(w.u.z, "abcde") == 0, "text_space + commit");
  /* pin */
  sl_arena arena;
  sl_arena_init(&arena);
  char src[] = "pinned";
  sl_value_borrow_text(&w, src, 6, 0);
  sl_value_pin(&w, &arena);
  src[0] = 'X';
  check_true(w.n == 6 && memcmp(w.u.z, "pinned", 6) == 0, "pin copies borrowed bytes");
  sl_value_set_text(&w, "own", 3);
  sl_value_pin(&w, &arena);
  sl_value_set_text(&v, "zzz", 3);
  check_true(memcmp(w.u.z, "own", 3) == 0, "pin copies own bytes");
  sl_value_set_vector(&w, x, 4);
  sl_value_pin(&w, &arena);
  check_true(w.type == SL_VECTOR && w.n == 4 && w.u.v[2] == -2.5, "pin keeps a vector");
  sl_arena_free(&arena);
  /* ref / own */
  sl_value_set_text(&v, "shared", 6);
  sl_value_ref(&w, &v);
  sl_value_own(&w);
  sl_value_set_text(&v, "other!", 6);
  check_true(w.n == 6 && memcmp(w.u.z, "shared", 6) == 0, "own after ref");
  /* numerify in place */
  sl_value_set_text(&v, " 1e3 ", 5);
  sl_value_numerify(&v, &v);
  check_true(v.type == SL_REAL && v.u.r == 1000.0, "numerify in place");
  sl_value_free(&v);
  check_true(v.type == SL_NULL && v.buf == NULL, "free leaves NULL");
  sl_value_free(&w);
  sl_value_free(&out);
  sl_value_free(&one);
  sl_value_free(&s1);
  sl_value_free(&s2);
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++)
    if (strcmp(argv[i], "-v") == 0) verbose = 1;
  if (sqlite3_open(":memory:", &db) != SQLITE_OK) return 2;
  build_pool();
  test_parsers();
  test_unary();
  test_typenames();
  test_binary();
  test_compare();
  test_numeric_text(20000);
  test_real_text(20000);
  test_shortest(100000);
  test_vector_and_memory();
  test_utf8(20000);
  for (int i = 0; i < npool; i++)
    sl_value_free(&pool[i]);
  sqlite3_close(db);
  printf("%ld passed, %ld failed\n", npass, nfail);
  return nfail == 0 ? 0 : 1;
}
