/*
** func.c - the function table (one descriptor for every SQL function) and the
** result helpers shared by all functions.
**
** The table is an open hash of chains keyed by the case-folded name.  It does
** not own descriptors; it owns only its chain nodes.
**
** The batch form: sl_fbatch_call runs a function's xBatch over columns of
** arguments and collects results and per-row failures (the accessors a
** batch function calls are in func_api.c).
*/
#include "func.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void sl_result_real(sl_fctx *ctx, double r) {
  if (isnan(r))
    sl_value_set_null(ctx->out);
  else
    sl_value_set_real(ctx->out, r);
}

void sl_result_verror(sl_fctx *ctx, const char *fmt, va_list ap) {
  sl_fbatch *b = ctx->batch;
  if (b) { /* a batch call fails one row */
    int r = b->row;
    if (b->failed[r]) return;
    b->failed[r] = 1;
    b->why[r] = sl_vmprintf(fmt, ap);
    b->nfailed++;
    sl_value_set_null(&b->out[r]);
    return;
  }
  if (ctx->failed) return;
  ctx->failed = 1;
  if (ctx->errmsg) {
    sl_buf_reset(ctx->errmsg);
    sl_buf_vprintf(ctx->errmsg, fmt, ap);
  }
  sl_value_set_null(ctx->out);
}

void sl_result_error(sl_fctx *ctx, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  sl_result_verror(ctx, fmt, ap);
  va_end(ap);
}

/* ---- the batch form --------------------------------------------------------- */

/* Grow b's scratch to nrow rows of argc arguments. */
static void fbatch_reserve(sl_fbatch *b, int nrow, int argc) {
  if (nrow <= b->cap && argc <= b->argcap) return;
  int cap = nrow > b->cap ? nrow : b->cap;
  int ac = argc > b->argcap ? argc : b->argcap;
  if (ac < 1) ac = 1;
  /* The value copies keep their buffers: move them column by column. */
  sl_value *vcol = sl_calloc((size_t)cap * (size_t)ac, sizeof(sl_value));
  for (int a = 0; a < b->argcap; a++)
    memcpy(vcol + (size_t)a * (size_t)cap, b->vcol + (size_t)a * (size_t)b->cap,
           sizeof(sl_value) * (size_t)b->cap);
  free(b->vcol);
  b->vcol = vcol;
  b->failed = sl_realloc(b->failed, (size_t)cap);
  b->why = sl_realloc(b->why, sizeof(char *) * (size_t)cap);
  memset(b->why, 0, sizeof(char *) * (size_t)cap); /* no message is pending here */
  b->dres = sl_realloc(b->dres, sizeof(double) * (size_t)cap);
  b->ires = sl_realloc(b->ires, sizeof(int64_t) * (size_t)cap);
  b->dcol = sl_realloc(b->dcol, sizeof(double) * (size_t)cap * (size_t)ac);
  b->icol = sl_realloc(b->icol, sizeof(int64_t) * (size_t)cap * (size_t)ac);
  b->have = sl_realloc(b->have, (size_t)ac);
  b->cap = cap;
  b->argcap = ac;
}

/* Free the messages of the previous call's failed rows. */
static void fbatch_clear_failures(sl_fbatch *b) {
  for (int i = 0; b->nfailed && i < b->nrow; i++)
    if (b->why[i]) {
      free(b->why[i]);
      b->why[i] = NULL;
      b->nfailed--;
    }
  b->nfailed = 0;
}

void sl_fbatch_call(const sl_func *f, sl_fbatch *b, int nrow, sl_coll coll) {
  fbatch_clear_failures(b);
  if (nrow <= 0) return;
  fbatch_reserve(b, nrow, b->argc);
  b->nrow = nrow;
  b->row = 0;
  b->res_kind = 0;
  b->nulled = 0;
  memset(b->failed, 0, (size_t)nrow);
  memset(b->have, 0, (size_t)(b->argc > 0 ? b->argc : 1));
  sl_value_set_null(&b->out[0]);
  sl_fctx ctx = {f, &b->out[0], NULL, coll, 0, NULL, 0, 0, b, 0};
  f->xBatch(&ctx, nrow, b->argc);
  if (b->res_kind == 0) sl_fbatch_null_rest(b);
}

void sl_fbatch_null_rest(sl_fbatch *b) {
  if (b->nulled) return;
  b->nulled = 1;
  for (int i = 1; i < b->nrow; i++)
    sl_value_set_null(&b->out[i]);
}

void sl_fbatch_free(sl_fbatch *b) {
  fbatch_clear_failures(b);
  for (size_t i = 0; i < (size_t)b->cap * (size_t)b->argcap; i++)
    sl_value_free(&b->vcol[i]);
  free(b->vcol);
  free(b->failed);
  free(b->why);
  free(b->dres);
  free(b->ires);
  free(b->dcol);
  free(b->icol);
  free(b->have);
  memset(b, 0, sizeof *b);
}

typedef struct fnode {
  struct fnode *next;
  const sl_func *f;
  uint64_t h;
} fnode;

#define FT_BUCKETS 256

struct sl_functab {
  fnode *b[FT_BUCKETS];
  int count;
};

sl_functab *sl_functab_new(void) {
  return sl_calloc(1, sizeof(sl_functab));
}

