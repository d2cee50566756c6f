/* bench/s1_cjson.c - the hand-written C peer of benchmark S1: what a programmer who
 * needs it fast writes without an engine.  For each JSON line of the input it parses
 * the record with cJSON, reads G1..G10 and User_ID, computes the logistic regression
 *   pred = 1/(1+exp(-(w0 + w1*G1 + ... + w10*G10)))
 * with the weights of bench/weights.txt, and writes {"User_ID":"...","pred":...} with
 * %.17g (which round-trips every double).  A record whose G fields are missing or not
 * numbers gets "pred":null, as SQL's NULL arithmetic would give; a line that is not
 * a JSON object is reported on stderr and skipped.
 *
 * Usage: s1_cjson WEIGHTS [IN|-] [OUT]     (IN defaults to stdin, OUT to stdout)
 * Built by `make bench` (Makefile.am) or by bench/run.sh; not part of the library. */
#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_WEIGHTS 11

/* Reads w0..w10 from the weights file at path (lines "wN VALUE"; lines starting with
 * '#' and blank lines are ignored) into w[0..10].  Returns 0 when all eleven were
 * found, -1 with a message on stderr otherwise.  The caller owns w. */
static int read_weights(const char *path, double w[N_WEIGHTS]) {
  FILE *f = fopen(path, "r");
  if (!f) {
    fprintf(stderr, "s1_cjson: %s: %s\n", path, strerror(errno));
    return -1;
  }
  int seen = 0;
  char buf[256];
  while (fgets(buf, sizeof buf, f)) {
    int idx;
    double v;
    if (buf[0] == '#') continue;
    if (sscanf(buf, " w%d %lf", &idx, &v) == 2 && idx >= 0 && idx < N_WEIGHTS) {
      w[idx] = v;
      seen |= 1 << idx;
    }
  }
  fclose(f);
  if (seen != (1 << N_WEIGHTS) - 1) {
    fprintf(stderr, "s1_cjson: %s: expected lines w0 .. w10\n", path);
    return -1;
  }
  return 0;
}

/* Computes the prediction for one parsed record into *pred.  Returns 1 when every
 * G1..G10 is a number, 0 when one is missing or not a number (the prediction is then
 * SQL NULL).  The record stays owned by the caller. */
static int predict(const cJSON *record, const double w[N_WEIGHTS], double *pred) {
  static const char *const names[10] = {"G1", "G2", "G3", "G4", "G5",
                                        "G6", "G7", "G8", "G9", "G10"};
  double z = w[0];
  for (int i = 0; i < 10; i++) {
    const cJSON *g = cJSON_GetObjectItemCaseSensitive(record, names[i]);
    if (!cJSON_IsNumber(g)) return 0;
    z = z + w[i + 1] * g->valuedouble;
  }
  *pred = 1.0 / (1.0 + exp(-z));
  return 1;
}

/* Writes one output line for a record to out: User_ID as a JSON string (null when it
 * is missing or not a string) and pred (%.17g, or null).  Plain ids are written as
 * they are; an id that needs escaping goes through cJSON's printer. */
static void write_result(FILE *out, const cJSON *record, int has_pred, double pred) {
  const cJSON *id = cJSON_GetObjectItemCaseSensitive(record, "User_ID");
  fputs("{\"User_ID\":", out);
  if (!cJSON_IsString(id)) {
    fputs("null", out);
  } else if (strpbrk(id->valuestring, "\"\\\b\f\n\r\t") == NULL) {
    fprintf(out, "\"%s\"", id->valuestring);
  } else {
    char *quoted = cJSON_PrintUnformatted(id);
    fputs(quoted, out);
    cJSON_free(quoted);
  }
  if (has_pred)
    fprintf(out, ",\"pred\":%.17g}\n", pred);
  else
    fputs(",\"pred\":null}\n", out);
}

/* Runs the benchmark job: see the file comment for the arguments.  Returns 0 on
 * success, 1 on a usage, weights or I/O error. */
int main(int argc, char **argv) {
  if (argc < 2 || argc > 4) {
    fprintf(stderr, "usage: s1_cjson WEIGHTS [IN|-] [OUT]\n");
    return 1;
  }
  double w[N_WEIGHTS];
  if (read_weights(argv[1], w) != 0) return 1;
  FILE *in = stdin, *out = stdout;
  if (argc > 2 && strcmp(argv[2], "-") != 0 && !(in = fopen(argv[2], "r"))) {
    fprintf(stderr, "s1_cjson: %s: %s\n", argv[2], strerror(errno));
    return 1;
  }
  if (argc > 3 && !(out = fopen(argv[3], "w"))) {
    fprintf(stderr, "s1_cjson: %s: %s\n", argv[3], strerror(errno));
    return 1;
  }
  static char outbuf[1 << 16];
  setvbuf(out, outbuf, _IOFBF, sizeof outbuf);

  char *line = NULL;
  size_t cap = 0;
  ssize_t len;
  long long lineno = 0;
  while ((len = getline(&line, &cap, in)) != -1) {
    lineno++;
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
      len--;
    if (len == 0) continue;
    cJSON *record = cJSON_ParseWithLength(line, (size_t)len);
    if (!cJSON_IsObject(record)) {
      fprintf(stderr, "s1_cjson: line %lld: not a JSON object\n", lineno);
      cJSON_Delete(record);
      continue;
    }
    double pred = 0;
    int has_pred = predict(record, w, &pred);
    write_result(out, record, has_pred, pred);
    cJSON_Delete(record);
  }
  free(line);
  int status = 0;
  if (ferror(in) || fflush(out) != 0 || ferror(out)) {
    fprintf(stderr, "s1_cjson: I/O error: %s\n", strerror(errno));
    status = 1;
  }
  if (in != stdin) fclose(in);
  if (out != stdout && fclose(out) != 0) status = 1;
  return status;
}
