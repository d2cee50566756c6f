/*
** ijoin_test.c - drives op_ijoin (src/op_ijoin.c) as a join of two streams
** without a time bound (FROM a [LEFT | RIGHT | FULL] JOIN b ON a.k = b.k),
** the updating join: random records of both sides (keys from a small
** range, some NULL) in random batches of random sizes, pushed to the
** operator and its port in a random interleaving, processing time going up.
** It prints, one JSON object a line, every batch it pushes ({"side": "a",
** "rows": [[id, k], ...]}) and, after it, every row the join emitted for it
** with its kind ({"op": "+I" or "-D", "row": [a.id, a.k, b.id, b.k]}); with
** --checkpoint it also saves the join's state at a few random points, frees
** the operator and goes on with a new one loaded from the state ({"ckpt":
** bytes}).  tests/stream_outer.sh applies the changelog in Python and checks
** it against the outer join of the records pushed so far, after every batch.
**
** usage: ijoin_test SEED inner|left|right|full [--checkpoint]
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expr.h"
#include "op_ijoin.h"
#include "vm.h"

/* A deterministic generator (xorshift64*), so a seed reproduces a run. */
static uint64_t rng;
static uint64_t next_rand(void) {
  rng ^= rng >> 12;
  rng ^= rng << 25;
  rng ^= rng >> 27;
  return rng * 2685821657736338717ull;
}
static int below(int n) {
  return (int)(next_rand() % (uint64_t)n);
}

/* The operator after the join: prints each row it is given with its kind. */
static int print_push(sl_operator *op, sl_batch *in, sl_err *err) {
  (void)op;
  (void)err;
  for (int i = 0; i < in->nrow; i++) {
    int kind = in->ops ? in->ops[i] : SL_ROW_INSERT;
    printf("{\"op\": \"%s\", \"row\": [", kind == SL_ROW_INSERT   ? "+I"
                                          : kind == SL_ROW_DELETE ? "-D"
                                                                  : "?");
    for (int c = 0; c < in->ncol; c++) {
      const sl_value *v = &in->rows[(size_t)i * (size_t)in->ncol + (size_t)c];
      if (v->type == SL_INTEGER)
        printf("%s%lld", c ? ", " : "", (long long)v->u.i);
      else
        printf("%snull", c ? ", " : "");
    }
    printf("]}\n");
  }
  return 0;
}
static int print_finish(sl_operator *op, sl_err *err) {
  (void)op;
  (void)err;
  printf("{\"finished\": 1}\n");
  return 0;
}
static void print_free(sl_operator *op) {
  (void)op;
}
static const sl_op_vt print_vt = {
    "print", print_push, sl_op_pass_tick, sl_op_pass_barrier, print_finish, print_free, NULL, NULL};

/* The side's program: its key, column col of the joined row. */
static sl_program *key_prog(int col) {
  sl_err err = {0};
  sl_program *p = sl_program_new();
  sl_compiler c = {.prog = p, .err = &err};
  int r = sl_reg_alloc(&c, 1);
  sl_program_add(p, OP_Column, col, r, 0);
  p->result_reg = r;
  p->nresult = 1;
  sl_program_add(p, OP_Result, r, 1, 0);
  sl_program_finish(p);
  return p;
}

static sl_operator *make_join(const sl_ijoin_spec *spec, sl_operator *sink, sl_stats *st) {
  sl_make_env env = {0};
  sl_err err = {0};
  sl_operator *j = sl_op_ijoin.make(spec, &env, &err);
  if (!j) {
    fprintf(stderr, "make: %s\n", err.msg);
    exit(2);
  }
  j->next = sink;
  j->stats = st;
  j->port->next = sink;
  j->port->stats = st;
  return j;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: ijoin_test SEED inner|left|right|full [--checkpoint]\n");
    return 2;
  }
  rng = 0x9e3779b97f4a7c15ull ^ (uint64_t)strtoull(argv[1], NULL, 10) * 0x100000001b3ull;
  if (!rng) rng = 1;
  const char *kind = argv[2];
  int ckpt = argc > 3 && !strcmp(argv[3], "--checkpoint");
  sl_ijoin_spec spec = {0};
  spec.na = spec.nb = 2;
  spec.nkeys = 1;
  spec.proctime = 1;
  spec.hi = SL_IJOIN_FOREVER;
  spec.lo = -SL_IJOIN_FOREVER;
  spec.left = !strcmp(kind, "left") || !strcmp(kind, "full");
  spec.right = !strcmp(kind, "right") || !strcmp(kind, "full");
  spec.aprog = key_prog(1);
  spec.bprog = key_prog(spec.na + 1);
  sl_stats st = {0};
  sl_operator sink = {.vt = &print_vt};
  sl_operator *j = make_join(&spec, &sink, &st);
  int nkey = 1 + below(12), nbatch = 5 + below(60), id[2] = {0, 0};
  int64_t now = 1700000000000;
  sl_value rows[64 * 2];
  for (int bi = 0; bi < nbatch; bi++) {
    int side = below(2), n = 1 + below(below(4) ? 8 : 64);
    printf("{\"side\": \"%c\", \"rows\": [", side ? 'b' : 'a');
    for (int r = 0; r < n; r++) {
      sl_value *row = rows + 2 * r;
      memset(row, 0, 2 * sizeof *row);
      row[0].type = SL_INTEGER;
      row[0].u.i = id[side]++;
      row[1].type = below(10) ? SL_INTEGER : SL_NULL;
      row[1].u.i = below(nkey);
      if (row[1].type == SL_INTEGER)
        printf("%s[%lld, %lld]", r ? ", " : "", (long long)row[0].u.i, (long long)row[1].u.i);
      else
        printf("%s[%lld, null]", r ? ", " : "", (long long)row[0].u.i);
    }
    printf("]}\n");
    now += below(100);
    sl_batch b = {2, n, rows, NULL, NULL, now, NULL, NULL};
    sl_err err = {0};
    sl_operator *to = side ? j->port : j;
    if (to->vt->push(to, &b, &err)) {
      fprintf(stderr, "push: %s\n", err.msg);
      return 1;
    }
    if (below(3) == 0 && j->vt->tick(j, now, &err)) return 1;
    if (ckpt && below(8) == 0) { /* save, start again from the state */
      sl_buf state = {0};
      if (j->vt->save(j, &state, &err)) return 1;
      int64_t bytes = st.state_bytes;
      j->vt->free(j);
      memset(&st, 0, sizeof st);
      j = make_join(&spec, &sink, &st);
      if (j->vt->load(j, state.z, state.n, &err)) {
        fprintf(stderr, "load: %s\n", err.msg);
        return 1;
      }
      printf("{\"ckpt\": %zu, \"same_bytes\": %d}\n", state.n, st.state_bytes == bytes);
      sl_buf_free(&state);
    }
  }
  sl_err err = {0};
  if (j->vt->finish(j, &err) || j->port->vt->finish(j->port, &err)) return 1;
  j->vt->free(j);
  sl_program_free(spec.aprog);
  sl_program_free(spec.bprog);
  return 0;
}
