/*
** func_core.c - SQLite's core scalar functions: strings, conversions, math
** and the small utilities (typeof, quote, nullif, ...), as sl_func
** descriptors in sl_builtin_core[].  Also the LIKE and GLOB matchers.
**
** Each function follows SQLite 3's results, types included; tests compare
** them with the sqlite3 library (tests/func_test.c, tests/difftest.c).  Text is UTF-8 and
** "characters" are code points; upper/lower fold ASCII only (SQLite without
** ICU).
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "func.h"

#define DET SL_FUNC_DETERMINISTIC

/* ---- helpers ----------------------------------------------------------------- */

/* Text of an argument (rendering numbers), or NULL for a NULL argument.  The
** bytes live in v (see sl_value_text). */
static const char *arg_text(sl_value *v, size_t *n) {
  return sl_value_text(v, n);
}

/* The length of z[0..n) up to its first NUL: the part of a text that SQLite's
** C-string based functions (substr, length, like, trim's set...) see. */
static size_t cstr_len(const char *z, size_t n) {
  const char *nul = memchr(z, 0, n);
  return nul ? (size_t)(nul - z) : n;
}

/* Index after the character starting at z[i], as SQLite steps through UTF-8:
** a lead byte of 0xC0 or more takes every continuation byte that follows;
** any other byte is a character by itself. */
static size_t char_next(const char *z, size_t i, size_t n) {
  if ((unsigned char)z[i++] >= 0xC0)
    while (i < n && ((unsigned char)z[i] & 0xC0) == 0x80)
      i++;
  return i;
}

/* Number of characters in z[0..n). */
static size_t utf8_len(const char *z, size_t n) {
  size_t c = 0;
  for (size_t i = 0; i < n; c++)
    i = char_next(z, i, n);
  return c;
}

/* Byte offset of the k-th character of z[0..n) (or n). */
static size_t utf8_skip(const char *z, size_t n, size_t k) {
  size_t i = 0;
  for (; i < n && k > 0; k--)
    i = char_next(z, i, n);
  return i;
}

/* Decode the character at z[0..n) (n >= 1) as SQLite's sqlite3Utf8Read:
** overlong forms, surrogates and U+FFFE/U+FFFF read as U+FFFD; a stray
** continuation byte reads as itself.  *len receives its size in bytes. */
static unsigned utf8_read(const unsigned char *z, size_t n, size_t *len) {
  unsigned c = z[0];
  size_t k = 1;
  if (c >= 0xC0) {
    c = c < 0xE0   ? c - 0xC0
        : c < 0xF0 ? c - 0xE0
        : c < 0xF8 ? c - 0xF0
        : c < 0xFC ? c - 0xF8
        : c < 0xFE ? c - 0xFC
                   : 0;
    while (k < n && (z[k] & 0xC0) == 0x80)
      c = (c << 6) + (z[k++] & 0x3F);
    if (c < 0x80 || (c & 0xFFFFF800) == 0xD800 || (c & 0xFFFFFFFE) == 0xFFFE) c = 0xFFFD;
  }
  *len = k;
  return c;
}

/* The numeric value of an argument as sqlite3_value_numeric_type sees it:
** returns 1 with *out set (no buffer) when the value is a number or a text
** that entirely reads as one ('12' -> 12, ' 2.0 ' -> 2.0, '1e3' -> 1000.0);
** 0 for NULL, BLOB and other text. */
static int numeric_arg(const sl_value *v, sl_value *out) {
  if (v->type == SL_INTEGER || v->type == SL_REAL) {
    *out = *v;
    out->buf = NULL;
    out->cap = 0;
    return 1;
  }
  if (v->type != SL_TEXT) return 0;
  sl_value tmp = SL_VALUE_INIT;
  sl_value_ref(&tmp, v);
  sl_value_apply_affinity(&tmp, SL_AFF_NUMERIC);
  if (tmp.type != SL_INTEGER && tmp.type != SL_REAL) {
    sl_value_free(&tmp);
    return 0;
  }
  /* NUMERIC affinity turns '2.0' into 2; sqlite3_value_numeric_type keeps
  ** text with a '.' or an exponent REAL. */
  if (tmp.type == SL_INTEGER) {
    for (uint32_t i = 0; i < v->n; i++)
      if (v->u.z[i] == '.' || v->u.z[i] == 'e' || v->u.z[i] == 'E') {
        double r; /* read the text itself: '-0.0' keeps its sign */
        sl_atof(v->u.z, v->n, &r);
        sl_value_set_real(&tmp, r);
        break;
      }
  }
  *out = tmp;
  sl_value_free(&tmp);
  out->buf = NULL;
  out->cap = 0;
  return 1;
}

/* ---- strings ------------------------------------------------------------------------ */

/* length(X): characters of text up to a NUL, bytes of a blob, characters of
** a number's text; NULL for NULL. */
static void f_length(sl_fctx *ctx, int argc, sl_value **argv) {
  sl_value *v = argv[0];
  size_t n;
  if (v->type == SL_NULL) return;
  if (v->type == SL_BLOB) {
    sl_result_int(ctx, v->n);
    return;
  }
  const char *z = arg_text(v, &n);
  sl_result_int(ctx, (int64_t)utf8_len(z, cstr_len(z, n)));
}

