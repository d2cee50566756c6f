/*
** kafka_latency.c - end-to-end latency of a Kafka -> pipeline -> Kafka hop.
**
** Produces S1 messages to topic IN at a fixed rate for a number of seconds,
** each carrying its send time in microseconds ("ts"), and consumes topic OUT
** (from its end at start), where the pipeline under test writes a message
** per input that still has the "ts" field.  The latency of a message is the
** time of its receipt minus its ts, both on this machine's monotonic clock.
** Before measuring it sends warm-up messages (ts 0) until one comes back,
** so a pipeline still joining its consumer group is not measured.
** Prints "received N of M  p50 X ms  p99 Y ms  max Z ms".
**
** usage: kafka_latency BROKERS IN OUT RATE SECONDS
*/
#define _GNU_SOURCE
#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void die(const char *what, const char *why) {
  fprintf(stderr, "kafka_latency: %s: %s\n", what, why);
  exit(1);
}

/* Microseconds on the monotonic clock. */
static int64_t now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

typedef struct {
  const char *brokers, *topic;
  long rate, total;
} producer_args;

/* Send args->total messages at args->rate per second, paced every ms. */
static void *produce(void *arg) {
  producer_args *a = arg;
  char errstr[512];
  rd_kafka_conf_t *pc = rd_kafka_conf_new();
  rd_kafka_conf_set(pc, "bootstrap.servers", a->brokers, NULL, 0);
  rd_kafka_conf_set(pc, "linger.ms", "0", NULL, 0);
  rd_kafka_t *p = rd_kafka_new(RD_KAFKA_PRODUCER, pc, errstr, sizeof errstr);
  if (!p) die("producer", errstr);
  rd_kafka_topic_t *t = rd_kafka_topic_new(p, a->topic, NULL);
  unsigned seed = 7;
  int64_t start = now_us();
  for (long i = 0; i < a->total; i++) {
    int64_t due = start + (int64_t)((double)i * 1e6 / (double)a->rate);
    int64_t wait = due - now_us();
    if (wait > 0) {
      struct timespec ts = {wait / 1000000, (wait % 1000000) * 1000};
      nanosleep(&ts, NULL);
    }
    char buf[256];
    int n = snprintf(buf, sizeof buf, "{\"G1\": %d, \"G2\": %d, \"G3\": %d, \"G4\": %d, ",
                     rand_r(&seed) & 1, rand_r(&seed) & 1, rand_r(&seed) & 1, rand_r(&seed) & 1);
    n += snprintf(buf + n, sizeof buf - (size_t)n,
                  "\"G5\": %d, \"G6\": %d, \"G7\": %d, \"G8\": %d, \"G9\": %d, \"G10\": %d, ",
                  rand_r(&seed) & 1, rand_r(&seed) & 1, rand_r(&seed) & 1, rand_r(&seed) & 1,
                  rand_r(&seed) & 1, rand_r(&seed) & 1);
    n += snprintf(buf + n, sizeof buf - (size_t)n,
                  "\"User_ID\": \"%08lx-21e7-11ea-ae04-8c8590b3eee6\", \"ts\": %lld}", i,
                  (long long)now_us());
    while (rd_kafka_produce(t, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, buf, (size_t)n, NULL, 0,
                            NULL) == -1)
      rd_kafka_poll(p, 1);
    rd_kafka_poll(p, 0);
  }
  rd_kafka_flush(p, 30000);
  rd_kafka_topic_destroy(t);
  rd_kafka_destroy(p);
  return NULL;
}

