/*
** func_printf.c - SQLite's printf() / format() SQL function.
**
** Conversions: %d %i %u %x %X %o %c %s %z %q %Q %w %f %e %E %g %G %p %n %%,
** with the flags - + space 0 # , ! and width/precision (including *).
** Arguments are taken in order and converted as SQLite does (a missing
** argument is 0 or ''); numbers are formatted by the C library, strings and
** SQL quoting here.
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "func.h"

/* Append z[0..n) padded to width (left-justified when left). */
static void pad(sl_buf *out, const char *z, size_t n, int width, int left, char fill) {
  int padn = width > (int)n ? width - (int)n : 0;
  if (!left)
    for (int i = 0; i < padn; i++) sl_buf_putc(out, fill);
  sl_buf_append(out, z, n);
  if (left)
    for (int i = 0; i < padn; i++) sl_buf_putc(out, ' ');
}

/* Insert thousands separators into the digits of a decimal number text. */
static void commas(char *s) {
  char *d = s;
  if (*d == '-' || *d == '+' || *d == ' ') d++;
  size_t nd = strspn(d, "0123456789");
  if (nd <= 3) return;
  size_t extra = (nd - 1) / 3;
  size_t tail = strlen(d + nd);
  memmove(d + nd + extra, d + nd, tail + 1);
  char *src = d + nd - 1, *dst = d + nd + extra - 1;
  for (size_t k = 0; k < nd; k++) {
    *dst-- = *src--;
    if (k % 3 == 2 && k + 1 < nd) *dst-- = ',';
  }
}