/* octet_length(X): bytes of X's text (or blob) representation. */
static void f_octet_length(sl_fctx *ctx, int argc, sl_value **argv) {
  size_t n;
  if (argv[0]->type == SL_NULL) return;
  arg_text(argv[0], &n);
  sl_result_int(ctx, (int64_t)n);
}

/* upper/lower: ASCII letters only, every byte of the text (NULs included). */
static void case_fold(sl_fctx *ctx, sl_value *v, int up) {
  size_t n;
  if (v->type == SL_NULL) return;
  const char *z = arg_text(v, &n);
  char *out = sl_value_text_space(ctx->out, n);
  for (size_t i = 0; i < n; i++) {
    char c = z[i];
    if (up && c >= 'a' && c <= 'z') c -= 32;
    if (!up && c >= 'A' && c <= 'Z') c += 32;
    out[i] = c;
  }
  sl_value_commit_text(ctx->out, n);
}

static void f_upper(sl_fctx *ctx, int argc, sl_value **argv) {
  case_fold(ctx, argv[0], 1);
}
static void f_lower(sl_fctx *ctx, int argc, sl_value **argv) {
  case_fold(ctx, argv[0], 0);
}

/* hex(X): upper-case hex of the bytes of X's blob or text; '' for NULL. */
static void f_hex(sl_fctx *ctx, int argc, sl_value **argv) {
  static const char hx[] = "0123456789ABCDEF";
  size_t n = 0;
  sl_value *v = argv[0];
  const char *z = v->type == SL_NULL ? "" : arg_text(v, &n);
  if (sl_too_big(2 * (uint64_t)n)) {
    sl_result_toobig(ctx);
    return;
  }
  char *out = sl_value_text_space(ctx->out, 2 * n);
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = hx[(unsigned char)z[i] >> 4];
    out[2 * i + 1] = hx[(unsigned char)z[i] & 15];
  }
  sl_value_commit_text(ctx->out, 2 * n);
}

/* instr(X, Y): 1-based character (byte for two blobs) position of the first
** Y in X, 0 when absent, NULL if either is NULL. */
static void f_instr(sl_fctx *ctx, int argc, sl_value **argv) {
  if (argv[0]->type == SL_NULL || argv[1]->type == SL_NULL) return;
  int blobs = argv[0]->type == SL_BLOB && argv[1]->type == SL_BLOB;
  size_t nh, nn;
  const char *h = arg_text(argv[0], &nh);
  const char *nd = arg_text(argv[1], &nn);
  int64_t pos = 1;
  size_t i = 0;
  while (nn <= nh - i && memcmp(h + i, nd, nn) != 0) {
    pos++;
    do
      i++;
    while (!blobs && i < nh && ((unsigned char)h[i] & 0xC0) == 0x80);
  }
  if (nn > nh - i) pos = 0;
  sl_result_int(ctx, pos);
}

/* substr(X, Y [, Z]) as SQLite: Y and Z are taken as 32-bit integers;
** characters of text (up to a NUL), bytes of a blob; a negative Y counts
** from the end, a negative Z takes characters before Y. */
static void f_substr(sl_fctx *ctx, int argc, sl_value **argv) {
  for (int i = 0; i < argc; i++)
    if (argv[i]->type == SL_NULL) return;
  sl_value *v = argv[0];
  int blob = v->type == SL_BLOB;
  size_t n;
  const char *z = arg_text(v, &n);
  if (blob && n == 0) return; /* SQLite: no bytes, no result */
  if (!blob) n = cstr_len(z, n);
  int64_t p1 = (int)sl_value_as_int(argv[1]);
  int64_t p2;
  int neg = 0;
  if (argc == 3) {
    p2 = (int)sl_value_as_int(argv[2]);
    if (p2 < 0) {
      p2 = -p2;
      neg = 1;
    }
  } else {
    p2 = 1000000000;
  }
  int64_t len = blob ? (int64_t)n : (int64_t)utf8_len(z, n);
  if (p1 < 0) {
    p1 += len;
    if (p1 < 0) {
      p2 += p1;
      if (p2 < 0) p2 = 0;
      p1 = 0;
    }
  } else if (p1 > 0) {
    p1--;
  } else if (p2 > 0) {
    p2--;
  }
  if (neg) {
    p1 -= p2;
    if (p1 < 0) {
      p2 += p1;
      p1 = 0;
    }
  }
  if (blob) {
    if (p1 > (int64_t)n) p1 = (int64_t)n;
    if (p1 + p2 > (int64_t)n) p2 = (int64_t)n - p1;
    sl_result_blob(ctx, z + p1, (size_t)p2);
    return;
  }
  size_t a = utf8_skip(z, n, (size_t)p1);
  size_t b = a + utf8_skip(z + a, n - a, (size_t)p2);
  sl_result_text(ctx, z + a, b - a);
}

