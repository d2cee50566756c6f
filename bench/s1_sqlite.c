/* bench/s1_sqlite.c - the SQLite peer of benchmark S1, on the library rather than the
 * sqlite3 shell.  The shell's `.import` reads its input a character at a time and
 * costs more than the query itself, so the fastest fair way to make SQLite do this
 * streaming job is the one an embedding program would use: prepare the query once,
 * then for each input line bind the line as text to ?1, step, and write the single
 * result column.  All of the record work - JSON field extraction (line->>'G1' ...),
 * the arithmetic, exp() and json_object() - is done by SQLite's SQL engine, just as
 * sluice does it in SQL.
 *
 * The query text comes from a file written by bench/run.sh: one SQL expression over a
 * column named `line`, e.g. json_object('User_ID', line->>'User_ID', 'pred', ...);
 * it is run as SELECT <expr> FROM (SELECT ?1 AS line), which SQLite flattens.  A NULL
 * result writes the line `null`.
 *
 * Usage: s1_sqlite EXPR_FILE IN OUT
 * Built by bench/run.sh with -lsqlite3; not part of the library. */
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads the whole file at path into a NUL-terminated heap string, which the caller
 * frees.  Returns NULL with a message on stderr when it cannot. */
static char *read_text_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "s1_sqlite: %s: %s\n", path, strerror(errno));
    return NULL;
  }
  size_t cap = 4096, len = 0, n;
  char *text = malloc(cap);
  while (text && (n = fread(text + len, 1, cap - len - 1, f)) > 0) {
    len += n;
    if (len + 1 == cap) {
      char *bigger = realloc(text, cap *= 2);
      if (!bigger) free(text);
      text = bigger;
    }
  }
  fclose(f);
  if (!text) {
    fprintf(stderr, "s1_sqlite: out of memory\n");
    return NULL;
  }
  text[len] = '\0';
  return text;
}

/* Runs the benchmark job: see the file comment for the arguments.  Returns 0 on
 * success, 1 on a usage, SQL or I/O error. */
int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: s1_sqlite EXPR_FILE IN OUT\n");
    return 1;
  }
  char *expr = read_text_file(argv[1]);
  if (!expr) return 1;
  FILE *in = fopen(argv[2], "r");
  FILE *out = in ? fopen(argv[3], "w") : NULL;
  if (!in || !out) {
    fprintf(stderr, "s1_sqlite: %s: %s\n", in ? argv[3] : argv[2], strerror(errno));
    return 1;
  }
  static char outbuf[1 << 16];
  setvbuf(out, outbuf, _IOFBF, sizeof outbuf);

  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  char *sql = sqlite3_mprintf("SELECT %s FROM (SELECT ?1 AS line)", expr);
  if (sqlite3_open(":memory:", &db) != SQLITE_OK ||
      sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK) {
    fprintf(stderr, "s1_sqlite: %s\n", sqlite3_errmsg(db));
    return 1;
  }
  sqlite3_free(sql);
  free(expr);

  int status = 0;
  char *line = NULL;
  size_t cap = 0;
  ssize_t len;
  while ((len = getline(&line, &cap, in)) != -1) {
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
      len--;
    if (len == 0) continue;
    sqlite3_bind_text(stmt, 1, line, (int)len, SQLITE_STATIC);
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
      const unsigned char *text = sqlite3_column_text(stmt, 0);
      int n = sqlite3_column_bytes(stmt, 0);
      if (text)
        fwrite(text, 1, (size_t)n, out);
      else
        fputs("null", out);
      putc('\n', out);
    } else if (rc != SQLITE_DONE) {
      fprintf(stderr, "s1_sqlite: %s\n", sqlite3_errmsg(db));
      status = 1;
      break;
    }
    sqlite3_reset(stmt);
  }
  free(line);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  if (ferror(in) || fflush(out) != 0 || ferror(out)) {
    fprintf(stderr, "s1_sqlite: I/O error: %s\n", strerror(errno));
    status = 1;
  }
  fclose(in);
  if (fclose(out) != 0) status = 1;
  return status;
}
