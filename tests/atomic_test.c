/*
** atomic_test.c - a script with an error changes nothing (engine.h: all or
** nothing).  An engine gets streams, tables with rows, settings, models (one
** of them trainable) and a linked-in function; then a deferred script (what
** `sluice run` and `sluice serve` execute) creates, drops, replaces, inserts,
** sets, loads an extension, trains the model in a query that runs, plans
** queries into files, and fails on its last line.  What SHOW, DESCRIBE,
** SELECT and the predictions report afterwards must be exactly what they
** reported before; the slot of the replaced model must be the same one
** (running queries hold it); the output files must be untouched; the query
** counter and the pending run as before.  Then the same names can be
** created again, and a statement that fails alone (immediate mode) leaves
** nothing of itself.  Run from the build directory (make check), which
** holds tests/libudfprobe.so.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "engine_int.h"
#include "model.h"
#include "sluice.h"

static char dir[64];

/* Append every row as "name=value|...\n" to the sl_buf ud. */
static int collect(void *ud, int ncol, const char *const *names, sl_value **row) {
  sl_buf *b = ud;
  for (int i = 0; i < ncol; i++) {
    sl_value v = SL_VALUE_INIT;
    sl_value_copy(&v, row[i]);
    const char *z = sl_value_cstr(&v);
    sl_buf_printf(b, "%s%s=%s", i ? "|" : "", names[i], z ? z : "NULL");
    sl_value_free(&v);
  }
  sl_buf_putc(b, '\n');
  return 0;
}

/* Execute sql in immediate mode, its rows appended to out; 0 or -1 (the
** message appended then). */
static int run(sluice *db, const char *sql, sl_buf *out) {
  sl_err err = {0};
  int rc = sl_engine_exec(db, sql, SL_EXEC_IMMEDIATE, collect, out, &err);
  if (rc) sl_buf_printf(out, "ERROR %d:%d: %s\n", err.line, err.col, err.msg);
  sl_err_clear(&err);
  return rc;
}

/* A file in the test directory (a static buffer per call site's slot). */
static const char *path(const char *name) {
  static char bufs[8][160];
  static int next;
  char *b = bufs[next++ % 8];
  snprintf(b, sizeof bufs[0], "%s/%s", dir, name);
  return b;
}

static void write_file(const char *name, const char *text) {
  FILE *f = fopen(path(name), "w");
  fputs(text, f);
  fclose(f);
}

/* The contents of a file, or "(missing)" (a static buffer). */
static const char *read_file(const char *name) {
  static char buf[256];
  FILE *f = fopen(path(name), "r");
  if (!f) return "(missing)";
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  buf[n] = 0;
  fclose(f);
  return buf;
}

/* A linear model file whose prediction is intercept whatever the feature. */
static void write_model(const char *name, double intercept) {
  char text[256];
  snprintf(text, sizeof text,
           "{\"format\": \"sluice-model\", \"version\": 1, \"kind\": \"linear\", "
           "\"n_features\": 1, \"coef\": [[0.0]], \"intercept\": [%g], \"link\": \"identity\"}\n",
           intercept);
  write_file(name, text);
}

/* A linked-in extension: echo(x) is 'linked' (LOAD of the probe replaces it). */
static void echo_linked(sluice_context *ctx, int argc, sluice_value **argv) {
  (void)argc, (void)argv;
  sluice_result_static_text(ctx, "linked", 6);
}

static int init_linked(sluice_ext *ext, const sluice_api *api) {
  SLUICE_EXTENSION_INIT(ext, api);
  sluice_function f = {.name = "echo", .nargs = 1, .scalar = echo_linked};
  return sluice_create_function(ext, &f);
}

/* What the engine reports about everything the failed script touches. */
static void snapshot(sluice *db, sl_buf *out) {
  sl_buf_reset(out);
  const char *q[] = {"SHOW STREAMS",        "SHOW TABLES",
                     "SELECT * FROM t0",    "SHOW SETTINGS",
                     "SHOW MODELS",         "DESCRIBE m",
                     "DESCRIBE gone",       "DESCRIBE tm",
                     "DESCRIBE s0",         "SELECT predict(m, 1.0) AS p, predict(tm, 2.0) AS q",
                     "SELECT echo(1) AS e", "SHOW FUNCTIONS"};
  for (size_t i = 0; i < sizeof q / sizeof q[0]; i++) {
    sl_buf_printf(out, "-- %s\n", q[i]);
    run(db, q[i], out);
  }
}

