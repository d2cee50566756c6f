/*
** conn_postgres.c - postgres('table', conninfo => '...'): a PostgreSQL
** table as a bounded source of typed rows (a lookup table, the table side of
** a stream-table join) and as a sink (libpq).
**
** The sink.  Rows are encoded by a private format (pg_copy_format below) as
** the CSV that COPY ... FROM STDIN (FORMAT csv) reads: NULL is an empty
** unquoted field, text always quoted, reals with 17 digits, blobs as bytea
** hex.  The encoder also tells the sink the output's column names and the
** type of the first non-NULL value of each column, from which the sink
** creates the table when it does not exist.  Each write() is one COPY.  With
** key => 'col' the sink upserts: the batch's fields (split back out of
** those records) go as one text array per column into one INSERT ... SELECT
** DISTINCT ON (key) ... FROM unnest(...) ON CONFLICT (key) DO UPDATE (the
** last row of a batch per key wins; measured faster than COPY into a
** staging table, docs/postgres.md).
**
** Guarantees (docs/postgres.md).  Without a state directory each write()
** commits by itself before it returns: at least once.  With one, rows go
** into a transaction that stays open between checkpoints; save_pos (called
** inside the engine's checkpoint, before the SQLite store commits) stores
** an epoch number and the ids of the rows that may be replayed in
** sluice_offsets(query, sink, epoch, ahead, rest) and commits, in the same
** PostgreSQL transaction as the rows.  A restart (load_pos) compares the
** store's epoch with PostgreSQL's and skips, during the replay, the rows
** PostgreSQL already holds: exactly once for replayable sources.
**
** Security.  The conninfo is parsed with PQconninfoParse; the hosts it
** connects to (or the defaults libpq would use) are asked for as
** SLUICE_AUTH_CONNECT ("host:port", or a Unix socket's path), keys naming
** files as SLUICE_AUTH_READ, keys not known to be harmless as
** SLUICE_AUTH_PROPERTY; the hosts and ports checked are then passed to
** libpq explicitly, so what was checked is what is connected to.  No
** message carries the conninfo or a password.
*/
#include <libpq-fe.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "conn_postgres.h"
#include "connector.h"

/* ---- values ------------------------------------------------------------------ */

/* PostgreSQL's built-in type oids (pg_type.dat), stable across versions. */
enum {
  PG_BOOL = 16,
  PG_BYTEA = 17,
  PG_INT8 = 20,
  PG_INT2 = 21,
  PG_INT4 = 23,
  PG_OID = 26,
  PG_FLOAT4 = 700,
  PG_FLOAT8 = 701,
  PG_NUMERIC = 1700
};

/* conn_postgres.h */
sl_type sl_pg_type_of(unsigned oid) {
  switch (oid) {
  case PG_BOOL:
  case PG_INT8:
  case PG_INT2:
  case PG_INT4:
  case PG_OID: return SL_INTEGER;
  case PG_FLOAT4:
  case PG_FLOAT8:
  case PG_NUMERIC: return SL_REAL;
  case PG_BYTEA: return SL_BLOB;
  default: return SL_TEXT;
  }
}

/* The value of one hex digit, or -1. */
static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* bytea's text form ("\x0a0b", or the old escape form with \\ and \ooo)
** into arena bytes; 0, or -1 when z is neither form. */
static int bytea_decode(const char *z, size_t n, sl_value *v, sl_arena *arena) {
  unsigned char *p = sl_arena_alloc(arena, n + 1);
  size_t o = 0;
  if (n >= 2 && z[0] == '\\' && z[1] == 'x') {
    for (size_t i = 2; i < n; i += 2) {
      if (i + 1 >= n) return -1;
      int a = hexval(z[i]), b = hexval(z[i + 1]);
      if (a < 0 || b < 0) return -1;
      p[o++] = (unsigned char)(a * 16 + b);
    }
  } else {
    for (size_t i = 0; i < n; i++) {
      if (z[i] != '\\') {
        p[o++] = (unsigned char)z[i];
      } else if (i + 1 < n && z[i + 1] == '\\') {
        p[o++] = '\\';
        i++;
      } else if (i + 3 < n && z[i + 1] >= '0' && z[i + 1] <= '3' && z[i + 2] >= '0' &&
                 z[i + 2] <= '7' && z[i + 3] >= '0' && z[i + 3] <= '7') {
        p[o++] = (unsigned char)((z[i + 1] - '0') * 64 + (z[i + 2] - '0') * 8 + (z[i + 3] - '0'));
        i += 3;
      } else {
        return -1;
      }
    }
  }
  sl_value_borrow_blob(v, p, o);
  return 0;
}

/* conn_postgres.h */
void sl_pg_decode_value(unsigned oid, const char *z, size_t n, sl_value *v, sl_arena *arena) {
  switch (sl_pg_type_of(oid)) {
  case SL_INTEGER: {
    int64_t i;
    if (oid == PG_BOOL && n == 1 && (z[0] == 't' || z[0] == 'f')) {
      sl_value_set_int(v, z[0] == 't');
      return;
    }
    if (n && sl_atoi64(z, n, &i) == 0) {
      sl_value_set_int(v, i);
      return;
    }
    break;
  }
  case SL_REAL: {
    double r;
    if (n == 3 && !memcmp(z, "NaN", 3)) {
      sl_value_set_null(v); /* SQLite has no NaN: it is NULL there */
      return;
    }
    if ((n == 8 && !memcmp(z, "Infinity", 8)) || (n == 9 && !memcmp(z, "-Infinity", 9))) {
      sl_value_set_real(v, z[0] == '-' ? -HUGE_VAL : HUGE_VAL);
      return;
    }
    if (n && sl_atof(z, n, &r)) {
      sl_value_set_real(v, r);
      return;
    }
    break;
  }
  case SL_BLOB:
    if (bytea_decode(z, n, v, arena) == 0) return;
    break;
  default: break;
  }
  sl_value_borrow_text(v, sl_arena_strndup(arena, z, n), n, SL_F_TERM);
}

