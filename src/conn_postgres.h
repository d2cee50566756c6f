/*
** conn_postgres.h - the parts of the PostgreSQL connector (conn_postgres.c)
** that read bytes from outside the process, exposed for the fuzz target
** (tests/fuzz/fuzz_pg.c): a column value as the server sends it in text
** form, the list of output ids the sink keeps in its offsets table, and a
** conninfo's checks; and the connector itself, for the registry.
*/
#ifndef SLUICE_CONN_POSTGRES_H
#define SLUICE_CONN_POSTGRES_H

#include <stdint.h>

#include "value.h"

/* The sluice type a column of PostgreSQL type oid is read as: SL_INTEGER
** (bool, int2, int4, int8, oid), SL_REAL (float4, float8, numeric),
** SL_BLOB (bytea) or SL_TEXT (anything else, as the server renders it). */
sl_type sl_pg_type_of(unsigned oid);

/* Decode the text form z[0..n) (NUL-terminated at z[n], as libpq gives it)
** of a value of PostgreSQL type oid into v: integers and reals parsed (a
** text that does not parse stays TEXT), bool 't'/'f' as 1/0, bytea's hex or
** escape form unescaped.  Bytes v points to are in arena (valid until its
** reset).  Never fails: what cannot be decoded as its type is kept as text. */
void sl_pg_decode_value(unsigned oid, const char *z, size_t n, sl_value *v, sl_arena *arena);

/* Parse a list of output ids stored as bytea (8 bytes each, little
** endian) from z[0..n) into a new array (*out, malloc'd, caller frees;
** NULL when empty) of *nout ids, sorted.  0, or -1 when n is not a multiple
** of 8 (the row is corrupt). */
int sl_pg_ids_parse(const void *z, size_t n, uint64_t **out, size_t *nout);

/* Parse conninfo as postgres() does and ask o's authorizer for what it
** reaches (hosts, files, properties), connecting to nothing.  0, or -1
** with err set. */
struct sl_options;
int sl_pg_conninfo_check(const struct sl_options *o, const char *conninfo, sl_err *err);

extern const struct sl_connector sl_conn_postgres; /* postgres('table', conninfo => '...') */

#endif /* SLUICE_CONN_POSTGRES_H */