static void test_failed_script(void) {
  sluice *db = sluice_open();
  sl_buf before = {0}, after = {0}, tmp = {0};
  char *msg = NULL;
  CHECK(sluice_register_extension(db, "linked", init_linked, &msg) == 0, "register: %s", msg);
  write_file("in.json", "{\"x\": 1}\n{\"x\": 2}\n");
  write_file("train.json", "{\"ts\": 0, \"y\": 3.0, \"x\": 1.0}\n{\"ts\": 10, \"y\": 3.0, \"x\": "
                           "1.0}\n{\"ts\": 5000, \"y\": 3.0, \"x\": 1.0}\n");
  write_file("out.json", "keep\n");
  write_model("m1.json", 1.0);
  write_model("m2.json", 2.0);
  char setup[2048];
  snprintf(setup, sizeof setup,
           "CREATE STREAM s0 (x INTEGER) FROM file('%s');\n"
           "CREATE TABLE t0 (k INTEGER, v TEXT);\n"
           "INSERT INTO t0 VALUES (1, 'one');\n"
           "SET probe.greeting = 'hello';\n"
           "SET batch_size = 7;\n"
           "CREATE MODEL m FROM '%s';\n"
           "CREATE MODEL gone FROM '%s';\n"
           "CREATE MODEL tm TYPE linear_sgd WITH (step => 0.5, iterations => 5, features => 1);\n",
           path("in.json"), path("m1.json"), path("m1.json"));
  CHECK(run(db, setup, &tmp) == 0, "setup: %s", tmp.z);
  snapshot(db, &before);
  CHECK(strstr(before.z, "p=1.0|q=0.0"), "predictions before: %s", before.z);
  sl_model_slot *slot = sl_catalog_model(&db->cat, "m");
  int nquery = db->nquery;

  char script[4096];
  snprintf(script, sizeof script,
           "CREATE STREAM a (x INTEGER) FROM file('%s');\n"
           "CREATE TABLE t (k INTEGER);\n"
           "INSERT INTO t VALUES (1), (2);\n"
           "INSERT INTO t0 VALUES (2, 'two'), (3, 'three');\n"
           "SET probe.greeting = 'changed';\n"
           "SET batch_size = NULL;\n"
           "SET checkpoint_interval = '2s';\n"
           "SET kafka.brokers = 'h:1';\n"
           "CREATE OR REPLACE MODEL m FROM '%s';\n"
           "DROP MODEL gone;\n"
           "CREATE MODEL gone TYPE kmeans_stream WITH (k => 2);\n"
           "DROP STREAM s0;\n"
           "CREATE STREAM s0 (y TEXT) FROM file('%s');\n"
           "DROP TABLE t0;\n"
           "LOAD 'tests/libudfprobe.so';\n"
           "SELECT train(tm, y, vector(x)) AS v FROM file('%s') "
           "GROUP BY TUMBLE(ts, INTERVAL '1' SECOND);\n"
           "SELECT x FROM a INTO file('%s');\n"
           "SELECT x FROM a INTO file('%s');\n"
           "SELECT\n  nosuchcol FROM a INTO file('%s');\n",
           path("in.json"), path("m2.json"), path("in.json"), path("train.json"), path("out.json"),
           path("new.json"), path("out.json"));
  sl_err err = {0};
  sl_buf_reset(&tmp);
  int rc = sl_engine_exec(db, script, SL_EXEC_DEFERRED, collect, &tmp, &err);
  CHECK(rc == -1, "the script did not fail");
  CHECK(err.line == 20 && err.col == 3 && err.msg && strstr(err.msg, "nosuchcol"),
        "error %d:%d: %s", err.line, err.col, err.msg ? err.msg : "(none)");
  CHECK(strstr(tmp.z ? tmp.z : "", "\"version\": 2"), "the training query did not run: %s",
        tmp.z ? tmp.z : "");
  sl_err_clear(&err);
  CHECK(db->pending == NULL, "a pending run is left");
  CHECK(db->nquery == nquery, "query counter %d, was %d", db->nquery, nquery);
  snapshot(db, &after);
  CHECK(!strcmp(before.z, after.z), "the catalog changed:\n--- before\n%s--- after\n%s", before.z,
        after.z);
  CHECK(sl_catalog_model(&db->cat, "m") == slot, "model m is in a new slot");
  CHECK(!strcmp(read_file("out.json"), "keep\n"), "out.json: %s", read_file("out.json"));
  CHECK(!strcmp(read_file("new.json"), "(missing)"), "new.json was created");
  nquery = db->nquery; /* the snapshot ran queries */

  /* The names are free again, and what was planned before runs. */
  snprintf(script, sizeof script,
           "CREATE STREAM a (x INTEGER) FROM file('%s');\n"
           "CREATE TABLE t (k INTEGER);\n"
           "SELECT x * 10 AS y FROM a INTO file('%s');\n",
           path("in.json"), path("new.json"));
  rc = sl_engine_exec(db, script, SL_EXEC_DEFERRED, collect, &tmp, &err);
  CHECK(rc == 0, "the script again: %s", err.msg ? err.msg : "?");
  sl_err_clear(&err);
  CHECK(db->nquery == nquery + 1, "query id q%d, want q%d", db->nquery, nquery + 1);
  CHECK(sl_engine_run_pending(db, &err) == 0, "run: %s", err.msg ? err.msg : "?");
  sl_err_clear(&err);
  CHECK(!strcmp(read_file("new.json"), "{\"y\":10}\n{\"y\":20}\n"), "new.json: %s",
        read_file("new.json"));

  sl_buf_free(&before);
  sl_buf_free(&after);
  sl_buf_free(&tmp);
  sluice_close(db);
}

