/*
** conn_kafka.c - Kafka sources and sinks on librdkafka, and the embedded
** dev broker (librdkafka's in-process mock cluster).
**
** Source kafka('topic', ...): a consumer assigned every partition of the
** topic, starting at offset => 'earliest' | 'latest' | 'committed'.  With
** stop => 'end' it reads up to the end offsets seen when it starts and then
** ends (a bounded source).  Without a format a record is one row of the
** columns key, value, topic, partition, offset, timestamp, headers; with
** format => 'json' | 'csv' | 'raw' the value is decoded into columns exactly
** as for files.  Offsets are committed (to group => 'name', default
** "sluice-<topic>") only through commit(), which the task calls once every
** output derived from the records read has been delivered: at-least-once.
**
** Sink kafka('topic', ...): an idempotent producer; each encoded record is
** one message; every delivery report is checked, and flush() waits for all.
**
** Options: brokers => 'host:port' (default: SET kafka.brokers), and any
** librdkafka property by its dotted name ('security.protocol' => 'SSL');
** librdkafka's own error message is the bind error for a bad one.
**
** Message memory: a read returns records that point into the messages of
** that read; they are destroyed at the next read or at close.
*/
#include <arpa/inet.h>
#include <errno.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "checkpoint.h"
#include "connector.h"
#include "json.h"
#include "kafka.h"

/* ---- the dev broker (one per process) -------------------------------------- */

static pthread_mutex_t dev_mu = PTHREAD_MUTEX_INITIALIZER;
static rd_kafka_t *dev_rk;
static rd_kafka_mock_cluster_t *dev_mc;
static char dev_bootstrap[256];

const char *sl_dev_broker_start(sl_err *err) {
  pthread_mutex_lock(&dev_mu);
  if (!dev_mc) {
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "3", NULL, 0);
    dev_rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (!dev_rk) {
      pthread_mutex_unlock(&dev_mu);
      sl_err_set(err, SL_EIO, "dev broker: %s", errstr);
      return NULL;
    }
    dev_mc = rd_kafka_mock_cluster_new(dev_rk, 1);
    if (!dev_mc) {
      rd_kafka_destroy(dev_rk);
      dev_rk = NULL;
      pthread_mutex_unlock(&dev_mu);
      sl_err_set(err, SL_EIO, "dev broker: cannot start the mock cluster");
      return NULL;
    }
    snprintf(dev_bootstrap, sizeof dev_bootstrap, "%s", rd_kafka_mock_cluster_bootstraps(dev_mc));
  }
  pthread_mutex_unlock(&dev_mu);
  return dev_bootstrap;
}

void sl_dev_broker_stop(void) {
  pthread_mutex_lock(&dev_mu);
  if (dev_mc) rd_kafka_mock_cluster_destroy(dev_mc);
  if (dev_rk) rd_kafka_destroy(dev_rk);
  dev_mc = NULL;
  dev_rk = NULL;
  dev_bootstrap[0] = 0;
  pthread_mutex_unlock(&dev_mu);
}

int sl_dev_broker_control(const char *line, sl_buf *reply) {
  char cmd[32] = "";
  int a = 0, b = 0;
  int n = sscanf(line, "%31s %d %d", cmd, &a, &b);
  pthread_mutex_lock(&dev_mu);
  int rc = 0;
  if (!dev_mc) {
    sl_buf_puts(reply, "no dev broker");
    rc = -1;
  } else if (n >= 1 && !strcmp(cmd, "down")) {
    rd_kafka_mock_broker_set_down(dev_mc, 1);
    sl_buf_puts(reply, "broker down");
  } else if (n >= 1 && !strcmp(cmd, "up")) {
    rd_kafka_mock_broker_set_up(dev_mc, 1);
    sl_buf_puts(reply, "broker up");
  } else if (n >= 3 && !strcmp(cmd, "errors")) {
    /* errors APIKEY COUNT CODE...: the next COUNT requests fail, in turn, with
    ** the codes listed (the last one repeats) */
    const char *p = line;
    for (int skip = 0; skip < 3 && p; skip++) {
      p = strchr(p, ' ');
      while (p && *p == ' ')
        p++;
    }
    rd_kafka_resp_err_t errs[64];
    size_t ne = 0;
    while (p && *p && ne < 64) {
      errs[ne++] = (rd_kafka_resp_err_t)atoi(p);
      p = strchr(p, ' ');
      while (p && *p == ' ')
        p++;
    }
    if (!ne || b <= 0 || b > 64) {
      sl_buf_puts(reply, "usage: errors APIKEY COUNT CODE...");
      rc = -1;
    } else {
      rd_kafka_resp_err_t all[64];
      for (int i = 0; i < b; i++)
        all[i] = errs[(size_t)i < ne ? (size_t)i : ne - 1];
      rd_kafka_mock_push_request_errors_array(dev_mc, (int16_t)a, (size_t)b, all);
      sl_buf_printf(reply, "next %d requests of api %d fail", b, a);
    }
  } else if (n >= 1 && !strcmp(cmd, "topic-error")) {
    /* topic-error TOPIC CODE: metadata for TOPIC answers with CODE (0 clears),
    ** e.g. 29 TOPIC_AUTHORIZATION_FAILED */
    char topic[256] = "";
    int code = -1;
    if (sscanf(line, "%*s %255s %d", topic, &code) != 2 || code < 0) {
      sl_buf_puts(reply, "usage: topic-error TOPIC CODE");
      rc = -1;
    } else {
      rd_kafka_mock_topic_set_error(dev_mc, topic, (rd_kafka_resp_err_t)code);
      sl_buf_printf(reply, "metadata of %s answers %s", topic,
                    rd_kafka_err2str((rd_kafka_resp_err_t)code));
    }
  } else {
    sl_buf_puts(reply,
                "commands: down | up | errors APIKEY COUNT CODE... | topic-error TOPIC CODE");
    rc = -1;
  }
  pthread_mutex_unlock(&dev_mu);
  return rc;
}

/* The mock cluster listens on a port of its own choosing.  To offer a fixed
** bootstrap port (9092 by default) a forwarder accepts there and relays each
** connection to the mock broker; clients then learn the broker's own address
** from the metadata and connect to it directly. */
static int fwd_fd = -1;
static char mock_host[64];
static int mock_port;

