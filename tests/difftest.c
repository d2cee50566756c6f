/*
** difftest.c - the differential test of sluice's expressions against the
** sqlite3 library (the oracle).
**
** It generates random constant expressions (seeded, so a run is reproduced
** by its --seed and --count) over integers (small, large, near the int64
** limits), reals (fractions, exponents, negative zero, huge), text (numeric
** looking and not, empty, spaces, UTF-8, JSON), blobs and NULL, nested to a
** random depth with the operators, CAST, CASE, BETWEEN, IN, LIKE/GLOB and the
** scalar functions of the table `constructs` below, the date and time
** functions among them (time values and modifier lists of their own: edge
** dates, invalid texts, Julian days, Unix times).  Each is run as
** `SELECT <expr>` in SQLite (sqlite3_prepare/step) and in the engine under
** test (sluice_exec), and the results must agree:
**   - both fail (an error at prepare or run time), or
**   - both give one row whose value has the same storage class and the same
**     value: INTEGER equal, REAL bit for bit (so 0.0 and -0.0 differ), TEXT
**     and BLOB byte for byte.
** REAL results that differ only by one unit in the last place are reported
** as "float-ulp" mismatches, counted apart; they are failures unless
** --allow-ulp is given.
**
** Not generated, because they are undefined or deliberately different (see
** docs/differences.md): random()/randomblob(); empty IN lists; NUL
** characters (char(), printf's %c); functions newer than SQLite 3.40; the
** time value 'now' (each engine reads its own clock).  Both engines run in
** this process, so 'localtime' and 'utc' use the same TZ.
**
** usage: difftest [--seed N] [--count N] [--engine sluice|sqlite]
**                 [--allow-ulp] [-v] [--print]
** --engine sqlite compares sqlite with itself: a check of the generator and
** the harness (must give 0 mismatches).  -v prints every mismatch (not just
** the first 20) and how often each construct was generated; --print only
** prints the generated expressions.  The last line is "N passed, M failed";
** the exit status is 0 only when M == 0.
**
** Build: links the engine (libsluice.a) and -lsqlite3.  With
** -DSLT_SQLITE_ONLY the sluice engine is left out and only --engine
** sqlite works (to check the harness before the engine links).
*/
#include <math.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef SLT_SQLITE_ONLY
#include "sluice.h"
#endif

/* ---- random numbers --------------------------------------------------------- */

static uint64_t rng; /* xorshift64 state, never 0 */

