/*
** settings.c - the registry of engine settings (settings.h): the table of
** every setting, the checks SET makes, the typed reads, SHOW SETTINGS.
**
** Each type has one reader that turns what SET was given into the stored,
** canonical value (or says what the setting takes), and one writer that
** turns a stored value back into text for SHOW SETTINGS.  A setting's own
** constraints (a range, the words of an enum) are data in its row.
*/
#include "settings.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "connector.h"

#define MS_MAX INT64_C(1000000000000) /* durations: at most ~31 years */

#define SL_SIZE_MAX (INT64_C(1) << 50) /* sizes: at most 1 PiB */

typedef enum sl_setting_type {
  SL_STYPE_INT,      /* an integer within [min, max] */
  SL_STYPE_BOOL,     /* true/false, on/off, yes/no, 1/0 */
  SL_STYPE_DURATION, /* milliseconds: a number, or text with a unit ('500ms', '2s', '1min') */
  SL_STYPE_SIZE,     /* bytes: a number, or text with a unit ('64kB', '256MB', '1GiB') */
  SL_STYPE_TEXT,     /* any text */
  SL_STYPE_PATH,     /* a file system path (or a ':'-separated list of them) */
  SL_STYPE_ENUM      /* one of the words of choices */
} sl_setting_type;

typedef struct sl_setting_def {
  const char *name; /* lower case */
  sl_setting_type type;
  int64_t dflt;               /* INT, BOOL, DURATION (ms), SIZE, ENUM (index): the default */
  const char *dflt_text;      /* TEXT, PATH: the default, or NULL for none */
  int64_t min, max;           /* INT, DURATION, SIZE: the allowed range */
  const char *const *choices; /* ENUM: the words, NULL-terminated */
  const char *doc;            /* one line */
} sl_setting_def;

static const char *const guarantees[] = {"at_least_once", "exactly_once", NULL};
static const char *const utf8_rules[] = {"replace", "reject", NULL};

