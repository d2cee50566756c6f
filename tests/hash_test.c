/*
** hash_test.c - checks src/hash.c (the engine's one hash table) against a
** plain reference: an array saying which keys are in the set.
**
** Random puts, removals and lookups under a good hash, a hash with four
** values, a constant hash and a hash that is sometimes 0; growth from empty
** to 200,000 entries; iteration with removal of the visited entry (every
** entry seen exactly once, also across clusters that wrap around the end of
** the slot array); the operators' pattern of opening and closing windows of
** groups while inserting; lookups by a key that is not an entry; a set of
** uint64 ids with a value per id.  After each phase the table's invariant
** is checked slot by slot: every entry lies in the run of occupied slots
** starting at its home slot.  Run under ASan by `make check`.
**
** usage: hash_test   Prints "N passed, M failed"; exits 0 only when M == 0.
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"

static long npass, nfail;

#define CHECK(cond, ...)                                                                           \
  do {                                                                                             \
    if (cond) {                                                                                    \
      npass++;                                                                                     \
    } else {                                                                                       \
      if (nfail++ < 20) {                                                                          \
        printf("FAIL %s:%d: ", __FILE__, __LINE__);                                                \
        printf(__VA_ARGS__);                                                                       \
        printf("\n");                                                                              \
      }                                                                                            \
    }                                                                                              \
  } while (0)

/* A deterministic generator (xorshift64*), so failures reproduce. */
static uint64_t rng = 88172645463325252ull;
static uint64_t rnd(void) {
  rng ^= rng >> 12;
  rng ^= rng << 25;
  rng ^= rng >> 27;
  return rng * 2685821657736338717ull;
}

/* ---- entries, lookup keys and the hash functions under test ---------------- */

typedef struct ent {
  int key;
  int seen; /* iteration visits */
} ent;

#define NKEY 5000
static ent ents[NKEY];
static int in_set[NKEY]; /* the reference */

/* Lookups pass a bare int key, never an entry. */
static int ent_eq(const void *key, const sl_hslot *s) {
  return ((const ent *)s->p)->key == *(const int *)key;
}
static uint64_t hash_good(const void *key) {
  int k = *(const int *)key;
  return sl_hash_u64((uint64_t)k + 1);
}
static uint64_t hash_four(const void *key) {
  return (uint64_t)(*(const int *)key & 3) + 1;
}
static uint64_t hash_const(const void *key) {
  (void)key;
  return 42;
}
static uint64_t hash_zero(const void *key) { /* 0 for a third of the keys */
  int k = *(const int *)key;
  return k % 3 ? sl_hash_u64((uint64_t)k) : 0;
}

static const sl_htype good_type = {hash_good, ent_eq};
static const sl_htype four_type = {hash_four, ent_eq};
static const sl_htype const_type = {hash_const, ent_eq};
static const sl_htype zero_type = {hash_zero, ent_eq};

/* The home slot of a stored hash, as hash.c computes it (white box: the
** invariant check and the wrap-around test need it). */
static size_t home_of(const sl_htab *t, uint64_t h) {
  return (size_t)((h * 0x9e3779b97f4a7c15ull) >> t->shift);
}

/* Every entry is reachable from its home slot without crossing an empty one,
** the count is right, and hashes stored are the keys' hashes. */
static int invariant_ok(const sl_htab *t) {
  if (!t->slot) return t->count == 0;
  size_t n = 0;
  for (size_t i = 0; i <= t->mask; i++) {
    const sl_hslot *s = &t->slot[i];
    if (!s->hash) continue;
    n++;
    for (size_t j = home_of(t, s->hash); j != i; j = (j + 1) & t->mask)
      if (!t->slot[j].hash) return 0;
  }
  return n == t->count;
}

/* The table holds exactly the reference's keys, each findable. */
static int matches_reference(const sl_htab *t) {
  size_t want = 0;
  for (int k = 0; k < NKEY; k++) {
    sl_hslot *s = sl_htab_find(t, &k);
    if (in_set[k]) want++;
    if (in_set[k] != (s != NULL)) return 0;
    if (s && s->p != &ents[k]) return 0;
  }
  return want == t->count;
}