static void *relay(void *arg) {
  int a = (int)(intptr_t)arg;
  int b = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)mock_port)};
  inet_pton(AF_INET, mock_host, &sa.sin_addr);
  if (b < 0 || connect(b, (struct sockaddr *)&sa, sizeof sa) < 0) {
    close(a);
    if (b >= 0) close(b);
    return NULL;
  }
  struct pollfd p[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
  char buf[65536];
  for (;;) {
    if (poll(p, 2, -1) < 0 && errno != EINTR) break;
    int from = (p[0].revents & (POLLIN | POLLHUP | POLLERR)) ? 0 : 1;
    if (!(p[from].revents & (POLLIN | POLLHUP | POLLERR))) continue;
    ssize_t n = read(p[from].fd, buf, sizeof buf);
    if (n <= 0) break;
    ssize_t off = 0;
    while (off < n) {
      ssize_t w = write(p[1 - from].fd, buf + off, (size_t)(n - off));
      if (w <= 0) goto done;
      off += w;
    }
  }
done:
  close(a);
  close(b);
  return NULL;
}

static void *forwarder(void *arg) {
  (void)arg;
  for (;;) {
    int c = accept(fwd_fd, NULL, NULL);
    if (c < 0) {
      if (errno == EINTR) continue;
      return NULL;
    }
    pthread_t t;
    if (pthread_create(&t, NULL, relay, (void *)(intptr_t)c) == 0)
      pthread_detach(t);
    else
      close(c);
  }
}

const char *sl_dev_broker_listen(int port) {
  static char addr[64];
  const char *boot = dev_bootstrap;
  const char *colon = strrchr(boot, ':');
  if (!colon || fwd_fd >= 0) return NULL;
  snprintf(mock_host, sizeof mock_host, "%.*s", (int)(colon - boot), boot);
  mock_port = atoi(colon + 1);
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 64) < 0) {
    if (fd >= 0) close(fd);
    return NULL; /* busy: the mock's own port serves */
  }
  fwd_fd = fd;
  pthread_t t;
  if (pthread_create(&t, NULL, forwarder, NULL)) {
    close(fd);
    fwd_fd = -1;
    return NULL;
  }
  pthread_detach(t);
  snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
  return addr;
}

int sl_dev_broker_topic(const char *topic, int partitions) {
  pthread_mutex_lock(&dev_mu);
  int rc = 0;
  if (dev_mc) {
    rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(dev_mc, topic, partitions, 1);
    rc = (e == RD_KAFKA_RESP_ERR_NO_ERROR || e == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) ? 0 : -1;
  }
  pthread_mutex_unlock(&dev_mu);
  return rc;
}

/* ---- configuration ------------------------------------------------------------- */

/* A librdkafka configuration from the call's options: brokers, and every
** dotted property.  NULL with err set when librdkafka refuses one. */
static rd_kafka_conf_t *make_conf(sl_options *o, sl_err *err) {
  char errstr[512];
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  const char *brokers = sl_opt_str(o, "brokers", NULL);
  if (!brokers) {
    rd_kafka_conf_destroy(conf);
    sl_err_set(err, SL_EBIND,
               "%s(): no brokers: give brokers => 'host:port', SET kafka.brokers, "
               "--brokers or --dev-broker",
               o->fn ? o->fn : "kafka");
    return NULL;
  }
  rd_kafka_conf_set(conf, "bootstrap.servers", brokers, NULL, 0);
  rd_kafka_conf_set(conf, "log_level", "3", NULL, 0);
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

/* ---- source ---------------------------------------------------------------------- */

enum { KC_KEY, KC_VALUE, KC_TOPIC, KC_PARTITION, KC_OFFSET, KC_TIMESTAMP, KC_HEADERS, KC_NCOL };
static const char *const kafka_columns[KC_NCOL] = {"key",    "value",     "topic",  "partition",
                                                   "offset", "timestamp", "headers"};
static const char *const kafka_types[KC_NCOL] = {"TEXT",    "TEXT",    "TEXT", "INTEGER",
                                                 "INTEGER", "INTEGER", "TEXT"};

typedef struct kafka_source {
  sl_source base;
  rd_kafka_t *rk;
  rd_kafka_queue_t *q;
  char *topic;
  int nparts;
  int64_t *end;    /* stop => 'end': first offset past the end, per partition */
  int64_t *next;   /* next offset expected per partition (-1: nothing read yet) */
  int64_t *snap;   /* next[] as it was at the last SL_COMMIT_NOTE */
  int64_t *resume; /* from a checkpoint: where each partition goes on (-1: the group's offset) */
  unsigned char *assigned; /* group mode: the partitions the group gave this consumer */
  int bounded;
  int typed;                 /* no format: rows of kafka_columns */
  rd_kafka_message_t **msgs; /* messages of the last read, destroyed at the next */
  int nmsgs, cap;
  sl_buf headers; /* typed rows: headers as JSON, per message (offsets into it) */
  size_t *hoff;
} kafka_source;

static void drop_messages(kafka_source *k) {
  for (int i = 0; i < k->nmsgs; i++)
    rd_kafka_message_destroy(k->msgs[i]);
  k->nmsgs = 0;
}

/* All partitions read up to their end offsets? */
static int all_done(kafka_source *k) {
  for (int p = 0; p < k->nparts; p++)
    if (k->next[p] < k->end[p]) return 0;
  return 1;
}

/* Fetch a batch of messages into k->msgs; returns how many were kept, or
** SL_READ_* . */
static int fetch(kafka_source *k, int max, int timeout_ms, sl_err *err) {
  drop_messages(k);
  if (k->bounded && all_done(k)) return SL_READ_END;
  if (max > k->cap) {
    k->cap = max;
    k->msgs = sl_realloc(k->msgs, sizeof(*k->msgs) * (size_t)max);
  }
  if (timeout_ms < 0) timeout_ms = 1000;
  /* Wait for one message, then take whatever else is already there: waiting
  ** for a full batch would hold the first record back at low rates. */
  ssize_t n = rd_kafka_consume_batch_queue(k->q, timeout_ms, k->msgs, 1);
  if (n == 1 && max > 1) {
    ssize_t more = rd_kafka_consume_batch_queue(k->q, 0, k->msgs + 1, (size_t)max - 1);
    if (more > 0) n += more;
  }
  if (n < 0) {
    sl_err_set(err, SL_EIO, "kafka: %s", rd_kafka_err2str(rd_kafka_last_error()));
    return SL_READ_ERROR;
  }
  int kept = 0;
  for (ssize_t i = 0; i < n; i++) {
    rd_kafka_message_t *m = k->msgs[i];
    if (m->err) {
      if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF && rd_kafka_fatal_error(k->rk, NULL, 0)) {
        sl_err_set(err, SL_EIO, "kafka: %s", rd_kafka_message_errstr(m));
        for (ssize_t j = i; j < n; j++)
          rd_kafka_message_destroy(k->msgs[j]);
        return SL_READ_ERROR;
      }
      if (m->err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED ||
          m->err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC) {
        sl_err_set(err, SL_EIO, "kafka: %s", rd_kafka_message_errstr(m));
        for (ssize_t j = i; j < n; j++)
          rd_kafka_message_destroy(k->msgs[j]);
        return SL_READ_ERROR;
      }
      rd_kafka_message_destroy(m); /* retriable: librdkafka retries */
      continue;
    }
    int p = m->partition;
    if (p < 0 || p >= k->nparts || (k->bounded && m->offset >= k->end[p])) {
      rd_kafka_message_destroy(m); /* past the end snapshot */
      continue;
    }
    k->next[p] = m->offset + 1;
    k->msgs[kept++] = m;
  }
  k->nmsgs = kept;
  if (!kept) return (k->bounded && all_done(k)) ? SL_READ_END : SL_READ_AGAIN;
  return kept;
}

