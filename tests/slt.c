/*
** slt.c - a runner for SQLite's sqllogictest files (../shared/slt/).
**
** Record format (sqllogictest's about.wiki): records are separated by blank
** lines; lines starting with '#' between records are comments.
**   statement ok|error      + SQL lines
**   query <types> <sortmode> [label]  + SQL lines, "----", expected values,
**                           one per line, or one line "N values hashing to MD5"
**   hash-threshold N        results with more than N values are given as a hash
**   halt                    stop reading this file
** Any record may be preceded by "skipif ENGINE" / "onlyif ENGINE" lines.
**
** Engine names: sluice follows SQLite's semantics, so it answers to both
** "sluice" and "sqlite": `onlyif sqlite` records run and `skipif sqlite`
** records are skipped, exactly as they are for SQLite itself (the files were
** generated with SQLite as the reference; e.g. evidence/slt_lang_aggfunc.test
** starts with "skipif sqlite / halt", which stops every other engine).  Every
** other engine name (mysql, postgresql, mssql, oracle) is someone else.  The
** `--engine sqlite` mode uses the same names, so both engines see the same
** records.
**
** Values are rendered by the query's type string, as the reference runner
** (slt_sqlite.c) renders them: NULL as "NULL"; I as the value converted to a
** 32-bit int (the reference uses sqlite3_column_int) printed with %d; R as the
** value converted to double printed with %.3f (SQLite's printf, which keeps
** 16 significant digits); T as the text, "(empty)" for '', bytes outside
** ' '..'~' replaced by '@'.  Sort modes: nosort, rowsort
** (rows compared value by value with strcmp), valuesort (every value on its
** own).  A hashed result is compared by count and by the MD5 of the sorted
** rendered values, each followed by "\n".  Queries with a label must give the
** same hash as every earlier query with that label.
**
** A record that fails to run (a statement or query the engine rejects, or a
** statement that should fail but does not) counts as failed.  (With --engine
** sqlite an error while stepping a query just ends its rows, as in the
** reference runner, which recorded the expected results that way.)
**
** usage: slt [--engine sluice|sqlite] [-v] FILE...
** Prints "FILE: N passed, M failed, K skipped" per file and a last line
** "N passed, M failed, K skipped"; exits 0 only when no record failed.  -v
** prints every failing record (line, SQL, values got and wanted, error).
**
** Build: links the engine (libsluice.a) and the sqlite3 library.  With
** -DSLT_SQLITE_ONLY the sluice engine is left out and only --engine sqlite
** works (to check the runner before the engine links).
*/
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#ifndef SLT_SQLITE_ONLY
#include "sluice.h"
#endif

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

/* A query result as rendered strings, row-major.  The vector owns the
** strings; types (borrowed) is the record's type string. */
typedef struct result {
  char **v;
  int n, cap;
  int ncol;          /* columns reported by the engine (-1: unknown) */
  const char *types; /* one letter per expected column */
} result;

/* Append a copy of z to r. */
static void add_value(result *r, const char *z) {
  if (r->n == r->cap) {
    r->cap = r->cap ? r->cap * 2 : 64;
    r->v = realloc(r->v, sizeof(char *) * (size_t)r->cap);
    if (!r->v) abort();
  }
  r->v[r->n] = strdup(z);
  if (!r->v[r->n]) abort();
  r->n++;
}

/* Free every string of r and reset it to empty (types is kept). */
static void clear_result(result *r) {
  for (int i = 0; i < r->n; i++)
    free(r->v[i]);
  free(r->v);
  r->v = NULL;
  r->n = r->cap = 0;
}

/* Render one non-NULL value for type letter `type` (I, R or T) and append it
** to r.  i is the value as int64, d as double, text as NUL-terminated text
** (borrowed); each as the engine converts it. */
static void render(result *r, char type, int64_t i, double d, const char *text) {
  char buf[64];
  if (type == 'I') {
    /* sqlite3_column_int keeps the low 32 bits */
    sqlite3_snprintf(sizeof buf, buf, "%d", (int)(int32_t)(uint32_t)(uint64_t)i);
    add_value(r, buf);
  } else if (type == 'R') {
    /* SQLite's printf: at most 16 significant digits, then zeros */
    sqlite3_snprintf(sizeof buf, buf, "%.3f", d);
    add_value(r, buf);
  } else {
    add_value(r, text && *text ? text : "(empty)");
    for (unsigned char *p = (unsigned char *)r->v[r->n - 1]; *p; p++)
      if (*p < ' ' || *p > '~') *p = '@';
  }
}

