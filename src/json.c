/*
** json.c - JSON text without trees (see json.h): a strict scanner used by the
** record decoder and by the JSON SQL functions, conversion of JSON values to
** SQL values, paths, and JSON output of values.
**
** What is accepted is exactly what SQLite 3.40.1's json_valid() accepts
** (checked in tests/format_test.c): RFC 8259 with no extensions.  Whitespace
** is space, tab, LF and CR only; strings may not hold bytes below 0x20; escapes
** are \" \\ \/ \b \f \n \r \t and \u with four hex digits (lone surrogates
** are accepted, as SQLite does); numbers have no leading zeros, no leading
** '+' or '.', and digits after '.' and 'e'; no trailing commas; nesting up to
** SL_JSON_MAX_DEPTH arrays and objects.
**
** Speed matters: the record decoder runs these loops over every byte of every
** input record.  Strings are skipped eight bytes at a time when they hold
** nothing that needs a look (a quote, a backslash or a control byte), and
** whitespace tests are a table lookup.  No scanner reads z[n] or beyond.
**
** The scanners also say where malformed text goes wrong: the offset of the
** first byte that cannot continue a valid value (the length when the text
** ends too soon), carried in the return value with its top bit set.  The
** record decoder reports it ("malformed JSON at byte N").
*/
#include "json.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BAD ((size_t)-1)

/* A scanner's result: the index after what it scanned, or FAIL(at) where at
** is the offset of the first bad byte (never above n, so below ERR). */
#define ERR ((size_t)1 << (sizeof(size_t) * 8 - 1))
#define FAIL(at) ((size_t)(at) | ERR)
#define FAILED(r) ((ptrdiff_t)(r) < 0) /* the top bit: one test of the sign */
#define FAIL_OFFSET(r) ((r) & ~ERR)

/* 1 for the four JSON whitespace bytes. */
static const uint8_t ws_tab[256] = {[' '] = 1, ['\t'] = 1, ['\n'] = 1, ['\r'] = 1};

/* 1 for bytes that end a run of plain string bytes: '"', '\\', controls. */
static const uint8_t str_stop[256] = {1, 1, 1, 1, 1, 1, 1, 1, 1,         1,         1, 1,
                                      1, 1, 1, 1, 1, 1, 1, 1, 1,         1,         1, 1,
                                      1, 1, 1, 1, 1, 1, 1, 1, ['"'] = 1, ['\\'] = 1};

/* Value of a hex digit, or -1. */
static int hexv(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Index of the first non-whitespace byte at or after i (n if none). */
size_t sl_json_ws(const char *z, size_t n, size_t i) {
  while (i < n && ws_tab[(uint8_t)z[i]])
    i++;
  return i;
}

/* Skip whitespace inline: the common case is no whitespace at all. */
#define SKIP_WS(z, n, i)                                                                           \
  do {                                                                                             \
    while ((i) < (n) && ws_tab[(uint8_t)(z)[i]])                                                   \
      (i)++;                                                                                       \
  } while (0)

#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

/* Nonzero if any byte of the 8-byte word w is '"', '\\' or below 0x20
** (bytes >= 0x80 never count: UTF-8 passes through). */
static inline uint64_t word_has_stop(uint64_t w) {
  uint64_t q = w ^ (ONES * '"'), b = w ^ (ONES * '\\');
  uint64_t zq = (q - ONES) & ~q, zb = (b - ONES) & ~b, lt = (w - ONES * 0x20) & ~w;
  return (zq | zb | lt) & HIGHS;
}

/* Skip the string whose opening quote is z[i]; return the index after its
** closing quote, or FAIL.  *esc (if given) is set to 1 when it has escapes. */
static size_t skip_string(const char *z, size_t n, size_t i, int *esc) {
  i++;
  for (;;) {
    /* Eight bytes at a time: the lowest flagged byte of the mask is exact
    ** (flags above a real hit may be false, and are never looked at). */
    while (i + 8 <= n) {
      uint64_t w;
      memcpy(&w, z + i, 8);
      uint64_t m = word_has_stop(w);
      if (m) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        break; /* the exact flag is the last byte in memory: scan bytes */
#else
        i += (size_t)__builtin_ctzll(m) / 8;
        goto stop;
#endif
      }
      i += 8;
    }
    while (i < n && !str_stop[(uint8_t)z[i]])
      i++;
    if (i >= n) return FAIL(n);
  stop:;
    char c = z[i];
    if (c == '"') return i + 1;
    if (c != '\\') return FAIL(i); /* a control character */
    if (esc) *esc = 1;
    if (i + 1 >= n) return FAIL(n);
    switch (z[i + 1]) {
    case '"':
    case '\\':
    case '/':
    case 'b':
    case 'f':
    case 'n':
    case 'r':
    case 't': i += 2; break;
    case 'u':
      for (int k = 2; k < 6; k++) {
        if (i + k >= n) return FAIL(n);
        if (hexv((uint8_t)z[i + k]) < 0) return FAIL(i + k);
      }
      i += 6;
      break;
    default: return FAIL(i + 1);
    }
  }
}