static int kafka_read(sl_source *s, sl_record *recs, int max, int timeout_ms, sl_err *err) {
  kafka_source *k = (kafka_source *)s;
  int n = fetch(k, max, timeout_ms, err);
  for (int i = 0; i < n; i++) {
    rd_kafka_message_t *m = k->msgs[i];
    sl_record *r = &recs[i];
    r->data = m->payload ? m->payload : "";
    r->len = m->len;
    r->key = m->key;
    r->keylen = m->key_len;
    r->pos = m->offset;
    r->partition = m->partition;
    r->timestamp = rd_kafka_message_timestamp(m, NULL);
  }
  return n;
}

/* Headers of m as a JSON object appended to b ({} when none). */
static void headers_json(rd_kafka_message_t *m, sl_buf *b) {
  rd_kafka_headers_t *h = NULL;
  sl_buf_putc(b, '{');
  if (rd_kafka_message_headers(m, &h) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    const char *name;
    const void *val;
    size_t len;
    for (size_t i = 0; rd_kafka_header_get_all(h, i, &name, &val, &len) == 0; i++) {
      if (i) sl_buf_putc(b, ',');
      sl_json_append_string(b, name, strlen(name));
      sl_buf_putc(b, ':');
      if (val)
        sl_json_append_string(b, val, len);
      else
        sl_buf_puts(b, "null");
    }
  }
  sl_buf_putc(b, '}');
}

static int kafka_read_rows(sl_source *s, sl_value *rows, int ncol, int max, sl_err *err) {
  kafka_source *k = (kafka_source *)s;
  int n = fetch(k, max, 1000, err);
  if (n <= 0) return n;
  sl_buf_reset(&k->headers);
  k->hoff = sl_realloc(k->hoff, sizeof(size_t) * (size_t)(n + 1));
  for (int i = 0; i < n; i++) {
    k->hoff[i] = k->headers.n;
    headers_json(k->msgs[i], &k->headers);
  }
  k->hoff[n] = k->headers.n;
  for (int i = 0; i < n; i++) {
    rd_kafka_message_t *m = k->msgs[i];
    sl_value *row = rows + (size_t)i * (size_t)ncol;
    for (int c = 0; c < ncol; c++) {
      sl_value *v = &row[c];
      switch (c) {
      case KC_KEY:
        if (m->key)
          sl_value_borrow_text(v, m->key, m->key_len, 0);
        else
          sl_value_set_null(v);
        break;
      case KC_VALUE:
        if (m->payload)
          sl_value_borrow_text(v, m->payload, m->len, 0);
        else
          sl_value_set_null(v);
        break;
      case KC_TOPIC: sl_value_borrow_text(v, k->topic, strlen(k->topic), SL_F_TERM); break;
      case KC_PARTITION: sl_value_set_int(v, m->partition); break;
      case KC_OFFSET: sl_value_set_int(v, m->offset); break;
      case KC_TIMESTAMP: sl_value_set_int(v, rd_kafka_message_timestamp(m, NULL)); break;
      case KC_HEADERS:
        sl_value_borrow_text(v, k->headers.z + k->hoff[i], k->hoff[i + 1] - k->hoff[i], SL_F_JSON);
        break;
      default: sl_value_set_null(v); break;
      }
    }
  }
  return n;
}

static void kafka_position(sl_source *s, const sl_record *rec, sl_buf *out) {
  kafka_source *k = (kafka_source *)s;
  sl_buf_printf(out, "%s[%d]@%lld", k->topic, rec->partition, (long long)rec->pos);
}

static int kafka_commit(sl_source *s, int what, sl_err *err) {
  kafka_source *k = (kafka_source *)s;
  if (what == SL_COMMIT_NOTE) {
    memcpy(k->snap, k->next, sizeof(int64_t) * (size_t)k->nparts);
    return 0;
  }
  const int64_t *at = what == SL_COMMIT_NOTED ? k->snap : k->next;
  /* a consumer group member commits the partitions it has; a bounded read all */
  rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(k->nparts);
  for (int p = 0; p < k->nparts; p++)
    if (at[p] >= 0 && (k->bounded || (k->assigned && k->assigned[p])))
      rd_kafka_topic_partition_list_add(l, k->topic, p)->offset = at[p];
  rd_kafka_resp_err_t e = l->cnt ? rd_kafka_commit(k->rk, l, 0) : RD_KAFKA_RESP_ERR_NO_ERROR;
  rd_kafka_topic_partition_list_destroy(l);
  if (!e || e == RD_KAFKA_RESP_ERR__NO_OFFSET) return 0;
  char fatal[256];
  if (k->bounded || rd_kafka_fatal_error(k->rk, fatal, sizeof fatal)) {
    sl_err_set(err, SL_EIO, "kafka: committing offsets of %s: %s", k->topic,
               k->bounded ? rd_kafka_err2str(e) : fatal);
    return -1;
  }
  /* A rebalance or a coordinator that moved: the records stay uncommitted
  ** and will be read again (at-least-once), so go on. */
  fprintf(stderr, "sluice: kafka: offsets of %s not committed this time: %s\n", k->topic,
          rd_kafka_err2str(e));
  return 0;
}

