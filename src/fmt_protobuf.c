/*
** fmt_protobuf.c - the protobuf format: records that are Protobuf messages
** of one type, decoded and encoded by walking a schema read at run time
** (protobuf_schema.h), with no code generated per schema.
**
** Options: schema => 'x.proto' (the text) or 'x.desc' (a descriptor set,
** any other name), message => 'pkg.Msg' (optional when the schema has one
** top-level message), framing => 'delimited' | 'none' (default: none for kafka(),
** where a message is a record; delimited elsewhere: each message preceded
** by its length as a varint, as writeDelimitedTo / _VarintBytes write).
**
** Columns are the top-level fields (docs/protobuf.md has the full mapping):
** integers and bool INTEGER, float and double REAL, string TEXT, bytes
** BLOB, enum its value's name as TEXT, repeated numbers VECTOR, a nested
** message, a map or another repeated field JSON text.  An absent field
** without presence is its default (0, '', the first enum value); with
** presence (proto2 optional, proto3 optional, oneof, messages) it is NULL.
**
** The decoder reads the wire in one pass, borrowing strings and bytes from
** the record; vectors and JSON are built in per-column buffers the decoder
** keeps and copied to the batch arena: nothing is allocated per row once
** warm.  The encoder writes fields in column order, nested messages through
** one buffer per nesting level.
*/
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "connector.h"
#include "format.h"
#include "json.h"
#include "protobuf_schema.h"

#define MAX_SCHEMA_BYTES (16 << 20)
#define MAX_NEST 64

/* What configure() made: the schema and the message type, owned by the
** source or sink. */
typedef struct pb_ctx {
  sl_pb_schema schema;
  int msg;       /* the record's message type */
  int delimited; /* records carry a varint length prefix */
} pb_ctx;

static void pb_ctx_free(void *p) {
  pb_ctx *c = p;
  if (!c) return;
  sl_pb_schema_free(&c->schema);
  free(c);
}

/* The column type of field f. */
static const char *field_decltype(const sl_pb_field *f) {
  if (f->repeated) {
    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING:
    case PROTOBUF_C_TYPE_BYTES:
    case PROTOBUF_C_TYPE_MESSAGE:
    case PROTOBUF_C_TYPE_ENUM: return "TEXT";
    default: return "VECTOR";
    }
  }
  switch (f->type) {
  case PROTOBUF_C_TYPE_FLOAT:
  case PROTOBUF_C_TYPE_DOUBLE: return "REAL";
  case PROTOBUF_C_TYPE_STRING:
  case PROTOBUF_C_TYPE_ENUM:
  case PROTOBUF_C_TYPE_MESSAGE: return "TEXT";
  case PROTOBUF_C_TYPE_BYTES: return "BLOB";
  default: return "INTEGER";
  }
}

/* The index of the field of m named name, or -1. */
static int field_index(const sl_pb_message *m, const char *name, size_t n) {
  for (int i = 0; i < m->nfield; i++)
    if (strlen(m->fields[i].name) == n && !memcmp(m->fields[i].name, name, n)) return i;
  for (int i = 0; i < m->nfield; i++)
    if (strlen(m->fields[i].name) == n && !sl_strnicmp(m->fields[i].name, name, n)) return i;
  return -1;
}

/* Read the whole file at path (at most MAX_SCHEMA_BYTES) into a malloc'd
** buffer.  NULL with err set. */
static char *read_file(const char *path, size_t *n, sl_err *err) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    sl_err_set(err, SL_EBIND, "protobuf: cannot read schema '%s': %s", path, strerror(errno));
    return NULL;
  }
  struct stat st;
  size_t want = fstat(fileno(f), &st) == 0 && st.st_size >= 0 && st.st_size <= MAX_SCHEMA_BYTES
                    ? (size_t)st.st_size + 1
                    : MAX_SCHEMA_BYTES + 1; /* one byte more shows it grew */
  char *z = sl_malloc(want);
  *n = fread(z, 1, want, f);
  int bad = ferror(f);
  fclose(f);
  if (bad || *n > MAX_SCHEMA_BYTES || *n == want) {
    sl_err_set(err, SL_EBIND, "protobuf: schema '%s' %s", path,
               bad ? "cannot be read" : "is over 16 MB or growing");
    free(z);
    return NULL;
  }
  return z;
}

/* The format's options: schema, message, framing; for a source, the
** columns (the message's fields, or the declared ones checked). */
static int pb_configure(sl_fmt_opts *fo, sl_options *opts, sl_schema *schema, sl_err *err) {
  const char *path = sl_opt_str(opts, "schema", NULL);
  if (!path) {
    sl_err_set(err, SL_EBIND,
               "format 'protobuf' needs schema => 'x.proto' (or a descriptor set) and message "
               "=> 'pkg.Message'");
    return -1;
  }
  char *pathc = sl_strdup(path);
  const char *mname = sl_opt_str(opts, "message", NULL);
  char *mnamec = mname ? sl_strdup(mname) : NULL;
  const char *framing = sl_opt_str(opts, "framing", NULL);
  int kafka = opts->fn && !sl_stricmp(opts->fn, "kafka");
  int delimited = !kafka;
  int rc = -1;
  pb_ctx *c = NULL;
  char *z = NULL;
  if (framing) {
    if (!sl_stricmp(framing, "delimited"))
      delimited = 1;
    else if (!sl_stricmp(framing, "none"))
      delimited = 0;
    else {
      sl_err_set(err, SL_EBIND, "framing => takes 'delimited' or 'none', not '%s'", framing);
      goto done;
    }
    if (!delimited && !kafka) {
      sl_err_set(err, SL_EBIND,
                 "framing => 'none' is for kafka(), where a message is a record: %s() frames "
                 "Protobuf messages by their length (framing => 'delimited')",
                 opts->fn ? opts->fn : "?");
      goto done;
    }
  }
  if (sl_opt_authorize(opts, SLUICE_AUTH_READ, pathc, err)) goto done;
  size_t n;
  z = read_file(pathc, &n, err);
  if (!z) goto done;
  c = sl_calloc(1, sizeof *c);
  c->delimited = delimited;
  size_t pl = strlen(pathc);
  int text = pl >= 6 && !sl_stricmp(pathc + pl - 6, ".proto");
  int r = text ? sl_pb_schema_from_proto(&c->schema, z, n, err)
               : sl_pb_schema_from_descset(&c->schema, (const uint8_t *)z, n, err);
  if (r) {
    char *why = sl_strdup(err->msg ? err->msg : "unreadable"); /* the first error sticks */
    sl_err_clear(err);
    sl_err_set(err, SL_EBIND, "'%s': %s", pathc, why);
    free(why);
    goto done;
  }
  if (mnamec) {
    c->msg = sl_pb_schema_find(&c->schema, mnamec);
    if (c->msg < 0) {
      sl_err_set(err, SL_EBIND, "protobuf schema '%s' has no message '%s'", pathc, mnamec);
      goto done;
    }
  } else {
    c->msg = -1;
    int count = 0;
    for (int i = 0; i < c->schema.nmsg; i++) { /* the top-level ones: not nested in a message */
      const char *nm = c->schema.msgs[i].name, *dot = strrchr(nm, '.');
      int nested = 0;
      for (int k = 0; dot && k < c->schema.nmsg && !nested; k++)
        nested = strlen(c->schema.msgs[k].name) == (size_t)(dot - nm) &&
                 !memcmp(c->schema.msgs[k].name, nm, (size_t)(dot - nm));
      if (!nested) count++, c->msg = c->msg < 0 ? i : c->msg;
    }
    if (count != 1) {
      sl_err_set(err, SL_EBIND,
                 "protobuf schema '%s' has %d top-level messages: say which with message => "
                 "'pkg.Message'",
                 pathc, count);
      goto done;
    }
  }
  const sl_pb_message *m = &c->schema.msgs[c->msg];
  if (schema && !schema->ncol) {
    for (int i = 0; i < m->nfield; i++)
      sl_schema_add(schema, m->fields[i].name, strlen(m->fields[i].name),
                    field_decltype(&m->fields[i]));
  } else if (schema) {
    for (int i = 0; i < schema->ncol; i++)
      if (field_index(m, schema->cols[i].name, strlen(schema->cols[i].name)) < 0) {
        sl_err_set(err, SL_EBIND, "column %s: message %s has no such field", schema->cols[i].name,
                   m->name);
        goto done;
      }
  }
  schema = NULL;
  fo->ctx = c;
  c = NULL;
  rc = 0;
done:
  pb_ctx_free(c);
  free(z);
  free(pathc);
  free(mnamec);
  return rc;
}

