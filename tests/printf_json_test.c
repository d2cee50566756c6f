/*
** printf_json_test.c - differential test of printf() (func_printf.c) and the
** JSON and VECTOR functions (func_json.c) against SQLite, the oracle.
**
** Each case names a function and its arguments as SQL expressions.  SQLite
** evaluates the call itself (`SELECT f(a, b, ...)`); for sluice the harness
** lets SQLite evaluate only the arguments (`SELECT a, b, ...`), converts them
** to sl_values (flagging those written as calls of JSON functions with
** SL_F_JSON, as SQLite's JSON subtype would mark them) and calls the
** descriptor from sl_builtin_printf / sl_builtin_json.  Results must agree in
** type and bytes (REALs bit for bit); an SQLite error must be an error here
** with the same message.  Generated printf cases bind values directly.
** VECTOR functions have no SQLite counterpart and are checked against
** expected values written here.
**
** Build (standalone): cc -Isrc tests/printf_json_test.c src/util.c src/value.c
**   src/func.c src/json.c src/func_printf.c src/func_json.c -lsqlite3 -lm
** Prints failures and ends with "N passed, M failed"; exits 0 iff M == 0.
*/
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "func.h"
#include "json.h"

static int npass, nfail;
static sqlite3 *db;

/* ---- conversions between sqlite3 values and sl_values ------------------ */

/* Load column i of a stepped statement into v (v owns its bytes). */
static void from_column(sqlite3_stmt *st, int i, sl_value *v) {
  switch (sqlite3_column_type(st, i)) {
  case SQLITE_INTEGER: sl_value_set_int(v, sqlite3_column_int64(st, i)); break;
  case SQLITE_FLOAT: sl_value_set_real(v, sqlite3_column_double(st, i)); break;
  case SQLITE_TEXT: {
    const char *z = (const char *)sqlite3_column_text(st, i);
    sl_value_set_text(v, z, (size_t)sqlite3_column_bytes(st, i));
    break;
  }
  case SQLITE_BLOB: {
    const void *z = sqlite3_column_blob(st, i);
    sl_value_set_blob(v, z ? z : "", (size_t)sqlite3_column_bytes(st, i));
    break;
  }
  default: sl_value_set_null(v); break;
  }
}

/* Bind v as parameter i of st. */
static void bind_value(sqlite3_stmt *st, int i, sl_value *v) {
  switch (v->type) {
  case SL_INTEGER: sqlite3_bind_int64(st, i, v->u.i); break;
  case SL_REAL: sqlite3_bind_double(st, i, v->u.r); break;
  case SL_TEXT: sqlite3_bind_text(st, i, v->u.z, (int)v->n, SQLITE_TRANSIENT); break;
  case SL_BLOB: sqlite3_bind_blob(st, i, v->u.z, (int)v->n, SQLITE_TRANSIENT); break;
  default: sqlite3_bind_null(st, i); break;
  }
}

/* Render a value for a failure report into out (size n). */
static void show(const sl_value *v, char *out, size_t n) {
  switch (v->type) {
  case SL_NULL: snprintf(out, n, "NULL"); break;
  case SL_INTEGER: snprintf(out, n, "INTEGER %lld", (long long)v->u.i); break;
  case SL_REAL: snprintf(out, n, "REAL %.17g", v->u.r); break;
  case SL_TEXT:
    snprintf(out, n, "TEXT[%u] '%.*s'", v->n, (int)(v->n > 300 ? 300 : v->n), v->u.z);
    break;
  case SL_BLOB: snprintf(out, n, "BLOB[%u]", v->n); break;
  default: snprintf(out, n, "VECTOR[%u]", v->n); break;
  }
}

/* 1 if a and b agree in type and content (REALs bit for bit). */
static int same(const sl_value *a, const sl_value *b) {
  if (a->type != b->type) return 0;
  switch (a->type) {
  case SL_NULL: return 1;
  case SL_INTEGER: return a->u.i == b->u.i;
  case SL_REAL: return memcmp(&a->u.r, &b->u.r, sizeof(double)) == 0;
  case SL_TEXT:
  case SL_BLOB: return a->n == b->n && memcmp(a->u.z, b->u.z, a->n) == 0;
  default: return a->n == b->n && memcmp(a->u.v, b->u.v, a->n * sizeof(double)) == 0;
  }
}

/* ---- calling sluice functions ------------------------------------------ */

/* The descriptor called name taking argc arguments, from the tables tested. */
static const sl_func *find_func(const char *name, int argc) {
  const sl_func *tabs[] = {sl_builtin_printf, sl_builtin_json};
  const sl_func *variadic = NULL;
  for (size_t t = 0; t < SL_ARRAY_SIZE(tabs); t++)
    for (const sl_func *f = tabs[t]; f->name; f++) {
      if (strcmp(f->name, name)) continue;
      if (f->nargs == argc) return f;
      if (f->nargs == -1 || (f->nargs <= -2 && argc >= -f->nargs - 2)) variadic = f;
    }
  return variadic;
}

/* Call name(argv) in sluice; result to out, error message (if it failed)
** to err.  Returns 1 if the call failed, -1 if there is no such function. */
static int call_sluice(const char *name, int argc, sl_value **argv, sl_value *out, sl_buf *err) {
  const sl_func *f = find_func(name, argc);
  if (!f) return -1;
  sl_fctx ctx = {f, out, NULL, SL_COLL_BINARY, 0, err, 0, 0, NULL, 0};
  sl_value_set_null(out);
  sl_buf_reset(err);
  f->xFunc(&ctx, argc, argv);
  if (!ctx.failed && (f->flags & SL_FUNC_JSONRESULT) && out->type == SL_TEXT)
    out->flags |= SL_F_JSON;
  return ctx.failed;
}

/* ---- one comparison ---------------------------------------------------- */

