#!/usr/bin/env bash
# serve_kafka.sh - `sluice serve` over a Kafka broker of its own (`sluice
# broker`, with faults on request), Kafka clients on the other side:
#   1. a fatal Kafka error (the broker answers the next Produce with
#      TOPIC_AUTHORIZATION_FAILED) fails the one query it hits, with the
#      broker's words in GET /queries; a query of another submission goes on
#      and copies everything, the engine goes on serving;
#   2. consumer lag in /metrics falls to 0 once the other query has read
#      what kafka-python produced; its records in/out, in /queries and in
#      /metrics, match what was produced and what kcat reads back;
#      a streamed SELECT whose client reads nothing falls behind: its lag
#      is what it has not read, until the client goes away;
#   3. checkpoint age: with a state directory, every running query reports
#      one, and it stays below the checkpoint interval plus slack.
set -u
here=$(cd "$(dirname "$0")" && pwd)
sluice=${SLUICE:-$here/../sluice}
py=/usr/bin/python3
if ! $py -c 'import kafka' 2>/dev/null; then echo "python3-kafka missing: skipped"; exit 77; fi
command -v kcat > /dev/null || { echo "kcat missing: skipped"; exit 77; }
work=$(mktemp -d)
mkfifo "$work/ctl"
"$sluice" broker --port 0 --topics in:2,out:1,in2:2,out2:1,big:1 < "$work/ctl" > "$work/boot" \
  2> "$work/broker.log" &
bpid=$!
exec 3> "$work/ctl"
spid=""
trap 'exec 3>&-; kill $bpid $spid 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do [ -s "$work/boot" ] && break; sleep 0.1; done
boot=$(head -n 1 "$work/boot")
. "$here/lib.sh"
cd "$work" || exit 1

produce() { # produce TOPIC FROM TO
  $py - "$boot" "$@" <<'PY'
import json, sys
from kafka import KafkaProducer
p = KafkaProducer(bootstrap_servers=sys.argv[1], value_serializer=lambda v: json.dumps(v).encode())
for i in range(int(sys.argv[3]), int(sys.argv[4])):
    p.send(sys.argv[2], {"n": i})
p.flush()
PY
}
count() { kcat -b "$boot" -C -t "$1" -e -q 2>/dev/null | wc -l; }
field() { # field ID KEY
  curl -s "$url/queries" | $py -c '
import json, sys
for q in json.load(sys.stdin):
    if q["id"] == sys.argv[1]:
        print(q.get(sys.argv[2], ""))' "$1" "$2"
}
metric() { # metric NAME QUERY: its value in /metrics, or nothing
  curl -s "$url/metrics" | $py -c '
import sys
from prometheus_client.parser import text_string_to_metric_families
for f in text_string_to_metric_families(sys.stdin.read()):
    for s in f.samples:
        if s.name == sys.argv[1] and s.labels.get("query") == sys.argv[2]:
            print(int(s.value))' "$1" "$2"
}

port=$(free_port)
url=http://127.0.0.1:$port
"$sluice" serve --data-dir . --listen "127.0.0.1:$port" --brokers "$boot" --state-dir st 2> serve.err &
spid=$!
for _ in $(seq 100); do grep -q listening serve.err && break; sleep 0.05; done
grep -q listening serve.err && ok || { bad "server started"; cat serve.err; finish serve_kafka; }
post() { curl -s -H 'Content-Type: application/sql' -X POST --data-binary "$1" "$url/statements"; }