/* Position: the next offset of every partition (-1 where nothing was read). */
static int kafka_save_pos(sl_source *s, sl_buf *out, sl_err *err) {
  (void)err;
  kafka_source *k = (kafka_source *)s;
  sl_ck_i64(out, k->nparts);
  for (int p = 0; p < k->nparts; p++)
    sl_ck_i64(out, k->next[p] >= 0 ? k->next[p] : (k->resume ? k->resume[p] : -1));
  return 0;
}

/* Go on from a checkpoint: a bounded read is reassigned at once; in a
** consumer group the partitions this consumer is given start there
** (rebalance()), others at the group's committed offsets. */
static int kafka_load_pos(sl_source *s, const void *z, size_t n, sl_err *err) {
  kafka_source *k = (kafka_source *)s;
  sl_ckrd r;
  sl_ckrd_init(&r, z, n);
  int64_t np = sl_ckr_i64(&r);
  if (r.bad || np != k->nparts) {
    sl_err_set(err, SL_EIO,
               "kafka: %s has %d partitions, the checkpoint %lld: --reset-state starts afresh",
               k->topic, k->nparts, (long long)np);
    return -1;
  }
  k->resume = sl_malloc(sizeof(int64_t) * (size_t)k->nparts);
  for (int p = 0; p < k->nparts; p++)
    k->resume[p] = sl_ckr_i64(&r);
  if (r.bad) {
    sl_err_set(err, SL_EIO, "kafka: %s: the checkpointed position is corrupt", k->topic);
    return -1;
  }
  if (!k->bounded) return 0;
  rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(k->nparts);
  for (int p = 0; p < k->nparts; p++) {
    int64_t at = k->resume[p] >= 0 ? k->resume[p] : RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_topic_partition_list_add(l, k->topic, p)->offset = at;
    if (k->resume[p] >= 0) k->next[p] = k->resume[p];
  }
  rd_kafka_resp_err_t e = rd_kafka_assign(k->rk, l);
  rd_kafka_topic_partition_list_destroy(l);
  if (e) {
    sl_err_set(err, SL_EIO, "kafka: resuming %s: %s", k->topic, rd_kafka_err2str(e));
    return -1;
  }
  return 0;
}

/* Partitions with records still to give: a bounded read's not yet at their
** end, or a group member's assigned ones. */
static int kafka_partitions(sl_source *s, int32_t *out, int max) {
  kafka_source *k = (kafka_source *)s;
  int n = 0;
  for (int p = 0; p < k->nparts; p++) {
    int live = k->bounded ? k->next[p] < k->end[p] : k->assigned && k->assigned[p];
    if (!live) continue;
    if (n < max) out[n] = p;
    n++;
  }
  return n;
}

/* Consumer group rebalances: take the partitions given, starting where a
** checkpoint says when there is one; give them all back when revoked. */
static void rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t e, rd_kafka_topic_partition_list_t *l,
                      void *opaque) {
  kafka_source *k = opaque;
  if (!k->assigned) k->assigned = sl_calloc((size_t)(k->nparts ? k->nparts : 1), 1);
  memset(k->assigned, 0, (size_t)k->nparts);
  if (e == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    for (int i = 0; i < l->cnt; i++)
      if (l->elems[i].partition >= 0 && l->elems[i].partition < k->nparts)
        k->assigned[l->elems[i].partition] = 1;
    for (int i = 0; i < l->cnt && k->resume; i++) {
      int p = l->elems[i].partition;
      if (p >= 0 && p < k->nparts && k->resume[p] >= 0 && k->next[p] < 0)
        l->elems[i].offset = k->resume[p];
    }
    rd_kafka_assign(rk, l);
  } else {
    rd_kafka_assign(rk, NULL);
  }
}

/* Consumer lag: per partition read (a bounded read's unfinished ones, a
** group member's assigned ones), the high watermark librdkafka last saw in
** a fetch answer minus the next offset to read (a partition not read from
** yet counts once its first record arrives).  -1 before any answer. */
static int64_t kafka_lag(sl_source *s) {
  kafka_source *k = (kafka_source *)s;
  int64_t lag = 0;
  int known = 0;
  for (int p = 0; p < k->nparts; p++) {
    int live = k->bounded ? k->next[p] < k->end[p] : k->assigned && k->assigned[p];
    int64_t lo, hi;
    if (!live || k->next[p] < 0 || rd_kafka_get_watermark_offsets(k->rk, k->topic, p, &lo, &hi) ||
        hi < 0)
      continue;
    if (hi > k->next[p]) lag += hi - k->next[p];
    known = 1;
  }
  return known ? lag : -1;
}

static void kafka_close(sl_source *s) {
  kafka_source *k = (kafka_source *)s;
  drop_messages(k);
  if (k->q) rd_kafka_queue_destroy(k->q);
  if (k->rk) {
    rd_kafka_consumer_close(k->rk);
    rd_kafka_destroy(k->rk);
  }
  sl_schema_free(&s->schema);
  free(s->errors);
  free(k->msgs);
  free(k->end);
  free(k->next);
  free(k->snap);
  free(k->resume);
  free(k->assigned);
  free(k->hoff);
  sl_buf_free(&k->headers);
  free(k->topic);
  free(k);
}

static const sl_source_vt kafka_source_vt = {
    "kafka",      kafka_read,     kafka_position, kafka_close,      NULL,
    kafka_commit, kafka_save_pos, kafka_load_pos, kafka_partitions, kafka_lag};
