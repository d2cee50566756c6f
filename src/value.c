/*
** value.c - SQLite's rules for values: conversions, affinity, comparison,
** arithmetic and text rendering (see value.h for every contract).
**
** The behaviour mirrors SQLite 3 as observed through the sqlite3 library,
** which the test suite uses as the oracle (tests/value_test.c checks every
** function here, tests/difftest.c whole expressions): text to number
** conversion takes the longest numeric prefix, integer arithmetic overflows
** into REAL, x/0 is NULL, REAL renders with 15 significant digits and a ".0"
** when integral, and so on.
*/
#include "value.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"

_Thread_local size_t sl_max_length = SL_MAX_LENGTH;

size_t sl_max_length_set(size_t n) {
  size_t old = sl_max_length;
  sl_max_length = n && n < SL_MAX_LENGTH ? n : SL_MAX_LENGTH;
  return old;
}

const char *sl_too_big_msg(void) {
  static _Thread_local char msg[96];
  if (sl_max_length >= SL_MAX_LENGTH) return "string or blob too big";
  char size[32];
  snprintf(msg, sizeof msg, "string or blob too big (over max_query_memory, %s)",
           sl_size_text(size, (int64_t)sl_max_length));
  return msg;
}

/* ---- storage -------------------------------------------------------------- */

void sl_value_free(sl_value *v) {
  free(v->buf);
  memset(v, 0, sizeof *v);
}

/* Make v->buf hold at least n bytes (keeping its contents). */
static char *reserve(sl_value *v, size_t n) {
  if (n > v->cap) {
    size_t cap = v->cap ? v->cap : 32;
    while (cap < n)
      cap *= 2;
    v->buf = sl_realloc(v->buf, cap);
    v->cap = (uint32_t)cap;
  }
  return v->buf;
}

static size_t byte_len(const sl_value *v) {
  return v->type == SL_VECTOR ? (size_t)v->n * sizeof(double) : v->n;
}

/* The invariant of a value, for SL_ASSERT: a known type; SL_F_OWNBUF only on
** TEXT, BLOB or VECTOR whose bytes start at buf and fit in it, with room for
** the terminator; SL_F_TERM only on TEXT or BLOB, whose byte n is then 0. */
static inline int value_ok(const sl_value *v) {
  int bytes = v->type == SL_TEXT || v->type == SL_BLOB || v->type == SL_VECTOR;
  if (v->type > SL_VECTOR) return 0;
  if ((v->flags & SL_F_OWNBUF) &&
      !(bytes && v->buf && v->u.z == v->buf && byte_len(v) < (size_t)v->cap))
    return 0;
  if ((v->flags & SL_F_TERM) &&
      !((v->type == SL_TEXT || v->type == SL_BLOB) && v->u.z && v->u.z[v->n] == 0))
    return 0;
  return 1;
}

/* Copy n bytes at z into v's buffer with a terminator; z may point into it. */
static void set_bytes(sl_value *v, int type, const void *z, size_t n) {
  if (v->buf && (const char *)z >= v->buf && (const char *)z < v->buf + v->cap) {
    size_t off = (size_t)((const char *)z - v->buf);
    reserve(v, off + n + 1);
    memmove(v->buf, v->buf + off, n);
  } else {
    reserve(v, n + 1);
    if (n) memcpy(v->buf, z, n);
  }
  v->buf[n] = 0;
  v->type = (uint8_t)type;
  v->flags = SL_F_OWNBUF | SL_F_TERM;
  v->n = (uint32_t)n;
  v->u.z = v->buf;
}

void sl_value_set_text(sl_value *v, const char *z, size_t n) {
  set_bytes(v, SL_TEXT, z, n);
}

void sl_value_set_blob(sl_value *v, const void *z, size_t n) {
  set_bytes(v, SL_BLOB, z, n);
}

void sl_value_borrow_blob(sl_value *v, const void *z, size_t n) {
  v->type = SL_BLOB;
  v->flags = 0;
  v->n = (uint32_t)n;
  v->u.z = z;
}

void sl_value_set_vector(sl_value *v, const double *x, size_t n) {
  set_bytes(v, SL_VECTOR, x, n * sizeof(double));
  v->n = (uint32_t)n;
  v->flags = SL_F_OWNBUF;
  v->u.v = (const double *)(void *)v->buf;
}

void sl_value_borrow_vector(sl_value *v, const double *x, size_t n) {
  v->type = SL_VECTOR;
  v->flags = 0;
  v->n = (uint32_t)n;
  v->u.v = x;
}

char *sl_value_text_space(sl_value *v, size_t n) {
  return reserve(v, n + 1);
}

void sl_value_commit_text(sl_value *v, size_t n) {
  SL_ASSERT(v->buf && n < v->cap); /* within sl_value_text_space's room */
  v->buf[n] = 0;
  v->type = SL_TEXT;
  v->flags = SL_F_OWNBUF | SL_F_TERM;
  v->n = (uint32_t)n;
  v->u.z = v->buf;
}

void sl_value_copy(sl_value *dst, const sl_value *src) {
  SL_ASSERT(value_ok(src));
  if (dst == src) return;
  if (src->type == SL_TEXT || src->type == SL_BLOB || src->type == SL_VECTOR) {
    uint8_t fl = src->flags & SL_F_JSON;
    uint32_t n = src->n;
    set_bytes(dst, src->type, src->u.z, byte_len(src));
    dst->n = n;
    if (src->type == SL_VECTOR) dst->flags = SL_F_OWNBUF;
    dst->flags |= fl;
    SL_ASSERT(value_ok(dst));
    return;
  }
  dst->type = src->type;
  dst->flags = 0;
  dst->n = src->n;
  dst->u = src->u;
}

void sl_value_ref(sl_value *dst, const sl_value *src) {
  SL_ASSERT(value_ok(src));
  if (dst == src) return;
  dst->type = src->type;
  dst->flags = src->flags & (uint8_t)~SL_F_OWNBUF;
  dst->n = src->n;
  dst->u = src->u;
}

void sl_value_own(sl_value *v) {
  SL_ASSERT(value_ok(v));
  if ((v->type == SL_TEXT || v->type == SL_BLOB || v->type == SL_VECTOR) &&
      !(v->flags & SL_F_OWNBUF)) {
    sl_value tmp = *v;
    sl_value_copy(v, &tmp);
    v->flags |= tmp.flags & SL_F_JSON;
  }
}

void sl_value_pin(sl_value *v, sl_arena *a) {
  SL_ASSERT(value_ok(v));
  if (v->type != SL_TEXT && v->type != SL_BLOB && v->type != SL_VECTOR) return;
  size_t n = byte_len(v);
  char *p = sl_arena_alloc(a, n + 1);
  if (n) memcpy(p, v->u.z, n);
  p[n] = 0;
  v->u.z = p;
  v->flags = (uint8_t)((v->flags & ~SL_F_OWNBUF) | (v->type == SL_VECTOR ? 0 : SL_F_TERM));
}

/* ---- parsing numbers -------------------------------------------------------- */

static int is_space(int c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\v' || c == '\r';
}
static int is_digit(int c) {
  return c >= '0' && c <= '9';
}

