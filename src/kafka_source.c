/*
** kafka_source.c - the Kafka source, kafka('topic', ...) after FROM: a
** consumer of every partition of the topic.
**
** offset => 'earliest' | 'latest' | 'committed' says where it starts.  With
** stop => 'end' it takes every partition itself and reads up to the end
** offsets seen when it opens, then ends (a bounded source); without, it
** joins the consumer group (group => 'name', default
** "<application_id>-<topic>-<feeds_id>": SET application_id, "sluice" when
** unset, and the identity of the queries it feeds, so one group per query;
** EXPLAIN names it), which shares the partitions among every consumer
** reading with that group (rebalance()): the processes running the query,
** and the parallel tasks of each (SET parallelism, sl_options.nsplit).  A member of a run with
*checkpoints is a static member
** (group.instance.id from the group and sl_options.instance_id, KIP-345): a
** restart after a crash takes its partitions back at once instead of
** waiting for the dead member's session to time out.  The dev broker
** (librdkafka's mock cluster, cluster id "mockCluster...") has no static
** membership: there a continuous source asks for a 3 s session timeout
** unless session.timeout.ms is given (docs/checkpoints.md).  Without a format a record is one row
*of the columns key,
** value, topic, partition, offset, timestamp, headers; with format => 'json'
** | 'csv' | 'raw' the value is decoded into columns exactly as for files.
**
** Offsets are committed to the group only through commit(), which the task
** calls once every output derived from the records read has been delivered:
** at-least-once.  Checkpoints save the next offset of every partition
** (save_pos) and go on from there (load_pos).  lag() is the consumer lag
** from the watermarks librdkafka already knows.
**
** Message memory: a read returns records that point into the messages of
** that read; they are destroyed at the next read or at close.
**
** changelog => 'upsert' reads the topic as a changelog, as Flink's
** upsert-kafka: a message is its key's row (the value decoded), a new value
** for a key takes the key's last row back (-U) and gives the new one (+U),
** a tombstone takes it back (-D), a message without a key is left out.  The
** source keeps each key's last value (copies: records point into them, not
** into messages), checkpointed with its position; it commits no offsets to
** its group, so without a checkpoint it reads the topic from the start.
*/
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "hash.h"
#include "json.h"
#include "kafka.h"

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
  int unanswered;          /* the last offset commit timed out (the coordinator is away) */
  int bounded;
  int typed;                 /* no format: rows of kafka_columns */
  rd_kafka_message_t **msgs; /* messages of the last read, destroyed at the next */
  int nmsgs, cap;
  sl_buf headers; /* typed rows: headers as JSON, per message (offsets into it) */
  size_t *hoff;
  /* a bounded read's assignment, made at its first read: a checkpoint's
  ** positions (load_pos) change it before anything is fetched, so no
  ** message of the first offsets is ever in flight */
  rd_kafka_topic_partition_list_t *first_assign;
  sl_record *rowrec; /* typed rows: the records of the last read (row_records) */
  int nrowrec;
  /* as_table => true (a bounded read): the topic read as a compacted table,
  ** each key's last message (tombstones remove keys), gathered in tab by
  ** the reads until the end, then given out from tabpos */
  int as_table, loaded;
  rd_kafka_message_t **tab; /* owned; NULL where a tombstone removed the key */
  int ntab, tabcap, tabpos;
  sl_htab tabkeys;    /* message key bytes -> index into tab (u) */
  int64_t no_key;     /* messages without a key, left out of the table */
  int64_t bad_origin; /* messages whose sluice-origin header is malformed */
  /* changelog => 'upsert': every live key's last value (ukey entries, p) */
  int upsert;
  sl_htab ukeys;
  char **dead; /* values taken back in the last read, freed at the next */
  int ndead, capdead;
  struct ukey *pending; /* a +U the last read had no room for: the next read's first */
  int64_t pend_off, pend_ts;
  int32_t pend_part;
  /* a continuous read: the application id (SET application_id, "sluice"
  ** when unset) and group => as given (NULL: the default), what names its
  ** consumer group (group_name) (owned) */
  char *app, *group;
  /* state_topic => (sl_source.per_partition): each owned partition's state
  ** is one message of the state topic (kept compacted), partition p's on
  ** its partition p, key "p", value: version, the offset p goes on from,
  ** the router's blob (sl_pstate_hooks.save).  sprod writes them, sread
  ** reads one back (no group; the legacy per-partition consumer).  A read
  ** gives the records of one partition: fetched messages wait in stash
  ** (stashpos the next) until their partition's turn.  resume[p]: the
  ** offset p's state says (-1: none). */
  char *state_topic;
  rd_kafka_t *sprod, *sread;
  rd_kafka_topic_t *sprkt, *srrkt;
  rd_kafka_message_t **stash;
  int nstash, stashpos, stashcap;
  sl_err ps_err;   /* a failure in the rebalance callback: the next read says it */
  int64_t sfailed; /* state records whose delivery failed (under the producer's poll) */
  char sfailure[256];
  sl_buf sbuf;
} kafka_source;

/* changelog => 'upsert': a key's last value (owned copies). */
typedef struct ukey {
  char *key;
  size_t klen;
  char *val;
  size_t vlen;
} ukey;

/* What an entry holds (its struct, its two copies, its slots). */
static int64_t ukey_bytes(const ukey *u) {
  return (int64_t)(sizeof(ukey) + u->klen + u->vlen + 2 + 2 * sizeof(sl_hslot) + 3 * 16);
}

/* A lookup of a key's bytes. */
typedef struct ukey_lookup {
  const char *z;
  size_t n;
} ukey_lookup;

static uint64_t ukey_hash(const void *key) {
  const ukey_lookup *l = key;
  return sl_hash(l->z, l->n, 0);
}

static int ukey_eq(const void *key, const sl_hslot *s) {
  const ukey_lookup *l = key;
  const ukey *u = s->p;
  return u->klen == l->n && !memcmp(u->key, l->z, l->n);
}

static const sl_htype ukey_type = {ukey_hash, ukey_eq};

static void drop_messages(kafka_source *k) {
  for (int i = 0; i < k->nmsgs; i++)
    rd_kafka_message_destroy(k->msgs[i]);
  k->nmsgs = 0;
}

/* A lookup in a table's keys: a message key (bytes) and the array whose
** messages the slots index (slot u = index + 1; a key a tombstone removed
** has no slot, so every slot's message is there). */
typedef struct tab_lookup {
  const void *z;
  size_t n;
  rd_kafka_message_t *const *tab;
} tab_lookup;

static uint64_t tab_hash(const void *key) {
  const tab_lookup *l = key;
  return sl_hash(l->z, l->n, 0);
}

static int tab_eq(const void *key, const sl_hslot *s) {
  const tab_lookup *l = key;
  const rd_kafka_message_t *m = l->tab[s->u - 1];
  return m->key_len == l->n && !memcmp(m->key, l->z, l->n);
}

