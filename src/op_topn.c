/*
** op_topn.c - an incremental Top-N over a stream (op_window.h): the rows of
** `SELECT * FROM (SELECT ..., ROW_NUMBER() OVER (PARTITION BY k ORDER BY x
** DESC) AS rn FROM s) WHERE rn <= N` (or RANK, DENSE_RANK), kept per
** partition as they come, their changes emitted as a changelog (an
** updating stream, sl_batch.ops).
**
** Per partition the operator keeps the rows whose rank is at most N, in
** order (ties in arrival order, as Flink's Top-N keeps them); an append-only
** input never takes a row back, so a row that falls past N can never come
** back and is forgotten.  A new row is put in its place; the places from
** there on are compared with what they held before and each change is
** emitted: a place that held another row or the same row with another rank
** gives -U (the old row, its old rank) then +U (the new row, its new rank),
** a new place +I, a place gone (RANK's ties pushed out together) -D.  For
** ROW_NUMBER the places are the ranks, so the last row written for a
** (partition, rank) is the one the result holds there.
**
** Rows are the select list (the program's first nout results, the rank
** column filled here) and the ORDER BY values.  Memory: N rows per
** partition (RANK and DENSE_RANK: also the ties of the last rank), and the
** partitions' keys; accounted as the query's state and checkpointed.
*/
#include <stdlib.h>
#include <string.h>

#include "wpart.h"

typedef struct trow {
  sl_value *v;  /* nout select-list values, then norder ORDER BY values (owned) */
  int64_t seq;  /* arrival number: the row's identity */
  int64_t rank; /* its rank as last emitted */
  int64_t bytes;
} trow;

/* A partition (wpart.h: its keys in the table's block). */
typedef struct tpart {
  sl_wpart base;
  trow *rows; /* in order, the top rows (owned) */
  int n, cap;
} tpart;

typedef struct op_topn {
  sl_operator base;
  const sl_window_spec *sp;
  const sl_wdef *w;
  int kind; /* sl_wfunc */
  sl_vm vm;
  int nout, width; /* the select list's columns; values per kept row */
  sl_wptab parts;  /* tpart by its keys */
  int64_t next_seq;
  int64_t now;
  sl_value **spare; /* value arrays of forgotten rows, for the next ones */
  int nspare, capspare;
  /* the changes of the current batch */
  sl_value *out;
  uint8_t *ops;
  int nout_rows, capout;
  sl_arena arena; /* their bytes */
  trow *old;      /* the places compared, as they were */
  int capold;
} op_topn;

static int64_t row_bytes(const op_topn *p, const sl_value *v) {
  int64_t n = (int64_t)sizeof(trow);
  for (int c = 0; c < p->width; c++)
    n += sl_wvalue_bytes(&v[c]);
  return n;
}

/* ---- rows ------------------------------------------------------------------ */

static sl_value *new_values(op_topn *p) {
  if (p->nspare) return p->spare[--p->nspare];
  return sl_calloc((size_t)p->width, sizeof(sl_value));
}

/* Forget row r (its values kept for reuse). */
static void forget(op_topn *p, trow *r) {
  sl_op_account(&p->base, -r->bytes, 0);
  for (int c = 0; c < p->width; c++)
    sl_value_free(&r->v[c]);
  if (p->nspare == p->capspare) {
    p->capspare = p->capspare ? 2 * p->capspare : 64;
    p->spare = sl_realloc(p->spare, sizeof(sl_value *) * (size_t)p->capspare);
  }
  p->spare[p->nspare++] = r->v;
  r->v = NULL;
}

/* Where row a sorts against b: the window's ORDER BY values. */
static int order_cmp(const op_topn *p, const sl_value *a, const sl_value *b) {
  return sl_worder_cmp(p->w, a + p->nout, b + p->nout);
}

/* Append a change: row v (its rank in the rank column) of kind op. */
static void change(op_topn *p, const sl_value *v, int64_t rank, int op) {
  if (p->nout_rows == p->capout) {
    p->capout = p->capout ? 2 * p->capout : 256;
    p->out = sl_realloc(p->out, sizeof(sl_value) * (size_t)p->capout * (size_t)p->nout);
    p->ops = sl_realloc(p->ops, (size_t)p->capout);
  }
  sl_value *o = p->out + (size_t)p->nout_rows * (size_t)p->nout;
  for (int c = 0; c < p->nout; c++) {
    o[c] = v[c];
    o[c].buf = NULL;
    o[c].cap = 0;
    o[c].flags &= (uint8_t)~SL_F_OWNBUF;
    sl_value_pin(&o[c], &p->arena); /* the row may be forgotten before the batch goes */
  }
  sl_value_set_int(&o[p->sp->rank_col], rank);
  p->ops[p->nout_rows++] = (uint8_t)op;
}

