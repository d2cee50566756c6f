/*
** protobuf_schema.c - Protobuf schemas read at run time: a compiled
** descriptor set or the text of a .proto file, into the tables of
** protobuf_schema.h; and the wire reader both the schema reader and the
** format (fmt_protobuf.c) use.
**
** Both readers first collect messages and enums with their full names and
** fields naming their types as written; resolve() then finds each named
** type (by full name for a descriptor set, by the scoping rules of .proto
** for text: innermost scope first) and builds the number index.  Input is
** untrusted: every read is bounded, nesting is limited, and anything that
** does not fit is an error, never a crash.
*/
#include "protobuf_schema.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 64         /* nesting of messages (and groups skipped) */
#define MAX_NUMBER 536870911 /* 2^29 - 1 */

/* ---- the wire ------------------------------------------------------------- */

/* Skip a group whose start tag (number num) was just read: *p goes past
** its end tag.  0, or -1 malformed. */
static int skip_group(const uint8_t **p, const uint8_t *end, uint32_t num, int depth) {
  if (depth > MAX_DEPTH) return -1;
  for (;;) {
    uint64_t tag, v;
    if (sl_pb_varint(p, end, &tag)) return -1;
    uint32_t n = (uint32_t)(tag >> 3);
    if (tag >> 32 || n == 0) return -1;
    switch (tag & 7) {
    case 0:
      if (sl_pb_varint(p, end, &v)) return -1;
      break;
    case 1:
      if ((size_t)(end - *p) < 8) return -1;
      *p += 8;
      break;
    case 5:
      if ((size_t)(end - *p) < 4) return -1;
      *p += 4;
      break;
    case 2:
      if (sl_pb_varint(p, end, &v) || v > (uint64_t)(end - *p)) return -1;
      *p += v;
      break;
    case 3:
      if (skip_group(p, end, n, depth + 1)) return -1;
      break;
    case 4: return n == num ? 0 : -1;
    default: return -1;
    }
  }
}

int sl_pb_next(const uint8_t **p, const uint8_t *end, sl_pb_wire *w) {
  if (*p >= end) return 0;
  uint64_t tag;
  if (sl_pb_varint(p, end, &tag) || tag >> 32) return -1;
  w->number = (uint32_t)(tag >> 3);
  w->wt = (int)(tag & 7);
  if (w->number == 0) return -1;
  switch (w->wt) {
  case 0: return sl_pb_varint(p, end, &w->v) ? -1 : 1;
  case 1:
    if ((size_t)(end - *p) < 8) return -1;
    w->v = 0;
    for (int i = 7; i >= 0; i--)
      w->v = (w->v << 8) | (*p)[i];
    *p += 8;
    return 1;
  case 5:
    if ((size_t)(end - *p) < 4) return -1;
    w->v = (uint64_t)(*p)[0] | (uint64_t)(*p)[1] << 8 | (uint64_t)(*p)[2] << 16 |
           (uint64_t)(*p)[3] << 24;
    *p += 4;
    return 1;
  case 2: {
    uint64_t n;
    if (sl_pb_varint(p, end, &n) || n > (uint64_t)(end - *p)) return -1;
    w->z = *p;
    w->n = (size_t)n;
    *p += n;
    return 1;
  }
  case 3:
    w->z = *p;
    if (skip_group(p, end, w->number, 1)) return -1;
    w->n = (size_t)(*p - w->z);
    return 1;
  default: return -1;
  }
}

/* ---- building ------------------------------------------------------------- */

static void field_free(sl_pb_field *f) {
  free(f->name);
  free(f->type_name);
}

void sl_pb_schema_free(sl_pb_schema *s) {
  for (int i = 0; i < s->nmsg; i++) {
    sl_pb_message *m = &s->msgs[i];
    for (int j = 0; j < m->nfield; j++)
      field_free(&m->fields[j]);
    free(m->fields);
    free(m->by_number);
    free(m->name);
  }
  for (int i = 0; i < s->nenum; i++) {
    sl_pb_enum *e = &s->enums[i];
    for (int j = 0; j < e->n; j++)
      free(e->names[j]);
    free(e->names);
    free(e->numbers);
    free(e->name);
  }
  free(s->msgs);
  free(s->enums);
  memset(s, 0, sizeof *s);
}

/* A new message named scope.name (scope may be empty); returns its index. */
static int add_message(sl_pb_schema *s, const char *scope, const char *name, size_t n, int proto3) {
  s->msgs = sl_realloc(s->msgs, sizeof *s->msgs * (size_t)(s->nmsg + 1));
  sl_pb_message *m = &s->msgs[s->nmsg];
  memset(m, 0, sizeof *m);
  sl_buf b;
  sl_buf_init(&b);
  if (scope && *scope) sl_buf_printf(&b, "%s.", scope);
  sl_buf_append(&b, name, n);
  sl_buf_putc(&b, 0);
  m->name = b.z;
  m->proto3 = proto3;
  return s->nmsg++;
}