static const sl_source_vt kafka_typed_vt = {
    "kafka",      NULL,           kafka_position, kafka_close,      kafka_read_rows,
    kafka_commit, kafka_save_pos, kafka_load_pos, kafka_partitions, kafka_lag};

static sl_source *kafka_open_source(sl_options *o, sl_err *err) {
  const char *topic = sl_opt_str(o, "0", NULL);
  if (!topic) {
    sl_err_set(err, SL_EBIND, "kafka() needs a topic: kafka('events')");
    return NULL;
  }
  kafka_source *k = sl_calloc(1, sizeof *k);
  k->topic = sl_strdup(topic);
  sl_buf_init(&k->headers);
  k->base.vt = &kafka_source_vt;
  int typed = !sl_opt_find(o, "format");
  if (sl_source_init_format(&k->base, o, "raw", err)) goto fail;
  if (typed) {
    /* no format: the message columns */
    k->typed = 1;
    k->base.vt = &kafka_typed_vt;
    sl_schema_free(&k->base.schema);
    sl_schema_init(&k->base.schema, 0);
    for (int c = 0; c < KC_NCOL; c++)
      sl_schema_add(&k->base.schema, kafka_columns[c], strlen(kafka_columns[c]), kafka_types[c]);
  }
  const char *offset = sl_opt_str(o, "offset", "earliest");
  const char *stop = sl_opt_str(o, "stop", NULL);
  int64_t partitions = sl_opt_int(o, "partitions", 1, err);
  char group[300];
  snprintf(group, sizeof group, "sluice-%s", topic);
  const char *grp = sl_opt_str(o, "group", group);
  if (err->code) goto fail;
  if (sl_stricmp(offset, "earliest") && sl_stricmp(offset, "latest") &&
      sl_stricmp(offset, "committed")) {
    sl_err_set(err, SL_EBIND, "offset => takes 'earliest', 'latest' or 'committed', not '%s'",
               offset);
    goto fail;
  }
  if (stop && sl_stricmp(stop, "end")) {
    sl_err_set(err, SL_EBIND, "stop => takes 'end', not '%s'", stop);
    goto fail;
  }
  k->bounded = stop != NULL;
  rd_kafka_conf_t *conf = make_conf(o, err);
  if (!conf) goto fail;
  if (sl_options_check(o, err)) {
    rd_kafka_conf_destroy(conf);
    goto fail;
  }
  sl_dev_broker_topic(topic, (int)partitions);
  rd_kafka_conf_set(conf, "group.id", grp, NULL, 0);
  rd_kafka_conf_set_opaque(conf, k);
  rd_kafka_conf_set_rebalance_cb(conf, rebalance);
  rd_kafka_conf_set(conf, "enable.auto.commit", "false", NULL, 0);
  rd_kafka_conf_set(conf, "auto.offset.reset", sl_stricmp(offset, "latest") ? "earliest" : "latest",
                    NULL, 0);
  char errstr[512];
  k->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
  if (!k->rk) {
    sl_err_set(err, SL_EIO, "kafka: %s", errstr);
    goto fail;
  }
  rd_kafka_poll_set_consumer(k->rk);
  /* every partition of the topic */
  const struct rd_kafka_metadata *md = NULL;
  rd_kafka_topic_t *rkt = rd_kafka_topic_new(k->rk, topic, NULL);
  rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR_NO_ERROR;
  for (int attempt = 0; attempt < 20; attempt++) {
    /* a topic being created has no leader yet: ask again */
    if (md) rd_kafka_metadata_destroy(md);
    md = NULL;
    e = rd_kafka_metadata(k->rk, 0, rkt, &md, 10000);
    if (e || !md || md->topic_cnt < 1 ||
        md->topics[0].err != RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE)
      break;
    rd_kafka_poll(k->rk, 250);
  }
  rd_kafka_topic_destroy(rkt);
  if (e || !md || md->topic_cnt < 1 || md->topics[0].err) {
    sl_err_set(err, SL_EIO, "kafka: topic %s: %s", topic,
               rd_kafka_err2str(e                     ? e
                                : md && md->topic_cnt ? md->topics[0].err
                                                      : RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC));
    if (md) rd_kafka_metadata_destroy(md);
    goto fail;
  }
  k->nparts = md->topics[0].partition_cnt;
  rd_kafka_metadata_destroy(md);
  k->end = sl_calloc((size_t)k->nparts, sizeof(int64_t));
  k->next = sl_calloc((size_t)k->nparts, sizeof(int64_t));
  k->snap = sl_calloc((size_t)k->nparts, sizeof(int64_t));
  for (int p = 0; p < k->nparts; p++)
    k->snap[p] = -1;
  rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(k->nparts);
  for (int p = 0; p < k->nparts; p++) {
    int64_t lo = 0, hi = 0;
    k->next[p] = -1;
    if (k->bounded) {
      e = rd_kafka_query_watermark_offsets(k->rk, topic, p, &lo, &hi, 10000);
      if (e) {
        sl_err_set(err, SL_EIO, "kafka: end offsets of %s: %s", topic, rd_kafka_err2str(e));
        rd_kafka_topic_partition_list_destroy(l);
        goto fail;
      }
      k->end[p] = hi;
    }
    int64_t start = !sl_stricmp(offset, "earliest") ? RD_KAFKA_OFFSET_BEGINNING
                    : !sl_stricmp(offset, "latest") ? RD_KAFKA_OFFSET_END
                                                    : RD_KAFKA_OFFSET_STORED;
    if (k->bounded && (start == RD_KAFKA_OFFSET_END || hi == lo)) k->next[p] = hi; /* nothing */
    if (k->bounded && start == RD_KAFKA_OFFSET_BEGINNING) k->next[p] = k->next[p] < 0 ? lo : hi;
    rd_kafka_topic_partition_list_add(l, topic, p)->offset = start;
  }
  if (k->bounded && !sl_stricmp(offset, "committed")) {
    /* where the group stands decides what is left to read */
    if (rd_kafka_committed(k->rk, l, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR)
      for (int p = 0; p < l->cnt; p++) {
        int64_t c = l->elems[p].offset;
        k->next[p] = c >= 0 ? c : 0;
        l->elems[p].offset = c >= 0 ? c : RD_KAFKA_OFFSET_BEGINNING;
      }
  }
  if (k->bounded) {
    /* a bounded read takes every partition itself */
    e = rd_kafka_assign(k->rk, l);
  } else {
    /* a continuous query joins the consumer group, which shares the
    ** partitions among every sluice with the same group */
    rd_kafka_topic_partition_list_t *sub = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(sub, topic, RD_KAFKA_PARTITION_UA);
    e = rd_kafka_subscribe(k->rk, sub);
    rd_kafka_topic_partition_list_destroy(sub);
  }
  rd_kafka_topic_partition_list_destroy(l);
  if (e) {
    sl_err_set(err, SL_EIO, "kafka: consuming %s: %s", topic, rd_kafka_err2str(e));
    goto fail;
  }
  k->q = rd_kafka_queue_get_consumer(k->rk);
  return &k->base;
fail:
  kafka_close(&k->base);
  return NULL;
}

/* ---- sink ------------------------------------------------------------------------ */

typedef struct kafka_sink {
  sl_sink base;
  rd_kafka_t *rk;
  rd_kafka_topic_t *rkt;
  char *topic;
  pthread_mutex_t mu;
  int64_t failed; /* messages whose delivery failed */
  char failure[512];
  /* acknowledgements, for committing without draining (produced/acked):
  ** message seq (its opaque) 0, 1, ...; every seq below low is acknowledged;
  ** ring marks those above it that are, by seq % ACK_RING (under mu; only
  ** write() changes produced) */
  int64_t produced, low;
  unsigned char *ring;
  /* exactly once (processing.guarantee): every message carries the header
  ** sluice-id "<query fingerprint>:<output id>"; after a restart, the ids
  ** found past the checkpointed end offsets are not written again */
  int exactly_once;
  char *query_fp;
  uint64_t *seen;     /* open addressing set of those ids (0: empty) */
  unsigned char *hit; /* per slot: the replay has come to it (skipped it) */
  size_t nseen, capseen;
  int64_t pending; /* ids of the set the replay has not come to yet */
  int64_t *from;   /* while pending: the checkpointed end offsets, saved again */
  int nfrom;
  int64_t skipped; /* outputs not written again */
  sl_buf idbuf;
  rd_kafka_conf_t *rconf; /* the user's settings, for the read-back consumer */
} kafka_sink;

/* ---- exactly once: the set of ids written after the last checkpoint -------- */

/* The slot of id in the set, or -1. */
static long seen_slot(const kafka_sink *k, uint64_t id) {
  if (!k->capseen) return -1;
  id |= 1; /* 0 marks an empty slot */
  for (size_t i = id & (k->capseen - 1);; i = (i + 1) & (k->capseen - 1)) {
    if (!k->seen[i]) return -1;
    if (k->seen[i] == id) return (long)i;
  }
}

static int seen_has(const kafka_sink *k, uint64_t id) {
  return seen_slot(k, id) >= 0;
}

static void seen_add(kafka_sink *k, uint64_t id) {
  if (seen_has(k, id)) return;
  if (2 * (k->nseen + 1) > k->capseen) {
    size_t cap = k->capseen ? 2 * k->capseen : 1024;
    uint64_t *old = k->seen;
    size_t oldcap = k->capseen;
    free(k->hit);
    k->hit = sl_calloc(cap, 1);
    k->seen = sl_calloc(cap, sizeof(uint64_t));
    k->capseen = cap;
    k->nseen = 0;
    for (size_t i = 0; i < oldcap; i++)
      if (old[i]) seen_add(k, old[i]);
    free(old);
  }
  id |= 1;
  size_t i = id & (k->capseen - 1);
  while (k->seen[i])
    i = (i + 1) & (k->capseen - 1);
  k->seen[i] = id;
  k->nseen++;
  k->pending++;
}

#define ACK_RING (1 << 17)

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
  (void)rk;
  kafka_sink *k = opaque;
  if (!m->err) {
    int64_t seq = (int64_t)(intptr_t)m->_private;
    pthread_mutex_lock(&k->mu);
    k->ring[seq % ACK_RING] = 1;
    while (k->low < k->produced && k->ring[k->low % ACK_RING]) {
      k->ring[k->low % ACK_RING] = 0;
      k->low++;
    }
    pthread_mutex_unlock(&k->mu);
    return;
  }
  pthread_mutex_lock(&k->mu);
  if (!k->failed++)
    snprintf(k->failure, sizeof k->failure, "kafka: delivery to %s failed: %s", k->topic,
             rd_kafka_err2str(m->err));
  pthread_mutex_unlock(&k->mu);
}

