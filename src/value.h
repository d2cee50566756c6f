/*
** value.h - the dynamically typed value of sluice and SQLite's rules for it.
**
** A value has one of SQLite's storage classes (NULL, INTEGER, REAL, TEXT,
** BLOB) or VECTOR, a numeric array (features for models, from JSON arrays).
** Every operation here follows SQLite 3's documented and observed behaviour:
** the sqlite3 library is the oracle in tests (tests/difftest.c).
**
** Memory.  A value may borrow its bytes (u.z / u.v point into memory owned by
** someone else: an input record, an arena, a constant in a program) or own
** them (they live in the value's private buffer `buf`, which grows and is
** reused, so a VM register that receives text row after row stops allocating
** after warm-up).  SL_F_OWNBUF says that u.z/u.v point into buf.  A shallow
** copy of such a value is only valid until the source is written again.
**
** TEXT is not necessarily NUL-terminated (borrowed JSON strings are not);
** always use n.  sl_value_cstr() gives a terminated copy when needed.
*/
#ifndef SLUICE_VALUE_H
#define SLUICE_VALUE_H

#include <stdint.h>
#include <stddef.h>

#include "util.h"

typedef enum sl_type {
  SL_NULL = 0,
  SL_INTEGER = 1,
  SL_REAL = 2,
  SL_TEXT = 3,
  SL_BLOB = 4,
  SL_VECTOR = 5
} sl_type;

/* value flags */
#define SL_F_OWNBUF 0x01 /* u.z / u.v point into this value's buf */
#define SL_F_TERM 0x02   /* TEXT: u.z[n] == 0 is readable and is the terminator */
#define SL_F_JSON 0x04   /* TEXT holding well-formed JSON (SQLite's JSON subtype) */

typedef struct sl_value {
  uint8_t type;  /* sl_type */
  uint8_t flags; /* SL_F_* */
  uint32_t n;    /* TEXT/BLOB: bytes; VECTOR: number of elements */
  union {
    int64_t i;       /* INTEGER */
    double r;        /* REAL */
    const char *z;   /* TEXT, BLOB */
    const double *v; /* VECTOR */
  } u;
  char *buf;    /* private storage, owned; NULL until first needed */
  uint32_t cap; /* bytes allocated at buf */
} sl_value;

/* Type affinity of a column or an expression (SQLite section 3 of datatype3). */
typedef enum sl_affinity {
  SL_AFF_NONE = 0, /* "BLOB" affinity: no conversion */
  SL_AFF_TEXT = 1,
  SL_AFF_NUMERIC = 2,
  SL_AFF_INTEGER = 3,
  SL_AFF_REAL = 4
} sl_affinity;

/* Collating sequences known to comparison. */
typedef enum sl_coll { SL_COLL_BINARY = 0, SL_COLL_NOCASE = 1, SL_COLL_RTRIM = 2 } sl_coll;

/* ---- the longest string or blob ---------------------------------------
** A function that builds a string, blob or vector from a size it is given
** or by concatenation checks the result's size with sl_too_big() BEFORE it
** allocates, and fails the row ("string or blob too big", sl_result_toobig)
** when it is over.  The limit is per thread: SL_MAX_LENGTH (SQLite's
** SQLITE_MAX_LENGTH) unless a task set a lower one for the queries it drives
** (min(SL_MAX_LENGTH, max_query_memory), task.c). */
#define SL_MAX_LENGTH 1000000000

/* Event times (ms since the epoch) are at most SL_TIME_LIMIT from the
** epoch (about 31.7 million years), and window sizes, slides, gaps, join
** bounds and INTERVALs at most SL_SPAN_LIMIT (about 31,700 years): so
** time arithmetic on them (t - size, t + bound, watermarks) cannot
** overflow int64_t.  Outside, an event time is rejected as not a time. */
#define SL_TIME_LIMIT INT64_C(1000000000000000000)
#define SL_SPAN_LIMIT INT64_C(1000000000000000)
extern _Thread_local size_t sl_max_length;
/* 1 when a string, blob or vector of n bytes is over this thread's limit. */
static inline int sl_too_big(uint64_t n) {
  return n > (uint64_t)sl_max_length;
}
/* Set this thread's limit (at most SL_MAX_LENGTH; 0: SL_MAX_LENGTH) and
** return the previous one, for the caller to restore. */
size_t sl_max_length_set(size_t n);
/* The message of a result over the limit: SQLite's "string or blob too
** big", saying max_query_memory when that set the limit (a per-thread
** buffer, valid until the next call on the thread). */
const char *sl_too_big_msg(void);

