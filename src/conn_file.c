/*
** conn_file.c - files and the standard streams: file('path') as a source
** (bounded: it ends at end of file) and as a sink, stdin() as a source and
** stdout() as a sink.
**
** The reader fills a buffer with large read() calls and lets the format
** frame records in it (a line, or a CSV record that may span lines); records
** point into the buffer and stay valid until the next read call, which is
** when the buffer is compacted or grown.  Each record carries the line
** number where it starts, for error messages ("people.json:17").
**
** Records are bounded (max_record_bytes, SL_MAX_RECORD by default): when no
** record frames within the bound, or the input ends inside one (a CSV quote
** never closed), the bad record's first line is handed out as a rejected
** record (sl_record.error) and reading resumes at the line after it, so one
** stray quote costs one line, not the rest of the file.  A single line
** longer than the bound is rejected (its first REJECT_SHOW bytes handed out)
** and skipped to its end without being buffered; in a source that is not a
** regular file (a device, a pipe: /dev/zero) such a line may never end, so
** it is an error that stops the query instead.
**
** A regular file may be divided among parallel tasks (SET parallelism):
** it is cut into chunks of min_split_bytes, and each task's part claims
** the next unread chunk whenever it has read the records that start in its
** last one (chunk_next()).  A faster task (or one on a faster core: a
** virtual machine's two cores can differ twofold) reads more chunks, so
** the parts end together, and the parts move through the file side by
** side, so their event times stay close (a GROUP BY's lanes hold windows
** open only while the slowest part catches up, op_exchange.c).  The parts
** share one ledger of chunks (file_chunks), made by part 0 and reached by
** the others through sl_options.split_first.
*/
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth.h"
#include "checkpoint.h"
#include "connector.h"

#define READ_CHUNK (1 << 20)
#define REJECT_SHOW 4096 /* bytes of an overlong line handed out with its rejection */

typedef struct file_source {
  sl_source base;
  char *path; /* owned; "stdin" for standard input */
  int fd;
  int own_fd; /* close fd at the end */
  char *buf;  /* read buffer, owned */
  size_t cap, start, end;
  int64_t buf_off; /* file offset of buf[0] */
  int eof;
  int64_t line;      /* line number of the next record */
  int skip_header;   /* the next record is a CSV header to skip */
  size_t max_record; /* the longest record framed */
  int regular;       /* fd is a regular file (it ends) */
  int skipping;      /* discarding the rest of an overlong line */
  /* part of a divided file (parallel tasks, sl_options.split): the chunks
  ** ledger shared by the parts (NULL: the whole file); the records of the
  ** chunk claimed last start before split_end (-1: the last chunk, or the
  ** whole file) */
  struct file_chunks *chunks;
  int64_t split_end;
  int claim;  /* the next read claims a chunk first */
  char *scan; /* SCAN_BUF bytes for counting and finding a chunk's start, owned */
} file_source;

/* The chunks of a divided file, shared by its parts (each holds a
** reference; the last to close frees it).  Chunk c is the records that
** start in bytes [max(c * size, data_start), (c + 1) * size); the newlines
** and quotes of its bytes are counted by whoever needs them first (a part
** claiming a later chunk: its first line number and whether a CSV quote
** is open there). */
typedef struct file_chunks {
  pthread_mutex_t mu;
  int refs;
  int64_t size;       /* bytes per chunk */
  int64_t data_start; /* the first record's byte (after a CSV header read at open) */
  int64_t data_line;  /* its line number */
  int skip_header;    /* the first record is a CSV header to skip */
  int nchunk, next;   /* how many, and the next to claim */
  int64_t *lines;     /* per chunk: newlines in its bytes, or -1 until counted */
  int64_t *quotes;    /* per chunk: '"' in its bytes (CSV) */
  int nsum;           /* chunks [0, nsum) are counted, and hold: */
  int64_t sum_lines, sum_quotes;
} file_chunks;

#define FILL_AGAIN (-2) /* fill(): nothing came within the timeout */

/* Read more bytes (compacting first).  A pipe, terminal or socket is
** waited on for timeout_ms at most (negative: until data or its end), so
** that the task can stop (Ctrl-C, SIGTERM, terminate) while its writer is
** quiet; a regular file is read at once.  Returns bytes read, 0 at EOF,
** FILL_AGAIN when nothing came in time, -1 on error. */
static ssize_t fill(file_source *f, int timeout_ms, sl_err *err) {
  if (f->start > 0) {
    memmove(f->buf, f->buf + f->start, f->end - f->start);
    f->end -= f->start;
    f->buf_off += (int64_t)f->start;
    f->start = 0;
  }
  if (f->end == f->cap) {
    f->cap = f->cap ? f->cap * 2 : READ_CHUNK;
    f->buf = sl_realloc(f->buf, f->cap);
  }
  if (!f->regular && timeout_ms >= 0) {
    struct pollfd p = {f->fd, POLLIN, 0};
    int k = poll(&p, 1, timeout_ms);
    if (k == 0 || (k < 0 && errno == EINTR)) return FILL_AGAIN;
    /* an error shows in read() */
  }
  for (;;) {
    ssize_t r = read(f->fd, f->buf + f->end, f->cap - f->end);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      sl_err_set(err, SL_EIO, "cannot read '%s': %s", f->path, strerror(errno));
      return -1;
    }
    f->end += (size_t)r;
    if (r == 0) f->eof = 1;
    return r;
  }
}

/* Discard bytes up to and including the next newline (the rest of an
** overlong line).  1 when it was found, 0 when more must be read. */
static int skip_line(file_source *f) {
  const char *nl = memchr(f->buf + f->start, '\n', f->end - f->start);
  if (!nl) {
    f->start = f->end;
    return 0;
  }
  f->start = (size_t)(nl + 1 - f->buf);
  f->skipping = 0;
  f->line++;
  return 1;
}

