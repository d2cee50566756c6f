/*
** hash.c - the open-addressing hash table of hash.h: linear probing,
** growth by doubling at half full, backward-shift deletion.
**
** Invariant: every entry lies in the run of occupied slots that starts at
** its home slot (no empty slot between its home and itself, cyclically).
** Lookups stop at the first empty slot; deletion keeps the invariant by
** moving later entries of the run back into the hole when their home allows.
*/
#include "hash.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

#define MIN_SLOTS 8 /* a power of two */

#define home sl_htab_home_

void sl_htab_init(sl_htab *t, const sl_htype *type) {
  memset(t, 0, sizeof *t);
  t->type = type;
}

void sl_htab_free(sl_htab *t) {
  free(t->slot);
  sl_htab_init(t, t->type);
}

/* Make room: twice the slots (MIN_SLOTS at first), every entry placed again. */
static void grow(sl_htab *t) {
  size_t old = t->slot ? t->mask + 1 : 0, n = old ? 2 * old : MIN_SLOTS;
  sl_hslot *from = t->slot;
  t->slot = sl_calloc(n, sizeof(sl_hslot));
  t->mask = n - 1;
  t->shift = 64;
  for (size_t k = n; k > 1; k >>= 1)
    t->shift--;
  for (size_t k = 0; k < old; k++) {
    if (!from[k].hash) continue;
    size_t i = home(t, from[k].hash);
    while (t->slot[i].hash)
      i = (i + 1) & t->mask;
    t->slot[i] = from[k];
  }
  free(from);
}

sl_hslot *sl_htab_add_(sl_htab *t, uint64_t h, size_t i) {
  if (!t->slot || 2 * (t->count + 1) > t->mask + 1) {
    grow(t);
    i = home(t, h);
    while (t->slot[i].hash)
      i = (i + 1) & t->mask;
  }
  sl_hslot *s = &t->slot[i];
  s->hash = h;
  s->u = 0;
  t->count++;
  return s;
}

sl_hslot *sl_htab_find_entry(const sl_htab *t, uint64_t h, const void *entry) {
  if (!t->count) return NULL;
  h = sl_htab_nonzero_(h);
  for (size_t i = home(t, h);; i = (i + 1) & t->mask) {
    sl_hslot *s = &t->slot[i];
    if (!s->hash) return NULL;
    if (s->hash == h && s->p == entry) return s;
  }
}

void sl_htab_remove(sl_htab *t, sl_hslot *s) {
  size_t hole = (size_t)(s - t->slot), mask = t->mask;
  for (size_t j = (hole + 1) & mask; t->slot[j].hash; j = (j + 1) & mask) {
    /* the entry at j may fill the hole if the hole is not before its home */
    size_t dist = (j - home(t, t->slot[j].hash)) & mask;
    if (dist >= ((j - hole) & mask)) {
      t->slot[hole] = t->slot[j];
      hole = j;
    }
  }
  t->slot[hole].hash = 0;
  t->slot[hole].u = 0;
  t->count--;
}

/* Iteration starts just after an empty slot: no run crosses it, and entries
** only ever move back within their run, so a removal moves entries only into
** slots the iteration has not passed yet (see sl_htab_remove_at). */
sl_hiter sl_htab_iter(const sl_htab *t) {
  sl_hiter it = {0, 0};
  if (!t->count) return it;
  size_t e = 0;
  while (t->slot[e].hash) /* the table is at most half full */
    e++;
  it.at = (e + 1) & t->mask;
  it.left = t->mask + 1;
  return it;
}

sl_hslot *sl_htab_next(const sl_htab *t, sl_hiter *it) {
  while (it->left) {
    sl_hslot *s = &t->slot[it->at];
    it->at = (it->at + 1) & t->mask;
    it->left--;
    if (s->hash) return s;
  }
  return NULL;
}

/* Remove the slot sl_htab_next returned last and look at it again: an entry
** from later in its run may have moved into it. */
void sl_htab_remove_at(sl_htab *t, sl_hiter *it) {
  size_t i = (it->at - 1) & t->mask;
  sl_htab_remove(t, &t->slot[i]);
  it->at = i;
  it->left++;
}
