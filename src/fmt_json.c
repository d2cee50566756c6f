/*
** fmt_json.c - JSON lines: one object per record.
**
** The decoder does not build a tree.  It walks the object's members once
** (json.c's scanner validates as it goes) and converts only the values of
** members whose key names a column of the schema; everything else is
** skipped.  Keys usually come in the same order in every record, so the
** column that matched the k-th key last time is tried first.
** The encoder writes {"col":value,...} with the column names quoted once.
*/
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "json.h"

typedef struct json_decoder {
  const sl_schema *schema; /* borrowed; may grow until the first decode */
  int ncol;                /* columns known when lookup was built */
  size_t *len;             /* name length per column */
  int *guess;              /* key position -> column it matched last time */
  int nguess;
  char *keybuf;            /* unescaped key scratch */
  size_t keycap;
} json_decoder;

static size_t json_frame(const char *buf, size_t len, int eof, size_t *rec_len) {
  const char *nl = memchr(buf, '\n', len);
  if (!nl) {
    if (!eof || !len) return 0;
    *rec_len = len;
    return len;
  }
  size_t n = (size_t)(nl - buf);
  *rec_len = n && buf[n - 1] == '\r' ? n - 1 : n;
  return n + 1;
}

static sl_decoder *json_decoder_new(const sl_fmt_opts *opts, sl_err *err) {
  json_decoder *d = sl_calloc(1, sizeof *d);
  d->schema = opts->schema;
  d->ncol = -1;
  return (sl_decoder *)d;
}

static void json_decoder_free(sl_decoder *dd) {
  json_decoder *d = (json_decoder *)dd;
  free(d->len);
  free(d->guess);
  free(d->keybuf);
  free(d);
}

static void build_lookup(json_decoder *d) {
  d->ncol = d->schema->ncol;
  d->len = sl_calloc((size_t)(d->ncol ? d->ncol : 1), sizeof(size_t));
  for (int i = 0; i < d->ncol; i++) d->len[i] = strlen(d->schema->cols[i].name);
  d->nguess = 64;
  d->guess = sl_malloc(sizeof(int) * (size_t)d->nguess);
  for (int i = 0; i < d->nguess; i++) d->guess[i] = -1;
}

/* Column for a key (exact match, then ASCII case-insensitive), or -1. */
static int find_col(json_decoder *d, int pos, const char *key, size_t klen) {
  const sl_column *cols = d->schema->cols;
  if (pos < d->nguess) {
    int g = d->guess[pos];
    if (g >= 0 && d->len[g] == klen && memcmp(cols[g].name, key, klen) == 0) return g;
  }
  int found = -1;
  for (int i = 0; i < d->ncol && found < 0; i++)
    if (d->len[i] == klen && memcmp(cols[i].name, key, klen) == 0) found = i;
  for (int i = 0; i < d->ncol && found < 0; i++)
    if (d->len[i] == klen && sl_strnicmp(cols[i].name, key, klen) == 0) found = i;
  if (pos < d->nguess) d->guess[pos] = found;
  return found;
}

static int json_decode(sl_decoder *dd, const char *rec, size_t len, sl_value *row, sl_arena *arena,
                       const char **why) {
  json_decoder *d = (json_decoder *)dd;
  if (d->ncol < 0) build_lookup(d);
  for (int i = 0; i < d->ncol; i++) row[i].type = SL_NULL;
  size_t i = sl_json_ws(rec, len, 0);
  if (i >= len) {
    *why = "empty record";
    return -1;
  }
  if (rec[i] != '{') {
    *why = "not a JSON object";
    return -1;
  }
  i++;
  const char *key;
  size_t klen, v, ve;
  int esc, rc, pos = 0;
  sl_json_kind kind;
  while ((rc = sl_json_member(rec, len, &i, &key, &klen, &esc, &v, &ve, &kind)) == 1) {
    if (esc) {
      if (klen > d->keycap) {
        d->keycap = klen;
        d->keybuf = sl_realloc(d->keybuf, klen + 1);
      }
      klen = sl_json_unescape(key, klen, d->keybuf);
      key = d->keybuf;
    }
    int c = find_col(d, pos++, key, klen);
    if (c < 0) continue;
    sl_value *out = &row[c];
    /* Fast paths for the common values: a string without escapes is
    ** borrowed, a short integer is read here. */
    if (kind == SL_JSON_STRING && !memchr(rec + v + 1, '\\', ve - v - 2)) {
      sl_value_borrow_text(out, rec + v + 1, ve - v - 2, 0);
    } else if (kind == SL_JSON_INT && ve - v <= 18) {
      size_t p = v;
      int neg = rec[p] == '-';
      int64_t x = 0;
      for (p += (size_t)neg; p < ve; p++) x = x * 10 + (rec[p] - '0');
      sl_value_set_int(out, neg ? -x : x);
    } else if (kind == SL_JSON_ARRAY && sl_json_to_vector(rec + v, ve - v, out, arena) == 0) {
      continue;
    } else if (sl_json_to_value(rec + v, ve - v, out, arena)) {
      *why = "malformed JSON string";
      return -1;
    }
    if (d->schema->cols[c].aff != SL_AFF_NONE) sl_value_apply_affinity(out, d->schema->cols[c].aff);
  }
  if (rc < 0 || sl_json_ws(rec, len, i) != len) {
    sl_buf msg;
    sl_buf_init(&msg);
    *why = "malformed JSON";
    sl_buf_free(&msg);
    return -1;
  }
  return 0;
}

typedef struct json_encoder {
  int ncol;
  char **keys; /* "\"name\":" per column, JSON-escaped */
  size_t *klen;
} json_encoder;

static sl_encoder *json_encoder_new(int ncol, const char *const *names, const sl_fmt_opts *opts,
                                    sl_err *err) {
  json_encoder *e = sl_calloc(1, sizeof *e);
  e->ncol = ncol;
  e->keys = sl_calloc((size_t)(ncol ? ncol : 1), sizeof(char *));
  e->klen = sl_calloc((size_t)(ncol ? ncol : 1), sizeof(size_t));
  for (int i = 0; i < ncol; i++) {
    sl_buf b;
    sl_buf_init(&b);
    sl_json_append_string(&b, names[i], strlen(names[i]));
    sl_buf_putc(&b, ':');
    e->keys[i] = b.z;
    e->klen[i] = b.n;
  }
  return (sl_encoder *)e;
}

static void json_encode(sl_encoder *ee, sl_value *row, sl_buf *out) {
  json_encoder *e = (json_encoder *)ee;
  sl_buf_putc(out, '{');
  for (int i = 0; i < e->ncol; i++) {
    if (i) sl_buf_putc(out, ',');
    sl_buf_append(out, e->keys[i], e->klen[i]);
    sl_json_append_value(out, &row[i]);
  }
  sl_buf_putc(out, '}');
}

static void json_encoder_free(sl_encoder *ee) {
  json_encoder *e = (json_encoder *)ee;
  for (int i = 0; i < e->ncol; i++) free(e->keys[i]);
  free(e->keys);
  free(e->klen);
  free(e);
}

const sl_format sl_fmt_json = {"json",         json_frame,       json_decoder_new,
                               json_decode,    json_decoder_free, json_encoder_new,
                               NULL,           json_encode,      json_encoder_free};
