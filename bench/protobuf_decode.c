/*
** protobuf_decode.c - the protobuf decoder alone, for `make bench`
** (bench/protobuf_run.sh): sluice's decoder (src/fmt_protobuf.c) against
** protobuf-c's protobuf_c_message_unpack on the same messages.
**
** usage: protobuf_decode RECS.pb BENCH.proto
**
** RECS.pb holds length-delimited bench.Rec messages (bench/protobuf_run.sh
** makes them).  protobuf-c is given the descriptor protoc-c would generate
** for bench.Rec (written out by hand below: a C struct per message type is
** what protobuf-c decodes into); sluice's decoder reads the schema from
** BENCH.proto at run time.  Each decodes every message into its columns or
** struct (protobuf-c allocates and frees each one; sluice decodes into one
** row and an arena reset every 1024 records), 3 times; prints the best
** rate of each and checks that both saw the same feature sums.
*/
#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "connector.h"
#include "format.h"

/* bench.Rec as protoc-c lays it out */
typedef struct Rec {
  ProtobufCMessage base;
  char *recordid;
  size_t n_featuresvector;
  float *featuresvector;
  double amount;
  int64_t count;
  char *country;
  protobuf_c_boolean flag;
} Rec;

static const ProtobufCMessageDescriptor rec_desc;

static void rec_init(ProtobufCMessage *m) {
  Rec init = {PROTOBUF_C_MESSAGE_INIT(&rec_desc),
              (char *)protobuf_c_empty_string,
              0,
              NULL,
              0,
              0,
              (char *)protobuf_c_empty_string,
              0};
  *(Rec *)m = init;
}

