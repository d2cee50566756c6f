/*
** main.c - the sluice command line: `sluice run FILE.sql`, `sluice -e SQL`,
** `sluice < file.sql`, and the interactive shell when run on a terminal.
*/
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"
#include "output.h"
#include "shell.h"

static const char *usage =
    "usage: sluice [OPTIONS] [run FILE.sql | -e SQL]\n"
    "\n"
    "  sluice run FILE.sql   run the statements of FILE; continuous queries start together\n"
    "  sluice -e 'SQL'       run SQL given on the command line\n"
    "  sluice < FILE.sql     run statements read from standard input\n"
    "  sluice                the interactive shell (on a terminal)\n"
    "\n"
    "options:\n"
    "  --format table|csv|json   how rows of a SELECT without INTO are printed\n"
    "                            (default: table on a terminal, json otherwise)\n"
    "  --stats                   print per-query counts (in, out, rejected) at the end\n"
    "  --help, --version\n";

static sluice *g_db;

static void on_signal(int sig) {
  (void)sig;
  if (g_db) sluice_interrupt(g_db);
}

int main(int argc, char **argv) {
  const char *file = NULL, *sql = NULL;
  int fmt = isatty(1) ? SL_OUT_TABLE : SL_OUT_JSON;
  int stats = 0, run = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      fputs(usage, stdout);
      return 0;
    } else if (!strcmp(a, "--version")) {
      printf("sluice %s\n", SLUICE_VERSION);
      return 0;
    } else if (!strcmp(a, "--stats")) {
      stats = 1;
    } else if (!strcmp(a, "--format") || !strncmp(a, "--format=", 9)) {
      const char *v = a[8] == '=' ? a + 9 : (i + 1 < argc ? argv[++i] : "");
      fmt = sl_outfmt_parse(v);
      if (fmt < 0) {
        fprintf(stderr, "sluice: --format takes table, csv or json, not '%s'\n", v);
        return 2;
      }
    } else if (!strcmp(a, "-e")) {
      if (i + 1 >= argc) {
        fprintf(stderr, "sluice: -e needs SQL\n%s", usage);
        return 2;
      }
      sql = argv[++i];
    } else if (!strcmp(a, "run") && !run) {
      run = 1; /* the file is the next argument that is not an option */
    } else if (run && !file && a[0] != '-') {
      file = a;
    } else {
      fprintf(stderr, "sluice: unknown argument '%s'\n%s", a, usage);
      return 2;
    }
  }

  if (run && !file) {
    fprintf(stderr, "sluice: run needs a FILE.sql\n%s", usage);
    return 2;
  }
  sluice *db = sluice_open();
  g_db = db;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  sl_printer out;
  sl_printer_init(&out, (sl_outfmt)fmt, stdout);
  int rc;
  if (file) {
    FILE *f = fopen(file, "rb");
    if (!f) {
      fprintf(stderr, "sluice: cannot open '%s': %s\n", file, strerror(errno));
      rc = 1;
    } else {
      char *text = sl_read_all(f);
      fclose(f);
      rc = sl_run_script(db, file, text, &out, stats);
      free(text);
    }
  } else if (sql) {
    rc = sl_run_script(db, NULL, sql, &out, stats);
  } else if (!isatty(0)) {
    char *text = sl_read_all(stdin);
    rc = sl_run_script(db, "stdin", text, &out, stats);
    free(text);
  } else {
    rc = sl_shell_run(db, &out);
  }
  fflush(stdout);
  sl_printer_free(&out);
  sluice_close(db);
  return rc;
}
