/*
** op_ijoin.h - what the planner hands op_ijoin.c for an interval join of
** two streams (FROM a [LEFT | RIGHT | FULL] JOIN b ON a.k = b.k AND b.ts BETWEEN
** a.ts + lo AND a.ts + hi, or a bound per row: b.ts BETWEEN a.ts AND a.expires).
*/
#ifndef SLUICE_OP_IJOIN_H
#define SLUICE_OP_IJOIN_H

#include "operator.h"
#include "vm.h"

typedef struct sl_ijoin_spec {
  /* over a joined row with only that side filled: the nkeys key values,
  ** then the side's time (ms), then, on the ranged side with rhi, the base
  ** of its upper end (ms), in result registers */
  sl_program *aprog, *bprog;
  int nkeys;
  /* The time bound: one side's records (the ranged side: a, unless the ON
  ** was written a.ts BETWEEN b...) carry an interval, the other's a point
  ** t; a pair meets when base + lo <= t <= top + hi, base being the ranged
  ** record's time and top its upper end (its time again without rhi; with
  ** rhi a column of its own: b.ts BETWEEN a.ts AND a.expires). */
  int ranged;
  int rhi;
  int64_t lo, hi;
  int64_t lateness[2]; /* each side's allowed lateness (its stream's WATERMARK) */
  int na, nb;          /* columns of a and of b in a joined row (a's first) */
  int left;  /* LEFT or FULL JOIN: an a record that met no b joins NULLs when it expires */
  int right; /* RIGHT or FULL JOIN: a b record that met no a joins NULLs when it expires */
  /* no time bound (a join of two streams on keys alone): a record's time is
  ** when it came (its batch's processing time), the programs give keys only,
  ** ranged is 0 and lo = -ttl, hi = ttl: records meet those that came
  ** within the state TTL of them and are dropped after it (SET state_ttl);
  ** without a TTL (lo, hi = -/+SL_IJOIN_FOREVER) they are kept forever */
  int proctime;
} sl_ijoin_spec;

/* A bound that never expires a record (no overflow when added to a time). */
#define SL_IJOIN_FOREVER (INT64_MAX / 4)

/* The operator's kind: a spec (owned by the plan) to a live join, fed by a;
** b feeds its port (sl_operator.port). */
extern const sl_op_kind sl_op_ijoin;
#endif /* SLUICE_OP_IJOIN_H */