/* Ascending order of ids, for qsort. */
static int id_cmp(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

/* conn_postgres.h */
int sl_pg_ids_parse(const void *z, size_t n, uint64_t **out, size_t *nout) {
  *out = NULL;
  *nout = 0;
  if (n % 8) return -1;
  if (!n) return 0;
  const unsigned char *p = z;
  uint64_t *ids = sl_malloc(n);
  for (size_t i = 0; i < n / 8; i++) {
    uint64_t x = 0;
    for (int b = 7; b >= 0; b--)
      x = (x << 8) | p[i * 8 + (size_t)b];
    ids[i] = x;
  }
  qsort(ids, n / 8, sizeof *ids, id_cmp);
  *out = ids;
  *nout = n / 8;
  return 0;
}

/* ---- connecting ---------------------------------------------------------------- */

/* conninfo keys that name a file the client reads */
static const char *const file_keys[] = {"passfile", "sslcert",   "sslkey", "sslrootcert",
                                        "sslcrl",   "sslcrldir", NULL};
/* conninfo keys that reach nothing but the server already granted */
static const char *const plain_keys[] = {"dbname",
                                         "user",
                                         "password",
                                         "connect_timeout",
                                         "client_encoding",
                                         "application_name",
                                         "fallback_application_name",
                                         "keepalives",
                                         "keepalives_idle",
                                         "keepalives_interval",
                                         "keepalives_count",
                                         "tcp_user_timeout",
                                         "sslmode",
                                         "sslcompression",
                                         "sslsni",
                                         "requiressl",
                                         "gssencmode",
                                         "channel_binding",
                                         "target_session_attrs",
                                         "ssl_min_protocol_version",
                                         "ssl_max_protocol_version",
                                         "load_balance_hosts",
                                         "require_auth",
                                         "sslpassword",
                                         NULL};

/* 1 when key is in the NULL-ended list. */
static int in_list(const char *const *list, const char *key) {
  for (int i = 0; list[i]; i++)
    if (!strcmp(list[i], key)) return 1;
  return 0;
}

/* The i-th entry of a comma-separated list into out (cap bytes); 0, -1
** when the list has fewer entries, -2 when the entry is longer than out. */
static int list_entry(const char *list, int i, char *out, size_t cap) {
  const char *p = list;
  for (int k = 0; k < i; k++) {
    p = strchr(p, ',');
    if (!p) return -1;
    p++;
  }
  size_t n = strcspn(p, ",");
  if (n >= cap) return -2;
  memcpy(out, p, n);
  out[n] = 0;
  return 0;
}

/* Ask for every server the connection may reach: each host of the list (or
** hostaddr, which is what libpq connects to when given) with its port, a
** directory as the Unix socket in it.  0, or -1 with err set. */
static int authorize_hosts(const sl_options *o, const char *hosts, const char *addrs,
                           const char *ports, sl_err *err) {
  const char *list = addrs && *addrs ? addrs : hosts;
  for (int i = 0;; i++) {
    char h[512], p[64], target[700];
    int rc = list_entry(list, i, h, sizeof h);
    if (rc == -1) break;
    /* as libpq: one port for every host, else each its own; empty: 5432 */
    int prc = list_entry(ports, strchr(ports, ',') ? i : 0, p, sizeof p);
    if (prc == -1 || (!prc && !*p)) prc = snprintf(p, sizeof p, "5432") < 0;
    if (rc || prc) {
      sl_err_set(err, SL_EBIND, "postgres(): a host or port of conninfo is too long");
      return -1;
    }
    if (!*h) {
      sl_err_set(err, SL_EBIND, "postgres(): an empty host in conninfo's host list");
      return -1;
    }
    if (h[0] == '/' || h[0] == '@')
      snprintf(target, sizeof target, "%s/.s.PGSQL.%s", h, p);
    else if (strchr(h, ':'))
      snprintf(target, sizeof target, "[%s]:%s", h, p);
    else
      snprintf(target, sizeof target, "%s:%s", h, p);
    if (sl_opt_authorize(o, SLUICE_AUTH_CONNECT, target, err)) return -1;
  }
  return 0;
}

/* What PQconnectdbParams gets: the conninfo's keys, with the hosts and
** ports that were authorized made explicit. */
typedef struct pg_params {
  PQconninfoOption *parsed; /* owns the explicit values */
  const char *keys[64], *vals[64];
  int n;
  char *host, *port; /* owned: the defaults resolved, or NULL */
} pg_params;

/* Free what pp owns (the parsed conninfo, the resolved defaults). */
static void params_free(pg_params *pp) {
  if (pp->parsed) PQconninfoFree(pp->parsed);
  free(pp->host);
  free(pp->port);
  memset(pp, 0, sizeof *pp);
}

/* Parse and authorize conninfo (see the top of the file) into pp.  0, or -1
** with err set (pp then freeable). */
static int params_make(const sl_options *o, const char *conninfo, pg_params *pp, sl_err *err) {
  memset(pp, 0, sizeof *pp);
  char *why = NULL;
  pp->parsed = PQconninfoParse(conninfo, &why);
  if (!pp->parsed) {
    /* libpq's message may quote the string, and so a password: shown only
    ** when the string has none */
    int quiet = !why || strcasestr(conninfo, "password") || strstr(conninfo, "://");
    size_t wn = why ? strcspn(why, "\n") : 0;
    sl_err_set(err, SL_EBIND, "postgres(): conninfo is not a connection string%s%.*s",
               quiet ? "" : ": ", quiet ? 0 : (int)wn, quiet ? "" : why);
    if (why) PQfreemem(why);
    return -1;
  }
  const char *host = NULL, *addr = NULL, *port = NULL;
  int timeout = 0, fallback = 0;
  for (PQconninfoOption *op = pp->parsed; op->keyword; op++) {
    if (!op->val) continue;
    timeout |= !strcmp(op->keyword, "connect_timeout");
    fallback |= !strcmp(op->keyword, "fallback_application_name");
    int rc = 0;
    if (!strcmp(op->keyword, "host")) {
      host = op->val;
    } else if (!strcmp(op->keyword, "hostaddr")) {
      addr = op->val;
    } else if (!strcmp(op->keyword, "port")) {
      port = op->val;
    } else if (!strcmp(op->keyword, "service")) {
      sl_err_set(err, SL_EBIND,
                 "postgres(): conninfo's service is not supported: give the connection's keys "
                 "(host, port, dbname...) in conninfo itself");
      return -1;
    } else if (in_list(file_keys, op->keyword)) {
      rc = sl_opt_authorize(o, SLUICE_AUTH_READ, op->val, err);
    } else if (!in_list(plain_keys, op->keyword)) {
      rc = sl_opt_authorize(o, SLUICE_AUTH_PROPERTY, op->keyword, err);
    }
    if (rc) return -1;
    if (pp->n >= 59) {
      sl_err_set(err, SL_EBIND, "postgres(): too many conninfo keys");
      return -1;
    }
    pp->keys[pp->n] = op->keyword;
    pp->vals[pp->n++] = op->val;
  }
  /* the defaults libpq would take (PGHOST, PGPORT, its socket directory) */
  if (!host || !port) {
    PQconninfoOption *d = PQconndefaults();
    for (PQconninfoOption *op = d; op && op->keyword; op++) {
      if (!host && !addr && !strcmp(op->keyword, "host") && op->val && *op->val)
        pp->host = sl_strdup(op->val);
      if (!port && !strcmp(op->keyword, "port") && op->val && *op->val)
        pp->port = sl_strdup(op->val);
    }
    if (d) PQconninfoFree(d);
    if (!host && !addr && !pp->host) pp->host = sl_strdup("/var/run/postgresql");
    if (!port && !pp->port) pp->port = sl_strdup("5432");
  }
  if (pp->host) {
    pp->keys[pp->n] = "host";
    pp->vals[pp->n++] = host = pp->host;
  }
  if (pp->port) {
    pp->keys[pp->n] = "port";
    pp->vals[pp->n++] = port = pp->port;
  }
  if (!fallback) { /* what pg_stat_activity shows without an application_name */
    pp->keys[pp->n] = "fallback_application_name";
    pp->vals[pp->n++] = "sluice";
  }
  if (!timeout) { /* a server that does not answer is not waited for forever */
    pp->keys[pp->n] = "connect_timeout";
    pp->vals[pp->n++] = "10";
  }
  pp->keys[pp->n] = NULL;
  pp->vals[pp->n] = NULL;
  return authorize_hosts(o, host ? host : "", addr, port, err);
}

/* conn_postgres.h */
int sl_pg_conninfo_check(const sl_options *o, const char *conninfo, sl_err *err) {
  pg_params pp;
  int rc = params_make(o, conninfo, &pp, err);
  params_free(&pp);
  return rc;
}

/* The first line of libpq's message m, for err. */
static void set_pq_err(sl_err *err, const char *what, const char *m) {
  size_t n = m ? strcspn(m, "\n") : 0;
  sl_err_set(err, SL_EIO, "postgres: %s: %.*s", what, (int)n, m ? m : "");
}

/* A result's error: its primary message and, when there is one, the first
** line of its context (COPY's "line 3, column x"). */
static void set_res_err(sl_err *err, const char *what, PGconn *c, const PGresult *r) {
  const char *m = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
  if (!m) {
    set_pq_err(err, what, PQerrorMessage(c));
    return;
  }
  const char *ctx = PQresultErrorField(r, PG_DIAG_CONTEXT);
  size_t cn = ctx ? strcspn(ctx, "\n") : 0;
  sl_err_set(err, SL_EIO, "postgres: %s: %s%s%.*s%s", what, m, ctx ? " (" : "", (int)cn,
             ctx ? ctx : "", ctx ? ")" : "");
}

/* The server's notices ("relation already exists, skipping") are not
** shown: the connector says what matters in its errors. */
static void quiet_notice(void *arg, const char *message) {
  (void)arg, (void)message;
}

/* Connect as pp says.  The connection, or NULL with err set. */
static PGconn *pg_connect(const pg_params *pp, sl_err *err) {
  PGconn *c = PQconnectdbParams(pp->keys, pp->vals, 0);
  if (!c) {
    sl_err_set(err, SL_EIO, "postgres: out of memory");
    return NULL;
  }
  if (PQstatus(c) != CONNECTION_OK) {
    set_pq_err(err, "cannot connect", PQerrorMessage(c));
    PQfinish(c);
    return NULL;
  }
  PQsetNoticeProcessor(c, quiet_notice, NULL);
  return c;
}

/* Append name as a quoted identifier ("a""b"). */
static void quote_ident(sl_buf *b, const char *z, size_t n) {
  sl_buf_putc(b, '"');
  for (size_t i = 0; i < n; i++) {
    if (z[i] == '"') sl_buf_putc(b, '"');
    sl_buf_putc(b, z[i]);
  }
  sl_buf_putc(b, '"');
}

/* A table name 'name' or 'schema.name' as quoted SQL. */
static char *quote_table(const char *t) {
  sl_buf b = {0};
  const char *dot = strchr(t, '.');
  if (dot) {
    quote_ident(&b, t, (size_t)(dot - t));
    sl_buf_putc(&b, '.');
    t = dot + 1;
  }
  quote_ident(&b, t, strlen(t));
  return b.z;
}

/* Run sql without parameters, expecting want; 0, or -1 with err set. */
static int exec_ok(PGconn *c, const char *sql, ExecStatusType want, const char *what, sl_err *err) {
  PGresult *r = PQexec(c, sql);
  int ok = PQresultStatus(r) == want;
  if (!ok) set_res_err(err, what, c, r);
  PQclear(r);
  return ok ? 0 : -1;
}

/* ---- the source ------------------------------------------------------------------ */

typedef struct pg_source {
  sl_source base;
  PGconn *conn;
  char *name; /* the table as given, for positions */
  unsigned *oids;
  int ncol;
  PGresult *res; /* the rows of the last FETCH */
  int at;        /* the next of them */
  sl_arena arena;
  int done;
} pg_source;

/* Rows of the cursor, 1,024 a round trip: one result (one allocation
** of libpq's) per batch of rows, not per row. */

static int pg_read_rows(sl_source *s, sl_value *rows, int ncol, int max, sl_err *err) {
  pg_source *q = (pg_source *)s;
  if (q->done) return SL_READ_END;
  sl_arena_reset(&q->arena);
  if (!q->res || q->at >= PQntuples(q->res)) {
    PQclear(q->res);
    q->at = 0;
    q->res = PQexec(q->conn, "FETCH 1024 FROM sluice_cursor");
    if (PQresultStatus(q->res) != PGRES_TUPLES_OK) {
      set_res_err(err, q->name, q->conn, q->res);
      return SL_READ_ERROR;
    }
    if (!PQntuples(q->res)) {
      q->done = 1;
      return exec_ok(q->conn, "COMMIT", PGRES_COMMAND_OK, q->name, err) ? SL_READ_ERROR
                                                                        : SL_READ_END;
    }
  }
  int n = 0;
  for (; n < max && q->at < PQntuples(q->res); n++, q->at++) {
    sl_value *row = rows + (size_t)n * (size_t)ncol;
    for (int c = 0; c < ncol; c++) {
      if (c >= q->ncol || c >= PQnfields(q->res) || PQgetisnull(q->res, q->at, c)) {
        sl_value_set_null(&row[c]);
        continue;
      }
      sl_pg_decode_value(q->oids[c], PQgetvalue(q->res, q->at, c),
                         (size_t)PQgetlength(q->res, q->at, c), &row[c], &q->arena);
    }
  }
  return n;
}

/* A table source has no records: the task reads it with read_rows. */
static int pg_read(sl_source *s, sl_record *recs, int max, int timeout_ms, sl_err *err) {
  (void)s, (void)recs, (void)max, (void)timeout_ms;
  sl_err_set(err, SL_EINTERNAL, "postgres sources deliver rows, not records");
  return SL_READ_ERROR;
}

/* The position of a row in messages: the table it came from. */
static void pg_position(sl_source *s, const sl_record *rec, sl_buf *out) {
  (void)rec;
  sl_buf_printf(out, "postgres:%s", ((pg_source *)s)->name);
}

/* Close the connection (the cursor's transaction ends with it) and free q. */
static void pg_source_close(sl_source *s) {
  pg_source *q = (pg_source *)s;
  PQclear(q->res);
  if (q->conn) PQfinish(q->conn);
  sl_arena_free(&q->arena);
  sl_source_fini(s);
  free(q->oids);
  free(q->name);
  free(q);
}

static const sl_source_vt pg_source_vt = {
    "postgres", pg_read, pg_position, pg_source_close, pg_read_rows, NULL, NULL, NULL, NULL, NULL,
    NULL,       NULL,    NULL};

/* The declared type a column of oid gets in the source's schema. */
static const char *decltype_of(unsigned oid) {
  switch (sl_pg_type_of(oid)) {
  case SL_INTEGER: return "INTEGER";
  case SL_REAL: return "REAL";
  case SL_BLOB: return "BLOB";
  default: return "TEXT";
  }
}

/* What a source and a sink both begin with: the table (the first
** argument; example is how the error shows a call) and the conninfo checked
** and authorized into *pp.  The table, or NULL with err set. */
static const char *pg_open_common(sl_options *o, const char *example, pg_params *pp, sl_err *err) {
  const char *table = sl_opt_str(o, "0", NULL);
  const char *conninfo = sl_opt_str(o, "conninfo", "");
  if (!table || !*table) {
    sl_err_set(err, SL_EBIND, "postgres() needs a table: %s", example);
    return NULL;
  }
  if (sl_options_check(o, err)) return NULL;
  if (params_make(o, conninfo, pp, err)) {
    params_free(pp);
    return NULL;
  }
  return table;
}

/* Planning connects too: the table's columns are its schema (as sqlite()
** reads its table's), found with a query that returns no row. */
static sl_source *pg_open_source(sl_options *o, sl_err *err) {
  pg_params pp;
  const char *table =
      pg_open_common(o, "postgres('users', conninfo => 'host=... dbname=...')", &pp, err);
  if (!table) return NULL;
  pg_source *q = sl_calloc(1, sizeof *q);
  q->base.vt = &pg_source_vt;
  q->base.bounded = 1;
  q->name = sl_strdup(table);
  sl_arena_init(&q->arena);
  sl_schema_init(&q->base.schema, 0);
  q->conn = pg_connect(&pp, err);
  params_free(&pp);
  if (!q->conn) goto fail;
  char *qt = quote_table(table);
  sl_buf sql = {0};
  sl_buf_printf(&sql, "SELECT * FROM %s LIMIT 0", qt);
  PGresult *r = PQexec(q->conn, sql.z);
  if (PQresultStatus(r) != PGRES_TUPLES_OK) {
    set_res_err(err, q->name, q->conn, r);
    PQclear(r);
    free(qt);
    sl_buf_free(&sql);
    goto fail;
  }
  q->ncol = PQnfields(r);
  q->oids = sl_calloc((size_t)(q->ncol ? q->ncol : 1), sizeof *q->oids);
  for (int c = 0; c < q->ncol; c++) {
    const char *name = PQfname(r, c);
    q->oids[c] = PQftype(r, c);
    sl_schema_add(&q->base.schema, name, strlen(name), decltype_of(q->oids[c]));
  }
  PQclear(r);
  sl_buf_reset(&sql);
  sl_buf_printf(&sql, "DECLARE sluice_cursor NO SCROLL CURSOR FOR SELECT * FROM %s", qt);
  free(qt);
  int sent =
      o->check_only || (!exec_ok(q->conn, "BEGIN READ ONLY", PGRES_COMMAND_OK, q->name, err) &&
                        !exec_ok(q->conn, sql.z, PGRES_COMMAND_OK, q->name, err));
  sl_buf_free(&sql);
  if (!sent) goto fail;
  if (o->check_only) {
    PQfinish(q->conn);
    q->conn = NULL;
    q->done = 1;
  }
  return &q->base;
fail:
  pg_source_close(&q->base);
  return NULL;
}

/* ---- the sink ------------------------------------------------------------------ */

typedef struct pg_sink {
  sl_sink base;
  PGconn *conn;
  char *table;  /* as given */
  char *qtable; /* quoted */
  char *key;    /* upsert key column, or NULL */
  int kc;       /* its index among the output's columns */
  char *query;  /* the query's fingerprint: its row in sluice_offsets */
  int txn;      /* checkpointed: rows go into one transaction per epoch */
  int in_txn;   /* a transaction is open */
  int ready;    /* the table is there and the statements made */
  /* set by the encoder (pg_copy_format) */
  int ncol;
  char **names;   /* output column names (owned) */
  uint8_t *types; /* sl_type of each column's first non-NULL value, SL_NULL until seen */
  char **cols;    /* the table's names for them, quoted (owned) */
  char **ctypes;  /* the table's types of them (owned), for the upsert's casts */
  char *copy_sql, *upsert_sql;
  sl_buf *arrs;       /* upsert: one array literal per column (owned) */
  const char **avals; /* upsert: their texts, the statement's parameters */
  sl_arena arena;     /* upsert: fields unquoted by sl_csv_split */
  sl_buf fbuf;        /* the records kept when some are skipped */
  uint8_t *keep;      /* upsert: which records of a write are kept */
  int keep_cap;
  /* exactly once (see the top of the file) */
  int64_t epoch;        /* the last epoch committed (by this run or the checkpoint) */
  int64_t commits;      /* epochs this run committed */
  int64_t giving_up_at; /* sl_clock_us() when a wait first saw the sink giving up, or 0 */
  uint64_t *skip;       /* sorted ids PostgreSQL already holds, to skip on replay */
  uint8_t *seen;        /* skip[i] was met */
  size_t nskip, left;   /* ids, and those not met yet */
  uint64_t *ahead;      /* ids of rows this epoch may make PostgreSQL hold past the checkpoint */
  size_t nahead, capahead;
} pg_sink;

/* Remember an id for this epoch's ahead list. */
static void ahead_add(pg_sink *k, uint64_t id) {
  if (k->nahead == k->capahead) {
    k->capahead = k->capahead ? 2 * k->capahead : 1024;
    k->ahead = sl_realloc(k->ahead, k->capahead * sizeof *k->ahead);
  }
  k->ahead[k->nahead++] = id;
}

/* The ids not met yet become the next epoch's ahead list. */
static void ahead_restart(pg_sink *k) {
  k->nahead = 0;
  for (size_t i = 0; i < k->nskip; i++)
    if (!k->seen[i]) ahead_add(k, k->skip[i]);
  if (!k->left) {
    free(k->skip);
    free(k->seen);
    k->skip = NULL;
    k->seen = NULL;
    k->nskip = 0;
  }
}

/* 1 (and marks it met) when id is one PostgreSQL already holds. */
static int skip_take(pg_sink *k, uint64_t id) {
  size_t lo = 0, hi = k->nskip;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (k->skip[mid] < id)
      lo = mid + 1;
    else
      hi = mid;
  }
  for (; lo < k->nskip && k->skip[lo] == id; lo++)
    if (!k->seen[lo]) {
      k->seen[lo] = 1;
      k->left--;
      return 1;
    }
  return 0;
}

