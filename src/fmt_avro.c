/*
** fmt_avro.c - the Avro record format (docs/avro.md): one Avro binary
** record per Kafka message, with a writer schema from a file (schema =>)
** or, in the Confluent wire format (a 0 byte, a 4-byte big-endian schema
** id, the record), from a schema registry (registry =>); a reader schema
** (reader_schema =>) reads records written with older or newer schemas.
**
** Columns are the reader record's fields (format.h's configure): int, long
** and boolean INTEGER; float and double REAL; string and enum TEXT; bytes
** and fixed BLOB; an array of numbers a VECTOR; records, maps and other
** arrays TEXT holding JSON; a union of null and one type that type, NULL
** when null.
**
** The decoder reads the binary encoding itself, driven by the resolution
** of writer against reader (avro_schema.c), straight into the row: strings
** and bytes borrow the record's bytes, vectors and JSON text go to the
** batch's arena; nothing is allocated per record.  Every length and count
** is checked against what is left of the record, so a corrupt record is
** rejected with a reason, never read past its end.  With a registry each
** decoder asks for a schema id once and keeps the answer (a failed ask is
** tried again after RETRY_MS; until then records with that id are rejected
** with the failure as their reason).
**
** The encoder writes the output columns into the writer schema's fields,
** matched by name; a sink without schema => writes a schema derived from
** the columns (each field a union of null, long, double, string, bytes and
** an array of doubles, the branch chosen by each value's type).  With a
** registry it registers its schema once, when the sink opens, under
** subject => (default "<topic>-value"), and writes the id it gets.
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avro_types.h"
#include "connector.h"
#include "format.h"
#include "json.h"

#define MAX_DEPTH 100         /* nesting of the data (recursive schemas) */
#define ITEM_BUDGET (1 << 22) /* array and map items of one record, at most */
#define RETRY_MS 5000         /* a registry ask that failed is tried again after this */

/* What configure() made of the options (fo->ctx). */
typedef struct avro_ctx {
  int sink;
  av_schema *schema; /* schema =>: the writer's (owned), or NULL */
  av_schema *reader; /* a source's reader schema (owned unless == schema) */
  av_resolver *res;  /* a source without registry: schema read as reader */
  char *registry;    /* registry => (owned), or NULL */
  char *subject;     /* the registry subject (owned), or NULL */
  sl_value *rdflt;   /* per reader field, its default as a value (owned) */
  int declared;      /* the source's columns were declared: apply their affinity */
} avro_ctx;

/* Free what configure() made (format.h ctx_free); NULL is nothing. */
static void ctx_free(void *p) {
  avro_ctx *x = p;
  if (!x) return;
  if (x->rdflt) {
    for (int i = 0; x->reader && i < x->reader->root->n; i++)
      sl_value_free(&x->rdflt[i]);
    free(x->rdflt);
  }
  av_resolver_free(x->res);
  if (x->reader != x->schema) av_schema_free(x->reader);
  av_schema_free(x->schema);
  free(x->registry);
  free(x->subject);
  free(x);
}

/* ---- reading the binary encoding ------------------------------------------ */

typedef struct cur {
  const uint8_t *p, *end;
  const char *why; /* the first failure */
  int depth;
  int64_t budget; /* items left */
} cur;

/* Note why c failed (the first reason stays); returns -1. */
static int fail(cur *c, const char *why) {
  if (!c->why) c->why = why;
  return -1;
}

