#!/usr/bin/env bash
# connect.sh - `sluice --connect URL` against a real `sluice serve`: the
# shell's statements run in the server's engine and print as they would
# locally.  CREATE, SHOW QUERIES, DESCRIBE (a stream, a query), EXPLAIN, a
# persistent SELECT ... INTO started and listed, TERMINATE, errors with
# their position; then on a pseudo-terminal a SELECT without INTO over an
# endless socket source streams its rows until a real Ctrl-C, after which
# the server has stopped that query (its socket closed, gone from the list)
# and the shell goes on.  Last, servers listening on localhost and on the
# IPv6 loopback, reached by the shell and the thin clients.
set -u
here=$(cd "$(dirname "$0")" && pwd)
sluice=${SLUICE:-$here/../sluice}
work=$(mktemp -d)
spid=""
gpid=""
trap '[ -n "$spid" ] && kill $spid 2>/dev/null; [ -n "$gpid" ] && kill $gpid 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
. "$here/lib.sh"
cd "$work" || exit 1
command -v curl > /dev/null || { echo "connect: curl missing (scripts/setup.sh)"; exit 77; }
py=/usr/bin/python3
printf '{"a":1,"b":"x"}\n{"a":2,"b":"y"}\n{"a":3,"b":null}\n' > in.jsonl

port=$(free_port)
gport=$(free_port) # the socket generator's (below): granted to the server's clients
url=http://127.0.0.1:$port
"$sluice" serve --data-dir . --allow-broker "127.0.0.1:$gport" --listen "127.0.0.1:$port" 2> serve.err &
spid=$!
for _ in $(seq 100); do grep -q listening serve.err && break; sleep 0.05; done
grep -q listening serve.err && ok || { bad "server started"; finish connect; }
remote() { "$sluice" --connect "$url" --format csv "$@"; }
state() { # state ID: the server's word for query ID
  curl -s "$url/queries" | $py -c '
import json, sys
for q in json.load(sys.stdin):
    if q["id"] == sys.argv[1]: print(q["state"])' "$1"
}

# The same statement, locally and on the server, prints the same.
q="SELECT a, a / 2.0 AS h, upper(b) AS u, x'4142' AS blob, 9223372036854775807 AS big FROM file('in.jsonl', format => 'json')"
local=$("$sluice" --format csv -e "$q;")
[ "$(remote -e "$q;")" = "$local" ] && ok || bad "a SELECT prints as locally: $(remote -e "$q;")"
[ "$(remote --format table -e "$q;")" = "$("$sluice" --format table -e "$q;")" ] && ok || bad "table mode as locally"

# Statements on stdin: the catalog is the server's.
out=$(printf "CREATE STREAM s FROM file('in.jsonl', format => 'json');\nDESCRIBE s;\n" | remote 2>&1)
echo "$out" | grep -q '(schemaless: any field)' && ok || bad "CREATE then DESCRIBE: $out"
out=$(remote -e "SELECT a * 10 AS t FROM s INTO file('out.csv', format => 'csv');" 2>&1)
echo "$out" | grep -q 'started q3' && ok || bad "a persistent query started: $out"
for _ in $(seq 100); do [ "$(state q3)" = finished ] && break; sleep 0.05; done
[ "$(tr -d '\n' < out.csv)" = 102030 ] && ok || bad "its output: $(cat out.csv)"
out=$(remote -e "SHOW QUERIES;")
echo "$out" | head -n 1 | grep -q '^id,state,kind,records_in,records_out,rejected,attempts,error,sql$' &&
  echo "$out" | grep -q '^q3,finished,persistent,3,3,0,' && ok || bad "SHOW QUERIES: $out"
out=$(remote -e "DESCRIBE q3;")
echo "$out" | grep -qx 'records_out,3' && ok || bad "DESCRIBE q3: $out"
out=$(remote -e "EXPLAIN SELECT a FROM s WHERE a > 1;")
echo "$out" | grep -q 'query q' && ok || bad "EXPLAIN: $out"
out=$(remote -e "SELECT nosuch(1);" 2>&1); rc=$?
[ $rc = 1 ] && echo "$out" | grep -q '1:8: error: no such function: nosuch' && ok || bad "an error with its position ($rc): $out"
out=$(remote -e "TERMINATE q404;" 2>&1)
echo "$out" | grep -q 'no such query: q404' && ok || bad "TERMINATE unknown: $out"

# A persistent socket query, then TERMINATE from the shell.
cat > gen.py <<'PY'
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(4); print("listening", flush=True)
for _ in range(3):
    c, _ = s.accept()
    try:
        for i in range(6000):
            c.sendall(b"%d\n" % i); time.sleep(0.01)
    except OSError:
        print("closed", flush=True)
PY
timeout 120 $py gen.py "$gport" > gen.out &
gpid=$!
for _ in $(seq 100); do grep -q listening gen.out && break; sleep 0.05; done
remote -e "SELECT n FROM socket('127.0.0.1:$gport', format => 'csv', columns => 'n INTEGER') INTO file('sock.csv', format => 'csv');" 2> start.err
grep -q 'started q' start.err && ok || bad "socket query started: $(cat start.err)"
id=$(grep -o 'q[0-9]*' start.err | head -n 1)
sleep 0.5
[ "$(state "$id")" = running ] && ok || bad "$id running"
out=$(remote -e "TERMINATE $id;")
echo "$out" | grep -qx "$id,terminating" && ok || bad "TERMINATE $id: $out"
for _ in $(seq 100); do [ "$(state "$id")" = terminated ] && break; sleep 0.05; done
[ "$(state "$id")" = terminated ] && ok || bad "$id terminated"
for _ in $(seq 60); do grep -q closed gen.out && break; sleep 0.05; done
grep -q closed gen.out && ok || bad "its source closed"