/* Random operations on keys [0, nkeys) against the reference. */
static void random_ops(const sl_htype *type, const char *name, int nkeys, int nops) {
  sl_htab t;
  sl_htab_init(&t, type);
  memset(in_set, 0, sizeof in_set);
  int bad = 0;
  for (int op = 0; op < nops && !bad; op++) {
    int k = (int)(rnd() % (uint64_t)nkeys);
    switch (rnd() % 4) {
    case 0:
    case 1: { /* put */
      int added;
      sl_hslot *s = sl_htab_put(&t, &k, &added);
      if (added != !in_set[k] || (!added && s->p != &ents[k])) bad = 1;
      if (added) {
        if (s->p) bad = 1; /* a new slot's p/u start zero */
        s->p = &ents[k];
        in_set[k] = 1;
      }
      break;
    }
    case 2: { /* remove by key */
      sl_hslot *s = sl_htab_find(&t, &k);
      if ((s != NULL) != in_set[k]) bad = 1;
      if (s) sl_htab_remove(&t, s);
      in_set[k] = 0;
      break;
    }
    default: { /* find */
      sl_hslot *s = sl_htab_find(&t, &k);
      if ((s != NULL) != in_set[k] || (s && s->p != &ents[k])) bad = 1;
    }
    }
    if (op % 997 == 0 && !invariant_ok(&t)) bad = 2;
  }
  CHECK(!bad, "%s: random operations disagree with the reference (%d)", name, bad);
  CHECK(invariant_ok(&t), "%s: invariant after random operations", name);
  CHECK(matches_reference(&t), "%s: contents after random operations", name);
  sl_htab_free(&t);
  CHECK(t.count == 0 && !t.slot && t.type == type, "%s: free leaves an empty table", name);
}

/* Grow from nothing to many entries; everything stays findable. */
static void growth(void) {
  enum { N = 200000 };
  ent *e = malloc(sizeof(ent) * N);
  sl_htab t;
  sl_htab_init(&t, &good_type);
  CHECK(sl_htab_find(&t, &(int){1}) == NULL, "find in a table never used");
  size_t grows = 0, cap = 0;
  for (int k = 0; k < N; k++) {
    e[k].key = k;
    int added;
    sl_hslot *s = sl_htab_put(&t, &k, &added);
    s->p = &e[k];
    if (t.mask + 1 != cap) {
      grows++;
      cap = t.mask + 1;
    }
    if (!added) break;
  }
  CHECK(t.count == N, "count after %d puts: %zu", (int)N, t.count);
  CHECK(2 * t.count <= t.mask + 1, "load at most 1/2: %zu in %zu", t.count, t.mask + 1);
  CHECK(grows >= 10 && (t.mask & (t.mask + 1)) == 0, "doubling: %zu growths", grows);
  int missing = 0;
  for (int k = 0; k < N; k++) {
    sl_hslot *s = sl_htab_find(&t, &k);
    missing += !s || s->p != &e[k];
  }
  CHECK(!missing, "%d of %d entries lost in growth", missing, (int)N);
  CHECK(invariant_ok(&t), "invariant after growth");
  /* removing everything keeps the slots: refilling does not grow */
  size_t slots = t.mask + 1;
  for (int k = 0; k < N; k++)
    sl_htab_remove(&t, sl_htab_find(&t, &k));
  CHECK(t.count == 0 && t.mask + 1 == slots, "empty after removing all, slots kept");
  for (int k = 0; k < N; k++) {
    int added;
    sl_htab_put(&t, &k, &added)->p = &e[k];
  }
  CHECK(t.mask + 1 == slots && t.count == N, "refilled without growing");
  sl_htab_free(&t);
  free(e);
}