/* Scan a numeric prefix of z[0..n): returns its length (0 if none) and sets
** *real when it has a '.' or an exponent, *whole when only spaces follow. */
static size_t scan_number(const char *z, size_t n, int *real, int *whole) {
  size_t i = 0, start, digits = 0;
  *real = 0;
  while (i < n && is_space((unsigned char)z[i]))
    i++;
  start = i;
  if (i < n && (z[i] == '+' || z[i] == '-')) i++;
  while (i < n && is_digit((unsigned char)z[i]))
    i++, digits++;
  if (i < n && z[i] == '.') {
    size_t j = i + 1, frac = 0;
    while (j < n && is_digit((unsigned char)z[j]))
      j++, frac++;
    if (digits + frac > 0) {
      i = j;
      digits += frac;
      *real = 1;
    }
  }
  if (!digits) {
    *whole = 0;
    return 0;
  }
  if (i < n && (z[i] == 'e' || z[i] == 'E')) {
    size_t j = i + 1;
    if (j < n && (z[j] == '+' || z[j] == '-')) j++;
    if (j < n && is_digit((unsigned char)z[j])) {
      while (j < n && is_digit((unsigned char)z[j]))
        j++;
      i = j;
      *real = 1;
    }
  }
  size_t end = i;
  while (i < n && is_space((unsigned char)z[i]))
    i++;
  *whole = i == n;
  (void)start;
  return end;
}

/* The value of the decimal number in z[0..len) (already scanned: optional
** sign, digits, optional fraction and exponent), computed the way SQLite's
** sqlite3AtoF does: up to 18-19 significant digits in a 64-bit integer, then
** scaled by a power of ten in long double.  Matching SQLite here matters
** beyond the 17th digit, where correctly rounded parsing would differ. */
static double decimal_value(const char *z, size_t len) {
  size_t i = 0;
  int sign = 1, esign = 1;
  int64_t s = 0;
  int d = 0, e = 0;
  const int64_t big = (INT64_MAX - 9) / 10;
  while (i < len && is_space((unsigned char)z[i]))
    i++;
  if (i < len && (z[i] == '-' || z[i] == '+')) sign = z[i++] == '-' ? -1 : 1;
  while (i < len && is_digit((unsigned char)z[i])) {
    s = s * 10 + (z[i++] - '0');
    if (s >= big)
      while (i < len && is_digit((unsigned char)z[i]))
        i++, d++;
  }
  if (i < len && z[i] == '.') {
    i++;
    while (i < len && is_digit((unsigned char)z[i])) {
      if (s < big) {
        s = s * 10 + (z[i] - '0');
        d--;
      }
      i++;
    }
  }
  if (i < len && (z[i] == 'e' || z[i] == 'E')) {
    i++;
    if (i < len && (z[i] == '-' || z[i] == '+')) esign = z[i++] == '-' ? -1 : 1;
    while (i < len && is_digit((unsigned char)z[i])) {
      e = e < 10000 ? e * 10 + (z[i] - '0') : e;
      i++;
    }
  }
  e = e * esign + d;
  if (e < 0) {
    esign = -1;
    e = -e;
  } else {
    esign = 1;
  }
  if (s == 0) return sign < 0 ? -0.0 : 0.0;
  while (e > 0) {
    if (esign > 0) {
      if (s >= INT64_MAX / 10) break;
      s *= 10;
    } else {
      if (s % 10 != 0) break;
      s /= 10;
    }
    e--;
  }
  s = sign < 0 ? -s : s;
  if (e == 0) return (double)s;
  long double scale = 1.0L;
  double result;
  if (e > 307) {
    if (e < 342) {
      while (e % 308) {
        scale *= 1.0e+1L;
        e -= 1;
      }
      if (esign < 0) {
        result = (double)(s / scale);
        result /= 1.0e+308;
      } else {
        result = (double)(s * scale);
        result *= 1.0e+308;
      }
    } else {
      result = esign < 0 ? 0.0 * (double)s : INFINITY * (double)s;
    }
  } else {
    while (e % 22) {
      scale *= 1.0e+1L;
      e -= 1;
    }
    while (e > 0) {
      scale *= 1.0e+22L;
      e -= 22;
    }
    result = esign < 0 ? (double)(s / scale) : (double)(s * scale);
  }
  return result;
}

int sl_atof(const char *z, size_t n, double *r) {
  int real, whole;
  size_t len = scan_number(z, n, &real, &whole);
  if (!len) {
    /* no digits: zero, negative when a '-' follows the leading spaces */
    size_t i = 0;
    while (i < n && is_space((unsigned char)z[i]))
      i++;
    *r = i < n && z[i] == '-' ? -0.0 : 0.0;
    return 0;
  }
  *r = decimal_value(z, len);
  return whole;
}

int sl_atoi64(const char *z, size_t n, int64_t *out) {
  size_t i = 0;
  int neg = 0;
  while (i < n && is_space((unsigned char)z[i]))
    i++;
  if (i < n && (z[i] == '-' || z[i] == '+')) neg = z[i++] == '-';
  size_t start = i;
  while (i < n && z[i] == '0')
    i++;
  size_t dstart = i;
  uint64_t u = 0;
  while (i < n && is_digit((unsigned char)z[i])) {
    u = u * 10 + (uint64_t)(z[i] - '0');
    i++;
  }
  size_t ndig = i - dstart;
  size_t j = i;
  while (j < n && is_space((unsigned char)z[j]))
    j++;
  int rc = (j < n || i == start) ? 1 : 0; /* trailing text, or no digits at all */
  if (ndig > 19 || (ndig == 19 && (memcmp(z + dstart, "9223372036854775808", 19) > 0))) {
    *out = neg ? INT64_MIN : INT64_MAX;
    return 2;
  }
  if (ndig == 19 && memcmp(z + dstart, "9223372036854775808", 19) == 0) {
    if (neg) {
      *out = INT64_MIN;
      return rc;
    }
    *out = INT64_MAX;
    return rc ? 2 : 3;
  }
  *out = neg ? -(int64_t)u : (int64_t)u;
  return rc;
}

/* REAL to INTEGER as SQLite does it: truncate toward zero, saturating. */
static int64_t real_to_int(double r) {
  if (r != r) return 0;
  if (r <= -9223372036854775808.0) return INT64_MIN;
  if (r >= 9223372036854775807.0) return INT64_MAX;
  return (int64_t)r;
}

int sl_value_time(const sl_value *v, int64_t *ms) {
  if (v->type != SL_INTEGER && v->type != SL_REAL) return -1;
  *ms = v->type == SL_INTEGER ? v->u.i : real_to_int(v->u.r); /* saturating */
  return *ms >= -SL_TIME_LIMIT && *ms <= SL_TIME_LIMIT ? 0 : -1;
}

/* Text (or blob) as a number the way arithmetic sees it. */
static void text_to_number(const char *z, size_t n, sl_value *out) {
  int real, whole;
  size_t len = scan_number(z, n, &real, &whole);
  if (!len) {
    sl_value_set_int(out, 0);
    return;
  }
  if (!real) {
    int64_t i;
    int rc = sl_atoi64(z, len, &i);
    if (rc <= 1) {
      sl_value_set_int(out, i);
      return;
    }
  }
  double r;
  sl_atof(z, len, &r);
  sl_value_set_real(out, r);
}

void sl_value_numerify(const sl_value *v, sl_value *out) {
  switch (v->type) {
  case SL_INTEGER: sl_value_set_int(out, v->u.i); break;
  case SL_REAL: sl_value_set_real(out, v->u.r); break;
  case SL_TEXT:
  case SL_BLOB: text_to_number(v->u.z, v->n, out); break;
  case SL_NULL: sl_value_set_null(out); break;
  default: sl_value_set_int(out, 0); break;
  }
}

