/*
** op_join.c - stream-table join: FROM s [LEFT] JOIN t ON s.k = t.k [AND ...].
**
** t is loaded completely when the query starts (a catalog table, a file,
** sqlite('db', 'table')) and indexed by a hash on its key columns (one
** entry per distinct key, its rows chained in table order).  For each
** input record the key program computes the record's key values (over the
** joined row, t's part still NULL); each value takes the affinity of its t
** column, as SQLite's comparison would; every row of t with equal keys
** (NULL never matches) and passing the rest of ON gives one joined row
** [t's columns, the record's columns].  LEFT JOIN: a record with no match
** gives one row with t's columns NULL.  Without key columns (CROSS JOIN,
** ON a < b, ON NULL IS NULL) every row of t is a candidate: a nested loop,
** O(rows of t) per record, the rest of ON deciding each pair.  A FROM list
** of several items is a chain of these operators, each adding its table's
** columns in front of the row it receives.  t's values are owned here; the
** record's are borrowed for the push.
**
** Memory: t loaded for this query (not a catalog table's rows, which the
** catalog holds) and its index are the query's state, accounted at the
** first batch (sl_op_account: max_query_memory); the joined rows of a batch
** go downstream every JOIN_FLUSH_ROWS, so a record matching a million rows
** does not buffer them all.
*/
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "op_join.h"

#define JOIN_FLUSH_ROWS 4096

typedef struct op_join {
  sl_operator base;
  sl_join_spec spec; /* a shallow copy of the plan's; its table may be ours */
  sl_table *own;     /* t when it was loaded here (owned), else NULL */
  sl_vm vkey, vres, vpre;
  int *live; /* t's rows that pass spec.tfilter, in order (all without one) */
  int nlive;
  unsigned char *pass; /* while indexing: per row of t, whether it passed */
  int nt;              /* columns of t */
  sl_htab index;       /* key_type: per distinct key of t, its first row (u) */
  int *chain;          /* per row of t: the next row with the same key, or -1 */
  sl_value *keys;      /* the record's key values, with t's affinities */
  sl_value *jrow;      /* the joined row being built */
  int jcap;
  sl_value *out;
  const sl_record **recs;
  uint64_t
      *ids; /* per output row: its input row's and table row's identity (when the input has them) */
  int cap, nout, ncol;
  int64_t own_bytes; /* memory of own and the index (0: the catalog's table) */
  int accounted;     /* own_bytes was accounted into the query's state */
} op_join;

static int key_equal(const sl_value *a, const sl_value *b) {
  if (a->type == SL_NULL || b->type == SL_NULL) return 0;
  return sl_value_compare(a, b, SL_COLL_BINARY) == 0;
}

/* A lookup key of the index: nkeys values (borrowed). */
typedef struct join_key {
  const op_join *p;
  const sl_value *keys;
} join_key;

static uint64_t key_hash(const void *key) {
  const join_key *k = key;
  uint64_t h = 7;
  for (int i = 0; i < k->p->spec.nkeys; i++)
    h = h * 31 + sl_value_hash(&k->keys[i]);
  return h;
}

/* 1 if the row of t in slot s has the key's values in its key columns. */
static int key_eq(const void *key, const sl_hslot *s) {
  const join_key *k = key;
  const op_join *p = k->p;
  const sl_value *row = p->spec.table->rows + (size_t)s->u * (size_t)p->nt;
  for (int i = 0; i < p->spec.nkeys; i++)
    if (!key_equal(&row[p->spec.tkey[i]], &k->keys[i])) return 0;
  return 1;
}

static const sl_htype key_type = {key_hash, key_eq};

static void reserve(op_join *p, int n) {
  if (n <= p->cap) return;
  p->cap = n;
  p->out = sl_realloc(p->out, sizeof(sl_value) * (size_t)n * (size_t)p->ncol);
  p->recs = sl_realloc(p->recs, sizeof(*p->recs) * (size_t)n);
  p->ids = sl_realloc(p->ids, sizeof(*p->ids) * (size_t)n);
}