/* The record at f->start is longer than the bound (framed or not), or
** (at_eof) the input ends inside it: make r the rejection of its first line
** and go on after that line, or, when that line is itself too long, reject
** its first bytes and skip the rest of it.  0, or -1 with err set when the
** line's end is not in sight and f is not a regular file. */
static int reject_first_line(file_source *f, sl_record *r, int at_eof, sl_err *err) {
  const char *rec = f->buf + f->start;
  size_t avail = f->end - f->start, lim = avail < f->max_record ? avail : f->max_record;
  const char *nl = memchr(rec, '\n', lim);
  memset(r, 0, sizeof *r);
  r->data = rec;
  r->pos = f->line;
  r->partition = -1;
  r->timestamp = -1;
  if (nl) { /* a record spanning lines: give up its first line only */
    r->len = (size_t)(nl - rec) - (nl > rec && nl[-1] == '\r');
    r->error = at_eof ? "the input ends inside a quoted field: only this line is skipped"
                      : "no record ends within max_record_bytes (a quote never closed?): only "
                        "this line is skipped";
    f->start += (size_t)(nl + 1 - rec);
    f->line++;
    return 0;
  }
  if (at_eof) { /* the last line, in quotes */
    r->len = avail;
    r->error = "the input ends inside a quoted field";
    f->start = f->end;
    f->line++;
    return 0;
  }
  if (!f->regular && !memchr(rec + lim, '\n', avail - lim)) {
    sl_err_set(err, SL_EFORMAT,
               "%s:%lld: a line longer than max_record_bytes (%zu bytes), and '%s' is not a "
               "regular file, where it might never end",
               f->path, (long long)f->line, f->max_record, f->path);
    return -1;
  }
  r->len = avail < REJECT_SHOW ? avail : REJECT_SHOW;
  r->error = "a line longer than max_record_bytes (its first 4096 bytes kept)";
  f->skipping = 1; /* no newline in its first lim bytes: the rest is discarded as read */
  f->start += lim;
  return 0;
}

/* The number of bytes equal to c in p[0..n), written as a loop compilers
** turn into vector compares (byte counters that cannot overflow in 255
** rounds): several times faster than a memchr per line. */
static int64_t count_byte(const char *p, size_t n, char c) {
  int64_t total = 0;
  while (n) {
    size_t m = n < 255 * 32 ? n : 255 * 32, i = 0;
    uint8_t acc[32] = {0};
    for (; i + 32 <= m; i += 32)
      for (int k = 0; k < 32; k++)
        acc[k] += p[i + (size_t)k] == c;
    for (int k = 0; k < 32; k++)
      total += acc[k];
    for (; i < m; i++)
      total += p[i] == c;
    p += m;
    n -= m;
  }
  return total;
}

#define MAX_CHUNKS (1 << 20) /* a ledger's chunks at most (16 bytes each) */
#define SCAN_BUF 65536       /* bytes read at a time to count, or to find a chunk's start */

/* Read up to SCAN_BUF bytes of f at off into f->scan: bytes read (0 at the
** end of the file), or -1 with err set. */
static ssize_t scan_at(file_source *f, int64_t off, sl_err *err) {
  if (!f->scan) f->scan = sl_malloc(SCAN_BUF);
  for (;;) {
    ssize_t r = pread(f->fd, f->scan, SCAN_BUF, (off_t)off);
    if (r >= 0) return r;
    if (errno == EINTR) continue;
    sl_err_set(err, SL_EIO, "cannot read '%s': %s", f->path, strerror(errno));
    return -1;
  }
}

/* The newlines and quotes in the bytes of chunks [0, c) of f's ledger k,
** into *lines and *quotes, counting those not counted yet.  Chunks are
** claimed in order, so the sums of a prefix are kept and each call adds
** the few chunks after it.  0, or -1 with err set. */
static int chunks_before(file_source *f, file_chunks *k, int c, int64_t *lines, int64_t *quotes,
                         sl_err *err) {
  int csv = f->base.format == &sl_fmt_csv, i = 0;
  *lines = *quotes = 0;
  pthread_mutex_lock(&k->mu);
  if (k->nsum <= c) {
    i = k->nsum;
    *lines = k->sum_lines;
    *quotes = k->sum_quotes;
  }
  pthread_mutex_unlock(&k->mu);
  for (; i < c; i++) {
    pthread_mutex_lock(&k->mu);
    int64_t nl = k->lines[i], nq = k->quotes[i];
    pthread_mutex_unlock(&k->mu);
    if (nl < 0) { /* counted once, by whoever gets here first (a race counts twice, alike) */
      nl = nq = 0;
      for (int64_t off = (int64_t)i * k->size, end = off + k->size; off < end;) {
        ssize_t r = scan_at(f, off, err);
        if (r < 0) return -1;
        if (r == 0) break; /* the file shrank: what is left */
        size_t n = (size_t)(r < end - off ? r : end - off);
        nl += count_byte(f->scan, n, '\n');
        if (csv) nq += count_byte(f->scan, n, '"');
        off += (int64_t)n;
      }
      pthread_mutex_lock(&k->mu);
      k->lines[i] = nl;
      k->quotes[i] = nq;
      pthread_mutex_unlock(&k->mu);
    }
    *lines += nl;
    *quotes += nq;
    pthread_mutex_lock(&k->mu);
    if (k->nsum == i) { /* the known prefix grows */
      k->nsum = i + 1;
      k->sum_lines = *lines;
      k->sum_quotes = *quotes;
    }
    pthread_mutex_unlock(&k->mu);
  }
  return 0;
}

/* Set f to read chunk c of ledger k: from its first record boundary (the
** start of a line that, in CSV, is not inside a quoted field: an even
** number of '"' before it, doubled quotes counting twice) with that line's
** number, up to the records that start in the next chunk.  A chunk with
** no boundary before the end of the file gives nothing.  0, or -1 with
** err set. */
static int chunk_start(file_source *f, file_chunks *k, int c, sl_err *err) {
  int csv = f->base.format == &sl_fmt_csv;
  int64_t begin = (int64_t)c * k->size, start = -1, line;
  f->split_end = c + 1 < k->nchunk ? begin + k->size : -1;
  f->skip_header = 0;
  if (begin <= k->data_start) { /* the file's first record (after a header read at open) */
    start = k->data_start;
    line = k->data_line;
    f->skip_header = k->skip_header;
  } else {
    int64_t quotes;
    if (chunks_before(f, k, c, &line, &quotes, err)) return -1;
    line++; /* line numbers count from 1 */
    /* from the byte before the chunk (counted already), which may end a line */
    for (int64_t off = begin - 1; start < 0;) {
      ssize_t r = scan_at(f, off, err);
      if (r < 0) return -1;
      if (r == 0) { /* no boundary after the chunk's start: nothing is its */
        start = off;
        break;
      }
      for (ssize_t i = 0; i < r && start < 0; i++) {
        int counted = off + i < begin;
        if (csv && f->scan[i] == '"' && !counted) quotes++;
        if (f->scan[i] != '\n') continue;
        if (!counted) line++;
        if (!(quotes & 1)) start = off + i + 1;
      }
      off += r;
    }
  }
  if (lseek(f->fd, (off_t)start, SEEK_SET) != (off_t)start) {
    sl_err_set(err, SL_EIO, "%s: cannot seek to byte %lld: %s", f->path, (long long)start,
               strerror(errno));
    return -1;
  }
  f->buf_off = start;
  f->start = f->end = 0;
  f->eof = 0;
  f->skipping = 0;
  f->line = line;
  return 0;
}

