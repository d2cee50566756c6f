/*
** op_aggregate.c - GROUP BY with incremental aggregates, optionally over
** event-time windows (TUMBLE, HOP).
**
** Per input row a "step" program (expr.c) computes the WHERE clause, the
** group keys, the event time and every aggregate's arguments and FILTER
** condition.  The row is added to its group(s): one per window it falls in
** (HOP: size/slide windows), found in a hash table keyed by window start and
** key values; each aggregate's xStep updates the group's state block (the
** same sl_func descriptors as everywhere, agg_*.c).
**
** Output: a group row [keys..., window_start, window_end, aggregate
** values...] goes through an "output" program (HAVING and the select list,
** compiled over group rows).
**   EMIT CHANGES (and an unwindowed GROUP BY on a stream, a running table):
**   after each input batch, the groups it changed, with xValue, as a
**   changelog (sl_batch.ops): +I for a group's first row, -U (the row it
**   gave before the batch, kept when the batch first touched it) and +U,
**   -D when HAVING skips it now or it holds no row any more (the group is
**   then removed); an unwindowed GROUP BY over a bounded input is one window
**   that closes when the input ends (its final rows, once); aggregates
**   without GROUP BY are one group with no keys, emitted at the end even
**   when no row came (count(*) 0);
**   EMIT ON CLOSE (the default for windows): a window's groups once, when
**   the watermark passes its end, with xFinal; and every open window when a
**   bounded input ends.
** The watermark is the smallest, over the input partitions seen, of the
** largest event time seen there, minus the allowed lateness.  A record for
** a window that has closed is late: counted, logged and dropped.  Nothing
** here reads a clock: event times come from the records, so a replay gives
** the same output.
**
** An updating input (spec.retract: no windows) takes rows back: a -U or -D
** row runs each aggregate's xInverse on the group holding it (a DISTINCT
** aggregate's when its value's last row goes), and a group counts its rows.
**
** Memory: a group holds its key values, its window and its aggregate
** states; windows are freed when they close.  DISTINCT aggregates keep the
** distinct values of their group, each with the rows holding it.
*/
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "hash.h"
#include "model.h"
#include "operator.h"
#include "vm.h"

#include "op_aggregate.h"

/* A DISTINCT aggregate's values seen in a group, in arrival order (owned),
** with an index over them (sl_vindex_put) and how many rows hold each now
** (a value all of whose rows were taken back stays, with 0, until the
** group goes). */
typedef struct dset {
  sl_value *v;
  int64_t *cnt;
  int n, cap;
  sl_htab idx;
} dset;

typedef struct group group;
struct group {
  group *wnext;   /* next group of the same window, in arrival order */
  group *wprev;   /* the one before */
  group *dnext;   /* next changed group of this batch */
  uint64_t hash;  /* of (wstart, keys): its slot in the group table */
  int64_t wstart; /* the window (0 without windows) */
  int dirty;
  sl_value *keys; /* nk owned values */
  dset *dv;       /* per aggregate (with DISTINCT ones only; else NULL) */
  unsigned char *state;
  int64_t extra; /* bytes its aggregates' states own outside the block (sl_fctx.grew) */
  /* rows it holds: inserts less take-backs (a group loaded from a
  ** checkpoint of an append-only query counts 1): 0 for a new group */
  int64_t nrows;
  /* EMIT CHANGES: its output row as it was before this batch changed it
  ** (ncol values in the operator's barena), or NULL when it gave none */
  sl_value *before;
  int keep_empty; /* aggregates without GROUP BY at the end: a row even with no row in */
};

typedef struct window {
  int64_t start, end;
  group *first, *last;
} window;

/* SESSION windows: per key, the open sessions, each [first event, last
** event + gap), with its rows buffered (the aggregates' arguments) until it
** closes, because two sessions merge when an event falls between them. */
typedef struct session session;
struct session {
  session *next;
  int64_t start, end;
  sl_value *rows; /* nrows * nbuf owned values */
  int nrows, cap;
};
typedef struct skey skey;
struct skey {
  int64_t seq; /* arrival order of the key: a stable output order */
  sl_value *keys;
  session *sessions;
};

typedef struct part_time {
  int32_t part;
  int64_t max_ts;
  int64_t seen; /* processing time of its last record */
  int done;     /* the source has no more records of it (or gave it to another consumer) */
} part_time;

typedef struct op_aggregate {
  sl_operator base;
  sl_agg_spec spec; /* a shallow copy of the plan's: programs and layout, borrowed */
  sl_vm vstep, vout;
  size_t *state_off; /* per aggregate: offset in a group's state block */
  size_t state_size;
  sl_htab groups; /* group_type: every open group, by window start and keys */
  window *wins;   /* open windows, by end then start */
  int nwin, capwin;
  group *dirty, *dirty_tail;
  part_time *parts;
  int nparts;
  /* its records come from a repartition topic (sl_record.origin): event
  ** time is tracked per origin partition, which the source's partitions
  ** (repartition partitions) say nothing of */
  int by_origin, origins_expected;
  int64_t watermark; /* INT64_MIN until a record arrives */
  int64_t now;       /* the latest processing time the task handed in */
  sl_value *grow;    /* a group row for the output program */
  sl_value *out;     /* output rows, cap of ncol */
  uint64_t *ids;     /* per output row: its group's identity (keys and window) */
  uint8_t *outops;   /* per output row: its kind (sl_rowkind) */
  sl_arena barena;   /* the before rows of the groups a batch changes */
  int need_before;   /* EMIT CHANGES with take-backs to give: before rows are kept */
  int nout, cap;
  sl_arena arena;
  sl_buf msg;
  /* SESSION windows */
  sl_htab skeys; /* skey_type: every key with open sessions */
  int64_t kseq;
  int64_t min_end;   /* no session ends before this */
  int buf_first;     /* first step register buffered per row */
  int nbuf;          /* registers buffered per row */
  sl_value *fakereg; /* buffered rows are replayed from here */
  sl_value **argv;   /* an aggregate call's arguments (room for the most) */
} op_aggregate;

/* ---- hashing of group keys ------------------------------------------------ */

static uint64_t mix(uint64_t h, uint64_t x) {
  h ^= x + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
  return h ^ (h >> 31);
}

static int value_same(const sl_value *a, const sl_value *b, sl_coll coll) {
  if (a->type == SL_NULL || b->type == SL_NULL) return a->type == b->type;
  return sl_value_compare(a, b, coll) == 0;
}

/* h combined with the hashes of nk key values (colls: each key's
** collation, or NULL when all are BINARY). */
static uint64_t keys_hash(uint64_t h, const sl_value *keys, int nk, const sl_coll *colls) {
  if (colls) {
    for (int i = 0; i < nk; i++)
      h = mix(h, sl_value_hash_coll(&keys[i], colls[i]));
    return h;
  }
  for (int i = 0; i < nk; i++)
    h = mix(h, sl_value_hash(&keys[i]));
  return h;
}

/* 1 if the nk values of a and b are the same key (NULL equals NULL). */
static int keys_same(const sl_value *a, const sl_value *b, int nk, const sl_coll *colls) {
  for (int i = 0; i < nk; i++)
    if (!value_same(&a[i], &b[i], colls ? colls[i] : SL_COLL_BINARY)) return 0;
  return 1;
}

/* A lookup key of the group table (window start and a row's key values,
** borrowed) and of the session key table (wstart unused). */
typedef struct group_key {
  int64_t wstart;
  const sl_value *keys;
  int nk;
  const sl_coll *colls; /* the keys' collations, or NULL (all BINARY) */
} group_key;