/* Compare SQLite's outcome of `sql` (one value; a prepared statement with
** bindings may be given instead) with sluice's call.  label names the case. */
static void compare(const char *label, sqlite3_stmt *st, const char *name, int argc,
                    sl_value **argv) {
  sl_value want = SL_VALUE_INIT, got = SL_VALUE_INIT;
  sl_buf err;
  sl_buf_init(&err);
  const char *want_err = NULL;
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW)
    from_column(st, 0, &want);
  else
    want_err = sqlite3_errmsg(db);
  int failed = call_sluice(name, argc, argv, &got, &err);
  char a[400], b[400];
  int ok;
  if (failed < 0) {
    ok = 0;
    snprintf(a, sizeof a, "(no function %s/%d)", name, argc);
    snprintf(b, sizeof b, "-");
  } else if (want_err) {
    ok = failed && err.z && strcmp(err.z, want_err) == 0;
    snprintf(a, sizeof a, "error '%s'", want_err);
    if (failed)
      snprintf(b, sizeof b, "error '%s'", err.z ? err.z : "");
    else
      show(&got, b, sizeof b);
  } else {
    ok = !failed && same(&want, &got);
    show(&want, a, sizeof a);
    if (failed)
      snprintf(b, sizeof b, "error '%s'", err.z ? err.z : "");
    else
      show(&got, b, sizeof b);
  }
  if (ok) {
    npass++;
  } else {
    nfail++;
    printf("FAIL %s\n  sqlite: %s\n  sluice: %s\n", label, a, b);
  }
  sqlite3_reset(st);
  sl_value_free(&want);
  sl_value_free(&got);
  sl_buf_free(&err);
}

/* Is the SQL expression e (whose value is v) a call of a function whose
** result SQLite marks with the JSON subtype (so that sluice should see
** SL_F_JSON)? */
static int is_json_expr(const char *e, const sl_value *v) {
  static const char *const fns[] = {"json(",         "json_array(",  "json_object(",
                                    "json_quote(",   "json_set(",    "json_insert(",
                                    "json_replace(", "json_remove(", "json_patch("};
  for (size_t i = 0; i < SL_ARRAY_SIZE(fns); i++)
    if (strncmp(e, fns[i], strlen(fns[i])) == 0) return 1;
  /* json_extract(X, P) gives arrays and objects as JSON; X -> P always */
  if (v->n > 0 && (v->u.z[0] == '[' || v->u.z[0] == '{') && strncmp(e, "json_extract(", 13) == 0)
    return 1;
  if (strstr(e, "->") && !strstr(e, "->>")) return 1;
  return 0;
}

#define MAXARGS 12

/* Check that a TEXT result carries the JSON flag exactly when SQLite's
** carries the JSON subtype: compare json_array(call) in both. */
static void check_subtype(const char *call, const char *name, int argc, sl_value **argv) {
  sl_value got = SL_VALUE_INIT;
  sl_buf err;
  sl_buf_init(&err);
  if (call_sluice(name, argc, argv, &got, &err) == 0 && got.type == SL_TEXT) {
    sl_buf sql;
    sl_buf_init(&sql);
    sl_buf_printf(&sql, "SELECT json_array(%s)", call);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql.z, -1, &st, NULL) == SQLITE_OK) {
      sl_value *a[1] = {&got};
      compare(sql.z, st, "json_array", 1, a);
    }
    sqlite3_finalize(st);
    sl_buf_free(&sql);
  }
  sl_value_free(&got);
  sl_buf_free(&err);
}