/* trim/ltrim/rtrim(X [, Y]): remove from the ends of X every character of
** the set Y (up to a NUL; default ' ').  As SQLite, the characters of Y are
** matched as byte strings against the start or the end of X. */
static void trim(sl_fctx *ctx, int argc, sl_value **argv, int left, int right) {
  if (argv[0]->type == SL_NULL || (argc > 1 && argv[1]->type == SL_NULL)) return;
  size_t n, nset = 1;
  const char *z = arg_text(argv[0], &n);
  const char *set = " ";
  if (argc > 1) {
    set = arg_text(argv[1], &nset);
    nset = cstr_len(set, nset);
  }
  size_t a = 0, b = n;
  if (nset > 0) {
    while (left && a < b) {
      size_t i = 0, k = 0;
      for (; i < nset; i = k) {
        k = char_next(set, i, nset);
        if (k - i <= b - a && memcmp(z + a, set + i, k - i) == 0) break;
      }
      if (i >= nset) break;
      a += k - i;
    }
    while (right && b > a) {
      size_t i = 0, k = 0;
      for (; i < nset; i = k) {
        k = char_next(set, i, nset);
        if (k - i <= b - a && memcmp(z + b - (k - i), set + i, k - i) == 0) break;
      }
      if (i >= nset) break;
      b -= k - i;
    }
  }
  sl_result_text(ctx, z + a, b - a);
}

static void f_trim(sl_fctx *ctx, int argc, sl_value **argv) {
  trim(ctx, argc, argv, 1, 1);
}
static void f_ltrim(sl_fctx *ctx, int argc, sl_value **argv) {
  trim(ctx, argc, argv, 1, 0);
}
static void f_rtrim(sl_fctx *ctx, int argc, sl_value **argv) {
  trim(ctx, argc, argv, 0, 1);
}

/* replace(X, Y, Z): every Y in X replaced by Z.  As SQLite: NULL if X or Y is
** NULL; an empty Y (as a C string) gives X itself (a blob X becomes text);
** otherwise NULL if Z is NULL. */
static void f_replace(sl_fctx *ctx, int argc, sl_value **argv) {
  if (argv[0]->type == SL_NULL || argv[1]->type == SL_NULL) return;
  size_t n, nf, nt;
  const char *z = arg_text(argv[0], &n);
  const char *from = arg_text(argv[1], &nf);
  if (nf == 0 || from[0] == 0) {
    if (argv[0]->type == SL_BLOB)
      sl_result_text(ctx, z, n);
    else
      sl_result_value(ctx, argv[0]);
    return;
  }
  if (argv[2]->type == SL_NULL) return;
  const char *to = arg_text(argv[2], &nt);
  size_t count = 0;
  for (size_t i = 0; i + nf <= n;) {
    if (memcmp(z + i, from, nf) == 0) {
      count++;
      i += nf;
    } else {
      i++;
    }
  }
  uint64_t total = (uint64_t)(n - count * nf) + (uint64_t)count * nt;
  if (sl_too_big(total)) {
    sl_result_toobig(ctx);
    return;
  }
  char *out = sl_value_text_space(ctx->out, (size_t)total);
  size_t i = 0, k = 0;
  while (i < n) {
    if (i + nf <= n && memcmp(z + i, from, nf) == 0) {
      memcpy(out + k, to, nt);
      k += nt;
      i += nf;
    } else {
      out[k++] = z[i++];
    }
  }
  sl_value_commit_text(ctx->out, k);
}

/* char(X, ...): the text of these code points (out of range -> U+FFFD). */
static void f_char(sl_fctx *ctx, int argc, sl_value **argv) {
  char *out = sl_value_text_space(ctx->out, (size_t)argc * 4);
  size_t k = 0;
  for (int i = 0; i < argc; i++) {
    int64_t c = sl_value_as_int(argv[i]);
    if (c < 0 || c > 0x10FFFF) c = 0xFFFD;
    k += sl_utf8_put(out + k, (uint32_t)c);
  }
  sl_value_commit_text(ctx->out, k);
}

/* unicode(X): code point of the first character; NULL for NULL or ''. */
static void f_unicode(sl_fctx *ctx, int argc, sl_value **argv) {
  size_t n, k;
  if (argv[0]->type == SL_NULL) return;
  const char *z = arg_text(argv[0], &n);
  if (!n || !z[0]) return;
  sl_result_int(ctx, utf8_read((const unsigned char *)z, n, &k));
}

/* concat(X, ...): the texts of the non-NULL arguments joined; concat_ws(S,
** X, ...) joins them with S (NULL if S is NULL).  As SQLite 3.44. */
static void concat_args(sl_fctx *ctx, int argc, sl_value **argv, const char *sep, size_t nsep) {
  uint64_t total = 0;
  size_t n, k = 0;
  int parts = 0;
  for (int i = 0; i < argc; i++) {
    if (argv[i]->type == SL_NULL) continue;
    arg_text(argv[i], &n);
    total += n + (parts++ ? nsep : 0);
  }
  if (sl_too_big(total)) {
    sl_result_toobig(ctx);
    return;
  }
  char *out = sl_value_text_space(ctx->out, (size_t)total);
  parts = 0;
  for (int i = 0; i < argc; i++) {
    if (argv[i]->type == SL_NULL) continue;
    const char *z = arg_text(argv[i], &n);
    if (parts++ && nsep) {
      memcpy(out + k, sep, nsep);
      k += nsep;
    }
    memcpy(out + k, z, n);
    k += n;
  }
  sl_value_commit_text(ctx->out, k);
}

static void f_concat(sl_fctx *ctx, int argc, sl_value **argv) {
  concat_args(ctx, argc, argv, "", 0);
}