static uint64_t group_hash(const void *key) {
  const group_key *k = key;
  return keys_hash(mix(0, (uint64_t)k->wstart), k->keys, k->nk, k->colls);
}

static int group_eq(const void *key, const sl_hslot *s) {
  const group_key *k = key;
  const group *g = s->p;
  return g->wstart == k->wstart && keys_same(g->keys, k->keys, k->nk, k->colls);
}

static const sl_htype group_type = {group_hash, group_eq};

static uint64_t skey_hash(const void *key) {
  const group_key *k = key;
  return keys_hash(7, k->keys, k->nk, k->colls);
}

uint64_t sl_aggregate_key_hash(const sl_agg_spec *sp, const sl_value *keys) {
  return keys_hash(7, keys, sp->nkeys, sp->key_colls);
}

static int skey_eq(const void *key, const sl_hslot *s) {
  const group_key *k = key;
  return keys_same(((const skey *)s->p)->keys, k->keys, k->nk, k->colls);
}

static const sl_htype skey_type = {skey_hash, skey_eq};

/* ---- memory accounting (reported by --stats) ------------------------------- */

/* What malloc adds to each block it gives (glibc: a size word, 16-byte
** alignment), so that the state's bytes are near what the process holds. */
#define MALLOC_OVERHEAD 16

/* A kept value's memory: the value and the buffer it owns (its capacity,
** which copies round up to a power of two, and malloc's overhead), else the
** bytes it has. */
static int64_t value_bytes(const sl_value *v) {
  int64_t n = (int64_t)sizeof(sl_value);
  if (v->buf) return n + v->cap + MALLOC_OVERHEAD;
  if (v->type == SL_TEXT || v->type == SL_BLOB) n += v->n;
  if (v->type == SL_VECTOR) n += (int64_t)v->n * (int64_t)sizeof(double);
  return n;
}

/* Add (or with a negative sign, remove) bytes of state and groups. */
static void account(op_aggregate *p, int64_t bytes, int groups) {
  sl_op_account(&p->base, bytes, groups);
}

/* A group's memory but what its aggregates own outside the block (extra):
** the group, its key array and values, its state block (three blocks of
** malloc's) and its slot in the group table (about two slots' worth: the
** table is at most half full). */
static int64_t group_bytes(op_aggregate *p, const sl_value *keys) {
  int64_t n = (int64_t)sizeof(group) + (int64_t)p->state_size + 3 * MALLOC_OVERHEAD +
              2 * (int64_t)sizeof(sl_hslot);
  for (int i = 0; i < p->spec.nkeys; i++)
    n += value_bytes(&keys[i]);
  return n;
}

/* ---- windows ---------------------------------------------------------------- */

static window *find_window(op_aggregate *p, int64_t start, int64_t end) {
  int lo = 0, hi = p->nwin;
  while (lo < hi) { /* first window not before (end, start) */
    int mid = (lo + hi) / 2;
    window *w = &p->wins[mid];
    if (w->end < end || (w->end == end && w->start < start))
      lo = mid + 1;
    else
      hi = mid;
  }
  if (lo < p->nwin && p->wins[lo].start == start && p->wins[lo].end == end) return &p->wins[lo];
  if (p->nwin == p->capwin) {
    p->capwin = p->capwin ? 2 * p->capwin : 8;
    p->wins = sl_realloc(p->wins, sizeof(window) * (size_t)p->capwin);
  }
  memmove(p->wins + lo + 1, p->wins + lo, sizeof(window) * (size_t)(p->nwin - lo));
  p->nwin++;
  window *w = &p->wins[lo];
  w->start = start;
  w->end = end;
  w->first = w->last = NULL;
  return w;
}

/* The group of (window, keys), created when new. */
static group *find_group(op_aggregate *p, int64_t wstart, int64_t wend, const sl_value *keys) {
  int nk = p->spec.nkeys;
  group_key key = {wstart, keys, nk, p->spec.key_colls};
  int added;
  sl_hslot *s = sl_htab_put_t(&p->groups, &group_type, group_hash(&key), &key, &added);
  if (!added) return s->p;
  group *g = sl_calloc(1, sizeof *g);
  s->p = g;
  g->hash = s->hash;
  g->wstart = wstart;
  g->keys = sl_calloc((size_t)(nk ? nk : 1), sizeof(sl_value));
  for (int i = 0; i < nk; i++)
    sl_value_copy(&g->keys[i], &keys[i]);
  g->state = sl_calloc(1, p->state_size ? p->state_size : 1);
  account(p, group_bytes(p, g->keys), 1); /* the copies: group_free counts them */
  if (p->spec.has_distinct) g->dv = sl_calloc((size_t)p->spec.naggs, sizeof(dset));
  window *w = find_window(p, wstart, wend);
  g->wprev = w->last;
  if (w->last)
    w->last->wnext = g;
  else
    w->first = g;
  w->last = g;
  return g;
}

/* The group of (window, keys), or NULL when there is none. */
static group *lookup_group(op_aggregate *p, int64_t wstart, const sl_value *keys) {
  group_key key = {wstart, keys, p->spec.nkeys, p->spec.key_colls};
  sl_hslot *s = sl_htab_find_t(&p->groups, &group_type, group_hash(&key), &key);
  return s ? s->p : NULL;
}

/* Add count rows holding v (not NULL) to the distinct values of aggregate a
** in g: 1 when no row held it before (the aggregate is to see it). */
static int distinct_new(op_aggregate *p, group *g, int a, const sl_value *v, int64_t count) {
  dset *d = &g->dv[a];
  int i = sl_vindex_put(&d->idx, d->v, sizeof(sl_value), d->n, v);
  if (i >= 0) {
    d->cnt[i] += count;
    return d->cnt[i] == count;
  }
  if (d->n == d->cap) {
    d->cap = d->cap ? 2 * d->cap : 4;
    d->v = sl_realloc(d->v, sizeof(sl_value) * (size_t)d->cap);
    d->cnt = sl_realloc(d->cnt, sizeof(int64_t) * (size_t)d->cap);
  }
  d->cnt[d->n] = count;
  sl_value *x = &d->v[d->n++];
  memset(x, 0, sizeof *x);
  sl_value_copy(x, v);
  /* and its count and index slots */
  account(p, value_bytes(x) + 8 + 2 * (int64_t)sizeof(sl_hslot), 0);
  return 1;
}

/* Take one row holding v (not NULL) back from the distinct values of
** aggregate a in g: 1 when no row holds it any more (the aggregate is to
** forget it), 0 when others still do or it was not there. */
static int distinct_gone(group *g, int a, const sl_value *v) {
  dset *d = &g->dv[a];
  int i = sl_vindex_find(&d->idx, d->v, sizeof(sl_value), d->n, v);
  if (i < 0 || d->cnt[i] <= 0) return 0;
  return --d->cnt[i] == 0;
}

/* Free a group's DISTINCT values (dv: per aggregate, or NULL). */
static void dsets_free(op_aggregate *p, dset *dv) {
  if (!dv) return;
  for (int a = 0; a < p->spec.naggs; a++) {
    for (int i = 0; i < dv[a].n; i++) {
      account(p, -value_bytes(&dv[a].v[i]) - 8 - 2 * (int64_t)sizeof(sl_hslot), 0);
      sl_value_free(&dv[a].v[i]);
    }
    free(dv[a].v);
    free(dv[a].cnt);
    sl_htab_free(&dv[a].idx);
  }
  free(dv);
}

