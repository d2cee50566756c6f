/*
** checkpoint.h - checkpointed state: the store (one SQLite database in the
** state directory) and the byte encoding operators and sources write their
** state in.
**
** A task checkpoints at a barrier between batches, when everything it has
** pushed has been written and flushed by the sinks: its source's position
** and the state of every operator of the queries it feeds go into one SQLite
** transaction, so a checkpoint is there whole or not at all.  Rows are keyed
** by (owner, key): the owner is a task or query id ("q1", a stream name),
** the key the part ("source", "op2"); each row carries the fingerprint of
** what wrote it (the statement text), so a changed query is refused instead
** of fed state it does not understand.
**
** Threads: tasks share one store; its calls are serialised by a mutex.
*/
#ifndef SLUICE_CHECKPOINT_H
#define SLUICE_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"
#include "value.h"

typedef struct sl_ckpt sl_ckpt;

/* Open (creating) DIR/sluice-state.db and its record DIR/sluice-state.id;
** reset first removes both (whatever they hold, even when corrupt).  NULL
** with err set, naming what was found with --reset-state as the way out:
** a corrupt database; one missing or empty, or holding fewer checkpoints
** than the record says were committed (a lost write-ahead log), or with
** another id; a damaged record.  A database without a record (a new
** directory, or one an older sluice wrote) gets one. */
sl_ckpt *sl_ckpt_open(const char *dir, int reset, sl_err *err);
void sl_ckpt_close(sl_ckpt *c);

const char *sl_ckpt_path(const sl_ckpt *c);
/* The store's id: 16 hex digits made when the store was created, the same
** for every run that resumes it. */
const char *sl_ckpt_id(const sl_ckpt *c);

/* One checkpoint: begin, put every part, commit (or abort).  The store is
** locked from begin to commit/abort.  Commit makes the transaction durable,
** then rewrites the record with the new count; -1 with err set when either
** fails (the checkpoint is in the database if only the record failed, and
** a restart uses it). */
int sl_ckpt_begin(sl_ckpt *c, sl_err *err);
int sl_ckpt_put(sl_ckpt *c, const char *owner, const char *key, const char *fingerprint,
                const void *data, size_t n, sl_err *err);
int sl_ckpt_commit(sl_ckpt *c, sl_err *err);
void sl_ckpt_abort(sl_ckpt *c);

/* The last checkpointed bytes of (owner, key) into out (reset first).
** Returns 1 when found, 0 when there is none, -1 with err set when the
** fingerprint differs (a changed query) or the store fails. */
int sl_ckpt_get(sl_ckpt *c, const char *owner, const char *key, const char *fingerprint,
                sl_buf *out, sl_err *err);

/* A fingerprint of statement text: its tokens' text with whitespace and
** comments normalised away, hashed (16 hex digits).  out holds 17 bytes. */
void sl_ckpt_fingerprint(const char *sql, size_t n, char out[17]);

/* ---- encoding: little-endian fixed-size numbers, length-prefixed bytes -- */
void sl_ck_i64(sl_buf *b, int64_t v);
void sl_ck_f64(sl_buf *b, double v);
void sl_ck_bytes(sl_buf *b, const void *z, size_t n);
void sl_ck_value(sl_buf *b, const sl_value *v); /* type tag, then the payload */
/* Length-prefixed bytes written in place: sl_ck_open reserves the length
** and returns where; sl_ck_close fills it in with what was appended since
** (read back with sl_ckr_bytes). */
size_t sl_ck_open(sl_buf *b);
void sl_ck_close(sl_buf *b, size_t at);

/* A reader over encoded bytes; any overrun sets bad (values read then are 0). */
typedef struct sl_ckrd {
  const unsigned char *p, *end;
  int bad;
} sl_ckrd;

static inline void sl_ckrd_init(sl_ckrd *r, const void *z, size_t n) {
  r->p = z;
  r->end = r->p + n;
  r->bad = 0;
}
int64_t sl_ckr_i64(sl_ckrd *r);
double sl_ckr_f64(sl_ckrd *r);
/* Bytes in place (valid as long as the buffer read); *n gets the length. */
const void *sl_ckr_bytes(sl_ckrd *r, size_t *n);
/* A value into out (which then owns its bytes). */
void sl_ckr_value(sl_ckrd *r, sl_value *out);

#endif /* SLUICE_CHECKPOINT_H */
