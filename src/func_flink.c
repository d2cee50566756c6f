/*
** func_flink.c - scalar functions of Flink SQL that SQLite has no equivalent
** for, with Flink's semantics, as sl_func descriptors in sl_builtin_flink[]:
** HOUR, DATE_FORMAT, REGEXP_EXTRACT and SPLIT_INDEX (what the Nexmark
** queries q10, q14-q17, q21 and q22 use; docs/nexmark.md), and PROCTIME()
** (q12, q13): the clock when the row is evaluated, in milliseconds.  A
** select-list column that is PROCTIME() is its stream's processing-time
** attribute: a window over it closes on the task's clock (plan_group.c).
**
** Timestamps.  Flink's TIMESTAMP(3) arrives in sluice as an INTEGER of
** milliseconds since 1970-01-01 00:00:00 UTC (the Nexmark generator's
** dateTime, Kafka timestamps); a REAL is taken as milliseconds too (its
** floor), and a TEXT as a timestamp literal 'YYYY-MM-DD[ |T]HH:MM[:SS[.f*]]'
** or a date 'YYYY-MM-DD' (what Flink's string-to-timestamp cast reads; no
** zone).  Times are UTC (a TIMESTAMP without a zone), the calendar is the
** proleptic Gregorian one (Java's SimpleDateFormat switches to the Julian
** calendar before 1582-10-15: dates before that differ).  Anything else
** (NULL, a blob, a text that is not a timestamp) gives NULL.
**
** Regular expressions are POSIX extended ones (regcomp/regexec of the C
** library, byte-wise), after a translation of the Java syntax Flink takes:
** \d \w \s and their negations, \t \n \r \f, escaped metacharacters,
** non-capturing groups (?:...) (group numbers stay Java's), character
** classes with escapes in them.  What POSIX cannot say is refused with an
** error (the row is rejected with the reason): lazy and possessive
** quantifiers, look-around, back references, inline flags.  A known
** difference remains: POSIX takes the leftmost-longest match where Java takes
** the leftmost match its backtracking finds first (`a|ab` on "ab": "ab" here,
** "a" in Flink); for patterns without such alternatives the results agree.
** '.' does not match \n or \r (as Java's default); '$' matches only at the
** very end (Java's also matches before a final line break).
*/
#include <pthread.h>
#include <regex.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "func.h"

#define DET SL_FUNC_DETERMINISTIC
#define DAY_MS INT64_C(86400000)

/* ---- timestamps ---------------------------------------------------------------- */

/* A broken-down UTC time. */
typedef struct ftime {
  int64_t Y;       /* year (proleptic Gregorian, astronomical: 0 is 1 BC) */
  int M, D;        /* month 1-12, day 1-31 */
  int h, m, s, ms; /* time of day */
  int wday;        /* day of week, 1 Monday .. 7 Sunday */
  int yday;        /* day of year, 1-366 */
} ftime;

/* Floor division for the negative times before 1970. */
static int64_t floordiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) q--;
  return q;
}

/* Days since 1970-01-01 of the date Y-M-D (proleptic Gregorian): counted in
** 400-year eras that start on March 1st, so that the leap day is last. */
static int64_t days_from_ymd(int64_t Y, int M, int D) {
  int64_t y = M <= 2 ? Y - 1 : Y;
  int64_t era = floordiv(y, 400);
  int64_t yoe = y - era * 400;                                   /* 0..399 */
  int64_t doy = (153 * (M > 2 ? M - 3 : M + 9) + 2) / 5 + D - 1; /* 0..365 */
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           /* 0..146096 */
  return era * 146097 + doe - 719468;
}

/* The inverse of days_from_ymd. */
static void ymd_from_days(int64_t z, int64_t *Y, int *M, int *D) {
  z += 719468;
  int64_t era = floordiv(z, 146097);
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  *D = (int)(doy - (153 * mp + 2) / 5 + 1);
  *M = (int)(mp < 10 ? mp + 3 : mp - 9);
  *Y = yoe + era * 400 + (*M <= 2);
}

