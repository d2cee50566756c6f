/*
** main.c - the sluice command line.  The options are parsed with
** getopt_long (anywhere on the line: `sluice run --format csv f.sql`), the
** first operand names the command, and a small function runs each command:
** statements on a local engine (`sluice run FILE`, `-e SQL`, a script on
** standard input, the interactive shell), the same sent to a running server
** (--connect URL), `serve`, `broker`, and the thin clients of a server
** (`submit`, `queries`, `terminate`, `describe`).  One table describes the
** options (which commands take them and their help) and one the commands,
** so that `sluice --help` and `sluice COMMAND --help` say what is accepted.
*/
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "engine.h"
#include "grant.h"
#include "kafka_broker.h"
#include "output.h"
#include "serve.h"
#include "shell.h"

/* The commands; C_LOCAL is the line without a command word. */
enum { C_LOCAL, C_RUN, C_SERVE, C_BROKER, C_SUBMIT, C_QUERIES, C_TERMINATE, C_DESCRIBE, C_N };
#define CMD(c) (1u << (c))
#define SCRIPT (CMD(C_LOCAL) | CMD(C_RUN)) /* statements */
#define ENGINE (SCRIPT | CMD(C_SERVE))     /* a local engine */
#define CLIENTS (CMD(C_SUBMIT) | CMD(C_QUERIES) | CMD(C_TERMINATE) | CMD(C_DESCRIBE))
#define ALL ((1u << C_N) - 1)

/* ---- the options -------------------------------------------------------- */

enum {
  O_FORMAT = 256,
  O_STATS,
  O_BROKERS,
  O_STATE_DIR,
  O_RESET_STATE,
  O_DEV_BROKER,
  O_LOAD,
  O_LOAD_PATH,
  O_CONNECT,
  O_LISTEN,
  O_TOKEN,
  O_CACERT,
  O_SERVER,
  O_PORT,
  O_TOPICS,
  O_RESTART_ATTEMPTS,
  O_STABLE_AFTER,
  O_DATA_DIR,
  O_MAX_QUERY_MEMORY,
  O_ALLOW_BROKER,
  O_ALLOW_UNSAFE,
  O_SERVER_NAME,
  O_ALLOW_ORIGIN,
  O_REQUEST_TIMEOUT,
  O_VERSION
};

typedef struct opt_def {
  const char *name; /* the long name ("e": the short option -e) */
  int has_arg;      /* getopt's no_argument, required_argument, optional_argument */
  int code;         /* what getopt_long returns for it */
  unsigned cmds;    /* the commands that take it */
  int local;        /* it configures a local engine: not with --connect */
  const char *arg;  /* its argument in the help, or NULL */
  const char *help;
} opt_def;

