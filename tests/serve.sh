#!/usr/bin/env bash
# serve.sh - `sluice serve` over HTTP on a free loopback port: submit a file
# query, list it, metrics, SQL errors with line:column, bad requests (huge
# body, unknown endpoint, wrong method, wrong token), concurrent submissions,
# terminating one of two running socket queries (the other runs on), a
# restart (clean and kill -9) with a state directory that runs the same
# queries again from their checkpoints, a submission with an error that
# changes nothing, and the refusal to listen beyond loopback without a token.
set -u
here=$(cd "$(dirname "$0")" && pwd)
sluice=${SLUICE:-$here/../sluice}
work=$(mktemp -d)
spid=""
trap '[ -n "$spid" ] && kill $spid 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
. "$here/lib.sh"
cd "$work" || exit 1
command -v curl > /dev/null || { echo "serve: curl missing (scripts/setup.sh)"; exit 77; }
printf '{"a":1}\n{"a":2}\n{"a":3}\n' > in.jsonl

# start_server ARGS...: sluice serve on a new free port; sets url and spid.
start_server() {
  port=$(free_port)
  url=http://127.0.0.1:$port
  "$sluice" serve --listen "127.0.0.1:$port" "$@" 2> serve.err &
  spid=$!
  for _ in $(seq 100); do grep -q listening serve.err 2>/dev/null && return 0; sleep 0.05; done
  return 1
}
stop_server() { kill "$spid"; wait "$spid"; rc=$?; spid=""; return $rc; }
post() { curl -s -X POST --data-binary "$1" "$url/statements"; }
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }

start_server && ok || { bad "server started"; cat serve.err; finish serve; }
r=$(post "SELECT a * 2 AS b FROM file('in.jsonl', format => 'json') INTO file('out.jsonl', format => 'json');")
[ "$r" = '{"job":1,"status":"ok"}' ] && ok || bad "submit: $r"
for _ in $(seq 100); do curl -s "$url/queries" | grep -q finished && break; sleep 0.05; done
q=$(curl -s "$url/queries")
echo "$q" | grep -q '"state":"finished","stats":"q1: 3 in, 3 out, 0 rejected' && ok || bad "queries: $q"
[ "$(tr -d '\n' < out.jsonl)" = '{"b":2}{"b":4}{"b":6}' ] && ok || bad "output rows"

# The thin clients.
printf "SELECT a FROM file('in.jsonl', format => 'json') INTO file('cl.jsonl', format => 'json');\n" > ok.sql
"$sluice" submit ok.sql --server "$url" > sub.out && grep -q '"status":"ok"' sub.out && ok || bad "sluice submit: $(cat sub.out)"
printf 'SELECT 1;\nSELECT nosuch(;\n' > err.sql
"$sluice" submit err.sql --server "$url" > sub.out
[ $? = 1 ] && grep -q '"line":2' sub.out && ok || bad "sluice submit of an error: $(cat sub.out)"
SLUICE_SERVER=$url "$sluice" queries | grep -q '"id":2' && ok || bad "sluice queries"
"$sluice" terminate 99 --server "$url" > /dev/null; [ $? = 1 ] && ok || bad "sluice terminate unknown"
"$sluice" queries --server http://127.0.0.1:1 2> /dev/null; [ $? = 1 ] && ok || bad "unreachable server"
for _ in $(seq 100); do [ "$(curl -s "$url/queries" | grep -o finished | wc -l)" -eq 2 ] && break; sleep 0.05; done

r=$(post $'SELECT\n  nosuch(1;')
echo "$r" | grep -q '"line":2,"column":11' && ok || bad "SQL error position: $r"
[ "$(code -X POST --data-binary 'SELEC 1;' "$url/statements")" = 400 ] && ok || bad "SQL error is 400"
head -c 2000000 /dev/zero | tr '\0' a > big
[ "$(code -X POST --data-binary @big "$url/statements")" = 413 ] && ok || bad "huge body 413"
[ "$(code -X POST "$url/statements")" = 400 ] && ok || bad "empty body 400"
[ "$(code "$url/nope")" = 404 ] && ok || bad "unknown endpoint 404"
[ "$(code "$url/statements")" = 405 ] && ok || bad "GET /statements 405"
[ "$(code -X DELETE "$url/metrics")" = 405 ] && ok || bad "DELETE /metrics 405"