/* Skip the number at z[i]; FAIL if it is not one.  *kind gets INT or REAL.
** (i <= n throughout, so FAIL(i) with i == n means "ends too soon".) */
static size_t skip_number(const char *z, size_t n, size_t i, sl_json_kind *kind) {
  *kind = SL_JSON_INT;
  if (i < n && z[i] == '-') i++;
  if (i >= n) return FAIL(n);
  if (z[i] == '0') {
    i++;
  } else if (z[i] >= '1' && z[i] <= '9') {
    i++;
    while (i < n && (unsigned)(z[i] - '0') < 10)
      i++;
  } else {
    return FAIL(i);
  }
  if (i < n && z[i] == '.') {
    i++;
    if (i >= n || (unsigned)(z[i] - '0') >= 10) return FAIL(i);
    while (i < n && (unsigned)(z[i] - '0') < 10)
      i++;
    *kind = SL_JSON_REAL;
  }
  if (i < n && (z[i] == 'e' || z[i] == 'E')) {
    i++;
    if (i < n && (z[i] == '+' || z[i] == '-')) i++;
    if (i >= n || (unsigned)(z[i] - '0') >= 10) return FAIL(i);
    while (i < n && (unsigned)(z[i] - '0') < 10)
      i++;
    *kind = SL_JSON_REAL;
  }
  return i;
}

/* Skip the literal lit of length len at z[i]: the index after it, or FAIL
** at the first byte that differs. */
static inline size_t skip_lit(const char *z, size_t n, size_t i, const char *lit, size_t len) {
  if (n - i >= len && memcmp(z + i, lit, len) == 0) return i + len;
  for (size_t k = 0;; k++)
    if (i + k >= n || z[i + k] != lit[k]) return FAIL(i + k < n ? i + k : n);
}

/* Skip the value at z[i] (i <= n; i == n is the text ending too soon);
** depth is the number of arrays and objects around it.  Returns the index
** after it, or FAIL (a value nested deeper than SL_JSON_MAX_DEPTH fails at
** its opening bracket). */
static size_t skip_value(const char *z, size_t n, size_t i, sl_json_kind *kind, int depth) {
  if (i >= n) return FAIL(n);
  switch (z[i]) {
  case '"': *kind = SL_JSON_STRING; return skip_string(z, n, i, NULL);
  case '{': {
    *kind = SL_JSON_OBJECT;
    if (depth >= SL_JSON_MAX_DEPTH) return FAIL(i);
    i++;
    SKIP_WS(z, n, i);
    if (i < n && z[i] == '}') return i + 1;
    for (;;) {
      if (i >= n || z[i] != '"') return FAIL(i);
      i = skip_string(z, n, i, NULL);
      if (FAILED(i)) return i;
      SKIP_WS(z, n, i);
      if (i >= n || z[i] != ':') return FAIL(i);
      i++;
      SKIP_WS(z, n, i);
      sl_json_kind k;
      i = skip_value(z, n, i, &k, depth + 1);
      if (FAILED(i)) return i;
      SKIP_WS(z, n, i);
      if (i >= n) return FAIL(n);
      if (z[i] == '}') return i + 1;
      if (z[i] != ',') return FAIL(i);
      i++;
      SKIP_WS(z, n, i);
    }
  }
  case '[': {
    *kind = SL_JSON_ARRAY;
    if (depth >= SL_JSON_MAX_DEPTH) return FAIL(i);
    i++;
    SKIP_WS(z, n, i);
    if (i < n && z[i] == ']') return i + 1;
    for (;;) {
      sl_json_kind k;
      i = skip_value(z, n, i, &k, depth + 1);
      if (FAILED(i)) return i;
      SKIP_WS(z, n, i);
      if (i >= n) return FAIL(n);
      if (z[i] == ']') return i + 1;
      if (z[i] != ',') return FAIL(i);
      i++;
      SKIP_WS(z, n, i);
    }
  }
  case 't': *kind = SL_JSON_TRUE; return skip_lit(z, n, i, "true", 4);
  case 'f': *kind = SL_JSON_FALSE; return skip_lit(z, n, i, "false", 5);
  case 'n': *kind = SL_JSON_NULL; return skip_lit(z, n, i, "null", 4);
  default: return skip_number(z, n, i, kind);
  }
}

