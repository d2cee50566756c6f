#!/usr/bin/env bash
# kafka_faults.sh - at-least-once under faults, on the dev broker: while a
# continuous query copies topic `in` to `out`, the broker goes down and comes
# back, and Produce, Fetch and OffsetCommit requests fail with retriable
# errors (injected through `sluice broker`'s stdin).  Every input must have
# its output; duplicates are allowed by at-least-once and are counted and
# reported.  The query must keep running, and exit 0 on SIGTERM.
set -u
here=$(cd "$(dirname "$0")" && pwd)
sluice=${SLUICE:-$here/../sluice}
py=/usr/bin/python3
if ! $py -c 'import kafka' 2>/dev/null; then echo "python3-kafka missing: skipped"; exit 77; fi
work=$(mktemp -d)
mkfifo "$work/ctl"
"$sluice" broker --topics in:2,out:1 < "$work/ctl" > "$work/boot" 2> "$work/broker.log" &
bpid=$!
exec 3> "$work/ctl" # keep the control pipe open
pids=""
trap 'exec 3>&-; kill $bpid $pids 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 50); do [ -s "$work/boot" ] && break; sleep 0.1; done
boot=$(head -n 1 "$work/boot")
. "$here/lib.sh"

produce() { # produce FROM TO
  $py - "$boot" "$1" "$2" <<'PY'
import json, sys
from kafka import KafkaProducer
p = KafkaProducer(bootstrap_servers=sys.argv[1], retries=20, retry_backoff_ms=200,
                  value_serializer=lambda v: json.dumps(v).encode())
for i in range(int(sys.argv[2]), int(sys.argv[3])):
    p.send('in', {"n": i})
p.flush()
PY
}

"$sluice" --brokers "$boot" --stats -e "SET commit_interval_ms = 200;
  SELECT n FROM kafka('in', format => 'json', group => 'faults') INTO kafka('out', format => 'json');" \
  2> "$work/q.err" &
qpid=$!
pids=$qpid
sleep 5
produce 0 300 || bad "producer 1"
sleep 1
echo "errors 0 4 6 7" >&3   # Produce: NOT_LEADER_FOR_PARTITION, then REQUEST_TIMED_OUT
echo "errors 1 4 6" >&3     # Fetch: NOT_LEADER_FOR_PARTITION
echo "errors 8 3 16 15" >&3 # OffsetCommit: NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE
produce 300 600 || bad "producer 2"
sleep 1
echo "down" >&3
sleep 2
echo "up" >&3
produce 600 1000 || bad "producer 3"

$py - "$boot" <<'PY' && ok || bad "every input has its output"
import json, sys, collections
from kafka import KafkaConsumer
c = KafkaConsumer('out', bootstrap_servers=sys.argv[1], auto_offset_reset='earliest',
                  consumer_timeout_ms=30000, value_deserializer=lambda v: json.loads(v.decode()))
seen = collections.Counter()
for m in c:
    seen[m.value["n"]] += 1
    if len(seen) == 1000:
        break
missing = [n for n in range(1000) if n not in seen]
dups = sum(v - 1 for v in seen.values())
print("faults: %d distinct outputs, %d missing, %d duplicates (at-least-once allows them)"
      % (len(seen), len(missing), dups))
sys.exit(1 if missing else 0)
PY
kill -0 $qpid 2>/dev/null && ok || { bad "the query died"; cat "$work/q.err"; }
kill -TERM $qpid
if wait $qpid; then ok; else bad "sluice exited $? on SIGTERM"; cat "$work/q.err"; fi
pids=""
grep -q "broker down" "$work/broker.log" && grep -q "broker up" "$work/broker.log" && ok || { bad "faults not injected"; cat "$work/broker.log"; }
finish kafka_faults
