/*
** extension.h - C functions from shared libraries: `LOAD 'lib.so'`,
** `--load`, and extensions linked into an embedding program.
**
** An extension's entry point (sluice_extension_init, see sluice.h) declares
** the API version it was built for and registers functions; each becomes an
** sl_func in the catalog's function table, like every built-in.  The
** catalog owns the loaded extensions (their descriptors and libraries) for
** its whole life: a function replaced by a later LOAD stays valid for the
** queries already planned with it, and destroy callbacks run only when the
** catalog is freed - or when the catalog's savepoint rolls back the LOAD
** (catalog.h), which takes the functions out of the table again, puts back
** those they replaced, and unloads the library.
*/
#ifndef SLUICE_EXTENSION_H
#define SLUICE_EXTENSION_H

#include "catalog.h"
#include "sluice.h"

/* Load the shared library LOAD 'path' names into cat.  A path without '/'
** is looked up in the directories of the load_path setting (or the current
** directory); when load_path is set the file must lie inside one of them.
** Loading a library that is already loaded does nothing.  Returns 0, or -1
** with err set (and cat unchanged). */
int sl_ext_load(sl_catalog *cat, const char *path, sl_err *err);
/* Run the entry point of an extension linked into the program, named name
** in messages.  Returns 0 or -1 with err set. */
int sl_ext_register(sl_catalog *cat, const char *name, sluice_extension_init_fn init, sl_err *err);
/* Free a catalog's extensions, after its function table: run the destroy
** callbacks, free the descriptors, close the libraries. */
void sl_ext_free_all(struct sluice_ext *list);
/* Take x out of cat's extensions and free it as sl_ext_free_all does (the
** rollback of the LOAD that brought it; its functions must already be out
** of the function table and in no planned query). */
void sl_ext_unload(sl_catalog *cat, struct sluice_ext *x);

#endif /* SLUICE_EXTENSION_H */