static const opt_def opt_defs[] = {
    {"e", required_argument, 'e', CMD(C_LOCAL), 0, "SQL", "run SQL given on the command line"},
    {"format", required_argument, O_FORMAT, SCRIPT, 0, "table|csv|json",
     "how rows of a SELECT without INTO are printed (default: table on a terminal, json "
     "otherwise)"},
    {"stats", no_argument, O_STATS, SCRIPT, 1, NULL,
     "print per-query counts (in, out, rejected) at the end"},
    {"brokers", required_argument, O_BROKERS, ENGINE, 1, "HOST:PORT",
     "Kafka bootstrap servers (the same as SET kafka.brokers)"},
    {"state-dir", required_argument, O_STATE_DIR, ENGINE, 1, "DIR",
     "checkpoint queries in DIR and resume from it (SET state_dir)"},
    {"reset-state", no_argument, O_RESET_STATE, ENGINE, 1, NULL,
     "discard the checkpoints in the state directory first"},
    {"dev-broker", optional_argument, O_DEV_BROKER, ENGINE, 1, "[=PORT]",
     "run an embedded Kafka broker (librdkafka's mock cluster) on 127.0.0.1 (port 9092 when "
     "free) and point every kafka() at it"},
    {"load", required_argument, O_LOAD, ENGINE, 1, "LIB.so",
     "load an extension of C functions first (as LOAD 'LIB.so'; may be repeated)"},
    {"load-path", required_argument, O_LOAD_PATH, ENGINE, 1, "DIR[:DIR...]",
     "LOAD only from these directories (a name without '/' is looked up in them); SET "
     "load_path cannot change it"},
    {"connect", required_argument, O_CONNECT, SCRIPT, 0, "URL",
     "run the statements on a `sluice serve` at URL instead (http://HOST:PORT, "
     "http://[::1]:PORT, https://...); the engine options then belong to the server"},
    {"listen", required_argument, O_LISTEN, CMD(C_SERVE), 0, "HOST:PORT",
     "where to listen: 127.0.0.1:8080 by default, localhost:PORT, [::1]:PORT, or any address "
     "with --token"},
    {"token", required_argument, O_TOKEN, SCRIPT | CMD(C_SERVE) | CLIENTS, 0, "T",
     "the bearer token of the server (default: SLUICE_TOKEN)"},
    {"cacert", required_argument, O_CACERT, SCRIPT | CLIENTS, 0, "FILE",
     "https: trust the CA certificates in FILE (default: the system's)"},
    {"server", required_argument, O_SERVER, CLIENTS, 0, "URL",
     "the server (default: SLUICE_SERVER, else http://127.0.0.1:8080)"},
    {"restart-attempts", required_argument, O_RESTART_ATTEMPTS, CMD(C_SERVE), 0, "N",
     "with --state-dir: a submission whose queries were running when the server ended "
     "abnormally N times in a row (default 3) is not started again at start, its queries "
     "failed; 0: always restart"},
    {"stable-after", required_argument, O_STABLE_AFTER, CMD(C_SERVE), 0, "SECONDS",
     "a submission that has run this long (default 60) is stable: an end of the server after "
     "that does not count against it"},
    {"data-dir", required_argument, O_DATA_DIR, CMD(C_SERVE), 0, "DIR",
     "clients may read and write files, databases and models under DIR (after resolving "
     "'..' and symbolic links; may be repeated); without it they reach no file"},
    {"allow-broker", required_argument, O_ALLOW_BROKER, CMD(C_SERVE), 0, "HOST:PORT[,...]",
     "clients' queries may connect to these Kafka brokers or socket() hosts too (the server's "
     "own --brokers or --dev-broker always; may be repeated)"},
    {"max-query-memory", required_argument, O_MAX_QUERY_MEMORY, ENGINE, 1, "SIZE",
     "the most memory one query's state and values may take (SET max_query_memory; default "
     "1GB, 0: no limit); a server's clients cannot change it"},
    {"allow-unsafe-properties", no_argument, O_ALLOW_UNSAFE, ENGINE, 1, NULL,
     "take Kafka properties that load code or run commands (plugin.library.paths, "
     "sasl.kerberos.kinit.cmd, ssl.engine.location, ssl.providers) from the owner's own "
     "statements; never from a server's clients"},
    {"server-name", required_argument, O_SERVER_NAME, CMD(C_SERVE), 0, "NAME[:PORT]",
     "a name the server is reached by (a DNS name, a reverse proxy's): requests whose Host "
     "names neither it nor the listen address are refused (any port without :PORT; may be "
     "repeated)"},
    {"allow-origin", required_argument, O_ALLOW_ORIGIN, CMD(C_SERVE), 0, "ORIGIN",
     "let web pages of ORIGIN (https://console.example) call the server (CORS); pages of other "
     "sites are refused (may be repeated)"},
    {"request-timeout", required_argument, O_REQUEST_TIMEOUT, CMD(C_SERVE), 0, "SECONDS",
     "close a connection that has not sent a whole request this long (default 10) after it "
     "connected or its last request ended"},
    {"port", required_argument, O_PORT, CMD(C_BROKER), 0, "N",
     "the broker's port (default 9092 when free; 0: any)"},
    {"topics", required_argument, O_TOPICS, CMD(C_BROKER) | ENGINE, 1, "NAME:PARTITIONS,...",
     "with --dev-broker or `sluice broker`: create these topics first (a topic a producer "
     "names is created with 4 partitions)"},
    {"help", no_argument, 'h', ALL, 0, NULL, "this text (sluice COMMAND --help: the command's)"},
    {"version", no_argument, O_VERSION, ALL, 0, NULL, "print the version"},
};