/* Append the joined row to the output (t row r, or NULLs when r < 0). */
static void add_row(op_join *p, const sl_batch *in, int i, int r) {
  if (p->nout == p->cap) reserve(p, p->cap ? 2 * p->cap : 256); /* a record may match many */
  sl_value *o = p->out + (size_t)p->nout * (size_t)p->ncol;
  const sl_table *t = p->spec.table;
  for (int c = 0; c < p->nt; c++) {
    if (r < 0) {
      memset(&o[c], 0, sizeof o[c]);
    } else {
      o[c] = t->rows[(size_t)r * (size_t)p->nt + (size_t)c];
      o[c].buf = NULL;
      o[c].cap = 0;
      o[c].flags &= (uint8_t)~SL_F_OWNBUF;
    }
  }
  memcpy(o + p->nt, in->rows + (size_t)i * (size_t)in->ncol, sizeof(sl_value) * (size_t)in->ncol);
  for (int c = p->nt; c < p->ncol; c++) {
    o[c].buf = NULL;
    o[c].cap = 0;
    o[c].flags &= (uint8_t)~SL_F_OWNBUF;
  }
  /* one input row may match many table rows: each match its own identity */
  p->ids[p->nout] = in->ids ? sl_id_pair(in->ids[i], (uint64_t)(r + 2)) : 0;
  p->recs[p->nout++] = in->recs ? in->recs[i] : NULL;
}

/* Send the joined rows so far downstream (none: 0).  What the push returns. */
static int join_flush(op_join *p, const sl_batch *in, sl_err *err) {
  if (!p->nout) return 0;
  sl_batch b = {p->ncol,
                p->nout,
                p->out,
                in->recs ? p->recs : NULL,
                in->src,
                in->now,
                in->ids ? p->ids : NULL,
                NULL};
  p->nout = 0;
  return sl_op_emit(&p->base, &b, err);
}

static int join_push(sl_operator *base, sl_batch *in, sl_err *err) {
  op_join *p = (op_join *)base;
  const sl_table *t = p->spec.table;
  int nk = p->spec.nkeys;
  if (!p->accounted) { /* here: the run sets stats after make */
    p->accounted = 1;
    if (p->own_bytes) sl_op_account(base, p->own_bytes, p->own->nrow);
  }
  p->ncol = p->nt + in->ncol;
  if (p->ncol > p->jcap) {
    p->jcap = p->ncol;
    p->jrow = sl_realloc(p->jrow, sizeof(sl_value) * (size_t)p->jcap);
    free(p->out);
    p->out = NULL;
    p->cap = 0;
  }
  reserve(p, in->nrow ? in->nrow : 1);
  p->nout = 0;
  for (int i = 0; i < in->nrow; i++) {
    sl_value *j = p->jrow;
    memset(j, 0, sizeof(sl_value) * (size_t)p->nt);
    memcpy(j + p->nt, in->rows + (size_t)i * (size_t)in->ncol, sizeof(sl_value) * (size_t)in->ncol);
    if (p->spec.pre) { /* WHERE's terms over the record alone */
      int rc = sl_vm_run(&p->vpre, j);
      if (rc == SL_VM_ERROR) {
        sl_op_reject(base, in, i, p->vpre.errmsg.z ? p->vpre.errmsg.z : "evaluation failed");
        continue;
      }
      if (rc == SL_VM_SKIP) continue;
    }
    int r0 = p->nlive ? p->live[0] : -1; /* no keys: every live row of t (a nested loop) */
    int pos = 0;
    if (nk) {
      int rc = sl_vm_run(&p->vkey, j);
      if (rc == SL_VM_ERROR) {
        sl_op_reject(base, in, i, p->vkey.errmsg.z ? p->vkey.errmsg.z : "evaluation failed");
        continue;
      }
      int has_null = 0;
      for (int k = 0; k < nk; k++) {
        sl_value_copy(&p->keys[k], &p->vkey.reg[p->spec.keyprog->result_reg + k]);
        sl_value_apply_affinity(&p->keys[k], t->schema.cols[p->spec.tkey[k]].aff);
        has_null |= p->keys[k].type == SL_NULL;
      }
      join_key key = {p, p->keys};
      sl_hslot *s = has_null ? NULL : sl_htab_find_t(&p->index, &key_type, key_hash(&key), &key);
      r0 = s ? (int)s->u : -1;
    }
    int matched = 0, rejected = 0;
    /* the rows of this key in table order (chain), or every live row */
    for (int r = r0; r >= 0; r = nk ? p->chain[r] : (++pos < p->nlive ? p->live[pos] : -1)) {
      if (p->spec.residual) {
        memcpy(j, t->rows + (size_t)r * (size_t)p->nt, sizeof(sl_value) * (size_t)p->nt);
        for (int c = 0; c < p->nt; c++) {
          j[c].buf = NULL;
          j[c].cap = 0;
          j[c].flags &= (uint8_t)~SL_F_OWNBUF;
        }
        int rr = sl_vm_run(&p->vres, j);
        if (rr == SL_VM_ERROR) {
          sl_op_reject(base, in, i, p->vres.errmsg.z ? p->vres.errmsg.z : "evaluation failed");
          rejected = 1;
          break;
        }
        if (rr == SL_VM_SKIP) continue;
      }
      add_row(p, in, i, r);
      matched = 1;
      if (p->nout >= JOIN_FLUSH_ROWS) {
        int rc2 = join_flush(p, in, err);
        if (rc2) return rc2;
      }
    }
    if (!matched && !rejected && p->spec.left) add_row(p, in, i, -1);
  }
  return join_flush(p, in, err);
}

