/*
** fuzz_flink.c - libFuzzer target for the Flink functions (src/func_flink.c),
** whose pattern and text arguments may come from the data: DATE_FORMAT's
** SimpleDateFormat pattern, REGEXP_EXTRACT's Java-to-POSIX translation and
** matching, SPLIT_INDEX, and the timestamp texts HOUR and DATE_FORMAT read.
** Input: one byte picking the function and the index, then the first
** argument's bytes, a 0xFF byte, the second argument's bytes.
*/
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "func.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  unsigned pick = data[0];
  const char *z = (const char *)data + 1;
  size_t n = size - 1;
  const char *sep = memchr(z, 0xFF, n);
  size_t n1 = sep ? (size_t)(sep - z) : n;
  const char *z2 = sep ? sep + 1 : "";
  size_t n2 = sep ? n - n1 - 1 : 0;
  /* the texts as a source hands them: borrowed, not NUL-terminated */
  char *a = malloc(n1 ? n1 : 1), *b = malloc(n2 ? n2 : 1);
  memcpy(a, z, n1);
  memcpy(b, z2, n2);
  sl_value v0 = SL_VALUE_INIT, v1 = SL_VALUE_INIT, v2 = SL_VALUE_INIT, out = SL_VALUE_INIT;
  sl_value_borrow_text(&v0, a, n1, 0);
  sl_value_borrow_text(&v1, b, n2, 0);
  sl_value_set_int(&v2, (int64_t)(pick >> 3) - 4);
  sl_value *argv[3] = {&v0, &v1, &v2};
  sl_buf msg;
  sl_buf_init(&msg);
  int nf = 0;
  while (sl_builtin_flink[nf].name)
    nf++;
  int k = (int)(pick % 8) % nf;
  const sl_func *f = &sl_builtin_flink[k];
  if ((pick & 7) == 7) { /* DATE_FORMAT of an integer time: every pattern */
    sl_value_set_int(&v0, (int64_t)((pick * 2654435761u) % 4000000000000u) - 1000000000000);
    for (f = sl_builtin_flink; strcmp(f->name, "date_format") != 0;)
      f++;
  }
  sl_fctx ctx;
  memset(&ctx, 0, sizeof ctx);
  ctx.def = f;
  ctx.out = &out;
  ctx.errmsg = &msg;
  f->xFunc(&ctx, f->nargs, argv);
  if (out.type == SL_TEXT && out.n > 0) {
    volatile char s = 0;
    for (uint32_t i = 0; i < out.n; i++)
      s ^= out.u.z[i];
    (void)s;
  }
  sl_value_free(&v0);
  sl_value_free(&v1);
  sl_value_free(&out);
  sl_buf_free(&msg);
  free(a);
  free(b);
  return 0;
}
