/*
** op_window.c - window functions over a bounded input (op_window.h): every
** row the program keeps (WHERE) is copied until the input ends; then, per
** window, the rows are sorted by its PARTITION BY and ORDER BY values (a
** stable sort: peers keep their arrival order) and each call is computed
** over each partition as SQLite computes it:
**   ROW_NUMBER, RANK, DENSE_RANK   the row's place, its peers' first place,
**                                  its peer group's number;
**   LAG(x, n, d), LEAD(x, n, d)    x of the row n before (after) it, d when
**                                  there is none; n read per row as SQLite
**                                  does (SQL arithmetic on the row's place:
**                                  NULL or a fraction finds nothing, a
**                                  negative one looks the other way);
**   an aggregate over its frame    ROWS BETWEEN any bounds, or RANGE from
**                                  UNBOUNDED PRECEDING or the row's first
**                                  peer to its last peer or the partition's
**                                  end (the default: to the last peer);
**                                  the frame slides with xStep and xInverse,
**                                  its value read with xValue.
** Rows then go on, in the last window's order, as their input columns and
** one value per call.  Memory: the input's rows (accounted as state).
** The file also holds what the three window operators share: the spec's
** free and EXPLAIN, and how keys compare.
*/
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "op_window.h"

#define WIN_CHUNK 1024

/* ---- shared ---------------------------------------------------------------- */

int64_t sl_wvalue_bytes(const sl_value *v) {
  int64_t n = (int64_t)sizeof(sl_value);
  if (v->buf) return n + v->cap + 16;
  if (v->type == SL_TEXT || v->type == SL_BLOB) n += v->n;
  if (v->type == SL_VECTOR) n += (int64_t)v->n * (int64_t)sizeof(double);
  return n;
}

/* ---- the event-time clock -------------------------------------------------- */

void sl_evclock_init(sl_evclock *c, int64_t lateness, int64_t idle_ms) {
  memset(c, 0, sizeof *c);
  c->lateness = lateness;
  c->idle_ms = idle_ms;
  c->watermark = INT64_MIN;
}

void sl_evclock_free(sl_evclock *c) {
  free(c->pts);
  c->pts = NULL;
  c->npts = 0;
}

static void evclock_add(sl_evclock *c, int32_t part, int64_t ts, int64_t now) {
  c->pts = sl_realloc(c->pts, sizeof(sl_evpart) * (size_t)(c->npts + 1));
  c->pts[c->npts++] = (sl_evpart){part, ts, now, 0};
}

void sl_evclock_note(sl_evclock *c, int32_t part, int64_t ts, int64_t now) {
  for (int i = 0; i < c->npts; i++)
    if (c->pts[i].part == part) {
      if (ts > c->pts[i].max_ts) c->pts[i].max_ts = ts;
      c->pts[i].seen = now;
      return;
    }
  evclock_add(c, part, ts, now);
}

void sl_evclock_expect(sl_evclock *c, sl_source *src, int after, int64_t now) {
  if (c->by_origin) {
    for (int o = 0; !after && !c->origins_expected && src && o < src->norigins; o++) {
      int known = 0;
      for (int j = 0; j < c->npts && !known; j++)
        known = c->pts[j].part == o;
      if (!known) evclock_add(c, o, INT64_MIN, now);
    }
    c->origins_expected = 1;
    return;
  }
  if (!src || !src->vt->partitions) return;
  int32_t parts[256];
  int n = src->vt->partitions(src, parts, 256);
  if (n > 256) return;
  if (after) {
    for (int j = 0; j < c->npts; j++) {
      int live = 0;
      for (int i = 0; i < n && !live; i++)
        live = c->pts[j].part == parts[i];
      c->pts[j].done = !live;
    }
    return;
  }
  for (int i = 0; i < n; i++) {
    int known = 0;
    for (int j = 0; j < c->npts && !known; j++)
      known = c->pts[j].part == parts[i];
    if (!known) evclock_add(c, parts[i], INT64_MIN, now);
  }
}