/* Validate the value at z[i]; see json.h. */
size_t sl_json_check(const char *z, size_t n, size_t i, sl_json_kind *kind, size_t *bad) {
  sl_json_kind k = SL_JSON_BAD;
  size_t r = skip_value(z, n, i, &k, 0);
  if (kind) *kind = FAILED(r) ? SL_JSON_BAD : k;
  if (!FAILED(r)) return r;
  if (bad) *bad = FAIL_OFFSET(r);
  return BAD;
}

size_t sl_json_skip(const char *z, size_t n, size_t i, sl_json_kind *kind) {
  return sl_json_check(z, n, i, kind, NULL);
}

int sl_json_too_deep(const char *z, size_t n, size_t bad) {
  if (bad >= n || (z[bad] != '[' && z[bad] != '{')) return 0;
  /* the text before bad scanned valid: brackets outside strings count */
  size_t depth = 0;
  for (size_t i = 0; i < bad; i++) {
    char c = z[i];
    if (c == '"') {
      for (i++; i < bad && z[i] != '"'; i++)
        if (z[i] == '\\') i++;
    } else if (c == '[' || c == '{') {
      depth++;
    } else if ((c == ']' || c == '}') && depth) {
      depth--;
    }
  }
  return depth >= SL_JSON_MAX_DEPTH;
}

/* 1 if z[0..n) is one JSON value with optional whitespace around it. */
int sl_json_valid(const char *z, size_t n) {
  size_t i = sl_json_ws(z, n, 0);
  size_t e = sl_json_skip(z, n, i, NULL);
  return e != BAD && sl_json_ws(z, n, e) == n;
}

/* Where an iteration over members or elements stands at *ip: 1 if *ip is
** just after the opening bracket (z[*ip-1] is open), else 0 (after a member
** *ip is at the ',' or closing bracket that followed it; a value never ends
** with an opening bracket, so the two cannot be confused). */
static inline int at_start(const char *z, size_t i, char open) {
  return i > 0 && z[i - 1] == open;
}

/* Move *ip to the start of the next member or element, or report the end:
** returns 1 (*ip at the next item), 0 (*ip just after the closing bracket)
** or -1 (a missing or extra comma, or the end of the text: *ip at it). */
static inline int next_item(const char *z, size_t n, size_t *ip, char open, char close) {
  size_t i = *ip;
  int first = at_start(z, i, open);
  SKIP_WS(z, n, i);
  *ip = i;
  if (i >= n) return -1;
  if (z[i] == close) {
    *ip = i + 1;
    return 0;
  }
  if (!first) {
    if (z[i] != ',') return -1;
    i++;
    SKIP_WS(z, n, i);
    *ip = i;
  }
  return 1;
}

/* Malformed text: *ip gets the offset of the first bad byte (at, or a
** scanner's FAIL). */
static inline int fail_at(size_t *ip, size_t at) {
  *ip = FAIL_OFFSET(at);
  return -1;
}

