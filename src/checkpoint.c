/*
** checkpoint.c - the checkpoint store on SQLite and the state encoding (see
** checkpoint.h for the contracts).
**
** Schema (one database per state directory, DIR/sluice-state.db):
**   meta(k PRIMARY KEY, v)      'format' version, the store's 'id' (16 hex
**                               digits) and 'generation' (checkpoints committed)
**   state(owner, key, fingerprint, written_ms, data, PRIMARY KEY(owner, key))
** WAL journal with synchronous=FULL: a committed checkpoint survives the
** process being killed (kill -9) and the machine losing power.
**
** What SQLite cannot see is a database that lost what it had: the file
** deleted or cut to nothing opens as a new, empty database, and a WAL
** deleted or overwritten drops the checkpoints it held, silently (a restart
** would start afresh, and a Kafka sink emit everything again).  So the
** directory also holds DIR/sluice-state.id, one line "sluice-state ID
** GENERATION", rewritten (to a temporary file, fsynced, renamed over) after
** every commit.  The database is made durable first, so the line is never
** ahead of it: at open, a database that is missing or empty while the line
** is there, has another id, or a generation below the line's, is an error
** naming what was found, never a fresh start.
*/
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "checkpoint.h"

#define STATE_FORMAT 1

struct sl_ckpt {
  sqlite3 *db;
  sqlite3_stmt *put, *get, *bump;
  pthread_mutex_t mu; /* held from begin to commit/abort; error-checking in debug builds */
  char *path;         /* DIR/sluice-state.db */
  char *marker;       /* DIR/sluice-state.id */
  char id[17];        /* the store's id, 16 hex digits */
  int64_t generation; /* checkpoints committed (the database's meta row; written under mu) */
  int in_txn;         /* between begin and commit/abort (written under mu) */
};

/* Lock / unlock the store.  Debug builds use an error-checking mutex, so a
** thread that locks it twice (sl_ckpt_get or begin inside its own
** checkpoint) or unlocks it without holding it fails an assertion instead of
** waiting forever or corrupting the lock. */
static void store_lock(sl_ckpt *c) {
  int rc = pthread_mutex_lock(&c->mu);
  SL_ASSERT(rc == 0);
}

static void store_unlock(sl_ckpt *c) {
  int rc = pthread_mutex_unlock(&c->mu);
  SL_ASSERT(rc == 0);
}

static int db_error(sl_ckpt *c, sl_err *err, const char *what) {
  sl_err_set(err, SL_EIO, "state %s: %s: %s", c->path, what, sqlite3_errmsg(c->db));
  return -1;
}

static int exec(sl_ckpt *c, const char *sql, sl_err *err) {
  if (sqlite3_exec(c->db, sql, NULL, NULL, NULL) == SQLITE_OK) return 0;
  return db_error(c, err, sql);
}

/* ---- the store's record (DIR/sluice-state.id) ------------------------------- */

/* Read the record at c->marker into id (17 bytes) and *gen.  1 when read, 0
** when there is none, -1 with err set when it cannot be read or parsed. */
static int marker_read(const sl_ckpt *c, char *id, int64_t *gen, sl_err *err) {
  FILE *f = fopen(c->marker, "r");
  if (!f) {
    if (errno == ENOENT) return 0;
    sl_err_set(err, SL_EIO, "state %s: %s", c->marker, strerror(errno));
    return -1;
  }
  char line[80], rest[2];
  long long g = -1;
  int ok = fgets(line, sizeof line, f) &&
           sscanf(line, "sluice-state %16[0-9a-f] %lld%1s", id, &g, rest) == 2 &&
           strlen(id) == 16 && g >= 0;
  fclose(f);
  if (!ok) {
    sl_err_set(err, SL_EIO,
               "state %s is damaged: it cannot tell whether %s holds the last checkpoint "
               "(remove the file to trust the database as it is, or --reset-state to start "
               "afresh)",
               c->marker, c->path);
    return -1;
  }
  *gen = g;
  return 1;
}

