/*
** json.h - JSON text without trees: validate, skip, navigate, convert.
**
** sluice reads JSON in place.  These routines walk JSON text (RFC 8259) and
** never build a tree, so the record decoder (fmt_json.c) touches only the
** fields a query uses and the JSON SQL functions (func_json.c) work on the
** text they are given.  cJSON is kept for model files, where a full tree is
** what is wanted.
**
** Positions are byte offsets into z[0..n).  Nesting is limited to
** SL_JSON_MAX_DEPTH levels (deeper input is malformed, never a crash).
*/
#ifndef SLUICE_JSON_H
#define SLUICE_JSON_H

#include "value.h"

#define SL_JSON_MAX_DEPTH 2000 /* as SQLite 3.40.1 */

typedef enum sl_json_kind {
  SL_JSON_BAD = 0, /* not a JSON value */
  SL_JSON_NULL,
  SL_JSON_TRUE,
  SL_JSON_FALSE,
  SL_JSON_INT,  /* a number without fraction or exponent */
  SL_JSON_REAL, /* a number with fraction or exponent */
  SL_JSON_STRING,
  SL_JSON_ARRAY,
  SL_JSON_OBJECT
} sl_json_kind;

/* Index of the first non-whitespace byte at or after i (n if none). */
size_t sl_json_ws(const char *z, size_t n, size_t i);
/* Validate the value starting at z[i] (no leading whitespace); return the
** index just after it, or (size_t)-1 if it is malformed.  *kind gets its kind. */
size_t sl_json_skip(const char *z, size_t n, size_t i, sl_json_kind *kind);
/* sl_json_skip that also says where malformed text goes wrong: *bad (if
** given) gets the offset of the first byte that cannot continue a valid
** value, or n when the text ends too soon. */
size_t sl_json_check(const char *z, size_t n, size_t i, sl_json_kind *kind, size_t *bad);
/* 1 if a scanner that stopped at z[bad] (sl_json_check's *bad) stopped
** because the array or object opening there is nested deeper than
** SL_JSON_MAX_DEPTH, the text before it being valid; else 0. */
int sl_json_too_deep(const char *z, size_t n, size_t bad);
/* 1 if z[0..n) is exactly one JSON value, optionally surrounded by whitespace. */
int sl_json_valid(const char *z, size_t n);

/* Object members: iterate with *i starting just after '{' (sl_json_member
** skips whitespace and commas itself).  On each member sets the raw key (the
** bytes between the quotes, still escaped; *key_esc != 0 if it contains a
** backslash) and the value's span [*v, *v_end) and kind, and returns 1;
** returns 0 at '}' and -1 on malformed text, with *i then at the first bad
** byte (n when the text ends too soon; see sl_json_check). */
int sl_json_member(const char *z, size_t n, size_t *i, const char **key, size_t *key_len,
                   int *key_esc, size_t *v, size_t *v_end, sl_json_kind *kind);
/* Array elements: same protocol with *i starting just after '['. */
int sl_json_element(const char *z, size_t n, size_t *i, size_t *v, size_t *v_end,
                    sl_json_kind *kind);

/* Unescape the body of a JSON string (between the quotes) into out, which
** must have room for len bytes (unescaping never grows UTF-8 text).  Returns
** the unescaped length, or (size_t)-1 on a bad escape. */
size_t sl_json_unescape(const char *s, size_t len, char *out);

/* The offset of the first escape of z[0..n) (JSON text, valid) that is a
** lone surrogate (a \uD800..\uDBFF not followed by a \uDC00..\uDFFF, or
** a \uDC00..\uDFFF alone), or n when there is none.  Such an escape is
** valid JSON to SQLite (json_valid), but its text is not Unicode and strict
** readers reject it. */
size_t sl_json_lone_surrogate(const char *z, size_t n);

/* Convert the JSON value z[0..n) (one value, no surrounding whitespace) to a
** value the way SQLite's json_extract does: string -> TEXT (unescaped),
** integer -> INTEGER (REAL if it does not fit), real -> REAL, true/false ->
** 1/0, null -> NULL, array/object -> TEXT flagged SL_F_JSON holding the value
** minified.  Bytes that must be rewritten go to the arena when one is given
** (the value then borrows them), else into out's own buffer; unchanged bytes
** are borrowed from z.  Returns 0, or -1 if z is not valid JSON. */
int sl_json_to_value(const char *z, size_t n, sl_value *out, sl_arena *arena);

/* Parse a JSON array of numbers into doubles in the arena (or out's buffer);
** sets out to a VECTOR.  Returns 0, or -1 if z is not an array of numbers. */
int sl_json_to_vector(const char *z, size_t n, sl_value *out, sl_arena *arena);

/* A list of numbers written as text: "[1, 2.5, -3]" or "1,2.5,-3" (commas,
** optional spaces, optional brackets; Spark's dense vector text).  Stores
** the first cap numbers in out (out may be NULL when cap is 0) and returns
** how many there are, or -1 when z is not such a list. */
int sl_parse_numlist(const char *z, size_t n, double *out, int cap);

/* Append z[0..n) minified (whitespace outside strings removed). */
void sl_json_minify(const char *z, size_t n, sl_buf *out);

/* Evaluate a SQLite JSON path ("$", "$.a.b", "$[2]", "$.a[#-1]", '$."x y"')
** on the JSON text z[0..n).  Sets the span of the value found and returns 1,
** returns 0 if nothing is there, -1 if the path is malformed (message in
** *why, a static string), -2 if the JSON is malformed. */
int sl_json_path(const char *z, size_t n, const char *path, size_t plen, size_t *v, size_t *v_end,
                 const char **why);

/* Append v as a JSON value: INTEGER as an integer, REAL with the shortest
** round-trip digits and a '.' or exponent (an infinity
** as 9.0e+999 or -9.0e+999, NaN as null), TEXT as a string
** (verbatim if flagged SL_F_JSON), NULL as null, VECTOR as an array, BLOB as a
** string of hex digits. */
void sl_json_append_value(sl_buf *out, sl_value *v);
/* Append z[0..n) as a quoted, escaped JSON string (control characters as
** \uXXXX or the short escapes; UTF-8 passed through). */
void sl_json_append_string(sl_buf *out, const char *z, size_t n);

#endif /* SLUICE_JSON_H */