static int add_enum(sl_pb_schema *s, const char *scope, const char *name, size_t n) {
  s->enums = sl_realloc(s->enums, sizeof *s->enums * (size_t)(s->nenum + 1));
  sl_pb_enum *e = &s->enums[s->nenum];
  memset(e, 0, sizeof *e);
  sl_buf b;
  sl_buf_init(&b);
  if (scope && *scope) sl_buf_printf(&b, "%s.", scope);
  sl_buf_append(&b, name, n);
  sl_buf_putc(&b, 0);
  e->name = b.z;
  return s->nenum++;
}

static void enum_add_value(sl_pb_enum *e, const char *name, size_t n, int32_t num) {
  e->names = sl_realloc(e->names, sizeof(char *) * (size_t)(e->n + 1));
  e->numbers = sl_realloc(e->numbers, sizeof(int32_t) * (size_t)(e->n + 1));
  e->names[e->n] = sl_strndup(name, n);
  e->numbers[e->n] = num;
  e->n++;
}

static sl_pb_field *add_field(sl_pb_message *m) {
  m->fields = sl_realloc(m->fields, sizeof *m->fields * (size_t)(m->nfield + 1));
  sl_pb_field *f = &m->fields[m->nfield++];
  memset(f, 0, sizeof *f);
  f->msg = f->enm = -1;
  return f;
}

static int find_enum(const sl_pb_schema *s, const char *name) {
  if (*name == '.') name++;
  for (int i = 0; i < s->nenum; i++)
    if (!strcmp(s->enums[i].name, name)) return i;
  return -1;
}

static int find_message_exact(const sl_pb_schema *s, const char *name) {
  if (*name == '.') name++;
  for (int i = 0; i < s->nmsg; i++)
    if (!strcmp(s->msgs[i].name, name)) return i;
  return -1;
}

int sl_pb_schema_find(const sl_pb_schema *s, const char *name) {
  int i = find_message_exact(s, name);
  if (i >= 0) return i;
  /* a name without its package: the one message whose name ends so */
  size_t n = strlen(name);
  int found = -1;
  for (int k = 0; k < s->nmsg; k++) {
    size_t kn = strlen(s->msgs[k].name);
    if (kn > n && s->msgs[k].name[kn - n - 1] == '.' && !strcmp(s->msgs[k].name + kn - n, name)) {
      if (found >= 0) return -1;
      found = k;
    }
  }
  return found;
}

const char *sl_pb_enum_name(const sl_pb_enum *e, int32_t num) {
  for (int i = 0; i < e->n; i++)
    if (e->numbers[i] == num) return e->names[i];
  return NULL;
}

int sl_pb_enum_number(const sl_pb_enum *e, const char *z, size_t n, int32_t *num) {
  for (int i = 0; i < e->n; i++)
    if (strlen(e->names[i]) == n && !memcmp(e->names[i], z, n)) {
      *num = e->numbers[i];
      return 0;
    }
  return -1;
}

/* Find the type a field of message scope names: absolute (".a.b") or
** relative, tried in scope, then each enclosing scope.  Sets f->msg or
** f->enm (and f->type when it was unknown).  0, or -1 not found. */
static int resolve_type(sl_pb_schema *s, const char *scope, sl_pb_field *f) {
  const char *tn = f->type_name;
  char *buf = sl_malloc(strlen(scope) + strlen(tn) + 2);
  int rc = -1;
  if (*tn == '.') {
    strcpy(buf, tn + 1);
  } else {
    strcpy(buf, scope);
  }
  for (;;) {
    if (*tn != '.') { /* buf = scope prefix; try prefix.tn */
      size_t k = strlen(buf);
      char *cand = sl_malloc(k + strlen(tn) + 2);
      if (k)
        sprintf(cand, "%s.%s", buf, tn);
      else
        strcpy(cand, tn);
      int mi = f->type == PROTOBUF_C_TYPE_ENUM ? -1 : find_message_exact(s, cand);
      int ei = f->type == PROTOBUF_C_TYPE_MESSAGE ? -1 : find_enum(s, cand);
      free(cand);
      if (mi >= 0 || ei >= 0) {
        f->msg = mi;
        f->enm = mi >= 0 ? -1 : ei;
        f->type = mi >= 0 ? PROTOBUF_C_TYPE_MESSAGE : PROTOBUF_C_TYPE_ENUM;
        rc = 0;
        break;
      }
      if (!k) break;
      char *dot = strrchr(buf, '.');
      if (dot)
        *dot = 0;
      else
        buf[0] = 0;
      continue;
    }
    int mi = f->type == PROTOBUF_C_TYPE_ENUM ? -1 : find_message_exact(s, buf);
    int ei = f->type == PROTOBUF_C_TYPE_MESSAGE ? -1 : find_enum(s, buf);
    if (mi >= 0 || ei >= 0) {
      f->msg = mi;
      f->enm = mi >= 0 ? -1 : ei;
      f->type = mi >= 0 ? PROTOBUF_C_TYPE_MESSAGE : PROTOBUF_C_TYPE_ENUM;
      rc = 0;
    }
    break;
  }
  free(buf);
  return rc;
}

