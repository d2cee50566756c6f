/*
** format.h - record formats: bytes to rows (decoders) and rows to bytes
** (encoders), behind one vtable per format (fmt_json.c, fmt_csv.c,
** fmt_raw.c).
**
** A connector (connector.h) delivers records: byte ranges, one per message or
** per framed record in a file.  A decoder turns one record into the values of
** one row, writing only the columns of its schema.  The schema is either
** declared (CREATE STREAM s (a INT, b TEXT) / columns => '...') or open: for
** JSON without a declared schema the binder adds a column for every field name
** a query uses (sl_schema_need), so the decoder extracts just those fields and
** skips the rest without building a tree.
**
** Row memory.  Decoded values borrow bytes from the record whenever they can
** (a JSON string without escapes, a CSV field without quotes); bytes that had
** to be rewritten (unescaped strings, vectors) go to the arena passed to
** decode, which the caller resets once per batch.  So a row is valid until the
** connector's next read or the arena's reset, whichever is first.
*/
#ifndef SLUICE_FORMAT_H
#define SLUICE_FORMAT_H

#include "value.h"

struct sl_options; /* connector.h */

/* A column of a schema. */
typedef struct sl_column {
  char *name;      /* owned; as declared or as first referenced */
  char *decltype;  /* owned declared type text ("REAL", "TEXT"...), or NULL */
  sl_affinity aff; /* affinity implied by decltype; SL_AFF_NONE when undeclared */
  int is_vector;   /* declared VECTOR */
} sl_column;

/* The columns a format produces.  open != 0: more columns may be added by
** name while binding (schemaless JSON). */
typedef struct sl_schema {
  int ncol;
  int cap;
  sl_column *cols; /* owned */
  int open;        /* columns can be added by sl_schema_need */
} sl_schema;

void sl_schema_init(sl_schema *s, int open);
void sl_schema_free(sl_schema *s);
/* Append a declared column; returns its index. */
int sl_schema_add(sl_schema *s, const char *name, size_t n, const char *decltype);
/* Index of the column named (case-sensitive match first, then ASCII
** case-insensitive), or -1. */
int sl_schema_find(const sl_schema *s, const char *name, size_t n);
/* Find, or add when the schema is open; -1 if closed and absent. */
int sl_schema_need(sl_schema *s, const char *name, size_t n);
/* Parse a column list 'a REAL, b TEXT, c' into s (declared types optional).
** Returns 0, or -1 with a message in err. */
int sl_schema_parse(sl_schema *s, const char *spec, sl_err *err);
void sl_schema_copy(sl_schema *dst, const sl_schema *src);

/* Options given to a format, from the source/sink call (name => value). */
typedef struct sl_fmt_opts {
  int header; /* csv: first line is a header (source: skipped / names; sink: written) */
  char delim; /* csv: field delimiter, default ',' */
  const sl_schema *schema; /* source: the columns to produce (borrowed, outlives the decoder) */
  /* source: a decoder that makes text out of escapes (JSON's \uD800) makes
  ** what is not UTF-8 (a lone surrogate) U+FFFD (0) or rejects the record
  ** (1); records that are not UTF-8 themselves never reach a decoder (the
  ** task repairs or rejects them first) */
  int utf8_reject;
  /* what the format's configure() made of its own options (a compiled schema),
  ** owned by the source or sink that holds these options and freed by
  ** sl_source_fini / sl_sink_fini through the format's ctx_free; NULL for
  ** formats without configure.  Copies of the options borrow it. */
  void *ctx;
} sl_fmt_opts;

/* frame(): at eof, what is left cannot be a record (an unclosed quote). */
#define SL_FRAME_BAD ((size_t)-1)

typedef struct sl_decoder sl_decoder;
typedef struct sl_encoder sl_encoder;

