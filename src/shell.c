/*
** shell.c - the interactive shell (libedit): history, multi-line statements
** ending in ';', dot-commands, and rows printed as they arrive.  Also the
** script runner shared by `sluice run FILE`, `-e` and `sluice < file`.
*/
#include "shell.h"

#include <editline/readline.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

int sl_sql_complete(const char *text) {
  const char *z = text;
  int last = 0;
  while (*z) {
    int tk;
    int n = sl_get_token(z, &tk);
    if (tk == TK_ILLEGAL && (*z == '\'' || *z == '"' || *z == '`' || *z == '[')) return 0;
    if (tk == TK_SPACE && z[0] == '/' && z[1] == '*' && (n < 4 || z[n - 1] != '/')) return 0;
    if (tk != TK_SPACE) last = tk;
    z += n;
  }
  return last == TK_SEMI;
}

static void print_error(const char *label, const sl_err *err) {
  if (err->line)
    fprintf(stderr, "%s%s%d:%d: error: %s\n", label ? label : "", label ? ":" : "", err->line,
            err->col, err->msg ? err->msg : "error");
  else
    fprintf(stderr, "%s%serror: %s\n", label ? label : "", label ? ": " : "",
            err->msg ? err->msg : "error");
}

/* 1 if any line of a stats text reports rejected records. */
static int has_rejections(const char *stats) {
  for (const char *l = stats; l && *l;) {
    const char *r = strstr(l, " rejected\n");
    if (!r) break;
    const char *p = r;
    while (p > l && p[-1] != ' ')
      p--;
    if (atoll(p) > 0) return 1;
    l = r + 10;
  }
  return 0;
}

static void print_stats(sluice *db, int always) {
  if (!db->stats.n) return;
  if (always || has_rejections(db->stats.z)) fprintf(stderr, "%s", db->stats.z);
}

int sl_run_script(sluice *db, const char *label, const char *sql, sl_printer *out, int show_stats) {
  sl_err err = {0};
  sl_buf_reset(&db->stats);
  int rc = sl_engine_exec(db, sql, 1, sl_printer_row, out, &err);
  if (rc) {
    print_error(label, &err);
    sl_err_clear(&err);
    sl_run_free(db->pending);
    db->pending = NULL;
    return 1;
  }
  rc = sl_engine_run_pending(db, &err);
  fflush(out->f);
  print_stats(db, show_stats);
  if (rc) {
    print_error(NULL, &err);
    sl_err_clear(&err);
    return 1;
  }
  return 0;
}

static sluice *g_db; /* for the SIGINT handler */

static void on_sigint(int sig) {
  (void)sig;
  if (g_db) sluice_interrupt(g_db);
}

static const char *help_text =
    "Statements end with ';' and may span lines.  SELECT ... FROM file('x.json') runs a query;\n"
    "rows are shown as they arrive (Ctrl-C stops a running query).\n"
    ".help              this text\n"
    ".quit / .exit      leave the shell\n"
    ".read FILE         run the statements of FILE\n"
    ".mode table|csv|json   how rows are shown\n"
    ".stats on|off      show per-query counts after each query\n"
    "SHOW FUNCTIONS; SHOW STREAMS; SHOW TABLES; DESCRIBE name; EXPLAIN query;\n";

/* Run one dot-command; returns 1 to quit. */
static int dot_command(sluice *db, sl_printer *out, char *line, int *stats) {
  char *arg = line + 1;
  while (*arg && *arg != ' ' && *arg != '\t')
    arg++;
  if (*arg) *arg++ = 0;
  while (*arg == ' ' || *arg == '\t')
    arg++;
  char *end = arg + strlen(arg);
  while (end > arg && (end[-1] == ' ' || end[-1] == '\n' || end[-1] == '\r'))
    *--end = 0;
  const char *cmd = line + 1;
  if (!strcmp(cmd, "quit") || !strcmp(cmd, "exit") || !strcmp(cmd, "q")) return 1;
  if (!strcmp(cmd, "help")) {
    fputs(help_text, stdout);
  } else if (!strcmp(cmd, "read")) {
    FILE *f = fopen(arg, "rb");
    if (!f) {
      fprintf(stderr, "error: cannot open '%s': %s\n", arg, strerror(errno));
      return 0;
    }
    char *text = sl_read_all(f);
    fclose(f);
    sl_run_script(db, arg, text, out, *stats);
    free(text);
  } else if (!strcmp(cmd, "mode") || !strcmp(cmd, "format")) {
    int f = sl_outfmt_parse(arg);
    if (f < 0)
      fprintf(stderr, "error: .mode takes table, csv or json\n");
    else
      out->fmt = (sl_outfmt)f;
  } else if (!strcmp(cmd, "stats")) {
    *stats = strcmp(arg, "off") != 0;
  } else {
    fprintf(stderr, "error: unknown command .%s (try .help)\n", cmd);
  }
  return 0;
}

int sl_shell_run(sluice *db, sl_printer *out) {
  g_db = db;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigint;
  sigaction(SIGINT, &sa, NULL);
  char *home = getenv("HOME");
  char *hist = home ? sl_mprintf("%s/.sluice_history", home) : NULL;
  using_history();
  if (hist) read_history(hist);
  printf("sluice %s - streaming SQL.  Enter .help for help.\n", SLUICE_VERSION);
  sl_buf stmt;
  sl_buf_init(&stmt);
  int stats = 0;
  for (;;) {
    char *line = readline(stmt.n ? "   ...> " : "sluice> ");
    if (!line) break;
    if (!stmt.n && line[0] == '.') {
      add_history(line);
      int quit = dot_command(db, out, line, &stats);
      free(line);
      if (quit) break;
      continue;
    }
    if (stmt.n) sl_buf_putc(&stmt, '\n');
    sl_buf_puts(&stmt, line);
    free(line);
    if (!sl_sql_complete(stmt.z)) continue;
    add_history(stmt.z);
    sl_err err = {0};
    db->interrupted = 0;
    sl_buf_reset(&db->stats);
    if (sl_engine_exec(db, stmt.z, 0, sl_printer_row, out, &err)) {
      print_error(NULL, &err);
      sl_err_clear(&err);
    }
    sl_printer_end(out);
    fflush(out->f);
    print_stats(db, stats);
    sl_buf_reset(&stmt);
  }
  if (hist) {
    write_history(hist);
    free(hist);
  }
  sl_buf_free(&stmt);
  printf("\n");
  return 0;
}