# Concurrent submissions: each writes its own file; all finish with 3 rows.
for i in 1 2 3 4 5; do
  post "SELECT a FROM file('in.jsonl', format => 'json') INTO file('c$i.jsonl', format => 'json');" > "sub$i" &
done
wait $(jobs -p | grep -v "^$spid$")
for _ in $(seq 100); do [ "$(curl -s "$url/queries" | grep -o finished | wc -l)" -eq 7 ] && break; sleep 0.05; done
n=0
for i in 1 2 3 4 5; do [ "$(wc -l < "c$i.jsonl" 2>/dev/null)" = 3 ] && n=$((n + 1)); done
[ "$n" = 5 ] && ok || bad "concurrent submissions: $n of 5 wrote 3 rows"

# Metrics: Prometheus text, parsed.
curl -s "$url/metrics" > metrics.txt
/usr/bin/python3 - metrics.txt <<'PY' && ok || bad "metrics parsed"
import re, sys
vals = {}
for line in open(sys.argv[1]):
    if line.startswith("#") or not line.strip():
        continue
    m = re.fullmatch(r'([a-z_]+)(\{[^}]*\})? (\S+)\n', line)
    assert m, line
    vals[m.group(1) + (m.group(2) or "")] = float(m.group(3))
assert vals['sluice_jobs{state="finished"}'] == 7, vals
assert vals['sluice_jobs{state="running"}'] == 0, vals
PY

# Two endless socket queries; terminating the first leaves the second running.
cat > gen.py <<'PY'
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(4); print("listening", flush=True)
c, _ = s.accept()
try:
    for i in range(20000):
        c.sendall(b"%d\n" % i); time.sleep(0.01)
except OSError:
    pass
PY
gpids=""
for g in 1 2; do
  gport[$g]=$(free_port)
  timeout 60 /usr/bin/python3 gen.py "${gport[$g]}" > "gen$g.out" &
  gpids="$gpids $!"
  for _ in $(seq 100); do grep -q listening "gen$g.out" && break; sleep 0.05; done
  post "SELECT n FROM socket('127.0.0.1:${gport[$g]}', format => 'csv', columns => 'n INTEGER') INTO file('s$g.csv', format => 'csv');" > /dev/null
done
sleep 1
[ "$(curl -s "$url/queries" | grep -o '"state":"running"' | wc -l)" = 2 ] && ok || bad "two running"
r=$(curl -s -X DELETE "$url/queries/8")
[ "$r" = '{"id":8,"status":"terminating"}' ] && ok || bad "terminate: $r"
for _ in $(seq 100); do curl -s "$url/queries" | grep -q terminated && break; sleep 0.05; done
q=$(curl -s "$url/queries")
echo "$q" | grep -q '"id":8,[^}]*"state":"terminated"' && ok || bad "terminated: $q"
echo "$q" | grep -q '"id":9,[^}]*"state":"running"' && ok || bad "the other runs on: $q"
n8=$(wc -l < s2.csv); sleep 0.5
[ "$(wc -l < s2.csv)" -gt "$n8" ] && ok || bad "the other still writes"
[ "$(code -X DELETE "$url/queries/99")" = 404 ] && ok || bad "terminate unknown 404"
[ "$(code -X DELETE "$url/queries/x")" = 400 ] && ok || bad "terminate bad id 400"
stop_server && ok || bad "clean stop"
kill $gpids 2>/dev/null

