/*
** extension.c - loading extensions of C functions (extension.h) and the
** registration half of the public API (sluice_create_function and friends).
**
** Loading: resolve the path (load_path), dlopen it with every symbol bound
** now (a library compiled without SLUICE_EXTENSION fails here, clearly),
** find sluice_extension_init, and call it with the engine's table of
** functions (sluice_api).  The entry point first declares the API version
** it was built for; every sluice_function it registers is then read with
** that version's layout, so an extension built against an older sluice.h
** keeps loading.  Registered functions are collected and only enter the
** catalog's function table when the entry point succeeds: a failed LOAD
** changes nothing.
**
** Each registered function becomes an sl_func owned by its extension: the
** definition's callbacks are stored as they are (a sluice_context is an
** sl_fctx and a sluice_value an sl_value), so a C function is called
** exactly like a built-in, with no wrapper in between.
*/
#include "extension.h"

#include <ctype.h>
#include <dlfcn.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "engine_int.h"

/* A function an extension registered: its descriptor and what it owns. */
typedef struct ext_func {
  sl_func f;                   /* the descriptor in the function table (first: see ext_of) */
  char *name, *doc;            /* owned copies of the definition's strings */
  void (*destroy)(void *user); /* the definition's destroy, run when the catalog is freed */
  /* the definition's checkpoint callbacks (version 3), or NULL */
  size_t (*save)(void *user, const void *state, void *out, size_t cap);
  int (*load)(void *user, void *state, const void *bytes, size_t n);
} ext_func;

/* The ext_func whose descriptor f is. */
static const ext_func *ext_of(const sl_func *f) {
  return (const ext_func *)f;
}

/* sl_func.xSave of an extension's aggregate: its save into the buffer's
** free room, again with the room it asked for when that was too little. */
static void ext_save(const sl_func *f, const void *state, sl_buf *out) {
  const ext_func *ef = ext_of(f);
  size_t room = out->cap > out->n + 1 ? out->cap - out->n - 1 : 0; /* the NUL stays */
  size_t need = ef->save(f->user, state, room ? out->z + out->n : NULL, room);
  if (need > room) {
    sl_buf_reserve(out, need);
    room = out->cap - out->n - 1;
    need = ef->save(f->user, state, out->z + out->n, room);
    if (need > room) need = room; /* it asked for more again: what fits */
  }
  out->n += need;
  if (out->z) out->z[out->n] = 0;
}

/* sl_func.xLoad of an extension's aggregate. */
static int ext_load(const sl_func *f, void *state, const void *z, size_t n) {
  const ext_func *ef = ext_of(f);
  return ef->load(f->user, state, z, n) == 0 ? 0 : -1;
}

struct sluice_ext {
  char *name;       /* the path as given to LOAD, or the name of a linked-in extension */
  void *lib;        /* the dlopen handle, or NULL */
  int version;      /* the API version it declared; 0 until it does */
  sl_catalog *cat;  /* where its functions go */
  ext_func **funcs; /* what it registered, owned */
  int nfunc;
  int failed;       /* sluice_extension_error was called */
  sl_buf err;       /* its message */
  sl_arena scratch; /* setting texts handed out during the entry point */
  struct sluice_ext *next;
};

/* ---- the registration API -------------------------------------------------- */

void sluice_extension_error(sluice_ext *x, const char *fmt, ...) {
  if (x->failed) return; /* the first error is the one to report */
  x->failed = 1;
  va_list ap;
  va_start(ap, fmt);
  sl_buf_vprintf(&x->err, fmt, ap);
  va_end(ap);
}

int sluice_extension_declare(sluice_ext *x, int api_version) {
  if (api_version > SLUICE_API_VERSION) {
    sluice_extension_error(x,
                           "it was built for the sluice extension API version %d; this sluice "
                           "provides versions 1 to %d (rebuild it against this sluice's sluice.h)",
                           api_version, SLUICE_API_VERSION);
    return -1;
  }
  if (api_version < 1) {
    sluice_extension_error(x, "it declares the extension API version %d, which does not exist",
                           api_version);
    return -1;
  }
  x->version = api_version;
  return 0;
}