/* The registry, indexed by sl_setting_id (alphabetical: SHOW SETTINGS order). */
static const sl_setting_def registry[SL_SET_N] = {
    [SL_SET_APPLICATION_ID] = {"application_id", SL_STYPE_TEXT, 0, NULL, 0, 0, NULL,
                               "names this application's Kafka consumer groups "
                               "(<application_id>-<topic>-<query identity>; unset: sluice): "
                               "processes with the same id running the same query share its "
                               "partitions (docs/scale-out.md)"},
    [SL_SET_BATCH_SIZE] = {"batch_size", SL_STYPE_INT, 1024, NULL, 1, 1024, NULL,
                           "the most records a task reads per batch (a table source: at most "
                           "64); smaller batches make tests deterministic"},
    [SL_SET_CHECKPOINT_INTERVAL] = {"checkpoint_interval", SL_STYPE_DURATION, 5000, NULL, 1, MS_MAX,
                                    NULL, "how often a query with a state directory checkpoints"},
    [SL_SET_COMMIT_INTERVAL] = {"commit_interval_ms", SL_STYPE_DURATION, 1000, NULL, 0, MS_MAX,
                                NULL,
                                "how often a Kafka source commits the offsets whose outputs are "
                                "all acknowledged"},
    [SL_SET_IDLE_TIMEOUT] = {"idle_timeout_ms", SL_STYPE_DURATION, 10000, NULL, 0, MS_MAX, NULL,
                             "a partition without records this long stops holding the "
                             "event-time watermark back"},
    [SL_SET_INVALID_UTF8] = {"invalid_utf8", SL_STYPE_ENUM, SL_UTF8_REPLACE, NULL, 0, 0, utf8_rules,
                             "what decoding does with text that is not UTF-8 (and lone "
                             "surrogates): replace each bad sequence with U+FFFD, or reject the "
                             "record"},
    [SL_SET_KAFKA_BROKERS] = {"kafka.brokers", SL_STYPE_TEXT, 0, NULL, 0, 0, NULL,
                              "the bootstrap servers of kafka() calls without brokers => "
                              "(--brokers, --dev-broker)"},
    [SL_SET_LOAD_PATH] = {"load_path", SL_STYPE_PATH, 0, NULL, 0, 0, NULL,
                          "the ':'-separated directories LOAD may read; unset: any "
                          "(--load-path fixes it)"},
    [SL_SET_MAX_QUERY_MEMORY] = {"max_query_memory", SL_STYPE_SIZE, SL_QUERY_MEMORY_DEFAULT, NULL,
                                 0, SL_SIZE_MAX, NULL,
                                 "the most memory one query's state may hold (groups, distinct "
                                 "values, sessions, join rows) before it fails alone; also bounds "
                                 "each string or blob it builds; 0: no limit"},
    [SL_SET_MAX_RECORD_BYTES] = {"max_record_bytes", SL_STYPE_INT, INT64_C(64) << 20, NULL, 16,
                                 INT64_C(1) << 40, NULL,
                                 "the longest record a file, stdin or socket source frames; a "
                                 "longer one (or a CSV quote never closed) is rejected"},
    [SL_SET_MIN_SPLIT_BYTES] = {"min_split_bytes", SL_STYPE_SIZE, INT64_C(1) << 20, NULL, 1,
                                SL_SIZE_MAX, NULL,
                                "the size of the chunks a file is cut into for parallel tasks, "
                                "which claim them as they go: a file of less than twice this is "
                                "read by one task"},
    [SL_SET_PARALLELISM] = {"parallelism", SL_STYPE_INT, 0, NULL, 0, 256, NULL,
                            "how many parallel tasks a query over a divisible source (a file, a "
                            "Kafka group) runs as, stateless or a GROUP BY; 0: the number of "
                            "cores; 1: one task (docs/scale-out.md)"},
    [SL_SET_GUARANTEE] = {"processing.guarantee", SL_STYPE_ENUM, SL_GUARANTEE_AT_LEAST_ONCE, NULL,
                          0, 0, guarantees,
                          "what a restart after a crash delivers: at_least_once or "
                          "exactly_once (docs/checkpoints.md)"},
    [SL_SET_REPARTITION] = {"repartition", SL_STYPE_BOOL, 0, NULL, 0, 1, NULL,
                            "plan a GROUP BY over a continuous Kafka read as two queries meeting "
                            "at a topic keyed by the GROUP BY key (<application_id>-<query "
                            "identity>-repartition), so processes sharing the query each hold "
                            "whole keys (docs/scale-out.md)"},
    [SL_SET_REPARTITION_PARTITIONS] = {"repartition_partitions", SL_STYPE_INT, 0, NULL, 0, 100000,
                                       NULL,
                                       "the partitions of a repartition topic made at a run's "
                                       "start; 0: as many as the source topic has"},
    [SL_SET_RESET_STATE] = {"reset_state", SL_STYPE_BOOL, 0, NULL, 0, 1, NULL,
                            "discard the checkpoints of state_dir when it is opened "
                            "(--reset-state)"},
    [SL_SET_STATE_DIR] = {"state_dir", SL_STYPE_PATH, 0, NULL, 0, 0, NULL,
                          "checkpoint queries into this directory and resume from it "
                          "(--state-dir)"},
    [SL_SET_STATE_TTL] = {"state_ttl", SL_STYPE_DURATION, 0, NULL, 0, MS_MAX, NULL,
                          "how long a join of two streams without a time bound keeps a "
                          "record, and a deduplication a key (processing time; as Flink's "
                          "table.exec.state.ttl); 0: forever"},
    [SL_SET_VM_TRACE] = {"vm_trace", SL_STYPE_BOOL, 0, NULL, 0, 1, NULL,
                         "trace every VM instruction on stderr (debug builds)"},
};