/* Add one row (the step program's registers reg) to g's aggregates (back
** 0: each one's xStep), or take it back (back 1: each one's xInverse; the
** planner gave every aggregate of a retracting query one).  A DISTINCT
** aggregate steps a value when no row of the group held it yet, and takes
** it back when none holds it any more.  NULL, or why an aggregate failed. */
static const char *step_group(op_aggregate *p, group *g, sl_value *reg, int back) {
  const sl_agg_spec *sp = &p->spec;
  g->nrows += back ? -1 : 1;
  for (int a = 0; a < sp->naggs; a++) {
    const sl_agg_call *ac = &sp->aggs[a];
    if (ac->filter_reg >= 0 && sl_value_truth(&reg[ac->filter_reg]) != 1) continue; /* NULL: no */
    sl_value **argv = p->argv;
    for (int k = 0; k < ac->nargs; k++)
      argv[k] = &reg[ac->arg_reg + k];
    if (ac->distinct &&
        (reg[ac->arg_reg].type == SL_NULL || !(back ? distinct_gone(g, a, &reg[ac->arg_reg])
                                                    : distinct_new(p, g, a, &reg[ac->arg_reg], 1))))
      continue;
    sl_value dummy = SL_VALUE_INIT;
    sl_fctx ctx = {ac->func, &dummy, g->state + p->state_off[a], ac->coll, 0, &p->msg, 0, 0,
                   NULL,     0};
    (back ? ac->func->xInverse : ac->func->xStep)(&ctx, ac->nargs, argv);
    sl_value_free(&dummy);
    if (ctx.grew) {
      g->extra += ctx.grew;
      account(p, ctx.grew, 0);
    }
    if (ctx.failed) return p->msg.z ? p->msg.z : "aggregate failed";
  }
  return NULL;
}

/* ---- output ---------------------------------------------------------------- */

static int flush_out(op_aggregate *p, const sl_batch *in, sl_err *err) {
  if (!p->nout) return 0;
  sl_batch b = {p->spec.ncol,
                p->nout,
                p->out,
                NULL,
                in ? in->src : NULL,
                p->now,
                p->spec.emit_changes ? NULL : p->ids,
                p->spec.emit_changes ? p->outops : NULL};
  int rc = sl_op_emit(&p->base, &b, err);
  p->nout = 0;
  sl_arena_reset(&p->arena);
  return rc;
}

/* The end of g's window (0 without windows). */
static int64_t group_wend(const op_aggregate *p, const group *g) {
  return p->spec.wkind == SL_WIN_NONE ? 0 : g->wstart + p->spec.size;
}

/* Run the output program over group g (final: xFinal, else xValue): 1 with
** the row in p->vout's result registers (valid until the next run), 0 when
** HAVING skips it, -1 with err set. */
static int group_row(op_aggregate *p, group *g, int64_t wend, int final, sl_err *err) {
  int nk = p->spec.nkeys;
  sl_value *r = p->grow;
  for (int i = 0; i < nk; i++) {
    sl_value_free(&r[i]);
    r[i] = g->keys[i];
    r[i].buf = NULL;
    r[i].cap = 0;
    r[i].flags &= (uint8_t)~SL_F_OWNBUF;
  }
  if (p->spec.wkind == SL_WIN_NONE) {
    sl_value_set_null(&r[nk]);
    sl_value_set_null(&r[nk + 1]);
  } else {
    sl_value_set_int(&r[nk], g->wstart);
    sl_value_set_int(&r[nk + 1], wend);
  }
  for (int a = 0; a < p->spec.naggs; a++) {
    const sl_agg_call *ac = &p->spec.aggs[a];
    sl_value *v = &r[nk + 2 + a];
    sl_value_set_null(v);
    sl_fctx ctx = {ac->func, v, g->state + p->state_off[a], ac->coll, 0, &p->msg, 0, 0, NULL, 0};
    if (p->spec.wkind != SL_WIN_NONE) ctx.wend = wend;
    if (final)
      ac->func->xFinal(&ctx);
    else if (ac->func->xValue)
      ac->func->xValue(&ctx);
  }
  int rc = sl_vm_run(&p->vout, r);
  for (int i = 0; i < nk; i++) /* keys were borrowed from the group */
    memset(&r[i], 0, sizeof r[i]);
  if (rc == SL_VM_SKIP) return 0;
  if (rc == SL_VM_ERROR) {
    sl_err_set(err, SL_ERUNTIME, "%s", p->vout.errmsg.z ? p->vout.errmsg.z : "evaluation failed");
    return -1;
  }
  return 1;
}

/* Append row (ncol values) to the output as g's (window end wend) of kind
** (sl_rowkind), its bytes pinned in the output arena. */
static void append_row(op_aggregate *p, const group *g, int64_t wend, const sl_value *row,
                       int kind) {
  if (p->nout == p->cap) {
    p->cap = p->cap ? 2 * p->cap : 256;
    p->out = sl_realloc(p->out, sizeof(sl_value) * (size_t)p->cap * (size_t)p->spec.ncol);
    p->ids = sl_realloc(p->ids, sizeof(uint64_t) * (size_t)p->cap);
    p->outops = sl_realloc(p->outops, (size_t)p->cap);
  }
  p->ids[p->nout] = keys_hash(mix(mix(0x5eed, (uint64_t)g->wstart), (uint64_t)wend), g->keys,
                              p->spec.nkeys, p->spec.key_colls);
  p->outops[p->nout] = (uint8_t)kind;
  sl_value *o = p->out + (size_t)p->nout * (size_t)p->spec.ncol;
  for (int c = 0; c < p->spec.ncol; c++) {
    o[c] = row[c];
    o[c].buf = NULL;
    o[c].cap = 0;
    o[c].flags &= (uint8_t)~SL_F_OWNBUF;
    sl_value_pin(&o[c], &p->arena); /* the row must outlive the group */
  }
  p->nout++;
}

/* Run the output program over group g (final: xFinal, else xValue) and
** append its row, unless HAVING skips it. */
static int emit_group(op_aggregate *p, group *g, int64_t wend, int final, sl_err *err) {
  int rc = group_row(p, g, wend, final, err);
  if (rc <= 0) return rc;
  append_row(p, g, wend, &p->vout.reg[p->vout.prog->result_reg], SL_ROW_INSERT);
  return 0;
}

/* EMIT CHANGES, before a batch first changes g: keep the row g gives now
** (the row the changelog gave last) as g->before, in barena, or NULL when
** it gives none (a new group, or one HAVING skips).  0, or -1 with err. */
static int keep_before(op_aggregate *p, group *g, sl_err *err) {
  g->before = NULL;
  if (g->nrows <= 0 && !g->keep_empty) return 0;
  int rc = group_row(p, g, group_wend(p, g), 0, err);
  if (rc <= 0) return rc;
  const sl_value *res = &p->vout.reg[p->vout.prog->result_reg];
  sl_value *b =
      sl_arena_alloc(&p->barena, sizeof(sl_value) * (size_t)(p->spec.ncol ? p->spec.ncol : 1));
  for (int c = 0; c < p->spec.ncol; c++) {
    b[c] = res[c];
    b[c].buf = NULL;
    b[c].cap = 0;
    b[c].flags &= (uint8_t)~SL_F_OWNBUF;
    sl_value_pin(&b[c], &p->barena);
  }
  g->before = b;
  return 0;
}

