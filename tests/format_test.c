/*
** format_test.c - tests of json.c, the record formats (fmt_json.c, fmt_csv.c,
** fmt_raw.c), connector.c and the file/stdin/stdout connectors
** (conn_file.c), standalone.
**
** The JSON scanner is checked against SQLite 3's json_valid() and
** json_extract() (the oracle) on fixed cases and on random mutations of
** valid documents.  The rest checks decoded values, rejected records and
** their reasons, framing across read boundaries, positions and the exact
** bytes sinks write.  Last, unless --quick is given, it measures framing +
** decoding of a 1,000,000-record S1-style file and prints records/s.
**
** Output ends with "N passed, M failed"; the exit status is 0 only when M is 0.
*/
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "connector.h"
#include "json.h"

static int npass, nfail;

#define CHECK(cond, ...)                                                                           \
  do {                                                                                             \
    if (cond) {                                                                                    \
      npass++;                                                                                     \
    } else {                                                                                       \
      nfail++;                                                                                     \
      printf("FAIL %s:%d: ", __FILE__, __LINE__);                                                  \
      printf(__VA_ARGS__);                                                                         \
      printf("\n");                                                                                \
    }                                                                                              \
  } while (0)

static sqlite3 *db;
static char tmpdir[512];

/* ---- the JSON scanner against SQLite ------------------------------------- */

/* json_valid(z) as SQLite computes it. */
static int sqlite_valid(const char *z, size_t n) {
  sqlite3_stmt *st;
  sqlite3_prepare_v2(db, "SELECT json_valid(?)", -1, &st, NULL);
  sqlite3_bind_text(st, 1, z, (int)n, SQLITE_STATIC);
  sqlite3_step(st);
  int r = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  return r;
}

static void test_valid_cases(void) {
  static const char *const cases[] = {"1",
                                      "-0",
                                      "0.5",
                                      "1e5",
                                      "1E+5",
                                      "1e-05",
                                      "-12.5e3",
                                      "01",
                                      "-01",
                                      "1.",
                                      ".5",
                                      "+1",
                                      "-",
                                      "1.5e",
                                      "0x10",
                                      "1e05",
                                      "true",
                                      "false",
                                      "null",
                                      "tru",
                                      "True",
                                      "truex",
                                      "nul",
                                      "\"\"",
                                      "\"a\\\"b\"",
                                      "\"\\u00e9\"",
                                      "\"\\ud800\"",
                                      "\"\\u12\"",
                                      "\"\\x\"",
                                      "\"\\/\"",
                                      "\"\\U0041\"",
                                      "[]",
                                      "{}",
                                      "[1,]",
                                      "{\"a\":1,}",
                                      "[,1]",
                                      "{,\"a\":1}",
                                      "[1,,2]",
                                      "{\"a\"}",
                                      "{\"a\":}",
                                      "{1:2}",
                                      "{\"a\":1 \"b\":2}",
                                      "[1 2]",
                                      " [ 1 , 2 ] ",
                                      "[1] x",
                                      "",
                                      "  ",
                                      "\t\n\r 1 \r\n",
                                      "\f1",
                                      "\v1",
                                      "[\f1]",
                                      "\"a\tb\"",
                                      "\"a\nb\"",
                                      "\"a\x7f"
                                      "b\"",
                                      "\"\xc3\xa9\"",
                                      "{\"a\":{\"b\":[1,{\"c\":null}]}}",
                                      "[\"unterminated]",
                                      "\"\\",
                                      "[",
                                      "{",
                                      "{\"a\"",
                                      "[[[]]]",
                                      "-1.0E-0",
                                      "2e+",
                                      "[-]",
                                      "{\"a\":1}}",
                                      "[1]]",
                                      "123abc",
                                      "\"\\u0000\""};
  for (size_t i = 0; i < SL_ARRAY_SIZE(cases); i++) {
    size_t n = strlen(cases[i]);
    int a = sl_json_valid(cases[i], n), b = sqlite_valid(cases[i], n);
    CHECK(a == b, "json_valid('%s'): sluice %d, sqlite %d", cases[i], a, b);
  }
  /* Nesting: SQLite accepts 2000 levels, not 2001. */
  for (int depth = 1999; depth <= 2001; depth++) {
    sl_buf b;
    sl_buf_init(&b);
    for (int k = 0; k < depth; k++)
      sl_buf_putc(&b, '[');
    for (int k = 0; k < depth; k++)
      sl_buf_putc(&b, ']');
    int x = sl_json_valid(b.z, b.n), y = sqlite_valid(b.z, b.n);
    CHECK(x == y, "depth %d: sluice %d, sqlite %d", depth, x, y);
    sl_buf_free(&b);
  }
  /* Very deep input is malformed, never a crash. */
  size_t deep = 1000000;
  char *z = malloc(deep);
  memset(z, '[', deep);
  CHECK(!sl_json_valid(z, deep), "a million '[' is not valid");
  free(z);
}

/* Random edits of valid documents: sluice and SQLite agree on validity. */
static void test_valid_fuzz(int iters) {
  static const char *const seeds[] = {
      "{\"a\":[1,2.5e-3,-0,true,false,null,\"x\\u00e9\\ud83d\\ude00\"],\"b\":{\"c\":{}}}",
      "[1,2,3]",
      "\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\"",
      "-12.5E+3",
      "{\"k\" : \"v\" , \"k2\":[ ] }",
      "0",
      "[[[[]]]]",
      "\"\\ud800\""};
  static const char alpha[] = "{}[]\":,.-+eE0123456789tfnrul\\ \t\n\r\x01\x0c\x7f\xc3\xa9"
                              "ab";
  char buf[256];
  int bad = 0;
  srand(42);
  for (int it = 0; it < iters; it++) {
    const char *s = seeds[it % SL_ARRAY_SIZE(seeds)];
    size_t n = strlen(s);
    memcpy(buf, s, n);
    for (int m = 1 + rand() % 3; m > 0; m--) {
      size_t p = n ? (size_t)rand() % n : 0;
      int op = rand() % 3;
      char c = alpha[rand() % (int)(sizeof alpha - 1)];
      if (op == 0 && n) {
        buf[p] = c;
      } else if (op == 1 && n < 200) {
        memmove(buf + p + 1, buf + p, n - p);
        buf[p] = c;
        n++;
      } else if (n) {
        memmove(buf + p, buf + p + 1, n - p - 1);
        n--;
      }
    }
    int a = sl_json_valid(buf, n), b = sqlite_valid(buf, n);
    if (a != b && bad++ < 5)
      printf("fuzz mismatch sluice %d sqlite %d: [%.*s]\n", a, b, (int)n, buf);
  }
  CHECK(bad == 0, "%d of %d fuzzed documents judged differently from SQLite", bad, iters);
}