/* ---- the sink's statements: sent and waited for without blocking --------------- */

/* One wait of at most 200 ms for the sink's socket (to read, and to write
** when out is set), then read what came.  Once the sink has been giving up
** (its query stopping, the engine interrupted: sl_sink_giving_up) for
** SL_STOP_WAIT_MS, the statement is cancelled and the wait fails, so a
** server that stops answering does not hold a stop.  0, or -1 with err set. */
static int sink_poll(pg_sink *k, int out, sl_err *err) {
  struct pollfd p = {.fd = PQsocket(k->conn), .events = (short)(POLLIN | (out ? POLLOUT : 0))};
  if (p.fd < 0) {
    set_pq_err(err, k->table, PQerrorMessage(k->conn));
    return -1;
  }
  if (poll(&p, 1, 200) > 0 && (p.revents & (POLLIN | POLLERR | POLLHUP)) &&
      !PQconsumeInput(k->conn)) {
    set_pq_err(err, k->table, PQerrorMessage(k->conn));
    return -1;
  }
  if (!sl_sink_giving_up(&k->base)) return 0;
  int64_t now = sl_clock_us();
  if (!k->giving_up_at) k->giving_up_at = now;
  if (now - k->giving_up_at < (int64_t)SL_STOP_WAIT_MS * 1000) return 0;
  PGcancel *c = PQgetCancel(k->conn);
  char why[256];
  if (c) {
    PQcancel(c, why, sizeof why);
    PQfreeCancel(c);
  }
  sl_err_set(err, SL_EIO,
             "postgres %s: the server did not answer within %d s of the stop (what it did not "
             "commit is written again at the next start)",
             k->table, SL_STOP_WAIT_MS / 1000);
  return -1;
}