static void f_concat_ws(sl_fctx *ctx, int argc, sl_value **argv) {
  size_t nsep;
  if (argv[0]->type == SL_NULL) return;
  const char *sep = arg_text(argv[0], &nsep);
  concat_args(ctx, argc - 1, argv + 1, sep, nsep);
}

static void f_quote(sl_fctx *ctx, int argc, sl_value **argv) {
  sl_value *v = argv[0];
  char tmp[64];
  switch (v->type) {
  case SL_NULL: sl_result_text(ctx, "NULL", 4); return;
  case SL_INTEGER:
    sl_result_text(ctx, tmp, (size_t)snprintf(tmp, sizeof tmp, "%lld", (long long)v->u.i));
    return;
  case SL_REAL: {
    /* "%!.15g", or "%!.20e" when 15 digits do not read back exactly */
    char big[420];
    int k = sl_real_to_text(v->u.r, big);
    double back;
    sl_atof(big, (size_t)k, &back);
    if (isfinite(v->u.r) && back != v->u.r) k = sl_real_format(big, v->u.r, 'e', 20, SL_FMT_ALT2);
    sl_result_text(ctx, big, (size_t)k);
    (void)tmp;
    return;
  }
  case SL_BLOB: {
    static const char hx[] = "0123456789ABCDEF";
    if (sl_too_big(2 * (uint64_t)v->n + 3)) {
      sl_result_toobig(ctx);
      return;
    }
    char *out = sl_value_text_space(ctx->out, 2 * (size_t)v->n + 3);
    out[0] = 'X';
    out[1] = '\'';
    for (uint32_t i = 0; i < v->n; i++) {
      out[2 + 2 * i] = hx[(unsigned char)v->u.z[i] >> 4];
      out[3 + 2 * i] = hx[(unsigned char)v->u.z[i] & 15];
    }
    out[2 + 2 * v->n] = '\'';
    sl_value_commit_text(ctx->out, 2 * v->n + 3);
    return;
  }
  default: {
    size_t n;
    const char *z = arg_text(v, &n);
    uint64_t quotes = 2;
    for (size_t i = 0; i < n && z[i]; i++)
      quotes += z[i] == '\'';
    if (sl_too_big(n + quotes)) {
      sl_result_toobig(ctx);
      return;
    }
    sl_buf b;
    sl_buf_init(&b);
    sl_buf_putc(&b, '\'');
    for (size_t i = 0; i < n && z[i]; i++) {
      if (z[i] == '\'') sl_buf_putc(&b, '\'');
      sl_buf_putc(&b, z[i]);
    }
    sl_buf_putc(&b, '\'');
    sl_result_text(ctx, b.z, b.n);
    sl_buf_free(&b);
  }
  }
}

static void f_typeof(sl_fctx *ctx, int argc, sl_value **argv) {
  const char *t = sl_type_name(argv[0]->type);
  sl_result_static_text(ctx, t, strlen(t));
}

static void f_nullif(sl_fctx *ctx, int argc, sl_value **argv) {
  if (argv[0]->type != SL_NULL && argv[1]->type != SL_NULL &&
      sl_value_compare(argv[0], argv[1], ctx->coll) == 0)
    return;
  sl_result_value(ctx, argv[0]);
}

static void f_first(sl_fctx *ctx, int argc, sl_value **argv) {
  sl_result_value(ctx, argv[0]); /* likely(), unlikely(), likelihood() */
}

static void f_coalesce(sl_fctx *ctx, int argc, sl_value **argv) {
  for (int i = 0; i < argc; i++)
    if (argv[i]->type != SL_NULL) {
      sl_result_value(ctx, argv[i]);
      return;
    }
}

static void f_iif(sl_fctx *ctx, int argc, sl_value **argv) {
  sl_result_value(ctx, sl_value_truth(argv[0]) == 1 ? argv[1] : argv[2]);
}

static void minmax(sl_fctx *ctx, int argc, sl_value **argv, int want_max) {
  int best = 0;
  for (int i = 0; i < argc; i++)
    if (argv[i]->type == SL_NULL) return;
  /* Ties go to the later argument for min() and the earlier one for max(),
  ** as in SQLite. */
  for (int i = 1; i < argc; i++) {
    int c = sl_value_compare(argv[i], argv[best], ctx->coll);
    if (want_max ? c > 0 : c <= 0) best = i;
  }
  sl_result_value(ctx, argv[best]);
}
static void f_max(sl_fctx *ctx, int argc, sl_value **argv) {
  minmax(ctx, argc, argv, 1);
}
static void f_min(sl_fctx *ctx, int argc, sl_value **argv) {
  minmax(ctx, argc, argv, 0);
}

static void f_zeroblob(sl_fctx *ctx, int argc, sl_value **argv) {
  int64_t n = sl_value_as_int(argv[0]);
  if (n < 0) n = 0;
  if (sl_too_big((uint64_t)n)) {
    sl_result_toobig(ctx);
    return;
  }
  char *p = sl_value_text_space(ctx->out, (size_t)n);
  memset(p, 0, (size_t)n);
  sl_value_commit_text(ctx->out, (size_t)n);
  ctx->out->type = SL_BLOB;
}