/* Text of a value for comparisons: "type:text". */
static const char *show(sl_value *v, char *out, size_t cap) {
  sl_value tmp = SL_VALUE_INIT;
  sl_value_copy(&tmp, v);
  size_t n = 0;
  const char *z = tmp.type == SL_NULL ? "" : sl_value_text(&tmp, &n);
  snprintf(out, cap, "%s:%.*s%s", sl_type_name(v->type), (int)n, z,
           (v->flags & SL_F_JSON) ? "(json)" : "");
  sl_value_free(&tmp);
  return out;
}

/* sl_json_to_value agrees with json_extract(x, '$') (type and text). */
static void test_to_value(void) {
  static const char *const cases[] = {"1",
                                      "-0",
                                      "-0.0",
                                      "0.5",
                                      "1e3",
                                      "9223372036854775807",
                                      "9223372036854775808",
                                      "-9223372036854775808",
                                      "-9223372036854775809",
                                      "123456789012345678901234",
                                      "1e400",
                                      "true",
                                      "false",
                                      "null",
                                      "\"plain\"",
                                      "\"a\\\"b\\\\c\\/d\\n\\t\"",
                                      "\"\\u00e9\\u4e2d\"",
                                      "\"\\ud83d\\ude00\"",
                                      "\"\\ud800x\"",
                                      "\"\\udc00\"",
                                      "\"a\\u0000b\"",
                                      "[1, 2, {\"b\" : 3}]",
                                      "{ \"a\" : [ ] , \"b\" : \"x y\" }",
                                      "[]",
                                      "{}",
                                      "2.5E-3",
                                      "-1.5e+300"};
  sl_arena a;
  sl_arena_init(&a);
  for (size_t i = 0; i < SL_ARRAY_SIZE(cases); i++) {
    for (int use_arena = 0; use_arena < 2; use_arena++) {
      sl_value v = SL_VALUE_INIT;
      int rc = sl_json_to_value(cases[i], strlen(cases[i]), &v, use_arena ? &a : NULL);
      sqlite3_stmt *st;
      sqlite3_prepare_v2(db, "SELECT typeof(json_extract(?1,'$')), json_extract(?1,'$')", -1, &st,
                         NULL);
      sqlite3_bind_text(st, 1, cases[i], -1, SQLITE_STATIC);
      sqlite3_step(st);
      char want[256], got[256];
      const unsigned char *t = sqlite3_column_text(st, 1);
      snprintf(want, sizeof want, "%s:%.*s", sqlite3_column_text(st, 0),
               sqlite3_column_bytes(st, 1), t ? (const char *)t : "");
      show(&v, got, sizeof got);
      char *j = strstr(got, "(json)");
      if (j) *j = 0;
      CHECK(rc == 0 && strcmp(want, got) == 0, "to_value(%s) arena=%d: got %s, sqlite %s", cases[i],
            use_arena, got, want);
      sqlite3_finalize(st);
      sl_value_free(&v);
    }
  }
  sl_arena_free(&a);
}

static void test_json_output(void) {
  sl_buf b;
  sl_buf_init(&b);
  sl_json_append_string(&b, "a\"b\\c\n\t\x01\x1f\xc3\xa9/", 12);
  CHECK(strcmp(b.z, "\"a\\\"b\\\\c\\n\\t\\u0001\\u001f\xc3\xa9/\"") == 0, "append_string: %s", b.z);
  sl_buf_reset(&b);
  sl_value v = SL_VALUE_INIT;
  sl_value_set_int(&v, INT64_MIN);
  sl_json_append_value(&b, &v);
  sl_buf_putc(&b, ' ');
  sl_value_set_real(&v, 0.1);
  sl_json_append_value(&b, &v);
  sl_buf_putc(&b, ' ');
  sl_value_set_real(&v, 100.0);
  sl_json_append_value(&b, &v);
  sl_buf_putc(&b, ' ');
  sl_value_set_real(&v, NAN);
  sl_json_append_value(&b, &v);
  sl_buf_putc(&b, ' ');
  sl_value_set_null(&v);
  sl_json_append_value(&b, &v);
  sl_buf_putc(&b, ' ');
  double x[3] = {1, -2.5, 0.1};
  sl_value_set_vector(&v, x, 3);
  sl_json_append_value(&b, &v);
  sl_buf_putc(&b, ' ');
  sl_value_set_blob(&v, "\x01\xab", 2);
  sl_json_append_value(&b, &v);
  CHECK(strcmp(b.z, "-9223372036854775808 0.1 100.0 null null [1.0,-2.5,0.1] \"01AB\"") == 0,
        "append_value: %s", b.z);
  sl_value_free(&v);
  sl_buf_reset(&b);
  const char *pretty = " { \"a b\" : [ 1 , \"x \\\" y\" ] } ";
  sl_json_minify(pretty, strlen(pretty), &b);
  CHECK(strcmp(b.z, "{\"a b\":[1,\"x \\\" y\"]}") == 0, "minify: %s", b.z);
  sl_buf_free(&b);
}