/* The next member of an object; see json.h for the protocol.  A member must
** be followed by ',' or '}' (checked here, so a caller that stops early has
** still seen well-formed text up to *ip). */
int sl_json_member(const char *z, size_t n, size_t *ip, const char **key, size_t *key_len,
                   int *key_esc, size_t *v, size_t *v_end, sl_json_kind *kind) {
  size_t i = *ip;
  int rc = next_item(z, n, &i, '{', '}');
  if (rc <= 0) {
    *ip = i;
    return rc;
  }
  if (i >= n || z[i] != '"') return fail_at(ip, i);
  int esc = 0;
  size_t e = skip_string(z, n, i, &esc);
  if (FAILED(e)) return fail_at(ip, e);
  *key = z + i + 1;
  *key_len = e - i - 2;
  *key_esc = esc;
  i = e;
  SKIP_WS(z, n, i);
  if (i >= n || z[i] != ':') return fail_at(ip, i);
  i++;
  SKIP_WS(z, n, i);
  *v = i;
  sl_json_kind k = SL_JSON_BAD;
  i = skip_value(z, n, i, &k, 1);
  if (FAILED(i)) return fail_at(ip, i);
  *kind = k;
  *v_end = i;
  SKIP_WS(z, n, i);
  if (i >= n || (z[i] != ',' && z[i] != '}')) return fail_at(ip, i);
  *ip = i;
  return 1;
}

/* The next element of an array; same protocol as sl_json_member. */
int sl_json_element(const char *z, size_t n, size_t *ip, size_t *v, size_t *v_end,
                    sl_json_kind *kind) {
  size_t i = *ip;
  int rc = next_item(z, n, &i, '[', ']');
  if (rc <= 0) {
    *ip = i;
    return rc;
  }
  *v = i;
  sl_json_kind k = SL_JSON_BAD;
  i = skip_value(z, n, i, &k, 1);
  if (FAILED(i)) return fail_at(ip, i);
  *kind = k;
  *v_end = i;
  SKIP_WS(z, n, i);
  if (i >= n || (z[i] != ',' && z[i] != ']')) return fail_at(ip, i);
  *ip = i;
  return 1;
}

/* The value of four hex digits at s, or -1 if one is not a hex digit. */
static int hex4(const char *s) {
  int a = hexv((uint8_t)s[0]), b = hexv((uint8_t)s[1]), c = hexv((uint8_t)s[2]),
      d = hexv((uint8_t)s[3]);
  if ((a | b | c | d) < 0) return -1;
  return a << 12 | b << 8 | c << 4 | d;
}

/* Unescape a string body into out; see json.h.  A high surrogate followed by
** a low one is one code point; any other surrogate is written as is (three
** bytes), which is what SQLite does.  \uXXXX (6 bytes) never gives more than
** 4, a surrogate pair (12 bytes) 4, so out needs at most len bytes. */
size_t sl_json_unescape(const char *s, size_t len, char *out) {
  size_t j = 0, i = 0;
  while (i < len) {
    const char *bs = memchr(s + i, '\\', len - i);
    size_t run = bs ? (size_t)(bs - (s + i)) : len - i;
    memmove(out + j, s + i, run); /* out may be s itself */
    j += run;
    i += run;
    if (i >= len) break;
    if (++i >= len) return BAD;
    switch (s[i++]) {
    case '"': out[j++] = '"'; break;
    case '\\': out[j++] = '\\'; break;
    case '/': out[j++] = '/'; break;
    case 'b': out[j++] = '\b'; break;
    case 'f': out[j++] = '\f'; break;
    case 'n': out[j++] = '\n'; break;
    case 'r': out[j++] = '\r'; break;
    case 't': out[j++] = '\t'; break;
    case 'u': {
      if (len - i < 4) return BAD;
      int c = hex4(s + i);
      if (c < 0) return BAD;
      i += 4;
      if (c >= 0xD800 && c < 0xDC00 && len - i >= 6 && s[i] == '\\' && s[i + 1] == 'u') {
        int lo = hex4(s + i + 2);
        if (lo >= 0xDC00 && lo < 0xE000) {
          c = 0x10000 + ((c - 0xD800) << 10) + (lo - 0xDC00);
          i += 6;
        }
      }
      j += sl_utf8_put(out + j, (uint32_t)c);
      break;
    }
    default: return BAD;
    }
  }
  return j;
}

