/*
** op_distinct.c - SELECT DISTINCT: passes each row the first time its
** values are seen and drops it after (values equal as SQLite's DISTINCT
** compares them: NULLs alike, 1 and 1.0 alike, text by each column's
** collation: its bytes, or NOCASE/RTRIM as the column was declared or
** written).  Over a
** table or a file that is SQLite's DISTINCT in the order rows come; over a
** stream each distinct row is emitted once, when it first arrives.  The
** rows seen are the state: owned copies in a hash table, accounted
** (max_query_memory, --stats) and checkpointed.
**
** Over an updating input (sl_batch.ops) each row seen keeps a count: an
** insert (+I, +U) adds one and emits +I when the row is new, a take-back
** (-U, -D) removes one and emits -D when none is left, and the row is
** forgotten.  So the output is the changelog of the set of distinct rows.
*/
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "hash.h"
#include "operator.h"

typedef struct op_distinct {
  sl_operator base;
  int ncol;
  const unsigned char *colls; /* the columns' collations (sl_coll), or NULL: all BINARY */
  int counted;                /* the input is updating: counts are checkpointed too */
  /* key: a row of ncol values; entry: its owned copy (p) of ncol + 1
  ** values, the last an INTEGER: how many rows of the input hold it now */
  sl_htab seen;
  sl_value *rows;
  const sl_record **recs;
  uint64_t *ids;
  uint8_t *ops;
  int cap;
} op_distinct;

/* A row looked up: ncol values (borrowed). */
typedef struct row_key {
  const sl_value *v;
  int n;
  const unsigned char *colls; /* per column its sl_coll, or NULL (all BINARY) */
} row_key;

static uint64_t row_hash(const void *key) {
  const row_key *k = key;
  uint64_t h = 0x243f6a8885a308d3ull;
  for (int i = 0; i < k->n; i++)
    h = (h ^ (k->colls ? sl_value_hash_coll(&k->v[i], (sl_coll)k->colls[i])
                       : sl_value_hash(&k->v[i]))) *
        0x100000001b3ull;
  return h;
}

static int row_eq(const void *key, const sl_hslot *s) {
  const row_key *k = key;
  const sl_value *r = s->p;
  for (int i = 0; i < k->n; i++)
    if (sl_value_compare(&r[i], &k->v[i], k->colls ? (sl_coll)k->colls[i] : SL_COLL_BINARY) != 0)
      return 0;
  return 1;
}

static const sl_htype row_type = {row_hash, row_eq};

/* Memory of a kept row, for max_query_memory and --stats. */
static int64_t row_bytes(int ncol, const sl_value *r) {
  int64_t n = (int64_t)sizeof(sl_hslot) + (int64_t)(ncol + 1) * (int64_t)sizeof(sl_value);
  for (int c = 0; c < ncol; c++)
    if (r[c].type == SL_TEXT || r[c].type == SL_BLOB) n += r[c].n;
  return n;
}

/* Keep a copy of row (not seen before) under hash h, held by count rows. */
static void keep(op_distinct *p, const sl_value *row, uint64_t h, int64_t count) {
  sl_value *copy = sl_calloc((size_t)p->ncol + 1, sizeof(sl_value));
  for (int c = 0; c < p->ncol; c++)
    sl_value_copy(&copy[c], &row[c]);
  sl_value_set_int(&copy[p->ncol], count);
  row_key key = {copy, p->ncol, p->colls};
  int added;
  sl_hslot *s = sl_htab_put_t(&p->seen, &row_type, h, &key, &added);
  s->p = copy;
  sl_op_account(&p->base, row_bytes(p->ncol, copy), 1);
}

static int distinct_push(sl_operator *base, sl_batch *in, sl_err *err) {
  op_distinct *p = (op_distinct *)base;
  if (in->nrow > p->cap) {
    p->cap = in->nrow;
    p->rows =
        sl_realloc(p->rows, sizeof(sl_value) * (size_t)p->cap * (size_t)(p->ncol ? p->ncol : 1));
    p->recs = sl_realloc(p->recs, sizeof(*p->recs) * (size_t)p->cap);
    p->ids = sl_realloc(p->ids, sizeof(*p->ids) * (size_t)p->cap);
    p->ops = sl_realloc(p->ops, (size_t)p->cap);
  }
  /* the rows forgotten in this batch: freed after the push (their -D rows
  ** are the kept copies) */
  sl_value **gone = NULL;
  int ngone = 0;
  int n = 0;
  for (int i = 0; i < in->nrow; i++) {
    const sl_value *row = in->rows + (size_t)i * (size_t)in->ncol;
    row_key key = {row, p->ncol, p->colls};
    uint64_t h = row_hash(&key);
    sl_hslot *s = sl_htab_find_t(&p->seen, &row_type, h, &key);
    int kind = SL_ROW_INSERT;
    if (in->ops && sl_rowkind_retracts(in->ops[i])) {
      if (!s) {
        sl_op_reject(base, in, i, "a take-back of a row SELECT DISTINCT has not seen");
        continue;
      }
      sl_value *kept = s->p;
      if (--kept[p->ncol].u.i > 0) continue;
      /* the last row holding it: -D, with the kept values (freed below) */
      sl_op_account(&p->base, -row_bytes(p->ncol, kept), -1);
      sl_htab_remove(&p->seen, s);
      gone = sl_realloc(gone, sizeof(*gone) * (size_t)(ngone + 1));
      gone[ngone++] = kept;
      row = kept;
      kind = SL_ROW_DELETE;
    } else if (s) {
      ((sl_value *)s->p)[p->ncol].u.i++;
      continue;
    } else {
      keep(p, row, h, 1);
    }
    /* the row as it came (borrowed for the push), with its record and id */
    memcpy(p->rows + (size_t)n * (size_t)p->ncol, row, sizeof(sl_value) * (size_t)p->ncol);
    for (int c = 0; c < p->ncol; c++) {
      sl_value *o = &p->rows[(size_t)n * (size_t)p->ncol + (size_t)c];
      o->buf = NULL;
      o->cap = 0;
      o->flags &= (uint8_t)~SL_F_OWNBUF;
    }
    p->recs[n] = in->recs ? in->recs[i] : NULL;
    p->ids[n] = in->ids ? in->ids[i] : 0;
    p->ops[n] = (uint8_t)kind;
    n++;
  }
  int rc = 0;
  if (n) {
    rc = sl_op_emit_derived(base, in, p->ncol, n, p->rows, p->recs, p->ids, p->ops, err);
  }
  for (int g = 0; g < ngone; g++) {
    for (int c = 0; c <= p->ncol; c++)
      sl_value_free(&gone[g][c]);
    free(gone[g]);
  }
  free(gone);
  return rc;
}

