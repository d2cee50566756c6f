/*
** slt.c - a runner for SQLite's sqllogictest files (../shared/slt/).
**
** Record format (sqllogictest's about.wiki): records separated by blank
** lines; "statement ok|error" + SQL; "query <types> <sortmode> [label]" +
** SQL + "----" + expected values one per line, or "N values hashing to
** MD5"; "hash-threshold N"; "halt"; "skipif ENGINE" / "onlyif ENGINE"
** lines before a record.  sluice is its own engine ("sluice"): `onlyif
** sqlite` records are skipped and `skipif sqlite` records run.
**
** Values are rendered by the query's type string: I as a 64-bit integer,
** R as %.3f, T as text ("(empty)" for '', control characters as '@'),
** NULL as "NULL".  Sort modes nosort, rowsort, valuesort.  Results with
** more values than the hash threshold are compared by the MD5 of the values,
** each followed by a newline.
**
** usage: slt [--engine sluice|sqlite] [-v] FILE...
** Prints "file: N passed, M failed, K skipped" per file and a last line
** "N passed, M failed, K skipped"; exits 0 only when nothing failed.
*/
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice.h"

/* ---- MD5 (RFC 1321) ------------------------------------------------------ */

typedef struct md5 {
  uint32_t h[4];
  uint64_t len;
  unsigned char buf[64];
  size_t n;
} md5;

static const uint32_t md5_k[64] = {
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391};
static const int md5_r[64] = {7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
                              5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20,
                              4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
                              6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21};

static void md5_init(md5 *m) {
  m->h[0] = 0x67452301;
  m->h[1] = 0xefcdab89;
  m->h[2] = 0x98badcfe;
  m->h[3] = 0x10325476;
  m->len = 0;
  m->n = 0;
}

static void md5_block(md5 *m, const unsigned char *p) {
  uint32_t w[16];
  for (int i = 0; i < 16; i++)
    w[i] = (uint32_t)p[4 * i] | (uint32_t)p[4 * i + 1] << 8 | (uint32_t)p[4 * i + 2] << 16 |
           (uint32_t)p[4 * i + 3] << 24;
  uint32_t a = m->h[0], b = m->h[1], c = m->h[2], d = m->h[3];
  for (int i = 0; i < 64; i++) {
    uint32_t f;
    int g;
    if (i < 16) {
      f = (b & c) | (~b & d);
      g = i;
    } else if (i < 32) {
      f = (d & b) | (~d & c);
      g = (5 * i + 1) % 16;
    } else if (i < 48) {
      f = b ^ c ^ d;
      g = (3 * i + 5) % 16;
    } else {
      f = c ^ (b | ~d);
      g = (7 * i) % 16;
    }
    uint32_t t = d;
    d = c;
    c = b;
    uint32_t x = a + f + md5_k[i] + w[g];
    b = b + (x << md5_r[i] | x >> (32 - md5_r[i]));
    a = t;
  }
  m->h[0] += a;
  m->h[1] += b;
  m->h[2] += c;
  m->h[3] += d;
}

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

static void md5_hex(md5 *m, char out[33]) {
  uint64_t bits = m->len * 8;
  unsigned char pad = 0x80;
  md5_update(m, &pad, 1);
  unsigned char z = 0;
  while (m->n != 56) md5_update(m, &z, 1);
  unsigned char lb[8];
  for (int i = 0; i < 8; i++) lb[i] = (unsigned char)(bits >> (8 * i));
  md5_update(m, lb, 8);
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 4; j++) sprintf(out + 8 * i + 2 * j, "%02x", (m->h[i] >> (8 * j)) & 0xff);
  out[32] = 0;
}

/* ---- results ----------------------------------------------------------- */

typedef struct result {
  char **v; /* rendered values, row-major */
  int n, cap;
  int ncol;
  const char *types;
} result;

static void add_value(result *r, const char *z) {
  if (r->n == r->cap) {
    r->cap = r->cap ? r->cap * 2 : 64;
    r->v = realloc(r->v, sizeof(char *) * (size_t)r->cap);
  }
  r->v[r->n++] = strdup(z);
}

static void free_result(result *r) {
  for (int i = 0; i < r->n; i++) free(r->v[i]);
  free(r->v);
  memset(r, 0, sizeof *r);
}

/* Render one value by its type letter. kind: 0 null, 1 int, 2 real, 3 text/blob. */
static void render(result *r, char type, int is_null, long long i, double d, const char *text) {
  char buf[64];
  if (is_null) {
    add_value(r, "NULL");
    return;
  }
  if (type == 'I') {
    snprintf(buf, sizeof buf, "%lld", i);
    add_value(r, buf);
  } else if (type == 'R') {
    snprintf(buf, sizeof buf, "%.3f", d);
    add_value(r, buf);
  } else {
    if (!text || !*text) {
      add_value(r, "(empty)");
      return;
    }
    char *t = strdup(text);
    for (char *p = t; *p; p++)
      if ((unsigned char)*p < ' ' || (unsigned char)*p > '~') *p = '@';
    add_value(r, t);
    free(t);
  }
}

