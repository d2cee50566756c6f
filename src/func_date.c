/*
** func_date.c - SQLite's date and time functions: date(), time(),
** datetime(), julianday(), unixepoch() and strftime().
**
** They follow SQLite 3.40 (the oracle the tests compare with), whose rules
** are documented at https://sqlite.org/lang_datefunc.html:
**
**   - a time value is an ISO-8601 text (YYYY-MM-DD, optionally followed by
**     spaces or 'T' and a time; HH:MM, HH:MM:SS or HH:MM:SS.SSS alone; each
**     time optionally followed by 'Z' or a [+-]HH:MM zone), 'now', or a
**     number (a Julian day number, or with the 'unixepoch' / 'auto'
**     modifiers seconds since 1970);
**   - modifiers apply left to right: 'NNN days|hours|minutes|seconds|months|
**     years', '[+-]HH:MM[:SS[.SSS]]', 'start of month|year|day', 'weekday
**     N', 'unixepoch', 'julianday', 'auto' (these three only first),
**     'localtime' and 'utc';
**   - strftime() knows %d %f %H %j %J %m %M %s %S %w %W %Y and %% (the
**     others came after 3.40: a format with one of them is NULL);
**   - anything invalid makes the result NULL.
**
** Times are held as milliseconds since the Julian day epoch (noon of
** -4713-11-24), integer-exact, and/or as broken-down fields; the calendar
** conversions are the Gregorian Julian-day algorithm of Meeus done in
** integers.  The code is written for sluice; it reproduces SQLite's
** observable behaviour, not its source.
**
** 'now' is the time of the call (the clock read each time a row is
** evaluated), not the statement's start as in SQLite; for that reason none
** of these functions is SL_FUNC_DETERMINISTIC (never constant-folded).
** 'localtime' and 'utc' use the process's time zone (TZ), as SQLite does.
** One known difference: 'utc' on a time before -4713-11-24 12:00 is NULL
** here (docs/differences.md).
**
** Also the functions of event times in epoch milliseconds: to_timestamp,
** epoch_ms, date_trunc and extract (below, before the table).
*/
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "func.h"

/* Milliseconds of Julian day at the Unix epoch (1970-01-01 00:00:00). */
#define JD_UNIX_MS INT64_C(210866760000000)
/* The last valid millisecond: 9999-12-31 23:59:59.999. */
#define JD_MAX_MS INT64_C(464269060799999)
#define DAY_MS INT64_C(86400000)

/* A time being computed.  `jd` is valid when have_jd; the broken-down date
** when have_ymd, the time of day when have_hms (with a zone offset of tz
** minutes still to subtract when have_tz).  `raw` says that the value was a
** bare number, kept in `s`, whose meaning a modifier may still choose. */
typedef struct dtime {
  int64_t jd;    /* milliseconds since the Julian day epoch */
  int Y, M, D;   /* year (may be negative), month 1-12, day 1-31 */
  int h, m;      /* hours 0-24, minutes 0-59 */
  int tz;        /* zone offset in minutes (have_tz) */
  double s;      /* seconds with fraction; the raw number when `raw` */
  char have_jd;  /* jd is valid */
  char have_ymd; /* Y, M, D are valid */
  char have_hms; /* h, m, s are valid */
  char have_tz;  /* tz is to be applied */
  char tz_set;   /* a zone was given ('Z' too) or 'utc' applied */
  char raw;      /* the value was a number (s) */
  char err;      /* an error happened: the result is NULL */
} dtime;

/* ---- small helpers ---------------------------------------------------------- */

/* SQLite's white space: space, \t, \n, \v, \f, \r. */
static int dt_space(int c) {
  return c == ' ' || (c >= '\t' && c <= '\r');
}

static int dt_digit(int c) {
  return c >= '0' && c <= '9';
}

/* ASCII case-insensitive equality of the C string a with the word b. */
static int dt_eq(const char *a, const char *b) {
  for (; *b; a++, b++) {
    int c = (unsigned char)*a;
    if (c >= 'A' && c <= 'Z') c += 32;
    if (c != *b) return 0;
  }
  return *a == 0;
}

/* Whether the C string a starts with the lower-case word b, ignoring ASCII
** case. */
static int dt_prefix(const char *a, const char *b) {
  for (; *b; a++, b++) {
    int c = (unsigned char)*a;
    if (c >= 'A' && c <= 'Z') c += 32;
    if (c != *b) return 0;
  }
  return 1;
}

/* Whether the first n bytes of a equal the lower-case word b (of at least
** n bytes), ignoring ASCII case. */
static int dt_prefix_n(const char *a, const char *b, size_t n) {
  for (size_t i = 0; i < n; i++) {
    int c = (unsigned char)a[i];
    if (c >= 'A' && c <= 'Z') c += 32;
    if (c != b[i]) return 0;
  }
  return 1;
}