int64_t sl_value_as_int(const sl_value *v) {
  switch (v->type) {
  case SL_INTEGER: return v->u.i;
  case SL_REAL: return real_to_int(v->u.r);
  case SL_TEXT:
  case SL_BLOB: {
    int64_t i;
    sl_atoi64(v->u.z, v->n, &i);
    return i;
  }
  default: return 0;
  }
}

double sl_value_as_real(const sl_value *v) {
  switch (v->type) {
  case SL_INTEGER: return (double)v->u.i;
  case SL_REAL: return v->u.r;
  case SL_TEXT:
  case SL_BLOB: {
    double r;
    sl_atof(v->u.z, v->n, &r);
    return r;
  }
  default: return 0.0;
  }
}

/* ---- rendering ---------------------------------------------------------------- */

/* Make a %g rendering look like a REAL: add ".0" when it has no '.' or
** exponent mantissa point.  buf holds n bytes; returns the new length. */
static int add_point(char *buf, int n) {
  if (strchr(buf, '.') || strchr(buf, 'n') || strchr(buf, 'N')) return n; /* inf, nan */
  char *e = strchr(buf, 'e');
  if (!e) {
    memcpy(buf + n, ".0", 3);
    return n + 2;
  }
  size_t tail = strlen(e);
  memmove(e + 2, e, tail + 1);
  e[0] = '.';
  e[1] = '0';
  return n + 2;
}

/* Rounding amounts 0.5 * 10^-k for k = 0..9, as SQLite tabulates them. */
static const double round_table[] = {5.0e-01, 5.0e-02, 5.0e-03, 5.0e-04, 5.0e-05,
                                     5.0e-06, 5.0e-07, 5.0e-08, 5.0e-09, 5.0e-10};

/* One decimal digit of *val (in [0, 10)), which is then scaled up for the
** next one; after *cnt significant digits every digit is '0'. */
static char next_digit(long double *val, int *cnt) {
  if (*cnt <= 0) return '0';
  (*cnt)--;
  int digit = (int)*val;
  long double d = digit;
  *val = (*val - d) * 10.0;
  return (char)('0' + digit);
}

/* Render r for conversion conv ('f' 'e' 'E' 'g' 'G') into out, which has
** room for prec + 340 bytes, and return the length.  This is SQLite 3.40's
** algorithm: the value is widened to long double, rounded by adding half a
** unit of the last digit (for %f nudged by 3e-16 of the value when fewer
** than 15 digits are asked for, so that 2.675 gives 2.68), normalised to
** [1, 10) with an exponent, and then read out digit by digit, with at most 16
** significant digits (26 under '!').  *sign_len gets 1 if the text starts
** with a sign or space.  Infinity is "Inf" with its sign. */
int64_t sl_real_render(char *out, double r, char conv, int64_t prec, int alt, int alt2,
                       char flag_prefix, int *sign_len, int *special) {
  int xtype = conv == 'f' ? 'f' : (conv == 'e' || conv == 'E') ? 'e' : 'g';
  char echar = (conv == 'E' || conv == 'G') ? 'E' : 'e';
  long double v = r;
  char prefix;
  char *p = out;
  *special = 0;
  if (prec < 0) prec = 6;
  if (prec > 100000000) prec = 100000000;
  if (v < 0.0) {
    v = -v;
    prefix = '-';
  } else {
    prefix = flag_prefix;
  }
  *sign_len = prefix != 0;
  if (xtype == 'g' && prec > 0) prec--;
  int idx = (int)(prec & 0xfff);
  double rounder = round_table[idx % 10];
  while (idx >= 10) {
    rounder *= 1.0e-10;
    idx -= 10;
  }
  if (xtype == 'f') {
    double rx = (double)v;
    uint64_t u;
    memcpy(&u, &rx, sizeof u);
    int ex = -1023 + (int)((u >> 52) & 0x7ff);
    if (prec + ex / 3 < 15) rounder += v * 3e-16;
    v += rounder;
  }
  int exp = 0;
  if (isnan((double)v)) {
    *special = 1;
    *sign_len = 0;
    memcpy(out, "NaN", 3);
    return 3;
  }
  if (v > 0.0) {
    long double scale = 1.0;
    while (v >= 1e100 * scale && exp <= 350) {
      scale *= 1e100;
      exp += 100;
    }
    while (v >= 1e10 * scale && exp <= 350) {
      scale *= 1e10;
      exp += 10;
    }
    while (v >= 10.0 * scale && exp <= 350) {
      scale *= 10.0;
      exp++;
    }
    v /= scale;
    while (v < 1e-8) {
      v *= 1e8;
      exp -= 8;
    }
    while (v < 1.0) {
      v *= 10.0;
      exp--;
    }
    if (exp > 350) {
      *special = 1;
      if (prefix) *p++ = prefix;
      memcpy(p, "Inf", 3);
      return (int64_t)(p - out) + 3;
    }
  }
  if (xtype != 'f') {
    v += rounder;
    if (v >= 10.0) {
      v *= 0.1;
      exp++;
    }
  }
  int rtz;
  if (xtype == 'g') {
    rtz = !alt;
    if (exp < -4 || exp > prec) {
      xtype = 'e';
    } else {
      prec -= exp;
      xtype = 'f';
    }
  } else {
    rtz = alt2;
  }
  int64_t e2 = xtype == 'e' ? 0 : exp;
  int nsd = 16 + alt2 * 10;
  int dp = prec > 0 || alt || alt2;
  if (prefix) *p++ = prefix;
  if (e2 < 0) {
    *p++ = '0';
  } else {
    for (; e2 >= 0; e2--)
      *p++ = next_digit(&v, &nsd);
  }
  if (dp) *p++ = '.';
  for (e2++; e2 < 0 && prec > 0; prec--, e2++)
    *p++ = '0';
  while (prec-- > 0)
    *p++ = next_digit(&v, &nsd);
  if (rtz && dp) {
    while (p[-1] == '0')
      p--;
    if (p[-1] == '.') {
      if (alt2)
        *p++ = '0';
      else
        p--;
    }
  }
  if (xtype == 'e') {
    *p++ = echar;
    if (exp < 0) {
      *p++ = '-';
      exp = -exp;
    } else {
      *p++ = '+';
    }
    if (exp >= 100) {
      *p++ = (char)(exp / 100 + '0');
      exp %= 100;
    }
    *p++ = (char)(exp / 10 + '0');
    *p++ = (char)(exp % 10 + '0');
  }
  return (int64_t)(p - out);
}

int sl_real_format(char *out, double r, int conv, int prec, int flags) {
  int sign_len, special;
  char prefix = (flags & SL_FMT_PLUS) ? '+' : (flags & SL_FMT_SPACE) ? ' ' : 0;
  if (prec > 350) prec = 350; /* the 400-byte contract of value.h */
  int n = (int)sl_real_render(out, r, (char)conv, prec, (flags & SL_FMT_ALT) != 0,
                              (flags & SL_FMT_ALT2) != 0, prefix, &sign_len, &special);
  out[n] = 0; /* sl_real_render does not terminate */
  return n;
}

int sl_real_to_text(double r, char *out) {
  return sl_real_format(out, r, 'g', 15, SL_FMT_ALT2);
}

