/*
** main.c - the sluice command line: `sluice run FILE.sql`, `sluice -e SQL`,
** `sluice < file.sql`, and the interactive shell when run on a terminal;
** --load and --load-path for extensions of C functions; the same shell and
** scripts sent to a running server with --connect URL.
*/
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"
#include "kafka_broker.h"
#include "output.h"
#include "client.h"
#include "serve.h"
#include "shell.h"

static const char *usage =
    "usage: sluice [OPTIONS] [run FILE.sql | -e SQL]\n"
    "\n"
    "  sluice run FILE.sql   run the statements of FILE; continuous queries start together\n"
    "  sluice -e 'SQL'       run SQL given on the command line\n"
    "  sluice < FILE.sql     run statements read from standard input\n"
    "  sluice                the interactive shell (on a terminal)\n"
    "  sluice --connect URL [--token T] [run FILE.sql | -e SQL]\n"
    "                        the same, attached to a running `sluice serve` at URL\n"
    "                        (http://HOST:PORT): every statement runs on the server\n"
    "                        and its rows are printed here as they arrive\n"
    "\n"
    "options:\n"
    "  --format table|csv|json   how rows of a SELECT without INTO are printed\n"
    "                            (default: table on a terminal, json otherwise)\n"
    "  --stats                   print per-query counts (in, out, rejected) at the end\n"
    "  --brokers HOST:PORT       Kafka bootstrap servers (the same as SET kafka.brokers)\n"
    "  --state-dir DIR           checkpoint queries in DIR and resume from it (SET state_dir)\n"
    "  --reset-state             discard the checkpoints in the state directory first\n"
    "  --dev-broker[=PORT]       run an embedded Kafka broker (librdkafka's mock cluster)\n"
    "                            on 127.0.0.1 (port 9092 when free) and point every\n"
    "                            kafka() at it; a topic a producer names is created\n"
    "                            (4 partitions)\n"
    "  --topics NAME:PARTITIONS,...\n"
    "                            with --dev-broker or `sluice broker`: create these\n"
    "                            topics first\n"
    "  --load LIB.so             load an extension of C functions first (as LOAD 'LIB.so';\n"
    "                            may be repeated)\n"
    "  --load-path DIR[:DIR...]  LOAD only from these directories (a name without '/' is\n"
    "                            looked up in them); SET load_path cannot change it\n"
    "  --connect URL             run the statements on a `sluice serve` at URL instead\n"
    "                            (the engine options above then belong to the server)\n"
    "  --token T                 with serve and --connect: the bearer token (default\n"
    "                            SLUICE_TOKEN)\n"
    "\n"
    "  sluice broker [--port N] [--topics NAME:PARTITIONS,...]\n"
    "                            run the embedded broker alone, for other clients, until\n"
    "                            SIGINT/SIGTERM; prints its bootstrap address.  Lines on\n"
    "                            stdin inject faults: down | up | errors APIKEY COUNT CODE...\n"
    "                            | topic-error TOPIC CODE; topics NAME:PARTITIONS,... makes\n"
    "                            topics\n"
    "  sluice serve [--listen 127.0.0.1:PORT] [--token T]\n"
    "                            run an engine behind an HTTP JSON API (docs/serve.md)\n"
    "                            until SIGINT/SIGTERM; any other address than loopback\n"
    "                            needs --token (or SLUICE_TOKEN)\n"
    "  sluice submit FILE.sql | queries | terminate ID | describe NAME\n"
    "                            [--server URL] [--token T]\n"
    "                            thin clients of a running `sluice serve` (URL default\n"
    "                            http://127.0.0.1:8080, or SLUICE_SERVER); print its JSON\n"
    "  --help, --version\n";

static sluice *g_db;

static volatile sig_atomic_t g_stop;

static void on_signal(int sig) {
  (void)sig;
  g_stop = 1;
  if (g_db) sluice_interrupt(g_db);
}