static int delivery_error(kafka_sink *k, sl_err *err) {
  pthread_mutex_lock(&k->mu);
  int failed = k->failed > 0;
  if (failed) sl_err_set(err, SL_EIO, "%s", k->failure);
  pthread_mutex_unlock(&k->mu);
  return failed ? -1 : 0;
}

static int kafka_write(sl_sink *s, const char *buf, const size_t *ends, int n, const char *keys,
                       const size_t *kends, const uint64_t *ids, sl_err *err) {
  kafka_sink *k = (kafka_sink *)s;
  size_t start = 0, kstart = 0;
  for (int i = 0; i < n; i++) {
    size_t len = ends[i] - start;
    if (len && buf[start + len - 1] == '\n') len--;
    const char *key = keys ? keys + kstart : NULL;
    size_t klen = keys ? kends[i] - kstart : 0;
    if (keys) kstart = kends[i];
    long slot = k->exactly_once && ids ? seen_slot(k, ids[i]) : -1;
    if (slot >= 0) { /* written before the crash */
      if (!k->hit[slot]) {
        k->hit[slot] = 1;
        k->pending--;
      }
      k->skipped++;
      start = ends[i];
      continue;
    }
    for (;;) { /* at most ACK_RING messages unacknowledged */
      pthread_mutex_lock(&k->mu);
      int full = k->produced - k->low >= ACK_RING;
      pthread_mutex_unlock(&k->mu);
      if (!full) break;
      if (delivery_error(k, err)) return -1;
      rd_kafka_poll(k->rk, 100);
    }
    void *seq = (void *)(intptr_t)k->produced;
    for (;;) {
      /* partitioned by key (librdkafka's consistent-random partitioner) */
      rd_kafka_resp_err_t e;
      if (k->exactly_once && ids) {
        sl_buf_reset(&k->idbuf);
        sl_buf_printf(&k->idbuf, "%s:%016llx", k->query_fp, (unsigned long long)(ids[i] | 1));
        e = rd_kafka_producev(
            k->rk, RD_KAFKA_V_RKT(k->rkt), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_VALUE((void *)(buf + start), len), RD_KAFKA_V_KEY(klen ? key : NULL, klen),
            RD_KAFKA_V_HEADER("sluice-id", k->idbuf.z, (ssize_t)k->idbuf.n), RD_KAFKA_V_OPAQUE(seq),
            RD_KAFKA_V_END);
      } else {
        e = rd_kafka_produce(k->rkt, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY,
                             (void *)(buf + start), len, klen ? key : NULL, klen, seq) == 0
                ? RD_KAFKA_RESP_ERR_NO_ERROR
                : rd_kafka_last_error();
      }
      if (!e) {
        pthread_mutex_lock(&k->mu);
        k->produced++;
        pthread_mutex_unlock(&k->mu);
        break;
      }
      if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        sl_err_set(err, SL_EIO, "kafka: producing to %s: %s", k->topic, rd_kafka_err2str(e));
        return -1;
      }
      rd_kafka_poll(k->rk, 100); /* wait for room */
    }
    start = ends[i];
  }
  rd_kafka_poll(k->rk, 0);
  return delivery_error(k, err);
}