static const uint64_t pow10_64[] = {1ULL,
                                    10ULL,
                                    100ULL,
                                    1000ULL,
                                    10000ULL,
                                    100000ULL,
                                    1000000ULL,
                                    10000000ULL,
                                    100000000ULL,
                                    1000000000ULL,
                                    10000000000ULL,
                                    100000000000ULL,
                                    1000000000000ULL,
                                    10000000000000ULL,
                                    100000000000000ULL,
                                    1000000000000000ULL,
                                    10000000000000000ULL,
                                    100000000000000000ULL,
                                    1000000000000000000ULL,
                                    10000000000000000000ULL};

/* 10^k for 0 <= k <= 38 in 128 bits. */
static unsigned __int128 pow10_128(int k) {
  if (k <= 19) return pow10_64[k];
  return (unsigned __int128)pow10_64[19] * pow10_64[k - 19];
}

/* Shortest round-trip digits for 1e-4 <= |r| < 1e16, exactly, in integers:
** r = m * 2^e is scaled by 10^k so that it has 17 integer digits; the
** decimals that read back as r form the interval [V - Hlow, V + H] in units
** of 2^(e-2) * 10^-k (V = 4 m 10^k); the first digit count with a multiple
** of its step inside wins, the one nearest r among them.  Returns the length
** written, or 0 when r is outside the fast range. */
static int shortest_fast(double r, char *out) {
  double a = fabs(r);
  if (!(a >= 1e-4 && a < 1e16)) return 0;
  uint64_t bits;
  memcpy(&bits, &a, sizeof bits);
  int be = (int)(bits >> 52);
  uint64_t m = (bits & ((1ULL << 52) - 1)) | (1ULL << 52);
  int e = be - 1075;
  if (e > 1 || e < -72) return 0;
  int sh = 2 - e; /* units: V / 2^sh is r * 10^k */
  /* log10(2) ~ 0.30103: an estimate the loop corrects */
  int k = 16 - (int)floor((be - 1023) * 0.30102999566398114);
  unsigned __int128 V;
  uint64_t q;
  for (;;) {
    if (k < 0 || k > 21) return 0;
    V = (unsigned __int128)m * 4 * pow10_128(k);
    q = (uint64_t)(V >> sh);
    if (q >= pow10_64[17])
      k--;
    else if (q < pow10_64[16])
      k++;
    else
      break;
  }
  unsigned __int128 H = 2 * pow10_128(k);
  unsigned __int128 Hlow = (m == (1ULL << 52) && be > 1) ? pow10_128(k) : H;
  unsigned odd = (unsigned)(m & 1);
  unsigned __int128 mask = ((unsigned __int128)1 << sh) - 1;
  uint64_t hi = (uint64_t)((V + H - odd) >> sh);
  uint64_t lo = (uint64_t)((V - Hlow + odd + mask) >> sh);
  unsigned __int128 rem = V & mask;
  uint64_t best = q; /* the digits, as best_d * 10^zeros */
  int zeros = 0;
  if (lo >= 1 && lo <= hi) {
    /* the coarsest step 10^j with a multiple in [lo, hi]: floor(hi / 10^j) >
    ** floor((lo - 1) / 10^j); dividing by the constant 10 is cheap */
    uint64_t h = hi, l = lo - 1, qj = q;
    int j = 0;
    while (j < 16 && h / 10 > l / 10) {
      h /= 10;
      l /= 10;
      qj /= 10;
      j++;
    }
    uint64_t step = pow10_64[j], base = qj * step;
    /* the multiple of step nearest to r, if inside; else the top one (h) */
    unsigned __int128 twice = ((unsigned __int128)(q - base) << (sh + 1)) + (rem << 1);
    uint64_t t = twice >= ((unsigned __int128)step << sh) ? base + step : base;
    best = (t >= lo && t <= hi) ? (t == base ? qj : qj + 1) : h;
    zeros = j;
  }
  /* best * 10^zeros has 17 digits (18 when rounding reached 10^17) */
  char dig[24];
  int nd = zeros;
  memset(dig, '0', (size_t)zeros);
  for (uint64_t x = best; x; x /= 10)
    dig[nd++] = (char)('0' + (int)(x % 10));
  int point = nd - k; /* digits before the decimal point */
  int last = zeros;   /* lowest digit kept (trailing zeros dropped) */
  while (last < nd - 1 && dig[last] == '0')
    last++;
  char *o = out;
  if (r < 0) *o++ = '-';
  if (point > 0) {
    for (int i = nd - 1; i >= nd - point; i--)
      *o++ = i >= last ? dig[i] : '0';
    *o++ = '.';
    if (nd - point - 1 < last)
      *o++ = '0';
    else
      for (int i = nd - point - 1; i >= last; i--)
        *o++ = dig[i];
  } else {
    *o++ = '0';
    *o++ = '.';
    for (int i = 0; i < -point; i++)
      *o++ = '0';
    for (int i = nd - 1; i >= last; i--)
      *o++ = dig[i];
  }
  *o = 0;
  return (int)(o - out);
}

/* Powers of ten for the wide range: 10^k ~ p10_c[k] * 2^p10_q[k] with p10_c
** in [2^63, 2^64), rounded to nearest, for P10_MIN <= k <= P10_MAX.  They are
** computed once, before main, from exact big integers. */
#define P10_MIN (-300)
#define P10_MAX 345
static uint64_t p10_c[P10_MAX - P10_MIN + 1];
static int16_t p10_q[P10_MAX - P10_MIN + 1];

/* The top 64 bits of the big integer w[0..nw) (base 2^32, little end first),
** rounded; *top receives the bit position of their lowest bit. */
static uint64_t big_top64(const uint32_t *w, int nw, int *top) {
  while (nw > 0 && w[nw - 1] == 0)
    nw--;
  int hb = (nw - 1) * 32 + 31 - __builtin_clz(w[nw - 1]); /* highest set bit */
  uint64_t c = 0;
  for (int b = hb; b > hb - 64; b--) {
    c <<= 1;
    if (b >= 0) c |= (w[b / 32] >> (b % 32)) & 1;
  }
  int rb = hb - 64; /* rounding bit */
  *top = hb - 63;
  if (rb >= 0 && ((w[rb / 32] >> (rb % 32)) & 1)) {
    if (++c == 0) {
      c = 1ULL << 63;
      (*top)++;
    }
  }
  return c;
}

/* Fill p10_c and p10_q: 10^k for k >= 0 by exact multiplication, 10^-k as
** floor(2^1400 / 10^k) by exact division.  Runs before main (so threads never
** race it) and costs well under a millisecond. */
__attribute__((constructor)) static void p10_init(void) {
  enum { NW = 44 }; /* 1408 bits: 10^345 and 2^1400 / 10^300 with 128 bits to spare */
  uint32_t w[NW];
  int top;
  memset(w, 0, sizeof w);
  w[0] = 1;
  for (int k = 0; k <= P10_MAX; k++) {
    p10_c[k - P10_MIN] = big_top64(w, NW, &top);
    p10_q[k - P10_MIN] = (int16_t)top;
    uint64_t carry = 0;
    for (int i = 0; i < NW; i++) {
      uint64_t x = (uint64_t)w[i] * 10 + carry;
      w[i] = (uint32_t)x;
      carry = x >> 32;
    }
  }
  memset(w, 0, sizeof w);
  w[NW - 1] = 1u << 24; /* 2^1400 */
  for (int k = -1; k >= P10_MIN; k--) {
    uint64_t rem = 0;
    for (int i = NW - 1; i >= 0; i--) {
      uint64_t x = (rem << 32) | w[i];
      w[i] = (uint32_t)(x / 10);
      rem = x % 10;
    }
    p10_c[k - P10_MIN] = big_top64(w, NW, &top);
    p10_q[k - P10_MIN] = (int16_t)(top - 1400);
  }
}