typedef struct sl_format {
  const char *name; /* "json", "csv", "raw" */

  /* Frame the next record in buf[0..len): return its length including the
  ** terminator (newline), setting *rec_len to the record's length without it;
  ** return 0 if buf holds no complete record yet.  At eof a final record
  ** without terminator is returned whole, unless it cannot be one (CSV: it
  ** ends inside quotes): then SL_FRAME_BAD.  The caller bounds how much it
  ** waits for a record (max_record_bytes).  NULL: one record per message
  ** (a format only Kafka and other message sources carry: Avro). */
  size_t (*frame)(const char *buf, size_t len, int eof, size_t *rec_len);

  /* Create a decoder producing the columns of opts->schema (which may still
  ** grow until the first decode). */
  sl_decoder *(*decoder_new)(const sl_fmt_opts *opts, sl_err *err);
  /* Decode one record into row[0..schema.ncol).  Columns absent from the
  ** record become NULL.  Returns 0, or -1 with a short reason in *why
  ** (a static string or text in the arena), the row then being undefined. */
  int (*decode)(sl_decoder *d, const char *rec, size_t len, sl_value *row, sl_arena *arena,
                const char **why);
  void (*decoder_free)(sl_decoder *d);

  /* Create an encoder for rows with these column names. */
  sl_encoder *(*encoder_new)(int ncol, const char *const *names, const sl_fmt_opts *opts,
                             sl_err *err);
  /* Append what goes before the first row (csv header), if anything. */
  void (*begin)(sl_encoder *e, sl_buf *out);
  /* Append one row as one record, without the record terminator. */
  void (*encode)(sl_encoder *e, sl_value *row, sl_buf *out);
  void (*encoder_free)(sl_encoder *e);

  /* Optional (NULL: the format has no options of its own).  Called once
  ** when a source or sink is opened, after the common options: read the
  ** format's own options from opts (sl_opt_find marks them used; files they
  ** name are asked for with sl_opt_authorize first), compile what they say
  ** into fo->ctx, and for a source (schema != NULL) add the columns the
  ** format's schema defines when none were declared (a declared list is
  ** checked against it instead).  0, or -1 with err set (fo->ctx then NULL
  ** or freeable by ctx_free). */
  int (*configure)(sl_fmt_opts *fo, struct sl_options *opts, sl_schema *schema, sl_err *err);
  void (*ctx_free)(void *ctx);

  /* 1: records are bytes, not text (protobuf, avro): the task hands them to the
  ** decoder without its UTF-8 check (the decoder checks its text fields),
  ** and a file sink writes each without the newline op_sink puts after it
  ** (the format frames its records itself). */
  int binary;
} sl_format;

extern const sl_format sl_fmt_json;
extern const sl_format sl_fmt_csv;
extern const sl_format sl_fmt_raw;
extern const sl_format sl_fmt_avro;     /* fmt_avro.c, docs/avro.md */
extern const sl_format sl_fmt_protobuf; /* fmt_protobuf.c */
/* Frame one line (the frame function of line-based formats): a CR before the
** LF is not part of the record; at eof a last line without LF is a record. */
size_t sl_frame_line(const char *buf, size_t len, int eof, size_t *rec_len);
/* Append z[0..n) as a CSV field, quoted (with "" for ") only when it holds
** the delimiter, a quote or a line break. */
void sl_csv_append_field(sl_buf *out, const char *z, size_t n, char delim);

/* Split one CSV record (RFC 4180) into fields, calling put(ud, index, bytes,
** length, quoted) for each; fields with "" are unescaped into the arena.
** Returns the number of fields, or -1 if the record is malformed or put
** returned non-zero. */
int sl_csv_split(const char *rec, size_t len, char delim, sl_arena *arena,
                 int (*put)(void *ud, int i, const char *z, size_t n, int quoted), void *ud);

/* Look a format up by name (case-insensitive); NULL if unknown. */
const sl_format *sl_format_find(const char *name);

#endif /* SLUICE_FORMAT_H */