/* ---- life cycle ------------------------------------------------------- */
/* A zeroed sl_value is a valid NULL. */
#define SL_VALUE_INIT                                                                              \
  { 0, 0, 0, {0}, NULL, 0 }
void sl_value_free(sl_value *v); /* releases buf; v becomes NULL */

/* ---- setters (never fail; may grow buf) -------------------------------- */
static inline void sl_value_set_null(sl_value *v) {
  v->type = SL_NULL;
  v->flags = 0;
}
static inline void sl_value_set_int(sl_value *v, int64_t i) {
  v->type = SL_INTEGER;
  v->flags = 0;
  v->u.i = i;
}
static inline void sl_value_set_real(sl_value *v, double r) {
  v->type = SL_REAL;
  v->flags = 0;
  v->u.r = r;
}
/* Borrow n bytes at z as TEXT (or BLOB); the caller keeps z alive as long as v
** is read.  flags may add SL_F_TERM / SL_F_JSON. */
static inline void sl_value_borrow_text(sl_value *v, const char *z, size_t n, int flags) {
  v->type = SL_TEXT;
  v->flags = (uint8_t)(flags & ~SL_F_OWNBUF);
  v->n = (uint32_t)n;
  v->u.z = z;
}
void sl_value_borrow_blob(sl_value *v, const void *z, size_t n);
/* Copy n bytes into v's own buffer (NUL-terminated). */
void sl_value_set_text(sl_value *v, const char *z, size_t n);
void sl_value_set_blob(sl_value *v, const void *z, size_t n);
/* Copy a vector of n doubles into v's own buffer. */
void sl_value_set_vector(sl_value *v, const double *x, size_t n);
void sl_value_borrow_vector(sl_value *v, const double *x, size_t n);
/* Make room for n bytes of text in v's own buffer and return it; the caller
** fills it and then calls sl_value_commit_text(v, used). */
char *sl_value_text_space(sl_value *v, size_t n);
void sl_value_commit_text(sl_value *v, size_t n);
/* Deep copy: dst owns its bytes afterwards (dst's buffer is reused). */
void sl_value_copy(sl_value *dst, const sl_value *src);
/* Shallow copy: dst borrows src's bytes (valid while src is unchanged). */
void sl_value_ref(sl_value *dst, const sl_value *src);
/* If v's bytes are borrowed, copy them into v's own buffer. */
void sl_value_own(sl_value *v);
/* Copy v's bytes (if any, and if they are not already in arena-stable
** memory) into the arena so that v stays valid after the source changes;
** used when a row leaves an operator.  buf is left alone. */
void sl_value_pin(sl_value *v, sl_arena *a);

/* ---- accessors with SQLite's conversions ------------------------------- */
/* INTEGER value of v as sqlite3_value_int64 gives it (REAL truncated toward
** zero with saturation, TEXT parsed as a numeric prefix, NULL -> 0). */
int64_t sl_value_as_int(const sl_value *v);
/* A number as an event time in ms since the epoch (a REAL truncated) into
** *ms: 0, or -1 when v is not an INTEGER or REAL or is more than
** SL_TIME_LIMIT from the epoch.  What windows, OVER, dedup and interval
** joins take as a numeric time. */
int sl_value_time(const sl_value *v, int64_t *ms);
/* REAL value of v as sqlite3_value_double gives it. */
double sl_value_as_real(const sl_value *v);
/* Text of v as SQLite renders it (INTEGER "%lld", REAL "%!.15g" i.e. with ".0"
** for integral values, BLOB bytes as is, VECTOR as a JSON array).  The result
** is NUL-terminated and lives in v->buf for non-text values (v keeps its type),
** or is v's own bytes for TEXT; *n receives the length.  NULL gives NULL. */
const char *sl_value_text(sl_value *v, size_t *n);
/* Same, but guaranteed NUL-terminated (copies borrowed unterminated text into
** buf; the value's type is unchanged). */
const char *sl_value_cstr(sl_value *v);

