#!/usr/bin/env bash
# serve.sh - `sluice serve` over HTTP on a free loopback port: submit a file
# query and list it with its counters; the thin clients (submit, queries,
# terminate, describe); SQL errors with line:column; bad and hostile
# requests (huge body, garbage, unknown endpoint, wrong method, wrong
# token); concurrent submissions while /queries and /metrics are read;
# metrics parsed by the Prometheus client library's parser; queries
# terminated one at a time (two readers of one named stream: the other runs
# on), by TERMINATE and by submission; a query that fails while the others
# run on; POST /query: rows of SHOW/DESCRIBE (more than a client may leave
# unread, and more than the server queues), a streamed SELECT stopped by
# the client going away; a restart (clean and kill -9) with a state
# directory that runs the same queries again from their checkpoints; and
# the refusal to listen beyond loopback without a token.
set -u
here=$(cd "$(dirname "$0")" && pwd)
sluice=${SLUICE:-$here/../sluice}
work=$(mktemp -d)
spid=""
gpids=""
trap '[ -n "$spid" ] && kill $spid 2>/dev/null; [ -n "$gpids" ] && kill $gpids 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
. "$here/lib.sh"
cd "$work" || exit 1
command -v curl > /dev/null || { echo "serve: curl missing (scripts/setup.sh)"; exit 77; }
py=/usr/bin/python3
printf '{"a":1}\n{"a":2}\n{"a":3}\n' > in.jsonl

declare -a gport
for i in 1 2 3 4; do gport[$i]=$(free_port); done
gens=$(printf '127.0.0.1:%s,' "${gport[@]}")
# start_server ARGS...: sluice serve on a new free port; sets url and spid.
start_server() { serve_start --data-dir . --allow-broker "$gens" "$@"; }
stop_server() { serve_stop; }
post() { curl -s -H 'Content-Type: application/sql' -X POST --data-binary "$1" "$url/statements"; }
query() { curl -s -N -H 'Content-Type: application/sql' -X POST --data-binary "$1" "$url/query"; }
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
# field ID KEY: that field of query ID in GET /queries ("" if none).
field() {
  curl -s "$url/queries" | $py -c '
import json, sys
for q in json.load(sys.stdin):
    if q["id"] == sys.argv[1]:
        print(q.get(sys.argv[2], ""))' "$1" "$2"
}
# wait_state ID STATE: until query ID is in STATE (5 s at most).
wait_state() {
  for _ in $(seq 100); do [ "$(field "$1" state)" = "$2" ] && return 0; sleep 0.05; done
  return 1
}
# gen.py PORT: a socket source that sends 0, 1, 2, ... every 10 ms to each
# client in turn; prints "closed" when a client goes away.
cat > gen.py <<'PY'
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(4); print("listening", flush=True)
for _ in range(4):
    c, _ = s.accept()
    try:
        for i in range(5000):
            c.sendall(b"%d\n" % i); time.sleep(0.01)
    except OSError:
        print("closed", flush=True)
PY
# start_gen N: generator N on its port gport[N] (chosen before the server
# starts: the server grants its clients these hosts with --allow-broker).
start_gen() {
  timeout 120 $py gen.py "${gport[$1]}" > "gen$1.out" &
  gpids="$gpids $!"
  for _ in $(seq 100); do grep -q listening "gen$1.out" && return 0; sleep 0.05; done
}

start_server && ok || { bad "server started"; cat serve.err; finish serve; }
r=$(post "SELECT a * 2 AS b FROM file('in.jsonl', format => 'json') INTO file('out.jsonl', format => 'json');")
[ "$r" = '{"submission":1,"queries":["q1"],"status":"ok"}' ] && ok || bad "submit: $r"
wait_state q1 finished && ok || bad "q1 finished"
[ "$(field q1 records_in),$(field q1 records_out),$(field q1 rejected),$(field q1 bytes_in)" = 3,3,0,21 ] &&
  ok || bad "q1 counters: $(curl -s "$url/queries")"
[ "$(field q1 bytes_out)" = "$(wc -c < out.jsonl)" ] && ok || bad "bytes out"
[ "$(tr -d '\n' < out.jsonl)" = '{"b":2}{"b":4}{"b":6}' ] && ok || bad "output rows"

