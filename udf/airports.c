/*
** airports.c - an example extension that keeps state: a lookup table of
** airports read from a file when the library is loaded, shared by three
** functions and freed by their destroy callback when the engine closes.
**
**   airport_name(code)  the airport's name, or NULL for an unknown code
**   airport_lat(code)   its latitude in degrees
**   airport_lon(code)   its longitude in degrees
**
** Configuration comes from a setting made before LOAD:
**     SET airports.file = 'udf/airports.csv';
**     LOAD 'udf/libairports.so';
** The file has lines `CODE,LAT,LON,NAME` ('#' starts a comment line).  The
** table is read-only once loaded, so queries on several threads may share
** it.  Names are returned without a copy (sluice_result_static_text): they
** live as long as the table, that is as long as the extension is loaded.
*/
#define SLUICE_EXTENSION
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sluice.h>

typedef struct airport {
  char code[8]; /* upper case, NUL-terminated */
  double lat, lon;
  char *name; /* owned */
} airport;

typedef struct table {
  airport *a; /* sorted by code */
  int n;
  int refs; /* functions registered with this table as their user data */
} table;

static void table_free(table *t) {
  for (int i = 0; i < t->n; i++)
    free(t->a[i].name);
  free(t->a);
  free(t);
}

/* The destroy callback of each function: the last one frees the table. */
static void table_release(void *user) {
  table *t = user;
  if (--t->refs == 0) table_free(t);
}

static int cmp_code(const void *a, const void *b) {
  return strcmp(((const airport *)a)->code, ((const airport *)b)->code);
}

/* Read the table from path; NULL (after sluice_extension_error) on failure. */
static table *table_load(sluice_ext *ext, const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) {
    sluice_extension_error(ext, "cannot open airports.file '%s'", path);
    return NULL;
  }
  table *t = calloc(1, sizeof *t);
  if (!t) {
    sluice_extension_error(ext, "out of memory");
    fclose(f);
    return NULL;
  }
  char line[512];
  int cap = 0, lineno = 0;
  while (fgets(line, sizeof line, f)) {
    lineno++;
    line[strcspn(line, "\r\n")] = 0;
    if (!line[0] || line[0] == '#') continue;
    char code[8], name[256];
    double lat, lon;
    if (sscanf(line, "%7[^,],%lf,%lf,%255[^\n]", code, &lat, &lon, name) != 4) {
      sluice_extension_error(ext, "%s:%d: expected CODE,LAT,LON,NAME", path, lineno);
      fclose(f);
      table_free(t);
      return NULL;
    }
    if (t->n == cap) {
      airport *grown = realloc(t->a, sizeof(airport) * (size_t)(cap ? 2 * cap : 64));
      if (!grown) goto out_of_memory;
      t->a = grown;
      cap = cap ? 2 * cap : 64;
    }
    size_t n = strlen(name) + 1;
    char *copy = malloc(n);
    if (!copy) goto out_of_memory;
    airport *ap = &t->a[t->n++];
    memset(ap->code, 0, sizeof ap->code);
    for (int i = 0; code[i]; i++)
      ap->code[i] = (char)toupper((unsigned char)code[i]);
    ap->lat = lat;
    ap->lon = lon;
    ap->name = memcpy(copy, name, n);
  }
  fclose(f);
  qsort(t->a, (size_t)t->n, sizeof(airport), cmp_code);
  return t;
out_of_memory:
  sluice_extension_error(ext, "out of memory reading %s", path);
  fclose(f);
  table_free(t);
  return NULL;
}

/* The airport whose code is the argument, or NULL. */
static const airport *find(sluice_context *ctx, sluice_value *arg) {
  size_t n;
  const char *z = sluice_value_text(arg, &n);
  if (!z || n == 0 || n >= 8) return NULL;
  airport key;
  memset(key.code, 0, sizeof key.code);
  for (size_t i = 0; i < n; i++)
    key.code[i] = (char)toupper((unsigned char)z[i]);
  const table *t = sluice_user_data(ctx);
  return bsearch(&key, t->a, (size_t)t->n, sizeof(airport), cmp_code);
}

static void airport_name(sluice_context *ctx, int argc, sluice_value **argv) {
  const airport *ap = find(ctx, argv[0]);
  if (ap) sluice_result_static_text(ctx, ap->name, strlen(ap->name));
}

static void airport_lat(sluice_context *ctx, int argc, sluice_value **argv) {
  const airport *ap = find(ctx, argv[0]);
  if (ap) sluice_result_double(ctx, ap->lat);
}

static void airport_lon(sluice_context *ctx, int argc, sluice_value **argv) {
  const airport *ap = find(ctx, argv[0]);
  if (ap) sluice_result_double(ctx, ap->lon);
}

int sluice_extension_init(sluice_ext *ext, const sluice_api *api) {
  SLUICE_EXTENSION_INIT(ext, api);
  const char *path = sluice_extension_setting(ext, "airports.file");
  if (!path) {
    sluice_extension_error(ext, "SET airports.file = 'path/to/airports.csv' before LOAD");
    return 1;
  }
  table *t = table_load(ext, path);
  if (!t) return 1;
  sluice_function defs[] = {
      {.name = "airport_name", .scalar = airport_name, .doc = "airport_name(CODE): its name"},
      {.name = "airport_lat", .scalar = airport_lat, .doc = "airport_lat(CODE): its latitude"},
      {.name = "airport_lon", .scalar = airport_lon, .doc = "airport_lon(CODE): its longitude"},
  };
  for (size_t i = 0; i < sizeof defs / sizeof defs[0]; i++) {
    defs[i].nargs = 1;
    defs[i].flags = SLUICE_DETERMINISTIC;
    defs[i].user = t;
    defs[i].destroy = table_release;
    if (sluice_create_function(ext, &defs[i])) {
      /* Functions already registered release the table when the failed
      ** load is undone; with none, it is ours to free. */
      if (!t->refs) table_free(t);
      return 1;
    }
    t->refs++;
  }
  return 0;
}