/* What the command line asked for. */
typedef struct cli {
  int cmd;         /* C_* */
  const char *arg; /* the command's operand (FILE, ID, NAME), or NULL */
  const char *sql; /* -e SQL */
  int fmt, stats, reset_state, dev, port;
  int restart_attempts, stable_after; /* serve's restart strategy */
  const char *server_names[32];       /* serve's --server-name, in order */
  const char *allow_origins[32];      /* serve's --allow-origin, in order */
  int nserver_name, nallow_origin, request_timeout;
  const char *listen, *brokers, *topics, *load_path, *state_dir;
  sl_remote remote;      /* --connect (url NULL: a local engine) or --server, --token, --cacert */
  const char *loads[32]; /* --load LIB, in order */
  int nload;
  const char *data_dirs[32]; /* --data-dir DIR, --allow-broker LIST */
  int ndata_dir;
  const char *brokers_ok[32];
  int nbroker_ok;
  int unsafe_props;                             /* --allow-unsafe-properties */
  const char *max_query_memory;                 /* --max-query-memory SIZE */
  unsigned char given[SL_ARRAY_SIZE(opt_defs)]; /* 1 for each option given */
  int help;
} cli;

/* ---- the commands ----------------------------------------------------- */

static int cmd_statements(cli *c);
static int cmd_serve(cli *c);
static int cmd_broker(cli *c);
static int cmd_client(cli *c);

typedef struct command {
  const char *name;    /* the command word (NULL: none) */
  int (*run)(cli *c);  /* returns the exit status */
  const char *operand; /* what it takes after its name, or NULL */
  const char *synopsis;
  const char *help;
} command;

static const command commands[C_N] = {
    [C_LOCAL] = {NULL, cmd_statements, NULL, "sluice [-e SQL | < FILE.sql]",
                 "Run SQL given with -e, or a script read from standard input; on a terminal, "
                 "the interactive shell (.help).  With --connect URL, on that server."},
    [C_RUN] = {"run", cmd_statements, "FILE.sql", "sluice run FILE.sql",
               "Run the statements of FILE; its continuous queries start together.  With "
               "--connect URL, on that server."},
    [C_SERVE] = {"serve", cmd_serve, NULL, "sluice serve [--listen HOST:PORT]",
                 "Run an engine behind an HTTP JSON API until SIGINT/SIGTERM (docs/serve.md)."},
    [C_BROKER] = {"broker", cmd_broker, NULL,
                  "sluice broker [--port N] [--topics NAME:PARTITIONS,...]",
                  "Run the embedded Kafka broker alone, for other clients, until "
                  "SIGINT/SIGTERM; print its bootstrap address.  Lines on stdin inject faults: "
                  "down | up | errors APIKEY COUNT CODE... | topic-error TOPIC CODE."},
    [C_SUBMIT] = {"submit", cmd_client, "FILE.sql", "sluice submit FILE.sql [--server URL]",
                  "Start a file's queries on a running `sluice serve`; print its JSON answer."},
    [C_QUERIES] = {"queries", cmd_client, NULL, "sluice queries [--server URL]",
                   "Print the queries of a running `sluice serve` (JSON)."},
    [C_TERMINATE] = {"terminate", cmd_client, "ID", "sluice terminate ID [--server URL]",
                     "Stop query ID of a running `sluice serve`."},
    [C_DESCRIBE] = {"describe", cmd_client, "NAME", "sluice describe NAME [--server URL]",
                    "Describe a stream, table, model or query of a running `sluice serve`."},
};

/* Print text indented by indent columns, wrapped at 79, starting at column
** col of the current line. */
static void wrap(FILE *f, const char *text, int indent, int col) {
  while (*text) {
    size_t n = strcspn(text, " ");
    if (col > indent && col + 1 + (int)n > 79) {
      fprintf(f, "\n%*s", indent, "");
      col = indent;
    } else if (col > indent) {
      fputc(' ', f);
      col++;
    }
    fwrite(text, 1, n, f);
    col += (int)n;
    text += n;
    while (*text == ' ')
      text++;
  }
  fputc('\n', f);
}

/* The help of the options command cmd takes (every option: cmd < 0). */
static void print_options(FILE *f, int cmd) {
  for (size_t i = 0; i < SL_ARRAY_SIZE(opt_defs); i++) {
    const opt_def *o = &opt_defs[i];
    if (cmd >= 0 && !(o->cmds & CMD(cmd))) continue;
    int col = fprintf(f, "  -%s%s%s%s", o->name[1] ? "-" : "", o->name,
                      o->arg && o->arg[0] != '[' ? " " : "", o->arg ? o->arg : "");
    if (col >= 30) {
      fputc('\n', f);
      col = 0;
    }
    fprintf(f, "%*s", 30 - col, "");
    wrap(f, o->help, 30, 30);
  }
}