const char *sluice_extension_setting(sluice_ext *x, const char *name) {
  const sl_value *v = sl_catalog_get(x->cat, name);
  if (!v || v->type == SL_NULL) return NULL;
  sl_value tmp = SL_VALUE_INIT;
  sl_value_copy(&tmp, v);
  size_t n;
  const char *z = sl_value_text(&tmp, &n);
  char *copy = sl_arena_strndup(&x->scratch, z, n);
  sl_value_free(&tmp);
  return copy;
}

/* Bytes of a sluice_function in the layout of API version v. */
static size_t def_size(int v) {
  return v >= 3   ? sizeof(sluice_function)
         : v == 2 ? offsetof(sluice_function, save)
                  : offsetof(sluice_function, batch);
}

/* Why d (of an extension built for API version v) cannot be registered,
** or NULL. */
static const char *check_def(const sluice_function *d, int v) {
  if (!d->name || !(isalpha((unsigned char)d->name[0]) || d->name[0] == '_'))
    return "the name must start with a letter or '_'";
  for (const char *p = d->name; *p; p++)
    if (!isalnum((unsigned char)*p) && *p != '_')
      return "the name may only have letters, digits and '_'";
  if (strlen(d->name) > 64) return "the name is longer than 64 characters";
  if (d->nargs < -1 || d->nargs > 127) return "nargs must be -1 (any) or 0 to 127";
  unsigned known = SLUICE_DETERMINISTIC | (v >= 3 ? SLUICE_PLAIN_STATE : 0u);
  if (d->flags & ~known) return "unknown flags";
  int agg = d->step || d->final || d->inverse || d->value || d->state_size;
  int scalar = d->scalar || d->batch;
  if (agg && scalar) return "it sets both scalar and aggregate callbacks";
  if (!agg && !scalar) return "it sets neither scalar (or batch) nor step and final";
  if (agg && (!d->step || !d->final)) return "an aggregate needs step and final";
  if (d->state_size > (1u << 20)) return "state_size is larger than 1 MiB";
  if (!d->save != !d->load) return "it sets one of save and load, not both";
  if (d->save && !agg) return "save and load are for aggregates";
  if (d->save && (d->flags & SLUICE_PLAIN_STATE))
    return "SLUICE_PLAIN_STATE and save/load exclude each other";
  if ((d->flags & SLUICE_PLAIN_STATE) && !agg) return "SLUICE_PLAIN_STATE is for aggregates";
  return NULL;
}

int sluice_create_function(sluice_ext *x, const sluice_function *def) {
  if (!x->version) {
    sluice_extension_error(x, "sluice_create_function() before SLUICE_EXTENSION_INIT");
    return -1;
  }
  sluice_function d;
  memset(&d, 0, sizeof d);
  memcpy(&d, def, def_size(x->version));
  const char *why = check_def(&d, x->version);
  if (why) {
    sluice_extension_error(x, "function %s: %s", d.name ? d.name : "(no name)", why);
    return -1;
  }
  ext_func *ef = sl_calloc(1, sizeof *ef);
  ef->name = sl_strdup(d.name);
  for (char *p = ef->name; *p; p++)
    *p = (char)tolower((unsigned char)*p);
  ef->doc = d.doc ? sl_strdup(d.doc) : NULL;
  ef->destroy = d.destroy;
  int agg = d.step != NULL;
  sl_func *f = &ef->f;
  f->name = ef->name;
  f->nargs = d.nargs;
  f->flags = (d.flags & SLUICE_DETERMINISTIC ? SL_FUNC_DETERMINISTIC : 0u) |
             (d.flags & SLUICE_PLAIN_STATE ? SL_FUNC_PLAINSTATE : 0u) |
             (agg ? SL_FUNC_AGGREGATE : 0u);
  f->user = d.user;
  f->xFunc = d.scalar;
  f->xStep = d.step;
  f->xInverse = d.inverse;
  f->xValue = d.value;
  f->xFinal = d.final;
  f->state_size = d.state_size;
  f->doc = ef->doc;
  f->xBatch = d.batch;
  if (d.save) {
    ef->save = d.save;
    ef->load = d.load;
    f->xSave = ext_save;
    f->xLoad = ext_load;
  }
  x->funcs = sl_realloc(x->funcs, sizeof(*x->funcs) * (size_t)(x->nfunc + 1));
  x->funcs[x->nfunc++] = ef;
  return 0;
}