/* Exactly n digits at z, forming a number within lo..hi, into *out.
** Returns 1 on success, 0 otherwise. */
static int dt_field(const char *z, int n, int lo, int hi, int *out) {
  int v = 0;
  for (int i = 0; i < n; i++) {
    if (!dt_digit((unsigned char)z[i])) return 0;
    v = v * 10 + (z[i] - '0');
  }
  if (v < lo || v > hi) return 0;
  *out = v;
  return 1;
}

/* The whole of the C string z is a number (spaces around allowed), as
** SQLite's sqlite3AtoF judges it; its value into *r. */
static int dt_number(const char *z, size_t n, double *r) {
  return sl_atof(z, n, r) > 0;
}

/* Make the time invalid: every later step keeps it so and the result is
** NULL. */
static void dt_error(dtime *p) {
  memset(p, 0, sizeof *p);
  p->err = 1;
}

/* Forget the broken-down fields (after jd changed). */
static void dt_clear_fields(dtime *p) {
  p->have_ymd = 0;
  p->have_hms = 0;
  p->have_tz = 0;
}

/* Whether ms is a Julian day in milliseconds that the functions accept
** (from -4713-11-24 12:00 up to 9999-12-31 23:59:59.999). */
static int dt_valid_jd(int64_t ms) {
  return ms >= 0 && ms <= JD_MAX_MS;
}

/* ---- calendar conversions ---------------------------------------------------- */

/* Compute p->jd from the broken-down fields if it is not valid yet; the
** date defaults to 2000-01-01 and the time to midnight.  Years outside
** -4713..9999, or a raw number never given a meaning, are errors. */
static void dt_compute_jd(dtime *p) {
  if (p->have_jd) return;
  int Y = 2000, M = 1, D = 1;
  if (p->have_ymd) Y = p->Y, M = p->M, D = p->D;
  if (Y < -4713 || Y > 9999 || p->raw) {
    dt_error(p);
    return;
  }
  /* March-based year; the century correction of the Gregorian calendar. */
  if (M <= 2) Y--, M += 12;
  int cent = Y / 100;
  int greg = 2 - cent + cent / 4;
  int64_t days = (int64_t)(36525 * (Y + 4716) / 100) + 306001 * (M + 1) / 10000 + D + greg - 1524;
  p->jd = days * DAY_MS - DAY_MS / 2; /* the Julian day starts at noon */
  p->have_jd = 1;
  if (p->have_hms) {
    p->jd += (int64_t)p->h * 3600000 + (int64_t)p->m * 60000 + (int64_t)(p->s * 1000.0 + 0.5);
    if (p->have_tz) {
      p->jd -= (int64_t)p->tz * 60000;
      dt_clear_fields(p);
    }
  }
}

/* Compute the date fields from jd (2000-01-01 when there is no jd). */
static void dt_compute_ymd(dtime *p) {
  if (p->have_ymd) return;
  if (!p->have_jd) {
    p->Y = 2000, p->M = 1, p->D = 1;
  } else if (!dt_valid_jd(p->jd)) {
    dt_error(p);
    return;
  } else {
    /* Meeus's inverse, in integers: z is the day number (from midnight). */
    int z = (int)((p->jd + DAY_MS / 2) / DAY_MS);
    int alpha = (int)(((int64_t)4 * z - 7468865) / 146097);
    int a = z + 1 + alpha - alpha / 4;
    int b = a + 1524;
    int c = (int)(((int64_t)20 * b - 2442) / 7305);
    int d = (36525 * (c & 32767)) / 100;
    int e = (int)(((int64_t)(b - d) * 10000) / 306001);
    int e_days = (int)(((int64_t)e * 306001) / 10000);
    p->D = b - d - e_days;
    p->M = e < 14 ? e - 1 : e - 13;
    p->Y = p->M > 2 ? c - 4716 : c - 4715;
  }
  p->have_ymd = 1;
}

/* Compute the time-of-day fields from jd. */
static void dt_compute_hms(dtime *p) {
  if (p->have_hms) return;
  dt_compute_jd(p);
  int ms = (int)((p->jd + DAY_MS / 2) % DAY_MS);
  int sec = ms / 1000;
  p->s = (ms - sec * 1000) / 1000.0; /* the fraction, then whole seconds */
  p->h = sec / 3600;
  sec -= p->h * 3600;
  p->m = sec / 60;
  p->s += sec - p->m * 60;
  p->raw = 0;
  p->have_hms = 1;
}

static void dt_compute_all(dtime *p) {
  dt_compute_ymd(p);
  dt_compute_hms(p);
}

/* ---- parsing time values ----------------------------------------------------- */

/* An optional zone after a time: spaces, then 'Z' / 'z' or [+-]HH:MM (HH
** up to 14), then spaces and the end of the text.  Returns 0 when the rest
** of the text is that, 1 otherwise. */
static int dt_parse_zone(const char *z, dtime *p) {
  int sign, hh, mm;
  while (dt_space((unsigned char)*z))
    z++;
  p->tz = 0;
  if (*z == 'Z' || *z == 'z') {
    z++;
  } else if (*z == '+' || *z == '-') {
    sign = *z == '-' ? -1 : 1;
    z++;
    if (!dt_field(z, 2, 0, 14, &hh) || z[2] != ':' || !dt_field(z + 3, 2, 0, 59, &mm)) return 1;
    z += 5;
    p->tz = sign * (hh * 60 + mm);
  } else {
    return *z != 0;
  }
  while (dt_space((unsigned char)*z))
    z++;
  p->tz_set = 1;
  return *z != 0;
}

