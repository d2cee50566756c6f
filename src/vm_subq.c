/*
** vm_subq.c - the VM's side of subqueries (vm.h): OP_Subquery's cache and
** SQLite's rules for a scalar subquery, EXISTS and IN, OP_Param's frames,
** and the runner the runtime registers to run a subquery's plan.
**
** The VM knows a subquery only as an opaque descriptor; the runner
** (run_subq.c) makes a run of its plan.  Each machine keeps, per site, the
** rows of its runs by the outer values they were computed for (at most
** MAX_ENTRIES results and MAX_CELLS values, then it starts again): an
** uncorrelated subquery runs once per machine (its operator's life), a
** correlated one once per distinct outer values.
*/
#include <stdlib.h>
#include <string.h>

#include "ast.h"
#include "vm.h"

/* One result of a site: the outer values it was computed for and the rows. */
typedef struct sl_subqe {
  int valid;
  sl_value *key; /* the outer values (owned copies) */
  int nkey;
  sl_subq_rows rows;
  /* IN over many rows with the binary collation: the rows' values as the
  ** comparison sees them (norm, owned), hashed into slots (row + 1, 0
  ** empty; nslot a power of two); hashed says they are built for rows */
  int hashed;
  sl_value *norm;
  int *slots;
  int nslot, nnorm, has_null;
} sl_subqe;

/* A site's results in one machine, by outer values: open addressing over
** cap entries (a power of two), n of them valid; cleared when it holds
** MAX_ENTRIES results or MAX_CELLS values. */
typedef struct sl_subqc {
  sl_subqe *e;
  int cap, n;
  int64_t cells;
  sl_value x; /* IN's operand as the comparison sees it (its buffer reused) */
} sl_subqc;

#define MAX_ENTRIES 4096
#define MAX_CELLS (1 << 20)

/* An IN over fewer rows is a scan. */
#define IN_HASH_MIN 8

static sl_subq_runner runner;
static _Thread_local sl_vm_frame *frames;

void sl_subq_rows_add(sl_subq_rows *r, int ncol, sl_value *const *row) {
  if (r->nrow == 0) r->ncol = ncol;
  size_t need = (size_t)(r->nrow + 1) * (size_t)ncol;
  if (need > (size_t)r->cap) {
    size_t cap = r->cap ? (size_t)r->cap * 2 : 16;
    while (cap < need)
      cap *= 2;
    r->v = sl_realloc(r->v, sizeof(*r->v) * cap);
    for (size_t i = (size_t)r->cap; i < cap; i++)
      r->v[i] = (sl_value)SL_VALUE_INIT;
    r->cap = (int)cap;
  }
  for (int c = 0; c < ncol; c++)
    sl_value_copy(&r->v[(size_t)r->nrow * (size_t)ncol + (size_t)c], row[c]);
  r->nrow++;
}

void sl_subq_rows_clear(sl_subq_rows *r) {
  r->nrow = 0;
}

void sl_subq_rows_free(sl_subq_rows *r) {
  for (int i = 0; i < r->cap; i++)
    sl_value_free(&r->v[i]);
  free(r->v);
  memset(r, 0, sizeof *r);
}

void sl_vm_set_subq_runner(sl_subq_runner fn) {
  __atomic_store_n(&runner, fn, __ATOMIC_RELEASE);
}

int sl_vm_subquery(const void *desc, const sl_value *params, int nparam, sl_subq_rows *out,
                   sl_err *err) {
  sl_subq_runner fn = __atomic_load_n(&runner, __ATOMIC_ACQUIRE);
  if (!fn) {
    sl_err_set(err, SL_EINTERNAL, "a subquery runs only inside a run of its plan");
    return -1;
  }
  return fn(desc, params, nparam, out, err);
}

void sl_vm_frame_push(sl_vm_frame *f, const sl_value *v, int n) {
  f->v = v;
  f->n = n;
  f->up = frames;
  frames = f;
}

void sl_vm_frame_pop(sl_vm_frame *f) {
  frames = f->up;
}

int sl_vm_param(sl_vm *vm, int k, sl_value *d) {
  if (!frames || k >= frames->n) {
    sl_buf_reset(&vm->errmsg);
    sl_buf_puts(&vm->errmsg, "internal error: an outer value read outside its subquery");
    return -1;
  }
  sl_value_ref(d, &frames->v[k]);
  return 0;
}

sl_subqsite *sl_program_subq(sl_program *p) {
  sl_subqsite *s = sl_calloc(1, sizeof *s);
  s->slot = p->nsubq;
  p->subqs = sl_realloc(p->subqs, sizeof(*p->subqs) * (size_t)(p->nsubq + 1));
  p->subqs[p->nsubq++] = s;
  return s;
}

