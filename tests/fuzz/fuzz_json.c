/*
** fuzz_json.c - libFuzzer target for the JSON record format (src/fmt_json.c):
** framing, decoding with a declared schema and without one, and encoding
** the decoded row again (the driver: fuzz_format.h).
*/
#include "fuzz_format.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_format(&sl_fmt_json, data, size);
  return 0;
}