/* Write the record of c (id, generation): a temporary file, fsynced, then
** renamed over the old one, so a crash leaves the old line or the new one.
** 0, or -1 with err set. */
static int marker_write(const sl_ckpt *c, sl_err *err) {
  sl_buf tmp = {0};
  sl_buf_printf(&tmp, "%s.tmp", c->marker);
  char line[64];
  int n = snprintf(line, sizeof line, "sluice-state %s %lld\n", c->id, (long long)c->generation);
  int fd = open(tmp.z, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int ok = fd >= 0;
  for (ssize_t w = 0, done = 0; ok && done < n; done += w) {
    w = write(fd, line + done, (size_t)(n - done));
    if (w < 0 && errno == EINTR)
      w = 0;
    else if (w < 0)
      ok = 0;
  }
  ok = ok && fsync(fd) == 0;
  int e = errno;
  if (fd >= 0 && close(fd) != 0 && ok) ok = 0, e = errno;
  if (ok && rename(tmp.z, c->marker) != 0) ok = 0, e = errno;
  if (!ok) {
    sl_err_set(err, SL_EIO, "state %s: %s", c->marker, strerror(e));
    unlink(tmp.z);
  }
  sl_buf_free(&tmp);
  return ok ? 0 : -1;
}

/* The meta value of k as text into out (17 bytes, "" when absent) and as
** a number (-1 when absent). */
static int64_t meta_get(sl_ckpt *c, const char *k, char *out) {
  sqlite3_stmt *st;
  int64_t v = -1;
  if (out) out[0] = 0;
  if (sqlite3_prepare_v2(c->db, "SELECT v FROM meta WHERE k = ?1", -1, &st, NULL) != SQLITE_OK)
    return -1;
  sqlite3_bind_text(st, 1, k, -1, SQLITE_STATIC);
  if (sqlite3_step(st) == SQLITE_ROW) {
    v = sqlite3_column_type(st, 0) == SQLITE_INTEGER ? sqlite3_column_int64(st, 0) : -1;
    const char *z = (const char *)sqlite3_column_text(st, 0);
    if (out && z) snprintf(out, 17, "%s", z);
  }
  sqlite3_finalize(st);
  return v;
}

/* Check the database just opened against the record of the store, or
** make them (a new store, or one written before the record existed).  had
** is 1 when the record was read (id, gen), 0 when there is none.  0, or -1
** with err set. */
static int match_record(sl_ckpt *c, int had, const char *id, int64_t gen, sl_err *err) {
  c->generation = meta_get(c, "generation", NULL);
  meta_get(c, "id", c->id);
  if (had) {
    if (strcmp(c->id, id) != 0) {
      sl_err_set(err, SL_EIO,
                 "state %s is not the database of this state directory (%s%s, %s names %s): "
                 "--reset-state starts afresh",
                 c->path, c->id[0] ? "its id is " : "it has no id", c->id, c->marker, id);
      return -1;
    }
    if (c->generation < gen) {
      sl_err_set(err, SL_EIO,
                 "state %s holds %lld checkpoints, but %lld were committed (%s): the last "
                 "ones are lost, its write-ahead log %s-wal deleted or damaged; --reset-state "
                 "starts afresh",
                 c->path, (long long)(c->generation < 0 ? 0 : c->generation), (long long)gen,
                 c->marker, c->path);
      return -1;
    }
    return 0;
  }
  if (strlen(c->id) != 16 || c->generation < 0) { /* a new store */
    unsigned char r[8];
    sqlite3_randomness(sizeof r, r);
    for (int i = 0; i < 8; i++)
      snprintf(c->id + 2 * i, 3, "%02x", r[i]);
    if (c->generation < 0) c->generation = 0;
    char sql[160];
    snprintf(sql, sizeof sql,
             "INSERT OR REPLACE INTO meta VALUES('id', '%s');"
             "INSERT OR REPLACE INTO meta VALUES('generation', %lld)",
             c->id, (long long)c->generation);
    if (exec(c, sql, err)) return -1;
  }
  return marker_write(c, err);
}

sl_ckpt *sl_ckpt_open(const char *dir, int reset, sl_err *err) {
  if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
    sl_err_set(err, SL_EIO, "state directory %s: %s", dir, strerror(errno));
    return NULL;
  }
  sl_ckpt *c = sl_calloc(1, sizeof *c);
  sl_buf p = {0};
  sl_buf_printf(&p, "%s/sluice-state.db", dir);
  c->path = sl_strndup(p.z, p.n);
  sl_buf_reset(&p);
  sl_buf_printf(&p, "%s/sluice-state.id", dir);
  c->marker = sl_strndup(p.z, p.n);
  sl_buf_free(&p);
#ifdef SL_DEBUG
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ERRORCHECK);
  pthread_mutex_init(&c->mu, &attr);
  pthread_mutexattr_destroy(&attr);