/* A xorshift generator seeded once per thread; random() need not be secure. */
static uint64_t next_random(void) {
  static _Thread_local uint64_t s;
  if (!s) s = (uint64_t)(uintptr_t)&s ^ 0x9E3779B97F4A7C15ULL ^ (uint64_t)rand();
  s ^= s << 13;
  s ^= s >> 7;
  s ^= s << 17;
  return s;
}

static void f_random(sl_fctx *ctx, int argc, sl_value **argv) {
  sl_result_int(ctx, (int64_t)next_random());
}

static void f_randomblob(sl_fctx *ctx, int argc, sl_value **argv) {
  int64_t n = sl_value_as_int(argv[0]);
  if (n < 1) n = 1;
  if (sl_too_big((uint64_t)n)) {
    sl_result_toobig(ctx);
    return;
  }
  char *p = sl_value_text_space(ctx->out, (size_t)n);
  for (int64_t i = 0; i < n; i++)
    p[i] = (char)next_random();
  sl_value_commit_text(ctx->out, (size_t)n);
  ctx->out->type = SL_BLOB;
}

/* ---- LIKE and GLOB ------------------------------------------------------------ */

/* A pattern or subject being matched: bytes up to `end` or the first NUL. */
typedef struct mstr {
  const unsigned char *z, *end;
} mstr;

/* Next character of s (0 at the end), advancing s. */
static unsigned mread(mstr *s) {
  if (s->z >= s->end || !*s->z) return 0;
  size_t k;
  unsigned c = utf8_read(s->z, (size_t)(s->end - s->z), &k);
  s->z += k;
  return c;
}

