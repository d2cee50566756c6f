/*
** util.c - checked allocation, growable buffers, arenas, sticky errors,
** string helpers and the failure path of SL_ASSERT (see util.h for the
** contracts).
*/
#include "util.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>

static void oom(size_t n) {
  fprintf(stderr, "sluice: out of memory (allocating %zu bytes)\n", n);
  abort();
}

void sl_assert_fail(const char *cond, const char *file, int line, const char *func) {
  fprintf(stderr, "sluice: %s:%d: %s: assertion failed: %s\n", file, line, func, cond);
  abort();
}

void *sl_malloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p) oom(n);
  return p;
}

void *sl_calloc(size_t count, size_t n) {
  void *p = calloc(count ? count : 1, n ? n : 1);
  if (!p) oom(count * n);
  return p;
}

void *sl_realloc(void *p, size_t n) {
  void *q = realloc(p, n ? n : 1);
  if (!q) oom(n);
  return q;
}

char *sl_strndup(const char *z, size_t n) {
  char *p = sl_malloc(n + 1);
  memcpy(p, z, n);
  p[n] = 0;
  return p;
}

char *sl_strdup(const char *z) {
  return sl_strndup(z, strlen(z));
}

char *sl_vmprintf(const char *fmt, va_list ap) {
  sl_buf b;
  sl_buf_init(&b);
  sl_buf_vprintf(&b, fmt, ap);
  if (!b.z) return sl_strdup("");
  return b.z;
}

char *sl_size_text(char *out, int64_t bytes) {
  static const char *const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
  if (bytes < 1024) {
    snprintf(out, 32, "%lld byte%s", (long long)bytes, bytes == 1 ? "" : "s");
    return out;
  }
  double x = (double)bytes;
  int u = -1;
  while (x >= 1024 && u < 4) {
    x /= 1024;
    u++;
  }
  if (x == (double)(int64_t)x)
    snprintf(out, 32, "%lld %s", (long long)x, units[u]);
  else
    snprintf(out, 32, "%.1f %s", x, units[u]);
  return out;
}

char *sl_mprintf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *z = sl_vmprintf(fmt, ap);
  va_end(ap);
  return z;
}

/* ---- sl_buf ---------------------------------------------------------------- */

/* The invariant of a buffer: empty and unallocated, or n bytes plus the
** terminator inside cap. */
static inline int buf_ok(const sl_buf *b) {
  return b->z ? b->n < b->cap : b->n == 0 && b->cap == 0;
}

void sl_buf_init(sl_buf *b) {
  b->z = NULL;
  b->n = 0;
  b->cap = 0;
}

void sl_buf_free(sl_buf *b) {
  free(b->z);
  sl_buf_init(b);
}

void sl_buf_reserve(sl_buf *b, size_t extra) {
  SL_ASSERT(buf_ok(b));
  size_t need = b->n + extra + 1;
  SL_ASSERT(need > b->n); /* no wrap-around */
  if (need <= b->cap) return;
  size_t cap = b->cap ? b->cap : 64;
  while (cap < need)
    cap *= 2;
  b->z = sl_realloc(b->z, cap);
  b->cap = cap;
}

void sl_buf_append(sl_buf *b, const void *p, size_t n) {
  sl_buf_reserve(b, n);
  if (n) memcpy(b->z + b->n, p, n);
  b->n += n;
  b->z[b->n] = 0;
  SL_ASSERT(buf_ok(b));
}

void sl_buf_puts(sl_buf *b, const char *z) {
  sl_buf_append(b, z, strlen(z));
}

void sl_buf_vprintf(sl_buf *b, const char *fmt, va_list ap) {
  va_list ap2;
  va_copy(ap2, ap);
  char tmp[256];
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap2);
  va_end(ap2);
  if (n < 0) return;
  if ((size_t)n < sizeof tmp) {
    sl_buf_append(b, tmp, (size_t)n);
    return;
  }
  sl_buf_reserve(b, (size_t)n);
  int again = vsnprintf(b->z + b->n, (size_t)n + 1, fmt, ap);
  SL_ASSERT(again == n); /* the same arguments give the same text */
  b->n += (size_t)n;
}

/* This thread's scratch buffers (allocated on first use), and the key whose
** destructor frees them when the thread exits. */
static _Thread_local sl_buf *t_scratch;
static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;

static void scratch_free(void *p) {
  sl_buf *b = p;
  for (int i = 0; i < SL_SCRATCH_N; i++)
    sl_buf_free(&b[i]);
  free(b);
}

static void scratch_key_init(void) {
  if (pthread_key_create(&scratch_key, scratch_free) != 0) oom(0);
}