/* Claim the next unread chunk of f's file and set f to read it: 1, or 0
** when every chunk is claimed, or -1 with err set. */
static int chunk_next(file_source *f, sl_err *err) {
  file_chunks *k = f->chunks;
  pthread_mutex_lock(&k->mu);
  int c = k->next < k->nchunk ? k->next++ : -1;
  pthread_mutex_unlock(&k->mu);
  if (c < 0) return 0;
  return chunk_start(f, k, c, err) ? -1 : 1;
}

static int file_read(sl_source *s, sl_record *recs, int max, int timeout_ms, sl_err *err) {
  file_source *f = (file_source *)s;
  int n = 0;
  while (n < max) {
    /* a divided file: the records starting before split_end are this
    ** chunk's; then the next chunk, once this call's records (which point
    ** into buf) are handed out */
    if (f->chunks &&
        (f->claim || (f->split_end >= 0 && f->buf_off + (int64_t)f->start >= f->split_end))) {
      if (n > 0) break;
      f->claim = 0;
      int rc = chunk_next(f, err);
      if (rc < 0) return SL_READ_ERROR;
      if (rc == 0) return SL_READ_END;
      continue;
    }
    if (f->skipping && (f->end == f->start || !skip_line(f))) {
      if (f->eof || n > 0) break;
      ssize_t got = fill(f, timeout_ms, err);
      if (got == FILL_AGAIN) return SL_READ_AGAIN;
      if (got < 0) return SL_READ_ERROR;
      continue;
    }
    size_t rlen = 0, avail = f->end - f->start;
    size_t flen = avail ? s->format->frame(f->buf + f->start, avail, f->eof, &rlen) : 0;
    if (flen == SL_FRAME_BAD || (!flen && avail >= f->max_record) ||
        (flen && rlen > f->max_record)) {
      if (f->skip_header) {
        sl_err_set(err, SL_EFORMAT, "%s:%lld: malformed CSV header", f->path, (long long)f->line);
        return SL_READ_ERROR;
      }
      if (reject_first_line(f, &recs[n], flen == SL_FRAME_BAD, err)) return SL_READ_ERROR;
      n++;
      continue;
    }
    if (!flen) {
      if (f->eof || n > 0) break; /* records of this call point into buf: no compaction */
      ssize_t got = fill(f, timeout_ms, err);
      if (got == FILL_AGAIN) return SL_READ_AGAIN;
      if (got < 0) return SL_READ_ERROR;
      continue;
    }
    const char *rec = f->buf + f->start;
    int64_t line = f->line;
    if (s->format == &sl_fmt_csv) { /* a quoted field may hold newlines */
      for (const char *p = rec; (p = memchr(p, '\n', (size_t)(rec + flen - p))); p++)
        f->line++;
      if (flen == rlen && !memchr(rec, '\n', flen)) f->line++; /* last line, no newline */
    } else { /* other formats frame exactly one line */
      f->line++;
    }
    f->start += flen;
    if (f->skip_header) {
      f->skip_header = 0;
      continue;
    }
    sl_record *r = &recs[n++];
    memset(r, 0, sizeof *r);
    r->data = rec;
    r->len = rlen;
    r->pos = line;
    r->partition = -1;
    r->timestamp = -1;
  }
  return n ? n : SL_READ_END;
}

static void file_position(sl_source *s, const sl_record *rec, sl_buf *out) {
  file_source *f = (file_source *)s;
  sl_buf_printf(out, "%s:%lld", f->path, (long long)rec->pos);
}

/* Position: the byte offset and line number after the last record handed
** out, and whether a CSV header is still to be skipped. */
static int file_save_pos(sl_source *s, sl_buf *out, sl_err *err) {
  (void)err;
  file_source *f = (file_source *)s;
  sl_ck_i64(out, f->buf_off + (int64_t)f->start);
  sl_ck_i64(out, f->line);
  sl_ck_i64(out, f->skip_header);
  return 0;
}

static int file_load_pos(sl_source *s, const void *z, size_t n, sl_err *err) {
  file_source *f = (file_source *)s;
  sl_ckrd r;
  sl_ckrd_init(&r, z, n);
  int64_t off = sl_ckr_i64(&r), line = sl_ckr_i64(&r), skip = sl_ckr_i64(&r);
  if (r.bad || off < 0) {
    sl_err_set(err, SL_EIO, "%s: the checkpointed position is corrupt", f->path);
    return -1;
  }
  if (lseek(f->fd, (off_t)off, SEEK_SET) != (off_t)off) {
    sl_err_set(err, SL_EIO, "%s: cannot resume at byte %lld: %s", f->path, (long long)off,
               strerror(errno));
    return -1;
  }
  f->buf_off = off;
  f->start = f->end = 0;
  f->eof = 0;
  f->skipping = 0;
  f->line = line;
  f->skip_header = (int)skip;
  return 0;
}

static void file_close(sl_source *s) {
  file_source *f = (file_source *)s;
  if (f->chunks) { /* the last part frees the ledger */
    pthread_mutex_lock(&f->chunks->mu);
    int last = --f->chunks->refs == 0;
    pthread_mutex_unlock(&f->chunks->mu);
    if (last) {
      pthread_mutex_destroy(&f->chunks->mu);
      free(f->chunks->lines);
      free(f->chunks->quotes);
      free(f->chunks);
    }
  }
  free(f->scan);
  if (f->own_fd && f->fd >= 0) close(f->fd);
  sl_source_fini(s);
  free(f->buf);
  free(f->path);
  free(f);
}

static const sl_source_vt file_source_vt = {"file", file_read,     file_position, file_close, NULL,
                                            NULL,   file_save_pos, file_load_pos, NULL,       NULL,
                                            NULL,   NULL,          NULL};

/* The default format for a path: by its extension. */
static const char *format_for(const char *path) {
  const char *dot = strrchr(path, '.');
  if (dot &&
      (!sl_stricmp(dot, ".json") || !sl_stricmp(dot, ".jsonl") || !sl_stricmp(dot, ".ndjson")))
    return "json";
  if (dot && !sl_stricmp(dot, ".csv")) return "csv";
  return "raw";
}

typedef struct header_ctx {
  sl_schema *schema;
} header_ctx;