/* SQLite's truth test: -1 for NULL, otherwise 0 or 1 (text and blobs are
** converted to numbers: 'abc' is false, '1x' is true, '0.5' is true). */
int sl_value_truth(const sl_value *v);

/* ---- conversions -------------------------------------------------------- */
/* Apply affinity in place, as SQLite does when storing into a column of that
** affinity or comparing against one (TEXT that looks numeric becomes a
** number under NUMERIC/INTEGER/REAL; numbers become text under TEXT). */
void sl_value_apply_affinity(sl_value *v, sl_affinity aff);
/* TEXT affinity for a value a decoder made: an INTEGER or REAL becomes its
** text (as sl_value_apply_affinity renders it) with the bytes in arena, so
** that the value owns nothing; other values are left as they are. */
void sl_value_text_in(sl_value *v, sl_arena *arena);
/* CAST(v AS type) in place, type given as an affinity (SL_AFF_NONE = BLOB). */
void sl_value_cast(sl_value *v, sl_affinity aff);
/* Convert TEXT/BLOB to a number the way arithmetic does (longest numeric
** prefix, leading/trailing spaces allowed; integer if it is an integer that
** fits in 64 bits, else real; no digits -> INTEGER 0).  out may equal v. */
void sl_value_numerify(const sl_value *v, sl_value *out);

/* Parse the numeric text z[0..n) as SQLite's sqlite3AtoF does.  Returns 1 if
** the whole text (after trimming spaces) is a number, 0 if only a prefix or
** nothing was; *r receives the value of the longest prefix. */
int sl_atof(const char *z, size_t n, double *r);
/* Parse an integer as sqlite3Atoi64: returns 0 if z is exactly a 64-bit
** integer, 1 if it has trailing non-space text, 2 on overflow (*i saturated),
** and 3 if it is too large but the text is exactly "9223372036854775808". */
int sl_atoi64(const char *z, size_t n, int64_t *i);

/* Render a REAL as SQLite does ("%!.15g": 15 significant digits, a ".0" for
** integral values, "Inf"/"-Inf", NaN as NULL is the caller's business).
** out must have room for 32 bytes; returns the length. */
int sl_real_to_text(double r, char *out);
/* SQLite's own floating-point formatting (its printf engine), which
** sluice reproduces digit for digit: conv is 'f', 'e', 'E', 'g' or 'G';
** prec < 0 means 6; flags are SL_FMT_*.  Writes at most 400 bytes plus a
** terminator to out (precision is capped at 350); returns the length. */
#define SL_FMT_ALT 0x01   /* '#' */
#define SL_FMT_ALT2 0x02  /* '!' : ".0" kept, up to 26 significant digits */
#define SL_FMT_PLUS 0x04  /* '+' */
#define SL_FMT_SPACE 0x08 /* ' ' */
int sl_real_format(char *out, double r, int conv, int prec, int flags);
/* The engine behind sl_real_format, for printf(): any precision (out needs
** prec + 340 bytes), the flags as separate arguments, flag_prefix '+', ' '
** or 0; *sign_len gets 1 when the text starts with a sign or space and
** *special 1 for NaN/Inf.  Returns the length. */
int64_t sl_real_render(char *out, double r, char conv, int64_t prec, int alt, int alt2,
                       char flag_prefix, int *sign_len, int *special);
/* Render a REAL with the fewest digits that read back to the same double and
** always a '.' or exponent (JSON output: 0.1, 1.0, 1e+300).  32 bytes. */
int sl_real_to_shortest(double r, char *out);

