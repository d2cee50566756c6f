/*
** kafka_sink.c - the Kafka sink, kafka('topic', ...) after INTO: an
** idempotent producer; each encoded record is one message, partitioned by
** its key (key => 'column', or a selected column named key).
**
** Every delivery report is checked: a failed delivery stops the query.
** produced()/acked() let the task commit its source's offsets once the
** outputs derived from them are acknowledged, without draining the
** producer; flush() waits for all.
**
** origin => true: each message carries the header sluice-origin
** "<partition>:<offset>" of the Kafka record its row came from (a row
** without one gets none): a repartition topic, read by a query that keeps
** its state per partition (kafka_source.c, state_topic =>).
**
** Exactly once (processing.guarantee = 'exactly_once'): every message
** carries the header sluice-id "<query fingerprint>:<output id>".  A
** checkpoint saves the topic's end offsets (save_pos); after a crash,
** load_pos reads back what this query wrote past them into a set of ids,
** and the replay skips the outputs whose ids are in it.
**
** Exactly once for a query whose state is kept per input partition
** (op_partition.c; ids carry the partition, SL_ID_PART): there is no
** checkpoint of the whole query, but a state per partition, each saying
** where this topic's ends were when it was written (part_save).  When a
** partition's state is loaded (after a crash or a rebalance, on any
** process of the application), part_load reads back the messages of this
** query from there and keeps the ids of that partition's outputs, which its
** replay then does not write again.  While the replay has not come to all
** of them, the partition's next states also carry those it has not come
** to yet (they are before the new state's end offsets, and the replay from
** the new state's input offset still makes them).
*/
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "hash.h"
#include "kafka.h"

/* The read-back of one input partition of a query whose state is kept per
** partition (part_save/part_load): its generation (the u of its ids in the
** set while not come to), how many of them the replay has not come to, and
** the ids it found (owned; some may have been come to since). */
typedef struct part_rb {
  uint64_t gen;
  int64_t pending;
  uint64_t *ids;
  int nids, cap;
} part_rb;

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
  sl_htab seen;    /* those ids (hash.h: a set of ids); u: the replay has come to it */
  int64_t pending; /* ids of the set the replay has not come to yet */
  int64_t *from;   /* while pending: the checkpointed end offsets, saved again */
  int nfrom;
  int64_t skipped; /* outputs not written again */
  part_rb *rb;     /* per input partition (part_save/part_load), nrb of them */
  int nrb;
  uint64_t gen;  /* the last generation given (1: load_pos's ids) */
  int64_t *ends; /* the topic's end offsets, nends of them, when produced was ends_at */
  int nends;
  int64_t ends_at;
  sl_buf idbuf;
  rd_kafka_conf_t *rconf; /* the user's settings, for the read-back consumer */
} kafka_sink;

/* ---- exactly once: the set of ids written after the last checkpoint -------- */

static const sl_htype id_type = {NULL, NULL}; /* hashes given; the hash is the id */

/* A slot's u: 0 the replay has come to it (or it counts in no pending);
** 1 one of load_pos's, not yet come to (counted in pending); else the
** generation of the read-back of its partition that found it, not yet come
** to (counted in that partition's pending while it is the partition's
** latest read-back). */
#define ID_DONE 0
#define ID_PENDING 1

/* The slot of output id in the set, or NULL.  Ids are stored with their low
** bit set, as the header carries them (never 0). */
static sl_hslot *seen_find(const kafka_sink *k, uint64_t id) {
  return sl_htab_find_h(&k->seen, sl_hash_u64(id | 1), NULL);
}

/* Add id (a header's, low bit set) to the set, not yet come to (load_pos). */
static void seen_add(kafka_sink *k, uint64_t id) {
  int added;
  sl_hslot *s = sl_htab_put_h(&k->seen, sl_hash_u64(id | 1), NULL, &added);
  if (added) {
    s->u = ID_PENDING;
    k->pending++;
  }
}