/* The type letter of column c of r ('T' for columns beyond the type string;
** those make the result fail through the column count check anyway). */
static char col_type(const result *r, int c) {
  return c < (int)strlen(r->types) ? r->types[c] : 'T';
}

/* ---- engines ------------------------------------------------------------------ */

/* The engine under test: sluice or, with --engine sqlite, the sqlite3
** library (to check the runner itself). */
static int use_sqlite;
static sqlite3 *qdb;
#ifndef SLT_SQLITE_ONLY
static sluice *sdb;

/* sluice row callback: render every value of the row into the result ud. */
static int sluice_row(void *ud, int ncol, const char *const *names, sluice_value **row) {
  result *r = ud;
  r->ncol = ncol;
  for (int c = 0; c < ncol; c++) {
    if (sluice_value_type(row[c]) == SLUICE_NULL) {
      add_value(r, "NULL");
      continue;
    }
    render(r, col_type(r, c), sluice_value_int64(row[c]), sluice_value_double(row[c]),
           sluice_value_text(row[c], NULL));
  }
  return 0;
}
#endif

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

/* Run a statement (every statement of sql, results dropped).  Returns 0 on
** success; otherwise *err gets a malloc'ed message (caller frees). */
static int engine_statement(const char *sql, char **err) {
  *err = NULL;
  if (use_sqlite) {
    char *e = NULL;
    int rc = sqlite3_exec(qdb, sql, NULL, NULL, &e);
    if (rc != SQLITE_OK) *err = strdup(e ? e : sqlite3_errstr(rc));
    sqlite3_free(e);
    return rc != SQLITE_OK;
  }
#ifndef SLT_SQLITE_ONLY
  return sluice_exec(sdb, sql, NULL, NULL, err) != 0;
#else
  return 1;
#endif
}

