/*
** auth_test.c - the authorizer (sluice.h: sluice_set_authorizer; auth.h) and
** the server's grants (grant.h).
**
** Part 1, through the public API only: an authorizer that records every
** question and refuses targets containing "deny".  Each kind of statement
** that reaches outside must ask exactly the question expected (action,
** target as written, detail) and fail with "not authorized" when refused,
** before anything is opened; harmless Kafka properties are not asked about,
** properties that load code are refused without an authorizer and asked
** about with one.  Part 2: sl_grant_check against a temporary tree with a
** symbolic link out of the granted directory, `..` paths, files not yet
** there, hosts with and without ports, and every other action.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "grant.h"
#include "sluice.h"
#include "util.h"

static sl_buf asked; /* "action target detail\n" per question */
static int refuse_code;

/* The recording authorizer of part 1. */
static int record(void *ud, int action, const char *target, const char *detail) {
  (void)ud;
  sl_buf_printf(&asked, "%d %s%s%s\n", action, target, detail && strcmp(detail, target) ? " " : "",
                detail && strcmp(detail, target) ? detail : "");
  if (action == SLUICE_AUTH_CODE) return refuse_code ? SLUICE_DENY : SLUICE_ALLOW;
  return strstr(target, "deny") ? SLUICE_DENY : SLUICE_ALLOW;
}

/* Run sql; return its error message (static copy, "" when it succeeded). */
static const char *run(sluice *db, const char *sql) {
  static char msg[1024];
  char *err = NULL;
  msg[0] = 0;
  if (sluice_exec(db, sql, NULL, NULL, &err)) snprintf(msg, sizeof msg, "%s", err ? err : "?");
  free(err);
  return msg;
}

/* Check that sql asked exactly `want` (lines "action target detail") and
** failed with a message containing `fails` (NULL: it succeeded). */
static void expect(sluice *db, const char *sql, const char *want, const char *fails) {
  sl_buf_free(&asked);
  sl_buf_init(&asked);
  const char *msg = run(db, sql);
  const char *got = asked.z ? asked.z : "";
  CHECK(!strcmp(got, want), "%s\n  asked:\n%s  expected:\n%s", sql, got, want);
  if (fails)
    CHECK(strstr(msg, fails) != NULL, "%s: error '%s', expected '%s'", sql, msg, fails);
  else
    CHECK(!*msg, "%s: failed: %s", sql, msg);
}

static void part1(void) {
  sluice *db = sluice_open();
  FILE *f = fopen("auth_in.jsonl", "w");
  fputs("{\"a\":1}\n{\"a\":2}\n", f);
  fclose(f);
  sluice_set_authorizer(db, record, NULL);
  /* planning asks, and opening asks again */
  expect(db, "SELECT a FROM file('auth_in.jsonl')", "1 auth_in.jsonl file\n1 auth_in.jsonl file\n",
         NULL);
  /* refused when planned: nothing opened */
  expect(db, "SELECT a FROM file('deny.jsonl')", "1 deny.jsonl file\n",
         "not authorized: read 'deny.jsonl' (file)");
  expect(db, "SELECT a FROM file('auth_in.jsonl') INTO file('deny_out.jsonl')",
         "1 auth_in.jsonl file\n2 deny_out.jsonl file\n", "not authorized: write 'deny_out.jsonl'");
  CHECK(access("deny_out.jsonl", F_OK) != 0, "a refused sink created its file");
  expect(db, "EXPLAIN SELECT * FROM sqlite('deny.db', 't')", "1 deny.db sqlite\n",
         "not authorized: read 'deny.db' (sqlite)");
  expect(db, "CREATE MODEL m FROM 'deny_model.json'", "1 deny_model.json model\n",
         "not authorized: read 'deny_model.json' (model)");
  expect(db, "EXPLAIN SELECT * FROM socket('deny.example:9')", "4 deny.example:9 socket\n",
         "not authorized: connect to 'deny.example:9'");
  expect(db, "EXPLAIN SELECT * FROM stdin()", "7 stdin\n", NULL);
  expect(db, "LOAD 'deny.so'", "6 deny.so extension\n", "not authorized: load 'deny.so'");
  /* brokers one by one, normalized; safe properties not asked; files read;
  ** a property not listed asked as such; code asked when an authorizer is in */
  expect(db,
         "EXPLAIN SELECT * FROM kafka('t', brokers => 'PLAINTEXT://Host1:9093, host2', "
         "'client.id' => 'x', 'ssl.ca.location' => 'ca.pem', 'debug.x' => '1')",
         "4 host1:9093 kafka\n4 host2:9092 kafka\n1 ca.pem kafka\n5 debug.x kafka\n",
         "debug.x"); /* librdkafka itself then refuses the unknown name */
  expect(db, "EXPLAIN SELECT * FROM kafka('t', brokers => 'deny:1')", "4 deny:1 kafka\n",
         "not authorized: connect to 'deny:1' (kafka)");
  expect(db, "EXPLAIN SELECT * FROM kafka('t', brokers => 'h:1', 'bootstrap.servers' => 'deny:2')",
         "4 h:1 kafka\n4 deny:2 kafka\n", "not authorized: connect to 'deny:2'");
  refuse_code = 1;
  expect(db, "EXPLAIN SELECT * FROM kafka('t', brokers => 'h:1', 'plugin.library.paths' => 'x.so')",
         "4 h:1 kafka\n8 plugin.library.paths kafka\n",
         "not authorized: set the property 'plugin.library.paths'");
  /* SET kafka.<property> is a default of every call: checked the same */
  expect(db,
         "SET kafka.sasl.kerberos.kinit.cmd = 'id'; EXPLAIN SELECT * FROM kafka('t', brokers => "
         "'h:1')",
         "4 h:1 kafka\n8 sasl.kerberos.kinit.cmd kafka\n", "not authorized");
  expect(db,
         "SET state_dir = 'deny_state'; SELECT a FROM file('auth_in.jsonl') INTO file('o.jsonl')",
         "1 auth_in.jsonl file\n2 o.jsonl file\n3 deny_state state_dir\n",
         "not authorized: use the directory 'deny_state'");
  CHECK(access("deny_state", F_OK) != 0, "a refused state directory was created");
  run(db, "SET state_dir = NULL");
  /* no authorizer: everything but code */
  sluice_set_authorizer(db, NULL, NULL);
  sl_buf_free(&asked);
  sl_buf_init(&asked);
  const char *msg = run(db, "EXPLAIN SELECT a FROM file('deny.jsonl')");
  CHECK(!*msg, "no authorizer refused a file: %s", msg);
  msg = run(db, "EXPLAIN SELECT * FROM kafka('t', brokers => 'h:1', "
                "'plugin.library.paths' => 'x.so')");
  CHECK(strstr(msg, "--allow-unsafe-properties") != NULL, "code property without authorizer: %s",
        msg);
  CHECK(asked.n == 0, "a removed authorizer was asked");
  sl_buf_free(&asked);
  sluice_close(db);
  remove("auth_in.jsonl");
}

