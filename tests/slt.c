/*
** slt.c - the SQL test runner: SQLite's sqllogictest files (FILE.test,
** tests/slt/) and sluice's own data-driven SQL tests (FILE.slt, tests/sql/),
** run through the engine's C API (sluice_exec).  tests/slt/README.md and
** tests/sql/README.md describe the two kinds of file for their writers.
**
** ---- Records (both kinds; sqllogictest's about.wiki) ----
** Records are separated by blank lines; lines starting with '#' between
** records are comments.
**   statement ok              + SQL lines: must run
**   statement error [TEXT]    + SQL lines: must fail (with TEXT, see below)
**   query TYPES [OPTIONS]     + SQL lines, "----", the expected results
**   hash-threshold N          results with more than N values are given as a hash
**   halt                      stop reading this file
** A record may be preceded by "skipif ENGINE" / "onlyif ENGINE" lines.
** Engine names: sluice follows SQLite's semantics, so it answers to both
** "sluice" and "sqlite": `onlyif sqlite` records run and `skipif sqlite`
** records are skipped, exactly as they are for SQLite itself (the files were
** generated with SQLite as the reference; e.g. evidence/slt_lang_aggfunc.test
** starts with "skipif sqlite / halt", which stops every other engine).  Every
** other engine name (mysql, postgresql, mssql, oracle) is someone else.  The
** `--engine sqlite` mode uses the same names, so both engines see the same
** records.  Every record runs whatever failed before it, and each failure is
** reported with FILE:LINE (the line of the record's statement/query line).
**
** ---- FILE.test: SQLite's sqllogictest ----
** Values are rendered by the query's type string, as the reference runner
** (slt_sqlite.c) renders them: NULL as "NULL"; I as the value converted to a
** 32-bit int (the reference uses sqlite3_column_int) printed with %d; R as the
** value converted to double printed with %.3f (SQLite's printf, which keeps
** 16 significant digits); T as the text, "(empty)" for '', bytes outside
** ' '..'~' replaced by '@'.  Expected values are one per line.  Sort modes:
** nosort, rowsort (rows compared value by value with strcmp), valuesort
** (every value on its own).  A hashed result is compared by count and by the
** MD5 of the sorted rendered values, each followed by "\n".  Queries with a
** label (a third word) must give the same hash as every earlier query with
** that label.  With --engine sqlite an error while stepping a query just ends
** its rows, as in the reference runner, which recorded the expected results
** that way.
**
** Expected failures: NAME.expect beside NAME.test (read unless --engine sqlite)
** lists the records sluice does not pass yet, in groups:
**   reason WHY                 why these records fail (a missing feature, a bug)
**   error TEXT | wrong         how: an error whose message contains TEXT, or a
**                              wrong result (rows, columns, no error where one
**                              is expected)
**   LINE LINE ...              the records, by the line of their head
** '#' lines are comments.  A listed record must fail the way its group says;
** a record that fails otherwise, fails unlisted, or passes while listed fails
** the run (the last: "passes now: remove it").  --update rewrites NAME.expect:
** records that pass are removed, failing records whose error fits a group's
** TEXT are added to it, empty groups are dropped; a failure no group fits
** (and every wrong result) is reported as needing a reason and fails the run.
**
** ---- FILE.slt: sluice's SQL tests ----
** A file runs with a fresh engine in a fresh temporary directory, its working
** directory while it runs (removed afterwards), so that relative paths in
** SQL name the files the test wrote.
**   query TYPES [nosort|rowsort|valuesort] [colnames]
**     The expected results are one line per row: the row's values joined by
**     single spaces, each rendered by its own storage class: INTEGER as
**     %lld, REAL with the fewest digits that read back exactly (".0" added
**     when it would read as an integer; Inf, -Inf), TEXT as it is ("(empty)"
**     for '', \n \t \r and other control bytes escaped as \n \t \r \xHH),
**     BLOB as X'HEX', VECTOR as [r,r,...], NULL as NULL.  Each type letter
**     checks its column's storage class: I INTEGER, R REAL, T TEXT, B BLOB,
**     V VECTOR, ? any; NULL fits every letter.  rowsort compares the rows as
**     a multiset (both sides sorted), valuesort the values (expected: one
**     value per line).  colnames: the first expected line is the column
**     names joined by single spaces.
**   statement error TEXT
**     TEXT is required; the message must contain it.  A TEXT that starts
**     with "LINE:COL:" must begin the message (sluice_exec reports
**     "line:col: message"), so that the position is checked too.
**   file NAME [<<END]         + lines: write the file NAME (a relative path;
**                             directories are made) with those lines, each
**                             ended by "\n"
**   output NAME [rowsort] [<<END]  + lines: the file NAME must hold exactly
**                             these lines (rowsort: in any order)
**   stderr [<<END]            + lines: what the previous statement or query
**                             printed on stderr (the engine's log of rejected
**                             records...): exactly these lines, none when
**                             there are none; '*' in them matches any text
**                             (for the query's name: "sluice: q*: ...").
**                             (stderr is captured only for a record followed
**                             by a stderr record.)
**   xfail REASON              before a record: it is known to fail (a bug or a
**                             missing feature, REASON says which); it counts
**                             as an expected failure, and fails the run when
**                             it passes.
** In the SQL of a statement or query, ${NAME} is replaced by the environment
** variable NAME (tests/sql.sh sets top_srcdir and top_builddir); a NAME that
** is not set fails the record.
** A block (file, output, stderr) ends at a blank line; with <<END it ends at
** a line "END" instead and may hold blank lines.  A record that runs longer
** than SLT_TIMEOUT seconds (default 300) is interrupted and fails.
**
** usage: slt [--engine sluice|sqlite] [-v] [--update] FILE...
** Prints the failures, a line "FILE: N passed, M failed, K skipped[, X
** expected failures]" per file and a last line with the totals; exits 0 only
** when nothing failed.  -v prints every failure of a .test file in full (SQL,
** values got and wanted), as .slt failures always are.
**
** Build: links the engine (libsluice.a) and the sqlite3 library.  With
** -DSLT_SQLITE_ONLY the sluice engine is left out and only --engine sqlite
** works (to check the runner before the engine links).
*/
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef SLT_SQLITE_ONLY
#include "sluice.h"
#endif

/* ---- buffers ---------------------------------------------------------------- */

/* Abort on out-of-memory: a test runner has nothing better to do. */
static void *xrealloc(void *p, size_t n) {
  p = realloc(p, n ? n : 1);
  if (!p) {
    fprintf(stderr, "slt: out of memory\n");
    abort();
  }
  return p;
}

static char *xstrndup(const char *z, size_t n) {
  char *p = xrealloc(NULL, n + 1);
  memcpy(p, z, n);
  p[n] = 0;
  return p;
}

static char *xstrdup(const char *z) {
  return xstrndup(z, strlen(z));
}

/* A growable text buffer; z is NUL-terminated after every append (NULL while
** empty).  The buffer owns z. */
typedef struct buf {
  char *z;
  size_t n, cap;
} buf;

static void buf_add(buf *b, const char *p, size_t n) {
  if (b->n + n + 1 > b->cap) {
    b->cap = (b->n + n + 1) * 2;
    b->z = xrealloc(b->z, b->cap);
  }
  memcpy(b->z + b->n, p, n);
  b->n += n;
  b->z[b->n] = 0;
}

static void buf_puts(buf *b, const char *z) {
  buf_add(b, z, strlen(z));
}