/* Send everything libpq holds for the server.  0, or -1 with err set. */
static int sink_send(pg_sink *k, sl_err *err) {
  int f;
  while ((f = PQflush(k->conn)) == 1)
    if (sink_poll(k, 1, err)) return -1;
  if (f < 0) {
    set_pq_err(err, k->table, PQerrorMessage(k->conn));
    return -1;
  }
  return 0;
}

/* The next result of the statement sent (*r, NULL once there are no more),
** waited for.  0, or -1 with err set. */
static int sink_next(pg_sink *k, PGresult **r, sl_err *err) {
  *r = NULL;
  while (PQisBusy(k->conn))
    if (sink_poll(k, 0, err)) return -1;
  *r = PQgetResult(k->conn);
  return 0;
}

/* Run sql with np text parameters (lens/fmts as PQexecParams's, NULL for
** text) and return its last result in *out (the caller clears it), or the
** COPY IN result as soon as it comes.  0, or -1 with err set. */
static int sink_exec(pg_sink *k, const char *sql, int np, const char *const *vals, const int *lens,
                     const int *fmts, PGresult **out, sl_err *err) {
  *out = NULL;
  int sent = np ? PQsendQueryParams(k->conn, sql, np, NULL, vals, lens, fmts, 0)
                : PQsendQuery(k->conn, sql);
  if (!sent) {
    set_pq_err(err, k->table, PQerrorMessage(k->conn));
    return -1;
  }
  if (sink_send(k, err)) return -1;
  for (;;) {
    PGresult *r;
    if (sink_next(k, &r, err)) {
      PQclear(*out);
      *out = NULL;
      return -1;
    }
    if (!r) return 0;
    PQclear(*out);
    *out = r;
    if (PQresultStatus(r) == PGRES_COPY_IN) return 0;
  }
}