/* A header field names a column; a name that is not UTF-8 gets U+FFFD for
** each ill-formed sequence (sinks write names as JSON keys), whatever
** invalid_utf8 says: a header is not a record to reject. */
static int header_field(void *ud, int i, const char *z, size_t n, int quoted) {
  header_ctx *h = ud;
  if (sl_utf8_check(z, n) == n) {
    sl_schema_add(h->schema, z, n, NULL);
    return 0;
  }
  char *p = sl_malloc(3 * n + 1);
  sl_schema_add(h->schema, p, sl_utf8_repair(z, n, p), NULL);
  free(p);
  return 0;
}

/* CSV with header => true and no declared columns: the header names them. */
static int read_header(file_source *f, sl_err *err) {
  sl_record rec;
  f->skip_header = 0;
  int n = file_read(&f->base, &rec, 1, -1, err);
  if (n == SL_READ_ERROR) return -1;
  if (n < 1) {
    sl_err_set(err, SL_EFORMAT, "%s: empty file, no CSV header", f->path);
    return -1;
  }
  if (rec.error) {
    sl_err_set(err, SL_EFORMAT, "%s:1: malformed CSV header: %s", f->path, rec.error);
    return -1;
  }
  sl_arena a;
  sl_arena_init(&a);
  header_ctx h = {&f->base.schema};
  int nf = sl_csv_split(rec.data, rec.len, f->base.fmt_opts.delim, &a, header_field, &h);
  sl_arena_free(&a);
  if (nf <= 0) {
    sl_err_set(err, SL_EFORMAT, "%s:1: malformed CSV header", f->path);
    return -1;
  }
  return 0;
}

static sl_source *open_reader(sl_options *opts, const char *path, int fd, int own, const char *dflt,
                              sl_err *err) {
  file_source *f = sl_calloc(1, sizeof *f);
  f->base.vt = &file_source_vt;
  f->path = sl_strdup(path);
  f->fd = fd;
  f->own_fd = own;
  f->line = 1;
  f->split_end = -1;
  f->max_record = (size_t)(opts->max_record > 0 ? opts->max_record : SL_MAX_RECORD);
  struct stat st;
  f->regular = fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
  if (sl_source_init_format(&f->base, opts, dflt, err) || sl_options_check(opts, err)) {
    file_close(&f->base);
    return NULL;
  }
  if (f->base.format == &sl_fmt_csv) {
    if (f->base.fmt_opts.header && f->base.schema.ncol == 0 && fd >= 0) {
      if (read_header(f, err)) {
        file_close(&f->base);
        return NULL;
      }
    } else if (f->base.fmt_opts.header) {
      f->skip_header = 1;
    } else if (f->base.schema.ncol == 0) {
      sl_err_set(err, SL_EBIND, "csv needs columns => 'a TEXT, b REAL, ...' or header => true");
      file_close(&f->base);
      return NULL;
    }
  }
  return &f->base;
}

/* 1 when the columns of file path come from its CSV header: format csv
** (given, or by the extension), header => true, no columns => and no
** declared columns.  Reads the options without marking them used. */
static int needs_header(sl_options *opts, const char *path) {
  sl_option *f = sl_opt_find_unused(opts, "format");
  const char *fmt = f ? sl_value_cstr(&f->value) : format_for(path);
  sl_option *h = sl_opt_find_unused(opts, "header");
  int header = h && (h->value.type == SL_INTEGER
                         ? h->value.u.i != 0
                         : h->value.type == SL_TEXT &&
                               (!sl_stricmp(h->value.u.z, "true") ||
                                !sl_stricmp(h->value.u.z, "yes") || !strcmp(h->value.u.z, "1")));
  return fmt && !sl_stricmp(fmt, "csv") && header && !sl_opt_find_unused(opts, "columns") &&
         !(opts->declared && opts->declared->ncol);
}

/* Parallel tasks (sl_options.split, nsplit): make s part opts->split of a
** divided file.  Part 0 (opened first) decides: a file of at least two
** chunks of min_split bytes is cut into such chunks
** and read by at most nsplit parts, which share part 0's ledger
** (file_chunks; the others reach it through opts->split_first); a smaller
** file is read whole, by one task.  Only a regular file of line-framed
** records (JSON lines, CSV, raw lines) is divided.  A CSV record with a
** newline inside quotes stays whole: a chunk's records begin only where an
** even number of quotes came before.  0, or -1 with err set (a part after
** the first without its ledger). */
static int divide(sl_source *s, sl_options *opts, sl_err *err) {
  file_source *f = (file_source *)s;
  if (opts->split > 0) {
    const sl_source *first = opts->split_first;
    if (!first || first->vt != &file_source_vt || !((const file_source *)first)->chunks) {
      sl_err_set(err, SL_EINTERNAL, "%s: part %d of a divided file without its first part", f->path,
                 opts->split);
      return -1;
    }
    f->chunks = ((const file_source *)first)->chunks;
    pthread_mutex_lock(&f->chunks->mu);
    f->chunks->refs++;
    pthread_mutex_unlock(&f->chunks->mu);
    s->nsplit = opts->nsplit;
    f->claim = 1;
    return 0;
  }
  struct stat st;
  const char *fmt = s->format->name;
  if (!f->regular || fstat(f->fd, &st) || s->format->binary ||
      (strcmp(fmt, "json") && strcmp(fmt, "csv") && strcmp(fmt, "raw")))
    return 0;
  int64_t size = (int64_t)st.st_size, m = opts->nsplit;
  int64_t chunk = opts->min_split > 0 ? opts->min_split : 1;
  if (size / chunk > MAX_CHUNKS) chunk = size / MAX_CHUNKS + 1; /* bounds the ledger */
  if (size / chunk < m) m = size / chunk;
  if (m < 2) return 0;
  file_chunks *k = sl_calloc(1, sizeof *k);
  pthread_mutex_init(&k->mu, NULL);
  k->refs = 1;
  k->size = chunk;
  k->data_start = f->buf_off + (int64_t)f->start; /* after a header read at open */
  k->data_line = f->line;
  k->skip_header = f->skip_header;
  k->nchunk = (int)((size + chunk - 1) / chunk);
  k->lines = sl_malloc(sizeof(int64_t) * (size_t)k->nchunk);
  k->quotes = sl_malloc(sizeof(int64_t) * (size_t)k->nchunk);
  for (int i = 0; i < k->nchunk; i++)
    k->lines[i] = k->quotes[i] = -1;
  f->chunks = k;
  f->claim = 1;
  s->nsplit = (int)m;
  return 0;
}

