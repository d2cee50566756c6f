/*
** op_sort.c - ORDER BY: rows are buffered (owned copies, accounted as the
** query's state) and passed on sorted, at the end of the input (a bounded
** query) or batch by batch (the groups of windows that closed together).
**
** Keys compare as SQLite sorts: NULLs first for ASC and last for DESC
** unless NULLS FIRST / LAST says otherwise, numbers numerically, then text
** by its collation, then blobs (value.c's sl_value_compare).  Rows with
** equal keys keep their arrival order (the sort is stable).  With a LIMIT
** only the first offset + limit rows of the order are kept while
** buffering: a heap whose top is the worst row kept (top-N), so memory is
** that many rows, not the input's.
*/
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "op_sort.h"

#define SORT_CHUNK 1024

typedef struct op_sort {
  sl_operator base;
  sl_sort_spec spec; /* a shallow copy of the plan's (keys borrowed) */
  sl_value *vals;    /* cap rows of ncol_in owned values (slots) */
  int64_t *seq;      /* per slot: arrival number, the last key */
  uint64_t *ids;     /* per slot: the row's output identity (0: none) */
  int n, cap;        /* slots used, allocated */
  int64_t next_seq;
  int64_t keep;  /* rows kept at most (offset + limit), < 0: all */
  int *heap;     /* top-N: slots as a heap, the worst row on top */
  int has_ids;   /* the rows came with identities (closed windows) */
  int64_t bytes; /* accounted state */
  int64_t now;
  sl_value *out;  /* an output chunk: SORT_CHUNK rows of ncol_out (borrowed values) */
  uint64_t *oids; /* its identities */
  int *order;     /* slots in sorted order */
  int *tmp;       /* merge sort's scratch */
} op_sort;

/* A kept value's memory, as op_aggregate counts it (roughly). */
static int64_t value_bytes(const sl_value *v) {
  int64_t n = (int64_t)sizeof(sl_value);
  if (v->buf) return n + v->cap + 16;
  if (v->type == SL_TEXT || v->type == SL_BLOB) n += v->n;
  if (v->type == SL_VECTOR) n += (int64_t)v->n * (int64_t)sizeof(double);
  return n;
}

/* Compare rows a and b (ncol_in values each) by the keys, then by arrival
** (sa, sb): <0 when a comes first. */
static int row_cmp(const sl_sort_spec *sp, const sl_value *a, int64_t sa, const sl_value *b,
                   int64_t sb) {
  for (int k = 0; k < sp->nkeys; k++) {
    const sl_sortkey *key = &sp->keys[k];
    const sl_value *x = &a[key->col], *y = &b[key->col];
    int xn = x->type == SL_NULL, yn = y->type == SL_NULL;
    if (xn || yn) {
      if (xn && yn) continue;
      return xn ? (key->nulls_first ? -1 : 1) : (key->nulls_first ? 1 : -1);
    }
    int c = sl_value_compare(x, y, key->coll);
    if (c) return key->desc ? (c < 0 ? 1 : -1) : c;
  }
  return sa < sb ? -1 : sa > sb;
}

static int slot_cmp(const op_sort *p, int i, int j) {
  size_t w = (size_t)p->spec.ncol_in;
  return row_cmp(&p->spec, p->vals + (size_t)i * w, p->seq[i], p->vals + (size_t)j * w, p->seq[j]);
}

/* Room for one more slot. */
static void grow(op_sort *p) {
  if (p->n < p->cap) return;
  int cap = p->cap ? 2 * p->cap : 64;
  size_t w = (size_t)p->spec.ncol_in;
  p->vals = sl_realloc(p->vals, sizeof(sl_value) * (size_t)cap * (w ? w : 1));
  memset(p->vals + (size_t)p->cap * w, 0, sizeof(sl_value) * (size_t)(cap - p->cap) * w);
  p->seq = sl_realloc(p->seq, sizeof(int64_t) * (size_t)cap);
  p->ids = sl_realloc(p->ids, sizeof(uint64_t) * (size_t)cap);
  if (p->keep >= 0) p->heap = sl_realloc(p->heap, sizeof(int) * (size_t)cap);
  p->cap = cap;
}