static void buf_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void buf_printf(buf *b, const char *fmt, ...) {
  char tmp[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if ((size_t)n < sizeof tmp) {
    buf_add(b, tmp, (size_t)n);
    return;
  }
  char *big = xrealloc(NULL, (size_t)n + 1);
  va_start(ap, fmt);
  vsnprintf(big, (size_t)n + 1, fmt, ap);
  va_end(ap);
  buf_add(b, big, (size_t)n);
  free(big);
}

/* Hand the text over to the caller (malloc'ed, never NULL); b is empty after. */
static char *buf_take(buf *b) {
  char *z = b->z ? b->z : xstrdup("");
  memset(b, 0, sizeof *b);
  return z;
}

/* A growable vector of malloc'ed strings, owned by the vector. */
typedef struct strv {
  char **v;
  int n, cap;
} strv;

/* Append z (taken over: malloc'ed, freed by the vector). */
static void strv_take(strv *s, char *z) {
  if (s->n == s->cap) {
    s->cap = s->cap ? s->cap * 2 : 64;
    s->v = xrealloc(s->v, sizeof(char *) * (size_t)s->cap);
  }
  s->v[s->n++] = z;
}

static void strv_add(strv *s, const char *z) {
  strv_take(s, xstrdup(z));
}

/* Free every string and the array; s is empty after. */
static void strv_clear(strv *s) {
  for (int i = 0; i < s->n; i++)
    free(s->v[i]);
  free(s->v);
  memset(s, 0, sizeof *s);
}

/* qsort comparator of strings (strcmp). */
static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* ---- MD5, written from the description in RFC 1321 ---------------------- */

/* MD5 state: the four chaining words, the message length so far and the
** bytes of a partial 64-byte block. */
typedef struct md5 {
  uint32_t h[4]; /* A, B, C, D */
  uint64_t len;  /* bytes hashed so far */
  unsigned char buf[64];
  size_t n; /* bytes in buf */
} md5;

/* The sine table of RFC 1321 section 3.4: floor(2^32 * |sin(i + 1)|). */
static const uint32_t md5_t[64] = {
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391};

/* The left-rotation amounts of the four rounds (four per round). */
static const int md5_s[4][4] = {{7, 12, 17, 22}, {5, 9, 14, 20}, {4, 11, 16, 23}, {6, 10, 15, 21}};

/* Start a new digest in *m. */
static void md5_init(md5 *m) {
  m->h[0] = 0x67452301;
  m->h[1] = 0xefcdab89;
  m->h[2] = 0x98badcfe;
  m->h[3] = 0x10325476;
  m->len = 0;
  m->n = 0;
}

/* Mix one 64-byte block p (little-endian words) into the chaining words. */
static void md5_block(md5 *m, const unsigned char *p) {
  uint32_t x[16];
  for (int i = 0; i < 16; i++)
    x[i] = (uint32_t)p[4 * i] | (uint32_t)p[4 * i + 1] << 8 | (uint32_t)p[4 * i + 2] << 16 |
           (uint32_t)p[4 * i + 3] << 24;
  uint32_t a = m->h[0], b = m->h[1], c = m->h[2], d = m->h[3];
  for (int i = 0; i < 64; i++) {
    int round = i / 16;
    uint32_t f;
    int k;
    switch (round) {
    case 0: f = (b & c) | (~b & d), k = i; break;
    case 1: f = (b & d) | (c & ~d), k = (5 * i + 1) & 15; break;
    case 2: f = b ^ c ^ d, k = (3 * i + 5) & 15; break;
    default: f = c ^ (b | ~d), k = (7 * i) & 15; break;
    }
    int s = md5_s[round][i & 3];
    uint32_t t = a + f + x[k] + md5_t[i];
    a = d;
    d = c;
    c = b;
    b = b + (t << s | t >> (32 - s));
  }
  m->h[0] += a;
  m->h[1] += b;
  m->h[2] += c;
  m->h[3] += d;
}

/* Hash n more bytes of data (not retained). */
static void md5_update(md5 *m, const void *data, size_t n) {
  const unsigned char *p = data;
  m->len += n;
  while (n) {
    size_t k = 64 - m->n < n ? 64 - m->n : n;
    memcpy(m->buf + m->n, p, k);
    m->n += k;
    p += k;
    n -= k;
    if (m->n == 64) {
      md5_block(m, m->buf);
      m->n = 0;
    }
  }
}

/* Pad the message (0x80, zeros, 64-bit bit length) and write the digest as
** 32 lowercase hex digits and a NUL into out.  *m is spent afterwards. */
static void md5_hex(md5 *m, char out[33]) {
  uint64_t bits = m->len * 8;
  static const unsigned char pad[64] = {0x80};
  md5_update(m, pad, m->n < 56 ? 56 - m->n : 120 - m->n);
  unsigned char lb[8];
  for (int i = 0; i < 8; i++)
    lb[i] = (unsigned char)(bits >> (8 * i));
  md5_update(m, lb, 8);
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 4; j++)
      sprintf(out + 8 * i + 2 * j, "%02x", (m->h[i] >> (8 * j)) & 0xff);
  out[32] = 0;
}

/* ---- results -------------------------------------------------------------- */

/* Which kind of file is running: SQLite's sqllogictest (.test) or sluice's
** own (.slt).  It decides how values are rendered and results compared. */
static int slt_dialect;

/* A query result as rendered strings, row-major, with the column names of
** the first row.  types (borrowed) is the record's type string; type_err is
** the first .slt value whose storage class does not fit its letter. */
typedef struct result {
  strv val;
  strv names;
  int ncol;          /* columns reported by the engine (-1: unknown) */
  const char *types; /* one letter per expected column */
  char *type_err;    /* malloc'ed, or NULL */
} result;

/* Free what r holds and make it empty (types is kept). */
static void clear_result(result *r) {
  strv_clear(&r->val);
  strv_clear(&r->names);
  free(r->type_err);
  r->type_err = NULL;
  r->ncol = -1;
}

/* The type letter of column c of r ('T' for columns beyond the type string;
** those make the result fail through the column count check anyway). */
static char col_type(const result *r, int c) {
  return c < (int)strlen(r->types) ? r->types[c] : 'T';
}

/* sqllogictest: render one non-NULL value for type letter `type` (I, R or T)
** and append it to r.  i is the value as int64, d as double, text as
** NUL-terminated text (borrowed); each as the engine converts it. */
static void render(result *r, char type, int64_t i, double d, const char *text) {
  char b[64];
  if (type == 'I') {
    /* sqlite3_column_int keeps the low 32 bits */
    sqlite3_snprintf(sizeof b, b, "%d", (int)(int32_t)(uint32_t)(uint64_t)i);
    strv_add(&r->val, b);
  } else if (type == 'R') {
    /* SQLite's printf: at most 16 significant digits, then zeros */
    sqlite3_snprintf(sizeof b, b, "%.3f", d);
    strv_add(&r->val, b);
  } else {
    strv_add(&r->val, text && *text ? text : "(empty)");
    for (unsigned char *p = (unsigned char *)r->val.v[r->val.n - 1]; *p; p++)
      if (*p < ' ' || *p > '~') *p = '@';
  }
}

/* .slt: a REAL with the fewest significant digits (15 to 17) that read back
** as d, with ".0" when it would read as an integer; Inf, -Inf, NaN. */
static void render_real(buf *b, double d) {
  char t[64];
  if (isnan(d)) {
    buf_puts(b, "NaN");
    return;
  }
  if (isinf(d)) {
    buf_puts(b, d < 0 ? "-Inf" : "Inf");
    return;
  }
  for (int prec = 15; prec <= 17; prec++) {
    snprintf(t, sizeof t, "%.*g", prec, d);
    if (strtod(t, NULL) == d) break;
  }
  buf_puts(b, t);
  if (!strpbrk(t, ".e")) buf_puts(b, ".0");
}