static const sl_htype tab_type = {tab_hash, tab_eq};

/* All partitions read up to their end offsets? */
static int all_done(kafka_source *k) {
  for (int p = 0; p < k->nparts; p++)
    if (k->next[p] < k->end[p]) return 0;
  return 1;
}

/* m, a message with an error: -1 (err set) when the query must stop (a
** fatal error, a topic that is not there or not allowed), 0 when
** librdkafka retries it. */
static int message_error(kafka_source *k, rd_kafka_message_t *m, sl_err *err) {
  if ((m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF && rd_kafka_fatal_error(k->rk, NULL, 0)) ||
      m->err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED ||
      m->err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC) {
    sl_err_set(err, SL_EIO, "kafka: %s", rd_kafka_message_errstr(m));
    return -1;
  }
  return 0;
}

/* Fetch a batch of messages into k->msgs; returns how many were kept, or
** SL_READ_* . */
static int fetch_raw(kafka_source *k, int max, int timeout_ms, sl_err *err) {
  drop_messages(k);
  if (k->bounded && all_done(k)) return SL_READ_END;
  if (k->first_assign) {
    rd_kafka_resp_err_t e = rd_kafka_assign(k->rk, k->first_assign);
    rd_kafka_topic_partition_list_destroy(k->first_assign);
    k->first_assign = NULL;
    if (e) {
      sl_err_set(err, SL_EIO, "kafka: consuming %s: %s", k->topic, rd_kafka_err2str(e));
      return SL_READ_ERROR;
    }
  }
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
      if (message_error(k, m, err)) {
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
    if (k->bounded && k->next[p] >= 0 && m->offset < k->next[p]) {
      rd_kafka_message_destroy(m); /* a bounded read never goes back: read already */
      continue;
    }
    k->next[p] = m->offset + 1;
    k->msgs[kept++] = m;
  }
  k->nmsgs = kept;
  if (!kept) return (k->bounded && all_done(k)) ? SL_READ_END : SL_READ_AGAIN;
  return kept;
}

/* as_table: the messages of the last fetch_raw into the table: a message
** replaces its key's earlier one, a tombstone (no value) removes the key, a
** message without a key is left out (counted, the first one logged). */
static void tab_take(kafka_source *k) {
  for (int i = 0; i < k->nmsgs; i++) {
    rd_kafka_message_t *m = k->msgs[i];
    if (!m->key) {
      if (!k->no_key++)
        fprintf(stderr,
                "sluice: kafka: %s[%d]@%lld: a message without a key, left out of the table "
                "(as_table => true keeps each key's last message); others are counted\n",
                k->topic, (int)m->partition, (long long)m->offset);
      rd_kafka_message_destroy(m);
      continue;
    }
    tab_lookup l = {m->key, m->key_len, k->tab};
    uint64_t h = tab_hash(&l);
    sl_hslot *hs = sl_htab_find_t(&k->tabkeys, &tab_type, h, &l);
    if (hs) {
      int at = (int)hs->u - 1;
      rd_kafka_message_destroy(k->tab[at]);
      k->tab[at] = m->payload ? m : NULL;
      if (!m->payload) {
        sl_htab_remove(&k->tabkeys, hs);
        rd_kafka_message_destroy(m);
      }
      continue;
    }
    if (!m->payload) { /* a tombstone of a key not in the table */
      rd_kafka_message_destroy(m);
      continue;
    }
    if (k->ntab == k->tabcap) {
      k->tabcap = k->tabcap ? 2 * k->tabcap : 1024;
      k->tab = sl_realloc(k->tab, sizeof(*k->tab) * (size_t)k->tabcap);
    }
    k->tab[k->ntab++] = m;
    l.tab = k->tab;
    int added;
    hs = sl_htab_put_t(&k->tabkeys, &tab_type, h, &l, &added);
    hs->u = (uint64_t)k->ntab;
  }
  k->nmsgs = 0; /* taken */
}

/* Fetch a batch of messages into k->msgs: as fetch_raw, but a table
** (as_table) is first read to its end (the reads before say SL_READ_AGAIN
** when the broker keeps them waiting), then given out in the order its keys
** first came, each key's last message. */
static int fetch_pstate(kafka_source *k, int max, int timeout_ms, sl_err *err);

static int fetch(kafka_source *k, int max, int timeout_ms, sl_err *err) {
  if (k->state_topic) return fetch_pstate(k, max, timeout_ms, err);
  if (!k->as_table) return fetch_raw(k, max, timeout_ms, err);
  drop_messages(k);
  while (!k->loaded) {
    int n = fetch_raw(k, 1024, timeout_ms, err);
    if (n < 0) return n; /* an error, or nothing yet */
    if (n > 0) {
      tab_take(k);
      continue;
    }
    k->loaded = 1; /* the end: drop the removed keys' places */
    int w = 0;
    for (int i = 0; i < k->ntab; i++)
      if (k->tab[i]) k->tab[w++] = k->tab[i];
    k->ntab = w;
    sl_htab_free(&k->tabkeys);
    sl_htab_init(&k->tabkeys, &tab_type);
  }
  int n = k->ntab - k->tabpos < max ? k->ntab - k->tabpos : max;
  if (n <= 0) return SL_READ_END;
  if (n > k->cap) {
    k->cap = n;
    k->msgs = sl_realloc(k->msgs, sizeof(*k->msgs) * (size_t)n);
  }
  memcpy(k->msgs, k->tab + k->tabpos, sizeof(*k->msgs) * (size_t)n);
  k->tabpos += n; /* given: destroyed by the next fetch */
  k->nmsgs = n;
  return n;
}

static int upsert_read(kafka_source *k, sl_record *recs, int max, int timeout_ms, sl_err *err);

/* r's origin (sl_record.origin, origin_pos) from m's header sluice-origin
** (a repartition topic's, kafka_sink.c origin => true), else none.  A
** message without headers costs one test; a malformed header is no origin,
** counted (k->bad_origin) and the first one logged. */
static void record_origin(kafka_source *k, rd_kafka_message_t *m, sl_record *r) {
  r->origin = 0;
  r->origin_pos = -1;
  rd_kafka_headers_t *h = NULL;
  const void *v = NULL;
  size_t vn = 0;
  if (rd_kafka_message_headers(m, &h) || rd_kafka_header_get_last(h, SL_ORIGIN_HEADER, &v, &vn))
    return;
  int32_t part;
  int64_t pos;
  if (sl_kafka_parse_origin(v, vn, &part, &pos)) {
    if (!k->bad_origin++)
      fprintf(stderr,
              "sluice: kafka: %s[%d]@%lld: header " SL_ORIGIN_HEADER
              " is not <partition>:<offset>; the record is read without an origin (others are "
              "counted)\n",
              k->topic, (int)m->partition, (long long)m->offset);
    return;
  }
  r->origin = part + 1;
  r->origin_pos = pos;
}

