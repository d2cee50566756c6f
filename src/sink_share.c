/*
** sink_share.c - one sink written by the parallel tasks of a query, each
** through its own op_sink (and so its own encoder thread): every task's
** op_sink opens a member of the share (sl_sink_share_open, the run's
** sl_make_env.open_sink), the first open opens the real sink, and each
** member passes whole batches to it under the share's mutex, so records of
** one batch stay together and encoding runs on as many threads as there
** are tasks.  Only for formats without a header (sl_format.begin NULL):
** each op_sink would write its own.  The real sink is closed with the last
** member.
*/
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "operator.h"

struct sl_sink_share {
  pthread_mutex_t mu;
  sl_sink *real; /* opened by the first member, closed by the last (owned) */
  int members;   /* open members */
};

typedef struct share_member {
  sl_sink base; /* key_col, part_cols: copies (owned); fmt_opts: the real sink's (borrowed) */
  sl_sink_share *sh;
} share_member;

/* The member's stop flags reach the real sink before each call. */
static void pass_flags(share_member *m) {
  if (m->base.stopping) m->sh->real->stopping = 1;
  if (m->base.interrupted && !m->sh->real->interrupted)
    m->sh->real->interrupted = m->base.interrupted;
}

static int member_write(sl_sink *s, const char *buf, const size_t *ends, int n, const char *keys,
                        const size_t *kends, const uint64_t *ids, sl_err *err) {
  share_member *m = (share_member *)s;
  pthread_mutex_lock(&m->sh->mu);
  pass_flags(m);
  m->sh->real->origin_part = s->origin_part; /* origin => true: borrowed for the write */
  m->sh->real->origin_pos = s->origin_pos;
  int rc = m->sh->real->vt->write(m->sh->real, buf, ends, n, keys, kends, ids, err);
  m->sh->real->origin_part = NULL;
  m->sh->real->origin_pos = NULL;
  pthread_mutex_unlock(&m->sh->mu);
  return rc;
}

static int member_flush(sl_sink *s, sl_err *err) {
  share_member *m = (share_member *)s;
  pthread_mutex_lock(&m->sh->mu);
  pass_flags(m);
  int rc = m->sh->real->vt->flush ? m->sh->real->vt->flush(m->sh->real, err) : 0;
  pthread_mutex_unlock(&m->sh->mu);
  return rc;
}

static int64_t member_produced(sl_sink *s) {
  share_member *m = (share_member *)s;
  pthread_mutex_lock(&m->sh->mu);
  int64_t n = m->sh->real->vt->produced(m->sh->real);
  pthread_mutex_unlock(&m->sh->mu);
  return n;
}

/* Acknowledged through the first n records of the real sink: a member's
** count is the real sink's (produced above), so it answers for at least
** that member's records. */
static int member_acked(sl_sink *s, int64_t n, sl_err *err) {
  share_member *m = (share_member *)s;
  pthread_mutex_lock(&m->sh->mu);
  int rc = m->sh->real->vt->acked(m->sh->real, n, err);
  pthread_mutex_unlock(&m->sh->mu);
  return rc;
}

static void member_close(sl_sink *s) {
  share_member *m = (share_member *)s;
  sl_sink_share *sh = m->sh;
  pthread_mutex_lock(&sh->mu);
  if (--sh->members == 0 && sh->real) {
    sh->real->vt->close(sh->real);
    sh->real = NULL;
  }
  pthread_mutex_unlock(&sh->mu);
  free(m->base.key_col);
  free(m->base.part_cols);
  free(m);
}

static const sl_sink_vt member_vt = {"shared", member_write, member_flush, member_close, NULL,
                                     NULL,     NULL,         NULL,         NULL,         NULL};
static const sl_sink_vt member_acked_vt = {"shared", member_write, member_flush,    member_close,
                                           NULL,     NULL,         member_produced, member_acked,
                                           NULL,     NULL};

sl_sink_share *sl_sink_share_new(void) {
  sl_sink_share *sh = sl_calloc(1, sizeof *sh);
  pthread_mutex_init(&sh->mu, NULL);
  return sh;
}

void sl_sink_share_free(sl_sink_share *sh) {
  if (!sh) return;
  SL_ASSERT(!sh->members && !sh->real);
  pthread_mutex_destroy(&sh->mu);
  free(sh);
}

sl_sink *sl_sink_share_open(void *ud, const sl_connector *conn, sl_options *o, sl_err *err) {
  sl_sink_share *sh = ud;
  pthread_mutex_lock(&sh->mu);
  if (!sh->real) {
    sh->real = conn->open_sink(o, err);
    if (!sh->real) {
      pthread_mutex_unlock(&sh->mu);
      return NULL;
    }
  }
  sh->members++;
  pthread_mutex_unlock(&sh->mu);
  const sl_sink *r = sh->real;
  share_member *m = sl_calloc(1, sizeof *m);
  m->sh = sh;
  m->base.vt = r->vt->produced && r->vt->acked ? &member_acked_vt : &member_vt;
  m->base.key_col = r->key_col ? sl_strdup(r->key_col) : NULL;
  m->base.key_implicit = r->key_implicit;
  m->base.format = r->format;
  m->base.fmt_opts = r->fmt_opts;
  m->base.by_id = r->by_id;
  m->base.want_origin = r->want_origin;
  m->base.part_cols = r->part_cols ? sl_strdup(r->part_cols) : NULL;
  return &m->base;
}