/* Resolve every named type, check numbers and names, build the number
** index.  0, or -1 with err set. */
static int resolve(sl_pb_schema *s, sl_err *err) {
  for (int i = 0; i < s->nmsg + s->nenum; i++) { /* every type name once */
    const char *ni = i < s->nmsg ? s->msgs[i].name : s->enums[i - s->nmsg].name;
    for (int k = 0; k < i; k++) {
      const char *nk = k < s->nmsg ? s->msgs[k].name : s->enums[k - s->nmsg].name;
      if (!strcmp(ni, nk)) {
        sl_err_set(err, SL_EBIND, "protobuf schema: type %s defined twice", ni);
        return -1;
      }
    }
  }
  for (int i = 0; i < s->nmsg; i++) {
    sl_pb_message *m = &s->msgs[i];
    m->by_number = sl_malloc(sizeof(int16_t) * (SL_PB_DIRECT + 1));
    for (int k = 0; k <= SL_PB_DIRECT; k++)
      m->by_number[k] = -1;
    if (m->nfield > 30000) {
      sl_err_set(err, SL_EBIND, "protobuf schema: message %s has too many fields", m->name);
      return -1;
    }
    for (int j = 0; j < m->nfield; j++) {
      sl_pb_field *f = &m->fields[j];
      if (f->number < 1 || f->number > MAX_NUMBER) {
        sl_err_set(err, SL_EBIND, "protobuf schema: %s.%s has a bad field number", m->name,
                   f->name);
        return -1;
      }
      for (int k = 0; k < j; k++)
        if (m->fields[k].number == f->number || !strcmp(m->fields[k].name, f->name)) {
          sl_err_set(err, SL_EBIND, "protobuf schema: %s.%s: number %u or name used twice", m->name,
                     f->name, (unsigned)f->number);
          return -1;
        }
      if (f->number <= SL_PB_DIRECT) m->by_number[f->number] = (int16_t)j;
      if (f->type_name && f->msg < 0 && f->enm < 0 && resolve_type(s, m->name, f)) {
        sl_err_set(err, SL_EBIND, "protobuf schema: %s.%s: unknown type %s", m->name, f->name,
                   f->type_name);
        return -1;
      }
      if (f->type == PROTOBUF_C_TYPE_MESSAGE && f->msg < 0) {
        sl_err_set(err, SL_EBIND, "protobuf schema: %s.%s: a message field without its type",
                   m->name, f->name);
        return -1;
      }
      if (f->type == PROTOBUF_C_TYPE_ENUM && (f->enm < 0 || !s->enums[f->enm].n)) {
        sl_err_set(err, SL_EBIND, "protobuf schema: %s.%s: an enum field without its values",
                   m->name, f->name);
        return -1;
      }
      if (f->type == PROTOBUF_C_TYPE_MESSAGE) f->presence = 1;
      if (f->type == PROTOBUF_C_TYPE_MESSAGE || f->type == PROTOBUF_C_TYPE_STRING ||
          f->type == PROTOBUF_C_TYPE_BYTES)
        f->packed = 0;
    }
    ProtobufCType kt = m->nfield ? m->fields[0].type : PROTOBUF_C_TYPE_MESSAGE;
    if (m->map_entry &&
        (m->nfield != 2 || m->fields[0].number != 1 || m->fields[1].number != 2 ||
         m->fields[0].repeated || m->fields[1].repeated || kt == PROTOBUF_C_TYPE_MESSAGE ||
         kt == PROTOBUF_C_TYPE_ENUM || kt == PROTOBUF_C_TYPE_BYTES || kt == PROTOBUF_C_TYPE_FLOAT ||
         kt == PROTOBUF_C_TYPE_DOUBLE)) {
      sl_err_set(err, SL_EBIND,
                 "protobuf schema: map entry %s is not key = 1 (an integer, bool or string), "
                 "value = 2",
                 m->name);
      return -1;
    }
  }
  return 0;
}

/* ---- descriptor sets ------------------------------------------------------- */

/* FieldDescriptorProto.Type -> protobuf-c's type (-1: not supported). */
static int desc_type(uint64_t t) {
  static const int map[19] = {-1,
                              PROTOBUF_C_TYPE_DOUBLE,
                              PROTOBUF_C_TYPE_FLOAT,
                              PROTOBUF_C_TYPE_INT64,
                              PROTOBUF_C_TYPE_UINT64,
                              PROTOBUF_C_TYPE_INT32,
                              PROTOBUF_C_TYPE_FIXED64,
                              PROTOBUF_C_TYPE_FIXED32,
                              PROTOBUF_C_TYPE_BOOL,
                              PROTOBUF_C_TYPE_STRING,
                              -1, /* group */
                              PROTOBUF_C_TYPE_MESSAGE,
                              PROTOBUF_C_TYPE_BYTES,
                              PROTOBUF_C_TYPE_UINT32,
                              PROTOBUF_C_TYPE_ENUM,
                              PROTOBUF_C_TYPE_SFIXED32,
                              PROTOBUF_C_TYPE_SFIXED64,
                              PROTOBUF_C_TYPE_SINT32,
                              PROTOBUF_C_TYPE_SINT64};
  return t < 19 ? map[t] : -1;
}