static int join_finish(sl_operator *base, sl_err *err) {
  return sl_op_finish_next(base, err);
}

static void join_explain(const void *spec, sl_buf *out) {
  const sl_join_spec *p = spec;
  sl_buf_printf(out, "join: %s%s, ", p->left ? "LEFT JOIN " : "JOIN ", p->tname);
  if (p->table)
    sl_buf_printf(out, "%d rows", p->table->nrow);
  else
    sl_buf_printf(out, "%s() read when the query starts", p->conn->name);
  sl_buf_printf(out, ", %d key%s; joined row = %d columns of %s, then the input\n", p->nkeys,
                p->nkeys == 1 ? "" : "s", p->schema.ncol, p->tname);
  if (p->keyprog) {
    sl_buf_puts(out, "input key:\n");
    sl_program_explain(p->keyprog, out);
  } else {
    sl_buf_puts(out, "no key: every row of the table (a nested loop)\n");
  }
  if (p->residual) {
    sl_buf_puts(out, "rest of ON:\n");
    sl_program_explain(p->residual, out);
  }
  if (p->pre) {
    sl_buf_puts(out, "filter on the input (WHERE):\n");
    sl_program_explain(p->pre, out);
  }
  if (p->tfilter) {
    sl_buf_printf(out, "filter on %s's rows, once:\n", p->tname);
    sl_program_explain(p->tfilter, out);
  }
}

static void join_free(sl_operator *base) {
  op_join *p = (op_join *)base;
  if (p->spec.keyprog) sl_vm_free(&p->vkey);
  if (p->spec.residual) sl_vm_free(&p->vres);
  if (p->spec.pre) sl_vm_free(&p->vpre);
  free(p->live);
  for (int k = 0; k < p->spec.nkeys; k++)
    sl_value_free(&p->keys[k]);
  free(p->keys);
  if (p->accounted && p->own_bytes) sl_op_account(base, -p->own_bytes, -p->own->nrow);
  sl_table_free(p->own);
  if (p->spec.nkeys) sl_htab_free(&p->index);
  free(p->chain);
  free(p->jrow);
  free(p->out);
  free(p->recs);
  free(p->ids);
  free(p);
}

static const sl_op_vt join_vt = {
    "join", join_push, sl_op_pass_tick, sl_op_pass_barrier, join_finish, join_free, NULL, NULL};

/* The rows of t that pass spec.tfilter (all without one) into p->live
** and p->pass (the same as one flag per row, freed by the caller). */
static void filter_table(op_join *p) {
  const sl_table *t = p->spec.table;
  p->live = sl_malloc(sizeof(int) * (size_t)(t->nrow ? t->nrow : 1));
  p->pass = sl_calloc((size_t)(t->nrow ? t->nrow : 1), 1);
  sl_vm vm;
  sl_value *row = NULL;
  if (p->spec.tfilter) {
    sl_vm_init(&vm, p->spec.tfilter);
    row = sl_malloc(sizeof(sl_value) * (size_t)(p->nt ? p->nt : 1));
  }
  for (int r = 0; r < t->nrow; r++) {
    int ok = 1;
    if (p->spec.tfilter) { /* it reads t's columns only: the start of a joined row */
      memcpy(row, t->rows + (size_t)r * (size_t)p->nt, sizeof(sl_value) * (size_t)p->nt);
      for (int c = 0; c < p->nt; c++) { /* borrowed */
        row[c].buf = NULL;
        row[c].cap = 0;
        row[c].flags &= (uint8_t)~SL_F_OWNBUF;
      }
      ok = sl_vm_run(&vm, row) == SL_VM_ROW;
    }
    if (ok) p->live[p->nlive++] = r;
    p->pass[r] = (unsigned char)ok;
  }
  if (p->spec.tfilter) sl_vm_free(&vm);
  free(row);
}