static int kafka_read(sl_source *s, sl_record *recs, int max, int timeout_ms, sl_err *err) {
  kafka_source *k = (kafka_source *)s;
  if (k->upsert) return upsert_read(k, recs, max, timeout_ms, err);
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
    r->error = NULL;
    r->op = SL_ROW_INSERT;
    record_origin(k, m, r);
  }
  return n;
}

/* A copy of n bytes z (NUL-terminated: decoders may read one past). */
static char *bytes_dup(const void *z, size_t n) {
  char *c = sl_malloc(n + 1);
  if (n) memcpy(c, z, n);
  c[n] = 0;
  return c;
}

/* Record r of kind op: u's key, the value z[0..n), at m's place. */
static void upsert_rec(sl_record *r, const ukey *u, const char *z, size_t n, int64_t off,
                       int32_t part, int64_t ts, int op) {
  *r = (sl_record){z, n, u->key, u->klen, off, part, ts, NULL, op, 0, -1};
}

/* Keep value v (taken back) until the next read: a record points into it. */
static void upsert_dead(kafka_source *k, char *v) {
  if (k->ndead == k->capdead) {
    k->capdead = k->capdead ? 2 * k->capdead : 64;
    k->dead = sl_realloc(k->dead, sizeof(char *) * (size_t)k->capdead);
  }
  k->dead[k->ndead++] = v;
}

/* changelog => 'upsert': read messages and turn them into up to max
** records of the topic's changelog (see the file comment).  Records, or
** SL_READ_*. */
static int upsert_read(kafka_source *k, sl_record *recs, int max, int timeout_ms, sl_err *err) {
  for (int i = 0; i < k->ndead; i++)
    free(k->dead[i]);
  k->ndead = 0;
  int n = 0;
  if (k->pending) { /* the +U of a -U the last read gave */
    ukey *u = k->pending;
    k->pending = NULL;
    upsert_rec(&recs[n++], u, u->val, u->vlen, k->pend_off, k->pend_part, k->pend_ts,
               SL_ROW_UPDATE_AFTER);
  }
  int want = (max - n) / 2; /* a message makes two records at most */
  if (!n && !want) want = 1;
  if (!want) return n;
  int got = fetch(k, want, n ? 0 : timeout_ms, err);
  if (got == SL_READ_ERROR) return got;
  for (int i = 0; i < got; i++) {
    rd_kafka_message_t *m = k->msgs[i];
    int64_t ts = rd_kafka_message_timestamp(m, NULL);
    if (!m->key) {
      if (!k->no_key++)
        fprintf(stderr,
                "sluice: kafka: %s[%d]@%lld: a message without a key, left out of the "
                "changelog (changelog => 'upsert' reads each key's rows); others are counted\n",
                k->topic, (int)m->partition, (long long)m->offset);
      continue;
    }
    ukey_lookup l = {m->key, m->key_len};
    uint64_t h = ukey_hash(&l);
    sl_hslot *hs = sl_htab_find_t(&k->ukeys, &ukey_type, h, &l);
    ukey *u = hs ? hs->p : NULL;
    if (!m->payload) { /* a tombstone: -D of the key's row, if it has one */
      if (!u) continue;
      upsert_rec(&recs[n++], u, u->val, u->vlen, m->offset, m->partition, ts, SL_ROW_DELETE);
      k->base.state_bytes -= ukey_bytes(u);
      k->base.state_keys--;
      sl_htab_remove(&k->ukeys, hs);
      upsert_dead(k, u->val);
      upsert_dead(k, u->key);
      free(u);
      continue;
    }
    if (u) { /* -U of its last row, +U of the new one */
      upsert_rec(&recs[n++], u, u->val, u->vlen, m->offset, m->partition, ts, SL_ROW_UPDATE_BEFORE);
      upsert_dead(k, u->val);
      k->base.state_bytes -= ukey_bytes(u);
      u->val = bytes_dup(m->payload, m->len);
      u->vlen = m->len;
      k->base.state_bytes += ukey_bytes(u);
      if (n == max) { /* batch_size 1: the +U comes first next time */
        SL_ASSERT(i == got - 1);
        k->pending = u;
        k->pend_off = m->offset;
        k->pend_part = m->partition;
        k->pend_ts = ts;
        break;
      }
      upsert_rec(&recs[n++], u, u->val, u->vlen, m->offset, m->partition, ts, SL_ROW_UPDATE_AFTER);
      continue;
    }
    int added;
    u = sl_calloc(1, sizeof *u);
    u->key = bytes_dup(m->key, m->key_len);
    u->klen = m->key_len;
    u->val = bytes_dup(m->payload, m->len);
    u->vlen = m->len;
    l.z = u->key;
    sl_htab_put_t(&k->ukeys, &ukey_type, h, &l, &added)->p = u;
    k->base.state_bytes += ukey_bytes(u);
    k->base.state_keys++;
    upsert_rec(&recs[n++], u, u->val, u->vlen, m->offset, m->partition, ts, SL_ROW_INSERT);
  }
  if (n) return n;
  return got == 0 ? SL_READ_END : SL_READ_AGAIN; /* only keyless messages: nothing yet */
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
  if (n > k->nrowrec) {
    k->rowrec = sl_realloc(k->rowrec, sizeof(sl_record) * (size_t)n);
    k->nrowrec = n;
  }
  for (int i = 0; i < n; i++) {
    rd_kafka_message_t *m = k->msgs[i];
    k->rowrec[i] = (sl_record){m->payload,
                               m->len,
                               m->key,
                               m->key_len,
                               m->offset,
                               m->partition,
                               rd_kafka_message_timestamp(m, NULL),
                               NULL,
                               0,
                               0,
                               -1};
    record_origin(k, m, &k->rowrec[i]);
  }
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

static const sl_record *kafka_row_records(sl_source *s) {
  return ((kafka_source *)s)->rowrec;
}

static void kafka_position(sl_source *s, const sl_record *rec, sl_buf *out) {
  kafka_source *k = (kafka_source *)s;
  sl_buf_printf(out, "%s[%d]@%lld", k->topic, rec->partition, (long long)rec->pos);
}

static void commit_done(rd_kafka_t *rk, rd_kafka_resp_err_t e,
                        rd_kafka_topic_partition_list_t *offsets, void *opaque) {
  (void)rk, (void)e, (void)offsets, (void)opaque; /* the result is read as an event */
}

/* How long to wait for the group coordinator: SL_STOP_WAIT_MS, or half a
** second once it has let a commit time out (a stop then does not wait the
** whole time again for the last commit and for leaving the group). */
static int wait_ms(const kafka_source *k) {
  return k->unanswered ? 500 : SL_STOP_WAIT_MS;
}

/* Commit l and wait for the coordinator's answer for wait_ms() at
** most: a synchronous commit to a broker that went away blocked the task
** (and its stop) for the client's whole retry time.  A commit that times
** out is _TIMED_OUT; its records are read again (at-least-once). */
static rd_kafka_resp_err_t commit_bounded(kafka_source *k, rd_kafka_topic_partition_list_t *l) {
  rd_kafka_queue_t *q = rd_kafka_queue_new(k->rk);
  rd_kafka_resp_err_t e = rd_kafka_commit_queue(k->rk, l, q, commit_done, NULL);
  if (!e) {
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, wait_ms(k));
    e = ev ? rd_kafka_event_error(ev) : RD_KAFKA_RESP_ERR__TIMED_OUT;
    if (ev) rd_kafka_event_destroy(ev);
    k->unanswered = e == RD_KAFKA_RESP_ERR__TIMED_OUT;
  }
  rd_kafka_queue_destroy(q);
  return e;
}

