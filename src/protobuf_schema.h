/*
** protobuf_schema.h - Protobuf message types known at run time, for the
** protobuf format (fmt_protobuf.c).
**
** A schema is read from a compiled descriptor set (`protoc --include_imports
** --descriptor_set_out=x.desc x.proto`: a FileDescriptorSet in the wire
** format) or from the text of a .proto file (the proto2/proto3 subset users
** write: syntax, package, message with nested messages and enums, enum,
** optional / required / repeated, oneof, map<K, V>, [packed = ...]).  Both
** give the same tables: every message and enum by its full name
** ("pkg.Outer.Inner"), every field with its number, type (protobuf-c's
** ProtobufCType) and how it is present on the wire.  Nothing is generated
** per schema: the codec walks these tables.
*/
#ifndef SLUICE_PROTOBUF_SCHEMA_H
#define SLUICE_PROTOBUF_SCHEMA_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* A field of a message. */
typedef struct sl_pb_field {
  char *name;         /* owned */
  uint32_t number;    /* 1..2^29-1 */
  ProtobufCType type; /* PROTOBUF_C_TYPE_* (GROUP fields are refused) */
  int repeated;       /* a repeated field (maps are repeated entries) */
  int presence;       /* 1: absent is NULL (proto2 optional, proto3 optional,
                         oneof members, messages); 0: absent is the default */
  int packed;         /* repeated scalar written packed by the encoder */
  int msg;            /* MESSAGE: index in sl_pb_schema.msgs; else -1 */
  int enm;            /* ENUM: index in sl_pb_schema.enums; else -1 */
  char *type_name;    /* owned: the referenced type as written, until resolved */
} sl_pb_field;

/* A message type. */
typedef struct sl_pb_message {
  char *name;    /* owned: full name, "pkg.Outer.Inner" */
  int proto3;    /* declared in a proto3 file */
  int map_entry; /* the entry type of a map<K, V> field (fields key=1, value=2) */
  int nfield;
  sl_pb_field *fields; /* owned, in declaration order */
  /* numbers 1..SL_PB_DIRECT: the field's index, -1 if none; larger numbers
  ** are found by a linear search */
  int16_t *by_number; /* owned, SL_PB_DIRECT + 1 entries */
} sl_pb_message;

#define SL_PB_DIRECT 255

/* An enum type. */
typedef struct sl_pb_enum {
  char *name; /* owned: full name */
  int n;
  char **names;     /* owned */
  int32_t *numbers; /* owned */
} sl_pb_enum;

typedef struct sl_pb_schema {
  int nmsg, nenum;
  sl_pb_message *msgs; /* owned */
  sl_pb_enum *enums;   /* owned */
} sl_pb_schema;

/* Read a FileDescriptorSet (bytes z[0..n)) into s (zeroed first).  0, or
** -1 with err set (s then freeable with sl_pb_schema_free). */
int sl_pb_schema_from_descset(sl_pb_schema *s, const uint8_t *z, size_t n, sl_err *err);
/* Parse the text of a .proto file z[0..n) into s (zeroed first); imports
** are refused (compile a descriptor set for those).  0, or -1 with err set
** saying where ("line 3: ..."); s is then freeable. */
int sl_pb_schema_from_proto(sl_pb_schema *s, const char *z, size_t n, sl_err *err);
void sl_pb_schema_free(sl_pb_schema *s);
/* The index of the message named name (full name, a leading '.' allowed;
** a name without package is also found when it is unique), or -1. */
int sl_pb_schema_find(const sl_pb_schema *s, const char *name);
/* The field of m with this number, or NULL. */
static inline const sl_pb_field *sl_pb_field_by_number(const sl_pb_message *m, uint32_t num) {
  if (num <= SL_PB_DIRECT) {
    int i = m->by_number[num];
    return i >= 0 ? &m->fields[i] : NULL;
  }
  for (int i = 0; i < m->nfield; i++)
    if (m->fields[i].number == num) return &m->fields[i];
  return NULL;
}
/* The name of enum value num, or NULL. */
const char *sl_pb_enum_name(const sl_pb_enum *e, int32_t num);
/* The number of the enum value named z[0..n); 0 found, -1 not. */
int sl_pb_enum_number(const sl_pb_enum *e, const char *z, size_t n, int32_t *num);

/* ---- the wire format ---------------------------------------------------- */
/* Read a varint at *p (before end) into *v and advance *p.  0, or -1 when
** it is cut short or longer than 10 bytes. */
static inline int sl_pb_varint(const uint8_t **p, const uint8_t *end, uint64_t *v) {
  const uint8_t *q = *p;
  uint64_t r = 0;
  for (int shift = 0; shift < 70 && q < end; shift += 7) {
    uint8_t b = *q++;
    r |= (uint64_t)(b & 0x7f) << shift;
    if (!(b & 0x80)) {
      *v = r;
      *p = q;
      return 0;
    }
  }
  return -1;
}

/* One field as it is on the wire. */
typedef struct sl_pb_wire {
  uint32_t number;
  int wt;           /* 0 varint, 1 64-bit, 2 length-delimited, 3 group, 5 32-bit */
  uint64_t v;       /* wt 0, 1, 5: the value's bits */
  const uint8_t *z; /* wt 2: the bytes; wt 3: the group's body */
  size_t n;
} sl_pb_wire;

/* Read the next field at *p (before end) into w and advance *p.  1 read,
** 0 at end, -1 malformed (a bad tag, field number 0, a cut value, an end
** of group without its start). */
int sl_pb_next(const uint8_t **p, const uint8_t *end, sl_pb_wire *w);

#endif /* SLUICE_PROTOBUF_SCHEMA_H */