# A token, when given, is checked on every request.
start_server --token s3cret && ok || bad "server with token"
[ "$(code "$url/queries")" = 401 ] && ok || bad "no token 401"
[ "$(code -H 'Authorization: Bearer wrong' "$url/queries")" = 401 ] && ok || bad "wrong token 401"
[ "$(code -H 'Authorization: Bearer s3cret' "$url/queries")" = 200 ] && ok || bad "right token 200"
"$sluice" queries --server "$url" --token s3cret > /dev/null && ok || bad "sluice queries --token"
SLUICE_TOKEN=nope "$sluice" queries --server "$url" > /dev/null; [ $? = 1 ] && ok || bad "client wrong token"
stop_server && ok || bad "clean stop (token)"

# A state directory: the submissions run again after a restart, with the
# same ids, from their checkpoints (nothing read twice); a terminated one
# stays terminated.
start_server --state-dir st && ok || bad "server with a state dir"
post "CREATE STREAM s1 FROM file('in.jsonl', format => 'json');" > /dev/null
# A submission with an error changes nothing: no stream, no output file, no
# query id taken (the ids checked below stay q1 to q3, before and after the
# restart, which applies the logged submissions only).
r=$(post $'CREATE STREAM s9 FROM file(\'in.jsonl\', format => \'json\');\nSELECT a FROM s9 INTO file(\'half.jsonl\', format => \'json\');\nSELECT\n  nosuch(a) FROM s9 INTO file(\'half.jsonl\');')
echo "$r" | grep -q '"error":"no such function: nosuch","line":4,"column":3' && ok || bad "failed submission: $r"
[ ! -e half.jsonl ] && ok || bad "the failed submission created its output file"
r=$(post "CREATE STREAM s9 FROM file('in.jsonl', format => 'json');")
[ "$r" = '{"status":"ok"}' ] && ok || bad "the failed submission's stream is not there: $r"
post "SELECT a * 2 AS b FROM s1 INTO file('r1.jsonl', format => 'json');" > /dev/null
post "SELECT a FROM file('in.jsonl', format => 'json') INTO file('r2.jsonl', format => 'json');" > /dev/null
post "SELECT a FROM file('in.jsonl', format => 'json') INTO file('r3.jsonl', format => 'json');" > /dev/null
for _ in $(seq 100); do [ "$(curl -s "$url/queries" | grep -o finished | wc -l)" -eq 3 ] && break; sleep 0.05; done
curl -s -X DELETE "$url/queries/2" > /dev/null
q=$(curl -s "$url/queries")
echo "$q" | grep -q '"id":3,[^}]*"state":"finished","stats":"q3: 3 in' && ok || bad "before restart: $q"
stop_server && ok || bad "clean stop (state dir)"
for how in TERM KILL; do
  start_server --state-dir st && ok || bad "restart ($how)"
  for _ in $(seq 100); do [ "$(curl -s "$url/queries" | grep -o finished | wc -l)" -eq 2 ] && break; sleep 0.05; done
  q=$(curl -s "$url/queries")
  echo "$q" | grep -q '"id":1,[^}]*"state":"finished","stats":"q1: 0 in' && ok || bad "q1 resumed ($how): $q"
  echo "$q" | grep -q '"id":2,[^}]*"state":"terminated"' && ok || bad "2 stays terminated ($how): $q"
  echo "$q" | grep -q '"id":3,[^}]*"state":"finished","stats":"q3: 0 in' && ok || bad "q3 resumed ($how): $q"
  kill -$how "$spid"; wait "$spid"; spid=""
done
[ "$(cat r1.jsonl r2.jsonl r3.jsonl | wc -l)" = 9 ] && ok || bad "outputs once: $(wc -l r?.jsonl)"

# Beyond loopback without a token: refused.
SLUICE_TOKEN= "$sluice" serve --listen 0.0.0.0:$(free_port) 2> refuse.err
[ $? = 2 ] && grep -q token refuse.err && ok || bad "non-loopback without token refused"

finish serve