static int kafka_commit(sl_source *s, int what, sl_err *err) {
  kafka_source *k = (kafka_source *)s;
  if (k->upsert) return 0; /* its table lives in checkpoints only: it starts over without one */
  if (k->state_topic) return 0; /* offsets are committed with the partitions' states */
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
  rd_kafka_resp_err_t e = l->cnt ? commit_bounded(k, l) : RD_KAFKA_RESP_ERR_NO_ERROR;
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
  if (!k->upsert) return 0;
  /* changelog => 'upsert': each key's last value, and a +U not given yet */
  sl_ck_i64(out, (int64_t)k->ukeys.count);
  sl_hiter it = sl_htab_iter(&k->ukeys);
  for (sl_hslot *hs; (hs = sl_htab_next(&k->ukeys, &it));) {
    const ukey *u = hs->p;
    sl_ck_bytes(out, u->key, u->klen);
    sl_ck_bytes(out, u->val, u->vlen);
  }
  sl_ck_i64(out, k->pending != NULL);
  if (k->pending) {
    sl_ck_bytes(out, k->pending->key, k->pending->klen);
    sl_ck_i64(out, k->pend_off);
    sl_ck_i64(out, k->pend_part);
    sl_ck_i64(out, k->pend_ts);
  }
  return 0;
}

/* changelog => 'upsert': the keys' values of a checkpoint (r after the
** positions) into the table.  0, or -1 when the bytes are not one. */
static int upsert_load(kafka_source *k, sl_ckrd *r) {
  int64_t nk = sl_ckr_i64(r);
  for (int64_t i = 0; i < nk && !r->bad; i++) {
    size_t kn, vn;
    const char *kz = sl_ckr_bytes(r, &kn), *vz = sl_ckr_bytes(r, &vn);
    if (r->bad) break;
    ukey_lookup l = {kz, kn};
    int added;
    sl_hslot *hs = sl_htab_put_t(&k->ukeys, &ukey_type, ukey_hash(&l), &l, &added);
    if (!added) return -1; /* a key twice */
    ukey *u = sl_calloc(1, sizeof *u);
    u->key = bytes_dup(kz, kn);
    u->klen = kn;
    u->val = bytes_dup(vz, vn);
    u->vlen = vn;
    hs->p = u;
    k->base.state_bytes += ukey_bytes(u);
    k->base.state_keys++;
  }
  if (sl_ckr_i64(r) && !r->bad) {
    size_t kn;
    const char *kz = sl_ckr_bytes(r, &kn);
    ukey_lookup l = {kz, kn};
    sl_hslot *hs = r->bad ? NULL : sl_htab_find_t(&k->ukeys, &ukey_type, ukey_hash(&l), &l);
    if (!hs) return -1;
    k->pending = hs->p;
    k->pend_off = sl_ckr_i64(r);
    k->pend_part = (int32_t)sl_ckr_i64(r);
    k->pend_ts = sl_ckr_i64(r);
  }
  return r->bad || r->p != r->end ? -1 : 0;
}