sl_buf *sl_scratch(int slot) {
  SL_ASSERT(slot >= 0 && slot < SL_SCRATCH_N);
  if (!t_scratch) {
    pthread_once(&scratch_once, scratch_key_init);
    t_scratch = sl_calloc(SL_SCRATCH_N, sizeof *t_scratch);
    pthread_setspecific(scratch_key, t_scratch);
  }
  sl_buf *b = &t_scratch[slot];
  sl_buf_reset(b);
  return b;
}

void sl_buf_printf(sl_buf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  sl_buf_vprintf(b, fmt, ap);
  va_end(ap);
}

/* ---- sl_arena -------------------------------------------------------------- */

#define SL_ARENA_CHUNK 65536

struct sl_arena_chunk {
  sl_arena_chunk *next;
  size_t size; /* usable bytes in data */
  char data[];
};

void sl_arena_init(sl_arena *a) {
  a->head = NULL;
  a->free = NULL;
  a->used = 0;
}

static void free_chain(sl_arena_chunk *c) {
  while (c) {
    sl_arena_chunk *next = c->next;
    free(c);
    c = next;
  }
}

void sl_arena_free(sl_arena *a) {
  free_chain(a->head);
  free_chain(a->free);
  sl_arena_init(a);
}

void sl_arena_reset(sl_arena *a) {
  /* Keep every chunk: move the used chain onto the free list. */
  while (a->head) {
    sl_arena_chunk *next = a->head->next;
    a->head->next = a->free;
    a->free = a->head;
    a->head = next;
  }
  a->used = 0;
}

sl_arena_mark sl_arena_tell(const sl_arena *a) {
  sl_arena_mark m = {a->head, a->used};
  return m;
}

void sl_arena_rewind(sl_arena *a, sl_arena_mark m) {
  /* the chunks started since m are the ones in front of m.head */
  int popped = 0;
  while (a->head != m.head) {
    SL_ASSERT(a->head); /* m is from this arena, and not from before a reset */
    sl_arena_chunk *next = a->head->next;
    a->head->next = a->free;
    a->free = a->head;
    a->head = next;
    popped = 1;
  }
  SL_ASSERT(popped || m.used <= a->used); /* no going forward */
  a->used = m.used;
}

void *sl_arena_alloc(sl_arena *a, size_t n) {
  SL_ASSERT(n <= SIZE_MAX - sizeof(sl_arena_chunk) - 7);
  SL_ASSERT(!a->head || a->used <= a->head->size);
  n = (n + 7) & ~(size_t)7;
  if (!a->head || a->used + n > a->head->size) {
    sl_arena_chunk *c = NULL;
    /* Reuse a kept chunk that is big enough. */
    for (sl_arena_chunk **pp = &a->free; *pp; pp = &(*pp)->next) {
      if ((*pp)->size >= n) {
        c = *pp;
        *pp = c->next;
        break;
      }
    }
    if (!c) {
      /* Start small (most arenas hold one statement or one batch of a few
      ** rows) and use full chunks once the arena has grown. */
      size_t chunk = a->head ? SL_ARENA_CHUNK : 4096 - sizeof(sl_arena_chunk);
      size_t size = n > chunk ? n : chunk;
      c = sl_malloc(sizeof(sl_arena_chunk) + size);
      c->size = size;
    }
    c->next = a->head;
    a->head = c;
    a->used = 0;
  }
  void *p = a->head->data + a->used;
  a->used += n;
  SL_ASSERT(a->used <= a->head->size);
  SL_ASSERT(((uintptr_t)p & 7) == 0);
  return p;
}

char *sl_arena_strndup(sl_arena *a, const char *z, size_t n) {
  char *p = sl_arena_alloc(a, n + 1);
  if (n) memcpy(p, z, n);
  p[n] = 0;
  return p;
}

/* ---- sl_err ------------------------------------------------------------------ */

static void err_vset(sl_err *e, int code, int line, int col, const char *fmt, va_list ap) {
  SL_ASSERT(code != SL_OK); /* an error without a code would be no error */
  if (e->code) return;      /* sticky: the first error wins */
  e->code = code;
  e->line = line;
  e->col = col;
  e->msg = sl_vmprintf(fmt, ap);
}

void sl_err_set(sl_err *e, int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  err_vset(e, code, 0, 0, fmt, ap);
  va_end(ap);
}

void sl_err_setpos(sl_err *e, int code, int line, int col, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  err_vset(e, code, line, col, fmt, ap);
  va_end(ap);
}

void sl_err_clear(sl_err *e) {
  free(e->msg);
  e->msg = NULL;
  e->code = 0;
  e->line = e->col = 0;
}

void sl_err_move(sl_err *dst, sl_err *src) {
  SL_ASSERT(dst != src);
  sl_err_clear(dst);
  *dst = *src;
  src->msg = NULL;
  src->code = 0;
  src->line = src->col = 0;
}

char *sl_read_all(FILE *f) {
  sl_buf b;
  sl_buf_init(&b);
  char tmp[65536];
  size_t n;
  while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
    sl_buf_append(&b, tmp, n);
  return b.z ? b.z : sl_strdup("");
}

