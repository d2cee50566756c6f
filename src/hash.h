/*
** hash.h - the engine's one hash table: open addressing over slots that
** each hold a hash and a reference to an entry of the caller's.
**
** The table never owns or allocates entries: a slot holds the entry's full
** 64-bit hash and either a pointer to it (s->p: a group, a session key, a
** kept record) or a number (s->u: an index into the caller's array, or any
** value of a set of numbers).  A type descriptor says how to hash a lookup
** key and whether a slot holds the entry of a key; a lookup key is whatever
** the descriptor's functions read (the key values of the current row, say),
** so finding an entry never builds one.
**
** Probing is linear from a home slot taken from the hash's high bits
** (multiplied by 2^64/phi first, so weak low bits do not matter); the stored
** hash is compared before the descriptor's eq is called, so a probe touches
** the caller's entries only for real candidates.  Lookups are inline, and
** hot paths name their type again as a constant (the _t forms), so that eq
** is a direct call the compiler may inline.  The table doubles when it
** is half full (short runs: under 1.5 probes on average for a key present,
** 2.5 for one absent) and never shrinks: a streaming operator that closes a
** window's groups and opens the next window's reuses the slots without
** allocating.
** Deletion shifts the following entries of the cluster back (backward-shift
** deletion) instead of leaving tombstones: windows and join state delete as
** many entries as they insert, forever, and tombstones would fill the table
** and lengthen every probe until a rebuild; with backward shift the table
** after deletions is exactly as if the deleted entries had never been added.
**
** One entry per key: put finds the key's slot or makes one.  Entries with
** equal keys (a join's rows of one key) are chained by the caller from the
** one entry the table holds (op_join.c, op_ijoin.c).
**
** Slot pointers are valid until the next put or remove.  Iterating while
** putting is not allowed; removing the slot just visited is (see
** sl_htab_remove_at), as the operators do when they drop closed state.
**
** A set of uint64 ids (nonzero): sl_hash_u64 is a bijection that maps only 0
** to 0, so the hash itself identifies the id and the descriptor needs no eq;
** the slot's u is then free for a value of the caller's (a flag, a count):
**
**   static const sl_htype id_type = {NULL, NULL};  // hashes given, no eq
**   sl_htab ids;
**   sl_htab_init(&ids, &id_type);
**   int added;
**   sl_hslot *s = sl_htab_put_h(&ids, sl_hash_u64(id), NULL, &added);  // add
**   if (added) s->u = 0;                       // its value (here: not yet seen)
**   s = sl_htab_find_h(&ids, sl_hash_u64(id), NULL);  // NULL when absent
**   sl_htab_free(&ids);
*/
#ifndef SLUICE_HASH_H
#define SLUICE_HASH_H

#include <stddef.h>
#include <stdint.h>

/* One slot: the hash of its entry (0: the slot is empty) and the entry. */
typedef struct sl_hslot {
  uint64_t hash;
  union {
    void *p;    /* an entry of the caller's */
    uint64_t u; /* or a number of the caller's */
  };
} sl_hslot;

/* How a table's keys are hashed and matched.  Both functions see the lookup
** key exactly as the caller passed it to find or put. */
typedef struct sl_htype {
  /* The hash of a lookup key; used by sl_htab_find and sl_htab_put (the _h
  ** variants take a hash the caller computed).  Equal keys must hash alike.
  ** NULL when the caller always gives hashes. */
  uint64_t (*hash)(const void *key);
  /* 1 if slot s (whose stored hash equals the key's) holds key's entry.
  ** NULL: equal hashes are equal keys (the hash is a bijection of the key,
  ** as sl_hash_u64 of a nonzero id). */
  int (*eq)(const void *key, const sl_hslot *s);
} sl_htype;

/* A table.  All zero is a valid empty table without a type (lookups find
** nothing, free does nothing); sl_htab_init gives it its type. */
typedef struct sl_htab {
  const sl_htype *type;
  sl_hslot *slot; /* mask + 1 slots; NULL until the first put */
  size_t mask;
  size_t count; /* entries */
  int shift;    /* 64 - log2(slots): the home slot is the hash's top bits */
} sl_htab;

/* An iteration over a table's slots (see sl_htab_next). */
typedef struct sl_hiter {
  size_t at;   /* the slot to look at next */
  size_t left; /* slots not looked at yet */
} sl_hiter;

/* An empty table of the given type (static, borrowed); no allocation. */
void sl_htab_init(sl_htab *t, const sl_htype *type);
/* Release the slots (never the entries: they are the caller's); t is then
** empty and may be used again. */
void sl_htab_free(sl_htab *t);