# The shell on a pseudo-terminal: rows stream until Ctrl-C, then the server
# has stopped the query and the shell goes on.
if command -v script > /dev/null 2>&1; then
  {
    printf "SELECT n FROM socket('127.0.0.1:$gport', format => 'csv', columns => 'n INTEGER') WHERE n %% 100 = 0;\n"
    for _ in $(seq 100); do [ "$(grep -c closed gen.out)" -ge 1 ] && curl -s "$url/queries" | grep -q '"transient"' && break; sleep 0.05; done
    sleep 2.5
    printf '\003'
    for _ in $(seq 100); do [ "$(grep -c closed gen.out)" -ge 2 ] && break; sleep 0.05; done
    sleep 0.3
    printf 'SELECT 40 + 2 AS answer;\n.quit\n'
  } | HOME=$work SHELL=/bin/sh timeout 30 script -qec "exec '$sluice' --connect $url --format csv" /dev/null > shell.raw 2>&1
  rc=$?
  tr -d '\r' < shell.raw > shell.out
  [ $rc = 0 ] && ok || bad "shell exit $rc: $(cat shell.out)"
  grep -qx 100 shell.out && ok || bad "rows streamed: $(head -c 400 shell.out)"
  grep -q '(stopped q' shell.out && ok || bad "stopped by Ctrl-C: $(tail -c 400 shell.out)"
  [ "$(grep -c closed gen.out)" -ge 2 ] && ok || bad "the server stopped the streamed query"
  grep -qx 42 shell.out && ok || bad "the shell goes on after Ctrl-C: $(tail -c 300 shell.out)"
  curl -s "$url/queries" | grep -q '"transient"' && bad "the transient query is still listed" || ok
else
  echo "script(1) not available: shell test skipped"
fi
kill "$spid"; wait "$spid" && ok || bad "clean stop"; spid=""

# serve_on HOST:PORT: a server there; 0 once it listens (serve.err tells).
serve_on() {
  rm -f serve.err # made by the background child: the last server's "listening" must not count
  "$sluice" serve --data-dir . --listen "$1" 2> serve.err &
  spid=$!
  for _ in $(seq 100); do grep -q listening serve.err 2>/dev/null && return 0; sleep 0.05; done
  return 1
}
port=$(free_port)
serve_on "localhost:$port" && ok || bad "serve --listen localhost: $(cat serve.err)"
has() { case "$3" in *"$2"*) ok ;; *) bad "$1: '$2' not in: $3" ;; esac; }
has "localhost: the address" "listening on http://localhost:$port" "$(cat serve.err)"
has "localhost: --connect" $'x\n42' "$("$sluice" --connect "http://localhost:$port" --format csv -e 'SELECT 40 + 2 AS x;')"
kill "$spid"; wait "$spid" && ok || bad "clean stop (localhost)"; spid=""
if $py -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2> /dev/null; then
  port=$(free_port)
  serve_on "[::1]:$port" && ok || bad "serve --listen [::1]: $(cat serve.err)"
  has "IPv6: the address" "listening on http://[::1]:$port" "$(cat serve.err)"
  url6="http://[::1]:$port"
  has "IPv6: --connect" $'x\n42' "$("$sluice" --connect "$url6" --format csv -e 'SELECT 40 + 2 AS x;')"
  printf "SELECT a FROM file('in.jsonl', format => 'json') INTO file('v6.csv', format => 'csv');\n" > v6.sql
  out=$("$sluice" submit v6.sql --server "$url6")
  has "IPv6: submit" '"status":"ok"' "$out"
  id=$(echo "$out" | sed -n 's/.*"queries":\["\(q[0-9]*\)".*/\1/p')
  for _ in $(seq 100); do "$sluice" queries --server "$url6" | grep -q '"state":"finished"' && break; sleep 0.05; done
  has "IPv6: queries" "\"id\":\"$id\",\"state\":\"finished\"" "$("$sluice" queries --server "$url6")"
  has "IPv6: describe" '["records_out","3"]' "$("$sluice" describe "$id" --server "$url6")"
  has "IPv6: not on IPv4" "cannot reach" "$("$sluice" queries --server "http://127.0.0.1:$port" 2>&1)"
  kill "$spid"; wait "$spid" && ok || bad "clean stop (IPv6)"; spid=""
else
  echo "connect: no IPv6 loopback in this kernel: the IPv6 checks are skipped"
fi
"$sluice" serve --listen "::1:$(free_port)" 2> bad.err; rc=$?
[ $rc = 2 ] && grep -q 'bad --listen address' bad.err && ok || bad "IPv6 without brackets ($rc): $(cat bad.err)"
"$sluice" serve --listen "[::]:$(free_port)" 2> bad.err; rc=$?
[ $rc = 2 ] && grep -q 'needs --token' bad.err && ok || bad "all IPv6 addresses need a token ($rc): $(cat bad.err)"
finish connect
