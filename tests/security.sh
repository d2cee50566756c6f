#!/usr/bin/env bash
# security.sh - what a client of `sluice serve` reaches (issue "No way in";
# docs/security.md).  Every probe a client could use to reach outside the
# engine is sent to a server started with default flags and must be
# refused with 403 and a message that names what would grant it, with
# nothing read, written, created, loaded or executed: files by absolute
# path, by `..` and through a symbolic link; INTO a file; sqlite()
# databases; CREATE MODEL (the answer must not tell whether the file
# exists) and EXPORT MODEL; stdin()/stdout(); socket() and Kafka brokers
# not granted, also through 'bootstrap.servers'; librdkafka properties
# that load a library (a real one whose constructor would leave a file)
# or run a command, also through SET kafka.<property>, also on a server
# started with --allow-unsafe-properties; properties not on the list;
# LOAD.  Then the same actions succeed where a flag grants them
# (--data-dir, --allow-broker, the server's own dev broker, --load-path),
# and, locally, --allow-unsafe-properties really lets a library property
# through (so that the refusals above can fail).  Browser requests and
# exhaustion are tests/security_http.sh; the per-query memory limit is in
# the limits tests.
set -u
here=$(cd "$(dirname "$0")" && pwd)
sluice=${SLUICE:-$here/../sluice}
work=$(mktemp -d)
spid=""
trap '[ -n "$spid" ] && kill $spid 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
. "$here/lib.sh"
cd "$work" || exit 1
command -v curl > /dev/null || { echo "security: curl missing (scripts/setup.sh)"; exit 77; }
command -v cc > /dev/null || { echo "security: cc missing (scripts/setup.sh)"; exit 77; }
py=/usr/bin/python3

mkdir -p data outside
printf '{"a":1}\n{"a":2}\n' > data/in.jsonl
printf 'secret\n' > outside/secret.txt
ln -s "$work/outside/secret.txt" data/link.txt
$py -c "import sqlite3; c = sqlite3.connect('data/ref.db'); c.execute('CREATE TABLE t (k TEXT, v INTEGER)'); c.execute(\"INSERT INTO t VALUES ('x', 7)\"); c.commit()"
cp data/ref.db outside/ref.db
model='{"format": "sluice-model", "version": 1, "kind": "linear", "n_features": 1, "coef": [[2]], "intercept": [1], "link": "identity"}'
echo "$model" > data/m.json
echo "$model" > outside/m.json
# a library whose constructor leaves a file: what plugin.library.paths would load
cat > evil.c << 'EOF'
#include <stdio.h>
__attribute__((constructor)) static void evil(void) {
  FILE *f = fopen("pwned-by-plugin", "w");
  if (f) fclose(f);
}
EOF
cc -shared -fPIC -o evil.so evil.c || { bad "evil.so built"; finish security; }

# start_server ARGS...: sluice serve on a new free port; sets url and spid.
start_server() { serve_start "$@"; }
stop_server() { serve_stop; }
# post ENDPOINT SQL: the answer's status and body ("403 {...}").
post() {
  curl -s -o body.out -w '%{http_code}' -X POST -H 'Content-Type: application/sql' \
    --data-binary "$2" "$url/$1" > code.out
  echo "$(cat code.out) $(cat body.out)"
}
# refused NAME SQL [ENDPOINT]: 403 with "not authorized" and the reason.
refused() {
  local r
  r=$(post "${3:-query}" "$2")
  case "$r" in
  "403 "*"not authorized"*) ok ;;
  *) bad "$1 refused: $r" ;;
  esac
}
# allowed NAME SQL NEEDLE [ENDPOINT]: 200 with NEEDLE in the answer.
allowed() {
  local r
  r=$(post "${4:-query}" "$2")
  case "$r" in
  "200 "*"$3"*) ok ;;
  *) bad "$1 allowed: $r" ;;
  esac
}
nothing_left() { # NAME FILE...: none of the files exists
  local n=$1
  shift
  for f in "$@"; do [ -e "$f" ] && bad "$n: $f exists" || ok; done
}

