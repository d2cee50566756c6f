/*
** avro_decode.c - decode throughput of format => 'avro' next to format =>
** 'json' on the same records (`make bench-avro`, part of `make bench`).
**
** Two record shapes: "s1", S1's input (G1..G10 integers and a User_ID
** uuid string), and "mixed" (a long, three doubles, a string, a boolean, a
** nullable string, an array of 8 doubles, a nested record).  Random rows
** (fixed seed) are encoded once with each format's own encoder (the same
** columns, so the records hold the same values); then each decoder decodes
** every record into rows of the same typed columns, BENCH_REPEAT times
** (best run kept), with the arena reset per batch of 1024 as a task does.
** Prints records per second, MB/s and the ratio avro/json per shape.
** Environment: BENCH_RECORDS (1000000), BENCH_REPEAT (3), BENCH_STRICT=1
** (exit 1 when Avro is not faster than JSON for a shape).
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avro_types.h"
#include "format.h"
#include "util.h"

static const char S1[] = "{\"type\":\"record\",\"name\":\"S1\",\"fields\":["
                         "{\"name\":\"G1\",\"type\":\"int\"},{\"name\":\"G2\",\"type\":\"int\"},"
                         "{\"name\":\"G3\",\"type\":\"int\"},{\"name\":\"G4\",\"type\":\"int\"},"
                         "{\"name\":\"G5\",\"type\":\"int\"},{\"name\":\"G6\",\"type\":\"int\"},"
                         "{\"name\":\"G7\",\"type\":\"int\"},{\"name\":\"G8\",\"type\":\"int\"},"
                         "{\"name\":\"G9\",\"type\":\"int\"},{\"name\":\"G10\",\"type\":\"int\"},"
                         "{\"name\":\"User_ID\",\"type\":\"string\"}]}";

static const char MIXED[] =
    "{\"type\":\"record\",\"name\":\"M\",\"fields\":["
    "{\"name\":\"id\",\"type\":\"long\"},{\"name\":\"x\",\"type\":\"double\"},"
    "{\"name\":\"y\",\"type\":\"double\"},{\"name\":\"z\",\"type\":\"double\"},"
    "{\"name\":\"name\",\"type\":\"string\"},{\"name\":\"ok\",\"type\":\"boolean\"},"
    "{\"name\":\"note\",\"type\":[\"null\",\"string\"]},"
    "{\"name\":\"v\",\"type\":{\"type\":\"array\",\"items\":\"double\"}},"
    "{\"name\":\"pt\",\"type\":{\"type\":\"record\",\"name\":\"P\",\"fields\":["
    "{\"name\":\"a\",\"type\":\"long\"},{\"name\":\"b\",\"type\":\"string\"}]}}]}";

static uint64_t rng = 88172645463325252ULL;
static uint64_t next(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

/* One random row of the shape's columns (text in arena). */
static void make_row(int mixed, const sl_schema *s, sl_value *row, sl_arena *a) {
  for (int c = 0; c < s->ncol; c++)
    sl_value_set_null(&row[c]);
  if (!mixed) {
    for (int c = 0; c < 10; c++)
      sl_value_set_int(&row[c], (int64_t)(next() & 1));
    char *u = sl_arena_alloc(a, 37);
    snprintf(u, 37, "%08x-%04x-11ee-%04x-%012llx", (unsigned)next(), (unsigned)(next() & 0xffff),
             (unsigned)(next() & 0xffff), (unsigned long long)(next() & 0xffffffffffffULL));
    sl_value_borrow_text(&row[10], u, 36, SL_F_TERM);
    return;
  }
  sl_value_set_int(&row[0], (int64_t)(next() >> 20));
  for (int c = 1; c <= 3; c++)
    sl_value_set_real(&row[c], (double)(next() >> 11) / 9007199254740992.0 * 1000.0 - 500.0);
  char *nm = sl_arena_alloc(a, 24);
  int n = snprintf(nm, 24, "user-%llu", (unsigned long long)(next() % 1000000));
  sl_value_borrow_text(&row[4], nm, (size_t)n, SL_F_TERM);
  sl_value_set_int(&row[5], (int64_t)(next() & 1));
  if (next() & 1) sl_value_borrow_text(&row[6], "a short note", 12, SL_F_TERM);
  double *v = sl_arena_alloc(a, 8 * sizeof(double));
  for (int i = 0; i < 8; i++)
    v[i] = (double)(next() % 100000) / 1000.0;
  sl_value_borrow_vector(&row[7], v, 8);
  char *pt = sl_arena_alloc(a, 64);
  n = snprintf(pt, 64, "{\"a\":%llu,\"b\":\"p%llu\"}", (unsigned long long)(next() % 100000),
               (unsigned long long)(next() % 1000));
  sl_value_borrow_text(&row[8], pt, (size_t)n, SL_F_TERM | SL_F_JSON);
}

typedef struct recs {
  sl_buf data;
  size_t *ends;
} recs;

