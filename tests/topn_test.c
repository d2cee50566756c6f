/*
** topn_test.c - the streaming window operators' changelogs and checkpoints.
**
** op_topn's changelog checked row kind by row kind: a Top-N
** query is planned (ROW_NUMBER, RANK, DENSE_RANK; ASC and DESC; N from 1
** to 5) and its op_topn fed random rows (random partitions, ties) in
** random batches, with restarts from a checkpoint at random points (the
** operator saved, freed, made again and loaded).  A collecting operator
** after it applies every change to a multiset: a -U or -D must take back a
** row it holds, a -U must be followed at once by a +U; at the end the
** multiset must be the Top-N computed directly from all the rows (a stable
** sort per partition, ranks counted as SQL counts them).
**
** op_over's and op_dedup's restarts: a query of every function op_over
** computes, and deduplications keeping each key's first row in event time
** and in processing time, run over random rows (disorder, late rows, ties)
** in random batches, once straight through and once with restarts from
** checkpoints at random points: the rows out must be the same
** (tests/over.sh checks the straight runs against Python).
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ast.h"
#include "catalog.h"
#include "op_window.h"
#include "plan.h"

static int failures;
#define CHECK(c, ...)                                                                              \
  do {                                                                                             \
    if (!(c)) {                                                                                    \
      failures++;                                                                                  \
      fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                                         \
      fprintf(stderr, __VA_ARGS__);                                                                \
      fprintf(stderr, "\n");                                                                       \
    }                                                                                              \
  } while (0)

/* A row of the result: (id, k, v, rank). */
typedef struct res {
  int64_t id, k, v, rank;
} res;

/* The multiset the changelog builds. */
typedef struct coll {
  sl_operator base;
  res *rows;
  int n, cap;
  int pending_ub; /* the last change was a -U: a +U must come next */
  int changes;
} coll;

static int res_eq(const res *a, const res *b) {
  return a->id == b->id && a->k == b->k && a->v == b->v && a->rank == b->rank;
}

static int coll_push(sl_operator *op, sl_batch *in, sl_err *err) {
  (void)err;
  coll *c = (coll *)op;
  CHECK(in->ncol == 4, "4 columns, not %d", in->ncol);
  for (int r = 0; r < in->nrow; r++) {
    const sl_value *v = in->rows + (size_t)r * (size_t)in->ncol;
    res x = {v[0].u.i, v[1].u.i, v[2].u.i, v[3].u.i};
    int kind = in->ops ? in->ops[r] : SL_ROW_INSERT;
    c->changes++;
    if (c->pending_ub) CHECK(kind == SL_ROW_UPDATE_AFTER, "-U not followed by +U");
    c->pending_ub = kind == SL_ROW_UPDATE_BEFORE;
    if (sl_rowkind_retracts(kind)) {
      int i = 0;
      while (i < c->n && !res_eq(&c->rows[i], &x))
        i++;
      CHECK(i < c->n, "a take-back of a row not held: id %lld rank %lld", (long long)x.id,
            (long long)x.rank);
      if (i < c->n) c->rows[i] = c->rows[--c->n];
    } else {
      if (c->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 64;
        c->rows = realloc(c->rows, sizeof(res) * (size_t)c->cap);
      }
      c->rows[c->n++] = x;
    }
  }
  CHECK(!c->pending_ub, "a batch ends between -U and +U");
  return 0;
}
static int coll_tick(sl_operator *op, int64_t now, sl_err *err) {
  (void)op, (void)now, (void)err;
  return 0;
}
static int coll_barrier(sl_operator *op, sl_barrier what, sl_err *err) {
  (void)op, (void)what, (void)err;
  return 0;
}
static int coll_finish(sl_operator *op, sl_err *err) {
  (void)op, (void)err;
  return 0;
}
static void coll_free(sl_operator *op) {
  (void)op;
}
static const sl_op_vt coll_vt = {"collect",   coll_push, coll_tick, coll_barrier,
                                 coll_finish, coll_free, NULL,      NULL};

static int res_cmp(const void *a, const void *b) {
  const res *x = a, *y = b;
  if (x->id != y->id) return x->id < y->id ? -1 : 1;
  return x->rank < y->rank ? -1 : x->rank > y->rank;
}