/* sink_exec expecting want (errors named by what).  0, or -1 with err set. */
static int sink_ok(pg_sink *k, const char *sql, int np, const char *const *vals, const int *lens,
                   const int *fmts, ExecStatusType want, const char *what, sl_err *err) {
  PGresult *r;
  if (sink_exec(k, sql, np, vals, lens, fmts, &r, err)) return -1;
  int ok = PQresultStatus(r) == want;
  if (!ok) set_res_err(err, what, k->conn, r);
  PQclear(r);
  return ok ? 0 : -1;
}

/* The PostgreSQL type of a column created for a value of type t. */
static const char *pg_type_for(int t) {
  switch (t) {
  case SL_INTEGER: return "bigint";
  case SL_REAL: return "double precision";
  case SL_BLOB: return "bytea";
  default: return "text";
  }
}

/* Create the table if it is not there, map the output's columns to its
** own, and make the statements.  Runs on the first write (the encoder has
** seen a batch: the types are known).  0, or -1 with err set. */
static int sink_ready(pg_sink *k, sl_err *err) {
  if (k->ready) return 0;
  if (!k->names) {
    sl_err_set(err, SL_EINTERNAL, "postgres sink: no encoder was made");
    return -1;
  }
  if (k->key) { /* the key as the query names it (the planner matched it ignoring case) */
    int kc = -1;
    for (int c = 0; c < k->ncol && kc < 0; c++)
      if (!strcmp(k->names[c], k->key)) kc = c;
    for (int c = 0; c < k->ncol && kc < 0; c++)
      if (!sl_stricmp(k->names[c], k->key)) kc = c;
    if (kc < 0) {
      sl_err_set(err, SL_EBIND, "postgres: key => '%s' is not a column of the query", k->key);
      return -1;
    }
    k->kc = kc;
  }
  const char *pv[1] = {k->qtable};
  PGresult *r;
  if (sink_exec(k, "SELECT to_regclass($1)::oid", 1, pv, NULL, NULL, &r, err)) return -1;
  if (PQresultStatus(r) != PGRES_TUPLES_OK) {
    set_res_err(err, k->table, k->conn, r);
    PQclear(r);
    return -1;
  }
  int exists = PQntuples(r) == 1 && !PQgetisnull(r, 0, 0);
  char *oid = exists ? sl_strdup(PQgetvalue(r, 0, 0)) : NULL;
  PQclear(r);
  sl_buf b = {0};
  k->cols = sl_calloc((size_t)(k->ncol ? k->ncol : 1), sizeof(char *));
  k->ctypes = sl_calloc((size_t)(k->ncol ? k->ncol : 1), sizeof(char *));
  int rc = 0;
  if (!exists) {
    sl_buf_printf(&b, "CREATE TABLE IF NOT EXISTS %s (", k->qtable);
    for (int c = 0; c < k->ncol; c++) {
      if (c) sl_buf_puts(&b, ", ");
      quote_ident(&b, k->names[c], strlen(k->names[c]));
      sl_buf_printf(&b, " %s", pg_type_for(k->types[c]));
    }
    if (k->key) {
      sl_buf_puts(&b, ", PRIMARY KEY (");
      quote_ident(&b, k->names[k->kc], strlen(k->names[k->kc]));
      sl_buf_puts(&b, ")");
    }
    sl_buf_puts(&b, ")");
    rc = sink_ok(k, b.z, 0, NULL, NULL, NULL, PGRES_COMMAND_OK, k->table, err);
    for (int c = 0; c < k->ncol; c++) {
      sl_buf q = {0};
      quote_ident(&q, k->names[c], strlen(k->names[c]));
      k->cols[c] = q.z;
      k->ctypes[c] = sl_strdup(pg_type_for(k->types[c]));
    }
  } else { /* the table's columns: the same name, else one differing in case only */
    const char *ov[1] = {oid};
    rc = sink_exec(k,
                   "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
                   "WHERE attrelid = $1::oid AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
                   1, ov, NULL, NULL, &r, err);
    if (!rc && PQresultStatus(r) != PGRES_TUPLES_OK) {
      set_res_err(err, k->table, k->conn, r);
      rc = -1;
    }
    for (int c = 0; !rc && c < k->ncol; c++) {
      int found = -1;
      for (int i = 0; i < PQntuples(r) && found < 0; i++)
        if (!strcmp(PQgetvalue(r, i, 0), k->names[c])) found = i;
      for (int i = 0; i < PQntuples(r) && found < 0; i++)
        if (!sl_stricmp(PQgetvalue(r, i, 0), k->names[c])) found = i;
      if (found < 0) {
        sl_err_set(err, SL_EBIND, "postgres: table %s has no column %s (the query's column %d)",
                   k->table, k->names[c], c + 1);
        rc = -1;
        break;
      }
      sl_buf q = {0};
      const char *an = PQgetvalue(r, found, 0);
      quote_ident(&q, an, strlen(an));
      k->cols[c] = q.z;
      k->ctypes[c] = sl_strdup(PQgetvalue(r, found, 1));
    }
    PQclear(r);
  }
  free(oid);
  if (rc) {
    sl_buf_free(&b);
    return -1;
  }
  /* the column list */
  sl_buf cl = {0};
  for (int c = 0; c < k->ncol; c++)
    sl_buf_printf(&cl, "%s%s", c ? ", " : "", k->cols[c]);
  sl_buf_reset(&b);
  if (k->key) {
    /* one array of text per column ($1...), each element cast to its
    ** column's type, numbered by its place in the batch (o) */
    int kc = k->kc;
    sl_buf_printf(&b, "INSERT INTO %s (%s) SELECT DISTINCT ON (v%d) ", k->qtable, cl.z, kc);
    for (int c = 0; c < k->ncol; c++)
      sl_buf_printf(&b, "%sv%d", c ? ", " : "", c);
    sl_buf_puts(&b, " FROM (SELECT ");
    for (int c = 0; c < k->ncol; c++)
      sl_buf_printf(&b, "a%d::%s AS v%d, ", c, k->ctypes[c], c);
    sl_buf_puts(&b, "o FROM unnest(");
    for (int c = 0; c < k->ncol; c++)
      sl_buf_printf(&b, "%s$%d::text[]", c ? ", " : "", c + 1);
    sl_buf_puts(&b, ") WITH ORDINALITY AS u(");
    for (int c = 0; c < k->ncol; c++)
      sl_buf_printf(&b, "a%d, ", c);
    sl_buf_printf(&b, "o)) s ORDER BY v%d, o DESC ON CONFLICT (%s) DO ", kc, k->cols[kc]);
    int nset = 0;
    for (int c = 0; c < k->ncol; c++) {
      if (c == kc) continue;
      sl_buf_printf(&b, "%s%s = EXCLUDED.%s", nset++ ? ", " : "UPDATE SET ", k->cols[c],
                    k->cols[c]);
    }
    if (!nset) sl_buf_puts(&b, "NOTHING");
    k->upsert_sql = b.z;
    b = (sl_buf){0};
    k->arrs = sl_calloc((size_t)(k->ncol ? k->ncol : 1), sizeof(sl_buf));
    k->avals = sl_calloc((size_t)(k->ncol ? k->ncol : 1), sizeof(char *));
  } else {
    sl_buf_printf(&b, "COPY %s (%s) FROM STDIN (FORMAT csv)", k->qtable, cl.z);
  }
  k->copy_sql = b.z;
  sl_buf_free(&cl);
  k->ready = 1;
  return 0;
}

