/*
** func_printf.c - SQLite's printf() / format() SQL function.
**
** sl_value_printf() renders a format string over sl_value arguments exactly as
** SQLite 3.40's printf() SQL function does (its sqlite3_str_vappendf in
** "SQL function" mode), byte for byte:
**
**   conversions  %d %i %u %r(ordinal) %x %X %o %p %f %e %E %g %G %c %s %z
**                %q %Q %w %n(no output) %%; %T and %S (internal to SQLite)
**                and any unknown conversion end the output there;
**   flags        - + space 0 # ! (alternate form 2: ".0" kept, 26 digits,
**                widths and precisions of strings in characters) and ','
**                (thousands separators for %d %i %u);
**   width and precision, either of which may be '*' (taken from the next
**   argument); l and ll length modifiers are accepted and ignored.
**
** Arguments are taken in order and converted with value.c's accessors the
** way sqlite3_value_int64 / _double / _text convert them; a missing argument
** is 0, 0.0 or a NULL string.  Text arguments are C strings to SQLite, so
** they end at their first NUL byte.  Floating-point numbers are rendered
** here with SQLite 3.40's own digit generator (long double arithmetic,
** 16 significant digits), reproduced from its observed behaviour.
*/
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "func.h"

/* The arguments of one printf() call and how many have been consumed. */
typedef struct pf_args {
  int argc;        /* number of arguments after the format */
  int used;        /* arguments consumed so far */
  sl_value **argv; /* the arguments */
} pf_args;

/* The longest output, in bytes: SQLite's printf() returns NULL when its
** output would reach SQLITE_MAX_LENGTH (10^9) bytes, so a huge width or
** precision ('%2147483647d') is NULL, not a 2 GB allocation. */
#define PF_MAX_LEN 999999999

/* Where the output goes.  `touched` records whether anything was appended
** (even zero bytes): SQLite's printf() returns NULL when nothing was.
** `toobig` is set, and nothing more is appended, once the output would pass
** PF_MAX_LEN bytes (1: SQLite's NULL) or, short of that, the thread's
** limit on values (2: max_query_memory's, sl_too_big: the row fails). */
typedef struct pf_out {
  sl_buf *b;    /* output buffer, appended to */
  size_t start; /* its length before this output */
  int touched;  /* 1 once any append happened */
  int toobig;   /* the output would pass PF_MAX_LEN (1) or sl_max_length (2): abandoned */
} pf_out;

/* Whether n more bytes fit in the output (n < 0 counts as 0); when not,
** the output is too big from now on.  Checked before anything is reserved. */
static int room(pf_out *o, int64_t n) {
  if (o->toobig) return 0;
  if (n <= 0) return 1;
  uint64_t used = o->b->n - o->start;
  if ((uint64_t)n > (uint64_t)PF_MAX_LEN - used) {
    o->toobig = 1;
    return 0;
  }
  if (sl_too_big(used + (uint64_t)n)) {
    o->toobig = 2;
    return 0;
  }
  return 1;
}

/* Next argument as an INTEGER (sqlite3_value_int64); 0 when none is left. */
static int64_t arg_int(pf_args *a) {
  if (a->used >= a->argc) return 0;
  return sl_value_as_int(a->argv[a->used++]);
}

/* Next argument as a REAL (sqlite3_value_double); 0.0 when none is left. */
static double arg_real(pf_args *a) {
  if (a->used >= a->argc) return 0.0;
  return sl_value_as_real(a->argv[a->used++]);
}

/* Next argument as a C string (sqlite3_value_text): NULL for SQL NULL or
** when none is left; otherwise the text, whose length up to its first NUL
** byte goes to *n.  The bytes belong to the argument value. */
static const char *arg_text(pf_args *a, size_t *n) {
  *n = 0;
  if (a->used >= a->argc) return NULL;
  sl_value *v = a->argv[a->used++];
  if (v->type == SL_NULL) return NULL;
  size_t len = 0;
  const char *z = sl_value_text(v, &len);
  if (!z) return NULL;
  const char *nul = memchr(z, 0, len);
  *n = nul ? (size_t)(nul - z) : len;
  return z;
}

