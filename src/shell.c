/*
** shell.c - the interactive shell (libedit): history, multi-line statements
** ending in ';', dot-commands, and rows printed as they arrive; the same
** loop runs statements in the local engine or sends them to a running server
** (`sluice --connect URL`, through client.c).  Also the script runners shared
** by `sluice run FILE`, `-e` and `sluice < file`, locally and remotely.
*/
#include "shell.h"

#include <ctype.h>
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

/* Print the engine's per-query counts: always, or when records were rejected. */
static void print_stats(sluice *db, int always) {
  const char *stats = sl_engine_stats(db);
  if (*stats && (always || has_rejections(stats))) fprintf(stderr, "%s", stats);
}

int sl_run_script(sluice *db, const char *label, const char *sql, sl_printer *out, int show_stats) {
  sl_err err = {0};
  sl_engine_stats_reset(db);
  int rc = sl_engine_exec(db, sql, SL_EXEC_DEFERRED, sl_printer_row, out, &err);
  if (rc) { /* nothing of the script is pending */
    print_error(label, &err);
    sl_err_clear(&err);
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

/* What the shell runs statements with: the local engine or a server. */
typedef struct sl_shell_exec {
  /* Run sql, rows through out, errors printed on stderr; label names a file
  ** for .read (script 1: a whole file's statements) or is NULL (script 0:
  ** one statement as the shell collected it).  Returns 0 or 1. */
  int (*run)(struct sl_shell_exec *ex, const char *label, const char *sql, int script,
             sl_printer *out);
  volatile sig_atomic_t *interrupted; /* set by SIGINT, cleared before each run */
  const char *where;                  /* for the banner: NULL, or the server's URL */
  int can_stats;                      /* .stats applies */
  int stats;                          /* .stats on */
  sluice *db;                         /* the local engine */
  const sl_remote *remote;            /* the server */
} sl_shell_exec;

static volatile sig_atomic_t *g_interrupted; /* for the SIGINT handler */
static sluice *g_db;                         /* the local engine, interrupted too */

static void on_sigint(int sig) {
  (void)sig;
  if (g_interrupted) *g_interrupted = 1;
  if (g_db) sluice_interrupt(g_db);
}

static const char *help_text =
    "Statements end with ';' and may span lines.  SELECT ... FROM file('x.json') runs a query;\n"
    "rows are shown as they arrive (Ctrl-C stops a running query).\n"
    ".help              this text\n"
    ".quit / .exit      leave the shell\n"
    ".read FILE         run the statements of FILE\n"
    ".mode table|csv|json   how rows are shown\n"
    ".stats on|off      show per-query counts after each query (local engine only)\n"
    ".tables            the tables, views and streams\n"
    ".schema [NAME]     the statements that made them (SHOW SCHEMA [name])\n"
    ".show              the shell's settings, then the engine's (SHOW SETTINGS)\n"
    "Tab completes keywords, and (local engine) functions, names and columns.\n"
    "SHOW FUNCTIONS; SHOW STREAMS; SHOW TABLES; SHOW MODELS; SHOW TOPICS; DESCRIBE name;\n"
    "EXPLAIN query;\n";

/* Run sql with ex, its rows printed by out showing only column col (one
** value a line, no header). */
static void run_only(sl_shell_exec *ex, sl_printer *out, const char *sql, const char *col) {
  sl_printer_end(out);
  out->only = col;
  *ex->interrupted = 0;
  ex->run(ex, NULL, sql, 0, out);
  out->only = NULL;
  sl_printer_end(out);
}

/* The SQL text of a name, double-quoted (malloc'd). */
static char *quote_name(const char *name) {
  sl_buf b;
  sl_buf_init(&b);
  sl_buf_putc(&b, '"');
  for (const char *p = name; *p; p++) {
    if (*p == '"') sl_buf_putc(&b, '"');
    sl_buf_putc(&b, *p);
  }
  sl_buf_putc(&b, '"');
  return b.z;
}

/* .show: the shell's settings as sqlite3's .show lists them, then the
** engine's. */
static void show_settings(sl_shell_exec *ex, sl_printer *out) {
  static const char *const modes[] = {"table", "csv", "json"};
  printf("%12s: %s\n", "mode", (int)out->fmt < 3 ? modes[out->fmt] : "?");
  printf("%12s: %s\n", "stats", ex->can_stats ? (ex->stats ? "on" : "off") : "n/a (server)");
  printf("%12s: %s\n", "engine", ex->where ? ex->where : "local");
  const char *home = getenv("HOME");
  printf("%12s: %s%s\n", "history", home ? home : "(none)", home ? "/.sluice_history" : "");
  fflush(stdout);
  *ex->interrupted = 0;
  ex->run(ex, NULL, "SHOW SETTINGS;", 0, out);
  sl_printer_end(out);
}

/* Run one dot-command (line, writable, starts with '.') with ex; returns 1
** to quit. */
static int dot_command(sl_shell_exec *ex, sl_printer *out, char *line) {
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
    *ex->interrupted = 0;
    ex->run(ex, arg, text, 1, out);
    sl_printer_end(out);
    free(text);
  } else if (!strcmp(cmd, "mode") || !strcmp(cmd, "format")) {
    int f = sl_outfmt_parse(arg);
    if (f < 0)
      fprintf(stderr, "error: .mode takes table, csv or json\n");
    else
      out->fmt = (sl_outfmt)f;
  } else if (!strcmp(cmd, "tables")) {
    run_only(ex, out, "SHOW SCHEMA;", "name");
  } else if (!strcmp(cmd, "schema")) {
    char *q = *arg ? quote_name(arg) : NULL;
    char *sql = sl_mprintf("SHOW SCHEMA%s%s;", q ? " " : "", q ? q : "");
    run_only(ex, out, sql, "sql");
    free(sql);
    free(q);
  } else if (!strcmp(cmd, "show")) {
    show_settings(ex, out);
  } else if (!strcmp(cmd, "stats") && ex->can_stats) {
    ex->stats = strcmp(arg, "off") != 0;
  } else if (!strcmp(cmd, "stats")) {
    fprintf(stderr,
            "error: .stats is for the local engine (the server's counts: sluice queries)\n");
  } else {
    fprintf(stderr, "error: unknown command .%s (try .help)\n", cmd);
  }
  return 0;
}

/* ---- tab completion ------------------------------------------------------ */
/* Keywords always; with the local engine also the names of functions,
** tables, streams, models and the columns of tables and streams, read from
** the engine (SHOW / DESCRIBE) at the first Tab after a statement ran. */

typedef struct words {
  char **a;
  int n, cap;
} words;

static words g_names;      /* the engine's names (owned strings) */
static int g_names_stale;  /* a statement ran since they were read */
static sluice *g_complete; /* the local engine, or NULL (a server: keywords only) */

static void words_add(words *w, const char *z, size_t n) {
  for (int i = 0; i < w->n; i++)
    if (strlen(w->a[i]) == n && sl_strnicmp(w->a[i], z, n) == 0) return;
  if (w->n == w->cap) {
    w->cap = w->cap ? w->cap * 2 : 64;
    w->a = sl_realloc(w->a, sizeof(*w->a) * (size_t)w->cap);
  }
  w->a[w->n++] = sl_strndup(z, n);
}

static void words_free(words *w) {
  for (int i = 0; i < w->n; i++)
    free(w->a[i]);
  free(w->a);
  memset(w, 0, sizeof *w);
}

/* What collect_col gathers: column col of the rows into w. */
typedef struct collect {
  const char *col;
  words *w;
} collect;

/* sl_row_fn: add the text of column c->col of a row to c->w. */
static int collect_col(void *ud, int ncol, const char *const *names, sl_value **row) {
  collect *c = ud;
  for (int i = 0; i < ncol; i++)
    if (!strcmp(names[i], c->col) && row[i]->type == SL_TEXT) {
      size_t n;
      const char *z = sl_value_text(row[i], &n);
      if (z && n) words_add(c->w, z, n);
    }
  return 0;
}

/* Run sql in db, column col of its rows into w; errors ignored. */
static void collect_sql(sluice *db, const char *sql, const char *col, words *w) {
  collect c = {col, w};
  sl_err err = {0};
  sl_engine_exec(db, sql, SL_EXEC_IMMEDIATE, collect_col, &c, &err);
  sl_err_clear(&err);
}

/* Read the engine's names again. */
static void names_refresh(void) {
  words_free(&g_names);
  g_names_stale = 0;
  if (!g_complete) return;
  words rel = {0};
  collect_sql(g_complete, "SHOW TABLES;", "name", &rel);
  collect_sql(g_complete, "SHOW STREAMS;", "name", &rel);
  for (int i = 0; i < rel.n; i++) {
    words_add(&g_names, rel.a[i], strlen(rel.a[i]));
    char *q = quote_name(rel.a[i]);
    char *sql = sl_mprintf("DESCRIBE %s;", q);
    collect_sql(g_complete, sql, "column", &g_names);
    free(sql);
    free(q);
  }
  words_free(&rel);
  collect_sql(g_complete, "SHOW MODELS;", "name", &g_names);
  collect_sql(g_complete, "SHOW FUNCTIONS;", "name", &g_names);
}

/* rl_completion_matches' generator: keywords (in the case the word was
** begun in), then names, that start with text. */
static char *complete_word(const char *text, int state) {
  static int i, nkw;
  static size_t len;
  if (!state) {
    i = 0;
    len = strlen(text);
    for (nkw = 0; sl_keyword_name(nkw);)
      nkw++;
  }
  while (i < nkw + g_names.n) {
    int k = i++;
    const char *w = k < nkw ? sl_keyword_name(k) : g_names.a[k - nkw];
    if (sl_strnicmp(w, text, len) != 0) continue;
    char *r = sl_strdup(w);
    if (k < nkw && len && islower((unsigned char)text[0]))
      for (char *p = r; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return r;
  }
  return NULL;
}

static char **complete(const char *text, int start, int end) {
  (void)start;
  (void)end;
  if (g_names_stale) names_refresh();
  rl_attempted_completion_over = 1; /* no file names */
  return rl_completion_matches(text, complete_word);
}

/* The shell's loop on the terminal with ex: prompt, history, statements
** collected up to ';' and run, dot-commands.  Returns the exit status. */
static int shell_loop(sl_shell_exec *ex, sl_printer *out) {
  g_interrupted = ex->interrupted;
  g_db = ex->db;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigint;
  sigaction(SIGINT, &sa, NULL);
  char *home = getenv("HOME");
  char *hist = home ? sl_mprintf("%s/.sluice_history", home) : NULL;
  using_history();
  if (hist) read_history(hist);
  g_complete = ex->db;
  g_names_stale = 1;
  rl_attempted_completion_function = complete;
  rl_basic_word_break_characters = " \t\n\"\\'`@$><=;|&{(),.+-*/%"; /* t.col completes col */
  printf("sluice %s - streaming SQL%s%s.  Enter .help for help.\n", SLUICE_VERSION,
         ex->where ? " on " : "", ex->where ? ex->where : "");
  sl_buf stmt;
  sl_buf_init(&stmt);
  for (;;) {
    *ex->interrupted = 0;
    char *line = readline(stmt.n ? "   ...> " : "sluice> ");
    if (!line && *ex->interrupted) {
      /* Ctrl-C at the prompt drops the statement being typed, as in
      ** sqlite3 and psql; end of input (Ctrl-D) leaves */
      printf("^C\n");
      sl_buf_reset(&stmt);
      continue;
    }
    if (!line) break;
    if (!stmt.n && line[0] == '.') {
      add_history(line);
      int quit = dot_command(ex, out, line);
      free(line);
      if (quit) break;
      continue;
    }
    if (stmt.n) sl_buf_putc(&stmt, '\n');
    sl_buf_puts(&stmt, line);
    free(line);
    if (!sl_sql_complete(stmt.z)) continue;
    add_history(stmt.z);
    *ex->interrupted = 0;
    ex->run(ex, NULL, stmt.z, 0, out);
    sl_printer_end(out);
    sl_buf_reset(&stmt);
    g_names_stale = 1;
  }
  if (hist) {
    write_history(hist);
    free(hist);
  }
  sl_buf_free(&stmt);
  words_free(&g_names);
  g_complete = NULL;
  printf("\n");
  g_interrupted = NULL;
  g_db = NULL;
  return 0;
}

/* The local engine's run: a statement runs at once (continuous queries in
** the foreground), a file as `sluice run` runs it. */
static int run_local(sl_shell_exec *ex, const char *label, const char *sql, int script,
                     sl_printer *out) {
  sluice *db = ex->db;
  if (script) return sl_run_script(db, label, sql, out, ex->stats);
  sl_err err = {0};
  sl_engine_stats_reset(db);
  int rc = sl_engine_exec(db, sql, SL_EXEC_IMMEDIATE, sl_printer_row, out, &err);
  if (rc) {
    print_error(NULL, &err);
    sl_err_clear(&err);
  }
  fflush(out->f);
  print_stats(db, ex->stats);
  return rc ? 1 : 0;
}

int sl_shell_run(sluice *db, sl_printer *out) {
  static volatile sig_atomic_t interrupted;
  sl_shell_exec ex = {.run = run_local, .interrupted = &interrupted, .can_stats = 1, .db = db};
  return shell_loop(&ex, out);
}

int sl_remote_script(const sl_remote *r, const char *label, const char *sql, sl_printer *out,
                     volatile sig_atomic_t *stop) {
  sl_err err = {0};
  int rc = sl_client_query(r, sql, out, stop, &err);
  if (rc < 0) {
    print_error(label, &err);
    sl_err_clear(&err);
  }
  return rc < 0 ? 1 : 0;
}

/* The server's run: every statement, or a file's text whole, is one POST
** /query. */
static int run_remote(sl_shell_exec *ex, const char *label, const char *sql, int script,
                      sl_printer *out) {
  (void)script;
  return sl_remote_script(ex->remote, label, sql, out, ex->interrupted);
}

int sl_shell_remote(const sl_remote *r, sl_printer *out) {
  static volatile sig_atomic_t interrupted;
  sl_shell_exec ex = {.run = run_remote, .interrupted = &interrupted, .where = r->url, .remote = r};
  return shell_loop(&ex, out);
}