static void group_free(op_aggregate *p, group *g, int finalized) {
  account(p, -group_bytes(p, g->keys) - g->extra, -1);
  if (!finalized)
    for (int a = 0; a < p->spec.naggs; a++) {
      const sl_agg_call *ac = &p->spec.aggs[a];
      sl_value v = SL_VALUE_INIT;
      sl_fctx ctx = {ac->func, &v, g->state + p->state_off[a], ac->coll, 0, &p->msg, 0, 1, NULL, 0};
      ac->func->xFinal(&ctx);
      sl_value_free(&v);
    }
  for (int i = 0; i < p->spec.nkeys; i++)
    sl_value_free(&g->keys[i]);
  dsets_free(p, g->dv);
  free(g->keys);
  free(g->state);
  free(g);
}

/* Remove g from the group table. */
static void unhash(op_aggregate *p, group *g) {
  sl_htab_remove(&p->groups, sl_htab_find_entry(&p->groups, g->hash, g));
}

/* Remove and free g, a group every row of which was taken back (no
** windows: it is in the one window's list). */
static void remove_group(op_aggregate *p, group *g) {
  SL_ASSERT(p->spec.wkind == SL_WIN_NONE && p->nwin == 1);
  window *w = &p->wins[0];
  if (g->wprev)
    g->wprev->wnext = g->wnext;
  else
    w->first = g->wnext;
  if (g->wnext)
    g->wnext->wprev = g->wprev;
  else
    w->last = g->wprev;
  unhash(p, g);
  group_free(p, g, 0);
}

/* EMIT CHANGES: the changelog of every group changed since the last one
** (the dirty list, in order of first change), and empty the list: a group
** that gave no row before gives +I; one that did gives -U (its before row)
** then +U, or -D when HAVING now skips it or every row of it was taken back
** (the group is then removed).  On error the list is emptied too, so no
** group stays on it. */
static int emit_changelog(op_aggregate *p, const sl_batch *in, sl_err *err) {
  int rc = 0;
  for (group *g = p->dirty, *next; g; g = next) {
    next = g->dnext;
    g->dirty = 0;
    int live = g->nrows > 0 || g->keep_empty;
    if (!rc) {
      int64_t wend = group_wend(p, g);
      int at = p->nout;
      if (g->before) append_row(p, g, wend, g->before, SL_ROW_UPDATE_BEFORE);
      int got = live ? group_row(p, g, wend, 0, err) : 0;
      if (got < 0) {
        rc = -1;
      } else if (got) {
        append_row(p, g, wend, &p->vout.reg[p->vout.prog->result_reg],
                   g->before ? SL_ROW_UPDATE_AFTER : SL_ROW_INSERT);
      } else if (g->before) {
        p->outops[at] = SL_ROW_DELETE; /* it gives no row any more */
      }
      /* a -U and its +U stay in one batch */
      if (!rc && p->nout >= 1024) rc = flush_out(p, in, err);
    }
    g->before = NULL;
    if (!live) remove_group(p, g);
  }
  p->dirty = p->dirty_tail = NULL;
  sl_arena_reset(&p->barena);
  return rc;
}

/* Close the windows ending at or before wm (all when wm == INT64_MAX):
** emit their groups (unless the changelog already did) and free them.
** With EMIT CHANGES, the changes pending in this batch are emitted first,
** as if the batch ended here: a group freed below must not stay on the
** dirty list, and its last change must not be lost. */
static int close_windows(op_aggregate *p, int64_t wm, const sl_batch *in, sl_err *err) {
  int closed = 0;
  int rc = emit_changelog(p, in, err);
  while (closed < p->nwin && p->wins[closed].end <= wm && (wm == INT64_MAX || p->spec.wkind)) {
    window *w = &p->wins[closed];
    for (group *g = w->first, *next; g; g = next) {
      next = g->wnext;
      int emitted = 0;
      if (!rc && !p->spec.emit_changes) {
        rc = emit_group(p, g, w->end, 1, err);
        emitted = 1;
      }
      unhash(p, g);
      group_free(p, g, emitted);
      /* a window of a million groups must not buffer a million rows */
      if (!rc && p->nout >= 1024 && !p->spec.flush_per_window) rc = flush_out(p, in, err);
    }
    /* an ORDER BY per window sorts each window's rows: one batch each */
    if (!rc && p->spec.flush_per_window) rc = flush_out(p, in, err);
    closed++;
  }
  if (closed) {
    memmove(p->wins, p->wins + closed, sizeof(window) * (size_t)(p->nwin - closed));
    p->nwin -= closed;
  }
  if (!rc) rc = flush_out(p, in, err);
  return rc;
}

/* ---- sessions ---------------------------------------------------------------- */

/* The session key of keys, created when new. */
static skey *find_skey(op_aggregate *p, const sl_value *keys) {
  int nk = p->spec.nkeys;
  group_key key = {0, keys, nk, p->spec.key_colls};
  int added;
  sl_hslot *s = sl_htab_put_t(&p->skeys, &skey_type, skey_hash(&key), &key, &added);
  if (!added) return s->p;
  skey *k = sl_calloc(1, sizeof *k);
  s->p = k;
  k->seq = p->kseq++;
  k->keys = sl_calloc((size_t)(nk ? nk : 1), sizeof(sl_value));
  for (int i = 0; i < nk; i++)
    sl_value_copy(&k->keys[i], &keys[i]);
  account(p, (int64_t)sizeof(skey) + group_bytes(p, k->keys) - (int64_t)sizeof(group), 1);
  return k;
}

static void session_free(op_aggregate *p, session *s) {
  for (int i = 0; i < s->nrows * p->nbuf; i++) {
    account(p, -value_bytes(&s->rows[i]), 0);
    sl_value_free(&s->rows[i]);
  }
  free(s->rows);
  free(s);
  account(p, -(int64_t)sizeof(session), 0);
}

/* Add the event at ts (its registers in reg) to k: into the session it
** falls in, merging the sessions it joins, or a new one. */
static void session_add(op_aggregate *p, skey *k, int64_t ts, const sl_value *reg) {
  int64_t gap = p->spec.size;
  session *into = NULL;
  for (session **pp = &k->sessions; *pp;) {
    session *x = *pp;
    if (ts < x->end && ts + gap > x->start) { /* the event touches x */
      if (!into) {
        into = x;
        pp = &x->next;
        continue;
      }
      /* x joins into: rows appended, bounds widened */
      if (into->nrows + x->nrows > into->cap) {
        into->cap = into->nrows + x->nrows;
        into->rows = sl_realloc(into->rows, sizeof(sl_value) * (size_t)into->cap * (size_t)p->nbuf);
      }
      memcpy(into->rows + (size_t)into->nrows * (size_t)p->nbuf, x->rows,
             sizeof(sl_value) * (size_t)x->nrows * (size_t)p->nbuf);
      into->nrows += x->nrows;
      if (x->start < into->start) into->start = x->start;
      if (x->end > into->end) into->end = x->end;
      *pp = x->next;
      free(x->rows);
      free(x);
      account(p, -(int64_t)sizeof(session), 0);
      continue;
    }
    pp = &x->next;
  }
  if (!into) {
    into = sl_calloc(1, sizeof *into);
    account(p, (int64_t)sizeof(session), 0);
    into->start = ts;
    into->end = ts + gap;
    into->next = k->sessions;
    k->sessions = into;
  }
  if (ts < into->start) into->start = ts;
  if (ts + gap > into->end) into->end = ts + gap;
  if (into->nrows == into->cap) {
    into->cap = into->cap ? 2 * into->cap : 4;
    into->rows = sl_realloc(into->rows, sizeof(sl_value) * (size_t)into->cap * (size_t)p->nbuf);
  }
  sl_value *row = into->rows + (size_t)into->nrows++ * (size_t)p->nbuf;
  for (int i = 0; i < p->nbuf; i++) {
    memset(&row[i], 0, sizeof row[i]);
    sl_value_copy(&row[i], &reg[p->buf_first + i]);
    account(p, value_bytes(&row[i]), 0);
  }
  if (into->end < p->min_end) p->min_end = into->end;
}