static int64_t kafka_produced(sl_sink *s) {
  kafka_sink *k = (kafka_sink *)s;
  pthread_mutex_lock(&k->mu);
  int64_t n = k->produced;
  pthread_mutex_unlock(&k->mu);
  return n;
}

static int kafka_acked(sl_sink *s, int64_t n, sl_err *err) {
  kafka_sink *k = (kafka_sink *)s;
  rd_kafka_poll(k->rk, 0); /* serve the delivery reports that have come */
  if (delivery_error(k, err)) return -1;
  pthread_mutex_lock(&k->mu);
  int done = k->low >= n;
  pthread_mutex_unlock(&k->mu);
  return done;
}

static int kafka_flush(sl_sink *s, sl_err *err) {
  kafka_sink *k = (kafka_sink *)s;
  while (rd_kafka_flush(k->rk, 1000) == RD_KAFKA_RESP_ERR__TIMED_OUT) {
    if (delivery_error(k, err)) return -1;
    char fe[256];
    if (rd_kafka_fatal_error(k->rk, fe, sizeof fe)) {
      sl_err_set(err, SL_EIO, "kafka: %s", fe);
      return -1;
    }
  }
  return delivery_error(k, err);
}

/* Checkpoint (after a flush): the end offset of every partition of the
** topic, past which a restart looks for what it wrote. */
static int kafka_sink_save_pos(sl_sink *s, sl_buf *out, sl_err *err) {
  kafka_sink *k = (kafka_sink *)s;
  if (!k->exactly_once) {
    sl_ck_i64(out, -1);
    return 0;
  }
  const struct rd_kafka_metadata *md = NULL;
  rd_kafka_resp_err_t e = rd_kafka_metadata(k->rk, 0, k->rkt, &md, 10000);
  if (e || !md || md->topic_cnt < 1 || md->topics[0].err) {
    sl_err_set(err, SL_EIO, "kafka: end offsets of %s: %s", k->topic,
               rd_kafka_err2str(e                     ? e
                                : md && md->topic_cnt ? md->topics[0].err
                                                      : RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC));
    if (md) rd_kafka_metadata_destroy(md);
    return -1;
  }
  int np = md->topics[0].partition_cnt;
  rd_kafka_metadata_destroy(md);
  if (k->pending > 0) {
    /* the replay has not yet come to every output the crashed run wrote:
    ** a crash now must still find them, so the old offsets stay */
    sl_ck_i64(out, k->nfrom);
    for (int p = 0; p < k->nfrom; p++)
      sl_ck_i64(out, k->from[p]);
    return 0;
  }
  sl_ck_i64(out, np);
  for (int p = 0; p < np; p++) {
    int64_t lo = 0, hi = 0;
    e = rd_kafka_query_watermark_offsets(k->rk, k->topic, p, &lo, &hi, 10000);
    if (e) {
      sl_err_set(err, SL_EIO, "kafka: end offsets of %s: %s", k->topic, rd_kafka_err2str(e));
      return -1;
    }
    sl_ck_i64(out, hi);
  }
  return 0;
}