/* Run a query; its rendered values are appended to r (r->types set by the
** caller).  Returns 0 on success; otherwise *err gets a malloc'ed message. */
static int engine_query(const char *sql, result *r, char **err) {
  *err = NULL;
  r->ncol = -1;
  if (!use_sqlite) {
#ifndef SLT_SQLITE_ONLY
    return sluice_exec(sdb, sql, sluice_row, r, err) != 0;
#else
    return 1;
#endif
  }
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(qdb, sql, -1, &st, NULL) != SQLITE_OK || !st) {
    *err = strdup(sqlite3_errmsg(qdb));
    sqlite3_finalize(st);
    return 1;
  }
  r->ncol = sqlite3_column_count(st);
  while (sqlite3_step(st) == SQLITE_ROW) {
    for (int c = 0; c < r->ncol; c++) {
      if (sqlite3_column_type(st, c) == SQLITE_NULL) {
        add_value(r, "NULL");
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

/* ---- the runner ------------------------------------------------------------------ */

static int verbose;

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

/* A label seen in this file and the hash of its first result. */
typedef struct label {
  char *name;
  char hash[33];
  struct label *next;
} label;

/* Record counts of a file or of the whole run. */
typedef struct counts {
  int pass, fail, skip;
} counts;

/* A test file held in memory as lines (NUL-terminated in place). */
typedef struct script {
  const char *path;
  char *text;
  char **line;
  int nline;
  int at; /* index of the next line to read */
} script;

/* Read path into s, splitting it into lines (trailing \r removed).  Returns 0,
** or -1 if the file cannot be read.  s owns the text; free with free_script. */
static int load_script(script *s, const char *path) {
  memset(s, 0, sizeof *s);
  s->path = path;
  FILE *f = fopen(path, "rb");
  if (!f) return -1;
  size_t cap = 1 << 16, n = 0;
  s->text = malloc(cap);
  for (;;) {
    if (n + 1 >= cap) s->text = realloc(s->text, cap *= 2);
    size_t k = fread(s->text + n, 1, cap - n - 1, f);
    if (!k) break;
    n += k;
  }
  fclose(f);
  s->text[n] = 0;
  int lcap = 1024;
  s->line = malloc(sizeof(char *) * (size_t)lcap);
  for (char *p = s->text; *p;) {
    if (s->nline == lcap) s->line = realloc(s->line, sizeof(char *) * (size_t)(lcap *= 2));
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

/* Append the lines from s->at up to a blank line or "----" (not included)
** to a malloc'ed string, joined by "\n"; *dashes is set if "----" ended it. */
static char *read_sql(script *s, int *dashes) {
  size_t cap = 256, n = 0;
  char *sql = malloc(cap);
  sql[0] = 0;
  *dashes = 0;
  while (s->at < s->nline && s->line[s->at][0]) {
    const char *l = s->line[s->at++];
    if (!strcmp(l, "----")) {
      *dashes = 1;
      break;
    }
    size_t k = strlen(l);
    if (n + k + 2 > cap) sql = realloc(sql, cap = (n + k + 2) * 2);
    if (n) sql[n++] = '\n';
    memcpy(sql + n, l, k + 1);
    n += k;
  }
  return sql;
}

/* Print the first values of a result for -v output. */
static void show_values(const char *what, const result *r) {
  fprintf(stderr, "  %s (%d values):", what, r->n);
  for (int i = 0; i < r->n && i < 12; i++)
    fprintf(stderr, " [%s]", r->v[i]);
  fprintf(stderr, r->n > 12 ? " ...\n" : "\n");
}

/* Run a query record: head is the "query ..." line, sql its SQL, expect the
** expected lines.  labels is the file's label list (extended here).  Returns
** 1 if the result is right. */
static int run_query(const script *s, int lineno, const char *head, const char *sql,
                     const result *expect, label **labels) {
  char types[64] = "", sortmode[64] = "nosort", lab[64] = "";
  sscanf(head + 5, "%63s %63s %63s", types, sortmode, lab);
  lab[20] = 0; /* the reference runner keeps 20 characters of a label */
  int ncol = (int)strlen(types);
  result got = {0};
  got.types = types;
  char *err = NULL;
  int ok = 1;
  const char *why = NULL;
  if (engine_query(sql, &got, &err)) {
    ok = 0;
    why = "query failed";
  } else if (got.ncol >= 0 && got.ncol != ncol) {
    ok = 0;
    why = "wrong number of columns";
  } else if (ncol == 0 || got.n % ncol) {
    ok = 0;
    why = "bad type string or ragged result";
  }
  if (ok && got.n > 0) {
    if (!strcmp(sortmode, "rowsort")) {
      sort_ncol = ncol;
      qsort(got.v, (size_t)(got.n / ncol), sizeof(char *) * (size_t)ncol, cmp_row);
    } else if (!strcmp(sortmode, "valuesort")) {
      sort_ncol = 1;
      qsort(got.v, (size_t)got.n, sizeof(char *), cmp_row);
    } else if (strcmp(sortmode, "nosort")) {
      ok = 0;
      why = "unknown sort mode";
    }
  }
  char hash[33] = "";
  if (ok) {
    md5 m;
    md5_init(&m);
    for (int i = 0; i < got.n; i++) {
      md5_update(&m, got.v[i], strlen(got.v[i]));
      md5_update(&m, "\n", 1);
    }
    md5_hex(&m, hash);
    int nv;
    char want[64];
    if (expect->n == 1 && sscanf(expect->v[0], "%d values hashing to %63s", &nv, want) == 2) {
      ok = nv == got.n && !strcmp(want, hash);
    } else {
      ok = expect->n == got.n;
      for (int i = 0; ok && i < got.n; i++)
        ok = !strcmp(expect->v[i], got.v[i]);
    }
    if (!ok) why = "wrong result";
  }
  if (ok && lab[0]) {
    label *l = *labels;
    while (l && strcmp(l->name, lab))
      l = l->next;
    if (!l) {
      l = calloc(1, sizeof *l);
      l->name = strdup(lab);
      memcpy(l->hash, hash, sizeof hash);
      l->next = *labels;
      *labels = l;
    } else if (strcmp(l->hash, hash)) {
      ok = 0;
      why = "result disagrees with earlier results of its label";
    }
  }
  if (!ok && verbose) {
    fprintf(stderr, "%s:%d: %s\n  %s\n  %s\n", s->path, lineno, why, head, sql);
    if (err)
      fprintf(stderr, "  error: %s\n", err);
    else {
      show_values("got", &got);
      show_values("want", expect);
    }
  }
  free(err);
  clear_result(&got);
  return ok;
}

/* Run every record of the file at path with a fresh engine; add its counts
** to *total and print its line. */
static void run_file(const char *path, counts *total) {
  script s;
  if (load_script(&s, path)) {
    fprintf(stderr, "slt: cannot read %s\n", path);
    printf("%s: 0 passed, 1 failed, 0 skipped\n", path);
    total->fail++;
    return;
  }
  engine_open();
  counts c = {0, 0, 0};
  label *labels = NULL;
  while (s.at < s.nline) {
    const char *l = s.line[s.at];
    if (!l[0] || l[0] == '#') {
      s.at++;
      continue;
    }
    /* condition lines */
    int skip = 0;
    while (s.at < s.nline &&
           (!strncmp(s.line[s.at], "skipif ", 7) || !strncmp(s.line[s.at], "onlyif ", 7))) {
      char name[64] = "";
      sscanf(s.line[s.at] + 7, "%63s", name);
      int ours = is_our_engine(name);
      if (s.line[s.at][0] == 's' ? ours : !ours) skip = 1;
      s.at++;
    }
    if (s.at >= s.nline) break;
    int lineno = s.at + 1;
    const char *head = s.line[s.at++];
    if (!strncmp(head, "hash-threshold", 14)) {
      /* Only decides how expected results were written; both forms are
      ** recognised by their shape, so nothing to keep. */
      continue;
    }
    if (!strcmp(head, "halt")) {
      if (skip) continue;
      break;
    }
    int is_stmt = !strncmp(head, "statement ", 10);
    int is_query = !strncmp(head, "query ", 6);
    if (!is_stmt && !is_query) {
      fprintf(stderr, "%s:%d: unknown record '%s'\n", path, lineno, head);
      c.fail++;
      while (s.at < s.nline && s.line[s.at][0])
        s.at++;
      continue;
    }
    int dashes;
    char *sql = read_sql(&s, &dashes);
    result expect = {0};
    if (dashes)
      while (s.at < s.nline && s.line[s.at][0])
        add_value(&expect, s.line[s.at++]);
    int ok;
    if (skip) {
      c.skip++;
    } else if (is_stmt) {
      char *err = NULL;
      int want_error = !strncmp(head + 10, "error", 5);
      int failed = engine_statement(sql, &err);
      ok = want_error ? failed : !failed;
      if (!ok && verbose)
        fprintf(stderr, "%s:%d: statement should %s\n  %s\n%s%s\n", path, lineno,
                want_error ? "fail but ran" : "run but failed", sql, err ? "  error: " : "",
                err ? err : "");
      free(err);
      if (ok)
        c.pass++;
      else
        c.fail++;
    } else {
      ok = run_query(&s, lineno, head, sql, &expect, &labels);
      if (ok)
        c.pass++;
      else
        c.fail++;
    }
    free(sql);
    clear_result(&expect);
  }
  while (labels) {
    label *n = labels->next;
    free(labels->name);
    free(labels);
    labels = n;
  }
  engine_close();
  free_script(&s);
  printf("%s: %d passed, %d failed, %d skipped\n", path, c.pass, c.fail, c.skip);
  fflush(stdout);
  total->pass += c.pass;
  total->fail += c.fail;
  total->skip += c.skip;
}

/* Parse the options, run every file, print the totals. */
int main(int argc, char **argv) {
  counts total = {0, 0, 0};
  int nfile = 0;
  char **file = malloc(sizeof(char *) * (size_t)argc);
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
    } else if (argv[i][0] == '-') {
      nfile = 0;
      break;
    } else {
      file[nfile++] = argv[i];
    }
  }
  if (!nfile) {
    fprintf(stderr, "usage: slt [--engine sluice|sqlite] [-v] FILE...\n");
    return 2;
  }
#ifdef SLT_SQLITE_ONLY
  if (!use_sqlite) {
    fprintf(stderr, "slt: built with SLT_SQLITE_ONLY: only --engine sqlite works\n");
    return 2;
  }
#endif
  for (int i = 0; i < nfile; i++)
    run_file(file[i], &total);
  free(file);
  printf("%d passed, %d failed, %d skipped\n", total.pass, total.fail, total.skip);
  return total.fail ? 1 : 0;
}