/* The table an extension calls through (sluice.h: entries only appended). */
static const sluice_api api = {
    SLUICE_API_VERSION,       sluice_extension_declare,   sluice_extension_error,
    sluice_extension_setting, sluice_create_function,     sluice_value_type,
    sluice_value_int64,       sluice_value_double,        sluice_value_text,
    sluice_value_blob,        sluice_value_vector,        sluice_user_data,
    sluice_aggregate_state,   sluice_result_null,         sluice_result_int64,
    sluice_result_double,     sluice_result_text,         sluice_result_static_text,
    sluice_result_blob,       sluice_result_vector,       sluice_result_value,
    sluice_result_error,      sluice_batch_double,        sluice_batch_int64,
    sluice_batch_value,       sluice_batch_result_double, sluice_batch_result_int64,
    sluice_batch_row,
};

/* ---- life cycle ------------------------------------------------------------------ */

static sluice_ext *ext_new(sl_catalog *cat, const char *name, void *lib) {
  sluice_ext *x = sl_calloc(1, sizeof *x);
  x->name = sl_strdup(name);
  x->lib = lib;
  x->cat = cat;
  sl_buf_init(&x->err);
  sl_arena_init(&x->scratch);
  return x;
}

/* Free x: its functions' destroy callbacks (run), descriptors, library. */
static void ext_free(sluice_ext *x) {
  for (int i = 0; i < x->nfunc; i++) {
    ext_func *ef = x->funcs[i];
    if (ef->destroy) ef->destroy(ef->f.user);
    free(ef->name);
    free(ef->doc);
    free(ef);
  }
  free(x->funcs);
  if (x->lib) dlclose(x->lib);
  sl_buf_free(&x->err);
  sl_arena_free(&x->scratch);
  free(x->name);
  free(x);
}

void sl_ext_free_all(sluice_ext *list) {
  while (list) {
    sluice_ext *next = list->next;
    ext_free(list);
    list = next;
  }
}

/* Run x's entry point; on success its functions enter the catalog and x
** joins its list, else x is freed.  Returns 0 or -1 with err set. */
static int ext_run(sluice_ext *x, sluice_extension_init_fn init, sl_err *err) {
  int rc = init(x, &api);
  if (!rc && x->failed) rc = -1;
  if (!rc && !x->version) {
    sluice_extension_error(x, "it did not declare its API version (start "
                              "sluice_extension_init with SLUICE_EXTENSION_INIT)");
    rc = -1;
  }
  if (rc) {
    if (x->failed)
      sl_err_set(err, SL_EBIND, "LOAD '%s': %s", x->name, x->err.z);
    else
      sl_err_set(err, SL_EBIND, "LOAD '%s': its sluice_extension_init failed (returned %d)",
                 x->name, rc);
    ext_free(x);
    return -1;
  }
  sl_arena_reset(&x->scratch);
  /* x joins the list before its functions enter the table, so that a
  ** rollback (undoing in reverse) takes them out before it frees x */
  x->next = x->cat->exts;
  x->cat->exts = x;
  sl_catalog_note_ext(x->cat, x);
  for (int i = 0; i < x->nfunc; i++)
    sl_catalog_add_func(x->cat, &x->funcs[i]->f);
  return 0;
}

void sl_ext_unload(sl_catalog *cat, sluice_ext *x) {
  for (sluice_ext **pp = &cat->exts; *pp; pp = &(*pp)->next)
    if (*pp == x) {
      *pp = x->next;
      break;
    }
  ext_free(x);
}

int sl_ext_register(sl_catalog *cat, const char *name, sluice_extension_init_fn init, sl_err *err) {
  return ext_run(ext_new(cat, name, NULL), init, err);
}

/* ---- LOAD ---------------------------------------------------------------------------- */