/* ---- framing ------------------------------------------------------------- */

/* A varint length, then that many bytes.  A prefix that cannot be one
** (too long, or a length over 1 GB) or a record cut short at eof is handed
** out whole for the decoder to reject. */
static size_t pb_frame(const char *buf, size_t len, int eof, size_t *rec_len) {
  const uint8_t *p = (const uint8_t *)buf, *end = p + len;
  uint64_t n;
  if (sl_pb_varint(&p, end, &n)) {
    if (eof || len >= 10) {
      *rec_len = len;
      return len;
    }
    return 0;
  }
  size_t hdr = (size_t)(p - (const uint8_t *)buf);
  if (n > ((uint64_t)1 << 30)) {
    *rec_len = len;
    return len;
  }
  if (hdr + n <= len) {
    *rec_len = hdr + (size_t)n;
    return hdr + (size_t)n;
  }
  if (eof) {
    *rec_len = len;
    return len;
  }
  return 0;
}

/* ---- decoding ------------------------------------------------------------ */

typedef struct col_acc {
  double *v; /* repeated numbers of this record */
  size_t n, cap;
  sl_buf json; /* repeated others / maps: the elements so far, without brackets */
  int count;
} col_acc;

/* The scratch of one nesting level of msg_to_json. */
typedef struct json_level {
  sl_pb_wire *w; /* the known fields of the message, in wire order */
  int *fi;       /* their field indexes */
  size_t *order; /* w's indexes bucketed by field */
  size_t cap;    /* of w, fi, order */
  int *start;    /* per field: where its bucket starts, then ends */
  size_t fcap;   /* of start */
} json_level;

typedef struct pb_decoder {
  const pb_ctx *ctx;
  const sl_pb_message *m;
  const sl_schema *schema;
  int ncol;      /* columns mapped (schema->ncol at the first decode) */
  int *col_of;   /* field index -> column, or -1 */
  int *field_of; /* column -> field index, or -1 */
  col_acc *acc;  /* per column */
  uint8_t *set;  /* per column: set by this record */
  uint8_t *vec;  /* per column: a repeated number field (a VECTOR) */
  sl_buf tmp;    /* nested JSON */
  json_level lvl[MAX_NEST + 1];
  int utf8_reject;
} pb_decoder;

static sl_decoder *pb_decoder_new(const sl_fmt_opts *opts, sl_err *err) {
  if (!opts->ctx) {
    sl_err_set(err, SL_EINTERNAL, "protobuf: no schema");
    return NULL;
  }
  pb_decoder *d = sl_calloc(1, sizeof *d);
  d->ctx = opts->ctx;
  d->m = &d->ctx->schema.msgs[d->ctx->msg];
  d->schema = opts->schema;
  d->ncol = -1;
  d->utf8_reject = opts->utf8_reject;
  return (sl_decoder *)d;
}

static void pb_decoder_free(sl_decoder *dd) {
  pb_decoder *d = (pb_decoder *)dd;
  for (int i = 0; i < d->ncol; i++) {
    free(d->acc[i].v);
    sl_buf_free(&d->acc[i].json);
  }
  free(d->acc);
  free(d->col_of);
  free(d->field_of);
  free(d->set);
  free(d->vec);
  for (int i = 0; i <= MAX_NEST; i++) {
    free(d->lvl[i].w);
    free(d->lvl[i].fi);
    free(d->lvl[i].order);
    free(d->lvl[i].start);
  }
  sl_buf_free(&d->tmp);
  free(d);
}

/* Map columns to fields (the schema is final at the first decode). */
static void map_columns(pb_decoder *d) {
  int nc = d->schema ? d->schema->ncol : 0;
  d->ncol = nc;
  d->col_of = sl_malloc(sizeof(int) * (size_t)(d->m->nfield + 1));
  for (int i = 0; i < d->m->nfield; i++)
    d->col_of[i] = -1;
  d->field_of = sl_malloc(sizeof(int) * (size_t)(nc + 1));
  d->acc = sl_calloc((size_t)nc + 1, sizeof(col_acc));
  d->set = sl_calloc((size_t)nc + 1, 1);
  d->vec = sl_calloc((size_t)nc + 1, 1);
  for (int c = 0; c < nc; c++) {
    const char *name = d->schema->cols[c].name;
    int fi = field_index(d->m, name, strlen(name));
    d->field_of[c] = fi;
    d->vec[c] = fi >= 0 && d->m->fields[fi].repeated &&
                !strcmp(field_decltype(&d->m->fields[fi]), "VECTOR");
    if (fi >= 0 && d->col_of[fi] < 0) d->col_of[fi] = c;
  }
}