#else
  pthread_mutex_init(&c->mu, NULL);
#endif
  if (reset) { /* start afresh: the database, its WAL, then the record go, corrupt or not */
    static const char *const ext[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 4; i++) {
      sl_buf f = {0};
      sl_buf_printf(&f, "%s%s", i < 3 ? c->path : c->marker, i < 3 ? ext[i] : "");
      if (unlink(f.z) != 0 && errno != ENOENT) {
        sl_err_set(err, SL_EIO, "--reset-state: cannot remove %s: %s", f.z, strerror(errno));
        sl_buf_free(&f);
        goto fail;
      }
      sl_buf_free(&f);
    }
  }
  char id[17] = "";
  int64_t gen = 0;
  int had = marker_read(c, id, &gen, err);
  if (had < 0) goto fail;
  struct stat sb;
  int missing = stat(c->path, &sb) != 0;
  if (had && (missing || sb.st_size == 0)) {
    sl_err_set(err, SL_EIO,
               "state %s is %s, but %s says %lld checkpoints were committed: the state is "
               "lost; --reset-state starts afresh",
               c->path, missing ? "missing" : "empty", c->marker, (long long)gen);
    goto fail;
  }
  if (sqlite3_open_v2(c->path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
      SQLITE_OK) {
    db_error(c, err, "cannot open");
    goto fail;
  }
  sqlite3_busy_timeout(c->db, 5000);
  /* A file that is not a database fails the first statement that reads it. */
  int ok = sqlite3_exec(c->db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL) == SQLITE_OK &&
           sqlite3_exec(c->db, "PRAGMA synchronous=FULL", NULL, NULL, NULL) == SQLITE_OK &&
           sqlite3_exec(c->db,
                        "CREATE TABLE IF NOT EXISTS meta(k TEXT PRIMARY KEY, v);"
                        "CREATE TABLE IF NOT EXISTS state(owner TEXT, key TEXT, fingerprint "
                        "TEXT, written_ms INTEGER, data BLOB, PRIMARY KEY(owner, key));",
                        NULL, NULL, NULL) == SQLITE_OK;
  if (!ok) {
    int code = sqlite3_errcode(c->db);
    sl_err_set(err, SL_EIO, "state %s: %s%s", c->path, sqlite3_errmsg(c->db),
               code == SQLITE_NOTADB || code == SQLITE_CORRUPT
                   ? " (the checkpoint database is corrupt: --reset-state starts afresh)"
                   : "");
    goto fail;
  }
  sqlite3_stmt *st;
  int version = -1;
  if (sqlite3_prepare_v2(c->db, "SELECT v FROM meta WHERE k = 'format'", -1, &st, NULL) ==
      SQLITE_OK) {
    if (sqlite3_step(st) == SQLITE_ROW) version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
  }
  if (version < 0 && exec(c, "INSERT OR REPLACE INTO meta VALUES('format', 1)", err)) goto fail;
  if (version > STATE_FORMAT) {
    sl_err_set(err, SL_EIO, "state %s: format %d is newer than this sluice reads (%d)", c->path,
               version, STATE_FORMAT);
    goto fail;
  }
  if (match_record(c, had, id, gen, err)) goto fail;
  if (sqlite3_prepare_v2(c->db, "INSERT OR REPLACE INTO state VALUES(?1, ?2, ?3, ?4, ?5)", -1,
                         &c->put, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(c->db, "SELECT fingerprint, data FROM state WHERE owner = ?1 AND key = ?2",
                         -1, &c->get, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(c->db, "UPDATE meta SET v = ?1 WHERE k = 'generation'", -1, &c->bump,
                         NULL) != SQLITE_OK) {
    db_error(c, err, "prepare");
    goto fail;
  }
  return c;
fail:
  sl_ckpt_close(c);
  return NULL;
}

void sl_ckpt_close(sl_ckpt *c) {
  if (!c) return;
  sqlite3_finalize(c->put);
  sqlite3_finalize(c->get);
  sqlite3_finalize(c->bump);
  sqlite3_close(c->db);
  pthread_mutex_destroy(&c->mu);
  free(c->path);
  free(c->marker);
  free(c);
}

const char *sl_ckpt_id(const sl_ckpt *c) {
  return c->id;
}

const char *sl_ckpt_path(const sl_ckpt *c) {
  return c->path;
}

int sl_ckpt_begin(sl_ckpt *c, sl_err *err) {
  store_lock(c);
  if (exec(c, "BEGIN IMMEDIATE", err)) {
    store_unlock(c);
    return -1;
  }
  c->in_txn = 1;
  return 0;
}

int sl_ckpt_put(sl_ckpt *c, const char *owner, const char *key, const char *fingerprint,
                const void *data, size_t n, sl_err *err) {
  SL_ASSERT(c->in_txn); /* between sl_ckpt_begin and commit */
  sqlite3_reset(c->put);
  sqlite3_bind_text(c->put, 1, owner, -1, SQLITE_STATIC);
  sqlite3_bind_text(c->put, 2, key, -1, SQLITE_STATIC);
  sqlite3_bind_text(c->put, 3, fingerprint, -1, SQLITE_STATIC);
  sqlite3_bind_int64(c->put, 4, (int64_t)time(NULL) * 1000);
  sqlite3_bind_blob64(c->put, 5, n ? data : "", n, SQLITE_STATIC);
  int rc = sqlite3_step(c->put);
  sqlite3_reset(c->put);
  return rc == SQLITE_DONE ? 0 : db_error(c, err, "writing a checkpoint");
}

int sl_ckpt_commit(sl_ckpt *c, sl_err *err) {
  SL_ASSERT(c->in_txn);
  sqlite3_reset(c->bump);
  sqlite3_bind_int64(c->bump, 1, c->generation + 1);
  int rc = sqlite3_step(c->bump) == SQLITE_DONE ? 0 : db_error(c, err, "writing a checkpoint");
  sqlite3_reset(c->bump);
  if (!rc) rc = exec(c, "COMMIT", err);
  if (rc) {
    sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
  } else {
    /* the database has it (synchronous=FULL): only now may the record say so */
    c->generation++;
    sl_err m = {0};
    if (marker_write(c, &m)) {
      sl_err_set(err, SL_EIO, "the checkpoint was committed, but its record was not: %s", m.msg);
      sl_err_clear(&m);
      rc = -1;
    }
  }
  c->in_txn = 0;
  store_unlock(c);
  return rc;
}

void sl_ckpt_abort(sl_ckpt *c) {
  SL_ASSERT(c->in_txn);
  sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
  c->in_txn = 0;
  store_unlock(c);
}

int sl_ckpt_get(sl_ckpt *c, const char *owner, const char *key, const char *fingerprint,
                sl_buf *out, sl_err *err) {
  sl_buf_reset(out);
  store_lock(c);
  sqlite3_reset(c->get);
  sqlite3_bind_text(c->get, 1, owner, -1, SQLITE_STATIC);
  sqlite3_bind_text(c->get, 2, key, -1, SQLITE_STATIC);
  int rc = sqlite3_step(c->get), found = 0;
  if (rc == SQLITE_ROW) {
    const char *fp = (const char *)sqlite3_column_text(c->get, 0);
    if (!fp || strcmp(fp, fingerprint) != 0) {
      sl_err_set(err, SL_EBIND,
                 "the state of %s in %s was written by a different query or source (changed "
                 "since its last checkpoint): start with --reset-state to discard it",
                 owner, c->path);
      found = -1;
    } else {
      const void *z = sqlite3_column_blob(c->get, 1);
      size_t n = (size_t)sqlite3_column_bytes(c->get, 1);
      sl_buf_append(out, z, n);
      found = 1;
    }
  } else if (rc != SQLITE_DONE) {
    found = db_error(c, err, "reading a checkpoint");
  }
  sqlite3_reset(c->get);
  store_unlock(c);
  return found;
}

void sl_ckpt_fingerprint(const char *sql, size_t n, char out[17]) {
  uint64_t h = 1469598103934665603ULL; /* FNV-1a over the text, blanks collapsed */
  int space = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char ch = (unsigned char)sql[i];
    if (ch == '-' && i + 1 < n && sql[i + 1] == '-') { /* a -- comment */
      while (i < n && sql[i] != '\n')
        i++;
      space = 1;
      continue;
    }
    if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r') {
      space = 1;
      continue;
    }
    if (space) {
      h = (h ^ ' ') * 1099511628211ULL;
      space = 0;
    }
    h = (h ^ ch) * 1099511628211ULL;
  }
  snprintf(out, 17, "%016llx", (unsigned long long)h);
}