int sl_evclock_advance(sl_evclock *c, int64_t now) {
  int64_t wm = INT64_MAX, busiest = INT64_MIN;
  for (int i = 0; i < c->npts; i++) {
    if (c->npts > 1 && now - c->pts[i].seen > c->idle_ms) continue;
    if (c->pts[i].done) continue;
    if (c->pts[i].max_ts < wm) wm = c->pts[i].max_ts;
  }
  for (int i = 0; i < c->npts; i++)
    if (c->pts[i].max_ts > busiest) busiest = c->pts[i].max_ts;
  if (wm == INT64_MAX) wm = busiest;
  if (!c->npts || wm == INT64_MIN || wm - c->lateness <= c->watermark) return 0;
  c->watermark = wm - c->lateness;
  return 1;
}

void sl_evclock_save(const sl_evclock *c, sl_buf *out) {
  sl_ck_i64(out, c->npts);
  for (int i = 0; i < c->npts; i++) {
    sl_ck_i64(out, c->pts[i].part);
    sl_ck_i64(out, c->pts[i].max_ts);
  }
}

int sl_evclock_load(sl_evclock *c, sl_ckrd *r, int64_t now) {
  int64_t np = sl_ckr_i64(r);
  if (np < 0 || np >= 65536) r->bad = 1;
  for (int64_t i = 0; i < np && !r->bad; i++) {
    int32_t part = (int32_t)sl_ckr_i64(r);
    sl_evclock_note(c, part, sl_ckr_i64(r), now);
  }
  return r->bad ? -1 : 0;
}

/* ---- keys and order ---------------------------------------------------------- */

uint64_t sl_wpart_hash(const sl_wdef *w, const sl_value *v) {
  uint64_t h = 0x0e7e;
  for (int k = 0; k < w->npart; k++)
    h = (h ^ sl_value_hash_coll(&v[k], w->part_colls[k])) * 0x100000001b3ULL;
  return h;
}

int sl_wpart_cmp(const sl_wdef *w, const sl_value *a, const sl_value *b) {
  for (int k = 0; k < w->npart; k++) {
    int an = a[k].type == SL_NULL, bn = b[k].type == SL_NULL;
    if (an || bn) {
      if (an && bn) continue;
      return an ? -1 : 1;
    }
    int c = sl_value_compare(&a[k], &b[k], w->part_colls[k]);
    if (c) return c;
  }
  return 0;
}

int sl_worder_cmp(const sl_wdef *w, const sl_value *a, const sl_value *b) {
  for (int k = 0; k < w->norder; k++) {
    const sl_sortkey *key = &w->order[k];
    int an = a[k].type == SL_NULL, bn = b[k].type == SL_NULL;
    if (an || bn) {
      if (an && bn) continue;
      return an ? (key->nulls_first ? -1 : 1) : (key->nulls_first ? 1 : -1);
    }
    int c = sl_value_compare(&a[k], &b[k], key->coll);
    if (c) return key->desc ? -c : c;
  }
  return 0;
}

void sl_window_spec_free(void *spec) {
  sl_window_spec *sp = spec;
  if (!sp) return;
  sl_program_free(sp->pre);
  for (int w = 0; w < sp->nwin; w++) {
    free(sp->wins[w].part_colls);
    free(sp->wins[w].order);
  }
  free(sp->wins);
  free(sp->calls);
  free(sp);
}

static const char *bound_name(int kind) {
  switch (kind) {
  case SL_FB_UNBOUNDED_PRECEDING: return "UNBOUNDED PRECEDING";
  case SL_FB_PRECEDING: return "PRECEDING";
  case SL_FB_CURRENT: return "CURRENT ROW";
  case SL_FB_FOLLOWING: return "FOLLOWING";
  default: return "UNBOUNDED FOLLOWING";
  }
}