/* The file LOAD 'path' names (owned), checked against the directories of
** load_path (a ':'-separated list; unset or empty: anything loads).  NULL
** with err set when there is no such file or it is not allowed. */
static char *resolve(sl_catalog *cat, const char *path, sl_err *err) {
  const char *dirs = sl_setting_text(cat, SL_SET_LOAD_PATH);
  char *file = NULL;
  int bare = strchr(path, '/') == NULL;
  /* A bare name is looked for in each directory of load_path, in order. */
  for (const char *d = dirs; bare && d && !file;) {
    const char *end = strchr(d, ':');
    size_t n = end ? (size_t)(end - d) : strlen(d);
    char *cand = sl_mprintf("%.*s/%s", (int)n, d, path);
    if (n && access(cand, F_OK) == 0)
      file = cand;
    else
      free(cand);
    d = end ? end + 1 : NULL;
  }
  if (!file) file = bare ? sl_mprintf("./%s", path) : sl_strdup(path);
  char *real = realpath(file, NULL);
  if (!real) {
    sl_err_set(err, SL_EIO, "LOAD '%s': no such file%s%s%s", path, dirs && bare ? " in " : "",
               dirs && bare ? "load_path " : "", dirs && bare ? dirs : "");
    free(file);
    return NULL;
  }
  if (dirs) {
    int ok = 0;
    for (const char *d = dirs; d && !ok;) {
      const char *end = strchr(d, ':');
      char *dir = end ? sl_strndup(d, (size_t)(end - d)) : sl_strdup(d);
      ok = *dir && sl_path_inside(real, dir);
      free(dir);
      d = end ? end + 1 : NULL;
    }
    if (!ok) {
      sl_err_set(err, SL_EAUTH, "not authorized: LOAD '%s': not in a directory of load_path ('%s')",
                 path, dirs);
      free(real);
      real = NULL;
    }
  }
  free(file);
  return real; /* the real path: what was checked is what gets loaded */
}

int sl_ext_load(sl_catalog *cat, const char *path, sl_err *err) {
  char *file = resolve(cat, path, err);
  if (!file) return -1;
  dlerror();
  void *lib = dlopen(file, RTLD_NOW | RTLD_LOCAL);
  free(file);
  if (!lib) {
    const char *why = dlerror();
    sl_err_set(err, SL_EBIND, "LOAD '%s': not a loadable shared library (%s)%s", path,
               why ? why : "dlopen failed",
               why && strstr(why, "undefined symbol: sluice_")
                   ? "; an extension must #define SLUICE_EXTENSION before including sluice.h"
                   : "");
    return -1;
  }
  for (sluice_ext *x = cat->exts; x; x = x->next)
    if (x->lib == lib) { /* already loaded: dlopen only counted one more reference */
      dlclose(lib);
      return 0;
    }
  void *sym = dlsym(lib, "sluice_extension_init");
  if (!sym) {
    dlclose(lib);
    sl_err_set(err, SL_EBIND,
               "LOAD '%s': not a sluice extension (it has no sluice_extension_init function)",
               path);
    return -1;
  }
  sluice_extension_init_fn init;
  memcpy(&init, &sym, sizeof init); /* a data pointer from dlsym to a function pointer */
  return ext_run(ext_new(cat, path, lib), init, err);
}

/* ---- the embedding API ------------------------------------------------------------ */

/* 0, or -1 with the message of err moved to *errmsg (when errmsg is set). */
static int report(int rc, sl_err *err, char **errmsg) {
  if (errmsg) *errmsg = rc ? sl_strdup(err->msg ? err->msg : "error") : NULL;
  sl_err_clear(err);
  return rc;
}

int sluice_load_extension(sluice *db, const char *path, char **errmsg) {
  sl_err err = {0};
  return report(sl_ext_load(&db->cat, path, &err), &err, errmsg);
}

int sluice_register_extension(sluice *db, const char *name, sluice_extension_init_fn init,
                              char **errmsg) {
  sl_err err = {0};
  return report(sl_ext_register(&db->cat, name, init, &err), &err, errmsg);
}