static unsigned ascii_lower(unsigned c) {
  return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* The matching rules shared by LIKE and GLOB. */
typedef struct mrules {
  unsigned all;   /* '%' or '*'; 0 when it is the escape character */
  unsigned one;   /* '_' or '?'; 0 when it is the escape character */
  unsigned other; /* GLOB: '[' starts a set; LIKE: the escape character (or 0) */
  int glob;       /* 1: `other` is '[' */
  int nocase;     /* ASCII case folding */
} mrules;

enum { M_MATCH = 0, M_NOMATCH = 1, M_NOWILD = 2 };

/* Match pattern p against string s.  M_NOWILD says that no later position of
** the string can match either (stops useless backtracking), as SQLite. */
static int pmatch(mstr p, mstr s, const mrules *r) {
  unsigned c, c2;
  const unsigned char *escaped = NULL; /* pattern position after an escape */
  while ((c = mread(&p)) != 0) {
    if (c == r->all) {
      /* a run of wildcards; each '?' / '_' in it consumes a character */
      while (((c = mread(&p)) != 0 && c == r->all) || (c == r->one && c != 0))
        if (c == r->one && mread(&s) == 0) return M_NOWILD;
      if (c == 0) return M_MATCH;
      if (c == r->other) {
        if (!r->glob) {
          c = mread(&p); /* the escaped character is taken literally */
          if (c == 0) return M_NOWILD;
        } else {
          /* '[...]' right after '*': try every position */
          mstr p2 = {p.z - 1, p.end};
          while (s.z < s.end && *s.z) {
            int m = pmatch(p2, s, r);
            if (m != M_NOMATCH) return m;
            mread(&s);
          }
          return M_NOWILD;
        }
      }
      /* find c in the string, then match the rest of the pattern from there */
      for (;;) {
        c2 = mread(&s);
        if (c2 == 0) break;
        if (c2 != c && !(r->nocase && c < 0x80 && c2 < 0x80 && ascii_lower(c) == ascii_lower(c2)))
          continue;
        int m = pmatch(p, s, r);
        if (m != M_NOMATCH) return m;
      }
      return M_NOWILD;
    }
    if (c == r->other && r->other) {
      if (!r->glob) {
        c = mread(&p);
        if (c == 0) return M_NOMATCH;
        escaped = p.z;
      } else {
        /* a set: [abc] [a-z] [^...] with ']' first taken literally */
        unsigned prior = 0;
        int seen = 0, invert = 0;
        c = mread(&s);
        if (c == 0) return M_NOMATCH;
        c2 = mread(&p);
        if (c2 == '^') {
          invert = 1;
          c2 = mread(&p);
        }
        if (c2 == ']') {
          if (c == ']') seen = 1;
          c2 = mread(&p);
        }
        while (c2 && c2 != ']') {
          if (c2 == '-' && p.z < p.end && p.z[0] != ']' && p.z[0] != 0 && prior > 0) {
            c2 = mread(&p);
            if (c >= prior && c <= c2) seen = 1;
            prior = 0;
          } else {
            if (c == c2) seen = 1;
            prior = c2;
          }
          c2 = mread(&p);
        }
        if (c2 == 0 || (seen ^ invert) == 0) return M_NOMATCH;
        continue;
      }
    }
    c2 = mread(&s);
    if (c == c2) continue;
    if (r->nocase && c < 0x80 && c2 < 0x80 && ascii_lower(c) == ascii_lower(c2)) continue;
    if (c == r->one && p.z != escaped && c2 != 0) continue;
    return M_NOMATCH;
  }
  return (s.z >= s.end || !*s.z) ? M_MATCH : M_NOMATCH;
}

/* LIKE: ASCII case-insensitive, '%' and '_', optional escape character esc
** (which then loses any wildcard meaning).  Both texts end at n bytes or at
** their first NUL, as in SQLite.  Returns 1 on a match. */
int sl_like(const char *pat, size_t np, const char *str, size_t ns, unsigned esc) {
  mrules r = {'%', '_', esc, 0, 1};
  if (esc == '%') r.all = 0;
  if (esc == '_') r.one = 0;
  mstr p = {(const unsigned char *)pat, (const unsigned char *)pat + np};
  mstr s = {(const unsigned char *)str, (const unsigned char *)str + ns};
  return pmatch(p, s, &r) == M_MATCH;
}

/* GLOB: case-sensitive, '*', '?' and '[...]' sets with ranges and '^'. */
int sl_glob(const char *pat, size_t np, const char *str, size_t ns) {
  mrules r = {'*', '?', '[', 1, 0};
  mstr p = {(const unsigned char *)pat, (const unsigned char *)pat + np};
  mstr s = {(const unsigned char *)str, (const unsigned char *)str + ns};
  return pmatch(p, s, &r) == M_MATCH;
}

/* Shared front of like() and glob(), in SQLite's order: a BLOB argument
** gives 0 (SQLite built with SQLITE_LIKE_DOESNT_MATCH_BLOBS, as Debian's
** library is); a pattern over 50000 bytes is an error; then the escape (a
** NULL escape gives NULL, anything but one character is an error); then NULL
** operands give NULL.  Returns 1 when the result is already decided. */
static int like_prologue(sl_fctx *ctx, int argc, sl_value **argv, unsigned *esc) {
  size_t np;
  if (argv[0]->type == SL_BLOB || argv[1]->type == SL_BLOB) {
    sl_result_int(ctx, 0);
    return 1;
  }
  if (argv[0]->type != SL_NULL) {
    arg_text(argv[0], &np);
    if (np > 50000) {
      sl_result_error(ctx, "LIKE or GLOB pattern too complex");
      return 1;
    }
  }
  *esc = 0;
  if (argc == 3) {
    size_t ne, k;
    if (argv[2]->type == SL_NULL) return 1;
    const char *e = arg_text(argv[2], &ne);
    ne = cstr_len(e, ne);
    if (utf8_len(e, ne) != 1) {
      sl_result_error(ctx, "ESCAPE expression must be a single character");
      return 1;
    }
    *esc = utf8_read((const unsigned char *)e, ne, &k);
  }
  return argv[0]->type == SL_NULL || argv[1]->type == SL_NULL;
}

static void f_like(sl_fctx *ctx, int argc, sl_value **argv) {
  unsigned esc;
  if (like_prologue(ctx, argc, argv, &esc)) return;
  size_t np, ns;
  const char *p = arg_text(argv[0], &np);
  const char *s = arg_text(argv[1], &ns);
  sl_result_int(ctx, sl_like(p, np, s, ns, esc));
}

static void f_glob(sl_fctx *ctx, int argc, sl_value **argv) {
  unsigned esc;
  if (like_prologue(ctx, argc, argv, &esc)) return;
  size_t np, ns;
  const char *p = arg_text(argv[0], &np);
  const char *s = arg_text(argv[1], &ns);
  sl_result_int(ctx, sl_glob(p, np, s, ns));
}

/* ---- numbers ----------------------------------------------------------------------- */

static void f_abs(sl_fctx *ctx, int argc, sl_value **argv) {
  sl_value *v = argv[0];
  switch (v->type) {
  case SL_NULL: return;
  case SL_INTEGER:
    if (v->u.i == INT64_MIN) {
      sl_result_error(ctx, "integer overflow");
      return;
    }
    sl_result_int(ctx, v->u.i < 0 ? -v->u.i : v->u.i);
    return;
  default: {
    double r = sl_value_as_real(v); /* as SQLite: -0.0 stays -0.0 */
    sl_result_real(ctx, r < 0 ? -r : r);
    return;
  }
  }
}

static void f_sign(sl_fctx *ctx, int argc, sl_value **argv) {
  sl_value n;
  if (!numeric_arg(argv[0], &n)) return;
  double r = n.type == SL_INTEGER ? (double)n.u.i : n.u.r;
  sl_result_int(ctx, r > 0 ? 1 : r < 0 ? -1 : 0);
}

/* round(X, N) as SQLite: N (a 32-bit int) is kept in 0..30; values beyond
** 2^52 are already integral; otherwise the value goes through SQLite's own
** "%.*f" and back (its 16 significant digits decide the last bit). */
static void f_round(sl_fctx *ctx, int argc, sl_value **argv) {
  int n = 0;
  if (argc == 2) {
    if (argv[1]->type == SL_NULL) return;
    n = (int)(uint32_t)(uint64_t)sl_value_as_int(argv[1]);
    if (n > 30) n = 30;
    if (n < 0) n = 0;
  }
  if (argv[0]->type == SL_NULL) return;
  double r = sl_value_as_real(argv[0]);
  if (r < -4503599627370496.0 || r > 4503599627370496.0) {
    /* beyond 2^52 there is no fractional part to round */
  } else if (n == 0) {
    r = (double)(int64_t)(r + (r < 0 ? -0.5 : 0.5));
  } else {
    char buf[420];
    int k = sl_real_format(buf, r, 'f', n, 0);
    sl_atof(buf, (size_t)k, &r);
  }
  sl_result_real(ctx, r);
}

/* Math functions take numbers (or text that is entirely a number); anything
** else, and a domain error, gives NULL. */
typedef double (*math1)(double);

static void math_unary(sl_fctx *ctx, sl_value *arg, math1 f) {
  sl_value n;
  if (!numeric_arg(arg, &n)) return;
  double x = n.type == SL_INTEGER ? (double)n.u.i : n.u.r;
  double r = f(x);
  if (r != r) return;
  sl_result_real(ctx, r);
}

#define MATH1(name, expr)                                                                          \
  static double m_##name(double x) {                                                               \
    return expr;                                                                                   \
  }                                                                                                \
  static void f_##name(sl_fctx *ctx, int argc, sl_value **argv) {                                  \
    math_unary(ctx, argv[0], m_##name);                                                            \
  }

