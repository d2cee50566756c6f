/*
** kafka.c - what the Kafka source (kafka_source.c) and sink (kafka_sink.c)
** share: the connector entry, the topic option, the librdkafka
** configuration made from a call's options, and what the brokers say of a
** topic (its partition count, a partition's watermarks).
*/
#include <string.h>

#include "kafka.h"

const sl_connector sl_conn_kafka = {"kafka", sl_kafka_open_source, sl_kafka_open_sink};

const char *sl_kafka_topic(sl_options *o, const char *example, sl_err *err) {
  const char *topic = sl_opt_str(o, "0", NULL);
  if (!topic) sl_err_set(err, SL_EBIND, "kafka() needs a topic: kafka('%s')", example);
  return topic;
}

rd_kafka_conf_t *sl_kafka_conf(sl_options *o, sl_err *err) {
  const char *brokers = sl_opt_str(o, "brokers", NULL);
  if (!brokers) {
    sl_err_set(err, SL_EBIND,
               "%s(): no brokers: give brokers => 'host:port', SET kafka.brokers, "
               "--brokers or --dev-broker",
               o->fn ? o->fn : "kafka");
    return NULL;
  }
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", brokers, NULL, 0);
  rd_kafka_conf_set(conf, "log_level", "3", NULL, 0);
  char errstr[512];
  for (int i = 0; i < o->n; i++) {
    sl_option *opt = &o->v[i];
    if (!strchr(opt->name, '.')) continue;
    opt->used = 1;
    if (rd_kafka_conf_set(conf, opt->name, sl_value_cstr(&opt->value), errstr, sizeof errstr) !=
        RD_KAFKA_CONF_OK) {
      sl_err_setpos(err, SL_EBIND, opt->line, opt->col, "%s", errstr);
      rd_kafka_conf_destroy(conf);
      return NULL;
    }
  }
  return conf;
}

/* An answer that says only that no broker answered (yet). */
static int unreachable(rd_kafka_resp_err_t e) {
  return e == RD_KAFKA_RESP_ERR__TIMED_OUT || e == RD_KAFKA_RESP_ERR__TRANSPORT ||
         e == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN;
}

int sl_kafka_partition_count(rd_kafka_t *rk, const char *topic, const char *what,
                             volatile sig_atomic_t *interrupted, sl_err *err) {
  const struct rd_kafka_metadata *md = NULL;
  rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
  rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR_NO_ERROR;
  int64_t until = sl_clock_ms() + 10000;
  for (int attempt = 0; attempt < 20; attempt++) {
    /* a topic being created has no leader yet: ask again */
    if (md) rd_kafka_metadata_destroy(md);
    md = NULL;
    /* half a second at a time, so that an interrupt is seen; a broker not
    ** (yet) reachable is asked again until the 10 s are over */
    while (unreachable(e = rd_kafka_metadata(rk, 0, rkt, &md, 500)) && sl_clock_ms() < until &&
           !(interrupted && *interrupted))
      ;
    if (unreachable(e)) break;
    if (e || !md || md->topic_cnt < 1 ||
        md->topics[0].err != RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE)
      break;
    rd_kafka_poll(rk, 250);
  }
  rd_kafka_topic_destroy(rkt);
  if (!e && (!md || md->topic_cnt < 1)) e = RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC;
  if (!e) e = md->topics[0].err;
  int n = e ? -1 : md->topics[0].partition_cnt;
  if (md) rd_kafka_metadata_destroy(md);
  if (e) sl_err_set(err, SL_EIO, "kafka: %s%s: %s", what, topic, rd_kafka_err2str(e));
  return n;
}

int sl_kafka_watermarks(rd_kafka_t *rk, const char *topic, int p, int64_t *lo, int64_t *hi,
                        sl_err *err) {
  rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(rk, topic, p, lo, hi, 10000);
  if (!e) return 0;
  sl_err_set(err, SL_EIO, "kafka: end offsets of %s: %s", topic, rd_kafka_err2str(e));
  return -1;
}