static sl_source *file_open_source(sl_options *opts, sl_err *err) {
  const char *path = sl_opt_str(opts, "0", NULL);
  if (!path) path = sl_opt_str(opts, "path", NULL);
  if (!path) {
    sl_err_set(err, SL_EBIND, "file() needs a path: file('data.json')");
    return NULL;
  }
  if (sl_opt_authorize(opts, SLUICE_AUTH_READ, path, err)) return NULL;
  int fd = -1;
  /* Planning opens nothing, but for a CSV header that names the columns:
  ** that line is read (without blocking: a fifo is not waited for) */
  if (!opts->check_only || needs_header(opts, path)) {
    fd = open(path, O_RDONLY | O_CLOEXEC | (opts->check_only ? O_NONBLOCK : 0));
    if (fd < 0) {
      sl_err_set(err, SL_EIO, "cannot open '%s'%s: %s", path,
                 opts->check_only ? " to read the CSV header that names its columns" : "",
                 strerror(errno));
      return NULL;
    }
  }
  sl_source *s = open_reader(opts, path, fd, 1, format_for(path), err);
  if (s) s->bounded = 1; /* a file ends (stdin() is read as a stream) */
  if (s && opts->nsplit > 1 && !opts->check_only && divide(s, opts, err)) {
    file_close(s);
    return NULL;
  }
  return s;
}

/* stdin: planning reads nothing of it, so its CSV columns are declared. */
static sl_source *stdin_open_source(sl_options *opts, sl_err *err) {
  if (sl_opt_authorize(opts, SLUICE_AUTH_STDIO, "stdin", err)) return NULL;
  if (needs_header(opts, "stdin")) {
    sl_err_set(err, SL_EBIND,
               "stdin() is read only when the query runs: name its CSV columns with "
               "columns => 'a TEXT, b REAL, ...' (header => true then skips the header line)");
    return NULL;
  }
  return open_reader(opts, "stdin", 0, 0, "raw", err);
}

/* ---- sinks -------------------------------------------------------------------- */

typedef struct file_sink {
  sl_sink base;
  char *path;
  int fd;
  int own_fd;
  pthread_mutex_t *lock; /* stdout: shared by every query writing to it */
  /* Nothing is done to the file before the query uses the sink (its first
  ** write, flush or checkpoint), so a query planned but never started (its
  ** script failed further on) leaves the file as it was.  Until then fd is
  ** -1 if the file does not exist yet, and the first use empties it
  ** (overwrite) or goes to its end (append) - unless, when resuming, a
  ** checkpoint's length is loaded first. */
  int pending; /* 0 nothing to do, 1 empty it, 2 go to the end */
  int oflags;  /* O_APPEND for mode => 'append' (not when resuming: a checkpoint cuts back) */
  int created; /* this sink created the file and its directory entry is not yet fsynced */
} file_sink;

static pthread_mutex_t stdout_lock = PTHREAD_MUTEX_INITIALIZER;