/* Break epoch milliseconds ms into t. */
static void ftime_of_ms(int64_t ms, ftime *t) {
  int64_t days = floordiv(ms, DAY_MS);
  int64_t rem = ms - days * DAY_MS;
  ymd_from_days(days, &t->Y, &t->M, &t->D);
  t->h = (int)(rem / 3600000);
  t->m = (int)(rem / 60000 % 60);
  t->s = (int)(rem / 1000 % 60);
  t->ms = (int)(rem % 1000);
  t->wday = (int)(days + 3 - floordiv(days + 3, 7) * 7) + 1; /* 1970-01-01 was a Thursday */
  t->yday = (int)(days - days_from_ymd(t->Y, 1, 1)) + 1;
}

/* Read n digits (exactly) of z at *i into *out; 0 when they are not there. */
static int digits(const char *z, size_t len, size_t *i, int n, int *out) {
  int v = 0;
  for (int k = 0; k < n; k++, (*i)++) {
    if (*i >= len || z[*i] < '0' || z[*i] > '9') return 0;
    v = v * 10 + (z[*i] - '0');
  }
  *out = v;
  return 1;
}

/* Parse a timestamp text 'YYYY-MM-DD[( |T)HH:MM[:SS[.fraction]]]' (spaces
** around it allowed) into epoch milliseconds.  Returns 1, or 0 when the text
** is not one (or a field is out of range). */
static int parse_ts_text(const char *z, size_t n, int64_t *ms) {
  size_t i = 0;
  int Y, M, D, h = 0, m = 0, s = 0, f = 0;
  while (i < n && z[i] == ' ')
    i++;
  if (!digits(z, n, &i, 4, &Y) || i >= n || z[i++] != '-' || !digits(z, n, &i, 2, &M) || i >= n ||
      z[i++] != '-' || !digits(z, n, &i, 2, &D))
    return 0;
  if (i < n && (z[i] == ' ' || z[i] == 'T') && i + 1 < n && z[i + 1] >= '0' && z[i + 1] <= '9') {
    i++;
    if (!digits(z, n, &i, 2, &h) || i >= n || z[i++] != ':' || !digits(z, n, &i, 2, &m)) return 0;
    if (i < n && z[i] == ':') {
      i++;
      if (!digits(z, n, &i, 2, &s)) return 0;
      if (i < n && z[i] == '.') {
        int scale = 100;
        i++;
        if (i >= n || z[i] < '0' || z[i] > '9') return 0;
        for (; i < n && z[i] >= '0' && z[i] <= '9'; i++, scale /= 10)
          f += (z[i] - '0') * scale; /* digits past the millisecond add 0 */
      }
    }
  }
  while (i < n && z[i] == ' ')
    i++;
  if (i != n || M < 1 || M > 12 || D < 1 || h > 23 || m > 59 || s > 59) return 0;
  static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int leap = (Y % 4 == 0 && Y % 100 != 0) || Y % 400 == 0;
  if (D > mdays[M - 1] || (M == 2 && D == 29 && !leap)) return 0;
  *ms = days_from_ymd(Y, M, D) * DAY_MS + h * INT64_C(3600000) + m * 60000 + s * 1000 + f;
  return 1;
}

/* The timestamp an argument stands for (see the header): 1 with *ms set, or
** 0 for NULL and what is not a timestamp. */
static int arg_ts(sl_value *v, int64_t *ms) {
  switch (v->type) {
  case SL_INTEGER: *ms = v->u.i; return 1;
  case SL_REAL: {
    double r = v->u.r;
    if (!(r >= -9.2e18 && r <= 9.2e18)) return 0;
    int64_t i = (int64_t)r;
    *ms = (double)i > r ? i - 1 : i;
    return 1;
  }
  case SL_TEXT: return parse_ts_text(v->u.z, v->n, ms);
  default: return 0;
  }
}

/* HOUR(ts): the hour of the day, 0-23, of a timestamp (UTC). */
static void f_hour(sl_fctx *ctx, int argc, sl_value **argv) {
  int64_t ms;
  (void)argc;
  if (!arg_ts(argv[0], &ms)) return;
  sl_result_int(ctx, (ms - floordiv(ms, DAY_MS) * DAY_MS) / 3600000);
}

