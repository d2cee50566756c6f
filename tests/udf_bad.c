/*
** udf_bad.c - libraries that LOAD must refuse with a clear message, one per
** macro (tests/udf.sh):
**   BAD_FUTURE  built for a newer extension API version than this sluice's
**   BAD_FAIL    registers a function, then fails: nothing may be kept
**   BAD_NODECL  returns success without declaring its API version
**   BAD_NOINIT  a shared library without sluice_extension_init
**   BAD_NOEXT   calls sluice_create_function without SLUICE_EXTENSION
**   BAD_DEF     a definition with both scalar and aggregate callbacks
**   BAD_SAVE    an aggregate with save but no load
**   BAD_PLAIN2  SLUICE_PLAIN_STATE in an extension built for version 2,
**               which has no such flag
*/
#ifdef BAD_FUTURE
#define SLUICE_USE_API_VERSION 99
#endif
#ifdef BAD_PLAIN2
#define SLUICE_USE_API_VERSION 2
#endif
#ifndef BAD_NOEXT
#define SLUICE_EXTENSION
#endif
#include <sluice.h>

#ifdef BAD_NOINIT
int not_an_extension(void) {
  return 42;
}
#elif defined BAD_NODECL
int sluice_extension_init(sluice_ext *ext, const sluice_api *api) {
  return 0;
}
#else
static void one(sluice_context *ctx, int argc, sluice_value **argv) {
  sluice_result_int64(ctx, 1);
}

#ifdef BAD_SAVE
static size_t save_nothing(void *user, const void *state, void *out, size_t cap) {
  return 0;
}
#endif
#if defined BAD_SAVE || defined BAD_PLAIN2
static void none(sluice_context *ctx) {}
#endif

int sluice_extension_init(sluice_ext *ext, const sluice_api *api) {
  SLUICE_EXTENSION_INIT(ext, api);
  sluice_function def = {.name = "bad_fn", .nargs = 0, .scalar = one};
#ifdef BAD_DEF
  def.step = one;
#endif
#if defined BAD_SAVE || defined BAD_PLAIN2 /* an aggregate */
  def.scalar = NULL;
  def.step = one;
  def.final = none;
  def.state_size = 8;
#endif
#ifdef BAD_SAVE
  def.save = save_nothing;
#endif
#ifdef BAD_PLAIN2
  def.flags = 0x02; /* SLUICE_PLAIN_STATE of version 3 */
#endif
  if (sluice_create_function(ext, &def)) return 1;
#ifdef BAD_FAIL
  sluice_extension_error(ext, "deliberate failure after registering bad_fn");
  return 1;
#endif
  return 0;
}
#endif