void sl_value_printf(sl_buf *out, const char *fmt, size_t fmtlen, int argc, sl_value **argv) {
  int ai = 0;
  sl_value zero = SL_VALUE_INIT;
  sl_value_set_int(&zero, 0);
  for (size_t i = 0; i < fmtlen; i++) {
    if (fmt[i] != '%') {
      sl_buf_putc(out, fmt[i]);
      continue;
    }
    if (++i >= fmtlen) break;
    int left = 0, plus = 0, space = 0, zero_pad = 0, alt = 0, comma = 0, bang = 0;
    for (;; i++) {
      if (i >= fmtlen) return;
      char c = fmt[i];
      if (c == '-') left = 1;
      else if (c == '+') plus = 1;
      else if (c == ' ') space = 1;
      else if (c == '0') zero_pad = 1;
      else if (c == '#') alt = 1;
      else if (c == ',') comma = 1;
      else if (c == '!') bang = 1;
      else break;
    }
    int width = 0, prec = -1;
    if (fmt[i] == '*') {
      width = ai < argc ? (int)sl_value_as_int(argv[ai++]) : 0;
      if (width < 0) {
        left = 1;
        width = width == -2147483647 - 1 ? 0 : -width;
      }
      i++;
    } else {
      while (i < fmtlen && fmt[i] >= '0' && fmt[i] <= '9') width = width * 10 + (fmt[i++] - '0');
    }
    if (i < fmtlen && fmt[i] == '.') {
      i++;
      prec = 0;
      if (i < fmtlen && fmt[i] == '*') {
        prec = ai < argc ? (int)sl_value_as_int(argv[ai++]) : 0;
        if (prec < 0) prec = -prec;
        i++;
      } else {
        while (i < fmtlen && fmt[i] >= '0' && fmt[i] <= '9') prec = prec * 10 + (fmt[i++] - '0');
      }
    }
    /* Length modifiers are accepted and ignored. */
    while (i < fmtlen && (fmt[i] == 'l' || fmt[i] == 'h')) i++;
    if (i >= fmtlen) break;
    char conv = fmt[i];
    if (width > 100000) width = 100000;
    if (prec > 100000) prec = 100000;
    if (conv == '%') {
      sl_buf_putc(out, '%');
      continue;
    }
    if (conv == 'n') continue;
    sl_value *arg = ai < argc ? argv[ai++] : NULL;
    char spec[32], tmp[512];
    int k;
    switch (conv) {
    case 'd':
    case 'i': {
      int64_t v = arg ? sl_value_as_int(arg) : 0;
      k = snprintf(spec, sizeof spec, "%%%s%s%s.%dlld", plus ? "+" : "", space ? " " : "",
                   "", prec < 0 ? 1 : prec);
      char *num = sl_mprintf(spec, (long long)v);
      if (comma) {
        num = sl_realloc(num, strlen(num) * 2 + 2);
        commas(num);
      }
      size_t n = strlen(num);
      if (zero_pad && !left && (int)n < width) {
        /* zero padding goes after the sign */
        int sign = num[0] == '-' || num[0] == '+' || num[0] == ' ';
        if (sign) sl_buf_putc(out, num[0]);
        for (int p = (int)n; p < width; p++) sl_buf_putc(out, '0');
        sl_buf_append(out, num + sign, n - (size_t)sign);
      } else {
        pad(out, num, n, width, left, ' ');
      }
      free(num);
      break;
    }
    case 'u':
    case 'x':
    case 'X':
    case 'o':
    case 'p': {
      uint64_t v = arg ? (uint64_t)sl_value_as_int(arg) : 0;
      const char *c = conv == 'u' ? "llu" : conv == 'o' ? "llo" : conv == 'X' ? "llX" : "llx";
      snprintf(spec, sizeof spec, "%%%s%s.%d%s", (alt && conv != 'u') ? "#" : "", zero_pad && !left && prec < 0 ? "0" : "",
               prec < 0 ? 1 : prec, c);
      if (zero_pad && !left && prec < 0) snprintf(spec, sizeof spec, "%%%s0%d%s", alt ? "#" : "", width, c);
      k = snprintf(tmp, sizeof tmp, spec, (unsigned long long)v);
      if (comma && conv == 'u') commas(tmp), k = (int)strlen(tmp);
      pad(out, tmp, (size_t)k, width, left, ' ');
      break;
    }
    case 'f':
    case 'e':
    case 'E':
    case 'g':
    case 'G': {
      double v = arg ? sl_value_as_real(arg) : 0.0;
      char num[440];
      int flags = (alt ? SL_FMT_ALT : 0) | (bang ? SL_FMT_ALT2 : 0) | (plus ? SL_FMT_PLUS : 0) |
                  (space ? SL_FMT_SPACE : 0);
      int n = sl_real_format(num, v, conv, prec, flags);
      if (comma) commas(num), n = (int)strlen(num);
      if (zero_pad && !left && n < width && isfinite(v)) {
        int sign = num[0] == '-' || num[0] == '+' || num[0] == ' ';
        if (sign) sl_buf_putc(out, num[0]);
        for (int z = n; z < width; z++) sl_buf_putc(out, '0');
        sl_buf_append(out, num + sign, (size_t)(n - sign));
      } else {
        pad(out, num, (size_t)n, width, left, ' ');
      }
      break;
    }
    case 'c': {
      size_t n = 0;
      const char *z = arg ? sl_value_text(arg, &n) : NULL;
      char ch[4] = {0};
      size_t cl = 1; /* an empty or NULL argument gives a NUL character, as SQLite */
      if (z && n) {
        cl = 1;
        while (cl < n && cl < 4 && ((unsigned char)z[cl] & 0xC0) == 0x80) cl++;
        memcpy(ch, z, cl);
      }
      int reps = prec > 1 ? prec : 1;
      sl_buf rep;
      sl_buf_init(&rep);
      for (int r = 0; r < reps; r++) sl_buf_append(&rep, ch, cl);
      pad(out, rep.z ? rep.z : "", rep.n, width, left, ' ');
      sl_buf_free(&rep);
      break;
    }
    case 's':
    case 'z': {
      size_t n = 0;
      const char *z = (arg && arg->type != SL_NULL) ? sl_value_text(arg, &n) : "";
      if (prec >= 0) {
        if (bang) { /* precision in characters */
          size_t b = 0;
          int chars = 0;
          while (b < n && chars < prec) {
            b++;
            while (b < n && ((unsigned char)z[b] & 0xC0) == 0x80) b++;
            chars++;
          }
          n = b;
        } else if ((size_t)prec < n) {
          n = (size_t)prec;
        }
      }
      pad(out, z, n, width, left, ' ');
      break;
    }
    case 'q':
    case 'Q':
    case 'w': {
      char q = conv == 'w' ? '"' : '\'';
      if (!arg || arg->type == SL_NULL) { /* %Q: NULL; %q, %w: (NULL) */
        if (conv == 'Q')
          pad(out, "NULL", 4, width, left, ' ');
        else
          pad(out, "(NULL)", 6, width, left, ' ');
        break;
      }
      size_t n = 0;
      const char *z = (arg && arg->type != SL_NULL) ? sl_value_text(arg, &n) : "";
      if (prec >= 0 && (size_t)prec < n) n = (size_t)prec;
      sl_buf b;
      sl_buf_init(&b);
      if (conv == 'Q') sl_buf_putc(&b, q);
      for (size_t j = 0; j < n; j++) {
        if (z[j] == q) sl_buf_putc(&b, q);
        sl_buf_putc(&b, z[j]);
      }
      if (conv == 'Q') sl_buf_putc(&b, q);
      pad(out, b.z ? b.z : "", b.n, width, left, ' ');
      sl_buf_free(&b);
      break;
    }
    default:
      /* An unknown conversion stops the output, as in SQLite. */
      return;
    }
    (void)k;
  }
}

static void f_printf(sl_fctx *ctx, int argc, sl_value **argv) {
  if (argc < 1 || argv[0]->type == SL_NULL) return;
  size_t n;
  const char *fmt = sl_value_text(argv[0], &n);
  /* The format string lives in argv[0]'s buffer: copy it before arguments
  ** are rendered (argv[0] may be rendered again). */
  char *f = sl_strndup(fmt, n);
  sl_buf b;
  sl_buf_init(&b);
  sl_value_printf(&b, f, n, argc - 1, argv + 1);
  sl_result_text(ctx, b.z ? b.z : "", b.n);
  sl_buf_free(&b);
  free(f);
}

const sl_func sl_builtin_printf[] = {
    {"printf", -1, SL_FUNC_DETERMINISTIC, NULL, f_printf, NULL, NULL, NULL, NULL, 0, NULL,
     "printf(FORMAT, ...): SQLite's printf"},
    {"format", -1, SL_FUNC_DETERMINISTIC, NULL, f_printf, NULL, NULL, NULL, NULL, 0, NULL,
     "format(FORMAT, ...): the same as printf"},
    {NULL, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL},
};