/* A hand-written case: name(args...) with the arguments as SQL text. */
static void check_expr(const char *name, const char *const *args) {
  int argc = 0;
  while (argc < MAXARGS && args[argc])
    argc++;
  sl_buf sql, argsql;
  sl_buf_init(&sql);
  sl_buf_init(&argsql);
  int infix = strcmp(name, "->") == 0 || strcmp(name, "->>") == 0;
  if (infix) {
    sl_buf_printf(&sql, "SELECT (%s) %s (%s)", args[0], name, args[1]);
  } else {
    sl_buf_printf(&sql, "SELECT %s(", name);
    for (int i = 0; i < argc; i++)
      sl_buf_printf(&sql, "%s%s", i ? ", " : "", args[i]);
    sl_buf_puts(&sql, ")");
  }
  sl_buf_puts(&argsql, "SELECT ");
  for (int i = 0; i < argc; i++)
    sl_buf_printf(&argsql, "%s%s", i ? ", " : "", args[i]);
  if (!argc) sl_buf_puts(&argsql, "1");
  sqlite3_stmt *st = NULL, *ast = NULL;
  if (sqlite3_prepare_v2(db, sql.z, -1, &st, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(db, argsql.z, -1, &ast, NULL) != SQLITE_OK ||
      sqlite3_step(ast) != SQLITE_ROW) {
    nfail++;
    printf("FAIL %s: cannot prepare: %s\n", sql.z, sqlite3_errmsg(db));
  } else {
    sl_value vals[MAXARGS];
    sl_value *argv[MAXARGS];
    for (int i = 0; i < argc; i++) {
      sl_value init = SL_VALUE_INIT;
      vals[i] = init;
      from_column(ast, i, &vals[i]);
      if (vals[i].type == SL_TEXT && is_json_expr(args[i], &vals[i])) vals[i].flags |= SL_F_JSON;
      argv[i] = &vals[i];
    }
    compare(sql.z, st, name, argc, argv);
    if (strcmp(name, "printf") && strcmp(name, "format"))
      check_subtype(sql.z + 7, name, argc, argv);
    for (int i = 0; i < argc; i++)
      sl_value_free(&vals[i]);
  }
  sqlite3_finalize(st);
  sqlite3_finalize(ast);
  sl_buf_free(&sql);
  sl_buf_free(&argsql);
}

#define E(name, ...)                                                                               \
  do {                                                                                             \
    const char *const a_[] = {__VA_ARGS__, NULL};                                                  \
    check_expr(name, a_);                                                                          \
  } while (0)

/* ---- printf: hand-picked cases ----------------------------------------- */

static void printf_cases(void) {
  E("printf", "''");
  E("printf", "NULL");
  E("printf", "NULL", "1");
  E("printf", "'abc'");
  E("printf", "'%s'", "''");
  E("printf", "'%n'");
  E("printf", "'%n|%d'", "5");
  E("printf", "'abc%'");
  E("printf", "'%'");
  E("printf", "'ab%yc'");
  E("printf", "'%yc'");
  E("printf", "'%5'");
  E("printf", "'abc%-'");
  E("printf", "'%ll'");
  E("printf", "'%T'", "3");
  E("printf", "'%S'", "3");
  E("printf", "'x%Tz'", "3");
  E("printf", "'%5%|'");
  E("printf", "'%-5%|'");
  E("printf", "'%%%d%%'", "7");
  E("printf", "'%d %s'", "1");
  E("printf", "'%d|%f|%s|%c|%q|%Q|%w|%x'");
  E("printf", "'%*.*d|'", "1");
  E("printf", "'%.*s|'", "2", "'abcdef'");
  E("printf", "'%.*s|'", "-2", "'abcdef'");
  E("printf", "'%*s|'", "-4", "'ab'");
  E("printf", "'%*s|'", "9223372036854775807", "'x'");
  E("printf", "'%*s|'", "4294967301", "'x'");
  E("printf", "'%*d|'", "-2147483648", "3");
  E("printf", "'%.*d|'", "-2147483648", "3");
  E("printf", "'%-*d|'", "5", "3");
  E("printf", "'%*.3d|'", "6", "3");
  E("printf", "'%*l.3d|'", "6", "3");
  E("printf", "'%5-d|'", "3");
  E("printf", "'%l5d'", "3");
  E("printf", "'%.3.4f'", "1.0");
  E("printf", "'%ld %lld %lu %hd'", "1", "2", "3", "4");
  E("printf", "'%5l.2f|'", "3.14159");
  E("printf", "'%5.2lf|'", "3.14159");
  E("printf", "'%,d'", "-1234567");
  E("printf", "'%,d'", "123");
  E("printf", "'%,d'", "1234");
  E("printf", "'%,i'", "9223372036854775807");
  E("printf", "'%,d'", "-9223372036854775808");
  E("printf", "'%,u'", "-1");
  E("printf", "'%,x'", "1234567");
  E("printf", "'%,f'", "1234567.5");
  E("printf", "'%,.7d|'", "1234");
  E("printf", "'%,12d|'", "1234567");
  E("printf", "'%-,12d|'", "1234567");
  E("printf", "'%0,12d|'", "1234567");
  E("printf", "'%010,d|'", "12345");
  E("printf", "'%r %r %r %r %r %r %r'", "1", "2", "3", "4", "11", "12", "13");
  E("printf", "'%r %r %r %r'", "101", "111", "-1", "-22");
  E("printf", "'%.5r|%-6r|%06r|%,r|%+r'", "3", "2", "1", "1234", "5");
  E("printf", "'%#010x|%#010o|%010p|%08.3d|%-08d|'", "255", "8", "255", "42", "42");
  E("printf", "'%.0d|%#.0o|%#x|%#o|%#X|%p|%#p'", "0", "0", "0", "8", "255", "255", "255");
  E("printf", "'%x %X %o %u'", "-1", "-1", "-1", "-1");
  E("printf", "'%d %i'", "-9223372036854775808", "9223372036854775807");
  E("printf", "'%+d % d %+ d % +d'", "5", "5", "5", "5");
  E("printf", "'%+05d|% 05d|%-+5d|%05d'", "3", "3", "3", "-3");
  E("printf", "'%d'", "'12abc'");
  E("printf", "'%d'", "3.99");
  E("printf", "'%d'", "-3.99");
  E("printf", "'%d'", "1e300");
  E("printf", "'%d'", "x'3132'");
  E("printf", "'%d'", "' 42 '");
  E("printf", "'%f'", "'1e3'");
  E("printf", "'%f'", "'abc'");
  E("printf", "'%f'", "NULL");
  E("printf", "'%s'", "1e100");
  E("printf", "'%s'", "1.5");
  E("printf", "'%s'", "100.0");
  E("printf", "'%s'", "x'616200636465'");
  E("printf", "'%s|%s'", "-0.0", "123456789012345678");
  E("printf", "'%5s|%-5s|'", "'ab'", "'ab'");
  E("printf", "'%.2s|%.0s|%.10s|'", "'héllo'", "'abc'", "'abc'");
  E("printf", "'%!.2s|%!5s|%!-5s|%5s|'", "'héllo'", "'hé'", "'hé'", "'hé'");
  E("printf", "'%!.3s|'", "'€€€€'");
  E("printf", "'%c|%c|%c'", "'abc'", "'é'", "'€x'");
  E("printf", "'%c'", "''");
  E("printf", "'%c'", "NULL");
  E("printf", "'%5c|%-5c|%5c|'", "'x'", "'x'", "'é'");
  E("printf", "'%5.3c|%-5.3c|%.3c|%2.3c|%4.3c|%.1c|%.0c'", "'x'", "'x'", "'x'", "'x'", "'x'", "'x'",
    "'x'");
  E("printf", "'%6.3c|%-6.3c|'", "'é'", "'€'");
  E("printf", "'%c'", "123");
  E("printf", "'%q|%Q|%w'", "'it''s'", "'it''s'", "'say \"hi\"'");
  E("printf", "'%Q %q %w'", "NULL", "NULL", "NULL");
  E("printf", "'%.2Q|%.3q|%.1w|%10Q|%-10q|'", "NULL", "NULL", "NULL", "NULL", "NULL");
  E("printf", "'%.3q|'", "'ab''c'");
  E("printf", "'%.3Q|'", "'a''''b'");
  E("printf", "'%!.2q|%!.2Q|%!8Q|%8Q|'", "'héé'", "'héé'", "'hé'", "'hé'");
  E("printf", "'%Q'", "12");
  E("printf", "'%Q'", "1.5");
  E("printf", "'%Q'", "x'41'");
  E("printf", "'%z|%5z'", "'dyn'", "'x'");
  E("printf", "'%f %e %g %E %G'", "3.14159", "3.14159", "3.14159", "314159e10", "1e-10");
  E("printf", "'%f|%e|%g'", "0", "0", "0");
  E("printf", "'%f|%e|%g'", "-0.0", "-0.0", "-0.0");
  E("printf", "'%.0f|%.0e|%.0g|%#.0f|%#.0e|%#.0g'", "2.5", "2.5", "2.5", "2.5", "2.5", "2.5");
  E("printf", "'%.20f|%.20e|%.20g'", "0.1", "0.1", "0.1");
  E("printf", "'%!.20f|%!.20e|%!.20g'", "0.1", "0.1", "0.1");
  E("printf", "'%!f|%!e|%!g|%!.0f'", "1.0", "1.0", "1.0", "1.0");
  E("printf", "'%#g|%#.3g|%!.3g|%!g'", "1.0", "1.0", "1.0", "1e20");
  E("printf", "'%010.3f|%-10.3f|%+010.3f|% 010.3f|%010.3f'", "3.14159", "3.14159", "3.14159",
    "3.14159", "-3.14159");
  E("printf", "'%010e|%-12e|%+e|%012g'", "-314.5", "314.5", "314.5", "-1e-300");
  E("printf", "'%010f|%-10f|%+f|% f|%f|%010f'", "1e400", "-1e400", "1e400", "1e400", "-1e400",
    "-1e400");
  E("printf", "'%e|%g|%E|%G'", "1e400", "-1e400", "1e400", "-1e400");
  E("printf", "'%f'", "1e300");
  E("printf", "'%f|%g|%e'", "1.7976931348623157e308", "1.7976931348623157e308",
    "1.7976931348623157e308");
  E("printf", "'%g|%e|%.30e'", "4.9e-324", "4.9e-324", "4.9e-324");
  E("printf", "'%g %g %g %g %g'", "100000", "1000000", "0.0001", "0.00001", "123456789");
  E("printf", "'%.3g|%.10g|%.17g|%.25g'", "1234.5678", "1234.5678", "0.1", "0.1");
  E("printf", "'%.350f'", "1.5");
  E("printf", "'%.351f'", "1.5");
  E("printf", "'%.400f'", "1.7");
  E("printf", "'%.400e|%#.400g|%.400g|%!.400f'", "1.7", "1.7", "1.7", "1.7");
  E("printf", "'%.400f'", "4.9e-324");
  E("printf", "'%.1000e'", "-123.456e-300");
  E("printf", "'%20.15f|'", "2.0");
  E("printf", "'%.3f'", "'2.0005'");
  E("printf", "'%.2f %.2f %.2f %.2f'", "0.125", "0.375", "2.675", "1.005");
  E("printf", "'%5.1f%%'", "99.44");
  E("printf", "'%.15g|%!.15g|%.16g|%.17g'", "0.3", "0.3", "0.3", "0.3");
  E("printf", "'%d items at %.2f each = %s'", "3", "1.5", "'4.50'");
  E("printf", "'%-10s|%10s|'", "NULL", "NULL");
  E("printf", "'%s'", "'a' || char(0) || 'b'");
  E("printf", "char(37, 100, 0, 37, 100)", "1", "2");
  E("printf", "'%.100d'", "7");
  E("printf", "'%,.100d'", "7");
  E("printf", "'%200d|'", "7");
  E("printf", "'%#.200x|'", "255");
  E("printf", "'%s %s %s %s %s %s %s %s %s %s'", "1", "2", "3");
  E("printf", "12");
  E("printf", "1.5");
  E("printf", "x'25642d'", "5");
  E("format", "'%d-%s'", "1", "'a'");
  E("format", "NULL");
  E("format", "'%'");
  E("printf", "'%s'", "json_array(1, 2)");
  E("printf", "'%5.5%|%5.5z'");
  E("printf", "'%.4096f|%.4100e|%#.5000g'", "1.7", "1.7", "1.7");
  E("printf", "'%.4097f'", "-2.5e-5");
  E("printf", "'%e|%E|%g'", "1.5e-150", "2.5e200", "-9.99999999e-100");
  E("printf", "'%.16g|%!.26g|%!.30e'", "1.0/3", "2.0/3", "1e23");
  E("printf", "'%!.15g|%!.15g|%!.15g'", "1e15", "1e16", "123456789012345.6");
}

/* ---- printf: generated cases ------------------------------------------- */

/* Every combination of some flags, widths, precisions and conversions over
** a spread of values, bound as parameters. */
static void printf_generated(void) {
  static const char *const flagsets[] = {"",   "-",  "+",  " ",  "0",  "#",  "!",  ",",  "-0",
                                         "+0", "#0", "!#", "-+", " 0", "0,", "+,", "-!", "#+"};
  static const char *const widths[] = {"", "1", "5", "12", "25", "*"};
  static const char *const precs[] = {"", ".", ".0", ".1", ".3", ".12", ".20", ".*"};
  static const char convs[] = "diurxXopfeEgGcsqQw";
  sl_value vals[14];
  for (size_t i = 0; i < SL_ARRAY_SIZE(vals); i++) {
    sl_value init = SL_VALUE_INIT;
    vals[i] = init;
  }
  sl_value_set_int(&vals[0], 0);
  sl_value_set_int(&vals[1], 42);
  sl_value_set_int(&vals[2], -7);
  sl_value_set_int(&vals[3], 1234567890123LL);
  sl_value_set_real(&vals[4], 3.14159265358979);
  sl_value_set_real(&vals[5], -0.000123456);
  sl_value_set_real(&vals[6], 1e21);
  sl_value_set_real(&vals[7], 0.5);
  sl_value_set_text(&vals[8], "hello", 5);
  sl_value_set_text(&vals[9], "it's \"q\"", 8);
  sl_value_set_text(&vals[10], "h\xc3\xa9llo\xe2\x82\xac", 10);
  sl_value_set_null(&vals[11]);
  sl_value_set_text(&vals[12], "-12.5e1x", 8);
  sl_value_set_real(&vals[13], 99999.95);
  sl_value star = SL_VALUE_INIT;
  sqlite3_stmt *st2, *st3, *st4;
  sqlite3_prepare_v2(db, "SELECT printf(?1, ?2)", -1, &st2, NULL);
  sqlite3_prepare_v2(db, "SELECT printf(?1, ?2, ?3)", -1, &st3, NULL);
  sqlite3_prepare_v2(db, "SELECT printf(?1, ?2, ?3, ?4)", -1, &st4, NULL);
  for (size_t fi = 0; fi < SL_ARRAY_SIZE(flagsets); fi++)
    for (size_t wi = 0; wi < SL_ARRAY_SIZE(widths); wi++)
      for (size_t pi = 0; pi < SL_ARRAY_SIZE(precs); pi++)
        for (const char *c = convs; *c; c++) {
          char fmt[64];
          snprintf(fmt, sizeof fmt, "[%%%s%s%s%c]", flagsets[fi], widths[wi], precs[pi], *c);
          int nstar = (widths[wi][0] == '*') + (strchr(precs[pi], '*') != NULL);
          for (size_t vi = 0; vi < SL_ARRAY_SIZE(vals); vi++) {
            /* keep the run short: every value for the common shapes, a
            ** rotating subset otherwise */
            if ((fi + wi + pi + vi) % 3 != 0 && fi > 3) continue;
            sl_value fv = SL_VALUE_INIT;
            sl_value_borrow_text(&fv, fmt, strlen(fmt), SL_F_TERM);
            sl_value *argv[4] = {&fv, NULL, NULL, NULL};
            int argc = 1;
            sl_value_set_int(&star, (int64_t)(vi % 4) * 7 - 5);
            for (int s = 0; s < nstar; s++)
              argv[argc++] = &star;
            argv[argc++] = &vals[vi];
            sqlite3_stmt *st = argc == 2 ? st2 : argc == 3 ? st3 : st4;
            for (int k = 0; k < argc; k++)
              bind_value(st, k + 1, argv[k]);
            char label[128];
            snprintf(label, sizeof label, "printf('%s', value #%zu)", fmt, vi);
            compare(label, st, "printf", argc, argv);
          }
        }
  sqlite3_finalize(st2);
  sqlite3_finalize(st3);
  sqlite3_finalize(st4);
  for (size_t i = 0; i < SL_ARRAY_SIZE(vals); i++)
    sl_value_free(&vals[i]);
}

/* ---- JSON: hand-picked cases ---------------------------------------------- */

static void json_cases(void) {
  static const char *const docs[] = {
      "'{\"a\":1,\"b\":[1,2,{\"c\":\"x\"}],\"d\":{\"e\":null,\"f\":true,\"g\":false},\"h\":1.5e3}'",
      "' [ 1 , 2.0 , \"three\" , [ ] , { } , -0 , 1E2 , 9223372036854775807 , "
      "9223372036854775808 , -9223372036854775808 , -9223372036854775809 ] '",
      "'{\"a\\u0062\":1,\"ab\":2,\"a\":3,\"a\":4,\"x y\":5,\"q\\\"\":6,\"\":7}'",
      "'\"str\\n\\u00e9\\ud83d\\ude00\\u0041\"'",
      "'\"a\\u0000b\"'",
      "'[{\"k\":[[1,2],[3,4]]},\"\\/\",\"\\\\\"]'",
      "'{\"-1\":\"neg\",\"1\":\"one\",\"a.b\":\"dot\"}'",
      "'123'",
      "'-1.5e-7'",
      "'null'",
      "'true'",
      "'false'",
      "'[]'",
      "'{}'",
  };
  static const char *const paths[] = {"'$'",
                                      "'$.a'",
                                      "'$.b'",
                                      "'$.b[2].c'",
                                      "'$.b[#-1]'",
                                      "'$.b[#]'",
                                      "'$.b[#-3]'",
                                      "'$.b[#-4]'",
                                      "'$.d.e'",
                                      "'$.d.f'",
                                      "'$.h'",
                                      "'$[0]'",
                                      "'$[1]'",
                                      "'$[2]'",
                                      "'$[5]'",
                                      "'$[6]'",
                                      "'$[7]'",
                                      "'$[8]'",
                                      "'$[9]'",
                                      "'$[10]'",
                                      "'$[99]'",
                                      "'$[#-1]'",
                                      "'$.ab'",
                                      "'$.\"a\\u0062\"'",
                                      "'$.\"x y\"'",
                                      "'$.x y'",
                                      "'$.\"q\\\"\"'",
                                      "'$.\"\"'",
                                      "'$.\"a'",
                                      "'$.'",
                                      "'$x'",
                                      "'x'",
                                      "''",
                                      "'$[1x]'",
                                      "'$[]'",
                                      "'$[#'",
                                      "'$[#-]'",
                                      "'$[#+1]'",
                                      "'$[-1]'",
                                      "'$.a[0]'",
                                      "'$.a.b'",
                                      "'$[0].k[1][0]'",
                                      "'$[0].k[1]'",
                                      "'$[1]'",
                                      "'$.\"-1\"'",
                                      "'$.\"a.b\"'",
                                      "'$.a.'",
                                      "'$[0]x'",
                                      "'$[0][0]'",
                                      "'$.d.e.f'",
                                      "'$.d[0]'",
                                      "'$[4294967296]'",
                                      "'$.a''b'",
                                      "NULL",
                                      "1",
                                      "'$[01]'"};
  for (size_t d = 0; d < SL_ARRAY_SIZE(docs); d++) {
    E("json", docs[d]);
    E("json_valid", docs[d]);
    E("json_type", docs[d]);
    E("json_array_length", docs[d]);
    for (size_t p = 0; p < SL_ARRAY_SIZE(paths); p++) {
      E("json_extract", docs[d], paths[p]);
      E("json_type", docs[d], paths[p]);
      E("json_array_length", docs[d], paths[p]);
      E("->", docs[d], paths[p]);
      E("->>", docs[d], paths[p]);
    }
    E("json_extract", docs[d], "'$[0]'", "'$.a'", "'$[1]'");
    E("json_extract", docs[d], "'$.b'", "NULL", "'$.nope'");
    E("json_extract", docs[d], "'$.b'", "'bad'");
    static const char *const abbrev[] = {"'a'",  "'b'",     "'a.b'", "'b[1]'", "'[1]'",    "'1'",
                                         "0",    "1",       "2",     "-1",     "'-1'",     "'x y'",
                                         "'1x'", "'[#-1]'", "1.5",   "'d.f'",  "'\"a.b\"'"};
    for (size_t p = 0; p < SL_ARRAY_SIZE(abbrev); p++) {
      E("->", docs[d], abbrev[p]);
      E("->>", docs[d], abbrev[p]);
    }
  }
  /* inputs that are not JSON text */
  static const char *const odd[] = {"NULL",
                                    "''",
                                    "' '",
                                    "'[1,]'",
                                    "'{\"a\":1,}'",
                                    "'[01]'",
                                    "'[1.]'",
                                    "'[.5]'",
                                    "'[+1]'",
                                    "'[1e]'",
                                    "'\"a\tb\"'",
                                    "'[1] x'",
                                    "'[\"\\x\"]'",
                                    "'[\"\\u12g4\"]'",
                                    "'tru'",
                                    "'nulll'",
                                    "'[1]' || char(0) || 'junk'",
                                    "x'5b315d'",
                                    "x'5b315d00ff'",
                                    "123",
                                    "1.5",
                                    "-0.0",
                                    "'\f[1]'",
                                    "'[1]\n'",
                                    "'[\"a\",\"b\"'",
                                    "'{\"a\" 1}'",
                                    "'{1:2}'",
                                    "'[1 2]'",
                                    "'[\"\\ud800\"]'",
                                    "'NaN'",
                                    "'Infinity'",
                                    "'[-]'",
                                    "'[1e+]'",
                                    "'[1E-2]'",
                                    "'[0e0]'",
                                    "'[-0.0e-0]'"};
  for (size_t i = 0; i < SL_ARRAY_SIZE(odd); i++) {
    E("json", odd[i]);
    E("json_valid", odd[i]);
    E("json_type", odd[i]);
    E("json_array_length", odd[i]);
    E("json_extract", odd[i], "'$'");
    E("json_extract", odd[i], "'$[0]'");
    E("->", odd[i], "'$'");
    E("->>", odd[i], "0");
    E("json_quote", odd[i]);
    E("json_array", odd[i]);
  }
  /* constructors */
  E("json_array", "1");
  E("json_array", "1", "2.5", "'x'", "NULL", "1e100", "-0.0", "1e400", "-1e400", "0.1");
  E("json_array", "'a\"b\\\\c'", "char(1, 8, 9, 10, 12, 13, 31, 127)", "'é€😀'");
  E("json_array", "json('[1, 2]')", "json_array(1)", "json_object('a', 1)", "'[1]'");
  E("json_array", "json_quote('x')", "json_extract('{\"a\":[1]}', '$.a')");
  E("json_array", "('{\"a\":[1]}' -> '$.a')", "('{\"a\":[1]}' ->> '$.a')");
  E("json_array", "x'00'");
  E("json_array", "1", "x'01'");
  E("json_object", NULL);
  E("json_object", "'a'", "1", "'b'", "'x'", "'c'", "NULL", "'d'", "json('{\"e\":2}')");
  E("json_object", "'a'");
  E("json_object", "1", "2");
  E("json_object", "NULL", "2");
  E("json_object", "x'61'", "2");
  E("json_object", "'a\"b'", "'c\nd'");
  E("json_object", "'a'", "1", "'a'", "2");
  E("json_object", "'a'", "x'00'");
  E("json_object", "'a'", "1.0", "'b'", "json_array()");
  E("json_quote", "1");
  E("json_quote", "1.5");
  E("json_quote", "'a\"b'");
  E("json_quote", "'[1]'");
  E("json_quote", "json('[1, 2]')");
  E("json_quote", "NULL");
  E("json_quote", "x'00'");
  E("json_quote", "1e300");
  E("json_quote", "char(0) || 'a'");
  E("json", "json_array(1, 'two')");
  E("json_extract", "json_object('a', json_array(1, 2))", "'$.a[1]'");
  E("json_type", "json_object('a', 1.0)", "'$.a'");
}

/* ---- VECTOR ---------------------------------------------------------------- */

/* Check a VECTOR function result against an expected REAL/INTEGER/NULL. */
static void expect(const char *label, int failed, const sl_value *got, const sl_value *want) {
  if (!failed && same(got, want)) {
    npass++;
    return;
  }
  char a[400], b[400];
  show(want, a, sizeof a);
  show(got, b, sizeof b);
  nfail++;
  printf("FAIL %s\n  expected: %s\n  sluice:   %s%s\n", label, a, b, failed ? " (failed)" : "");
}

static void vector_cases(void) {
  sl_value t = SL_VALUE_INIT, v = SL_VALUE_INIT, w = SL_VALUE_INIT, out = SL_VALUE_INIT,
           want = SL_VALUE_INIT, i = SL_VALUE_INIT;
  sl_buf err;
  sl_buf_init(&err);
  sl_value *argv[3];
  /* vector('[1, 2.5, -3]') */
  sl_value_set_text(&t, " [1, 2.5, -3e0] ", 16);
  argv[0] = &t;
  int failed = call_sluice("vector", 1, argv, &v, &err);
  double x3[3] = {1, 2.5, -3};
  sl_value_set_vector(&want, x3, 3);
  expect("vector(' [1, 2.5, -3e0] ')", failed, &v, &want);
  /* vector(1, 2.5, -3) */
  sl_value a1 = SL_VALUE_INIT, a2 = SL_VALUE_INIT, a3 = SL_VALUE_INIT;
  sl_value_set_int(&a1, 1);
  sl_value_set_real(&a2, 2.5);
  sl_value_set_int(&a3, -3);
  sl_value *nums[3] = {&a1, &a2, &a3};
  failed = call_sluice("vector", 3, nums, &w, &err);
  expect("vector(1, 2.5, -3)", failed, &w, &want);
  /* vector_len */
  argv[0] = &v;
  failed = call_sluice("vector_len", 1, argv, &out, &err);
  sl_value_set_int(&want, 3);
  expect("vector_len(v)", failed, &out, &want);
  /* vector_get / -> / ->> */
  static const char *const getters[] = {"vector_get", "->", "->>"};
  for (size_t g = 0; g < 3; g++)
    for (int k = -1; k <= 3; k++) {
      char label[64];
      snprintf(label, sizeof label, "%s(v, %d)", getters[g], k);
      sl_value_set_int(&i, k);
      argv[0] = &v;
      argv[1] = &i;
      failed = call_sluice(getters[g], 2, argv, &out, &err);
      if (k >= 0 && k < 3)
        sl_value_set_real(&want, x3[k]);
      else
        sl_value_set_null(&want);
      expect(label, failed, &out, &want);
    }
  /* vector_dot, vector_norm */
  argv[0] = &v;
  argv[1] = &w;
  failed = call_sluice("vector_dot", 2, argv, &out, &err);
  sl_value_set_real(&want, 1 + 6.25 + 9);
  expect("vector_dot(v, w)", failed, &out, &want);
  failed = call_sluice("vector_norm", 1, argv, &out, &err);
  sl_value_set_real(&want, sqrt(1 + 6.25 + 9));
  expect("vector_norm(v)", failed, &out, &want);
  /* errors and NULLs */
  sl_value_set_text(&t, "[1, \"x\"]", 8);
  argv[0] = &t;
  failed = call_sluice("vector", 1, argv, &out, &err);
  if (failed)
    npass++;
  else
    nfail++, printf("FAIL vector('[1, \"x\"]') should fail\n");
  sl_value_set_null(&t);
  failed = call_sluice("vector_len", 1, argv, &out, &err);
  sl_value_set_null(&want);
  expect("vector_len(NULL)", failed, &out, &want);
  sl_value_set_text(&t, "[1]", 3);
  failed = call_sluice("vector_norm", 1, argv, &out, &err);
  if (failed)
    npass++;
  else
    nfail++, printf("FAIL vector_norm('[1]') should fail\n");
  double x2[2] = {1, 2};
  sl_value_set_vector(&w, x2, 2);
  argv[0] = &v;
  argv[1] = &w;
  failed = call_sluice("vector_dot", 2, argv, &out, &err);
  if (failed)
    npass++;
  else
    nfail++, printf("FAIL vector_dot of 3 and 2 elements should fail\n");
  /* a VECTOR embedded in JSON */
  argv[0] = &v;
  failed = call_sluice("json_array", 1, argv, &out, &err);
  sl_value_set_text(&want, "[[1.0,2.5,-3.0]]", 16);
  expect("json_array(v)", failed, &out, &want);
  sl_value *all[] = {&t, &v, &w, &out, &want, &i, &a1, &a2, &a3};
  for (size_t k = 0; k < SL_ARRAY_SIZE(all); k++)
    sl_value_free(all[k]);
  sl_buf_free(&err);
}

/* ---- json_set, json_insert, json_replace, json_remove, json_patch ---------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(uint32_t n) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return (uint32_t)(rng_state % n);
}

/* A random JSON document (as SQL text, quoted) of at most depth levels, with
** few distinct keys so that paths find things, duplicates and odd spacing. */
static void rand_json(sl_buf *b, int depth) {
  static const char *const keys[] = {"a", "b", "c", "a b", "a.b", "\\u0061", "", "x\\\"y"};
  static const char *const leaves[] = {"1",    "-2",    "1.50", "0.1e3",   "true",        "false",
                                       "null", "\"s\"", "\"\"", "\"\\n\"", "\"\\u00e9\"", "1e400"};
  uint32_t r = depth > 0 ? rnd(10) : 10;
  const char *ws = rnd(4) == 0 ? " " : "";
  if (r < 4) {
    int n = (int)rnd(4);
    sl_buf_printf(b, "{%s", ws);
    for (int i = 0; i < n; i++) {
      sl_buf_printf(b, "%s\"%s\"%s:", i ? "," : "", keys[rnd(SL_ARRAY_SIZE(keys))], ws);
      rand_json(b, depth - 1);
    }
    sl_buf_printf(b, "%s}", ws);
  } else if (r < 7) {
    int n = (int)rnd(4);
    sl_buf_printf(b, "[%s", ws);
    for (int i = 0; i < n; i++) {
      if (i) sl_buf_putc(b, ',');
      rand_json(b, depth - 1);
    }
    sl_buf_printf(b, "%s]", ws);
  } else {
    sl_buf_puts(b, leaves[rnd(SL_ARRAY_SIZE(leaves))]);
  }
}

/* A random path (SQL text): steps that often exist in rand_json's documents,
** sometimes malformed. */
static void rand_path(sl_buf *b) {
  static const char *const steps[] = {
      ".a",    ".b",    ".c",   ".\"a b\"", ".\"a.b\"", ".\\u0061", "[0]", "[1]",  "[2]",  "[#]",
      "[#-1]", "[#-2]", "[00]", ".\"\"",    ".x\\\"y",  ".",        "[x]", "[#-]", ".\"a", "x"};
  if (rnd(30) == 0) {
    sl_buf_puts(b, "NULL");
    return;
  }
  sl_buf_puts(b, rnd(40) ? "'$" : "'");
  int n = (int)rnd(4);
  for (int i = 0; i < n; i++) {
    uint32_t k = rnd(SL_ARRAY_SIZE(steps));
    if (k >= 15 && rnd(4)) k = rnd(15); /* malformed steps now and then */
    sl_buf_puts(b, steps[k]);
  }
  sl_buf_putc(b, '\'');
}

/* A random value argument (SQL text). */
static void rand_value(sl_buf *b) {
  static const char *const vals[] = {
      "1",     "2.5",  "'x'",    "NULL",          "json('[1, 2]')", "json_object('k', 1)",
      "'[1]'", "-0.0", "'a\"b'", "json('\"q\"')", "1e300*1e300",    "x'00'"};
  sl_buf_puts(b, vals[rnd(rnd(8) ? SL_ARRAY_SIZE(vals) - 1 : SL_ARRAY_SIZE(vals))]);
}

/* check_expr over argument texts held in bufs. */
static void check_bufs(const char *name, sl_buf *args, int n) {
  const char *a[MAXARGS + 1];
  for (int i = 0; i < n; i++)
    a[i] = args[i].z;
  a[n] = NULL;
  check_expr(name, a);
}

static void json_edit_cases(void) {
  /* SQLite's documented examples and the corners seen while writing them */
  E("json_insert", "'[1,2,3,4]'", "'$[#]'", "99");
  E("json_insert", "'[1,[2,3],4]'", "'$[1][#]'", "99");
  E("json_set", "'{\"a\":2,\"c\":4}'", "'$.a'", "99");
  E("json_set", "'{\"a\":2,\"c\":4}'", "'$.e'", "99");
  E("json_set", "'{\"a\":2,\"c\":4}'", "'$.c'", "'[97,96]'");
  E("json_set", "'{\"a\":2,\"c\":4}'", "'$.c'", "json('[97,96]')");
  E("json_set", "'{\"a\":2,\"c\":4}'", "'$.c'", "json_array(97,96)");
  E("json_replace", "'{\"a\":2,\"c\":4}'", "'$.a'", "99");
  E("json_replace", "'{\"a\":2,\"c\":4}'", "'$.e'", "99");
  E("json_remove", "'[0,1,2,3,4]'", "'$[2]'");
  E("json_remove", "'[0,1,2,3,4]'", "'$[2]'", "'$[0]'");
  E("json_remove", "'[0,1,2,3,4]'", "'$[0]'", "'$[2]'");
  E("json_remove", "'[0,1,2,3,4]'", "'$[#-1]'", "'$[0]'");
  E("json_remove", "'{\"x\":25,\"y\":42}'");
  E("json_remove", "'{\"x\":25,\"y\":42}'", "'$.z'");
  E("json_remove", "'{\"x\":25,\"y\":42}'", "'$.y'");
  E("json_remove", "'{\"x\":25,\"y\":42}'", "'$'");
  E("json_patch", "'{\"a\":1,\"b\":2}'", "'{\"c\":3,\"d\":4}'");
  E("json_patch", "'{\"a\":[1,2],\"b\":2}'", "'{\"a\":9}'");
  E("json_patch", "'{\"a\":[1,2],\"b\":2}'", "'{\"a\":null}'");
  E("json_patch", "'{\"a\":1,\"b\":2}'", "'{\"a\":9,\"b\":null,\"c\":8}'");
  E("json_patch", "'{\"a\":{\"x\":1,\"y\":2},\"b\":3}'", "'{\"a\":{\"y\":9},\"c\":8}'");
  static const char *const none[] = {NULL};
  check_expr("json_set", none);
  check_expr("json_remove", none);
  E("json_set", "'x'", "'$'");
  E("json_set", "NULL", "'$'");
  E("json_insert", "'{}'", "'$'");
  E("json_remove", "'x'");
  E("json_remove", "NULL", "'x'");
  E("json_patch", "'x'", "NULL");
  E("json_patch", "NULL", "'x'");
  E("json_set", "'{}'", "'$'", "x'00'");
  E("json_set", "'{}'", "'$.a'", "x'00'", "'$.a'", "1");
  E("json_set", "'{\"a\":1}'", "'$.a'", "x'00'", "'$.b'", "1");
  E("json_set", "1", "'$.a'", "2");
  E("json_set", "1.5", "'$'", "2");
  E("json_set", "'{}'", "'$'", "'x'");
  E("json_set", "'{}'", "'$'", "json('\"x\"')");
  E("json_set", "'{}'", "1", "2");
  E("json_set", "'{\"a\":1}'", "' $.a'", "2");
  E("json_set", "'{}'", "'$.a\\\"b'", "2");
  E("json_set", "'{}'", "'$.\"a\\\"'", "2");
  E("json_set", "'{}'", "'$.a[0][#]'", "1");
  E("json_set", "'{}'", "'$.a.b[0]'", "1");
  E("json_set", "'{\"a\":[]}'", "'$.a[0].x'", "1");
  E("json_set", "'{\"a\":1}'", "'$'", "1", "'$.b'", "2");
  E("json_set", "'{\"a\":1}'", "'$.a'", "json('{\"x\":1}')", "'$.a.y'", "2");
  E("json_replace", "'{\"a\":{\"b\":1}}'", "'$.a'", "3", "'$.a.b'", "4");
  E("json_remove", "'{\"a\":1,\"a\":2}'", "'$.a'", "'$.a'");
  E("json_patch", "'{\"a\":1,\"a\":2}'", "'{\"a\":3}'");
  E("json_patch", "'{}'", "'{\"a\":1,\"a\":2}'");
  E("json_patch", "'{\"a\":1}'", "'{\"a\":1,\"a\":null}'");
  E("json_patch", "'{\"a\":{\"b\":1}}'", "'{\"a\":{\"b\":{\"c\":null}}}'");
  E("json_patch", "1", "2");
  /* random documents, paths and values, compared with SQLite */
  sl_buf args[MAXARGS];
  for (int i = 0; i < MAXARGS; i++)
    sl_buf_init(&args[i]);
  static const char *const edits[] = {"json_set", "json_insert", "json_replace", "json_remove"};
  for (int k = 0; k < 6000; k++) {
    for (int i = 0; i < MAXARGS; i++)
      sl_buf_reset(&args[i]);
    const char *name = edits[rnd(4)];
    sl_buf_putc(&args[0], '\'');
    rand_json(&args[0], 3);
    sl_buf_putc(&args[0], '\'');
    int n = 1;
    int pairs = 1 + (int)rnd(3);
    for (int p = 0; p < pairs; p++) {
      rand_path(&args[n++]);
      if (strcmp(name, "json_remove")) rand_value(&args[n++]);
    }
    check_bufs(name, args, n);
  }
  for (int k = 0; k < 3000; k++) {
    for (int i = 0; i < 2; i++) {
      sl_buf_reset(&args[i]);
      sl_buf_putc(&args[i], '\'');
      rand_json(&args[i], 3);
      sl_buf_putc(&args[i], '\'');
    }
    check_bufs("json_patch", args, 2);
  }
  for (int i = 0; i < MAXARGS; i++)
    sl_buf_free(&args[i]);
}

int main(int argc, char **argv) {
  if (sqlite3_open(":memory:", &db) != SQLITE_OK) return 2;
  int only_printf = argc > 1 && strcmp(argv[1], "printf") == 0;
  int only_json = argc > 1 && strcmp(argv[1], "json") == 0;
  if (!only_json) {
    printf_cases();
    printf_generated();
  }
  if (!only_printf) {
    json_cases();
    json_edit_cases();
    vector_cases();
  }
  sqlite3_close(db);
  printf("%d passed, %d failed\n", npass, nfail);
  return nfail ? 1 : 0;
}