/* 1 when the outer values v[0..n) are those e was computed for: the same
** types and values (1 and 1.0 differ: typeof() would tell). */
static int same_key(const sl_subqe *e, const sl_value *v, int n) {
  if (!e->valid || e->nkey != n) return 0;
  for (int i = 0; i < n; i++)
    if (e->key[i].type != v[i].type || sl_value_compare(&e->key[i], &v[i], SL_COLL_BINARY) != 0)
      return 0;
  return 1;
}

/* A hash of outer values that agrees with same_key. */
static uint64_t key_hash(const sl_value *v, int n) {
  uint64_t h = 0x243f6a8885a308d3ull;
  for (int i = 0; i < n; i++)
    h = (h ^ sl_value_hash(&v[i]) ^ (uint64_t)v[i].type) * 0x100000001b3ull;
  return h ^ (h >> 29);
}

/* Free what e holds (it stays a zeroed, empty entry). */
static void entry_fini(sl_subqe *e) {
  for (int k = 0; k < e->nkey; k++)
    sl_value_free(&e->key[k]);
  free(e->key);
  sl_subq_rows_free(&e->rows);
  for (int k = 0; k < e->nnorm; k++)
    sl_value_free(&e->norm[k]);
  free(e->norm);
  free(e->slots);
  memset(e, 0, sizeof *e);
}

/* The entry for outer values v[0..n) in c: the valid one, or the empty
** slot a new one goes to (c grown or cleared first when full). */
static sl_subqe *entry_find(sl_subqc *c, const sl_value *v, int n) {
  if (!c->cap) {
    c->cap = 8;
    c->e = sl_calloc((size_t)c->cap, sizeof(*c->e));
  }
  uint64_t h = key_hash(v, n);
  for (size_t i = (size_t)h & (size_t)(c->cap - 1);; i = (i + 1) & (size_t)(c->cap - 1)) {
    sl_subqe *e = &c->e[i];
    if (same_key(e, v, n)) return e;
    if (e->valid) continue;
    if ((c->n + 1) * 2 <= c->cap && c->cells < MAX_CELLS) return e;
    break; /* full: grow, or clear */
  }
  if (c->n >= MAX_ENTRIES || c->cells >= MAX_CELLS) {
    for (int i = 0; i < c->cap; i++)
      entry_fini(&c->e[i]);
    c->n = 0;
    c->cells = 0;
  } else {
    int cap = c->cap * 2;
    sl_subqe *ne = sl_calloc((size_t)cap, sizeof(*ne));
    for (int i = 0; i < c->cap; i++) {
      if (!c->e[i].valid) {
        entry_fini(&c->e[i]);
        continue;
      }
      size_t k = (size_t)key_hash(c->e[i].key, c->e[i].nkey) & (size_t)(cap - 1);
      while (ne[k].valid)
        k = (k + 1) & (size_t)(cap - 1);
      ne[k] = c->e[i];
    }
    free(c->e);
    c->e = ne;
    c->cap = cap;
  }
  return entry_find(c, v, n);
}

/* v as a comparison with affinity aff sees it (sl_value_compare_aff):
** text made a number under a numeric affinity, a number made text under
** TEXT; into out (its buffer reused). */
static void norm_value(const sl_value *v, sl_affinity aff, sl_value *out) {
  sl_value_copy(out, v);
  if (aff >= SL_AFF_NUMERIC && out->type == SL_TEXT)
    sl_value_apply_affinity(out, SL_AFF_NUMERIC);
  else if (aff == SL_AFF_TEXT && (out->type == SL_INTEGER || out->type == SL_REAL))
    sl_value_apply_affinity(out, SL_AFF_TEXT);
}

/* Build c's hash of its rows' first column for site s. */
static void in_hash_build(sl_subqe *c, const sl_subqsite *s) {
  const sl_subq_rows *rows = &c->rows;
  if (rows->nrow > c->nnorm) {
    c->norm = sl_realloc(c->norm, sizeof(*c->norm) * (size_t)rows->nrow);
    for (int i = c->nnorm; i < rows->nrow; i++)
      c->norm[i] = (sl_value)SL_VALUE_INIT;
    c->nnorm = rows->nrow;
  }
  int need = 16;
  while (need < rows->nrow * 2)
    need *= 2;
  if (need > c->nslot) {
    c->slots = sl_realloc(c->slots, sizeof(int) * (size_t)need);
    c->nslot = need;
  }
  memset(c->slots, 0, sizeof(int) * (size_t)c->nslot);
  c->has_null = 0;
  for (int i = 0; i < rows->nrow; i++) {
    const sl_value *y = &rows->v[(size_t)i * (size_t)rows->ncol];
    if (y->type == SL_NULL) {
      c->has_null = 1;
      continue;
    }
    norm_value(y, (sl_affinity)s->aff, &c->norm[i]);
    size_t h = (size_t)sl_value_hash(&c->norm[i]) & (size_t)(c->nslot - 1);
    while (c->slots[h])
      h = (h + 1) & (size_t)(c->nslot - 1);
    c->slots[h] = i + 1;
  }
  c->hashed = 1;
}