void sl_functab_free(sl_functab *t) {
  if (!t) return;
  for (int i = 0; i < FT_BUCKETS; i++) {
    fnode *n = t->b[i];
    while (n) {
      fnode *next = n->next;
      if (n->f->xDestroy) n->f->xDestroy(n->f->user);
      free(n);
      n = next;
    }
  }
  free(t);
}

void sl_functab_add(sl_functab *t, const sl_func *f) {
  uint64_t h = sl_hash(f->name, strlen(f->name), 1);
  fnode **pp = &t->b[h % FT_BUCKETS];
  for (fnode *n = *pp; n; n = n->next) {
    if (n->h == h && n->f->nargs == f->nargs && sl_stricmp(n->f->name, f->name) == 0) {
      if (n->f->xDestroy && n->f != f) n->f->xDestroy(n->f->user);
      n->f = f;
      return;
    }
  }
  fnode *n = sl_malloc(sizeof *n);
  n->f = f;
  n->h = h;
  n->next = *pp;
  *pp = n;
  t->count++;
}

void sl_functab_add_all(sl_functab *t, const sl_func *fs) {
  for (; fs->name; fs++)
    sl_functab_add(t, fs);
}

int sl_functab_remove(sl_functab *t, const char *name) {
  uint64_t h = sl_hash(name, strlen(name), 1);
  int removed = 0;
  for (fnode **pp = &t->b[h % FT_BUCKETS]; *pp;) {
    fnode *n = *pp;
    if (n->h == h && sl_stricmp(n->f->name, name) == 0) {
      *pp = n->next;
      if (n->f->xDestroy) n->f->xDestroy(n->f->user);
      free(n);
      removed++;
      t->count--;
    } else {
      pp = &n->next;
    }
  }
  return removed;
}

const sl_func *sl_functab_put(sl_functab *t, const sl_func *f) {
  uint64_t h = sl_hash(f->name, strlen(f->name), 1);
  for (fnode *n = t->b[h % FT_BUCKETS]; n; n = n->next) {
    if (n->h == h && n->f->nargs == f->nargs && sl_stricmp(n->f->name, f->name) == 0) {
      const sl_func *old = n->f;
      n->f = f;
      return old;
    }
  }
  sl_functab_add(t, f);
  return NULL;
}

int sl_functab_take(sl_functab *t, const sl_func *f) {
  uint64_t h = sl_hash(f->name, strlen(f->name), 1);
  for (fnode **pp = &t->b[h % FT_BUCKETS]; *pp; pp = &(*pp)->next) {
    fnode *n = *pp;
    if (n->f == f) {
      *pp = n->next;
      free(n);
      t->count--;
      return 1;
    }
  }
  return 0;
}

/* How well f accepts argc arguments: 2 exact, 1 variadic, 0 not at all. */
static int arity_score(const sl_func *f, int argc) {
  if (f->nargs == argc) return 2;
  if (f->nargs == -1) return 1;
  if (f->nargs <= -2 && argc >= -(f->nargs + 2)) return 1;
  return 0;
}

const sl_func *sl_functab_find(const sl_functab *t, const char *name, size_t namelen, int argc,
                               int *name_known) {
  uint64_t h = sl_hash(name, namelen, 1);
  const sl_func *best = NULL;
  int best_score = 0;
  if (name_known) *name_known = 0;
  for (fnode *n = t->b[h % FT_BUCKETS]; n; n = n->next) {
    if (n->h != h || strlen(n->f->name) != namelen || sl_strnicmp(n->f->name, name, namelen))
      continue;
    if (name_known) *name_known = 1;
    int s = arity_score(n->f, argc);
    if (s > best_score) {
      best = n->f;
      best_score = s;
    }
  }
  return best;
}

static int cmp_func(const void *a, const void *b) {
  const sl_func *fa = *(const sl_func *const *)a, *fb = *(const sl_func *const *)b;
  int c = strcmp(fa->name, fb->name);
  return c ? c : fa->nargs - fb->nargs;
}

void sl_functab_foreach(const sl_functab *t, void (*cb)(void *ud, const sl_func *f), void *ud) {
  const sl_func **all = sl_malloc(sizeof(*all) * (size_t)(t->count + 1));
  int n = 0;
  for (int i = 0; i < FT_BUCKETS; i++)
    for (fnode *x = t->b[i]; x; x = x->next)
      all[n++] = x->f;
  qsort(all, (size_t)n, sizeof(*all), cmp_func);
  for (int i = 0; i < n; i++)
    cb(ud, all[i]);
  free(all);
}

/* ---- aggregate checkpoints ------------------------------------------------ */

int sl_agg_save(const sl_func *f, const void *state, sl_buf *out, sl_err *err) {
  if (f->xSave) {
    f->xSave(f, state, out);
    return 0;
  }
  if (f->flags & SL_FUNC_PLAINSTATE) {
    sl_buf_append(out, state, f->state_size);
    return 0;
  }
  sl_err_set(err, SL_EBIND, "aggregate %s() cannot be checkpointed (it has no xSave)", f->name);
  return -1;
}

int sl_agg_load(const sl_func *f, void *state, const void *z, size_t n, sl_err *err) {
  int rc = -1;
  if (f->xLoad)
    rc = f->xLoad(f, state, z, n);
  else if ((f->flags & SL_FUNC_PLAINSTATE) && n == f->state_size) {
    memcpy(state, z, n);
    rc = 0;
  }
  if (rc) sl_err_set(err, SL_EIO, "aggregate %s(): the checkpointed state does not fit", f->name);
  return rc;
}