/* HH:MM[:SS[.fff...]] and an optional zone, to the end of the text.
** Returns 0 and sets the time fields on success, 1 otherwise. */
static int dt_parse_hms(const char *z, dtime *p) {
  int h, m, sec = 0;
  double frac = 0.0;
  if (!dt_field(z, 2, 0, 24, &h) || z[2] != ':' || !dt_field(z + 3, 2, 0, 59, &m)) return 1;
  z += 5;
  if (*z == ':') {
    if (!dt_field(z + 1, 2, 0, 59, &sec)) return 1;
    z += 3;
    if (*z == '.' && dt_digit((unsigned char)z[1])) {
      double scale = 1.0;
      for (z++; dt_digit((unsigned char)*z); z++) {
        frac = frac * 10.0 + (*z - '0');
        scale *= 10.0;
      }
      frac /= scale;
    }
  }
  p->have_jd = 0;
  p->raw = 0;
  p->have_hms = 1;
  p->h = h;
  p->m = m;
  p->s = sec + frac;
  if (dt_parse_zone(z, p)) return 1;
  p->have_tz = p->tz != 0;
  return 0;
}

/* [-]YYYY-MM-DD, then optionally spaces or 'T's and a time.  Returns 0 on
** success, 1 otherwise. */
static int dt_parse_ymd(const char *z, dtime *p) {
  int neg = 0, Y, M, D;
  if (*z == '-') z++, neg = 1;
  if (!dt_field(z, 4, 0, 9999, &Y) || z[4] != '-' || !dt_field(z + 5, 2, 1, 12, &M) ||
      z[7] != '-' || !dt_field(z + 8, 2, 1, 31, &D))
    return 1;
  z += 10;
  while (dt_space((unsigned char)*z) || *z == 'T')
    z++;
  if (dt_parse_hms(z, p) == 0) {
    /* the time is set */
  } else if (*z == 0) {
    p->have_hms = 0;
  } else {
    return 1;
  }
  p->have_jd = 0;
  p->have_ymd = 1;
  p->Y = neg ? -Y : Y;
  p->M = M;
  p->D = D;
  if (p->have_tz) dt_compute_jd(p);
  return 0;
}

/* Set p from a bare number: a Julian day when in range, in any case kept
** raw for 'unixepoch' / 'auto' / 'julianday'. */
static void dt_set_number(dtime *p, double r) {
  p->s = r;
  p->raw = 1;
  if (r >= 0.0 && r < 5373484.5) {
    p->jd = (int64_t)(r * 86400000.0 + 0.5);
    p->have_jd = 1;
  }
}