typedef struct closing {
  skey *k;
  session *s;
} closing;

static int closing_cmp(const void *a, const void *b) {
  const closing *x = a, *y = b;
  if (x->s->end != y->s->end) return x->s->end < y->s->end ? -1 : 1;
  if (x->s->start != y->s->start) return x->s->start < y->s->start ? -1 : 1;
  return x->k->seq < y->k->seq ? -1 : x->k->seq > y->k->seq;
}

/* Emit and free the sessions ending at or before wm, in order of end, start
** and key arrival; keys left without sessions are dropped. */
static int close_sessions(op_aggregate *p, int64_t wm, const sl_batch *in, sl_err *err) {
  if (wm < p->min_end) return 0;
  closing *c = NULL;
  int nc = 0, cap = 0, rc = 0;
  p->min_end = INT64_MAX;
  sl_hiter it = sl_htab_iter(&p->skeys);
  for (sl_hslot *hs; (hs = sl_htab_next(&p->skeys, &it));) {
    skey *k = hs->p;
    for (session **pp = &k->sessions; *pp;) {
      session *s = *pp;
      if (s->end <= wm) {
        if (nc == cap) {
          cap = cap ? 2 * cap : 16;
          c = sl_realloc(c, sizeof(closing) * (size_t)cap);
        }
        c[nc].k = k;
        c[nc++].s = s;
        *pp = s->next;
        continue;
      }
      if (s->end < p->min_end) p->min_end = s->end;
      pp = &s->next;
    }
  }
  if (nc) qsort(c, (size_t)nc, sizeof(closing), closing_cmp);
  for (int i = 0; i < nc; i++) {
    session *s = c[i].s;
    if (!rc) {
      /* replay the rows into a group of its own, then emit it */
      group g;
      memset(&g, 0, sizeof g);
      g.wstart = s->start;
      g.keys = c[i].k->keys;
      g.state = sl_calloc(1, p->state_size ? p->state_size : 1);
      if (p->spec.has_distinct) g.dv = sl_calloc((size_t)p->spec.naggs, sizeof(dset));
      for (int r = 0; r < s->nrows; r++) {
        sl_value *row = s->rows + (size_t)r * (size_t)p->nbuf, *reg = p->fakereg + p->buf_first;
        memcpy(reg, row, sizeof(sl_value) * (size_t)p->nbuf);
        step_group(p, &g, p->fakereg, 0);
        /* a conversion made while stepping (an INTEGER's text for
        ** group_concat) is the row's: it owns the buffer, frees it */
        for (int j = 0; j < p->nbuf; j++) {
          account(p, value_bytes(&reg[j]) - value_bytes(&row[j]), 0);
          row[j] = reg[j];
        }
      }
      memset(p->fakereg + p->buf_first, 0, sizeof(sl_value) * (size_t)p->nbuf);
      rc = emit_group(p, &g, s->end, 1, err);
      dsets_free(p, g.dv);
      account(p, -g.extra, 0);
      free(g.state);
      if (!rc && p->nout >= 1024) rc = flush_out(p, in, err);
    }
    session_free(p, s);
  }
  free(c);
  /* drop keys without sessions (their memory is the keys) */
  it = sl_htab_iter(&p->skeys);
  for (sl_hslot *hs; (hs = sl_htab_next(&p->skeys, &it));) {
    skey *k = hs->p;
    if (k->sessions) continue;
    sl_htab_remove_at(&p->skeys, &it);
    account(p, -((int64_t)sizeof(skey) + group_bytes(p, k->keys) - (int64_t)sizeof(group)), -1);
    for (int i = 0; i < p->spec.nkeys; i++)
      sl_value_free(&k->keys[i]);
    free(k->keys);
    free(k);
  }
  if (!rc) rc = flush_out(p, in, err);
  return rc;
}

/* ---- input ----------------------------------------------------------------- */

/* The event time of v in milliseconds: INTEGER/REAL as milliseconds since
** the epoch, TEXT as 'YYYY-MM-DD HH:MM:SS[.fff]' (or with 'T') in UTC. */
int sl_event_time(const sl_value *v, int64_t *ms) {
  if (v->type == SL_INTEGER || v->type == SL_REAL) return sl_value_time(v, ms);
  if (v->type != SL_TEXT || v->n < 19) return -1;
  const char *z = v->u.z;
  int Y, M, D, h, m, s, n = 0;
  char sep;
  char buf[40];
  size_t len = v->n < sizeof buf - 1 ? v->n : sizeof buf - 1;
  memcpy(buf, z, len);
  buf[len] = 0;
  if (sscanf(buf, "%4d-%2d-%2d%c%2d:%2d:%2d%n", &Y, &M, &D, &sep, &h, &m, &s, &n) != 7 ||
      (sep != ' ' && sep != 'T'))
    return -1;
  int frac = 0, digits = 0;
  if (buf[n] == '.')
    for (int i = n + 1; buf[i] >= '0' && buf[i] <= '9'; i++)
      if (digits < 3) frac = frac * 10 + (buf[i] - '0'), digits++;
  while (digits < 3)
    frac *= 10, digits++;
  /* days from civil (proleptic Gregorian) */
  int y = Y - (M <= 2);
  int era = (y >= 0 ? y : y - 399) / 400;
  int yoe = y - era * 400;
  int doy = (153 * (M + (M > 2 ? -3 : 9)) + 2) / 5 + D - 1;
  int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  int64_t days = (int64_t)era * 146097 + doe - 719468;
  *ms = ((days * 24 + h) * 60 + m) * 60000 + (int64_t)s * 1000 + frac;
  return 0;
}

static int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static void note_time(op_aggregate *p, int32_t part, int64_t ts) {
  for (int i = 0; i < p->nparts; i++)
    if (p->parts[i].part == part) {
      if (ts > p->parts[i].max_ts) p->parts[i].max_ts = ts;
      p->parts[i].seen = p->now;
      return;
    }
  p->parts = sl_realloc(p->parts, sizeof(part_time) * (size_t)(p->nparts + 1));
  p->parts[p->nparts].part = part;
  p->parts[p->nparts].max_ts = ts;
  p->parts[p->nparts].seen = p->now;
  p->parts[p->nparts].done = 0;
  p->nparts++;
}

/* Recompute the watermark (the slowest partition's latest event time minus
** the lateness) and close the windows it passed. */
static int advance_watermark(op_aggregate *p, const sl_batch *in, sl_err *err) {
  int64_t wm = INT64_MAX, busiest = INT64_MIN;
  for (int i = 0; i < p->nparts; i++) {
    /* an idle partition (no record for idle_ms of processing time while
    ** others have them) does not hold the windows open */
    if (p->nparts > 1 && p->now - p->parts[i].seen > p->spec.idle_ms) continue;
    if (p->parts[i].done) continue;
    if (p->parts[i].max_ts < wm) wm = p->parts[i].max_ts;
  }
  for (int i = 0; i < p->nparts; i++)
    if (p->parts[i].max_ts > busiest) busiest = p->parts[i].max_ts;
  if (wm == INT64_MAX) wm = busiest; /* all idle: the latest time seen */
  if (!p->nparts || wm == INT64_MIN || wm - p->spec.lateness <= p->watermark) return 0;
  p->watermark = wm - p->spec.lateness;
  if (p->spec.wkind == SL_WIN_SESSION) return close_sessions(p, p->watermark, in, err);
  if (!p->nwin || p->wins[0].end > p->watermark) return 0;
  return close_windows(p, p->watermark, in, err);
}