/* Append n bytes at z. */
static void emit(pf_out *o, const char *z, size_t n) {
  o->touched = 1;
  if (!room(o, (int64_t)n)) return;
  sl_buf_append(o->b, z, n);
}

/* Append n copies of the byte c (nothing when n <= 0). */
static void emit_repeat(pf_out *o, int64_t n, char c) {
  o->touched = 1;
  if (n <= 0 || !room(o, n)) return;
  sl_buf_reserve(o->b, (size_t)n);
  memset(o->b->z + o->b->n, c, (size_t)n);
  o->b->n += (size_t)n;
  o->b->z[o->b->n] = 0;
}

/* Append z[0..n) in a field of `width` bytes, right-aligned with spaces
** unless left (the final step of every conversion in SQLite). */
static void emit_field(pf_out *o, const char *z, size_t n, int64_t width, int left) {
  int64_t pad = width - (int64_t)n;
  if (pad > 0 && !left) emit_repeat(o, pad, ' ');
  emit(o, z, n);
  if (pad > 0 && left) emit_repeat(o, pad, ' ');
}

/* Number of UTF-8 continuation bytes in z[0..n): what SQLite adds to the
** width under the '!' flag so that the width counts characters. */
static int64_t continuation_bytes(const char *z, size_t n) {
  int64_t k = 0;
  for (size_t i = 0; i < n; i++)
    if (((unsigned char)z[i] & 0xc0) == 0x80) k++;
  return k;
}

/* The integer conversions (%d %i %u %r %x %X %o %p).  `conv` is the
** conversion letter; the other arguments are the parsed field.  The text is
** [alternate prefix][sign][zeros to the precision][digits][ordinal suffix],
** with thousands separators over zeros and digits when requested. */
static void format_integer(pf_out *o, pf_args *a, char conv, int64_t width, int64_t prec, int left,
                           char flag_prefix, int alt, int zeropad, int comma) {
  int is_signed = conv == 'd' || conv == 'i' || conv == 'r';
  unsigned base = conv == 'o' ? 8 : (conv == 'x' || conv == 'X' || conv == 'p') ? 16 : 10;
  const char *digits = conv == 'x' ? "0123456789abcdef" : "0123456789ABCDEF";
  const char *altpre = conv == 'o' ? "0" : conv == 'X' ? "0X" : base == 16 ? "0x" : "";
  if (conv != 'd' && conv != 'i' && conv != 'u') comma = 0;
  uint64_t u;
  char sign = 0;
  if (is_signed) {
    int64_t v = arg_int(a);
    if (v < 0) {
      u = ~(uint64_t)v + 1;
      sign = '-';
    } else {
      u = (uint64_t)v;
      sign = flag_prefix;
    }
  } else {
    u = (uint64_t)arg_int(a);
  }
  if (u == 0) alt = 0;
  if (zeropad && prec < width - (sign != 0)) prec = width - (sign != 0);

  /* digits and suffix, built backwards */
  char tmp[32];
  char *p = tmp + sizeof tmp;
  if (conv == 'r') {
    static const char ord[] = "thstndrd";
    int x = (int)(u % 10);
    if (x >= 4 || (u / 10) % 10 == 1) x = 0;
    *--p = ord[x * 2 + 1];
    *--p = ord[x * 2];
  }
  do {
    *--p = digits[u % base];
    u /= base;
  } while (u > 0);
  int64_t ndig = (int64_t)(tmp + sizeof tmp - p);
  int64_t zeros = prec > ndig ? prec - ndig : 0;
  int64_t body = zeros + ndig;
  int64_t ncomma = comma ? (body - 1) / 3 : 0;
  size_t npre = alt ? strlen(altpre) : 0;
  int64_t total = (int64_t)npre + (sign != 0) + body + ncomma;

  if (!left && width > total) emit_repeat(o, width - total, ' ');
  if (npre) emit(o, altpre, npre);
  if (sign) emit(o, &sign, 1);
  if (!comma) {
    emit_repeat(o, zeros, '0');
    emit(o, p, (size_t)ndig);
  } else {
    /* a separator after every character whose distance from the end is a
    ** non-zero multiple of three */
    o->touched = 1;
    if (!room(o, body + ncomma)) return;
    sl_buf_reserve(o->b, (size_t)(body + ncomma));
    for (int64_t k = 0; k < body; k++) {
      sl_buf_putc(o->b, k < zeros ? '0' : p[k - zeros]);
      int64_t rest = body - 1 - k;
      if (rest > 0 && rest % 3 == 0) sl_buf_putc(o->b, ',');
    }
  }
  if (left && width > total) emit_repeat(o, width - total, ' ');
}