/* Iterate and remove the entries a predicate picks; every entry must be
** visited once and the survivors be exactly the others. */
static void iterate_removing(sl_htab *t, int nkeys, int (*pick)(int), const char *name) {
  for (int k = 0; k < nkeys; k++)
    ents[k].seen = 0;
  sl_hiter it = sl_htab_iter(t);
  for (sl_hslot *s; (s = sl_htab_next(t, &it));) {
    ent *e = s->p;
    e->seen++;
    if (pick(e->key)) {
      sl_htab_remove_at(t, &it);
      in_set[e->key] = 0;
    }
  }
  int twice = 0, missed = 0;
  for (int k = 0; k < nkeys; k++) {
    twice += ents[k].seen > 1;
    missed += in_set[k] && !ents[k].seen;
  }
  CHECK(!twice && !missed, "%s: %d entries visited twice, %d missed", name, twice, missed);
  CHECK(invariant_ok(t), "%s: invariant after removing while iterating", name);
  CHECK(matches_reference(t), "%s: survivors", name);
}

static int pick_odd(int k) {
  return k & 1;
}
static int pick_all(int k) {
  (void)k;
  return 1;
}
static int pick_third(int k) {
  return k % 3 == 0;
}

static void fill(sl_htab *t, int nkeys) {
  memset(in_set, 0, sizeof in_set);
  for (int k = 0; k < nkeys; k++) {
    int added;
    sl_htab_put(t, &k, &added)->p = &ents[k];
    in_set[k] = 1;
  }
}

/* The inverse of hash.c's multiplier modulo 2^64 (Newton's iteration). */
static uint64_t inverse_multiplier(void) {
  uint64_t a = 0x9e3779b97f4a7c15ull, x = a;
  for (int i = 0; i < 6; i++)
    x *= 2 - a * x;
  return x;
}

/* Entries whose home is one of the last slots: their run wraps around the
** end of the array, the case iteration with removal must get right. */
static uint64_t wrap_hash_shift; /* the table's shift the hashes aim at */
static uint64_t hash_wrap(const void *key) {
  int k = *(const int *)key;
  uint64_t slots = 1ull << (64 - wrap_hash_shift);
  uint64_t target = ((slots - 1 - (uint64_t)(k % 3)) << wrap_hash_shift) | (uint64_t)k;
  return target * inverse_multiplier();
}
static const sl_htype wrap_type = {hash_wrap, ent_eq};

static void iteration(void) {
  const sl_htype *types[] = {&good_type, &four_type, &const_type, &zero_type};
  const char *names[] = {"good hash", "four hashes", "constant hash", "hash sometimes 0"};
  for (int i = 0; i < 4; i++) {
    int nkeys = i == 0 ? NKEY : 700;
    sl_htab t;
    sl_htab_init(&t, types[i]);
    fill(&t, nkeys);
    iterate_removing(&t, nkeys, pick_odd, names[i]);
    iterate_removing(&t, nkeys, pick_third, names[i]);
    iterate_removing(&t, nkeys, pick_all, names[i]);
    CHECK(t.count == 0, "%s: all removed", names[i]);
    sl_htab_free(&t);
  }
  /* a run that wraps: 4 entries in 8 slots, homed at the last three */
  sl_htab t;
  sl_htab_init(&t, &wrap_type);
  wrap_hash_shift = 61; /* 8 slots */
  fill(&t, 4);
  CHECK(t.mask == 7, "8 slots for the wrap test");
  int wraps = t.slot[0].hash && t.slot[7].hash;
  CHECK(wraps, "the run wraps around the end");
  iterate_removing(&t, 4, pick_odd, "wrapped run");
  iterate_removing(&t, 4, pick_all, "wrapped run");
  sl_htab_free(&t);
}

/* The aggregate's pattern: groups keyed by (window, key), windows opening as
** time moves and the oldest closing, each closed group found by identity
** and removed while new groups keep arriving. */
typedef struct grp {
  int64_t w;
  int key;
  uint64_t hash;
  int live;
} grp;
typedef struct gkey {
  int64_t w;
  int key;
} gkey;
static uint64_t gkey_hash(const void *k) {
  const gkey *g = k;
  return sl_hash_u64((uint64_t)g->w * 1000003u + (uint64_t)g->key);
}
static int grp_eq(const void *k, const sl_hslot *s) {
  const gkey *g = k;
  const grp *x = s->p;
  return x->w == g->w && x->key == g->key;
}
static const sl_htype grp_type = {gkey_hash, grp_eq};