/* .slt: TEXT bytes as they are, control bytes escaped; "(empty)" for ''. */
static void render_text(buf *b, const unsigned char *z, size_t n) {
  if (!n) buf_puts(b, "(empty)");
  for (size_t k = 0; k < n; k++) {
    unsigned char c = z[k];
    if (c == '\n')
      buf_puts(b, "\\n");
    else if (c == '\t')
      buf_puts(b, "\\t");
    else if (c == '\r')
      buf_puts(b, "\\r");
    else if (c < ' ' || c == 0x7f)
      buf_printf(b, "\\x%02X", c);
    else
      buf_add(b, (const char *)&c, 1);
  }
}

#ifndef SLT_SQLITE_ONLY
static sluice *sdb;

/* The storage class a type letter of a .slt query asks for; -1 for '?'
** (any) and -2 for a letter that means nothing. */
static int letter_class(char t) {
  switch (t) {
  case 'I': return SLUICE_INTEGER;
  case 'R': return SLUICE_FLOAT;
  case 'T': return SLUICE_TEXT;
  case 'B': return SLUICE_BLOB;
  case 'V': return SLUICE_VECTOR;
  case '?': return -1;
  default: return -2;
  }
}

/* .slt: append the rendering of v (column c) to r, and note in r->type_err
** a value whose storage class does not fit the column's letter. */
static void render_slt(result *r, int c, sluice_value *v) {
  static const char *const cls[] = {"NULL", "INTEGER", "REAL", "TEXT", "BLOB", "VECTOR"};
  int t = sluice_value_type(v);
  int want = letter_class(col_type(r, c));
  if (t != SLUICE_NULL && want != -1 && want != t && !r->type_err) {
    buf e = {0};
    buf_printf(&e, "column %d is %s, the type letter %c wants %s", c + 1,
               t >= 0 && t <= 5 ? cls[t] : "?", col_type(r, c),
               want >= 0 ? cls[want] : "nothing (letters: I R T B V ?)");
    r->type_err = buf_take(&e);
  }
  buf b = {0};
  size_t n = 0;
  switch (t) {
  case SLUICE_NULL: buf_puts(&b, "NULL"); break;
  case SLUICE_INTEGER: buf_printf(&b, "%lld", (long long)sluice_value_int64(v)); break;
  case SLUICE_FLOAT: render_real(&b, sluice_value_double(v)); break;
  case SLUICE_BLOB: {
    const unsigned char *p = sluice_value_blob(v, &n);
    buf_puts(&b, "X'");
    for (size_t k = 0; k < n; k++)
      buf_printf(&b, "%02X", p[k]);
    buf_puts(&b, "'");
    break;
  }
  case SLUICE_VECTOR: {
    const double *x = sluice_value_vector(v, &n);
    buf_puts(&b, "[");
    for (size_t k = 0; k < n; k++) {
      if (k) buf_puts(&b, ",");
      render_real(&b, x[k]);
    }
    buf_puts(&b, "]");
    break;
  }
  default: {
    /* the bytes as they are: no NUL-terminated copy needed */
    const unsigned char *z = sluice_value_blob(v, &n);
    render_text(&b, z, z ? n : 0);
  }
  }
  strv_take(&r->val, buf_take(&b));
}

/* sluice row callback: render every value of the row into the result ud and
** keep the column names of the first row. */
static int sluice_row(void *ud, int ncol, const char *const *names, sluice_value **row) {
  result *r = ud;
  r->ncol = ncol;
  if (!r->names.n)
    for (int c = 0; c < ncol; c++)
      strv_add(&r->names, names[c] ? names[c] : "");
  for (int c = 0; c < ncol; c++) {
    if (slt_dialect) {
      render_slt(r, c, row[c]);
    } else if (sluice_value_type(row[c]) == SLUICE_NULL) {
      strv_add(&r->val, "NULL");
    } else {
      render(r, col_type(r, c), sluice_value_int64(row[c]), sluice_value_double(row[c]),
             sluice_value_text(row[c], NULL));
    }
  }
  return 0;
}
#endif

/* ---- engines ------------------------------------------------------------------ */

/* The engine under test: sluice or, with --engine sqlite, the sqlite3
** library (to check the runner itself). */
static int use_sqlite;
static sqlite3 *qdb;

/* A record runs at most this long (SLT_TIMEOUT); then the alarm interrupts
** the engine and the record fails. */
static int timeout_s = 300;
static volatile sig_atomic_t timed_out;

static void on_alarm(int sig) {
  (void)sig;
  timed_out = 1;
#ifndef SLT_SQLITE_ONLY
  if (sdb) sluice_interrupt(sdb); /* safe in a signal handler */
#endif
}

/* Open a fresh engine (one per test file). */
static void engine_open(void) {
  if (use_sqlite) {
    if (sqlite3_open(":memory:", &qdb) != SQLITE_OK) {
      fprintf(stderr, "slt: cannot open sqlite3\n");
      exit(2);
    }
  }
#ifndef SLT_SQLITE_ONLY
  else
    sdb = sluice_open();
#endif
}

/* Close the engine opened by engine_open. */
static void engine_close(void) {
  if (use_sqlite) sqlite3_close(qdb);
#ifndef SLT_SQLITE_ONLY
  else
    sluice_close(sdb);
  sdb = NULL;
#endif
  qdb = NULL;
}

/* sqlite3: run every statement of sql, results dropped (r NULL), or the
** query sql with its rendered values appended to r.  0, or 1 with a
** malloc'ed message in *err. */
static int sqlite_exec(const char *sql, result *r, char **err) {
  if (!r) {
    char *e = NULL;
    int rc = sqlite3_exec(qdb, sql, NULL, NULL, &e);
    if (rc != SQLITE_OK) *err = xstrdup(e ? e : sqlite3_errstr(rc));
    sqlite3_free(e);
    return rc != SQLITE_OK;
  }
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(qdb, sql, -1, &st, NULL) != SQLITE_OK || !st) {
    *err = xstrdup(sqlite3_errmsg(qdb));
    sqlite3_finalize(st);
    return 1;
  }
  r->ncol = sqlite3_column_count(st);
  while (sqlite3_step(st) == SQLITE_ROW) {
    for (int c = 0; c < r->ncol; c++) {
      if (sqlite3_column_type(st, c) == SQLITE_NULL) {
        strv_add(&r->val, "NULL");
        continue;
      }
      render(r, col_type(r, c), sqlite3_column_int64(st, c), sqlite3_column_double(st, c),
             (const char *)sqlite3_column_text(st, c));
    }
  }
  /* Like the reference runner, an error while stepping just ends the rows:
  ** the expected results were recorded that way (slt_lang_aggfunc.test's
  ** overflowing sum() expects no rows).  sluice cannot tell a run-time error
  ** from any other, so there every error fails the record. */
  sqlite3_finalize(st);
  return 0;
}

/* Read the whole of f from its start into a malloc'ed string (*n bytes). */
static char *read_stream(FILE *f, size_t *n) {
  buf b = {0};
  char tmp[4096];
  size_t k;
  rewind(f);
  while ((k = fread(tmp, 1, sizeof tmp, f)) > 0)
    buf_add(&b, tmp, k);
  *n = b.n;
  return buf_take(&b);
}