static int cmp64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  if (argc != 6) die("usage", "kafka_latency BROKERS IN OUT RATE SECONDS");
  producer_args pa = {argv[1], argv[2], atol(argv[4]), atol(argv[4]) * atol(argv[5])};
  if (pa.rate <= 0 || pa.total <= 0) die("usage", "RATE and SECONDS must be positive");
  char errstr[512];
  rd_kafka_conf_t *cc = rd_kafka_conf_new();
  rd_kafka_conf_set(cc, "bootstrap.servers", argv[1], NULL, 0);
  rd_kafka_conf_set(cc, "group.id", "kafka-latency", NULL, 0);
  rd_kafka_conf_set(cc, "enable.auto.commit", "false", NULL, 0);
  rd_kafka_conf_set(cc, "fetch.wait.max.ms", "10", NULL, 0);
  rd_kafka_t *c = rd_kafka_new(RD_KAFKA_CONSUMER, cc, errstr, sizeof errstr);
  if (!c) die("consumer", errstr);
  rd_kafka_poll_set_consumer(c);
  const struct rd_kafka_metadata *md;
  rd_kafka_topic_t *t = rd_kafka_topic_new(c, argv[3], NULL);
  if (rd_kafka_metadata(c, 0, t, &md, 10000) || md->topic_cnt < 1 || md->topics[0].err)
    die("metadata", argv[3]);
  rd_kafka_topic_destroy(t);
  int np = md->topics[0].partition_cnt;
  rd_kafka_metadata_destroy(md);
  rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(np);
  for (int i = 0; i < np; i++) {
    int64_t lo, hi;
    if (rd_kafka_query_watermark_offsets(c, argv[3], i, &lo, &hi, 10000)) die("offsets", argv[3]);
    rd_kafka_topic_partition_list_add(l, argv[3], i)->offset = hi;
  }
  rd_kafka_assign(c, l);
  rd_kafka_topic_partition_list_destroy(l);

  /* warm up: one message at a time until the pipeline answers */
  {
    rd_kafka_conf_t *wc = rd_kafka_conf_new();
    rd_kafka_conf_set(wc, "bootstrap.servers", argv[1], NULL, 0);
    rd_kafka_t *wp = rd_kafka_new(RD_KAFKA_PRODUCER, wc, errstr, sizeof errstr);
    if (!wp) die("producer", errstr);
    const char *w = "{\"G1\": 0, \"G2\": 0, \"G3\": 0, \"G4\": 0, \"G5\": 0, \"G6\": 0, "
                    "\"G7\": 0, \"G8\": 0, \"G9\": 0, \"G10\": 0, \"User_ID\": \"warmup\", "
                    "\"ts\": 0}";
    int answered = 0;
    for (int tries = 0; tries < 120 && !answered; tries++) {
      rd_kafka_producev(wp, RD_KAFKA_V_TOPIC(argv[2]), RD_KAFKA_V_VALUE((void *)w, strlen(w)),
                        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
      rd_kafka_flush(wp, 5000);
      int64_t until = now_us() + 1000000;
      while (!answered && now_us() < until) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 100);
        if (m && !m->err) answered = 1;
        if (m) rd_kafka_message_destroy(m);
      }
    }
    rd_kafka_destroy(wp);
    if (!answered) die("warm-up", "the pipeline does not answer");
    /* let the other warm-up answers drain */
    for (int64_t until = now_us() + 500000; now_us() < until;) {
      rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 50);
      if (m) rd_kafka_message_destroy(m);
    }
  }
  int64_t *lat = malloc(sizeof(int64_t) * (size_t)pa.total);
  long got = 0;
  pthread_t th;
  pthread_create(&th, NULL, produce, &pa);
  int64_t deadline = now_us() + (int64_t)(pa.total / pa.rate + 30) * 1000000;
  while (got < pa.total && now_us() < deadline) {
    rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 100);
    if (!m) continue;
    int64_t at = now_us();
    if (!m->err && m->payload) {
      const char *p = memmem(m->payload, m->len, "\"ts\":", 5);
      long long ts = p ? strtoll(p + 5, NULL, 10) : 0;
      if (ts > 0) lat[got++] = at - ts;
    }
    rd_kafka_message_destroy(m);
  }
  pthread_join(th, NULL);
  rd_kafka_consumer_close(c);
  rd_kafka_destroy(c);
  if (!got) die("no messages", argv[3]);
  qsort(lat, (size_t)got, sizeof *lat, cmp64);
  printf("received %ld of %ld  p50 %.2f ms  p99 %.2f ms  max %.2f ms\n", got, pa.total,
         (double)lat[(got - 1) / 2] / 1000.0, (double)lat[(got * 99 - 1) / 100] / 1000.0,
         (double)lat[got - 1] / 1000.0);
  free(lat);
  return got == pa.total ? 0 : 1;
}
