/*
** fuzz_sql.c - libFuzzer target for the SQL front end: the input is a
** script, tokenized and parsed (sl_parse_script); every query in it
** (SELECT, EXPLAIN SELECT) is bound and compiled into a plan against a
** catalog holding a stream, a table, a model loaded from a file and a
** trainable model, so that binding goes through names, functions, models,
** windows and joins.  A plan whose sources are all tables (or no FROM) is
** also run, in this thread, which takes the compiled programs through the
** VM.  Nothing else executes: no DDL, no connector opens a file or socket
** (inputs naming a connector that could are skipped).
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ast.h"
#include "fuzz_catalog.h"
#include "plan.h"
#include "run.h"

static sluice *db;

/* Connectors that may touch the file system or the network when checked. */
static int names_io(const char *z) {
  static const char *const words[] = {"file", "sqlite", "socket", "stdin", "stdout", "kafka"};
  for (const char *p = z; *p; p++)
    for (size_t i = 0; i < sizeof words / sizeof *words; i++)
      if (strncasecmp(p, words[i], strlen(words[i])) == 0) return 1;
  return 0;
}

static int drop_rows(void *ud, int ncol, const char *const *names, sl_value **row) {
  (void)ud, (void)ncol, (void)names, (void)row;
  return 0;
}

/* 1 when every source of plan and of its subqueries' plans is a table. */
static int tables_only(const sl_plan *plan) {
  for (int i = 0; i < plan->nsource; i++)
    if (plan->sources[i]->conn) return 0;
  for (int i = 0; i < plan->nsubq; i++)
    if (!tables_only(plan->subqs[i]->plan)) return 0;
  return 1;
}

static void plan_one(const sl_stmt *st) {
  sl_plan_ctx ctx = {.cat = &db->cat, .nquery = &db->nquery};
  sl_plan *plan = sl_plan_new(&ctx);
  sl_err err = {0};
  if (sl_plan_query(plan, st, drop_rows, NULL, &err) < 0) {
    sl_plan_free(plan);
    sl_err_clear(&err);
    return;
  }
  sl_buf out;
  sl_buf_init(&out);
  sl_plan_explain(plan, &out);
  sl_buf_free(&out);
  if (st->select->into || !tables_only(plan)) {
    sl_plan_free(plan);
    return;
  }
  sl_run_cfg cfg = {NULL, 0, NULL};
  sl_run *run = sl_run_new(plan, &cfg, &err); /* takes the plan */
  if (run) {
    sl_run_execute(run, 0, &err);
    sl_run_free(run);
  }
  sl_err_clear(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!db) db = fuzz_catalog_open();
  if (size > 4096) return 0;
  char *sql = malloc(size + 1);
  memcpy(sql, data, size);
  sql[size] = 0;
  if (strlen(sql) != size || names_io(sql)) {
    free(sql);
    return 0;
  }
  sl_parse p;
  if (sl_parse_script(&p, sql) == 0) {
    for (const sl_stmt *st = p.first; st; st = st->next) {
      if (st->kind == S_SELECT)
        plan_one(st);
      else if (st->kind == S_EXPLAIN && st->inner && st->inner->kind == S_SELECT)
        plan_one(st->inner);
    }
  }
  sl_parse_free(&p);
  db->nquery = 0;
  free(sql);
  return 0;
}