/* ---- operators (SQLite semantics; out may alias an input) ------------- */
typedef enum sl_arith_op {
  SL_OP_ADD,
  SL_OP_SUB,
  SL_OP_MUL,
  SL_OP_DIV,
  SL_OP_REM,
  SL_OP_BITAND,
  SL_OP_BITOR,
  SL_OP_SHL,
  SL_OP_SHR
} sl_arith_op;
/* out = a OP b: NULL if either is NULL; integer arithmetic with overflow
** falling back to REAL (ADD/SUB/MUL); integer division truncates; x/0 and
** x%0 are NULL; bit operations and shifts on 64-bit integers. */
void sl_value_arith(sl_arith_op op, const sl_value *a, const sl_value *b, sl_value *out);
/* out = -a, +a (no-op), ~a, NOT a (three-valued). */
void sl_value_negate(const sl_value *a, sl_value *out);
void sl_value_bitnot(const sl_value *a, sl_value *out);
void sl_value_not(const sl_value *a, sl_value *out);
/* out = a || b (NULL if either is NULL).  Returns 0, or -1 (out NULL,
** nothing allocated) when the result would be over sl_too_big's limit. */
int sl_value_concat(sl_value *a, sl_value *b, sl_value *out);

/* Compare a and b in SQLite's sort order (NULL < INTEGER/REAL < TEXT < BLOB;
** numbers compared numerically, int vs real exactly; text by collation;
** blobs by memcmp then length; vectors after blobs, elementwise).  Returns
** <0, 0, >0.  No affinity is applied: see sl_value_compare_aff. */
int sl_value_compare(const sl_value *a, const sl_value *b, sl_coll coll);
/* A hash of v that agrees with sl_value_compare(.., SL_COLL_BINARY) == 0:
** numbers hash by their double value (1 and 1.0 alike), text and blobs by
** their bytes, NULL alike.  Mixed for power-of-two tables (low bits). */
uint64_t sl_value_hash(const sl_value *v);
/* The hash of v as collation coll compares it: TEXT with NOCASE has its ASCII
** letters folded, with RTRIM its trailing spaces dropped; other values (and
** BINARY) as sl_value_hash.  Values equal under coll hash alike. */
uint64_t sl_value_hash_coll(const sl_value *v, sl_coll coll);
/* An index over distinct values the caller keeps in an array of entries:
** entry i is at base + i * stride and starts with its sl_value (DISTINCT's
** values, top_k's value counts).  Values are equal when sl_value_compare
** (.., SL_COLL_BINARY) says so.  ix is a zero-initialised sl_htab (hash.h);
** up to 8 entries it stays empty and the array is searched, after that it
** holds every entry's index.  Free it with sl_htab_free.
** sl_vindex_find: the index of v among the n entries, or -1.
** sl_vindex_put: the same, but when v is absent it records index n for it
** and returns -1: the caller must then store v as entry n. */
struct sl_htab;
int sl_vindex_find(const struct sl_htab *ix, const void *base, size_t stride, int n,
                   const sl_value *v);
int sl_vindex_put(struct sl_htab *ix, const void *base, size_t stride, int n, const sl_value *v);
/* The comparison operators of SQL: apply SQLite's comparison affinity rules
** (section 4.2 of datatype3: aff is the affinity to apply to both operands,
** computed by the compiler from the operands' affinities) to copies of a and
** b, then compare.  Returns -2 when either side is NULL, else <0, 0, >0.
** scratch1/scratch2 are caller-provided values used for converted copies. */
int sl_value_compare_aff(const sl_value *a, const sl_value *b, sl_affinity aff, sl_coll coll,
                         sl_value *scratch1, sl_value *scratch2);

/* Name of the type as typeof() prints it: "null", "integer", "real", "text",
** "blob", "vector". */
const char *sl_type_name(int type);
/* The affinity a declared type name implies (SQLite's rules: INT -> INTEGER,
** CHAR/CLOB/TEXT -> TEXT, BLOB or empty -> NONE, REAL/FLOA/DOUB -> REAL, else
** NUMERIC); VECTOR, TIMESTAMP and the like are NUMERIC-like as in SQLite. */
sl_affinity sl_affinity_of_typename(const char *z, size_t n);

#endif /* SLUICE_VALUE_H */