/* Without the deferred mode each statement is all or nothing by itself. */
static void test_failed_statement(void) {
  sluice *db = sluice_open();
  sl_buf out = {0};
  char sql[512];
  snprintf(sql, sizeof sql,
           "CREATE TABLE t0 (k INTEGER, v TEXT); INSERT INTO t0 VALUES (1, 'one');"
           "CREATE STREAM s0 (x INTEGER) FROM file('%s');",
           path("in.json"));
  CHECK(run(db, sql, &out) == 0, "setup: %s", out.z);
  sl_buf_reset(&out);
  /* the third row is bad: the first two must not stay */
  CHECK(run(db, "INSERT INTO t0 VALUES (2, 'two'), (3, 'three'), (4)", &out) == -1, "insert");
  sl_buf_reset(&out);
  CHECK(run(db, "SELECT k FROM t0", &out) == 0 && !strcmp(out.z, "k=1\n"),
        "rows after a failed INSERT: %s", out.z);
  /* a replacement that does not plan keeps the stream it was to replace */
  sl_buf_reset(&out);
  CHECK(run(db, "CREATE OR REPLACE STREAM s0 AS SELECT nosuch FROM t0", &out) == -1, "replace");
  CHECK(run(db, "SHOW STREAMS", &out) == 0 &&
            strstr(out.z, "name=s0|definition=CREATE STREAM s0 (x"),
        "streams after a failed replacement: %s", out.z);
  /* the statements before a failing one stay; a value of the wrong type
  ** fails the statement and leaves the setting as it was */
  sl_buf_reset(&out);
  CHECK(run(db, "SET batch_size = 5; SET idle_timeout_ms = nosuch(1)", &out) == -1, "set");
  CHECK(run(db, "SET idle_timeout_ms = '2s'; SET idle_timeout_ms = 'banana'", &out) == -1,
        "set a bad value");
  CHECK(run(db, "SHOW SETTINGS", &out) == 0 && strstr(out.z, "name=batch_size|value=5|") &&
            strstr(out.z, "name=idle_timeout_ms|value=2s|"),
        "settings: %s", out.z);
  /* SL_EXEC_ATOMIC asks for all or nothing in immediate mode too: a
  ** setting changed, one returned to its default, one added come back */
  sl_buf_reset(&out);
  sl_err err = {0};
  CHECK(sl_engine_exec(db,
                       "SET commit_interval_ms = 7; SET batch_size = NULL; SET x.y = 1; "
                       "SELECT 1 AS one; SET vm_trace = nosuch(1)",
                       SL_EXEC_ATOMIC, collect, &out, &err) == -1 &&
            err.line == 1 && err.col == 97,
        "atomic: %d:%d %s", err.line, err.col, err.msg ? err.msg : "");
  sl_err_clear(&err);
  CHECK(run(db, "SHOW SETTINGS", &out) == 0 && strstr(out.z, "one=1\n") &&
            strstr(out.z, "name=commit_interval_ms|value=1s|") &&
            strstr(out.z, "name=batch_size|value=5|") && !strstr(out.z, "name=x.y"),
        "atomic settings: %s", out.z);
  sl_buf_free(&out);
  sluice_close(db);
}

int main(void) {
  snprintf(dir, sizeof dir, "/tmp/sluice-atomic-XXXXXX");
  if (!mkdtemp(dir)) {
    perror("mkdtemp");
    return 1;
  }
  test_failed_script();
  test_failed_statement();
  const char *names[] = {"in.json", "train.json", "out.json", "new.json", "m1.json", "m2.json"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    unlink(path(names[i]));
  rmdir(dir);
  if (nfail) fprintf(stderr, "atomic_test: %d failure(s)\n", nfail);
  return nfail != 0;
}
