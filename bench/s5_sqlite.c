/* bench/s5_sqlite.c - the SQLite peer of the S5 aggregation benchmark, on the
 * library.  The job: purchase events as JSON lines {"user", "product", "price",
 * "ts"} -> per user and 10-second tumbling window: count(*), sum(price); output
 * one line per (user, window) as "user,window_start,count,sum".
 *
 * As an embedding program would do it: an INSERT prepared once extracts the
 * three fields from each line with SQLite's JSON functions into an in-memory
 * table (one transaction), then one GROUP BY query computes the windows.  All
 * of the record work is SQLite's SQL engine.
 *
 * Usage: s5_sqlite IN OUT */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int die(sqlite3 *db, const char *what) {
  fprintf(stderr, "s5_sqlite: %s: %s\n", what, db ? sqlite3_errmsg(db) : "?");
  return 1;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: s5_sqlite IN OUT\n");
    return 2;
  }
  FILE *in = fopen(argv[1], "rb"), *out = fopen(argv[2], "wb");
  if (!in || !out) return die(NULL, "cannot open the files");
  sqlite3 *db;
  if (sqlite3_open(":memory:", &db)) return die(db, "open");
  sqlite3_exec(db, "CREATE TABLE e(user TEXT, price REAL, ts INTEGER); BEGIN", 0, 0, 0);
  sqlite3_stmt *ins;
  if (sqlite3_prepare_v2(db,
                         "INSERT INTO e SELECT ?1->>'user', ?1->>'price', ?1->>'ts'", -1,
                         &ins, NULL))
    return die(db, "prepare insert");
  char *line = NULL;
  size_t cap = 0;
  ssize_t n;
  while ((n = getline(&line, &cap, in)) > 0) {
    if (line[n - 1] == '\n') n--;
    sqlite3_bind_text(ins, 1, line, (int)n, SQLITE_STATIC);
    if (sqlite3_step(ins) != SQLITE_DONE) return die(db, "insert");
    sqlite3_reset(ins);
  }
  sqlite3_finalize(ins);
  sqlite3_exec(db, "COMMIT", 0, 0, 0);
  sqlite3_stmt *q;
  if (sqlite3_prepare_v2(db,
                         "SELECT user, ts / 10000 * 10000 AS ws, count(*), sum(price) FROM e "
                         "GROUP BY user, ws",
                         -1, &q, NULL))
    return die(db, "prepare query");
  while (sqlite3_step(q) == SQLITE_ROW)
    fprintf(out, "%s,%lld,%lld,%.17g\n", sqlite3_column_text(q, 0),
            (long long)sqlite3_column_int64(q, 1), (long long)sqlite3_column_int64(q, 2),
            sqlite3_column_double(q, 3));
  sqlite3_finalize(q);
  sqlite3_close(db);
  free(line);
  fclose(in);
  return fclose(out) ? 1 : 0;
}
