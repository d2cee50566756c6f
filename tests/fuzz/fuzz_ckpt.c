/*
** fuzz_ckpt.c - libFuzzer target for checkpoint decoding: the bytes a
** restart reads back from the state directory (src/checkpoint.c's sl_ckr_*
** readers) and the operator state loads built on them (aggregates with and
** without windows, count(DISTINCT), EMIT CHANGES, top_k, trainable models'
** train() with a dimension declared or not, stream-table and interval
** joins, the Top-N, keep-first deduplication and OVER of a Kafka stream).
** The first input byte picks the query whose operators load the
** rest; a query that loads then finishes, so the restored state is also
** emitted.  The last choice reads the bytes as a sequence of encoded values
** with the sl_ckr_* readers.
*/
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ast.h"
#include "checkpoint.h"
#include "fuzz_catalog.h"
#include "plan.h"

static const char *const queries[] = {
    "SELECT name, count(*), sum(x), avg(x), min(name), max(x), count(DISTINCT id) FROM s "
    "GROUP BY name",
    "SELECT name, window_start, count(*), sum(x) FROM s GROUP BY name, "
    "TUMBLE(ts, INTERVAL '10' SECOND)",
    "SELECT window_start, window_end, count(*) FROM s GROUP BY HOP(ts, INTERVAL '5' SECOND, "
    "INTERVAL '10' SECOND)",
    "SELECT name, window_start, window_end, count(*) FROM s GROUP BY name, "
    "SESSION(ts, INTERVAL '2' SECOND)",
    "SELECT window_start, count(*), min(x) FROM s GROUP BY TUMBLE(ts, INTERVAL '10' SECOND) "
    "EMIT CHANGES",
    "SELECT name, top_k(id, 2) FROM s GROUP BY name, TUMBLE(ts, INTERVAL '30' SECOND)",
    "SELECT train(lr, x, v) FROM s GROUP BY TUMBLE(ts, INTERVAL '1' SECOND)",
    "SELECT s.id, t.label FROM s JOIN t ON s.id = t.k",
    "SELECT a.id, b.name FROM s AS a JOIN s AS b ON a.id = b.id AND b.ts BETWEEN a.ts AND "
    "a.ts + INTERVAL '5' SECOND",
    "SELECT count(*), sum(x) FROM s GROUP BY TUMBLE(ts, 5000)",
    "SELECT train(lg, id > 0, v), train(km, v) FROM s GROUP BY HOP(ts, INTERVAL '1' SECOND, "
    "INTERVAL '2' SECOND)",
    /* window functions over an unbounded stream: op_topn, op_dedup, op_over */
    "SELECT * FROM (SELECT name, x, ROW_NUMBER() OVER (PARTITION BY name ORDER BY x DESC) AS rn "
    "FROM ks) WHERE rn <= 2",
    "SELECT * FROM (SELECT name, x, ROW_NUMBER() OVER (PARTITION BY name ORDER BY ts ASC) AS rn "
    "FROM ks) WHERE rn = 1",
    "SELECT name, sum(x) OVER (PARTITION BY name ORDER BY ts ROWS BETWEEN 2 PRECEDING AND "
    "CURRENT ROW), LAG(x) OVER (PARTITION BY name ORDER BY ts) FROM ks",
};
#define NQUERY ((int)(sizeof queries / sizeof *queries))

static sluice *db;
static sl_plan *plans[NQUERY];
static sl_parse parses[NQUERY];

static int drop_rows(void *ud, int ncol, const char *const *names, sl_value **row) {
  (void)ud, (void)ncol, (void)names, (void)row;
  return 0;
}

static void setup(void) {
  db = fuzz_catalog_open();
  for (int i = 0; i < NQUERY; i++) {
    sl_err err = {0};
    sl_plan_ctx ctx = {.cat = &db->cat, .nquery = &db->nquery};
    if (sl_parse_script(&parses[i], queries[i]) || parses[i].first->kind != S_SELECT) abort();
    plans[i] = sl_plan_new(&ctx);
    if (sl_plan_query(plans[i], parses[i].first, drop_rows, NULL, &err) < 0) {
      fprintf(stderr, "fuzz_ckpt: %s: %s\n", queries[i], err.msg ? err.msg : "?");
      abort();
    }
  }
}

/* Read encoded values until the bytes run out or turn bad. */
static void read_values(const uint8_t *z, size_t n) {
  sl_ckrd r;
  sl_ckrd_init(&r, z, n);
  while (!r.bad && r.p < r.end) {
    int what = *r.p++ % 4;
    size_t len;
    sl_value v = SL_VALUE_INIT;
    switch (what) {
    case 0: (void)sl_ckr_i64(&r); break;
    case 1: (void)sl_ckr_f64(&r); break;
    case 2: (void)sl_ckr_bytes(&r, &len); break;
    default:
      sl_ckr_value(&r, &v);
      sl_value_free(&v);
      break;
    }
  }
}

/* Make query q's operators (each query of the plan, chained), load the
** state into every operator that has one, then finish. */
static void load_query(int q, const uint8_t *z, size_t n) {
  const sl_plan *plan = plans[q];
  for (int qi = 0; qi < plan->nquery; qi++) {
    const sl_pquery *pq = plan->queries[qi];
    sl_stats stats;
    memset(&stats, 0, sizeof stats);
    sl_operator **ops = calloc((size_t)pq->nops + 1, sizeof *ops);
    sl_err err = {0};
    int nops = 0, ok = 1;
    for (int k = 0; k < pq->nops && ok; k++) {
      sl_make_env env = {.interrupted = NULL};
      sl_operator *op = pq->ops[k].kind->make(pq->ops[k].spec, &env, &err);
      if (!op) {
        ok = 0;
        break;
      }
      op->stats = &stats;
      op->qname = pq->id;
      if (op->port) {
        op->port->stats = &stats;
        op->port->qname = pq->id;
      }
      if (k) ops[k - 1]->next = op;
      ops[nops++] = op;
    }
    int loaded = ok;
    for (int k = 0; k < nops && loaded; k++)
      if (ops[k]->vt->load && ops[k]->vt->load(ops[k], z, n, &err)) loaded = 0;
    if (loaded && nops) {
      sl_buf out;
      sl_buf_init(&out);
      for (int k = 0; k < nops; k++)
        if (ops[k]->vt->save) ops[k]->vt->save(ops[k], &out, &err);
      sl_buf_free(&out);
      ops[0]->vt->finish(ops[0], &err);
    }
    for (int k = 0; k < nops; k++)
      ops[k]->vt->free(ops[k]);
    free(ops);
    sl_err_clear(&err);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!db) setup();
  if (size < 1) return 0;
  int q = data[0] % (NQUERY + 1);
  if (q == NQUERY)
    read_values(data + 1, size - 1);
  else
    load_query(q, data + 1, size - 1);
  return 0;
}