/* The registered setting named name (any case), or -1. */
static int lookup(const char *name) {
  for (int i = 0; i < SL_SET_N; i++)
    if (!sl_stricmp(registry[i].name, name)) return i;
  return -1;
}

/* ---- reading what SET was given ------------------------------------------ */

/* The text of v for a message (caller frees): 'text' quoted, numbers bare. */
static char *shown(const sl_value *v) {
  sl_value tmp = SL_VALUE_INIT;
  sl_value_copy(&tmp, v);
  const char *z = v->type == SL_BLOB ? "a BLOB" : sl_value_cstr(&tmp);
  char *r = v->type == SL_TEXT ? sl_mprintf("'%.60s'", z) : sl_strdup(z);
  sl_value_free(&tmp);
  return r;
}

/* What a setting of def's type takes, for messages (caller frees). */
static char *takes(const sl_setting_def *d) {
  switch (d->type) {
  case SL_STYPE_INT:
    return sl_mprintf("an integer from %lld to %lld", (long long)d->min, (long long)d->max);
  case SL_STYPE_BOOL: return sl_strdup("true or false (also on/off, yes/no, 1/0)");
  case SL_STYPE_DURATION:
    return sl_mprintf("a duration%s: milliseconds, or text with a unit ('500ms', '2s', "
                      "'1min', '1h')",
                      d->min > 0 ? " above 0" : "");
  case SL_STYPE_SIZE:
    return sl_strdup("a size in bytes: a number, or text with a unit ('64kB', '256MB', '1GB'; "
                     "a kB is 1024 bytes)");
  case SL_STYPE_TEXT: return sl_strdup("text");
  case SL_STYPE_PATH: return sl_strdup("a path (text)");
  case SL_STYPE_ENUM: {
    sl_buf b;
    sl_buf_init(&b);
    for (int i = 0; d->choices[i]; i++)
      sl_buf_printf(&b, "%s'%s'", !i ? "" : d->choices[i + 1] ? ", " : " or ", d->choices[i]);
    return b.z;
  }
  }
  return sl_strdup("?");
}

/* Text z (NUL-terminated) without leading and trailing space, as [*s, *e). */
static void trim(const char *z, const char **s, const char **e) {
  while (isspace((unsigned char)*z))
    z++;
  const char *end = z + strlen(z);
  while (end > z && isspace((unsigned char)end[-1]))
    end--;
  *s = z;
  *e = end;
}

/* A unit of a quantity's text and what one of it is worth. */
typedef struct unit_def {
  const char *unit;
  double worth;
} unit_def;

/* The number of a quantity's text ("500", "2 s", "1.5G") times the worth of
** its unit, one of units[0..n) (case-insensitive), as an integer; max + 1
** when over max; -1 when the text is not such a quantity. */
static int64_t quantity_text(const char *z, const unit_def *units, size_t nunit, int64_t max) {
  const char *s, *e;
  trim(z, &s, &e);
  char *end;
  errno = 0;
  double x = strtod(s, &end);
  if (end == s || errno || !isfinite(x) || x < 0) return -1;
  while (end < e && *end == ' ')
    end++;
  size_t n = (size_t)(e - end);
  for (size_t i = 0; i < nunit; i++)
    if (strlen(units[i].unit) == n && !sl_strnicmp(end, units[i].unit, n)) {
      double v = x * units[i].worth;
      return v > (double)max ? max + 1 : (int64_t)v;
    }
  return -1;
}

/* Milliseconds of a duration's text ("500", "500ms", "2 s", "1.5min", "1h"),
** or -1 when it is not one. */
static int64_t duration_text(const char *z) {
  static const unit_def units[] = {
      {"", 1},           {"ms", 1},          {"s", 1000},    {"sec", 1000},
      {"second", 1000},  {"seconds", 1000},  {"m", 60000},   {"min", 60000},
      {"minute", 60000}, {"minutes", 60000}, {"h", 3600000}, {"hour", 3600000},
      {"hours", 3600000}};
  return quantity_text(z, units, SL_ARRAY_SIZE(units), MS_MAX);
}