# ---- default flags: a client reaches nothing ---------------------------------
start_server && ok || { bad "server started: $(cat serve.err)"; finish security; }
refused "/etc/passwd" "SELECT * FROM file('/etc/passwd', format => 'raw');"
refused "a relative file" "SELECT a FROM file('data/in.jsonl');"
refused "INTO a file" "SELECT 1 AS x INTO file('$work/written.json');" statements
refused "sqlite()" "SELECT * FROM sqlite('$work/outside/ref.db', 't');"
refused "stdout()" "SELECT 1 AS x INTO stdout();" statements
refused "stdin()" "SELECT * FROM stdin();"
refused "socket()" "SELECT * FROM socket('127.0.0.1:22');"
refused "a broker" "SELECT * FROM kafka('t', brokers => '10.1.2.3:9092');"
refused "CREATE MODEL" "CREATE MODEL m FROM '$work/outside/m.json';" statements
# the answer for a file that exists and one that does not differ only by name
a=$(post statements "CREATE MODEL m FROM '$work/outside/m.json';" | sed "s|$work/outside/m.json|F|")
b=$(post statements "CREATE MODEL m FROM '$work/outside/none.json';" | sed "s|$work/outside/none.json|F|")
check "CREATE MODEL tells nothing of the file" "$a" "$b"
refused "LOAD" "LOAD '$work/evil.so';" statements
refused "plugin.library.paths" \
  "SELECT * FROM kafka('t', brokers => '127.0.0.1:1', 'plugin.library.paths' => '$work/evil.so');"
refused "kinit.cmd" \
  "SELECT * FROM kafka('t', brokers => '127.0.0.1:1', 'sasl.kerberos.kinit.cmd' => 'touch $work/pwned-by-cmd', 'security.protocol' => 'SASL_PLAINTEXT', 'sasl.mechanisms' => 'GSSAPI');"
refused "SET kafka.plugin.library.paths" \
  "SET kafka.plugin.library.paths = '$work/evil.so'; SELECT * FROM kafka('t', brokers => '127.0.0.1:1') INTO file('x.json');" statements
refused "a property not listed" "SELECT * FROM kafka('t', brokers => '127.0.0.1:1', 'oauthbearer_token_refresh_cb' => 'x');"
refused "ssl.ca.location" "SELECT * FROM kafka('t', brokers => '127.0.0.1:1', 'ssl.ca.location' => '/etc/passwd');"
r=$(post statements "SET state_dir = '$work/state';")
case "$r" in "400 "*"fixed by the command line"*) ok ;; *) bad "SET state_dir: $r" ;; esac
r=$(post statements "SET max_query_memory = 0;")
case "$r" in "400 "*"fixed by the command line"*) ok ;; *) bad "SET max_query_memory from a client: $r" ;; esac
nothing_left "default flags" pwned-by-plugin pwned-by-cmd written.json state x.json
stop_server

# ---- the owner's memory limit holds for clients --------------------------------
start_server --max-query-memory 64MB && ok || bad "server with --max-query-memory"
r=$(post query "SELECT length(printf('%.*c', 100000000, 'x')) AS n;")
contains "a value over --max-query-memory" "string or blob too big (over max_query_memory, 64 MiB)" "$r"
allowed "one under it" "SELECT length(printf('%.*c', 1000000, 'x')) AS n;" '"row":[1000000]'
stop_server

# ---- what flags grant --------------------------------------------------------
udf=${top_builddir:-$here/..}/udf
start_server --data-dir data --allow-broker 10.1.2.3:9092 --load-path "$udf" \
  && ok || { bad "server with grants: $(cat serve.err)"; finish security; }
allowed "a file under --data-dir" "SELECT a FROM file('data/in.jsonl');" '"row":[2]'
allowed "the same by its full path" "SELECT a FROM file('$work/data/in.jsonl');" '"row":[2]'
refused "'..' out of --data-dir" "SELECT * FROM file('data/../outside/secret.txt', format => 'raw');"
refused "a link out of --data-dir" "SELECT * FROM file('data/link.txt', format => 'raw');"
allowed "INTO a file under --data-dir" \
  "SELECT a * 10 AS b FROM file('data/in.jsonl') INTO file('data/out.json');" '"status":"ok"' statements
for _ in $(seq 100); do [ -s data/out.json ] && break; sleep 0.05; done
check "what it wrote" '{"b":10}
{"b":20}' "$(cat data/out.json 2>/dev/null)"
refused "INTO a file outside" "SELECT 1 AS x INTO file('outside/w.json');" statements
refused "a dead-letter file outside" \
  "SELECT a FROM file('data/in.jsonl', dlq => file('outside/bad.json')) INTO file('data/o2.json');" statements