void sl_window_spec_explain(const sl_window_spec *sp, sl_buf *out) {
  for (int w = 0; w < sp->nwin; w++) {
    const sl_wdef *d = &sp->wins[w];
    sl_buf_printf(out, "  window %d: partition by %d value%s, order by %d value%s\n", w + 1,
                  d->npart, d->npart == 1 ? "" : "s", d->norder, d->norder == 1 ? "" : "s");
  }
  for (int k = 0; k < sp->ncall; k++) {
    const sl_wcall_spec *c = &sp->calls[k];
    sl_buf_printf(out, "  call %d: %s() over window %d", k + 1, c->func->name, c->win + 1);
    if (!c->kind) {
      sl_buf_printf(out, ", %s BETWEEN ", c->frame == SL_FRAME_ROWS ? "ROWS" : "RANGE");
      if (c->start == SL_FB_PRECEDING || c->start == SL_FB_FOLLOWING)
        sl_buf_printf(out, "%lld ", (long long)c->start_n);
      sl_buf_printf(out, "%s AND ", bound_name(c->start));
      if (c->end == SL_FB_PRECEDING || c->end == SL_FB_FOLLOWING)
        sl_buf_printf(out, "%lld ", (long long)c->end_n);
      sl_buf_puts(out, bound_name(c->end));
    }
    sl_buf_puts(out, "\n");
  }
  sl_program_explain(sp->pre, out);
}

/* ---- the operator --------------------------------------------------------- */

typedef struct op_window {
  sl_operator base;
  const sl_window_spec *sp;
  sl_vm vm;
  int nres;       /* the program's results kept per row */
  int width;      /* values per kept row: ncol_in, then nres */
  sl_value *rows; /* n rows of width owned values */
  int n, cap;
  int64_t bytes; /* accounted */
  int64_t now;
  sl_value *res;        /* n * ncall results (owned) */
  int *idx, *tmp;       /* a window's order of the rows; merge sort scratch */
  int *peer0, *peer1;   /* per place of a partition: its peer group's first and last place */
  unsigned char *state; /* an aggregate's state block */
  size_t state_cap;
  sl_buf msg;
  sl_value *out; /* an output chunk of WIN_CHUNK rows (borrowed values) */
} op_window;

static sl_value *row_at(const op_window *p, int r) {
  return p->rows + (size_t)r * (size_t)p->width;
}
/* Register reg of the program as kept with row r. */
static sl_value *reg_at(const op_window *p, int r, int reg) {
  return row_at(p, r) + p->sp->ncol_in + reg;
}

/* Sort order of rows a and b in window w (partition, then order). */
static int rows_cmp(const op_window *p, const sl_wdef *w, int a, int b) {
  int c = sl_wpart_cmp(w, reg_at(p, a, w->part_reg), reg_at(p, b, w->part_reg));
  if (c) return c;
  return sl_worder_cmp(w, reg_at(p, a, w->order_reg), reg_at(p, b, w->order_reg));
}

static void merge_sort(const op_window *p, const sl_wdef *w, int *a, int *tmp, int n) {
  if (n < 2) return;
  int h = n / 2;
  merge_sort(p, w, a, tmp, h);
  merge_sort(p, w, a + h, tmp, n - h);
  int i = 0, j = h, k = 0;
  while (i < h && j < n)
    tmp[k++] = rows_cmp(p, w, a[j], a[i]) < 0 ? a[j++] : a[i++];
  while (i < h)
    tmp[k++] = a[i++];
  while (j < n)
    tmp[k++] = a[j++];
  memcpy(a, tmp, sizeof(int) * (size_t)n);
}

/* A shallow copy of v that the callee may convert without touching v. */
static sl_value shallow(const sl_value *v) {
  sl_value t = *v;
  t.buf = NULL;
  t.cap = 0;
  t.flags &= (uint8_t)~SL_F_OWNBUF;
  return t;
}