static void test_member_protocol(void) {
  const char *z = "{ \"a\" : 1 , \"b\\n\" : [2] }";
  size_t n = strlen(z), i = 1, v, ve, kl;
  const char *k;
  int esc;
  sl_json_kind kind;
  int rc = sl_json_member(z, n, &i, &k, &kl, &esc, &v, &ve, &kind);
  CHECK(rc == 1 && kl == 1 && *k == 'a' && !esc && kind == SL_JSON_INT && z[v] == '1',
        "first member");
  rc = sl_json_member(z, n, &i, &k, &kl, &esc, &v, &ve, &kind);
  CHECK(rc == 1 && kl == 3 && esc && kind == SL_JSON_ARRAY && ve - v == 3, "second member");
  rc = sl_json_member(z, n, &i, &k, &kl, &esc, &v, &ve, &kind);
  CHECK(rc == 0 && i == n, "end of object");
  const char *bad[] = {"{,\"a\":1}", "{\"a\":1,}", "{\"a\":1,,\"b\":2}", "{\"a\":1 \"b\":2}"};
  for (size_t t = 0; t < SL_ARRAY_SIZE(bad); t++) {
    i = 1;
    n = strlen(bad[t]);
    while ((rc = sl_json_member(bad[t], n, &i, &k, &kl, &esc, &v, &ve, &kind)) == 1) {
    }
    CHECK(rc == -1, "member iteration over %s: %d", bad[t], rc);
  }
  /* after -1, *i is at the first bad byte (n when the text ends too soon) */
  static const struct {
    const char *z;
    size_t at;
  } at[] = {{"{,\"a\":1}", 1},    {"{\"a\":1,}", 7}, {"{\"a\":1 \"b\":2}", 7},
            {"{\"a\":[1,x]}", 8}, {"{\"a\":1", 6},   {"{\"a\":\"\\q\"}", 7}};
  for (size_t t = 0; t < SL_ARRAY_SIZE(at); t++) {
    i = 1;
    n = strlen(at[t].z);
    while ((rc = sl_json_member(at[t].z, n, &i, &k, &kl, &esc, &v, &ve, &kind)) == 1) {
    }
    CHECK(rc == -1 && i == at[t].at, "%s: first bad byte %zu, want %zu", at[t].z, i, at[t].at);
  }
  i = 1;
  CHECK(sl_json_element("[1,]", 4, &i, &v, &ve, &kind) == 1 &&
            sl_json_element("[1,]", 4, &i, &v, &ve, &kind) == -1 && i == 3,
        "element: first bad byte %zu", i);
  size_t badat = 0;
  CHECK(sl_json_check("[1, tru]", 8, 0, &kind, &badat) == (size_t)-1 && badat == 7 &&
            kind == SL_JSON_BAD,
        "sl_json_check: %zu", badat);
  CHECK(sl_json_check("[1, [2]] ", 9, 0, &kind, &badat) == 8 && kind == SL_JSON_ARRAY,
        "sl_json_check of a good value");
  z = "[1,[2,3],\"x\"]";
  i = 1;
  int count = 0;
  while (sl_json_element(z, strlen(z), &i, &v, &ve, &kind) == 1)
    count++;
  CHECK(count == 3, "elements: %d", count);
  i = 1;
  CHECK(sl_json_element("[1,]", 4, &i, &v, &ve, &kind) == 1 &&
            sl_json_element("[1,]", 4, &i, &v, &ve, &kind) == -1,
        "trailing comma in array");
}

/* ---- the JSON record decoder ---------------------------------------------- */

typedef struct dec {
  sl_schema schema;
  sl_decoder *d;
  const sl_format *fmt;
  sl_value row[16];
  sl_arena arena;
  const char *why;
} dec;

/* A decoder of fmt for the columns in spec ('a REAL, b' as columns =>). */
static void dec_open(dec *t, const sl_format *fmt, const char *spec, int header) {
  memset(t, 0, sizeof *t);
  sl_err err = {0};
  sl_schema_init(&t->schema, 0);
  if (sl_schema_parse(&t->schema, spec, &err)) printf("bad spec %s: %s\n", spec, err.msg);
  sl_fmt_opts o = {header, ',', &t->schema, 0};
  t->fmt = fmt;
  t->d = fmt->decoder_new(&o, &err);
  sl_arena_init(&t->arena);
}

static int dec_run(dec *t, const char *rec, size_t len) {
  sl_arena_reset(&t->arena);
  t->why = NULL;
  return t->fmt->decode(t->d, rec, len, t->row, &t->arena, &t->why);
}

static const char *col(dec *t, int i) {
  static char out[4][256];
  static int k;
  k = (k + 1) % 4;
  return show(&t->row[i], out[k], sizeof out[k]);
}

static void dec_close(dec *t) {
  t->fmt->decoder_free(t->d);
  for (int i = 0; i < 16; i++)
    sl_value_free(&t->row[i]);
  sl_schema_free(&t->schema);
  sl_arena_free(&t->arena);
}

