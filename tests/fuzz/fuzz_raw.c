/*
** fuzz_raw.c - libFuzzer target for the RAW record format (src/fmt_raw.c):
** framing, decoding with a declared schema and without one, and encoding
** the decoded row again (the driver: fuzz_format.h).
*/
#include "fuzz_format.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_format(&sl_fmt_raw, data, size);
  return 0;
}