/* The current time: the clock read now (see the file header). */
static int dt_set_now(dtime *p) {
  struct timespec ts;
  if (clock_gettime(CLOCK_REALTIME, &ts) != 0) return 1;
  p->jd = JD_UNIX_MS + (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
  p->have_jd = 1;
  return 0;
}

/* A time value given as text (a C string): a date, a time, 'now' or a
** number.  Returns 0 on success, 1 when the text is none of them. */
static int dt_parse_text(const char *z, dtime *p) {
  double r;
  if (dt_parse_ymd(z, p) == 0) return 0;
  if (dt_parse_hms(z, p) == 0) return 0;
  if (dt_eq(z, "now")) return dt_set_now(p);
  if (dt_number(z, strlen(z), &r)) {
    dt_set_number(p, r);
    return 0;
  }
  return 1;
}

/* ---- local time -------------------------------------------------------------- */

/* Move p, a UTC time, to the local time of the process's zone
** (localtime_r).  Outside 1970-01-01 .. 2038-01-18, where localtime_r may
** not know the rules, the rules of the same date and time in a year of
** 2000..2003 with the same leap-ness are used.  An error state before the
** call is forgotten (p then counts as 2000-01-01 00:00, as in SQLite).
** Returns 0, or 1 when the local time is unavailable. */
static int dt_to_local(dtime *p) {
  struct tm tm;
  time_t t;
  int shift = 0; /* years added to the date for localtime_r */
  dt_compute_jd(p);
  if (p->jd < JD_UNIX_MS || p->jd > INT64_C(213014145600000)) {
    dtime x = *p;
    dt_compute_all(&x);
    shift = 2000 + x.Y % 4 - x.Y;
    x.Y += shift;
    x.have_jd = 0;
    dt_compute_jd(&x);
    t = (time_t)(x.jd / 1000 - JD_UNIX_MS / 1000);
  } else {
    t = (time_t)(p->jd / 1000 - JD_UNIX_MS / 1000);
  }
  memset(&tm, 0, sizeof tm);
  if (!localtime_r(&t, &tm)) return 1;
  p->Y = tm.tm_year + 1900 - shift;
  p->M = tm.tm_mon + 1;
  p->D = tm.tm_mday;
  p->h = tm.tm_hour;
  p->m = tm.tm_min;
  p->s = tm.tm_sec + (double)(p->jd % 1000) * 0.001;
  p->have_ymd = 1;
  p->have_hms = 1;
  p->have_jd = 0;
  p->raw = 0;
  p->tz = 0;
  p->have_tz = 0;
  p->err = 0;
  return 0;
}

/* Move p, a local time, to UTC: the UTC time whose local time it is, found
** by up to four corrections of a guess.  A time given with a zone (or
** already moved by 'utc') is left alone.  Returns 0, or 1 when the local
** time is unavailable. */
static int dt_to_utc(dtime *p) {
  if (p->tz_set) return 0;
  dt_compute_jd(p);
  int64_t want = p->jd, guess = p->jd, off = 0;
  int tries = 0;
  do {
    dtime g;
    memset(&g, 0, sizeof g);
    guess -= off;
    g.jd = guess;
    g.have_jd = 1;
    if (dt_to_local(&g)) return 1;
    dt_compute_jd(&g);
    off = g.jd - want;
  } while (off && tries++ < 3);
  memset(p, 0, sizeof *p);
  p->jd = guess;
  p->have_jd = 1;
  p->tz_set = 1;
  return 0;
}

/* ---- modifiers --------------------------------------------------------------- */

/* The units of 'NNN unit[s]': name, the exclusive limit of NNN, and
** seconds per unit (a month counts 30 days, a year 365, for the fraction
** that is left after whole months or years). */
static const struct {
  const char *name;
  int len;
  double limit;
  double secs;
} dt_units[] = {
    {"second", 6, 4.6427e+14, 1.0},    {"minute", 6, 7.7379e+12, 60.0},
    {"hour", 4, 1.2897e+11, 3600.0},   {"day", 3, 5373485.0, 86400.0},
    {"month", 5, 176546.0, 2592000.0}, {"year", 4, 14713.0, 31536000.0},
};

/* Whether a raw number of seconds since 1970 lies between -4713-11-24
** 12:00:00 and 9999-12-31 23:59:59 (the range 'auto' takes as Unix
** times). */
static int dt_unix_in_range(double s) {
  return s >= -210866760000.0 && s <= 253402300799.0;
}

/* Interpret the raw number as seconds since 1970. */
static void dt_from_unix(dtime *p) {
  double r = p->s * 1000.0 + 210866760000000.0;
  dt_clear_fields(p);
  p->jd = (int64_t)(r + 0.5);
  p->have_jd = 1;
  p->raw = 0;
}

/* The modifier z, '[+-]HH:MM[:SS[.SSS]]' (a zone may follow): shift p by
** that time of day, forward or back.  Returns 0 on success. */
static int dt_mod_hhmm(const char *z, dtime *p) {
  dtime t;
  const char *z2 = z;
  if (!dt_digit((unsigned char)*z2)) z2++;
  memset(&t, 0, sizeof t);
  if (dt_parse_hms(z2, &t)) return 1;
  dt_compute_jd(&t);
  /* keep the time of day only (a zone in the text shifts it, 24:00 is 0) */
  t.jd -= DAY_MS / 2;
  t.jd -= (t.jd / DAY_MS) * DAY_MS;
  if (z[0] == '-') t.jd = -t.jd;
  dt_compute_jd(p);
  dt_clear_fields(p);
  p->jd += t.jd;
  return 0;
}

/* 'NNN unit[s]' and '[+-]HH:MM...'.  Returns 0 when applied. */
static int dt_mod_number(const char *z, dtime *p) {
  size_t n;
  double r;
  for (n = 1; z[n] && z[n] != ':' && !dt_space((unsigned char)z[n]); n++) {
  }
  if (!dt_number(z, n, &r)) return 1;
  if (z[n] == ':') return dt_mod_hhmm(z, p);
  z += n;
  while (dt_space((unsigned char)*z))
    z++;
  n = strlen(z);
  if (n > 10 || n < 3) return 1;
  if (z[n - 1] == 's' || z[n - 1] == 'S') n--;
  dt_compute_jd(p);
  int rc = 1;
  double round = r < 0 ? -0.5 : 0.5;
  for (size_t i = 0; i < sizeof dt_units / sizeof dt_units[0]; i++) {
    if ((size_t)dt_units[i].len != n || !dt_prefix_n(z, dt_units[i].name, n)) continue;
    if (!(r > -dt_units[i].limit && r < dt_units[i].limit)) continue;
    if (i == 4) { /* months: whole months move the month, days overflow */
      dt_compute_all(p);
      p->M += (int)r;
      int years = p->M > 0 ? (p->M - 1) / 12 : (p->M - 12) / 12;
      p->Y += years;
      p->M -= years * 12;
      p->have_jd = 0;
      r -= (int)r;
    } else if (i == 5) { /* years */
      dt_compute_all(p);
      p->Y += (int)r;
      p->have_jd = 0;
      r -= (int)r;
    }
    dt_compute_jd(p);
    p->jd += (int64_t)(r * 1000.0 * dt_units[i].secs + round);
    rc = 0;
    break;
  }
  dt_clear_fields(p);
  return rc;
}

/* Apply the modifier z (a C string), the first one when `first`, to p.
** Returns 0 when it was applied, 1 when it is unknown or does not apply
** (the result is then NULL). */
static int dt_modify(const char *z, int first, dtime *p) {
  double r;
  int c = (unsigned char)z[0];
  if (c >= 'A' && c <= 'Z') c += 32;
  switch (c) {
  case 'a':
    if (!dt_eq(z, "auto") || !first) return 1;
    if (!p->raw || p->have_jd) {
      p->raw = 0;
      return 0;
    }
    if (!dt_unix_in_range(p->s)) return 1;
    dt_from_unix(p);
    return 0;
  case 'j':
    if (!dt_eq(z, "julianday") || !first || !p->have_jd || !p->raw) return 1;
    p->raw = 0;
    return 0;
  case 'l': return dt_eq(z, "localtime") ? dt_to_local(p) : 1;
  case 'u':
    if (dt_eq(z, "unixepoch")) {
      /* only right after a number; its milliseconds of Julian day must
      ** be in 0 .. 10000-01-01 (before the rounding) */
      double ms = p->s * 1000.0 + 210866760000000.0;
      if (!first || !p->raw || !(ms >= 0.0 && ms < 464269060800000.0)) return 1;
      dt_from_unix(p);
      return 0;
    }
    return dt_eq(z, "utc") ? dt_to_utc(p) : 1;
  case 'w': {
    if (!dt_prefix(z, "weekday ")) return 1;
    if (!dt_number(z + 8, strlen(z + 8), &r)) return 1;
    int wd = (int)r;
    if (wd != r || wd < 0 || r >= 7) return 1;
    dt_compute_all(p);
    p->have_tz = 0;
    p->have_jd = 0;
    dt_compute_jd(p);
    int64_t now = ((p->jd + 129600000) / DAY_MS) % 7; /* 0 is Sunday */
    if (now > wd) now -= 7;
    p->jd += (wd - now) * DAY_MS;
    dt_clear_fields(p);
    return 0;
  }
  case 's': {
    if (!dt_prefix(z, "start of ")) return 1;
    if (!p->have_jd && !p->have_ymd && !p->have_hms) return 1;
    z += 9;
    dt_compute_ymd(p);
    p->have_hms = 1;
    p->h = p->m = 0;
    p->s = 0.0;
    p->raw = 0;
    p->have_tz = 0;
    p->have_jd = 0;
    if (dt_eq(z, "month")) {
      p->D = 1;
      return 0;
    }
    if (dt_eq(z, "year")) {
      p->M = 1;
      p->D = 1;
      return 0;
    }
    return dt_eq(z, "day") ? 0 : 1;
  }
  case '+':
  case '-':
  case '0':
  case '1':
  case '2':
  case '3':
  case '4':
  case '5':
  case '6':
  case '7':
  case '8':
  case '9': return dt_mod_number(z, p);
  default: return 1;
  }
}

/* ---- the arguments ---------------------------------------------------------- */

/* The C-string text of an argument (up to its first NUL, as SQLite sees
** text), or NULL for a NULL argument. */
static const char *dt_arg_text(sl_value *v) {
  if (v->type == SL_NULL) return NULL;
  return sl_value_cstr(v);
}

/* Read the time value argv[0] and apply the modifiers argv[1..argc) into
** *p; no arguments mean 'now'.  Returns 0 when p holds a valid time (jd
** computed), 1 when the result must be NULL. */
static int dt_from_args(int argc, sl_value **argv, dtime *p) {
  memset(p, 0, sizeof *p);
  if (argc == 0) return dt_set_now(p);
  sl_value *v = argv[0];
  if (v->type == SL_INTEGER || v->type == SL_REAL) {
    dt_set_number(p, sl_value_as_real(v));
  } else {
    const char *z = dt_arg_text(v);
    if (!z || dt_parse_text(z, p)) return 1;
  }
  for (int i = 1; i < argc; i++) {
    const char *z = dt_arg_text(argv[i]);
    if (!z || dt_modify(z, i == 1, p)) return 1;
  }
  dt_compute_jd(p);
  if (p->err || !dt_valid_jd(p->jd)) return 1;
  return 0;
}

/* ---- the functions ---------------------------------------------------------- */

/* Append the year as SQLite writes it: at least four digits, '-' before a
** negative year.  Returns the bytes written. */
static int dt_put_year(char *out, int Y) {
  if (Y < 0) {
    out[0] = '-';
    return 1 + sprintf(out + 1, "%04d", -Y);
  }
  return sprintf(out, "%04d", Y);
}

/* julianday(T, MOD...): the Julian day number, REAL. */
static void f_julianday(sl_fctx *ctx, int argc, sl_value **argv) {
  dtime t;
  if (dt_from_args(argc, argv, &t)) return;
  sl_result_real(ctx, t.jd / 86400000.0);
}

/* unixepoch(T, MOD...): whole seconds since 1970, INTEGER (rounded down). */
static void f_unixepoch(sl_fctx *ctx, int argc, sl_value **argv) {
  dtime t;
  if (dt_from_args(argc, argv, &t)) return;
  sl_result_int(ctx, t.jd / 1000 - JD_UNIX_MS / 1000);
}

/* datetime(T, MOD...): 'YYYY-MM-DD HH:MM:SS'. */
static void f_datetime(sl_fctx *ctx, int argc, sl_value **argv) {
  dtime t;
  char out[64];
  if (dt_from_args(argc, argv, &t)) return;
  dt_compute_all(&t);
  int n = dt_put_year(out, t.Y);
  n += sprintf(out + n, "-%02d-%02d %02d:%02d:%02d", t.M, t.D, t.h, t.m, (int)t.s);
  sl_result_text(ctx, out, (size_t)n);
}

/* time(T, MOD...): 'HH:MM:SS'. */
static void f_time(sl_fctx *ctx, int argc, sl_value **argv) {
  dtime t;
  char out[32];
  if (dt_from_args(argc, argv, &t)) return;
  dt_compute_hms(&t);
  int n = sprintf(out, "%02d:%02d:%02d", t.h, t.m, (int)t.s);
  sl_result_text(ctx, out, (size_t)n);
}

/* date(T, MOD...): 'YYYY-MM-DD'. */
static void f_date(sl_fctx *ctx, int argc, sl_value **argv) {
  dtime t;
  char out[32];
  if (dt_from_args(argc, argv, &t)) return;
  dt_compute_ymd(&t);
  int n = dt_put_year(out, t.Y);
  n += sprintf(out + n, "-%02d-%02d", t.M, t.D);
  sl_result_text(ctx, out, (size_t)n);
}

/* Days since January 1st of t's year (0 on January 1st), t's time of day
** kept on both sides. */
static int dt_day_of_year(const dtime *t) {
  dtime y = *t;
  y.have_jd = 0;
  y.M = 1;
  y.D = 1;
  dt_compute_jd(&y);
  return (int)((t->jd - y.jd + DAY_MS / 2) / DAY_MS);
}

/* strftime(FORMAT, T, MOD...): FORMAT with %d %f %H %j %J %m %M %s %S %w
** %W %Y %% replaced; NULL if FORMAT has any other conversion.  The text is
** built in a per-thread scratch buffer (no allocation once warm). */
static void f_strftime(sl_fctx *ctx, int argc, sl_value **argv) {
  dtime t;
  if (argc < 1) return;
  const char *fmt = dt_arg_text(argv[0]);
  if (!fmt || dt_from_args(argc - 1, argv + 1, &t)) return;
  dt_compute_all(&t);
  sl_buf *b = sl_scratch(SL_SCRATCH_DATE);
  sl_buf_reset(b);
  char tmp[64];
  for (const char *z = fmt; *z; z++) {
    if (*z != '%') {
      sl_buf_putc(b, *z);
      continue;
    }
    int n = 0;
    switch (*++z) {
    case 'd': n = sprintf(tmp, "%02d", t.D); break;
    case 'f': n = sprintf(tmp, "%06.3f", t.s > 59.999 ? 59.999 : t.s); break;
    case 'H': n = sprintf(tmp, "%02d", t.h); break;
    case 'j': n = sprintf(tmp, "%03d", dt_day_of_year(&t) + 1); break;
    case 'W': {
      int wd = (int)(((t.jd + DAY_MS / 2) / DAY_MS) % 7); /* 0 is Monday */
      n = sprintf(tmp, "%02d", (dt_day_of_year(&t) + 7 - wd) / 7);
      break;
    }
    case 'J': n = sl_real_format(tmp, t.jd / 86400000.0, 'g', 16, 0); break;
    case 'm': n = sprintf(tmp, "%02d", t.M); break;
    case 'M': n = sprintf(tmp, "%02d", t.m); break;
    case 's': n = sprintf(tmp, "%lld", (long long)(t.jd / 1000 - JD_UNIX_MS / 1000)); break;
    case 'S': n = sprintf(tmp, "%02d", (int)t.s); break;
    case 'w': n = sprintf(tmp, "%d", (int)(((t.jd + 129600000) / DAY_MS) % 7)); break;
    case 'Y': n = sprintf(tmp, "%04d", t.Y); break;
    case '%': n = sprintf(tmp, "%%"); break;
    default: return; /* unknown (or after 3.40), or a '%' at the end */
    }
    if (sl_too_big(b->n + (size_t)n)) {
      sl_result_toobig(ctx);
      return;
    }
    sl_buf_append(b, tmp, (size_t)n);
  }
  if (sl_too_big(b->n)) {
    sl_result_toobig(ctx);
    return;
  }
  sl_result_text(ctx, b->z ? b->z : "", b->n);
}

/* ---- streaming time functions: epoch milliseconds -------------------------- */
/*
** Event times in a stream are usually INTEGER milliseconds since 1970
** (UTC).  These convert them to and from text and cut them down to a unit
** (docs/sql.md "Time functions for streams"):
**
**   to_timestamp(MS)      'YYYY-MM-DD HH:MM:SS.SSS' (UTC)
**   epoch_ms(T, MOD...)   milliseconds since 1970 of a time value (as datetime())
**   date_trunc(UNIT, TS)  TS cut down to UNIT; MS in, MS out; text in, text out
**   extract(FIELD, TS)    a field of TS, INTEGER (epoch: seconds, REAL)
**
** Out of the range of the date functions (-4713-11-24 .. 9999-12-31) the
** result is NULL, as for a malformed text.  Weeks start on Monday (ISO).
*/

/* The epoch milliseconds argument v as a time into *p (0), or 1 when v is
** NULL or not a number.  A REAL is rounded down to the millisecond. */
static int dt_from_ms_value(const sl_value *v, dtime *p, int64_t *ms) {
  memset(p, 0, sizeof *p);
  double r;
  if (v->type == SL_INTEGER) {
    *ms = v->u.i;
  } else if (v->type == SL_REAL) {
    r = v->u.r;
    if (!(r > -1e15 && r < 1e15)) return 1;
    *ms = (int64_t)r;
    if ((double)*ms > r) (*ms)--;
  } else {
    return 1;
  }
  if (*ms < -JD_UNIX_MS || *ms > JD_MAX_MS - JD_UNIX_MS) return 1;
  p->jd = *ms + JD_UNIX_MS;
  p->have_jd = 1;
  return 0;
}

/* Write t (jd valid) as 'YYYY-MM-DD HH:MM:SS.SSS' into out; its length. */
static int dt_put_timestamp(char *out, dtime *t) {
  dt_compute_all(t);
  int ms = (int)((t->jd + DAY_MS / 2) % DAY_MS % 1000);
  int n = dt_put_year(out, t->Y);
  n += sprintf(out + n, "-%02d-%02d %02d:%02d:%02d.%03d", t->M, t->D, t->h, t->m, (int)t->s, ms);
  return n;
}

/* to_timestamp(MS): epoch milliseconds as UTC text. */
static void f_to_timestamp(sl_fctx *ctx, int argc, sl_value **argv) {
  (void)argc;
  dtime t;
  int64_t ms;
  char out[48];
  if (dt_from_ms_value(argv[0], &t, &ms)) return;
  int n = dt_put_timestamp(out, &t);
  sl_result_text(ctx, out, (size_t)n);
}

/* epoch_ms(T, MOD...): milliseconds since 1970 of a time value, INTEGER. */
static void f_epoch_ms(sl_fctx *ctx, int argc, sl_value **argv) {
  dtime t;
  if (dt_from_args(argc, argv, &t)) return;
  sl_result_int(ctx, t.jd - JD_UNIX_MS);
}

/* The time value TS of date_trunc / extract into *p: a number is epoch
** milliseconds (*is_text 0), a text a time value as date() reads it (1).
** Returns 0, or 1 for NULL / malformed / out of range. */
static int dt_from_ts(sl_value *v, dtime *p, int *is_text) {
  int64_t ms;
  *is_text = 0;
  if (v->type == SL_INTEGER || v->type == SL_REAL) return dt_from_ms_value(v, p, &ms);
  if (v->type != SL_TEXT) return 1;
  *is_text = 1;
  return dt_from_args(1, &v, p);
}

/* Units of date_trunc, smallest first. */
static const char *const trunc_units[] = {"millisecond", "second", "minute",  "hour", "day",
                                          "week",        "month",  "quarter", "year", NULL};

/* Index of unit z in trunc_units (a trailing 's' allowed), or -1. */
static int dt_unit(const char *z) {
  size_t n = strlen(z);
  for (int i = 0; trunc_units[i]; i++) {
    size_t k = strlen(trunc_units[i]);
    if ((n == k || (n == k + 1 && (z[k] == 's' || z[k] == 'S'))) &&
        dt_prefix_n(z, trunc_units[i], k))
      return i;
  }
  return -1;
}

/* date_trunc(UNIT, TS): TS cut down to the start of its UNIT. */
static void f_date_trunc(sl_fctx *ctx, int argc, sl_value **argv) {
  (void)argc;
  const char *u = dt_arg_text(argv[0]);
  if (!u) return;
  int unit = dt_unit(u);
  if (unit < 0) {
    sl_result_error(ctx,
                    "date_trunc: unknown unit '%s' (millisecond, second, minute, hour, day, "
                    "week, month, quarter or year)",
                    u);
    return;
  }
  dtime t;
  int is_text;
  if (dt_from_ts(argv[1], &t, &is_text)) return;
  /* jd counts from noon: shift to midnight to cut whole days */
  int64_t mid = t.jd + DAY_MS / 2;
  static const int64_t small[] = {1, 1000, 60000, 3600000, DAY_MS};
  if (unit <= 4) {
    mid -= mid % small[unit];
  } else if (unit == 5) {
    int64_t day = mid / DAY_MS; /* Julian day number: day % 7 == 0 is a Monday */
    mid = (day - day % 7) * DAY_MS;
  } else {
    dt_compute_ymd(&t);
    dtime d;
    memset(&d, 0, sizeof d);
    d.Y = t.Y;
    d.M = unit == 8 ? 1 : unit == 7 ? (t.M - 1) / 3 * 3 + 1 : t.M;
    d.D = 1;
    d.have_ymd = 1;
    dt_compute_jd(&d);
    if (d.err) return;
    mid = d.jd + DAY_MS / 2;
  }
  int64_t jd = mid - DAY_MS / 2;
  if (!dt_valid_jd(jd)) return;
  if (!is_text) {
    sl_result_int(ctx, jd - JD_UNIX_MS);
    return;
  }
  dtime r;
  memset(&r, 0, sizeof r);
  r.jd = jd;
  r.have_jd = 1;
  char out[48];
  int n = dt_put_timestamp(out, &r);
  sl_result_text(ctx, out, (size_t)n);
}

/* extract(FIELD, TS), also written EXTRACT(FIELD FROM TS). */
static void f_extract(sl_fctx *ctx, int argc, sl_value **argv) {
  (void)argc;
  const char *f = dt_arg_text(argv[0]);
  if (!f) return;
  static const char *const fields[] = {"year",        "month", "day", "hour",  "minute", "second",
                                       "millisecond", "dow",   "doy", "epoch", NULL};
  int k = 0;
  while (fields[k] && !dt_eq(f, fields[k]))
    k++;
  if (!fields[k]) {
    sl_result_error(ctx,
                    "extract: unknown field '%s' (year, month, day, hour, minute, second, "
                    "millisecond, dow, doy or epoch)",
                    f);
    return;
  }
  dtime t;
  int is_text;
  if (dt_from_ts(argv[1], &t, &is_text)) return;
  int64_t jd = t.jd;
  dt_compute_all(&t);
  int64_t v = 0;
  switch (k) {
  case 0: v = t.Y; break;
  case 1: v = t.M; break;
  case 2: v = t.D; break;
  case 3: v = t.h; break;
  case 4: v = t.m; break;
  case 5: v = (int)t.s; break;
  case 6: v = (jd + DAY_MS / 2) % 1000; break;
  case 7: v = ((jd + DAY_MS / 2) / DAY_MS + 1) % 7; break; /* 0 is Sunday */
  case 8: v = dt_day_of_year(&t) + 1; break;
  case 9: sl_result_real(ctx, (double)(jd - JD_UNIX_MS) / 1000.0); return;
  }
  sl_result_int(ctx, v);
}

/* ---- the table ---------------------------------------------------------------- */

/* Not SL_FUNC_DETERMINISTIC: 'now' (and the zone for 'localtime') make the
** result depend on more than the arguments. */
#define D(name, n, fn, doc)                                                                        \
  { name, n, 0, NULL, fn, NULL, NULL, NULL, NULL, 0, NULL, doc, NULL, NULL, NULL }

const sl_func sl_builtin_date[] = {
    D("date", -1, f_date, "date(T, MOD...): 'YYYY-MM-DD' of a time value"),
    D("time", -1, f_time, "time(T, MOD...): 'HH:MM:SS' of a time value"),
    D("datetime", -1, f_datetime, "datetime(T, MOD...): 'YYYY-MM-DD HH:MM:SS' of a time value"),
    D("julianday", -1, f_julianday, "julianday(T, MOD...): the Julian day number (REAL)"),
    D("unixepoch", -1, f_unixepoch, "unixepoch(T, MOD...): seconds since 1970 (INTEGER)"),
    D("strftime", -1, f_strftime, "strftime(FORMAT, T, MOD...): a time value formatted"),
    D("to_timestamp", 1, f_to_timestamp,
      "to_timestamp(MS): epoch milliseconds as 'YYYY-MM-DD HH:MM:SS.SSS' (UTC)"),
    D("epoch_ms", -1, f_epoch_ms, "epoch_ms(T, MOD...): milliseconds since 1970 of a time value"),
    D("date_trunc", 2, f_date_trunc,
      "date_trunc(UNIT, TS): TS (epoch ms or text) cut down to its second, minute, hour, day, "
      "week, month, quarter or year"),
    D("extract", 2, f_extract,
      "extract(FIELD, TS) or EXTRACT(FIELD FROM TS): year, month, day, hour, minute, second, "
      "millisecond, dow, doy or epoch of TS (epoch ms or text)"),
    {NULL, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL, NULL, NULL, NULL},
};