static int is_packable(ProtobufCType t) {
  return t != PROTOBUF_C_TYPE_STRING && t != PROTOBUF_C_TYPE_BYTES && t != PROTOBUF_C_TYPE_MESSAGE;
}

/* A desc error: malformed bytes. */
static int desc_bad(sl_err *err, const char *what) {
  sl_err_set(err, SL_EBIND, "protobuf descriptor set: malformed %s", what);
  return -1;
}

/* EnumDescriptorProto z[0..n) in scope. */
static int desc_enum(sl_pb_schema *s, const char *scope, const uint8_t *z, size_t n, sl_err *err) {
  const uint8_t *p = z, *end = z + n;
  sl_pb_wire w;
  const uint8_t *name = NULL;
  size_t name_n = 0;
  int rc;
  while ((rc = sl_pb_next(&p, end, &w)) == 1)
    if (w.number == 1 && w.wt == 2) name = w.z, name_n = w.n;
  if (rc < 0 || !name) return desc_bad(err, "enum");
  int ei = add_enum(s, scope, (const char *)name, name_n);
  p = z;
  while (sl_pb_next(&p, end, &w) == 1) {
    if (w.number != 2 || w.wt != 2) continue;
    const uint8_t *q = w.z, *qe = w.z + w.n;
    sl_pb_wire v;
    const uint8_t *vn = NULL;
    size_t vnn = 0;
    int32_t num = 0;
    while ((rc = sl_pb_next(&q, qe, &v)) == 1) {
      if (v.number == 1 && v.wt == 2) vn = v.z, vnn = v.n;
      if (v.number == 2 && v.wt == 0) num = (int32_t)v.v;
    }
    if (rc < 0 || !vn) return desc_bad(err, "enum value");
    enum_add_value(&s->enums[ei], (const char *)vn, vnn, num);
  }
  return 0;
}

/* FieldDescriptorProto z[0..n) into a new field of message mi. */
static int desc_field(sl_pb_schema *s, int mi, const uint8_t *z, size_t n, sl_err *err) {
  const uint8_t *p = z, *end = z + n;
  sl_pb_wire w;
  int rc, label = 1, has_oneof = 0, p3opt = 0, packed_opt = -1;
  int64_t type = -2;
  sl_pb_field *f = add_field(&s->msgs[mi]);
  while ((rc = sl_pb_next(&p, end, &w)) == 1) {
    switch (w.number) {
    case 1:
      if (w.wt == 2 && !f->name) f->name = sl_strndup((const char *)w.z, w.n);
      break;
    case 3:
      if (w.wt == 0) f->number = (uint32_t)(w.v > MAX_NUMBER ? 0 : w.v);
      break;
    case 4:
      if (w.wt == 0) label = (int)(w.v & 7);
      break;
    case 5:
      if (w.wt == 0) type = desc_type(w.v);
      break;
    case 6:
      if (w.wt == 2 && !f->type_name) f->type_name = sl_strndup((const char *)w.z, w.n);
      break;
    case 8: /* FieldOptions: packed = 2 */
      if (w.wt == 2) {
        const uint8_t *q = w.z, *qe = w.z + w.n;
        sl_pb_wire o;
        while (sl_pb_next(&q, qe, &o) == 1)
          if (o.number == 2 && o.wt == 0) packed_opt = o.v != 0;
      }
      break;
    case 9:
      if (w.wt == 0) has_oneof = 1;
      break;
    case 17:
      if (w.wt == 0) p3opt = w.v != 0;
      break;
    default: break;
    }
  }
  if (rc < 0 || !f->name) return desc_bad(err, "field");
  if (type == -2 && f->type_name) type = PROTOBUF_C_TYPE_MESSAGE; /* resolved by name below */
  if (type < 0) {
    sl_err_set(err, SL_EBIND, "protobuf schema: %s.%s: groups and unknown types are not supported",
               s->msgs[mi].name, f->name);
    return -1;
  }
  f->type = (ProtobufCType)type;
  f->repeated = label == 3;
  int proto3 = s->msgs[mi].proto3;
  f->presence = !f->repeated && (!proto3 || p3opt || has_oneof);
  f->packed = f->repeated && is_packable(f->type) && (packed_opt >= 0 ? packed_opt : proto3);
  return 0;
}