static int64_t zigzag64(uint64_t v) {
  return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

static int32_t zigzag32(uint32_t v) {
  return (int32_t)(v >> 1) ^ -(int32_t)(v & 1);
}

/* The wire type a field's values have (unpacked). */
static int wire_type_of(ProtobufCType t) {
  switch (t) {
  case PROTOBUF_C_TYPE_FIXED64:
  case PROTOBUF_C_TYPE_SFIXED64:
  case PROTOBUF_C_TYPE_DOUBLE: return 1;
  case PROTOBUF_C_TYPE_FIXED32:
  case PROTOBUF_C_TYPE_SFIXED32:
  case PROTOBUF_C_TYPE_FLOAT: return 5;
  case PROTOBUF_C_TYPE_STRING:
  case PROTOBUF_C_TYPE_BYTES:
  case PROTOBUF_C_TYPE_MESSAGE: return 2;
  default: return 0;
  }
}

/* A numeric scalar's value from its bits: INTEGER (*is_real 0) in *i or
** REAL in *r (float, double, a uint64 over INT64_MAX). */
static void scalar_of(ProtobufCType t, uint64_t v, int64_t *i, double *r, int *is_real) {
  *is_real = 0;
  switch (t) {
  case PROTOBUF_C_TYPE_INT32:
  case PROTOBUF_C_TYPE_ENUM: *i = (int32_t)(uint32_t)v; break;
  case PROTOBUF_C_TYPE_SFIXED32: *i = (int32_t)(uint32_t)v; break;
  case PROTOBUF_C_TYPE_SINT32: *i = zigzag32((uint32_t)v); break;
  case PROTOBUF_C_TYPE_UINT32:
  case PROTOBUF_C_TYPE_FIXED32: *i = (uint32_t)v; break;
  case PROTOBUF_C_TYPE_SINT64: *i = zigzag64(v); break;
  case PROTOBUF_C_TYPE_UINT64:
  case PROTOBUF_C_TYPE_FIXED64:
    if (v > (uint64_t)INT64_MAX) {
      *is_real = 1;
      *r = (double)v;
    } else {
      *i = (int64_t)v;
    }
    break;
  case PROTOBUF_C_TYPE_BOOL: *i = v != 0; break;
  case PROTOBUF_C_TYPE_FLOAT: {
    uint32_t b = (uint32_t)v;
    float f;
    memcpy(&f, &b, 4);
    *is_real = 1;
    *r = f;
    break;
  }
  case PROTOBUF_C_TYPE_DOUBLE:
    memcpy(r, &v, 8);
    *is_real = 1;
    break;
  default: *i = (int64_t)v; break;
  }
}

/* Call put(ud, bits) for each value of a numeric field occurrence w:
** one value, or a packed run.  0, or -1 malformed. */
static int each_number(const sl_pb_field *f, const sl_pb_wire *w, void (*put)(void *ud, uint64_t v),
                       void *ud) {
  int wt = wire_type_of(f->type);
  if (w->wt == wt) {
    put(ud, w->v);
    return 0;
  }
  if (w->wt != 2) return 1; /* a wire type this field never has: skipped as unknown */
  const uint8_t *p = w->z, *end = w->z + w->n;
  while (p < end) {
    uint64_t v;
    if (wt == 0) {
      if (sl_pb_varint(&p, end, &v)) return -1;
    } else if (wt == 5) {
      if (end - p < 4) return -1;
      v = (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24;
      p += 4;
    } else {
      if (end - p < 8) return -1;
      v = 0;
      for (int k = 7; k >= 0; k--)
        v = (v << 8) | p[k];
      p += 8;
    }
    put(ud, v);
  }
  return 0;
}

typedef struct num_put {
  col_acc *a;
  ProtobufCType type;
} num_put;

static void put_vector(void *ud, uint64_t bits) {
  num_put *np = ud;
  col_acc *a = np->a;
  int64_t i;
  double r;
  int is_real;
  scalar_of(np->type, bits, &i, &r, &is_real);
  if (a->n == a->cap) {
    a->cap = a->cap ? a->cap * 2 : 16;
    a->v = sl_realloc(a->v, sizeof(double) * a->cap);
  }
  a->v[a->n++] = is_real ? r : (double)i;
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void append_base64(sl_buf *out, const uint8_t *z, size_t n) {
  sl_buf_putc(out, '"');
  for (size_t i = 0; i < n; i += 3) {
    uint32_t v = (uint32_t)z[i] << 16;
    if (i + 1 < n) v |= (uint32_t)z[i + 1] << 8;
    if (i + 2 < n) v |= z[i + 2];
    sl_buf_putc(out, b64[(v >> 18) & 63]);
    sl_buf_putc(out, b64[(v >> 12) & 63]);
    sl_buf_putc(out, i + 1 < n ? b64[(v >> 6) & 63] : '=');
    sl_buf_putc(out, i + 2 < n ? b64[v & 63] : '=');
  }
  sl_buf_putc(out, '"');
}

/* Text of a string field for JSON or a column: itself when UTF-8; else
** repaired into arena, or NULL (rejected) under utf8_reject. */
static const char *utf8_text(pb_decoder *d, const uint8_t *z, size_t *n, sl_arena *arena) {
  if (sl_utf8_check((const char *)z, *n) == *n) return (const char *)z;
  if (d->utf8_reject) return NULL;
  char *p = sl_arena_alloc(arena, 3 * *n + 1);
  *n = sl_utf8_repair((const char *)z, *n, p);
  p[*n] = 0;
  return p;
}

static int msg_to_json(pb_decoder *d, int mi, const uint8_t *z, size_t n, sl_buf *out,
                       sl_arena *arena, int depth);

typedef struct json_put {
  sl_buf *out;
  ProtobufCType type;
  const sl_pb_enum *e;
  int first;
} json_put;

/* Append one scalar as JSON (a comma before it unless first). */
static void put_json_scalar(void *ud, uint64_t bits) {
  json_put *jp = ud;
  if (!jp->first) sl_buf_putc(jp->out, ',');
  jp->first = 0;
  int64_t i;
  double r;
  int is_real;
  scalar_of(jp->type, bits, &i, &r, &is_real);
  if (jp->type == PROTOBUF_C_TYPE_BOOL) {
    sl_buf_puts(jp->out, i ? "true" : "false");
  } else if (jp->type == PROTOBUF_C_TYPE_ENUM) {
    const char *name = sl_pb_enum_name(jp->e, (int32_t)i);
    if (name)
      sl_json_append_string(jp->out, name, strlen(name));
    else
      sl_buf_printf(jp->out, "%lld", (long long)i);
  } else if (is_real && jp->type != PROTOBUF_C_TYPE_FLOAT && jp->type != PROTOBUF_C_TYPE_DOUBLE) {
    sl_buf_printf(jp->out, "%llu", (unsigned long long)bits);
  } else if (is_real) {
    sl_value v = SL_VALUE_INIT;
    sl_value_set_real(&v, r);
    sl_json_append_value(jp->out, &v);
  } else {
    sl_buf_printf(jp->out, "%lld", (long long)i);
  }
}

/* Append the JSON of one occurrence w of field f (for repeated scalars
** possibly several values, comma-separated).  *first tracks commas.  0,
** 1 skipped (a wire type the field never has), -1 malformed. */
static int field_json(pb_decoder *d, const sl_pb_field *f, const sl_pb_wire *w, sl_buf *out,
                      int *first, sl_arena *arena, int depth) {
  const sl_pb_schema *s = &d->ctx->schema;
  if (f->type == PROTOBUF_C_TYPE_STRING || f->type == PROTOBUF_C_TYPE_BYTES ||
      f->type == PROTOBUF_C_TYPE_MESSAGE) {
    if (w->wt != 2) return 1;
    if (!*first) sl_buf_putc(out, ',');
    *first = 0;
    if (f->type == PROTOBUF_C_TYPE_STRING) {
      size_t n = w->n;
      const char *t = utf8_text(d, w->z, &n, arena);
      if (!t) return -1;
      sl_json_append_string(out, t, n);
    } else if (f->type == PROTOBUF_C_TYPE_BYTES) {
      append_base64(out, w->z, w->n);
    } else {
      return msg_to_json(d, f->msg, w->z, w->n, out, arena, depth + 1);
    }
    return 0;
  }
  json_put jp = {out, f->type, f->enm >= 0 ? &s->enums[f->enm] : NULL, *first};
  int rc = each_number(f, w, put_json_scalar, &jp);
  *first = jp.first;
  return rc;
}

/* A map entry z[0..n) as `"key":value` (key as a JSON string). */
static int entry_json(pb_decoder *d, const sl_pb_message *em, const uint8_t *z, size_t n,
                      sl_buf *out, int *first, sl_arena *arena, int depth) {
  const uint8_t *p = z, *end = z + n;
  sl_pb_wire w, kw = {0}, vw = {0};
  int rc, hk = 0, hv = 0;
  while ((rc = sl_pb_next(&p, end, &w)) == 1) {
    if (w.number == 1) kw = w, hk = 1;
    if (w.number == 2) vw = w, hv = 1;
  }
  if (rc < 0) return -1;
  if (!*first) sl_buf_putc(out, ',');
  *first = 0;
  const sl_pb_field *kf = &em->fields[0], *vf = &em->fields[1];
  if (!hk) {
    sl_buf_puts(out, kf->type == PROTOBUF_C_TYPE_STRING ? "\"\"" : "\"0\"");
  } else if (kf->type == PROTOBUF_C_TYPE_STRING) {
    int f1 = 1;
    if (field_json(d, kf, &kw, out, &f1, arena, depth) < 0) return -1;
  } else {
    size_t at = out->n;
    int f1 = 1;
    if (field_json(d, kf, &kw, out, &f1, arena, depth) < 0) return -1;
    if (f1) sl_buf_putc(out, '0');
    /* quote the number or bool (at most 20 characters) */
    char num[32];
    size_t k = out->n - at < sizeof num ? out->n - at : sizeof num - 1;
    memcpy(num, out->z + at, k);
    out->n = at;
    sl_buf_putc(out, '"');
    sl_buf_append(out, num, k);
    sl_buf_putc(out, '"');
  }
  sl_buf_putc(out, ':');
  if (!hv) {
    if (vf->type == PROTOBUF_C_TYPE_MESSAGE)
      sl_buf_puts(out, "{}");
    else if (vf->type == PROTOBUF_C_TYPE_STRING || vf->type == PROTOBUF_C_TYPE_BYTES)
      sl_buf_puts(out, "\"\"");
    else if (vf->type == PROTOBUF_C_TYPE_BOOL)
      sl_buf_puts(out, "false");
    else if (vf->type == PROTOBUF_C_TYPE_ENUM) {
      const char *nm = d->ctx->schema.enums[vf->enm].names[0];
      sl_json_append_string(out, nm, strlen(nm));
    } else
      sl_buf_putc(out, '0');
    return 0;
  }
  int f2 = 1;
  if (field_json(d, vf, &vw, out, &f2, arena, depth) < 0) return -1;
  if (f2) sl_buf_puts(out, "null");
  return 0;
}

/* Message mi's bytes z[0..n) as a JSON object of the fields present, in
** declaration order (repeated fields as arrays, maps as objects).  One
** pass collects the known fields, bucketed by field (a counting sort in
** the level's scratch), so that the work is linear in the bytes.  0, or
** -1 malformed. */
static int msg_to_json(pb_decoder *d, int mi, const uint8_t *z, size_t n, sl_buf *out,
                       sl_arena *arena, int depth) {
  if (depth > MAX_NEST) return -1;
  const sl_pb_message *m = &d->ctx->schema.msgs[mi];
  const uint8_t *p = z, *end = z + n;
  json_level *L = &d->lvl[depth];
  size_t ne = 0;
  sl_pb_wire w;
  int rc;
  while ((rc = sl_pb_next(&p, end, &w)) == 1) {
    const sl_pb_field *f = sl_pb_field_by_number(m, w.number);
    if (!f) continue; /* unknown */
    if (ne == L->cap) {
      L->cap = L->cap ? 2 * L->cap : 16;
      L->w = sl_realloc(L->w, sizeof *L->w * L->cap);
      L->fi = sl_realloc(L->fi, sizeof *L->fi * L->cap);
      L->order = sl_realloc(L->order, sizeof *L->order * L->cap);
    }
    L->w[ne] = w;
    L->fi[ne++] = (int)(f - m->fields);
  }
  if (rc < 0) return -1;
  if ((size_t)m->nfield + 1 > L->fcap) {
    L->fcap = (size_t)m->nfield + 1;
    L->start = sl_realloc(L->start, sizeof *L->start * L->fcap);
  }
  memset(L->start, 0, sizeof *L->start * ((size_t)m->nfield + 1));
  for (size_t e = 0; e < ne; e++) /* bucket sizes, then starts */
    L->start[L->fi[e] + 1]++;
  for (int fi = 0; fi < m->nfield; fi++)
    L->start[fi + 1] += L->start[fi];
  for (size_t e = 0; e < ne; e++) /* in wire order within a field; start[fi] moves to its end */
    L->order[L->start[L->fi[e]]++] = e;
  sl_buf_putc(out, '{');
  int firstf = 1;
  for (int fi = 0, from = 0; fi < m->nfield; from = L->start[fi++]) {
    int to = L->start[fi]; /* field fi's occurrences: order[from .. to) */
    if (from == to) continue;
    const sl_pb_field *f = &m->fields[fi];
    const sl_pb_message *em =
        f->type == PROTOBUF_C_TYPE_MESSAGE && d->ctx->schema.msgs[f->msg].map_entry
            ? &d->ctx->schema.msgs[f->msg]
            : NULL;
    int first = 1;
    if (!f->repeated) { /* the last occurrence of the field's wire type */
      const sl_pb_wire *last = NULL;
      for (int k = from; k < to; k++)
        if (L->w[L->order[k]].wt == wire_type_of(f->type)) last = &L->w[L->order[k]];
      if (!last) continue;
      if (!firstf) sl_buf_putc(out, ',');
      sl_json_append_string(out, f->name, strlen(f->name));
      sl_buf_putc(out, ':');
      if (field_json(d, f, last, out, &first, arena, depth) < 0) return -1;
      firstf = 0;
      continue;
    }
    if (!firstf) sl_buf_putc(out, ',');
    sl_json_append_string(out, f->name, strlen(f->name));
    sl_buf_putc(out, ':');
    sl_buf_putc(out, em ? '{' : '[');
    for (int k = from; k < to; k++) {
      const sl_pb_wire *x = &L->w[L->order[k]];
      int r = em ? (x->wt == 2 ? entry_json(d, em, x->z, x->n, out, &first, arena, depth) : 0)
                 : field_json(d, f, x, out, &first, arena, depth);
      if (r < 0) return -1;
    }
    sl_buf_putc(out, em ? '}' : ']');
    firstf = 0;
  }
  sl_buf_putc(out, '}');
  return 0;
}

/* Copy text z[0..n) into the arena as a JSON-flagged TEXT value. */
static void json_value(sl_value *v, const char *z, size_t n, sl_arena *arena) {
  char *p = sl_arena_alloc(arena, n + 1);
  memcpy(p, z, n);
  p[n] = 0;
  sl_value_borrow_text(v, p, n, SL_F_TERM | SL_F_JSON);
}

/* The default value of field f (absent from the record, no presence). */
static void default_value(const pb_decoder *d, const sl_pb_field *f, sl_value *v) {
  switch (f->type) {
  case PROTOBUF_C_TYPE_FLOAT:
  case PROTOBUF_C_TYPE_DOUBLE: sl_value_set_real(v, 0.0); break;
  case PROTOBUF_C_TYPE_STRING: sl_value_borrow_text(v, "", 0, SL_F_TERM); break;
  case PROTOBUF_C_TYPE_BYTES: sl_value_borrow_blob(v, "", 0); break;
  case PROTOBUF_C_TYPE_ENUM: {
    const sl_pb_enum *e = &d->ctx->schema.enums[f->enm];
    const char *nm = sl_pb_enum_name(e, 0);
    if (!nm) nm = e->names[0];
    sl_value_borrow_text(v, nm, strlen(nm), SL_F_TERM);
    break;
  }
  case PROTOBUF_C_TYPE_MESSAGE: sl_value_set_null(v); break;
  default: sl_value_set_int(v, 0); break;
  }
}

static int pb_decode(sl_decoder *dd, const char *rec, size_t len, sl_value *row, sl_arena *arena,
                     const char **why) {
  pb_decoder *d = (pb_decoder *)dd;
  if (d->ncol < 0) map_columns(d);
  const uint8_t *p = (const uint8_t *)rec, *end = p + len;
  if (d->ctx->delimited) {
    uint64_t n;
    if (sl_pb_varint(&p, end, &n) || n != (uint64_t)(end - p)) {
      *why = "protobuf: the length prefix does not match the message (cut short or corrupt)";
      return -1;
    }
  }
  const sl_pb_schema *s = &d->ctx->schema;
  memset(d->set, 0, (size_t)d->ncol);
  sl_pb_wire w;
  int rc;
  while ((rc = sl_pb_next(&p, end, &w)) == 1) {
    const sl_pb_field *f = sl_pb_field_by_number(d->m, w.number);
    if (!f) continue; /* unknown field */
    int c = d->col_of[f - d->m->fields];
    if (c < 0) continue;
    sl_value *v = &row[c];
    col_acc *a = &d->acc[c];
    if (f->repeated) {
      if (!d->set[c]) {
        d->set[c] = 1;
        a->n = 0;
        a->count = 0;
        sl_buf_reset(&a->json);
      }
      if (d->vec[c]) {
        if (w.wt == 2 && (f->type == PROTOBUF_C_TYPE_FLOAT || f->type == PROTOBUF_C_TYPE_DOUBLE)) {
          /* packed floats or doubles (a feature vector): straight in */
          size_t sz = f->type == PROTOBUF_C_TYPE_FLOAT ? 4 : 8, k = w.n / sz;
          if (w.n % sz) {
            *why = "protobuf: a malformed packed field";
            return -1;
          }
          if (a->n + k > a->cap) {
            a->cap = a->n + k > 2 * a->cap ? a->n + k : 2 * a->cap;
            a->v = sl_realloc(a->v, sizeof(double) * a->cap);
          }
          const uint8_t *q = w.z;
          for (size_t j = 0; j < k; j++, q += sz) { /* little-endian bytes, any host */
            if (sz == 4) {
              uint32_t b = (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 |
                           (uint32_t)q[3] << 24;
              float x;
              memcpy(&x, &b, 4);
              a->v[a->n++] = x;
            } else {
              uint64_t b = 0;
              for (int t = 7; t >= 0; t--)
                b = b << 8 | q[t];
              memcpy(&a->v[a->n++], &b, 8);
            }
          }
          continue;
        }
        num_put np = {a, f->type};
        if (each_number(f, &w, put_vector, &np) < 0) {
          *why = "protobuf: a malformed packed field";
          return -1;
        }
        continue;
      }
      int first = a->count == 0;
      const sl_pb_message *em =
          f->type == PROTOBUF_C_TYPE_MESSAGE && s->msgs[f->msg].map_entry ? &s->msgs[f->msg] : NULL;
      int r = em ? (w.wt == 2 ? entry_json(d, em, w.z, w.n, &a->json, &first, arena, 1) : 1)
                 : field_json(d, f, &w, &a->json, &first, arena, 1);
      if (r < 0) {
        *why = "protobuf: a malformed nested message or invalid UTF-8 in a string";
        return -1;
      }
      a->count = !first;
      continue;
    }
    if (w.wt != wire_type_of(f->type)) continue; /* not this field's wire type: skipped */
    d->set[c] = 1;
    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING: {
      size_t n = w.n;
      const char *t = utf8_text(d, w.z, &n, arena);
      if (!t) {
        *why = "protobuf: invalid UTF-8 in a string field (invalid_utf8 = 'reject')";
        return -1;
      }
      sl_value_borrow_text(v, t, n, 0);
      break;
    }
    case PROTOBUF_C_TYPE_BYTES: sl_value_borrow_blob(v, w.z, w.n); break;
    case PROTOBUF_C_TYPE_MESSAGE:
      sl_buf_reset(&d->tmp);
      if (msg_to_json(d, f->msg, w.z, w.n, &d->tmp, arena, 1)) {
        *why = "protobuf: a malformed nested message";
        return -1;
      }
      json_value(v, d->tmp.z, d->tmp.n, arena);
      break;
    case PROTOBUF_C_TYPE_ENUM: {
      const char *nm = sl_pb_enum_name(&s->enums[f->enm], (int32_t)w.v);
      if (nm)
        sl_value_borrow_text(v, nm, strlen(nm), SL_F_TERM);
      else
        sl_value_set_int(v, (int32_t)w.v);
      break;
    }
    default: {
      int64_t i;
      double r;
      int is_real;
      scalar_of(f->type, w.v, &i, &r, &is_real);
      if (is_real)
        sl_value_set_real(v, r);
      else
        sl_value_set_int(v, i);
    }
    }
  }
  if (rc < 0) {
    *why = "protobuf: malformed message (a bad tag, or a field cut short)";
    return -1;
  }
  for (int c = 0; c < d->ncol; c++) {
    sl_value *v = &row[c];
    int fi = d->field_of[c];
    if (fi < 0) {
      sl_value_set_null(v);
      continue;
    }
    const sl_pb_field *f = &d->m->fields[fi];
    col_acc *a = &d->acc[c];
    if (f->repeated) {
      int vec = d->vec[c];
      if (!d->set[c]) {
        a->n = 0;
        sl_buf_reset(&a->json);
      }
      if (vec) {
        double *x = sl_arena_alloc(arena, sizeof(double) * (a->n ? a->n : 1));
        if (a->n) memcpy(x, a->v, sizeof(double) * a->n);
        sl_value_borrow_vector(v, x, a->n);
      } else {
        int map = f->type == PROTOBUF_C_TYPE_MESSAGE && s->msgs[f->msg].map_entry;
        char *z = sl_arena_alloc(arena, a->json.n + 3);
        z[0] = map ? '{' : '[';
        if (a->json.n) memcpy(z + 1, a->json.z, a->json.n);
        z[a->json.n + 1] = map ? '}' : ']';
        z[a->json.n + 2] = 0;
        sl_value_borrow_text(v, z, a->json.n + 2, SL_F_TERM | SL_F_JSON);
      }
    } else if (!d->set[c]) {
      if (f->presence)
        sl_value_set_null(v);
      else
        default_value(d, f, v);
    }
    /* a declared column of another type: its affinity */
    sl_affinity aff = d->schema->cols[c].aff;
    if (aff == SL_AFF_TEXT)
      sl_value_text_in(v, arena);
    else if (aff != SL_AFF_NONE && v->type == SL_TEXT && !(v->flags & SL_F_JSON))
      sl_value_apply_affinity(v, aff);
  }
  return 0;
}

/* ---- encoding ------------------------------------------------------------ */

typedef struct pb_encoder {
  const pb_ctx *ctx;
  const sl_pb_message *m;
  int ncol;
  int *field_of;             /* column -> field index */
  sl_buf nest[MAX_NEST + 1]; /* a buffer per nesting level */
  /* per nesting level: a member's value (json_to_msg) and an element's or
  ** a map value's (json_scalar), reused from row to row */
  sl_value member[MAX_NEST + 2];
  sl_value elem[MAX_NEST + 2];
  sl_buf bytes; /* a map key unescaped, or bytes from base64 */
} pb_encoder;

static sl_encoder *pb_encoder_new(int ncol, const char *const *names, const sl_fmt_opts *opts,
                                  sl_err *err) {
  const pb_ctx *c = opts->ctx;
  if (!c) {
    sl_err_set(err, SL_EINTERNAL, "protobuf: no schema");
    return NULL;
  }
  const sl_pb_message *m = &c->schema.msgs[c->msg];
  int *fo = sl_malloc(sizeof(int) * (size_t)(ncol + 1));
  for (int i = 0; i < ncol; i++) {
    fo[i] = field_index(m, names[i], strlen(names[i]));
    if (fo[i] < 0) {
      sl_err_set(err, SL_EBIND,
                 "output column %s: message %s has no such field (name it AS one "
                 "of its fields)",
                 names[i], m->name);
      free(fo);
      return NULL;
    }
  }
  pb_encoder *e = sl_calloc(1, sizeof *e);
  e->ctx = c;
  e->m = m;
  e->ncol = ncol;
  e->field_of = fo;
  return (sl_encoder *)e;
}

static void pb_encoder_free(sl_encoder *ee) {
  pb_encoder *e = (pb_encoder *)ee;
  for (int i = 0; i <= MAX_NEST; i++)
    sl_buf_free(&e->nest[i]);
  for (int i = 0; i < MAX_NEST + 2; i++) {
    sl_value_free(&e->member[i]);
    sl_value_free(&e->elem[i]);
  }
  sl_buf_free(&e->bytes);
  free(e->field_of);
  free(e);
}

static void put_varint(sl_buf *b, uint64_t v) {
  char t[10];
  int n = 0;
  do {
    t[n++] = (char)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
    v >>= 7;
  } while (v);
  sl_buf_append(b, t, (size_t)n);
}

static void put_tag(sl_buf *b, uint32_t num, int wt) {
  put_varint(b, (uint64_t)num << 3 | (uint64_t)wt);
}

static void put_fixed(sl_buf *b, uint64_t v, int bytes) {
  char t[8];
  for (int i = 0; i < bytes; i++)
    t[i] = (char)(v >> (8 * i));
  sl_buf_append(b, t, (size_t)bytes);
}

/* The wire bits of a numeric value v for type t (enum: v's number or name
** in e).  0, or -1 when v has none (an unknown enum name). */
static int bits_of(ProtobufCType t, const sl_pb_enum *e, sl_value *v, uint64_t *out) {
  if (t == PROTOBUF_C_TYPE_ENUM && v->type == SL_TEXT) {
    int32_t num;
    if (sl_pb_enum_number(e, v->u.z, v->n, &num)) {
      sl_value nv = SL_VALUE_INIT;
      sl_value_numerify(v, &nv);
      if (nv.type != SL_INTEGER) return -1;
      num = (int32_t)nv.u.i;
    }
    *out = (uint64_t)(int64_t)num;
    return 0;
  }
  if (t == PROTOBUF_C_TYPE_FLOAT) {
    float f = (float)sl_value_as_real(v);
    uint32_t b;
    memcpy(&b, &f, 4);
    *out = b;
    return 0;
  }
  if (t == PROTOBUF_C_TYPE_DOUBLE) {
    double r = sl_value_as_real(v);
    memcpy(out, &r, 8);
    return 0;
  }
  if (t == PROTOBUF_C_TYPE_BOOL) {
    *out = sl_value_truth(v) == 1;
    return 0;
  }
  int64_t i;
  if ((t == PROTOBUF_C_TYPE_UINT64 || t == PROTOBUF_C_TYPE_FIXED64) && v->type == SL_REAL &&
      v->u.r >= 9223372036854775808.0)
    i = v->u.r >= 18446744073709551615.0 ? -1 : (int64_t)(uint64_t)v->u.r;
  else
    i = sl_value_as_int(v);
  switch (t) {
  case PROTOBUF_C_TYPE_SINT32: {
    int32_t x = (int32_t)i;
    *out = (uint32_t)((uint32_t)x << 1) ^ (uint32_t)(x >> 31);
    break;
  }
  case PROTOBUF_C_TYPE_SINT64: *out = ((uint64_t)i << 1) ^ (uint64_t)(i >> 63); break;
  case PROTOBUF_C_TYPE_INT32: *out = (uint64_t)(int64_t)(int32_t)i; break;
  case PROTOBUF_C_TYPE_UINT32:
  case PROTOBUF_C_TYPE_FIXED32:
  case PROTOBUF_C_TYPE_SFIXED32: *out = (uint32_t)i; break;
  default: *out = (uint64_t)i; break;
  }
  return 0;
}

/* Append a number's bits as the field's unpacked wire value (no tag). */
static void put_bits(sl_buf *b, ProtobufCType t, uint64_t bits) {
  int wt = wire_type_of(t);
  if (wt == 0)
    put_varint(b, bits);
  else
    put_fixed(b, bits, wt == 1 ? 8 : 4);
}

static int json_to_msg(pb_encoder *e, int mi, const char *z, size_t n, int depth);

static size_t base64_decode(const char *z, size_t n, uint8_t *out) {
  size_t o = 0;
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < n; i++) {
    const char *p = z[i] ? strchr(b64, z[i]) : NULL;
    int v = p ? (int)(p - b64) : z[i] == '-' ? 62 : z[i] == '_' ? 63 : -1;
    if (v < 0) continue; /* '=' and anything else */
    acc = acc << 6 | (uint32_t)v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (uint8_t)(acc >> bits);
    }
  }
  return o;
}

/* Append one value v of field f (tag and value; not packed) to level
** depth's buffer.  from_json: v came from JSON (bytes are base64, a message
** is an object).  Skipped when it cannot be one (bad JSON, unknown enum). */
static void put_value(pb_encoder *e, const sl_pb_field *f, sl_value *v, int from_json, int depth) {
  sl_buf *b = &e->nest[depth];
  const sl_pb_schema *s = &e->ctx->schema;
  switch (f->type) {
  case PROTOBUF_C_TYPE_STRING:
  case PROTOBUF_C_TYPE_BYTES: {
    size_t n = 0;
    const char *z;
    char num[40];
    if (v->type == SL_TEXT || v->type == SL_BLOB) {
      z = v->u.z;
      n = v->n;
    } else if (v->type == SL_INTEGER) {
      n = (size_t)snprintf(num, sizeof num, "%lld", (long long)v->u.i);
      z = num;
    } else if (v->type == SL_REAL) {
      n = (size_t)sl_real_to_text(v->u.r, num);
      z = num;
    } else {
      return; /* a vector for a string: skipped */
    }
    put_tag(b, f->number, 2);
    if (f->type == PROTOBUF_C_TYPE_BYTES && from_json && v->type == SL_TEXT) {
      sl_buf_reset(&e->bytes);
      sl_buf_reserve(&e->bytes, n + 1);
      size_t k = base64_decode(z, n, (uint8_t *)e->bytes.z);
      put_varint(b, k);
      sl_buf_append(b, e->bytes.z, k);
      return;
    }
    put_varint(b, n);
    sl_buf_append(b, z, n);
    return;
  }
  case PROTOBUF_C_TYPE_MESSAGE: {
    if (v->type != SL_TEXT || depth >= MAX_NEST) return;
    if (json_to_msg(e, f->msg, v->u.z, v->n, depth + 1)) return;
    sl_buf *inner = &e->nest[depth + 1];
    put_tag(b, f->number, 2);
    put_varint(b, inner->n);
    sl_buf_append(b, inner->z, inner->n);
    return;
  }
  default: {
    uint64_t bits;
    if (v->type == SL_NULL || v->type == SL_VECTOR || v->type == SL_BLOB) return;
    if (bits_of(f->type, f->enm >= 0 ? &s->enums[f->enm] : NULL, v, &bits)) return;
    put_tag(b, f->number, wire_type_of(f->type));
    put_bits(b, f->type, bits);
  }
  }
}

/* 1 when v is the default of a field without presence (then not written). */
static int is_default(const pb_encoder *e, const sl_pb_field *f, sl_value *v) {
  switch (v->type) {
  case SL_INTEGER: return v->u.i == 0 && f->type != PROTOBUF_C_TYPE_ENUM;
  case SL_REAL: return v->u.r == 0 && !signbit(v->u.r);
  case SL_TEXT:
    if (f->type == PROTOBUF_C_TYPE_ENUM) {
      int32_t num;
      return !sl_pb_enum_number(&e->ctx->schema.enums[f->enm], v->u.z, v->n, &num) && num == 0;
    }
    return v->n == 0 && f->type != PROTOBUF_C_TYPE_MESSAGE;
  case SL_BLOB: return v->n == 0;
  default: return 0;
  }
}

/* A JSON value z[0..n) of kind k as a value in out (arrays and objects
** as their text, borrowed; strings unescaped into out's buffer). */
static sl_value *json_scalar(sl_value *out, const char *z, size_t n, sl_json_kind k) {
  if (k == SL_JSON_ARRAY || k == SL_JSON_OBJECT) {
    sl_value_borrow_text(out, z, n, SL_F_JSON);
    return out;
  }
  if (sl_json_to_value(z, n, out, NULL)) sl_value_set_null(out);
  return out;
}

/* Element x of a VECTOR as the value of a field of type t: REAL for
** floating types and unsigned 64-bit values over INT64_MAX, else INTEGER
** (saturated). */
static void vector_elem(ProtobufCType t, double x, sl_value *out) {
  sl_value_set_real(out, x);
  if (t == PROTOBUF_C_TYPE_FLOAT || t == PROTOBUF_C_TYPE_DOUBLE) return;
  if (x >= 9223372036854775808.0 && (t == PROTOBUF_C_TYPE_UINT64 || t == PROTOBUF_C_TYPE_FIXED64))
    return;
  sl_value_set_int(out, sl_value_as_int(out));
}

/* Field f's values from a list: a VECTOR, or a JSON array (TEXT); anything
** else is one value. */
static void put_repeated(pb_encoder *e, const sl_pb_field *f, sl_value *v, int from_json,
                         int depth) {
  sl_buf *b = &e->nest[depth];
  const sl_pb_schema *s = &e->ctx->schema;
  const sl_pb_message *em =
      f->type == PROTOBUF_C_TYPE_MESSAGE && s->msgs[f->msg].map_entry ? &s->msgs[f->msg] : NULL;
  if (em) { /* a JSON object: one entry per member */
    if (v->type != SL_TEXT || depth + 1 >= MAX_NEST) return;
    const char *z = v->u.z;
    size_t n = v->n, i = sl_json_ws(z, n, 0);
    if (i >= n || z[i] != '{') return;
    i++;
    const char *key;
    size_t klen, vs, ve;
    int kesc;
    sl_json_kind k;
    while (sl_json_member(z, n, &i, &key, &klen, &kesc, &vs, &ve, &k) == 1) {
      sl_buf *eb = &e->nest[depth + 1];
      sl_buf_reset(eb);
      /* the key: as text, or as a number for integer keys */
      sl_value kv = SL_VALUE_INIT;
      sl_buf_reset(&e->bytes);
      sl_buf_reserve(&e->bytes, klen + 1);
      char *kz = e->bytes.z;
      size_t kn = kesc ? sl_json_unescape(key, klen, kz) : (memcpy(kz, key, klen), klen);
      if (kn == (size_t)-1) kn = 0;
      sl_value_borrow_text(&kv, kz, kn, 0);
      if (em->fields[0].type == PROTOBUF_C_TYPE_BOOL)
        sl_value_set_int(&kv, kn == 4 && !memcmp(kz, "true", 4));
      else if (em->fields[0].type != PROTOBUF_C_TYPE_STRING)
        sl_value_numerify(&kv, &kv);
      put_value(e, &em->fields[0], &kv, 0, depth + 1);
      sl_value *val = json_scalar(&e->elem[depth + 1], z + vs, ve - vs, k);
      if (val->type != SL_NULL) put_value(e, &em->fields[1], val, 1, depth + 1);
      put_tag(b, f->number, 2);
      put_varint(b, eb->n);
      sl_buf_append(b, eb->z, eb->n);
    }
    return;
  }
  if (v->type == SL_VECTOR && f->type != PROTOBUF_C_TYPE_STRING &&
      f->type != PROTOBUF_C_TYPE_BYTES && f->type != PROTOBUF_C_TYPE_MESSAGE) {
    if (!v->n) return;
    sl_value x = SL_VALUE_INIT;
    if (f->packed) {
      sl_buf *pb = &e->nest[depth + 1 <= MAX_NEST ? depth + 1 : depth];
      if (pb == b) return;
      sl_buf_reset(pb);
      for (uint32_t i = 0; i < v->n; i++) {
        uint64_t bits;
        vector_elem(f->type, v->u.v[i], &x);
        if (bits_of(f->type, NULL, &x, &bits)) continue;
        put_bits(pb, f->type, bits);
      }
      put_tag(b, f->number, 2);
      put_varint(b, pb->n);
      sl_buf_append(b, pb->z, pb->n);
    } else {
      for (uint32_t i = 0; i < v->n; i++) {
        vector_elem(f->type, v->u.v[i], &x);
        put_value(e, f, &x, 0, depth);
      }
    }
    return;
  }
  if (v->type == SL_TEXT) {
    const char *z = v->u.z;
    size_t n = v->n, i = sl_json_ws(z, n, 0);
    if (i < n && z[i] == '[') {
      i++;
      size_t vs, ve;
      sl_json_kind k;
      /* elements are written unpacked: every reader accepts both */
      while (sl_json_element(z, n, &i, &vs, &ve, &k) == 1) {
        sl_value *val = json_scalar(&e->elem[depth], z + vs, ve - vs, k);
        if (val->type != SL_NULL) put_value(e, f, val, 1, depth);
      }
      return;
    }
  }
  if (v->type != SL_NULL) put_value(e, f, v, from_json, depth);
}

/* Encode the JSON object z[0..n) as message mi into nest[depth] (reset
** first).  0, or -1 when it is not an object. */
static int json_to_msg(pb_encoder *e, int mi, const char *z, size_t n, int depth) {
  const sl_pb_message *m = &e->ctx->schema.msgs[mi];
  sl_buf_reset(&e->nest[depth]);
  size_t i = sl_json_ws(z, n, 0);
  if (i >= n || z[i] != '{') return -1;
  i++;
  const char *key;
  size_t klen, vs, ve;
  int kesc;
  sl_json_kind k;
  int r;
  while ((r = sl_json_member(z, n, &i, &key, &klen, &kesc, &vs, &ve, &k)) == 1) {
    if (kesc) continue;
    int fi = field_index(m, key, klen);
    if (fi < 0 || k == SL_JSON_NULL) continue;
    const sl_pb_field *f = &m->fields[fi];
    sl_value *val = json_scalar(&e->member[depth], z + vs, ve - vs, k);
    if (val->type == SL_NULL) continue;
    if (f->repeated)
      put_repeated(e, f, val, 1, depth);
    else
      put_value(e, f, val, 1, depth);
  }
  return r < 0 ? -1 : 0;
}

/* Append row as one message (with its length prefix when delimited). */
static void pb_encode(sl_encoder *ee, sl_value *row, sl_buf *out) {
  pb_encoder *e = (pb_encoder *)ee;
  sl_buf *b = &e->nest[0];
  sl_buf_reset(b);
  for (int c = 0; c < e->ncol; c++) {
    sl_value *v = &row[c];
    const sl_pb_field *f = &e->m->fields[e->field_of[c]];
    if (v->type == SL_NULL) continue;
    if (f->repeated) {
      put_repeated(e, f, v, 0, 0);
      continue;
    }
    if (!f->presence && is_default(e, f, v)) continue;
    put_value(e, f, v, 0, 0);
  }
  if (e->ctx->delimited) put_varint(out, b->n);
  sl_buf_append(out, b->z, b->n);
}

const sl_format sl_fmt_protobuf = {"protobuf",      pb_frame,       pb_decoder_new, pb_decode,
                                   pb_decoder_free, pb_encoder_new, NULL,           pb_encode,
                                   pb_encoder_free, pb_configure,   pb_ctx_free,    1};
