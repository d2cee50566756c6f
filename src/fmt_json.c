/*
** fmt_json.c - JSON lines: one object per record, one record per line.
**
** The decoder never builds a tree.  It walks the top-level object's members
** once with sl_json_member (json.c's scanner validates every byte as it goes,
** so a malformed record is always rejected, wherever the damage is, and says
** at which byte) and
** converts only the values whose key names a column of the schema; every
** other value is skipped without conversion.  Keys usually come in the same
** order in every record, so the decoder remembers, per key position, which
** key it saw there and which column it matched: the common case is one
** length check and one 8-byte compare per key.
**
** Values: strings without escapes borrow the record's bytes; escaped strings
** are unescaped into the arena; numbers become INTEGER (REAL when they do not
** fit) or REAL, true/false 1/0, null NULL; an array whose elements are all
** numbers becomes a VECTOR, other arrays and objects TEXT flagged SL_F_JSON
** (minified).  A column with a declared type gets its affinity applied.
** Duplicate keys: the last one wins.  Keys match column names exactly first,
** then ASCII case-insensitively (SQL names are case-insensitive).
**
** The encoder writes {"col":value,...} with each column's quoted key
** prepared once.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "json.h"

/* A column's name, ready for fast comparison with keys. */
typedef struct col_key {
  const char *name; /* borrowed from the schema */
  size_t len;
  uint64_t pre; /* the first (up to) 8 bytes of the name, zero-padded */
} col_key;

/* What the key at one position was last time, and what it matched. */
typedef struct key_slot {
  size_t len;   /* key length; (size_t)-1: slot unused */
  uint64_t pre; /* first 8 bytes, zero-padded */
  uint64_t h;   /* hash of the whole key when longer than 8 bytes */
  int col;      /* the column it matched, or -1 */
} key_slot;

#define NSLOT 64 /* key positions remembered */

typedef struct json_decoder {
  const sl_schema *schema; /* borrowed; may grow until the first decode */
  int ncol;                /* columns known when keys was built; -1 before */
  col_key *keys;           /* per column */
  key_slot slots[NSLOT];
  char *keybuf; /* scratch for unescaped keys */
  size_t keycap;
  int utf8_reject; /* a lone surrogate escape rejects the record (else U+FFFD) */
} json_decoder;

/* The first min(n, 8) bytes of z as a word, zero-padded.  may_overread:
** z[0..8) is readable even when n < 8 (then one load and a mask). */
static inline uint64_t prefix8(const char *z, size_t n, int may_overread) {
  uint64_t w = 0;
  if (n >= 8) {
    memcpy(&w, z, 8);
    return w;
  }
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  if (may_overread) {
    memcpy(&w, z, 8);
    return w & ((1ULL << (8 * n)) - 1);
  }
#endif
  for (size_t i = 0; i < n; i++)
    ((unsigned char *)&w)[i] = (unsigned char)z[i];
  return w;
}

/* Create a decoder for opts->schema (borrowed: it must outlive the decoder). */
static sl_decoder *json_decoder_new(const sl_fmt_opts *opts, sl_err *err) {
  json_decoder *d = sl_calloc(1, sizeof *d);
  d->schema = opts->schema;
  d->utf8_reject = opts->utf8_reject;
  d->ncol = -1;
  return (sl_decoder *)d;
}

static void json_decoder_free(sl_decoder *dd) {
  json_decoder *d = (json_decoder *)dd;
  free(d->keys);
  free(d->keybuf);
  free(d);
}

/* (Re)build the per-column keys from the schema and forget remembered keys. */
static void build_keys(json_decoder *d) {
  d->ncol = d->schema ? d->schema->ncol : 0;
  free(d->keys);
  d->keys = sl_calloc((size_t)(d->ncol ? d->ncol : 1), sizeof(col_key));
  for (int c = 0; c < d->ncol; c++) {
    col_key *k = &d->keys[c];
    k->name = d->schema->cols[c].name;
    k->len = strlen(k->name);
    k->pre = prefix8(k->name, k->len, 0);
  }
  for (int s = 0; s < NSLOT; s++)
    d->slots[s].len = (size_t)-1;
}

/* The column the key names, without remembering: exact match first, then
** ASCII case-insensitive; -1 if none. */
static int lookup(json_decoder *d, const char *key, size_t klen, uint64_t pre) {
  for (int c = 0; c < d->ncol; c++) {
    const col_key *k = &d->keys[c];
    if (k->len == klen && k->pre == pre && (klen <= 8 || !memcmp(k->name + 8, key + 8, klen - 8)))
      return c;
  }
  for (int c = 0; c < d->ncol; c++)
    if (d->keys[c].len == klen && sl_strnicmp(d->keys[c].name, key, klen) == 0) return c;
  return -1;
}

