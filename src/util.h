/*
** util.h - small infrastructure shared by every layer of sluice.
**
** Growable byte buffers (sl_buf), a chunked arena whose pointers stay valid
** until it is reset (sl_arena), a sticky error record (sl_err), checked
** allocation, and SL_ASSERT for invariants.  Nothing here knows about SQL.
*/
#ifndef SLUICE_UTIL_H
#define SLUICE_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* SL_ASSERT(cond): an invariant of the code, never a check of input (bad
** input gets an error).  Debug builds (--enable-debug defines SL_DEBUG)
** print "sluice: FILE:LINE: FUNCTION: assertion failed: COND" and abort
** when cond is false.  Release builds compile cond but never evaluate it, so
** it must not have side effects the program needs.  Checks too costly for a
** release build but worth a debug one go inside #ifdef SL_DEBUG. */
#ifdef SL_DEBUG
#define SL_ASSERT(cond) ((cond) ? (void)0 : sl_assert_fail(#cond, __FILE__, __LINE__, __func__))
#else
#define SL_ASSERT(cond) ((void)sizeof(!(cond)))
#endif
/* What a failed SL_ASSERT calls: the message above, then abort(). */
_Noreturn void sl_assert_fail(const char *cond, const char *file, int line, const char *func);

/* Checked allocation: abort with a message when the system is out of memory.
** Every allocation in sluice goes through these, so out-of-memory is one
** policy (a streaming engine that cannot allocate cannot make progress). */
void *sl_malloc(size_t n);
void *sl_calloc(size_t count, size_t n);
void *sl_realloc(void *p, size_t n);
char *sl_strdup(const char *z);
char *sl_strndup(const char *z, size_t n);
/* bytes for people, into out (room for 32): "812 bytes", "3.5 KiB",
** "64 MiB", "1.2 GiB" (powers of 1024, one decimal unless whole); returns out. */
char *sl_size_text(char *out, int64_t bytes);
/* printf into a fresh heap string; caller frees. */
char *sl_mprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *sl_vmprintf(const char *fmt, va_list ap);

/* A growable byte buffer.  z is always NUL-terminated when n > 0 or after
** any append.  The buffer owns z; sl_buf_free releases it.  Reset keeps the
** capacity, so a buffer reused per batch stops allocating after warm-up. */
typedef struct sl_buf {
  char *z;    /* bytes; NUL-terminated after every append */
  size_t n;   /* bytes used, not counting the terminator */
  size_t cap; /* bytes allocated */
} sl_buf;

