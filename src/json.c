/*
** json.c - JSON text without trees (see json.h): a strict RFC 8259 scanner
** used by the record decoder and by the JSON SQL functions, conversion of
** JSON values to SQL values, paths, and JSON output of values.
*/
#include "json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BAD ((size_t)-1)

size_t sl_json_ws(const char *z, size_t n, size_t i) {
  while (i < n && (z[i] == ' ' || z[i] == '\t' || z[i] == '\n' || z[i] == '\r')) i++;
  return i;
}

static int hexv(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Skip a string starting at the opening quote; index after the closing quote. */
static size_t skip_string(const char *z, size_t n, size_t i, int *esc) {
  i++;
  while (i < n) {
    unsigned char c = (unsigned char)z[i];
    if (c == '"') return i + 1;
    if (c < 0x20) return BAD;
    if (c == '\\') {
      if (esc) *esc = 1;
      if (i + 1 >= n) return BAD;
      char e = z[i + 1];
      if (e == 'u') {
        if (i + 5 >= n) return BAD;
        for (int k = 2; k < 6; k++)
          if (hexv((unsigned char)z[i + k]) < 0) return BAD;
        i += 6;
        continue;
      }
      if (!strchr("\"\\/bfnrt", e) || !e) return BAD;
      i += 2;
      continue;
    }
    i++;
  }
  return BAD;
}

static size_t skip_number(const char *z, size_t n, size_t i, sl_json_kind *kind) {
  *kind = SL_JSON_INT;
  if (i < n && z[i] == '-') i++;
  if (i >= n) return BAD;
  if (z[i] == '0') {
    i++;
  } else if (z[i] >= '1' && z[i] <= '9') {
    while (i < n && z[i] >= '0' && z[i] <= '9') i++;
  } else {
    return BAD;
  }
  if (i < n && z[i] == '.') {
    i++;
    if (i >= n || z[i] < '0' || z[i] > '9') return BAD;
    while (i < n && z[i] >= '0' && z[i] <= '9') i++;
    *kind = SL_JSON_REAL;
  }
  if (i < n && (z[i] == 'e' || z[i] == 'E')) {
    i++;
    if (i < n && (z[i] == '+' || z[i] == '-')) i++;
    if (i >= n || z[i] < '0' || z[i] > '9') return BAD;
    while (i < n && z[i] >= '0' && z[i] <= '9') i++;
    *kind = SL_JSON_REAL;
  }
  return i;
}

static size_t skip_value(const char *z, size_t n, size_t i, sl_json_kind *kind, int depth) {
  if (i >= n) return BAD;
  if (depth > SL_JSON_MAX_DEPTH) return BAD;
  switch (z[i]) {
  case '"': *kind = SL_JSON_STRING; return skip_string(z, n, i, NULL);
  case '{': {
    *kind = SL_JSON_OBJECT;
    i = sl_json_ws(z, n, i + 1);
    if (i < n && z[i] == '}') return i + 1;
    for (;;) {
      if (i >= n || z[i] != '"') return BAD;
      i = skip_string(z, n, i, NULL);
      if (i == BAD) return BAD;
      i = sl_json_ws(z, n, i);
      if (i >= n || z[i] != ':') return BAD;
      i = sl_json_ws(z, n, i + 1);
      sl_json_kind k;
      i = skip_value(z, n, i, &k, depth + 1);
      if (i == BAD) return BAD;
      i = sl_json_ws(z, n, i);
      if (i < n && z[i] == ',') {
        i = sl_json_ws(z, n, i + 1);
        continue;
      }
      if (i < n && z[i] == '}') return i + 1;
      return BAD;
    }
  }
  case '[': {
    *kind = SL_JSON_ARRAY;
    i = sl_json_ws(z, n, i + 1);
    if (i < n && z[i] == ']') return i + 1;
    for (;;) {
      sl_json_kind k;
      i = skip_value(z, n, i, &k, depth + 1);
      if (i == BAD) return BAD;
      i = sl_json_ws(z, n, i);
      if (i < n && z[i] == ',') {
        i = sl_json_ws(z, n, i + 1);
        continue;
      }
      if (i < n && z[i] == ']') return i + 1;
      return BAD;
    }
  }
  case 't':
    *kind = SL_JSON_TRUE;
    return (n - i >= 4 && memcmp(z + i, "true", 4) == 0) ? i + 4 : BAD;
  case 'f':
    *kind = SL_JSON_FALSE;
    return (n - i >= 5 && memcmp(z + i, "false", 5) == 0) ? i + 5 : BAD;
  case 'n':
    *kind = SL_JSON_NULL;
    return (n - i >= 4 && memcmp(z + i, "null", 4) == 0) ? i + 4 : BAD;
  default: return skip_number(z, n, i, kind);
  }
}

size_t sl_json_skip(const char *z, size_t n, size_t i, sl_json_kind *kind) {
  sl_json_kind k = SL_JSON_BAD;
  size_t r = skip_value(z, n, i, &k, 0);
  if (kind) *kind = r == BAD ? SL_JSON_BAD : k;
  return r;
}

int sl_json_valid(const char *z, size_t n) {
  size_t i = sl_json_ws(z, n, 0);
  size_t e = sl_json_skip(z, n, i, NULL);
  return e != BAD && sl_json_ws(z, n, e) == n;
}

int sl_json_member(const char *z, size_t n, size_t *ip, const char **key, size_t *key_len,
                   int *key_esc, size_t *v, size_t *v_end, sl_json_kind *kind) {
  size_t i = sl_json_ws(z, n, *ip);
  if (i < n && z[i] == ',') i = sl_json_ws(z, n, i + 1);
  if (i < n && z[i] == '}') {
    *ip = i + 1;
    return 0;
  }
  if (i >= n || z[i] != '"') return -1;
  int esc = 0;
  size_t e = skip_string(z, n, i, &esc);
  if (e == BAD) return -1;
  *key = z + i + 1;
  *key_len = e - i - 2;
  *key_esc = esc;
  i = sl_json_ws(z, n, e);
  if (i >= n || z[i] != ':') return -1;
  i = sl_json_ws(z, n, i + 1);
  *v = i;
  i = sl_json_skip(z, n, i, kind);
  if (i == BAD) return -1;
  *v_end = i;
  i = sl_json_ws(z, n, i);
  if (i < n && z[i] != ',' && z[i] != '}') return -1;
  *ip = i;
  return 1;
}

int sl_json_element(const char *z, size_t n, size_t *ip, size_t *v, size_t *v_end,
                    sl_json_kind *kind) {
  size_t i = sl_json_ws(z, n, *ip);
  if (i < n && z[i] == ',') i = sl_json_ws(z, n, i + 1);
  if (i < n && z[i] == ']') {
    *ip = i + 1;
    return 0;
  }
  *v = i;
  i = sl_json_skip(z, n, i, kind);
  if (i == BAD) return -1;
  *v_end = i;
  i = sl_json_ws(z, n, i);
  if (i < n && z[i] != ',' && z[i] != ']') return -1;
  *ip = i;
  return 1;
}

/* Append code point c as UTF-8 at out; returns bytes written. */
static size_t put_utf8(char *out, unsigned c) {
  if (c < 0x80) {
    out[0] = (char)c;
    return 1;
  }
  if (c < 0x800) {
    out[0] = (char)(0xC0 | (c >> 6));
    out[1] = (char)(0x80 | (c & 0x3F));
    return 2;
  }
  if (c < 0x10000) {
    out[0] = (char)(0xE0 | (c >> 12));
    out[1] = (char)(0x80 | ((c >> 6) & 0x3F));
    out[2] = (char)(0x80 | (c & 0x3F));
    return 3;
  }
  out[0] = (char)(0xF0 | (c >> 18));
  out[1] = (char)(0x80 | ((c >> 12) & 0x3F));
  out[2] = (char)(0x80 | ((c >> 6) & 0x3F));
  out[3] = (char)(0x80 | (c & 0x3F));
  return 4;
}

static unsigned hex4(const char *s) {
  return (unsigned)(hexv((unsigned char)s[0]) << 12 | hexv((unsigned char)s[1]) << 8 |
                    hexv((unsigned char)s[2]) << 4 | hexv((unsigned char)s[3]));
}

size_t sl_json_unescape(const char *s, size_t len, char *out) {
  size_t j = 0;
  for (size_t i = 0; i < len; i++) {
    if (s[i] != '\\') {
      out[j++] = s[i];
      continue;
    }
    if (++i >= len) return BAD;
    switch (s[i]) {
    case 'b': out[j++] = '\b'; break;
    case 'f': out[j++] = '\f'; break;
    case 'n': out[j++] = '\n'; break;
    case 'r': out[j++] = '\r'; break;
    case 't': out[j++] = '\t'; break;
    case 'u': {
      if (i + 4 >= len) return BAD; /* four hex digits at s[i+1..i+4] */
      unsigned c = hex4(s + i + 1);
      i += 4;
      /* A high surrogate followed by \uDC00-\uDFFF is one code point. */
      if (c >= 0xD800 && c < 0xDC00 && i + 6 < len && s[i + 1] == '\\' && s[i + 2] == 'u') {
        unsigned lo = hex4(s + i + 3);
        if (lo >= 0xDC00 && lo < 0xE000) {
          c = 0x10000 + ((c - 0xD800) << 10) + (lo - 0xDC00);
          i += 6;
        }
      }
      j += put_utf8(out + j, c); /* \uXXXX is 6 bytes: never longer than 4 out */
      break;
    }
    default: out[j++] = s[i]; break;
    }
  }
  return j;
}

void sl_json_minify(const char *z, size_t n, sl_buf *out) {
  int in_str = 0;
  for (size_t i = 0; i < n; i++) {
    char c = z[i];
    if (in_str) {
      sl_buf_putc(out, c);
      if (c == '\\' && i + 1 < n) sl_buf_putc(out, z[++i]);
      else if (c == '"') in_str = 0;
    } else if (c == '"') {
      in_str = 1;
      sl_buf_putc(out, c);
    } else if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
      sl_buf_putc(out, c);
    }
  }
}