/* `sluice --help` (cmd C_LOCAL: every command and option) or `sluice
** COMMAND --help` (its synopsis, what it does, its options). */
static void usage(FILE *f, int cmd) {
  if (cmd != C_LOCAL) {
    fprintf(f, "usage: %s [OPTIONS]\n\n", commands[cmd].synopsis);
    wrap(f, commands[cmd].help, 0, 0);
    fprintf(f, "\noptions:\n");
    print_options(f, cmd);
    return;
  }
  fprintf(f, "usage: sluice [COMMAND ARGS] [OPTIONS]   (options go anywhere on the line)\n\n"
             "commands:\n");
  for (int i = 0; i < C_N; i++) {
    fprintf(f, "  %s\n%6s", commands[i].synopsis, "");
    wrap(f, commands[i].help, 6, 6);
  }
  fprintf(f, "\noptions (sluice COMMAND --help lists those of a command):\n");
  print_options(f, -1);
}

/* ---- parsing ------------------------------------------------------------ */

/* A usage error: the message, then the usage lines of the command (of every
** command without one) and where the rest is.  Returns 2. */
static int misuse(const cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int misuse(const cli *c, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "sluice: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  for (int i = 0; i < C_N; i++)
    if (!c->cmd || i == c->cmd)
      fprintf(stderr, "%s %s\n", i == c->cmd ? "usage:" : "      ", commands[i].synopsis);
  const char *name = commands[c->cmd].name;
  fprintf(stderr, "(sluice%s%s --help tells more)\n", name ? " " : "", name ? name : "");
  return 2;
}

/* The port of --port N or --dev-broker=N into c.  Returns 0, or 2 after a
** message. */
static int take_port(cli *c, const opt_def *o) {
  char *end;
  long port = strtol(optarg, &end, 10);
  if (end == optarg || *end || port < 0 || port > 65535)
    return misuse(c, "--%s takes a port (0 to 65535), not '%s'", o->name, optarg);
  c->port = (int)port;
  return 0;
}

/* The count of option o (its argument in optarg: min to 1000000) into *n.
** Returns 0, or 2 after a message. */
static int take_count(cli *c, const opt_def *o, int min, int *n) {
  char *end;
  long v = strtol(optarg, &end, 10);
  if (end == optarg || *end || v < min || v > 1000000)
    return misuse(c, "--%s takes a whole number from %d to 1000000, not '%s'", o->name, min,
                  optarg);
  *n = (int)v;
  return 0;
}

/* Take option o (its argument in optarg) into c.  Returns 0, or 2 after a
** message. */
static int take_option(cli *c, const opt_def *o) {
  c->given[o - opt_defs] = 1;
  switch (o->code) {
  case 'e': c->sql = optarg; break;
  case 'h': c->help = 1; break;
  case O_FORMAT:
    c->fmt = sl_outfmt_parse(optarg);
    if (c->fmt < 0) return misuse(c, "--format takes table, csv or json, not '%s'", optarg);
    break;
  case O_STATS: c->stats = 1; break;
  case O_BROKERS: c->brokers = optarg; break;
  case O_STATE_DIR: c->state_dir = optarg; break;
  case O_RESET_STATE: c->reset_state = 1; break;
  case O_DEV_BROKER:
    c->dev = 1;
    if (optarg) return take_port(c, o);
    break;
  case O_LOAD:
    if (c->nload == (int)SL_ARRAY_SIZE(c->loads))
      return misuse(c, "at most %d --load options", c->nload);
    c->loads[c->nload++] = optarg;
    break;
  case O_LOAD_PATH: c->load_path = optarg; break;
  case O_DATA_DIR:
  case O_ALLOW_BROKER: {
    const char **list = o->code == O_DATA_DIR ? c->data_dirs : c->brokers_ok;
    int *n = o->code == O_DATA_DIR ? &c->ndata_dir : &c->nbroker_ok;
    if (*n == 32) return misuse(c, "at most 32 --%s options", o->name);
    list[(*n)++] = optarg;
    break;
  }
  case O_ALLOW_UNSAFE: c->unsafe_props = 1; break;
  case O_MAX_QUERY_MEMORY: c->max_query_memory = optarg; break;
  case O_CONNECT:
  case O_SERVER: c->remote.url = optarg; break;
  case O_LISTEN: c->listen = optarg; break;
  case O_SERVER_NAME:
    if (c->nserver_name == (int)SL_ARRAY_SIZE(c->server_names))
      return misuse(c, "at most %d --server-name options", c->nserver_name);
    c->server_names[c->nserver_name++] = optarg;
    break;
  case O_ALLOW_ORIGIN:
    if (c->nallow_origin == (int)SL_ARRAY_SIZE(c->allow_origins))
      return misuse(c, "at most %d --allow-origin options", c->nallow_origin);
    c->allow_origins[c->nallow_origin++] = optarg;
    break;
  case O_REQUEST_TIMEOUT: return take_count(c, o, 1, &c->request_timeout);
  case O_TOKEN: c->remote.token = optarg; break;
  case O_CACERT: c->remote.cacert = optarg; break;
  case O_PORT: return take_port(c, o);
  case O_RESTART_ATTEMPTS: return take_count(c, o, 0, &c->restart_attempts);
  case O_STABLE_AFTER: return take_count(c, o, 1, &c->stable_after);
  case O_TOPICS: c->topics = optarg; break;
  }
  return 0;
}

/* The command and its operand from the operands argv[0..n).  Returns 0, or
** 2 after a message. */
static int take_operands(cli *c, int n, char **argv) {
  int k = 0;
  if (n > 0)
    for (int i = C_RUN; i < C_N && !c->cmd; i++)
      if (!strcmp(argv[0], commands[i].name)) c->cmd = i, k = 1;
  if (n > 0 && !c->cmd)
    return misuse(c,
                  "unknown command '%s' (run, serve, broker, submit, queries, terminate, "
                  "describe)",
                  argv[0]);
  if (commands[c->cmd].operand && k < n) c->arg = argv[k++];
  if (k < n) return misuse(c, "unexpected argument '%s'", argv[k]);
  return 0;
}

/* Check the options given against the command.  Returns 0, or 2 after a
** message. */
static int check_options(cli *c) {
  for (size_t i = 0; i < SL_ARRAY_SIZE(opt_defs); i++) {
    const opt_def *o = &opt_defs[i];
    if (!c->given[i]) continue;
    const char *dash = o->name[1] ? "--" : "-";
    if (!(o->cmds & CMD(c->cmd)))
      return misuse(c, "%s%s is not an option of sluice%s%s", dash, o->name,
                    c->cmd ? " " : " without a command", c->cmd ? commands[c->cmd].name : "");
    if (o->local && c->remote.url && (CMD(c->cmd) & SCRIPT))
      return misuse(c, "%s%s is for a local engine, not with --connect (give it to the server)",
                    dash, o->name);
    if ((o->code == O_TOKEN || o->code == O_CACERT) && !c->remote.url && (CMD(c->cmd) & SCRIPT))
      return misuse(c, "%s%s goes with --connect URL", dash, o->name);
  }
  if (c->topics && c->cmd != C_BROKER && !c->dev)
    return misuse(c, "--topics goes with --dev-broker (or sluice broker)");
  if (commands[c->cmd].operand && !c->arg && !c->help)
    return misuse(c, "%s needs %s", commands[c->cmd].name, commands[c->cmd].operand);
  if (c->remote.url && !*c->remote.url)
    return misuse(c, "--%s needs a URL (http://HOST:PORT)", c->cmd ? "server" : "connect");
  return 0;
}

/* Parse the command line into c.  Returns -1 to go on and run c's command,
** or the exit status: 0 after --help or --version, 2 after a usage error. */
static int parse_args(int argc, char **argv, cli *c) {
  memset(c, 0, sizeof *c);
  c->fmt = isatty(1) ? SL_OUT_TABLE : SL_OUT_JSON;
  c->port = 9092;
  c->restart_attempts = SL_SERVE_RESTART_ATTEMPTS;
  c->stable_after = SL_SERVE_STABLE_AFTER_S;
  c->remote.token = getenv("SLUICE_TOKEN");
  struct option longopts[SL_ARRAY_SIZE(opt_defs) + 1];
  memset(longopts, 0, sizeof longopts);
  for (size_t i = 0, n = 0; i < SL_ARRAY_SIZE(opt_defs); i++)
    if (opt_defs[i].name[1]) /* -e is a short option only */
      longopts[n++] =
          (struct option){opt_defs[i].name, opt_defs[i].has_arg, NULL, opt_defs[i].code};
  opterr = 0; /* the messages are ours */
  for (int code; (code = getopt_long(argc, argv, ":he:", longopts, NULL)) != -1;) {
    if (code == '?' || code == ':') {
      char shortopt[3] = {'-', (char)optopt, 0};
      const char *bad = optopt > 0 && optopt < 256 ? shortopt : argv[optind - 1];
      return misuse(c, code == '?' ? "unknown option '%s'" : "%s needs an argument", bad);
    }
    if (code == O_VERSION) {
      printf("sluice %s\n", SLUICE_VERSION);
      return 0;
    }
    size_t i = 0;
    while (opt_defs[i].code != code)
      i++;
    if (take_option(c, &opt_defs[i])) return 2;
  }
  if (take_operands(c, argc - optind, argv + optind) || check_options(c)) return 2;
  if (c->help) {
    usage(stdout, c->cmd);
    return 0;
  }
  if (c->cmd >= C_SUBMIT && !c->remote.url) {
    c->remote.url = getenv("SLUICE_SERVER");
    if (!c->remote.url || !*c->remote.url) c->remote.url = "http://127.0.0.1:8080";
  }
  return -1;
}

/* ---- running the commands --------------------------------------------------- */

static sluice *g_db;                 /* interrupted by SIGINT/SIGTERM */
static volatile sig_atomic_t g_stop; /* set by SIGINT/SIGTERM */

static void on_signal(int sig) {
  (void)sig;
  g_stop = 1;
  if (g_db) sluice_interrupt(g_db);
}

/* The text of the script c names: its FILE, or standard input when it is
** not a terminal.  NULL when neither (the shell then), or when FILE cannot
** be read (*rc = 1 after a message).  The caller frees it. */
static char *script_text(const cli *c, int *rc) {
  if (c->arg) {
    FILE *f = fopen(c->arg, "rb");
    if (!f) {
      fprintf(stderr, "sluice: cannot open '%s': %s\n", c->arg, strerror(errno));
      *rc = 1;
      return NULL;
    }
    char *text = sl_read_all(f);
    fclose(f);
    return text;
  }
  return c->sql || isatty(0) ? NULL : sl_read_all(stdin);
}

/* Start the dev broker, on port when it is free (port 0: any), with the
** topics of --topics ("NAME:PARTITIONS,...", or NULL).  Returns its
** bootstrap address, or NULL with err set (and no broker running). */
static const char *dev_broker_up(int port, const char *topics, sl_err *err) {
  const char *boot = sl_dev_broker_start(err);
  const char *fixed = boot && port > 0 ? sl_dev_broker_listen(port) : NULL;
  if (boot && topics && sl_dev_broker_topics(topics, err)) {
    sl_dev_broker_stop();
    return NULL;
  }
  return fixed ? fixed : boot;
}

/* Start the dev broker (--dev-broker) and point kafka.brokers at it.
** Returns 0, or 1 after a message. */
static int start_dev_broker(const cli *c, sluice *db) {
  sl_err err = {0};
  const char *boot = dev_broker_up(c->port, c->topics, &err);
  if (boot) {
    fprintf(stderr, "sluice: dev broker at %s\n", boot);
    sl_engine_set(db, "kafka.brokers", boot, &err);
  }
  if (!err.code) return 0;
  fprintf(stderr, "sluice: %s\n", err.msg);
  sl_err_clear(&err);
  return 1;
}

/* A local engine configured by c's engine options (settings, the dev
** broker, extensions), or NULL after a message. */
static sluice *open_engine(const cli *c) {
  sluice *db = sluice_open();
  sl_err err = {0};
  const struct {
    const char *name, *text;
  } sets[] = {{"kafka.brokers", c->brokers},
              {"state_dir", c->state_dir},
              {"reset_state", c->reset_state ? "true" : NULL},
              {"load_path", c->load_path},
              {"max_query_memory", c->max_query_memory}};
  for (size_t i = 0; i < SL_ARRAY_SIZE(sets) && !err.code; i++)
    if (sets[i].text) sl_engine_set(db, sets[i].name, sets[i].text, &err);
  if (c->load_path) sl_engine_fix_setting(db, SL_SET_LOAD_PATH);
  if (c->unsafe_props) sl_engine_allow_unsafe_properties(db);
  int failed = err.code != 0;
  if (failed) fprintf(stderr, "sluice: %s\n", err.msg);
  sl_err_clear(&err);
  if (!failed && c->dev) failed = start_dev_broker(c, db);
  for (int i = 0; i < c->nload && !failed; i++) {
    char *msg = NULL;
    failed = sluice_load_extension(db, c->loads[i], &msg) != 0;
    if (failed) fprintf(stderr, "sluice: --load: %s\n", msg);
    free(msg);
  }
  if (!failed) return db;
  sluice_close(db);
  sl_dev_broker_stop();
  return NULL;
}

/* No command, or run: statements (-e SQL, run FILE, a script on stdin, the
** shell) on a local engine or, with --connect, on a server. */
static int cmd_statements(cli *c) {
  int rc = 0;
  char *text = script_text(c, &rc);
  if (rc) return rc;
  const char *sql = text ? text : c->sql;
  const char *label = c->arg ? c->arg : text ? "stdin" : NULL;
  sl_printer out;
  sl_printer_init(&out, (sl_outfmt)c->fmt, stdout);
  sluice *db = c->remote.url ? NULL : open_engine(c);
  g_db = db;
  if (c->remote.url)
    rc = sql ? sl_remote_script(&c->remote, label, sql, &out, &g_stop)
             : sl_shell_remote(&c->remote, &out);
  else if (!db)
    rc = 1;
  else if (sql)
    rc = sl_run_script(db, label, sql, &out, c->stats);
  else
    rc = sl_shell_run(db, &out);
  fflush(stdout);
  sl_printer_free(&out);
  free(text);
  g_db = NULL;
  if (db) {
    sluice_close(db);
    sl_dev_broker_stop();
  }
  return rc;
}

/* What the owner of a server grants its clients (grant.h), from c's flags
** and the engine's settings as the command line made them: the data
** directories, the brokers allowed and the server's own, its state
** directory, LOAD with --load-path.  0, or 1 after a message. */
static int make_grant(const cli *c, sluice *db, sl_grant *g) {
  sl_err err = {0};
  sl_grant_init(g);
  for (int i = 0; i < c->ndata_dir && !err.code; i++)
    sl_grant_dir(g, c->data_dirs[i], &err);
  const char *what = ""; /* the flag a broker list came from, for its error */
  for (int i = 0; i < c->nbroker_ok && !err.code; i++)
    if (sl_grant_hosts(g, c->brokers_ok[i], &err)) what = "--allow-broker: ";
  const char *own = sl_engine_setting_text(db, SL_SET_KAFKA_BROKERS);
  if (own && !err.code && sl_grant_hosts(g, own, &err)) what = "--brokers: ";
  const char *state = sl_engine_setting_text(db, SL_SET_STATE_DIR);
  g->state_dir = state ? sl_strdup(state) : NULL;
  g->load = c->load_path != NULL;
  if (!err.code) return 0;
  fprintf(stderr, "sluice: %s%s\n", what, err.msg);
  sl_err_clear(&err);
  sl_grant_free(g);
  return 1;
}

/* sluice serve: the engine behind its HTTP API until a signal.  The
** owner's flags run unchecked; every client statement passes the grant. */
static int cmd_serve(cli *c) {
  sluice *db = open_engine(c);
  if (!db) return 1;
  sl_grant grant;
  if (make_grant(c, db, &grant)) {
    sluice_close(db);
    sl_dev_broker_stop();
    return 2;
  }
  sl_engine_set_auth(db, sl_grant_check, &grant, sl_grant_why);
  g_db = db;
  sl_serve_opts o = {.listen = c->listen,
                     .token = c->remote.token,
                     .restart_attempts = c->restart_attempts,
                     .stable_after_s = c->stable_after};
  o.server_names = c->server_names;
  o.nserver_names = c->nserver_name;
  o.allow_origins = c->allow_origins;
  o.nallow_origins = c->nallow_origin;
  o.request_timeout_s = c->request_timeout;
  int rc = sl_serve(db, &o, &g_stop);
  g_db = NULL;
  sluice_close(db);
  sl_grant_free(&grant);
  sl_dev_broker_stop();
  return rc;
}

/* sluice broker: the dev broker alone, with the topics asked for, until a
** signal.  The bootstrap address goes to stdout (one line) for scripts;
** lines on standard input are fault injection commands (tests drive them). */
static int cmd_broker(cli *c) {
  sl_err err = {0};
  /* SIGINT and SIGTERM are blocked while the broker's threads start, which
  ** inherit the mask: the signals then always come to this thread, whose
  ** sigsuspend below would sleep on if another thread took them */
  sigset_t stops, before;
  sigemptyset(&stops);
  sigaddset(&stops, SIGINT);
  sigaddset(&stops, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stops, &before);
  const char *boot = dev_broker_up(c->port, c->topics, &err);
  pthread_sigmask(SIG_SETMASK, &before, NULL);
  if (!boot) {
    fprintf(stderr, "sluice: %s\n", err.msg);
    sl_err_clear(&err);
    return 1;
  }
  printf("%s\n", boot);
  fflush(stdout);
  fprintf(stderr, "sluice: dev broker at %s (Ctrl-C stops it)\n", boot);
  /* Lines on stdin until its end, then nothing, until a signal sets g_stop.
  ** Whichever thread the signal comes to (a thread of the sanitizer's
  ** runtime takes it too), g_stop is looked at every 200 ms: no wait here
  ** depends on the signal interrupting this thread. */
  char line[512];
  size_t n = 0;
  int eof = 0;
  while (!g_stop) {
    struct pollfd pfd = {STDIN_FILENO, POLLIN, 0};
    if (eof || poll(&pfd, 1, 200) <= 0) {
      if (eof) poll(NULL, 0, 200);
      continue;
    }
    ssize_t got = read(STDIN_FILENO, line + n, sizeof line - 1 - n);
    if (got <= 0) {
      if (got < 0 && errno == EINTR) continue;
      eof = 1;
      continue;
    }
    n += (size_t)got;
    line[n] = 0;
    char *nl;
    while ((nl = strchr(line, '\n')) || n == sizeof line - 1) {
      size_t len = nl ? (size_t)(nl - line) : n;
      line[len] = 0;
      if (len && line[len - 1] == '\r') line[len - 1] = 0;
      if (line[0]) {
        sl_buf reply;
        sl_buf_init(&reply);
        sl_dev_broker_control(line, &reply);
        fprintf(stderr, "sluice broker: %s\n", reply.z ? reply.z : "");
        sl_buf_free(&reply);
      }
      size_t used = nl ? len + 1 : n;
      memmove(line, line + used, n - used);
      n -= used;
      line[n] = 0;
    }
  }
  sl_dev_broker_stop();
  return 0;
}

/* sluice submit FILE | queries | terminate ID | describe NAME: one request
** to a running server, its JSON answer on stdout. */
static int cmd_client(cli *c) {
  char path[400];
  switch (c->cmd) {
  case C_QUERIES: return sl_client_request(&c->remote, "GET", "/queries", NULL);
  case C_TERMINATE:
  case C_DESCRIBE: { /* the operand percent-encoded into the path */
    size_t n =
        (size_t)snprintf(path, sizeof path, c->cmd == C_DESCRIBE ? "/describe/" : "/queries/");
    for (const unsigned char *p = (const unsigned char *)c->arg; *p && n + 4 < sizeof path; p++)
      n += (size_t)snprintf(path + n, sizeof path - n,
                            isalnum(*p) || *p == '_' || *p == '-' || *p == '.' ? "%c" : "%%%02X",
                            *p);
    return sl_client_request(&c->remote, c->cmd == C_DESCRIBE ? "GET" : "DELETE", path, NULL);
  }
  }
  int rc = 0;
  char *text = script_text(c, &rc);
  if (rc) return rc;
  rc = sl_client_request(&c->remote, "POST", "/statements", text);
  free(text);
  return rc;
}

int main(int argc, char **argv) {
  cli c;
  int rc = parse_args(argc, argv, &c);
  if (rc >= 0) return rc;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  return commands[c.cmd].run(&c);
}