MATH1(acos, acos(x))
MATH1(acosh, acosh(x))
MATH1(asin, asin(x))
MATH1(asinh, asinh(x))
MATH1(atan, atan(x))
MATH1(atanh, atanh(x))
MATH1(cos, cos(x))
MATH1(cosh, cosh(x))
MATH1(sin, sin(x))
MATH1(sinh, sinh(x))
MATH1(tan, tan(x))
MATH1(tanh, tanh(x))
MATH1(exp, exp(x))
MATH1(sqrt, sqrt(x))
MATH1(degrees, x *(180.0 / M_PI))
MATH1(radians, x *(M_PI / 180.0))
MATH1(ln, x > 0 ? log(x) : NAN)
MATH1(log10, x > 0 ? log(x) / M_LN10 : NAN)
MATH1(log2, x > 0 ? log(x) / M_LN2 : NAN)

/* exp() is the hot function of logistic models: a direct path for numbers. */
static void f_exp_fast(sl_fctx *ctx, int argc, sl_value **argv) {
  sl_value *v = argv[0];
  if (v->type == SL_REAL) {
    sl_result_real(ctx, exp(v->u.r));
    return;
  }
  f_exp(ctx, argc, argv);
}

/* ceil/floor/trunc keep INTEGER input as it is. */
static void rounding(sl_fctx *ctx, sl_value *arg, double (*f)(double)) {
  sl_value n;
  if (!numeric_arg(arg, &n)) return;
  if (n.type == SL_INTEGER) {
    sl_result_int(ctx, n.u.i);
    return;
  }
  sl_result_real(ctx, f(n.u.r));
}
static void f_ceil(sl_fctx *ctx, int argc, sl_value **argv) {
  rounding(ctx, argv[0], ceil);
}
static void f_floor(sl_fctx *ctx, int argc, sl_value **argv) {
  rounding(ctx, argv[0], floor);
}
static void f_trunc(sl_fctx *ctx, int argc, sl_value **argv) {
  rounding(ctx, argv[0], trunc);
}

/* Two numeric arguments, or NULL. */
static int math2(sl_value **argv, double *x, double *y) {
  sl_value a, b;
  if (!numeric_arg(argv[0], &a) || !numeric_arg(argv[1], &b)) return 0;
  *x = a.type == SL_INTEGER ? (double)a.u.i : a.u.r;
  *y = b.type == SL_INTEGER ? (double)b.u.i : b.u.r;
  return 1;
}

static void f_log(sl_fctx *ctx, int argc, sl_value **argv) {
  if (argc == 1) {
    math_unary(ctx, argv[0], m_log10);
    return;
  }
  /* As SQLite: the base must be a number above 1; X is taken as a double. */
  sl_value nb;
  if (!numeric_arg(argv[0], &nb) || argv[1]->type == SL_NULL) return;
  double b = nb.type == SL_INTEGER ? (double)nb.u.i : nb.u.r;
  double x = sl_value_as_real(argv[1]);
  if (b <= 0 || x <= 0 || log(b) <= 0) return;
  sl_result_real(ctx, log(x) / log(b));
}

static void f_pow(sl_fctx *ctx, int argc, sl_value **argv) {
  double x, y;
  if (!math2(argv, &x, &y)) return;
  sl_result_real(ctx, pow(x, y));
}

static void f_atan2(sl_fctx *ctx, int argc, sl_value **argv) {
  double x, y;
  if (!math2(argv, &y, &x)) return;
  sl_result_real(ctx, atan2(y, x));
}

static void f_mod(sl_fctx *ctx, int argc, sl_value **argv) {
  double x, y;
  if (!math2(argv, &x, &y)) return;
  sl_result_real(ctx, fmod(x, y));
}

static void f_pi(sl_fctx *ctx, int argc, sl_value **argv) {
  sl_result_real(ctx, M_PI);
}

/* ---- the table --------------------------------------------------------------------- */

#define F(name, n, fn, doc)                                                                        \
  { name, n, DET, NULL, fn, NULL, NULL, NULL, NULL, 0, NULL, doc, NULL, NULL, NULL }
#define FC(name, n, fn, doc)                                                                       \
  {                                                                                                \
    name, n, DET | SL_FUNC_NEEDCOLL, NULL, fn, NULL, NULL, NULL, NULL, 0, NULL, doc, NULL, NULL,   \
        NULL                                                                                       \
  }