/* One COPY of z[0..n) (CSV records).  0, or -1 with err set. */
static int copy_in(pg_sink *k, const char *z, size_t n, sl_err *err) {
  PGresult *r;
  if (sink_exec(k, k->copy_sql, 0, NULL, NULL, NULL, &r, err)) return -1;
  if (PQresultStatus(r) != PGRES_COPY_IN) {
    set_res_err(err, k->table, k->conn, r);
    PQclear(r);
    return -1;
  }
  PQclear(r);
  for (size_t at = 0; at < n;) {
    size_t chunk = n - at > (1u << 20) ? (1u << 20) : n - at;
    int put = PQputCopyData(k->conn, z + at, (int)chunk);
    if (put < 0) {
      set_pq_err(err, k->table, PQerrorMessage(k->conn));
      return -1;
    }
    if (put == 0) { /* libpq's buffer is full: wait, send, then again */
      if (sink_poll(k, 1, err) || sink_send(k, err)) return -1;
      continue;
    }
    if (sink_send(k, err)) return -1;
    at += chunk;
  }
  int end;
  while ((end = PQputCopyEnd(k->conn, NULL)) == 0)
    if (sink_poll(k, 1, err)) return -1;
  if (end < 0 || sink_send(k, err)) {
    if (!err->code) set_pq_err(err, k->table, PQerrorMessage(k->conn));
    return -1;
  }
  int rc = 0;
  for (;;) { /* COPY's result, then the end */
    if (sink_next(k, &r, err)) return -1;
    if (!r) break;
    if (!rc && PQresultStatus(r) != PGRES_COMMAND_OK) {
      set_res_err(err, k->table, k->conn, r);
      rc = -1;
    }
    PQclear(r);
  }
  return rc;
}

/* sl_csv_split's callback: field i of a record, appended as an element of
** column i's array literal (NULL for an empty unquoted field, else quoted
** with \" and \\).  Non-zero stops the split (more fields than columns). */
static int put_element(void *ud, int i, const char *z, size_t n, int quoted) {
  pg_sink *k = ud;
  if (i >= k->ncol) return 1;
  sl_buf *b = &k->arrs[i];
  sl_buf_putc(b, b->n ? ',' : '{');
  if (!quoted && !n) {
    sl_buf_puts(b, "NULL");
    return 0;
  }
  sl_buf_putc(b, '"');
  for (size_t j = 0; j < n; j++) {
    if (z[j] == '"' || z[j] == '\\') sl_buf_putc(b, '\\');
    sl_buf_putc(b, z[j]);
  }
  sl_buf_putc(b, '"');
  return 0;
}

/* Upsert the records of buf (those keep marks, or all when keep is NULL):
** each record's fields go into one text array per column, and one INSERT
** ... SELECT DISTINCT ON (key) ... FROM unnest(...) ON CONFLICT merges them.
** 0, or -1 with err set. */
static int upsert(pg_sink *k, const char *buf, const size_t *ends, int n, const uint8_t *keep,
                  sl_err *err) {
  sl_arena_reset(&k->arena);
  for (int c = 0; c < k->ncol; c++)
    sl_buf_reset(&k->arrs[c]);
  for (int i = 0; i < n; i++) {
    if (keep && !keep[i]) continue;
    size_t from = i ? ends[i - 1] : 0, to = ends[i];
    if (to > from && buf[to - 1] == '\n') to--;
    if (sl_csv_split(buf + from, to - from, ',', &k->arena, put_element, k) != k->ncol) {
      sl_err_set(err, SL_EINTERNAL, "postgres %s: a row did not encode into %d fields", k->table,
                 k->ncol);
      return -1;
    }
  }
  for (int c = 0; c < k->ncol; c++) {
    if (!k->arrs[c].n) return 0; /* no record kept */
    sl_buf_putc(&k->arrs[c], '}');
    k->avals[c] = k->arrs[c].z;
  }
  return sink_ok(k, k->upsert_sql, k->ncol, k->avals, NULL, NULL, PGRES_COMMAND_OK, k->table, err);
}