/* The next pseudo-random 64-bit number. */
static uint64_t rnd(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

/* A pseudo-random number in 0..n-1 (n > 0). */
static int pick(int n) {
  return (int)(rnd() % (uint64_t)n);
}

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* ---- a growing string ----------------------------------------------------------- */

/* A NUL-terminated string that grows; z is owned (free it). */
typedef struct buf {
  char *z;
  size_t n, cap;
} buf;

/* Append s to b. */
static void put(buf *b, const char *s) {
  size_t l = strlen(s);
  if (b->n + l + 1 > b->cap) {
    b->cap = (b->n + l + 1) * 2;
    b->z = realloc(b->z, b->cap);
    if (!b->z) abort();
  }
  memcpy(b->z + b->n, s, l + 1);
  b->n += l;
}

/* ---- leaves ------------------------------------------------------------------------ */

static const char *const ints[] = {"0",
                                   "1",
                                   "-1",
                                   "2",
                                   "3",
                                   "7",
                                   "-7",
                                   "10",
                                   "42",
                                   "-100",
                                   "255",
                                   "256",
                                   "65535",
                                   "1000000",
                                   "2147483647",
                                   "2147483648",
                                   "-2147483648",
                                   "-2147483649",
                                   "4294967296",
                                   "9007199254740993",
                                   "4611686018427387904",
                                   "9223372036854775807",
                                   "9223372036854775806",
                                   "-9223372036854775808",
                                   "-9223372036854775807",
                                   "9223372036854775808",
                                   "0x7fffffffffffffff",
                                   "0xff",
                                   "-0x10"};
static const char *const reals[] = {"0.0",
                                    "-0.0",
                                    "0.5",
                                    "-0.5",
                                    "1.5",
                                    "-2.5",
                                    "2.0",
                                    "3.14159",
                                    "0.1",
                                    "-0.75",
                                    "100.25",
                                    "1e10",
                                    "1.0e-5",
                                    "-1e300",
                                    "1e308",
                                    "1.7976931348623157e308",
                                    "4.9e-324",
                                    "2.2250738585072014e-308",
                                    "123456.789",
                                    "9.2233720368547758e18",
                                    "-9.2233720368547758e18",
                                    "1e19",
                                    "0.333333333333333",
                                    "1e-7",
                                    "12345678901234567890.0",
                                    "2.5",
                                    "3.5",
                                    "-3.5",
                                    ".5",
                                    "5.",
                                    "1e2",
                                    "1E-2"};
static const char *const texts[] = {"''",
                                    "'abc'",
                                    "'ABC'",
                                    "'Hello World'",
                                    "'12'",
                                    "' 7 '",
                                    "'1e3'",
                                    "'3.5x'",
                                    "'-4'",
                                    "'+5'",
                                    "'0x10'",
                                    "'.5'",
                                    "'5.'",
                                    "' -12.5e-1 '",
                                    "'1.0'",
                                    "'-0'",
                                    "'-0.0'",
                                    "'9223372036854775807'",
                                    "'9223372036854775808'",
                                    "'-9223372036854775809'",
                                    "'1e400'",
                                    "'  '",
                                    "' a b '",
                                    "'a%c'",
                                    "'x_y'",
                                    "'Ab_%'",
                                    "'*a?[bc]'",
                                    "'naïve café'",
                                    "'ÄÖÜ'",
                                    "'%'",
                                    "'_'",
                                    "'abcabc'",
                                    "'NULL'",
                                    "'inf'"};
/* JSON documents for json_extract, -> and ->>. */
static const char *const jsons[] = {
    "'{\"a\":1,\"b\":[2,3.5,\"t\",null,true],\"c\":{\"d\":null,\"e\":\"x y\"},\"f\":-0.0}'",
    "'[1,2.5,\"three\",[4],{\"five\":5}]'", "'{\"a\":\"12\",\"b\":1e3,\"c\":9223372036854775807}'",
    "'{\"big\":18446744073709551616,\"neg\":-9223372036854775808,\"s\":\"\\u00e9\"}'"};
static const char *const json_paths[] = {
    "'$'",     "'$.a'",   "'$.b'",  "'$.b[1]'",    "'$.b[#-1]'", "'$.c'",
    "'$.c.d'", "'$.c.e'", "'$[0]'", "'$[4].five'", "'$.nope'",   "'$.f'",
    "'$.big'", "'$.neg'", "'$.s'",  "'a'",         "'$[1]'",     "'$.b[9]'"};
/* Time values for the date and time functions: valid and invalid texts,
** edge dates, Julian day numbers and Unix times (never 'now': the two
** engines read the clock at different moments). */
static const char *const times[] = {"'2024-02-29'",
                                    "'2023-02-29'",
                                    "'2024-01-31 23:59:59'",
                                    "'0000-01-01'",
                                    "'9999-12-31'",
                                    "'9999-12-31 23:59:59.999'",
                                    "'-4713-11-24 12:00:00'",
                                    "'-4714-11-24 12:00'",
                                    "'-0001-03-01'",
                                    "'1970-01-01'",
                                    "'1969-12-31 23:59:59.5'",
                                    "'2000-02-29T12:34'",
                                    "'2000-02-30'",
                                    "'2000-13-01'",
                                    "'2000-00-10'",
                                    "'2000-01-32'",
                                    "'2024-06-15 24:00'",
                                    "'2024-06-15 12:60'",
                                    "'2024-06-15 12:30:60'",
                                    "'2024-06-15 12:30:45.123456789'",
                                    "'2024-06-15 12:30Z'",
                                    "'2024-06-15 12:30:45+05:30'",
                                    "'2024-06-15T12:30:45.5-14:00'",
                                    "'2024-06-15 12:30 +15:00'",
                                    "'2024-06-15 12:30z '",
                                    "'2024-06-15  T 01:02'",
                                    "'12:34'",
                                    "'12:34:56.789'",
                                    "'24:00:00'",
                                    "'1:2'",
                                    "'2024-6-15'",
                                    "'24-06-15'",
                                    "' 2024-06-15'",
                                    "'2024-06-15 '",
                                    "'2024-06-15x'",
                                    "'now '",
                                    "''",
                                    "'abc'",
                                    "'2460375.5'",
                                    "' 1700000000 '",
                                    "'1e3'",
                                    "'1700000000.999'",
                                    "'-1'",
                                    "'0x10'",
                                    "2460375.088300035",
                                    "2460375",
                                    "0",
                                    "0.0",
                                    "-0.5",
                                    "1.5",
                                    "5373484.49999",
                                    "5373484.5",
                                    "1700000000",
                                    "1700000000.5",
                                    "-1700000000",
                                    "253402300799",
                                    "253402300800",
                                    "-210866760000",
                                    "-210866760001",
                                    "1e100",
                                    "-1e100",
                                    "1700000000000",
                                    "9223372036854775807",
                                    "NULL",
                                    "X'32303234'"};
/* Modifiers: every kind, valid and not, with odd spacing and case. */
static const char *const modifiers[] = {"'+1 day'",
                                        "'-1 days'",
                                        "'+1.5 days'",
                                        "'5 hours'",
                                        "'-90 minutes'",
                                        "'30 seconds'",
                                        "'+0.001 seconds'",
                                        "'1 month'",
                                        "'-1 month'",
                                        "'+13 months'",
                                        "'-25 months'",
                                        "'1.5 months'",
                                        "'+1 year'",
                                        "'-1.25 years'",
                                        "'+10000 years'",
                                        "'-5373485 days'",
                                        "'+1 DAYS'",
                                        "'1  day'",
                                        "'+1 fortnight'",
                                        "'1day'",
                                        "'+1 days '",
                                        "' +1 day'",
                                        "'+01:30'",
                                        "'-01:30:10.5'",
                                        "'+24:00'",
                                        "'-23:59:59.999'",
                                        "'+1:30'",
                                        "'+01:30Z'",
                                        "'+01:30-02:00'",
                                        "'start of month'",
                                        "'start of year'",
                                        "'start of day'",
                                        "'START OF DAY'",
                                        "'start of week'",
                                        "'start of  day'",
                                        "'weekday 0'",
                                        "'weekday 3'",
                                        "'weekday 6'",
                                        "'weekday 7'",
                                        "'weekday 1.5'",
                                        "'weekday -1'",
                                        "'weekday  2 '",
                                        "'unixepoch'",
                                        "'UnixEpoch'",
                                        "'julianday'",
                                        "'auto'",
                                        "'localtime'",
                                        "'utc'",
                                        "'subsec'",
                                        "'subsecond'",
                                        "'+0001-02-03 04:05:06'",
                                        "''",
                                        "'now'",
                                        "1",
                                        "NULL"};
/* strftime formats, with the conversions of 3.40 and later ones. */
static const char *const time_formats[] = {"'%Y-%m-%d %H:%M:%S'",
                                           "'%d %f %H %j %J %m %M %s %S %w %W %Y %%'",
                                           "'%J'",
                                           "'%s'",
                                           "'%f'",
                                           "'%W %j %w'",
                                           "'x%%y'",
                                           "'%'",
                                           "'abc'",
                                           "''",
                                           "'%e'",
                                           "'%F'",
                                           "'%T'",
                                           "'%u %V %G'",
                                           "'%Q'",
                                           "'%Y%m%d%H%M%S'"};
static const char *const blobs[] = {"X''", "X'41'", "X'616263'", "X'3132'", "X'C3A9'"};
static const char *const formats[] = {
    "'%d'",    "'%5d|%-5d|'", "'%05d'",   "'%+d'",  "'%s'", "'%10s|%-10s|'", "'%.2s'",
    "'%x'",    "'%X'",        "'%o'",     "'%%'",   "'%q'", "'%Q'",          "'%w'",
    "'%f'",    "'%.2f'",      "'%10.4f'", "'%.0f'", "'%e'", "'%.3e'",        "'%g'",
    "'%.10g'", "'%!.3g'",     "'%,d'",    "'%i'",   "'%u'", "'%lld'",        "'abc'"};

static void gen(buf *b, int depth);

/* Append a random date text to b: fields in and out of range, with or
** without a time, fractional seconds and a zone. */
static void date_text(buf *b) {
  char tmp[96];
  int n = 0;
  static const int years[] = {0, 1, 1969, 1970, 1999, 2000, 2024, 2037, 2038, 2100, 9999};
  int y = pick(3) ? years[pick(COUNT(years))] : pick(10000);
  n += snprintf(tmp + n, sizeof tmp - (size_t)n, "'%s%04d-%02d-%02d", pick(12) ? "" : "-", y,
                pick(14), pick(33));
  if (pick(4)) {
    n += snprintf(tmp + n, sizeof tmp - (size_t)n, "%s%02d:%02d", pick(3) ? " " : "T", pick(26),
                  pick(61));
    if (pick(2)) n += snprintf(tmp + n, sizeof tmp - (size_t)n, ":%02d", pick(61));
    if (pick(3) == 0) n += snprintf(tmp + n, sizeof tmp - (size_t)n, ".%d", pick(100000));
    if (pick(4) == 0)
      n += snprintf(tmp + n, sizeof tmp - (size_t)n, pick(3) ? "%c%02d:%02d" : "Z", "+-"[pick(2)],
                    pick(16), pick(61));
  }
  snprintf(tmp + n, sizeof tmp - (size_t)n, "'");
  put(b, tmp);
}

/* Append a random time value to b: a listed one, a random date text, a
** random Julian day or Unix time, or (rarely) any expression. */
static void time_value(buf *b, int depth) {
  char tmp[64];
  switch (pick(8)) {
  case 0:
  case 1:
  case 2: put(b, times[pick(COUNT(times))]); break;
  case 3:
  case 4: date_text(b); break;
  case 5:
    snprintf(tmp, sizeof tmp, "%.9f", (double)(int64_t)(rnd() % 5400000000000) / 1000.0 - 10000);
    put(b, tmp);
    break;
  case 6:
    snprintf(tmp, sizeof tmp, "%lld", (long long)(rnd() % 400000000000) - 200000000000);
    put(b, tmp);
    break;
  default: gen(b, depth); break;
  }
}

/* Append nmod random modifiers, each after ", ". */
static void modifier_list(buf *b, int nmod, int depth) {
  char tmp[64];
  for (int i = 0; i < nmod; i++) {
    put(b, ", ");
    switch (pick(10)) {
    case 0:
      snprintf(tmp, sizeof tmp, "'%+.3f %s'", (double)(pick(2000001) - 1000000) / (1 + pick(1000)),
               (const char *[]){"days", "hours", "minutes", "seconds", "months", "years"}[pick(6)]);
      put(b, tmp);
      break;
    case 1: gen(b, depth); break;
    default: put(b, modifiers[pick(COUNT(modifiers))]); break;
    }
  }
}

/* Append a random literal to b. */
static void leaf(buf *b) {
  char tmp[64];
  switch (pick(20)) {
  case 0:
  case 1:
  case 2:
  case 3:
  case 4: put(b, ints[pick(COUNT(ints))]); break;
  case 5: snprintf(tmp, sizeof tmp, "%d", pick(41) - 20), put(b, tmp); break;
  case 6: snprintf(tmp, sizeof tmp, "%lld", (long long)rnd()), put(b, tmp); break;
  case 7:
  case 8:
  case 9:
  case 10: put(b, reals[pick(COUNT(reals))]); break;
  case 11:
    /* a random fraction with 15 significant digits */
    snprintf(tmp, sizeof tmp, "%.15g", (double)(int64_t)(rnd() % 2000001) / (1 + pick(999)));
    if (!strpbrk(tmp, ".e")) strcat(tmp, ".5");
    put(b, tmp);
    break;
  case 12:
  case 13:
  case 14:
  case 15: put(b, texts[pick(COUNT(texts))]); break;
  case 16: put(b, blobs[pick(COUNT(blobs))]); break;
  default: put(b, "NULL"); break;
  }
}

/* ---- constructs ----------------------------------------------------------------------- */

/* How a construct is written. */
enum kind {
  K_BINARY,  /* (x OP y); text is " OP " */
  K_PREFIX,  /* (OP x) */
  K_POSTFIX, /* (x OP) */
  K_FUNC,    /* name(x, ...) with minarg..maxarg arguments */
  K_CAST,    /* CAST(x AS text) */
  K_CASE,    /* CASE x WHEN ... END */
  K_SCASE,   /* CASE WHEN ... END */
  K_BETWEEN, /* (x text y AND z) */
  K_IN,      /* (x text (y, ...)), never empty */
  K_ESCAPE,  /* (x LIKE y ESCAPE '!') */
  K_PRINTF,  /* name(format, x, ...) */
  K_JSON,    /* json_extract(doc, path) */
  K_JSONOP,  /* (doc OP path) */
  K_DATE,    /* name(time, modifier, ...) with minarg..maxarg modifiers */
  K_STRFTIME /* strftime(format, time, modifier, ...) */
};

/* One generated construct: its name in reports, how to write it, and how
** often this run generated it. */
typedef struct construct {
  const char *name; /* as reported */
  enum kind kind;
  const char *text; /* operator text, function name or type */
  int minarg, maxarg;
  long uses;
} construct;

static construct constructs[] = {
    {"+", K_BINARY, " + ", 0, 0, 0},
    {"-", K_BINARY, " - ", 0, 0, 0},
    {"*", K_BINARY, " * ", 0, 0, 0},
    {"/", K_BINARY, " / ", 0, 0, 0},
    {"%", K_BINARY, " % ", 0, 0, 0},
    {"&", K_BINARY, " & ", 0, 0, 0},
    {"|", K_BINARY, " | ", 0, 0, 0},
    {"<<", K_BINARY, " << ", 0, 0, 0},
    {">>", K_BINARY, " >> ", 0, 0, 0},
    {"||", K_BINARY, " || ", 0, 0, 0},
    {"=", K_BINARY, " = ", 0, 0, 0},
    {"==", K_BINARY, " == ", 0, 0, 0},
    {"<", K_BINARY, " < ", 0, 0, 0},
    {"<=", K_BINARY, " <= ", 0, 0, 0},
    {">", K_BINARY, " > ", 0, 0, 0},
    {">=", K_BINARY, " >= ", 0, 0, 0},
    {"<>", K_BINARY, " <> ", 0, 0, 0},
    {"!=", K_BINARY, " != ", 0, 0, 0},
    {"IS", K_BINARY, " IS ", 0, 0, 0},
    {"IS NOT", K_BINARY, " IS NOT ", 0, 0, 0},
    {"IS DISTINCT FROM", K_BINARY, " IS DISTINCT FROM ", 0, 0, 0},
    {"IS NOT DISTINCT FROM", K_BINARY, " IS NOT DISTINCT FROM ", 0, 0, 0},
    {"AND", K_BINARY, " AND ", 0, 0, 0},
    {"OR", K_BINARY, " OR ", 0, 0, 0},
    {"LIKE", K_BINARY, " LIKE ", 0, 0, 0},
    {"NOT LIKE", K_BINARY, " NOT LIKE ", 0, 0, 0},
    {"GLOB", K_BINARY, " GLOB ", 0, 0, 0},
    {"NOT GLOB", K_BINARY, " NOT GLOB ", 0, 0, 0},
    {"LIKE ESCAPE", K_ESCAPE, " LIKE ", 0, 0, 0},
    {"unary -", K_PREFIX, "-", 0, 0, 0},
    {"unary +", K_PREFIX, "+", 0, 0, 0},
    {"~", K_PREFIX, "~", 0, 0, 0},
    {"NOT", K_PREFIX, "NOT ", 0, 0, 0},
    {"IS NULL", K_POSTFIX, " IS NULL", 0, 0, 0},
    {"IS NOT NULL", K_POSTFIX, " IS NOT NULL", 0, 0, 0},
    {"ISNULL", K_POSTFIX, " ISNULL", 0, 0, 0},
    {"NOTNULL", K_POSTFIX, " NOTNULL", 0, 0, 0},
    {"BETWEEN", K_BETWEEN, " BETWEEN ", 0, 0, 0},
    {"NOT BETWEEN", K_BETWEEN, " NOT BETWEEN ", 0, 0, 0},
    {"IN", K_IN, " IN ", 0, 0, 0},
    {"NOT IN", K_IN, " NOT IN ", 0, 0, 0},
    {"CASE x WHEN", K_CASE, "", 0, 0, 0},
    {"CASE WHEN", K_SCASE, "", 0, 0, 0},
    {"CAST AS INTEGER", K_CAST, "INTEGER", 0, 0, 0},
    {"CAST AS REAL", K_CAST, "REAL", 0, 0, 0},
    {"CAST AS TEXT", K_CAST, "TEXT", 0, 0, 0},
    {"CAST AS NUMERIC", K_CAST, "NUMERIC", 0, 0, 0},
    {"CAST AS BLOB", K_CAST, "BLOB", 0, 0, 0},
    {"coalesce", K_FUNC, "coalesce", 2, 4, 0},
    {"ifnull", K_FUNC, "ifnull", 2, 2, 0},
    {"nullif", K_FUNC, "nullif", 2, 2, 0},
    {"iif", K_FUNC, "iif", 3, 3, 0},
    {"abs", K_FUNC, "abs", 1, 1, 0},
    {"length", K_FUNC, "length", 1, 1, 0},
    {"lower", K_FUNC, "lower", 1, 1, 0},
    {"upper", K_FUNC, "upper", 1, 1, 0},
    {"substr", K_FUNC, "substr", 2, 3, 0},
    {"substring", K_FUNC, "substring", 2, 3, 0},
    {"trim", K_FUNC, "trim", 1, 2, 0},
    {"ltrim", K_FUNC, "ltrim", 1, 2, 0},
    {"rtrim", K_FUNC, "rtrim", 1, 2, 0},
    {"replace", K_FUNC, "replace", 3, 3, 0},
    {"round", K_FUNC, "round", 1, 2, 0},
    {"typeof", K_FUNC, "typeof", 1, 1, 0},
    {"hex", K_FUNC, "hex", 1, 1, 0},
    {"quote", K_FUNC, "quote", 1, 1, 0},
    {"unicode", K_FUNC, "unicode", 1, 1, 0},
    {"instr", K_FUNC, "instr", 2, 2, 0},
    {"like()", K_FUNC, "like", 2, 2, 0},
    {"glob()", K_FUNC, "glob", 2, 2, 0},
    {"min", K_FUNC, "min", 2, 3, 0},
    {"max", K_FUNC, "max", 2, 3, 0},
    {"sign", K_FUNC, "sign", 1, 1, 0},
    {"sqrt", K_FUNC, "sqrt", 1, 1, 0},
    {"exp", K_FUNC, "exp", 1, 1, 0},
    {"ln", K_FUNC, "ln", 1, 1, 0},
    {"log", K_FUNC, "log", 1, 2, 0},
    {"log10", K_FUNC, "log10", 1, 1, 0},
    {"pow", K_FUNC, "pow", 2, 2, 0},
    {"power", K_FUNC, "power", 2, 2, 0},
    {"floor", K_FUNC, "floor", 1, 1, 0},
    {"ceil", K_FUNC, "ceil", 1, 1, 0},
    {"ceiling", K_FUNC, "ceiling", 1, 1, 0},
    {"trunc", K_FUNC, "trunc", 1, 1, 0},
    {"mod", K_FUNC, "mod", 2, 2, 0},
    {"atan2", K_FUNC, "atan2", 2, 2, 0},
    {"sin", K_FUNC, "sin", 1, 1, 0},
    {"degrees", K_FUNC, "degrees", 1, 1, 0},
    {"printf", K_PRINTF, "printf", 1, 2, 0},
    {"format", K_PRINTF, "format", 1, 2, 0},
    {"json_extract", K_JSON, "json_extract", 0, 0, 0},
    {"->", K_JSONOP, " -> ", 0, 0, 0},
    {"->>", K_JSONOP, " ->> ", 0, 0, 0},
    {"date", K_DATE, "date", 0, 3, 0},
    {"time", K_DATE, "time", 0, 3, 0},
    {"datetime", K_DATE, "datetime", 0, 3, 0},
    {"julianday", K_DATE, "julianday", 0, 3, 0},
    {"unixepoch", K_DATE, "unixepoch", 0, 3, 0},
    {"strftime", K_STRFTIME, "strftime", 0, 3, 0},
};

static void gen(buf *b, int depth);

/* Append n comma-separated random expressions of the given depth. */
static void args(buf *b, int n, int depth) {
  for (int i = 0; i < n; i++) {
    if (i) put(b, ", ");
    gen(b, depth);
  }
}

/* Append a random expression of at most `depth` levels of operators to b:
** a literal, or one construct (counted in its `uses`) over sub-expressions. */
static void gen(buf *b, int depth) {
  if (depth <= 0 || pick(4) == 0) {
    leaf(b);
    return;
  }
  construct *c = &constructs[pick(COUNT(constructs))];
  c->uses++;
  int d = depth - 1;
  switch (c->kind) {
  case K_BINARY:
    put(b, "(");
    gen(b, d);
    put(b, c->text);
    gen(b, d);
    put(b, ")");
    break;
  case K_ESCAPE:
    put(b, "(");
    gen(b, d);
    put(b, " LIKE ");
    put(b, pick(2) ? "'a!%'" : pick(2) ? "'!_%'" : "'%!!%'");
    put(b, " ESCAPE '!')");
    break;
  case K_PREFIX:
    put(b, "(");
    put(b, c->text);
    gen(b, d);
    put(b, ")");
    break;
  case K_POSTFIX:
    put(b, "(");
    gen(b, d);
    put(b, c->text);
    put(b, ")");
    break;
  case K_BETWEEN:
    put(b, "(");
    gen(b, d);
    put(b, c->text);
    gen(b, d);
    put(b, " AND ");
    gen(b, d);
    put(b, ")");
    break;
  case K_IN:
    put(b, "(");
    gen(b, d);
    put(b, c->text);
    put(b, "(");
    args(b, 1 + pick(3), d); /* never empty: see docs/differences.md */
    put(b, "))");
    break;
  case K_CASE:
  case K_SCASE:
    put(b, "CASE");
    if (c->kind == K_CASE) put(b, " "), gen(b, d);
    for (int i = 0, n = 1 + pick(3); i < n; i++) {
      put(b, " WHEN ");
      gen(b, d);
      put(b, " THEN ");
      gen(b, d);
    }
    if (pick(2)) put(b, " ELSE "), gen(b, d);
    put(b, " END");
    break;
  case K_CAST:
    put(b, "CAST(");
    gen(b, d);
    put(b, " AS ");
    put(b, c->text);
    put(b, ")");
    break;
  case K_FUNC:
    put(b, c->text);
    put(b, "(");
    args(b, c->minarg + pick(c->maxarg - c->minarg + 1), d);
    put(b, ")");
    break;
  case K_PRINTF:
    put(b, c->text);
    put(b, "(");
    put(b, formats[pick(COUNT(formats))]);
    put(b, ", ");
    args(b, c->minarg + pick(c->maxarg - c->minarg + 1), d);
    put(b, ")");
    break;
  case K_JSON:
  case K_JSONOP:
    if (c->kind == K_JSON)
      put(b, "json_extract(");
    else
      put(b, "(");
    /* mostly a document, sometimes any expression (usually malformed JSON) */
    if (pick(5))
      put(b, jsons[pick(COUNT(jsons))]);
    else
      gen(b, d);
    put(b, c->kind == K_JSON ? ", " : c->text);
    if (pick(8))
      put(b, json_paths[pick(COUNT(json_paths))]);
    else
      gen(b, d);
    put(b, ")");
    break;
  case K_DATE:
  case K_STRFTIME:
    put(b, c->text);
    put(b, "(");
    if (c->kind == K_STRFTIME)
      put(b, pick(6) ? time_formats[pick(COUNT(time_formats))] : "'%d'"), put(b, ", ");
    time_value(b, d);
    modifier_list(b, c->minarg + pick(c->maxarg - c->minarg + 1), d);
    put(b, ")");
    break;
  }
}

/* ---- engines --------------------------------------------------------------------------- */

/* One result: an error, or one value (or a wrong number of rows). */
typedef struct val {
  int failed; /* the statement failed */
  char *err;  /* its message, owned (may be NULL) */
  int rows;   /* rows returned */
  int type;   /* 0 NULL, then SQLITE_/SLUICE_ INTEGER 1, FLOAT 2, TEXT 3, BLOB 4 */
  int64_t i;
  double r;
  char *bytes; /* TEXT or BLOB content, owned, NUL-terminated */
  size_t n;
} val;

/* Free what v owns and clear it. */
static void val_free(val *v) {
  free(v->bytes);
  free(v->err);
  memset(v, 0, sizeof *v);
}

/* Keep a copy of n bytes p as v's content. */
static void val_bytes(val *v, const void *p, size_t n) {
  v->n = n;
  v->bytes = malloc(n + 1);
  if (!v->bytes) abort();
  if (n) memcpy(v->bytes, p, n);
  v->bytes[n] = 0;
}

/* Run sql in SQLite and record its first row's first value in *out. */
static void eval_sqlite(sqlite3 *db, const char *sql, val *out) {
  sqlite3_stmt *st = NULL;
  memset(out, 0, sizeof *out);
  if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK || !st) {
    out->failed = 1;
    out->err = strdup(sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return;
  }
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    if (out->rows++) continue;
    int t = sqlite3_column_type(st, 0);
    out->type = t == SQLITE_NULL ? 0 : t;
    if (t == SQLITE_INTEGER) out->i = sqlite3_column_int64(st, 0);
    if (t == SQLITE_FLOAT) out->r = sqlite3_column_double(st, 0);
    if (t == SQLITE_TEXT) {
      const unsigned char *z = sqlite3_column_text(st, 0);
      val_bytes(out, z, (size_t)sqlite3_column_bytes(st, 0));
    }
    if (t == SQLITE_BLOB) {
      const void *p = sqlite3_column_blob(st, 0);
      val_bytes(out, p, (size_t)sqlite3_column_bytes(st, 0));
    }
  }
  if (rc != SQLITE_DONE) {
    out->failed = 1;
    out->err = strdup(sqlite3_errmsg(db));
  }
  sqlite3_finalize(st);
}