size_t sl_json_lone_surrogate(const char *z, size_t n) {
  const char *p = memchr(z, '\\', n);
  while (p) {
    size_t i = (size_t)(p - z);
    if (i + 1 >= n) break;
    if (z[i + 1] != 'u' || i + 6 > n) {
      p += 2; /* a one-letter escape, \\ included */
    } else {
      int c = hex4(z + i + 2);
      if (c >= 0xDC00 && c < 0xE000) return i;
      if (c >= 0xD800 && c < 0xDC00) {
        int lo = i + 12 <= n && z[i + 6] == '\\' && z[i + 7] == 'u' ? hex4(z + i + 8) : -1;
        if (lo < 0xDC00 || lo >= 0xE000) return i;
        p += 6; /* the pair's low half is skipped below */
      }
      p += 6;
    }
    p = (size_t)(p - z) < n ? memchr(p, '\\', n - (size_t)(p - z)) : NULL;
  }
  return n;
}

/* Minify z[0..n) into out (room for n bytes); returns the length. */
static size_t minify_into(const char *z, size_t n, char *out) {
  size_t j = 0;
  int in_str = 0;
  for (size_t i = 0; i < n; i++) {
    char c = z[i];
    if (in_str) {
      out[j++] = c;
      if (c == '\\' && i + 1 < n)
        out[j++] = z[++i];
      else if (c == '"')
        in_str = 0;
    } else if (c == '"') {
      in_str = 1;
      out[j++] = c;
    } else if (!ws_tab[(uint8_t)c]) {
      out[j++] = c;
    }
  }
  return j;
}

/* Append z[0..n) minified; see json.h. */
void sl_json_minify(const char *z, size_t n, sl_buf *out) {
  sl_buf_reserve(out, n);
  out->n += minify_into(z, n, out->z + out->n);
  out->z[out->n] = 0;
}

/* Room for n bytes plus a terminator: in the arena, or in out's own buffer. */
static char *space(sl_value *out, sl_arena *arena, size_t n) {
  return arena ? sl_arena_alloc(arena, n + 1) : sl_value_text_space(out, n);
}

/* Make out the TEXT p[0..m) just written by space(): borrowed from the arena
** or committed in out's buffer; flags adds SL_F_JSON or 0. */
static void text_done(sl_value *out, sl_arena *arena, char *p, size_t m, int flags) {
  if (arena) {
    p[m] = 0;
    sl_value_borrow_text(out, p, m, SL_F_TERM | flags);
  } else {
    sl_value_commit_text(out, m);
    out->flags |= (uint8_t)flags;
  }
}

/* The INTEGER or REAL of the JSON number z[0..n) as json_extract gives it: an
** integer that fits in 64 bits is an INTEGER, a bigger one a REAL. */
static void number_value(const char *z, size_t n, sl_json_kind kind, sl_value *out) {
  if (kind == SL_JSON_INT) {
    size_t i = z[0] == '-';
    if (n - i <= 18) { /* cannot overflow: the common case, done here */
      int64_t x = 0;
      for (; i < n; i++)
        x = x * 10 + (z[i] - '0');
      sl_value_set_int(out, z[0] == '-' ? -x : x);
      return;
    }
    int64_t x;
    if (sl_atoi64(z, n, &x) == 0) {
      sl_value_set_int(out, x);
      return;
    }
  }
  double r;
  sl_atof(z, n, &r);
  sl_value_set_real(out, r);
}

/* The SQL value of the JSON value z[0..n); see json.h.  As in SQLite, a string
** ends at an escaped NUL (\u0000). */
int sl_json_to_value(const char *z, size_t n, sl_value *out, sl_arena *arena) {
  sl_json_kind kind;
  size_t e = sl_json_skip(z, n, 0, &kind);
  if (e == BAD) return -1;
  switch (kind) {
  case SL_JSON_NULL: sl_value_set_null(out); return 0;
  case SL_JSON_TRUE: sl_value_set_int(out, 1); return 0;
  case SL_JSON_FALSE: sl_value_set_int(out, 0); return 0;
  case SL_JSON_INT:
  case SL_JSON_REAL: number_value(z, e, kind, out); return 0;
  case SL_JSON_STRING: {
    const char *s = z + 1;
    size_t len = e - 2;
    if (!memchr(s, '\\', len)) {
      if (arena) {
        sl_value_borrow_text(out, s, len, 0);
      } else {
        memcpy(sl_value_text_space(out, len), s, len);
        sl_value_commit_text(out, len);
      }
      return 0;
    }
    char *p = space(out, arena, len);
    size_t m = sl_json_unescape(s, len, p);
    if (m == BAD) return -1;
    const char *nul = memchr(p, 0, m);
    if (nul) m = (size_t)(nul - p);
    text_done(out, arena, p, m, 0);
    return 0;
  }
  default: { /* array or object: minified JSON text */
    int has_ws = 0;
    for (size_t i = 0; i < e && !has_ws; i++)
      has_ws = ws_tab[(uint8_t)z[i]];
    if (!has_ws && arena) {
      sl_value_borrow_text(out, z, e, SL_F_JSON);
      return 0;
    }
    char *p = space(out, arena, e);
    text_done(out, arena, p, minify_into(z, e, p), SL_F_JSON);
    return 0;
  }
  }
}