/* DescriptorProto z[0..n) in scope. */
static int desc_message(sl_pb_schema *s, const char *scope, const uint8_t *z, size_t n, int proto3,
                        int depth, sl_err *err) {
  if (depth > MAX_DEPTH) return desc_bad(err, "message (nested too deep)");
  const uint8_t *p = z, *end = z + n;
  sl_pb_wire w;
  const uint8_t *name = NULL;
  size_t name_n = 0;
  int rc, map_entry = 0;
  while ((rc = sl_pb_next(&p, end, &w)) == 1) {
    if (w.number == 1 && w.wt == 2) name = w.z, name_n = w.n;
    if (w.number == 7 && w.wt == 2) { /* MessageOptions: map_entry = 7 */
      const uint8_t *q = w.z, *qe = w.z + w.n;
      sl_pb_wire o;
      while (sl_pb_next(&q, qe, &o) == 1)
        if (o.number == 7 && o.wt == 0) map_entry = o.v != 0;
    }
  }
  if (rc < 0 || !name) return desc_bad(err, "message");
  int mi = add_message(s, scope, (const char *)name, name_n, proto3);
  s->msgs[mi].map_entry = map_entry;
  char *full = sl_strdup(s->msgs[mi].name); /* msgs moves as it grows */
  p = z;
  rc = 0;
  while (!rc && sl_pb_next(&p, end, &w) == 1) {
    if (w.wt != 2) continue;
    if (w.number == 2) rc = desc_field(s, mi, w.z, w.n, err);
    if (w.number == 3) rc = desc_message(s, full, w.z, w.n, proto3, depth + 1, err);
    if (w.number == 4) rc = desc_enum(s, full, w.z, w.n, err);
  }
  free(full);
  return rc;
}

int sl_pb_schema_from_descset(sl_pb_schema *s, const uint8_t *z, size_t n, sl_err *err) {
  memset(s, 0, sizeof *s);
  const uint8_t *p = z, *end = z + n;
  sl_pb_wire w;
  int rc, files = 0;
  while ((rc = sl_pb_next(&p, end, &w)) == 1) {
    if (w.number != 1 || w.wt != 2) return desc_bad(err, "file set");
    files++;
    /* FileDescriptorProto: package = 2, message_type = 4, enum_type = 5, syntax = 12 */
    const uint8_t *q = w.z, *qe = w.z + w.n;
    sl_pb_wire f;
    char *pkg = NULL;
    int proto3 = 0, r2;
    while ((r2 = sl_pb_next(&q, qe, &f)) == 1) {
      if (f.number == 2 && f.wt == 2 && !pkg) pkg = sl_strndup((const char *)f.z, f.n);
      if (f.number == 12 && f.wt == 2) proto3 = f.n == 6 && !memcmp(f.z, "proto3", 6);
    }
    if (r2 < 0) {
      free(pkg);
      return desc_bad(err, "file");
    }
    q = w.z;
    int r3 = 0;
    while (!r3 && sl_pb_next(&q, qe, &f) == 1) {
      if (f.wt != 2) continue;
      if (f.number == 4) r3 = desc_message(s, pkg ? pkg : "", f.z, f.n, proto3, 1, err);
      if (f.number == 5) r3 = desc_enum(s, pkg ? pkg : "", f.z, f.n, err);
    }
    free(pkg);
    if (r3) return -1;
  }
  if (rc < 0 || !files) return desc_bad(err, "file set (not a FileDescriptorSet)");
  return resolve(s, err);
}

/* ---- .proto text ------------------------------------------------------------ */

typedef struct lexer {
  const char *z, *end, *p;
  int line;
  const char *tok; /* the current token */
  size_t n;
  int kind; /* 'i' identifier, '0' number, '"' string, a punctuation char, 0 at end */
  sl_err *err;
  int failed;
} lexer;

/* Advance to the next token; a bad character or unclosed string or comment
** is an error (kind 0, failed set). */
static void lex(lexer *L) {
  for (;;) {
    while (L->p < L->end && isspace((unsigned char)*L->p)) {
      if (*L->p == '\n') L->line++;
      L->p++;
    }
    if (L->end - L->p >= 2 && L->p[0] == '/' && L->p[1] == '/') {
      while (L->p < L->end && *L->p != '\n')
        L->p++;
      continue;
    }
    if (L->end - L->p >= 2 && L->p[0] == '/' && L->p[1] == '*') {
      const char *q = L->p + 2;
      while (q + 1 < L->end && !(q[0] == '*' && q[1] == '/')) {
        if (*q == '\n') L->line++;
        q++;
      }
      if (q + 1 >= L->end) {
        L->kind = 0;
        if (!L->failed) sl_err_set(L->err, SL_EBIND, "line %d: a comment never closed", L->line);
        L->failed = 1;
        L->p = L->end;
        return;
      }
      L->p = q + 2;
      continue;
    }
    break;
  }
  L->tok = L->p;
  if (L->p >= L->end) {
    L->kind = 0;
    L->n = 0;
    return;
  }
  char c = *L->p;
  if (isalpha((unsigned char)c) || c == '_' || c == '.') {
    while (L->p < L->end && (isalnum((unsigned char)*L->p) || *L->p == '_' || *L->p == '.'))
      L->p++;
    L->kind = 'i';
  } else if (isdigit((unsigned char)c) || c == '-' || c == '+') {
    L->p++;
    while (L->p < L->end && (isalnum((unsigned char)*L->p) || *L->p == '.' ||
                             ((*L->p == '-' || *L->p == '+') && (L->p[-1] | 32) == 'e')))
      L->p++;
    L->kind = '0';
  } else if (c == '"' || c == '\'') {
    L->p++;
    while (L->p < L->end && *L->p != c && *L->p != '\n') {
      if (*L->p == '\\' && L->p + 1 < L->end) L->p++;
      L->p++;
    }
    if (L->p >= L->end || *L->p != c) {
      L->kind = 0;
      if (!L->failed) sl_err_set(L->err, SL_EBIND, "line %d: a string never closed", L->line);
      L->failed = 1;
      L->p = L->end;
      return;
    }
    L->p++;
    L->kind = '"';
  } else {
    L->p++;
    L->kind = c;
  }
  L->n = (size_t)(L->p - L->tok);
}