/* Room for n bytes: in the arena, or in out's own buffer. */
static char *space(sl_value *out, sl_arena *arena, size_t n) {
  return arena ? sl_arena_alloc(arena, n + 1) : sl_value_text_space(out, n);
}

int sl_json_to_value(const char *z, size_t n, sl_value *out, sl_arena *arena) {
  sl_json_kind kind;
  size_t e = sl_json_skip(z, n, 0, &kind);
  if (e == BAD) return -1;
  switch (kind) {
  case SL_JSON_NULL: sl_value_set_null(out); return 0;
  case SL_JSON_TRUE: sl_value_set_int(out, 1); return 0;
  case SL_JSON_FALSE: sl_value_set_int(out, 0); return 0;
  case SL_JSON_INT: {
    int64_t i;
    if (sl_atoi64(z, e, &i) == 0) {
      sl_value_set_int(out, i);
      return 0;
    }
  }
    /* too big for an integer: a REAL */
    __attribute__((fallthrough));
  case SL_JSON_REAL: {
    double r;
    sl_atof(z, e, &r);
    sl_value_set_real(out, r);
    return 0;
  }
  case SL_JSON_STRING: {
    const char *s = z + 1;
    size_t len = e - 2;
    if (!memchr(s, '\\', len)) {
      if (arena) {
        sl_value_borrow_text(out, s, len, 0);
      } else {
        char *p = sl_value_text_space(out, len);
        memcpy(p, s, len);
        sl_value_commit_text(out, len);
      }
      return 0;
    }
    char *p = space(out, arena, len);
    size_t m = sl_json_unescape(s, len, p);
    if (m == BAD) return -1;
    if (arena) {
      p[m] = 0;
      sl_value_borrow_text(out, p, m, SL_F_TERM);
    } else {
      sl_value_commit_text(out, m);
    }
    return 0;
  }
  default: { /* array or object: minified JSON text */
    int has_ws = 0;
    for (size_t i = 0; i < e && !has_ws; i++)
      has_ws = z[i] == ' ' || z[i] == '\t' || z[i] == '\n' || z[i] == '\r';
    if (!has_ws && arena) {
      sl_value_borrow_text(out, z, e, SL_F_JSON);
      return 0;
    }
    sl_buf b;
    sl_buf_init(&b);
    sl_json_minify(z, e, &b);
    char *p = space(out, arena, b.n);
    memcpy(p, b.z, b.n);
    if (arena) {
      p[b.n] = 0;
      sl_value_borrow_text(out, p, b.n, SL_F_JSON | SL_F_TERM);
    } else {
      sl_value_commit_text(out, b.n);
      out->flags |= SL_F_JSON;
    }
    sl_buf_free(&b);
    return 0;
  }
  }
}

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
  double *x = arena ? sl_arena_alloc(arena, count * sizeof(double) + 1)
                    : (double *)(void *)sl_value_text_space(out, count * sizeof(double));
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