/* Bytes of a size's text ("4096", "64kB", "256 MB", "1GiB", "1.5G"; a unit
** is a power of 1024 whatever its spelling, as in PostgreSQL), or -1 when it
** is not one (SL_SIZE_MAX + 1 when it is too large). */
static int64_t size_text(const char *z) {
  static const unit_def units[] = {{"", 1},
                                   {"b", 1},
                                   {"k", 1024.0},
                                   {"kb", 1024.0},
                                   {"kib", 1024.0},
                                   {"m", 1048576.0},
                                   {"mb", 1048576.0},
                                   {"mib", 1048576.0},
                                   {"g", 1073741824.0},
                                   {"gb", 1073741824.0},
                                   {"gib", 1073741824.0},
                                   {"t", 1099511627776.0},
                                   {"tb", 1099511627776.0},
                                   {"tib", 1099511627776.0}};
  return quantity_text(z, units, SL_ARRAY_SIZE(units), SL_SIZE_MAX);
}

/* An integer's text, whole ("12", " -3 "), into *out: 0, or -1. */
static int integer_text(const char *z, int64_t *out) {
  const char *s, *e;
  trim(z, &s, &e);
  char *end;
  errno = 0;
  long long x = strtoll(s, &end, 10);
  if (end == s || end != e || errno) return -1;
  *out = x;
  return 0;
}

/* Read v as a value of d's type into out, the stored form: INT, BOOL and
** DURATION an INTEGER, TEXT, PATH and ENUM a TEXT (an ENUM's word in lower
** case).  Returns 0, or -1 when v is not such a value. */
static int read_value(const sl_setting_def *d, const sl_value *v, sl_value *out) {
  sl_value tmp = SL_VALUE_INIT;
  sl_value_copy(&tmp, v);
  const char *z = v->type == SL_TEXT ? sl_value_cstr(&tmp) : NULL;
  int64_t x = 0;
  int rc = -1;
  switch (d->type) {
  case SL_STYPE_INT:
    if (v->type == SL_INTEGER)
      x = v->u.i, rc = 0;
    else if (v->type == SL_REAL && v->u.r == floor(v->u.r) && fabs(v->u.r) < 9e15)
      x = (int64_t)v->u.r, rc = 0;
    else if (z)
      rc = integer_text(z, &x);
    if (!rc && (x < d->min || x > d->max)) rc = -1;
    if (!rc) sl_value_set_int(out, x);
    break;
  case SL_STYPE_BOOL:
    if (v->type == SL_INTEGER && (v->u.i == 0 || v->u.i == 1)) {
      x = v->u.i, rc = 0;
    } else if (z) {
      const char *s, *e;
      trim(z, &s, &e);
      static const char *const words[] = {"false", "off", "no", "0", "true", "on", "yes", "1"};
      for (int i = 0; i < 8 && rc; i++)
        if (strlen(words[i]) == (size_t)(e - s) && !sl_strnicmp(s, words[i], (size_t)(e - s)))
          x = i >= 4, rc = 0;
    }
    if (!rc) sl_value_set_int(out, x);
    break;
  case SL_STYPE_DURATION:
    if (v->type == SL_INTEGER)
      x = v->u.i;
    else if (v->type == SL_REAL && v->u.r >= 0 && v->u.r <= (double)MS_MAX)
      x = (int64_t)v->u.r;
    else
      x = z ? duration_text(z) : -1;
    rc = x >= d->min && x <= d->max ? 0 : -1;
    if (!rc) sl_value_set_int(out, x);
    break;
  case SL_STYPE_SIZE:
    if (v->type == SL_INTEGER)
      x = v->u.i;
    else if (v->type == SL_REAL && v->u.r >= 0 && v->u.r <= (double)SL_SIZE_MAX)
      x = (int64_t)v->u.r;
    else
      x = z ? size_text(z) : -1;
    rc = x >= d->min && x <= d->max ? 0 : -1;
    if (!rc) sl_value_set_int(out, x);
    break;
  case SL_STYPE_TEXT:
  case SL_STYPE_PATH:
    if (z) {
      sl_value_set_text(out, z, tmp.n);
      rc = 0;
    }
    break;
  case SL_STYPE_ENUM:
    for (int i = 0; z && d->choices[i] && rc; i++)
      if (!sl_stricmp(z, d->choices[i])) {
        sl_value_set_text(out, d->choices[i], strlen(d->choices[i]));
        rc = 0;
      }
    break;
  }
  sl_value_free(&tmp);
  return rc;
}