/* The Top-N of rows (id, k, v; n of them) computed directly. */
static int expected(const res *in, int n, int kind, int desc, int64_t limit, res *out) {
  int m = 0;
  for (int64_t k = 0; k < 8; k++) {
    res part[4096];
    int np = 0;
    for (int i = 0; i < n; i++)
      if (in[i].k == k) part[np++] = in[i];
    /* stable insertion sort by v */
    for (int i = 1; i < np; i++) {
      res x = part[i];
      int j = i;
      while (j > 0 && (desc ? part[j - 1].v < x.v : part[j - 1].v > x.v)) {
        part[j] = part[j - 1];
        j--;
      }
      part[j] = x;
    }
    int64_t dense = 0;
    for (int i = 0; i < np; i++) {
      int peer = i > 0 && part[i - 1].v == part[i].v;
      if (!peer) dense++;
      int64_t r = kind == SL_WF_ROW_NUMBER ? i + 1
                  : kind == SL_WF_RANK     ? (peer ? part[i - 1].rank : i + 1)
                                           : dense;
      part[i].rank = r;
      if (r <= limit) out[m++] = part[i];
    }
  }
  return m;
}

static const sl_window_spec *plan_topn(sl_catalog *cat, sl_plan **planp, sl_parse *parse,
                                       const char *sql) {
  static int nquery;
  sl_plan_ctx ctx = {cat, &nquery, NULL};
  sl_err err = {0};
  if (sl_parse_script(parse, sql)) {
    fprintf(stderr, "parse: %s\n", parse->err.msg);
    return NULL;
  }
  sl_plan *plan = sl_plan_new(&ctx);
  *planp = plan;
  if (sl_plan_query(plan, parse->first, NULL, NULL, &err) < 0) {
    fprintf(stderr, "plan: %s\n", err.msg);
    sl_err_clear(&err);
    return NULL;
  }
  for (int i = 0; i < plan->nquery; i++)
    for (int k = 0; k < plan->queries[i]->nops; k++)
      if (plan->queries[i]->ops[k].kind == &sl_op_topn) return plan->queries[i]->ops[k].spec;
  return NULL;
}

static void run_case(sl_catalog *cat, unsigned seed) {
  srand(seed);
  static const char *fns[] = {"ROW_NUMBER", "RANK", "DENSE_RANK"};
  int f = rand() % 3, desc = rand() % 2;
  int64_t limit = 1 + rand() % 5;
  char sql[512];
  snprintf(sql, sizeof sql,
           "SELECT * FROM (SELECT id, k, v, %s() OVER (PARTITION BY k ORDER BY v %s) AS rn "
           "FROM stdin(format => 'json', columns => 'id INTEGER, k INTEGER, v INTEGER')) "
           "WHERE rn <= %lld;",
           fns[f], desc ? "DESC" : "ASC", (long long)limit);
  sl_parse parse;
  sl_plan *plan = NULL;
  const sl_window_spec *sp = plan_topn(cat, &plan, &parse, sql);
  CHECK(sp != NULL, "no op_topn planned for %s", sql);
  if (!sp) goto out;
  int n = 50 + rand() % 600, nk = 1 + rand() % 8, nv = 1 + rand() % 12;
  res *in = calloc((size_t)n, sizeof(res));
  for (int i = 0; i < n; i++)
    in[i] = (res){i, rand() % nk, rand() % nv, 0};
  coll c = {0};
  c.base.vt = &coll_vt;
  sl_err err = {0};
  sl_stats st = {0};
  sl_operator *op = sl_op_topn.make(sp, NULL, &err);
  op->stats = &st;
  op->next = &c.base;
  sl_value *rows = calloc((size_t)n * 3, sizeof(sl_value));
  int restarts = 0;
  for (int i = 0; i < n;) {
    int b = 1 + rand() % 40;
    if (b > n - i) b = n - i;
    for (int r = 0; r < b; r++) {
      sl_value_set_int(&rows[3 * r], in[i + r].id);
      sl_value_set_int(&rows[3 * r + 1], in[i + r].k);
      sl_value_set_int(&rows[3 * r + 2], in[i + r].v);
    }
    sl_batch batch = {3, b, rows, NULL, NULL, 0, NULL, NULL};
    CHECK(op->vt->push(op, &batch, &err) == 0, "push failed");
    i += b;
    if (rand() % 5 == 0) { /* a restart from a checkpoint taken here */
      sl_buf saved = {0};
      CHECK(op->vt->save(op, &saved, &err) == 0, "save failed");
      op->vt->free(op);
      op = sl_op_topn.make(sp, NULL, &err);
      op->stats = &st;
      op->next = &c.base;
      CHECK(op->vt->load(op, saved.z, saved.n, &err) == 0, "load failed: %s", err.msg);
      sl_buf_free(&saved);
      restarts++;
    }
  }
  CHECK(op->vt->finish(op, &err) == 0, "finish failed");
  op->vt->free(op);
  res *want = calloc((size_t)n, sizeof(res));
  int m = expected(in, n, f + 1, desc, limit, want);
  qsort(want, (size_t)m, sizeof(res), res_cmp);
  qsort(c.rows, (size_t)c.n, sizeof(res), res_cmp);
  int same = m == c.n;
  for (int i = 0; same && i < m; i++)
    same = res_eq(&want[i], &c.rows[i]);
  CHECK(same,
        "seed %u (%s, %d rows, %d restarts): the changelog's result has %d rows, the Top-N %d",
        seed, sql, n, restarts, c.n, m);
  CHECK(st.state_bytes >= 0, "state accounted back below zero");
  free(want);
  free(in);
  free(rows);
  free(c.rows);
out:
  sl_plan_free(plan);
  sl_parse_free(&parse);
}