/* ---- encoding ------------------------------------------------------------ */

void sl_ck_i64(sl_buf *b, int64_t v) {
  unsigned char x[8];
  uint64_t u = (uint64_t)v;
  for (int i = 0; i < 8; i++)
    x[i] = (unsigned char)(u >> (8 * i));
  sl_buf_append(b, (const char *)x, 8);
}

void sl_ck_f64(sl_buf *b, double v) {
  int64_t i;
  memcpy(&i, &v, 8);
  sl_ck_i64(b, i);
}

void sl_ck_bytes(sl_buf *b, const void *z, size_t n) {
  sl_ck_i64(b, (int64_t)n);
  if (n) sl_buf_append(b, z, n);
}

void sl_ck_value(sl_buf *b, const sl_value *v) {
  SL_ASSERT(v->type <= SL_VECTOR); /* a type tag sl_ckr_value reads back */
  sl_buf_putc(b, (char)v->type);
  sl_buf_putc(b, (char)(v->flags & SL_F_JSON));
  switch (v->type) {
  case SL_INTEGER: sl_ck_i64(b, v->u.i); break;
  case SL_REAL: sl_ck_f64(b, v->u.r); break;
  case SL_TEXT:
  case SL_BLOB: sl_ck_bytes(b, v->u.z, v->n); break;
  case SL_VECTOR: sl_ck_bytes(b, v->u.v, sizeof(double) * v->n); break;
  default: break;
  }
}