/* The ranks of t's rows from place `from` on; then the rows past the
** limit forgotten (after their places were compared by the caller). */
static void rerank(op_topn *p, tpart *t, int from) {
  for (int i = from; i < t->n; i++) {
    trow *r = &t->rows[i];
    if (p->kind == SL_WF_ROW_NUMBER)
      r->rank = i + 1;
    else if (i > 0 && order_cmp(p, t->rows[i - 1].v, r->v) == 0)
      r->rank = t->rows[i - 1].rank;
    else if (p->kind == SL_WF_RANK)
      r->rank = i + 1;
    else
      r->rank = i > 0 ? t->rows[i - 1].rank + 1 : 1;
  }
}

/* Take one row (the program's results reg: select list, keys, order). */
static void take(op_topn *p, const sl_value *reg) {
  const sl_wdef *w = p->w;
  int added;
  tpart *t = (tpart *)sl_wptab_put(&p->parts, reg + w->part_reg,
                                   sl_wpart_hash(w, reg + w->part_reg), &added);
  /* the values as kept: select list, then ORDER BY values */
  const sl_value *ord = reg + w->order_reg;
  /* its place: after every row that sorts before it or with it */
  int lo = 0, hi = t->n;
  while (lo < hi) {
    int mid = (lo + hi) / 2;
    if (sl_worder_cmp(w, t->rows[mid].v + p->nout, ord) <= 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  int pos = lo;
  int64_t rank;
  int peer = pos > 0 && sl_worder_cmp(w, t->rows[pos - 1].v + p->nout, ord) == 0;
  if (p->kind == SL_WF_ROW_NUMBER)
    rank = pos + 1;
  else if (peer)
    rank = t->rows[pos - 1].rank;
  else
    rank = p->kind == SL_WF_RANK ? pos + 1 : (pos > 0 ? t->rows[pos - 1].rank + 1 : 1);
  if (rank > p->sp->limit) return; /* past the top: never in it */
  /* the places from pos on, as they were */
  int old_n = t->n;
  if (old_n - pos > p->capold) {
    p->capold = old_n - pos + 16;
    p->old = sl_realloc(p->old, sizeof(trow) * (size_t)p->capold);
  }
  if (old_n > pos) memcpy(p->old, t->rows + pos, sizeof(trow) * (size_t)(old_n - pos));
  if (t->n == t->cap) {
    t->cap = t->cap ? 2 * t->cap : 4;
    t->rows = sl_realloc(t->rows, sizeof(trow) * (size_t)t->cap);
  }
  if (t->n > pos) memmove(t->rows + pos + 1, t->rows + pos, sizeof(trow) * (size_t)(t->n - pos));
  t->n++;
  trow *r = &t->rows[pos];
  r->v = new_values(p);
  for (int c = 0; c < p->nout; c++)
    sl_value_copy(&r->v[c], &reg[p->sp->out_reg + c]);
  for (int k = 0; k < w->norder; k++)
    sl_value_copy(&r->v[p->nout + k], &ord[k]);
  r->seq = p->next_seq++;
  r->bytes = row_bytes(p, r->v);
  sl_op_account(&p->base, r->bytes, 0);
  rerank(p, t, pos);
  int new_n = t->n;
  while (new_n > pos && t->rows[new_n - 1].rank > p->sp->limit)
    new_n--;
  /* the changes, place by place */
  int last = new_n > old_n ? new_n : old_n;
  for (int i = pos; i < last; i++) {
    const trow *o = i < old_n ? &p->old[i - pos] : NULL;
    const trow *nw = i < new_n ? &t->rows[i] : NULL;
    if (o && nw) {
      if (o->seq == nw->seq && o->rank == nw->rank) continue;
      change(p, o->v, o->rank, SL_ROW_UPDATE_BEFORE);
      change(p, nw->v, nw->rank, SL_ROW_UPDATE_AFTER);
    } else if (nw) {
      change(p, nw->v, nw->rank, SL_ROW_INSERT);
    } else {
      change(p, o->v, o->rank, SL_ROW_DELETE);
    }
  }
  for (int i = new_n; i < t->n; i++) /* fallen past the top: never back */
    forget(p, &t->rows[i]);
  t->n = new_n;
}

/* Emit the batch's changes. */
static int flush(op_topn *p, const sl_batch *in, sl_err *err) {
  if (!p->nout_rows) return 0;
  sl_batch b = {p->nout, p->nout_rows, p->out, NULL, in ? in->src : NULL, p->now, NULL, p->ops};
  int rc = sl_op_emit(&p->base, &b, err);
  p->nout_rows = 0;
  sl_arena_reset(&p->arena);
  return rc;
}

static int topn_push(sl_operator *base, sl_batch *in, sl_err *err) {
  op_topn *p = (op_topn *)base;
  if (in->now > p->now) p->now = in->now;
  for (int r = 0; r < in->nrow; r++) {
    int rc = sl_vm_run(&p->vm, in->rows + (size_t)r * (size_t)in->ncol);
    if (rc == SL_VM_SKIP) continue;
    if (rc == SL_VM_ERROR) {
      sl_op_reject(base, in, r, p->vm.errmsg.z ? p->vm.errmsg.z : "evaluation failed");
      continue;
    }
    take(p, &p->vm.reg[p->vm.prog->result_reg]);
  }
  return flush(p, in, err);
}

static int topn_finish(sl_operator *base, sl_err *err) {
  return sl_op_finish_next(base, err);
}

/* sl_wptab_free's callback: what a partition owns (its rows). */
static void part_free(void *ctx, sl_wpart *pt) {
  op_topn *p = ctx;
  tpart *t = (tpart *)pt;
  for (int i = 0; i < t->n; i++)
    forget(p, &t->rows[i]);
  free(t->rows);
}

static void topn_free(sl_operator *base) {
  op_topn *p = (op_topn *)base;
  p->base.stats = NULL;
  sl_wptab_free(&p->parts, part_free, p);
  for (int i = 0; i < p->nspare; i++)
    free(p->spare[i]);
  free(p->spare);
  sl_vm_free(&p->vm);
  free(p->out);
  free(p->ops);
  free(p->old);
  sl_arena_free(&p->arena);
  free(p);
}

/* The state: the arrival counter, then the partitions (wpart.h: their
** count, per partition its keys then what save_part writes). */

/* A partition's rows: their count, per row its arrival number, rank and
** values. */
static int save_part(void *ctx, const sl_wpart *pt, sl_buf *out, sl_err *err) {
  (void)err;
  const op_topn *p = ctx;
  const tpart *t = (const tpart *)pt;
  sl_ck_i64(out, t->n);
  for (int i = 0; i < t->n; i++) {
    sl_ck_i64(out, t->rows[i].seq);
    sl_ck_i64(out, t->rows[i].rank);
    for (int c = 0; c < p->width; c++)
      sl_ck_value(out, &t->rows[i].v[c]);
  }
  return 0;
}

static int topn_save(sl_operator *base, sl_buf *out, sl_err *err) {
  op_topn *p = (op_topn *)base;
  sl_ck_i64(out, p->next_seq);
  return sl_wptab_save(&p->parts, out, save_part, p, err);
}

/* Read what save_part wrote into the new partition pt (its rows owned and
** accounted by p).  0, or -1 when damaged. */
static int load_part(void *ctx, sl_wpart *pt, sl_ckrd *r, sl_err *err) {
  (void)err;
  op_topn *p = ctx;
  tpart *t = (tpart *)pt;
  int64_t nr = sl_ckr_i64(r);
  if (r->bad || nr < 0 || nr > INT32_MAX) return -1;
  for (int64_t j = 0; j < nr && !r->bad; j++) {
    if (t->n == t->cap) {
      t->cap = t->cap ? 2 * t->cap : 4;
      t->rows = sl_realloc(t->rows, sizeof(trow) * (size_t)t->cap);
    }
    trow *row = &t->rows[t->n];
    row->seq = sl_ckr_i64(r);
    row->rank = sl_ckr_i64(r);
    row->v = new_values(p);
    for (int c = 0; c < p->width; c++)
      sl_ckr_value(r, &row->v[c]);
    row->bytes = row_bytes(p, row->v);
    sl_op_account(&p->base, row->bytes, 0);
    t->n++;
  }
  return 0;
}

static int topn_load(sl_operator *base, const void *z, size_t n, sl_err *err) {
  op_topn *p = (op_topn *)base;
  sl_ckrd r;
  sl_ckrd_init(&r, z, n);
  p->next_seq = sl_ckr_i64(&r);
  sl_wptab_load(&p->parts, &r, load_part, p, err);
  if (r.bad || r.p != r.end) {
    sl_err_set(err, SL_EIO, "Top-N: its checkpointed rows are damaged");
    return -1;
  }
  return 0;
}

static const sl_op_vt topn_vt = {"topn",      topn_push, sl_op_pass_tick, sl_op_pass_barrier,
                                 topn_finish, topn_free, topn_save,       topn_load};

static sl_operator *topn_make(const void *spec, const sl_make_env *env, sl_err *err) {
  (void)env;
  (void)err;
  const sl_window_spec *sp = spec;
  op_topn *p = sl_calloc(1, sizeof *p);
  p->base.vt = &topn_vt;
  p->sp = sp;
  p->w = &sp->wins[0];
  p->kind = sp->calls[0].kind;
  p->nout = sp->nout;
  p->width = sp->nout + p->w->norder;
  sl_vm_init(&p->vm, sp->pre);
  sl_wptab_init(&p->parts, &p->base, p->w, sizeof(tpart), 0);
  sl_arena_init(&p->arena);
  return &p->base;
}

static void topn_explain(const void *spec, sl_buf *out) {
  const sl_window_spec *sp = spec;
  sl_buf_printf(out, "topn: the rows of %s() <= %lld per partition, their changes emitted\n",
                sp->calls[0].func->name, (long long)sp->limit);
  sl_window_spec_explain(sp, out);
}

const sl_op_kind sl_op_topn = {"topn", topn_make, topn_explain, sl_window_spec_free, NULL};