/* ---- DATE_FORMAT ----------------------------------------------------------------- */

static const char *const month_names[] = {"January",   "February", "March",    "April",
                                          "May",       "June",     "July",     "August",
                                          "September", "October",  "November", "December"};
static const char *const day_names[] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                        "Friday", "Saturday", "Sunday"};

/* Append v in decimal, zero-padded to at least width digits (a negative v
** gets its '-' before the padding). */
static void put_num(sl_buf *b, int64_t v, int width) {
  char tmp[24];
  int n = 0;
  uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
  do {
    tmp[n++] = (char)('0' + u % 10);
    u /= 10;
  } while (u);
  if (v < 0) sl_buf_putc(b, '-');
  for (int k = n; k < width; k++)
    sl_buf_putc(b, '0');
  while (n)
    sl_buf_putc(b, tmp[--n]);
}

/* Append a name, the whole one (count >= 4) or its first three letters. */
static void put_name(sl_buf *b, const char *name, int count) {
  sl_buf_append(b, name, count >= 4 ? strlen(name) : 3);
}

/* Format t with a java.text.SimpleDateFormat pattern (Locale.US, zone UTC)
** into b.  Letters: G y u M L d D E F a H k K h m s S z Z X; text in quotes
** is literal and '' is a quote; other characters are copied.  Returns NULL,
** or the reason the pattern is refused (an unknown letter, the week-based
** fields w W Y, an unterminated quote). */
static const char *format_java(sl_buf *b, const ftime *t, const char *p, size_t n) {
  size_t i = 0;
  while (i < n) {
    char c = p[i];
    if (c == '\'') {
      if (i + 1 < n && p[i + 1] == '\'') { /* '' outside quotes: a quote */
        sl_buf_putc(b, '\'');
        i += 2;
        continue;
      }
      for (i++;; i++) {
        if (i >= n) return "unterminated quote";
        if (p[i] == '\'') {
          if (i + 1 < n && p[i + 1] == '\'') {
            sl_buf_putc(b, '\'');
            i++;
            continue;
          }
          i++;
          break;
        }
        sl_buf_putc(b, p[i]);
      }
      continue;
    }
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) {
      sl_buf_putc(b, c);
      i++;
      continue;
    }
    int count = 0;
    while (i < n && p[i] == c && count < 1000)
      i++, count++;
    int h12 = t->h % 12;
    switch (c) {
    case 'G': sl_buf_puts(b, t->Y > 0 ? "AD" : "BC"); break;
    case 'y': {
      int64_t y = t->Y > 0 ? t->Y : 1 - t->Y; /* year of era */
      if (count == 2)
        put_num(b, y % 100, 2);
      else
        put_num(b, y, count);
      break;
    }
    case 'M':
    case 'L':
      if (count >= 3)
        put_name(b, month_names[t->M - 1], count);
      else
        put_num(b, t->M, count);
      break;
    case 'd': put_num(b, t->D, count); break;
    case 'D': put_num(b, t->yday, count); break;
    case 'E': put_name(b, day_names[t->wday - 1], count); break;
    case 'u': put_num(b, t->wday, count); break;
    case 'F': put_num(b, (t->D - 1) / 7 + 1, count); break;
    case 'a': sl_buf_puts(b, t->h < 12 ? "AM" : "PM"); break;
    case 'H': put_num(b, t->h, count); break;
    case 'k': put_num(b, t->h ? t->h : 24, count); break;
    case 'K': put_num(b, h12, count); break;
    case 'h': put_num(b, h12 ? h12 : 12, count); break;
    case 'm': put_num(b, t->m, count); break;
    case 's': put_num(b, t->s, count); break;
    case 'S': put_num(b, t->ms, count); break;
    case 'z': sl_buf_puts(b, count >= 4 ? "Coordinated Universal Time" : "UTC"); break;
    case 'Z': sl_buf_puts(b, "+0000"); break;
    case 'X':
      if (count > 3) return "too many pattern letters: X";
      sl_buf_putc(b, 'Z');
      break;
    case 'w':
    case 'W':
    case 'Y': return "week-based fields (w, W, Y) are not supported";
    default: return "illegal pattern character";
    }
  }
  return NULL;
}

