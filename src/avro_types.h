/*
** avro_types.h - Avro inside sluice (docs/avro.md): schemas compiled into trees
** of our own (avro_schema.c), writer/reader schema resolution, and the
** schema-registry client (avro_registry.c).  fmt_avro.c is the format.
**
** Why our own trees: avro-c (Debian's libavro) validates a schema's JSON
** (every schema passes avro_schema_from_json_length first) but keeps no
** field defaults or aliases, which schema evolution needs, and its generic
** value API allocates per value.  The binary encoding itself is simple
** (zigzag varints, length-prefixed bytes, little-endian IEEE floats), so
** records are read and written here directly, with no allocation per record.
*/
#ifndef SLUICE_AVRO_TYPES_H
#define SLUICE_AVRO_TYPES_H

#include "value.h"

struct sl_schema; /* format.h */

typedef enum av_kind {
  AV_NULL,
  AV_BOOLEAN,
  AV_INT,
  AV_LONG,
  AV_FLOAT,
  AV_DOUBLE,
  AV_BYTES,
  AV_STRING,
  AV_RECORD,
  AV_ENUM,
  AV_ARRAY,
  AV_MAP,
  AV_UNION,
  AV_FIXED
} av_kind;

typedef struct av_type av_type;

typedef struct av_field {
  char *name;   /* owned */
  char **alias; /* owned, nalias names the field had in older schemas */
  int nalias;
  av_type *type; /* owned by the schema */
  char *dflt;    /* the default as minified JSON text (owned), or NULL */
} av_field;

struct av_type {
  av_kind kind;
  char *name;        /* record, enum, fixed: the full name (owned); else NULL */
  const char *sname; /* the name without its namespace (into name) */
  int n;             /* fields, symbols or branches */
  av_field *fields;  /* record */
  char **symbols;    /* enum (owned) */
  int enum_dflt;     /* enum: the default symbol's index, or -1 */
  av_type **branch;  /* union (borrowed: owned by the schema) */
  int null_branch;   /* union: the index of its null branch, or -1 */
  av_type *items;    /* array items, map values */
  int64_t size;      /* fixed */
  int minsz;         /* the fewest bytes a value's encoding takes (0 possible) */
};

/* A parsed schema: every node is owned here. */
typedef struct av_schema {
  av_type *root;
  av_type **all;
  int nall, cap;
  char *json; /* the schema's text as given (owned) */
} av_schema;

/* Parse a schema from JSON text (validated by avro-c first).  NULL with
** err set (the message names the problem). */
av_schema *av_schema_parse(const char *json, size_t n, sl_err *err);
void av_schema_free(av_schema *s);

/* ---- resolution ----------------------------------------------------------
** How data written with a writer schema is read as a reader schema (the
** Avro specification's rules): record fields matched by name or alias,
** fields only the writer has skipped, fields only the reader has taking
** their default, int -> long -> float -> double and string <-> bytes
** promotions, unions on either side, enum symbols mapped by name. */
typedef struct av_res av_res;
struct av_res {
  const av_type *w, *r; /* r: the reader's type, a union branch already chosen */
  const char *why;      /* non-NULL: the writer's data cannot be read as r */
  /* record */
  int *wmap;     /* per writer field: the reader field it fills, or -1 (skipped) */
  av_res **wres; /* per writer field: how (NULL when skipped) */
  int *dflt;     /* the reader fields the writer does not have (they have defaults) */
  int ndflt;
  int *emap;     /* enum: per writer symbol, the reader's index (-1: default or error) */
  av_res **bres; /* writer union: per branch */
  av_res *items; /* array items, map values */
};

typedef struct av_resolver {
  av_res *top;
  av_res **all; /* every node (owned) */
  const av_type **pw, **pr;
  int nall, cap;
} av_resolver;

/* Resolve writer w against reader r (both borrowed; they must outlive the
** result).  Never NULL: a resolution that fails somewhere has that node's
** why set (top->why when the records cannot be read at all). */
av_resolver *av_resolve(const av_type *w, const av_type *r);
void av_resolver_free(av_resolver *rs);

/* ---- the schema registry (avro_registry.c) ------------------------------
** The Confluent schema registry's REST protocol over HTTP (libcurl):
** GET /schemas/ids/{id}, POST /subjects/{subject}/versions and
** GET /subjects/{subject}/versions/latest. */
typedef struct av_registry av_registry;

/* A client of the registry at base ("http://host:port", copied). */
av_registry *av_registry_new(const char *base);
void av_registry_free(av_registry *r);
/* The schema with this id into out (reset first).  0, or -1 with err. */
int av_registry_get(av_registry *r, int32_t id, sl_buf *out, sl_err *err);
/* Register schema under subject; *id gets its id.  0, or -1 with err. */
int av_registry_register(av_registry *r, const char *subject, const char *schema, int32_t *id,
                         sl_err *err);
/* The latest schema of subject into out, its id into *id.  0, or -1. */
int av_registry_latest(av_registry *r, const char *subject, sl_buf *out, int32_t *id, sl_err *err);
/* "host:port" of an http:// or https:// URL into out (room for n bytes),
** as the authorizer is asked for it.  0, or -1 when url is not one. */
int av_registry_hostport(const char *url, char *out, size_t n);

/* ---- for tests and benchmarks (fmt_avro.c) -------------------------------
** The ctx sl_fmt_avro's configure() makes, from schema texts instead of
** options: writer (schema =>) and reader (reader_schema =>, NULL: the
** writer's) for a source, whose columns are added to schema; for a sink
** (schema NULL) writer only, or NULL for a schema derived from the columns.
** NULL with err set. */
void *sl_avro_ctx_new(const char *writer, const char *reader, struct sl_schema *schema,
                      sl_err *err);
void sl_avro_ctx_free(void *ctx);

#endif /* SLUICE_AVRO_TYPES_H */
