/*
** fuzz_pg.c - libFuzzer target for what the PostgreSQL connector
** (src/conn_postgres.c) reads itself rather than through libpq: a column
** value in the server's text form, decoded by its type (the first input
** byte picks the type: integers, bool, reals, numeric, bytea, text); the
** id list of a sluice_offsets row (bytea, 8 bytes an id); and a conninfo
** string, parsed and checked (hosts, files, properties) with an
** authorizer that allows everything, connecting to nothing.
*/
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conn_postgres.h"
#include "connector.h"

static const unsigned oids[] = {16, 17, 20, 21, 23, 26, 700, 701, 1700, 25, 1043, 1114};
#define NOID (sizeof oids / sizeof *oids)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  unsigned pick = data[0];
  const char *z = (const char *)data + 1;
  size_t n = size - 1;
  char *copy = malloc(n + 1); /* libpq's values end with a NUL */
  memcpy(copy, z, n);
  copy[n] = 0;
  if (pick < 200) {
    sl_arena arena;
    sl_arena_init(&arena);
    sl_value v = SL_VALUE_INIT;
    unsigned oid = oids[pick % NOID];
    sl_pg_decode_value(oid, copy, n, &v, &arena);
    if (v.type == SL_BLOB && v.n > n) abort();
    if (v.type == SL_TEXT && (v.n != n || memcmp(v.u.z, copy, n))) abort();
    if (v.type == SL_TEXT || v.type == SL_BLOB) {
      volatile char sink = 0;
      for (uint32_t i = 0; i < v.n; i++)
        sink ^= v.u.z[i];
      (void)sink;
    }
    sl_value_free(&v);
    sl_arena_free(&arena);
  } else if (pick < 228) {
    uint64_t *ids;
    size_t nids;
    int rc = sl_pg_ids_parse(copy, n, &ids, &nids);
    if ((rc == 0) != (n % 8 == 0)) abort();
    for (size_t i = 1; i < nids; i++)
      if (ids[i - 1] > ids[i]) abort();
    free(ids);
  } else if (!memchr(z, 0, n)) {
    sl_options o;
    memset(&o, 0, sizeof o);
    o.fn = "postgres";
    sl_err err = {0};
    sl_pg_conninfo_check(&o, copy, &err);
    sl_err_clear(&err);
  }
  free(copy);
  return 0;
}