const sl_func sl_builtin_core[] = {
    F("abs", 1, f_abs, "absolute value"),
    F("char", -1, f_char, "text from unicode code points"),
    F("coalesce", -1, f_coalesce, "first non-NULL argument"),
    F("concat", -3, f_concat, "texts of the non-NULL arguments joined"),
    F("concat_ws", -4, f_concat_ws, "concat_ws(S, X, ...): non-NULL arguments joined with S"),
    F("glob", 2, f_glob, "glob(P, X): X GLOB P"),
    F("hex", 1, f_hex, "upper-case hex of the bytes"),
    F("ifnull", 2, f_coalesce, "first non-NULL of two"),
    F("iif", 3, f_iif, "iif(cond, then, else)"),
    F("instr", 2, f_instr, "1-based position of Y in X, 0 if absent"),
    F("length", 1, f_length, "characters of text, bytes of a blob"),
    F("like", 2, f_like, "like(P, X): X LIKE P"),
    F("like", 3, f_like, "like(P, X, E): X LIKE P ESCAPE E"),
    F("likelihood", 2, f_first, "X (a planner hint in SQLite)"),
    F("likely", 1, f_first, "X (a planner hint in SQLite)"),
    F("lower", 1, f_lower, "ASCII lower case"),
    F("ltrim", 1, f_ltrim, "remove leading spaces"),
    F("ltrim", 2, f_ltrim, "remove leading characters of Y"),
    FC("max", -4, f_max, "largest argument (NULL if any is NULL)"),
    FC("min", -4, f_min, "smallest argument (NULL if any is NULL)"),
    FC("nullif", 2, f_nullif, "NULL if X = Y, else X"),
    F("octet_length", 1, f_octet_length, "bytes of the text or blob representation"),
    F("quote", 1, f_quote, "SQL literal text of X"),
    {"random", 0, 0, NULL, f_random, NULL, NULL, NULL, NULL, 0, NULL, "a random 64-bit integer",
     NULL, NULL, NULL},
    {"randomblob", 1, 0, NULL, f_randomblob, NULL, NULL, NULL, NULL, 0, NULL, "N random bytes",
     NULL, NULL, NULL},
    F("replace", 3, f_replace, "replace every Y in X by Z"),
    F("round", 1, f_round, "round to an integral REAL"),
    F("round", 2, f_round, "round to N decimal digits"),
    F("rtrim", 1, f_rtrim, "remove trailing spaces"),
    F("rtrim", 2, f_rtrim, "remove trailing characters of Y"),
    F("sign", 1, f_sign, "-1, 0 or 1"),
    F("substr", 2, f_substr, "substring from Y"),
    F("substr", 3, f_substr, "Z characters from Y"),
    F("substring", 2, f_substr, "substring from Y"),
    F("substring", 3, f_substr, "Z characters from Y"),
    F("trim", 1, f_trim, "remove surrounding spaces"),
    F("trim", 2, f_trim, "remove surrounding characters of Y"),
    F("typeof", 1, f_typeof, "storage class: null, integer, real, text, blob, vector"),
    F("unicode", 1, f_unicode, "code point of the first character"),
    F("unlikely", 1, f_first, "X (a planner hint in SQLite)"),
    F("upper", 1, f_upper, "ASCII upper case"),
    F("zeroblob", 1, f_zeroblob, "N zero bytes"),
    F("acos", 1, f_acos, "arc cosine"),
    F("acosh", 1, f_acosh, "inverse hyperbolic cosine"),
    F("asin", 1, f_asin, "arc sine"),
    F("asinh", 1, f_asinh, "inverse hyperbolic sine"),
    F("atan", 1, f_atan, "arc tangent"),
    F("atan2", 2, f_atan2, "arc tangent of Y/X"),
    F("atanh", 1, f_atanh, "inverse hyperbolic tangent"),
    F("ceil", 1, f_ceil, "smallest integral value >= X"),
    F("ceiling", 1, f_ceil, "smallest integral value >= X"),
    F("cos", 1, f_cos, "cosine"),
    F("cosh", 1, f_cosh, "hyperbolic cosine"),
    F("degrees", 1, f_degrees, "radians to degrees"),
    F("exp", 1, f_exp_fast, "e to the power X"),
    F("floor", 1, f_floor, "largest integral value <= X"),
    F("ln", 1, f_ln, "natural logarithm"),
    F("log", 1, f_log, "base-10 logarithm"),
    F("log", 2, f_log, "log(B, X): logarithm of X in base B"),
    F("log10", 1, f_log10, "base-10 logarithm"),
    F("log2", 1, f_log2, "base-2 logarithm"),
    F("mod", 2, f_mod, "remainder of X/Y (REAL)"),
    F("pi", 0, f_pi, "3.14159..."),
    F("pow", 2, f_pow, "X to the power Y"),
    F("power", 2, f_pow, "X to the power Y"),
    F("radians", 1, f_radians, "degrees to radians"),
    F("sin", 1, f_sin, "sine"),
    F("sinh", 1, f_sinh, "hyperbolic sine"),
    F("sqrt", 1, f_sqrt, "square root"),
    F("tan", 1, f_tan, "tangent"),
    F("tanh", 1, f_tanh, "hyperbolic tangent"),
    F("trunc", 1, f_trunc, "integral part"),
    {NULL, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL, NULL, NULL, NULL},
};