/* ---- op_over ---- */

typedef struct lines {
  sl_operator base;
  sl_buf text; /* every row out, one a line */
} lines;

static int lines_push(sl_operator *op, sl_batch *in, sl_err *err) {
  (void)err;
  lines *l = (lines *)op;
  for (int r = 0; r < in->nrow; r++) {
    for (int c = 0; c < in->ncol; c++) {
      const sl_value *v = &in->rows[(size_t)r * (size_t)in->ncol + (size_t)c];
      if (v->type == SL_INTEGER)
        sl_buf_printf(&l->text, " %lld", (long long)v->u.i);
      else if (v->type == SL_REAL)
        sl_buf_printf(&l->text, " %.17g", v->u.r);
      else if (v->type == SL_TEXT)
        sl_buf_printf(&l->text, " '%.*s'", (int)v->n, v->u.z);
      else
        sl_buf_puts(&l->text, " NULL");
    }
    sl_buf_puts(&l->text, "\n");
  }
  return 0;
}
static const sl_op_vt lines_vt = {"lines",     lines_push, coll_tick, coll_barrier,
                                  coll_finish, coll_free,  NULL,      NULL};

/* Run the operator of kind over sp over rows (id, k, ts, v) in random
** batches (seed), restarting from a checkpoint now and then when restarts
** is set; the rows out, one a line (owned by the caller). */
static char *over_run(const sl_op_kind *kind, const sl_window_spec *sp, const int64_t *in, int n,
                      unsigned seed, int restarts) {
  srand(seed);
  lines l = {0};
  l.base.vt = &lines_vt;
  sl_err err = {0};
  sl_stats st = {0};
  st.logged = 1 << 30; /* late rows: counted, not logged */
  sl_operator *op = kind->make(sp, NULL, &err);
  op->stats = &st;
  op->next = &l.base;
  sl_value rows[4 * 40];
  memset(rows, 0, sizeof rows);
  for (int i = 0; i < n;) {
    int b = 1 + rand() % 40;
    if (b > n - i) b = n - i;
    for (int r = 0; r < b; r++) {
      const int64_t *x = in + 4 * (i + r);
      sl_value_set_int(&rows[4 * r], x[0]);
      sl_value_set_text(&rows[4 * r + 1], x[1] ? "a" : "b", 1);
      sl_value_set_int(&rows[4 * r + 2], x[2]);
      if (x[3] < 0)
        sl_value_set_null(&rows[4 * r + 3]);
      else
        sl_value_set_int(&rows[4 * r + 3], x[3]);
    }
    sl_batch batch = {4, b, rows, NULL, NULL, 0, NULL, NULL};
    CHECK(op->vt->push(op, &batch, &err) == 0, "push failed: %s", err.msg ? err.msg : "");
    i += b;
    if (restarts && rand() % 4 == 0) {
      sl_buf saved = {0};
      CHECK(op->vt->save(op, &saved, &err) == 0, "save failed");
      op->vt->free(op);
      op = kind->make(sp, NULL, &err);
      op->stats = &st;
      op->next = &l.base;
      CHECK(op->vt->load(op, saved.z, saved.n, &err) == 0, "load failed: %s",
            err.msg ? err.msg : "");
      sl_buf_free(&saved);
    }
  }
  CHECK(op->vt->finish(op, &err) == 0, "finish failed");
  op->vt->free(op);
  for (int i = 0; i < 4 * 40; i++)
    sl_value_free(&rows[i]);
  return l.text.z ? l.text.z : calloc(1, 1);
}

