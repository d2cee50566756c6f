/*
** operator.c - what every operator shares (operator.h): passing ticks and
** barriers down the chain, rejecting a row (counted, the first few logged
** with their position, sent to a dead-letter sink), and accounting for the
** state an operator keeps (against the query's max_query_memory).
**
** Operators call these and nothing above them: the runtime (run.c,
** task.c) drives operators, never the other way round.
*/
#include <stdio.h>

#include "operator.h"

#define LOG_REJECTS 5

int sl_op_pass_tick(sl_operator *op, int64_t now, sl_err *err) {
  return op->next ? op->next->vt->tick(op->next, now, err) : 0;
}

int sl_op_pass_barrier(sl_operator *op, sl_barrier what, sl_err *err) {
  return op->next ? op->next->vt->barrier(op->next, what, err) : 0;
}

void sl_log_reject(sl_stats *st, const char *qname, sl_source *src, const sl_record *rec,
                   const char *why) {
  st->rejected++;
  int dead = src && rec && src->dlq;
  if (dead) sl_dlq_put(src->dlq, qname, src, rec, why);
  if (st->logged >= LOG_REJECTS) return;
  st->logged++;
  sl_buf pos;
  sl_buf_init(&pos);
  if (src && rec && src->vt->position) src->vt->position(src, rec, &pos);
  fprintf(stderr, "sluice: %s: %s%s%s (%s)%s\n", qname ? qname : "query", pos.n ? pos.z : "",
          pos.n ? ": " : "", why, dead ? "record sent to the dead-letter sink" : "record skipped",
          st->logged == LOG_REJECTS ? "; further rejections are counted, not logged" : "");
  sl_buf_free(&pos);
}

uint64_t sl_id_pair(uint64_t a, uint64_t b) {
  if (!a || !b) return 0;
  uint64_t h = (a ^ 0x6a09e667f3bcc909ull) * 0x9e3779b97f4a7c15ull;
  h ^= b + 0xbb67ae8584caa73bull + (h << 6) + (h >> 2);
  h *= 0xbf58476d1ce4e5b9ull;
  return (h ^ (h >> 31)) | 1;
}

void sl_batch_ids(const sl_batch *in, uint64_t *ids) {
  const sl_record *prev = NULL;
  uint64_t rank = 0;
  for (int i = 0; i < in->nrow; i++) {
    if (in->ids) {
      ids[i] = in->ids[i];
      continue;
    }
    const sl_record *r = in->recs ? in->recs[i] : NULL;
    if (!r) {
      ids[i] = 0;
      continue;
    }
    rank = r == prev ? rank + 1 : 0;
    prev = r;
    uint64_t h = 0x9e3779b97f4a7c15ull * ((uint64_t)(uint32_t)r->partition + 1);
    h ^= (uint64_t)r->pos * 0xbf58476d1ce4e5b9ull;
    h ^= (h >> 29) ^ (rank * 0x94d049bb133111ebull);
    ids[i] = h ^ (h >> 32);
  }
}

void sl_op_reject(sl_operator *op, const sl_batch *b, int row, const char *why) {
  sl_log_reject(op->stats, op->qname, b->src, b->recs ? b->recs[row] : NULL, why);
}

void sl_op_account(sl_operator *op, int64_t bytes, int64_t groups) {
  sl_stats_account(op->stats, bytes, groups);
}

void sl_op_account_keys(sl_operator *op, int side, int64_t bytes, int64_t keys) {
  sl_stats *st = op->stats;
  if (!st) return;
  st->join = 1;
  st->jbytes[side] += bytes;
  st->jkeys[side] += keys;
  SL_ASSERT(st->jbytes[side] >= 0 && st->jkeys[side] >= 0);
}

void sl_stats_account(sl_stats *st, int64_t bytes, int64_t groups) {
  if (!st) return;
  st->state_bytes += bytes;
  st->groups += groups;
  SL_ASSERT(st->state_bytes >= 0 && st->groups >= 0); /* never more removed than added */
  if (st->state_bytes > st->state_peak) {
    st->state_peak = st->state_bytes;
    if (st->mem_limit && st->state_bytes > st->mem_limit)
      __atomic_store_n(&st->over, 1, __ATOMIC_RELAXED);
  }
  if (st->groups > st->groups_peak) st->groups_peak = st->groups;
}