#ifndef SLT_SQLITE_ONLY
/* sluice row callback: record the first value of the first row in ud. */
static int sluice_cb(void *ud, int ncol, const char *const *names, sluice_value **row) {
  val *out = ud;
  if (out->rows++ || ncol < 1) return 0;
  int t = sluice_value_type(row[0]);
  out->type = t == SLUICE_NULL ? 0 : t;
  if (t == SLUICE_INTEGER) out->i = sluice_value_int64(row[0]);
  if (t == SLUICE_FLOAT) out->r = sluice_value_double(row[0]);
  if (t == SLUICE_TEXT || t == SLUICE_BLOB) {
    size_t n = 0;
    const char *z = sluice_value_text(row[0], &n);
    val_bytes(out, z, z ? n : 0);
  }
  return 0;
}

/* Run sql in sluice and record its first row's first value in *out. */
static void eval_sluice(sluice *db, const char *sql, val *out) {
  memset(out, 0, sizeof *out);
  if (sluice_exec(db, sql, sluice_cb, out, &out->err)) out->failed = 1;
}
#endif

/* ---- comparison ----------------------------------------------------------------------- */

enum verdict { SAME, FLOAT_ULP, DIFFERENT };

/* Compare the oracle's result a with the engine's b. */
static enum verdict compare(const val *a, const val *b) {
  if (a->failed || b->failed) return a->failed && b->failed ? SAME : DIFFERENT;
  if (a->rows != b->rows || a->type != b->type) return DIFFERENT;
  switch (a->type) {
  case 0: return SAME;
  case 1: return a->i == b->i ? SAME : DIFFERENT;
  case 2: {
    uint64_t x, y;
    memcpy(&x, &a->r, sizeof x);
    memcpy(&y, &b->r, sizeof y);
    if (x == y) return SAME;
    /* one ulp apart: same sign, both finite and non-zero, adjacent bits */
    if (isfinite(a->r) && isfinite(b->r) && a->r != 0 && b->r != 0 &&
        !signbit(a->r) == !signbit(b->r) && (x - y == 1 || y - x == 1))
      return FLOAT_ULP;
    return DIFFERENT;
  }
  default:
    return a->n == b->n && (a->n == 0 || !memcmp(a->bytes, b->bytes, a->n)) ? SAME : DIFFERENT;
  }
}