/* Query sql (after the stream ev) planned with an operator of kind, run
** straight and with restarts over random rows (seed). */
static void restart_case(sl_catalog *cat, unsigned seed, const sl_op_kind *kind, const char *q) {
  char sql[1024];
  snprintf(sql, sizeof sql, "%s%s",
           "CREATE STREAM ev (id INTEGER, k TEXT, ts INTEGER, v INTEGER) FROM stdin(format => "
           "'json') WATERMARK ts - INTERVAL '1' SECOND;",
           q);
  static int nquery;
  sl_plan_ctx ctx = {cat, &nquery, NULL};
  sl_err err = {0};
  sl_parse parse;
  CHECK(sl_parse_script(&parse, sql) == 0, "parse");
  /* the stream first, in the catalog, as the engine makes it */
  sl_stream *s = sl_catalog_add_stream(cat, "ev", parse.first);
  for (int c = 0; c < parse.first->ncols; c++)
    sl_schema_add(&s->schema, parse.first->cols[c].name, strlen(parse.first->cols[c].name),
                  parse.first->cols[c].type);
  sl_plan *plan = sl_plan_new(&ctx);
  const sl_window_spec *sp = NULL;
  if (sl_plan_query(plan, parse.first->next, NULL, NULL, &err) >= 0)
    for (int i = 0; i < plan->nquery && !sp; i++)
      for (int k = 0; k < plan->queries[i]->nops; k++)
        if (plan->queries[i]->ops[k].kind == kind) sp = plan->queries[i]->ops[k].spec;
  CHECK(sp != NULL, "no %s planned: %s", kind->name, err.msg ? err.msg : "");
  if (sp) {
    srand(seed * 7919);
    int n = 100 + rand() % 900;
    int64_t *in = calloc((size_t)n * 4, sizeof(int64_t)), t = 0;
    for (int i = 0; i < n; i++) {
      t += rand() % 300;
      in[4 * i] = i;
      in[4 * i + 1] = rand() % 2;
      in[4 * i + 2] = t - rand() % 1500; /* some late */
      in[4 * i + 3] = rand() % 6 - 1;    /* -1: NULL */
    }
    char *a = over_run(kind, sp, in, n, seed, 0), *b = over_run(kind, sp, in, n, seed, 1);
    CHECK(strcmp(a, b) == 0, "seed %u: op_%s's rows differ after restarts", seed, kind->name);
    CHECK(strlen(a) > 0, "seed %u: no rows out", seed);
    free(a);
    free(b);
    free(in);
  }
  sl_err_clear(&err);
  sl_plan_free(plan);
  sl_catalog_drop_stream(cat, "ev");
  sl_parse_free(&parse);
}

int main(void) {
  sl_catalog cat;
  sl_catalog_init(&cat);
  for (unsigned seed = 1; seed <= 300; seed++)
    run_case(&cat, seed);
  for (unsigned seed = 1; seed <= 100; seed++) {
    restart_case(&cat, seed, &sl_op_over,
                 "SELECT id, row_number() OVER w, rank() OVER w, dense_rank() OVER w, lag(v) "
                 "OVER w, lag(v, 3, -1) OVER w, lead(v) OVER w, lead(v, 2, 0) OVER w, "
                 "sum(v) OVER (w ROWS BETWEEN 2 PRECEDING AND CURRENT ROW), count(*) OVER w, "
                 "max(v) OVER w, avg(v) OVER (w ROWS UNBOUNDED PRECEDING), min(v) OVER (w ROWS "
                 "4 PRECEDING) FROM ev WINDOW w AS (PARTITION BY k ORDER BY ts);");
    /* keep-first deduplication: by event time (k and v as keys), by arrival */
    restart_case(&cat, seed, &sl_op_dedup,
                 "SELECT * FROM (SELECT id, k, ts, v, ROW_NUMBER() OVER (PARTITION BY k, v "
                 "ORDER BY ts) AS rn FROM ev) WHERE rn = 1;");
    restart_case(&cat, seed, &sl_op_dedup,
                 "SELECT * FROM (SELECT id, k, ts, v, ROW_NUMBER() OVER (PARTITION BY v ORDER "
                 "BY PROCTIME()) AS rn FROM ev) WHERE rn <= 1;");
  }
  sl_catalog_free(&cat);
  if (failures) {
    fprintf(stderr, "topn_test: %d failures\n", failures);
    return 1;
  }
  printf("topn_test: 300 Top-N cases, 100 OVER and 200 deduplication restarts passed\n");
  return 0;
}