/* ---- strings ------------------------------------------------------------------ */

static inline int lower(int c) {
  return (c >= 'A' && c <= 'Z') ? c + 32 : c;
}

int sl_stricmp(const char *a, const char *b) {
  for (;; a++, b++) {
    int ca = lower((unsigned char)*a), cb = lower((unsigned char)*b);
    if (ca != cb || !ca) return ca - cb;
  }
}

int sl_strnicmp(const char *a, const char *b, size_t n) {
  for (size_t i = 0; i < n; i++) {
    int ca = lower((unsigned char)a[i]), cb = lower((unsigned char)b[i]);
    if (ca != cb || !ca) return ca - cb;
  }
  return 0;
}

uint64_t sl_hash(const char *z, size_t n, int fold) {
  uint64_t h = 1469598103934665603ULL;
  for (size_t i = 0; i < n; i++) {
    unsigned c = (unsigned char)z[i];
    if (fold) c = (unsigned)lower((int)c);
    h = (h ^ c) * 1099511628211ULL;
  }
  return h;
}

int64_t sl_clock_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t sl_clock_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t sl_wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The length of the well-formed UTF-8 sequence at z[0..n) (n >= 1), or 0
** when it is not one, with *sub set to the length of its maximal ill-formed
** subpart (at least 1): the bytes one U+FFFD replaces. */
static size_t utf8_seq(const unsigned char *z, size_t n, size_t *sub) {
  unsigned c = z[0], lo = 0x80, hi = 0xBF;
  size_t need;
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) {
    need = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    need = 3;
    if (c == 0xE0) lo = 0xA0; /* overlong */
    if (c == 0xED) hi = 0x9F; /* surrogates */
  } else if (c >= 0xF0 && c <= 0xF4) {
    need = 4;
    if (c == 0xF0) lo = 0x90; /* overlong */
    if (c == 0xF4) hi = 0x8F; /* above U+10FFFF */
  } else {
    *sub = 1;
    return 0;
  }
  size_t i = 1;
  for (; i < need && i < n; i++) {
    unsigned b = z[i];
    if (i == 1 ? b < lo || b > hi : b < 0x80 || b > 0xBF) break;
  }
  if (i == need) return need;
  *sub = i;
  return 0;
}

size_t sl_utf8_check(const char *z, size_t n) {
  const uint64_t high = 0x8080808080808080ULL; /* the top bit of every byte */
  const unsigned char *u = (const unsigned char *)z;
  size_t i = 0, sub;
  while (i < n) {
    /* ASCII 32 bytes at a time, then 8, then one: a record of JSON or CSV
    ** is mostly ASCII, and only a byte with its top bit set needs a look */
    for (uint64_t a, b, c, d; i + 32 <= n; i += 32) {
      memcpy(&a, u + i, 8);
      memcpy(&b, u + i + 8, 8);
      memcpy(&c, u + i + 16, 8);
      memcpy(&d, u + i + 24, 8);
      if ((a | b | c | d) & high) break;
    }
    for (uint64_t w; i + 8 <= n; i += 8) {
      memcpy(&w, u + i, 8);
      if (w & high) break;
    }
    while (i < n && u[i] < 0x80)
      i++;
    if (i == n) break;
    size_t k = utf8_seq(u + i, n - i, &sub);
    if (!k) return i;
    i += k;
  }
  return n;
}

size_t sl_utf8_repair(const char *z, size_t n, char *out) {
  const unsigned char *u = (const unsigned char *)z;
  size_t i = 0, j = 0, sub;
  while (i < n) {
    size_t k = utf8_seq(u + i, n - i, &sub);
    if (k) {
      memcpy(out + j, z + i, k);
      j += k;
      i += k;
    } else {
      memcpy(out + j, "\xEF\xBF\xBD", 3);
      j += 3;
      i += sub;
    }
  }
  return j;
}

size_t sl_utf8_put(char *out, uint32_t c) {
  if (c < 0x80) {
    out[0] = (char)c;
    return 1;
  }
  if (c < 0x800) {
    out[0] = (char)(0xC0 | (c >> 6));
    out[1] = (char)(0x80 | (c & 0x3F));
    return 2;
  }
  if (c > 0x10FFFF) c = 0xFFFD;
  if (c < 0x10000) {
    out[0] = (char)(0xE0 | (c >> 12));
    out[1] = (char)(0x80 | ((c >> 6) & 0x3F));
    out[2] = (char)(0x80 | (c & 0x3F));
    return 3;
  }
  out[0] = (char)(0xF0 | (c >> 18));
  out[1] = (char)(0x80 | ((c >> 12) & 0x3F));
  out[2] = (char)(0x80 | ((c >> 6) & 0x3F));
  out[3] = (char)(0x80 | (c & 0x3F));
  return 4;
}