int sl_json_path(const char *z, size_t n, const char *path, size_t plen, size_t *v,
                 size_t *v_end, const char **why) {
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
        while (q < plen && path[q] != '"') q++;
        if (q >= plen) {
          *why = "JSON path error";
          return -1;
        }
        key = path + p + 1;
        klen = q - p - 1;
        p = q + 1;
      } else {
        size_t q = p;
        while (q < plen && path[q] != '.' && path[q] != '[') q++;
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
        if (q < plen && path[q] == '-') q++;
        else if (q < plen && path[q] == ']') {
          *why = "JSON path error";
          return -1;
        }
      }
      size_t d0 = q;
      int64_t idx = 0;
      while (q < plen && path[q] >= '0' && path[q] <= '9') idx = idx * 10 + (path[q++] - '0');
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
        while (sl_json_element(a, an, &i, &vs, &vend, &k) == 1) count++;
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

void sl_json_append_string(sl_buf *out, const char *z, size_t n) {
  static const char hex[] = "0123456789abcdef";
  sl_buf_reserve(out, n + 2);
  sl_buf_putc(out, '"');
  size_t start = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)z[i];
    if (c >= 0x20 && c != '"' && c != '\\') continue;
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

void sl_json_append_value(sl_buf *out, sl_value *v) {
  char tmp[40];
  int k;
  switch (v->type) {
  case SL_NULL: sl_buf_append(out, "null", 4); break;
  case SL_INTEGER:
    k = snprintf(tmp, sizeof tmp, "%lld", (long long)v->u.i);
    sl_buf_append(out, tmp, (size_t)k);
    break;
  case SL_REAL:
    if (!isfinite(v->u.r)) {
      sl_buf_append(out, "null", 4);
      break;
    }
    k = sl_real_to_shortest(v->u.r, tmp);
    sl_buf_append(out, tmp, (size_t)k);
    break;
  case SL_TEXT:
    if (v->flags & SL_F_JSON)
      sl_buf_append(out, v->u.z, v->n);
    else
      sl_json_append_string(out, v->u.z, v->n);
    break;
  case SL_BLOB: {
    static const char hex[] = "0123456789ABCDEF";
    sl_buf_putc(out, '"');
    for (uint32_t i = 0; i < v->n; i++) {
      unsigned char c = (unsigned char)v->u.z[i];
      sl_buf_putc(out, hex[c >> 4]);
      sl_buf_putc(out, hex[c & 15]);
    }
    sl_buf_putc(out, '"');
    break;
  }
  default:
    sl_buf_putc(out, '[');
    for (uint32_t i = 0; i < v->n; i++) {
      if (i) sl_buf_putc(out, ',');
      if (!isfinite(v->u.v[i])) {
        sl_buf_append(out, "null", 4);
        continue;
      }
      k = sl_real_to_shortest(v->u.v[i], tmp);
      sl_buf_append(out, tmp, (size_t)k);
    }
    sl_buf_putc(out, ']');
    break;
  }
}
