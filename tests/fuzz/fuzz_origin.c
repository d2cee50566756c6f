/*
** fuzz_origin.c - libFuzzer target for the parser of the "sluice-origin"
** Kafka header (src/kafka.c's sl_kafka_parse_origin), whose value comes from
** whatever wrote the message.  Checks the parser against a reference written
** here from its contract (src/kafka.h): "<partition>:<offset>", decimal
** digits only (no sign, no spaces), leading zeros allowed, at most
** SL_ORIGIN_MAX bytes, partition 0 to 2^31-2, offset 0 to 2^63-1.  On
** success the outputs printed back are the input without its leading zeros;
** on failure the outputs are left as they were.
*/
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafka.h"

/* 1 when the digit run z[0..n) (n >= 1, digits only), as a number, is at
** most the number written in max (no leading zeros); the canonical form
** (z without its leading zeros, "0" for zero) goes to out (>= n + 1 bytes). */
static int at_most(const char *z, size_t n, const char *max, char *out) {
  size_t i = 0;
  while (i + 1 < n && z[i] == '0')
    i++;
  memcpy(out, z + i, n - i);
  out[n - i] = 0;
  size_t len = n - i, mlen = strlen(max);
  return len < mlen || (len == mlen && memcmp(out, max, len) <= 0);
}

/* The span of digits of z[i..n) from i. */
static size_t digits(const uint8_t *z, size_t i, size_t n) {
  while (i < n && z[i] >= '0' && z[i] <= '9')
    i++;
  return i;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* the reference: 1 and the canonical text when data is an origin */
  char canon_p[64], canon_o[64], want[160];
  int ok = 0;
  size_t colon = digits(data, 0, size);
  if (size <= SL_ORIGIN_MAX && colon > 0 && colon < size && data[colon] == ':') {
    size_t end = digits(data, colon + 1, size);
    if (end == size && end > colon + 1 &&
        at_most((const char *)data, colon, "2147483646", canon_p) &&
        at_most((const char *)data + colon + 1, end - colon - 1, "9223372036854775807", canon_o)) {
      ok = 1;
      snprintf(want, sizeof want, "%s:%s", canon_p, canon_o);
    }
  }

  /* the parser, over a copy of exactly size bytes (ASan sees any read past
  ** it); the outputs start as sentinels */
  char *z = malloc(size ? size : 1);
  if (!z) abort();
  if (size) memcpy(z, data, size);
  int32_t part = -7;
  int64_t pos = -9;
  int rc = sl_kafka_parse_origin(size ? z : "", size, &part, &pos);
  free(z);

  if (rc != 0 && rc != -1) abort(); /* 0 or -1, nothing else */
  if (ok != (rc == 0)) abort();     /* accepts exactly the origins */
  if (rc) {
    if (part != -7 || pos != -9) abort(); /* a failure writes nothing */
    return 0;
  }
  if (part < 0 || part > INT32_MAX - 1 || pos < 0) abort();
  char got[64];
  snprintf(got, sizeof got, "%" PRId32 ":%" PRId64, part, pos);
  if (strcmp(got, want)) abort(); /* printed back: the canonical input */
  return 0;
}