/* Shortest round-trip digits for any other finite nonzero r, in exponential
** form: the rounding interval of r scaled by 10^k (to 17 integer digits)
** is computed in 128-bit fixed point from the cached 10^k, whose error is
** bounded; when a decision falls within that error of a boundary (about
** 0.3% of random doubles), it returns 0 and the caller takes the slow path.
** 17-digit values in [1e16, 1e17) are written positionally, which is shorter. */
static int shortest_wide(double r, char *out) {
  typedef unsigned __int128 u128;
  uint64_t bits;
  memcpy(&bits, &r, sizeof bits);
  int be = (int)((bits >> 52) & 0x7ff);
  uint64_t m = bits & ((1ULL << 52) - 1);
  int e = be ? be - 1075 : -1074;
  if (be) m |= 1ULL << 52;
  if (!m || be == 0x7ff) return 0;
  if (!p10_c[-P10_MIN]) p10_init();                      /* called before the constructor ran */
  uint64_t dlow = (m == (1ULL << 52) && be > 1) ? 1 : 2; /* lower half-gap, in quarter ulps */
  int b2 = e + 63 - __builtin_clzll(m);                  /* floor(log2 |r|) */
  int k = 16 - (int)floor(b2 * 0.30102999566398114);
  int s = 0;
  u128 Vm = 0;
  uint64_t c = 0, qm = 0;
  for (int tries = 0;; tries++) {
    if (tries == 3 || k < P10_MIN || k > P10_MAX) return 0;
    c = p10_c[k - P10_MIN];
    s = 2 - e - p10_q[k - P10_MIN]; /* X * c / 2^s = X * 2^(e-2) * 10^k */
    if (s <= 0 || s > 72) return 0;
    Vm = (u128)(4 * m) * c;
    qm = (uint64_t)(Vm >> s);
    if (qm >= pow10_64[17])
      k--;
    else if (qm < pow10_64[16])
      k++;
    else
      break;
  }
  u128 one = (u128)1 << s, mask = one - 1;
  u128 Vu = (u128)(4 * m + 2) * c, Vl = (u128)(4 * m - dlow) * c;
  /* |computed - exact| <= X * |c - 10^k / 2^q| <= X * (1/2 + 2^-60) < X + 1 */
  u128 err = (u128)(4 * m + 3); /* in units of 2^-s */
  uint64_t hi_in = (uint64_t)((Vu - err - 1) >> s), lo_in = (uint64_t)((Vl + err + one) >> s);
  uint64_t hi_out = (uint64_t)((Vu + err) >> s), lo_out = (uint64_t)((Vl - err + mask) >> s);
  u128 rem = Vm & mask;
  uint64_t best = 0;
  for (int n = 1; n <= 17; n++) {
    uint64_t step = pow10_64[17 - n];
    if (hi_out / step * step < lo_out) continue;                /* certainly no n-digit decimal */
    if (hi_in < lo_in || hi_in / step * step < lo_in) return 0; /* uncertain */
    /* the multiple of step nearest to r, when that is certain */
    uint64_t base = qm / step * step;
    u128 twice = ((u128)(qm - base) << (s + 1)) + (rem << 1), half = (u128)step << s;
    u128 gap = twice > half ? twice - half : half - twice;
    if (gap <= 2 * err) return 0;
    uint64_t t = twice > half ? base + step : base;
    if (t < lo_out)
      t += step;
    else if (t > hi_out)
      t -= step;
    else if (t < lo_in || t > hi_in)
      return 0;
    if (t < lo_in || t > hi_in) return 0;
    best = t;
    break;
  }
  if (!best) return 0;
  char dig[24];
  int nd = 0;
  for (uint64_t x = best; x; x /= 10)
    dig[nd++] = (char)('0' + (int)(x % 10));
  int last = 0; /* lowest digit kept: trailing zeros go */
  while (last < nd - 1 && dig[last] == '0')
    last++;
  int x10 = nd - 1 - k; /* decimal exponent of the first digit */
  char *o = out;
  if (r < 0) *o++ = '-';
  if (x10 == 16 && k == 0 && nd - last >= 15) {
    /* 17 integer digits: positional is the shorter form (and %.17g's) */
    for (int i = nd - 1; i >= 0; i--)
      *o++ = i >= last ? dig[i] : '0';
    memcpy(o, ".0", 3);
    return (int)(o + 2 - out);
  }
  *o++ = dig[nd - 1];
  *o++ = '.';
  if (last == nd - 1)
    *o++ = '0';
  else
    for (int i = nd - 2; i >= last; i--)
      *o++ = dig[i];
  *o++ = 'e';
  *o++ = x10 < 0 ? '-' : '+';
  if (x10 < 0) x10 = -x10;
  if (x10 >= 100) *o++ = (char)('0' + x10 / 100);
  *o++ = (char)('0' + x10 / 10 % 10);
  *o++ = (char)('0' + x10 % 10);
  *o = 0;
  return (int)(o - out);
}

/* Fewest significant digits that read back as r (see value.h): positional
** for 1e-4 <= |r| < 1e16 ("0.1", "100.0"), exponential otherwise ("1.5e-07",
** "1.0e+300", as %g writes it plus the ".0" sluice's golden output keeps).
** Exact integer paths cover nearly every double; the rest (about 0.3% of
** random bit patterns, and NaN/Inf) go through snprintf and strtod.  out
** must hold 32 bytes; it is NUL-terminated; returns the length. */
int sl_real_to_shortest(double r, char *out) {
  int fast = shortest_fast(r, out);
  if (fast) return fast;
  if (r != 0.0 && isfinite(r)) {
    fast = shortest_wide(r, out);
    if (fast) return fast;
  }
  if (r == 0.0) {
    strcpy(out, signbit(r) ? "-0.0" : "0.0");
    return signbit(r) ? 4 : 3;
  }
  if (!isfinite(r)) {
    strcpy(out, r != r ? "NaN" : r < 0 ? "-Infinity" : "Infinity");
    return (int)strlen(out);
  }
  /* Outside the fast range the form is exponential (as Python's repr).  For
  ** a normal double, 15 correctly rounded digits (zeros trimmed by %g) are
  ** the shortest form whenever one of 15 or fewer digits exists; subnormals
  ** have fewer significant bits and may need fewer digits still. */
  int n = 0;
  for (int prec = fabs(r) < 2.2250738585072014e-308 ? 1 : 15; prec <= 17; prec++) {
    n = snprintf(out, 28, "%.*g", prec, r);
    if (prec == 17 || strtod(out, NULL) == r) break;
  }
  return add_point(out, n);
}