static void test_json_decode(void) {
  dec t;
  dec_open(&t, &sl_fmt_json, "a, s, n, v, o, e, t, f, z", 0);
  const char *r = "{\"skip\": {\"deep\": [1, {\"x\": \"\\u0041\"}]}, \"a\": {\"b\": [1, 2]}, "
                  "\"s\": \"a\\\"b\\\\c\\/d\\n\\u00e9\\ud83d\\ude00\", \"n\": 12, \"v\": [1, "
                  "2.5, -3e2], \"o\": [1, \"x\"], \"e\": [], \"t\": true, \"f\": false, \"z\": "
                  "null}";
  int rc = dec_run(&t, r, strlen(r));
  CHECK(rc == 0, "decode: %s", t.why);
  CHECK(!strcmp(col(&t, 0), "text:{\"b\":[1,2]}(json)"), "nested object: %s", col(&t, 0));
  CHECK(!strcmp(col(&t, 1), "text:a\"b\\c/d\n\xc3\xa9\xf0\x9f\x98\x80"), "escapes: %s", col(&t, 1));
  CHECK(!strcmp(col(&t, 2), "integer:12"), "int: %s", col(&t, 2));
  CHECK(t.row[3].type == SL_VECTOR && t.row[3].n == 3 && t.row[3].u.v[1] == 2.5 &&
            t.row[3].u.v[2] == -300,
        "vector: %s", col(&t, 3));
  CHECK(!strcmp(col(&t, 4), "text:[1,\"x\"](json)"), "mixed array: %s", col(&t, 4));
  CHECK(!strcmp(col(&t, 5), "text:[](json)"), "empty array: %s", col(&t, 5));
  CHECK(!strcmp(col(&t, 6), "integer:1") && !strcmp(col(&t, 7), "integer:0") &&
            t.row[8].type == SL_NULL,
        "true/false/null: %s %s %s", col(&t, 6), col(&t, 7), col(&t, 8));
  /* Only the schema's columns exist; absent fields are NULL; last duplicate
  ** wins; escaped keys and case-insensitive names match. */
  r = "{\"n\": 1, \"N\": 2, \"other\": \"\\u0041\", \"\\u0073\": \"S\"}";
  rc = dec_run(&t, r, strlen(r));
  CHECK(rc == 0 && !strcmp(col(&t, 2), "integer:2") && !strcmp(col(&t, 1), "text:S") &&
            t.row[0].type == SL_NULL,
        "duplicates/escaped key: %s %s %s", col(&t, 2), col(&t, 1), col(&t, 0));
  dec_close(&t);

  /* Numbers, as json_extract gives them. */
  dec_open(&t, &sl_fmt_json, "a, b, c, d, e, f, g", 0);
  r = "{\"a\": 9223372036854775807, \"b\": 9223372036854775808, \"c\": -9223372036854775808, "
      "\"d\": 1e3, \"e\": -0, \"f\": -0.0, \"g\": 123456789012345678}";
  rc = dec_run(&t, r, strlen(r));
  CHECK(rc == 0 && !strcmp(col(&t, 0), "integer:9223372036854775807") &&
            !strcmp(col(&t, 1), "real:9.22337203685478e+18") &&
            !strcmp(col(&t, 2), "integer:-9223372036854775808") &&
            !strcmp(col(&t, 3), "real:1000.0") && !strcmp(col(&t, 4), "integer:0") &&
            t.row[5].type == SL_REAL && signbit(t.row[5].u.r) &&
            !strcmp(col(&t, 6), "integer:123456789012345678"),
        "numbers: %s %s %s %s %s %s", col(&t, 0), col(&t, 1), col(&t, 2), col(&t, 3), col(&t, 4),
        col(&t, 6));
  dec_close(&t);

  /* Declared types apply affinity. */
  dec_open(&t, &sl_fmt_json, "x REAL, y TEXT, z INTEGER", 0);
  r = "{\"x\": 3, \"y\": 4.5, \"z\": \"17\"}";
  rc = dec_run(&t, r, strlen(r));
  CHECK(rc == 0 && !strcmp(col(&t, 0), "real:3.0") && !strcmp(col(&t, 1), "text:4.5") &&
            !strcmp(col(&t, 2), "integer:17"),
        "affinity: %s %s %s", col(&t, 0), col(&t, 1), col(&t, 2));
  dec_close(&t);

  /* Malformed records: rejected with a reason, never a crash. */
  dec_open(&t, &sl_fmt_json, "a", 0);
  static const struct {
    const char *rec, *why;
  } bad[] = {{"", "empty record"},
             {"   ", "empty record"},
             {"[1, 2]", "not a JSON object"},
             {"\"x\"", "not a JSON object"},
             {"{\"a\": 1,}", "malformed JSON at byte 9"},
             {"{\"a\": 01}", "malformed JSON at byte 8"},
             {"{\"a\" 1}", "malformed JSON at byte 6"},
             {"{\"b\": [1, 2, {\"c\": tru}]}", "malformed JSON at byte 23"},
             {"{\"a\": 1} x", "malformed JSON at byte 10"},
             {"{\"a\": \"x\ty\"}", "malformed JSON at byte 9"},
             {"{\"a\": \"\\q\"}", "malformed JSON at byte 9"},
             {"{\"a\": \"abc", "malformed JSON: truncated after 10 bytes"},
             {"{\"a\": [1, 2", "malformed JSON: truncated after 11 bytes"},
             {"{\"a\"", "malformed JSON: truncated after 4 bytes"},
             {"{", "malformed JSON: truncated after 1 bytes"},
             {"nonsense", "malformed JSON at byte 2"},
             /* where the scanner stops: truncated objects ... */
             {"{\"a\": 1,", "malformed JSON: truncated after 8 bytes"},
             {"{\"a\": {\"b\": 1}", "malformed JSON: truncated after 14 bytes"},
             {"{\"a\"  :", "malformed JSON: truncated after 7 bytes"},
             {"{\"a\": fals", "malformed JSON: truncated after 10 bytes"},
             {"{\"a\": \"x\\", "malformed JSON: truncated after 9 bytes"},
             /* ... bad escapes, in keys and values ... */
             {"{\"a\": \"\\u12g4\"}", "malformed JSON at byte 12"},
             {"{\"a\": \"\\u12\"}", "malformed JSON at byte 12"},
             {"{\"a\": \"\\u12", "malformed JSON: truncated after 11 bytes"},
             {"{\"a\\x\": 1}", "malformed JSON at byte 5"},
             {"{\"a\x01\": 1}", "malformed JSON at byte 4"},
             {"{\"a\": \"\\uD83D\\uDE0\"}", "malformed JSON at byte 19"},
             /* ... nested arrays and objects ... */
             {"{\"a\": [[1, 2], [3 4]]}", "malformed JSON at byte 19"},
             {"{\"a\": [[1, 2], [3,]]}", "malformed JSON at byte 19"},
             {"{\"a\": [[1, [2, [3, [4, 5}]]]]}", "malformed JSON at byte 25"},
             {"{\"a\": [1, 2]]}", "malformed JSON at byte 13"},
             {"{\"a\": 1, \"b\": }", "malformed JSON at byte 15"},
             {"{1: 2}", "malformed JSON at byte 2"},
             /* ... literals and numbers ... */
             {"{\"a\": trUe}", "malformed JSON at byte 9"},
             {"{\"a\": nul}", "malformed JSON at byte 10"},
             {"{\"a\": -}", "malformed JSON at byte 8"},
             {"{\"a\": 1e+}", "malformed JSON at byte 10"},
             {"{\"a\": .5}", "malformed JSON at byte 7"},
             /* ... trailing garbage, and values that are not objects */
             {"{\"a\": 1}}", "malformed JSON at byte 9"},
             {"{\"a\": 1} {\"b\": 2}", "malformed JSON at byte 10"},
             {"[1, 2", "malformed JSON: truncated after 5 bytes"},
             {"12x", "malformed JSON at byte 3"},
             {"[1] x", "malformed JSON at byte 5"}};
  for (size_t k = 0; k < SL_ARRAY_SIZE(bad); k++) {
    rc = dec_run(&t, bad[k].rec, strlen(bad[k].rec));
    CHECK(rc == -1 && t.why && !strcmp(t.why, bad[k].why), "'%s': rc %d why '%s', want '%s'",
          bad[k].rec, rc, t.why ? t.why : "(null)", bad[k].why);
  }
  /* Nesting deeper than SL_JSON_MAX_DEPTH fails at the first bracket too
  ** deep: the member value is at depth 1, so its 2000th '[' (byte 6 + 2000). */
  {
    size_t d = SL_JSON_MAX_DEPTH, n = 6 + 2 * d + 1;
    char *deep = malloc(n + 1);
    memcpy(deep, "{\"a\": ", 6);
    memset(deep + 6, '[', d);
    memset(deep + 6 + d, ']', d);
    deep[n - 1] = '}';
    rc = dec_run(&t, deep, n);
    CHECK(rc == -1 && t.why &&
              !strcmp(t.why, "malformed JSON at byte 2006: nested deeper than 2000 "
                             "arrays and objects"),
          "too deep: %s", t.why ? t.why : "(null)");
    deep[6 + d - 1] = ' '; /* one level less: fine */
    deep[6 + d] = ' ';
    rc = dec_run(&t, deep, n);
    CHECK(rc == 0, "deep but within the limit: %s", t.why ? t.why : "(null)");
    free(deep);
  }
  /* Binary garbage and random truncations of a good record. */
  srand(7);
  const char *good = "{\"a\": [1, {\"b\": \"x\\u00e9\"}], \"c\": -1.5e3, \"d\": null}";
  size_t gl = strlen(good);
  int crash_free = 1, agree = 1;
  char buf[300];
  for (int it = 0; it < 20000; it++) {
    size_t n;
    if (it % 2) {
      n = (size_t)rand() % 64;
      for (size_t k = 0; k < n; k++)
        buf[k] = (char)(rand() & 0xff);
    } else {
      n = (size_t)rand() % gl;
      memcpy(buf, good, n);
    }
    char *copy = malloc(n ? n : 1); /* exact size: ASan catches any overread */
    memcpy(copy, buf, n);
    rc = dec_run(&t, copy, n);
    if (rc == -1 && !t.why) crash_free = 0;
    size_t s = sl_json_ws(copy, n, 0);
    int want = sl_json_valid(copy, n) && s < n && copy[s] == '{';
    if ((rc == 0) != want) agree = 0;
    free(copy);
  }
  CHECK(crash_free, "every rejected record has a reason");
  CHECK(agree, "decoder accepts exactly the valid objects");
  dec_close(&t);
}