/* A duration as SHOW SETTINGS writes it: "5s", "1500ms", "2min", "1h". */
static void write_duration(sl_buf *b, int64_t ms) {
  if (ms && ms % 3600000 == 0)
    sl_buf_printf(b, "%lldh", (long long)(ms / 3600000));
  else if (ms && ms % 60000 == 0)
    sl_buf_printf(b, "%lldmin", (long long)(ms / 60000));
  else if (ms && ms % 1000 == 0)
    sl_buf_printf(b, "%llds", (long long)(ms / 1000));
  else
    sl_buf_printf(b, "%lldms", (long long)ms);
}

/* A size as SHOW SETTINGS writes it: "1GB", "64MB", "512kB", "1000" (bytes:
** the largest unit that divides it). */
static void write_size(sl_buf *b, int64_t bytes) {
  static const char *const units[] = {"TB", "GB", "MB", "kB"};
  for (int i = 0; i < 4; i++) {
    int64_t u = INT64_C(1) << (10 * (4 - i));
    if (bytes && bytes % u == 0) {
      sl_buf_printf(b, "%lld%s", (long long)(bytes / u), units[i]);
      return;
    }
  }
  sl_buf_printf(b, "%lld", (long long)bytes);
}

/* The text of d's value x (INT, BOOL, DURATION, SIZE, ENUM index) or z (TEXT,
** PATH; NULL: none) into b; returns b->z or NULL for none. */
static const char *write_value(sl_buf *b, const sl_setting_def *d, int64_t x, const char *z) {
  sl_buf_reset(b);
  switch (d->type) {
  case SL_STYPE_INT: sl_buf_printf(b, "%lld", (long long)x); break;
  case SL_STYPE_BOOL: sl_buf_puts(b, x ? "true" : "false"); break;
  case SL_STYPE_DURATION: write_duration(b, x); break;
  case SL_STYPE_SIZE: write_size(b, x); break;
  case SL_STYPE_ENUM: sl_buf_puts(b, d->choices[x]); break;
  case SL_STYPE_TEXT:
  case SL_STYPE_PATH:
    if (!z) return NULL;
    sl_buf_puts(b, z);
    break;
  }
  return b->z ? b->z : "";
}

/* ---- names ---------------------------------------------------------------- */

/* The optimal string alignment distance of a and b (ASCII case folded),
** capped at 9: edits (insert, delete, change, swap of neighbours) that turn
** one into the other. */
static int distance(const char *a, const char *b) {
  size_t n = strlen(a), m = strlen(b);
  if (n > 40 || m > 40) return 9;
  int d[41][41];
  for (size_t i = 0; i <= n; i++)
    d[i][0] = (int)i;
  for (size_t j = 0; j <= m; j++)
    d[0][j] = (int)j;
  for (size_t i = 1; i <= n; i++)
    for (size_t j = 1; j <= m; j++) {
      int same = tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[j - 1]);
      int best = d[i - 1][j - 1] + !same;
      if (d[i - 1][j] + 1 < best) best = d[i - 1][j] + 1;
      if (d[i][j - 1] + 1 < best) best = d[i][j - 1] + 1;
      if (i > 1 && j > 1 && tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[j - 2]) &&
          tolower((unsigned char)a[i - 2]) == tolower((unsigned char)b[j - 1]) &&
          d[i - 2][j - 2] + 1 < best)
        best = d[i - 2][j - 2] + 1;
      d[i][j] = best;
    }
  return d[n][m] > 9 ? 9 : d[n][m];
}

