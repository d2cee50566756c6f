#!/usr/bin/env bash
# kafka_app.sh - each query's consumer group comes from the application id
# and the query's identity (its normalized statement, INTO sink included):
#   - EXPLAIN names the group: the same query written with other layout,
#     case and comments has the same group; another query, another sink,
#     another application or group => 'x' another one;
#   - two `sluice serve` of one application, each given the same query (one
#     of them after an unrelated query, so the two have different ids) at
#     parallelism 2 (two consumers each), share the topic's partitions: kcat produces, kcat reads the output,
#     whose union is the input (at least once: nothing missing, and with no
#     failure nothing twice), and each server read part of it;
#   - a different query on the same topic, on one of those servers, sees
#     every record.
set -u
here=$(cd "$(dirname "$0")" && pwd)
sluice=${SLUICE:-$here/../sluice}
py=/usr/bin/python3
command -v kcat > /dev/null || { echo "kcat missing (scripts/setup.sh)"; exit 77; }
command -v curl > /dev/null || { echo "curl missing (scripts/setup.sh)"; exit 77; }
. "$here/lib.sh"
in_workdir
"$sluice" broker --topics ev:4,shared:1,other:1,copy:1 > boot 2> broker.log &
bpid=$!
spids=""
trap 'kill $bpid $spids 2>/dev/null; wait 2>/dev/null; cd /; rm -rf "$work"' EXIT
for _ in $(seq 50); do [ -s boot ] && break; sleep 0.1; done
boot=$(head -n 1 boot)

# ---- EXPLAIN names the group ------------------------------------------------
group_of() { # the consumer group EXPLAIN gives the first source of "$1" (after settings "$2")
  "$sluice" --brokers "$boot" -e "${2:-} EXPLAIN $1" 2>&1 | grep -o 'consumer group [^,"]*' | head -n 1 |
    cut -d' ' -f3
}
opts="format => 'json', 'session.timeout.ms' => '6000', 'heartbeat.interval.ms' => '500'"
qa="SELECT n FROM kafka('ev', $opts) INTO kafka('shared', format => 'json');"
qa2="select   n -- the same query
  from kafka('ev', $opts)   into kafka('shared', format => 'json');"
qb="SELECT n, 1 AS b FROM kafka('ev', $opts) INTO kafka('other', format => 'json');"
qc="SELECT n FROM kafka('ev', $opts) INTO kafka('other', format => 'json');"
ga=$(group_of "$qa")
case "$ga" in sluice-ev-[0-9a-f]*) ok ;; *) bad "EXPLAIN names the group: '$ga'" ;; esac
check "layout, keywords' case and comments do not count" "$ga" "$(group_of "$qa2")"
gb=$(group_of "$qb")
gc=$(group_of "$qc")
[ -n "$gb" ] && [ "$gb" != "$ga" ] && ok || bad "another query, another group ($ga, $gb)"
[ -n "$gc" ] && [ "$gc" != "$ga" ] && [ "$gc" != "$gb" ] && ok ||
  bad "another sink, another group ($ga, $gc)"
gapp=$(group_of "$qa" "SET application_id = 'fraud.v2';")
check "the application id names the group" "fraud.v2-ev-${ga#sluice-ev-}" "$gapp"
check "group => as given" "mine" \
  "$(group_of "SELECT n FROM kafka('ev', format => 'json', group => 'mine') INTO kafka('other');")"
bounded=$("$sluice" --brokers "$boot" -e "EXPLAIN SELECT n FROM kafka('ev', format => 'json',
  stop => 'end');" 2>&1 | head -n 1)
contains "a bounded read has no group" "every partition assigned (no group)" "$bounded"

# ---- two servers of one application share the same query ---------------------
start() { # start N: server N (port in p$N, url in u$N)
  serve_start --brokers "$boot" && ok || { bad "server $1 started"; cat serve.err; }
  eval "u$1=\$url; s$1=\$spid"
  mv serve.err "serve$1.err"
  spids="$spids $spid"
}
submit() { # submit URL SQL: the query's id
  curl -s -H 'Content-Type: application/sql' -X POST --data-binary "$2" "$1/statements" |
    grep -o '"q[0-9]*"' | head -n 1 | tr -d '"'
}
start 1
start 2
app="SET application_id = 'scale_test'; SET parallelism = 2;"
# server 2 first runs an unrelated query, so the shared one is q2 there, q1 on server 1
submit "$u2" "SELECT n FROM kafka('other', format => 'json') INTO kafka('copy', format => 'json');" > /dev/null
id1=$(submit "$u1" "$app $qa")
sleep 2
id2=$(submit "$u2" "$app $qa2")
idb=$(submit "$u1" "$app $qb")
echo "the shared query is $id1 on server 1, $id2 on server 2"
[ -n "$id1" ] && [ -n "$id2" ] && [ "$id1" != "$id2" ] && ok || bad "submitted: '$id1' '$id2'"
sleep 8 # the group settles: both members have their partitions
N=800
for p in 0 1 2 3; do
  $py -c "import json; [print(json.dumps({'n': i})) for i in range($N) if i % 4 == $p]" |
    kcat -P -b "$boot" -t ev -p $p || bad "kcat producing to partition $p"
done
# read a topic until it has want records (a bound of 60 s, not a timed check)
drain() {
  for _ in $(seq 120); do
    kcat -C -b "$boot" -t "$1" -o beginning -e -q 2> /dev/null | grep . > "$1.out"
    [ "$(wc -l < "$1.out")" -ge "$2" ] && break
    sleep 0.5
  done
}
drain shared $N
drain other $N
expected=$(seq 0 $((N - 1)))
check "the same query on two servers: the union of outputs is the input" "$expected" \
  "$($py -c 'import json,sys; [print(json.loads(l)["n"]) for l in sys.stdin]' < shared.out | sort -n | uniq)"
check "... each record once (no failure)" "$N" "$(wc -l < shared.out)"
check "another query on the same topic sees every record" "$expected" \
  "$($py -c 'import json,sys; [print(json.loads(l)["n"]) for l in sys.stdin]' < other.out | sort -n)"
in_of() { # in_of URL ID: the records query ID read
  curl -s "$1/queries" | $py -c "import json,sys
print(next(q['records_in'] for q in json.load(sys.stdin) if q['id'] == '$2'))"
}
r1=$(in_of "$u1" "$id1")
r2=$(in_of "$u2" "$id2")
echo "server 1 read $r1 records of the shared query, server 2 read $r2"
[ "${r1:-0}" -gt 0 ] && [ "${r2:-0}" -gt 0 ] && ok || bad "both servers read part of the topic"
[ $((${r1:-0} + ${r2:-0})) -eq $N ] && ok || bad "together they read ${r1:-0} + ${r2:-0}, not $N"
DESC=$(curl -s -N -H 'Content-Type: application/sql' -X POST --data-binary "DESCRIBE $id1;" "$u1/query")
contains "DESCRIBE of the query names its group" "consumer group scale_test-ev-" "$DESC"
contains "... and its parallel tasks" "2 parallel tasks (consumers of the group)" "$DESC"
for s in $spids; do kill -TERM "$s"; wait "$s" || bad "a server exited $? on SIGTERM"; done
spids=""
finish kafka_app