/* Go on from a checkpoint: a bounded read is reassigned at once; in a
** consumer group the partitions this consumer is given start there
** (rebalance()), others at the group's committed offsets. */
static int kafka_load_pos(sl_source *s, const void *z, size_t n, sl_err *err) {
  kafka_source *k = (kafka_source *)s;
  if (k->as_table) return 0;    /* a table is read whole again at every start */
  if (k->state_topic) return 0; /* the state topic says where each partition goes on */
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
  if (k->upsert && !r.bad && upsert_load(k, &r)) r.bad = 1;
  if (r.bad) {
    sl_err_set(err, SL_EIO, "kafka: %s: the checkpointed position is corrupt", k->topic);
    return -1;
  }
  if (!k->bounded || !k->first_assign) return 0;
  /* the assignment not made yet (fetch makes it) starts from here */
  for (int i = 0; i < k->first_assign->cnt; i++) {
    int p = k->first_assign->elems[i].partition;
    if (p < 0 || p >= k->nparts) continue;
    k->first_assign->elems[i].offset = k->resume[p] >= 0 ? k->resume[p] : RD_KAFKA_OFFSET_BEGINNING;
    if (k->resume[p] >= 0) k->next[p] = k->resume[p];
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

/* ---- state_topic =>: state kept per partition, stored in Kafka ------------ */

/* Fetch into k->msgs the next records of one partition (a read never mixes
** two): those waiting in the stash, else a new batch from the consumer
** (the rebalance callback may run inside it: pstate_rebalance).  How many,
** or SL_READ_*. */
static int fetch_pstate(kafka_source *k, int max, int timeout_ms, sl_err *err) {
  drop_messages(k);
  if (k->stashpos == k->nstash) {
    k->nstash = k->stashpos = 0;
    if (max > k->stashcap) {
      k->stashcap = max;
      k->stash = sl_realloc(k->stash, sizeof(*k->stash) * (size_t)max);
    }
    if (timeout_ms < 0) timeout_ms = 1000;
    ssize_t n = rd_kafka_consume_batch_queue(k->q, timeout_ms, k->stash, 1);
    if (n == 1 && max > 1) {
      ssize_t more = rd_kafka_consume_batch_queue(k->q, 0, k->stash + 1, (size_t)max - 1);
      if (more > 0) n += more;
    }
    if (n < 0) {
      sl_err_set(err, SL_EIO, "kafka: %s", rd_kafka_err2str(rd_kafka_last_error()));
      return SL_READ_ERROR;
    }
    for (ssize_t i = 0; i < n; i++) {
      rd_kafka_message_t *m = k->stash[i];
      int p = m->partition;
      if (m->err && message_error(k, m, err)) {
        for (ssize_t j = i; j < n; j++)
          rd_kafka_message_destroy(k->stash[j]);
        return SL_READ_ERROR;
      }
      /* an error librdkafka retries, a partition not (or no longer) this
      ** consumer's, or a message before where its partition goes on */
      if (m->err || p < 0 || p >= k->nparts || !k->assigned || !k->assigned[p] ||
          (k->next[p] >= 0 && m->offset < k->next[p]) ||
          (k->next[p] < 0 && k->resume[p] >= 0 && m->offset < k->resume[p])) {
        rd_kafka_message_destroy(m);
        continue;
      }
      k->stash[k->nstash++] = m;
    }
  }
  if (k->ps_err.code) { /* the rebalance callback failed */
    sl_err_set(err, k->ps_err.code, "%s", k->ps_err.msg ? k->ps_err.msg : "state_topic failed");
    sl_err_clear(&k->ps_err);
    return SL_READ_ERROR;
  }
  if (k->stashpos == k->nstash) return SL_READ_AGAIN;
  if (max > k->cap) {
    k->cap = max;
    k->msgs = sl_realloc(k->msgs, sizeof(*k->msgs) * (size_t)max);
  }
  int p = k->stash[k->stashpos]->partition, n = 0;
  while (k->stashpos < k->nstash && n < max && k->stash[k->stashpos]->partition == p) {
    rd_kafka_message_t *m = k->stash[k->stashpos++];
    k->next[p] = m->offset + 1;
    k->msgs[n++] = m;
  }
  k->nmsgs = n;
  return n;
}

/* Delivery reports of state records: failures counted for pstate_write. */
static void state_delivered(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
  (void)rk;
  kafka_source *k = opaque;
  if (m->err && !k->sfailed++)
    snprintf(k->sfailure, sizeof k->sfailure, "kafka: writing the state of %s[%d] to %s: %s",
             k->topic, (int)m->partition, k->state_topic, rd_kafka_err2str(m->err));
}

/* The last state record of partition p into out (the router's blob) and
** *off (the offset p goes on from, -1: the group's).  1 found, 0 none, -1
** with err set. */
static int state_read(kafka_source *k, int p, sl_buf *out, int64_t *off, sl_err *err) {
  int64_t lo = 0, hi = 0;
  *off = -1;
  if (sl_kafka_watermarks(k->sread, k->state_topic, p, &lo, &hi, err)) return -1;
  if (hi <= lo) return 0;
  if (rd_kafka_consume_start(k->srrkt, p, hi - 1)) {
    sl_err_set(err, SL_EIO, "kafka: reading %s[%d]: %s", k->state_topic, p,
               rd_kafka_err2str(rd_kafka_last_error()));
    return -1;
  }
  rd_kafka_message_t *m = NULL;
  int64_t until = sl_clock_ms() + 15000;
  while (sl_clock_ms() < until) {
    m = rd_kafka_consume(k->srrkt, p, 500);
    if (!m) continue;
    if (!m->err && m->offset >= hi - 1) break;
    if (m->err && m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      sl_err_set(err, SL_EIO, "kafka: reading %s[%d]: %s", k->state_topic, p,
                 rd_kafka_message_errstr(m));
      rd_kafka_message_destroy(m);
      rd_kafka_consume_stop(k->srrkt, p);
      return -1;
    }
    rd_kafka_message_destroy(m);
    m = NULL;
  }
  rd_kafka_consume_stop(k->srrkt, p);
  if (!m) {
    sl_err_set(err, SL_EIO, "kafka: reading %s[%d]: its last record did not come within 15 s",
               k->state_topic, p);
    return -1;
  }
  sl_ckrd r;
  sl_ckrd_init(&r, m->payload, m->payload ? m->len : 0);
  int64_t version = sl_ckr_i64(&r);
  *off = sl_ckr_i64(&r);
  size_t bn = 0;
  const char *b = sl_ckr_bytes(&r, &bn);
  int bad = r.bad || version != 1 || r.p != r.end;
  if (!bad) {
    sl_buf_reset(out);
    sl_buf_append(out, b, bn);
  }
  rd_kafka_message_destroy(m);
  if (bad) {
    sl_err_set(err, SL_EIO, "kafka: %s[%d]: the state record at offset %lld is not one of sluice's",
               k->state_topic, p, (long long)(hi - 1));
    return -1;
  }
  return 1;
}

/* Write the state of every partition k owns (the router flushes the sink
** first: the outputs a state counts are durable before it), wait for the
** broker, then commit the offsets they say to the group (for lag tools;
** the state records decide where a partition goes on); drop: then the
** router drops them (a revoke).  0, or -1 with err set. */
static int pstate_write_all(kafka_source *k, int drop, sl_err *err) {
  const sl_pstate_hooks *h = k->base.pstate;
  int any = 0;
  for (int p = 0; p < k->nparts && !any; p++)
    any = k->assigned && k->assigned[p];
  if (!h || !any) return 0;
  if (h->flush(h->ud, err)) return -1;
  rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(k->nparts);
  int rc = 0;
  for (int p = 0; p < k->nparts && !rc; p++) {
    if (!k->assigned[p]) continue;
    int64_t off = k->next[p] >= 0 ? k->next[p] : k->resume[p];
    sl_buf_reset(&k->sbuf);
    sl_ck_i64(&k->sbuf, 1);
    sl_ck_i64(&k->sbuf, off);
    size_t at = sl_ck_open(&k->sbuf);
    if (h->save(h->ud, p, &k->sbuf, err)) {
      rc = -1;
      break;
    }
    sl_ck_close(&k->sbuf, at);
    char key[16];
    int kn = snprintf(key, sizeof key, "%d", p);
    while (rd_kafka_produce(k->sprkt, p, RD_KAFKA_MSG_F_COPY, k->sbuf.z, k->sbuf.n, key, (size_t)kn,
                            NULL)) {
      rd_kafka_resp_err_t e = rd_kafka_last_error();
      if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        sl_err_set(err, SL_EIO, "kafka: writing the state of %s[%d] to %s (%zu bytes): %s",
                   k->topic, p, k->state_topic, k->sbuf.n, rd_kafka_err2str(e));
        rc = -1;
        break;
      }
      rd_kafka_poll(k->sprod, 100);
    }
    if (off >= 0) rd_kafka_topic_partition_list_add(l, k->topic, p)->offset = off;
  }
  int64_t t0 = sl_clock_ms();
  while (!rc && rd_kafka_flush(k->sprod, 200) == RD_KAFKA_RESP_ERR__TIMED_OUT) {
    if (sl_clock_ms() - t0 > 30000) {
      sl_err_set(err, SL_EIO, "kafka: the state records of %s were not acknowledged by %s in 30 s",
                 k->topic, k->state_topic);
      rc = -1;
    }
  }
  if (!rc && k->sfailed) {
    sl_err_set(err, SL_EIO, "%s", k->sfailure);
    rc = -1;
  }
  if (!rc) {
    __atomic_fetch_add(&k->base.ps_written, 1, __ATOMIC_RELAXED);
    if (l->cnt) commit_bounded(k, l); /* informative: a failure changes nothing */
  }
  rd_kafka_topic_partition_list_destroy(l);
  for (int p = 0; drop && p < k->nparts; p++)
    if (k->assigned[p]) h->drop(h->ud, p);
  return rc;
}

/* sl_source_vt.pstate_write: every owned partition's state, now. */
static int kafka_pstate_write(sl_source *s, sl_err *err) {
  kafka_source *k = (kafka_source *)s;
  return k->state_topic ? pstate_write_all(k, 0, err) : 0;
}

/* A rebalance of a source with state_topic (inside the consumer's poll, on
** the task's thread, between two batches).  Given partitions: each one's
** state is read and handed to the router, and it goes on from the offset
** the state says (none: the group's committed offset, or offset =>).
** Revoked: every state written, then dropped, before the partitions are
** given up.  A failure is kept for the next read (k->ps_err). */
static void pstate_rebalance(kafka_source *k, rd_kafka_resp_err_t e,
                             rd_kafka_topic_partition_list_t *l) {
  const sl_pstate_hooks *h = k->base.pstate;
  if (e != RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    if (!k->ps_err.code) pstate_write_all(k, 1, &k->ps_err);
    memset(k->assigned, 0, (size_t)k->nparts);
    rd_kafka_assign(k->rk, NULL);
    return;
  }
  memset(k->assigned, 0, (size_t)k->nparts);
  sl_buf blob = {0};
  for (int i = 0; i < l->cnt; i++) {
    int p = l->elems[i].partition;
    if (p < 0 || p >= k->nparts) continue;
    k->next[p] = -1;
    k->resume[p] = -1;
    k->assigned[p] = 1;
    if (k->ps_err.code || !h) continue;
    int64_t t0 = sl_clock_us(), off = -1;
    int found = state_read(k, p, &blob, &off, &k->ps_err);
    if (found < 0 || h->load(h->ud, p, found ? blob.z : NULL, found ? blob.n : 0, &k->ps_err))
      continue;
    if (found) {
      __atomic_fetch_add(&k->base.ps_restored, 1, __ATOMIC_RELAXED);
      __atomic_fetch_add(&k->base.ps_restore_bytes, (int64_t)blob.n, __ATOMIC_RELAXED);
    }
    __atomic_fetch_add(&k->base.ps_restore_us, sl_clock_us() - t0, __ATOMIC_RELAXED);
    if (off >= 0) {
      k->resume[p] = off;
      l->elems[i].offset = off;
    }
  }
  sl_buf_free(&blob);
  rd_kafka_assign(k->rk, l);
}

/* Consumer group rebalances: take the partitions given, starting where a
** checkpoint says when there is one; give them all back when revoked. */
static void rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t e, rd_kafka_topic_partition_list_t *l,
                      void *opaque) {
  kafka_source *k = opaque;
  if (!k->assigned) k->assigned = sl_calloc((size_t)(k->nparts ? k->nparts : 1), 1);
  if (k->state_topic) {
    pstate_rebalance(k, e, l);
    return;
  }
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
/* Partition p's lag into *lag: 1 when it is read (live) and known, else 0. */
static int partition_lag(kafka_source *k, int p, int64_t *lag) {
  int live = k->bounded ? k->next[p] < k->end[p] : k->assigned && k->assigned[p];
  int64_t lo, hi;
  if (!live || k->next[p] < 0 || rd_kafka_get_watermark_offsets(k->rk, k->topic, p, &lo, &hi) ||
      hi < 0)
    return 0;
  *lag = hi > k->next[p] ? hi - k->next[p] : 0;
  return 1;
}

static int64_t kafka_lag(sl_source *s) {
  kafka_source *k = (kafka_source *)s;
  int64_t lag = 0, one;
  int known = 0;
  for (int p = 0; p < k->nparts; p++)
    if (partition_lag(k, p, &one)) {
      lag += one;
      known = 1;
    }
  return known ? lag : -1;
}

/* 1 unless name is a legal part of a consumer group's name: 1 to 200 of
** the characters Kafka allows in topic and group names. */
static int bad_group_name(const char *name) {
  size_t n = strlen(name);
  if (n < 1 || n > 200) return 1;
  for (size_t i = 0; i < n; i++)
    if (!isalnum((unsigned char)name[i]) && !strchr("._-", name[i])) return 1;
  return 0;
}

/* group.instance.id for group grp and instance id inst into out: the
** characters Kafka allows in names ([A-Za-z0-9._-], others made '_'), at
** most 249 of them. */
static void static_member_id(const char *grp, const char *inst, char *out, size_t cap) {
  snprintf(out, cap, "%s-%s", grp, inst);
  size_t n = strlen(out);
  if (n > 249) out[n = 249] = 0;
  for (size_t i = 0; i < n; i++) {
    char c = out[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
          c == '_' || c == '-'))
      out[i] = '_';
  }
}