static int distinct_finish(sl_operator *base, sl_err *err) {
  return sl_op_finish_next(base, err);
}

/* The rows seen: their count, then each row's values. */
static int distinct_save(sl_operator *base, sl_buf *out, sl_err *err) {
  op_distinct *p = (op_distinct *)base;
  sl_ck_i64(out, (int64_t)p->seen.count);
  sl_hiter it = sl_htab_iter(&p->seen);
  for (sl_hslot *s; (s = sl_htab_next(&p->seen, &it));) {
    const sl_value *r = s->p;
    for (int c = 0; c < p->ncol; c++)
      sl_ck_value(out, &r[c]);
    if (p->counted) sl_ck_i64(out, r[p->ncol].u.i);
  }
  return 0;
}

static int distinct_load(sl_operator *base, const void *z, size_t n, sl_err *err) {
  op_distinct *p = (op_distinct *)base;
  sl_ckrd r;
  sl_ckrd_init(&r, z, n);
  int64_t count = sl_ckr_i64(&r);
  sl_value *row = sl_calloc((size_t)(p->ncol ? p->ncol : 1), sizeof(sl_value));
  for (int64_t i = 0; i < count && !r.bad; i++) {
    for (int c = 0; c < p->ncol; c++)
      sl_ckr_value(&r, &row[c]);
    int64_t cnt = p->counted ? sl_ckr_i64(&r) : 1;
    if (r.bad || cnt < 1) {
      r.bad = 1;
      break;
    }
    row_key key = {row, p->ncol, p->colls};
    uint64_t h = row_hash(&key);
    if (!sl_htab_find_t(&p->seen, &row_type, h, &key)) keep(p, row, h, cnt);
  }
  for (int c = 0; c < p->ncol; c++)
    sl_value_free(&row[c]);
  free(row);
  if (r.bad || r.p != r.end) {
    sl_err_set(err, SL_EIO, "SELECT DISTINCT: its checkpointed rows are damaged");
    return -1;
  }
  return 0;
}

static void distinct_free(sl_operator *base) {
  op_distinct *p = (op_distinct *)base;
  sl_hiter it = sl_htab_iter(&p->seen);
  for (sl_hslot *s; (s = sl_htab_next(&p->seen, &it));) {
    sl_value *r = s->p;
    for (int c = 0; c < p->ncol; c++)
      sl_value_free(&r[c]);
    free(r);
  }
  sl_htab_free(&p->seen);
  free(p->rows);
  free(p->recs);
  free(p->ids);
  free(p->ops);
  free(p);
}

static const sl_op_vt distinct_vt = {"distinct",         distinct_push,   sl_op_pass_tick,
                                     sl_op_pass_barrier, distinct_finish, distinct_free,
                                     distinct_save,      distinct_load};

static sl_operator *distinct_make(const void *spec, const sl_make_env *env, sl_err *err) {
  op_distinct *p = sl_calloc(1, sizeof *p);
  p->base.vt = &distinct_vt;
  p->ncol = ((const sl_distinct_spec *)spec)->ncol;
  p->colls = ((const sl_distinct_spec *)spec)->colls;
  p->counted = ((const sl_distinct_spec *)spec)->counted;
  sl_htab_init(&p->seen, &row_type);
  return &p->base;
}

static void distinct_explain(const void *spec, sl_buf *out) {
  int n = ((const sl_distinct_spec *)spec)->ncol;
  sl_buf_printf(out, "distinct: %d column%s, each distinct row once (the rows seen kept)\n", n,
                n == 1 ? "" : "s");
}

static void distinct_free_spec(void *spec) {
  free(((sl_distinct_spec *)spec)->colls);
  free(spec);
}

const sl_op_kind sl_op_distinct = {"distinct", distinct_make, distinct_explain, distinct_free_spec,
                                   NULL};