# The thin clients.
printf "SELECT a FROM file('in.jsonl', format => 'json') INTO file('cl.jsonl', format => 'json');\n" > ok.sql
"$sluice" submit ok.sql --server "$url" > sub.out && grep -q '"queries":\["q2"\]' sub.out && ok || bad "sluice submit: $(cat sub.out)"
printf 'SELECT 1 INTO stdout();\nSELECT nosuch(;\n' > err.sql
"$sluice" submit err.sql --server "$url" > sub.out
[ $? = 1 ] && grep -q '"line":2' sub.out && ok || bad "sluice submit of an error: $(cat sub.out)"
SLUICE_SERVER=$url "$sluice" queries | grep -q '"id":"q2"' && ok || bad "sluice queries"
"$sluice" terminate q99 --server "$url" > /dev/null; [ $? = 1 ] && ok || bad "sluice terminate unknown"
"$sluice" queries --server http://127.0.0.1:1 2> /dev/null; [ $? = 1 ] && ok || bad "unreachable server"
"$sluice" describe q1 --server "$url" | grep -q '\["records_out","3"\]' && ok || bad "sluice describe q1"
"$sluice" describe nosuch --server "$url" > d.out; [ $? = 1 ] && grep -q 'no such' d.out && ok || bad "describe unknown: $(cat d.out)"
wait_state q2 finished && ok || bad "q2 finished"

# SQL errors, with their position; a submission in error changes nothing
# (the query before the error has not started: q3 is the next query's id).
r=$(post $'SELECT\n  nosuch(1;')
echo "$r" | grep -q '"line":2,"column":11' && ok || bad "SQL error position: $r"
[ "$(code -H 'Content-Type: application/sql' -X POST --data-binary 'SELEC 1;' "$url/statements")" = 400 ] && ok || bad "SQL error is 400"
r=$(post "SELECT 1 AS x;")
echo "$r" | grep -q 'nowhere to send its rows' && ok || bad "a submitted SELECT without INTO: $r"
r=$(post "SELECT a FROM file('in.jsonl', format => 'json') INTO file('x.jsonl', format => 'json'); SELECT a FROM nosuch INTO stdout();")
echo "$r" | grep -q '"line":1,"column":104' && [ -z "$(field q3 state)" ] && [ ! -e x.jsonl ] && ok || bad "a submission in error starts nothing: $r"

# Bad and hostile requests get a 4xx, and the server goes on.
head -c 2000000 /dev/zero | tr '\0' a > big
[ "$(code -H 'Content-Type: application/sql' -X POST --data-binary @big "$url/statements")" = 413 ] && ok || bad "huge body 413"
[ "$(code -H 'Content-Type: application/sql' -X POST "$url/statements")" = 400 ] && ok || bad "empty body 400"
printf 'SELECT 1\0;' > nul.bin
[ "$(code -H 'Content-Type: application/sql' -X POST --data-binary @nul.bin "$url/query")" = 400 ] && ok || bad "binary body 400"
[ "$(code "$url/nope")" = 404 ] && ok || bad "unknown endpoint 404"
json() { curl -s -H 'Content-Type: application/json' -X POST --data-binary "$1" "$url/statements"; }
r=$(json '{"sql": "SELECT 1 + "}')
[ "$r" = '{"error":"incomplete input","line":1,"column":12}' ] && ok || bad "JSON body with an SQL error: $r"
r=$(json '{"sql": "CREATE STREAM js FROM file('"'in.jsonl'"', format => '"'json'"');"}')
[ "$r" = '{"status":"ok"}' ] && ok || bad "a JSON body: $r"
r=$(json '{"sql": "SELECT 1",')
[ "$r" = '{"error":"malformed JSON body"}' ] && ok || bad "malformed JSON: $r"
r=$(json '[1, 2]')
echo "$r" | grep -q 'an object with' && ok || bad "JSON of the wrong shape: $r"
[ "$(code -H 'Content-Type: application/json' -X POST --data-binary '{"ksql": 5}' "$url/query")" = 400 ] && ok || bad "JSON without SQL 400"
[ "$(code "$url/statements")" = 405 ] && ok || bad "GET /statements 405"
[ "$(code -X DELETE "$url/metrics")" = 405 ] && ok || bad "DELETE /metrics 405"
[ "$(code -X DELETE "$url/queries/x")" = 400 ] && ok || bad "terminate bad id 400"
[ "$(code -X DELETE "$url/queries/q99")" = 404 ] && ok || bad "terminate unknown 404"
[ "$(code "$url/describe/%22%3B%20DROP")" = 404 ] && ok || bad "describe of a quoted name 404"
$py - "$port" <<'PY' && ok || bad "garbage requests"
import socket, sys
def ask(data):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
    s.sendall(data)
    try:
        return s.recv(4096)
    except socket.timeout:
        return b""
    finally:
        s.close()