/* 1 when rk's cluster is librdkafka's mock cluster (the dev broker), known
** from its cluster id (the metadata already fetched). */
static int dev_broker(rd_kafka_t *rk) {
  char *id = rd_kafka_clusterid(rk, 2000);
  int mock = id && strncmp(id, "mockCluster", 11) == 0;
  if (id) rd_kafka_mem_free(rk, id);
  return mock;
}

static const sl_source_vt kafka_source_vt, kafka_typed_vt;

int sl_kafka_partition_lag(sl_source *s, int32_t *parts, int64_t *lags, int max) {
  if (s->vt != &kafka_source_vt && s->vt != &kafka_typed_vt) return 0;
  kafka_source *k = (kafka_source *)s;
  int n = 0;
  for (int p = 0; p < k->nparts && n < max; p++)
    if (partition_lag(k, p, &lags[n])) parts[n++] = p;
  return n;
}

static void *destroy_client(void *rk) {
  rd_kafka_destroy_flags(rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
  return NULL;
}

/* Leave the consumer group, waiting wait_ms() at most: with the
** broker gone, rd_kafka_consumer_close() waited for the group
** coordinator for the client's whole retry time.  Then free the client;
** when the group was not left, its member times out on the broker side
** (session.timeout.ms), as after a crash. */
static void close_consumer(kafka_source *k) {
  rd_kafka_queue_t *q = rd_kafka_queue_new(k->rk);
  rd_kafka_error_t *ce = rd_kafka_consumer_close_queue(k->rk, q);
  int closed = 0;
  if (ce) {
    rd_kafka_error_destroy(ce);
  } else {
    int64_t t0 = sl_clock_ms();
    while (!(closed = rd_kafka_consumer_closed(k->rk)) && sl_clock_ms() - t0 < wait_ms(k)) {
      rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 100);
      if (!ev) continue;
      if (rd_kafka_event_type(ev) == RD_KAFKA_EVENT_REBALANCE) rd_kafka_assign(k->rk, NULL);
      rd_kafka_event_destroy(ev);
    }
  }
  rd_kafka_queue_destroy(q);
  if (closed) {
    rd_kafka_destroy(k->rk);
    return;
  }
  /* The broker does not answer: freeing the client waits for its requests
  ** in flight to time out (a minute), so that is left to a thread of its
  ** own; the query's stop does not wait (a process that exits ends it). */
  pthread_t th;
  if (pthread_create(&th, NULL, destroy_client, k->rk) == 0)
    pthread_detach(th);
  else
    destroy_client(k->rk);
}