const char *sl_value_text(sl_value *v, size_t *n) {
  char tmp[40];
  int len;
  SL_ASSERT(value_ok(v));
  switch (v->type) {
  case SL_NULL: *n = 0; return NULL;
  case SL_TEXT:
  case SL_BLOB: *n = v->n; return v->u.z;
  case SL_INTEGER: len = snprintf(tmp, sizeof tmp, "%lld", (long long)v->u.i); break;
  case SL_REAL: len = sl_real_to_text(v->u.r, tmp); break;
  default: { /* VECTOR as a JSON array */
    sl_buf b;
    sl_buf_init(&b);
    sl_buf_putc(&b, '[');
    for (uint32_t i = 0; i < v->n; i++) {
      char d[40];
      int k = sl_real_to_shortest(v->u.v[i], d);
      if (i) sl_buf_putc(&b, ',');
      sl_buf_append(&b, d, (size_t)k);
    }
    sl_buf_putc(&b, ']');
    /* v->u.v may point into v->buf: copy the text after the data. */
    size_t need = byte_len(v) + b.n + 1;
    if (v->flags & SL_F_OWNBUF) {
      size_t off = byte_len(v);
      reserve(v, need);
      v->u.v = (const double *)(void *)v->buf;
      memcpy(v->buf + off, b.z, b.n + 1);
      *n = b.n;
      sl_buf_free(&b);
      return v->buf + off;
    }
    reserve(v, b.n + 1);
    memcpy(v->buf, b.z, b.n + 1);
    *n = b.n;
    sl_buf_free(&b);
    return v->buf;
  }
  }
  reserve(v, (size_t)len + 1);
  memcpy(v->buf, tmp, (size_t)len + 1);
  *n = (size_t)len;
  return v->buf;
}

const char *sl_value_cstr(sl_value *v) {
  size_t n;
  SL_ASSERT(value_ok(v));
  if ((v->type == SL_TEXT || v->type == SL_BLOB) && !(v->flags & SL_F_TERM)) {
    if (v->flags & SL_F_OWNBUF) {
      reserve(v, v->n + 1);
      v->u.z = v->buf;
      v->buf[v->n] = 0;
      v->flags |= SL_F_TERM;
      return v->buf;
    }
    reserve(v, v->n + 1);
    memcpy(v->buf, v->u.z, v->n);
    v->buf[v->n] = 0;
    return v->buf; /* v still borrows u.z; buf holds a terminated copy */
  }
  return sl_value_text(v, &n);
}

int sl_value_truth(const sl_value *v) {
  switch (v->type) {
  case SL_NULL: return -1;
  case SL_INTEGER: return v->u.i != 0;
  case SL_REAL: return v->u.r != 0.0;
  case SL_VECTOR: return v->n > 0;
  default: return sl_value_as_real(v) != 0.0;
  }
}

/* ---- affinity and CAST ------------------------------------------------------------ */

/* Whether numeric affinity turns the REAL r into an INTEGER: it is integral
** and strictly inside the 64-bit range (SQLite keeps -2^63 and 2^63 as REAL). */
static int real_is_int(double r) {
  return r > -9223372036854775808.0 && r < 9223372036854775808.0 && (double)(int64_t)r == r;
}

/* Convert TEXT that is entirely a number into INTEGER or REAL (numeric
** affinity); try_int also turns integral REALs into INTEGERs. */
static void numeric_affinity(sl_value *v, int try_int) {
  if (v->type == SL_TEXT) {
    int real, whole;
    size_t len = scan_number(v->u.z, v->n, &real, &whole);
    if (!len || !whole) return;
    sl_value num = SL_VALUE_INIT;
    text_to_number(v->u.z, v->n, &num);
    if (num.type == SL_REAL && try_int) {
      double r = num.u.r;
      if (real_is_int(r)) sl_value_set_int(&num, (int64_t)r);
    }
    v->type = num.type;
    v->flags = 0;
    v->u = num.u;
    return;
  }
  if (v->type == SL_REAL && try_int) {
    double r = v->u.r;
    if (real_is_int(r)) sl_value_set_int(v, (int64_t)r);
  }
}

static void to_text(sl_value *v) {
  if (v->type == SL_INTEGER || v->type == SL_REAL) {
    size_t n;
    const char *z = sl_value_text(v, &n);
    set_bytes(v, SL_TEXT, z, n);
  }
}

void sl_value_text_in(sl_value *v, sl_arena *arena) {
  char tmp[40];
  int len;
  if (v->type == SL_INTEGER)
    len = snprintf(tmp, sizeof tmp, "%lld", (long long)v->u.i);
  else if (v->type == SL_REAL)
    len = sl_real_to_text(v->u.r, tmp);
  else
    return;
  char *p = sl_arena_alloc(arena, (size_t)len + 1);
  memcpy(p, tmp, (size_t)len + 1);
  sl_value_borrow_text(v, p, (size_t)len, SL_F_TERM);
}

void sl_value_apply_affinity(sl_value *v, sl_affinity aff) {
  switch (aff) {
  case SL_AFF_TEXT: to_text(v); break;
  case SL_AFF_NUMERIC:
  case SL_AFF_INTEGER: numeric_affinity(v, 1); break;
  case SL_AFF_REAL:
    numeric_affinity(v, 0);
    if (v->type == SL_INTEGER) sl_value_set_real(v, (double)v->u.i);
    /* SQLite stores an integral REAL as an integer: -0.0 comes back as 0.0 */
    if (v->type == SL_REAL && v->u.r == 0.0) v->u.r = 0.0;
    break;
  default: break;
  }
}

void sl_value_cast(sl_value *v, sl_affinity aff) {
  if (v->type == SL_NULL) return;
  switch (aff) {
  case SL_AFF_INTEGER: sl_value_set_int(v, sl_value_as_int(v)); break;
  case SL_AFF_REAL: sl_value_set_real(v, sl_value_as_real(v)); break;
  case SL_AFF_NUMERIC:
    if (v->type == SL_TEXT || v->type == SL_BLOB) {
      /* Like arithmetic, but a REAL that is small and integral becomes an
      ** INTEGER (SQLite's sqlite3RealSameAsInt: |i| < 2^51). */
      sl_value num = SL_VALUE_INIT;
      text_to_number(v->u.z, v->n, &num);
      if (num.type == SL_REAL) {
        double r = num.u.r;
        if (r == 0.0)
          sl_value_set_int(&num, 0);
        else if (r > -2251799813685248.0 && r < 2251799813685248.0 && (double)(int64_t)r == r)
          sl_value_set_int(&num, (int64_t)r);
      }
      v->type = num.type;
      v->flags = 0;
      v->u = num.u;
    }
    break;
  case SL_AFF_TEXT:
    if (v->type == SL_BLOB) {
      v->type = SL_TEXT;
    } else if (v->type == SL_VECTOR) {
      size_t n;
      const char *z = sl_value_text(v, &n);
      sl_value tmp = SL_VALUE_INIT;
      sl_value_set_text(&tmp, z, n);
      sl_value_copy(v, &tmp);
      sl_value_free(&tmp);
    } else {
      to_text(v);
    }
    break;
  default: /* BLOB */
    if (v->type == SL_TEXT) {
      v->type = SL_BLOB;
      v->flags &= (uint8_t)~SL_F_JSON;
    } else if (v->type == SL_INTEGER || v->type == SL_REAL) {
      to_text(v);
      v->type = SL_BLOB;
    }
    break;
  }
}