/* The floating-point conversions (%f %e %E %g %G), rendered straight into
** the output buffer.  Zero padding goes after the sign; infinities are
** padded with spaces, as in SQLite. */
static void format_real(pf_out *o, pf_args *a, char conv, int64_t width, int64_t prec, int left,
                        char flag_prefix, int alt, int alt2, int zeropad) {
  double r = arg_real(a);
  int64_t p = prec < 0 ? 6 : prec > 100000000 ? 100000000 : prec;
  /* the digits take at most p + 340 bytes, padded in place to the width */
  int64_t need = p + 340 > width ? p + 340 : width;
  o->touched = 1;
  if (!room(o, width)) return;
  sl_buf_reserve(o->b, (size_t)need);
  char *z = o->b->z + o->b->n;
  int sign_len, special;
  int64_t len = sl_real_render(z, r, conv, prec, alt, alt2, flag_prefix, &sign_len, &special);
  if (len < width) {
    int64_t pad = width - len;
    if (left) {
      memset(z + len, ' ', (size_t)pad);
    } else if (!zeropad || special) {
      memmove(z + pad, z, (size_t)len);
      memset(z, ' ', (size_t)pad);
    } else {
      memmove(z + pad + sign_len, z + sign_len, (size_t)(len - sign_len));
      memset(z + sign_len, '0', (size_t)pad);
    }
    len = width;
  }
  if (!room(o, len)) return;
  o->b->n += (size_t)len;
  o->b->z[o->b->n] = 0;
}

/* %c: the first character (up to 4 UTF-8 bytes) of the text argument, a NUL
** byte for NULL or ''.  A precision repeats it; the width counts characters. */
static void format_char(pf_out *o, pf_args *a, int64_t width, int64_t prec, int left) {
  size_t n;
  const char *z = arg_text(a, &n);
  char ch[4] = {0};
  size_t len = 1;
  if (z && n) {
    ch[0] = z[0];
    if (((unsigned char)ch[0] & 0xc0) == 0xc0)
      while (len < 4 && len < n && ((unsigned char)z[len] & 0xc0) == 0x80) {
        ch[len] = z[len];
        len++;
      }
  }
  if (prec > 1) {
    if (!room(o, (prec - 1) * (int64_t)len)) return; /* prec < 2^31, len <= 4 */
    width -= prec - 1;
    if (width > 1 && !left) {
      emit_repeat(o, width - 1, ' ');
      width = 0;
    }
    /* the copies: the first, then doubled from what is there (a precision
    ** near 10^9 is one memcpy per doubling, not 10^9 appends) */
    size_t total = (size_t)(prec - 1) * len, at = o->b->n;
    o->touched = 1;
    sl_buf_reserve(o->b, total + 1);
    memcpy(o->b->z + at, ch, len);
    for (size_t done = len; done < total; done *= 2)
      memcpy(o->b->z + at + done, o->b->z + at, done < total - done ? done : total - done);
    o->b->n += total;
    o->b->z[o->b->n] = 0;
  }
  if (width > 0) width += continuation_bytes(ch, len);
  emit_field(o, ch, len, width, left);
}

/* %s and %z: the text argument ('' for NULL), cut to `prec` bytes (or
** characters under '!'). */
static void format_string(pf_out *o, pf_args *a, int64_t width, int64_t prec, int left, int alt2) {
  size_t n;
  const char *z = arg_text(a, &n);
  if (!z) z = "", n = 0;
  size_t len = n;
  if (prec >= 0) {
    if (alt2) {
      size_t i = 0;
      while (prec-- > 0 && i < n) {
        if ((unsigned char)z[i++] >= 0xc0)
          while (i < n && ((unsigned char)z[i] & 0xc0) == 0x80)
            i++;
      }
      len = i;
    } else if ((uint64_t)prec < n) {
      len = (size_t)prec;
    }
  }
  if (alt2 && width > 0) width += continuation_bytes(z, len);
  emit_field(o, z, len, width, left);
}