static int write_all(int fd, const char *p, size_t n) {
  while (n) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

/* The directory part of path ("." for a bare name); the caller frees it. */
static char *dir_of(const char *path) {
  const char *slash = strrchr(path, '/');
  return !slash          ? sl_strdup(".")
         : slash == path ? sl_strdup("/")
                         : sl_strndup(path, (size_t)(slash - path));
}

/* fsync the directory that holds path (its entry for a new file).  0, or -1
** with errno set. */
static int sync_dir(const char *path) {
  char *dir = dir_of(path);
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int rc = fd >= 0 && fsync(fd) == 0 ? 0 : -1;
  int e = errno;
  if (fd >= 0) close(fd);
  free(dir);
  errno = e;
  return rc;
}

/* Open (create) the file if it did not exist when the sink was opened.
** 0, or -1 with err set. */
static int ensure_open(file_sink *f, sl_err *err) {
  if (f->fd >= 0) return 0;
  f->fd = open(f->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | f->oflags, 0644);
  if (f->fd >= 0)
    f->created = 1;
  else if (errno == EEXIST)
    f->fd = open(f->path, O_WRONLY | O_CLOEXEC | f->oflags);
  if (f->fd < 0) {
    sl_err_set(err, SL_EIO, "cannot open '%s' for writing: %s", f->path, strerror(errno));
    return -1;
  }
  return 0;
}

/* Carry out what opening left pending, at the sink's first use: create the
** file, then empty it or go to its end.  0, or -1 with err set. */
static int settle(file_sink *f, sl_err *err) {
  if (ensure_open(f, err)) return -1;
  if (!f->pending) return 0;
  int empty = f->pending == 1;
  f->pending = 0;
  if ((empty && ftruncate(f->fd, 0) != 0) || lseek(f->fd, 0, empty ? SEEK_SET : SEEK_END) < 0) {
    sl_err_set(err, SL_EIO, "'%s': %s", f->path, strerror(errno));
    return -1;
  }
  return 0;
}

/* The sink is used: settle what opening left pending, if anything. */
static int ready(file_sink *f, sl_err *err) {
  return f->pending || f->fd < 0 ? settle(f, err) : 0;
}

/* Position: the length written (-1 for stdout, which cannot be cut back).
** A checkpoint is taken after a flush and committed after this returns, so
** what it covers is made durable here: the file's data, and the first time
** the directory entry of a file this sink created.  0, or -1 with err set
** (the checkpoint is then not taken). */
static int file_sink_save_pos(sl_sink *s, sl_buf *out, sl_err *err) {
  file_sink *f = (file_sink *)s;
  if (ready(f, err)) return -1;
  off_t at = f->own_fd ? lseek(f->fd, 0, SEEK_CUR) : -1;
  if (f->own_fd && (fsync(f->fd) != 0 || (f->created && sync_dir(f->path) != 0))) {
    sl_err_set(err, SL_EIO, "'%s': fsync: %s", f->path, strerror(errno));
    return -1;
  }
  f->created = 0;
  sl_ck_i64(out, (int64_t)at);
  return 0;
}

/* Resume: cut the file back to its checkpointed length (what was written
** after the checkpoint is written again).  A file shorter than that lost
** records the checkpoint counts as written (a power cut before they reached
** the disk, or a file cut or replaced): an error, never filled up.  0, or
** -1 with err set. */
static int file_sink_load_pos(sl_sink *s, const void *z, size_t n, sl_err *err) {
  file_sink *f = (file_sink *)s;
  sl_ckrd r;
  sl_ckrd_init(&r, z, n);
  int64_t len = sl_ckr_i64(&r);
  if (r.bad) {
    sl_err_set(err, SL_EIO, "'%s': the checkpointed length is corrupt", f->path);
    return -1;
  }
  if (len < 0 || !f->own_fd) return 0;
  if (ensure_open(f, err)) return -1;
  f->pending = 0;
  struct stat st;
  if (fstat(f->fd, &st) == 0 && st.st_size < (off_t)len) {
    sl_err_set(err, SL_EIO,
               "'%s' is %lld bytes, shorter than the %lld its last checkpoint covers: output "
               "written before that checkpoint is lost; --reset-state writes it afresh",
               f->path, (long long)st.st_size, (long long)len);
    return -1;
  }
  if (ftruncate(f->fd, (off_t)len) != 0 || lseek(f->fd, (off_t)len, SEEK_SET) != (off_t)len) {
    sl_err_set(err, SL_EIO, "'%s': cannot cut back to its checkpointed %lld bytes: %s", f->path,
               (long long)len, strerror(errno));
    return -1;
  }
  return 0;
}

static int file_write(sl_sink *s, const char *buf, const size_t *ends, int n, const char *keys,
                      const size_t *kends, const uint64_t *ids, sl_err *err) {
  (void)ids; /* a file is cut back to its checkpointed length instead */
  file_sink *f = (file_sink *)s;
  if (!n) return 0;
  if (ready(f, err)) return -1;
  if (f->lock) pthread_mutex_lock(f->lock);
  int rc = 0;
  if (s->format->binary) { /* records frame themselves: each without its newline */
    sl_buf b;
    sl_buf_init(&b);
    for (size_t i = 0, start = 0; i < (size_t)n; start = ends[i++])
      if (ends[i] > start) sl_buf_append(&b, buf + start, ends[i] - start - 1);
    rc = b.n ? write_all(f->fd, b.z, b.n) : 0;
    sl_buf_free(&b);
  } else {
    rc = write_all(f->fd, buf, ends[n - 1]);
  }
  if (f->lock) pthread_mutex_unlock(f->lock);
  if (rc) {
    sl_err_set(err, SL_EIO, "cannot write '%s': %s", f->path, strerror(errno));
    return -1;
  }
  return 0;
}

/* write() goes straight to the kernel: a flush only makes sure that a
** query that ran but wrote nothing leaves the file it promised (empty). */
static int file_flush(sl_sink *s, sl_err *err) {
  return ready((file_sink *)s, err);
}

/* Close without touching the file: a sink never used (its query never
** started) leaves it as it was. */
static void file_sink_close(sl_sink *s) {
  file_sink *f = (file_sink *)s;
  if (f->own_fd && f->fd >= 0) close(f->fd);
  sl_sink_fini(s);
  free(f->path);
  free(f);
}

static const sl_sink_vt file_sink_vt = {
    "file", file_write, file_flush, file_sink_close, file_sink_save_pos, file_sink_load_pos, NULL,
    NULL,   NULL,       NULL};

/* Whether a file could be created at path: its directory is writable and
** searchable (errno set when not). */
static int dir_writable(const char *path) {
  char *dir = dir_of(path);
  int ok = access(dir, W_OK | X_OK) == 0;
  int e = errno;
  free(dir);
  errno = e;
  return ok;
}

/* ---- the partitioned file sink: file('dir/', partition_by => 'a,b') ------------
** Each row goes to dir/a=<value>/b=<value>/part-0.<format>, as Flink's
** filesystem connector with PARTITIONED BY lays it out: the partition columns
** are not in the rows written, values are escaped as Flink (and Hive) escape
** them (%XX for control characters, DEL and the characters of PART_ESCAPE), a NULL or empty
** value is __DEFAULT_PARTITION__.  op_sink gives each row's partition values
** as its key (sl_part_key_put).  Every directory and file is authorized
** (WRITE) before it is created.  Each file written by a run is emptied when
** the run first opens it (mode => 'append': appended to; a resumed run
** appends too: the files have no checkpointed length, so output after the
** last checkpoint may be written twice - at least once).  A few files are
** kept open (PART_OPEN, the least recently used is closed). */

#define PART_OPEN 16
#define PART_DEFAULT "__DEFAULT_PARTITION__"
#define PART_ESCAPE "\"#%'*/:=?\\{[]^" /* escaped as %XX in a path (and below 0x20, DEL) */

typedef struct part_open {
  char *path; /* owned; NULL: free */
  int fd;
  uint64_t used; /* tick of the last write */
} part_open;

typedef struct part_sink {
  sl_sink base;
  char *dir;    /* the base directory (owned, no trailing '/') */
  char **names; /* the partition columns (owned) */
  int nname;
  const struct sl_auth *auth; /* the engine's (borrowed) */
  const char *fn;             /* "file" */
  int append;                 /* never empty a file */
  sl_buf header;              /* the format's first record (a CSV header): starts every file */
  int have_header;
  part_open open[PART_OPEN];
  uint64_t tick;
  uint64_t *seen_h; /* files this run has opened: hashes and paths */
  char **seen;
  size_t nseen, capseen;
  sl_buf path, dirs; /* scratch */
} part_sink;

void sl_part_key_put(sl_buf *keys, const char *z, size_t n) {
  uint32_t len = z ? (uint32_t)n : UINT32_MAX;
  sl_buf_append(keys, &len, sizeof len);
  if (z) sl_buf_append(keys, z, n);
}

int sl_part_cols_resolve(const char *list, int ncol, char *const *names, int *out, sl_err *err) {
  int k = 0;
  for (const char *p = list; *p;) {
    while (*p == ' ' || *p == ',')
      p++;
    const char *e = p;
    while (*e && *e != ',')
      e++;
    size_t n = (size_t)(e - p);
    while (n && p[n - 1] == ' ')
      n--;
    if (n) {
      int c = 0;
      while (c < ncol && !(strlen(names[c]) == n && sl_strnicmp(names[c], p, n) == 0))
        c++;
      if (c == ncol) {
        sl_err_set(err, SL_EBIND, "partition_by => '%s': no column '%.*s' in the query's result",
                   list, (int)n, p);
        return -1;
      }
      for (int j = 0; j < k; j++)
        if (out[j] == c) {
          sl_err_set(err, SL_EBIND, "partition_by => '%s': '%.*s' twice", list, (int)n, p);
          return -1;
        }
      if (k == ncol) break;
      out[k++] = c;
    }
    p = e;
  }
  if (k == 0 || k >= ncol) {
    sl_err_set(err, SL_EBIND, "partition_by => '%s': %s", list,
               k ? "the rows would have no column left" : "no column named");
    return -1;
  }
  return k;
}

/* Append value z[0..n) (NULL: none) to b as a path component, escaped. */
static void part_escape(sl_buf *b, const char *z, size_t n) {
  static const char hex[] = "0123456789ABCDEF";
  if (!z || n == 0) {
    sl_buf_puts(b, PART_DEFAULT);
    return;
  }
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)z[i];
    if (c < 0x20 || c == 0x7F || strchr(PART_ESCAPE, c)) {
      sl_buf_putc(b, '%');
      sl_buf_putc(b, hex[c >> 4]);
      sl_buf_putc(b, hex[c & 15]);
    } else {
      sl_buf_putc(b, (char)c);
    }
  }
  /* "." and ".." would name a directory that is not the partition's */
  if ((n == 1 && z[0] == '.') || (n == 2 && z[0] == '.' && z[1] == '.')) {
    b->n -= n;
    for (size_t i = 0; i < n; i++)
      sl_buf_puts(b, "%2E");
  }
}

