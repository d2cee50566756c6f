/*
** engine_int.h - struct sluice, for the engine's own files (engine.c, the
** planner and runtime, extensions) and white-box tests.  The command line,
** shell and server use engine.h only, so the compiler keeps them out of it.
*/
#ifndef SLUICE_ENGINE_INT_H
#define SLUICE_ENGINE_INT_H

#include <signal.h>

#include "auth.h"
#include "catalog.h"
#include "engine.h"

typedef struct sl_parse_node {
  sl_parse parse;
  char *sql; /* owned copy of the script text */
  struct sl_parse_node *next;
} sl_parse_node;

struct sluice {
  sl_catalog cat;
  sl_parse_node *parses; /* every parsed script, kept for the catalog's pointers */
  volatile sig_atomic_t interrupted;
  sl_plan *planning;         /* deferred mode: the script's queries, planned so far */
  sl_run *pending;           /* deferred mode: the last script's queries, ready to start */
  int nquery;                /* queries planned so far (for ids q1, q2, ...) */
  sl_buf stats;              /* per-query counts of the queries run (the caller resets it) */
  struct sl_ckpt *ckpt;      /* the checkpoint store of SET state_dir, opened at the first run */
  char *ckpt_dir;            /* the directory it was opened for */
  struct sl_ckpt **old_ckpt; /* stores of earlier state_dirs: runs may hold them (owned) */
  char **old_ckpt_dir;       /* their directories (owned) */
  int nold_ckpt;
  const sl_engine_hooks *hooks; /* a server's, or NULL */
  sl_auth auth;                 /* the authorizer every outside action passes (auth.h) */
  int64_t nchange; /* statements executed that may change the catalog or plan a query */
};

#endif /* SLUICE_ENGINE_INT_H */