/* `sluice broker`: the dev broker alone, with the topics asked for, until a
** signal.  The bootstrap address goes to stdout (one line) for scripts. */
static int run_broker(const char *topics, int port) {
  sl_err err = {0};
  const char *boot = sl_dev_broker_start(&err);
  if (!boot) {
    fprintf(stderr, "sluice: %s\n", err.msg);
    sl_err_clear(&err);
    return 1;
  }
  const char *fixed = port > 0 ? sl_dev_broker_listen(port) : NULL;
  if (fixed) boot = fixed;
  if (topics && sl_dev_broker_topics(topics, &err)) {
    fprintf(stderr, "sluice: %s\n", err.msg);
    sl_err_clear(&err);
    sl_dev_broker_stop();
    return 1;
  }
  printf("%s\n", boot);
  fflush(stdout);
  fprintf(stderr, "sluice: dev broker at %s (Ctrl-C stops it)\n", boot);
  /* Commands on standard input inject faults (tests drive them); at end of
  ** input just wait for the signal. */
  char line[512];
  while (!g_stop && fgets(line, sizeof line, stdin)) {
    line[strcspn(line, "\r\n")] = 0;
    if (!line[0]) continue;
    sl_buf reply;
    sl_buf_init(&reply);
    sl_dev_broker_control(line, &reply);
    fprintf(stderr, "sluice broker: %s\n", reply.z ? reply.z : "");
    sl_buf_free(&reply);
  }
  /* Wait for the signal.  It is blocked from the test of g_stop until
  ** sigsuspend() unblocks it and waits, at once: pause() missed a signal
  ** that came between the two (a test closing stdin and then sending
  ** SIGTERM could wait for ever). */
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGINT);
  sigaddset(&block, SIGTERM);
  sigprocmask(SIG_BLOCK, &block, &old);
  while (!g_stop)
    sigsuspend(&old);
  sigprocmask(SIG_SETMASK, &old, NULL);
  sl_dev_broker_stop();
  return 0;
}

/* `sluice submit FILE | queries | terminate ID | describe NAME [--server URL]
** [--token T]`:
** one request to a running server.  Returns the exit status. */
static int run_client(int argc, char **argv) {
  const char *server = getenv("SLUICE_SERVER"), *token = getenv("SLUICE_TOKEN"), *arg = NULL;
  if (!server || !*server) server = "http://127.0.0.1:8080";
  for (int i = 2; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--server") || !strncmp(a, "--server=", 9))
      server = a[8] == '=' ? a + 9 : (i + 1 < argc ? argv[++i] : "");
    else if (!strcmp(a, "--token") || !strncmp(a, "--token=", 8))
      token = a[7] == '=' ? a + 8 : (i + 1 < argc ? argv[++i] : "");
    else if (!arg && a[0] != '-')
      arg = a;
    else {
      fprintf(stderr, "sluice: unknown argument '%s'\n%s", a, usage);
      return 2;
    }
  }
  const char *cmd = argv[1];
  if (!strcmp(cmd, "queries")) return sl_client_request(server, token, "GET", "/queries", NULL);
  if (!arg) {
    fprintf(stderr, "sluice: %s needs %s\n", cmd,
            !strcmp(cmd, "submit")     ? "a FILE.sql"
            : !strcmp(cmd, "describe") ? "a NAME (stream, table, model or query id)"
                                       : "a query ID");
    return 2;
  }
  if (!strcmp(cmd, "describe")) {
    /* the name percent-encoded into the path */
    char path[400] = "/describe/";
    size_t n = strlen(path);
    for (const unsigned char *p = (const unsigned char *)arg; *p && n + 4 < sizeof path; p++)
      n += (size_t)snprintf(path + n, sizeof path - n,
                            isalnum(*p) || *p == '_' || *p == '-' || *p == '.' ? "%c" : "%%%02X",
                            *p);
    return sl_client_request(server, token, "GET", path, NULL);
  }
  if (!strcmp(cmd, "terminate")) {
    char path[128];
    snprintf(path, sizeof path, "/queries/%.100s", arg);
    return sl_client_request(server, token, "DELETE", path, NULL);
  }
  FILE *f = fopen(arg, "rb");
  if (!f) {
    fprintf(stderr, "sluice: cannot open '%s': %s\n", arg, strerror(errno));
    return 1;
  }
  char *text = sl_read_all(f);
  fclose(f);
  int rc = sl_client_request(server, token, "POST", "/statements", text);
  free(text);
  return rc;
}