/* Restart: read what this query wrote past the checkpointed end offsets
** (messages with its sluice-id header) into the set of ids not to write
** again. */
static int kafka_sink_load_pos(sl_sink *s, const void *z, size_t n, sl_err *err) {
  kafka_sink *k = (kafka_sink *)s;
  sl_ckrd r;
  sl_ckrd_init(&r, z, n);
  int64_t np = sl_ckr_i64(&r);
  if (np < 0 || !k->exactly_once) return r.bad ? -1 : 0;
  if (np > 100000) r.bad = 1;
  int64_t *from = sl_calloc((size_t)(np ? np : 1), sizeof(int64_t));
  for (int64_t p = 0; p < np; p++)
    from[p] = sl_ckr_i64(&r);
  if (r.bad) {
    free(from);
    sl_err_set(err, SL_EIO, "kafka: %s: the checkpointed end offsets are corrupt", k->topic);
    return -1;
  }
  char errstr[512];
  rd_kafka_conf_t *conf = rd_kafka_conf_dup(k->rconf);
  rd_kafka_conf_set(conf, "group.id", "sluice-exactly-once-readback", NULL, 0);
  rd_kafka_conf_set(conf, "enable.auto.commit", "false", NULL, 0);
  rd_kafka_t *c = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
  if (!c) {
    free(from);
    sl_err_set(err, SL_EIO, "kafka: reading back %s: %s", k->topic, errstr);
    return -1;
  }
  rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)np);
  int64_t *to = sl_calloc((size_t)(np ? np : 1), sizeof(int64_t));
  int rc = 0, left = 0;
  for (int p = 0; p < np && !rc; p++) {
    int64_t lo = 0, hi = 0;
    rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(c, k->topic, p, &lo, &hi, 10000);
    if (e) {
      sl_err_set(err, SL_EIO, "kafka: end offsets of %s: %s", k->topic, rd_kafka_err2str(e));
      rc = -1;
    }
    to[p] = hi;
    if (from[p] < lo) from[p] = lo;
    if (from[p] < hi) {
      rd_kafka_topic_partition_list_add(l, k->topic, p)->offset = from[p];
      left++;
    }
  }
  if (!rc && left) rc = rd_kafka_assign(c, l) ? -1 : 0;
  size_t plen = strlen(k->query_fp);
  int64_t found = 0;
  while (!rc && left) {
    rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 10000);
    if (!m) {
      sl_err_set(err, SL_EIO, "kafka: reading back %s: no message within 10 s", k->topic);
      rc = -1;
      break;
    }
    if (m->err) {
      if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        sl_err_set(err, SL_EIO, "kafka: reading back %s: %s", k->topic, rd_kafka_message_errstr(m));
        rc = -1;
      }
      rd_kafka_message_destroy(m);
      continue;
    }
    rd_kafka_headers_t *h = NULL;
    const void *v;
    size_t vn;
    if (!rd_kafka_message_headers(m, &h) && !rd_kafka_header_get_last(h, "sluice-id", &v, &vn) &&
        vn > plen + 1 && !memcmp(v, k->query_fp, plen) && ((const char *)v)[plen] == ':') {
      char hex[17];
      size_t hn = vn - plen - 1 < 16 ? vn - plen - 1 : 16;
      memcpy(hex, (const char *)v + plen + 1, hn);
      hex[hn] = 0;
      seen_add(k, strtoull(hex, NULL, 16));
      found++;
    }
    int p = m->partition;
    if (p >= 0 && p < np && m->offset + 1 >= to[p] && to[p] > from[p]) {
      to[p] = from[p]; /* done with this partition */
      left--;
    }
    rd_kafka_message_destroy(m);
  }
  rd_kafka_topic_partition_list_destroy(l);
  rd_kafka_consumer_close(c);
  rd_kafka_destroy(c);
  free(k->from);
  k->from = from;
  k->nfrom = (int)np;
  free(to);
  if (!rc && found)
    fprintf(stderr,
            "sluice: kafka: %s: %lld outputs were written after the last checkpoint; "
            "they are not written again\n",
            k->topic, (long long)found);
  return rc;
}

static void kafka_sink_close(sl_sink *s) {
  kafka_sink *k = (kafka_sink *)s;
  if (k->skipped)
    fprintf(stderr, "sluice: kafka: %s: %lld replayed outputs skipped (exactly once)\n", k->topic,
            (long long)k->skipped);
  free(k->seen);
  free(k->ring);
  free(k->hit);
  free(k->from);
  free(k->query_fp);
  if (k->rconf) rd_kafka_conf_destroy(k->rconf);
  sl_buf_free(&k->idbuf);
  if (k->rkt) rd_kafka_topic_destroy(k->rkt);
  if (k->rk) {
    rd_kafka_flush(k->rk, 10000);
    rd_kafka_destroy(k->rk);
  }
  pthread_mutex_destroy(&k->mu);
  free(k->base.key_col);
  free(k->topic);
  free(k);
}

static const sl_sink_vt kafka_sink_vt = {"kafka",          kafka_write,         kafka_flush,
                                         kafka_sink_close, kafka_sink_save_pos, kafka_sink_load_pos,
                                         kafka_produced,   kafka_acked};

static sl_sink *kafka_open_sink(sl_options *o, sl_err *err) {
  const char *topic = sl_opt_str(o, "0", NULL);
  if (!topic) {
    sl_err_set(err, SL_EBIND, "kafka() needs a topic: kafka('preds')");
    return NULL;
  }
  kafka_sink *k = sl_calloc(1, sizeof *k);
  k->base.vt = &kafka_sink_vt;
  k->topic = sl_strdup(topic);
  pthread_mutex_init(&k->mu, NULL);
  k->ring = sl_calloc(ACK_RING, 1);
  int64_t partitions = sl_opt_int(o, "partitions", 1, err);
  /* key => 'column' names the key column (it stays in the value too); else a
  ** selected column named key is the key (and not part of the value) */
  const char *key_col = sl_opt_str(o, "key", NULL);
  k->base.key_col = sl_strdup(key_col ? key_col : "key");
  k->base.key_implicit = key_col == NULL;
  if (o->exactly_once) {
    k->exactly_once = k->base.by_id = 1;
    k->query_fp = sl_strdup(o->query_fp ? o->query_fp : "sluice");
  }
  if (err->code || sl_sink_init_format(&k->base, o, "json", err)) goto fail;
  rd_kafka_conf_t *conf = make_conf(o, err);
  if (!conf) goto fail;
  if (sl_options_check(o, err)) {
    rd_kafka_conf_destroy(conf);
    goto fail;
  }
  sl_dev_broker_topic(topic, (int)partitions);
  if (k->exactly_once) k->rconf = rd_kafka_conf_dup(conf);
  /* idempotent unless the user decides, or talks to a pre-0.11 broker
  ** (api.version.request => 'false' with an old broker.version.fallback) */
  const sl_option *legacy = sl_opt_find_unused(o, "api.version.request");
  if (!sl_opt_find_unused(o, "enable.idempotence") &&
      !(legacy && !strcmp(sl_value_cstr((sl_value *)&legacy->value), "false")))
    rd_kafka_conf_set(conf, "enable.idempotence", "true", NULL, 0);
  rd_kafka_conf_set(conf, "linger.ms", "5", NULL, 0);
  rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
  rd_kafka_conf_set_opaque(conf, k);
  char errstr[512];
  k->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  if (!k->rk) {
    sl_err_set(err, SL_EIO, "kafka: %s", errstr);
    goto fail;
  }
  k->rkt = rd_kafka_topic_new(k->rk, topic, NULL);
  return &k->base;
fail:
  kafka_sink_close(&k->base);
  return NULL;
}

const sl_connector sl_conn_kafka = {"kafka", kafka_open_source, kafka_open_sink};