sl_affinity sl_affinity_of_typename(const char *z, size_t n) {
  /* SQLite's rules, in order (datatype3.html section 3.1). */
  char up[64];
  size_t m = n < sizeof up - 1 ? n : sizeof up - 1;
  for (size_t i = 0; i < m; i++)
    up[i] = (char)((z[i] >= 'a' && z[i] <= 'z') ? z[i] - 32 : z[i]);
  up[m] = 0;
  if (strstr(up, "INT")) return SL_AFF_INTEGER;
  if (strstr(up, "CHAR") || strstr(up, "CLOB") || strstr(up, "TEXT")) return SL_AFF_TEXT;
  if (m == 0 || strstr(up, "BLOB")) return SL_AFF_NONE;
  if (strstr(up, "REAL") || strstr(up, "FLOA") || strstr(up, "DOUB")) return SL_AFF_REAL;
  return SL_AFF_NUMERIC;
}

const char *sl_type_name(int type) {
  static const char *const names[] = {"null", "integer", "real", "text", "blob", "vector"};
  return type >= 0 && type <= SL_VECTOR ? names[type] : "?";
}

/* ---- operators ------------------------------------------------------------------------ */

/* Number view of a value for arithmetic: INTEGER or REAL (NULL stays NULL). */
static void num_of(const sl_value *v, sl_value *out) {
  if (v->type == SL_VECTOR) {
    sl_value_set_null(out);
    return;
  }
  sl_value_numerify(v, out);
}

static void set_real_or_null(sl_value *out, double r) {
  if (r != r)
    sl_value_set_null(out);
  else
    sl_value_set_real(out, r);
}

void sl_value_arith(sl_arith_op op, const sl_value *a, const sl_value *b, sl_value *out) {
  if (a->type == SL_NULL || b->type == SL_NULL) {
    sl_value_set_null(out);
    return;
  }
  if (op >= SL_OP_BITAND) {
    if (a->type == SL_VECTOR || b->type == SL_VECTOR) {
      sl_value_set_null(out);
      return;
    }
    int64_t x = sl_value_as_int(a), y = sl_value_as_int(b), z;
    if (op == SL_OP_BITAND)
      z = x & y;
    else if (op == SL_OP_BITOR)
      z = x | y;
    else {
      int left = op == SL_OP_SHL;
      if (y < 0) {
        left = !left;
        y = y > -64 ? -y : 64;
      }
      if (y >= 64)
        z = (left || x >= 0) ? 0 : -1;
      else if (left)
        z = (int64_t)((uint64_t)x << y);
      else
        z = x >= 0 ? x >> y : ~((~x) >> y);
    }
    sl_value_set_int(out, z);
    return;
  }
  sl_value na = SL_VALUE_INIT, nb = SL_VALUE_INIT;
  num_of(a, &na);
  num_of(b, &nb);
  if (na.type == SL_NULL || nb.type == SL_NULL) {
    sl_value_set_null(out);
    return;
  }
  if (na.type == SL_INTEGER && nb.type == SL_INTEGER) {
    int64_t x = na.u.i, y = nb.u.i, z;
    switch (op) {
    case SL_OP_ADD:
      if (!__builtin_add_overflow(x, y, &z)) {
        sl_value_set_int(out, z);
        return;
      }
      break;
    case SL_OP_SUB:
      if (!__builtin_sub_overflow(x, y, &z)) {
        sl_value_set_int(out, z);
        return;
      }
      break;
    case SL_OP_MUL:
      if (!__builtin_mul_overflow(x, y, &z)) {
        sl_value_set_int(out, z);
        return;
      }
      break;
    case SL_OP_DIV:
      if (y == 0) {
        sl_value_set_null(out);
        return;
      }
      if (x == INT64_MIN && y == -1) break; /* overflows: REAL */
      sl_value_set_int(out, x / y);
      return;
    default: /* REM */
      if (y == 0) {
        sl_value_set_null(out);
        return;
      }
      if (y == -1) y = 1;
      sl_value_set_int(out, x % y);
      return;
    }
  }
  if (op == SL_OP_REM) {
    /* SQLite takes the integer value of the operands as given: text '1e3'
    ** is 1 here, although it is 1000.0 as a number. */
    int64_t x = sl_value_as_int(a), y = sl_value_as_int(b);
    if (y == 0) {
      sl_value_set_null(out);
      return;
    }
    if (y == -1) y = 1;
    sl_value_set_real(out, (double)(x % y));
    return;
  }
  /* Like SQLite, the REAL value of a text operand is parsed afresh: '-0' and
  ** '-' are the integer 0 above but -0.0 here. */
  double x = sl_value_as_real(a), y = sl_value_as_real(b);
  switch (op) {
  case SL_OP_ADD: set_real_or_null(out, x + y); break;
  case SL_OP_SUB: set_real_or_null(out, x - y); break;
  case SL_OP_MUL: set_real_or_null(out, x * y); break;
  default:
    if (y == 0.0)
      sl_value_set_null(out);
    else
      set_real_or_null(out, x / y);
    break;
  }
}

void sl_value_negate(const sl_value *a, sl_value *out) {
  /* SQLite codes -x as 0 - x: -(0.0) is 0.0, -(-2^63) is REAL 2^63. */
  sl_value zero = SL_VALUE_INIT;
  sl_value_set_int(&zero, 0);
  sl_value_arith(SL_OP_SUB, &zero, a, out);
}

void sl_value_bitnot(const sl_value *a, sl_value *out) {
  if (a->type == SL_NULL || a->type == SL_VECTOR) {
    sl_value_set_null(out);
    return;
  }
  sl_value_set_int(out, ~sl_value_as_int(a));
}

void sl_value_not(const sl_value *a, sl_value *out) {
  int t = sl_value_truth(a);
  if (t < 0)
    sl_value_set_null(out);
  else
    sl_value_set_int(out, !t);
}

int sl_value_concat(sl_value *a, sl_value *b, sl_value *out) {
  if (a->type == SL_NULL || b->type == SL_NULL) {
    sl_value_set_null(out);
    return 0;
  }
  size_t na, nb;
  const char *za = sl_value_text(a, &na);
  /* a's text may live in a->buf; render b first into its own buffer. */
  const char *zb = sl_value_text(b, &nb);
  za = sl_value_text(a, &na);
  if (sl_too_big((uint64_t)na + nb)) {
    sl_value_set_null(out);
    return -1;
  }
  char stack[256];
  char *tmp = na + nb <= sizeof stack ? stack : sl_malloc(na + nb);
  memcpy(tmp, za, na);
  memcpy(tmp + na, zb, nb);
  sl_value_set_text(out, tmp, na + nb);
  if (tmp != stack) free(tmp);
  return 0;
}

/* ---- comparison ------------------------------------------------------------------ */

static int int_real_cmp(int64_t i, double r) {
  if (r < -9223372036854775808.0) return 1;
  if (r >= 9223372036854775808.0) return -1;
  int64_t y = (int64_t)r;
  if (i < y) return -1;
  if (i > y) return 1;
  double s = (double)i;
  if (s < r) return -1;
  if (s > r) return 1;
  return 0;
}

static int lower(int c) {
  return (c >= 'A' && c <= 'Z') ? c + 32 : c;
}

static int text_cmp(const char *a, size_t na, const char *b, size_t nb, sl_coll coll) {
  if (coll == SL_COLL_RTRIM) {
    while (na && a[na - 1] == ' ')
      na--;
    while (nb && b[nb - 1] == ' ')
      nb--;
  }
  size_t n = na < nb ? na : nb;
  int c;
  if (coll == SL_COLL_NOCASE) {
    c = 0;
    for (size_t i = 0; i < n && !c; i++)
      c = lower((unsigned char)a[i]) - lower((unsigned char)b[i]);
  } else {
    c = n ? memcmp(a, b, n) : 0;
  }
  if (c) return c < 0 ? -1 : 1;
  return na < nb ? -1 : na > nb;
}