/* Copy row (ncol_in values, borrowed) into slot s (fresh: a new one, else
** the row it held is replaced), accounting the bytes and kept rows. */
static void store(op_sort *p, int s, const sl_value *row, uint64_t id, int fresh) {
  sl_value *d = p->vals + (size_t)s * (size_t)p->spec.ncol_in;
  int64_t delta = fresh ? (int64_t)(sizeof(int64_t) + sizeof(uint64_t) + sizeof(int)) : 0;
  for (int c = 0; c < p->spec.ncol_in; c++) {
    if (!fresh) delta -= value_bytes(&d[c]);
    sl_value_copy(&d[c], &row[c]);
    delta += value_bytes(&d[c]);
  }
  p->seq[s] = p->next_seq++;
  p->ids[s] = id;
  p->bytes += delta;
  sl_op_account(&p->base, delta, fresh);
}

/* The heap of kept slots: parent before child when it sorts after it. */
static void sift_up(op_sort *p, int i) {
  while (i > 0) {
    int up = (i - 1) / 2;
    if (slot_cmp(p, p->heap[up], p->heap[i]) >= 0) break;
    int t = p->heap[up];
    p->heap[up] = p->heap[i];
    p->heap[i] = t;
    i = up;
  }
}

static void sift_down(op_sort *p, int i) {
  for (;;) {
    int l = 2 * i + 1, r = l + 1, m = i;
    if (l < p->n && slot_cmp(p, p->heap[l], p->heap[m]) > 0) m = l;
    if (r < p->n && slot_cmp(p, p->heap[r], p->heap[m]) > 0) m = r;
    if (m == i) break;
    int t = p->heap[m];
    p->heap[m] = p->heap[i];
    p->heap[i] = t;
    i = m;
  }
}

/* 1 when keeping row would pass the query's max_query_memory: then it is
** counted (the query is marked over: the task fails it after this batch)
** but not copied, so that one huge row is never held twice. */
static int too_big(op_sort *p, const sl_value *row) {
  const sl_stats *st = p->base.stats;
  if (!st || !st->mem_limit) return 0;
  int64_t n = 0;
  for (int c = 0; c < p->spec.ncol_in; c++)
    n += value_bytes(&row[c]) + 16;
  if (st->state_bytes + n <= st->mem_limit) return 0;
  sl_op_account(&p->base, n, 0);
  sl_op_account(&p->base, -n, 0);
  return 1;
}

/* Take one row: kept when there is room, or when it sorts before the worst
** row kept (which it replaces). */
static void take(op_sort *p, const sl_value *row, uint64_t id) {
  if (p->keep == 0) return;
  if (p->keep < 0 || p->n < p->keep) {
    if (too_big(p, row)) return;
    grow(p);
    int s = p->n++;
    store(p, s, row, id, 1);
    if (p->keep >= 0) {
      p->heap[s] = s;
      sift_up(p, s);
    }
    return;
  }
  int worst = p->heap[0];
  const sl_value *w = p->vals + (size_t)worst * (size_t)p->spec.ncol_in;
  if (row_cmp(&p->spec, row, p->next_seq, w, p->seq[worst]) >= 0 || too_big(p, row)) return;
  store(p, worst, row, id, 0);
  sift_down(p, 0);
}

/* Stable merge sort of slots a[0..n) (tmp: scratch of n). */
static void merge_sort(const op_sort *p, int *a, int *tmp, int n) {
  if (n < 2) return;
  int h = n / 2;
  merge_sort(p, a, tmp, h);
  merge_sort(p, a + h, tmp, n - h);
  int i = 0, j = h, k = 0;
  while (i < h && j < n)
    tmp[k++] = slot_cmp(p, a[j], a[i]) < 0 ? a[j++] : a[i++];
  while (i < h)
    tmp[k++] = a[i++];
  while (j < n)
    tmp[k++] = a[j++];
  memcpy(a, tmp, sizeof(int) * (size_t)n);
}