/* ---- CSV -------------------------------------------------------------- */

static void test_csv(void) {
  dec t;
  dec_open(&t, &sl_fmt_csv, "a TEXT, b REAL, c INTEGER, d", 0);
  const char *r = "x,3.5,7,5";
  int rc = dec_run(&t, r, strlen(r));
  CHECK(rc == 0 && !strcmp(col(&t, 0), "text:x") && !strcmp(col(&t, 1), "real:3.5") &&
            !strcmp(col(&t, 2), "integer:7") && !strcmp(col(&t, 3), "text:5"),
        "typed: %s %s %s %s", col(&t, 0), col(&t, 1), col(&t, 2), col(&t, 3));
  r = "\"a,b\",\"2\",3,\"he said \"\"hi\"\"\"";
  rc = dec_run(&t, r, strlen(r));
  CHECK(rc == 0 && !strcmp(col(&t, 0), "text:a,b") && !strcmp(col(&t, 1), "real:2.0") &&
            !strcmp(col(&t, 3), "text:he said \"hi\""),
        "quoted: %s %s %s", col(&t, 0), col(&t, 1), col(&t, 3));
  r = "\"multi\nline\",1,2,\"\"";
  rc = dec_run(&t, r, strlen(r));
  CHECK(rc == 0 && !strcmp(col(&t, 0), "text:multi\nline") && !strcmp(col(&t, 3), "text:"),
        "embedded newline: %s", col(&t, 0));
  r = ",,,";
  rc = dec_run(&t, r, strlen(r));
  CHECK(rc == 0 && !strcmp(col(&t, 0), "text:") && t.row[1].type == SL_NULL &&
            t.row[2].type == SL_NULL && !strcmp(col(&t, 3), "text:"),
        "empty fields: %s %s %s %s", col(&t, 0), col(&t, 1), col(&t, 2), col(&t, 3));
  static const struct {
    const char *rec, *why;
  } bad[] = {{"x,abc,1,2", "column b: 'abc' is not a REAL"},
             {"x,1,1.5x,2", "column c: '1.5x' is not a INTEGER"},
             {"x,1,2", "expected 4 fields, found 3"},
             {"x,1,2,3,4", "expected 4 fields, found more than 4"},
             {"\"x,1,2,3", "malformed CSV (unbalanced quotes)"},
             {"\"x\"y,1,2,3", "malformed CSV (unbalanced quotes)"}};
  for (size_t k = 0; k < SL_ARRAY_SIZE(bad); k++) {
    rc = dec_run(&t, bad[k].rec, strlen(bad[k].rec));
    CHECK(rc == -1 && t.why && !strcmp(t.why, bad[k].why), "csv '%s': why '%s', want '%s'",
          bad[k].rec, t.why ? t.why : "(null)", bad[k].why);
  }
  dec_close(&t);

  /* Round trip: encode awkward text, decode it back. */
  const char *texts[] = {"plain", "a,b", "say \"hi\"", "two\nlines", "cr\r\nlf", "", " lead"};
  const char *names[] = {"t"};
  sl_fmt_opts o = {1, ',', NULL, 0};
  sl_err err = {0};
  sl_encoder *e = sl_fmt_csv.encoder_new(1, names, &o, &err);
  dec_open(&t, &sl_fmt_csv, "t TEXT", 0);
  for (size_t k = 0; k < SL_ARRAY_SIZE(texts); k++) {
    sl_buf b;
    sl_buf_init(&b);
    sl_value v = SL_VALUE_INIT;
    sl_value_set_text(&v, texts[k], strlen(texts[k]));
    sl_fmt_csv.encode(e, &v, &b);
    sl_buf_putc(&b, '\n');
    size_t rl, fl = sl_fmt_csv.frame(b.z, b.n, 0, &rl);
    rc = fl == b.n ? dec_run(&t, b.z, rl) : -2;
    CHECK(rc == 0 && t.row[0].n == strlen(texts[k]) && !memcmp(t.row[0].u.z, texts[k], t.row[0].n),
          "csv round trip of '%s' via '%s'", texts[k], b.z);
    sl_value_free(&v);
    sl_buf_free(&b);
  }
  dec_close(&t);
  sl_fmt_csv.encoder_free(e);

  /* Encoder bytes: header, quoting only when needed, NULL as empty. */
  const char *n3[] = {"id", "name,x", "score"};
  e = sl_fmt_csv.encoder_new(3, n3, &o, &err);
  sl_buf b;
  sl_buf_init(&b);
  sl_fmt_csv.begin(e, &b);
  sl_value row[3] = {SL_VALUE_INIT, SL_VALUE_INIT, SL_VALUE_INIT};
  sl_value_set_int(&row[0], 1);
  sl_value_set_text(&row[1], "O\"Neil", 6);
  sl_value_set_real(&row[2], 2.5);
  sl_fmt_csv.encode(e, row, &b);
  sl_buf_putc(&b, '\n');
  sl_value_set_null(&row[1]);
  sl_value_set_real(&row[2], 3.0);
  sl_fmt_csv.encode(e, row, &b);
  CHECK(!strcmp(b.z, "id,\"name,x\",score\n1,\"O\"\"Neil\",2.5\n1,,3.0"), "csv encoder: [%s]", b.z);
  for (int k = 0; k < 3; k++)
    sl_value_free(&row[k]);
  sl_buf_free(&b);
  sl_fmt_csv.encoder_free(e);

  /* Framing: a quoted newline does not end a record; at eof the rest is one. */
  const char *f = "\"a\nb\",1\r\nx,2";
  size_t rl, fl = sl_fmt_csv.frame(f, strlen(f), 0, &rl);
  CHECK(fl == 9 && rl == 7, "csv frame: %zu %zu", fl, rl);
  fl = sl_fmt_csv.frame(f + 9, 3, 0, &rl);
  CHECK(fl == 0, "incomplete record waits for more");
  fl = sl_fmt_csv.frame(f + 9, 3, 1, &rl);
  CHECK(fl == 3 && rl == 3, "last record at eof");
}

