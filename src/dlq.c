/*
** dlq.c - dead-letter sinks (connector.h): a source given `dlq => sink(...)`
** sends every record it rejects - malformed, not UTF-8 under
** invalid_utf8 = 'reject', too long, failing a query's evaluation, late for
** its window - to that sink as one JSON object a line, instead of only
** counting and logging it:
**
**   {"query":"q1","source":"file","position":"in.json:3","line":3,
**    "reason":"malformed JSON at byte 9","record":"{\"a\": 1,,}"}
**
** Kafka records carry "partition" and "offset" (and "key", "timestamp")
** instead of "line".  The record is its bytes as a JSON string (made UTF-8
** with U+FFFD where they are not).  A dead letter is written to the sink as
** soon as it is rejected (rejections are rare, and the sink buffers if it
** wants: Kafka does); the task flushes the sink at every checkpoint and at
** the end, and fails when a write failed.  One mutex: an interval join may
** reject a source's rows on the other side's thread.
*/
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "connector.h"
#include "json.h"

struct sl_dlq {
  sl_sink *sink; /* owned */
  pthread_mutex_t lock;
  sl_buf line, tmp;
  int64_t written;
  sl_err err; /* the first failed write */
};

sl_dlq *sl_dlq_new(sl_sink *sink) {
  sl_dlq *q = sl_calloc(1, sizeof *q);
  q->sink = sink;
  pthread_mutex_init(&q->lock, NULL);
  sl_buf_init(&q->line);
  sl_buf_init(&q->tmp);
  return q;
}

/* Append ,"name": and z[0..n) as a JSON string made UTF-8. */
static void put_text(sl_dlq *q, const char *name, const char *z, size_t n) {
  sl_buf_printf(&q->line, ",\"%s\":", name);
  if (sl_utf8_check(z, n) != n) {
    sl_buf_reset(&q->tmp);
    sl_buf_reserve(&q->tmp, 3 * n + 1);
    n = sl_utf8_repair(z, n, q->tmp.z);
    z = q->tmp.z;
  }
  sl_json_append_string(&q->line, z, n);
}

void sl_dlq_put(sl_dlq *q, const char *qname, sl_source *src, const sl_record *rec,
                const char *why) {
  pthread_mutex_lock(&q->lock);
  sl_buf_reset(&q->line);
  sl_buf_append(&q->line, "{\"query\":", 9);
  sl_json_append_string(&q->line, qname ? qname : "query", strlen(qname ? qname : "query"));
  sl_buf_append(&q->line, ",\"source\":", 10);
  sl_json_append_string(&q->line, src->vt->name, strlen(src->vt->name));
  if (src->vt->position) {
    sl_buf pos;
    sl_buf_init(&pos);
    src->vt->position(src, rec, &pos);
    put_text(q, "position", pos.z ? pos.z : "", pos.n);
    sl_buf_free(&pos);
  }
  if (rec->partition >= 0)
    sl_buf_printf(&q->line, ",\"partition\":%d,\"offset\":%lld", (int)rec->partition,
                  (long long)rec->pos);
  else
    sl_buf_printf(&q->line, ",\"line\":%lld", (long long)rec->pos);
  if (rec->timestamp >= 0)
    sl_buf_printf(&q->line, ",\"timestamp\":%lld", (long long)rec->timestamp);
  if (rec->key) put_text(q, "key", rec->key, rec->keylen);
  put_text(q, "reason", why ? why : "rejected", why ? strlen(why) : 8);
  put_text(q, "record", rec->data ? rec->data : "", rec->data ? rec->len : 0);
  sl_buf_append(&q->line, "}\n", 2);
  size_t end = q->line.n;
  if (!q->err.code &&
      q->sink->vt->write(q->sink, q->line.z, &end, 1, NULL, NULL, NULL, &q->err) == 0)
    q->written++;
  pthread_mutex_unlock(&q->lock);
}

int sl_dlq_flush(sl_dlq *q, sl_err *err) {
  pthread_mutex_lock(&q->lock);
  int rc = 0;
  if (!q->err.code && q->sink->vt->flush) q->sink->vt->flush(q->sink, &q->err);
  if (!q->err.code && q->sink->vt->acked &&
      q->sink->vt->acked(q->sink, q->sink->vt->produced(q->sink), &q->err) < 0 && !q->err.code)
    sl_err_set(&q->err, SL_EIO, "a dead letter was not delivered");
  if (q->err.code) {
    sl_err_set(err, q->err.code, "the dead-letter sink failed: %s", q->err.msg ? q->err.msg : "?");
    rc = -1;
  }
  pthread_mutex_unlock(&q->lock);
  return rc;
}

void sl_dlq_free(sl_dlq *q) {
  if (!q) return;
  q->sink->vt->close(q->sink);
  pthread_mutex_destroy(&q->lock);
  sl_buf_free(&q->line);
  sl_buf_free(&q->tmp);
  sl_err_clear(&q->err);
  free(q);
}