/* Write n encoded records (sl_sink_vt.write): COPY, or an upsert; with a
** state directory inside the epoch's transaction, less the records whose ids
** PostgreSQL already holds.  Runs on op_sink's encoder thread. */
static int pg_sink_write(sl_sink *s, const char *buf, const size_t *ends, int n, const char *keys,
                         const size_t *kends, const uint64_t *ids, sl_err *err) {
  (void)keys, (void)kends;
  pg_sink *k = (pg_sink *)s;
  if (n <= 0) return 0;
  if (sink_ready(k, err)) return -1;
  const char *z = buf;
  size_t len = ends[n - 1];
  const uint8_t *keep = NULL;
  if (k->txn && ids) { /* exactly once: drop what PostgreSQL holds, note the rest */
    int filter = k->left > 0;
    if (filter && n > k->keep_cap) {
      k->keep_cap = n;
      k->keep = sl_realloc(k->keep, (size_t)n);
    }
    sl_buf_reset(&k->fbuf);
    for (int i = 0; i < n; i++) {
      if (filter && skip_take(k, ids[i])) {
        k->keep[i] = 0;
        continue;
      }
      ahead_add(k, ids[i]);
      if (!filter) continue;
      k->keep[i] = 1;
      size_t from = i ? ends[i - 1] : 0;
      if (!k->key) sl_buf_append(&k->fbuf, buf + from, ends[i] - from);
    }
    if (filter) {
      z = k->fbuf.z;
      len = k->fbuf.n;
      keep = k->keep;
    }
  }
  if (!k->key && !len) return 0;
  if (k->txn && !k->in_txn) {
    if (sink_ok(k, "BEGIN", 0, NULL, NULL, NULL, PGRES_COMMAND_OK, k->table, err)) return -1;
    k->in_txn = 1;
  }
  /* outside a transaction each statement commits by itself */
  return k->key ? upsert(k, buf, ends, n, keep, err) : copy_in(k, z, len, err);
}

/* Writes are synchronous: nothing is buffered here. */
static int pg_sink_flush(sl_sink *s, sl_err *err) {
  (void)s, (void)err;
  return 0;
}

/* The ids as bytea bytes (8 little-endian bytes each) into b. */
static void ids_bytes(sl_buf *b, const uint64_t *ids, size_t n) {
  sl_buf_reset(b);
  for (size_t i = 0; i < n; i++) {
    unsigned char x[8];
    for (int j = 0; j < 8; j++)
      x[j] = (unsigned char)(ids[i] >> (8 * j));
    sl_buf_append(b, x, 8);
  }
}

/* A checkpoint: the next epoch, with the ids of what may be replayed, into
** sluice_offsets in the rows' transaction, and commit; then the epoch goes
** into the engine's checkpoint, which commits after this. */
static int pg_sink_save_pos(sl_sink *s, sl_buf *out, sl_err *err) {
  pg_sink *k = (pg_sink *)s;
  if (!k->txn) {
    sl_ck_i64(out, -1);
    return 0;
  }
  if (!k->in_txn) {
    if (sink_ok(k, "BEGIN", 0, NULL, NULL, NULL, PGRES_COMMAND_OK, k->table, err)) return -1;
    k->in_txn = 1;
  }
  sl_buf ahead = {0}, rest = {0};
  ids_bytes(&ahead, k->ahead, k->nahead);
  uint64_t *unmet = sl_malloc(8 * (k->left + 1));
  size_t nu = 0;
  for (size_t i = 0; i < k->nskip; i++)
    if (!k->seen[i]) unmet[nu++] = k->skip[i];
  ids_bytes(&rest, unmet, nu);
  free(unmet);
  char ep[32];
  snprintf(ep, sizeof ep, "%lld", (long long)(k->epoch + 1));
  const char *pv[5] = {k->query, k->table, ep, ahead.z ? ahead.z : "", rest.z ? rest.z : ""};
  int pl[5] = {0, 0, 0, (int)ahead.n, (int)rest.n};
  int pf[5] = {0, 0, 0, 1, 1};
  int rc = sink_ok(
      k,
      "INSERT INTO sluice_offsets (query, sink, epoch, ahead, rest) VALUES ($1, $2, $3, $4, $5) "
      "ON CONFLICT (query, sink) DO UPDATE SET epoch = EXCLUDED.epoch, ahead = EXCLUDED.ahead, "
      "rest = EXCLUDED.rest",
      5, pv, pl, pf, PGRES_COMMAND_OK, "sluice_offsets", err);
  sl_buf_free(&ahead);
  sl_buf_free(&rest);
  if (rc) return -1;
  /* the commit: from here PostgreSQL may be one epoch ahead of the store */
  rc = sink_ok(k, "COMMIT", 0, NULL, NULL, NULL, PGRES_COMMAND_OK, k->table, err);
  k->in_txn = 0;
  if (rc) return -1;
  /* tests/postgres.sh: die between PostgreSQL's commit and the store's */
  const char *kill_at = getenv("SLUICE_TEST_PG_KILL_AFTER_COMMIT");
  if (kill_at && ++k->commits == atoll(kill_at)) raise(SIGKILL);
  k->epoch++;
  ahead_restart(k);
  sl_ck_i64(out, k->epoch);
  return 0;
}

/* Resume from the store's epoch: read PostgreSQL's and take the ids it
** holds past the store's position as the ones to skip on replay. */
static int pg_sink_load_pos(sl_sink *s, const void *z, size_t n, sl_err *err) {
  pg_sink *k = (pg_sink *)s;
  sl_ckrd rd;
  sl_ckrd_init(&rd, z, n);
  int64_t e = sl_ckr_i64(&rd);
  if (rd.bad) {
    sl_err_set(err, SL_EIO, "postgres %s: the checkpointed position is corrupt", k->table);
    return -1;
  }
  if (!k->txn || e < 0) return 0;
  const char *pv[2] = {k->query, k->table};
  PGresult *r = PQexecParams(k->conn,
                             "SELECT epoch, ahead, rest FROM sluice_offsets WHERE query = $1 AND "
                             "sink = $2",
                             2, NULL, pv, NULL, NULL, 1);
  if (PQresultStatus(r) != PGRES_TUPLES_OK) {
    set_res_err(err, "sluice_offsets", k->conn, r);
    PQclear(r);
    return -1;
  }
  int64_t pe = -1;
  if (PQntuples(r) == 1 && PQgetlength(r, 0, 0) == 8) {
    const unsigned char *p = (const unsigned char *)PQgetvalue(r, 0, 0);
    uint64_t x = 0;
    for (int i = 0; i < 8; i++)
      x = (x << 8) | p[i];
    pe = (int64_t)x;
  }
  int col = pe == e + 1 ? 1 : pe == e ? 2 : 0;
  if (!col) {
    if (pe < 0 && e == 0) { /* the first checkpoint never reached PostgreSQL: nothing there */
      PQclear(r);
      return 0;
    }
    sl_err_set(err, SL_EIO,
               "postgres %s: sluice_offsets says epoch %lld where the checkpoint says %lld: "
               "the database is not as the checkpoint left it (a row of sluice_offsets removed, "
               "another database, or a checkpoint that failed before a crash); --reset-state "
               "starts afresh",
               k->table, (long long)pe, (long long)e);
    PQclear(r);
    return -1;
  }
  uint64_t *ids;
  size_t nids;
  int bad = PQgetisnull(r, 0, col) ||
            sl_pg_ids_parse(PQgetvalue(r, 0, col), (size_t)PQgetlength(r, 0, col), &ids, &nids);
  PQclear(r);
  if (bad) {
    sl_err_set(err, SL_EIO, "postgres %s: its row of sluice_offsets is corrupt", k->table);
    return -1;
  }
  free(k->skip);
  free(k->seen);
  k->skip = ids;
  k->nskip = k->left = nids;
  k->seen = sl_calloc(nids ? nids : 1, 1);
  k->epoch = e;
  ahead_restart(k);
  return 0;
}