static void test_raw(void) {
  dec t;
  sl_schema s;
  sl_schema_init(&s, 0);
  sl_schema_add(&s, "value", 5, "TEXT");
  dec_open(&t, &sl_fmt_raw, "value TEXT", 0);
  int rc = dec_run(&t, "any {thing", 10);
  CHECK(rc == 0 && !strcmp(col(&t, 0), "text:any {thing"), "raw decode: %s", col(&t, 0));
  dec_close(&t);
  sl_schema_free(&s);
  const char *names[] = {"x", "y"};
  sl_fmt_opts o = {0, ',', NULL, 0};
  sl_err err = {0};
  sl_encoder *e = sl_fmt_raw.encoder_new(2, names, &o, &err);
  sl_value row[2] = {SL_VALUE_INIT, SL_VALUE_INIT};
  sl_value_set_real(&row[0], 1.5);
  sl_value_set_int(&row[1], 2);
  sl_buf b;
  sl_buf_init(&b);
  sl_fmt_raw.encode(e, row, &b);
  CHECK(!strcmp(b.z, "1.5"), "raw encode: %s", b.z);
  sl_buf_free(&b);
  sl_fmt_raw.encoder_free(e);
  CHECK(sl_format_find("JSON") == &sl_fmt_json && sl_format_find("csv") == &sl_fmt_csv &&
            sl_format_find("raw") == &sl_fmt_raw && !sl_format_find("xml"),
        "sl_format_find");
}

/* ---- connectors --------------------------------------------------------- */

static char *tmp_path(const char *name) {
  static char p[4][700];
  static int k;
  k = (k + 1) % 4;
  snprintf(p[k], sizeof p[k], "%s/%s", tmpdir, name);
  return p[k];
}

static void write_file(const char *path, const char *z, size_t n) {
  FILE *f = fopen(path, "wb");
  fwrite(z, 1, n, f);
  fclose(f);
}

/* Options for a call: fn('arg0', name => value, ...) (values are text). */
static void opts_make(sl_options *o, const char *fn, const char *arg0, ...) {
  memset(o, 0, sizeof *o);
  o->fn = fn;
  sl_value v = SL_VALUE_INIT;
  if (arg0) {
    sl_value_set_text(&v, arg0, strlen(arg0));
    sl_options_add(o, "0", &v, 1, 1);
  }
  va_list ap;
  va_start(ap, arg0);
  const char *name;
  while ((name = va_arg(ap, const char *))) {
    const char *val = va_arg(ap, const char *);
    sl_value_set_text(&v, val, strlen(val));
    sl_options_add(o, name, &v, 1, 1);
  }
  va_end(ap);
  sl_value_free(&v);
}

/* Read every record of src; collect "pos:text|" into out. */
static int read_all(sl_source *src, sl_buf *out, int max) {
  sl_record recs[8];
  sl_err err = {0};
  int total = 0, n;
  while ((n = src->vt->read(src, recs, max, -1, &err)) > 0) {
    for (int i = 0; i < n; i++) {
      sl_buf_printf(out, "%lld:", (long long)recs[i].pos);
      if (recs[i].len > 40)
        sl_buf_printf(out, "<%zu bytes %c..%c>", recs[i].len, recs[i].data[0],
                      recs[i].data[recs[i].len - 1]);
      else
        sl_buf_append(out, recs[i].data, recs[i].len);
      sl_buf_putc(out, '|');
    }
    total += n;
  }
  if (n == SL_READ_ERROR) {
    sl_buf_printf(out, "ERROR %s", err.msg);
    sl_err_clear(&err);
  }
  return total;
}

static void test_file_source(void) {
  sl_options o;
  sl_err err = {0};
  const char *p = tmp_path("in.jsonl");
  write_file(p, "{\"a\":1}\n{\"a\":2}\r\n\n{\"a\":3}", 25);
  opts_make(&o, "file", p, NULL);
  sl_source *s = sl_conn_file.open_source(&o, &err);
  CHECK(s && s->format == &sl_fmt_json && s->schema.open, "json by extension: %s", err.msg);
  if (s) {
    sl_buf b;
    sl_buf_init(&b);
    read_all(s, &b, 8);
    CHECK(!strcmp(b.z, "1:{\"a\":1}|2:{\"a\":2}|3:|4:{\"a\":3}|"), "records: %s", b.z);
    sl_record r = {0};
    r.pos = 4;
    sl_buf_reset(&b);
    s->vt->position(s, &r, &b);
    CHECK(strlen(b.z) > 10 && !strcmp(b.z + strlen(b.z) - 10, "in.jsonl:4"), "position: %s", b.z);
    sl_buf_free(&b);
    s->vt->close(s);
  }
  sl_options_free(&o);

  /* A missing file, an unknown option, a bad format. */
  opts_make(&o, "file", tmp_path("nope.json"), NULL);
  s = sl_conn_file.open_source(&o, &err);
  char want[800];
  snprintf(want, sizeof want, "cannot open '%s': No such file or directory", tmp_path("nope.json"));
  CHECK(!s && err.msg && !strcmp(err.msg, want), "missing file: %s", err.msg);
  sl_err_clear(&err);
  sl_options_free(&o);
  opts_make(&o, "file", p, "colour", "red", NULL);
  s = sl_conn_file.open_source(&o, &err);
  CHECK(!s && err.msg && !strcmp(err.msg, "unknown option 'colour' for file()"), "unknown: %s",
        err.msg);
  sl_err_clear(&err);
  sl_options_free(&o);
  opts_make(&o, "file", p, "format", "xml", NULL);
  s = sl_conn_file.open_source(&o, &err);
  CHECK(!s && err.msg && strstr(err.msg, "unknown format 'xml'"), "bad format: %s", err.msg);
  sl_err_clear(&err);
  sl_options_free(&o);

  /* CSV with a header naming the columns, a record spanning lines. */
  p = tmp_path("in.csv");
  const char *csv = "id,name\n1,\"two\nlines\"\n2,x\n";
  write_file(p, csv, strlen(csv));
  opts_make(&o, "file", p, "header", "true", NULL);
  s = sl_conn_file.open_source(&o, &err);
  CHECK(s && s->schema.ncol == 2 && !strcmp(s->schema.cols[1].name, "name"), "csv header: %s",
        err.msg);
  if (s) {
    sl_buf b;
    sl_buf_init(&b);
    read_all(s, &b, 1);
    CHECK(!strcmp(b.z, "2:1,\"two\nlines\"|4:2,x|"), "csv records: %s", b.z);
    sl_buf_free(&b);
    s->vt->close(s);
  }
  sl_options_free(&o);
  /* Declared columns + header: the header is skipped. */
  opts_make(&o, "file", p, "header", "true", "columns", "id INTEGER, name TEXT", NULL);
  s = sl_conn_file.open_source(&o, &err);
  if (s) {
    sl_buf b;
    sl_buf_init(&b);
    int n = read_all(s, &b, 8);
    CHECK(n == 2 && s->schema.cols[0].aff == SL_AFF_INTEGER, "csv declared: %s", b.z);
    sl_buf_free(&b);
    s->vt->close(s);
  }
  CHECK(s != NULL, "csv declared open: %s", err.msg);
  sl_err_clear(&err);
  sl_options_free(&o);

  /* A 1.5 MB line between small ones: bigger than the read buffer. */
  p = tmp_path("big.txt");
  size_t big = 1500000;
  char *z = malloc(big + 20);
  memcpy(z, "first\n", 6);
  memset(z + 6, 'x', big);
  z[6] = '<';
  z[6 + big - 1] = '>';
  memcpy(z + 6 + big, "\nlast\n", 6);
  write_file(p, z, big + 12);
  free(z);
  opts_make(&o, "file", p, NULL);
  s = sl_conn_file.open_source(&o, &err);
  if (s) {
    CHECK(s->format == &sl_fmt_raw && s->schema.ncol == 1 &&
              !strcmp(s->schema.cols[0].name, "value"),
          "raw by default");
    sl_buf b;
    sl_buf_init(&b);
    read_all(s, &b, 8);
    CHECK(!strcmp(b.z, "1:first|2:<1500000 bytes <..>>|3:last|"), "big line: %s", b.z);
    sl_buf_free(&b);
    s->vt->close(s);
  }
  sl_options_free(&o);
}