/* Print one result for a mismatch report. */
static void show(const char *who, const val *v) {
  printf("    %-7s ", who);
  if (v->failed) {
    printf("error: %s\n", v->err ? v->err : "(no message)");
    return;
  }
  if (v->rows != 1) printf("[%d rows] ", v->rows);
  switch (v->type) {
  case 0: printf("NULL\n"); break;
  case 1: printf("INTEGER %lld\n", (long long)v->i); break;
  case 2: {
    uint64_t x;
    memcpy(&x, &v->r, sizeof x);
    printf("REAL %.17g (0x%016llx)\n", v->r, (unsigned long long)x);
    break;
  }
  default:
    printf("%s '", v->type == 3 ? "TEXT" : "BLOB");
    for (size_t k = 0; k < v->n; k++) {
      unsigned char ch = (unsigned char)v->bytes[k];
      if (v->type == 3 && ch >= ' ' && ch != 0x7f)
        putchar(ch);
      else
        printf("\\x%02x", ch);
    }
    printf("' (%zu bytes)\n", v->n);
    break;
  }
}

/* ---- main ------------------------------------------------------------------------------- */

/* Parse the options, generate and compare --count expressions, report. */
int main(int argc, char **argv) {
  unsigned long long seed = 1;
  long count = 10000;
  int self = 0, verbose = 0, print_only = 0, allow_ulp = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
      seed = strtoull(argv[++i], NULL, 10);
    } else if (!strcmp(argv[i], "--count") && i + 1 < argc) {
      count = atol(argv[++i]);
    } else if (!strcmp(argv[i], "--engine") && i + 1 < argc) {
      const char *e = argv[++i];
      if (strcmp(e, "sqlite") && strcmp(e, "sluice")) {
        fprintf(stderr, "difftest: unknown engine '%s' (sluice or sqlite)\n", e);
        return 2;
      }
      self = !strcmp(e, "sqlite");
    } else if (!strcmp(argv[i], "--allow-ulp")) {
      allow_ulp = 1;
    } else if (!strcmp(argv[i], "--print")) {
      print_only = 1;
    } else if (!strcmp(argv[i], "-v")) {
      verbose = 1;
    } else {
      fprintf(stderr, "usage: difftest [--seed N] [--count N] [--engine sluice|sqlite] "
                      "[--allow-ulp] [-v] [--print]\n");
      return 2;
    }
  }
