/* bench/gen_s1.c - writes the input of benchmark S1: JSON lines shaped like the
 * messages of the S1 article's `dsp` topic,
 *   {"G1": 1, "G2": 0, ..., "G10": 0, "User_ID": "4be94cd4-21e7-11ea-ae04-8c8590b3eee6"}
 * (keys and spacing as Python's json.dumps writes them, as the article's producer does).
 * G1..G10 are independent 0/1 flags whose probabilities are the column means of the
 * S1 training set (games-expand.csv), so about 13%..31% of them are 1.  User_ID is a
 * version-1 UUID string: a 60-bit timestamp in 100 ns ticks that advances by a random
 * step per record, a clock sequence and a node id drawn from a few "hosts".
 * Deterministic: the same seed and count give the same bytes on every machine (the
 * generator is splitmix64 and no floating point decides anything at run time).
 *
 * Usage: gen_s1 [-n COUNT] [-s SEED] [OUT]     (defaults: 1000000 records, seed 1, stdout)
 * Built by bench/run.sh with the C compiler; not part of the library. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Probability that Gi is 1, as a threshold on a uniform 32-bit number: the column
 * means of games-expand.csv (G1..G10). */
#define P32(p) ((uint32_t)((p)*4294967296.0))
static const uint32_t g_threshold[10] = {P32(0.2296), P32(0.1319), P32(0.2191), P32(0.0868),
                                         P32(0.2066), P32(0.1215), P32(0.2727), P32(0.3092),
                                         P32(0.0599), P32(0.1340)};

/* Number of distinct node ids (hosts) the UUIDs are spread over. */
#define N_NODES 8

/* splitmix64: advances *state and returns the next 64 uniformly distributed bits.
 * The caller owns the state; no memory is involved. */
static uint64_t next_rand(uint64_t *state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/* Writes the low 4*ndigits bits of v as lowercase hex, most significant digit first,
 * to out[0..ndigits-1], and returns out + ndigits.  The caller owns out and must
 * leave room for ndigits bytes; nothing is terminated. */
static char *put_hex(char *out, uint64_t v, int ndigits) {
  static const char digits[] = "0123456789abcdef";
  for (int i = ndigits - 1; i >= 0; i--) {
    out[i] = digits[v & 15];
    v >>= 4;
  }
  return out + ndigits;
}

/* Formats one record into line (which must hold at least 200 bytes) and returns its
 * length, newline included; no terminating NUL.  flags holds G1..G10 as bits 0..9;
 * ts is the 60-bit UUID timestamp, clock_seq the 14-bit clock sequence, node the
 * 48-bit node id. */
static size_t format_record(char *line, unsigned flags, uint64_t ts, unsigned clock_seq,
                            uint64_t node) {
  char *p = line;
  *p++ = '{';
  for (int i = 0; i < 10; i++) {
    if (i) *p++ = ',', *p++ = ' ';
    *p++ = '"', *p++ = 'G';
    if (i == 9)
      *p++ = '1', *p++ = '0';
    else
      *p++ = (char)('1' + i);
    *p++ = '"', *p++ = ':', *p++ = ' ';
    *p++ = (char)('0' + ((flags >> i) & 1u));
  }
  memcpy(p, ", \"User_ID\": \"", 14);
  p += 14;
  p = put_hex(p, ts & 0xFFFFFFFFull, 8); /* time_low */
  *p++ = '-';
  p = put_hex(p, (ts >> 32) & 0xFFFF, 4); /* time_mid */
  *p++ = '-';
  p = put_hex(p, 0x1000 | ((ts >> 48) & 0x0FFF), 4); /* version 1 + time_hi */
  *p++ = '-';
  p = put_hex(p, 0x8000 | (clock_seq & 0x3FFF), 4); /* RFC 4122 variant + clock_seq */
  *p++ = '-';
  p = put_hex(p, node, 12);
  memcpy(p, "\"}\n", 3);
  p += 3;
  return (size_t)(p - line);
}

/* Parses the options, then writes COUNT records to OUT (or stdout).  Exits 0 on
 * success and 1 with a message on a usage or I/O error. */
int main(int argc, char **argv) {
  long long count = 1000000;
  uint64_t seed = 1;
  const char *out_path = NULL;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "-n") == 0 && i + 1 < argc) {
      count = strtoll(argv[++i], NULL, 10);
    } else if (strcmp(argv[i], "-s") == 0 && i + 1 < argc) {
      seed = strtoull(argv[++i], NULL, 10);
    } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
      fprintf(stderr, "usage: gen_s1 [-n COUNT] [-s SEED] [OUT]\n");
      return 1;
    } else {
      out_path = argv[i];
    }
  }
  FILE *out = out_path ? fopen(out_path, "w") : stdout;
  if (!out) {
    fprintf(stderr, "gen_s1: %s: %s\n", out_path, strerror(errno));
    return 1;
  }
  static char outbuf[1 << 20];
  setvbuf(out, outbuf, _IOFBF, sizeof outbuf);

  uint64_t state = seed;
  uint64_t nodes[N_NODES];
  unsigned clock_seqs[N_NODES];
  for (int i = 0; i < N_NODES; i++) {
    nodes[i] = next_rand(&state) & 0xFFFFFFFFFFFFull;
    clock_seqs[i] = (unsigned)(next_rand(&state) & 0x3FFF);
  }
  /* 2019-12-17, the week of the article's example id 4be94cd4-21e7-11ea-... */
  uint64_t ts = 0x1EA21E74BE94CD4ull;
  char line[256];
  for (long long n = 0; n < count; n++) {
    uint64_t r = next_rand(&state);
    unsigned flags = 0;
    for (int i = 0; i < 10; i += 2) { /* two 32-bit draws per 64-bit number */
      uint64_t bits = next_rand(&state);
      if ((uint32_t)bits < g_threshold[i]) flags |= 1u << i;
      if ((uint32_t)(bits >> 32) < g_threshold[i + 1]) flags |= 1u << (i + 1);
    }
    ts += 1 + (r & 0xFFFF); /* up to 6.5 ms between ids */
    int host = (int)((r >> 40) % N_NODES);
    size_t len = format_record(line, flags, ts, clock_seqs[host], nodes[host]);
    if (fwrite(line, 1, len, out) != len) break;
  }
  if (fflush(out) != 0 || ferror(out) || (out != stdout && fclose(out) != 0)) {
    fprintf(stderr, "gen_s1: write error: %s\n", strerror(errno));
    return 1;
  }
  return 0;
}
