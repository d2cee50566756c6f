/*
** wpart.c - the table of window partitions of op_topn, op_over and
** op_dedup (wpart.h): partitions by their PARTITION BY values, each one
** allocation holding the operator's struct, its keys and its extra state.
*/
#include <stdlib.h>
#include <string.h>

#include "wpart.h"

/* n rounded up to a multiple of 16 (where the extra bytes start). */
static size_t up16(size_t n) {
  return (n + 15) & ~(size_t)15;
}

void sl_wptab_init(sl_wptab *t, sl_operator *op, const sl_wdef *w, size_t size, size_t extra) {
  t->w = w;
  t->op = op;
  t->size = size;
  size_t a = _Alignof(sl_value);
  t->keys_off = (size + a - 1) / a * a;
  size_t keys_end = t->keys_off + sizeof(sl_value) * (size_t)w->npart;
  t->extra_off = up16(keys_end);
  t->extra = extra;
  t->block = extra ? t->extra_off + extra : keys_end;
  sl_htab_init(&t->ht, &sl_wpart_htype_);
}

/* Free pt's keys and block. */
static void wpart_free(const sl_wptab *t, sl_wpart *pt) {
  for (int k = 0; k < t->w->npart; k++)
    sl_value_free(&pt->keys[k]);
  free(pt);
}

void sl_wptab_free(sl_wptab *t, void (*fn)(void *ctx, sl_wpart *pt), void *ctx) {
  sl_hiter it = sl_htab_iter(&t->ht);
  for (sl_wpart *pt; (pt = sl_wptab_next(t, &it));) {
    if (fn) fn(ctx, pt);
    wpart_free(t, pt);
  }
  sl_htab_free(&t->ht);
}

sl_wpart *sl_wpart_make_(sl_wptab *t, sl_hslot *s, const sl_value *v, uint64_t h) {
  sl_wpart *pt = sl_calloc(1, t->block);
  pt->hash = h;
  pt->keys = (sl_value *)((char *)pt + t->keys_off);
  pt->bytes = (int64_t)t->size + (int64_t)t->extra + 2 * (int64_t)sizeof(sl_hslot);
  for (int k = 0; k < t->w->npart; k++) {
    sl_value_copy(&pt->keys[k], &v[k]);
    pt->bytes += sl_wvalue_bytes(&pt->keys[k]);
  }
  s->p = pt;
  sl_op_account(t->op, pt->bytes, 1);
  return pt;
}

void sl_wptab_remove(sl_wptab *t, sl_wpart *pt) {
  sl_hslot *s = sl_htab_find_entry(&t->ht, pt->hash, pt);
  if (s) sl_htab_remove(&t->ht, s);
  sl_op_account(t->op, -pt->bytes, -1);
  wpart_free(t, pt);
}

void sl_wpart_save_keys(const sl_wptab *t, const sl_wpart *pt, sl_buf *out) {
  for (int k = 0; k < t->w->npart; k++)
    sl_ck_value(out, &pt->keys[k]);
}

int sl_wptab_save(const sl_wptab *t, sl_buf *out,
                  int (*fn)(void *ctx, const sl_wpart *pt, sl_buf *out, sl_err *err), void *ctx,
                  sl_err *err) {
  sl_ck_i64(out, (int64_t)t->ht.count);
  sl_hiter it = sl_htab_iter(&t->ht);
  for (sl_wpart *pt; (pt = sl_wptab_next(t, &it));) {
    sl_wpart_save_keys(t, pt, out);
    if (fn(ctx, pt, out, err)) return -1;
  }
  return 0;
}

int sl_wptab_load(sl_wptab *t, sl_ckrd *r,
                  int (*fn)(void *ctx, sl_wpart *pt, sl_ckrd *r, sl_err *err), void *ctx,
                  sl_err *err) {
  int npart = t->w->npart;
  int64_t n = sl_ckr_i64(r);
  if (n < 0 || n > INT32_MAX) r->bad = 1;
  sl_value *kv = sl_calloc((size_t)(npart ? npart : 1), sizeof(sl_value));
  for (int64_t i = 0; i < n && !r->bad; i++) {
    for (int k = 0; k < npart; k++)
      sl_ckr_value(r, &kv[k]);
    if (r->bad) break;
    int added;
    sl_wpart *pt = sl_wptab_put(t, kv, sl_wpart_hash(t->w, kv), &added);
    if (!added || fn(ctx, pt, r, err)) r->bad = 1;
  }
  for (int k = 0; k < npart; k++)
    sl_value_free(&kv[k]);
  free(kv);
  return r->bad ? -1 : 0;
}