/* Rank of a storage class in SQLite's sort order. */
static int type_rank(int t) {
  switch (t) {
  case SL_NULL: return 0;
  case SL_INTEGER:
  case SL_REAL: return 1;
  case SL_TEXT: return 2;
  case SL_BLOB: return 3;
  default: return 4;
  }
}

int sl_value_compare(const sl_value *a, const sl_value *b, sl_coll coll) {
  SL_ASSERT(value_ok(a) && value_ok(b));
  int ra = type_rank(a->type), rb = type_rank(b->type);
  if (ra != rb) return ra < rb ? -1 : 1;
  switch (ra) {
  case 0: return 0;
  case 1:
    if (a->type == SL_INTEGER && b->type == SL_INTEGER)
      return a->u.i < b->u.i ? -1 : a->u.i > b->u.i;
    if (a->type == SL_REAL && b->type == SL_REAL) return a->u.r < b->u.r ? -1 : a->u.r > b->u.r;
    if (a->type == SL_INTEGER) return int_real_cmp(a->u.i, b->u.r);
    return -int_real_cmp(b->u.i, a->u.r);
  case 2: return text_cmp(a->u.z, a->n, b->u.z, b->n, coll);
  case 3: return text_cmp(a->u.z, a->n, b->u.z, b->n, SL_COLL_BINARY);
  default:
    for (uint32_t i = 0; i < a->n && i < b->n; i++)
      if (a->u.v[i] != b->u.v[i]) return a->u.v[i] < b->u.v[i] ? -1 : 1;
    return a->n < b->n ? -1 : a->n > b->n;
  }
}

int sl_value_compare_aff(const sl_value *a, const sl_value *b, sl_affinity aff, sl_coll coll,
                         sl_value *s1, sl_value *s2) {
  if (a->type == SL_NULL || b->type == SL_NULL) return -2;
  if (aff >= SL_AFF_NUMERIC) {
    if (a->type == SL_TEXT) {
      sl_value_ref(s1, a);
      numeric_affinity(s1, 0);
      a = s1;
    }
    if (b->type == SL_TEXT) {
      sl_value_ref(s2, b);
      numeric_affinity(s2, 0);
      b = s2;
    }
  } else if (aff == SL_AFF_TEXT) {
    if (a->type == SL_INTEGER || a->type == SL_REAL) {
      sl_value_ref(s1, a);
      to_text(s1);
      a = s1;
    }
    if (b->type == SL_INTEGER || b->type == SL_REAL) {
      sl_value_ref(s2, b);
      to_text(s2);
      b = s2;
    }
  }
  return sl_value_compare(a, b, coll);
}

uint64_t sl_value_hash_coll(const sl_value *v, sl_coll coll) {
  if (v->type != SL_TEXT || coll == SL_COLL_BINARY) return sl_value_hash(v);
  uint32_t n = v->n;
  if (coll == SL_COLL_RTRIM)
    while (n && v->u.z[n - 1] == ' ')
      n--;
  uint64_t b = 0xcbf29ce484222325ull;
  for (uint32_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)v->u.z[i];
    if (coll == SL_COLL_NOCASE && c >= 'A' && c <= 'Z') c = (unsigned char)(c + 32);
    b = (b ^ c) * 0x100000001b3ull;
  }
  b ^= n;
  b ^= b >> 33; /* murmur3's finaliser, as sl_value_hash */
  b *= 0xff51afd7ed558ccdull;
  b ^= b >> 33;
  return b;
}

uint64_t sl_value_hash(const sl_value *v) {
  uint64_t b;
  switch (v->type) {
  case SL_NULL: return 0x51ed27a4b1c3d5e7ull;
  case SL_INTEGER:
  case SL_REAL: {
    double d = v->type == SL_INTEGER ? (double)v->u.i : v->u.r;
    if (d == 0) d = 0; /* -0.0 == 0.0 */
    memcpy(&b, &d, sizeof b);
    break;
  }
  case SL_VECTOR: b = 0xcbf29ce484222325ull ^ v->n; break;
  default: { /* TEXT, BLOB: FNV-1a over the bytes */
    b = 0xcbf29ce484222325ull ^ v->type;
    for (uint32_t i = 0; i < v->n; i++)
      b = (b ^ (unsigned char)v->u.z[i]) * 0x100000001b3ull;
    break;
  }
  }
  /* murmur3's finaliser: the low bits depend on all of them */
  b ^= b >> 33;
  b *= 0xff51afd7ed558ccdull;
  b ^= b >> 33;
  b *= 0xc4ceb9fe1a85ec53ull;
  return b ^ (b >> 33);
}

/* ---- an index of distinct values (see value.h) ------------------------------ */

typedef struct vkey {
  const sl_value *v;
  const char *base; /* the caller's entries */
  size_t stride;
} vkey;

static const sl_value *ventry(const vkey *k, size_t i) {
  return (const sl_value *)(const void *)(k->base + i * k->stride);
}

static uint64_t vkey_hash(const void *key) {
  return sl_value_hash(((const vkey *)key)->v);
}

/* sl_value_compare(a, b, SL_COLL_BINARY) == 0, the common cases first. */
static inline int same_value(const sl_value *a, const sl_value *b) {
  if (a->type == SL_INTEGER && b->type == SL_INTEGER) return a->u.i == b->u.i;
  if (a->type == SL_TEXT && b->type == SL_TEXT)
    return a->n == b->n && (!a->n || memcmp(a->u.z, b->u.z, a->n) == 0);
  return sl_value_compare(a, b, SL_COLL_BINARY) == 0;
}

static int vkey_eq(const void *key, const sl_hslot *s) {
  const vkey *k = key;
  return same_value(k->v, ventry(k, s->u));
}

static const sl_htype vindex_type = {vkey_hash, vkey_eq};

#define VINDEX_LINEAR 8 /* entries searched without a table */

/* The index of k's value among the first n entries by a scan, or -1. */
static int vindex_scan(const vkey *k, int n) {
  for (int i = 0; i < n; i++)
    if (same_value(k->v, ventry(k, (size_t)i))) return i;
  return -1;
}

int sl_vindex_find(const sl_htab *ix, const void *base, size_t stride, int n, const sl_value *v) {
  vkey k = {v, base, stride};
  if (!ix->slot) return vindex_scan(&k, n);
  sl_hslot *s = sl_htab_find_t(ix, &vindex_type, sl_value_hash(v), &k);
  return s ? (int)s->u : -1;
}

int sl_vindex_put(sl_htab *ix, const void *base, size_t stride, int n, const sl_value *v) {
  vkey k = {v, base, stride};
  int added;
  if (!ix->slot) {
    int i = vindex_scan(&k, n);
    if (i >= 0 || n < VINDEX_LINEAR) return i;
    sl_htab_init(ix, &vindex_type); /* too many to scan: index them all */
    for (i = 0; i < n; i++) {
      vkey e = {ventry(&k, (size_t)i), base, stride};
      sl_htab_put(ix, &e, &added)->u = (uint64_t)i;
    }
  }
  sl_hslot *s = sl_htab_put_t(ix, &vindex_type, sl_value_hash(v), &k, &added);
  if (!added) return (int)s->u;
  s->u = (uint64_t)n;
  return -1;
}