/* A JSON array of numbers as a VECTOR; see json.h. */
int sl_json_to_vector(const char *z, size_t n, sl_value *out, sl_arena *arena) {
  if (!n || z[0] != '[') return -1;
  size_t count = 0, i = 1, v, ve;
  sl_json_kind k;
  int rc;
  while ((rc = sl_json_element(z, n, &i, &v, &ve, &k)) == 1) {
    if (k != SL_JSON_INT && k != SL_JSON_REAL) return -1;
    count++;
  }
  if (rc < 0) return -1;
  size_t bytes = count * sizeof(double);
  double *x =
      arena ? sl_arena_alloc(arena, bytes + 1) : (double *)(void *)sl_value_text_space(out, bytes);
  i = 1;
  for (size_t c = 0; c < count; c++) {
    sl_json_element(z, n, &i, &v, &ve, &k);
    sl_atof(z + v, ve - v, &x[c]);
  }
  if (arena) {
    sl_value_borrow_vector(out, x, count);
  } else {
    out->type = SL_VECTOR;
    out->flags = SL_F_OWNBUF;
    out->n = (uint32_t)count;
    out->u.v = x;
  }
  return 0;
}

/* Find key (raw, unescaped bytes) in the object at z[0..n). */
static int object_find(const char *z, size_t n, const char *key, size_t klen, size_t *v,
                       size_t *ve) {
  size_t i = 1;
  const char *k;
  size_t kl, vs, vend;
  int esc, rc;
  sl_json_kind kind;
  int found = 0;
  while ((rc = sl_json_member(z, n, &i, &k, &kl, &esc, &vs, &vend, &kind)) == 1) {
    int match;
    if (esc) {
      char *tmp = sl_malloc(kl + 1);
      size_t m = sl_json_unescape(k, kl, tmp);
      match = m == klen && memcmp(tmp, key, klen) == 0;
      free(tmp);
    } else {
      match = kl == klen && memcmp(k, key, klen) == 0;
    }
    if (match && !found) { /* the first of duplicate keys, as SQLite */
      *v = vs;
      *ve = vend;
      found = 1;
    }
  }
  return rc < 0 ? -2 : found;
}

int sl_json_path(const char *z, size_t n, const char *path, size_t plen, size_t *v, size_t *v_end,
                 const char **why) {
  size_t s = sl_json_ws(z, n, 0);
  sl_json_kind kind;
  size_t e = sl_json_skip(z, n, s, &kind);
  if (e == BAD || sl_json_ws(z, n, e) != n) return -2;
  if (plen == 0 || path[0] != '$') {
    *why = "JSON path error";
    return -1;
  }
  size_t p = 1;
  while (p < plen) {
    if (path[p] == '.') {
      p++;
      const char *key;
      size_t klen;
      if (p < plen && path[p] == '"') {
        size_t q = p + 1;
        while (q < plen && path[q] != '"')
          q++;
        if (q >= plen) {
          *why = "JSON path error";
          return -1;
        }
        key = path + p + 1;
        klen = q - p - 1;
        p = q + 1;
      } else {
        size_t q = p;
        while (q < plen && path[q] != '.' && path[q] != '[')
          q++;
        key = path + p;
        klen = q - p;
        p = q;
        if (klen == 0) {
          *why = "JSON path error";
          return -1;
        }
      }
      if (kind != SL_JSON_OBJECT) return 0;
      int rc = object_find(z + s, e - s, key, klen, v, v_end);
      if (rc < 0) return -2;
      if (!rc) return 0;
      size_t base = s;
      s = base + *v;
      e = base + *v_end;
      sl_json_skip(z, n, s, &kind);
    } else if (path[p] == '[') {
      size_t q = p + 1;
      int from_end = 0;
      if (q < plen && path[q] == '#') {
        from_end = 1;
        q++;
        if (q < plen && path[q] == '-')
          q++;
        else if (q < plen && path[q] == ']') {
          *why = "JSON path error";
          return -1;
        }
      }
      size_t d0 = q;
      int64_t idx = 0;
      while (q < plen && path[q] >= '0' && path[q] <= '9')
        idx = idx * 10 + (path[q++] - '0');
      if (q >= plen || path[q] != ']' || (q == d0 && !from_end)) {
        *why = "JSON path error";
        return -1;
      }
      p = q + 1;
      if (kind != SL_JSON_ARRAY) return 0;
      /* Count elements when indexing from the end. */
      size_t i = 1, vs, vend;
      sl_json_kind k;
      const char *a = z + s;
      size_t an = e - s;
      if (from_end) {
        int64_t count = 0;
        while (sl_json_element(a, an, &i, &vs, &vend, &k) == 1)
          count++;
        idx = count - idx;
        if (idx < 0) return 0;
        i = 1;
      }
      int64_t c = 0;
      int found = 0;
      while (sl_json_element(a, an, &i, &vs, &vend, &k) == 1) {
        if (c++ == idx) {
          found = 1;
          break;
        }
      }
      if (!found) return 0;
      size_t base = s;
      s = base + vs;
      e = base + vend;
      kind = k;
    } else {
      *why = "JSON path error";
      return -1;
    }
  }
  *v = s;
  *v_end = e;
  return 1;
}

