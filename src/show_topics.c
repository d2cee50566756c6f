/*
** show_topics.c - SHOW TOPICS: the topics of the Kafka cluster the engine's
** settings point at (SET kafka.brokers, which --brokers and --dev-broker
** set; other SET kafka.<property> settings are passed as properties), with
** their partition counts, from one metadata request.  The brokers and
** properties are authorized as a kafka() call's are (sl_kafka_conf).
*/
#include "show_topics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafka.h"

/* qsort: topics by name. */
static int by_name(const void *a, const void *b) {
  const struct rd_kafka_metadata_topic *x = *(const struct rd_kafka_metadata_topic *const *)a;
  const struct rd_kafka_metadata_topic *y = *(const struct rd_kafka_metadata_topic *const *)b;
  return strcmp(x->topic, y->topic);
}

int sl_show_topics(sl_catalog *cat, const struct sl_auth *auth, volatile sig_atomic_t *interrupted,
                   sl_row_fn fn, void *ud, sl_err *err) {
  sl_options o;
  memset(&o, 0, sizeof o);
  o.fn = "kafka";
  o.auth = auth;
  for (sl_setting *st = cat->settings; st; st = st->next)
    if (strncmp(st->name, "kafka.", 6) == 0 && st->name[6])
      sl_options_add(&o, st->name + 6, &st->value, 0, 0);
  rd_kafka_conf_t *conf = sl_kafka_conf(&o, err);
  sl_options_free(&o);
  if (!conf) return -1;
  char errstr[512];
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  if (!rk) {
    rd_kafka_conf_destroy(conf);
    sl_err_set(err, SL_EIO, "kafka: %s", errstr);
    return -1;
  }
  const struct rd_kafka_metadata *md = NULL;
  rd_kafka_resp_err_t e;
  int64_t until = sl_clock_ms() + 10000;
  /* half a second at a time, so that an interrupt is seen */
  while ((e = rd_kafka_metadata(rk, 1, NULL, &md, 500)) != RD_KAFKA_RESP_ERR_NO_ERROR &&
         sl_clock_ms() < until && !(interrupted && *interrupted))
    md = NULL;
  int rc = 0;
  if (e || !md) {
    sl_err_set(err, SL_EIO, "kafka: topics: %s", rd_kafka_err2str(e));
    rc = -1;
  } else {
    const struct rd_kafka_metadata_topic **t = sl_calloc((size_t)md->topic_cnt + 1, sizeof *t);
    for (int i = 0; i < md->topic_cnt; i++)
      t[i] = &md->topics[i];
    qsort(t, (size_t)md->topic_cnt, sizeof *t, by_name);
    static const char *const names[] = {"topic", "partitions"};
    for (int i = 0; i < md->topic_cnt; i++) {
      char np[16];
      snprintf(np, sizeof np, "%d", t[i]->partition_cnt);
      const char *cells[] = {t[i]->topic, np};
      sl_engine_text_row(fn, ud, 2, names, cells);
    }
    free(t);
  }
  if (md) rd_kafka_metadata_destroy(md);
  rd_kafka_destroy(rk);
  return rc;
}