/* Close the connection (an open transaction is rolled back: its rows are
** replayed from the last checkpoint) and free k. */
static void pg_sink_close(sl_sink *s) {
  pg_sink *k = (pg_sink *)s;
  if (k->conn) PQfinish(k->conn); /* an open transaction is rolled back */
  sl_sink_fini(s);
  for (int c = 0; c < k->ncol; c++) {
    free(k->names[c]);
    if (k->cols) free(k->cols[c]);
  }
  free(k->names);
  free(k->cols);
  free(k->types);
  for (int c = 0; c < k->ncol; c++) {
    if (k->ctypes) free(k->ctypes[c]);
    if (k->arrs) sl_buf_free(&k->arrs[c]);
  }
  free(k->ctypes);
  free(k->arrs);
  free(k->avals);
  free(k->keep);
  sl_arena_free(&k->arena);
  free(k->copy_sql);
  free(k->upsert_sql);
  free(k->table);
  free(k->qtable);
  free(k->key);
  free(k->query);
  free(k->skip);
  free(k->seen);
  free(k->ahead);
  sl_buf_free(&k->fbuf);
  free(k);
}

static const sl_sink_vt pg_sink_vt = {
    "postgres",       pg_sink_write, pg_sink_flush, pg_sink_close, pg_sink_save_pos,
    pg_sink_load_pos, NULL,          NULL,          NULL,          NULL};

/* ---- the sink's format: rows as COPY's CSV ------------------------------------------ */

typedef struct pg_encoder {
  pg_sink *k;
  int ncol;
  sl_value scratch;
} pg_encoder;

/* The encoder of the sink opts->ctx: tells that sink the output's column
** names (copied) and gets it ready to learn their types. */
static sl_encoder *pgc_encoder_new(int ncol, const char *const *names, const sl_fmt_opts *opts,
                                   sl_err *err) {
  pg_sink *k = opts->ctx;
  if (!k) {
    sl_err_set(err, SL_EBIND, "the postgres format is the postgres() sink's own");
    return NULL;
  }
  if (!k->names) { /* the sink's columns, once (parallel tasks each make an encoder) */
    k->ncol = ncol;
    k->names = sl_calloc((size_t)(ncol ? ncol : 1), sizeof(char *));
    k->types = sl_calloc((size_t)(ncol ? ncol : 1), 1);
    for (int c = 0; c < ncol; c++)
      k->names[c] = sl_strdup(names[c]);
  }
  pg_encoder *e = sl_calloc(1, sizeof *e);
  e->k = k;
  e->ncol = ncol;
  return (sl_encoder *)e;
}

/* Append z[0..n) quoted, with "" for ". */
static void put_quoted(sl_buf *out, const char *z, size_t n) {
  sl_buf_putc(out, '"');
  for (size_t i = 0; i < n; i++) {
    if (z[i] == '"') sl_buf_putc(out, '"');
    sl_buf_putc(out, z[i]);
  }
  sl_buf_putc(out, '"');
}

/* Append one row as a COPY CSV record (see the top of the file), noting
** the type of each column's first non-NULL value for the sink. */
static void pgc_encode(sl_encoder *ee, sl_value *row, sl_buf *out) {
  pg_encoder *e = (pg_encoder *)ee;
  static const char hex[] = "0123456789abcdef";
  for (int c = 0; c < e->ncol; c++) {
    if (c) sl_buf_putc(out, ',');
    sl_value *v = &row[c];
    if (v->type != SL_NULL && !e->k->types[c]) e->k->types[c] = v->type;
    switch (v->type) {
    case SL_NULL: break;
    case SL_INTEGER: sl_buf_printf(out, "%lld", (long long)v->u.i); break;
    case SL_REAL:
      if (isnan(v->u.r)) break; /* NULL, as SQLite has it */
      if (isinf(v->u.r))
        sl_buf_puts(out, v->u.r < 0 ? "-Infinity" : "Infinity");
      else
        sl_buf_printf(out, "%.17g", v->u.r);
      break;
    case SL_BLOB:
      sl_buf_puts(out, "\"\\x");
      for (uint32_t i = 0; i < v->n; i++) {
        unsigned char b = (unsigned char)v->u.z[i];
        sl_buf_putc(out, hex[b >> 4]);
        sl_buf_putc(out, hex[b & 15]);
      }
      sl_buf_putc(out, '"');
      break;
    default: { /* text, and a vector as its text */
      sl_value_ref(&e->scratch, v);
      size_t n = 0;
      const char *z = sl_value_text(&e->scratch, &n);
      put_quoted(out, z ? z : "", z ? n : 0);
    }
    }
  }
}

/* Free the encoder (what it told the sink stays the sink's). */
static void pgc_encoder_free(sl_encoder *ee) {
  pg_encoder *e = (pg_encoder *)ee;
  sl_value_free(&e->scratch);
  free(e);
}

/* Not a format a query can name (sl_format_find does not know it): the
** postgres() sink sets it itself, with fmt_opts.ctx its sink. */
static const sl_format pg_copy_format = {
    "postgres copy",  NULL, NULL, NULL, NULL, pgc_encoder_new, NULL, pgc_encode,
    pgc_encoder_free, NULL, NULL, 0};

/* INTO postgres('table', conninfo => ..., key => ...): options read and
** authorized; planning stops there, a run connects (and with a state
** directory makes sluice_offsets).  The table is made at the first write. */
static sl_sink *pg_open_sink(sl_options *o, sl_err *err) {
  const char *key = sl_opt_str(o, "key", NULL);
  pg_params pp;
  const char *table =
      pg_open_common(o, "INTO postgres('scores', conninfo => 'host=... dbname=...')", &pp, err);
  if (!table) return NULL;
  pg_sink *k = sl_calloc(1, sizeof *k);
  k->base.vt = &pg_sink_vt;
  k->base.format = &pg_copy_format;
  k->base.fmt_opts.ctx = k;
  sl_arena_init(&k->arena);
  k->base.key_col = key ? sl_strdup(key) : NULL; /* the planner checks the column is there */
  k->table = sl_strdup(table);
  k->qtable = quote_table(table);
  k->key = key ? sl_strdup(key) : NULL;
  k->query = sl_strdup(o->query_fp ? o->query_fp : "");
  k->txn = o->resume;
  k->base.by_id = k->txn; /* the ids of what is written, to skip on replay */
  if (o->check_only) {
    params_free(&pp);
    return &k->base;
  }
  k->conn = pg_connect(&pp, err);
  if (k->conn) PQsetnonblocking(k->conn, 1); /* statements waited for by sink_poll */
  params_free(&pp);
  if (!k->conn ||
      (k->txn && exec_ok(k->conn,
                         "CREATE TABLE IF NOT EXISTS sluice_offsets (query text, sink text, "
                         "epoch bigint NOT NULL, ahead bytea, rest bytea, "
                         "PRIMARY KEY (query, sink))",
                         PGRES_COMMAND_OK, "sluice_offsets", err))) {
    pg_sink_close(&k->base);
    return NULL;
  }
  return &k->base;
}

const sl_connector sl_conn_postgres = {"postgres", pg_open_source, pg_open_sink};
