/*
** model_swap_test.c - CREATE OR REPLACE MODEL under a running query.
**
** A query reads records from a named pipe and scores each with model m
** (a linear regression whose value is a constant: version A gives 1.0,
** version B gives 2.0) while the main thread feeds the pipe.  Midway the
** main thread replaces m through the public API.  The query must keep
** running; every output must be exactly 1.0 or 2.0 (never a half-loaded
** model); outputs before the swap are 1.0, and after the swap (once a
** record written after it comes back) 2.0; none is lost.  A failed
** replacement (a bad file) must leave version B in place.
*/
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sluice.h"

enum { N = 400 };
static double seen[N]; /* output per record n (0: not yet) */
static int nout, bad;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static char dir[64], fifo[128], sql[512];
static sluice *db;

static int on_row(void *ud, int ncol, const char *const *names, sluice_value **row) {
  (void)ud, (void)names;
  if (ncol != 2) return 1;
  int n = (int)sluice_value_int64(row[0]);
  double p = sluice_value_double(row[1]);
  pthread_mutex_lock(&mu);
  if (n < 0 || n >= N || seen[n] != 0 || (p != 1.0 && p != 2.0))
    bad++;
  else
    seen[n] = p;
  nout++;
  pthread_mutex_unlock(&mu);
  return 0;
}

static void *run_query(void *arg) {
  char *err = NULL;
  if (sluice_exec(db, sql, on_row, NULL, &err)) {
    fprintf(stderr, "query failed: %s\n", err ? err : "?");
    bad++;
  }
  free(err);
  (void)arg;
  return NULL;
}

static void write_model(const char *path, double intercept) {
  FILE *f = fopen(path, "w");
  fprintf(f,
          "{\"format\": \"sluice-model\", \"version\": 1, \"kind\": \"linear\", "
          "\"n_features\": 1, \"coef\": [[0.0]], \"intercept\": [%g], \"link\": \"identity\"}\n",
          intercept);
  fclose(f);
}

static int exec(const char *q) {
  char *err = NULL;
  int rc = sluice_exec(db, q, NULL, NULL, &err);
  if (rc) fprintf(stderr, "%s: %s\n", q, err ? err : "?");
  free(err);
  return rc;
}

/* Wait until record n has its output (up to 10 s). */
static double wait_for(int n) {
  for (int i = 0; i < 1000; i++) {
    pthread_mutex_lock(&mu);
    double p = seen[n];
    pthread_mutex_unlock(&mu);
    if (p != 0) return p;
    usleep(10000);
  }
  return 0;
}

int main(void) {
  const char *tmp = getenv("TMPDIR");
  char pattern[7] = {0}; /* mkdtemp's: six X, replaced by a unique name */
  memset(pattern, 'X', 6);
  snprintf(dir, sizeof dir, "%s/sluice-swap-%s", tmp && *tmp ? tmp : "/tmp", pattern);
  if (!mkdtemp(dir)) return 1;
  snprintf(fifo, sizeof fifo, "%s/in", dir);
  if (mkfifo(fifo, 0600)) return 1;
  char a[128], b[128], broken[128], q[512];
  snprintf(a, sizeof a, "%s/a.json", dir);
  snprintf(b, sizeof b, "%s/b.json", dir);
  snprintf(broken, sizeof broken, "%s/broken.json", dir);
  write_model(a, 1.0);
  write_model(b, 2.0);
  FILE *bf = fopen(broken, "w");
  fputs("{\"format\": \"sluice-model\", \"version\": 1, \"kind\": \"linear\", \"n_feat", bf);
  fclose(bf);
  db = sluice_open();
  snprintf(q, sizeof q, "CREATE MODEL m FROM '%s'", a);
  if (exec(q)) return 1;
  snprintf(sql, sizeof sql,
           "SELECT n, m(n) AS p FROM file('%s', format => 'json', columns => 'n INTEGER')", fifo);
  pthread_t th;
  pthread_create(&th, NULL, run_query, NULL);
  int fd = open(fifo, O_WRONLY);
  if (fd < 0) return 1;
  int fails = 0;
  char line[64];
  for (int n = 0; n < N; n++) {
    int len = snprintf(line, sizeof line, "{\"n\": %d}\n", n);
    if (write(fd, line, (size_t)len) != len) return 1;
    if (n == N / 2 - 1) {
      /* all of the first half is scored by A ... */
      if (wait_for(n) != 1.0) {
        fprintf(stderr, "record %d before the swap: %g\n", n, seen[n]);
        fails++;
      }
      snprintf(q, sizeof q, "CREATE OR REPLACE MODEL m FROM '%s'", b);
      if (exec(q)) fails++;
      snprintf(q, sizeof q, "CREATE OR REPLACE MODEL m FROM '%s'", broken);
      if (!exec(q)) {
        fprintf(stderr, "a broken replacement was accepted\n");
        fails++;
      }
    }
  }
  close(fd);
  pthread_join(th, NULL);
  for (int n = 0; n < N; n++) {
    double want = n < N / 2 ? 1.0 : 2.0;
    if (seen[n] != want) {
      fprintf(stderr, "record %d: %g, want %g\n", n, seen[n], want);
      fails++;
      break;
    }
  }
  printf("model_swap: %d outputs of %d, %d malformed, %d failures\n", nout, N, bad, fails);
  sluice_close(db);
  unlink(fifo);
  unlink(a);
  unlink(b);
  unlink(broken);
  rmdir(dir);
  return nout == N && !bad && !fails ? 0 : 1;
}