/* stdin() fed through a pipe in small writes: records split across reads. */
static void test_stdin_pipe(void) {
  int fds[2];
  if (pipe(fds)) return;
  const char *text = "{\"a\": 1}\n{\"a\": \"split across writes\"}\nno newline at end";
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    for (size_t i = 0; i < strlen(text); i += 5) {
      size_t k = strlen(text) - i < 5 ? strlen(text) - i : 5;
      if (write(fds[1], text + i, k) < 0) _exit(1);
      usleep(2000);
    }
    _exit(0);
  }
  close(fds[1]);
  int saved = dup(0);
  dup2(fds[0], 0);
  close(fds[0]);
  sl_options o;
  sl_err err = {0};
  opts_make(&o, "stdin", NULL, NULL);
  sl_source *s = sl_conn_stdin.open_source(&o, &err);
  if (s) {
    sl_buf b;
    sl_buf_init(&b);
    read_all(s, &b, 8);
    CHECK(s->format == &sl_fmt_raw &&
              !strcmp(b.z, "1:{\"a\": 1}|2:{\"a\": \"split across writes\"}|3:no newline at end|"),
          "stdin: %s", b.z);
    sl_buf_free(&b);
    s->vt->close(s);
  }
  CHECK(s != NULL, "stdin open: %s", err.msg);
  sl_options_free(&o);
  dup2(saved, 0);
  close(saved);
  waitpid(pid, NULL, 0);
}

static char *slurp(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  char *z = malloc(1 << 16);
  *n = fread(z, 1, (1 << 16) - 1, f);
  z[*n] = 0;
  fclose(f);
  return z;
}

/* Encode rows with the sink's format and write them as the engine does. */
static void sink_rows(sl_sink *k, int append_rows) {
  const char *names[] = {"id", "name"};
  sl_err err = {0};
  sl_encoder *e = k->format->encoder_new(2, names, &k->fmt_opts, &err);
  sl_buf b;
  sl_buf_init(&b);
  if (k->format->begin) k->format->begin(e, &b);
  size_t ends[2];
  sl_value row[2] = {SL_VALUE_INIT, SL_VALUE_INIT};
  for (int i = 0; i < append_rows; i++) {
    sl_value_set_int(&row[0], i + 1);
    if (i)
      sl_value_set_null(&row[1]);
    else
      sl_value_set_text(&row[1], "a \"q\"", 5);
    k->format->encode(e, row, &b);
    sl_buf_putc(&b, '\n');
    ends[i] = b.n;
  }
  CHECK(k->vt->write(k, b.z, ends, append_rows, NULL, NULL, NULL, &err) == 0, "sink write: %s",
        err.msg);
  CHECK(k->vt->flush(k, &err) == 0, "flush");
  for (int i = 0; i < 2; i++)
    sl_value_free(&row[i]);
  sl_buf_free(&b);
  k->format->encoder_free(e);
}

static void test_sinks(void) {
  sl_options o;
  sl_err err = {0};
  const char *p = tmp_path("out.json");
  opts_make(&o, "file", p, NULL);
  sl_sink *k = sl_conn_file.open_sink(&o, &err);
  CHECK(k && k->format == &sl_fmt_json, "json sink: %s", err.msg);
  if (k) {
    sink_rows(k, 2);
    k->vt->close(k);
  }
  sl_options_free(&o);
  size_t n;
  char *z = slurp(p, &n);
  CHECK(z && !strcmp(z, "{\"id\":1,\"name\":\"a \\\"q\\\"\"}\n{\"id\":2,\"name\":null}\n"),
        "json sink bytes: %s", z);
  free(z);
  opts_make(&o, "file", p, "mode", "append", NULL);
  k = sl_conn_file.open_sink(&o, &err);
  if (k) {
    sink_rows(k, 1);
    k->vt->close(k);
  }
  sl_options_free(&o);
  z = slurp(p, &n);
  CHECK(z && !strcmp(z, "{\"id\":1,\"name\":\"a \\\"q\\\"\"}\n{\"id\":2,\"name\":null}\n"
                        "{\"id\":1,\"name\":\"a \\\"q\\\"\"}\n"),
        "append: %s", z);
  free(z);
  p = tmp_path("out.csv");
  opts_make(&o, "file", p, "header", "yes", "mode", "overwrite", NULL);
  k = sl_conn_file.open_sink(&o, &err);
  if (k) {
    sink_rows(k, 2);
    k->vt->close(k);
  }
  sl_options_free(&o);
  z = slurp(p, &n);
  CHECK(z && !strcmp(z, "id,name\n1,\"a \"\"q\"\"\"\n2,\n"), "csv sink bytes: %s", z);
  free(z);
  opts_make(&o, "file", p, "mode", "sideways", NULL);
  k = sl_conn_file.open_sink(&o, &err);
  CHECK(!k && err.msg && strstr(err.msg, "mode =>"), "bad mode: %s", err.msg);
  sl_err_clear(&err);
  sl_options_free(&o);
  opts_make(&o, "stdout", NULL, NULL);
  k = sl_conn_stdout.open_sink(&o, &err);
  CHECK(k && k->format == &sl_fmt_json, "stdout sink defaults to json");
  if (k) k->vt->close(k);
  sl_options_free(&o);
  CHECK(sl_connector_find("FILE", 4) == &sl_conn_file &&
            sl_connector_find("stdin", 5) == &sl_conn_stdin &&
            sl_connector_find("stdout", 6) == &sl_conn_stdout && !sl_connector_find("std", 3),
        "connector registry");
}

