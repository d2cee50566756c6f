#!/usr/bin/env bash
# kafka_recovery.sh - crash recovery over Kafka (a `sluice broker` of its own,
# so that killing the engine does not take the broker with it).  Each query
# runs with --state-dir, is killed with SIGKILL at random moments ROUNDS
# times, then runs to the end of its input (stop => 'end'); kafka-python
# reads what it wrote:
#   - S1-style, at-least-once: every input has its output, none malformed;
#     duplicates counted and reported;
#   - the same with processing.guarantee = 'exactly_once': 0 duplicates and
#     0 missing;
#   - event-time windows, at-least-once: the last result of every window
#     equals the failure-free run's; and exactly-once: every window once;
#   - exactly-once while the broker goes away for 2 s and comes back (the
#     checkpoints wait for it): 0 missing, and 0 duplicates but whole
#     Produce requests the mock broker appended twice (it does not check a
#     non-transactional idempotent producer's sequence numbers, which a
#     real broker does; see retried_batches below).
set -u
here=$(cd "$(dirname "$0")" && pwd)
sluice=${SLUICE:-$here/../sluice}
py=/usr/bin/python3
ROUNDS=${RECOVERY_ROUNDS:-4}
if ! $py -c 'import kafka' 2>/dev/null; then echo "python3-kafka missing: skipped"; exit 77; fi
work=$(mktemp -d)
mkfifo "$work/ctl"
"$sluice" broker --topics in:4,ev:2,alo:4,eo:4,eo_down:4,win_ref:2,win_alo:2,win_eo:2 \
  < "$work/ctl" > "$work/boot" 2> "$work/broker.log" &
bpid=$!
exec 3> "$work/ctl" # keep the control pipe open: `down` and `up` stop and start the broker
trap 'exec 3>&-; kill $bpid 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 50); do [ -s "$work/boot" ] && break; sleep 0.1; done
boot=$(head -n 1 "$work/boot")
cd "$work"
. "$here/lib.sh"

N=${KAFKA_RECOVERY_RECORDS:-100000}
$py - "$boot" "$N" <<'PY' || bad "producer"
import json, random, sys, uuid
from kafka import KafkaProducer
p = KafkaProducer(bootstrap_servers=sys.argv[1], linger_ms=20, retries=10,
                  request_timeout_ms=300000, batch_size=262144,
                  value_serializer=lambda v: json.dumps(v).encode())
failed = [0]
def count_failure(e):
    failed[0] += 1
random.seed(3)
n = int(sys.argv[2])
for i in range(n):
    p.send('in', key=str(i).encode(), value={"n": i, "User_ID": str(uuid.UUID(int=i)),
                                            **{"G%d" % g: random.randrange(2) for g in range(1, 11)}}
           ).add_errback(count_failure)
t = 1700000000000
for i in range(n):
    t += random.randrange(20)
    p.send('ev', key=str(i % 7).encode(),
           value={"user": "u%d" % (i % 7), "v": i % 100, "ts": t + random.randrange(-500, 1)}
           ).add_errback(count_failure)
p.flush()
if failed[0]:
    sys.exit("producer: %d messages not delivered" % failed[0])
PY

# The outputs are spread evenly over the partitions: the mock broker keeps at
# most 5 MB of a partition (librdkafka 2.0.2, rdkafka_mock.c) and drops the
# oldest messages past that, and the sticky partitioner, which fills one
# partition a batch at a time, once put 52,027 of eo's outputs in one of four
# (10,920 of them dropped, reported as missing).
s1_sql() { # OUT-TOPIC [exactly_once]
  echo "SET checkpoint_interval = '200ms';"
  [ -n "${2:-}" ] && echo "SET processing.guarantee = 'exactly_once';"
  echo "SELECT n, User_ID, G1 + G2 + G3 + G4 + G5 + G6 + G7 + G8 + G9 + G10 AS owned
FROM kafka('in', format => 'json', stop => 'end', group => 'g-$1')
INTO kafka('$1', format => 'json', 'sticky.partitioning.linger.ms' => '0');"
}
win_sql() { # OUT-TOPIC [exactly_once]
  echo "SET checkpoint_interval = '200ms';"
  [ -n "${2:-}" ] && echo "SET processing.guarantee = 'exactly_once';"
  echo "CREATE STREAM ev (user TEXT, v INTEGER, ts INTEGER)
  FROM kafka('ev', format => 'json', stop => 'end', group => 'g-$1') WATERMARK ts - INTERVAL '1' SECOND;
SELECT user, window_start, count(*) AS n, sum(v) AS s FROM ev
GROUP BY user, TUMBLE(ts, INTERVAL '5' SECOND) INTO kafka('$1', format => 'json');"
}

