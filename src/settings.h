/*
** settings.h - the registry of engine settings: every name `SET name =
** value` knows, with its type, default, allowed values and a one-line doc,
** and typed reads of the values a catalog holds.
**
** Three kinds of name are accepted by SET:
**   - a registered setting (the table in settings.c): the value is checked
**     against its type and kept in a canonical form (a duration as integer
**     milliseconds, a size as bytes, a boolean as 0 or 1, an enum as its lower-case word);
**   - `<connector>.<option>` (kafka.brokers, kafka.security.protocol, ...):
**     kept as given and passed to every call of that connector as a default
**     option (plan.c); the connector checks it when a query uses it;
**   - `<prefix>.<name>` with another prefix: a setting of an extension, kept
**     as given and read by sluice_extension_setting() when a library loads.
** Anything else is an error naming the known settings (and the closest one).
**
** The values themselves live in the catalog (catalog.h), so a savepoint's
** rollback restores them; an unset setting reads as its default.
*/
#ifndef SLUICE_SETTINGS_H
#define SLUICE_SETTINGS_H

#include <stdint.h>

#include "catalog.h"

/* The registered settings, in the order of the registry (alphabetical). */
typedef enum sl_setting_id {
  SL_SET_APPLICATION_ID,
  SL_SET_BATCH_SIZE,
  SL_SET_CHECKPOINT_INTERVAL,
  SL_SET_COMMIT_INTERVAL,
  SL_SET_IDLE_TIMEOUT,
  SL_SET_INVALID_UTF8,
  SL_SET_KAFKA_BROKERS,
  SL_SET_LOAD_PATH,
  SL_SET_MAX_QUERY_MEMORY,
  SL_SET_MAX_RECORD_BYTES,
  SL_SET_MIN_SPLIT_BYTES,
  SL_SET_PARALLELISM,
  SL_SET_GUARANTEE,
  SL_SET_REPARTITION,
  SL_SET_REPARTITION_PARTITIONS,
  SL_SET_RESET_STATE,
  SL_SET_STATE_DIR,
  SL_SET_STATE_TTL,
  SL_SET_VM_TRACE,
  SL_SET_N
} sl_setting_id;

/* max_query_memory's default: 1 GiB (settings.c says why in docs/sql.md). */
#define SL_QUERY_MEMORY_DEFAULT (INT64_C(1) << 30)

/* The values of processing.guarantee, as sl_setting_int returns them. */
enum { SL_GUARANTEE_AT_LEAST_ONCE, SL_GUARANTEE_EXACTLY_ONCE };
/* The values of invalid_utf8. */
enum { SL_UTF8_REPLACE, SL_UTF8_REJECT };

/* SET name = v on c: check name and v as the header says and store the
** value (journaled by the catalog); v NULL, a NULL value or '' returns the
** setting to its default (a passthrough setting is removed).  A setting
** fixed by the command line (sl_setting_fix) cannot change.  Returns 0; -1
** when the name is refused, -2 when the value is, with err set (no position:
** the caller adds it) and c unchanged. */
int sl_setting_set(sl_catalog *c, const char *name, const sl_value *v, sl_err *err);
/* The same with the value as text (command-line options): text is read as
** the setting's type reads text ('5s', 'true', '12'). */
int sl_setting_set_text(sl_catalog *c, const char *name, const char *text, sl_err *err);
/* From now on SET id fails ("fixed by the command line"): --load-path. */
void sl_setting_fix(sl_catalog *c, sl_setting_id id);
int sl_setting_fixed(const sl_catalog *c, sl_setting_id id);

/* Typed reads; an unset setting gives its default.  sl_setting_int: an
** INT's value, a BOOL's 0 or 1, a DURATION's milliseconds, a SIZE's bytes,
** an ENUM's index in choices.  sl_setting_text: a TEXT's or PATH's value, NULL when unset
** without a default or set to '' (valid until the setting changes). */
int64_t sl_setting_int(sl_catalog *c, sl_setting_id id);
const char *sl_setting_text(sl_catalog *c, sl_setting_id id);

/* Every setting for SHOW SETTINGS: the registered ones in registry order,
** then the passthrough settings that are set, by name.  fn gets the name,
** the current value and the default as text (NULL: none) and a one-line
** description; all valid during the call only. */
typedef void (*sl_setting_row_fn)(void *ud, const char *name, const char *value, const char *dflt,
                                  const char *doc);
void sl_setting_foreach(sl_catalog *c, sl_setting_row_fn fn, void *ud);

#endif /* SLUICE_SETTINGS_H */