/* `sluice --connect URL`: FILE, SQL, a script on stdin when it is not a
** terminal, or else the interactive shell, each sent to the server at url
** (token: NULL or empty for none), the rows printed in format fmt.  Returns
** the exit status. */
static int run_connected(const char *url, const char *token, const char *file, const char *sql,
                         int fmt) {
  sl_printer out;
  sl_printer_init(&out, (sl_outfmt)fmt, stdout);
  int rc = 0;
  char *text = NULL;
  const char *label = file ? file : sql ? NULL : "stdin";
  if (file) {
    FILE *f = fopen(file, "rb");
    if (!f) {
      fprintf(stderr, "sluice: cannot open '%s': %s\n", file, strerror(errno));
      rc = 1;
    } else {
      text = sl_read_all(f);
      fclose(f);
    }
  } else if (!sql && !isatty(0)) {
    text = sl_read_all(stdin);
  }
  if (text || sql)
    rc = sl_remote_script(url, token, label, text ? text : sql, &out, &g_stop);
  else if (!rc)
    rc = sl_shell_remote(url, token, &out);
  free(text);
  fflush(stdout);
  sl_printer_free(&out);
  return rc;
}

int main(int argc, char **argv) {
  if (argc > 1 && (!strcmp(argv[1], "submit") || !strcmp(argv[1], "queries") ||
                   !strcmp(argv[1], "terminate") || !strcmp(argv[1], "describe")))
    return run_client(argc, argv);
  const char *file = NULL, *sql = NULL;
  int fmt = isatty(1) ? SL_OUT_TABLE : SL_OUT_JSON;
  int stats = 0, run = 0, dev = 0, broker = 0, port = 9092, serve = 0;
  const char *listen = "127.0.0.1:8080", *token = getenv("SLUICE_TOKEN");
  const char *brokers = NULL, *topics = NULL, *load_path = NULL, *state_dir = NULL;
  const char *connect = NULL;    /* --connect URL */
  const char *local_only = NULL; /* an option given that configures a local engine */
  const char *loads[32];         /* --load LIB, in order */
  int nload = 0, reset_state = 0;
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
      local_only = a;
    } else if (!strcmp(a, "--format") || !strncmp(a, "--format=", 9)) {
      const char *v = a[8] == '=' ? a + 9 : (i + 1 < argc ? argv[++i] : "");
      fmt = sl_outfmt_parse(v);
      if (fmt < 0) {
        fprintf(stderr, "sluice: --format takes table, csv or json, not '%s'\n", v);
        return 2;
      }
    } else if (!strcmp(a, "--brokers") || !strncmp(a, "--brokers=", 10)) {
      brokers = a[9] == '=' ? a + 10 : (i + 1 < argc ? argv[++i] : "");
      local_only = "--brokers";
    } else if (!strcmp(a, "--state-dir") || !strncmp(a, "--state-dir=", 12)) {
      state_dir = a[11] == '=' ? a + 12 : (i + 1 < argc ? argv[++i] : "");
      local_only = "--state-dir";
    } else if (!strcmp(a, "--reset-state")) {
      reset_state = 1;
      local_only = a;
    } else if (!strcmp(a, "--dev-broker") || !strncmp(a, "--dev-broker=", 13)) {
      dev = 1;
      local_only = "--dev-broker";
      if (a[12] == '=') port = atoi(a + 13);
    } else if (!strcmp(a, "--load") || !strncmp(a, "--load=", 7)) {
      if (nload == (int)SL_ARRAY_SIZE(loads)) {
        fprintf(stderr, "sluice: at most %d --load options\n", nload);
        return 2;
      }
      loads[nload++] = a[6] == '=' ? a + 7 : (i + 1 < argc ? argv[++i] : "");
      local_only = "--load";
    } else if (!strcmp(a, "--load-path") || !strncmp(a, "--load-path=", 12)) {
      load_path = a[11] == '=' ? a + 12 : (i + 1 < argc ? argv[++i] : "");
      local_only = "--load-path";
    } else if (!strcmp(a, "--connect") || !strncmp(a, "--connect=", 10)) {
      connect = a[9] == '=' ? a + 10 : (i + 1 < argc ? argv[++i] : "");
    } else if (!strcmp(a, "serve") && !run && !broker && !serve) {
      serve = 1;
      local_only = a;
    } else if (serve && (!strcmp(a, "--listen") || !strncmp(a, "--listen=", 9))) {
      listen = a[8] == '=' ? a + 9 : (i + 1 < argc ? argv[++i] : "");
    } else if (!strcmp(a, "--token") || !strncmp(a, "--token=", 8)) {
      token = a[7] == '=' ? a + 8 : (i + 1 < argc ? argv[++i] : "");
    } else if (!strcmp(a, "broker") && !run && !broker) {
      broker = 1;
      local_only = a;
    } else if (!strcmp(a, "--topics") || !strncmp(a, "--topics=", 9)) {
      topics = a[8] == '=' ? a + 9 : (i + 1 < argc ? argv[++i] : "");
    } else if (broker && (!strcmp(a, "--port") || !strncmp(a, "--port=", 7))) {
      port = atoi(a[6] == '=' ? a + 7 : (i + 1 < argc ? argv[++i] : "0"));
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

  if (topics && !broker && !dev) {
    fprintf(stderr, "sluice: --topics is for `sluice broker` and --dev-broker\n");
    return 2;
  }
  if (run && !file) {
    fprintf(stderr, "sluice: run needs a FILE.sql\n%s", usage);
    return 2;
  }
  if (connect && !*connect) {
    fprintf(stderr, "sluice: --connect needs a URL (http://HOST:PORT)\n");
    return 2;
  }
  if (connect && local_only) {
    fprintf(stderr,
            "sluice: %s is for a local engine, not with --connect (give it to the server)\n",
            local_only);
    return 2;
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  if (connect) return run_connected(connect, token, file, sql, fmt);
  if (broker) return run_broker(topics, port);
  sluice *db = sluice_open();
  if (brokers) {
    sl_value v = SL_VALUE_INIT;
    sl_value_borrow_text(&v, brokers, strlen(brokers), SL_F_TERM);
    sl_catalog_set(&db->cat, "kafka.brokers", &v);
  }
  if (state_dir) {
    sl_value v = SL_VALUE_INIT;
    sl_value_borrow_text(&v, state_dir, strlen(state_dir), SL_F_TERM);
    sl_catalog_set(&db->cat, "state_dir", &v);
  }
  if (reset_state) {
    sl_value v = SL_VALUE_INIT;
    sl_value_set_int(&v, 1);
    sl_catalog_set(&db->cat, "reset_state", &v);
  }
  if (dev) {
    sl_err err = {0};
    const char *boot = sl_dev_broker_start(&err);
    if (!boot) {
      fprintf(stderr, "sluice: %s\n", err.msg);
      sl_err_clear(&err);
      sluice_close(db);
      return 1;
    }
    const char *fixed = port > 0 ? sl_dev_broker_listen(port) : NULL;
    if (fixed) boot = fixed;
    if (topics && sl_dev_broker_topics(topics, &err)) {
      fprintf(stderr, "sluice: %s\n", err.msg);
      sl_err_clear(&err);
      sluice_close(db);
      sl_dev_broker_stop();
      return 1;
    }
    fprintf(stderr, "sluice: dev broker at %s\n", boot);
    sl_value v = SL_VALUE_INIT;
    sl_value_borrow_text(&v, boot, strlen(boot), SL_F_TERM);
    sl_catalog_set(&db->cat, "kafka.brokers", &v);
  }
  if (load_path) {
    sl_value v = SL_VALUE_INIT;
    sl_value_borrow_text(&v, load_path, strlen(load_path), SL_F_TERM);
    sl_catalog_set(&db->cat, "load_path", &v);
    db->cat.load_path_fixed = 1;
  }
  for (int i = 0; i < nload; i++) {
    char *msg = NULL;
    if (sluice_load_extension(db, loads[i], &msg)) {
      fprintf(stderr, "sluice: --load: %s\n", msg);
      free(msg);
      sluice_close(db);
      sl_dev_broker_stop();
      return 1;
    }
  }
  g_db = db;
  sl_printer out;
  sl_printer_init(&out, (sl_outfmt)fmt, stdout);
  int rc;
  if (serve) {
    rc = sl_serve(db, listen, token, &g_stop);
  } else if (file) {
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
  sl_dev_broker_stop();
  return rc;
}