void sl_buf_init(sl_buf *b);
void sl_buf_free(sl_buf *b);
static inline void sl_buf_reset(sl_buf *b) {
  b->n = 0;
  if (b->z) b->z[0] = 0;
}
/* Make room for at least `extra` more bytes (plus a terminator). */
void sl_buf_reserve(sl_buf *b, size_t extra);
void sl_buf_append(sl_buf *b, const void *p, size_t n);
void sl_buf_puts(sl_buf *b, const char *z);
static inline void sl_buf_putc(sl_buf *b, char c) {
  if (b->n + 2 > b->cap) sl_buf_reserve(b, 1);
  b->z[b->n++] = c;
  b->z[b->n] = 0;
}
void sl_buf_printf(sl_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sl_buf_vprintf(sl_buf *b, const char *fmt, va_list ap);

/* Per-thread scratch buffers for functions that build a result before copying
** it out (no allocation per row once warm).  sl_scratch(slot) returns this
** thread's buffer for slot, reset to empty; it stays valid on this thread
** until the next sl_scratch(slot) call.  The buffers belong to the thread and
** are freed when it exits (a server's connection threads come and go). */
enum { SL_SCRATCH_PRINTF, SL_SCRATCH_JSON, SL_SCRATCH_JSON_TREE, SL_SCRATCH_DATE, SL_SCRATCH_N };
sl_buf *sl_scratch(int slot);

/* A chunked arena: sl_arena_alloc returns memory that stays valid until
** sl_arena_reset or sl_arena_free.  Reset keeps the chunks for reuse, so an
** arena reset once per batch allocates nothing in steady state. */
typedef struct sl_arena_chunk sl_arena_chunk;
typedef struct sl_arena {
  sl_arena_chunk *head; /* chunk being filled */
  sl_arena_chunk *free; /* chunks kept by reset */
  size_t used;          /* bytes used in head */
} sl_arena;

void sl_arena_init(sl_arena *a);
void sl_arena_free(sl_arena *a);
void sl_arena_reset(sl_arena *a);
/* n bytes aligned to 8; never NULL. */
void *sl_arena_alloc(sl_arena *a, size_t n);
/* Copy n bytes into the arena and NUL-terminate; returns the copy. */
char *sl_arena_strndup(sl_arena *a, const char *z, size_t n);
/* A point in an arena's allocations (sl_arena_tell), to go back to with
** sl_arena_rewind: everything allocated since is released (the chunks kept
** for reuse, as by reset) and must no longer be used. */
typedef struct sl_arena_mark {
  sl_arena_chunk *head;
  size_t used;
} sl_arena_mark;
sl_arena_mark sl_arena_tell(const sl_arena *a);
void sl_arena_rewind(sl_arena *a, sl_arena_mark m);

/* A sticky error: the first error recorded wins; later ones are ignored until
** cleared.  msg is owned by the record.  Positions are 1-based; 0 = unknown. */
typedef struct sl_err {
  int code;  /* 0 = no error; otherwise one of SL_E* */
  char *msg; /* human-readable message, owned */
  int line;  /* source line of the offending token (SQL text), or 0 */
  int col;   /* source column, or 0 */
} sl_err;

enum {
  SL_OK = 0,
  SL_ESYNTAX = 1,  /* SQL syntax error */
  SL_EBIND = 2,    /* unknown name, wrong argument count, type error at bind */
  SL_ERUNTIME = 3, /* error while evaluating (function error, I/O) */
  SL_EIO = 4,      /* file or network I/O */
  SL_EFORMAT = 5,  /* malformed input record */
  SL_EINTERNAL = 6,
  SL_EAUTH = 7 /* refused by the authorizer (auth.h) */
};

void sl_err_set(sl_err *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void sl_err_setpos(sl_err *e, int code, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
void sl_err_clear(sl_err *e);
/* Move src into dst (dst cleared first); src is left empty. */
void sl_err_move(sl_err *dst, sl_err *src);

/* Read everything from f into a fresh NUL-terminated string (caller frees). */
char *sl_read_all(FILE *f);

/* ASCII case-insensitive comparisons (SQL identifiers are ASCII-folded). */
int sl_stricmp(const char *a, const char *b);
int sl_strnicmp(const char *a, const char *b, size_t n);
/* FNV-1a hash of n bytes, ASCII-folded to lower case when fold != 0. */
uint64_t sl_hash(const char *z, size_t n, int fold);

/* Clocks: monotonic milliseconds and microseconds (durations, intervals),
** and wall-clock milliseconds since the epoch (processing time). */
int64_t sl_clock_ms(void);
int64_t sl_clock_us(void);
int64_t sl_wall_ms(void);

/* Write code point c as UTF-8 at out (room for 4 bytes) and return the
** number of bytes written, as SQLite writes code points: surrogates
** (U+D800..U+DFFF) as three bytes each like any other; above U+10FFFF,
** U+FFFD. */
size_t sl_utf8_put(char *out, uint32_t c);
/* The offset of the first byte of z[0..n) that does not begin a well-formed
** UTF-8 sequence (an overlong form, a surrogate U+D800..U+DFFF, above
** U+10FFFF, a stray continuation byte, a sequence cut short), or n when all
** of it is UTF-8.  ASCII is checked 32, then 8 bytes at a time. */
size_t sl_utf8_check(const char *z, size_t n);
/* Copy z[0..n) to out (room for 3 * n bytes) with each maximal ill-formed
** subsequence replaced by U+FFFD (EF BF BD), as Unicode recommends; returns
** the length written. */
size_t sl_utf8_repair(const char *z, size_t n, char *out);

#define SL_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define SL_UNUSED(x) (void)(x)

#endif /* SLUICE_UTIL_H */