/* A zigzag varint. */
static inline int rd_long(cur *c, int64_t *out) {
  const uint8_t *p = c->p;
  if (p < c->end && *p < 0x80) { /* one byte: most lengths, counts, small numbers */
    uint64_t v = *p;
    c->p = p + 1;
    *out = (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
    return 0;
  }
  uint64_t v = 0;
  for (int shift = 0;; shift += 7) {
    if (shift > 63) return fail(c, "a varint longer than 10 bytes");
    if (p >= c->end) return fail(c, "the record ends inside a number");
    uint8_t b = *p++;
    v |= (uint64_t)(b & 0x7f) << shift;
    if (!(b & 0x80)) break;
  }
  c->p = p;
  *out = (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
  return 0;
}

/* An int: a varint that must fit in 32 bits. */
static inline int rd_int(cur *c, int64_t *out) {
  if (rd_long(c, out)) return -1;
  if (*out < INT32_MIN || *out > INT32_MAX) return fail(c, "an int out of 32-bit range");
  return 0;
}

/* A length of bytes that follow: not negative, not past the end. */
static inline int rd_len(cur *c, int64_t *n) {
  if (rd_long(c, n)) return -1;
  if (*n < 0) return fail(c, "a negative length");
  if (*n > c->end - c->p) return fail(c, "a length past the end of the record");
  return 0;
}

/* n bytes at *z (borrowed from the record), or a failure past its end. */
static inline int rd_fixed(cur *c, size_t n, const uint8_t **z) {
  if ((size_t)(c->end - c->p) < n) return fail(c, "the record ends too soon");
  *z = c->p;
  c->p += n;
  return 0;
}

/* A float (4 bytes, little-endian) as the double it is. */
static inline int rd_float(cur *c, double *r) {
  const uint8_t *z;
  if (rd_fixed(c, 4, &z)) return -1;
  uint32_t u = (uint32_t)z[0] | (uint32_t)z[1] << 8 | (uint32_t)z[2] << 16 | (uint32_t)z[3] << 24;
  float f;
  memcpy(&f, &u, 4);
  *r = f;
  return 0;
}

/* A double (8 bytes, little-endian). */
static inline int rd_double(cur *c, double *r) {
  const uint8_t *z;
  if (rd_fixed(c, 8, &z)) return -1;
  uint64_t u = 0;
  for (int i = 7; i >= 0; i--)
    u = u << 8 | z[i];
  memcpy(r, &u, 8);
  return 0;
}

/* The item count of the next block of an array or map (0 at the end), its
** byte size skipped; checked against what is left and the item budget. */
static int rd_block(cur *c, const av_type *items, int64_t *count) {
  if (rd_long(c, count)) return -1;
  if (*count < 0) {
    int64_t size;
    if (*count == INT64_MIN) return fail(c, "a bad block count");
    *count = -*count;
    if (rd_long(c, &size)) return -1;
  }
  if (items->minsz > 0 && *count > (c->end - c->p) / items->minsz)
    return fail(c, "an item count past the end of the record");
  if ((c->budget -= *count) < 0) return fail(c, "too many array or map items in one record");
  return 0;
}

static int skip(const av_type *t, cur *c);

/* Step over the blocks of an array or map of type t (blocks that give
** their size in bytes are jumped over whole). */
static int skip_blocks(const av_type *t, cur *c) {
  for (;;) {
    int64_t n, size = -1;
    if (rd_long(c, &n)) return -1;
    if (n == 0) return 0;
    if (n < 0) {
      if (n == INT64_MIN || rd_long(c, &size)) return fail(c, "a bad block count");
      if (size >= 0 && size <= c->end - c->p) { /* the block's size: jump over it */
        c->p += size;
        continue;
      }
      n = -n;
    }
    if (t->items->minsz > 0 && n > (c->end - c->p) / t->items->minsz)
      return fail(c, "an item count past the end of the record");
    if ((c->budget -= n) < 0) return fail(c, "too many array or map items in one record");
    for (int64_t i = 0; i < n; i++) {
      int64_t k;
      if (t->kind == AV_MAP && (rd_len(c, &k) || (c->p += k, 0))) return -1;
      if (skip(t->items, c)) return -1;
    }
  }
}

/* Step over a value of writer type t. */
static int skip(const av_type *t, cur *c) {
  int64_t n;
  const uint8_t *z;
  double r;
  switch (t->kind) {
  case AV_NULL: return 0;
  case AV_BOOLEAN: return rd_fixed(c, 1, &z);
  case AV_INT:
  case AV_LONG:
  case AV_ENUM: return rd_long(c, &n);
  case AV_FLOAT: return rd_float(c, &r);
  case AV_DOUBLE: return rd_double(c, &r);
  case AV_BYTES:
  case AV_STRING:
    if (rd_len(c, &n)) return -1;
    c->p += n;
    return 0;
  case AV_FIXED: return rd_fixed(c, (size_t)t->size, &z);
  default: break;
  }
  if (++c->depth > MAX_DEPTH) return fail(c, "nested deeper than 100 levels");
  int rc = 0;
  if (t->kind == AV_RECORD) {
    for (int i = 0; i < t->n && !rc; i++)
      rc = skip(t->fields[i].type, c);
  } else if (t->kind == AV_UNION) {
    if (rd_long(c, &n)) return -1;
    if (n < 0 || n >= t->n) return fail(c, "a union branch out of range");
    rc = skip(t->branch[n], c);
  } else {
    rc = skip_blocks(t, c);
  }
  c->depth--;
  return rc;
}

/* ---- the decoder ------------------------------------------------------------ */

/* A schema id seen in the registry's wire format. */
typedef struct id_entry {
  int32_t id;
  av_schema *w;     /* the writer schema (owned) */
  av_resolver *rs;  /* w read as the reader schema (owned) */
  char *why;        /* the ask failed: why (owned) */
  int64_t retry_at; /* ... and when to ask again (ms; 0: never) */
} id_entry;

typedef struct avro_decoder {
  const avro_ctx *x;
  const sl_schema *schema;
  int *colof;  /* per reader field: the column it fills, or -1 */
  sl_buf jb;   /* JSON text being made */
  sl_buf tmp;  /* scratch: repaired text */
  double *vec; /* scratch: a vector being read */
  size_t veccap;
  int utf8_reject;
  av_registry *reg; /* with registry => */
  id_entry *ids;
  int nid, last;
} avro_decoder;

/* Text z[0..n) from the record: when it is not UTF-8, the repaired copy in
** d->tmp (at offset *off) or, utf8_reject, a failure.  Sets *zz. */
static int check_text(avro_decoder *d, cur *c, const char *z, size_t n, const char **zz,
                      size_t *nn) {
  *zz = z;
  *nn = n;
  if (sl_utf8_check(z, n) == n) return 0;
  if (d->utf8_reject) return fail(c, "a string that is not UTF-8 (invalid_utf8 = 'reject')");
  sl_buf_reset(&d->tmp);
  sl_buf_reserve(&d->tmp, 3 * n + 1);
  *nn = sl_utf8_repair(z, n, d->tmp.z);
  *zz = d->tmp.z;
  return 0;
}

/* Append bytes as a JSON string, each byte the code point of its value
** (Avro's JSON encoding of bytes and fixed). */
static void json_bytes(sl_buf *out, const uint8_t *z, size_t n) {
  static const char hex[] = "0123456789abcdef";
  sl_buf_reserve(out, 6 * n + 2);
  char *o = out->z + out->n;
  *o++ = '"';
  for (size_t i = 0; i < n; i++) {
    uint8_t b = z[i];
    if (b >= 0x80) {
      *o++ = (char)(0xC0 | b >> 6);
      *o++ = (char)(0x80 | (b & 0x3f));
    } else if (b == '"' || b == '\\') {
      *o++ = '\\';
      *o++ = (char)b;
    } else if (b < 0x20) {
      memcpy(o, "\\u00", 4);
      o[4] = hex[b >> 4];
      o[5] = hex[b & 15];
      o += 6;
    } else {
      *o++ = (char)b;
    }
  }
  *o++ = '"';
  out->n = (size_t)(o - out->z);
  out->z[out->n] = 0;
}

/* Append v in decimal. */
static void json_int(sl_buf *out, int64_t v) {
  char t[24], *e = t + sizeof t, *p = e;
  uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
  do
    *--p = (char)('0' + u % 10);
  while (u /= 10);
  if (v < 0) *--p = '-';
  sl_buf_append(out, p, (size_t)(e - p));
}

/* Append r as the JSON sink writes a REAL (NaN as null). */
static void json_real(sl_buf *out, double r) {
  sl_value v = SL_VALUE_INIT;
  if (isnan(r))
    sl_buf_puts(out, "null");
  else {
    sl_value_set_real(&v, r);
    sl_json_append_value(out, &v);
  }
}

/* Read a value of x->w and append it as JSON (the reader's view: its field
** names and enum symbols, defaults for fields the writer lacks, a union's
** value without its branch). */
static int dec_json(avro_decoder *d, const av_res *x, cur *c, sl_buf *out) {
  int64_t n;
  double r;
  const uint8_t *z;
  const av_type *w = x->w;
  if (w->kind == AV_UNION) {
    if (rd_long(c, &n)) return -1;
    if (n < 0 || n >= w->n) return fail(c, "a union branch out of range");
    return dec_json(d, x->bres[n], c, out);
  }
  if (x->why) return fail(c, x->why);
  switch (w->kind) {
  case AV_NULL: sl_buf_puts(out, "null"); return 0;
  case AV_BOOLEAN:
    if (rd_fixed(c, 1, &z)) return -1;
    if (*z > 1) return fail(c, "a boolean that is neither 0 nor 1");
    sl_buf_puts(out, *z ? "true" : "false");
    return 0;
  case AV_INT:
  case AV_LONG:
    if (w->kind == AV_INT ? rd_int(c, &n) : rd_long(c, &n)) return -1;
    if (x->r->kind == AV_FLOAT)
      json_real(out, (float)n);
    else if (x->r->kind == AV_DOUBLE)
      json_real(out, (double)n);
    else
      json_int(out, n);
    return 0;
  case AV_FLOAT:
  case AV_DOUBLE:
    if (w->kind == AV_FLOAT ? rd_float(c, &r) : rd_double(c, &r)) return -1;
    json_real(out, r);
    return 0;
  case AV_STRING:
  case AV_BYTES: {
    if (rd_len(c, &n)) return -1;
    const char *s = (const char *)c->p;
    c->p += n;
    if (x->r->kind == AV_BYTES) {
      json_bytes(out, (const uint8_t *)s, (size_t)n);
      return 0;
    }
    const char *t;
    size_t tn;
    if (check_text(d, c, s, (size_t)n, &t, &tn)) return -1;
    sl_json_append_string(out, t, tn);
    return 0;
  }
  case AV_FIXED:
    if (rd_fixed(c, (size_t)w->size, &z)) return -1;
    json_bytes(out, z, (size_t)w->size);
    return 0;
  case AV_ENUM:
    if (rd_long(c, &n)) return -1;
    if (n < 0 || n >= w->n) return fail(c, "an enum index out of range");
    if (x->emap[n] < 0) return fail(c, "an enum symbol the reader schema does not have");
    sl_json_append_string(out, x->r->symbols[x->emap[n]], strlen(x->r->symbols[x->emap[n]]));
    return 0;
  default: break;
  }
  if (++c->depth > MAX_DEPTH) return fail(c, "nested deeper than 100 levels");
  if (w->kind == AV_RECORD) {
    const av_type *rt = x->r;
    int first = 1;
    sl_buf_putc(out, '{');
    for (int i = 0; i < w->n; i++) {
      int k = x->wmap[i];
      if (k < 0) {
        if (skip(w->fields[i].type, c)) return -1;
        continue;
      }
      if (!first) sl_buf_putc(out, ',');
      first = 0;
      sl_json_append_string(out, rt->fields[k].name, strlen(rt->fields[k].name));
      sl_buf_putc(out, ':');
      if (dec_json(d, x->wres[i], c, out)) return -1;
    }
    for (int i = 0; i < x->ndflt; i++) {
      const av_field *f = &rt->fields[x->dflt[i]];
      if (!first) sl_buf_putc(out, ',');
      first = 0;
      sl_json_append_string(out, f->name, strlen(f->name));
      sl_buf_putc(out, ':');
      sl_buf_puts(out, f->dflt);
    }
    sl_buf_putc(out, '}');
  } else { /* array, map */
    int map = w->kind == AV_MAP, first = 1;
    sl_buf_putc(out, map ? '{' : '[');
    for (;;) {
      int64_t cnt;
      if (rd_block(c, w->items, &cnt)) return -1;
      if (!cnt) break;
      for (int64_t i = 0; i < cnt; i++) {
        if (!first) sl_buf_putc(out, ',');
        first = 0;
        if (map) {
          int64_t kn;
          const char *t;
          size_t tn;
          if (rd_len(c, &kn)) return -1;
          const char *k = (const char *)c->p;
          c->p += kn;
          if (check_text(d, c, k, (size_t)kn, &t, &tn)) return -1;
          sl_json_append_string(out, t, tn);
          sl_buf_putc(out, ':');
        }
        if (dec_json(d, x->items, c, out)) return -1;
      }
    }
    sl_buf_putc(out, map ? '}' : ']');
  }
  c->depth--;
  return 0;
}

/* 1 for the numeric kinds (the items of a VECTOR). */
static int is_number(av_kind k) {
  return k == AV_INT || k == AV_LONG || k == AV_FLOAT || k == AV_DOUBLE;
}

static int dec_val(avro_decoder *d, const av_res *x, cur *c, sl_value *out, sl_arena *a);

/* An array of numbers as a VECTOR (an empty one as the JSON text []). */
static int dec_vector(avro_decoder *d, const av_res *x, cur *c, sl_value *out, sl_arena *a) {
  size_t n = 0;
  for (;;) {
    int64_t cnt;
    if (rd_block(c, x->w->items, &cnt)) return -1;
    if (!cnt) break;
    if (n + (size_t)cnt > d->veccap) {
      d->veccap = 2 * (n + (size_t)cnt);
      d->vec = sl_realloc(d->vec, d->veccap * sizeof(double));
    }
    for (int64_t i = 0; i < cnt; i++) {
      sl_value v = SL_VALUE_INIT;
      if (dec_val(d, x->items, c, &v, a)) return -1;
      d->vec[n++] = v.type == SL_INTEGER ? (double)v.u.i : v.u.r;
    }
  }
  if (!n) {
    sl_value_borrow_text(out, "[]", 2, SL_F_TERM | SL_F_JSON);
    return 0;
  }
  if (sl_too_big(n * sizeof(double))) return fail(c, "an array too big");
  double *v = sl_arena_alloc(a, n * sizeof(double));
  memcpy(v, d->vec, n * sizeof(double));
  sl_value_borrow_vector(out, v, n);
  return 0;
}

/* Read a value of x->w into out as a column value (see the file comment). */
static int dec_val(avro_decoder *d, const av_res *x, cur *c, sl_value *out, sl_arena *a) {
  int64_t n;
  double r;
  const uint8_t *z;
  const av_type *w = x->w;
  if (w->kind == AV_UNION) {
    if (rd_long(c, &n)) return -1;
    if (n < 0 || n >= w->n) return fail(c, "a union branch out of range");
    return dec_val(d, x->bres[n], c, out, a);
  }
  if (x->why) return fail(c, x->why);
  switch (w->kind) {
  case AV_NULL: sl_value_set_null(out); return 0;
  case AV_BOOLEAN:
    if (rd_fixed(c, 1, &z)) return -1;
    if (*z > 1) return fail(c, "a boolean that is neither 0 nor 1");
    sl_value_set_int(out, *z);
    return 0;
  case AV_INT:
  case AV_LONG:
    if (w->kind == AV_INT ? rd_int(c, &n) : rd_long(c, &n)) return -1;
    if (x->r->kind == AV_FLOAT)
      sl_value_set_real(out, (float)n);
    else if (x->r->kind == AV_DOUBLE)
      sl_value_set_real(out, (double)n);
    else
      sl_value_set_int(out, n);
    return 0;
  case AV_FLOAT:
    if (rd_float(c, &r)) return -1;
    sl_value_set_real(out, r);
    return 0;
  case AV_DOUBLE:
    if (rd_double(c, &r)) return -1;
    sl_value_set_real(out, r);
    return 0;
  case AV_STRING:
  case AV_BYTES: {
    if (rd_len(c, &n)) return -1;
    const char *s = (const char *)c->p;
    c->p += n;
    if (x->r->kind == AV_BYTES) {
      sl_value_borrow_blob(out, s, (size_t)n);
      return 0;
    }
    const char *t;
    size_t tn;
    if (check_text(d, c, s, (size_t)n, &t, &tn)) return -1;
    if (t != s) t = sl_arena_strndup(a, t, tn);
    sl_value_borrow_text(out, t, tn, t != s ? SL_F_TERM : 0);
    return 0;
  }
  case AV_FIXED:
    if (rd_fixed(c, (size_t)w->size, &z)) return -1;
    sl_value_borrow_blob(out, z, (size_t)w->size);
    return 0;
  case AV_ENUM: {
    if (rd_long(c, &n)) return -1;
    if (n < 0 || n >= w->n) return fail(c, "an enum index out of range");
    if (x->emap[n] < 0) return fail(c, "an enum symbol the reader schema does not have");
    const char *s = x->r->symbols[x->emap[n]];
    sl_value_borrow_text(out, s, strlen(s), SL_F_TERM);
    return 0;
  }
  case AV_ARRAY:
    if (is_number(x->r->items->kind)) return dec_vector(d, x, c, out, a);
    break;
  default: break;
  }
  sl_buf_reset(&d->jb);
  if (dec_json(d, x, c, &d->jb)) return -1;
  sl_value_borrow_text(out, sl_arena_strndup(a, d->jb.z, d->jb.n), d->jb.n, SL_F_TERM | SL_F_JSON);
  return 0;
}

/* The resolution for records written with schema id (asked of the
** registry the first time, then kept); NULL with *why set. */
static const av_res *by_id(avro_decoder *d, int32_t id, const char **why) {
  id_entry *e = NULL;
  if (d->last < d->nid && d->ids[d->last].id == id)
    e = &d->ids[d->last];
  else
    for (int i = 0; i < d->nid; i++)
      if (d->ids[i].id == id) {
        e = &d->ids[i];
        d->last = i;
      }
  if (e && e->why && e->retry_at && sl_clock_ms() >= e->retry_at) {
    free(e->why);
    e->why = NULL;
  } else if (e) {
    *why = e->why;
    return e->why ? NULL : e->rs->top;
  }
  if (!e) {
    d->ids = sl_realloc(d->ids, sizeof(*d->ids) * (size_t)(d->nid + 1));
    d->last = d->nid;
    e = &d->ids[d->nid++];
    memset(e, 0, sizeof *e);
    e->id = id;
  }
  sl_err err = {0};
  sl_buf text;
  sl_buf_init(&text);
  if (!d->reg) d->reg = av_registry_new(d->x->registry);
  if (av_registry_get(d->reg, id, &text, &err)) {
    e->why = sl_mprintf("schema id %d: %s", (int)id, err.msg);
    e->retry_at = sl_clock_ms() + RETRY_MS;
  } else if (!(e->w = av_schema_parse(text.z ? text.z : "", text.n, &err))) {
    e->why = sl_mprintf("schema id %d: %s", (int)id, err.msg);
  } else {
    e->rs = av_resolve(e->w->root, d->x->reader->root);
    if (e->rs->top->why)
      e->why = sl_mprintf("schema id %d cannot be read with the reader schema: %s", (int)id,
                          e->rs->top->why);
  }
  sl_buf_free(&text);
  sl_err_clear(&err);
  *why = e->why;
  return e->why ? NULL : e->rs->top;
}

/* The column of the reader's field f in schema s: its name, exactly, then
** ASCII case-insensitively; -1 if none. */
static int column_of(const sl_schema *s, const char *f) {
  return sl_schema_find(s, f, strlen(f));
}

/* A decoder for a source's ctx (opts->ctx, borrowed) filling the
** columns of opts->schema (borrowed): each reader field finds its column
** by name.  NULL with err set when the ctx is not a source's. */
static sl_decoder *avro_decoder_new(const sl_fmt_opts *opts, sl_err *err) {
  const avro_ctx *x = opts->ctx;
  if (!x || x->sink || !x->reader) {
    sl_err_set(err, SL_EBIND, "format => 'avro' needs schema => or registry =>");
    return NULL;
  }
  avro_decoder *d = sl_calloc(1, sizeof *d);
  d->x = x;
  d->schema = opts->schema;
  d->utf8_reject = opts->utf8_reject;
  const av_type *rt = x->reader->root;
  d->colof = sl_calloc((size_t)(rt->n ? rt->n : 1), sizeof(int));
  for (int i = 0; i < rt->n; i++)
    d->colof[i] = opts->schema ? column_of(opts->schema, rt->fields[i].name) : -1;
  sl_buf_init(&d->jb);
  sl_buf_init(&d->tmp);
  return (sl_decoder *)d;
}

/* Free the decoder, its cache of schema ids and its registry client. */
static void avro_decoder_free(sl_decoder *dd) {
  avro_decoder *d = (avro_decoder *)dd;
  for (int i = 0; i < d->nid; i++) {
    av_resolver_free(d->ids[i].rs);
    av_schema_free(d->ids[i].w);
    free(d->ids[i].why);
  }
  free(d->ids);
  av_registry_free(d->reg);
  sl_buf_free(&d->jb);
  sl_buf_free(&d->tmp);
  free(d->vec);
  free(d->colof);
  free(d);
}

/* "why at byte N" in the arena. */
static const char *reason(cur *c, const uint8_t *start, sl_arena *a) {
  if (!a) return c->why;
  char *m = sl_arena_alloc(a, 160);
  snprintf(m, 160, "malformed Avro record: %s (at byte %zu)", c->why, (size_t)(c->p - start) + 1);
  return m;
}

static int avro_decode(sl_decoder *dd, const char *rec, size_t len, sl_value *row, sl_arena *a,
                       const char **why) {
  avro_decoder *d = (avro_decoder *)dd;
  const avro_ctx *x = d->x;
  int ncol = d->schema ? d->schema->ncol : 0;
  for (int i = 0; i < ncol; i++)
    sl_value_set_null(&row[i]);
  const uint8_t *start = (const uint8_t *)rec;
  const av_res *top;
  if (x->registry) {
    if (len < 5 || rec[0] != 0) {
      *why = "not the schema registry's wire format (a 0 byte and a 4-byte schema id first)";
      return -1;
    }
    int32_t id = (int32_t)((uint32_t)start[1] << 24 | (uint32_t)start[2] << 16 |
                           (uint32_t)start[3] << 8 | start[4]);
    if (!(top = by_id(d, id, why))) return -1;
    start += 5;
    len -= 5;
  } else {
    top = x->res->top;
  }
  cur c = {start, start + len, NULL, 0, ITEM_BUDGET};
  while (top->w->kind == AV_UNION) { /* a record written as a union's branch */
    int64_t b;
    if (rd_long(&c, &b) || b < 0 || b >= top->w->n) {
      fail(&c, "a union branch out of range");
      *why = reason(&c, start, a);
      return -1;
    }
    top = top->bres[b];
  }
  if (top->why || top->w->kind != AV_RECORD) {
    *why = top->why ? top->why : "the writer's schema is not a record";
    return -1;
  }
  const av_type *w = top->w;
  for (int i = 0; i < w->n; i++) {
    int k = top->wmap[i], col = k >= 0 ? d->colof[k] : -1;
    if (col < 0 ? skip(w->fields[i].type, &c) : dec_val(d, top->wres[i], &c, &row[col], a)) {
      *why = reason(&c, start, a);
      return -1;
    }
  }
  if (c.p != c.end) {
    char *m = a ? sl_arena_alloc(a, 96) : NULL;
    if (m) snprintf(m, 96, "malformed Avro record: %zu bytes after its end", (size_t)(c.end - c.p));
    *why = m ? m : "malformed Avro record: bytes after its end";
    return -1;
  }
  for (int i = 0; i < top->ndflt; i++) {
    int k = top->dflt[i];
    if (d->colof[k] >= 0) sl_value_ref(&row[d->colof[k]], &x->rdflt[k]);
  }
  if (x->declared)
    for (int i = 0; i < ncol; i++) {
      sl_affinity aff = d->schema->cols[i].aff;
      if (aff == SL_AFF_TEXT)
        sl_value_text_in(&row[i], a);
      else if (aff != SL_AFF_NONE && row[i].type != SL_VECTOR)
        sl_value_apply_affinity(&row[i], aff);
    }
  return 0;
}

/* ---- writing the binary encoding ------------------------------------------ */

static inline void wr_long(sl_buf *b, int64_t v) {
  uint64_t u = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
  sl_buf_reserve(b, 10);
  char *o = b->z + b->n;
  while (u >= 0x80) {
    *o++ = (char)(u | 0x80);
    u >>= 7;
  }
  *o++ = (char)u;
  b->n = (size_t)(o - b->z);
}

/* Append f as 4 little-endian bytes. */
static void wr_float(sl_buf *b, float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  char z[4] = {(char)u, (char)(u >> 8), (char)(u >> 16), (char)(u >> 24)};
  sl_buf_append(b, z, 4);
}

/* Append r as 8 little-endian bytes. */
static void wr_double(sl_buf *b, double r) {
  uint64_t u;
  memcpy(&u, &r, 8);
  char z[8];
  for (int i = 0; i < 8; i++)
    z[i] = (char)(u >> (8 * i));
  sl_buf_append(b, z, 8);
}

/* Append bytes or a string: the length, then the bytes. */
static void wr_bytes(sl_buf *b, const void *z, size_t n) {
  wr_long(b, (int64_t)n);
  if (n) sl_buf_append(b, z, n);
}

/* Append exactly size bytes: z's first ones, zeros after them. */
static void wr_fixed(sl_buf *b, const void *z, size_t n, int64_t size) {
  size_t k = n < (size_t)size ? n : (size_t)size;
  if (k) sl_buf_append(b, z, k);
  for (int64_t i = (int64_t)k; i < size; i++)
    sl_buf_putc(b, 0);
}

/* v within the range of an int. */
static int64_t clamp32(int64_t v) {
  return v < INT32_MIN ? INT32_MIN : v > INT32_MAX ? INT32_MAX : v;
}

typedef struct avro_encoder {
  av_schema *own; /* the schema derived from the columns, or NULL */
  const av_type *root;
  int *colof;  /* per field: the column, or -1 */
  char hdr[5]; /* the wire format's 0 byte and schema id */
  int hdrlen;
  sl_buf tmp; /* scratch: unescaped strings */
} avro_encoder;

static void enc_zero(const av_type *t, sl_buf *out, int depth);
static void enc_json(avro_encoder *e, const av_type *t, const char *z, size_t n, sl_json_kind k,
                     sl_buf *out, int depth);

/* The branch of union t a value of this class is written as: the first
** branch of the most wanted kind (prefs, in order), else the first that is
** not null, else 0. */
static int pick(const av_type *t, const av_kind *prefs, int np) {
  for (int p = 0; p < np; p++)
    for (int i = 0; i < t->n; i++)
      if (t->branch[i]->kind == prefs[p]) return i;
  for (int i = 0; i < t->n; i++)
    if (t->branch[i]->kind != AV_NULL) return i;
  return 0;
}

static const av_kind P_INT[] = {AV_LONG, AV_INT, AV_DOUBLE, AV_FLOAT, AV_BOOLEAN, AV_STRING};
static const av_kind P_REAL[] = {AV_DOUBLE, AV_FLOAT, AV_LONG, AV_INT, AV_STRING};
static const av_kind P_TEXT[] = {AV_STRING, AV_ENUM, AV_BYTES, AV_FIXED};
static const av_kind P_OBJ[] = {AV_RECORD, AV_MAP, AV_STRING};
static const av_kind P_ARR[] = {AV_ARRAY, AV_STRING};
static const av_kind P_BLOB[] = {AV_BYTES, AV_FIXED, AV_STRING};
static const av_kind P_BOOL[] = {AV_BOOLEAN, AV_INT, AV_LONG};

#define PICK(t, p) pick(t, p, (int)SL_ARRAY_SIZE(p))

/* The index of symbol z[0..n) in enum t, else its default, else 0. */
static int64_t enum_index(const av_type *t, const char *z, size_t n) {
  for (int i = 0; i < t->n; i++)
    if (strlen(t->symbols[i]) == n && !memcmp(t->symbols[i], z, n)) return i;
  return t->enum_dflt >= 0 ? t->enum_dflt : 0;
}

/* Write the column value v as type t. */
static void enc_val(avro_encoder *e, const av_type *t, sl_value *v, sl_buf *out, int depth) {
  size_t n;
  const char *z;
  if (depth > MAX_DEPTH) {
    enc_zero(t, out, depth);
    return;
  }
  switch (t->kind) {
  case AV_UNION: {
    int b;
    switch (v->type) {
    case SL_NULL: b = t->null_branch >= 0 ? t->null_branch : 0; break;
    case SL_INTEGER: b = PICK(t, P_INT); break;
    case SL_REAL: b = PICK(t, P_REAL); break;
    case SL_BLOB: b = PICK(t, P_BLOB); break;
    case SL_VECTOR: b = PICK(t, P_ARR); break;
    default:
      if (v->flags & SL_F_JSON && v->n && v->u.z[0] == '{')
        b = PICK(t, P_OBJ);
      else if (v->flags & SL_F_JSON && v->n && v->u.z[0] == '[') {
        b = PICK(t, P_ARR); /* numbers into an array of numbers; else a string may keep it */
        if (t->branch[b]->kind == AV_ARRAY && is_number(t->branch[b]->items->kind) &&
            sl_parse_numlist(v->u.z, v->n, NULL, 0) < 0)
          b = PICK(t, P_TEXT);
      } else
        b = PICK(t, P_TEXT);
    }
    wr_long(out, b);
    enc_val(e, t->branch[b], v, out, depth + 1);
    return;
  }
  case AV_NULL: return;
  case AV_BOOLEAN: sl_buf_putc(out, sl_value_truth(v) == 1); return;
  case AV_INT: wr_long(out, clamp32(sl_value_as_int(v))); return;
  case AV_LONG: wr_long(out, sl_value_as_int(v)); return;
  case AV_FLOAT: wr_float(out, (float)sl_value_as_real(v)); return;
  case AV_DOUBLE: wr_double(out, sl_value_as_real(v)); return;
  case AV_STRING:
  case AV_BYTES:
  case AV_FIXED:
  case AV_ENUM:
    if (v->type == SL_NULL) {
      enc_zero(t, out, depth);
      return;
    }
    z = v->type == SL_TEXT || v->type == SL_BLOB ? v->u.z : sl_value_text(v, &n);
    if (v->type == SL_TEXT || v->type == SL_BLOB) n = v->n;
    if (t->kind == AV_FIXED)
      wr_fixed(out, z, n, t->size);
    else if (t->kind == AV_ENUM)
      wr_long(out, enum_index(t, z, n));
    else
      wr_bytes(out, z, n);
    return;
  case AV_ARRAY:
    if (v->type == SL_VECTOR) {
      if (v->n) {
        wr_long(out, v->n);
        for (uint32_t i = 0; i < v->n; i++) {
          sl_value x = SL_VALUE_INIT;
          sl_value_set_real(&x, v->u.v[i]);
          enc_val(e, t->items, &x, out, depth + 1);
        }
      }
      wr_long(out, 0);
      return;
    }
    break;
  default: break;
  }
  if (v->type == SL_TEXT) { /* a record, map or array written as JSON text */
    sl_json_kind k;
    size_t s = sl_json_ws(v->u.z, v->n, 0), end = sl_json_skip(v->u.z, v->n, s, &k);
    if (end != (size_t)-1 && sl_json_ws(v->u.z, v->n, end) == v->n) {
      enc_json(e, t, v->u.z + s, end - s, k, out, depth);
      return;
    }
  }
  enc_zero(t, out, depth);
}

/* The smallest valid value of t (for NULL where t has no null, or text
** that is not what t needs). */
static void enc_zero(const av_type *t, sl_buf *out, int depth) {
  switch (t->kind) {
  case AV_NULL: return;
  case AV_BOOLEAN: sl_buf_putc(out, 0); return;
  case AV_FLOAT: wr_float(out, 0); return;
  case AV_DOUBLE: wr_double(out, 0); return;
  case AV_FIXED: wr_fixed(out, "", 0, t->size); return;
  case AV_RECORD:
    for (int i = 0; i < t->n; i++)
      enc_zero(t->fields[i].type, out, depth + 1);
    return;
  case AV_UNION: {
    int b = t->null_branch;
    for (int i = 0; b < 0 && i < t->n; i++)
      if (t->branch[i]->kind == AV_ARRAY || t->branch[i]->kind == AV_MAP ||
          (depth < MAX_DEPTH && t->branch[i]->kind != AV_RECORD))
        b = i;
    if (b < 0) b = 0;
    wr_long(out, b);
    if (depth < 2 * MAX_DEPTH) enc_zero(t->branch[b], out, depth + 1);
    return;
  }
  default: wr_long(out, 0); return; /* numbers, lengths, enum 0, empty array or map */
  }
}

/* The JSON string z[0..n) (with its quotes) unescaped at the end of e->tmp,
** from offset *at; returns its length.  Anything else: its text. */
static size_t unescape(avro_encoder *e, const char *z, size_t n, sl_json_kind k, size_t *at) {
  *at = e->tmp.n;
  if (k != SL_JSON_STRING) {
    sl_buf_append(&e->tmp, z, n);
    return n;
  }
  sl_buf_reserve(&e->tmp, n);
  size_t m = sl_json_unescape(z + 1, n - 2, e->tmp.z + e->tmp.n);
  if (m == (size_t)-1) m = 0;
  return m;
}

/* Write the JSON value z[0..n) of kind k as type t. */
static void enc_json(avro_encoder *e, const av_type *t, const char *z, size_t n, sl_json_kind k,
                     sl_buf *out, int depth) {
  if (depth > MAX_DEPTH) {
    enc_zero(t, out, depth);
    return;
  }
  sl_value v = SL_VALUE_INIT;
  switch (t->kind) {
  case AV_UNION: {
    int b;
    switch (k) {
    case SL_JSON_NULL: b = t->null_branch >= 0 ? t->null_branch : 0; break;
    case SL_JSON_TRUE:
    case SL_JSON_FALSE: b = PICK(t, P_BOOL); break;
    case SL_JSON_INT: b = PICK(t, P_INT); break;
    case SL_JSON_REAL: b = PICK(t, P_REAL); break;
    case SL_JSON_ARRAY: b = PICK(t, P_ARR); break;
    case SL_JSON_OBJECT: {
      /* Avro's JSON form of a union's value: {"type name": value} */
      size_t i = 1, v0, v1;
      const char *key;
      size_t klen;
      int esc;
      sl_json_kind vk;
      if (sl_json_member(z, n, &i, &key, &klen, &esc, &v0, &v1, &vk) == 1 && !esc) {
        size_t j = i;
        const char *k2;
        size_t kl2, w0, w1;
        int esc2;
        sl_json_kind vk2;
        if (sl_json_member(z, n, &j, &k2, &kl2, &esc2, &w0, &w1, &vk2) == 0)
          for (int br = 0; br < t->n; br++) {
            const av_type *bt = t->branch[br];
            static const char *const names[] = {"null",   "boolean", "int",    "long",   "float",
                                                "double", "bytes",   "string", "record", "enum",
                                                "array",  "map",     "union",  "fixed"};
            const char *bn = bt->name ? bt->name : names[bt->kind];
            if ((strlen(bn) == klen && !memcmp(bn, key, klen)) ||
                (bt->sname && strlen(bt->sname) == klen && !memcmp(bt->sname, key, klen))) {
              wr_long(out, br);
              enc_json(e, bt, z + v0, v1 - v0, vk, out, depth + 1);
              return;
            }
          }
      }
      b = PICK(t, P_OBJ);
      break;
    }
    default: b = PICK(t, P_TEXT); break;
    }
    wr_long(out, b);
    enc_json(e, t->branch[b], z, n, k, out, depth + 1);
    return;
  }
  case AV_NULL: return;
  case AV_BOOLEAN:
  case AV_INT:
  case AV_LONG:
  case AV_FLOAT:
  case AV_DOUBLE:
    if (k == SL_JSON_STRING || k == SL_JSON_INT || k == SL_JSON_REAL || k == SL_JSON_TRUE ||
        k == SL_JSON_FALSE)
      sl_json_to_value(z, n, &v, NULL);
    enc_val(e, t, &v, out, depth);
    sl_value_free(&v);
    return;
  case AV_STRING:
  case AV_ENUM:
  case AV_BYTES:
  case AV_FIXED: {
    size_t at, m = unescape(e, z, n, k, &at);
    char *s = e->tmp.z + at;
    if ((t->kind == AV_BYTES || t->kind == AV_FIXED) && k == SL_JSON_STRING) {
      /* code points U+0000..U+00FF are the bytes (Avro's JSON form of bytes) */
      size_t o = 0;
      for (size_t i = 0; i < m; i++) {
        uint8_t c = (uint8_t)s[i];
        if ((c == 0xC2 || c == 0xC3) && i + 1 < m && ((uint8_t)s[i + 1] & 0xC0) == 0x80) {
          s[o++] = (char)(((c & 3) << 6) | ((uint8_t)s[i + 1] & 0x3f));
          i++;
        } else {
          s[o++] = (char)c;
        }
      }
      m = o;
    }
    if (t->kind == AV_FIXED)
      wr_fixed(out, s, m, t->size);
    else if (t->kind == AV_ENUM)
      wr_long(out, enum_index(t, s, m));
    else
      wr_bytes(out, s, m);
    e->tmp.n = at;
    return;
  }
  case AV_ARRAY:
  case AV_MAP: {
    int map = t->kind == AV_MAP;
    if (k != (map ? SL_JSON_OBJECT : SL_JSON_ARRAY)) break;
    int64_t cnt = 0;
    size_t i = 1, v0, v1, klen;
    const char *key;
    int esc;
    sl_json_kind vk;
    while ((map ? sl_json_member(z, n, &i, &key, &klen, &esc, &v0, &v1, &vk)
                : sl_json_element(z, n, &i, &v0, &v1, &vk)) == 1)
      cnt++;
    if (cnt) {
      wr_long(out, cnt);
      i = 1;
      while ((map ? sl_json_member(z, n, &i, &key, &klen, &esc, &v0, &v1, &vk)
                  : sl_json_element(z, n, &i, &v0, &v1, &vk)) == 1) {
        if (map) {
          size_t at;
          sl_buf_reserve(&e->tmp, klen);
          at = e->tmp.n;
          size_t m = esc ? sl_json_unescape(key, klen, e->tmp.z + at) : klen;
          if (m == (size_t)-1) m = 0;
          wr_bytes(out, esc ? e->tmp.z + at : key, m);
        }
        enc_json(e, t->items, z + v0, v1 - v0, vk, out, depth + 1);
      }
    }
    wr_long(out, 0);
    return;
  }
  case AV_RECORD:
    for (int f = 0; f < t->n; f++) {
      const av_field *fd = &t->fields[f];
      size_t i = 1, v0, v1, klen;
      const char *key;
      int esc, found = 0;
      sl_json_kind vk;
      while (k == SL_JSON_OBJECT && sl_json_member(z, n, &i, &key, &klen, &esc, &v0, &v1, &vk) == 1)
        if (!esc && strlen(fd->name) == klen && !memcmp(fd->name, key, klen)) {
          found = 1;
          break;
        }
      if (found)
        enc_json(e, fd->type, z + v0, v1 - v0, vk, out, depth + 1);
      else if (fd->dflt) {
        sl_json_kind dk;
        size_t dn = strlen(fd->dflt);
        if (sl_json_skip(fd->dflt, dn, 0, &dk) != (size_t)-1)
          enc_json(e, fd->type, fd->dflt, dn, dk, out, depth + 1);
        else
          enc_zero(fd->type, out, depth + 1);
      } else {
        enc_zero(fd->type, out, depth + 1);
      }
    }
    return;
  default: break;
  }
  enc_zero(t, out, depth);
}

/* A field name Avro accepts made of column name z: [A-Za-z_][A-Za-z0-9_]*,
** other bytes as '_'. */
static void avro_name(sl_buf *b, const char *z) {
  if (!(*z >= 'A' && *z <= 'Z') && !(*z >= 'a' && *z <= 'z') && *z != '_') sl_buf_putc(b, '_');
  for (; *z; z++) {
    char c = *z;
    int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    sl_buf_putc(b, ok ? c : '_');
  }
}

/* The schema of a sink without schema =>: see the file comment. */
static av_schema *derive_schema(int ncol, const char *const *names, sl_err *err) {
  sl_buf b, nm;
  sl_buf_init(&b);
  sl_buf_init(&nm);
  sl_buf_puts(&b, "{\"type\":\"record\",\"name\":\"sluice_row\",\"fields\":[");
  for (int i = 0; i < ncol; i++) {
    sl_buf_reset(&nm);
    avro_name(&nm, names[i]);
    for (int k = 0; k < i; k++) { /* two columns that give one name: a suffix */
      sl_buf other;
      sl_buf_init(&other);
      avro_name(&other, names[k]);
      if (!strcmp(other.z, nm.z)) sl_buf_printf(&nm, "_%d", i + 1);
      sl_buf_free(&other);
    }
    sl_buf_printf(&b,
                  "%s{\"name\":\"%s\",\"type\":[\"null\",\"long\",\"double\",\"string\","
                  "\"bytes\",{\"type\":\"array\",\"items\":\"double\"}],\"default\":null}",
                  i ? "," : "", nm.z);
  }
  sl_buf_puts(&b, "]}");
  av_schema *s = av_schema_parse(b.z, b.n, err);
  sl_buf_free(&b);
  sl_buf_free(&nm);
  return s;
}

static sl_encoder *avro_encoder_new(int ncol, const char *const *names, const sl_fmt_opts *opts,
                                    sl_err *err) {
  const avro_ctx *x = opts->ctx;
  avro_encoder *e = sl_calloc(1, sizeof *e);
  sl_buf_init(&e->tmp);
  const av_schema *s = x ? x->schema : NULL;
  if (!s) s = e->own = derive_schema(ncol, names, err);
  if (!s) goto fail;
  e->root = s->root;
  if (e->root->kind != AV_RECORD) {
    sl_err_set(err, SL_EBIND, "format => 'avro': the writer schema must be a record");
    goto fail;
  }
  e->colof = sl_calloc((size_t)(e->root->n ? e->root->n : 1), sizeof(int));
  char *used = sl_calloc((size_t)(ncol ? ncol : 1), 1);
  for (int f = 0; f < e->root->n; f++) {
    const av_field *fd = &e->root->fields[f];
    int c = -1;
    for (int i = 0; i < ncol && c < 0; i++)
      if (!e->own ? !strcmp(names[i], fd->name) : 0) c = i;
    for (int i = 0; i < ncol && c < 0; i++)
      if (!e->own ? !sl_stricmp(names[i], fd->name) : i == f) c = i;
    e->colof[f] = c;
    if (c >= 0) used[c] = 1;
    if (c < 0 && !fd->dflt && !(fd->type->kind == AV_UNION && fd->type->null_branch >= 0)) {
      sl_err_set(err, SL_EBIND,
                 "format => 'avro': no column for the field '%s' of the schema, which has no "
                 "default (name a column %s)",
                 fd->name, fd->name);
      free(used);
      goto fail;
    }
  }
  for (int i = 0; i < ncol; i++)
    if (!used[i]) {
      sl_err_set(err, SL_EBIND, "format => 'avro': the column '%s' is not a field of the schema",
                 names[i]);
      free(used);
      goto fail;
    }
  free(used);
  if (x && x->registry) {
    int32_t id;
    av_registry *r = av_registry_new(x->registry);
    int rc = av_registry_register(r, x->subject, s->json, &id, err);
    av_registry_free(r);
    if (rc) goto fail;
    e->hdr[0] = 0;
    for (int i = 0; i < 4; i++)
      e->hdr[1 + i] = (char)((uint32_t)id >> (24 - 8 * i));
    e->hdrlen = 5;
  }
  return (sl_encoder *)e;
fail:
  av_schema_free(e->own);
  free(e->colof);
  sl_buf_free(&e->tmp);
  free(e);
  return NULL;
}

/* Append row as one record (after the wire format's 5 bytes with a
** registry): each field from its column, its default, or its zero. */
static void avro_encode(sl_encoder *ee, sl_value *row, sl_buf *out) {
  avro_encoder *e = (avro_encoder *)ee;
  if (e->hdrlen) sl_buf_append(out, e->hdr, (size_t)e->hdrlen);
  for (int f = 0; f < e->root->n; f++) {
    const av_field *fd = &e->root->fields[f];
    int c = e->colof[f];
    if (c >= 0) {
      enc_val(e, fd->type, &row[c], out, 0);
    } else if (fd->dflt) {
      sl_json_kind k;
      size_t n = strlen(fd->dflt);
      if (sl_json_skip(fd->dflt, n, 0, &k) != (size_t)-1)
        enc_json(e, fd->type, fd->dflt, n, k, out, 1);
      else
        enc_zero(fd->type, out, 1);
    } else {
      enc_zero(fd->type, out, 1);
    }
  }
  e->tmp.n = 0;
}

/* Free the encoder and the schema it derived, if any. */
static void avro_encoder_free(sl_encoder *ee) {
  avro_encoder *e = (avro_encoder *)ee;
  av_schema_free(e->own);
  free(e->colof);
  sl_buf_free(&e->tmp);
  free(e);
}

/* ---- options (configure) ------------------------------------------------------ */

/* Read and parse the schema file named by option name, if given.  0 (*out
** NULL when absent), or -1 with err set. */
static int load_schema(sl_options *opts, const char *name, av_schema **out, sl_err *err) {
  *out = NULL;
  sl_option *o = sl_opt_find(opts, name);
  if (!o || o->value.type == SL_NULL) return 0;
  const char *path = sl_value_cstr(&o->value);
  if (sl_opt_authorize(opts, SLUICE_AUTH_READ, path, err)) return -1;
  FILE *f = fopen(path, "rb");
  if (!f) {
    sl_err_setpos(err, SL_EIO, o->line, o->col, "%s => cannot read '%s': %m", name, path);
    return -1;
  }
  char *text = sl_read_all(f);
  fclose(f);
  sl_err e2 = {0};
  *out = av_schema_parse(text, strlen(text), &e2);
  free(text);
  if (!*out) {
    sl_err_setpos(err, SL_EBIND, o->line, o->col, "%s => '%s': %s", name, path, e2.msg);
    sl_err_clear(&e2);
    return -1;
  }
  return 0;
}

/* The column type of an Avro type (see the file comment); NULL: none. */
static const char *decltype_of(const av_type *t) {
  if (t->kind == AV_UNION) {
    const av_type *one = NULL;
    for (int i = 0; i < t->n; i++) {
      if (t->branch[i]->kind == AV_NULL) continue;
      if (one) return NULL;
      one = t->branch[i];
    }
    if (!one) return NULL;
    t = one;
  }
  switch (t->kind) {
  case AV_BOOLEAN:
  case AV_INT:
  case AV_LONG: return "INTEGER";
  case AV_FLOAT:
  case AV_DOUBLE: return "REAL";
  case AV_STRING:
  case AV_ENUM: return "TEXT";
  case AV_BYTES:
  case AV_FIXED: return "BLOB";
  case AV_ARRAY: return is_number(t->items->kind) ? "VECTOR" : "TEXT";
  case AV_RECORD:
  case AV_MAP: return "TEXT";
  default: return NULL;
  }
}

/* A field's default (JSON text) as the column value of type t, owned. */
static void default_value(const av_type *t, const char *dflt, sl_value *out) {
  if (t->kind == AV_UNION && t->n) t = t->branch[0]; /* a union's default is its first branch's */
  size_t n = strlen(dflt);
  sl_value v = SL_VALUE_INIT;
  if (t->kind == AV_ARRAY && is_number(t->items->kind) && n > 2 &&
      sl_json_to_vector(dflt, n, &v, NULL) == 0) {
    sl_value_copy(out, &v);
    sl_value_free(&v);
    return;
  }
  if (sl_json_to_value(dflt, n, &v, NULL)) {
    sl_value_set_null(out);
    return;
  }
  if ((t->kind == AV_BYTES || t->kind == AV_FIXED) && v.type == SL_TEXT) {
    char *b = sl_malloc(v.n + 1);
    size_t o = 0;
    for (size_t i = 0; i < v.n; i++) {
      uint8_t c = (uint8_t)v.u.z[i];
      if ((c == 0xC2 || c == 0xC3) && i + 1 < v.n) {
        b[o++] = (char)(((c & 3) << 6) | ((uint8_t)v.u.z[++i] & 0x3f));
      } else {
        b[o++] = (char)c;
      }
    }
    sl_value_set_blob(out, b, o);
    free(b);
  } else if ((t->kind == AV_FLOAT || t->kind == AV_DOUBLE) && v.type == SL_INTEGER) {
    sl_value_set_real(out, (double)v.u.i);
  } else {
    sl_value_copy(out, &v);
  }
  sl_value_free(&v);
}

/* A source's ctx once its schemas are loaded (x->schema the writer's
** without a registry, x->reader the reader's): the resolution, the
** defaults, the columns (added to schema, or declared ones checked).  0, or
** -1 with err set. */
static int source_setup(avro_ctx *x, sl_schema *schema, sl_err *err) {
  if (!x->registry) {
    if (!x->schema) {
      sl_err_set(err, SL_EBIND,
                 "format => 'avro' needs schema => 'file.avsc' (the writer's schema) or "
                 "registry => 'http://host:port'");
      return -1;
    }
    x->res = av_resolve(x->schema->root, x->reader->root);
    if (x->res->top->why) {
      sl_err_set(err, SL_EBIND, "reader_schema => cannot read what schema => wrote: %s",
                 x->res->top->why);
      return -1;
    }
  }
  const av_type *rt = x->reader->root;
  if (rt->kind != AV_RECORD) {
    sl_err_set(err, SL_EBIND, "format => 'avro': the reader schema must be a record");
    return -1;
  }
  x->rdflt = sl_calloc((size_t)(rt->n ? rt->n : 1), sizeof(sl_value));
  for (int i = 0; i < rt->n; i++)
    if (rt->fields[i].dflt) default_value(rt->fields[i].type, rt->fields[i].dflt, &x->rdflt[i]);
  if (schema->ncol) { /* declared columns: each must be a field */
    x->declared = 1;
    for (int c = 0; c < schema->ncol; c++) {
      int found = 0;
      for (int i = 0; i < rt->n && !found; i++)
        found = !sl_stricmp(rt->fields[i].name, schema->cols[c].name);
      if (!found) {
        sl_err_set(err, SL_EBIND, "format => 'avro': the column '%s' is not a field of %s",
                   schema->cols[c].name, rt->name);
        return -1;
      }
    }
    return 0;
  }
  for (int i = 0; i < rt->n; i++)
    sl_schema_add(schema, rt->fields[i].name, strlen(rt->fields[i].name),
                  decltype_of(rt->fields[i].type));
  schema->open = 0;
  return 0;
}

/* See avro_types.h. */
void *sl_avro_ctx_new(const char *writer, const char *reader, sl_schema *schema, sl_err *err) {
  avro_ctx *x = sl_calloc(1, sizeof *x);
  x->sink = schema == NULL;
  if (writer && !(x->schema = av_schema_parse(writer, strlen(writer), err))) goto fail;
  if (reader && !(x->reader = av_schema_parse(reader, strlen(reader), err))) goto fail;
  if (!x->reader) x->reader = x->schema;
  if (!x->sink && source_setup(x, schema, err)) goto fail;
  return x;
fail:
  ctx_free(x);
  return NULL;
}

/* Free a ctx of sl_avro_ctx_new. */
void sl_avro_ctx_free(void *ctx) {
  ctx_free(ctx);
}

/* format.h's configure(): schema =>, reader_schema =>, registry =>,
** subject => (docs/avro.md) into a new ctx in fo->ctx; files and the
** registry's host are authorized first.  0, or -1 with err set. */
static int avro_configure(sl_fmt_opts *fo, sl_options *opts, sl_schema *schema, sl_err *err) {
  avro_ctx *x = sl_calloc(1, sizeof *x);
  fo->ctx = x;
  x->sink = schema == NULL;
  const char *fn = opts->fn ? opts->fn : "";
  if (sl_stricmp(fn, "kafka") != 0) {
    sl_err_set(err, SL_EBIND,
               "format => 'avro' reads and writes Kafka messages (one record each); %s() would "
               "need Avro container files, which sluice does not read or write yet",
               fn);
    return -1;
  }
  const char *reg = sl_opt_str(opts, "registry", NULL);
  if (reg) {
    char hp[300];
    if (av_registry_hostport(reg, hp, sizeof hp)) {
      sl_err_set(err, SL_EBIND, "registry => needs 'http://host:port', not '%s'", reg);
      return -1;
    }
    if (sl_opt_authorize(opts, SLUICE_AUTH_CONNECT, hp, err)) return -1;
    x->registry = sl_strdup(reg);
  }
  const char *subject = sl_opt_str(opts, "subject", NULL);
  if (subject && !reg) {
    sl_err_set(err, SL_EBIND, "subject => is for a schema registry (registry =>)");
    return -1;
  }
  if (reg) {
    if (subject) {
      x->subject = sl_strdup(subject);
    } else {
      sl_option *t = sl_opt_find_unused(opts, "0");
      if (!t) t = sl_opt_find_unused(opts, "topic");
      x->subject = sl_mprintf("%s-value", t ? sl_value_cstr(&t->value) : "sluice");
    }
  }
  if (load_schema(opts, "schema", &x->schema, err)) return -1;
  av_schema *rd = NULL;
  if (load_schema(opts, "reader_schema", &rd, err)) return -1;
  if (x->sink) {
    if (rd) {
      av_schema_free(rd);
      sl_err_set(err, SL_EBIND, "reader_schema => is for sources (a sink writes with schema =>)");
      return -1;
    }
    return 0;
  }
  x->reader = rd ? rd : x->schema;
  if (reg && !x->reader) { /* the subject's latest schema names the columns */
    av_registry *r = av_registry_new(reg);
    sl_buf text;
    sl_buf_init(&text);
    int32_t id;
    int rc = av_registry_latest(r, x->subject, &text, &id, err);
    av_registry_free(r);
    if (!rc && !(x->reader = av_schema_parse(text.z ? text.z : "", text.n, err))) rc = -1;
    sl_buf_free(&text);
    if (rc) return -1;
  }
  return source_setup(x, schema, err);
}

const sl_format sl_fmt_avro = {
    "avro", NULL,        avro_decoder_new,  avro_decode,    avro_decoder_free, avro_encoder_new,
    NULL,   avro_encode, avro_encoder_free, avro_configure, ctx_free,          1 /* binary */};