static int fail(lexer *L, const char *what) {
  if (!L->failed)
    sl_err_set(L->err, SL_EBIND, "line %d: %s near '%.*s'", L->line, what,
               (int)(L->n > 40 ? 40 : L->n), L->tok);
  L->failed = 1;
  return -1;
}

static int is_word(lexer *L, const char *w) {
  return L->kind == 'i' && strlen(w) == L->n && !memcmp(L->tok, w, L->n);
}

static int expect(lexer *L, int kind, const char *what) {
  if (L->kind != kind) return fail(L, what);
  lex(L);
  return 0;
}

/* An integer token (decimal, 0x hex, 0 octal, with a sign). */
static int lex_int(lexer *L, int64_t *out) {
  if (L->kind != '0') return fail(L, "expected an integer");
  char buf[32];
  if (L->n >= sizeof buf) return fail(L, "integer too long");
  memcpy(buf, L->tok, L->n);
  buf[L->n] = 0;
  char *e;
  long long v = strtoll(buf, &e, 0);
  if (*e) return fail(L, "expected an integer");
  *out = v;
  lex(L);
  return 0;
}

/* Skip to the end of a statement (';') or a balanced block, for options,
** reserved ranges, services and extensions. */
static int skip_statement(lexer *L) {
  int depth = 0;
  while (L->kind) {
    if (L->kind == '{') depth++;
    if (L->kind == '}') {
      if (--depth == 0) {
        lex(L);
        return 0;
      }
      if (depth < 0) return fail(L, "unbalanced '}'");
    }
    if (L->kind == ';' && depth == 0) {
      lex(L);
      return 0;
    }
    lex(L);
  }
  return fail(L, "unexpected end of file");
}

static const struct {
  const char *name;
  ProtobufCType type;
} scalar_types[] = {
    {"double", PROTOBUF_C_TYPE_DOUBLE},     {"float", PROTOBUF_C_TYPE_FLOAT},
    {"int32", PROTOBUF_C_TYPE_INT32},       {"int64", PROTOBUF_C_TYPE_INT64},
    {"uint32", PROTOBUF_C_TYPE_UINT32},     {"uint64", PROTOBUF_C_TYPE_UINT64},
    {"sint32", PROTOBUF_C_TYPE_SINT32},     {"sint64", PROTOBUF_C_TYPE_SINT64},
    {"fixed32", PROTOBUF_C_TYPE_FIXED32},   {"fixed64", PROTOBUF_C_TYPE_FIXED64},
    {"sfixed32", PROTOBUF_C_TYPE_SFIXED32}, {"sfixed64", PROTOBUF_C_TYPE_SFIXED64},
    {"bool", PROTOBUF_C_TYPE_BOOL},         {"string", PROTOBUF_C_TYPE_STRING},
    {"bytes", PROTOBUF_C_TYPE_BYTES},
};

/* The type token into f (a scalar, or a name resolved later). */
static int parse_type(lexer *L, sl_pb_field *f) {
  if (L->kind != 'i') return fail(L, "expected a type");
  for (size_t i = 0; i < SL_ARRAY_SIZE(scalar_types); i++)
    if (is_word(L, scalar_types[i].name)) {
      f->type = scalar_types[i].type;
      lex(L);
      return 0;
    }
  if (is_word(L, "group")) return fail(L, "groups are not supported");
  f->type = (ProtobufCType)-1; /* a message or an enum, found by name */
  f->type_name = sl_strndup(L->tok, L->n);
  lex(L);
  return 0;
}

/* `[packed = true, default = 3, ...]`: packed is noted, the rest skipped. */
static int parse_field_options(lexer *L, int *packed) {
  if (L->kind != '[') return 0;
  lex(L);
  while (L->kind && L->kind != ']') {
    if (is_word(L, "packed")) {
      lex(L);
      if (expect(L, '=', "expected '='")) return -1;
      if (is_word(L, "true"))
        *packed = 1;
      else if (is_word(L, "false"))
        *packed = 0;
      else
        return fail(L, "packed takes true or false");
    }
    lex(L);
  }
  return expect(L, ']', "expected ']'");
}

/* `name = number [options];` after the type, into f. */
static int parse_field_rest(lexer *L, sl_pb_field *f, int *packed) {
  if (L->kind != 'i') return fail(L, "expected a field name");
  f->name = sl_strndup(L->tok, L->n);
  lex(L);
  if (expect(L, '=', "expected '='")) return -1;
  int64_t num;
  if (lex_int(L, &num)) return -1;
  if (num < 1 || num > MAX_NUMBER) return fail(L, "field number out of range");
  f->number = (uint32_t)num;
  if (parse_field_options(L, packed)) return -1;
  return expect(L, ';', "expected ';'");
}