static void kafka_close(sl_source *s) {
  kafka_source *k = (kafka_source *)s;
  drop_messages(k);
  for (int i = k->stashpos; i < k->nstash; i++)
    rd_kafka_message_destroy(k->stash[i]);
  free(k->stash);
  if (k->srrkt) rd_kafka_topic_destroy(k->srrkt);
  if (k->sread) rd_kafka_destroy(k->sread);
  if (k->sprkt) rd_kafka_topic_destroy(k->sprkt);
  if (k->sprod) {
    rd_kafka_flush(k->sprod, 5000);
    rd_kafka_destroy(k->sprod);
  }
  free(k->state_topic);
  sl_err_clear(&k->ps_err);
  sl_buf_free(&k->sbuf);
  if (k->q) rd_kafka_queue_destroy(k->q);
  if (k->rk) close_consumer(k);
  sl_source_fini(s);
  free(k->msgs);
  free(k->end);
  free(k->next);
  free(k->snap);
  free(k->resume);
  free(k->assigned);
  free(k->hoff);
  free(k->rowrec);
  for (int i = k->tabpos; i < k->ntab; i++)
    if (k->tab[i]) rd_kafka_message_destroy(k->tab[i]);
  free(k->tab);
  sl_htab_free(&k->tabkeys);
  sl_hiter it = sl_htab_iter(&k->ukeys);
  for (sl_hslot *hs; (hs = sl_htab_next(&k->ukeys, &it));) {
    ukey *u = hs->p;
    free(u->key);
    free(u->val);
    free(u);
  }
  sl_htab_free(&k->ukeys);
  for (int i = 0; i < k->ndead; i++)
    free(k->dead[i]);
  free(k->dead);
  if (k->first_assign) rd_kafka_topic_partition_list_destroy(k->first_assign);
  sl_buf_free(&k->headers);
  free(k->topic);
  free(k->app);
  free(k->group);
  free(k);
}

/* The consumer group of continuous source k feeding the queries whose
** identity is feeds (NULL: none known) into out: group => as given, else
** "<application_id>-<topic>-<feeds>", so each query has its own group and
** the same query on several processes of one application shares one, as
** in ksqlDB. */
static void group_name(const kafka_source *k, const char *feeds, char *out, size_t cap) {
  if (k->group)
    snprintf(out, cap, "%s", k->group);
  else
    snprintf(out, cap, "%s-%s%s%s", k->app, k->topic, feeds ? "-" : "", feeds ? feeds : "");
}

/* EXPLAIN: the consumer group a run joins (sl_source_vt.explain). */
static void kafka_explain(sl_source *s, const char *feeds_id, sl_buf *out) {
  kafka_source *k = (kafka_source *)s;
  if (k->bounded) {
    sl_buf_printf(out, ", every partition assigned (no group)");
    return;
  }
  char group[300];
  group_name(k, feeds_id, group, sizeof group);
  sl_buf_printf(out, ", consumer group %s", group);
  if (k->state_topic) sl_buf_printf(out, ", state kept per partition in topic %s", k->state_topic);
}

static const sl_source_vt kafka_source_vt = {
    "kafka",      kafka_read,     kafka_position,    kafka_close,      NULL,
    kafka_commit, kafka_save_pos, kafka_load_pos,    kafka_partitions, kafka_lag,
    NULL,         kafka_explain,  kafka_pstate_write};
static const sl_source_vt kafka_typed_vt = {
    "kafka",           NULL,           kafka_position,    kafka_close,      kafka_read_rows,
    kafka_commit,      kafka_save_pos, kafka_load_pos,    kafka_partitions, kafka_lag,
    kafka_row_records, kafka_explain,  kafka_pstate_write};

/* state_topic: the state records' producer (the topic made when it is not
** there) and reader, of settings conf (taken).  0, or -1 with err set. */
static int pstate_open(kafka_source *k, rd_kafka_conf_t *conf, volatile sig_atomic_t *intr,
                       sl_err *err) {
  char errstr[512];
  k->resume = sl_malloc(sizeof(int64_t) * (size_t)(k->nparts ? k->nparts : 1));
  for (int p = 0; p < k->nparts; p++)
    k->resume[p] = -1;
  rd_kafka_conf_t *pc = rd_kafka_conf_dup(conf);
  rd_kafka_conf_set(pc, "message.max.bytes", SL_KAFKA_STATE_MAX, NULL, 0);
  rd_kafka_conf_set(pc, "enable.idempotence", "true", NULL, 0);
  rd_kafka_conf_set(pc, "linger.ms", "0", NULL, 0);
  rd_kafka_conf_set_dr_msg_cb(pc, state_delivered);
  rd_kafka_conf_set_opaque(pc, k);
  k->sprod = rd_kafka_new(RD_KAFKA_PRODUCER, pc, errstr, sizeof errstr);
  if (!k->sprod) {
    rd_kafka_conf_destroy(conf);
    sl_err_set(err, SL_EIO, "kafka: state topic %s: %s", k->state_topic, errstr);
    return -1;
  }
  int have = sl_kafka_make_topic(k->sprod, k->state_topic, k->nparts, 1, intr, err);
  if (have >= 0 && have != k->nparts)
    sl_err_set(err, SL_EBIND,
               "kafka: state topic %s has %d partitions, its source topic %d: create it with %d "
               "partitions (cleanup.policy=compact) or give another state_topic",
               k->state_topic, have, k->nparts, k->nparts);
  if (err->code) {
    rd_kafka_conf_destroy(conf);
    return -1;
  }
  k->sprkt = rd_kafka_topic_new(k->sprod, k->state_topic, NULL);
  rd_kafka_conf_set(conf, "enable.auto.commit", "false", NULL, 0);
  rd_kafka_conf_set(conf, "enable.auto.offset.store", "false", NULL, 0);
  rd_kafka_conf_set(conf, "fetch.message.max.bytes", SL_KAFKA_STATE_MAX, NULL, 0);
  rd_kafka_conf_set(conf, "fetch.max.bytes", SL_KAFKA_STATE_MAX, NULL, 0);
  rd_kafka_conf_set(conf, "receive.message.max.bytes", "67200000", NULL, 0);
  k->sread = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
  if (!k->sread) {
    sl_err_set(err, SL_EIO, "kafka: state topic %s: %s", k->state_topic, errstr);
    return -1;
  }
  k->srrkt = rd_kafka_topic_new(k->sread, k->state_topic, NULL);
  return 0;
}

