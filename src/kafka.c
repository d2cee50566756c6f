/*
** kafka.c - what the Kafka source (kafka_source.c) and sink (kafka_sink.c)
** share: the connector entry, the topic option, the librdkafka
** configuration made from a call's options, and what the brokers say of a
** topic (its partition count, a partition's watermarks), and making a
** topic with a partition count (a repartition topic: plan_repart.c).
*/
#include <stdio.h>
#include <string.h>

#include "kafka.h"

const sl_connector sl_conn_kafka = {"kafka", sl_kafka_open_source, sl_kafka_open_sink};

const char *sl_kafka_topic(sl_options *o, const char *example, sl_err *err) {
  const char *topic = sl_opt_str(o, "0", NULL);
  if (!topic) sl_err_set(err, SL_EBIND, "kafka() needs a topic: kafka('%s')", example);
  return topic;
}

/* ---- what a call may pass to librdkafka ---------------------------------- */

/* How a librdkafka property passed as an option is authorized (auth.h). */
enum {
  KP_SAFE,    /* changes how the client talks to the brokers it was given */
  KP_FILE,    /* names a file the client reads: SLUICE_AUTH_READ of it */
  KP_BROKERS, /* a list of brokers: SLUICE_AUTH_CONNECT of each */
  KP_CODE     /* loads code or runs a command: SLUICE_AUTH_CODE */
};

/* Properties by class (docs/security.md lists them); a name in none of
** them is asked about as SLUICE_AUTH_PROPERTY.  Exact names, as librdkafka
** spells them (case-sensitive there too). */
static const struct {
  const char *name;
  int kind;
} kafka_props[] = {
    {"plugin.library.paths", KP_CODE},
    {"sasl.kerberos.kinit.cmd", KP_CODE},
    {"ssl.engine.location", KP_CODE},
    {"ssl.providers", KP_CODE},
    {"ssl_engine_callback_data", KP_CODE},
    {"bootstrap.servers", KP_BROKERS},
    {"metadata.broker.list", KP_BROKERS},
    {"ssl.key.location", KP_FILE},
    {"ssl.certificate.location", KP_FILE},
    {"ssl.ca.location", KP_FILE},
    {"ssl.crl.location", KP_FILE},
    {"ssl.keystore.location", KP_FILE},
    {"sasl.kerberos.keytab", KP_FILE},
    {"acks", KP_SAFE},
    {"allow.auto.create.topics", KP_SAFE},
    {"api.version.request", KP_SAFE},
    {"api.version.request.timeout.ms", KP_SAFE},
    {"auto.commit.interval.ms", KP_SAFE},
    {"auto.offset.reset", KP_SAFE},
    {"batch.num.messages", KP_SAFE},
    {"batch.size", KP_SAFE},
    {"broker.address.family", KP_SAFE},
    {"broker.version.fallback", KP_SAFE},
    {"check.crcs", KP_SAFE},
    {"client.id", KP_SAFE},
    {"client.rack", KP_SAFE},
    {"compression.codec", KP_SAFE},
    {"compression.level", KP_SAFE},
    {"compression.type", KP_SAFE},
    {"connections.max.idle.ms", KP_SAFE},
    {"delivery.timeout.ms", KP_SAFE},
    {"enable.idempotence", KP_SAFE},
    {"enable.ssl.certificate.verification", KP_SAFE},
    {"fetch.error.backoff.ms", KP_SAFE},
    {"fetch.max.bytes", KP_SAFE},
    {"fetch.message.max.bytes", KP_SAFE},
    {"fetch.min.bytes", KP_SAFE},
    {"fetch.wait.max.ms", KP_SAFE},
    {"group.instance.id", KP_SAFE},
    {"heartbeat.interval.ms", KP_SAFE},
    {"isolation.level", KP_SAFE},
    {"linger.ms", KP_SAFE},
    {"max.in.flight", KP_SAFE},
    {"max.in.flight.requests.per.connection", KP_SAFE},
    {"max.poll.interval.ms", KP_SAFE},
    {"message.max.bytes", KP_SAFE},
    {"message.send.max.retries", KP_SAFE},
    {"message.timeout.ms", KP_SAFE},
    {"metadata.max.age.ms", KP_SAFE},
    {"partition.assignment.strategy", KP_SAFE},
    {"partitioner", KP_SAFE},
    {"queue.buffering.max.kbytes", KP_SAFE},
    {"queue.buffering.max.messages", KP_SAFE},
    {"queue.buffering.max.ms", KP_SAFE},
    {"queued.max.messages.kbytes", KP_SAFE},
    {"queued.min.messages", KP_SAFE},
    {"receive.message.max.bytes", KP_SAFE},
    {"reconnect.backoff.max.ms", KP_SAFE},
    {"reconnect.backoff.ms", KP_SAFE},
    {"request.required.acks", KP_SAFE},
    {"request.timeout.ms", KP_SAFE},
    {"retries", KP_SAFE},
    {"retry.backoff.max.ms", KP_SAFE},
    {"retry.backoff.ms", KP_SAFE},
    {"sasl.mechanism", KP_SAFE},
    {"sasl.mechanisms", KP_SAFE},
    {"sasl.password", KP_SAFE},
    {"sasl.username", KP_SAFE},
    {"security.protocol", KP_SAFE},
    {"session.timeout.ms", KP_SAFE},
    {"socket.connection.setup.timeout.ms", KP_SAFE},
    {"socket.keepalive.enable", KP_SAFE},
    {"socket.max.fails", KP_SAFE},
    {"socket.nagle.disable", KP_SAFE},
    {"socket.receive.buffer.bytes", KP_SAFE},
    {"socket.send.buffer.bytes", KP_SAFE},
    {"socket.timeout.ms", KP_SAFE},
    {"ssl.cipher.suites", KP_SAFE},
    {"ssl.curves.list", KP_SAFE},
    {"ssl.endpoint.identification.algorithm", KP_SAFE},
    {"ssl.key.password", KP_SAFE},
    {"ssl.keystore.password", KP_SAFE},
    {"ssl.sigalgs.list", KP_SAFE},
    {"sticky.partitioning.linger.ms", KP_SAFE},
    {"topic.metadata.refresh.interval.ms", KP_SAFE},
    {"transaction.timeout.ms", KP_SAFE},
};