/* Partition part holds the watermark from now on (max_ts INT64_MIN until
** its first record, or until it has been idle for idle_ms), unless known. */
static void expect_one(op_aggregate *p, int32_t part) {
  for (int j = 0; j < p->nparts; j++)
    if (p->parts[j].part == part) return;
  p->parts = sl_realloc(p->parts, sizeof(part_time) * (size_t)(p->nparts + 1));
  p->parts[p->nparts++] = (part_time){part, INT64_MIN, p->now, 0};
}

/* Event time: make every partition the source still reads hold the
** watermark from the start (max_ts INT64_MIN until its first record, or
** until it has been idle for idle_ms), not only the partitions seen; after
** a batch (after != 0), let go of the partitions the source has finished. */
static void expect_partitions(op_aggregate *p, sl_source *src, int after) {
  if (p->by_origin) { /* the origins, once: the source's partitions say nothing of them */
    for (int o = 0; !after && !p->origins_expected && src && o < src->norigins; o++)
      expect_one(p, o);
    p->origins_expected = 1;
    return;
  }
  if (!src || !src->vt->partitions || p->spec.wkind == SL_WIN_NONE || p->spec.proctime) return;
  int32_t parts[256];
  int n = src->vt->partitions(src, parts, 256);
  if (n > 256) return; /* too many to follow: the partitions seen decide */
  if (after) {         /* after a batch: those the source has finished no longer count */
    for (int j = 0; j < p->nparts; j++) {
      int live = 0;
      for (int i = 0; i < n && !live; i++)
        live = p->parts[j].part == parts[i];
      p->parts[j].done = !live;
    }
    return;
  }
  for (int i = 0; i < n; i++)
    expect_one(p, parts[i]);
}

static int aggregate_push(sl_operator *base, sl_batch *in, sl_err *err) {
  op_aggregate *p = (op_aggregate *)base;
  const sl_agg_spec *sp = &p->spec;
  if (in->now > p->now) p->now = in->now;
  if (in->nrow && in->recs && in->recs[0] && in->recs[0]->origin) p->by_origin = 1;
  expect_partitions(p, in->src, 0);
  for (int r = 0; r < in->nrow; r++) {
    int rc = sl_vm_run(&p->vstep, in->rows + (size_t)r * (size_t)in->ncol);
    if (rc == SL_VM_SKIP) continue;
    if (rc == SL_VM_ERROR) {
      sl_op_reject(base, in, r, p->vstep.errmsg.z ? p->vstep.errmsg.z : "evaluation failed");
      continue;
    }
    sl_value *reg = p->vstep.reg;
    int64_t ts = 0, first = 0, last = 0;
    if (sp->wkind != SL_WIN_NONE) {
      if (sp->proctime) {
        ts = in->now;
      } else if (sp->rowtime) {
        ts = in->recs && in->recs[r] ? in->recs[r]->timestamp : -1;
        if (ts < 0) {
          sl_op_reject(base, in, r, "rowtime(): the record has no timestamp");
          continue;
        }
      } else if (sl_event_time(&reg[sp->ts_reg], &ts)) {
        sl_op_reject(base, in, r, "the event time is NULL, not a time or out of range");
        continue;
      }
      if (sp->wkind == SL_WIN_SESSION) {
        if (ts + sp->size <= p->watermark) {
          base->stats->late++;
          sl_op_reject(base, in, r, "late record: its session has closed (watermark passed)");
          continue;
        }
        note_time(p, !in->recs || !in->recs[r] ? 0 : sl_record_clock(in->recs[r]), ts);
        session_add(p, find_skey(p, &reg[sp->key_reg]), ts, reg);
        if (advance_watermark(p, in, err)) return -1;
        continue;
      }
      /* windows [s, s + size) with s a multiple of slide and s <= ts < s + size */
      last = floor_div(ts, sp->slide) * sp->slide;
      first = floor_div(ts - sp->size, sp->slide) * sp->slide + sp->slide;
      if (last + sp->size <= p->watermark) {
        base->stats->late++;
        sl_op_reject(base, in, r, "late record: its window has closed (watermark passed)");
        continue;
      }
      note_time(p, sp->proctime || !in->recs || !in->recs[r] ? 0 : sl_record_clock(in->recs[r]),
                ts);
    }
    /* a take-back (only without windows: the planner refuses windows
    ** over an updating input) leaves the group that holds its row */
    int back = in->ops && sl_rowkind_retracts(in->ops[r]);
    for (int64_t ws = first; ws <= last; ws += sp->wkind == SL_WIN_NONE ? 1 : sp->slide) {
      if (sp->wkind != SL_WIN_NONE && ws + sp->size <= p->watermark) continue; /* closed */
      group *g;
      if (back) {
        g = lookup_group(p, ws, &reg[sp->key_reg]);
        if (!g || g->nrows <= 0) {
          sl_op_reject(base, in, r, "a take-back of a row that no group holds");
          continue;
        }
      } else {
        g = find_group(p, ws, sp->wkind == SL_WIN_NONE ? INT64_MAX : ws + sp->size,
                       &reg[sp->key_reg]);
      }
      if (sp->emit_changes && !g->dirty) {
        if (p->need_before && keep_before(p, g, err)) return -1;
        g->dirty = 1;
        g->dnext = NULL;
        if (p->dirty_tail)
          p->dirty_tail->dnext = g;
        else
          p->dirty = g;
        p->dirty_tail = g;
      }
      const char *why = step_group(p, g, reg, back);
      if (why) sl_op_reject(base, in, r, why);
      /* emptied: gone now, or (EMIT CHANGES) once its -D is given */
      if (back && g->nrows <= 0 && !sp->emit_changes) remove_group(p, g);
    }
    /* the watermark moves per record, so what is late does not depend on
    ** how the input was cut into batches */
    if (sp->wkind != SL_WIN_NONE && advance_watermark(p, in, err)) return -1;
  }
  /* the changelog of this batch */
  if (emit_changelog(p, in, err)) return -1;
  if (sp->wkind != SL_WIN_NONE && in->src && in->src->vt->partitions) {
    expect_partitions(p, in->src, 1);
    if (advance_watermark(p, in, err)) return -1;
  }
  if (flush_out(p, in, err)) return -1;
  return 0;
}

int sl_aggregate_origin(sl_operator *base, int32_t clock, int64_t ts, int64_t now, int done,
                        sl_err *err) {
  op_aggregate *p = (op_aggregate *)base;
  if (p->spec.wkind == SL_WIN_NONE || p->spec.proctime) return 0;
  if (now > p->now) p->now = now;
  expect_one(p, clock);
  for (int i = 0; i < p->nparts; i++)
    if (p->parts[i].part == clock) {
      if (ts > p->parts[i].max_ts) p->parts[i].max_ts = ts;
      p->parts[i].seen = p->now;
      if (done) p->parts[i].done = 1;
    }
  return advance_watermark(p, NULL, err);
}

/* Time passes without records: processing-time windows close, and idle
** partitions stop holding event-time windows open. */
static int aggregate_tick(sl_operator *base, int64_t now, sl_err *err) {
  op_aggregate *p = (op_aggregate *)base;
  if (now > p->now) p->now = now;
  if (p->spec.wkind != SL_WIN_NONE) {
    if (p->spec.proctime) note_time(p, 0, now);
    if (advance_watermark(p, NULL, err)) return -1;
  }
  return sl_op_pass_tick(base, now, err);
}

