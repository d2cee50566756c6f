/*
** op_sink.c - the last operator of a query with INTO: encodes each row with
** the sink's format into one buffer per batch (records separated by '\n',
** their ends noted) and hands the whole batch to the sink in one write.
** The buffer and the ends array are reused across batches.
*/
#include <stdlib.h>

#include "operator.h"

typedef struct op_sink {
  sl_operator base;
  sl_sink *sink;     /* owned */
  sl_encoder *enc;   /* owned */
  sl_buf buf;        /* encoded records of the current batch */
  size_t *ends;      /* end offset of each record in buf */
  int cap;
  int begun;         /* begin() written (csv header) */
} op_sink;

static int sink_push(sl_operator *base, sl_batch *in, sl_err *err) {
  op_sink *s = (op_sink *)base;
  const sl_format *f = s->sink->format;
  if (in->nrow > s->cap) {
    s->cap = in->nrow;
    s->ends = sl_realloc(s->ends, sizeof(size_t) * (size_t)s->cap);
  }
  sl_buf_reset(&s->buf);
  int n = 0;
  if (!s->begun) {
    s->begun = 1;
    if (f->begin) {
      f->begin(s->enc, &s->buf);
      if (s->buf.n) {
        /* The header goes out as a record of its own. */
        size_t end = s->buf.n;
        if (s->sink->vt->write(s->sink, s->buf.z, &end, 1, err)) return -1;
        sl_buf_reset(&s->buf);
      }
    }
  }
  for (int i = 0; i < in->nrow; i++) {
    f->encode(s->enc, in->rows + (size_t)i * (size_t)in->ncol, &s->buf);
    sl_buf_putc(&s->buf, '\n');
    s->ends[n++] = s->buf.n;
  }
  base->stats->out += n;
  if (n && s->sink->vt->write(s->sink, s->buf.z, s->ends, n, err)) return -1;
  return 0;
}

static int sink_finish(sl_operator *base, sl_err *err) {
  op_sink *s = (op_sink *)base;
  if (!s->begun && s->sink->format->begin) { /* an empty result still gets its header */
    sl_batch empty = {0, 0, NULL, NULL, NULL};
    if (sink_push(base, &empty, err)) return -1;
  }
  return s->sink->vt->flush ? s->sink->vt->flush(s->sink, err) : 0;
}

static void sink_explain(sl_operator *base, sl_buf *out) {
  op_sink *s = (op_sink *)base;
  sl_buf_printf(out, "sink: %s, format %s\n", s->sink->vt->name, s->sink->format->name);
}

static void sink_free(sl_operator *base) {
  op_sink *s = (op_sink *)base;
  if (s->enc) s->sink->format->encoder_free(s->enc);
  s->sink->vt->close(s->sink);
  sl_buf_free(&s->buf);
  free(s->ends);
  free(s);
}

static const sl_op_vt sink_vt = {"sink", sink_push, sl_op_pass_time, sink_finish, sink_explain,
                                 sink_free};

sl_operator *sl_op_sink_new(sl_sink *sink, int ncol, const char *const *names, sl_err *err) {
  sl_encoder *enc = sink->format->encoder_new(ncol, names, &sink->fmt_opts, err);
  if (!enc) {
    sink->vt->close(sink);
    return NULL;
  }
  op_sink *s = sl_calloc(1, sizeof *s);
  s->base.vt = &sink_vt;
  s->sink = sink;
  s->enc = enc;
  sl_buf_init(&s->buf);
  return &s->base;
}