static int sluice_row(void *ud, int ncol, const char *const *names, sluice_value **row) {
  result *r = ud;
  r->ncol = ncol;
  for (int c = 0; c < ncol; c++) {
    char type = r->types && r->types[c] ? r->types[c] : 'T';
    int t = sluice_value_type(row[c]);
    long long i = t == SLUICE_NULL ? 0 : sluice_value_int64(row[c]);
    double d = t == SLUICE_NULL ? 0 : sluice_value_double(row[c]);
    const char *z = t == SLUICE_NULL ? NULL : sluice_value_text(row[c], NULL);
    render(r, type, t == SLUICE_NULL, i, d, z);
  }
  return 0;
}

/* ---- engines -------------------------------------------------------------- */

static int use_sqlite;
static sluice *sdb;
static sqlite3 *qdb;

static void engine_open(void) {
  if (use_sqlite)
    sqlite3_open(":memory:", &qdb);
  else
    sdb = sluice_open();
}

static void engine_close(void) {
  if (use_sqlite)
    sqlite3_close(qdb);
  else
    sluice_close(sdb);
  qdb = NULL;
  sdb = NULL;
}

/* Run sql; rows go to r (may be NULL).  Returns 0 on success. */
static int engine_exec(const char *sql, result *r, char **err) {
  *err = NULL;
  if (!use_sqlite) return sluice_exec(sdb, sql, r ? sluice_row : NULL, r, err);
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(qdb, sql, -1, &st, NULL) != SQLITE_OK) {
    *err = strdup(sqlite3_errmsg(qdb));
    return 1;
  }
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    if (!r) continue;
    int ncol = sqlite3_column_count(st);
    r->ncol = ncol;
    for (int c = 0; c < ncol; c++) {
      char type = r->types && r->types[c] ? r->types[c] : 'T';
      int t = sqlite3_column_type(st, c);
      render(r, type, t == SQLITE_NULL, sqlite3_column_int64(st, c), sqlite3_column_double(st, c),
             (const char *)sqlite3_column_text(st, c));
    }
  }
  if (rc != SQLITE_DONE) {
    *err = strdup(sqlite3_errmsg(qdb));
    sqlite3_finalize(st);
    return 1;
  }
  sqlite3_finalize(st);
  return 0;
}

/* ---- the runner ---------------------------------------------------------------- */

static int verbose;
static int ncol_sort;

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Rows are compared column by column as strings (qsort on row pointers). */
static int cmp_rowp(const void *a, const void *b) {
  char *const *x = *(char **const *)a, *const *y = *(char **const *)b;
  for (int i = 0; i < ncol_sort; i++) {
    int c = strcmp(x[i], y[i]);
    if (c) return c;
  }
  return 0;
}

typedef struct label {
  char *name;
  char hash[33];
  struct label *next;
} label;

typedef struct counts {
  int pass, fail, skip;
} counts;

/* Read the next line (without newline) into *line; 0 at EOF. */
static int next_line(FILE *f, char **line, size_t *cap, int *lineno) {
  ssize_t n = getline(line, cap, f);
  if (n < 0) return 0;
  while (n > 0 && ((*line)[n - 1] == '\n' || (*line)[n - 1] == '\r')) (*line)[--n] = 0;
  (*lineno)++;
  return 1;
}