/* Run sql on the engine under test: a statement (r NULL: rows dropped) or a
** query whose rendered values are appended to r (r->types set by the
** caller).  With captured, what the engine writes to stderr meanwhile is
** returned there (malloc'ed) instead of shown.  Returns 0 on success;
** otherwise *err gets a malloc'ed message (caller frees). */
static int engine_exec(const char *sql, result *r, char **err, char **captured) {
  *err = NULL;
  if (r) r->ncol = -1;
  int saved = -1;
  FILE *cap = NULL;
  if (captured) {
    fflush(stderr);
    cap = tmpfile();
    saved = dup(2);
    if (!cap || saved < 0 || dup2(fileno(cap), 2) < 0) {
      fprintf(stderr, "slt: cannot capture stderr: %s\n", strerror(errno));
      exit(2);
    }
  }
  timed_out = 0;
  alarm((unsigned)timeout_s);
  int rc = 1;
  if (use_sqlite) rc = sqlite_exec(sql, r, err);
#ifndef SLT_SQLITE_ONLY
  else
    rc = sluice_exec(sdb, sql, r ? sluice_row : NULL, r, err) != 0;
#endif
  alarm(0);
  if (captured) {
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    size_t n;
    *captured = read_stream(cap, &n);
    fclose(cap);
  }
  if (timed_out) {
    free(*err);
    buf e = {0};
    buf_printf(&e, "timed out after %d s (interrupted; SLT_TIMEOUT sets the limit)", timeout_s);
    *err = buf_take(&e);
    rc = 1;
  }
  if (rc && !*err) *err = xstrdup("error");
  return rc;
}

/* ---- test files and their records ------------------------------------------------ */

/* A test file held in memory as lines (NUL-terminated in place). */
typedef struct script {
  const char *path;
  char *text;
  char **line;
  int nline;
} script;

/* Read path into s, splitting it into lines (trailing \r removed).  Returns 0,
** or -1 if the file cannot be read.  s owns the text; free with free_script. */
static int load_script(script *s, const char *path) {
  memset(s, 0, sizeof *s);
  s->path = path;
  FILE *f = fopen(path, "rb");
  if (!f) return -1;
  size_t n;
  s->text = read_stream(f, &n);
  fclose(f);
  int lcap = 1024;
  s->line = xrealloc(NULL, sizeof(char *) * (size_t)lcap);
  for (char *p = s->text; *p;) {
    if (s->nline == lcap) s->line = xrealloc(s->line, sizeof(char *) * (size_t)(lcap *= 2));
    s->line[s->nline++] = p;
    char *e = strchr(p, '\n');
    char *next = e ? e + 1 : p + strlen(p);
    if (e) *e = 0;
    size_t l = strlen(p);
    while (l && p[l - 1] == '\r')
      p[--l] = 0;
    p = next;
  }
  return 0;
}

/* Free what load_script allocated. */
static void free_script(script *s) {
  free(s->text);
  free(s->line);
}

/* Does the engine under test answer to the name in a skipif/onlyif line?
** See the file comment: sluice (and sqlite, in --engine sqlite mode) answer
** to both "sluice" and "sqlite". */
static int is_our_engine(const char *name) {
  return !strcasecmp(name, "sluice") || !strcasecmp(name, "sqlite");
}

typedef enum rkind {
  R_STATEMENT,
  R_QUERY,
  R_FILE,
  R_OUTPUT,
  R_STDERR,
  R_HALT,
  R_HASH,
  R_UNKNOWN
} rkind;

/* One record of a script.  Its lines stay in the script; body and exp
** index them. */
typedef struct record {
  int line; /* 1-based number of its head line */
  rkind kind;
  const char *head;  /* the head line ("query II rowsort", "file a.csv", ...) */
  int skip;          /* a skipif/onlyif line excludes the engine under test */
  const char *xfail; /* .slt: the reason of an xfail line before it, or NULL */
  int body, nbody;   /* SQL lines (statement, query) or the text block */
  int exp, nexp;     /* query: the lines after "----" (exp < 0: no "----") */
  const char *bad;   /* why the record is malformed, or NULL */
} record;

/* Does line start with the word w (followed by a space or its end)? */
static int starts_word(const char *line, const char *w) {
  size_t n = strlen(w);
  return !strncmp(line, w, n) && (line[n] == ' ' || !line[n]);
}

/* The "<<END" word of a block record's head: END, or NULL when absent. */
static const char *block_mark(const char *head) {
  const char *m = strstr(head, " <<");
  return m && m[3] && !strchr(m + 3, ' ') ? m + 3 : NULL;
}

/* Split s into records (*out, malloc'ed; caller frees).  Returns how many. */
static int parse_records(const script *s, record **out) {
  int n = 0, cap = 256, at = 0;
  record *v = xrealloc(NULL, sizeof *v * (size_t)cap);
  while (at < s->nline) {
    const char *l = s->line[at];
    if (!l[0] || l[0] == '#') {
      at++;
      continue;
    }
    record r = {0};
    r.exp = -1;
    for (; at < s->nline; at++) {
      l = s->line[at];
      char name[64] = "";
      if (starts_word(l, "skipif") || starts_word(l, "onlyif")) {
        sscanf(l + 7, "%63s", name);
        int ours = is_our_engine(name);
        if (l[0] == 's' ? ours : !ours) r.skip = 1;
      } else if (starts_word(l, "xfail")) {
        r.xfail = l[5] ? l + 6 : "";
        if (!*r.xfail) r.bad = "xfail needs a reason";
      } else {
        break;
      }
    }
    if (at >= s->nline) break;
    r.line = at + 1;
    r.head = s->line[at++];
    const char *h = r.head;
    r.kind = starts_word(h, "statement")        ? R_STATEMENT
             : starts_word(h, "query")          ? R_QUERY
             : starts_word(h, "file")           ? R_FILE
             : starts_word(h, "output")         ? R_OUTPUT
             : starts_word(h, "stderr")         ? R_STDERR
             : !strcmp(h, "halt")               ? R_HALT
             : starts_word(h, "hash-threshold") ? R_HASH
                                                : R_UNKNOWN;
    r.body = at;
    if (r.kind == R_FILE || r.kind == R_OUTPUT || r.kind == R_STDERR) {
      const char *mark = block_mark(h);
      while (at < s->nline && (mark ? strcmp(s->line[at], mark) != 0 : s->line[at][0] != 0))
        at++;
      r.nbody = at - r.body;
      if (mark && at >= s->nline) r.bad = "the block has no end line";
      if (mark && at < s->nline) at++;
    } else if (r.kind == R_STATEMENT || r.kind == R_QUERY) {
      while (at < s->nline && s->line[at][0] && strcmp(s->line[at], "----"))
        at++;
      r.nbody = at - r.body;
      if (at < s->nline && !strcmp(s->line[at], "----")) {
        r.exp = ++at;
        while (at < s->nline && s->line[at][0])
          at++;
        r.nexp = at - r.exp;
      }
      if (!r.nbody) r.bad = "no SQL";
    } else if (r.kind == R_UNKNOWN) {
      r.bad = "unknown record";
      while (at < s->nline && s->line[at][0])
        at++;
    }
    if (n == cap) v = xrealloc(v, sizeof *v * (size_t)(cap *= 2));
    v[n++] = r;
  }
  *out = v;
  return n;
}

/* Lines first .. first+n-1 of s joined by "\n" (malloc'ed). */
static char *join_lines(const script *s, int first, int n) {
  buf b = {0};
  for (int i = 0; i < n; i++) {
    if (i) buf_puts(&b, "\n");
    buf_puts(&b, s->line[first + i]);
  }
  return buf_take(&b);
}

/* .slt: replace every ${NAME} of sql by the environment variable NAME (the
** build directory of the extensions a test loads, say).  Returns a malloc'ed
** string, or NULL with *missing set to the first NAME that is not set
** (malloc'ed). */
static char *substitute_env(const char *sql, char **missing) {
  buf b = {0};
  *missing = NULL;
  for (const char *p = sql; *p;) {
    const char *end = p[0] == '$' && p[1] == '{' ? strchr(p + 2, '}') : NULL;
    if (!end) {
      buf_add(&b, p++, 1);
      continue;
    }
    char *name = xstrndup(p + 2, (size_t)(end - p - 2));
    const char *v = getenv(name);
    if (!v) {
      *missing = name;
      free(b.z);
      return NULL;
    }
    buf_puts(&b, v);
    free(name);
    p = end + 1;
  }
  return buf_take(&b);
}

