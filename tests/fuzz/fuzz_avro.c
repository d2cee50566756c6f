/*
** fuzz_avro.c - libFuzzer target for the Avro format (src/fmt_avro.c,
** src/avro_schema.c): the decoder on random bytes, and the schema parser on
** random text.
**
** The first input byte chooses the setup (its low two bits):
**   0  the rest is one record of a fixed schema with every type (unions,
**      arrays, maps, a recursive record); a row that decodes is encoded
**      again and the encoding decoded back (it must decode)
**   1  the same record read through a reader schema (schema evolution)
**   2  the rest is a schema: parsed, resolved against itself, a row of
**      NULLs encoded with it and decoded back
**   3  the rest is a schema, a 0 byte, then a record of that schema
*/
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "avro_types.h"
#include "format.h"

static const char WRITER[] =
    "{\"type\":\"record\",\"name\":\"All\",\"namespace\":\"f\",\"fields\":["
    "{\"name\":\"i\",\"type\":\"int\"},{\"name\":\"l\",\"type\":\"long\"},"
    "{\"name\":\"f\",\"type\":\"float\"},{\"name\":\"d\",\"type\":\"double\"},"
    "{\"name\":\"b\",\"type\":\"boolean\"},{\"name\":\"s\",\"type\":\"string\"},"
    "{\"name\":\"by\",\"type\":\"bytes\"},"
    "{\"name\":\"e\",\"type\":{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\",\"B\",\"C\"]}},"
    "{\"name\":\"fx\",\"type\":{\"type\":\"fixed\",\"name\":\"F\",\"size\":3}},"
    "{\"name\":\"u\",\"type\":[\"null\",\"long\",\"string\"]},"
    "{\"name\":\"v\",\"type\":{\"type\":\"array\",\"items\":\"double\"}},"
    "{\"name\":\"vi\",\"type\":{\"type\":\"array\",\"items\":\"int\"}},"
    "{\"name\":\"m\",\"type\":{\"type\":\"map\",\"values\":[\"null\",\"float\"]}},"
    "{\"name\":\"n\",\"type\":[\"null\",{\"type\":\"array\",\"items\":\"null\"}]},"
    "{\"name\":\"r\",\"type\":{\"type\":\"record\",\"name\":\"N\",\"fields\":["
    "{\"name\":\"x\",\"type\":\"int\"},{\"name\":\"c\",\"type\":\"E\"},"
    "{\"name\":\"k\",\"type\":\"F\"},{\"name\":\"t\",\"type\":{\"type\":\"array\",\"items\":"
    "\"string\"}},{\"name\":\"nx\",\"type\":[\"null\",\"N\"]}]}}]}";

static const char READER[] =
    "{\"type\":\"record\",\"name\":\"All\",\"namespace\":\"f\",\"fields\":["
    "{\"name\":\"d\",\"type\":\"double\"},{\"name\":\"i\",\"type\":\"double\"},"
    "{\"name\":\"l\",\"type\":[\"null\",\"float\"]},{\"name\":\"s\",\"type\":\"bytes\"},"
    "{\"name\":\"e\",\"type\":{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"B\",\"Z\"],"
    "\"default\":\"Z\"}},"
    "{\"name\":\"u\",\"type\":[\"string\",\"null\",\"double\"]},"
    "{\"name\":\"add\",\"type\":{\"type\":\"map\",\"values\":\"int\"},\"default\":{\"a\":1}},"
    "{\"name\":\"addv\",\"type\":{\"type\":\"array\",\"items\":\"double\"},\"default\":[1,2]},"
    "{\"name\":\"r\",\"type\":{\"type\":\"record\",\"name\":\"N\",\"fields\":["
    "{\"name\":\"x\",\"type\":\"long\"},{\"name\":\"w\",\"type\":\"string\",\"default\":\"q\"},"
    "{\"name\":\"nx\",\"type\":[\"null\",\"N\"]}]}}]}";