/* Free every kept row (their accounting too). */
static void clear(op_sort *p) {
  size_t w = (size_t)p->spec.ncol_in;
  for (size_t i = 0; i < (size_t)p->n * w; i++)
    sl_value_free(&p->vals[i]);
  for (size_t i = 0; i < (size_t)p->cap * w; i++)
    memset(&p->vals[i], 0, sizeof p->vals[i]);
  sl_op_account(&p->base, -p->bytes, -p->n);
  p->bytes = 0;
  p->n = 0;
}

/* Sort the rows kept and pass on those of [offset, offset + limit), in
** chunks; then forget them.  What the next operator returns (0, 1 when it
** has had enough, -1). */
static int emit_sorted(op_sort *p, sl_batch *in, sl_err *err) {
  int rc = 0;
  if (p->n) {
    p->order = sl_realloc(p->order, sizeof(int) * (size_t)p->n);
    p->tmp = sl_realloc(p->tmp, sizeof(int) * (size_t)p->n);
    for (int i = 0; i < p->n; i++)
      p->order[i] = i;
    merge_sort(p, p->order, p->tmp, p->n);
  }
  int64_t from = p->spec.offset, to = p->spec.limit < 0 ? p->n : from + p->spec.limit;
  if (to > p->n || to < from) to = p->n;
  int no = p->spec.ncol_out;
  for (int64_t i = from; i < to && rc == 0;) {
    int k = 0;
    for (; k < SORT_CHUNK && i < to; k++, i++) {
      int s = p->order[i];
      const sl_value *src = p->vals + (size_t)s * (size_t)p->spec.ncol_in;
      sl_value *o = p->out + (size_t)k * (size_t)no;
      for (int c = 0; c < no; c++) {
        o[c] = src[c]; /* borrowed until clear() below */
        o[c].buf = NULL;
        o[c].cap = 0;
        o[c].flags &= (uint8_t)~SL_F_OWNBUF;
      }
      p->oids[k] = p->ids[s];
    }
    sl_batch b = {no,  k, p->out, NULL, in ? in->src : NULL, p->now, p->has_ids ? p->oids : NULL,
                  NULL};
    rc = sl_op_emit(&p->base, &b, err);
  }
  clear(p);
  return rc;
}

static int sort_push(sl_operator *base, sl_batch *in, sl_err *err) {
  op_sort *p = (op_sort *)base;
  if (in->now > p->now) p->now = in->now;
  if (in->ids) p->has_ids = 1;
  for (int r = 0; r < in->nrow; r++) {
    /* past max_query_memory the task fails the query after this batch:
    ** keep nothing more meanwhile (a batch of huge rows must not pile up) */
    if (p->base.stats && __atomic_load_n(&p->base.stats->over, __ATOMIC_RELAXED)) break;
    take(p, in->rows + (size_t)r * (size_t)in->ncol, in->ids ? in->ids[r] : 0);
  }
  return p->spec.per_batch ? emit_sorted(p, in, err) : 0;
}

static int sort_finish(sl_operator *base, sl_err *err) {
  op_sort *p = (op_sort *)base;
  if (emit_sorted(p, NULL, err) < 0) return -1;
  return sl_op_finish_next(base, err);
}

static void sort_free(sl_operator *base) {
  op_sort *p = (op_sort *)base;
  p->base.stats = NULL; /* the query's counters may be gone: nothing to account */
  clear(p);
  free(p->vals);
  free(p->seq);
  free(p->ids);
  free(p->heap);
  free(p->out);
  free(p->oids);
  free(p->order);
  free(p->tmp);
  free(p);
}

/* The rows kept (a sort at the end of the input, between batches): their
** count, the arrival counter and whether rows had identities, then per row
** its arrival number, identity and values. */
static int sort_save(sl_operator *base, sl_buf *out, sl_err *err) {
  (void)err;
  op_sort *p = (op_sort *)base;
  sl_ck_i64(out, p->n);
  sl_ck_i64(out, p->next_seq);
  sl_ck_i64(out, p->has_ids);
  for (int s = 0; s < p->n; s++) {
    sl_ck_i64(out, p->seq[s]);
    sl_ck_i64(out, (int64_t)p->ids[s]);
    for (int c = 0; c < p->spec.ncol_in; c++)
      sl_ck_value(out, &p->vals[(size_t)s * (size_t)p->spec.ncol_in + (size_t)c]);
  }
  return 0;
}