/* Step (inverse: remove) row r into the call's state.  0, or -1 with err. */
static int agg_row(op_window *p, const sl_wcall_spec *c, const sl_func *f, int r, int inverse,
                   sl_err *err) {
  if (c->filter_reg >= 0 && sl_value_truth(reg_at(p, r, c->filter_reg)) != 1) return 0;
  sl_value args[8], *argv[8];
  int na = c->nargs < 8 ? c->nargs : 8;
  for (int k = 0; k < na; k++) {
    args[k] = shallow(reg_at(p, r, c->arg_reg + k));
    argv[k] = &args[k];
  }
  sl_value dummy = SL_VALUE_INIT;
  sl_fctx ctx = {f, &dummy, p->state, c->coll, 0, &p->msg, 0, 0, NULL, 0};
  (inverse ? f->xInverse : f->xStep)(&ctx, na, argv);
  sl_value_free(&dummy);
  for (int k = 0; k < na; k++) /* what a conversion in place allocated */
    sl_value_free(&args[k]);
  if (ctx.failed) {
    sl_err_set(err, SL_ERUNTIME, "%s", p->msg.z ? p->msg.z : "aggregate failed");
    return -1;
  }
  return 0;
}

/* Release the call's state and zero it for the next partition. */
static void agg_reset(op_window *p, const sl_func *f) {
  sl_value v = SL_VALUE_INIT;
  sl_fctx ctx = {f, &v, p->state, SL_COLL_BINARY, 0, &p->msg, 0, 1, NULL, 0};
  f->xFinal(&ctx);
  sl_value_free(&v);
  memset(p->state, 0, f->state_size);
}

/* The frame [lo, hi] (places in a partition of m rows) of place i. */
static void frame_of(const op_window *p, const sl_wcall_spec *c, int i, int m, int64_t *lo,
                     int64_t *hi) {
  switch (c->start) {
  case SL_FB_UNBOUNDED_PRECEDING: *lo = 0; break;
  case SL_FB_PRECEDING: *lo = c->frame == SL_FRAME_ROWS ? i - c->start_n : p->peer0[i]; break;
  case SL_FB_CURRENT: *lo = c->frame == SL_FRAME_ROWS ? i : p->peer0[i]; break;
  default: *lo = c->frame == SL_FRAME_ROWS ? i + c->start_n : p->peer1[i] + 1; break;
  }
  switch (c->end) {
  case SL_FB_PRECEDING: *hi = c->frame == SL_FRAME_ROWS ? i - c->end_n : p->peer0[i] - 1; break;
  case SL_FB_CURRENT: *hi = c->frame == SL_FRAME_ROWS ? i : p->peer1[i]; break;
  case SL_FB_FOLLOWING: *hi = c->frame == SL_FRAME_ROWS ? i + c->end_n : p->peer1[i]; break;
  default: *hi = m - 1; break;
  }
  if (*lo < 0) *lo = 0;
  if (*hi > m - 1) *hi = m - 1;
}

/* An aggregate over its frame for each row of the partition at rows[0..m). */
static int agg_partition(op_window *p, int k, const int *rows, int m, sl_err *err) {
  const sl_wcall_spec *c = &p->sp->calls[k];
  const sl_func *f = c->start == SL_FB_UNBOUNDED_PRECEDING ? sl_agg_no_inverse(c->func) : c->func;
  if (f->state_size > p->state_cap) {
    p->state = sl_realloc(p->state, f->state_size);
    p->state_cap = f->state_size;
  }
  memset(p->state, 0, f->state_size);
  int64_t a = 0, b = 0; /* places [a, b) are in the state */
  for (int i = 0; i < m; i++) {
    int64_t lo, hi;
    frame_of(p, c, i, m, &lo, &hi);
    int64_t na = lo > m ? m : lo, nb = hi + 1 < na ? na : hi + 1;
    if (na > a && !f->xInverse) { /* cannot remove rows: start again */
      agg_reset(p, f);
      a = b = na;
    }
    for (; b < nb; b++)
      if (agg_row(p, c, f, rows[b], 0, err)) return -1;
    for (; a < na; a++)
      if (agg_row(p, c, f, rows[a], 1, err)) return -1;
    sl_value v = SL_VALUE_INIT;
    sl_fctx ctx = {f, &v, p->state, c->coll, 0, &p->msg, 0, 0, NULL, 0};
    f->xValue(&ctx);
    sl_value *dst = &p->res[(size_t)rows[i] * (size_t)p->sp->ncall + (size_t)k];
    sl_value_copy(dst, &v);
    sl_value_free(&v);
  }
  agg_reset(p, f);
  return 0;
}