static void part2(void) {
  /* a directory of its own below the working directory (the build tree) */
  char cwd[512], top[600];
  CHECK(getcwd(cwd, sizeof cwd) != NULL, "getcwd");
  snprintf(top, sizeof top, "%s/auth_test.%ld", cwd, (long)getpid());
  CHECK(mkdir(top, 0700) == 0, "mkdir %s", top);
  char data[640], outside[640], link[640], p[1024];
  snprintf(data, sizeof data, "%s/data", top);
  snprintf(outside, sizeof outside, "%s/secret", top);
  snprintf(link, sizeof link, "%s/data/link", top);
  mkdir(data, 0755);
  FILE *f = fopen(outside, "w");
  fputs("x\n", f);
  fclose(f);
  snprintf(p, sizeof p, "%s/data/in.jsonl", top);
  f = fopen(p, "w");
  fclose(f);
  CHECK(symlink(outside, link) == 0, "symlink");
  sl_grant g;
  sl_err err = {0};
  sl_grant_init(&g);
  CHECK(sl_grant_dir(&g, data, &err) == 0, "grant dir");
  CHECK(sl_grant_dir(&g, "/no/such/dir", &err) != 0 && err.code, "missing dir granted");
  sl_err_clear(&err);
  CHECK(sl_grant_hosts(&g, "Broker1:9093,broker2, PLAINTEXT://b3:1", &err) == 0, "hosts");
  g.state_dir = sl_strdup("st");
  struct {
    int action;
    const char *target; /* "%s" is the temporary directory */
    int allowed;
  } cases[] = {
      {SLUICE_AUTH_READ, "%s/data/in.jsonl", 1},
      {SLUICE_AUTH_READ, "%s/data/../secret", 0},
      {SLUICE_AUTH_READ, "%s/data/link", 0}, /* a link out of the directory */
      {SLUICE_AUTH_READ, "%s/secret", 0},
      {SLUICE_AUTH_WRITE, "%s/data/new.jsonl", 1},     /* not there yet */
      {SLUICE_AUTH_WRITE, "%s/data/sub/new.jsonl", 0}, /* its directory is not there */
      {SLUICE_AUTH_WRITE, "%s/data/..", 0},
      {SLUICE_AUTH_WRITE, "%s/datanext", 0}, /* a sibling sharing the prefix */
      {SLUICE_AUTH_DIRECTORY, "%s/data", 1},
      {SLUICE_AUTH_DIRECTORY, "st", 1},
      {SLUICE_AUTH_DIRECTORY, "/tmp", 0},
      {SLUICE_AUTH_CONNECT, "broker1:9093", 1},
      {SLUICE_AUTH_CONNECT, "BROKER2:9092", 1},
      {SLUICE_AUTH_CONNECT, "broker2", 1},
      {SLUICE_AUTH_CONNECT, "b3:1", 1},
      {SLUICE_AUTH_CONNECT, "broker1:9092", 0},
      {SLUICE_AUTH_CONNECT, "evil:9093", 0},
      {SLUICE_AUTH_PROPERTY, "debug.x", 0},
      {SLUICE_AUTH_CODE, "plugin.library.paths", 0},
      {SLUICE_AUTH_STDIO, "stdout", 0},
      {SLUICE_AUTH_LOAD, "x.so", 0},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    snprintf(p, sizeof p, cases[i].target, top);
    int r = sl_grant_check(&g, cases[i].action, p, NULL);
    CHECK((r == SLUICE_ALLOW) == cases[i].allowed, "grant: action %d on %s: %s", cases[i].action, p,
          r == SLUICE_ALLOW ? "allowed" : "refused");
    if (r != SLUICE_ALLOW)
      CHECK(sl_grant_why(&g, cases[i].action, p) != NULL, "no reason for action %d",
            cases[i].action);
  }
  g.load = 1;
  CHECK(sl_grant_check(&g, SLUICE_AUTH_LOAD, "x.so", NULL) == SLUICE_ALLOW, "--load-path grants");
  sl_grant_free(&g);
  snprintf(p, sizeof p, "rm -rf '%s'", top);
  CHECK(system(p) == 0, "cleanup");
}

int main(void) {
  part1();
  part2();
  printf("auth_test: %d checks, %d failed\n", ncheck, nfail);
  return nfail ? 1 : 0;
}
