/*
** kafka_broker.c - the dev broker (kafka_broker.h): librdkafka's mock
** cluster with one broker on 127.0.0.1, a relay that offers it on a fixed
** port, the topics asked for up front, and fault injection for tests.
**
** The mock cluster runs on threads of its own inside an rd_kafka_t made for
** it (dev_rk); its state is guarded by dev_mu.  Auto-creation is the mock's
** own: a producer's metadata request creates the topic it names (4
** partitions), a consumer's does not, as with a real broker.
*/
#include <arpa/inet.h>
#include <errno.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kafka_broker.h"

static pthread_mutex_t dev_mu = PTHREAD_MUTEX_INITIALIZER;
static rd_kafka_t *dev_rk;
static rd_kafka_mock_cluster_t *dev_mc;
static char dev_bootstrap[256];

enum { KAFKA_API_METADATA = 3 }; /* the Kafka protocol's ApiKey of Metadata */

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
    /* Metadata requests of version 4 and later say whether the client allows
    ** auto-creation (producers do, consumers do not).  librdkafka 2.0's mock
    ** offers only versions 0 to 2, which always create the topic named (a
    ** consumer's too), although its handler reads the fields of 3 and 4:
    ** offering up to 4 makes it create topics as any broker since Kafka 0.11
    ** does, the brokers sluice's idempotent producer needs. */
    rd_kafka_mock_set_apiversion(dev_mc, KAFKA_API_METADATA, 0, 4);
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

/* Create the topics of spec (sl_dev_broker_topics); dev_mu is held. */
static int create_topics(const char *spec, sl_err *err) {
  if (!dev_mc) {
    sl_err_set(err, SL_EIO, "dev broker: not running");
    return -1;
  }
  for (const char *p = spec; *p;) {
    size_t n = strcspn(p, ",");
    const char *colon = memchr(p, ':', n);
    size_t namelen = colon ? (size_t)(colon - p) : n;
    long parts = 1;
    if (colon) {
      char *end;
      parts = strtol(colon + 1, &end, 10);
      if (end == colon + 1 || end != p + n) parts = 0;
    }
    if (!namelen || namelen > 249 || parts < 1 || parts > 10000) {
      sl_err_set(err, SL_EBIND,
                 "dev broker: bad topic '%.*s': give NAME or NAME:PARTITIONS (1 to 10000)", (int)n,
                 p);
      return -1;
    }
    char *name = sl_strndup(p, namelen);
    rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(dev_mc, name, (int)parts, 1);
    if (e && e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
      sl_err_set(err, SL_EIO, "dev broker: cannot create topic %s: %s", name, rd_kafka_err2str(e));
    free(name);
    if (err->code) return -1;
    p += n;
    if (*p == ',') p++;
  }
  return 0;
}

int sl_dev_broker_topics(const char *spec, sl_err *err) {
  pthread_mutex_lock(&dev_mu);
  int rc = create_topics(spec, err);
  pthread_mutex_unlock(&dev_mu);
  return rc;
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
  } else if (n >= 1 && !strcmp(cmd, "topics")) {
    /* topics NAME:N,...: create topics while the broker runs */
    const char *spec = strstr(line, "topics") + 6;
    spec += strspn(spec, " ");
    sl_err e = {0};
    if (!*spec) {
      sl_buf_puts(reply, "usage: topics NAME:PARTITIONS,...");
      rc = -1;
    } else if (create_topics(spec, &e)) {
      sl_buf_puts(reply, e.msg);
      rc = -1;
    } else {
      sl_buf_printf(reply, "topics %s", spec);
    }
    sl_err_clear(&e);
  } else {
    sl_buf_puts(reply, "commands: down | up | errors APIKEY COUNT CODE... | topic-error TOPIC "
                       "CODE | topics NAME:N,...");
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
  /* the forwarder and its relays take no signals: they are the caller's */
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pthread_t t;
  int rc = pthread_create(&t, NULL, forwarder, NULL);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (rc) {
    close(fd);
    fwd_fd = -1;
    return NULL;
  }
  pthread_detach(t);
  snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
  return addr;
}