static const ProtobufCFieldDescriptor rec_fields[6] = {
    {"recordID", 1, PROTOBUF_C_LABEL_NONE, PROTOBUF_C_TYPE_STRING, 0, offsetof(Rec, recordid), NULL,
     &protobuf_c_empty_string, 0, 0, NULL, NULL},
    {"featuresVector", 2, PROTOBUF_C_LABEL_REPEATED, PROTOBUF_C_TYPE_FLOAT,
     offsetof(Rec, n_featuresvector), offsetof(Rec, featuresvector), NULL, NULL,
     PROTOBUF_C_FIELD_FLAG_PACKED, 0, NULL, NULL},
    {"amount", 3, PROTOBUF_C_LABEL_NONE, PROTOBUF_C_TYPE_DOUBLE, 0, offsetof(Rec, amount), NULL,
     NULL, 0, 0, NULL, NULL},
    {"count", 4, PROTOBUF_C_LABEL_NONE, PROTOBUF_C_TYPE_INT64, 0, offsetof(Rec, count), NULL, NULL,
     0, 0, NULL, NULL},
    {"country", 5, PROTOBUF_C_LABEL_NONE, PROTOBUF_C_TYPE_STRING, 0, offsetof(Rec, country), NULL,
     &protobuf_c_empty_string, 0, 0, NULL, NULL},
    {"flag", 6, PROTOBUF_C_LABEL_NONE, PROTOBUF_C_TYPE_BOOL, 0, offsetof(Rec, flag), NULL, NULL, 0,
     0, NULL, NULL},
};
static const unsigned rec_by_name[6] = {2, 3, 4, 1, 5, 0};
static const ProtobufCIntRange rec_ranges[2] = {{1, 0}, {0, 6}};
static const ProtobufCMessageDescriptor rec_desc = {PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC,
                                                    "bench.Rec",
                                                    "Rec",
                                                    "Bench__Rec",
                                                    "bench",
                                                    sizeof(Rec),
                                                    6,
                                                    rec_fields,
                                                    rec_by_name,
                                                    1,
                                                    rec_ranges,
                                                    rec_init,
                                                    NULL,
                                                    NULL,
                                                    NULL};

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: protobuf_decode RECS.pb BENCH.proto\n");
    return 2;
  }
  FILE *f = fopen(argv[1], "rb");
  if (!f) return perror(argv[1]), 1;
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *data = malloc((size_t)size + 1);
  if (fread(data, 1, (size_t)size, f) != (size_t)size) return perror(argv[1]), 1;
  fclose(f);

  /* the format, configured as a file source would configure it */
  sl_options o = {0};
  o.fn = "file";
  sl_value v = SL_VALUE_INIT;
  sl_value_borrow_text(&v, argv[2], strlen(argv[2]), 0);
  sl_options_add(&o, "schema", &v, 0, 0);
  sl_fmt_opts fo = {0};
  sl_schema schema;
  sl_schema_init(&schema, 0);
  sl_err err = {0};
  const sl_format *fmt = &sl_fmt_protobuf;
  if (fmt->configure(&fo, &o, &schema, &err)) {
    fprintf(stderr, "%s\n", err.msg);
    return 1;
  }
  fo.schema = &schema;

  /* frame the records: each starts with its length */
  size_t n = 0, cap = 1 << 16;
  size_t *at = malloc(cap * sizeof *at), *len = malloc(cap * sizeof *len);
  for (size_t p = 0; p < (size_t)size;) {
    size_t rl, fl = fmt->frame(data + p, (size_t)size - p, 1, &rl);
    if (!fl || fl == SL_FRAME_BAD) break;
    if (n == cap) {
      cap *= 2;
      at = realloc(at, cap * sizeof *at);
      len = realloc(len, cap * sizeof *len);
    }
    at[n] = p;
    len[n++] = rl;
    p += fl;
  }

  double best_c = 1e9, best_s = 1e9, sum_c = 0, sum_s = 0;
  sl_decoder *d = fmt->decoder_new(&fo, &err);
  sl_value *row = calloc((size_t)schema.ncol, sizeof *row);
  sl_arena arena;
  sl_arena_init(&arena);
  int fv = sl_schema_find(&schema, "featuresVector", 14);
  for (int round = 0; round < 3; round++) {
    double t0 = now(), s = 0;
    for (size_t i = 0; i < n; i++) {
      const uint8_t *p = (const uint8_t *)data + at[i];
      size_t l = len[i];
      while (*p & 0x80) /* the length prefix */
        p++, l--;
      p++, l--;
      Rec *r = (Rec *)protobuf_c_message_unpack(&rec_desc, NULL, l, p);
      if (!r) return fprintf(stderr, "protobuf-c: record %zu does not unpack\n", i), 1;
      for (size_t k = 0; k < r->n_featuresvector; k++)
        s += r->featuresvector[k];
      protobuf_c_message_free_unpacked(&r->base, NULL);
    }
    double t = now() - t0;
    if (t < best_c) best_c = t;
    sum_c = s;

    t0 = now(), s = 0;
    for (size_t i = 0; i < n; i++) {
      const char *why = NULL;
      if (fmt->decode(d, data + at[i], len[i], row, &arena, &why))
        return fprintf(stderr, "sluice: record %zu: %s\n", i, why), 1;
      for (uint32_t k = 0; k < row[fv].n; k++)
        s += row[fv].u.v[k];
      if ((i & 1023) == 1023) sl_arena_reset(&arena);
    }
    t = now() - t0;
    if (t < best_s) best_s = t;
    sum_s = s;
  }
  printf("  decoder alone, %zu records (best of 3):\n", n);
  printf("  %-22s %11.0f rec/s\n", "sluice (fmt_protobuf)", (double)n / best_s);
  printf("  %-22s %11.0f rec/s\n", "protobuf-c unpack", (double)n / best_c);
  printf("  sluice/protobuf-c     %.2fx%s\n", best_c / best_s,
         sum_c == sum_s ? "" : "  (feature sums differ!)");
  fmt->decoder_free(d);
  sl_arena_free(&arena);
  free(row);
  free(at);
  free(len);
  free(data);
  sl_schema_free(&schema);
  fmt->ctx_free(fo.ctx);
  sl_options_free(&o);
  return sum_c == sum_s ? 0 : 1;
}