static int sort_load(sl_operator *base, const void *z, size_t n, sl_err *err) {
  op_sort *p = (op_sort *)base;
  sl_ckrd r;
  sl_ckrd_init(&r, z, n);
  int64_t count = sl_ckr_i64(&r);
  int64_t next_seq = sl_ckr_i64(&r);
  p->has_ids = sl_ckr_i64(&r) != 0;
  if (count < 0 || (p->keep >= 0 && count > p->keep) || count > INT32_MAX) r.bad = 1;
  sl_value *row = sl_calloc((size_t)(p->spec.ncol_in ? p->spec.ncol_in : 1), sizeof(sl_value));
  for (int64_t i = 0; i < count && !r.bad; i++) {
    int64_t seq = sl_ckr_i64(&r);
    uint64_t id = (uint64_t)sl_ckr_i64(&r);
    for (int c = 0; c < p->spec.ncol_in; c++)
      sl_ckr_value(&r, &row[c]);
    if (r.bad) break;
    p->next_seq = seq;
    take(p, row, id); /* kept: there is room for every saved row */
  }
  for (int c = 0; c < p->spec.ncol_in; c++)
    sl_value_free(&row[c]);
  free(row);
  p->next_seq = next_seq;
  if (r.bad || r.p != r.end) {
    sl_err_set(err, SL_EIO, "ORDER BY: its checkpointed rows are damaged");
    return -1;
  }
  return 0;
}

static const sl_op_vt sort_vt = {"sort",      sort_push, sl_op_pass_tick, sl_op_pass_barrier,
                                 sort_finish, sort_free, sort_save,       sort_load};

static sl_operator *sort_make(const void *spec, const sl_make_env *env, sl_err *err) {
  (void)env;
  (void)err;
  op_sort *p = sl_calloc(1, sizeof *p);
  p->base.vt = &sort_vt;
  p->spec = *(const sl_sort_spec *)spec;
  p->keep = p->spec.limit < 0 ? -1 : p->spec.offset + p->spec.limit;
  if (p->keep < -1) p->keep = -1; /* offset + limit overflowed: keep all */
  int no = p->spec.ncol_out ? p->spec.ncol_out : 1;
  p->out = sl_calloc((size_t)SORT_CHUNK * (size_t)no, sizeof(sl_value));
  p->oids = sl_calloc(SORT_CHUNK, sizeof(uint64_t));
  return &p->base;
}

static void sort_explain(const void *spec, sl_buf *out) {
  const sl_sort_spec *sp = spec;
  static const char *colls[] = {"", " COLLATE NOCASE", " COLLATE RTRIM"};
  sl_buf_puts(out, "sort: by");
  for (int k = 0; k < sp->nkeys; k++) {
    const sl_sortkey *key = &sp->keys[k];
    sl_buf_printf(out, "%s column %d%s%s%s", k ? "," : "", key->col + 1, key->desc ? " DESC" : "",
                  colls[key->coll <= SL_COLL_RTRIM ? key->coll : 0],
                  key->nulls_first == !key->desc ? ""
                  : key->nulls_first             ? " NULLS FIRST"
                                                 : " NULLS LAST");
  }
  if (sp->limit >= 0)
    sl_buf_printf(out, ", keeps the first %lld rows", (long long)(sp->offset + sp->limit));
  sl_buf_printf(out, ", %s",
                sp->per_batch ? "each batch of closed windows" : "at the end of the input");
  if (sp->ncol_in > sp->ncol_out)
    sl_buf_printf(out, ", drops %d sort column%s", sp->ncol_in - sp->ncol_out,
                  sp->ncol_in - sp->ncol_out == 1 ? "" : "s");
  sl_buf_puts(out, "\n");
}

static void sort_free_spec(void *spec) {
  sl_sort_spec *sp = spec;
  free(sp->keys);
  free(sp);
}

const sl_op_kind sl_op_sort = {"sort", sort_make, sort_explain, sort_free_spec, NULL};