/* DATE_FORMAT(ts, pattern): the timestamp as text in a SimpleDateFormat
** pattern.  NULL if either is NULL or ts is not a timestamp; an invalid
** pattern fails the row. */
static void f_date_format(sl_fctx *ctx, int argc, sl_value **argv) {
  int64_t ms;
  size_t np;
  (void)argc;
  if (argv[1]->type == SL_NULL || !arg_ts(argv[0], &ms)) return;
  const char *p = sl_value_text(argv[1], &np);
  ftime t;
  ftime_of_ms(ms, &t);
  sl_buf *b = sl_scratch(SL_SCRATCH_DATE);
  const char *why = format_java(b, &t, p, np);
  if (why) {
    sl_result_error(ctx, "DATE_FORMAT: %s in pattern '%.*s'", why, (int)(np > 100 ? 100 : np), p);
    return;
  }
  if (sl_too_big(b->n)) {
    sl_result_toobig(ctx);
    return;
  }
  sl_result_text(ctx, b->z ? b->z : "", b->n);
}

/* ---- REGEXP_EXTRACT -------------------------------------------------------------- */

#define RX_MAXGROUP 64 /* capturing groups a pattern may have */
#define RX_MAXLEN 4096 /* bytes of a pattern */
/* The product of a pattern's counted repetitions ({m,n}) at most: the C
** library compiles x{n} as n copies of x, so (a{10}){100} is 1,000 of them,
** and x{1,n} in memory quadratic in n (30 MB for n = 2000; patterns are
** cached, 64 of them). */
#define RX_MAXREPS 500

/* A compiled pattern: the POSIX regex and, per Java group number, the POSIX
** subexpression that holds it (non-capturing groups become POSIX groups
** too, so the numbers shift). */
typedef struct rx {
  char *src; /* the Java pattern (NUL-terminated copy) */
  size_t nsrc;
  int ok;          /* compiled; else `why` (unsupported) or invalid (NULL results) */
  const char *why; /* the reason a construct is not supported, or NULL */
  regex_t re;
  int ngroup;               /* Java's capturing groups */
  int map[RX_MAXGROUP + 1]; /* Java group -> POSIX subexpression */
  size_t nsub;              /* POSIX subexpressions */
  char lit[48];             /* bytes every match contains (a quick no-match test), or none */
  size_t nlit;
} rx;