/* x IN c's rows through the hash: 1 found, 0 not (x not NULL; nx: a
** value whose buffer is reused for x as the comparison sees it). */
static int in_hash_find(sl_subqe *c, const sl_subqsite *s, const sl_value *x, sl_value *nx) {
  norm_value(x, (sl_affinity)s->aff, nx);
  size_t h = (size_t)sl_value_hash(nx) & (size_t)(c->nslot - 1);
  for (; c->slots[h]; h = (h + 1) & (size_t)(c->nslot - 1))
    if (sl_value_compare(nx, &c->norm[c->slots[h] - 1], SL_COLL_BINARY) == 0) return 1;
  return 0;
}

/* x IN rows, with SQLite's NULL rules: false over no rows, NULL for a NULL
** x, true when a row equals x, else NULL when a row is NULL, else false. */
static void in_rows(sl_vm *vm, const sl_subqsite *s, sl_subqe *c, sl_value *nx, const sl_value *x,
                    sl_value *out) {
  const sl_subq_rows *rows = &c->rows;
  if (rows->nrow == 0) {
    sl_value_set_int(out, s->not_);
    return;
  }
  if (x->type == SL_NULL) {
    sl_value_set_null(out);
    return;
  }
  if (rows->nrow >= IN_HASH_MIN && s->coll == SL_COLL_BINARY && x->type != SL_BLOB) {
    if (!c->hashed) in_hash_build(c, s);
    if (in_hash_find(c, s, x, nx))
      sl_value_set_int(out, !s->not_);
    else if (c->has_null)
      sl_value_set_null(out);
    else
      sl_value_set_int(out, s->not_);
    return;
  }
  int null = 0;
  for (int i = 0; i < rows->nrow; i++) {
    const sl_value *y = &rows->v[(size_t)i * (size_t)rows->ncol];
    int c = sl_value_compare_aff(x, y, (sl_affinity)s->aff, (sl_coll)s->coll, &vm->scratch[0],
                                 &vm->scratch[1]);
    if (c == 0) {
      sl_value_set_int(out, !s->not_);
      return;
    }
    null |= c == -2;
  }
  if (null)
    sl_value_set_null(out);
  else
    sl_value_set_int(out, s->not_);
}

int sl_vm_subq_exec(sl_vm *vm, const sl_op *op, sl_value *r) {
  const sl_subqsite *s = op->p4.sq;
  if (!vm->subc) vm->subc = sl_calloc((size_t)vm->prog->nsubq, sizeof(sl_subqc));
  sl_subqc *c = &vm->subc[s->slot];
  const sl_value *params = &r[op->p1 + 1];
  sl_subqe *e = entry_find(c, params, s->nparam);
  if (!e->valid) {
    e->hashed = 0;
    sl_err err = {0};
    if (sl_vm_subquery(s->desc, params, s->nparam, &e->rows, &err)) {
      sl_buf_reset(&vm->errmsg);
      sl_buf_puts(&vm->errmsg, err.msg ? err.msg : "subquery failed");
      sl_err_clear(&err);
      return -1;
    }
    if (s->nparam > e->nkey) {
      e->key = sl_realloc(e->key, sizeof(*e->key) * (size_t)s->nparam);
      for (int i = e->nkey; i < s->nparam; i++)
        e->key[i] = (sl_value)SL_VALUE_INIT;
    }
    e->nkey = s->nparam;
    for (int i = 0; i < s->nparam; i++)
      sl_value_copy(&e->key[i], &params[i]);
    e->valid = 1;
    c->n++;
    c->cells += (int64_t)e->rows.nrow * e->rows.ncol + s->nparam + 1;
  }
  sl_value *out = &r[op->p3];
  switch (s->kind) {
  case SL_SUBQ_EXISTS: sl_value_set_int(out, e->rows.nrow > 0); break;
  case SL_SUBQ_IN: in_rows(vm, s, e, &c->x, &r[op->p1], out); break;
  default:
    if (e->rows.nrow)
      sl_value_copy(out, &e->rows.v[0]); /* the cache changes with other outer values */
    else
      sl_value_set_null(out);
  }
  return 0;
}

void sl_vm_subq_free(sl_vm *vm) {
  if (!vm->subc) return;
  for (int i = 0; i < vm->prog->nsubq; i++) {
    sl_subqc *c = &vm->subc[i];
    for (int k = 0; k < c->cap; k++)
      entry_fini(&c->e[k]);
    free(c->e);
    sl_value_free(&c->x);
  }
  free(vm->subc);
  vm->subc = NULL;
}