static int parse_enum(lexer *L, sl_pb_schema *s, const char *scope) {
  lex(L); /* enum */
  if (L->kind != 'i') return fail(L, "expected an enum name");
  int ei = add_enum(s, scope, L->tok, L->n);
  lex(L);
  if (expect(L, '{', "expected '{'")) return -1;
  while (L->kind && L->kind != '}') {
    if (is_word(L, "option") || is_word(L, "reserved")) {
      if (skip_statement(L)) return -1;
      continue;
    }
    if (L->kind == ';') {
      lex(L);
      continue;
    }
    if (L->kind != 'i') return fail(L, "expected an enum value");
    const char *name = L->tok;
    size_t n = L->n;
    lex(L);
    if (expect(L, '=', "expected '='")) return -1;
    int64_t num;
    if (lex_int(L, &num)) return -1;
    if (num < INT32_MIN || num > INT32_MAX) return fail(L, "enum value out of range");
    int dummy = -1;
    if (parse_field_options(L, &dummy)) return -1;
    if (expect(L, ';', "expected ';'")) return -1;
    enum_add_value(&s->enums[ei], name, n, (int32_t)num);
  }
  return expect(L, '}', "expected '}'");
}

static int parse_message(lexer *L, sl_pb_schema *s, const char *scope, int proto3, int depth);

/* One field of message mi (label already read: label 0 none, 1 optional,
** 2 required, 3 repeated), in_oneof for a member of a oneof. */
static int parse_field(lexer *L, sl_pb_schema *s, int mi, int label, int in_oneof) {
  sl_pb_field *f = add_field(&s->msgs[mi]);
  int packed = -1, proto3 = s->msgs[mi].proto3;
  if (parse_type(L, f) || parse_field_rest(L, f, &packed)) return -1;
  f = &s->msgs[mi].fields[s->msgs[mi].nfield - 1];
  f->repeated = label == 3;
  f->presence = !f->repeated && (!proto3 || label == 1 || in_oneof);
  f->packed =
      f->repeated && (int)f->type >= 0 && is_packable(f->type) && (packed >= 0 ? packed : proto3);
  if (f->repeated && (int)f->type < 0) f->packed = packed > 0 ? -2 : -1; /* enum? decided later */
  return 0;
}

/* map<K, V> name = n; : a nested entry message and a repeated field. */
static int parse_map(lexer *L, sl_pb_schema *s, int mi, int depth) {
  (void)depth;
  lex(L); /* map */
  if (expect(L, '<', "expected '<'")) return -1;
  sl_pb_field kf = {0}, vf = {0};
  kf.msg = kf.enm = vf.msg = vf.enm = -1;
  int rc = -1;
  if (parse_type(L, &kf) || expect(L, ',', "expected ','") || parse_type(L, &vf) ||
      expect(L, '>', "expected '>'"))
    goto done;
  if ((int)kf.type < 0 || kf.type == PROTOBUF_C_TYPE_FLOAT || kf.type == PROTOBUF_C_TYPE_DOUBLE ||
      kf.type == PROTOBUF_C_TYPE_BYTES) {
    fail(L, "a map key must be an integer, bool or string type");
    goto done;
  }
  if (L->kind != 'i') {
    fail(L, "expected a field name");
    goto done;
  }
  /* the entry type: the field name in CamelCase + "Entry", as protoc names it */
  sl_buf en;
  sl_buf_init(&en);
  int up = 1;
  for (size_t i = 0; i < L->n; i++) {
    char c = L->tok[i];
    if (c == '_') {
      up = 1;
      continue;
    }
    sl_buf_putc(&en, up ? (char)toupper((unsigned char)c) : c);
    up = 0;
  }
  sl_buf_append(&en, "Entry", 5);
  char *scope = sl_strdup(s->msgs[mi].name);
  int proto3 = s->msgs[mi].proto3; /* the entry is of the file's syntax */
  int ei = add_message(s, scope, en.z, en.n, proto3);
  sl_buf_free(&en);
  s->msgs[ei].map_entry = 1;
  sl_pb_field *k = add_field(&s->msgs[ei]);
  *k = kf;
  k->name = sl_strdup("key");
  k->number = 1;
  k->presence = !proto3;
  sl_pb_field *v = add_field(&s->msgs[ei]);
  *v = vf;
  v->name = sl_strdup("value");
  v->number = 2;
  v->presence = !proto3;
  memset(&kf, 0, sizeof kf);
  memset(&vf, 0, sizeof vf);
  sl_pb_field *f = add_field(&s->msgs[mi]);
  f->type = PROTOBUF_C_TYPE_MESSAGE;
  f->repeated = 1;
  sl_buf tn;
  sl_buf_init(&tn);
  sl_buf_printf(&tn, ".%s", s->msgs[ei].name);
  f->type_name = tn.z;
  free(scope);
  int packed = -1;
  rc = parse_field_rest(L, f, &packed);
done:
  field_free(&kf);
  field_free(&vf);
  return rc;
}