/* %q, %Q and %w: the text with the quote character (' or ") doubled; %Q
** adds the quotes and renders NULL as NULL; %q and %w render it as (NULL).
** The precision counts bytes (characters under '!') of the input. */
static void format_quoted(pf_out *o, pf_args *a, char conv, int64_t width, int64_t prec, int left,
                          int alt2) {
  char q = conv == 'w' ? '"' : '\'';
  size_t n;
  const char *z = arg_text(a, &n);
  int isnull = z == NULL;
  if (isnull) {
    z = conv == 'Q' ? "NULL" : "(NULL)";
    n = strlen(z);
  }
  /* bytes of the input used */
  size_t i = 0;
  for (int64_t k = prec; k != 0 && i < n; i++, k--) {
    if (alt2 && ((unsigned char)z[i] & 0xc0) == 0xc0)
      while (i + 1 < n && ((unsigned char)z[i + 1] & 0xc0) == 0x80)
        i++;
  }
  int quote = !isnull && conv == 'Q';
  size_t nq = 0;
  for (size_t k = 0; k < i; k++)
    if (z[k] == q) nq++;
  int64_t len = (int64_t)(i + nq) + (quote ? 2 : 0);
  if (alt2 && width > 0) width += continuation_bytes(z, i);
  int64_t pad = width - len;
  if (pad > 0 && !left) emit_repeat(o, pad, ' ');
  if (quote) emit(o, &q, 1);
  size_t from = 0;
  for (size_t k = 0; k < i; k++) {
    if (z[k] == q) {
      emit(o, z + from, k + 1 - from);
      from = k;
    }
  }
  emit(o, z + from, i - from);
  if (quote) emit(o, &q, 1);
  if (pad > 0 && left) emit_repeat(o, pad, ' ');
}

/* Render fmt[0..fmtlen) (ending early at a NUL byte, as SQLite's C string
** does) over the arguments into o.  Returns when the format ends or at an
** invalid conversion, which ends the output as SQLite does. */
static void format_all(pf_out *o, const char *fmt, size_t fmtlen, pf_args *a) {
  const char *nul = memchr(fmt, 0, fmtlen);
  const char *end = nul ? nul : fmt + fmtlen;
  const char *f = fmt;
#define NEXT() (++f < end ? *f : 0)
  while (f < end && !o->toobig) {
    if (*f != '%') {
      const char *s = f;
      while (f < end && *f != '%')
        f++;
      emit(o, s, (size_t)(f - s));
      if (f >= end) break;
    }
    /* f is at '%' */
    char c = NEXT();
    if (c == 0) {
      emit(o, "%", 1);
      break;
    }
    int left = 0, alt = 0, alt2 = 0, zeropad = 0, comma = 0, done = 0;
    char flag_prefix = 0;
    int64_t width = 0, prec = -1;
    do {
      switch (c) {
      case '-': left = 1; break;
      case '+': flag_prefix = '+'; break;
      case ' ': flag_prefix = ' '; break;
      case '#': alt = 1; break;
      case '!': alt2 = 1; break;
      case '0': zeropad = 1; break;
      case ',': comma = 1; break;
      case 'l':
        c = NEXT();
        if (c == 'l') c = NEXT();
        done = 1;
        break;
      case '1':
      case '2':
      case '3':
      case '4':
      case '5':
      case '6':
      case '7':
      case '8':
      case '9': {
        unsigned wx = (unsigned)(c - '0');
        while ((c = NEXT()) >= '0' && c <= '9')
          wx = wx * 10 + (unsigned)(c - '0');
        width = wx & 0x7fffffff;
        if (c != '.' && c != 'l')
          done = 1;
        else
          f--; /* read the '.' or 'l' again */
        break;
      }
      case '*': {
        width = (int)arg_int(a);
        if (width < 0) {
          left = 1;
          width = width >= -2147483647 ? -width : 0;
        }
        char nx = f + 1 < end ? f[1] : 0;
        if (nx != '.' && nx != 'l') {
          c = NEXT();
          done = 1;
        }
        break;
      }
      case '.': {
        c = NEXT();
        if (c == '*') {
          prec = (int)arg_int(a);
          if (prec < 0) prec = prec >= -2147483647 ? -prec : -1;
          c = NEXT();
        } else {
          unsigned px = 0;
          while (c >= '0' && c <= '9') {
            px = px * 10 + (unsigned)(c - '0');
            c = NEXT();
          }
          prec = px & 0x7fffffff;
        }
        if (c == 'l')
          f--;
        else
          done = 1;
        break;
      }
      default: done = 1; break;
      }
    } while (!done && (c = NEXT()) != 0);

    switch (c) {
    case 'd':
    case 'i':
    case 'u':
    case 'r':
    case 'x':
    case 'X':
    case 'o':
    case 'p': format_integer(o, a, c, width, prec, left, flag_prefix, alt, zeropad, comma); break;
    case 'f':
    case 'e':
    case 'E':
    case 'g':
    case 'G': format_real(o, a, c, width, prec, left, flag_prefix, alt, alt2, zeropad); break;
    case 'c': format_char(o, a, width, prec, left); break;
    case 's':
    case 'z': format_string(o, a, width, prec, left, alt2); break;
    case 'q':
    case 'Q':
    case 'w': format_quoted(o, a, c, width, prec, left, alt2); break;
    case 'n': emit(o, "", 0); break;
    case '%': emit_field(o, "%", 1, width, left); break;
    default: return; /* %T, %S (internal to SQLite) and unknown conversions */
    }
    f++;
  }
#undef NEXT
}

