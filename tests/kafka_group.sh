#!/usr/bin/env bash
# kafka_group.sh - a multi-partition topic read by two sluice processes in one
# consumer group: the group splits the partitions between them, and together
# they produce every output exactly once (no failures injected).  Both are
# continuous queries stopped with SIGTERM, which drains, commits and exits 0.
# Then without group =>: the same query on two processes shares the topic
# (its default group is the query's), while a different query on a third
# process reads all of it (a group of its own), as in ksqlDB, and so does
# the same query on a fourth process of another application (SET
# application_id: another group).
set -u
here=$(cd "$(dirname "$0")" && pwd)
sluice=${SLUICE:-$here/../sluice}
py=/usr/bin/python3
if ! $py -c 'import kafka' 2>/dev/null; then echo "python3-kafka missing: skipped"; exit 77; fi
work=$(mktemp -d)
"$sluice" broker --topics events:4,out:1,ev2:4,outa:1,outb:1 > "$work/boot" 2> "$work/broker.log" &
bpid=$!
pids=""
trap 'kill $bpid $pids 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 50); do [ -s "$work/boot" ] && break; sleep 0.1; done
boot=$(head -n 1 "$work/boot")
. "$here/lib.sh"

# A short session timeout: the mock broker's coordinator waits up to the
# session timeout (45 s by default) for every member to rejoin after a
# rebalance, longer than a client's request timeouts on a loaded machine,
# which can then leave the group formed by no one.
sql="SELECT n, n * 2 AS twice FROM kafka('events', format => 'json', group => 'g1',
  'session.timeout.ms' => '6000', 'heartbeat.interval.ms' => '500')
  INTO kafka('out', format => 'json');"
for i in 1 2; do
  "$sluice" --brokers "$boot" --stats -e "$sql" 2> "$work/s$i.err" &
  pids="$pids $!"
  sleep 2 # one joins, then the other: the group rebalances once
done
sleep 6 # both share the partitions before data flows

$py - "$boot" <<'PY' || bad "producer"
import json, sys
from kafka import KafkaProducer
p = KafkaProducer(bootstrap_servers=sys.argv[1], value_serializer=lambda v: json.dumps(v).encode())
for i in range(2000):
    p.send('events', {"n": i}, partition=i % 4)
p.flush()
PY

$py - "$boot" <<'PY' && ok || bad "every output exactly once"
import json, sys, collections
from kafka import KafkaConsumer
c = KafkaConsumer('out', bootstrap_servers=sys.argv[1], auto_offset_reset='earliest',
                  consumer_timeout_ms=20000, value_deserializer=lambda v: json.loads(v.decode()))
seen = collections.Counter()
for m in c:
    assert m.value["twice"] == 2 * m.value["n"]
    seen[m.value["n"]] += 1
    if len(seen) == 2000:
        break
missing = [n for n in range(2000) if n not in seen]
dups = sum(v - 1 for v in seen.values())
print("group: %d distinct outputs, %d missing, %d duplicates" % (len(seen), len(missing), dups))
sys.exit(1 if missing or dups else 0)
PY

kill -TERM $pids
i=0
for p in $pids; do
  i=$((i + 1))
  if wait $p; then ok; else bad "sluice $i exited $? on SIGTERM"; cat "$work/s$i.err"; fi
done
pids=""
in1=$(grep -o '[0-9]* in' "$work/s1.err" | cut -d' ' -f1)
in2=$(grep -o '[0-9]* in' "$work/s2.err" | cut -d' ' -f1)
echo "process 1 read ${in1:-?} records, process 2 read ${in2:-?}"
[ "${in1:-0}" -gt 0 ] && [ "${in2:-0}" -gt 0 ] && ok || { bad "the partitions were not shared"; cat "$work"/s*.err; }
[ $(( ${in1:-0} + ${in2:-0} )) -eq 2000 ] && ok || bad "records read: ${in1:-0} + ${in2:-0}, not 2000"

# ---- default groups: one per query ----------------------------------------
opts="format => 'json', 'session.timeout.ms' => '6000', 'heartbeat.interval.ms' => '500'"
sqla="SELECT n FROM kafka('ev2', $opts) INTO kafka('outa', format => 'json');"
sqlb="SELECT n, 1 AS b FROM kafka('ev2', $opts) INTO kafka('outb', format => 'json');"
for i in 1 2 3 4; do
  q=$sqla
  [ $i = 3 ] && q=$sqlb
  [ $i = 4 ] && q="SET application_id = 'other-app_2'; $sqla"
  "$sluice" --brokers "$boot" --stats -e "$q" 2> "$work/d$i.err" &
  pids="$pids $!"
  sleep 2
done
sleep 6
$py - "$boot" <<'PY' || bad "producer (ev2)"
import json, sys
from kafka import KafkaProducer
p = KafkaProducer(bootstrap_servers=sys.argv[1], value_serializer=lambda v: json.dumps(v).encode())
for i in range(400):
    p.send('ev2', {"n": i}, partition=i % 4)
p.flush()
PY
for t in outa outb; do
  $py - "$boot" "$t" <<'PY' && ok || bad "$t: every output once"
import json, sys, collections
from kafka import KafkaConsumer
c = KafkaConsumer(sys.argv[2], bootstrap_servers=sys.argv[1], auto_offset_reset='earliest',
                  consumer_timeout_ms=20000, value_deserializer=lambda v: json.loads(v.decode()))
seen = collections.Counter()
for m in c:
    seen[m.value["n"]] += 1
    if len(seen) == 400:
        break
missing = [n for n in range(400) if n not in seen]
print("%s: %d distinct outputs, %d missing" % (sys.argv[2], len(seen), len(missing)))
sys.exit(1 if missing else 0)
PY
done
kill -TERM $pids
for p in $pids; do wait $p || bad "a default-group sluice exited $? on SIGTERM"; done
pids=""
ins=()
for i in 1 2 3 4; do ins[$i]=$(grep -o '[0-9]* in' "$work/d$i.err" | cut -d' ' -f1); done
echo "the same query on two processes read ${ins[1]:-?} + ${ins[2]:-?}; another query read ${ins[3]:-?}; the same query of another application ${ins[4]:-?}"
[ "${ins[1]:-0}" -gt 0 ] && [ "${ins[2]:-0}" -gt 0 ] && ok || { bad "the same query did not share the topic"; cat "$work"/d*.err; }
[ $(( ${ins[1]:-0} + ${ins[2]:-0} )) -eq 400 ] && ok || bad "the same query read ${ins[1]:-0} + ${ins[2]:-0}, not 400"
check "another query reads the whole topic" 400 "${ins[3]:-0}"
check "the same query of another application reads the whole topic" 400 "${ins[4]:-0}"
"$sluice" --brokers "$boot" -e "SET application_id = 'a b'; $sqla" > /dev/null 2> "$work/app.err"
grep -q "application_id 'a b': a consumer group name takes" "$work/app.err" && ok ||
  { bad "a bad application_id"; cat "$work/app.err"; }
finish kafka_group
