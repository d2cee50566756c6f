#!/usr/bin/env bash
# kafka_fatal.sh - a fatal Kafka error stops only the query it hits, with
# the broker's own words, and the other queries of the run keep going.
#
#   1. Produce: the dev broker answers the next Produce request with
#      TOPIC_AUTHORIZATION_FAILED (29), before sluice starts, so the first
#      request of q1's producer (in -> out) gets it.  q1 must stop with
#      "Topic authorization failed" and commit nothing; q2 (in -> file) must
#      go on and copy records produced afterwards.
#   2. Fetch: the next Fetch request fails with 29 while both queries are
#      running; exactly one of them stops, the other copies everything.
#   3. The broker goes away while a query runs: SIGTERM still stops it
#      within seconds (offset commits, leaving the group and the producer's
#      last flush wait a few seconds at most, not the client's retry time of
#      about 50 s), and with the broker back everything was delivered.
# The run exits 1 on SIGTERM because a query failed.
set -u
here=$(cd "$(dirname "$0")" && pwd)
sluice=${SLUICE:-$here/../sluice}
py=/usr/bin/python3
if ! $py -c 'import kafka' 2>/dev/null; then echo "python3-kafka missing: skipped"; exit 77; fi
work=$(mktemp -d)
mkfifo "$work/ctl"
"$sluice" broker --port 0 --topics in:1,out:1,in2:1,out2:1,in3:1,out3:1 < "$work/ctl" > "$work/boot" \
  2> "$work/broker.log" &
bpid=$!
exec 3> "$work/ctl"
pids=""
trap 'exec 3>&-; kill $bpid $pids 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do [ -s "$work/boot" ] && break; sleep 0.1; done
boot=$(head -n 1 "$work/boot")
. "$here/lib.sh"

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
count() { # count TOPIC: messages on a topic
  kcat -b "$boot" -C -t "$1" -e -q 2>/dev/null | wc -l
}
lines() { [ -f "$1" ] && wc -l < "$1" || echo 0; }
wait_lines() { # wait_lines FILE N
  for _ in $(seq 150); do [ "$(lines "$1")" -ge "$2" ] && return 0; sleep 0.1; done
  return 1
}

# ---- 1. Produce fails permanently --------------------------------------
produce in 0 5 || bad "producer"
echo "errors 0 1 29" >&3
sleep 0.5
cat > "$work/q1.sql" <<EOF
SET commit_interval_ms = 200;
SELECT n FROM kafka('in', format => 'json', group => 'g1') INTO kafka('out', format => 'json');
SELECT n FROM kafka('in', format => 'json', group => 'g2') INTO file('$work/x.jsonl', format => 'json');
EOF
"$sluice" --brokers "$boot" --stats run "$work/q1.sql" 2> "$work/q1.err" &
qpid=$!
pids=$qpid
for _ in $(seq 150); do grep -q "stopped" "$work/q1.err" && break; sleep 0.1; done
grep -q "q1 stopped: kafka: delivery to out failed: Broker: Topic authorization failed" \
  "$work/q1.err" && ok || { bad "q1 reports the broker's error"; cat "$work/q1.err"; }
produce in 5 10 || bad "producer"
wait_lines "$work/x.jsonl" 10 && ok || bad "q2 goes on after q1 stopped: $(lines "$work/x.jsonl") of 10"
kill -0 $qpid 2>/dev/null && ok || bad "the run ended with q1"
kill -TERM $qpid
wait $qpid
rc=$?
pids=""
[ $rc -eq 1 ] && ok || bad "exit status $rc after a failed query (want 1)"
grep -q "1 query stopped with an error" "$work/q1.err" && ok || { bad "final summary"; cat "$work/q1.err"; }
[ "$(count out)" -eq 0 ] && ok || bad "out has $(count out) messages"
# q1 committed nothing: its group reads all 10 again
"$sluice" --brokers "$boot" --format csv -e "SELECT n FROM kafka('in', format => 'json',
  group => 'g1', offset => 'committed', stop => 'end')" > "$work/again.csv" 2> "$work/again.err"
[ "$(grep -c '^[0-9]' "$work/again.csv")" -eq 10 ] && ok ||
  { bad "q1's group committed offsets of undelivered records"; cat "$work/again.csv" "$work/again.err"; }

# ---- 2. Fetch fails permanently while both run -------------------------
cat > "$work/q2.sql" <<EOF
SET commit_interval_ms = 200;
SELECT n FROM kafka('in2', format => 'json', group => 'h1') INTO kafka('out2', format => 'json');
SELECT n FROM kafka('in2', format => 'json', group => 'h2') INTO file('$work/y.jsonl', format => 'json');
EOF
"$sluice" --brokers "$boot" run "$work/q2.sql" 2> "$work/q2.err" &
qpid=$!
pids=$qpid
sleep 3
produce in2 0 5 || bad "producer"
wait_lines "$work/y.jsonl" 5 || bad "q2 of run 2 did not start"
echo "errors 1 1 29" >&3
for _ in $(seq 150); do grep -q "stopped" "$work/q2.err" && break; sleep 0.1; done
produce in2 5 10 || bad "producer"
sleep 3
if grep -q "q1 stopped: kafka: .*Topic authorization failed" "$work/q2.err"; then
  wait_lines "$work/y.jsonl" 10 && ok || bad "q2 copied $(lines "$work/y.jsonl") of 10 after q1 stopped"
elif grep -q "q2 stopped: kafka: .*Topic authorization failed" "$work/q2.err"; then
  for _ in $(seq 100); do [ "$(count out2)" -ge 10 ] && break; sleep 0.1; done
  [ "$(count out2)" -eq 10 ] && ok || bad "q1 copied $(count out2) of 10 after q2 stopped"
else
  bad "no query stopped on the Fetch error"
  cat "$work/q2.err"
fi
[ "$(grep -c stopped: "$work/q2.err")" -eq 1 ] && ok || { bad "exactly one query stops"; cat "$work/q2.err"; }
kill -TERM $qpid
wait $qpid
rc=$?
pids=""
[ $rc -eq 1 ] && ok || bad "exit status $rc after a failed query (want 1)"

# ---- 3. The broker goes away; SIGTERM stops the query anyway -----------
"$sluice" --brokers "$boot" -e "SET commit_interval_ms = 200;
  SELECT n FROM kafka('in3', format => 'json', group => 'k1') INTO kafka('out3', format => 'json')" \
  2> "$work/q3.err" &
qpid=$!
pids=$qpid
sleep 3
produce in3 0 20 || bad "producer"
for _ in $(seq 100); do [ "$(count out3)" -ge 20 ] && break; sleep 0.1; done
[ "$(count out3)" -eq 20 ] && ok || bad "out3 has $(count out3) of 20 before the broker goes"
echo "down" >&3
sleep 1
kill -TERM $qpid
stopped=no
for i in $(seq 300); do kill -0 $qpid 2>/dev/null || { stopped=yes; break; }; sleep 0.1; done
[ $stopped = yes ] && ok || { bad "SIGTERM with the broker down: still running after 30 s"; cat "$work/q3.err"; }
echo "broker down: stopped after about $((i / 10)) s"
wait $qpid
rc=$?
pids=""
[ $rc -eq 0 ] && ok || { bad "exit status $rc after a stop with the broker down"; cat "$work/q3.err"; }
echo "up" >&3

finish kafka_fatal
