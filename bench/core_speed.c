/*
** bench/core_speed.c - how fast each core of this machine runs the same
** loop, pinned to it (sched_setaffinity), alone: a virtual machine's cores
** can differ (on the 2-core machines here, one was at times under half
** the other's speed for minutes).  Prints one line per core: its number
** and the loop's seconds.  bench/parallel_run.sh prints it beside the
** speedups, whose bound it gives: two tasks on cores of speeds a >= b do
** at most (a + b) / a times the work of one task on the faster core.
*/
#define _GNU_SOURCE
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

/* A loop of integer multiply-adds the compiler cannot drop: seconds taken. */
static double spin(void) {
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  volatile uint64_t x = 0;
  for (uint64_t i = 0; i < 400000000u; i++)
    x += i * i;
  clock_gettime(CLOCK_MONOTONIC, &b);
  return (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
}

int main(void) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  for (long c = 0; c < n; c++) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET((int)c, &set);
    if (sched_setaffinity(0, sizeof set, &set)) continue; /* not ours to use */
    printf("%ld %.3f\n", c, spin());
  }
  return 0;
}