size_t sl_ck_open(sl_buf *b) {
  size_t at = b->n;
  sl_ck_i64(b, 0);
  return at;
}

void sl_ck_close(sl_buf *b, size_t at) {
  SL_ASSERT(at + 8 <= b->n); /* at is what sl_ck_open returned for b */
  uint64_t len = (uint64_t)(b->n - at - 8);
  for (int i = 0; i < 8; i++)
    b->z[at + (size_t)i] = (char)(len >> (8 * i));
}

int64_t sl_ckr_i64(sl_ckrd *r) {
  SL_ASSERT(r->p <= r->end);
  if (r->bad || r->end - r->p < 8) {
    r->bad = 1;
    return 0;
  }
  uint64_t u = 0;
  for (int i = 0; i < 8; i++)
    u |= (uint64_t)r->p[i] << (8 * i);
  r->p += 8;
  return (int64_t)u;
}

double sl_ckr_f64(sl_ckrd *r) {
  int64_t i = sl_ckr_i64(r);
  double v;
  memcpy(&v, &i, 8);
  return v;
}

const void *sl_ckr_bytes(sl_ckrd *r, size_t *n) {
  int64_t len = sl_ckr_i64(r);
  if (r->bad || len < 0 || len > r->end - r->p) {
    r->bad = 1;
    *n = 0;
    return "";
  }
  const void *z = r->p;
  r->p += len;
  *n = (size_t)len;
  return z;
}

void sl_ckr_value(sl_ckrd *r, sl_value *out) {
  sl_value_set_null(out);
  if (r->bad || r->end - r->p < 2) {
    r->bad = 1;
    return;
  }
  int type = r->p[0], flags = r->p[1];
  r->p += 2;
  size_t n;
  const void *z;
  switch (type) {
  case SL_NULL: break;
  case SL_INTEGER: sl_value_set_int(out, sl_ckr_i64(r)); break;
  case SL_REAL: {
    double d = sl_ckr_f64(r);
    if (isnan(d)) /* never written: the engine's REAL values are never NaN */
      r->bad = 1;
    else
      sl_value_set_real(out, d);
    break;
  }
  case SL_TEXT:
    z = sl_ckr_bytes(r, &n);
    sl_value_set_text(out, z, n);
    out->flags |= (uint8_t)(flags & SL_F_JSON);
    break;
  case SL_BLOB:
    z = sl_ckr_bytes(r, &n);
    sl_value_set_blob(out, z, n);
    break;
  case SL_VECTOR: {
    z = sl_ckr_bytes(r, &n);
    if (n % sizeof(double)) {
      r->bad = 1;
      break;
    }
    double *x = sl_malloc(n ? n : 1); /* an aligned copy of the elements */
    memcpy(x, z, n);
    sl_value_set_vector(out, x, n / sizeof(double));
    free(x);
    break;
  }
  default: r->bad = 1;
  }
}