/* ---- expected failures (NAME.expect) ------------------------------------------- */

/* A group of NAME.expect: records that fail for one reason, one way. */
typedef struct xgroup {
  char *reason;
  char *error;      /* the records fail with an error containing this; NULL: wrong results */
  int how;          /* 0 not said yet, 1 error, 2 wrong */
  int *line, n;     /* the records listed, by head line */
  int *keep, nkeep; /* --update: the records the rewritten group lists */
} xgroup;

/* NAME.expect of one test file NAME.test. */
typedef struct expect {
  char *path;
  int present; /* the file exists */
  buf head;    /* its comment lines before the first group (kept by --update) */
  xgroup *g;
  int ng;
  int *owner; /* per line of the test file (1..nline): the group listing it, or -1 */
  int nline;
  int nbad; /* errors in the file itself (each fails the run) */
} expect;

/* Append line to a malloc'ed int array of *n entries (its capacity doubles
** whenever *n reaches a power of two). */
static void add_int(int **v, int *n, int line) {
  if ((*n & (*n - 1)) == 0) *v = xrealloc(*v, sizeof(int) * (size_t)(*n ? *n * 2 : 1));
  (*v)[(*n)++] = line;
}

/* Report an error of the expect file x at its line lno. */
static void expect_error(expect *x, int lno, const char *msg, const char *arg) {
  printf("%s:%d: %s%s\n", x->path, lno, msg, arg ? arg : "");
  x->nbad++;
}

/* Read path (the expect file of a test file of nline lines) into x.  A
** missing file is an empty list; mistakes in it are reported and counted in
** x->nbad. */
static void load_expect(expect *x, const char *path, int nline) {
  memset(x, 0, sizeof *x);
  x->path = xstrdup(path);
  x->nline = nline;
  x->owner = xrealloc(NULL, sizeof(int) * (size_t)(nline + 1));
  for (int i = 0; i <= nline; i++)
    x->owner[i] = -1;
  script s;
  if (load_script(&s, path)) return;
  x->present = 1;
  for (int i = 0; i < s.nline; i++) {
    char *l = s.line[i];
    xgroup *g = x->ng ? &x->g[x->ng - 1] : NULL;
    if (!l[0]) continue;
    if (l[0] == '#') {
      if (!g) {
        buf_puts(&x->head, l);
        buf_puts(&x->head, "\n");
      }
    } else if (starts_word(l, "reason")) {
      x->g = xrealloc(x->g, sizeof *x->g * (size_t)(x->ng + 1));
      g = &x->g[x->ng++];
      memset(g, 0, sizeof *g);
      g->reason = xstrdup(l[6] ? l + 7 : "");
      if (!*g->reason) expect_error(x, i + 1, "a reason needs its text", NULL);
    } else if (!g) {
      expect_error(x, i + 1, "'reason WHY' must start a group: ", l);
    } else if (starts_word(l, "error") || !strcmp(l, "wrong")) {
      if (g->how || g->n)
        expect_error(x, i + 1, "one 'error TEXT' or 'wrong' per group, ", "before its lines");
      g->how = l[0] == 'e' ? 1 : 2;
      if (g->how == 1) g->error = xstrdup(l[5] ? l + 6 : "");
      if (g->how == 1 && !*g->error)
        expect_error(x, i + 1, "'error' needs the text of the error", NULL);
    } else {
      if (!g->how) expect_error(x, i + 1, "'error TEXT' or 'wrong' must come before ", "the lines");
      for (char *p = l; *p;) {
        char *e;
        long v = strtol(p, &e, 10);
        if (e == p || (*e && *e != ' ')) {
          expect_error(x, i + 1, "not a line number: ", p);
          break;
        }
        if (v < 1 || v > nline)
          expect_error(x, i + 1, "no such line in the test file: ", p);
        else if (x->owner[v] >= 0)
          expect_error(x, i + 1, "listed twice: ", p);
        else {
          x->owner[v] = x->ng - 1;
          add_int(&g->line, &g->n, (int)v);
        }
        for (p = e; *p == ' ';)
          p++;
      }
    }
  }
  free_script(&s);
}

/* Does the failure (an error with message msg when is_error, else a wrong
** result) fail the way group g says? */
static int group_fits(const xgroup *g, int is_error, const char *msg) {
  return g->how == 1 ? is_error && strstr(msg, g->error) != NULL : g->how == 2 && !is_error;
}

static int cmp_int(const void *a, const void *b) {
  int x = *(const int *)a, y = *(const int *)b;
  return (x > y) - (x < y);
}

/* --update: write x's groups with their kept records back to x->path
** (through a temporary file renamed into place).  Groups left empty are
** dropped.  Returns 0, or -1 if it cannot be written. */
static int write_expect(expect *x) {
  buf b = {0};
  if (x->head.n) buf_puts(&b, x->head.z);
  for (int i = 0; i < x->ng; i++) {
    xgroup *g = &x->g[i];
    if (!g->nkeep) continue;
    qsort(g->keep, (size_t)g->nkeep, sizeof(int), cmp_int);
    buf_printf(&b, "\nreason %s\n", g->reason);
    if (g->how == 1)
      buf_printf(&b, "error %s\n", g->error);
    else
      buf_puts(&b, "wrong\n");
    size_t width = 0;
    for (int k = 0; k < g->nkeep; k++) {
      char num[16];
      int len = snprintf(num, sizeof num, "%d", g->keep[k]);
      if (width && width + 1 + (size_t)len > 99) {
        buf_puts(&b, "\n");
        width = 0;
      }
      if (width) buf_puts(&b, " ");
      buf_puts(&b, num);
      width += (width ? 1 : 0) + (size_t)len;
    }
    buf_puts(&b, "\n");
  }
  buf tmp = {0};
  buf_printf(&tmp, "%s.tmp", x->path);
  FILE *f = fopen(tmp.z, "wb");
  int rc = -1;
  if (f) {
    rc = fwrite(b.z ? b.z : "", 1, b.n, f) == b.n ? 0 : -1;
    if (fclose(f)) rc = -1;
    if (!rc && rename(tmp.z, x->path)) rc = -1;
  }
  if (rc) printf("slt: cannot write %s: %s\n", x->path, strerror(errno));
  free(b.z);
  free(tmp.z);
  return rc;
}

/* Free what load_expect allocated. */
static void free_expect(expect *x) {
  for (int i = 0; i < x->ng; i++) {
    free(x->g[i].reason);
    free(x->g[i].error);
    free(x->g[i].line);
    free(x->g[i].keep);
  }
  free(x->g);
  free(x->owner);
  free(x->head.z);
  free(x->path);
}

/* ---- running records ------------------------------------------------------------- */

static int verbose, update;

/* A label seen in this file and the hash of its first result. */
typedef struct label {
  char *name;
  char hash[33];
  struct label *next;
} label;

/* Record counts of a file or of the whole run. */
typedef struct counts {
  int pass, fail, skip, xfail;
} counts;

/* How a record came out. */
enum { PASS, FAIL_ERROR, FAIL_WRONG, FAIL_BAD };
typedef struct outcome {
  int status; /* PASS, or how it failed: an error, a wrong result, a malformed record */
  char *msg;  /* FAIL_ERROR: the error message; otherwise what is wrong (malloc'ed) */
  buf detail; /* the whole story for the report: SQL, results got and wanted */
} outcome;