/* The registered setting closest to name within limit edits, or -1. */
static int closest(const char *name, int limit) {
  int best = -1, bestd = limit + 1;
  for (int i = 0; i < SL_SET_N; i++) {
    int dd = distance(name, registry[i].name);
    if (dd < bestd) best = i, bestd = dd;
  }
  return best;
}

/* The error for a name SET does not know, naming every setting. */
static void unknown_name(const char *name, sl_err *err) {
  size_t len = strlen(name);
  int near = closest(name, len < 6 ? 1 : (int)(len / 3));
  sl_buf b;
  sl_buf_init(&b);
  sl_buf_printf(&b, "unknown setting %s", name);
  if (near >= 0) sl_buf_printf(&b, " (did you mean %s?)", registry[near].name);
  sl_buf_puts(&b, "; the settings are ");
  for (int i = 0; i < SL_SET_N; i++)
    sl_buf_printf(&b, "%s%s", i ? ", " : "", registry[i].name);
  sl_buf_puts(&b, ", CONNECTOR.OPTION (a default option of a connector's calls, as "
                  "kafka.security.protocol) and EXTENSION.NAME (a setting of an extension)");
  sl_err_set(err, SL_EBIND, "%s", b.z);
  sl_buf_free(&b);
}

/* Length of the first part of a dotted name (before its first '.'), or 0
** when name has no '.' or an empty part around it. */
static size_t prefix_len(const char *name) {
  const char *dot = strchr(name, '.');
  return dot && dot > name && dot[1] ? (size_t)(dot - name) : 0;
}

/* 1 when a name that is not registered may still be SET: a connector's
** option, or an extension's setting whose prefix is no registered
** setting's and which is not a registered name misspelled. */
static int passthrough_ok(const char *name) {
  size_t n = prefix_len(name);
  if (!n) return 0;
  if (sl_connector_find(name, n)) return 1;
  for (int i = 0; i < SL_SET_N; i++)
    if (prefix_len(registry[i].name) == n && !sl_strnicmp(registry[i].name, name, n)) return 0;
  return closest(name, 2) < 0;
}

/* ---- SET -------------------------------------------------------------------- */

int sl_setting_set(sl_catalog *c, const char *name, const sl_value *v, sl_err *err) {
  int id = lookup(name);
  if (id < 0 && !passthrough_ok(name)) {
    unknown_name(name, err);
    return -1;
  }
  if (id >= 0 && sl_setting_fixed(c, (sl_setting_id)id)) {
    static const char *const flag[SL_SET_N] = {[SL_SET_LOAD_PATH] = "--load-path",
                                               [SL_SET_STATE_DIR] = "--state-dir",
                                               [SL_SET_RESET_STATE] = "--reset-state",
                                               [SL_SET_MAX_QUERY_MEMORY] = "--max-query-memory"};
    sl_err_set(err, SL_EBIND, "%s is fixed by the command line%s%s%s", registry[id].name,
               flag[id] ? " (" : "", flag[id] ? flag[id] : "", flag[id] ? ")" : "");
    return -1;
  }
  int unset = !v || v->type == SL_NULL || (v->type == SL_TEXT && !v->n);
  if (id < 0 || unset) {
    sl_catalog_set(c, id < 0 ? name : registry[id].name, unset ? NULL : v);
    return 0;
  }
  const sl_setting_def *d = &registry[id];
  sl_value val = SL_VALUE_INIT;
  if (read_value(d, v, &val)) {
    char *what = takes(d), *got = shown(v);
    sl_err_set(err, SL_EBIND, "%s takes %s, not %s", d->name, what, got);
    free(what);
    free(got);
    return -2;
  }
  sl_catalog_set(c, d->name, &val);
  sl_value_free(&val);
  return 0;
}