/* Seconds to decode all n records of r with format f (best of repeat). */
static double time_decode(const sl_format *f, sl_fmt_opts *fo, const recs *r, int n, int repeat,
                          const sl_schema *s) {
  sl_err err = {0};
  sl_decoder *d = f->decoder_new(fo, &err);
  if (!d) {
    fprintf(stderr, "avro_decode: %s\n", err.msg);
    exit(1);
  }
  sl_value *rows = calloc((size_t)s->ncol * 1024, sizeof(sl_value));
  sl_arena a;
  sl_arena_init(&a);
  double best = 1e9;
  for (int k = 0; k < repeat; k++) {
    int64_t t0 = sl_clock_us();
    for (int i = 0; i < n; i++) {
      if ((i & 1023) == 0) sl_arena_reset(&a);
      size_t b = i ? r->ends[i - 1] : 0;
      const char *why;
      if (f->decode(d, r->data.z + b, r->ends[i] - b, rows + (size_t)(i & 1023) * s->ncol, &a,
                    &why)) {
        fprintf(stderr, "avro_decode: %s record %d: %s\n", f->name, i, why);
        exit(1);
      }
    }
    double t = (double)(sl_clock_us() - t0) / 1e6;
    if (t < best) best = t;
  }
  sl_arena_free(&a);
  free(rows);
  f->decoder_free(d);
  return best;
}

static int shape(const char *name, const char *schema_json, int mixed, int n, int repeat) {
  sl_err err = {0};
  sl_schema s;
  sl_schema_init(&s, 0);
  void *src = sl_avro_ctx_new(schema_json, NULL, &s, &err);
  void *snk = sl_avro_ctx_new(schema_json, NULL, NULL, &err);
  if (!src || !snk) {
    fprintf(stderr, "avro_decode: %s\n", err.msg);
    return 1;
  }
  const char **names = calloc((size_t)s.ncol, sizeof *names);
  for (int c = 0; c < s.ncol; c++)
    names[c] = s.cols[c].name;
  sl_fmt_opts eo = {0}, jo = {0}, ao = {0};
  eo.ctx = snk;
  sl_encoder *ae = sl_fmt_avro.encoder_new(s.ncol, names, &eo, &err);
  sl_encoder *je = sl_fmt_json.encoder_new(s.ncol, names, &jo, &err);
  recs ar = {{0}, calloc((size_t)n, sizeof(size_t))}, jr = {{0}, calloc((size_t)n, sizeof(size_t))};
  sl_buf_init(&ar.data);
  sl_buf_init(&jr.data);
  sl_value *row = calloc((size_t)s.ncol, sizeof(sl_value));
  sl_arena a;
  sl_arena_init(&a);
  for (int i = 0; i < n; i++) {
    if ((i & 1023) == 0) sl_arena_reset(&a);
    make_row(mixed, &s, row, &a);
    sl_fmt_avro.encode(ae, row, &ar.data);
    ar.ends[i] = ar.data.n;
    sl_fmt_json.encode(je, row, &jr.data);
    jr.ends[i] = jr.data.n;
  }
  ao.schema = &s;
  ao.ctx = src;
  jo.schema = &s;
  double ta = time_decode(&sl_fmt_avro, &ao, &ar, n, repeat, &s);
  double tj = time_decode(&sl_fmt_json, &jo, &jr, n, repeat, &s);
  printf("%-6s json: %8.0f records/s %7.1f MB/s (%5.1f bytes/record)\n", name, n / tj,
         (double)jr.data.n / tj / 1e6, (double)jr.data.n / n);
  printf("%-6s avro: %8.0f records/s %7.1f MB/s (%5.1f bytes/record)   avro/json: %.2fx\n", name,
         n / ta, (double)ar.data.n / ta / 1e6, (double)ar.data.n / n, tj / ta);
  sl_arena_free(&a);
  free(row);
  sl_buf_free(&ar.data);
  sl_buf_free(&jr.data);
  free(ar.ends);
  free(jr.ends);
  sl_fmt_avro.encoder_free(ae);
  sl_fmt_json.encoder_free(je);
  free(names);
  sl_avro_ctx_free(src);
  sl_avro_ctx_free(snk);
  sl_schema_free(&s);
  return tj / ta > 1.0 ? 0 : 2;
}

int main(void) {
  const char *e = getenv("BENCH_RECORDS");
  int n = e ? atoi(e) : 1000000, repeat = getenv("BENCH_REPEAT") ? atoi(getenv("BENCH_REPEAT")) : 3;
  if (n < 1) n = 1;
  if (repeat < 1) repeat = 1;
  printf("decode throughput, %d records, best of %d (one thread)\n", n, repeat);
  int rc = shape("s1", S1, 0, n, repeat);
  rc |= shape("mixed", MIXED, 1, n, repeat);
  if (rc) printf("avro_decode: avro was not faster than json for every shape\n");
  return rc && getenv("BENCH_STRICT") && atoi(getenv("BENCH_STRICT")) ? 1 : 0;
}