refused "a stream declared over a file outside, then read" \
  "CREATE STREAM sec (line TEXT) FROM file('outside/secret.txt', format => 'raw'); SELECT line FROM sec;"
allowed "sqlite() under --data-dir" "SELECT k, v FROM sqlite('data/ref.db', 't');" '"row":["x",7]'
refused "sqlite() outside" "SELECT * FROM sqlite('outside/ref.db', 't');"
allowed "CREATE MODEL under --data-dir" "CREATE MODEL m FROM 'data/m.json';" '"status":"ok"' statements
allowed "the model" "SELECT m(3) AS p;" '"row":[7' 
allowed "EXPORT MODEL under --data-dir" "EXPORT MODEL m TO 'data/m2.json';" '"status":"ok"' statements
[ -s data/m2.json ] && ok || bad "the exported model"
refused "EXPORT MODEL outside" "EXPORT MODEL m TO 'outside/m2.json';" statements
allowed "a granted broker (planned, not contacted)" \
  "EXPLAIN SELECT * FROM kafka('t', brokers => '10.1.2.3:9092');" '"plan"'
refused "another broker" "EXPLAIN SELECT * FROM kafka('t', brokers => '10.1.2.4:9092');"
refused "a granted broker then another" \
  "EXPLAIN SELECT * FROM kafka('t', brokers => '10.1.2.3:9092', 'bootstrap.servers' => '10.9.9.9:9092');"
allowed "a listed property" \
  "EXPLAIN SELECT * FROM kafka('t', brokers => '10.1.2.3:9092', 'client.id' => 'me', 'fetch.wait.max.ms' => 50);" '"plan"'
allowed "LOAD under --load-path" "LOAD '$udf/libgeo.so';" '"status":"ok"' statements
refused "LOAD outside --load-path" "LOAD '$work/evil.so';" statements
# with the broker granted, the property itself is what is refused
for p in "'plugin.library.paths' => '$work/evil.so'" "'sasl.kerberos.kinit.cmd' => 'touch $work/pwned-by-cmd'" \
  "'ssl.engine.location' => '$work/evil.so'" "'ssl.providers' => 'x'"; do
  r=$(post query "EXPLAIN SELECT * FROM kafka('t', brokers => '10.1.2.3:9092', $p);")
  case "$r" in "403 "*"loads code or runs a command"*) ok ;; *) bad "$p with every grant: $r" ;; esac
done
r=$(post query "EXPLAIN SELECT * FROM kafka('t', brokers => '10.1.2.3:9092', 'some.property' => 'x');")
contains "a property not listed" "docs/security.md lists" "$r"
r=$(post query "EXPLAIN SELECT * FROM kafka('t', brokers => '10.1.2.3:9092', 'ssl.ca.location' => 'data/in.jsonl');")
case "$r" in "200 "*) ok ;; *) bad "a file property under --data-dir: $r" ;; esac
nothing_left "with grants" pwned-by-plugin pwned-by-cmd outside/w.json outside/m2.json outside/bad.json data/o2.json
stop_server

# the server's own dev broker is granted; code properties stay refused for
# clients of a server started with --allow-unsafe-properties
start_server --dev-broker=0 --allow-unsafe-properties && ok || bad "server with its dev broker: $(cat serve.err)"
allowed "its own broker" "EXPLAIN SELECT * FROM kafka('t');" '"plan"'
refused "unsafe property from a client" \
  "SELECT * FROM kafka('t', 'plugin.library.paths' => '$work/evil.so');"
nothing_left "--allow-unsafe-properties" pwned-by-plugin
stop_server

# ---- locally: refused without the flag, taken with it -------------------------
"$sluice" -e "EXPLAIN SELECT * FROM kafka('t', brokers => '127.0.0.1:1', 'plugin.library.paths' => '$work/evil.so');" > /dev/null 2> local.err
contains "local refusal" "--allow-unsafe-properties" "$(cat local.err)"
nothing_left "local without the flag" pwned-by-plugin
"$sluice" --allow-unsafe-properties -e "EXPLAIN SELECT * FROM kafka('t', brokers => '127.0.0.1:1', 'plugin.library.paths' => '$work/evil.so');" > /dev/null 2>&1
[ -e pwned-by-plugin ] && ok || bad "--allow-unsafe-properties passes the property to librdkafka"
finish security
