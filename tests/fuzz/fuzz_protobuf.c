/*
** fuzz_protobuf.c - libFuzzer target for the protobuf format
** (src/fmt_protobuf.c) and its schema readers (src/protobuf_schema.c).
**
** The first input byte chooses (mod 5): 0-1 the rest is records of a
** fixed schema (every field kind: scalars, enums, nested and repeated
** messages, maps, oneof), framed as a file (length-delimited, eof at the
** end; 0) or as one Kafka message (1); every record is decoded
** and a row that decodes is encoded again and decoded back.  2 the rest
** is .proto text for the text parser, 3 a descriptor set for the
** descriptor reader (a schema that loads has each message found by name),
** 4 the text of every TEXT column (JSON for nested messages, maps and
** repeated fields) of a row to encode, whose encoding must decode.
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "connector.h"
#include "format.h"
#include "protobuf_schema.h"

static const char schema_text[] =
    "syntax = \"proto3\"; package fz;\n"
    "enum Color { RED = 0; GREEN = 1; BLUE = 2; }\n"
    "message Inner { int32 a = 1; string s = 2; repeated sint64 r = 3; Color c = 4; bytes b = 5;\n"
    "  message Deep { double x = 1; bool flag = 2; } Deep deep = 6; map<bool, string> flags = 7; "
    "}\n"
    "message All { int32 i32 = 1; int64 i64 = 2; uint32 u32 = 3; uint64 u64 = 4; sint32 s32 = 5;\n"
    "  sint64 s64 = 6; fixed32 f32 = 7; fixed64 f64 = 8; sfixed32 sf32 = 9; sfixed64 sf64 = 10;\n"
    "  float fl = 11; double db = 12; bool bo = 13; string st = 14; bytes by = 15; Color co = 16;\n"
    "  Inner inner = 17; repeated float rf = 18; repeated int32 ri = 19; repeated string rs = 20;\n"
    "  repeated Inner rinner = 21; map<string, int32> m = 22; optional int32 oi = 23;\n"
    "  oneof choice { string cs = 24; int32 ci = 25; } repeated double rd = 26 [packed = false];\n"
    "  repeated Color rco = 27; repeated bytes rby = 28; repeated bool rbo = 29;\n"
    "  map<int64, Inner> mi = 31; Inner.Deep deep = 33; }\n";

/* The format's options and columns for framing fn ("file" or "kafka"),
** made once through configure() from the schema above in a scratch file. */
typedef struct setup {
  sl_fmt_opts fo;
  sl_schema schema;
} setup;

static setup *get_setup(int kafka) {
  static setup s[2];
  static int done[2];
  static char path[64];
  if (!path[0]) {
    snprintf(path, sizeof path, "/tmp/fuzz_protobuf_%d.proto", (int)getpid());
    FILE *f = fopen(path, "w");
    if (!f) abort();
    fputs(schema_text, f);
    fclose(f);
  }
  if (!done[kafka]) {
    sl_options o = {0};
    o.fn = kafka ? "kafka" : "file";
    sl_value v = SL_VALUE_INIT;
    sl_value_borrow_text(&v, path, strlen(path), 0);
    sl_options_add(&o, "schema", &v, 0, 0);
    sl_value_borrow_text(&v, "fz.All", 6, 0);
    sl_options_add(&o, "message", &v, 0, 0);
    sl_schema_init(&s[kafka].schema, 0);
    sl_err err = {0};
    if (sl_fmt_protobuf.configure(&s[kafka].fo, &o, &s[kafka].schema, &err)) abort();
    s[kafka].fo.schema = &s[kafka].schema;
    sl_options_free(&o);
    done[kafka] = 1;
  }
  return &s[kafka];
}

static void decode_records(int kafka, const char *buf, size_t len) {
  const sl_format *f = &sl_fmt_protobuf;
  setup *s = get_setup(kafka);
  sl_err err = {0};
  sl_decoder *d = f->decoder_new(&s->fo, &err);
  if (!d) abort();
  int ncol = s->schema.ncol;
  const char **names = calloc((size_t)ncol, sizeof *names);
  for (int c = 0; c < ncol; c++)
    names[c] = s->schema.cols[c].name;
  sl_encoder *e = f->encoder_new(ncol, names, &s->fo, &err);
  if (!e) abort();
  sl_value *row = calloc((size_t)ncol, sizeof *row);
  sl_arena arena;
  sl_arena_init(&arena);
  sl_buf out;
  sl_buf_init(&out);
  size_t at = 0;
  while (at < len) {
    size_t rec_len = len - at, used = len - at;
    if (!kafka) {
      used = f->frame(buf + at, len - at, 1, &rec_len);
      if (used == 0 || used == SL_FRAME_BAD || used > len - at || rec_len > used) abort();
    }
    const char *why = NULL;
    if (f->decode(d, buf + at, rec_len, row, &arena, &why) == 0) {
      sl_buf_reset(&out);
      f->encode(e, row, &out);
      /* what the encoder writes decodes (the row's bytes are in arena) */
      if (f->decode(d, out.z ? out.z : "", out.n, row, &arena, &why)) abort();
    } else if (!why) {
      abort();
    }
    sl_arena_reset(&arena);
    at += used;
    if (kafka) break;
  }
  sl_buf_free(&out);
  sl_arena_free(&arena);
  free(row);
  free(names);
  f->encoder_free(e);
  f->decoder_free(d);
}

/* The rest of the input as the text of every TEXT column (nested
** messages, maps and repeated fields take JSON), encoded as a row; what
** the encoder writes must decode. */
static void encode_json(const char *buf, size_t len) {
  const sl_format *f = &sl_fmt_protobuf;
  setup *s = get_setup(0);
  sl_err err = {0};
  int ncol = s->schema.ncol;
  const char **names = calloc((size_t)ncol, sizeof *names);
  sl_value *row = calloc((size_t)ncol, sizeof *row);
  for (int c = 0; c < ncol; c++) {
    names[c] = s->schema.cols[c].name;
    if (s->schema.cols[c].aff == SL_AFF_TEXT) sl_value_borrow_text(&row[c], buf, len, 0);
  }
  sl_encoder *e = f->encoder_new(ncol, names, &s->fo, &err);
  sl_decoder *d = f->decoder_new(&s->fo, &err);
  if (!e || !d) abort();
  sl_buf out;
  sl_buf_init(&out);
  f->encode(e, row, &out);
  sl_arena arena;
  sl_arena_init(&arena);
  const char *why = NULL;
  if (f->decode(d, out.z ? out.z : "", out.n, row, &arena, &why)) abort();
  sl_arena_free(&arena);
  sl_buf_free(&out);
  f->encoder_free(e);
  f->decoder_free(d);
  free(row);
  free(names);
}

static void load_schema(int text, const uint8_t *z, size_t n) {
  sl_pb_schema s;
  sl_err err = {0};
  int rc = text ? sl_pb_schema_from_proto(&s, (const char *)z, n, &err)
                : sl_pb_schema_from_descset(&s, z, n, &err);
  if (rc == 0)
    for (int i = 0; i < s.nmsg; i++)
      if (sl_pb_schema_find(&s, s.msgs[i].name) != i) abort();
  sl_pb_schema_free(&s);
  sl_err_clear(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  int mode = data[0] % 5;
  if (mode < 2)
    decode_records(mode, (const char *)data + 1, size - 1);
  else if (mode < 4)
    load_schema(mode == 2, data + 1, size - 1);
  else
    encode_json((const char *)data + 1, size - 1);
  return 0;
}