/* Set o to a failure whose message is printf(fmt, ...). */
static void fail_with(outcome *o, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fail_with(outcome *o, int status, const char *fmt, ...) {
  char tmp[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  o->status = status;
  free(o->msg);
  o->msg = xstrdup(tmp);
}

/* A file being run: its records, expectations, labels and the stderr the
** last record captured. */
typedef struct runfile {
  const script *s;
  expect x;
  label *labels;
  char *captured; /* malloc'ed, or NULL */
} runfile;

/* Does an error message satisfy "statement error TEXT"?  A TEXT starting with
** "LINE:COL:" must begin msg; any other must be inside it. */
static int error_matches(const char *msg, const char *want) {
  int l, c, k = 0;
  if (sscanf(want, "%d:%d:%n", &l, &c, &k) >= 2 && k > 0) return !strncmp(msg, want, strlen(want));
  return strstr(msg, want) != NULL;
}

/* Add up to 40 lines of v to the report, under the title what. */
static void show_lines(buf *d, const char *what, char *const *v, int n) {
  buf_printf(d, "  %s (%d):\n", what, n);
  for (int i = 0; i < n && i < 40; i++)
    buf_printf(d, "    %s\n", v[i]);
  if (n > 40) buf_printf(d, "    ... %d more\n", n - 40);
}

/* Compare the lines got with the lines want (sorted first when sorted), and
** on a difference set o to a wrong result about `what`.  Both vectors may be
** reordered. */
static void compare_lines(outcome *o, const char *what, strv *got, strv *want, int sorted) {
  if (sorted && got->n) qsort(got->v, (size_t)got->n, sizeof(char *), cmp_str);
  if (sorted && want->n) qsort(want->v, (size_t)want->n, sizeof(char *), cmp_str);
  int same = got->n == want->n;
  for (int i = 0; same && i < got->n; i++)
    same = !strcmp(got->v[i], want->v[i]);
  if (same) return;
  fail_with(o, FAIL_WRONG, "wrong %s", what);
  show_lines(&o->detail, "got", got->v, got->n);
  show_lines(&o->detail, "want", want->v, want->n);
}

/* Copy the lines first .. first+n-1 of s into v. */
static void lines_to_strv(const script *s, int first, int n, strv *v) {
  for (int i = 0; i < n; i++)
    strv_add(v, s->line[first + i]);
}

/* Split text into lines (a last "\n" ends the last line) appended to v. */
static void text_to_strv(const char *text, strv *v) {
  for (const char *p = text; *p;) {
    const char *e = strchr(p, '\n');
    size_t n = e ? (size_t)(e - p) : strlen(p);
    strv_take(v, xstrndup(p, n));
    p += n + (e ? 1 : 0);
  }
}

/* statement ok | statement error [TEXT] */
static void run_statement(runfile *f, const record *r, const char *sql, int capture, outcome *o) {
  const char *h = r->head + 9;
  while (*h == ' ')
    h++;
  int want_error = starts_word(h, "error");
  const char *text = want_error && h[5] ? h + 6 : NULL;
  if (!want_error && strcmp(h, "ok")) {
    fail_with(o, FAIL_BAD, "statement ok or statement error");
    return;
  }
  if (want_error && !text && slt_dialect) {
    fail_with(o, FAIL_BAD, "statement error needs the text of the error in a .slt file");
    return;
  }
  char *err = NULL;
  int failed = engine_exec(sql, NULL, &err, capture ? &f->captured : NULL);
  if (!want_error && failed) {
    fail_with(o, FAIL_ERROR, "%s", err);
  } else if (want_error && !failed) {
    fail_with(o, FAIL_WRONG, "statement ran without error");
    if (text) buf_printf(&o->detail, "  wanted an error with: %s\n", text);
  } else if (want_error && text && !error_matches(err, text)) {
    fail_with(o, FAIL_ERROR, "%s", err);
    buf_printf(&o->detail, "  wanted an error with: %s\n", text);
  }
  free(err);
}

/* Column count used by cmp_row (qsort has no context argument). */
static int sort_ncol;

/* qsort comparator over rows of sort_ncol string pointers: strcmp value by
** value, as the reference runner sorts. */
static int cmp_row(const void *a, const void *b) {
  char *const *x = a, *const *y = b;
  for (int i = 0; i < sort_ncol; i++) {
    int c = strcmp(x[i], y[i]);
    if (c) return c;
  }
  return 0;
}

/* A .test query: got against the expected values (one per line, or "N
** values hashing to MD5"), sorted by sortmode, with the file's labels. */
static void check_test_result(runfile *f, const record *r, result *got, int ncol,
                              const char *sortmode, const char *lab, outcome *o) {
  if (!got->val.n) {
    /* nothing to sort (qsort wants an array) */
  } else if (!strcmp(sortmode, "rowsort")) {
    sort_ncol = ncol;
    qsort(got->val.v, (size_t)(got->val.n / ncol), sizeof(char *) * (size_t)ncol, cmp_row);
  } else if (!strcmp(sortmode, "valuesort")) {
    qsort(got->val.v, (size_t)got->val.n, sizeof(char *), cmp_str);
  }
  char hash[33];
  md5 m;
  md5_init(&m);
  for (int i = 0; i < got->val.n; i++) {
    md5_update(&m, got->val.v[i], strlen(got->val.v[i]));
    md5_update(&m, "\n", 1);
  }
  md5_hex(&m, hash);
  int nv;
  char want[64];
  const char *first = r->nexp ? f->s->line[r->exp] : "";
  if (r->nexp == 1 && sscanf(first, "%d values hashing to %63s", &nv, want) == 2) {
    if (nv != got->val.n || strcmp(want, hash)) {
      fail_with(o, FAIL_WRONG, "wrong result");
      buf_printf(&o->detail, "  got %d values hashing to %s\n  want %s\n", got->val.n, hash, first);
    }
  } else {
    strv w = {0};
    if (r->exp >= 0) lines_to_strv(f->s, r->exp, r->nexp, &w);
    compare_lines(o, "result", &got->val, &w, 0);
    strv_clear(&w);
  }
  if (o->status != PASS || !lab[0]) return;
  label *l = f->labels;
  while (l && strcmp(l->name, lab))
    l = l->next;
  if (!l) {
    l = xrealloc(NULL, sizeof *l);
    l->name = xstrdup(lab);
    memcpy(l->hash, hash, sizeof hash);
    l->next = f->labels;
    f->labels = l;
  } else if (strcmp(l->hash, hash)) {
    fail_with(o, FAIL_WRONG, "result disagrees with earlier results of its label");
  }
}

/* A .slt query: got (rendered rows) against the expected lines. */
static void check_slt_result(runfile *f, const record *r, result *got, int ncol,
                             const char *sortmode, int colnames, outcome *o) {
  if (got->type_err) {
    fail_with(o, FAIL_WRONG, "%s", got->type_err);
    return;
  }
  strv want = {0}, lines = {0};
  lines_to_strv(f->s, r->exp, r->nexp, &want);
  if (colnames) {
    buf b = {0};
    for (int c = 0; c < got->names.n; c++)
      buf_printf(&b, "%s%s", c ? " " : "", got->names.v[c]);
    char *names = buf_take(&b);
    if (!want.n || strcmp(want.v[0], names)) {
      fail_with(o, FAIL_WRONG, "wrong column names");
      buf_printf(&o->detail, "  got names: %s\n  want: %s\n", names, want.n ? want.v[0] : "");
    }
    free(names);
    if (want.n) {
      free(want.v[0]);
      memmove(want.v, want.v + 1, sizeof(char *) * (size_t)--want.n);
    }
  }
  if (!strcmp(sortmode, "valuesort")) {
    for (int i = 0; i < got->val.n; i++)
      strv_add(&lines, got->val.v[i]);
  } else {
    for (int i = 0; i < got->val.n; i += ncol) {
      buf b = {0};
      for (int c = 0; c < ncol; c++)
        buf_printf(&b, "%s%s", c ? " " : "", got->val.v[i + c]);
      strv_take(&lines, buf_take(&b));
    }
  }
  if (o->status == PASS) compare_lines(o, "result", &lines, &want, strcmp(sortmode, "nosort") != 0);
  strv_clear(&want);
  strv_clear(&lines);
}

/* query TYPES [OPTIONS] */
static void run_query(runfile *f, const record *r, const char *sql, int capture, outcome *o) {
  char types[64] = "", opt[3][64] = {"", "", ""};
  sscanf(r->head + 5, "%63s %63s %63s %63s", types, opt[0], opt[1], opt[2]);
  const char *sortmode = "nosort", *lab = "";
  int colnames = 0;
  if (!slt_dialect) {
    if (opt[0][0]) sortmode = opt[0];
    opt[1][20] = 0; /* the reference runner keeps 20 characters of a label */
    lab = opt[1];
  } else {
    for (int i = 0; i < 3 && opt[i][0]; i++) {
      if (!strcmp(opt[i], "colnames"))
        colnames = 1;
      else if (!strcmp(opt[i], "nosort") || !strcmp(opt[i], "rowsort") ||
               !strcmp(opt[i], "valuesort"))
        sortmode = opt[i];
      else
        fail_with(o, FAIL_BAD, "unknown query option (nosort, rowsort, valuesort, colnames)");
    }
    if (r->exp < 0) fail_with(o, FAIL_BAD, "a query needs ---- and its expected rows");
  }
  if (strcmp(sortmode, "nosort") && strcmp(sortmode, "rowsort") && strcmp(sortmode, "valuesort"))
    fail_with(o, FAIL_BAD, "unknown sort mode");
  int ncol = (int)strlen(types);
  if (!ncol) fail_with(o, FAIL_BAD, "a query needs its type string");
  if (o->status != PASS) return;
  result got = {0};
  got.ncol = -1;
  got.types = types;
  char *err = NULL;
  if (engine_exec(sql, &got, &err, capture ? &f->captured : NULL)) {
    fail_with(o, FAIL_ERROR, "%s", err);
  } else if (got.ncol >= 0 && got.ncol != ncol) {
    fail_with(o, FAIL_WRONG, "wrong number of columns");
    buf_printf(&o->detail, "  got %d columns, the type string has %d\n", got.ncol, ncol);
  } else if (got.val.n % ncol) {
    fail_with(o, FAIL_WRONG, "bad type string or ragged result");
  } else if (slt_dialect) {
    check_slt_result(f, r, &got, ncol, sortmode, colnames, o);
  } else {
    check_test_result(f, r, &got, ncol, sortmode, lab, o);
  }
  free(err);
  clear_result(&got);
}

/* The NAME of a file or output record (the word after the record's name),
** or NULL (o set) when it is missing or not a relative path inside the
** test's directory. */
static char *block_name(const record *r, outcome *o) {
  char name[4096] = "";
  const char *p = strchr(r->head, ' ');
  if (p) sscanf(p, " %4095s", name);
  if (!name[0] || !strncmp(name, "<<", 2) || name[0] == '/' || strstr(name, "..")) {
    fail_with(o, FAIL_BAD, "needs a relative file name (no '..')");
    return NULL;
  }
  return xstrdup(name);
}

/* file NAME: write the block's lines to NAME, making its directories. */
static void run_file_record(runfile *f, const record *r, outcome *o) {
  char *name = block_name(r, o);
  if (!name) return;
  for (char *p = strchr(name, '/'); p; p = strchr(p + 1, '/')) {
    *p = 0;
    mkdir(name, 0777);
    *p = '/';
  }
  FILE *out = fopen(name, "wb");
  if (!out) {
    fail_with(o, FAIL_ERROR, "cannot write %s: %s", name, strerror(errno));
  } else {
    for (int i = 0; i < r->nbody; i++)
      fprintf(out, "%s\n", f->s->line[r->body + i]);
    fclose(out);
  }
  free(name);
}

/* output NAME [rowsort]: NAME holds exactly the block's lines. */
static void run_output(runfile *f, const record *r, outcome *o) {
  char *name = block_name(r, o);
  if (!name) return;
  FILE *in = fopen(name, "rb");
  if (!in) {
    fail_with(o, FAIL_WRONG, "cannot read %s: %s", name, strerror(errno));
  } else {
    size_t n;
    char *text = read_stream(in, &n);
    fclose(in);
    strv got = {0}, want = {0};
    text_to_strv(text, &got);
    lines_to_strv(f->s, r->body, r->nbody, &want);
    compare_lines(o, "file contents", &got, &want, strstr(r->head, " rowsort") != NULL);
    strv_clear(&got);
    strv_clear(&want);
    free(text);
  }
  free(name);
}

/* Does text match pattern, where '*' matches any run of characters and
** every other character itself? */
static int match_star(const char *pat, const char *text) {
  if (!*pat) return !*text;
  if (*pat == '*') {
    for (const char *t = text;; t++) {
      if (match_star(pat + 1, t)) return 1;
      if (!*t) return 0;
    }
  }
  return *pat == *text && match_star(pat + 1, text + 1);
}

/* stderr: the previous record printed the block's lines on stderr, and
** nothing else; '*' in them matches any text (a query's name, qN). */
static void run_stderr(runfile *f, const record *r, outcome *o) {
  strv got = {0}, want = {0};
  text_to_strv(f->captured ? f->captured : "", &got);
  lines_to_strv(f->s, r->body, r->nbody, &want);
  int same = got.n == want.n;
  for (int i = 0; same && i < got.n; i++)
    same = match_star(want.v[i], got.v[i]);
  if (!same) compare_lines(o, "stderr", &got, &want, 0);
  strv_clear(&got);
  strv_clear(&want);
  free(f->captured);
  f->captured = NULL;
}

/* ---- files ---------------------------------------------------------------------- */

/* Per-file tallies of --update. */
static int nadded, nremoved;

/* Count the outcome o of record r (its SQL: sql, or NULL) against the
** expectations and report it when it is a failure of the run. */
static void judge(runfile *f, const record *r, const char *sql, outcome *o, counts *c) {
  expect *x = &f->x;
  int g = x->owner ? x->owner[r->line] : -1;
  const char *reason = g >= 0 ? x->g[g].reason : r->xfail;
  if (o->status == PASS) {
    if (!reason) {
      c->pass++;
    } else if (update && g >= 0) {
      c->pass++;
      nremoved++;
    } else {
      c->fail++;
      if (g >= 0)
        printf("%s:%d: passes now: remove it from %s (%s)\n", f->s->path, r->line, x->path, reason);
      else
        printf("%s:%d: passes now: remove its xfail line (%s)\n", f->s->path, r->line, reason);
    }
    return;
  }
  int is_error = o->status == FAIL_ERROR;
  if (o->status != FAIL_BAD && reason && (g < 0 || group_fits(&x->g[g], is_error, o->msg))) {
    c->xfail++;
    if (g >= 0) add_int(&x->g[g].keep, &x->g[g].nkeep, r->line);
    return;
  }
  if (update && x->owner && is_error) {
    for (int k = 0; k < x->ng; k++) {
      if (!group_fits(&x->g[k], 1, o->msg)) continue;
      add_int(&x->g[k].keep, &x->g[k].nkeep, r->line);
      c->xfail++;
      nadded++;
      return;
    }
  }
  c->fail++;
  printf("%s:%d: ", f->s->path, r->line);
  if (reason && g >= 0 && x->g[g].how == 1)
    printf("fails otherwise than %s says (%s: an error with '%s'): ", x->path, reason,
           x->g[g].error);
  else if (reason && g >= 0)
    printf("fails otherwise than %s says (%s: a wrong result): ", x->path, reason);
  printf("%s%s\n", o->status == FAIL_BAD ? "malformed record: " : "", o->msg);
  if (slt_dialect || verbose) {
    printf("  %s\n", r->head);
    for (int i = 0; sql && i < r->nbody; i++)
      printf("  %s\n", f->s->line[r->body + i]);
    if (o->detail.n) fputs(o->detail.z, stdout);
  }
  if (update && x->owner) printf("  (needs a reason in %s)\n", x->path);
}

/* nftw callback: remove one entry of a tree (depth first). */
static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st;
  (void)flag;
  (void)ftw;
  return remove(path);
}

/* The expect file of a .test file: the same name ending in .expect. */
static char *expect_path(const char *path) {
  size_t n = strlen(path);
  buf b = {0};
  buf_add(&b, path, n > 5 && !strcmp(path + n - 5, ".test") ? n - 5 : n);
  buf_puts(&b, ".expect");
  return buf_take(&b);
}

/* Run every record of the file at path with a fresh engine (a .slt file in
** a fresh temporary directory); add its counts to *total and print them. */
static void run_file(const char *path, counts *total) {
  script s;
  counts c = {0, 0, 0, 0};
  if (load_script(&s, path)) {
    printf("slt: cannot read %s\n%s: 0 passed, 1 failed, 0 skipped\n", path, path);
    total->fail++;
    return;
  }
  size_t pl = strlen(path);
  slt_dialect = pl > 4 && !strcmp(path + pl - 4, ".slt");
  runfile f = {0};
  f.s = &s;
  record *rec;
  int nrec = parse_records(&s, &rec);
  nadded = nremoved = 0;
  if (!use_sqlite && !slt_dialect) {
    char *xp = expect_path(path);
    load_expect(&f.x, xp, s.nline);
    free(xp);
    char *head = xrealloc(NULL, (size_t)s.nline + 1);
    memset(head, 0, (size_t)s.nline + 1);
    for (int i = 0; i < nrec; i++)
      head[rec[i].line] = rec[i].kind == R_STATEMENT || rec[i].kind == R_QUERY;
    for (int i = 1; i <= s.nline; i++)
      if (f.x.owner[i] >= 0 && !head[i]) {
        printf("%s: lists line %d, which is not the head of a statement or query\n", f.x.path, i);
        f.x.nbad++;
        f.x.owner[i] = -1; /* reported once */
      }
    free(head);
    c.fail += f.x.nbad;
  }
  char dir[4096] = "";
  int home = -1, made = 0;
  if (slt_dialect) {
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/slt.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    home = open(".", O_RDONLY | O_DIRECTORY);
    made = !use_sqlite && home >= 0 && mkdtemp(dir);
    if (!made || chdir(dir)) {
      printf("%s: %s\n", path,
             use_sqlite ? ".slt files run on sluice only" : "cannot make a temporary directory");
      c.fail++;
      nrec = 0;
    }
  }
  engine_open();
  char *ran = xrealloc(NULL, (size_t)s.nline + 1);
  memset(ran, 0, (size_t)s.nline + 1);
  int prev_skipped = 0;
  for (int i = 0; i < nrec; i++) {
    record *r = &rec[i];
    if (r->kind == R_HASH) continue;
    if (r->kind == R_HALT && !r->skip) break;
    int skip = r->skip || r->kind == R_HALT || (r->kind == R_STDERR && prev_skipped);
    prev_skipped = skip;
    if (skip) {
      c.skip += r->kind != R_HALT;
      continue;
    }
    ran[r->line] = 1;
    outcome o = {0};
    char *sql = NULL;
    int capture = i + 1 < nrec && rec[i + 1].kind == R_STDERR;
    int ours = slt_dialect || r->kind == R_STATEMENT || r->kind == R_QUERY;
    if (r->bad || !ours) {
      fail_with(&o, FAIL_BAD, "%s", r->bad ? r->bad : "file, output and stderr are for .slt files");
    } else if (r->kind == R_STATEMENT || r->kind == R_QUERY) {
      free(f.captured);
      f.captured = NULL;
      sql = join_lines(&s, r->body, r->nbody);
      char *missing = NULL, *text = slt_dialect ? substitute_env(sql, &missing) : xstrdup(sql);
      if (!text) {
        fail_with(&o, FAIL_BAD, "${%s}: the environment variable %s is not set", missing, missing);
        free(missing);
      } else if (r->kind == R_STATEMENT) {
        run_statement(&f, r, text, capture, &o);
      } else {
        run_query(&f, r, text, capture, &o);
      }
      free(text);
    } else if (r->kind == R_FILE) {
      run_file_record(&f, r, &o);
    } else if (r->kind == R_OUTPUT) {
      run_output(&f, r, &o);
    } else {
      run_stderr(&f, r, &o);
    }
    judge(&f, r, sql, &o, &c);
    free(sql);
    free(o.msg);
    free(o.detail.z);
  }
  for (int k = 0; k < f.x.ng; k++)
    for (int j = 0; j < f.x.g[k].n; j++) {
      int line = f.x.g[k].line[j];
      if (ran[line] || f.x.owner[line] != k) continue;
      if (update) {
        nremoved++;
        continue;
      }
      printf("%s: lists line %d, which did not run (skipped, or after a halt): remove it\n",
             f.x.path, line);
      c.fail++;
    }
  if (update && f.x.owner && (f.x.present || nadded)) {
    if (write_expect(&f.x)) c.fail++;
    printf("%s: rewritten: %d records removed, %d added\n", f.x.path, nremoved, nadded);
  }
  engine_close();
  if (home >= 0) {
    if (fchdir(home)) printf("slt: cannot go back to the working directory\n");
    close(home);
  }
  if (made) nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
  while (f.labels) {
    label *n = f.labels->next;
    free(f.labels->name);
    free(f.labels);
    f.labels = n;
  }
  free(f.captured);
  free(ran);
  free(rec);
  if (f.x.owner) free_expect(&f.x);
  free_script(&s);
  printf("%s: %d passed, %d failed, %d skipped", path, c.pass, c.fail, c.skip);
  if (c.xfail) printf(", %d expected failures", c.xfail);
  printf("\n");
  fflush(stdout);
  total->pass += c.pass;
  total->fail += c.fail;
  total->skip += c.skip;
  total->xfail += c.xfail;
}

/* Parse the options, run every file, print the totals. */
int main(int argc, char **argv) {
  counts total = {0, 0, 0, 0};
  int nfile = 0;
  char **file = xrealloc(NULL, sizeof(char *) * (size_t)argc);
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--engine") && i + 1 < argc) {
      const char *e = argv[++i];
      if (strcmp(e, "sqlite") && strcmp(e, "sluice")) {
        fprintf(stderr, "slt: unknown engine '%s' (sluice or sqlite)\n", e);
        return 2;
      }
      use_sqlite = !strcmp(e, "sqlite");
    } else if (!strcmp(argv[i], "-v")) {
      verbose = 1;
    } else if (!strcmp(argv[i], "--update")) {
      update = 1;
    } else if (argv[i][0] == '-') {
      nfile = 0;
      break;
    } else {
      file[nfile++] = argv[i];
    }
  }
  if (!nfile) {
    fprintf(stderr, "usage: slt [--engine sluice|sqlite] [-v] [--update] FILE...\n");
    free(file);
    return 2;
  }
#ifdef SLT_SQLITE_ONLY
  if (!use_sqlite) {
    fprintf(stderr, "slt: built with SLT_SQLITE_ONLY: only --engine sqlite works\n");
    return 2;
  }
#endif
  const char *t = getenv("SLT_TIMEOUT");
  if (t && atoi(t) > 0) timeout_s = atoi(t);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alarm;
  sigaction(SIGALRM, &sa, NULL);
  for (int i = 0; i < nfile; i++)
    run_file(file[i], &total);
  free(file);
  printf("%d passed, %d failed, %d skipped", total.pass, total.fail, total.skip);
  if (total.xfail) printf(", %d expected failures", total.xfail);
  printf("\n");
  return total.fail ? 1 : 0;
}