/* Index t by its key columns. */
static void index_table(op_join *p) {
  const sl_table *t = p->spec.table;
  /* rows with a NULL key can match nothing */
  sl_htab_init(&p->index, &key_type);
  p->chain = sl_malloc(sizeof(int) * (size_t)(t->nrow ? t->nrow : 1));
  sl_value *k = sl_calloc((size_t)(p->spec.nkeys ? p->spec.nkeys : 1), sizeof(sl_value));
  join_key key = {p, k};
  for (int r = t->nrow - 1; r >= 0; r--) { /* chains keep the table's order */
    int has_null = 0;
    for (int i = 0; i < p->spec.nkeys; i++) {
      k[i] = t->rows[(size_t)r * (size_t)p->nt + (size_t)p->spec.tkey[i]];
      has_null |= k[i].type == SL_NULL;
    }
    p->chain[r] = -1;
    if (has_null || !p->pass[r]) continue;
    int added;
    sl_hslot *s = sl_htab_put(&p->index, &key, &added);
    if (!added) p->chain[r] = (int)s->u;
    s->u = (uint64_t)r;
  }
  free(k);
}

/* The live join: t loaded (unless the plan holds its rows) and indexed. */
static sl_operator *join_make(const void *spec, const sl_make_env *env, sl_err *err) {
  const sl_join_spec *sp = spec;
  sl_table *own = NULL;
  if (!sp->table) {
    own = sl_source_load(sp->conn, &sp->opts, sp->tname, err);
    if (!own) {
      if (!err->line) {
        err->line = sp->line;
        err->col = sp->col;
      }
      return NULL;
    }
    if (own->schema.ncol != sp->schema.ncol) {
      sl_err_set(err, SL_EBIND, "%s: has %d columns now, %d when the query was planned", sp->tname,
                 own->schema.ncol, sp->schema.ncol);
      sl_table_free(own);
      return NULL;
    }
  }
  op_join *p = sl_calloc(1, sizeof *p);
  p->base.vt = &join_vt;
  p->spec = *sp;
  p->own = own;
  if (own) p->spec.table = own;
  p->nt = p->spec.table->schema.ncol;
  p->keys = sl_calloc((size_t)(p->spec.nkeys ? p->spec.nkeys : 1), sizeof(sl_value));
  if (p->spec.keyprog) sl_vm_init(&p->vkey, p->spec.keyprog);
  if (p->spec.residual) sl_vm_init(&p->vres, p->spec.residual);
  if (p->spec.pre) sl_vm_init(&p->vpre, p->spec.pre);
  filter_table(p);
  if (p->spec.nkeys) index_table(p);
  free(p->pass);
  p->pass = NULL;
  if (own) { /* the values, the index (about two slots a row) and the row chains */
    p->own_bytes = (int64_t)own->cap * own->schema.ncol * (int64_t)sizeof(sl_value) +
                   (int64_t)own->nrow * (int64_t)(2 * sizeof(int) + 2 * sizeof(sl_hslot));
    for (size_t i = 0; i < (size_t)own->nrow * (size_t)p->nt; i++)
      p->own_bytes += own->rows[i].buf ? own->rows[i].cap : 0;
  }
  return &p->base;
}

static void join_free_spec(void *spec) {
  sl_join_spec *p = spec;
  sl_table_free(p->table);
  sl_options_free(&p->opts);
  free(p->tname);
  sl_schema_free(&p->schema);
  free(p->tkey);
  sl_program_free(p->keyprog);
  sl_program_free(p->residual);
  sl_program_free(p->pre);
  sl_program_free(p->tfilter);
  free(p);
}

const sl_op_kind sl_op_join = {"join", join_make, join_explain, join_free_spec, NULL};