static void run_file(const char *path, counts *total) {
  FILE *f = fopen(path, "r");
  if (!f) {
    fprintf(stderr, "slt: cannot open %s\n", path);
    total->fail++;
    return;
  }
  engine_open();
  counts c = {0, 0, 0};
  char *line = NULL;
  size_t cap = 0;
  int lineno = 0;
  int threshold = 8;
  label *labels = NULL;
  int halted = 0;
  while (!halted && next_line(f, &line, &cap, &lineno)) {
    if (!line[0] || line[0] == '#') continue;
    int skip = 0;
    /* condition lines */
    while (!strncmp(line, "skipif ", 7) || !strncmp(line, "onlyif ", 7)) {
      char engine[64] = "";
      sscanf(line + 7, "%63s", engine);
      int is_us = !strcmp(engine, "sluice") || (use_sqlite && !strcmp(engine, "sqlite"));
      if (line[0] == 's' ? is_us : !is_us) skip = 1;
      if (!next_line(f, &line, &cap, &lineno)) break;
    }
    int start = lineno;
    if (!strncmp(line, "hash-threshold", 14)) {
      threshold = atoi(line + 14);
      continue;
    }
    if (!strcmp(line, "halt")) {
      if (!skip) halted = 1;
      continue;
    }
    int is_stmt = !strncmp(line, "statement", 9);
    int is_query = !strncmp(line, "query", 5);
    if (!is_stmt && !is_query) continue;
    char head[256];
    snprintf(head, sizeof head, "%s", line);
    /* SQL up to a blank line or ---- */
    size_t sqlcap = 256, sqln = 0;
    char *sql = malloc(sqlcap);
    sql[0] = 0;
    int has_results = 0;
    while (next_line(f, &line, &cap, &lineno) && line[0]) {
      if (!strcmp(line, "----")) {
        has_results = 1;
        break;
      }
      size_t l = strlen(line);
      if (sqln + l + 2 > sqlcap) {
        sqlcap = (sqln + l + 2) * 2;
        sql = realloc(sql, sqlcap);
      }
      if (sqln) sql[sqln++] = '\n';
      memcpy(sql + sqln, line, l + 1);
      sqln += l;
    }
    /* expected values */
    result expect = {0};
    if (has_results)
      while (next_line(f, &line, &cap, &lineno) && line[0]) add_value(&expect, line);
    if (skip) {
      c.skip++;
      free(sql);
      free_result(&expect);
      continue;
    }
    char *err = NULL;
    int ok = 1;
    if (is_stmt) {
      int want_error = strstr(head, "error") != NULL;
      int rc = engine_exec(sql, NULL, &err);
      ok = want_error ? rc != 0 : rc == 0;
    } else {
      char types[64] = "", sortmode[64] = "nosort", lab[128] = "";
      sscanf(head + 5, "%63s %63s %127s", types, sortmode, lab);
      result got = {0};
      got.types = types;
      int rc = engine_exec(sql, &got, &err);
      if (rc) {
        ok = 0;
      } else {
        int ncol = (int)strlen(types);
        if (got.ncol && got.ncol != ncol) ok = 0;
        if (!strcmp(sortmode, "rowsort") && ncol > 0 && got.n > 0 && got.n % ncol == 0) {
          ncol_sort = ncol;
          /* sort rows: build an array of row pointers */
          int nrow = got.n / ncol;
          char **rows = malloc(sizeof(char *) * (size_t)(got.n ? got.n : 1));
          char ***rp = malloc(sizeof(char **) * (size_t)(nrow ? nrow : 1));
          for (int i = 0; i < nrow; i++) rp[i] = got.v + i * ncol;
          qsort(rp, (size_t)nrow, sizeof(char **), cmp_rowp);
          for (int i = 0; i < nrow; i++) memcpy(rows + i * ncol, rp[i], sizeof(char *) * (size_t)ncol);
          memcpy(got.v, rows, sizeof(char *) * (size_t)got.n);
          free(rows);
          free(rp);
        } else if (!strcmp(sortmode, "valuesort") && got.n > 0) {
          qsort(got.v, (size_t)got.n, sizeof(char *), cmp_str);
        }
        md5 m;
        md5_init(&m);
        for (int i = 0; i < got.n; i++) {
          md5_update(&m, got.v[i], strlen(got.v[i]));
          md5_update(&m, "\n", 1);
        }
        char hash[33];
        md5_hex(&m, hash);
        if (ok) {
          if (expect.n == 1 && strstr(expect.v[0], " values hashing to ")) {
            char want[64];
            int nv = 0;
            sscanf(expect.v[0], "%d values hashing to %63s", &nv, want);
            ok = nv == got.n && !strcmp(want, hash);
          } else if (has_results) {
            ok = expect.n == got.n;
            for (int i = 0; ok && i < got.n; i++) ok = !strcmp(expect.v[i], got.v[i]);
          }
        }
        if (ok && lab[0]) {
          label *l;
          for (l = labels; l && strcmp(l->name, lab); l = l->next) {
          }
          if (!l) {
            l = calloc(1, sizeof *l);
            l->name = strdup(lab);
            memcpy(l->hash, hash, 33);
            l->next = labels;
            labels = l;
          } else {
            ok = !strcmp(l->hash, hash);
          }
        }
        if (!ok && verbose) {
          fprintf(stderr, "%s:%d: wrong result for: %s\n  got:", path, start, sql);
          for (int i = 0; i < got.n && i < 10; i++) fprintf(stderr, " [%s]", got.v[i]);
          fprintf(stderr, "\n  want:");
          for (int i = 0; i < expect.n && i < 10; i++) fprintf(stderr, " [%s]", expect.v[i]);
          fprintf(stderr, "\n");
        }
        (void)threshold;
      }
      free_result(&got);
    }
    if (ok) {
      c.pass++;
    } else {
      c.fail++;
      if (verbose && err) fprintf(stderr, "%s:%d: %s\n  error: %s\n", path, start, sql, err);
    }
    free(err);
    free(sql);
    free_result(&expect);
  }
  while (labels) {
    label *n = labels->next;
    free(labels->name);
    free(labels);
    labels = n;
  }
  free(line);
  fclose(f);
  engine_close();
  printf("%s: %d passed, %d failed, %d skipped\n", path, c.pass, c.fail, c.skip);
  total->pass += c.pass;
  total->fail += c.fail;
  total->skip += c.skip;
}

int main(int argc, char **argv) {
  counts total = {0, 0, 0};
  int files = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--engine") && i + 1 < argc) {
      use_sqlite = !strcmp(argv[++i], "sqlite");
    } else if (!strcmp(argv[i], "-v")) {
      verbose = 1;
    } else {
      run_file(argv[i], &total);
      files++;
    }
  }
  if (!files) {
    fprintf(stderr, "usage: slt [--engine sluice|sqlite] [-v] FILE...\n");
    return 2;
  }
  printf("%d passed, %d failed, %d skipped\n", total.pass, total.fail, total.skip);
  return total.fail ? 1 : 0;
}