/* Create directory d (one level) unless it exists, after authorizing it.
** 0, or -1 with err set. */
static int part_mkdir(part_sink *f, const char *d, sl_err *err) {
  struct stat st;
  if (stat(d, &st) == 0 && S_ISDIR(st.st_mode)) return 0;
  if (sl_authorize(f->auth, SLUICE_AUTH_WRITE, d, f->fn, err)) return -1;
  if (mkdir(d, 0755) != 0 && errno != EEXIST) {
    sl_err_set(err, SL_EIO, "cannot create directory '%s': %s", d, strerror(errno));
    return -1;
  }
  return 0;
}

/* The file of the row whose key is k[0..kn): its open descriptor (opened,
** its directories made, when needed).  -1 with err set. */
static int part_fd(part_sink *f, const char *k, size_t kn, sl_err *err) {
  sl_buf *p = &f->path;
  sl_buf_reset(p);
  sl_buf_puts(p, f->dir);
  size_t at = 0;
  for (int i = 0; i < f->nname; i++) {
    uint32_t len;
    if (at + sizeof len > kn) {
      sl_err_set(err, SL_EINTERNAL, "partitioned sink: a short key");
      return -1;
    }
    memcpy(&len, k + at, sizeof len);
    at += sizeof len;
    if (len != UINT32_MAX && at + len > kn) {
      sl_err_set(err, SL_EINTERNAL, "partitioned sink: a short key");
      return -1;
    }
    sl_buf_putc(p, '/');
    sl_buf_puts(p, f->names[i]);
    sl_buf_putc(p, '=');
    part_escape(p, len == UINT32_MAX ? NULL : k + at, len == UINT32_MAX ? 0 : len);
    if (len != UINT32_MAX) at += len;
  }
  sl_buf_puts(p, "/part-0.");
  sl_buf_puts(p, f->base.format->name);
  f->tick++;
  int lru = 0;
  for (int i = 0; i < PART_OPEN; i++) {
    if (f->open[i].path && strcmp(f->open[i].path, p->z) == 0) {
      f->open[i].used = f->tick;
      return f->open[i].fd;
    }
    if (!f->open[i].path || (f->open[lru].path && f->open[i].used < f->open[lru].used)) lru = i;
  }
  /* not open: make its directories, authorize it, open it */
  sl_buf_reset(&f->dirs);
  sl_buf_append(&f->dirs, p->z, p->n);
  for (size_t i = strlen(f->dir) + 1; i < f->dirs.n; i++)
    if (f->dirs.z[i] == '/') {
      f->dirs.z[i] = 0;
      int rc = part_mkdir(f, f->dirs.z, err);
      f->dirs.z[i] = '/';
      if (rc) return -1;
    }
  uint64_t h = sl_hash(p->z, p->n, 0);
  int seen = 0;
  for (size_t i = 0; i < f->nseen && !seen; i++)
    seen = f->seen_h[i] == h && strcmp(f->seen[i], p->z) == 0;
  if (!seen && sl_authorize(f->auth, SLUICE_AUTH_WRITE, p->z, f->fn, err)) return -1;
  int fresh = !seen && !f->append;
  int fd = open(p->z, O_WRONLY | O_CREAT | O_CLOEXEC | (fresh ? O_TRUNC : O_APPEND), 0644);
  if (fd < 0) {
    sl_err_set(err, SL_EIO, "cannot open '%s' for writing: %s", p->z, strerror(errno));
    return -1;
  }
  if (!fresh && lseek(fd, 0, SEEK_END) < 0) {
    close(fd);
    sl_err_set(err, SL_EIO, "'%s': %s", p->z, strerror(errno));
    return -1;
  }
  if (!seen) {
    if (f->nseen == f->capseen) {
      f->capseen = f->capseen ? 2 * f->capseen : 16;
      f->seen = sl_realloc(f->seen, f->capseen * sizeof *f->seen);
      f->seen_h = sl_realloc(f->seen_h, f->capseen * sizeof *f->seen_h);
    }
    f->seen[f->nseen] = sl_strdup(p->z);
    f->seen_h[f->nseen++] = h;
    /* a new file starts with the header (an appended one that is empty too) */
    struct stat st;
    if (f->have_header && fstat(fd, &st) == 0 && st.st_size == 0 &&
        write_all(fd, f->header.z, f->header.n) != 0) {
      sl_err_set(err, SL_EIO, "cannot write '%s': %s", p->z, strerror(errno));
      close(fd);
      return -1;
    }
  }
  if (f->open[lru].path) {
    close(f->open[lru].fd);
    free(f->open[lru].path);
  }
  f->open[lru].path = sl_strdup(p->z);
  f->open[lru].fd = fd;
  f->open[lru].used = f->tick;
  return fd;
}

static int part_write(sl_sink *s, const char *buf, const size_t *ends, int n, const char *keys,
                      const size_t *kends, const uint64_t *ids, sl_err *err) {
  part_sink *f = (part_sink *)s;
  (void)ids;
  if (!n) return 0;
  if (!keys) { /* the format's header: kept for the start of every file */
    sl_buf_reset(&f->header);
    sl_buf_append(&f->header, buf, ends[n - 1]);
    f->have_header = 1;
    return 0;
  }
  int bin = s->format->binary; /* records frame themselves: each without its newline */
  /* consecutive rows of one partition are written at once */
  for (int i = 0, j; i < n; i = j) {
    size_t k0 = i ? kends[i - 1] : 0, kl = kends[i] - k0;
    for (j = i + 1; j < n; j++) {
      size_t a = kends[j - 1], l = kends[j] - a;
      if (l != kl || memcmp(keys + a, keys + k0, kl) != 0) break;
    }
    int fd = part_fd(f, keys + k0, kl, err);
    if (fd < 0) return -1;
    int rc = 0;
    size_t b0 = i ? ends[i - 1] : 0;
    if (!bin) {
      rc = write_all(fd, buf + b0, ends[j - 1] - b0);
    } else {
      for (int r = i; r < j && !rc; r++) {
        size_t st = r ? ends[r - 1] : 0;
        if (ends[r] > st) rc = write_all(fd, buf + st, ends[r] - st - 1);
      }
    }
    if (rc) {
      sl_err_set(err, SL_EIO, "cannot write under '%s': %s", f->dir, strerror(errno));
      return -1;
    }
  }
  return 0;
}