# crash NAME: ROUNDS runs killed after a random 20-50% of a clean run's time, then the end
crash() {
  name=$1 total=$2
  kills=0
  for r in $(seq "$ROUNDS"); do
    ms=$((total / 5 + RANDOM % (total * 3 / 10 + 1)))
    "$sluice" --brokers "$boot" --state-dir "st-$name" run "$name.sql" 2> "$name.err$r" &
    pid=$!
    sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
    kill -KILL $pid 2>/dev/null && kills=$((kills + 1))
    wait $pid 2>/dev/null
  done
  "$sluice" --brokers "$boot" --stats --state-dir "st-$name" run "$name.sql" 2> "$name.final" && ok ||
    { bad "$name: final run"; cat "$name.final"; }
  echo "$name: $kills of $ROUNDS runs killed with SIGKILL; $(grep -h 'checkpoints of' "$name.final" | head -1)"
}

# how long a clean run takes (ms), writing into a topic of its own
t0=$(date +%s%N)
win_sql win_ref > win_ref.sql
"$sluice" --brokers "$boot" run win_ref.sql 2> ref.err || { bad "reference run"; cat ref.err; }
total=$((($(date +%s%N) - t0) / 1000000))
echo "a clean run takes $total ms"

s1_sql alo > alo.sql && crash alo "$total"
s1_sql eo exactly_once > eo.sql && crash eo "$total"
win_sql win_alo > win_alo.sql && crash win_alo "$total"
win_sql win_eo exactly_once > win_eo.sql && crash win_eo "$total"
# the broker away while an exactly-once query checkpoints (every 100 ms)
s1_sql eo_down exactly_once | sed "s/'200ms'/'100ms'/" > eo_down.sql
"$sluice" --brokers "$boot" --stats --state-dir st-eo_down run eo_down.sql 2> eo_down.err &
pid=$!
sleep 0.3
echo down >&3
sleep 2
echo up >&3
wait $pid && ok || { bad "eo_down: the query must survive the broker going away"; cat eo_down.err; }
grep -q "broker down" broker.log && grep -q "broker up" broker.log && ok || bad "broker not stopped"
echo "eo_down: $(grep -h ' in, .* out' eo_down.err | head -1); $(grep -h 'checkpoints of' eo_down.err)"
grep -h '^sluice: ' eo_down.err | head -5
grep -h "written after the last checkpoint\|replayed outputs skipped" eo.err* eo.final win_eo.* 2>/dev/null | head -3

$py - "$boot" "$N" <<'PY' && ok || bad "counts"
import collections, json, sys
from kafka import KafkaConsumer
boot, n = sys.argv[1], int(sys.argv[2])
def read(topic, whole=False):
    # every message up to the end offsets; a read that times out before them
    # is the checker's failure, said so, never counted as missing outputs
    from kafka.structs import TopicPartition
    c = KafkaConsumer(bootstrap_servers=boot, group_id=None, consumer_timeout_ms=60000)
    parts = [TopicPartition(topic, p) for p in sorted(c.partitions_for_topic(topic))]
    c.assign(parts)
    c.seek_to_beginning()
    end = c.end_offsets(parts)
    out = []
    if sum(end.values()):
        for m in c:
            out.append(m if whole else m.value)
            if all(c.position(tp) >= end[tp] for tp in parts):
                break
    reached = all(c.position(tp) >= end[tp] for tp in parts)
    c.close()
    assert all(c2 >= 0 for c2 in end.values())
    if not reached:
        sys.exit("checker: reading %s timed out after %d of its %d messages"
                 % (topic, len(out), sum(end.values())))
    return out
