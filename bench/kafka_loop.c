/*
** kafka_loop.c - the ceiling for Kafka -> sluice -> Kafka: a bare librdkafka
** consume -> produce loop with no processing.  It reads every message of
** topic IN (all partitions, from the beginning up to the end offsets seen at
** start) and produces each value unchanged to topic OUT, then waits for all
** deliveries.  Prints the number of messages.
**
** With "follow" it starts at the end of IN instead and copies each message
** as soon as it arrives, until SIGTERM or SIGINT (for the latency benchmark).
**
** usage: kafka_loop BROKERS IN OUT [follow]
*/
#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile sig_atomic_t stop;
static void on_signal(int sig) {
  (void)sig;
  stop = 1;
}

static void die(const char *what, const char *why) {
  fprintf(stderr, "kafka_loop: %s: %s\n", what, why);
  exit(1);
}

int main(int argc, char **argv) {
  int follow = argc == 5 && !strcmp(argv[4], "follow");
  if (argc != 4 && !follow) die("usage", "kafka_loop BROKERS IN OUT [follow]");
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  char errstr[512];
  rd_kafka_conf_t *cc = rd_kafka_conf_new();
  rd_kafka_conf_set(cc, "bootstrap.servers", argv[1], NULL, 0);
  rd_kafka_conf_set(cc, "group.id", "kafka-loop", NULL, 0);
  rd_kafka_conf_set(cc, "enable.auto.commit", "false", NULL, 0);
  /* the dev broker holds an empty fetch for the whole wait: keep it short */
  if (follow) rd_kafka_conf_set(cc, "fetch.wait.max.ms", "10", NULL, 0);
  rd_kafka_t *c = rd_kafka_new(RD_KAFKA_CONSUMER, cc, errstr, sizeof errstr);
  if (!c) die("consumer", errstr);
  rd_kafka_conf_t *pc = rd_kafka_conf_new();
  rd_kafka_conf_set(pc, "bootstrap.servers", argv[1], NULL, 0);
  rd_kafka_conf_set(pc, "enable.idempotence", "true", NULL, 0);
  rd_kafka_conf_set(pc, "linger.ms", "5", NULL, 0);
  /* spread evenly, as the benchmark's sluice sink is told to */
  rd_kafka_conf_set(pc, "sticky.partitioning.linger.ms", "0", NULL, 0);
  rd_kafka_t *p = rd_kafka_new(RD_KAFKA_PRODUCER, pc, errstr, sizeof errstr);
  if (!p) die("producer", errstr);
  rd_kafka_poll_set_consumer(c);
  const struct rd_kafka_metadata *md;
  rd_kafka_topic_t *t = rd_kafka_topic_new(c, argv[2], NULL);
  if (rd_kafka_metadata(c, 0, t, &md, 10000) || md->topic_cnt < 1) die("metadata", argv[2]);
  rd_kafka_topic_destroy(t);
  int np = md->topics[0].partition_cnt;
  rd_kafka_metadata_destroy(md);
  int64_t *end = calloc((size_t)np, sizeof *end), *next = calloc((size_t)np, sizeof *next);
  rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(np);
  for (int i = 0; i < np; i++) {
    int64_t lo, hi;
    rd_kafka_query_watermark_offsets(c, argv[2], i, &lo, &hi, 10000);
    end[i] = hi;
    next[i] = lo;
    rd_kafka_topic_partition_list_add(l, argv[2], i)->offset =
        follow ? hi : RD_KAFKA_OFFSET_BEGINNING;
  }
  rd_kafka_assign(c, l);
  rd_kafka_topic_partition_list_destroy(l);
  rd_kafka_topic_t *out = rd_kafka_topic_new(p, argv[3], NULL);
  rd_kafka_queue_t *q = rd_kafka_queue_get_consumer(c);
  rd_kafka_message_t *msgs[1024];
  long n = 0;
  while (follow && !stop) {
    rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 100);
    if (m && !m->err) {
      while (rd_kafka_produce(out, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, m->payload, m->len,
                              m->key, m->key_len, NULL) == -1)
        rd_kafka_poll(p, 100);
      n++;
    }
    if (m) rd_kafka_message_destroy(m);
    rd_kafka_poll(p, 0);
  }
  while (!follow) {
    int done = 1;
    for (int i = 0; i < np; i++)
      done &= next[i] >= end[i];
    if (done) break;
    ssize_t k = rd_kafka_consume_batch_queue(q, 100, msgs, 1024);
    for (ssize_t i = 0; i < k; i++) {
      rd_kafka_message_t *m = msgs[i];
      if (!m->err && m->offset < end[m->partition]) {
        next[m->partition] = m->offset + 1;
        while (rd_kafka_produce(out, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, m->payload, m->len,
                                m->key, m->key_len, NULL) == -1)
          rd_kafka_poll(p, 100);
        n++;
      }
      rd_kafka_message_destroy(m);
    }
    rd_kafka_poll(p, 0);
  }
  rd_kafka_flush(p, 60000);
  printf("%ld\n", n);
  rd_kafka_queue_destroy(q);
  rd_kafka_topic_destroy(out);
  rd_kafka_consumer_close(c);
  rd_kafka_destroy(c);
  rd_kafka_destroy(p);
  free(end);
  free(next);
  return 0;
}