/* The class of property name (KP_*); -1 for one not listed. */
static int prop_kind(const char *name) {
  for (size_t i = 0; i < sizeof kafka_props / sizeof *kafka_props; i++)
    if (!strcmp(kafka_props[i].name, name)) return kafka_props[i].kind;
  return -1;
}

/* sl_host_list_each's callback: ask the options ud for a connection to
** hostport. */
static int authorize_broker(void *ud, const char *hostport, sl_err *err) {
  return sl_opt_authorize(ud, SLUICE_AUTH_CONNECT, hostport, err);
}

/* Ask for a connection to each broker of list ("host:port,host:port", a
** "proto://" prefix allowed, 9092 when no port): 0, or -1 with err set. */
static int authorize_brokers(sl_options *o, const char *list, sl_err *err) {
  return sl_host_list_each(list, authorize_broker, o, err);
}

/* Ask for property opt (name and value) as its class says.  0, or -1 with
** err set (at the option's position). */
static int authorize_property(sl_options *o, sl_option *opt, sl_err *err) {
  const char *v = sl_value_cstr(&opt->value);
  int rc = 0;
  switch (prop_kind(opt->name)) {
  case KP_SAFE: break;
  case KP_FILE: rc = sl_opt_authorize(o, SLUICE_AUTH_READ, v, err); break;
  case KP_BROKERS: rc = authorize_brokers(o, v, err); break;
  case KP_CODE: rc = sl_opt_authorize(o, SLUICE_AUTH_CODE, opt->name, err); break;
  default: rc = sl_opt_authorize(o, SLUICE_AUTH_PROPERTY, opt->name, err);
  }
  if (rc && !err->line) {
    err->line = opt->line;
    err->col = opt->col;
  }
  return rc;
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
  if (authorize_brokers(o, brokers, err)) return NULL;
  for (int i = 0; i < o->n; i++)
    if (strchr(o->v[i].name, '.') && authorize_property(o, &o->v[i], err)) return NULL;
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

int sl_kafka_parse_origin(const char *z, size_t n, int32_t *part, int64_t *pos) {
  size_t i = 0;
  int64_t p = 0, o = 0;
  if (!z || !n || n > SL_ORIGIN_MAX) return -1;
  for (; i < n && z[i] >= '0' && z[i] <= '9'; i++) {
    p = p * 10 + (z[i] - '0');
    if (p > INT32_MAX - 1) return -1;
  }
  if (!i || i >= n || z[i] != ':') return -1;
  size_t d = ++i;
  for (; i < n && z[i] >= '0' && z[i] <= '9'; i++) {
    if (o > (INT64_MAX - (z[i] - '0')) / 10) return -1;
    o = o * 10 + (z[i] - '0');
  }
  if (i == d || i != n) return -1;
  *part = (int32_t)p;
  *pos = o;
  return 0;
}

/* 1 when the brokers rk reaches list topic (0 when they do not, -1 when
** they cannot be asked).  Asks for every topic: a producer's request for
** one topic would create it. */
static int topic_listed(rd_kafka_t *rk, const char *topic) {
  const struct rd_kafka_metadata *md = NULL;
  if (rd_kafka_metadata(rk, 1, NULL, &md, 5000) || !md) return -1;
  int found = 0;
  for (int i = 0; i < md->topic_cnt && !found; i++)
    found = !strcmp(md->topics[i].topic, topic) && !md->topics[i].err;
  rd_kafka_metadata_destroy(md);
  return found;
}

int sl_kafka_make_topic(rd_kafka_t *rk, const char *topic, int nparts, int compact,
                        volatile sig_atomic_t *interrupted, sl_err *err) {
  if (topic_listed(rk, topic) == 1)
    return sl_kafka_partition_count(rk, topic, "topic ", interrupted, err);
  char errstr[512];
  rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(topic, nparts, -1, errstr, sizeof errstr);
  if (!nt) {
    sl_err_set(err, SL_EIO, "kafka: topic %s: %s", topic, errstr);
    return -1;
  }
  if (compact) {
    rd_kafka_NewTopic_set_config(nt, "cleanup.policy", "compact");
    rd_kafka_NewTopic_set_config(nt, "max.message.bytes", SL_KAFKA_STATE_MAX);
  }
  rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
  rd_kafka_AdminOptions_t *ao = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
  rd_kafka_AdminOptions_set_request_timeout(ao, 5000, errstr, sizeof errstr);
  rd_kafka_AdminOptions_set_operation_timeout(ao, 5000, errstr, sizeof errstr);
  rd_kafka_CreateTopics(rk, &nt, 1, ao, q);
  rd_kafka_event_t *ev = NULL;
  for (int waited = 0; !ev && waited < 12000 && !(interrupted && *interrupted); waited += 500)
    ev = rd_kafka_queue_poll(q, 500);
  rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR__TIMED_OUT;
  const char *why = "no answer";
  if (ev) {
    e = rd_kafka_event_error(ev);
    why = rd_kafka_event_error_string(ev);
    const rd_kafka_CreateTopics_result_t *r = rd_kafka_event_CreateTopics_result(ev);
    size_t n = 0;
    const rd_kafka_topic_result_t **t = r ? rd_kafka_CreateTopics_result_topics(r, &n) : NULL;
    if (!e && n == 1) {
      e = rd_kafka_topic_result_error(t[0]);
      why = rd_kafka_topic_result_error_string(t[0]);
    }
  }
  char reason[512];
  snprintf(reason, sizeof reason, "%s", why ? why : rd_kafka_err2str(e));
  if (ev) rd_kafka_event_destroy(ev);
  rd_kafka_AdminOptions_destroy(ao);
  rd_kafka_queue_destroy(q);
  rd_kafka_NewTopic_destroy(nt);
  if (interrupted && *interrupted) {
    sl_err_set(err, SL_EIO, "kafka: topic %s: interrupted", topic);
    return -1;
  }
  /* made, or there already; else a producer's metadata request makes it
  ** as the broker does */
  int got = sl_kafka_partition_count(rk, topic, "topic ", interrupted, err);
  if (got >= 0 && e && e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS && got != nparts)
    fprintf(
        stderr,
        "sluice: kafka: topic %s: not made with %d partitions (%s); the broker made it with %d\n",
        topic, nparts, reason, got);
  return got;
}