#ifdef SLT_SQLITE_ONLY
  if (!self && !print_only) {
    fprintf(stderr, "difftest: built with SLT_SQLITE_ONLY: only --engine sqlite works\n");
    return 2;
  }
#endif
  rng = seed * 0x9E3779B97F4A7C15ULL ^ 0x2545F4914F6CDD1DULL;
  if (!rng) rng = 1;
  for (int i = 0; i < 8; i++)
    rnd();

  sqlite3 *qdb;
  if (sqlite3_open(":memory:", &qdb) != SQLITE_OK) {
    fprintf(stderr, "difftest: cannot open sqlite3\n");
    return 2;
  }
#ifndef SLT_SQLITE_ONLY
  sluice *sdb = self || print_only ? NULL : sluice_open();
#endif
  long pass = 0, fail = 0, ulp = 0, both_errors = 0;
  buf b = {0};
  for (long k = 0; k < count; k++) {
    b.n = 0;
    put(&b, "SELECT ");
    gen(&b, 1 + pick(5));
    if (print_only) {
      printf("%s;\n", b.z);
      continue;
    }
    val want, got;
    eval_sqlite(qdb, b.z, &want);
    if (self) eval_sqlite(qdb, b.z, &got);
#ifndef SLT_SQLITE_ONLY
    else
      eval_sluice(sdb, b.z, &got);
#endif
    enum verdict v = compare(&want, &got);
    if (v == SAME || (v == FLOAT_ULP && allow_ulp)) {
      pass++;
      both_errors += want.failed;
    } else {
      fail++;
      ulp += v == FLOAT_ULP;
    }
    if (v != SAME && (fail <= 20 || verbose)) {
      printf("%s #%ld: %s\n", v == FLOAT_ULP ? "FLOAT-ULP" : "MISMATCH", k + 1, b.z);
      show("sqlite", &want);
      show(self ? "sqlite" : "sluice", &got);
    }
    val_free(&want);
    val_free(&got);
  }
  free(b.z);
  sqlite3_close(qdb);
#ifndef SLT_SQLITE_ONLY
  if (sdb) sluice_close(sdb);
#endif
  if (print_only) return 0;

  int missing = 0;
  for (int i = 0; i < COUNT(constructs); i++)
    missing += constructs[i].uses == 0;
  if (verbose) {
    printf("constructs generated:\n");
    for (int i = 0; i < COUNT(constructs); i++)
      printf("  %-22s %ld\n", constructs[i].name, constructs[i].uses);
  }
  printf("difftest --seed %llu --count %ld against %s: %ld both errors; "
         "%d of %d constructs exercised\n",
         seed, count, self ? "sqlite (self-check)" : "sluice", both_errors,
         COUNT(constructs) - missing, COUNT(constructs));
  if (missing) {
    printf("not exercised:");
    for (int i = 0; i < COUNT(constructs); i++)
      if (!constructs[i].uses) printf(" [%s]", constructs[i].name);
    printf("\n");
  }
  if (ulp)
    printf("float-ulp: %ld of the failures are REAL results 1 ulp apart (--allow-ulp "
           "accepts them)\n",
           ulp);
  printf("%ld passed, %ld failed\n", pass, fail);
  return fail ? 1 : 0;
}