int sl_value_printf(sl_buf *out, const char *fmt, size_t fmtlen, int argc, sl_value **argv) {
  pf_out o = {out, out->n, 0, 0};
  pf_args a = {argc, 0, argv};
  format_all(&o, fmt, fmtlen, &a);
  if (!o.toobig) return 0;
  out->n = o.start; /* what was appended goes */
  if (out->z) out->z[out->n] = 0;
  return -1;
}

/* printf(FORMAT, ...) and format(FORMAT, ...): NULL when the format is NULL,
** when nothing at all was output (an empty format, or one that starts with
** an invalid conversion), or when the output would pass PF_MAX_LEN bytes,
** as in SQLite; the row fails ("string or blob too big") when it would pass
** a lower limit of the query's (max_query_memory, sl_too_big).  The text is rendered into a
** per-thread scratch buffer that is reused (no allocation per row once warm),
** then copied into the result. */
static void f_printf(sl_fctx *ctx, int argc, sl_value **argv) {
  if (argc < 1 || argv[0]->type == SL_NULL) return;
  size_t n;
  const char *fmt = sl_value_text(argv[0], &n);
  char copy[64];
  if (argv[0]->type != SL_TEXT && argv[0]->type != SL_BLOB) {
    /* a number rendered into argv[0]'s own buffer, which rendering the same
    ** register again as an argument would rewrite: keep a copy */
    if (n >= sizeof copy) n = sizeof copy - 1;
    memcpy(copy, fmt, n);
    fmt = copy;
  }
  sl_buf *scratch = sl_scratch(SL_SCRATCH_PRINTF);
  pf_out o = {scratch, scratch->n, 0, 0};
  pf_args a = {argc - 1, 0, argv + 1};
  format_all(&o, fmt, n, &a);
  if (o.toobig == 2) {
    sl_result_toobig(ctx);
    return;
  }
  if (!o.touched || o.toobig) return;
  sl_result_text(ctx, scratch->z ? scratch->z : "", scratch->n);
}

const sl_func sl_builtin_printf[] = {
    {"printf", -1, SL_FUNC_DETERMINISTIC, NULL, f_printf, NULL, NULL, NULL, NULL, 0, NULL,
     "printf(FORMAT, ...): SQLite's printf", NULL, NULL, NULL},
    {"format", -1, SL_FUNC_DETERMINISTIC, NULL, f_printf, NULL, NULL, NULL, NULL, 0, NULL,
     "format(FORMAT, ...): the same as printf", NULL, NULL, NULL},
    {NULL, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL, NULL, NULL, NULL},
};