/* Decode rec with ctx into a row of schema; encode a decoded row with
** enc_ctx (when given) and decode the encoding again. */
static void run(void *ctx, void *enc_ctx, sl_schema *schema, const char *rec, size_t len) {
  sl_fmt_opts fo = {0};
  fo.schema = schema;
  fo.ctx = ctx;
  sl_err err = {0};
  sl_decoder *d = sl_fmt_avro.decoder_new(&fo, &err);
  if (!d) abort();
  sl_arena arena;
  sl_arena_init(&arena);
  sl_value *row = calloc((size_t)schema->ncol + 1, sizeof *row);
  const char *why = NULL;
  if (sl_fmt_avro.decode(d, rec, len, row, &arena, &why) == 0 && enc_ctx) {
    const char **names = calloc((size_t)schema->ncol + 1, sizeof *names);
    for (int c = 0; c < schema->ncol; c++)
      names[c] = schema->cols[c].name;
    sl_fmt_opts eo = {0};
    eo.ctx = enc_ctx;
    sl_encoder *e = sl_fmt_avro.encoder_new(schema->ncol, names, &eo, &err);
    if (!e) abort();
    sl_buf out;
    sl_buf_init(&out);
    sl_fmt_avro.encode(e, row, &out);
    sl_value *row2 = calloc((size_t)schema->ncol + 1, sizeof *row2);
    if (sl_fmt_avro.decode(d, out.z ? out.z : "", out.n, row2, &arena, &why)) abort();
    free(row2);
    sl_buf_free(&out);
    sl_fmt_avro.encoder_free(e);
    free(names);
  }
  for (int c = 0; c < schema->ncol; c++)
    sl_value_free(&row[c]);
  free(row);
  sl_arena_free(&arena);
  sl_fmt_avro.decoder_free(d);
  sl_err_clear(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  int mode = data[0] & 3;
  const char *rest = (const char *)data + 1;
  size_t n = size - 1;
  sl_err err = {0};
  sl_schema schema;
  sl_schema_init(&schema, 0);
  if (mode <= 1) {
    void *ctx = sl_avro_ctx_new(WRITER, mode ? READER : NULL, &schema, &err);
    void *enc = mode ? NULL : sl_avro_ctx_new(WRITER, NULL, NULL, &err);
    if (!ctx || (!mode && !enc)) abort();
    run(ctx, enc, &schema, rest, n);
    sl_avro_ctx_free(ctx);
    sl_avro_ctx_free(enc);
  } else {
    const char *zero = mode == 3 ? memchr(rest, 0, n) : NULL;
    size_t sn = zero ? (size_t)(zero - rest) : n;
    char *text = malloc(sn + 1);
    memcpy(text, rest, sn);
    text[sn] = 0;
    void *ctx = sl_avro_ctx_new(text, NULL, &schema, &err);
    if (ctx) {
      void *enc = sl_avro_ctx_new(text, NULL, NULL, &err);
      if (!enc) abort();
      if (zero) {
        run(ctx, enc, &schema, zero + 1, n - sn - 1);
      } else { /* a row of NULLs, encoded, must decode */
        const char **names = calloc((size_t)schema.ncol + 1, sizeof *names);
        for (int c = 0; c < schema.ncol; c++)
          names[c] = schema.cols[c].name;
        sl_fmt_opts eo = {0};
        eo.ctx = enc;
        sl_encoder *e = sl_fmt_avro.encoder_new(schema.ncol, names, &eo, &err);
        if (e) {
          sl_value *row = calloc((size_t)schema.ncol + 1, sizeof *row);
          sl_buf out;
          sl_buf_init(&out);
          sl_fmt_avro.encode(e, row, &out);
          sl_fmt_avro.encoder_free(e);
          run(ctx, NULL, &schema, out.z ? out.z : "", out.n);
          sl_buf_free(&out);
          free(row);
        }
        free(names);
      }
      sl_avro_ctx_free(enc);
    }
    sl_err_clear(&err);
    sl_avro_ctx_free(ctx);
    free(text);
  }
  sl_schema_free(&schema);
  sl_err_clear(&err);
  return 0;
}