/* Append z[0..n) as a JSON string; see json.h.  Runs of plain bytes are
** copied whole. */
void sl_json_append_string(sl_buf *out, const char *z, size_t n) {
  static const char hex[] = "0123456789abcdef";
  sl_buf_reserve(out, n + 2);
  sl_buf_putc(out, '"');
  size_t start = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)z[i];
    if (!str_stop[c]) continue;
    sl_buf_append(out, z + start, i - start);
    start = i + 1;
    switch (c) {
    case '"': sl_buf_append(out, "\\\"", 2); break;
    case '\\': sl_buf_append(out, "\\\\", 2); break;
    case '\n': sl_buf_append(out, "\\n", 2); break;
    case '\r': sl_buf_append(out, "\\r", 2); break;
    case '\t': sl_buf_append(out, "\\t", 2); break;
    case '\b': sl_buf_append(out, "\\b", 2); break;
    case '\f': sl_buf_append(out, "\\f", 2); break;
    default: {
      char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
      sl_buf_append(out, u, 6);
    }
    }
  }
  sl_buf_append(out, z + start, n - start);
  sl_buf_putc(out, '"');
}

/* Write the decimal digits of i at out (room for 21 bytes); returns the length. */
static int int_to_text(int64_t i, char *out) {
  char tmp[24];
  int k = 0;
  uint64_t u = i < 0 ? 0 - (uint64_t)i : (uint64_t)i;
  do {
    tmp[k++] = (char)('0' + u % 10);
    u /= 10;
  } while (u);
  int j = 0;
  if (i < 0) out[j++] = '-';
  while (k)
    out[j++] = tmp[--k];
  return j;
}

/* Append the REAL r as a JSON number (tmp: room for 40 bytes): the fewest
** digits that read back; an infinity as 9.0e+999 or -9.0e+999, as later
** SQLite releases write it (a number out of a double's range, which every
** JSON reader, sluice's included, reads back as the infinity); NaN, which
** JSON cannot spell, as null. */
static void append_real(sl_buf *out, double r, char *tmp) {
  if (isinf(r))
    sl_buf_append(out, r < 0 ? "-9.0e+999" : "9.0e+999", r < 0 ? 9 : 8);
  else if (isnan(r))
    sl_buf_append(out, "null", 4);
  else
    sl_buf_append(out, tmp, (size_t)sl_real_to_shortest(r, tmp));
}