static void test_options_schema(void) {
  sl_options o;
  sl_err err = {0};
  opts_make(&o, "f", NULL, "flag", "yes", "num", "42", "bad", "maybe", NULL);
  CHECK(sl_opt_bool(&o, "FLAG", 0, &err) == 1, "bool yes");
  CHECK(sl_opt_int(&o, "num", 0, &err) == 42, "int");
  CHECK(sl_opt_bool(&o, "bad", 0, &err) == -1 && err.msg, "bad bool");
  sl_err_clear(&err);
  CHECK(sl_opt_bool(&o, "absent", 1, &err) == 1 && !strcmp(sl_opt_str(&o, "x", "d"), "d"),
        "defaults");
  CHECK(sl_options_check(&o, &err) == 0, "all used");
  sl_options_free(&o);
  sl_schema s;
  sl_schema_init(&s, 0);
  CHECK(sl_schema_parse(&s, " a REAL, \"b c\" TEXT ,d, e DECIMAL(10, 2), f VECTOR", &err) == 0 &&
            s.ncol == 5 && s.cols[0].aff == SL_AFF_REAL && !strcmp(s.cols[1].name, "b c") &&
            s.cols[2].decltype == NULL && !strcmp(s.cols[3].decltype, "DECIMAL(10, 2)") &&
            s.cols[4].is_vector,
        "schema parse: %s", err.msg);
  CHECK(sl_schema_find(&s, "A", 1) == 0 && sl_schema_find(&s, "zz", 2) == -1 &&
            sl_schema_need(&s, "zz", 2) == -1,
        "schema find");
  sl_schema c;
  sl_schema_copy(&c, &s);
  CHECK(c.ncol == 5 && c.cols[4].is_vector && c.cols[0].aff == SL_AFF_REAL, "schema copy");
  sl_schema_free(&c);
  sl_schema_free(&s);
  sl_schema_init(&s, 0);
  CHECK(sl_schema_parse(&s, "a, a", &err) == -1 && err.msg, "duplicate column");
  sl_err_clear(&err);
  sl_schema_free(&s);
}

/* ---- throughput ------------------------------------------------------------ */

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void bench_s1(int nrec) {
  const char *p = tmp_path("s1.jsonl");
  FILE *f = fopen(p, "wb");
  srand(1);
  for (int i = 0; i < nrec; i++) {
    fprintf(f, "{");
    for (int g = 1; g <= 10; g++)
      fprintf(f, "\"G%d\": %d, ", g, rand() & 1);
    fprintf(f, "\"User_ID\": \"%08x-%04x-11ea-ae04-%012x\"}\n", (unsigned)rand(),
            (unsigned)rand() & 0xffff, (unsigned)rand());
  }
  fclose(f);
  sl_options o;
  sl_err err = {0};
  opts_make(&o, "file", p, NULL);
  double t0 = now();
  sl_source *s = sl_conn_file.open_source(&o, &err);
  if (!s) return;
  const char *names[] = {"G1", "G2", "G3", "G4", "G5", "G6", "G7", "G8", "G9", "G10", "User_ID"};
  for (int i = 0; i < 11; i++)
    sl_schema_need(&s->schema, names[i], strlen(names[i]));
  sl_fmt_opts fo = s->fmt_opts;
  fo.schema = &s->schema;
  sl_decoder *d = s->format->decoder_new(&fo, &err);
  sl_encoder *e = sl_fmt_json.encoder_new(11, names, &fo, &err);
  enum { B = 1024 };
  sl_record *recs = calloc(B, sizeof *recs);
  sl_value *rows = calloc((size_t)B * 11, sizeof *rows);
  sl_arena a;
  sl_arena_init(&a);
  sl_buf out;
  sl_buf_init(&out);
  long total = 0, bad = 0;
  double tenc = 0;
  int n;
  while ((n = s->vt->read(s, recs, B, -1, &err)) > 0) {
    sl_arena_reset(&a);
    for (int i = 0; i < n; i++) {
      const char *why;
      if (s->format->decode(d, recs[i].data, recs[i].len, rows + (size_t)i * 11, &a, &why)) bad++;
    }
    double te = now();
    sl_buf_reset(&out);
    for (int i = 0; i < n; i++) {
      sl_fmt_json.encode(e, rows + (size_t)i * 11, &out);
      sl_buf_putc(&out, '\n');
    }
    tenc += now() - te;
    total += n;
  }
  double t = now() - t0;
  CHECK(total == nrec && bad == 0, "bench: %ld records, %ld bad", total, bad);
  printf("S1 decode: %ld records in %.3f s: %.2f M records/s framing + decoding (read included); "
         "encoding alone %.2f M records/s\n",
         total, t - tenc, (double)total / (t - tenc) / 1e6, (double)total / tenc / 1e6);
  for (size_t i = 0; i < (size_t)B * 11; i++)
    sl_value_free(&rows[i]);
  free(rows);
  free(recs);
  sl_buf_free(&out);
  sl_arena_free(&a);
  s->format->decoder_free(d);
  sl_fmt_json.encoder_free(e);
  s->vt->close(s);
  sl_options_free(&o);
  unlink(p);
}

int main(int argc, char **argv) {
  int quick = argc > 1 && !strcmp(argv[1], "--quick");
  const char *t = getenv("TMPDIR");
  snprintf(tmpdir, sizeof tmpdir, "%s/format_test.XXXXXX", t && *t ? t : "/tmp");
  if (!mkdtemp(tmpdir)) {
    perror("mkdtemp");
    return 1;
  }
  sqlite3_open(":memory:", &db);
  test_valid_cases();
  test_valid_fuzz(quick ? 20000 : 200000);
  test_to_value();
  test_json_output();
  test_member_protocol();
  test_json_decode();
  test_csv();
  test_raw();
  test_options_schema();
  test_file_source();
  test_stdin_pipe();
  test_sinks();
  if (!quick) bench_s1(1000000);
  sqlite3_close(db);
  const char *files[] = {"in.jsonl", "in.csv", "big.txt", "out.json", "out.csv"};
  for (size_t i = 0; i < SL_ARRAY_SIZE(files); i++)
    unlink(tmp_path(files[i]));
  rmdir(tmpdir);
  printf("%d passed, %d failed\n", npass, nfail);
  return nfail ? 1 : 0;
}
