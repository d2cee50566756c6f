/*
** wpart.h - the table of window partitions shared by the stream window
** operators op_topn, op_over and op_dedup (op_window.h): a stream's rows
** grouped by their PARTITION BY values, found by sl_wpart_hash and
** sl_wpart_cmp (op_window.c), with the state each operator keeps per
** partition, its memory accounting and its checkpoint encoding.
**
** Each operator's partition is a struct that starts with an sl_wpart; the
** table allocates it in one block with its keys (and, when the operator
** asks for them, `extra` zeroed bytes of its own state: op_over's history
** and aggregate states), zeroed, and frees the block.  What the operator
** keeps in its struct beyond that (rows, arrays) is the operator's to free
** (the callback of sl_wptab_free, or before sl_wptab_remove).
**
** Accounting (sl_op_account, to the table's operator): a new partition
** adds its block, two hash slots and its keys' values (sl_wvalue_bytes) as
** bytes, and 1 group; sl_wptab_remove takes back sl_wpart.bytes and the
** group.  sl_wptab_free accounts nothing: the operator is going away.
**
** Checkpoints: a partition is its keys (sl_ck_value each, PARTITION BY
** order) followed by what the operator writes for it; sl_wptab_save and
** sl_wptab_load write and read a count (sl_ck_i64) and that many of them,
** the encoding op_topn and op_over had before this table was shared.
*/
#ifndef SLUICE_WPART_H
#define SLUICE_WPART_H

#include "checkpoint.h"
#include "hash.h"
#include "op_window.h"

/* The head of an operator's partition struct. */
typedef struct sl_wpart {
  uint64_t hash;  /* sl_wpart_hash of keys */
  sl_value *keys; /* the window's npart PARTITION BY values (owned, in the block) */
  int64_t bytes;  /* accounted for the partition, which sl_wptab_remove takes back: the
                  ** table's share, and what the operator adds for it (the operator
                  ** keeps it up to date when it accounts more or less for it) */
} sl_wpart;

typedef struct sl_wptab {
  const sl_wdef *w; /* the window (borrowed: the spec's) */
  sl_operator *op;  /* accounted to (borrowed) */
  size_t size;      /* the operator's partition struct (starts with an sl_wpart) */
  size_t keys_off;  /* where the keys start in a block */
  size_t extra_off; /* where the extra bytes start */
  size_t extra;     /* zeroed bytes of the operator's after the keys */
  size_t block;     /* a partition's allocation */
  sl_htab ht;       /* sl_wpart by its keys */
} sl_wptab;

/* An empty table of window w's partitions for operator op, each an
** operator struct of size bytes (starting with an sl_wpart) followed by
** extra zeroed bytes (sl_wpart_extra); both counted as the partition's
** bytes. */
void sl_wptab_init(sl_wptab *t, sl_operator *op, const sl_wdef *w, size_t size, size_t extra);
/* Free every partition: fn(ctx, pt) first (NULL: nothing) frees what the
** operator owns in it, then its keys and block go; then the table.  No
** accounting. */
void sl_wptab_free(sl_wptab *t, void (*fn)(void *ctx, sl_wpart *pt), void *ctx);

/* A lookup of the table (the hash table's key): the window and the first
** of a row's PARTITION BY values. */
typedef struct sl_wpart_key {
  const sl_wdef *w;
  const sl_value *v;
} sl_wpart_key;
/* The table's equality: a lookup's values against a partition's keys, by
** the window's collations (sl_wpart_cmp).  In the header, with the type,
** so that the lookups below are inlined in the operators' row loops. */
static inline int sl_wpart_eq_(const void *key, const sl_hslot *s) {
  const sl_wpart_key *k = key;
  return sl_wpart_cmp(k->w, k->v, ((const sl_wpart *)s->p)->keys) == 0;
}
static const sl_htype sl_wpart_htype_ = {NULL, sl_wpart_eq_};
/* wpart.c: a new partition of the keys at v for slot s (sl_wptab_put). */
sl_wpart *sl_wpart_make_(sl_wptab *t, sl_hslot *s, const sl_value *v, uint64_t h);

/* The partition of the keys at v (npart values; h: sl_wpart_hash(t->w, v)),
** or NULL. */
static inline sl_wpart *sl_wptab_get(const sl_wptab *t, const sl_value *v, uint64_t h) {
  sl_wpart_key key = {t->w, v};
  sl_hslot *s = sl_htab_find_t(&t->ht, &sl_wpart_htype_, h, &key);
  return s ? s->p : NULL;
}
/* The same, made when there is none (*added 1: the block zeroed but for
** hash, keys (copies of v's) and bytes; accounted).  v stays the caller's. */
static inline sl_wpart *sl_wptab_put(sl_wptab *t, const sl_value *v, uint64_t h, int *added) {
  sl_wpart_key key = {t->w, v};
  sl_hslot *s = sl_htab_put_t(&t->ht, &sl_wpart_htype_, h, &key, added);
  return *added ? sl_wpart_make_(t, s, v, h) : s->p;
}
/* Take pt out of the table, take back its bytes and group, free its keys
** and block (what the operator owns in it freed before). */
void sl_wptab_remove(sl_wptab *t, sl_wpart *pt);
/* The operator's extra bytes of pt (sl_wptab_init), 16-byte aligned. */
static inline void *sl_wpart_extra(const sl_wptab *t, const sl_wpart *pt) {
  return (char *)pt + t->extra_off;
}
/* The partitions, one by one: it from sl_htab_iter(&t->ht); NULL at the
** end.  No put or remove meanwhile. */
static inline sl_wpart *sl_wptab_next(const sl_wptab *t, sl_hiter *it) {
  sl_hslot *s = sl_htab_next(&t->ht, it);
  return s ? s->p : NULL;
}

/* ---- checkpoints ---- */
/* Append pt's keys. */
void sl_wpart_save_keys(const sl_wptab *t, const sl_wpart *pt, sl_buf *out);
/* Append the count of partitions, then each one's keys and what fn(ctx,
** pt, out, err) writes for it.  0, or fn's -1 (err set). */
int sl_wptab_save(const sl_wptab *t, sl_buf *out,
                  int (*fn)(void *ctx, const sl_wpart *pt, sl_buf *out, sl_err *err), void *ctx,
                  sl_err *err);
/* Read what sl_wptab_save wrote (or a list of the same form an operator
** wrote with sl_wpart_save_keys): a count, then per partition its keys, a
** new partition made (sl_wptab_put; keys met twice are damage), and
** fn(ctx, pt, r, err) reads the rest (-1, or r->bad, on damage).  0, or -1
** with r->bad set: the partitions made so far stay, for the operator to
** free. */
int sl_wptab_load(sl_wptab *t, sl_ckrd *r,
                  int (*fn)(void *ctx, sl_wpart *pt, sl_ckrd *r, sl_err *err), void *ctx,
                  sl_err *err);

#endif /* SLUICE_WPART_H */