/* Open the source (connector.h): check the options, then (unless planning)
** make the consumer, learn the topic's partitions and their end offsets
** (bounded) and assign them, or subscribe to the group.  NULL with err set:
** a bind error for a bad option, an I/O error for the broker's answer. */
sl_source *sl_kafka_open_source(sl_options *o, sl_err *err) {
  const char *topic = sl_kafka_topic(o, "events", err);
  if (!topic) return NULL;
  kafka_source *k = sl_calloc(1, sizeof *k);
  sl_htab_init(&k->tabkeys, &tab_type);
  sl_htab_init(&k->ukeys, &ukey_type);
  k->topic = sl_strdup(topic);
  sl_buf_init(&k->headers);
  k->base.vt = &kafka_source_vt;
  int typed = !sl_opt_find(o, "format");
  k->base.changelog = SL_CHANGELOG_UPSERT; /* it may read upserts */
  if (sl_source_init_format(&k->base, o, "raw", err)) goto fail;
  k->upsert = k->base.changelog == SL_CHANGELOG_UPSERT;
  if (k->upsert && typed) {
    sl_err_set(err, SL_EBIND,
               "changelog => 'upsert' decodes each key's value into its row: give a format "
               "(format => 'json')");
    goto fail;
  }
  if (k->base.changelog == SL_CHANGELOG_OP && typed) {
    sl_err_set(err, SL_EBIND,
               "changelog => 'op' reads each row's kind from a column op of the value: give a "
               "format (format => 'json')");
    goto fail;
  }
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
  char grp[300];
  /* each query its own group (the same query on several processes shares
  ** one), as ksqlDB: two different queries never split a topic */
  const char *app = o->app_id ? o->app_id : "sluice";
  if (bad_group_name(app)) {
    sl_err_set(err, SL_EBIND,
               "application_id '%.60s': a consumer group name takes 1 to 200 letters, digits, "
               "'.', '_' and '-'",
               app);
    goto fail;
  }
  k->app = sl_strdup(app);
  const char *given = sl_opt_str(o, "group", NULL);
  k->group = given ? sl_strdup(given) : NULL;
  group_name(k, o->feeds_id, grp, sizeof grp);
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
  k->as_table = sl_opt_bool(o, "as_table", 0, err);
  if (err->code) goto fail;
  if (k->as_table && k->base.changelog) {
    sl_err_set(err, SL_EBIND,
               "as_table => true reads the topic as it is now (each key's last value, once); "
               "changelog => reads its changes: choose one");
    goto fail;
  }
  k->bounded = stop != NULL || k->as_table; /* a table is what the topic holds now */
  k->base.bounded = k->bounded;
  const char *st = sl_opt_str(o, "state_topic", NULL);
  if (st) {
    if (k->bounded || k->upsert) {
      sl_err_set(err, SL_EBIND,
                 "state_topic => keeps the state of a continuous group read per partition: not "
                 "with %s",
                 k->upsert ? "changelog => 'upsert'"
                 : stop    ? "stop => 'end'"
                           : "as_table => true");
      goto fail;
    }
    if (bad_group_name(st) || strlen(st) > 249) {
      sl_err_set(err, SL_EBIND,
                 "state_topic => '%.60s': a topic name takes 1 to 249 letters, digits, '.', '_' "
                 "and '-'",
                 st);
      goto fail;
    }
    k->state_topic = sl_strdup(st);
    k->base.per_partition = 1;
  }
  /* parallel tasks (SET parallelism): a continuous read is divided by its
  ** group, each task one consumer of it; a bounded read takes every
  ** partition itself, so it is read whole, by one task */
  if (!k->bounded && !k->state_topic && o->nsplit > 1) k->base.nsplit = o->nsplit;
  rd_kafka_conf_t *conf = sl_kafka_conf(o, err);
  if (!conf) goto fail;
  if (sl_options_check(o, err) || o->check_only) {
    /* planning: every option is checked, nothing is contacted */
    rd_kafka_conf_destroy(conf);
    if (err->code) goto fail;
    return &k->base;
  }
  /* state_topic: its writer and reader are made of the same settings */
  rd_kafka_conf_t *sconf = k->state_topic ? rd_kafka_conf_dup(conf) : NULL;
  rd_kafka_conf_set(conf, "group.id", grp, NULL, 0);
  rd_kafka_conf_set_opaque(conf, k);
  rd_kafka_conf_set_rebalance_cb(conf, rebalance);
  rd_kafka_conf_set(conf, "enable.auto.commit", "false", NULL, 0);
  rd_kafka_conf_set(conf, "auto.offset.reset", sl_stricmp(offset, "latest") ? "earliest" : "latest",
                    NULL, 0);
  char member[320];
  if (!k->bounded && o->instance_id && !sl_opt_find_unused(o, "group.instance.id")) {
    static_member_id(grp, o->instance_id, member, sizeof member);
    rd_kafka_conf_set(conf, "group.instance.id", member, NULL, 0);
  }
  /* a continuous source on the dev broker is made again with a short
  ** session timeout: a copy of its configuration for that */
  rd_kafka_conf_t *again =
      !k->bounded && !sl_opt_find_unused(o, "session.timeout.ms") ? rd_kafka_conf_dup(conf) : NULL;
  char errstr[512];
  k->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
  if (!k->rk) {
    if (again) rd_kafka_conf_destroy(again);
    if (sconf) rd_kafka_conf_destroy(sconf);
    sl_err_set(err, SL_EIO, "kafka: %s", errstr);
    goto fail;
  }
  rd_kafka_poll_set_consumer(k->rk);
  /* every partition of the topic */
  k->nparts = sl_kafka_partition_count(k->rk, topic, "topic ", o->interrupted, err);
  if (k->nparts >= 0 && again && dev_broker(k->rk)) {
    /* no static membership there: a member killed keeps its partitions
    ** until its session times out, so the session is short (heartbeats
    ** every 500 ms, which a broker on the same machine always gets) */
    rd_kafka_destroy(k->rk);
    rd_kafka_conf_set(again, "session.timeout.ms", "3000", NULL, 0);
    if (!sl_opt_find_unused(o, "heartbeat.interval.ms"))
      rd_kafka_conf_set(again, "heartbeat.interval.ms", "500", NULL, 0);
    k->rk = rd_kafka_new(RD_KAFKA_CONSUMER, again, errstr, sizeof errstr);
    again = NULL;
    if (!k->rk) {
      sl_err_set(err, SL_EIO, "kafka: %s", errstr);
      goto fail;
    }
    rd_kafka_poll_set_consumer(k->rk);
  }
  if (again) rd_kafka_conf_destroy(again);
  if (k->nparts < 0) {
    k->nparts = 0;
    if (sconf) rd_kafka_conf_destroy(sconf);
    goto fail;
  }
  k->base.norigins = k->nparts;
  if (sconf && pstate_open(k, sconf, o->interrupted, err)) goto fail;
  rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR_NO_ERROR;
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
      if (sl_kafka_watermarks(k->rk, topic, p, &lo, &hi, err)) {
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
    /* a bounded read takes every partition itself, at its first read */
    k->first_assign = l;
    l = NULL;
  } else {
    /* a continuous query joins the consumer group, which shares the
    ** partitions among every sluice with the same group */
    rd_kafka_topic_partition_list_t *sub = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(sub, topic, RD_KAFKA_PARTITION_UA);
    e = rd_kafka_subscribe(k->rk, sub);
    rd_kafka_topic_partition_list_destroy(sub);
  }
  if (l) rd_kafka_topic_partition_list_destroy(l);
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