/* Find in the Java pattern p[0..n) a run of literal bytes that every match
** must contain (outside groups and classes, not under a quantifier; none
** when '|' is at the top level) and keep the longest in r->lit: a text
** without it cannot match, which memmem tells faster than regexec. */
static void rx_literal(rx *r, const char *p, size_t n) {
  char run[sizeof r->lit];
  size_t nrun = 0;
  int depth = 0, added = 0; /* added: the last atom went into run */
  r->nlit = 0;
  for (size_t i = 0; i <= n; i++) {
    int lit = -1; /* the literal byte of this atom, if it is one */
    char c = i < n ? p[i] : 0;
    if (i == n) {
      /* the end: keep the last run */
    } else if (c == '\\' && i + 1 < n) {
      char e = p[++i];
      if (!((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z') || (e >= '0' && e <= '9'))) lit = e;
    } else if (c == '[') { /* skip the class */
      i++;
      if (i < n && p[i] == '^') i++;
      if (i < n && p[i] == ']') i++;
      for (; i < n && p[i] != ']'; i++)
        if (p[i] == '\\') i++;
    } else if (c == '(') {
      depth++;
    } else if (c == ')') {
      depth--;
    } else if (c == '|') {
      if (depth == 0) {
        r->nlit = 0;
        return;
      }
    } else if (c == '*' || c == '+' || c == '?' || c == '{') {
      if (added && nrun) nrun--; /* the atom before is optional or repeated */
      if (c == '{')
        while (i < n && p[i] != '}')
          i++;
    } else if (c != '.' && c != '^' && c != '$') {
      lit = (unsigned char)c;
    }
    added = 0;
    if (lit >= 0 && depth == 0 && nrun < sizeof run) {
      run[nrun++] = (char)lit;
      added = 1;
      continue;
    }
    if (lit >= 0 && depth == 0) continue; /* a long run: its first bytes are enough */
    /* the run ends here (but a quantifier took its last byte first, above) */
    if (nrun > r->nlit) {
      memcpy(r->lit, run, nrun);
      r->nlit = nrun;
    }
    nrun = 0;
  }
}

/* Append the POSIX bracket form of the Java character class at p[*i] ('['
** read), up to its ']'.  Returns NULL or the reason it cannot be said. */
static const char *tr_class(sl_buf *o, const char *p, size_t n, size_t *i) {
  int neg = 0, rbr = 0, dash = 0, caret = 0, prev = 0; /* prev: the last item was one char */
  sl_buf set;
  sl_buf_init(&set);
  if (*i < n && p[*i] == '^') neg = 1, (*i)++;
  const char *why = NULL;
  for (int first = 1;; first = 0) {
    if (*i >= n) {
      why = "unclosed character class";
      break;
    }
    char c = p[(*i)++];
    int lit = 0; /* c came from an escape */
    if (c == ']' && !first) break;
    if (c == '[' || (c == '&' && *i < n && p[*i] == '&')) {
      why = "nested classes and intersections are not supported";
      break;
    }
    if (c == '\\') {
      if (*i >= n) {
        why = "trailing backslash";
        break;
      }
      char e = p[(*i)++];
      lit = 1;
      switch (e) {
      case 'd':
        sl_buf_puts(&set, "0-9");
        prev = 0;
        continue;
      case 'w':
        sl_buf_puts(&set, "A-Za-z0-9_");
        prev = 0;
        continue;
      case 's':
        sl_buf_puts(&set, " \t\n\v\f\r");
        prev = 0;
        continue;
      case 't': c = '\t'; break;
      case 'n': c = '\n'; break;
      case 'r': c = '\r'; break;
      case 'f': c = '\f'; break;
      default:
        if ((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z') || (e >= '0' && e <= '9')) {
          why = "this escape in a character class is not supported";
          goto done;
        }
        c = e;
      }
    }
    if (c == '-' && !lit && prev && *i < n && p[*i] != ']') {
      /* a range from the previous character to the next one */
      char hi = p[(*i)++];
      if (hi == '\\' || hi == '[' || hi == ']' || hi == '^' || hi == '-') {
        why = "this range is not supported";
        break;
      }
      sl_buf_putc(&set, '-');
      sl_buf_putc(&set, hi);
      prev = 0;
      continue;
    }
    /* ']' '-' '^' are put where POSIX reads them literally */
    prev = 0;
    if (c == ']')
      rbr = 1;
    else if (c == '^')
      caret = 1;
    else if (c == '-')
      dash = 1;
    else
      sl_buf_putc(&set, c), prev = 1;
  }
done:
  if (!why && !rbr && !set.n && !caret && !dash) why = "empty character class";
  if (!why) {
    if (!neg && !rbr && !set.n && !dash) { /* just '^' */
      sl_buf_puts(o, "\\^");
    } else {
      sl_buf_putc(o, '[');
      if (neg) sl_buf_putc(o, '^');
      if (rbr)
        sl_buf_putc(o, ']');
      else if (dash && !set.n && caret)
        sl_buf_putc(o, '-'), dash = 0; /* [-^] */
      if (set.n) sl_buf_append(o, set.z, set.n);
      if (caret) sl_buf_putc(o, '^');
      if (dash) sl_buf_putc(o, '-');
      sl_buf_putc(o, ']');
    }
  }
  sl_buf_free(&set);
  return why;
}

/* Translate the Java pattern p[0..n) into POSIX ERE in o, filling r's group
** map.  Returns NULL or the reason the pattern cannot be translated. */
static const char *tr_pattern(rx *r, sl_buf *o, const char *p, size_t n) {
  int posix = 0;   /* POSIX groups opened */
  double reps = 1; /* product of the counted repetitions' bounds */
  if (n > RX_MAXLEN) return "pattern too long";
  for (size_t i = 0; i < n;) {
    char c = p[i++];
    switch (c) {
    case '{': { /* x{m}, x{m,}, x{m,n}: the C library copies x that many times */
      double lo = 0, hi = -1;
      size_t j = i;
      while (j < n && p[j] >= '0' && p[j] <= '9' && lo < 1e6)
        lo = lo * 10 + (p[j++] - '0');
      if (j < n && p[j] == ',') {
        j++;
        if (j < n && p[j] >= '0' && p[j] <= '9') hi = 0;
        while (j < n && p[j] >= '0' && p[j] <= '9' && hi < 1e6)
          hi = hi * 10 + (p[j++] - '0');
      } else {
        hi = lo;
      }
      reps *= (hi < 0 ? lo : hi) + 1;
      if (reps > RX_MAXREPS) return "counted repetitions too large";
      sl_buf_putc(o, c);
      break;
    }
    case '\\': {
      if (i >= n) return "trailing backslash";
      char e = p[i++];
      switch (e) {
      case 'd': sl_buf_puts(o, "[0-9]"); break;
      case 'D': sl_buf_puts(o, "[^0-9]"); break;
      case 'w': sl_buf_puts(o, "[A-Za-z0-9_]"); break;
      case 'W': sl_buf_puts(o, "[^A-Za-z0-9_]"); break;
      case 's': sl_buf_puts(o, "[ \t\n\v\f\r]"); break;
      case 'S': sl_buf_puts(o, "[^ \t\n\v\f\r]"); break;
      case 't': sl_buf_putc(o, '\t'); break;
      case 'n': sl_buf_putc(o, '\n'); break;
      case 'r': sl_buf_putc(o, '\r'); break;
      case 'f': sl_buf_putc(o, '\f'); break;
      default:
        if ((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z') || (e >= '0' && e <= '9'))
          return "this escape (a back reference, \\b, \\p, \\Q ...) is not supported";
        if (strchr(".[]{}()\\*+?^$|", e)) sl_buf_putc(o, '\\');
        sl_buf_putc(o, e);
      }
      break;
    }
    case '[': {
      const char *why = tr_class(o, p, n, &i);
      if (why) return why;
      break;
    }
    case '(':
      posix++;
      if (i < n && p[i] == '?') {
        if (i + 1 < n && p[i + 1] == ':') {
          i += 2; /* non-capturing: a POSIX group Java does not count */
        } else {
          return "look-around and inline flags (?...) are not supported";
        }
      } else {
        if (r->ngroup >= RX_MAXGROUP) return "too many groups";
        r->map[++r->ngroup] = posix;
      }
      sl_buf_putc(o, '(');
      break;
    case '*':
    case '+':
    case '?':
    case '}':
      sl_buf_putc(o, c);
      if (i < n && (p[i] == '?' || p[i] == '+'))
        return "lazy and possessive quantifiers are not supported";
      /* a*{2}, a** are errors in Java too; and a run of them makes the C
      ** library's regcomp take seconds */
      if (c != '}' && i < n && (p[i] == '*' || p[i] == '{'))
        return "a quantifier cannot follow a quantifier";
      break;
    case '.': sl_buf_puts(o, "[^\n\r]"); break;
    default: sl_buf_putc(o, c);
    }
  }
  return NULL;
}

/* Compiled patterns, shared by every thread and kept for the process's life
** (a query's pattern is nearly always a constant): a pattern is compiled the
** first time it is seen.  Past RX_CACHE patterns a call compiles its own and
** frees it.  regexec on a shared regex_t is thread-safe in the C library. */
#define RX_CACHE 64
static rx *rx_cache[RX_CACHE];
static int rx_ncache;
static pthread_mutex_t rx_lock = PTHREAD_MUTEX_INITIALIZER;

/* Compile the pattern p[0..n) into a new rx (never NULL: a failure is
** recorded in it). */
static rx *rx_compile(const char *p, size_t n) {
  rx *r = calloc(1, sizeof *r);
  if (!r) abort();
  r->src = malloc(n + 1);
  if (!r->src) abort();
  memcpy(r->src, p, n);
  r->src[n] = 0;
  r->nsrc = n;
  sl_buf o;
  sl_buf_init(&o);
  r->why = tr_pattern(r, &o, p, n);
  if (!r->why && memchr(p, 0, n) == NULL) {
    sl_buf_putc(&o, 0); /* make z valid for an empty pattern */
    r->ok = regcomp(&r->re, o.z, REG_EXTENDED) == 0;
    if (r->ok) r->nsub = r->re.re_nsub;
    if (r->ok) rx_literal(r, p, n);
  }
  sl_buf_free(&o);
  return r;
}

static void rx_free(rx *r) {
  if (r->ok) regfree(&r->re);
  free(r->src);
  free(r);
}

/* The compiled form of p[0..n); *owned is set when the caller must rx_free it. */
static rx *rx_get(const char *p, size_t n, int *owned) {
  *owned = 0;
  pthread_mutex_lock(&rx_lock);
  for (int k = 0; k < rx_ncache; k++)
    if (rx_cache[k]->nsrc == n && memcmp(rx_cache[k]->src, p, n) == 0) {
      rx *r = rx_cache[k];
      pthread_mutex_unlock(&rx_lock);
      return r;
    }
  rx *r = rx_compile(p, n);
  if (rx_ncache < RX_CACHE)
    rx_cache[rx_ncache++] = r;
  else
    *owned = 1;
  pthread_mutex_unlock(&rx_lock);
  return r;
}

/* The last call's result on this thread, for the next call with the same
** pattern, group and text (q21 extracts the same group of the same url in
** its WHERE and its CASE): no allocation, texts up to 256 bytes.  r is a
** cached pattern (never freed), so its address names it. */
static _Thread_local struct rx_memo {
  const rx *r;
  int g;
  size_t n;
  regoff_t so, eo; /* the group in the text, or so < 0: no match */
  char text[256];
} rx_memo;

/* REGEXP_EXTRACT(str, regex[, index]): group `index` (0: the whole match,
** the default) of the first match of regex in str, as Flink's
** Matcher.find(); NULL when an argument is NULL, there is no match, the group
** did not take part, the index is negative or past the groups, or the
** pattern is invalid (as Flink, which logs and returns NULL).  A Java
** construct POSIX cannot say fails the row. */
static void f_regexp_extract(sl_fctx *ctx, int argc, sl_value **argv) {
  size_t ns, np;
  int64_t idx = 0;
  if (argv[0]->type == SL_NULL || argv[1]->type == SL_NULL) return;
  if (argc > 2) {
    if (argv[2]->type == SL_NULL) return;
    idx = sl_value_as_int(argv[2]);
  }
  const char *p = sl_value_text(argv[1], &np);
  int owned;
  rx *r = rx_get(p, np, &owned);
  if (r->why) {
    sl_result_error(ctx, "REGEXP_EXTRACT: %s (POSIX regular expressions)", r->why);
  } else if (r->ok && idx >= 0 && idx <= r->ngroup) {
    const char *s = sl_value_text(argv[0], &ns);
    /* a text without the pattern's literal cannot match: no regexec, no copy */
    if (!r->nlit || memmem(s, ns, r->lit, r->nlit)) {
      int g = idx ? r->map[idx] : 0;
      struct rx_memo *mo = &rx_memo;
      if (!owned && mo->r == r && mo->g == g && mo->n == ns && memcmp(mo->text, s, ns) == 0) {
        if (mo->so >= 0) sl_result_text(ctx, s + mo->so, (size_t)(mo->eo - mo->so));
      } else {
        /* a terminated copy when the text is borrowed: regexec reads up to a
        ** NUL (REG_STARTEND bounds the match, not every implementation's reads) */
        s = sl_value_cstr(argv[0]);
        regmatch_t m[RX_MAXGROUP + 1];
        size_t nm = r->nsub + 1 < RX_MAXGROUP + 1 ? r->nsub + 1 : RX_MAXGROUP + 1;
        m[0].rm_so = 0;
        m[0].rm_eo = (regoff_t)ns;
        regoff_t so = -1, eo = -1;
        if ((size_t)g < nm && regexec(&r->re, s, nm, m, REG_STARTEND) == 0 && m[g].rm_so >= 0) {
          so = m[g].rm_so;
          eo = m[g].rm_eo;
          sl_result_text(ctx, s + so, (size_t)(eo - so));
        }
        if (!owned && ns <= sizeof mo->text) {
          mo->r = r;
          mo->g = g;
          mo->n = ns;
          memcpy(mo->text, s, ns);
          mo->so = so;
          mo->eo = eo;
        } else {
          mo->r = NULL;
        }
      }
    }
  }
  if (owned) rx_free(r);
}

/* ---- SPLIT_INDEX ------------------------------------------------------------------ */

/* Java's Character.isWhitespace for ASCII: the separators of an empty
** delimiter. */
static int java_space(char c) {
  return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f);
}

/* SPLIT_INDEX(str, sep, index): the index-th (from 0) piece of str split at
** every sep (Flink: splitByWholeSeparatorPreserveAllTokens, so empty pieces
** count; an empty str has no pieces; an empty sep splits at each white-space
** character).  NULL when an argument is NULL, index is negative or past the
** pieces. */
static void f_split_index(sl_fctx *ctx, int argc, sl_value **argv) {
  size_t ns, nd;
  (void)argc;
  if (argv[0]->type == SL_NULL || argv[1]->type == SL_NULL || argv[2]->type == SL_NULL) return;
  int64_t idx = sl_value_as_int(argv[2]);
  if (idx < 0) return;
  const char *s = sl_value_text(argv[0], &ns);
  const char *d = sl_value_text(argv[1], &nd);
  if (ns == 0) return;
  size_t beg = 0;
  for (int64_t k = 0;; k++) {
    size_t end = beg;
    if (nd == 0) {
      while (end < ns && !java_space(s[end]))
        end++;
    } else {
      const char *hit = NULL;
      if (ns - beg >= nd) {
        const char *q = s + beg;
        size_t left = ns - beg;
        while (left >= nd && (hit = memchr(q, d[0], left - nd + 1)) != NULL) {
          if (memcmp(hit, d, nd) == 0) break;
          left -= (size_t)(hit + 1 - q);
          q = hit + 1;
          hit = NULL;
        }
      }
      end = hit ? (size_t)(hit - s) : ns;
    }
    if (k == idx) {
      sl_result_text(ctx, s + beg, end - beg);
      return;
    }
    if (end >= ns) return; /* that was the last piece */
    beg = end + (nd ? nd : 1);
  }
}

/* ---- PROCTIME ------------------------------------------------------------------- */

/* PROCTIME(): the wall clock (CLOCK_REALTIME) in milliseconds since the
** epoch, read at each call (not deterministic: never folded). */
static void f_proctime(sl_fctx *ctx, int argc, sl_value **argv) {
  struct timespec ts;
  (void)argc;
  (void)argv;
  clock_gettime(CLOCK_REALTIME, &ts);
  sl_result_int(ctx, (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* ---- the table ------------------------------------------------------------------- */

#define F(name, n, fn, doc)                                                                        \
  { name, n, DET, NULL, fn, NULL, NULL, NULL, NULL, 0, NULL, doc, NULL, NULL, NULL }

const sl_func sl_builtin_flink[] = {
    F("hour", 1, f_hour,
      "HOUR(ts): hour of the day 0-23 of epoch milliseconds or a timestamp text (UTC)"),
    F("date_format", 2, f_date_format,
      "DATE_FORMAT(ts, pattern): ts as text in a Java SimpleDateFormat pattern (UTC)"),
    F("regexp_extract", 2, f_regexp_extract,
      "REGEXP_EXTRACT(s, regex): the first match of regex in s (POSIX ERE from Java syntax)"),
    F("regexp_extract", 3, f_regexp_extract,
      "REGEXP_EXTRACT(s, regex, n): group n of the first match (0: the whole match)"),
    F("split_index", 3, f_split_index,
      "SPLIT_INDEX(s, sep, n): the n-th piece (from 0) of s split at sep, or NULL"),
    {"proctime", 0, 0, NULL, f_proctime, NULL, NULL, NULL, NULL, 0, NULL,
     "PROCTIME(): processing time, the clock's milliseconds since the epoch (a window over a "
     "PROCTIME() column closes on the clock)",
     NULL, NULL, NULL},
    {NULL, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL, NULL, NULL, NULL},
};
