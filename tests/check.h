/*
** check.h - the failure tally of the C tests: CHECK(cond, fmt, ...) counts a
** failed check in nfail (of ncheck made) and prints "FAIL file:line: message" to stderr; a
** test's main returns nfail ? 1 : 0.  Include it once, from the test's file.
*/
#ifndef SLUICE_TESTS_CHECK_H
#define SLUICE_TESTS_CHECK_H

#include <stdio.h>

static int nfail, ncheck;

#define CHECK(cond, ...)                                                                           \
  do {                                                                                             \
    ncheck++;                                                                                      \
    if (!(cond)) {                                                                                 \
      nfail++;                                                                                     \
      fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                                         \
      fprintf(stderr, __VA_ARGS__);                                                                \
      fputc('\n', stderr);                                                                         \
    }                                                                                              \
  } while (0)

#endif /* SLUICE_TESTS_CHECK_H */