/* The column for the key at member position pos (see the file comment).
** key[0..klen) is unescaped; readable8: key[0..8) may be read. */
static int find_col(json_decoder *d, int pos, const char *key, size_t klen, int readable8) {
  uint64_t pre = prefix8(key, klen, readable8);
  if (pos >= NSLOT) return lookup(d, key, klen, pre);
  key_slot *s = &d->slots[pos];
  if (s->len == klen && s->pre == pre) {
    if (klen <= 8) return s->col;
    if (s->col >= 0) {
      if (!memcmp(d->keys[s->col].name + 8, key + 8, klen - 8)) return s->col;
    } else if (s->h == sl_hash(key, klen, 0)) {
      return -1;
    }
  }
  s->len = klen;
  s->pre = pre;
  s->h = klen > 8 ? sl_hash(key, klen, 0) : 0;
  s->col = lookup(d, key, klen, pre);
  return s->col;
}

/* "malformed JSON at byte N" (N 1-based; with why when nested too deeply)
** or "malformed JSON: truncated after N bytes" in the arena, or a static
** string without an arena. */
static const char *malformed(const char *rec, size_t len, size_t at, sl_arena *arena) {
  if (!arena) return "malformed JSON";
  char *m = sl_arena_alloc(arena, 128);
  if (at >= len)
    snprintf(m, 128, "malformed JSON: truncated after %zu bytes", len);
  else if (sl_json_too_deep(rec, len, at))
    snprintf(m, 128, "malformed JSON at byte %zu: nested deeper than %d arrays and objects", at + 1,
             SL_JSON_MAX_DEPTH);
  else
    snprintf(m, 128, "malformed JSON at byte %zu", at + 1);
  return m;
}

/* out, the TEXT of a JSON value (a string unescaped in the arena,
** or an array or object as JSON text), holds a lone surrogate escape: make
** it U+FFFD (the string's three bytes in place; the JSON text's escape
** rewritten as \ufffd in an arena copy). */
static void replace_surrogates(sl_value *out, sl_arena *arena) {
  size_t len = out->n;
  if (!(out->flags & SL_F_JSON)) { /* unescaped: a surrogate is ED A0..BF xx, valid otherwise */
    char *p = (char *)out->u.z;
    for (size_t k = sl_utf8_check(p, len); k + 3 <= len;
         k = k + 3 + sl_utf8_check(p + k + 3, len - k - 3))
      memcpy(p + k, "\xEF\xBF\xBD", 3);
    return;
  }
  char *p = sl_arena_alloc(arena, len + 1);
  memcpy(p, out->u.z, len);
  p[len] = 0;
  for (size_t k = sl_json_lone_surrogate(p, len); k < len;
       k = k + 6 + sl_json_lone_surrogate(p + k + 6, len - k - 6))
    memcpy(p + k + 2, "fffd", 4);
  sl_value_borrow_text(out, p, len, SL_F_TERM | SL_F_JSON);
}

/* Convert the member value rec[v..ve) of the given kind into out; a
** non-empty array of numbers becomes a VECTOR when vec != 0.  A string,
** array or object holding a lone surrogate escape (\uD800) gets U+FFFD for
** it, or (utf8_reject) makes the record rejected.  0, -1 when malformed, -2
** when rejected for a lone surrogate. */
static int convert(const char *rec, size_t v, size_t ve, sl_json_kind kind, int vec, sl_value *out,
                   sl_arena *arena, int utf8_reject) {
  const char *z = rec + v;
  size_t n = ve - v;
  switch (kind) {
  case SL_JSON_INT: {
    size_t i = z[0] == '-';
    if (n - i > 18) break; /* may not fit: json.c decides */
    int64_t x = 0;
    for (; i < n; i++)
      x = x * 10 + (z[i] - '0');
    sl_value_set_int(out, z[0] == '-' ? -x : x);
    return 0;
  }
  case SL_JSON_STRING:
    if (memchr(z + 1, '\\', n - 2)) break;
    sl_value_borrow_text(out, z + 1, n - 2, 0);
    return 0;
  case SL_JSON_NULL: sl_value_set_null(out); return 0;
  case SL_JSON_TRUE: sl_value_set_int(out, 1); return 0;
  case SL_JSON_FALSE: sl_value_set_int(out, 0); return 0;
  case SL_JSON_ARRAY:
    if (vec && sl_json_to_vector(z, n, out, arena) == 0 && out->n > 0) return 0;
    break;
  default: break;
  }
  if (sl_json_to_value(z, n, out, arena)) return -1;
  /* the slow path only: escaped strings, arrays, objects */
  if (kind < SL_JSON_STRING || out->type != SL_TEXT || sl_json_lone_surrogate(z, n) == n) return 0;
  if (utf8_reject) return -2;
  replace_surrogates(out, arena);
  return 0;
}

/* Decode one record into row[0..ncol); see format.h. */
/* Why a record is rejected: column col declared numeric holds the JSON
** value z[0..n) (a string that is not a number, an array, an object), as
** CSV says it; the message goes to the arena. */
static const char *not_a_number(const sl_column *col, const char *z, size_t n, sl_arena *arena) {
  size_t cap = strlen(col->name) + 96;
  char *m = sl_arena_alloc(arena, cap);
  snprintf(m, cap, "column %s: %.*s%s is not a %s", col->name, (int)(n > 40 ? 40 : n), z,
           n > 40 ? "..." : "", col->decltype ? col->decltype : "number");
  return m;
}