# ---- 1. a fatal error fails its query alone -----------------------------
produce in 0 5 || bad "producer"
echo "errors 0 1 29" >&3
sleep 0.3
post "SET commit_interval_ms = 200; SET checkpoint_interval = '1s';" > /dev/null
post "SELECT n FROM kafka('in', format => 'json', group => 'g1') INTO kafka('out', format => 'json');" > /dev/null
post "SELECT n FROM kafka('in2', format => 'json', group => 'g2') INTO kafka('out2', format => 'json');" > /dev/null
for _ in $(seq 150); do [ "$(field q1 state)" = failed ] && break; sleep 0.1; done
[ "$(field q1 state)" = failed ] && ok || bad "q1 failed: $(curl -s "$url/queries")"
field q1 error | grep -q "Topic authorization failed" && ok || bad "q1's error: $(field q1 error)"
[ "$(count out)" -eq 0 ] && ok || bad "out has $(count out) messages"

# ---- 2. the other query goes on; its lag falls to 0 ----------------------
produce in2 0 3000 || bad "producer"
for _ in $(seq 200); do [ "$(count out2)" -ge 3000 ] && break; sleep 0.1; done
[ "$(count out2)" -eq 3000 ] && ok || bad "q2 copied $(count out2) of 3000"
[ "$(field q2 state)" = running ] && ok || bad "q2 runs on: $(field q2 state)"
[ "$(field q2 records_in),$(field q2 records_out)" = 3000,3000 ] && ok ||
  bad "q2 counters: $(field q2 records_in),$(field q2 records_out)"
for _ in $(seq 50); do [ "$(metric sluice_query_consumer_lag q2)" = 0 ] && break; sleep 0.1; done
[ "$(metric sluice_query_consumer_lag q2)" = 0 ] && ok || bad "q2's lag: $(metric sluice_query_consumer_lag q2)"
[ "$(metric sluice_query_records_out_total q2)" = 3000 ] && ok || bad "records out in /metrics"

# A streamed SELECT whose client reads nothing is held back (1 MiB queued):
# its lag shows what it has not read, until the client goes away.
produce big 0 20000 || bad "producer"
$py - "$port" > slow.out <<'PY' &
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
q = b"SELECT n, printf('%.2000c', 'x') AS pad FROM kafka('big', format => 'json', group => 'g3');"
s.sendall(b"POST /query HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nContent-Type: application/sql\r\n"
          b"Content-Length: %d\r\n\r\n%s" % (sys.argv[1].encode(), len(q), q))
time.sleep(0.5); print(s.recv(300), flush=True)
time.sleep(8)
s.close()
PY
slow=$!
lag=""
for _ in $(seq 100); do
  lag=$(metric sluice_query_consumer_lag q3)
  [ -n "$lag" ] && [ "$lag" -gt 0 ] && break; sleep 0.1
done
# records read, then the lag (reading goes on between the two requests: the
# other order can count a record in both)
in=$(field q3 records_in)
lag=$(metric sluice_query_consumer_lag q3)
[ -n "$lag" ] && [ "$lag" -gt 0 ] && [ "$in" -lt 20000 ] && [ $((lag + in)) -le 20000 ] && ok ||
  bad "a held-back query's lag: lag $lag, read $in: $(curl -s "$url/queries" | tail -c 500)"
[ "$(field q3 kind)" = transient ] && ok || bad "q3 is transient"
wait $slow
for _ in $(seq 100); do [ -z "$(field q3 state)" ] && break; sleep 0.1; done
[ -z "$(field q3 state)" ] && ok || bad "q3 gone with its client: $(field q3 state)"

# ---- 3. checkpoint age -----------------------------------------------------
age=$(curl -s "$url/metrics" | $py -c '
import sys
from prometheus_client.parser import text_string_to_metric_families
for f in text_string_to_metric_families(sys.stdin.read()):
    for s in f.samples:
        if s.name == "sluice_query_checkpoint_age_seconds" and s.labels["query"] == "q2":
            print(s.value)')
$py -c "import sys; a = float(sys.argv[1]); assert 0 <= a < 3, a" "${age:-x}" && ok || bad "checkpoint age: ${age:-none}"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$url/queries")" = 200 ] && ok || bad "still serving"
kill "$spid"; wait "$spid" && ok || bad "clean stop: $(tail -n 40 serve.err)"; spid=""
finish serve_kafka