static int part_flush(sl_sink *s, sl_err *err) {
  (void)s;
  (void)err;
  return 0;
}

static void part_close(sl_sink *s) {
  part_sink *f = (part_sink *)s;
  for (int i = 0; i < PART_OPEN; i++)
    if (f->open[i].path) {
      close(f->open[i].fd);
      free(f->open[i].path);
    }
  for (size_t i = 0; i < f->nseen; i++)
    free(f->seen[i]);
  free(f->seen);
  free(f->seen_h);
  for (int i = 0; i < f->nname; i++)
    free(f->names[i]);
  free(f->names);
  sl_buf_free(&f->header);
  sl_buf_free(&f->path);
  sl_buf_free(&f->dirs);
  free(s->part_cols);
  s->part_cols = NULL;
  sl_sink_fini(s);
  free(f->dir);
  free(f);
}

static const sl_sink_vt part_sink_vt = {"file", part_write, part_flush, part_close, NULL,
                                        NULL,   NULL,       NULL,       NULL,       NULL};

/* file('dir/', partition_by => 'a,b', format => ...): the sink above.  The
** directory (its path without the trailing '/') is authorized, and made
** (one level) when opening for a run (not when planning). */
static sl_sink *part_open_sink(sl_options *opts, const char *path, const char *cols, sl_err *err) {
  if (opts->exactly_once) {
    sl_err_set(err, SL_EBIND,
               "partition_by => cannot write exactly once (its files keep no checkpointed "
               "length)");
    return NULL;
  }
  size_t n = strlen(path);
  while (n > 1 && path[n - 1] == '/')
    n--;
  char *dir = sl_strndup(path, n);
  if (sl_opt_authorize(opts, SLUICE_AUTH_WRITE, dir, err)) { /* the directory, as a file */
    free(dir);
    return NULL;
  }
  part_sink *f = sl_calloc(1, sizeof *f);
  f->base.vt = &part_sink_vt;
  f->dir = dir;
  f->auth = opts->auth;
  f->fn = opts->fn;
  f->base.part_cols = sl_strdup(cols);
  const char *mode = sl_opt_str(opts, "mode", "overwrite");
  f->append = sl_stricmp(mode, "append") == 0 || opts->resume;
  if (sl_stricmp(mode, "append") != 0 && sl_stricmp(mode, "overwrite") != 0) {
    sl_err_set(err, SL_EBIND, "mode => takes 'overwrite' or 'append', not '%s'", mode);
    part_close(&f->base);
    return NULL;
  }
  for (const char *p = cols; *p;) { /* the names, as partition_by lists them */
    while (*p == ' ' || *p == ',')
      p++;
    const char *e = p;
    while (*e && *e != ',')
      e++;
    size_t l = (size_t)(e - p);
    while (l && p[l - 1] == ' ')
      l--;
    if (l) {
      f->names = sl_realloc(f->names, sizeof(char *) * (size_t)(f->nname + 1));
      f->names[f->nname++] = sl_strndup(p, l);
    }
    p = e;
  }
  sl_buf_init(&f->header);
  sl_buf_init(&f->path);
  sl_buf_init(&f->dirs);
  if (!f->nname) {
    sl_err_set(err, SL_EBIND, "partition_by => names no column");
    part_close(&f->base);
    return NULL;
  }
  if (sl_sink_init_format(&f->base, opts, "json", err) || sl_options_check(opts, err) ||
      (!opts->check_only && part_mkdir(f, f->dir, err))) {
    part_close(&f->base);
    return NULL;
  }
  return &f->base;
}

static sl_sink *file_open_sink(sl_options *opts, sl_err *err) {
  const char *path = sl_opt_str(opts, "0", NULL);
  if (!path) path = sl_opt_str(opts, "path", NULL);
  if (!path) {
    sl_err_set(err, SL_EBIND, "file() needs a path: file('out.json')");
    return NULL;
  }
  const char *part = sl_opt_str(opts, "partition_by", NULL);
  if (part) return part_open_sink(opts, path, part, err);
  if (sl_opt_authorize(opts, SLUICE_AUTH_WRITE, path, err)) return NULL;
  const char *mode = sl_opt_str(opts, "mode", "overwrite");
  int append = sl_stricmp(mode, "append") == 0;
  if (!append && sl_stricmp(mode, "overwrite") != 0) {
    sl_err_set(err, SL_EBIND, "mode => takes 'overwrite' or 'append', not '%s'", mode);
    return NULL;
  }
  file_sink *f = sl_calloc(1, sizeof *f);
  f->base.vt = &file_sink_vt;
  f->path = sl_strdup(path);
  f->fd = -1;
  f->own_fd = 1;
  if (sl_sink_init_format(&f->base, opts, format_for(path), err) || sl_options_check(opts, err)) {
    file_sink_close(&f->base);
    return NULL;
  }
  f->oflags = append && !opts->resume ? O_APPEND : 0;
  f->pending = append ? 2 : 1;
  if (opts->check_only) return &f->base; /* planning: the file is not touched */
  /* Check now that the file can be written (the error then has the
  ** statement's position), but change nothing: an existing file is opened
  ** as it is, a new one only created at the first use. */
  f->fd = open(path, O_WRONLY | O_CLOEXEC | f->oflags);
  if (f->fd < 0 && (errno != ENOENT || !dir_writable(path))) {
    sl_err_set(err, SL_EIO, "cannot open '%s' for writing: %s", path, strerror(errno));
    file_sink_close(&f->base);
    return NULL;
  }
  return &f->base;
}

static sl_sink *stdout_open_sink(sl_options *opts, sl_err *err) {
  if (sl_opt_authorize(opts, SLUICE_AUTH_STDIO, "stdout", err)) return NULL;
  file_sink *f = sl_calloc(1, sizeof *f);
  f->base.vt = &file_sink_vt;
  f->path = sl_strdup("stdout");
  f->fd = 1;
  f->lock = &stdout_lock;
  if (sl_sink_init_format(&f->base, opts, "json", err) || sl_options_check(opts, err)) {
    file_sink_close(&f->base);
    return NULL;
  }
  return &f->base;
}

const sl_connector sl_conn_file = {"file", file_open_source, file_open_sink};
const sl_connector sl_conn_stdin = {"stdin", stdin_open_source, NULL};
const sl_connector sl_conn_stdout = {"stdout", NULL, stdout_open_sink};