static int parse_message(lexer *L, sl_pb_schema *s, const char *scope, int proto3, int depth) {
  if (depth > MAX_DEPTH) return fail(L, "messages nested too deep");
  lex(L); /* message */
  if (L->kind != 'i') return fail(L, "expected a message name");
  int mi = add_message(s, scope, L->tok, L->n, proto3);
  char *full = sl_strdup(s->msgs[mi].name);
  lex(L);
  int rc = expect(L, '{', "expected '{'");
  while (!rc && L->kind && L->kind != '}') {
    if (is_word(L, "message")) {
      rc = parse_message(L, s, full, proto3, depth + 1);
    } else if (is_word(L, "enum")) {
      rc = parse_enum(L, s, full);
    } else if (is_word(L, "option") || is_word(L, "reserved") || is_word(L, "extensions") ||
               is_word(L, "extend")) {
      rc = skip_statement(L);
    } else if (L->kind == ';') {
      lex(L);
    } else if (is_word(L, "map") && L->p < L->end &&
               (*L->p == '<' || isspace((unsigned char)*L->p))) {
      rc = parse_map(L, s, mi, depth);
    } else if (is_word(L, "oneof")) {
      lex(L);
      if (L->kind != 'i') {
        rc = fail(L, "expected a oneof name");
        break;
      }
      lex(L);
      rc = expect(L, '{', "expected '{'");
      while (!rc && L->kind && L->kind != '}') {
        if (is_word(L, "option"))
          rc = skip_statement(L);
        else if (L->kind == ';')
          lex(L);
        else
          rc = parse_field(L, s, mi, 0, 1);
      }
      if (!rc) rc = expect(L, '}', "expected '}'");
    } else {
      int label = 0;
      if (is_word(L, "optional"))
        label = 1;
      else if (is_word(L, "required"))
        label = 2;
      else if (is_word(L, "repeated"))
        label = 3;
      if (label) lex(L);
      rc = parse_field(L, s, mi, label, 0);
    }
  }
  if (!rc) rc = expect(L, '}', "expected '}'");
  free(full);
  return rc;
}

int sl_pb_schema_from_proto(sl_pb_schema *s, const char *z, size_t n, sl_err *err) {
  memset(s, 0, sizeof *s);
  lexer L = {z, z + n, z, 1, z, 0, 0, err, 0};
  lex(&L);
  char *pkg = sl_strdup("");
  int proto3 = 0, rc = 0;
  while (!rc && L.kind) {
    if (is_word(&L, "syntax") || is_word(&L, "edition")) {
      lex(&L);
      rc = expect(&L, '=', "expected '='");
      if (rc) break;
      if (L.kind != '"') {
        rc = fail(&L, "expected a string");
        break;
      }
      if (L.n == 8 && !memcmp(L.tok + 1, "proto3", 6))
        proto3 = 1;
      else if (L.n == 8 && !memcmp(L.tok + 1, "proto2", 6))
        proto3 = 0;
      else {
        rc = fail(&L, "only proto2 and proto3 are known");
        break;
      }
      lex(&L);
      rc = expect(&L, ';', "expected ';'");
    } else if (is_word(&L, "package")) {
      lex(&L);
      if (L.kind != 'i') {
        rc = fail(&L, "expected a package name");
        break;
      }
      free(pkg);
      pkg = sl_strndup(L.tok, L.n);
      lex(&L);
      rc = expect(&L, ';', "expected ';'");
    } else if (is_word(&L, "import")) {
      rc = fail(&L, "imports are not read from .proto text (give a descriptor set made with "
                    "protoc --include_imports --descriptor_set_out)");
    } else if (is_word(&L, "option") || is_word(&L, "service") || is_word(&L, "extend")) {
      rc = skip_statement(&L);
    } else if (is_word(&L, "message")) {
      rc = parse_message(&L, s, pkg, proto3, 1);
    } else if (is_word(&L, "enum")) {
      rc = parse_enum(&L, s, pkg);
    } else if (L.kind == ';') {
      lex(&L);
    } else {
      rc = fail(&L, "expected message, enum, syntax, package or option");
    }
  }
  free(pkg);
  if (rc || L.failed) return -1;
  if (!s->nmsg) {
    sl_err_set(err, SL_EBIND, "the .proto text declares no message");
    return -1;
  }
  if (resolve(s, err)) return -1;
  /* repeated fields whose type was a name: packed by default in proto3 for
  ** enums (-1), or when [packed = true] (-2) */
  for (int i = 0; i < s->nmsg; i++)
    for (int j = 0; j < s->msgs[i].nfield; j++) {
      sl_pb_field *f = &s->msgs[i].fields[j];
      if (f->packed < 0)
        f->packed = f->type == PROTOBUF_C_TYPE_ENUM && (f->packed == -2 || s->msgs[i].proto3);
    }
  return 0;
}