int sl_setting_set_text(sl_catalog *c, const char *name, const char *text, sl_err *err) {
  sl_value v = SL_VALUE_INIT;
  sl_value_borrow_text(&v, text, strlen(text), SL_F_TERM);
  return sl_setting_set(c, name, &v, err) ? -1 : 0;
}

void sl_setting_fix(sl_catalog *c, sl_setting_id id) {
  c->fixed |= 1u << id;
}

int sl_setting_fixed(const sl_catalog *c, sl_setting_id id) {
  return (c->fixed >> id) & 1u;
}

/* ---- reads ---------------------------------------------------------------- */

int64_t sl_setting_int(sl_catalog *c, sl_setting_id id) {
  const sl_setting_def *d = &registry[id];
  const sl_value *v = sl_catalog_get(c, d->name);
  if (!v) return d->dflt;
  if (d->type != SL_STYPE_ENUM) return v->type == SL_INTEGER ? v->u.i : d->dflt;
  for (int i = 0; d->choices[i]; i++)
    if (v->type == SL_TEXT && v->n == strlen(d->choices[i]) && !memcmp(v->u.z, d->choices[i], v->n))
      return i;
  return d->dflt;
}

const char *sl_setting_text(sl_catalog *c, sl_setting_id id) {
  const sl_setting_def *d = &registry[id];
  const sl_value *v = sl_catalog_get(c, d->name);
  /* stored values are copies: owned and terminated */
  return v && v->type == SL_TEXT && (v->flags & SL_F_TERM) ? v->u.z : d->dflt_text;
}

/* ---- SHOW SETTINGS ----------------------------------------------------------- */

static int by_name(const void *a, const void *b) {
  return strcmp((*(const sl_setting *const *)a)->name, (*(const sl_setting *const *)b)->name);
}

void sl_setting_foreach(sl_catalog *c, sl_setting_row_fn fn, void *ud) {
  sl_buf val, dflt;
  sl_buf_init(&val);
  sl_buf_init(&dflt);
  for (int i = 0; i < SL_SET_N; i++) {
    const sl_setting_def *d = &registry[i];
    int text = d->type == SL_STYPE_TEXT || d->type == SL_STYPE_PATH;
    const char *v = write_value(&val, d, text ? 0 : sl_setting_int(c, (sl_setting_id)i),
                                text ? sl_setting_text(c, (sl_setting_id)i) : NULL);
    const char *df = write_value(&dflt, d, d->dflt, d->dflt_text);
    fn(ud, d->name, v, df, d->doc);
  }
  /* the passthrough settings that are set, by name */
  int n = 0;
  for (sl_setting *s = c->settings; s; s = s->next)
    n += lookup(s->name) < 0;
  sl_setting **set = sl_calloc((size_t)(n ? n : 1), sizeof *set);
  n = 0;
  for (sl_setting *s = c->settings; s; s = s->next)
    if (lookup(s->name) < 0) set[n++] = s;
  qsort(set, (size_t)n, sizeof *set, by_name);
  for (int i = 0; i < n; i++) {
    size_t plen = prefix_len(set[i]->name);
    const sl_connector *conn = sl_connector_find(set[i]->name, plen);
    sl_buf_reset(&dflt);
    if (conn)
      sl_buf_printf(&dflt, "option %s of every %s() call that does not give it",
                    set[i]->name + plen + 1, conn->name);
    else
      sl_buf_printf(&dflt, "a setting of extensions (read when a library loads)");
    sl_value tmp = SL_VALUE_INIT;
    sl_value_copy(&tmp, &set[i]->value);
    fn(ud, set[i]->name, sl_value_cstr(&tmp), NULL, dflt.z);
    sl_value_free(&tmp);
  }
  free(set);
  sl_buf_free(&val);
  sl_buf_free(&dflt);
}