static int aggregate_finish(sl_operator *base, sl_err *err) {
  op_aggregate *p = (op_aggregate *)base;
  /* aggregates without GROUP BY: one row, also when no row came (COUNT 0) */
  if (p->spec.one_row && !p->groups.count) {
    group *g = find_group(p, 0, INT64_MAX, NULL);
    g->keep_empty = 1;
    if (p->spec.emit_changes) {
      g->dirty = 1;
      g->dnext = NULL;
      p->dirty = p->dirty_tail = g;
    }
  }
  /* a LIMIT that has had enough (1) still finishes the chain */
  if ((p->spec.wkind == SL_WIN_SESSION ? close_sessions(p, INT64_MAX, NULL, err)
                                       : close_windows(p, INT64_MAX, NULL, err)) < 0)
    return -1;
  return sl_op_finish_next(base, err);
}

static void aggregate_explain(const void *spec, sl_buf *out) {
  const sl_agg_spec *sp = spec;
  static const char *kinds[] = {"none", "TUMBLE", "HOP", "SESSION"};
  sl_buf_printf(out, "aggregate: %d key%s, %d aggregate%s, window %s", sp->nkeys,
                sp->nkeys == 1 ? "" : "s", sp->naggs, sp->naggs == 1 ? "" : "s", kinds[sp->wkind]);
  if (sp->wkind)
    sl_buf_printf(out, " (size %lld ms, slide %lld ms, lateness %lld ms)", (long long)sp->size,
                  (long long)sp->slide, (long long)sp->lateness);
  sl_buf_printf(out, ", emit %s%s\nper row:\n", sp->emit_changes ? "changes" : "on close",
                sp->one_row ? ", one row also over no input" : "");
  sl_program_explain(sp->step, out);
  sl_buf_puts(out, "per group:\n");
  sl_program_explain(sp->out, out);
}

static void aggregate_free(sl_operator *base) {
  op_aggregate *p = (op_aggregate *)base;
  for (int w = 0; w < p->nwin; w++)
    for (group *g = p->wins[w].first, *next; g; g = next) {
      next = g->wnext;
      group_free(p, g, 0);
    }
  sl_hiter it = sl_htab_iter(&p->skeys);
  for (sl_hslot *hs; (hs = sl_htab_next(&p->skeys, &it));) {
    skey *k = hs->p;
    for (session *x = k->sessions, *xn; x; x = xn) {
      xn = x->next;
      session_free(p, x);
    }
    for (int i = 0; i < p->spec.nkeys; i++)
      sl_value_free(&k->keys[i]);
    free(k->keys);
    free(k);
  }
  sl_htab_free(&p->skeys);
  free(p->fakereg);
  free(p->argv);
  free(p->wins);
  sl_htab_free(&p->groups);
  free(p->parts);
  int ng = p->spec.nkeys + 2 + p->spec.naggs;
  for (int i = 0; i < ng; i++)
    sl_value_free(&p->grow[i]);
  free(p->grow);
  free(p->out);
  free(p->ids);
  free(p->outops);
  sl_arena_free(&p->barena);
  free(p->state_off);
  sl_vm_free(&p->vstep);
  sl_vm_free(&p->vout);
  sl_arena_free(&p->arena);
  sl_buf_free(&p->msg);
  free(p);
}

/* ---- checkpoints ------------------------------------------------------------ */

/* A group's keys, distinct values and aggregate states. */
static int save_group(op_aggregate *p, const group *g, sl_buf *out, sl_err *err) {
  for (int i = 0; i < p->spec.nkeys; i++)
    sl_ck_value(out, &g->keys[i]);
  /* a retracting query's groups: their rows and each distinct value's */
  int counted = p->spec.retract;
  if (counted) sl_ck_i64(out, g->nrows);
  for (int a = 0; a < p->spec.naggs; a++) {
    int nd = g->dv ? g->dv[a].n : 0;
    sl_ck_i64(out, nd);
    for (int i = 0; i < nd; i++) {
      sl_ck_value(out, &g->dv[a].v[i]);
      if (counted) sl_ck_i64(out, g->dv[a].cnt[i]);
    }
    size_t at = sl_ck_open(out);
    if (sl_agg_save(p->spec.aggs[a].func, g->state + p->state_off[a], out, err)) return -1;
    sl_ck_close(out, at);
  }
  return 0;
}

/* The operator's state at a barrier between batches: watermarks, then the
** open windows' groups in window order (or the sessions with their rows),
** then the learning state of the models this query trains. */
static int aggregate_save(sl_operator *base, sl_buf *out, sl_err *err) {
  op_aggregate *p = (op_aggregate *)base;
  sl_ck_i64(out, p->watermark);
  sl_ck_i64(out, p->now);
  sl_ck_i64(out, p->nparts);
  for (int i = 0; i < p->nparts; i++) {
    sl_ck_i64(out, p->parts[i].part);
    sl_ck_i64(out, p->parts[i].max_ts);
    sl_ck_i64(out, p->parts[i].seen);
  }
  sl_ck_i64(out, p->nwin);
  for (int w = 0; w < p->nwin; w++) {
    const window *win = &p->wins[w];
    int64_t n = 0;
    for (const group *g = win->first; g; g = g->wnext)
      n++;
    sl_ck_i64(out, win->start);
    sl_ck_i64(out, win->end);
    sl_ck_i64(out, n);
    for (const group *g = win->first; g; g = g->wnext)
      if (save_group(p, g, out, err)) return -1;
  }
  sl_ck_i64(out, (int64_t)p->skeys.count);
  sl_ck_i64(out, p->kseq);
  sl_hiter it = sl_htab_iter(&p->skeys);
  for (sl_hslot *hs; (hs = sl_htab_next(&p->skeys, &it));) {
    const skey *k = hs->p;
    sl_ck_i64(out, k->seq);
    for (int i = 0; i < p->spec.nkeys; i++)
      sl_ck_value(out, &k->keys[i]);
    int64_t ns = 0;
    for (const session *x = k->sessions; x; x = x->next)
      ns++;
    sl_ck_i64(out, ns);
    for (const session *x = k->sessions; x; x = x->next) {
      sl_ck_i64(out, x->start);
      sl_ck_i64(out, x->end);
      sl_ck_i64(out, x->nrows);
      for (int i = 0; i < x->nrows * p->nbuf; i++)
        sl_ck_value(out, &x->rows[i]);
    }
  }
  sl_ck_i64(out, p->spec.nheld);
  for (int i = 0; i < p->spec.nheld; i++) {
    size_t at = sl_ck_open(out);
    sl_trainer_save(p->spec.held[i]->trainer, out);
    sl_ck_close(out, at);
  }
  return 0;
}