/* LAG / LEAD's target place for place i, or -1 when there is none: the
** offset as SQLite applies it (integer arithmetic on the place). */
static int64_t lag_target(const op_window *p, const sl_wcall_spec *c, int r, int i, int m) {
  int64_t off = 1;
  if (c->nargs >= 2) {
    sl_value v = SL_VALUE_INIT;
    sl_value_numerify(reg_at(p, r, c->arg_reg + 1), &v);
    if (v.type == SL_INTEGER)
      off = v.u.i;
    else if (v.type == SL_REAL && v.u.r > -9e18 && v.u.r < 9e18 && v.u.r == (double)(int64_t)v.u.r)
      off = (int64_t)v.u.r; /* range first: casting an out-of-range double is undefined */
    else
      off = INT64_MIN; /* NULL, a fraction: nothing */
    sl_value_free(&v);
    if (off == INT64_MIN || off > INT32_MAX || off < -(int64_t)INT32_MAX) return -1;
  }
  int64_t j = c->kind == SL_WF_LAG ? i - off : i + off;
  return j >= 0 && j < m ? j : -1;
}

/* Call k over the partition at rows[0..m) (in the window's order). */
static int call_partition(op_window *p, int k, const int *rows, int m, sl_err *err) {
  const sl_wcall_spec *c = &p->sp->calls[k];
  if (!c->kind) return agg_partition(p, k, rows, m, err);
  int64_t dense = 0;
  for (int i = 0; i < m; i++) {
    sl_value *dst = &p->res[(size_t)rows[i] * (size_t)p->sp->ncall + (size_t)k];
    if (p->peer0[i] == i) dense++;
    switch (c->kind) {
    case SL_WF_ROW_NUMBER: sl_value_set_int(dst, i + 1); break;
    case SL_WF_RANK: sl_value_set_int(dst, p->peer0[i] + 1); break;
    case SL_WF_DENSE_RANK: sl_value_set_int(dst, dense); break;
    default: {
      int64_t j = lag_target(p, c, rows[i], i, m);
      if (j >= 0)
        sl_value_copy(dst, reg_at(p, rows[j], c->arg_reg));
      else if (c->nargs == 3)
        sl_value_copy(dst, reg_at(p, rows[i], c->arg_reg + 2));
      else
        sl_value_set_null(dst);
    }
    }
  }
  return 0;
}

