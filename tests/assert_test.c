/*
** assert_test.c - SL_ASSERT (util.h) in the build it is compiled in.  Debug
** builds (SL_DEBUG, what scripts/test.sh configures, sanitizers and -O1
** included): a false assertion prints its file, line, function and
** condition and aborts, in this file and inside the engine's own objects (a
** contract broken through the library's API); a true one evaluates its
** condition once.  Release builds: the condition is not evaluated at all.
*/
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "util.h"
#include "value.h"

/* Run fn in a child with its stderr captured into err (size n); returns the
** child's wait status. */
static int in_child(void (*fn)(void), char *err, size_t n) {
  int fd[2];
  if (pipe(fd) != 0) return -1;
  fflush(NULL);
  pid_t pid = fork();
  if (pid == 0) {
    close(fd[0]);
    dup2(fd[1], 2);
    fn();
    _exit(0);
  }
  close(fd[1]);
  size_t got = 0;
  ssize_t k;
  while (got + 1 < n && (k = read(fd[0], err + got, n - 1 - got)) > 0)
    got += (size_t)k;
  err[got] = 0;
  close(fd[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  return status;
}

static void false_here(void) {
  int x = 2;
  SL_ASSERT(x + x == 5);
}

/* sl_value_commit_text beyond the room sl_value_text_space made: a broken
** contract of value.c, caught there. */
static void commit_past_room(void) {
  sl_value v = SL_VALUE_INIT;
  char *z = sl_value_text_space(&v, 4);
  memcpy(z, "abcd", 4);
  sl_value_commit_text(&v, (size_t)v.cap); /* the room is cap - 1 bytes */
}

/* An error recorded without a code (util.c). */
static void error_without_code(void) {
  sl_err e = {0};
  sl_err_set(&e, SL_OK, "no code");
}

static void expect_abort(void (*fn)(void), const char *what, const char *needle) {
  char err[2048];
  int status = in_child(fn, err, sizeof err);
  CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
        "%s: the child did not abort (status %d)", what, status);
  CHECK(strstr(err, needle) != NULL, "%s: '%s' not in: %s", what, needle, err);
}

int main(void) {
  int n = 0;
  SL_ASSERT(++n == 1);
#ifdef SL_DEBUG
  CHECK(n == 1, "a true SL_ASSERT evaluates its condition once (n = %d)", n);
  expect_abort(false_here, "SL_ASSERT here", "tests/assert_test.c:");
  expect_abort(false_here, "SL_ASSERT here", ": false_here: assertion failed: x + x == 5\n");
  expect_abort(commit_past_room, "value.c", "src/value.c:");
  expect_abort(commit_past_room, "value.c", ": sl_value_commit_text: assertion failed: ");
  expect_abort(error_without_code, "util.c", "err_vset: assertion failed: code != SL_OK");
  printf("assert_test: debug build, assertions active\n");
#else
  CHECK(n == 0, "a release SL_ASSERT must not evaluate its condition (n = %d)", n);
  printf("assert_test: release build, assertions compiled out\n");
#endif
  if (nfail) fprintf(stderr, "assert_test: %d failed\n", nfail);
  return nfail ? 1 : 0;
}