/* The slot of key (whose hash is h), or NULL. */
static inline sl_hslot *sl_htab_find_h(const sl_htab *t, uint64_t h, const void *key);
/* The slot of key, made when key has none: then *added is 1, the slot's
** hash is set and its p/u are zero, for the caller to fill before the next
** operation on t; else *added is 0.  May grow the table. */
static inline sl_hslot *sl_htab_put_h(sl_htab *t, uint64_t h, const void *key, int *added);
/* The same, for hot paths: type is t's own type, given again as a constant
** (&my_type) so that the compiler calls, even inlines, its eq directly. */
static inline sl_hslot *sl_htab_find_t(const sl_htab *t, const sl_htype *type, uint64_t h,
                                       const void *key);
static inline sl_hslot *sl_htab_put_t(sl_htab *t, const sl_htype *type, uint64_t h, const void *key,
                                      int *added);
/* The same with the type's hash function. */
static inline sl_hslot *sl_htab_find(const sl_htab *t, const void *key);
static inline sl_hslot *sl_htab_put(sl_htab *t, const void *key, int *added);

/* The slot whose p is entry (identity, no eq), entry's hash being h; NULL
** when none holds it. */
sl_hslot *sl_htab_find_entry(const sl_htab *t, uint64_t h, const void *entry);
/* Remove the entry in slot s (a slot of t that holds one); entries after it
** may move into other slots. */
void sl_htab_remove(sl_htab *t, sl_hslot *s);

/* ---- the lookups, inline: they sit on the hottest GROUP BY path ---- */

/* Stored hashes are never 0 (the empty mark): 0 is stored as 1. */
static inline uint64_t sl_htab_nonzero_(uint64_t h) {
  return h + !h;
}
/* The home slot of (nonzero) hash h: its top bits after a Fibonacci multiply. */
static inline size_t sl_htab_home_(const sl_htab *t, uint64_t h) {
  return (size_t)((h * 0x9e3779b97f4a7c15ull) >> t->shift);
}
/* hash.c: put hash h in empty slot i (the end of its run), growing first when
** the table is full; returns the slot. */
sl_hslot *sl_htab_add_(sl_htab *t, uint64_t h, size_t i);

static inline sl_hslot *sl_htab_find_t(const sl_htab *t, const sl_htype *type, uint64_t h,
                                       const void *key) {
  if (!t->count) return NULL;
  h = sl_htab_nonzero_(h);
  for (size_t i = sl_htab_home_(t, h);; i = (i + 1) & t->mask) {
    sl_hslot *s = &t->slot[i];
    if (!s->hash) return NULL;
    if (s->hash == h && (!type->eq || type->eq(key, s))) return s;
  }
}

static inline sl_hslot *sl_htab_put_t(sl_htab *t, const sl_htype *type, uint64_t h, const void *key,
                                      int *added) {
  h = sl_htab_nonzero_(h);
  size_t i = 0;
  if (t->slot) /* find the key, or the empty slot ending its run */
    for (i = sl_htab_home_(t, h); t->slot[i].hash; i = (i + 1) & t->mask) {
      sl_hslot *s = &t->slot[i];
      if (s->hash == h && (!type->eq || type->eq(key, s))) {
        *added = 0;
        return s;
      }
    }
  *added = 1;
  return sl_htab_add_(t, h, i);
}

static inline sl_hslot *sl_htab_find_h(const sl_htab *t, uint64_t h, const void *key) {
  return sl_htab_find_t(t, t->type, h, key);
}
static inline sl_hslot *sl_htab_put_h(sl_htab *t, uint64_t h, const void *key, int *added) {
  return sl_htab_put_t(t, t->type, h, key, added);
}
static inline sl_hslot *sl_htab_find(const sl_htab *t, const void *key) {
  return t->count ? sl_htab_find_t(t, t->type, t->type->hash(key), key) : NULL;
}
static inline sl_hslot *sl_htab_put(sl_htab *t, const void *key, int *added) {
  return sl_htab_put_t(t, t->type, t->type->hash(key), key, added);
}

/* Visit every entry once, in no particular order:
**   sl_hiter it = sl_htab_iter(t);
**   for (sl_hslot *s; (s = sl_htab_next(t, &it));)
**     if (done(s->p)) sl_htab_remove_at(t, &it);
** No put while iterating; the only removal allowed is sl_htab_remove_at of
** the slot just returned, which keeps every other entry visited once. */
sl_hiter sl_htab_iter(const sl_htab *t);
sl_hslot *sl_htab_next(const sl_htab *t, sl_hiter *it);
void sl_htab_remove_at(sl_htab *t, sl_hiter *it);

/* A bijective mix of x (0 only for 0): a hash for integer keys, and the
** identity of a nonzero id in a set of ids (see the file comment). */
static inline uint64_t sl_hash_u64(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

#endif /* SLUICE_HASH_H */