/* Every call's value for every row kept; p->idx ends in the last window's
** order.  0, or -1 with err set. */
static int compute(op_window *p, sl_err *err) {
  const sl_window_spec *sp = p->sp;
  p->res = sl_calloc((size_t)p->n * (size_t)sp->ncall + 1, sizeof(sl_value));
  p->idx = sl_malloc(sizeof(int) * (size_t)(p->n + 1));
  p->tmp = sl_malloc(sizeof(int) * (size_t)(p->n + 1));
  p->peer0 = sl_malloc(sizeof(int) * (size_t)(p->n + 1));
  p->peer1 = sl_malloc(sizeof(int) * (size_t)(p->n + 1));
  for (int w = 0; w < sp->nwin; w++) {
    const sl_wdef *d = &sp->wins[w];
    for (int i = 0; i < p->n; i++)
      p->idx[i] = i;
    merge_sort(p, d, p->idx, p->tmp, p->n);
    for (int ps = 0; ps < p->n;) {
      int pe = ps + 1;
      while (pe < p->n && sl_wpart_cmp(d, reg_at(p, p->idx[ps], d->part_reg),
                                       reg_at(p, p->idx[pe], d->part_reg)) == 0)
        pe++;
      int m = pe - ps;
      const int *rows = p->idx + ps;
      for (int i = 0; i < m; i++) /* peer groups: equal ORDER BY values */
        p->peer0[i] = i > 0 && sl_worder_cmp(d, reg_at(p, rows[i - 1], d->order_reg),
                                             reg_at(p, rows[i], d->order_reg)) == 0
                          ? p->peer0[i - 1]
                          : i;
      for (int i = m - 1; i >= 0; i--)
        p->peer1[i] = i < m - 1 && p->peer0[i + 1] == p->peer0[i] ? p->peer1[i + 1] : i;
      for (int k = 0; k < sp->ncall; k++)
        if (sp->calls[k].win == w && call_partition(p, k, rows, m, err)) return -1;
      ps = pe;
    }
  }
  return 0;
}

/* Free every kept row and result. */
static void clear(op_window *p) {
  for (size_t i = 0; i < (size_t)p->n * (size_t)p->width; i++)
    sl_value_free(&p->rows[i]);
  if (p->res)
    for (size_t i = 0; i < (size_t)p->n * (size_t)p->sp->ncall; i++)
      sl_value_free(&p->res[i]);
  free(p->res);
  p->res = NULL;
  sl_op_account(&p->base, -p->bytes, -p->n);
  p->bytes = 0;
  p->n = 0;
}

/* Keep one row: its input columns (in, ncol of them) and the program's
** results (reg). */
static void keep(op_window *p, const sl_value *in, int ncol, const sl_value *reg) {
  if (p->n == p->cap) {
    p->cap = p->cap ? 2 * p->cap : 256;
    p->rows = sl_realloc(p->rows, sizeof(sl_value) * (size_t)p->cap * (size_t)p->width);
  }
  sl_value *d = row_at(p, p->n++);
  memset(d, 0, sizeof(sl_value) * (size_t)p->width);
  int64_t bytes = 0;
  for (int c = 0; c < p->sp->ncol_in; c++) {
    if (c < ncol) sl_value_copy(&d[c], &in[c]);
    bytes += sl_wvalue_bytes(&d[c]);
  }
  for (int j = 0; j < p->nres; j++) {
    sl_value_copy(&d[p->sp->ncol_in + j], &reg[j]);
    bytes += sl_wvalue_bytes(&d[p->sp->ncol_in + j]);
  }
  p->bytes += bytes;
  sl_op_account(&p->base, bytes, 1);
}

static int window_push(sl_operator *base, sl_batch *in, sl_err *err) {
  op_window *p = (op_window *)base;
  if (in->now > p->now) p->now = in->now;
  for (int r = 0; r < in->nrow; r++) {
    if (p->base.stats && __atomic_load_n(&p->base.stats->over, __ATOMIC_RELAXED)) break;
    const sl_value *row = in->rows + (size_t)r * (size_t)in->ncol;
    int rc = sl_vm_run(&p->vm, (sl_value *)row);
    if (rc == SL_VM_SKIP) continue;
    if (rc == SL_VM_ERROR) {
      sl_op_reject(base, in, r, p->vm.errmsg.z ? p->vm.errmsg.z : "evaluation failed");
      continue;
    }
    keep(p, row, in->ncol, &p->vm.reg[p->vm.prog->result_reg]);
  }
  return 0;
}