def retried_batches(msgs):
    """Duplicates that are a run of messages appended twice in a row, the
    same sluice-ids in the same order right after the first copy: a Produce
    request the broker wrote whose answer the outage lost, sent again.  A
    real broker drops such a retry by the idempotent producer's sequence
    numbers; the mock broker (librdkafka 2.0.2) checks them only for
    transactional producers.  Returns (duplicates so explained, others)."""
    byp = collections.defaultdict(list)
    for m in sorted(msgs, key=lambda m: (m.partition, m.offset)):
        byp[m.partition].append(dict(m.headers or []).get("sluice-id"))
    explained = other = 0
    for ids in byp.values():
        seen, i = set(), 0
        while i < len(ids):
            if ids[i] is None or ids[i] not in seen:
                seen.add(ids[i]); i += 1; continue
            j = i
            while j < len(ids) and ids[j] in seen:
                j += 1
            k = j - i
            if i >= k and ids[i - k:i] == ids[i:j]:
                explained += k
            else:
                other += k
            i = j
    return explained, other
ok = True
inputs = {json.loads(v)["n"] for v in read("in")}
if len(inputs) != n:
    print("note: the producer delivered %d of its %d messages" % (len(inputs), n))
for topic, exact, outage in (("alo", False, False), ("eo", True, False), ("eo_down", True, True)):
    msgs = read(topic, whole=True)
    seen, bad = collections.Counter(), 0
    for m in msgs:
        try:
            r = json.loads(m.value)
            seen[r["n"]] += 1
            assert r["User_ID"] and 0 <= r["owned"] <= 10
        except Exception:
            bad += 1
    missing = sum(1 for i in inputs if i not in seen)
    dups = sum(c - 1 for c in seen.values())
    retried = 0
    if outage and dups:
        retried, other = retried_batches(msgs)
        if other == 0 and retried == dups:
            print("%s: %d duplicates, all whole Produce requests the mock broker appended twice "
                  "across the outage (a real broker drops them)" % (topic, dups))
        else:
            retried = 0
    print("%s (%s): %d inputs, %d outputs: %d missing, %d duplicates, %d malformed"
          % (topic, "exactly once" if exact else "at least once", len(inputs), sum(seen.values()), missing, dups, bad))
    if missing:
        # which inputs: runs of consecutive n (a source position lost, or
        # scattered outputs skipped as written before)
        lost = sorted(i for i in inputs if i not in seen)
        runs = []
        for i in lost:
            if runs and i == runs[-1][1] + 1:
                runs[-1][1] = i
            else:
                runs.append([i, i])
        print("  %s: missing n in %d runs: %s" % (topic, len(runs),
              ", ".join("%d-%d" % (a, b) for a, b in runs[:10])))
        # where the log stands: per partition, its offsets read and any gap
        byp = collections.defaultdict(list)
        for m in msgs:
            byp[m.partition].append(m.offset)
        for p, offs in sorted(byp.items()):
            offs.sort()
            gaps = [(a, b) for a, b in zip(offs, offs[1:]) if b != a + 1]
            print("  %s [%d]: offsets %d..%d, %d messages, gaps %s"
                  % (topic, p, offs[0], offs[-1], len(offs), gaps[:5]))
    ok &= missing == 0 and bad == 0 and (dups == retried or not exact)
def windows(topic):
    last, count = {}, collections.Counter()
    for v in read(topic):
        r = json.loads(v)
        k = (r["user"], r["window_start"])
        last[k] = (r["n"], r["s"])
        count[k] += 1
    return last, count
ref, _ = windows("win_ref")
for topic, exact in (("win_alo", False), ("win_eo", True)):
    last, count = windows(topic)
    dups = sum(c - 1 for c in count.values())
    print("%s (%s): %d windows (reference %d), %s the failure-free run's, %d duplicates"
          % (topic, "exactly once" if exact else "at least once", len(last), len(ref),
             "equal to" if last == ref else "DIFFERENT from", dups))
    ok &= last == ref and (dups == 0 or not exact)
sys.exit(0 if ok else 1)
PY
finish kafka_recovery