static int json_decode(sl_decoder *dd, const char *rec, size_t len, sl_value *row, sl_arena *arena,
                       const char **why) {
  json_decoder *d = (json_decoder *)dd;
  if (d->ncol != (d->schema ? d->schema->ncol : 0)) build_keys(d);
  const sl_column *cols = d->ncol ? d->schema->cols : NULL;
  for (int c = 0; c < d->ncol; c++)
    sl_value_set_null(&row[c]);
  size_t i = sl_json_ws(rec, len, 0);
  if (i >= len) {
    *why = "empty record";
    return -1;
  }
  if (rec[i] != '{') {
    sl_json_kind k;
    size_t bad = 0, e = sl_json_check(rec, len, i, &k, &bad);
    if (e == (size_t)-1 || sl_json_ws(rec, len, e) != len) {
      *why = malformed(rec, len, e == (size_t)-1 ? bad : sl_json_ws(rec, len, e), arena);
      return -1;
    }
    *why = "not a JSON object";
    return -1;
  }
  i++;
  const char *key;
  size_t klen, v, ve;
  int esc, rc, pos = 0;
  sl_json_kind kind;
  while ((rc = sl_json_member(rec, len, &i, &key, &klen, &esc, &v, &ve, &kind)) == 1) {
    int readable8 = (size_t)(key - rec) + 8 <= len;
    if (esc) {
      if (klen + 8 > d->keycap) {
        d->keycap = klen + 8;
        d->keybuf = sl_realloc(d->keybuf, d->keycap);
      }
      klen = sl_json_unescape(key, klen, d->keybuf);
      key = d->keybuf;
      readable8 = 1;
    }
    int c = find_col(d, pos++, key, klen, readable8);
    if (c < 0) continue;
    sl_value *out = &row[c];
    int rcv = convert(rec, v, ve, kind, cols[c].aff != SL_AFF_TEXT, out, arena, d->utf8_reject);
    if (rcv == -2) {
      *why = "a lone surrogate escape (\\uD800..\\uDFFF) is not Unicode (invalid_utf8 = 'reject')";
      return -1;
    }
    if (rcv) { /* cannot happen: validated */
      *why = malformed(rec, len, v, arena);
      return -1;
    }
    if (cols[c].aff == SL_AFF_TEXT) {
      sl_value_text_in(out, arena); /* a number's text in the batch's arena: nothing owned */
    } else if (cols[c].aff != SL_AFF_NONE) {
      if (out->type != SL_VECTOR) sl_value_apply_affinity(out, cols[c].aff);
      /* as CSV: a declared number must be one (an array of numbers only
      ** in a VECTOR column) */
      if (out->type == SL_TEXT || (out->type == SL_VECTOR && !cols[c].is_vector)) {
        *why = not_a_number(&cols[c], rec + v, ve - v, arena);
        return -1;
      }
    }
  }
  if (rc < 0) { /* i is at the first bad byte */
    *why = malformed(rec, len, i, arena);
    return -1;
  }
  i = sl_json_ws(rec, len, i);
  if (i != len) {
    *why = malformed(rec, len, i, arena);
    return -1;
  }
  return 0;
}

typedef struct json_encoder {
  int ncol;
  char **keys; /* ",\"name\":" per column (the first without the comma), owned */
  size_t *klen;
} json_encoder;

/* Create an encoder writing objects keyed by names (copied). */
static sl_encoder *json_encoder_new(int ncol, const char *const *names, const sl_fmt_opts *opts,
                                    sl_err *err) {
  json_encoder *e = sl_calloc(1, sizeof *e);
  e->ncol = ncol;
  e->keys = sl_calloc((size_t)(ncol ? ncol : 1), sizeof(char *));
  e->klen = sl_calloc((size_t)(ncol ? ncol : 1), sizeof(size_t));
  for (int i = 0; i < ncol; i++) {
    sl_buf b;
    sl_buf_init(&b);
    sl_buf_putc(&b, i ? ',' : '{');
    sl_json_append_string(&b, names[i], strlen(names[i]));
    sl_buf_putc(&b, ':');
    e->keys[i] = b.z;
    e->klen[i] = b.n;
  }
  return (sl_encoder *)e;
}

/* Append row as one object (no newline). */
static void json_encode(sl_encoder *ee, sl_value *row, sl_buf *out) {
  json_encoder *e = (json_encoder *)ee;
  if (!e->ncol) sl_buf_putc(out, '{');
  for (int i = 0; i < e->ncol; i++) {
    sl_buf_append(out, e->keys[i], e->klen[i]);
    sl_json_append_value(out, &row[i]);
  }
  sl_buf_putc(out, '}');
}

static void json_encoder_free(sl_encoder *ee) {
  json_encoder *e = (json_encoder *)ee;
  for (int i = 0; i < e->ncol; i++)
    free(e->keys[i]);
  free(e->keys);
  free(e->klen);
  free(e);
}

const sl_format sl_fmt_json = {"json",
                               sl_frame_line,
                               json_decoder_new,
                               json_decode,
                               json_decoder_free,
                               json_encoder_new,
                               NULL,
                               json_encode,
                               json_encoder_free,
                               NULL,
                               NULL,
                               0};