static int window_finish(sl_operator *base, sl_err *err) {
  op_window *p = (op_window *)base;
  const sl_window_spec *sp = p->sp;
  if (p->n && compute(p, err)) return -1;
  int wo = sp->ncol_in + sp->ncall, rc = 0;
  for (int i = 0; i < p->n && rc == 0;) {
    int k = 0;
    for (; k < WIN_CHUNK && i < p->n; k++, i++) {
      int r = p->idx[i];
      sl_value *o = p->out + (size_t)k * (size_t)wo;
      for (int c = 0; c < sp->ncol_in; c++)
        o[c] = shallow(&row_at(p, r)[c]);
      for (int c = 0; c < sp->ncall; c++)
        o[sp->ncol_in + c] = shallow(&p->res[(size_t)r * (size_t)sp->ncall + (size_t)c]);
    }
    sl_batch b = {wo, k, p->out, NULL, NULL, p->now, NULL, NULL};
    rc = sl_op_emit(&p->base, &b, err);
  }
  clear(p);
  if (rc < 0) return -1;
  return sl_op_finish_next(base, err);
}

static void window_free(sl_operator *base) {
  op_window *p = (op_window *)base;
  p->base.stats = NULL;
  clear(p);
  sl_vm_free(&p->vm);
  free(p->rows);
  free(p->idx);
  free(p->tmp);
  free(p->peer0);
  free(p->peer1);
  free(p->state);
  free(p->out);
  sl_buf_free(&p->msg);
  free(p);
}

/* The rows kept so far: their count, then each row's values. */
static int window_save(sl_operator *base, sl_buf *out, sl_err *err) {
  (void)err;
  op_window *p = (op_window *)base;
  sl_ck_i64(out, p->n);
  for (size_t i = 0; i < (size_t)p->n * (size_t)p->width; i++)
    sl_ck_value(out, &p->rows[i]);
  return 0;
}

static int window_load(sl_operator *base, const void *z, size_t n, sl_err *err) {
  op_window *p = (op_window *)base;
  sl_ckrd r;
  sl_ckrd_init(&r, z, n);
  int64_t count = sl_ckr_i64(&r);
  if (count < 0 || count > INT32_MAX) r.bad = 1;
  sl_value *row = sl_calloc((size_t)p->width, sizeof(sl_value));
  for (int64_t i = 0; i < count && !r.bad; i++) {
    for (int c = 0; c < p->width; c++)
      sl_ckr_value(&r, &row[c]);
    if (!r.bad) keep(p, row, p->sp->ncol_in, row + p->sp->ncol_in);
  }
  for (int c = 0; c < p->width; c++)
    sl_value_free(&row[c]);
  free(row);
  if (r.bad || r.p != r.end) {
    sl_err_set(err, SL_EIO, "window functions: the checkpointed rows are damaged");
    return -1;
  }
  return 0;
}

static const sl_op_vt window_vt = {"window",      window_push, sl_op_pass_tick, sl_op_pass_barrier,
                                   window_finish, window_free, window_save,     window_load};

static sl_operator *window_make(const void *spec, const sl_make_env *env, sl_err *err) {
  (void)env;
  (void)err;
  const sl_window_spec *sp = spec;
  op_window *p = sl_calloc(1, sizeof *p);
  p->base.vt = &window_vt;
  p->sp = sp;
  sl_vm_init(&p->vm, sp->pre);
  p->nres = sp->pre->nresult;
  p->width = sp->ncol_in + p->nres;
  if (p->width < 1) p->width = 1;
  p->out = sl_calloc((size_t)WIN_CHUNK * (size_t)(sp->ncol_in + sp->ncall + 1), sizeof(sl_value));
  return &p->base;
}

static void window_explain(const void *spec, sl_buf *out) {
  const sl_window_spec *sp = spec;
  sl_buf_printf(out, "window: %d call%s over a bounded input, computed when it ends\n", sp->ncall,
                sp->ncall == 1 ? "" : "s");
  sl_window_spec_explain(sp, out);
}

const sl_op_kind sl_op_window = {"window", window_make, window_explain, sl_window_spec_free, NULL};