/* Append v as JSON; see json.h. */
void sl_json_append_value(sl_buf *out, sl_value *v) {
  char tmp[40];
  switch (v->type) {
  case SL_NULL: sl_buf_append(out, "null", 4); break;
  case SL_INTEGER: sl_buf_append(out, tmp, (size_t)int_to_text(v->u.i, tmp)); break;
  case SL_REAL: append_real(out, v->u.r, tmp); break;
  case SL_TEXT:
    if (v->flags & SL_F_JSON)
      sl_buf_append(out, v->u.z, v->n);
    else
      sl_json_append_string(out, v->u.z, v->n);
    break;
  case SL_BLOB: {
    static const char hex[] = "0123456789ABCDEF";
    sl_buf_reserve(out, 2 * (size_t)v->n + 2);
    sl_buf_putc(out, '"');
    for (uint32_t i = 0; i < v->n; i++) {
      unsigned char c = (unsigned char)v->u.z[i];
      sl_buf_putc(out, hex[c >> 4]);
      sl_buf_putc(out, hex[c & 15]);
    }
    sl_buf_putc(out, '"');
    break;
  }
  case SL_VECTOR:
    sl_buf_putc(out, '[');
    for (uint32_t i = 0; i < v->n; i++) {
      if (i) sl_buf_putc(out, ',');
      append_real(out, v->u.v[i], tmp);
    }
    sl_buf_putc(out, ']');
    break;
  default: sl_buf_append(out, "null", 4); break;
  }
}

static int list_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* The number at z[*at..n) when it is a plain decimal ([-+]digits[.digits]
** [e[-+]digits]) of at most 15 significant digits and a power of ten within
** 1e22: then (double)digits and 1e|e| are exact and one division or
** multiplication rounds correctly (as strtod and NumPy do).  Returns 1 with
** *at past it, or 0 for anything else (the caller falls back to sl_atof). */
static int fast_double(const char *z, size_t n, size_t *at, double *out) {
  static const double p10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                               1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                               1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
  size_t i = *at;
  int neg = 0, nd = 0, e = 0;
  uint64_t s = 0;
  if (i < n && (z[i] == '-' || z[i] == '+')) neg = z[i++] == '-';
  size_t d0 = i;
  for (; i < n && z[i] >= '0' && z[i] <= '9'; i++) {
    nd += s != 0 || z[i] != '0'; /* significant digits: not the leading zeros */
    s = s * 10 + (uint64_t)(z[i] - '0');
  }
  size_t ni = i - d0;
  if (i < n && z[i] == '.') {
    size_t f0 = ++i;
    for (; i < n && z[i] >= '0' && z[i] <= '9'; i++) {
      nd += s != 0 || z[i] != '0';
      s = s * 10 + (uint64_t)(z[i] - '0');
    }
    e = -(int)(i - f0);
    ni += i - f0;
  }
  if (ni == 0 || nd > 15) return 0;
  if (i < n && (z[i] == 'e' || z[i] == 'E')) {
    int es = 1, x = 0;
    i++;
    if (i < n && (z[i] == '-' || z[i] == '+')) es = z[i++] == '-' ? -1 : 1;
    size_t e0 = i;
    for (; i < n && z[i] >= '0' && z[i] <= '9' && x < 1000; i++)
      x = x * 10 + (z[i] - '0');
    if (i == e0) return 0;
    e += es * x;
  }
  if ((i < n && z[i] != ',' && !list_space(z[i])) || e < -22 || e > 22) return 0;
  double v = (double)s;
  v = e < 0 ? v / p10[-e] : v * p10[e];
  *out = neg ? -v : v;
  *at = i;
  return 1;
}

int sl_parse_numlist(const char *z, size_t n, double *out, int cap) {
  size_t i = 0;
  while (i < n && list_space(z[i]))
    i++;
  while (n > i && list_space(z[n - 1]))
    n--;
  if (i < n && z[i] == '[') {
    if (z[n - 1] != ']') return -1;
    i++;
    n--;
  }
  int count = 0;
  for (;;) {
    while (i < n && list_space(z[i]))
      i++;
    double v;
    if (!fast_double(z, n, &i, &v)) { /* anything else sl_atof reads */
      size_t s = i;
      while (i < n && z[i] != ',' && !list_space(z[i]))
        i++;
      if (i == s) return count == 0 && i >= n ? 0 : -1; /* "" or "[]"; else an empty field */
      if (!sl_atof(z + s, i - s, &v)) return -1;
    }
    if (count < cap) out[count] = v;
    count++;
    while (i < n && list_space(z[i]))
      i++;
    if (i >= n) return count;
    if (z[i++] != ',') return -1;
  }
}