static void windows(void) {
  enum { W = 40, K = 300, OPEN = 4 };
  grp *gs = calloc((size_t)W * K, sizeof(grp));
  sl_htab t;
  sl_htab_init(&t, &grp_type);
  int bad = 0;
  size_t peak = 0;
  for (int64_t w = 0; w < W && !bad; w++) {
    for (int r = 0; r < 3 * K; r++) { /* rows of window w and a late one of w-1 */
      gkey k = {w - (int64_t)(r % 5 == 0 && w > 0), (int)(rnd() % K)};
      if (k.w < w - OPEN + 1) continue;
      grp *g = &gs[k.w * K + k.key];
      int added;
      sl_hslot *s = sl_htab_put(&t, &k, &added);
      if (added != !g->live) bad = 1;
      if (added) {
        g->w = k.w;
        g->key = k.key;
        g->hash = s->hash;
        g->live = 1;
        s->p = g;
      }
    }
    if (w >= OPEN - 1) { /* close the oldest open window */
      int64_t c = w - OPEN + 1;
      for (int k = 0; k < K; k++) {
        grp *g = &gs[c * K + k];
        if (!g->live) continue;
        sl_hslot *s = sl_htab_find_entry(&t, g->hash, g);
        if (!s) {
          bad = 2;
          break;
        }
        sl_htab_remove(&t, s);
        g->live = 0;
      }
    }
    if (t.mask + 1 > peak) peak = t.mask + 1;
    if (!invariant_ok(&t)) bad = 3;
  }
  size_t live = 0;
  for (int i = 0; i < W * K; i++)
    live += (size_t)gs[i].live;
  CHECK(!bad && live == t.count, "windows: %d, %zu live, %zu in the table", bad, live, t.count);
  CHECK(peak <= 4096, "windows: the table stops growing in steady state (%zu slots)", peak);
  for (int i = 0; i < W * K; i++) {
    gkey k = {gs[i].w, gs[i].key};
    if (gs[i].live && (!sl_htab_find(&t, &k) || sl_htab_find(&t, &k)->p != &gs[i])) bad = 4;
  }
  CHECK(!bad, "windows: open groups findable by key");
  sl_htab_free(&t);
  free(gs);
}

/* A set of ids with a value per id: no eq, the hash is the id. */
static void id_set(void) {
  static const sl_htype id_type = {NULL, NULL};
  sl_htab ids;
  sl_htab_init(&ids, &id_type);
  enum { N = 50000 };
  uint64_t *v = malloc(sizeof(uint64_t) * N);
  int bad = 0;
  for (int i = 0; i < N; i++) {
    v[i] = rnd() | 1;
    int added;
    sl_hslot *s = sl_htab_put_h(&ids, sl_hash_u64(v[i]), NULL, &added);
    if (!added) bad = 1;
    s->u = (uint64_t)i;
  }
  for (int i = 0; i < N; i++) {
    sl_hslot *s = sl_htab_find_h(&ids, sl_hash_u64(v[i]), NULL);
    if (!s || s->u != (uint64_t)i) bad = 2;
    if (sl_htab_find_h(&ids, sl_hash_u64(v[i] + 1), NULL)) bad = 3; /* even ids were never added */
  }
  int again;
  sl_htab_put_h(&ids, sl_hash_u64(v[7]), NULL, &again);
  CHECK(!bad && !again && ids.count == N, "id set: %d", bad);
  CHECK(invariant_ok(&ids), "id set: invariant");
  sl_htab_free(&ids);
  free(v);
}

int main(void) {
  for (int k = 0; k < NKEY; k++)
    ents[k].key = k;
  random_ops(&good_type, "good hash", NKEY, 300000);
  random_ops(&good_type, "good hash, few keys", 20, 20000);
  random_ops(&four_type, "four hashes", 600, 40000);
  random_ops(&const_type, "constant hash", 300, 20000);
  random_ops(&zero_type, "hash sometimes 0", NKEY, 100000);
  growth();
  iteration();
  windows();
  id_set();
  printf("%ld passed, %ld failed\n", npass, nfail);
  return nfail == 0 ? 0 : 1;
}