/* Add id of input partition p to the set as not yet come to, counted in
** p's latest read-back (part_load). */
static void seen_add_part(kafka_sink *k, int32_t p, uint64_t id) {
  int added;
  sl_hslot *s = sl_htab_put_h(&k->seen, sl_hash_u64(id | 1), NULL, &added);
  if (!added && s->u == k->rb[p].gen) return; /* found twice (a retried produce) */
  if (!added && s->u == ID_PENDING) k->pending--;
  part_rb *b = &k->rb[p];
  s->u = b->gen;
  b->pending++;
  if (b->nids == b->cap) {
    b->cap = b->cap ? 2 * b->cap : 64;
    b->ids = sl_realloc(b->ids, sizeof(uint64_t) * (size_t)b->cap);
  }
  b->ids[b->nids++] = id | 1;
}

/* The replay has come to id (in the set at slot s): it counts no longer. */
static void seen_done(kafka_sink *k, uint64_t id, sl_hslot *s) {
  if (s->u == ID_PENDING) {
    k->pending--;
  } else if (s->u != ID_DONE) {
    int32_t p = SL_ID_PART(id);
    if (p < k->nrb && k->rb[p].gen == s->u) k->rb[p].pending--;
  }
  s->u = ID_DONE;
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
    /* no bytes at all, not even a newline: a tombstone (no value) */
    const char *val = len ? buf + start : NULL;
    if (len && buf[start + len - 1] == '\n') len--;
    const char *key = keys ? keys + kstart : NULL;
    size_t klen = keys ? kends[i] - kstart : 0;
    if (keys) kstart = kends[i];
    sl_hslot *seen = k->exactly_once && ids ? seen_find(k, ids[i]) : NULL;
    if (seen) { /* written before the crash */
      seen_done(k, ids[i], seen);
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
      int has_id = k->exactly_once && ids;
      int has_origin = s->origin_part && s->origin_part[i] >= 0;
      if (has_id || has_origin) {
        rd_kafka_headers_t *hs = rd_kafka_headers_new(2);
        if (has_id) {
          sl_buf_reset(&k->idbuf);
          sl_buf_printf(&k->idbuf, "%s:%016llx", k->query_fp, (unsigned long long)(ids[i] | 1));
          rd_kafka_header_add(hs, "sluice-id", -1, k->idbuf.z, (ssize_t)k->idbuf.n);
        }
        if (has_origin) { /* origin => true: where the row's input record was */
          char o[48];
          int on =
              snprintf(o, sizeof o, "%d:%lld", (int)s->origin_part[i], (long long)s->origin_pos[i]);
          rd_kafka_header_add(hs, SL_ORIGIN_HEADER, -1, o, on);
        }
        e = rd_kafka_producev(
            k->rk, RD_KAFKA_V_RKT(k->rkt), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_VALUE((void *)val, len), RD_KAFKA_V_KEY(klen ? key : NULL, klen),
            RD_KAFKA_V_HEADERS(hs), RD_KAFKA_V_OPAQUE(seq), RD_KAFKA_V_END);
        if (e) rd_kafka_headers_destroy(hs); /* taken only when produced */
      } else {
        e = rd_kafka_produce(k->rkt, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, (void *)val, len,
                             klen ? key : NULL, klen, seq) == 0
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

/* Wait for every message's delivery report.  When the query is stopping
** (s->stopping) and the broker does not answer, give up after
** SL_STOP_WAIT_MS: the messages are then not counted as written, and the
** input they came from is not committed (a restart reads it again). */
static int kafka_flush(sl_sink *s, sl_err *err) {
  kafka_sink *k = (kafka_sink *)s;
  int64_t t0 = sl_clock_ms();
  while (rd_kafka_flush(k->rk, 200) == RD_KAFKA_RESP_ERR__TIMED_OUT) {
    if (delivery_error(k, err)) return -1;
    char fe[256];
    if (rd_kafka_fatal_error(k->rk, fe, sizeof fe)) {
      sl_err_set(err, SL_EIO, "kafka: %s", fe);
      return -1;
    }
    int64_t waited = sl_clock_ms() - t0;
    if (sl_sink_giving_up(s) && waited >= SL_STOP_WAIT_MS) {
      sl_err_set(err, SL_EIO,
                 "kafka: stopping: %d message(s) to %s not acknowledged after %lld ms (the "
                 "broker does not answer); their input is not committed and is read again at "
                 "the next start",
                 rd_kafka_outq_len(k->rk), k->topic, (long long)waited);
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
  int np = sl_kafka_partition_count(k->rk, k->topic, "end offsets of ", k->base.interrupted, err);
  if (np < 0) return -1;
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
    if (sl_kafka_watermarks(k->rk, k->topic, p, &lo, &hi, err)) return -1;
    sl_ck_i64(out, hi);
  }
  return 0;
}

/* Read back what this query wrote to the topic from offsets from[0..np)
** to the current ends: each message's id (its sluice-id header, this
** query's fingerprint) into the set: all of them (part < 0, load_pos), or
** those of input partition part (part_load).  *found: how many.  0, or -1
** with err set. */
static int read_back(kafka_sink *k, int64_t *from, int np, int32_t part, int64_t *found,
                     sl_err *err) {
  char errstr[512];
  *found = 0;
  rd_kafka_conf_t *conf = rd_kafka_conf_dup(k->rconf);
  rd_kafka_conf_set(conf, "group.id", "sluice-exactly-once-readback", NULL, 0);
  rd_kafka_conf_set(conf, "enable.auto.commit", "false", NULL, 0);
  rd_kafka_t *c = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
  if (!c) {
    sl_err_set(err, SL_EIO, "kafka: reading back %s: %s", k->topic, errstr);
    return -1;
  }
  rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(np ? np : 1);
  int64_t *to = sl_calloc((size_t)(np ? np : 1), sizeof(int64_t));
  int rc = 0, left = 0;
  for (int p = 0; p < np && !rc; p++) {
    int64_t lo = 0, hi = 0;
    if (sl_kafka_watermarks(c, k->topic, p, &lo, &hi, err)) rc = -1;
    to[p] = hi;
    if (from[p] < lo) from[p] = lo;
    if (from[p] < hi) {
      rd_kafka_topic_partition_list_add(l, k->topic, p)->offset = from[p];
      left++;
    }
  }
  if (!rc && left) rc = rd_kafka_assign(c, l) ? -1 : 0;
  size_t plen = strlen(k->query_fp);
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
      uint64_t id = strtoull(hex, NULL, 16);
      if (part < 0) {
        seen_add(k, id);
        ++*found;
      } else if (SL_ID_PART(id) == (part & 0xffff)) {
        seen_add_part(k, part, id);
        ++*found;
      }
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
  free(to);
  return rc;
}

/* Checkpointed end offsets (save_pos's, part_save's; read from rd) into a new
** array *from (owned by the caller) of at least min_np entries (those not
** in z 0: a partition the topic did not have then); how many, or -1 with
** err set (*from NULL). */
static int parse_ends(kafka_sink *k, sl_ckrd *rd, int min_np, int64_t **from, sl_err *err) {
  sl_ckrd r = *rd;
  int64_t np = sl_ckr_i64(&r);
  if (np < 0 || np > 100000) r.bad = 1;
  *from = NULL;
  if (r.bad) {
    sl_err_set(err, SL_EIO, "kafka: %s: the checkpointed end offsets are corrupt", k->topic);
    return -1;
  }
  int all = (int)np > min_np ? (int)np : min_np;
  int64_t *f = sl_calloc((size_t)(all ? all : 1), sizeof(int64_t));
  for (int64_t p = 0; p < np; p++)
    f[p] = sl_ckr_i64(&r);
  if (r.bad) {
    free(f);
    sl_err_set(err, SL_EIO, "kafka: %s: the checkpointed end offsets are corrupt", k->topic);
    return -1;
  }
  *from = f;
  *rd = r;
  return all;
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
  int64_t *from = NULL;
  sl_ckrd_init(&r, z, n);
  int all = parse_ends(k, &r, 0, &from, err);
  if (all < 0) return -1;
  int64_t found = 0;
  int rc = read_back(k, from, all, -1, &found, err);
  free(k->from);
  k->from = from;
  k->nfrom = all;
  if (!rc && found)
    fprintf(stderr,
            "sluice: kafka: %s: %lld outputs were written after the last checkpoint; "
            "they are not written again\n",
            k->topic, (long long)found);
  return rc;
}

/* The topic's end offsets now into out: np, then each one (those last
** asked for while nothing has been written since: the ends can only have
** grown, and older ones are as good a start for a read-back). */
static int put_ends(kafka_sink *k, sl_buf *out, sl_err *err) {
  int64_t produced = kafka_produced(&k->base);
  if (!k->ends || k->ends_at != produced) {
    int np = sl_kafka_partition_count(k->rk, k->topic, "end offsets of ", k->base.interrupted, err);
    if (np < 0) return -1;
    k->ends = sl_realloc(k->ends, sizeof(int64_t) * (size_t)(np ? np : 1));
    for (int p = 0; p < np; p++) {
      int64_t lo = 0;
      if (sl_kafka_watermarks(k->rk, k->topic, p, &lo, &k->ends[p], err)) {
        free(k->ends);
        k->ends = NULL;
        return -1;
      }
    }
    k->nends = np;
    k->ends_at = produced;
  }
  sl_ck_i64(out, k->nends);
  for (int p = 0; p < k->nends; p++)
    sl_ck_i64(out, k->ends[p]);
  return 0;
}

/* Room for input partition p's read-back state. */
static void rb_room(kafka_sink *k, int32_t p) {
  if (p < k->nrb) return;
  k->rb = sl_realloc(k->rb, sizeof(*k->rb) * (size_t)(p + 1));
  memset(k->rb + k->nrb, 0, sizeof(*k->rb) * (size_t)(p + 1 - k->nrb));
  k->nrb = p + 1;
}

/* sl_sink_vt.part_save: the topic's end offsets, then the ids read back for
** input partition p that its replay has not come to yet (see the top of
** the file). */
static int kafka_sink_part_save(sl_sink *s, int32_t p, sl_buf *out, sl_err *err) {
  kafka_sink *k = (kafka_sink *)s;
  if (put_ends(k, out, err)) return -1;
  part_rb *b = p >= 0 && p < k->nrb && k->rb[p].pending > 0 ? &k->rb[p] : NULL;
  int64_t n = 0;
  for (int pass = 0; pass < 2; pass++) {
    if (pass) sl_ck_i64(out, n);
    for (int i = 0; b && i < b->nids; i++) {
      sl_hslot *sl = seen_find(k, b->ids[i]);
      if (!sl || sl->u != b->gen) continue; /* come to */
      if (pass)
        sl_ck_i64(out, (int64_t)b->ids[i]);
      else
        n++;
    }
  }
  return 0;
}

/* sl_sink_vt.part_load: the ids part_save listed, and those of the outputs
** of input partition p written from its offsets on (z NULL: from the
** topic's start), read back. */
static int kafka_sink_part_load(sl_sink *s, int32_t p, const void *z, size_t n, sl_err *err) {
  kafka_sink *k = (kafka_sink *)s;
  if (p < 0) return 0;
  int np = sl_kafka_partition_count(k->rk, k->topic, "end offsets of ", k->base.interrupted, err);
  if (np < 0) return -1;
  rb_room(k, p);
  part_rb *b = &k->rb[p];
  b->gen = ++k->gen;
  b->pending = 0;
  b->nids = 0;
  int64_t *from = NULL;
  int all = np;
  if (z) {
    sl_ckrd r;
    sl_ckrd_init(&r, z, n);
    all = parse_ends(k, &r, np, &from, err);
    if (all < 0) return -1;
    int64_t nid = sl_ckr_i64(&r);
    if (nid < 0 || nid > (int64_t)(r.end - r.p)) r.bad = 1;
    for (int64_t i = 0; i < nid && !r.bad; i++)
      seen_add_part(k, p, (uint64_t)sl_ckr_i64(&r));
    if (r.bad || r.p != r.end) {
      free(from);
      sl_err_set(err, SL_EIO, "kafka: %s: the read-back position of input partition %d is corrupt",
                 k->topic, (int)p);
      return -1;
    }
  } else {
    from = sl_calloc((size_t)(np ? np : 1), sizeof(int64_t));
  }
  int64_t found = 0;
  int rc = read_back(k, from, all, p, &found, err);
  free(from);
  if (!rc && b->pending)
    fprintf(stderr,
            "sluice: kafka: %s: %lld outputs of input partition %d were written after its "
            "last state; they are not written again\n",
            k->topic, (long long)b->pending, (int)p);
  return rc;
}

static void kafka_sink_close(sl_sink *s) {
  kafka_sink *k = (kafka_sink *)s;
  if (k->skipped)
    fprintf(stderr, "sluice: kafka: %s: %lld replayed outputs skipped (exactly once)\n", k->topic,
            (long long)k->skipped);
  sl_htab_free(&k->seen);
  free(k->ring);
  free(k->from);
  for (int p = 0; p < k->nrb; p++)
    free(k->rb[p].ids);
  free(k->rb);
  free(k->ends);
  free(k->query_fp);
  if (k->rconf) rd_kafka_conf_destroy(k->rconf);
  sl_buf_free(&k->idbuf);
  if (k->rkt) rd_kafka_topic_destroy(k->rkt);
  if (k->rk) {
    /* stopping with a broker that does not answer: what is left is dropped
    ** (kafka_flush said so, and nothing of it was committed) */
    if (sl_sink_giving_up(&k->base) && rd_kafka_flush(k->rk, 0) == RD_KAFKA_RESP_ERR__TIMED_OUT)
      rd_kafka_purge(k->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_flush(k->rk, sl_sink_giving_up(&k->base) ? 1000 : 10000);
    rd_kafka_destroy(k->rk);
  }
  pthread_mutex_destroy(&k->mu);
  sl_sink_fini(&k->base);
  free(k->topic);
  free(k);
}

static const sl_sink_vt kafka_sink_vt = {"kafka",
                                         kafka_write,
                                         kafka_flush,
                                         kafka_sink_close,
                                         kafka_sink_save_pos,
                                         kafka_sink_load_pos,
                                         kafka_produced,
                                         kafka_acked,
                                         kafka_sink_part_save,
                                         kafka_sink_part_load};

/* Open the sink (connector.h): check the options, then (unless planning)
** make the idempotent producer.  NULL with err set. */
sl_sink *sl_kafka_open_sink(sl_options *o, sl_err *err) {
  const char *topic = sl_kafka_topic(o, "preds", err);
  if (!topic) return NULL;
  kafka_sink *k = sl_calloc(1, sizeof *k);
  sl_htab_init(&k->seen, &id_type);
  k->gen = ID_PENDING;
  k->base.vt = &kafka_sink_vt;
  k->topic = sl_strdup(topic);
  pthread_mutex_init(&k->mu, NULL);
  /* key => 'column' names the key column (it stays in the value too); else a
  ** selected column named key is the key (and not part of the value) */
  const char *key_col = sl_opt_str(o, "key", NULL);
  k->base.key_col = sl_strdup(key_col ? key_col : "key");
  k->base.key_implicit = key_col == NULL;
  if (o->exactly_once) {
    k->exactly_once = k->base.by_id = 1;
    k->query_fp = sl_strdup(o->query_fp ? o->query_fp : "sluice");
  }
  /* origin => true: each message says where its row's input record was
  ** (header sluice-origin "<partition>:<offset>"), for a reader that keeps
  ** state per partition (docs/scale-out.md) */
  k->base.want_origin = sl_opt_bool(o, "origin", 0, err);
  if (err->code) goto fail;
  /* partitions => n or partitions_of => 'topic': make the topic first
  ** (a repartition topic, plan_repart.c) */
  int64_t nparts = sl_opt_int(o, "partitions", 0, err);
  const char *parts_of = sl_opt_str(o, "partitions_of", NULL);
  if (err->code) goto fail;
  if (nparts < 0 || nparts > 100000) {
    sl_err_set(err, SL_EBIND, "kafka: partitions => takes 1 to 100000");
    goto fail;
  }
  if (sl_sink_init_format(&k->base, o, "json", err)) goto fail;
  rd_kafka_conf_t *conf = sl_kafka_conf(o, err);
  if (!conf) goto fail;
  if (sl_options_check(o, err) || o->check_only) {
    /* planning: every option is checked, nothing is contacted */
    rd_kafka_conf_destroy(conf);
    if (err->code) goto fail;
    return &k->base;
  }
  k->ring = sl_calloc(ACK_RING, 1);
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
  if (parts_of && !nparts) {
    int n = sl_kafka_partition_count(k->rk, parts_of, "partitions of ", o->interrupted, err);
    if (n < 0) goto fail;
    nparts = n;
  }
  if (nparts && sl_kafka_make_topic(k->rk, topic, (int)nparts, 0, o->interrupted, err) < 0)
    goto fail;
  k->rkt = rd_kafka_topic_new(k->rk, topic, NULL);
  return &k->base;
fail:
  kafka_sink_close(&k->base);
  return NULL;
}