for junk in [b"\x00\xff\x10garbage\r\n\r\n", b"GET /queries HTTP/1.1\r\nHost: x\r\n" + b"X: " + b"a" * 100000 + b"\r\n\r\n",
             b"POST /statements HTTP/1.1\r\nContent-Length: -5\r\n\r\n", b"BREW /pot HTCPCP/1.0\r\n\r\n"]:
    r = ask(junk)
    assert r == b"" or r.split(b" ")[1][:1] == b"4", r[:80]
assert ask(b"GET /queries HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nConnection: close\r\n\r\n" % sys.argv[1].encode()).startswith(b"HTTP/1.1 200")
PY

# Concurrent submissions (each writes its own file; all finish with 3 rows)
# while the list and the metrics are read.
for i in 1 2 3 4 5; do
  post "SELECT a FROM file('in.jsonl', format => 'json') INTO file('c$i.jsonl', format => 'json');" > "sub$i" &
  curl -s "$url/metrics" > /dev/null & curl -s "$url/queries" > /dev/null &
done
wait $(jobs -p | grep -v "^$spid$")
n=0
for i in 1 2 3 4 5; do grep -q '"status":"ok"' "sub$i" && n=$((n + 1)); done
[ "$n" = 5 ] && ok || bad "concurrent submissions accepted: $n of 5"
for _ in $(seq 100); do [ "$(curl -s "$url/queries" | grep -o '"finished"' | wc -l)" -eq 7 ] && break; sleep 0.05; done
n=0
for i in 1 2 3 4 5; do [ "$(wc -l < "c$i.jsonl" 2>/dev/null)" = 3 ] && n=$((n + 1)); done
[ "$n" = 5 ] && ok || bad "concurrent submissions: $n of 5 wrote 3 rows"
ids=$(curl -s "$url/queries" | $py -c 'import json,sys; print(" ".join(sorted(q["id"] for q in json.load(sys.stdin))))')
[ "$ids" = "q1 q2 q3 q4 q5 q6 q7" ] && ok || bad "query ids: $ids"

# Metrics: Prometheus text, parsed by the Prometheus client's own parser.
curl -s "$url/metrics" > metrics.txt
$py - metrics.txt <<'PY' && ok || bad "metrics parsed: $(head -c 600 metrics.txt)"
import sys
from prometheus_client.parser import text_string_to_metric_families
fam = {f.name: f for f in text_string_to_metric_families(open(sys.argv[1]).read())}
def val(name, **labels):
    for s in [s for f in fam.values() for s in f.samples]:
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
            return s.value
    raise KeyError((name, labels))
assert val("sluice_queries", state="finished") == 7
assert val("sluice_queries", state="running") == 0
assert fam["sluice_query_records_in"].type == "counter"
assert val("sluice_query_records_in_total", query="q1") == 3
assert val("sluice_query_records_out_total", query="q7") == 3
assert val("sluice_query_bytes_in_total", query="q1") == 21
h = fam["sluice_query_batch_duration_seconds"]
assert h.type == "histogram"
b = [s for s in h.samples if s.labels.get("query") == "q1" and s.name.endswith("_bucket")]
assert b[-1].labels["le"] == "+Inf" and b[-1].value == val("sluice_query_batch_duration_seconds_count", query="q1") >= 1
assert all(x.value <= y.value for x, y in zip(b, b[1:]))
assert val("sluice_query_state_bytes", query="q1") == 0 and val("sluice_query_state_entries", query="q1") == 0
assert val("sluice_memory_resident_bytes") > 1e6
assert val("sluice_submissions_total") == 7
PY