static int aggregate_load(sl_operator *base, const void *z, size_t n, sl_err *err) {
  op_aggregate *p = (op_aggregate *)base;
  sl_ckrd r;
  sl_ckrd_init(&r, z, n);
  int nk = p->spec.nkeys;
  sl_value *keys = sl_calloc((size_t)(nk ? nk : 1), sizeof(sl_value));
  sl_value v = SL_VALUE_INIT;
  int rc = -1;
  p->watermark = sl_ckr_i64(&r);
  p->now = sl_ckr_i64(&r);
  int64_t np = sl_ckr_i64(&r);
  for (int64_t i = 0; i < np && !r.bad; i++) {
    int32_t part = (int32_t)sl_ckr_i64(&r);
    int64_t max_ts = sl_ckr_i64(&r), seen = sl_ckr_i64(&r);
    p->parts = sl_realloc(p->parts, sizeof(part_time) * (size_t)(p->nparts + 1));
    p->parts[p->nparts++] = (part_time){part, max_ts, seen, 0};
  }
  int64_t nw = sl_ckr_i64(&r);
  for (int64_t w = 0; w < nw && !r.bad; w++) {
    int64_t start = sl_ckr_i64(&r), end = sl_ckr_i64(&r), ng = sl_ckr_i64(&r);
    for (int64_t k = 0; k < ng && !r.bad; k++) {
      for (int i = 0; i < nk; i++)
        sl_ckr_value(&r, &keys[i]);
      if (r.bad) break;
      size_t ngroups = p->groups.count;
      group *g = find_group(p, start, end, keys);
      if (p->groups.count == ngroups) { /* saved twice: its state would load over the first */
        r.bad = 1;
        break;
      }
      /* an append-only query's groups hold rows: their count does not matter */
      g->nrows = p->spec.retract ? sl_ckr_i64(&r) : 1;
      for (int a = 0; a < p->spec.naggs && !r.bad; a++) {
        int64_t nd = sl_ckr_i64(&r);
        for (int64_t i = 0; i < nd && !r.bad; i++) {
          sl_ckr_value(&r, &v);
          int64_t cnt = p->spec.retract ? sl_ckr_i64(&r) : 1;
          if (g->dv && !r.bad) distinct_new(p, g, a, &v, cnt);
        }
        size_t len;
        const void *st = sl_ckr_bytes(&r, &len);
        if (!r.bad && sl_agg_load(p->spec.aggs[a].func, g->state + p->state_off[a], st, len, err))
          goto done;
        /* what the state owns, as near as is known: its saved size */
        if (!r.bad && len > p->spec.aggs[a].func->state_size) {
          int64_t more = (int64_t)(len - p->spec.aggs[a].func->state_size);
          g->extra += more;
          account(p, more, 0);
        }
      }
    }
  }
  int64_t nsk = sl_ckr_i64(&r);
  int64_t kseq = sl_ckr_i64(&r);
  if (nsk && p->spec.wkind != SL_WIN_SESSION) r.bad = 1; /* sessions of another query */
  for (int64_t k = 0; k < nsk && !r.bad; k++) {
    int64_t seq = sl_ckr_i64(&r);
    for (int i = 0; i < nk; i++)
      sl_ckr_value(&r, &keys[i]);
    if (r.bad) break;
    size_t nskeys = p->skeys.count;
    skey *sk = find_skey(p, keys);
    if (p->skeys.count == nskeys) { /* saved twice: its sessions would replace the first */
      r.bad = 1;
      break;
    }
    sk->seq = seq;
    int64_t ns = sl_ckr_i64(&r);
    session **tail = &sk->sessions;
    for (int64_t j = 0; j < ns && !r.bad; j++) {
      session *x = sl_calloc(1, sizeof *x);
      account(p, (int64_t)sizeof(session), 0);
      x->start = sl_ckr_i64(&r);
      x->end = sl_ckr_i64(&r);
      int64_t nr = sl_ckr_i64(&r);
      if (nr < 0 || nr > (int64_t)(r.end - r.p)) r.bad = 1;
      x->nrows = x->cap = r.bad ? 0 : (int)nr;
      x->rows = sl_calloc((size_t)(x->cap ? x->cap : 1) * (size_t)p->nbuf, sizeof(sl_value));
      for (int i = 0; i < x->nrows * p->nbuf; i++) {
        sl_ckr_value(&r, &x->rows[i]);
        account(p, value_bytes(&x->rows[i]), 0);
      }
      if (x->end < p->min_end) p->min_end = x->end;
      *tail = x;
      tail = &x->next;
    }
  }
  p->kseq = kseq > p->kseq ? kseq : p->kseq;
  int64_t nheld = sl_ckr_i64(&r);
  if (!r.bad && nheld != p->spec.nheld) r.bad = 1;
  for (int i = 0; i < p->spec.nheld && !r.bad; i++) {
    size_t len;
    const void *st = sl_ckr_bytes(&r, &len);
    if (!r.bad && sl_trainer_load(p->spec.held[i]->trainer, st, len, err)) goto done;
  }
  rc = 0;
done:
  if (!rc && (r.bad || r.p != r.end)) {
    sl_err_set(err, SL_EIO, "aggregate: the checkpointed state is corrupt");
    rc = -1;
  }
  for (int i = 0; i < nk; i++)
    sl_value_free(&keys[i]);
  free(keys);
  sl_value_free(&v);
  return rc;
}

/* An aggregate whose state cannot be checkpointed (a C function with
** neither save/load nor SLUICE_PLAIN_STATE). */
static int aggregate_no_checkpoint(const void *spec, sl_buf *why) {
  const sl_agg_spec *sp = spec;
  for (int a = 0; a < sp->naggs; a++) {
    const sl_func *f = sp->aggs[a].func;
    if (!f->xSave && !(f->flags & SL_FUNC_PLAINSTATE)) {
      sl_buf_printf(why,
                    "aggregate %s() cannot be checkpointed (a C function with neither "
                    "save/load nor SLUICE_PLAIN_STATE: see docs/udf.md)",
                    f->name);
      return 1;
    }
  }
  return 0;
}

static const sl_op_vt aggregate_vt = {"aggregate",        aggregate_push,   aggregate_tick,
                                      sl_op_pass_barrier, aggregate_finish, aggregate_free,
                                      aggregate_save,     aggregate_load};

static sl_operator *aggregate_make(const void *spec, const sl_make_env *env, sl_err *err) {
  op_aggregate *p = sl_calloc(1, sizeof *p);
  p->base.vt = &aggregate_vt;
  p->spec = *(const sl_agg_spec *)spec;
  p->state_off = sl_calloc((size_t)(p->spec.naggs ? p->spec.naggs : 1), sizeof(size_t));
  int maxargs = 1;
  for (int a = 0; a < p->spec.naggs; a++) {
    if (p->spec.aggs[a].nargs > maxargs) maxargs = p->spec.aggs[a].nargs;
    p->state_off[a] = p->state_size;
    p->state_size += (p->spec.aggs[a].func->state_size + 15) & ~(size_t)15;
  }
  p->argv = sl_calloc((size_t)maxargs, sizeof(sl_value *));
  sl_htab_init(&p->groups, &group_type);
  p->watermark = INT64_MIN;
  p->min_end = INT64_MAX;
  sl_htab_init(&p->skeys, &skey_type);
  p->buf_first = p->spec.ts_reg + 1; /* the aggregates' arguments and filters */
  p->nbuf = p->spec.step->result_reg + p->spec.step->nresult - p->buf_first;
  p->fakereg =
      sl_calloc((size_t)(p->spec.step->result_reg + p->spec.step->nresult + 1), sizeof(sl_value));
  p->grow = sl_calloc((size_t)(p->spec.nkeys + 2 + p->spec.naggs), sizeof(sl_value));
  sl_vm_init(&p->vstep, p->spec.step);
  sl_vm_init(&p->vout, p->spec.out);
  sl_arena_init(&p->arena);
  sl_arena_init(&p->barena);
  p->need_before = p->spec.emit_changes && p->spec.before_rows;
  return &p->base;
}

static void aggregate_free_spec(void *spec) {
  sl_agg_spec *sp = spec;
  for (int i = 0; i < sp->nheld; i++)
    sl_model_slot_release(sp->held[i]);
  free(sp->held);
  sl_program_free(sp->step);
  sl_program_free(sp->route);
  sl_program_free(sp->out);
  free(sp->aggs);
  free(sp->key_colls);
  free(sp);
}

const sl_op_kind sl_op_aggregate = {"aggregate", aggregate_make, aggregate_explain,
                                    aggregate_free_spec, aggregate_no_checkpoint};
