/*
** fuzz_catalog.h - the catalog the SQL and checkpoint targets plan against
** (fuzz_sql.c, fuzz_ckpt.c): a stream with a watermark, a schemaless stream,
** a table with rows, a model loaded from a file and models that learn (lr
** with its dimension declared, lg and km without).
** Made once per process; its streams read files that are never opened
** (planning only checks connectors).
*/
#ifndef SLUICE_FUZZ_CATALOG_H
#define SLUICE_FUZZ_CATALOG_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "engine.h"
#include "engine_int.h"

/* A model in the sluice format: y = 1 + 2a + 3b. */
static const char fuzz_model_json[] =
    "{\"format\": \"sluice-model\", \"version\": 1, \"kind\": \"linear\", \"n_features\": 2, "
    "\"feature_names\": [\"a\", \"b\"], \"coef\": [[2, 3]], \"intercept\": [1], "
    "\"link\": \"identity\"}";

static sluice *fuzz_catalog_open(void) {
  sluice *db = sluice_open();
  char path[] = "/tmp/fuzz_model.XXXXXX";
  int fd = mkstemp(path);
  size_t n = sizeof fuzz_model_json - 1;
  if (fd < 0 || write(fd, fuzz_model_json, n) != (ssize_t)n) abort();
  close(fd);
  char sql[1024];
  /* values bounded as a user bounds them (max_query_memory also limits one
  ** string: printf('%999999999s') is refused, not 1 GB built) */
  snprintf(sql, sizeof sql,
           "SET max_query_memory = '64MB';\n"
           "CREATE STREAM s (id INTEGER, name TEXT, x REAL, ts TIMESTAMP, v VECTOR) "
           "FROM file('fuzz-none.jsonl', format => 'json') WATERMARK ts - INTERVAL '1' SECOND;\n"
           "CREATE STREAM loose FROM file('fuzz-none.jsonl');\n"
           "CREATE STREAM ks (id INTEGER, name TEXT, x REAL, ts TIMESTAMP) "
           "FROM kafka('fuzz', brokers => '127.0.0.1:9', format => 'json') "
           "WATERMARK ts - INTERVAL '1' SECOND;\n"
           "CREATE TABLE t (k INTEGER, label TEXT, w REAL);\n"
           "INSERT INTO t VALUES (1, 'one', 0.5), (2, 'two', NULL), (NULL, 'none', -1);\n"
           "CREATE MODEL m FROM '%s';\n"
           "CREATE MODEL lr TYPE linear_sgd WITH (features => 2);\n"
           "CREATE MODEL lg TYPE logistic_sgd WITH (intercept => true);\n"
           "CREATE MODEL km TYPE kmeans_stream WITH (k => 3);\n",
           path);
  sl_err err = {0};
  if (sl_engine_exec(db, sql, SL_EXEC_IMMEDIATE, NULL, NULL, &err)) {
    fprintf(stderr, "fuzz: catalog setup: %s\n", err.msg ? err.msg : "?");
    abort();
  }
  unlink(path);
  return db;
}

#endif /* SLUICE_FUZZ_CATALOG_H */