# Two readers of one named stream over a socket: terminating one leaves the
# other running (and writing); then TERMINATE (the statement) stops it.
start_gen 1
r=$(post "CREATE STREAM nums (n INTEGER) FROM socket('127.0.0.1:${gport[1]}', format => 'csv');
SELECT n FROM nums INTO file('s1.csv', format => 'csv');
SELECT n * 2 AS m FROM nums INTO file('s2.csv', format => 'csv');")
[ "$r" = '{"submission":8,"queries":["q8","q9"],"status":"ok"}' ] && ok || bad "two readers: $r"
sleep 1
[ "$(field q8 state),$(field q9 state)" = running,running ] && ok || bad "two running"
[ "$(curl -s -X DELETE "$url/queries/q8")" = '{"id":"q8","status":"terminating"}' ] && ok || bad "terminate q8"
wait_state q8 terminated && ok || bad "q8 terminated"
[ "$(field q9 state)" = running ] && ok || bad "q9 runs on"
in8=$(field q8 records_in); sleep 0.3
[ "$(field q8 records_in)" = "$in8" ] && [ "$(field q9 records_in)" -gt "$in8" ] && ok ||
  bad "a terminated reader's count stays: $in8, $(field q8 records_in), q9 $(field q9 records_in)"
n1=$(wc -l < s1.csv); n2=$(wc -l < s2.csv); sleep 0.5
[ "$(wc -l < s1.csv)" = "$n1" ] && [ "$(wc -l < s2.csv)" -gt "$n2" ] && ok || bad "q8 stopped writing, q9 writes on"
$py - s1.csv s2.csv <<'PY' && ok || bad "what q8 and q9 wrote is whole"
import sys
a = open(sys.argv[1]).read().split()
b = open(sys.argv[2]).read().split()
assert len(a) > 10 and a == [str(i) for i in range(len(a))], (a[:5], a[-3:])
assert len(b) > len(a) and b == [str(2 * i) for i in range(len(b))], (b[:5], b[-3:])
PY
r=$(query "TERMINATE q9;")
echo "$r" | grep -q '"row":\["q9","terminating"\]' && echo "$r" | tail -n 1 | grep -q '"status":"ok"' && ok || bad "TERMINATE q9: $r"
wait_state q9 terminated && ok || bad "q9 terminated"
r=$(query "TERMINATE q404;")
echo "$r" | grep -q 'no such query: q404' && ok || bad "TERMINATE unknown: $r"
[ "$(curl -s -X DELETE "$url/queries/q9")" = '{"id":"q9","status":"already ended"}' ] && ok || bad "terminate again"

# A query that fails (errors => 'fail' on a bad record) fails alone.
start_gen 2
printf '{"a":1}\nnot json\n' > bad.jsonl
post "SELECT n FROM socket('127.0.0.1:${gport[2]}', format => 'csv', columns => 'n INTEGER') INTO file('s3.csv', format => 'csv');
SELECT a FROM file('bad.jsonl', format => 'json', errors => 'fail') INTO file('bad.out', format => 'json');" > /dev/null
wait_state q11 failed && ok || bad "q11 failed"
field q11 error | grep -q 'bad.jsonl:2' && ok || bad "its error: $(field q11 error)"
sleep 0.3
[ "$(field q10 state)" = running ] && n=$(wc -l < s3.csv) && sleep 0.4 && [ "$(wc -l < s3.csv)" -gt "$n" ] && ok || bad "q10 runs on"
r=$(curl -s -X DELETE "$url/queries/9")
[ "$r" = '{"submission":9,"terminating":["q10"]}' ] && ok || bad "terminate a submission: $r"
wait_state q10 terminated && ok || bad "q10 terminated"

# POST /query: SHOW and DESCRIBE rows; a streamed SELECT stops when the
# client goes away (the generator sees its socket closed, the query is gone).
r=$(query "SHOW QUERIES;")
echo "$r" | head -n 1 | grep -q '"columns":\["id","state","kind"' && echo "$r" | grep -q '"row":\["q11","failed","persistent"' && ok || bad "SHOW QUERIES: $r"
r=$(query "DESCRIBE nums;")
[ "$(echo "$r" | head -n 2 | tr -d '\n')" = '{"columns":["column","type"]}{"row":["n","INTEGER"]}' ] && ok || bad "DESCRIBE nums: $r"
r=$(query "SELECT 7 AS i, 0.5 AS r, 'x' AS t, NULL AS z, x'0aff' AS b;")
[ "$(echo "$r" | tr -d '\n')" = '{"query":"q12"}{"columns":["i","r","t","z","b"]}{"row":[7,0.5,"x",null,{"blob":"0AFF"}]}{"status":"ok"}' ] && ok || bad "a streamed constant SELECT: $r"
start_gen 3
timeout 1.5 curl -s -N -H 'Content-Type: application/sql' -X POST --data-binary "SELECT n FROM socket('127.0.0.1:${gport[3]}', format => 'csv', columns => 'n INTEGER') WHERE n % 2 = 0;" "$url/query" > stream.out
head -n 4 stream.out | tr -d '\n' | grep -q '^{"query":"q13"}{"columns":\["n"\]}{"row":\[0\]}{"row":\[2\]}' && ok || bad "streamed rows: $(head -n 5 stream.out)"
for _ in $(seq 60); do grep -q closed gen3.out && break; sleep 0.05; done
grep -q closed gen3.out && ok || bad "the streamed query stopped with its client"
[ -z "$(field q13 state)" ] && ok || bad "a transient query is gone with its client"
r=$(query "SELECT 1 AS one; SELECT 2 AS two;")
echo "$r" | grep -q 'the only query of its request' && ok || bad "two streamed SELECTs at once: $r"
# The rows of a request's own statements are queued before its answer
# starts: more than the 1 MiB a slow client may leave unread (150 SHOW
# FUNCTIONS) came out whole, not waited for with the catalog lock held
# (the server hung, for every client; fuzz_http); past 16 MiB the rest is
# dropped, the last line says so and the request's SELECT does not start.
nfunc=$(query "SHOW FUNCTIONS;" | grep -c '"row"')
body=$(for _ in $(seq 150); do printf 'SHOW FUNCTIONS;'; done)
timeout 30 curl -s -N -H 'Content-Type: application/sql' -X POST --data-binary "$body" "$url/query" > show.out
[ "$nfunc" -gt 100 ] && [ "$(grep -c '"row"' show.out)" = $((150 * nfunc)) ] &&
  [ "$(tail -n 1 show.out)" = '{"status":"ok"}' ] && ok || bad "150 SHOW FUNCTIONS: $(tail -c 300 show.out)"
[ "$(timeout 10 curl -s "$url/describe/nums" | head -c 15)" = '{"name":"nums",' ] && ok || bad "served after them"
body=$(for _ in $(seq 2500); do printf 'SHOW FUNCTIONS;'; done)
timeout 60 curl -s -N -H 'Content-Type: application/sql' -X POST --data-binary "${body}SELECT 1 AS one;" "$url/query" > show.out
tail -n 1 show.out | grep -q '"error":"the statements'"'"' rows are over 16 MiB' && ! grep -q '"query"' show.out &&
  [ "$(wc -c < show.out)" -lt $((17 << 20)) ] && ok || bad "2500 SHOW FUNCTIONS: $(tail -c 300 show.out)"
# Many shell clients at once, while submissions come in: each gets its own
# stream, whole, and its own query id.
for i in $(seq 12); do
  query "SELECT $i AS i, 'c$i' AS c;" > "st$i" &
  [ $((i % 4)) = 0 ] && post "SELECT a FROM file('in.jsonl', format => 'json') INTO file('d$i.jsonl', format => 'json');" > "dsub$i" &
done
wait $(jobs -p | grep -v "^$spid$")
n=0
for i in $(seq 12); do
  [ "$(sed -n 3p "st$i")" = "{\"row\":[$i,\"c$i\"]}" ] && [ "$(tail -n 1 "st$i")" = '{"status":"ok"}' ] && n=$((n + 1))
done
[ "$n" = 12 ] && ok || bad "12 streams at once: $n whole ($(cat st1))"
ids=$(cat st[0-9]* | grep -o '"query":"q[0-9]*"' | sort -u | wc -l)
[ "$ids" = 12 ] && ok || bad "12 ids: $ids"
for _ in $(seq 100); do [ "$(cat d4.jsonl d8.jsonl d12.jsonl 2>/dev/null | wc -l)" = 9 ] && break; sleep 0.05; done
[ "$(cat d4.jsonl d8.jsonl d12.jsonl | wc -l)" = 9 ] && ok || bad "submissions among the streams"

stop_server && ok || bad "clean stop"
kill $gpids 2>/dev/null; gpids=""

# A token, when given, is checked on every request.
start_server --token s3cret && ok || bad "server with token"
[ "$(code "$url/queries")" = 401 ] && ok || bad "no token 401"
[ "$(code -H 'Authorization: Bearer wrong' "$url/queries")" = 401 ] && ok || bad "wrong token 401"
[ "$(code -H 'Authorization: Bearer s3cret' "$url/queries")" = 200 ] && ok || bad "right token 200"
[ "$(code -H 'Content-Type: application/sql' -X POST --data-binary 'SHOW QUERIES;' "$url/query")" = 401 ] && ok || bad "no token on /query 401"
"$sluice" queries --server "$url" --token s3cret > /dev/null && ok || bad "sluice queries --token"
SLUICE_TOKEN=nope "$sluice" queries --server "$url" > /dev/null; [ $? = 1 ] && ok || bad "client wrong token"
stop_server && ok || bad "clean stop (token)"
start_server && ok || bad "server again"

# LOAD from a client: refused unless --load-path names where from.
udf=${top_builddir:-$here/..}/udf
r=$(post "LOAD '$udf/libgeo.so';")
echo "$r" | grep -q 'needs its --load-path' && ok || bad "LOAD refused without --load-path: $r"
stop_server
start_server --load-path "$udf" && ok || bad "server with --load-path"
r=$(post "LOAD '$udf/libgeo.so';")
[ "$r" = '{"status":"ok"}' ] && ok || bad "LOAD inside --load-path: $r"
r=$(query "SELECT round(haversine(0, 0, 0, 1), 1) AS km;")
echo "$r" | grep -q '"row":\[111.2\]' && ok || bad "the loaded function: $r"
r=$(post "LOAD '$sluice';")
echo "$r" | grep -q 'load_path' && ok || bad "LOAD outside --load-path: $r"
stop_server

# Where state is kept is the server owner's choice: a client cannot move it
# (or discard it), with or without --state-dir.
start_server && ok || bad "server without a state dir"
r=$(post "SET state_dir = 'elsewhere';")
echo "$r" | grep -q 'state_dir is fixed by the command line' && ok || bad "SET state_dir refused: $r"
r=$(post "SET reset_state = true;")
echo "$r" | grep -q 'reset_state is fixed' && ok || bad "SET reset_state refused: $r"
[ ! -e elsewhere ] && ok || bad "no state directory made for a client"
stop_server

# A state directory: the submissions run again after a restart, with the
# same ids, from their checkpoints (nothing read twice); a terminated query
# stays terminated; the id a streamed SELECT took stays taken.
start_server --state-dir st && ok || bad "server with a state dir"
r=$(post "SET state_dir = 'other'; SELECT 1 AS x INTO file('x.jsonl', format => 'json');")
echo "$r" | grep -q 'state_dir is fixed by the command line (--state-dir)' && ok || bad "SET state_dir refused with --state-dir: $r"
post "CREATE STREAM s1 FROM file('in.jsonl', format => 'json');" > /dev/null
# A submission with an error changes nothing: no stream, no output file, no
# query id taken (the ids checked below stay as they are, before and after
# the restart, which applies the logged submissions only).
r=$(post $'CREATE STREAM s9 FROM file(\'in.jsonl\', format => \'json\');\nSELECT a FROM s9 INTO file(\'half.jsonl\', format => \'json\');\nSELECT\n  nosuch(a) FROM s9 INTO file(\'half.jsonl\');')
echo "$r" | grep -q '"error":"no such function: nosuch","line":4,"column":3' && ok || bad "failed submission: $r"
[ ! -e half.jsonl ] && ok || bad "the failed submission created its output file"
r=$(post "CREATE STREAM s9 FROM file('in.jsonl', format => 'json');")
[ "$r" = '{"status":"ok"}' ] && ok || bad "the failed submission's stream is not there: $r"
post "SELECT a * 2 AS b FROM s1 INTO file('r1.jsonl', format => 'json');" > /dev/null
query "SELECT 1 AS one;" > /dev/null
start_gen 4
post "SELECT a FROM file('in.jsonl', format => 'json') INTO file('r2.jsonl', format => 'json');
SELECT n FROM socket('127.0.0.1:${gport[4]}', format => 'csv', columns => 'n INTEGER') INTO file('r3.csv', format => 'csv');" > /dev/null
wait_state q3 finished && wait_state q4 running && ok || bad "before restart: $(curl -s "$url/queries")"
curl -s -X DELETE "$url/queries/q4" > /dev/null
wait_state q4 terminated && ok || bad "q4 terminated before restart"
query "SHOW QUERIES;" > /dev/null
query "DESCRIBE q4;" > /dev/null
kinds=$(grep -o '^[SQXT] [0-9]* [0-9]*$' st/serve-submissions.log | cut -c1 | tr -d '\n')
[ "$kinds" = SSSXSQ ] && ok || bad "what the log keeps (no SHOW, no DESCRIBE): $kinds"
stop_server && ok || bad "clean stop (state dir)"
for how in TERM KILL; do
  start_server --state-dir st && ok || bad "restart ($how)"
  wait_state q1 finished && wait_state q3 finished && ok || bad "finished again ($how): $(curl -s "$url/queries")"
  [ "$(field q1 records_in),$(field q3 records_in)" = 0,0 ] && ok || bad "resumed from the checkpoints ($how): $(curl -s "$url/queries")"
  [ "$(field q4 state)" = terminated ] && ok || bad "q4 stays terminated ($how)"
  [ -z "$(field q2 state)" ] && ok || bad "q2 (streamed) is not run again ($how)"
  kill -$how "$spid"; wait "$spid"; spid=""
done
[ "$(cat r1.jsonl r2.jsonl | wc -l)" = 6 ] && ok || bad "outputs once: $(wc -l r?.jsonl)"
# --reset-state discards the submissions with the checkpoints: nothing runs
# again (a submission that crashed the server at every start goes with it)
start_server --state-dir st --reset-state && ok || bad "restart with --reset-state"
[ "$(curl -s "$url/queries")" = '[]' ] && ok || bad "no submission after --reset-state: $(curl -s "$url/queries")"
stop_server
[ ! -s st/serve-submissions.log ] && ok || bad "the submissions log is empty after --reset-state"
kill $gpids 2>/dev/null; gpids=""

# A submissions log written before SET state_dir was refused on a server
# holds a submission that moved the state directory; applying it again
# freed the store under the queries (a use after free at the next
# checkpoint).  It is now refused and skipped; the directory stays usable.
mkdir oldlog
sub="SET state_dir = '$work/other'; SELECT 1 AS x INTO file('x.jsonl', format => 'json');"
printf 'S %d 1\n%s\n' "${#sub}" "$sub" > oldlog/serve-submissions.log
start_server --state-dir oldlog && ok || bad "a log that moves the state dir"
grep -q 'submission 1 of the state directory fails now: .*state_dir is fixed' serve.err && ok ||
  bad "the old submission is refused: $(cat serve.err)"
r=$(post "SELECT a FROM file('in.jsonl', format => 'json') INTO file('oldlog.jsonl', format => 'json');")
echo "$r" | grep -q '"queries":\["q1"\]' && ok || bad "a submission after it: $r"
wait_state q1 finished && ok || bad "it runs: $(curl -s "$url/queries")"
stop_server && ok || bad "clean stop (oldlog)"
start_server --state-dir oldlog && ok || bad "restart (oldlog)"
wait_state q1 finished && [ "$(field q1 records_in)" = 0 ] && ok || bad "resumed from oldlog: $(curl -s "$url/queries")"
stop_server && ok || bad "clean stop (oldlog, again)"
[ ! -e other ] && [ ! -e x.jsonl ] && [ "$(wc -l < oldlog.jsonl)" = 3 ] && ok || bad "nothing outside oldlog, output once"

# Beyond loopback without a token: refused.
SLUICE_TOKEN= "$sluice" serve --listen 0.0.0.0:$(free_port) 2> refuse.err
[ $? = 2 ] && grep -q token refuse.err && ok || bad "non-loopback without token refused"

finish serve
