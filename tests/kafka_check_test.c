/*
** kafka_check_test.c - the Kafka connector's planning open
** (sl_options.check_only, connector.h) does no I/O.  Against a broker
** address nobody listens on (127.0.0.1:1), a source and a sink open at once
** (about a millisecond; a real open waits 10 s for that broker: the check
** takes anything under NO_IO_MS, far from both, so that a loaded machine
** does not fail it; speed itself is `make bench`'s) with the
** schema, format and keys a real open gives, start no thread, and close.
** Every bad option is still an error with the same message as a real open:
** an unknown option, a property librdkafka does not know or refuses, a bad
** offset => or stop =>, no brokers, no topic.  Needs no broker.
*/
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "kafka.h"

#define NO_IO_MS 2000 /* an open slower than this waited for the broker */

/* Options of a kafka() call planned with check_only: pairs of name and text
** value, ending with NULL.  The caller frees them (sl_options_free). */
static sl_options opts(const char *name, ...) {
  sl_options o = {0};
  o.fn = "kafka";
  o.check_only = 1;
  va_list ap;
  va_start(ap, name);
  for (const char *n = name; n; n = va_arg(ap, const char *)) {
    const char *z = va_arg(ap, const char *);
    sl_value v = SL_VALUE_INIT;
    sl_value_borrow_text(&v, z, strlen(z), SL_F_TERM);
    sl_options_add(&o, n, &v, 1, 1);
  }
  va_end(ap);
  return o;
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* The threads of this process (entries of /proc/self/task), or -1. */
static int threads(void) {
  DIR *d = opendir("/proc/self/task");
  if (!d) return -1;
  int n = 0;
  for (struct dirent *e; (e = readdir(d));)
    if (e->d_name[0] != '.') n++;
  closedir(d);
  return n;
}

/* Open a source (sink != 0: a sink) with check_only; the result (NULL on
** error, err set) and how long the open took. */
static void *open_check(sl_options *o, int sink, double *ms, sl_err *err) {
  double t0 = now_ms();
  void *r =
      sink ? (void *)sl_conn_kafka.open_sink(o, err) : (void *)sl_conn_kafka.open_source(o, err);
  *ms = now_ms() - t0;
  return r;
}

/* A planning open of o fails with a message containing want. */
static void expect_error(sl_options o, int sink, const char *want, int line) {
  sl_err err = {0};
  double ms;
  void *r = open_check(&o, sink, &ms, &err);
  CHECK(!r && err.code && err.msg && strstr(err.msg, want),
        "line %d: want an error with \"%s\", got %s", line, want, err.msg ? err.msg : "none");
  CHECK(ms < NO_IO_MS, "line %d: the failing open took %.1f ms", line, ms);
  if (r && sink) ((sl_sink *)r)->vt->close(r);
  if (r && !sink) ((sl_source *)r)->vt->close(r);
  sl_err_clear(&err);
  sl_options_free(&o);
}

static const char *const msg_columns[] = {"key",    "value",     "topic",  "partition",
                                          "offset", "timestamp", "headers"};

int main(void) {
  const char *nobody = "127.0.0.1:1";
  int threads0 = threads();
  sl_err err = {0};
  double ms;

  /* a source without format: the message columns */
  sl_options o = opts("0", "t", "brokers", nobody, NULL);
  sl_source *s = open_check(&o, 0, &ms, &err);
  CHECK(s, "source: %s", err.msg ? err.msg : "NULL");
  CHECK(ms < NO_IO_MS, "the source's planning open took %.1f ms", ms);
  if (s) {
    CHECK(s->schema.ncol == 7, "source columns: %d", s->schema.ncol);
    for (int c = 0; c < 7 && c < s->schema.ncol; c++)
      CHECK(!strcmp(s->schema.cols[c].name, msg_columns[c]), "column %d is %s", c,
            s->schema.cols[c].name);
    CHECK(s->vt->read_rows && !s->vt->read, "a source without format reads typed rows");
    CHECK(threads() == threads0, "threads: %d before, %d with the source open", threads0,
          threads());
    s->vt->close(s);
  }
  sl_options_free(&o);
  sl_err_clear(&err);

  /* a source with a format, every source option, and librdkafka properties */
  o = opts("0", "t", "brokers", nobody, "format", "csv", "columns", "a INTEGER, b TEXT", "offset",
           "committed", "stop", "end", "group", "g", "fetch.wait.max.ms", "10", "security.protocol",
           "plaintext", NULL);
  s = open_check(&o, 0, &ms, &err);
  CHECK(s, "csv source: %s", err.msg ? err.msg : "NULL");
  CHECK(ms < NO_IO_MS, "the csv source's planning open took %.1f ms", ms);
  if (s) {
    CHECK(!strcmp(s->format->name, "csv"), "format %s", s->format->name);
    CHECK(s->schema.ncol == 2 && !strcmp(s->schema.cols[1].name, "b"), "csv columns: %d",
          s->schema.ncol);
    s->vt->close(s);
  }
  sl_options_free(&o);
  sl_err_clear(&err);

  /* a sink: json by default, the implicit key column */
  o = opts("0", "out", "brokers", nobody, NULL);
  sl_sink *k = open_check(&o, 1, &ms, &err);
  CHECK(k, "sink: %s", err.msg ? err.msg : "NULL");
  CHECK(ms < NO_IO_MS, "the sink's planning open took %.1f ms", ms);
  if (k) {
    CHECK(!strcmp(k->format->name, "json"), "sink format %s", k->format->name);
    CHECK(k->key_col && !strcmp(k->key_col, "key") && k->key_implicit, "implicit key column");
    CHECK(!k->by_id, "at least once: no ids");
    CHECK(threads() == threads0, "threads: %d before, %d with the sink open", threads0, threads());
    k->vt->close(k);
  }
  sl_options_free(&o);
  sl_err_clear(&err);

  /* a sink with a key column, a format and exactly once */
  o = opts("0", "out", "brokers", nobody, "key", "id", "format", "raw", "linger.ms", "1", NULL);
  o.exactly_once = 1;
  o.query_fp = "q";
  k = open_check(&o, 1, &ms, &err);
  CHECK(k, "keyed sink: %s", err.msg ? err.msg : "NULL");
  if (k) {
    CHECK(!strcmp(k->format->name, "raw"), "sink format %s", k->format->name);
    CHECK(!strcmp(k->key_col, "id") && !k->key_implicit, "key => 'id'");
    CHECK(k->by_id, "exactly once: writes by id");
    /* and reads back per input partition, for state_topic => */
    CHECK(k->vt->part_save && k->vt->part_load, "exactly once: part_save and part_load");
    k->vt->close(k);
  }
  sl_options_free(&o);
  sl_err_clear(&err);

  /* bad options are errors, found without a broker */
  for (int sink = 0; sink <= 1; sink++) {
    expect_error(opts("0", "t", "brokers", nobody, "ofset", "x", NULL), sink,
                 "unknown option 'ofset' for kafka()", __LINE__);
    /* a sink makes its topic with partitions => n (a repartition topic); a
    ** source has no such option */
    if (sink)
      expect_error(opts("0", "t", "brokers", nobody, "partitions", "-1", NULL), sink,
                   "partitions => takes 1 to 100000", __LINE__);
    else
      expect_error(opts("0", "t", "brokers", nobody, "partitions", "3", NULL), sink,
                   "unknown option 'partitions' for kafka()", __LINE__);
    expect_error(opts("0", "t", "brokers", nobody, "no.such.property", "x", NULL), sink,
                 "No such configuration property", __LINE__);
    expect_error(opts("0", "t", "brokers", nobody, "message.max.bytes", "big", NULL), sink,
                 "Invalid value for configuration property \"message.max.bytes\"", __LINE__);
    expect_error(opts("0", "t", NULL), sink, "no brokers", __LINE__);
    expect_error(opts("brokers", nobody, NULL), sink, "needs a topic", __LINE__);
    expect_error(opts("0", "t", "brokers", nobody, "format", "xml", NULL), sink, "xml", __LINE__);
  }
  expect_error(opts("0", "t", "brokers", nobody, "offset", "middle", NULL), 0,
               "offset => takes 'earliest', 'latest' or 'committed', not 'middle'", __LINE__);
  expect_error(opts("0", "t", "brokers", nobody, "stop", "never", NULL), 0,
               "stop => takes 'end', not 'never'", __LINE__);
  /* state per partition: a continuous group read only */
  expect_error(opts("0", "t", "brokers", nobody, "stop", "end", "state_topic", "st", NULL), 0,
               "state_topic => keeps the state of a continuous group read per partition: not "
               "with stop => 'end'",
               __LINE__);
  expect_error(opts("0", "t", "brokers", nobody, "as_table", "true", "state_topic", "st", NULL), 0,
               "not with as_table => true", __LINE__);
  expect_error(opts("0", "t", "brokers", nobody, "state_topic", "a b", NULL), 0,
               "state_topic => 'a b': a topic name takes", __LINE__);
  expect_error(opts("0", "t", "brokers", nobody, "origin", "maybe", NULL), 1, "origin", __LINE__);
  /* source options are not sink options */
  expect_error(opts("0", "t", "brokers", nobody, "group", "g", NULL), 1,
               "unknown option 'group' for kafka()", __LINE__);

  /* the origin header of a repartition topic: well-formed values parse,
  ** anything else is no origin (the record is then read as any other) */
  {
    int32_t part = -7;
    int64_t pos = -7;
    CHECK(!sl_kafka_parse_origin("3:1234", 6, &part, &pos) && part == 3 && pos == 1234,
          "3:1234 -> %d %lld", (int)part, (long long)pos);
    CHECK(!sl_kafka_parse_origin("0:0", 3, &part, &pos) && part == 0 && pos == 0, "0:0");
    CHECK(!sl_kafka_parse_origin("2147483646:9223372036854775807", 30, &part, &pos) &&
              part == 2147483646 && pos == INT64_MAX,
          "the largest partition and offset");
    static const char *const bad[] = {"",
                                      ":",
                                      "3",
                                      "3:",
                                      ":5",
                                      "-1:5",
                                      "3:-5",
                                      "3:5x",
                                      "x3:5",
                                      "3 :5",
                                      "3:5:6",
                                      "2147483647:1",
                                      "3:99999999999999999999",
                                      "3:5\n"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
      part = -7, pos = -7;
      CHECK(sl_kafka_parse_origin(bad[i], strlen(bad[i]), &part, &pos) == -1 && part == -7 &&
                pos == -7,
            "'%s' is not an origin", bad[i]);
    }
    CHECK(sl_kafka_parse_origin(NULL, 0, &part, &pos) == -1, "no value");
    CHECK(sl_kafka_parse_origin("3:5", 2, &part, &pos) == -1, "a cut value (3:)");
  }

  CHECK(threads() == threads0, "threads: %d at the start, %d at the end", threads0, threads());
  printf("kafka_check_test: %d passed, %d failed\n", ncheck - nfail, nfail);
  return nfail ? 1 : 0;
}
