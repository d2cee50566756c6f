#!/usr/bin/env bash
# parallel_kafka.sh - SET parallelism over a continuous Kafka read of a
# GROUP BY whose key (the user) is not the input's partition key (a
# session id): the process's consumers of the group meet at an exchange
# that sends each row to the lane of its user (op_exchange.c), so every
# user's groups are whole in one process.
#   - EXPLAIN says "2 parallel tasks (consumers of the group), rows
#     exchanged between them by the GROUP BY key";
#   - a TUMBLE count/sum per user (event time, in order within each
#     partition: the watermark is the slowest partition's) and a running
#     count/sum per user (upserts into a keyed topic), at parallelism 2 and
#     at parallelism 1 (another application: its own groups), written to
#     Kafka while the input is produced in random bursts to 4 partitions;
#     records far ahead in time, one per user and partition, then close
#     every window;
#   - kcat reads the outputs, and Python over the input is the reference:
#     each (user, window) once and right, the last value per user right, at
#     both parallelisms; --stats counts every input record once.
set -u
here=$(cd "$(dirname "$0")" && pwd)
sluice=${SLUICE:-$here/../sluice}
py=/usr/bin/python3
command -v kcat > /dev/null || { echo "kcat missing (scripts/setup.sh)"; exit 77; }
. "$here/lib.sh"
in_workdir
dev_broker ev:4,w1:1,w2:1,a1:1,a2:1

# ---- the input: records keyed by session, in time order -----------------------------
seed=${SEED:-$RANDOM}
echo "seed $seed"
$py - "$seed" <<'PY'
import json, random, sys
r = random.Random(int(sys.argv[1]))
users = ["u%d" % i for i in range(25)]
recs, t = [], 0
for i in range(6000):
    t += r.randrange(40)
    rec = {"session": "s%d" % r.randrange(80), "user": r.choice(users),
           "ts": t, "amt": r.randrange(1, 100)}
    recs.append(rec)
# bursts of random size, each one kcat call
with open("bursts.txt", "w") as f:
    i = 0
    while i < len(recs):
        n = r.randrange(1, 800)
        f.write("\n".join("%s|%s" % (x["session"], json.dumps(x)) for x in recs[i:i + n]) + "\n--\n")
        i += n
with open("input.json", "w") as f:
    for x in recs:
        f.write(json.dumps(x) + "\n")
# far ahead: every user on every partition, so every lane hears of it
with open("sentinels.txt", "w") as f:
    for k, u in enumerate(users):
        f.write("%s|%s\n" % (u, json.dumps({"session": u, "user": u, "ts": 100000000 + k, "amt": 0})))
PY
$py - input.json > ref_w.txt <<'PY'
import json, sys, collections
w = collections.defaultdict(lambda: [0, 0])
for line in open(sys.argv[1]):
    r = json.loads(line)
    g = w[(r["user"], r["ts"] // 10000 * 10000)]
    g[0] += 1
    g[1] += r["amt"]
for (u, ws), (n, t) in sorted(w.items()):
    print(u, ws, n, t)
PY
$py - input.json > ref_a.txt <<'PY'
import json, sys, collections
a = collections.defaultdict(lambda: [0, 0])
for line in open(sys.argv[1]):
    r = json.loads(line)
    a[r["user"]][0] += 1
    a[r["user"]][1] += r["amt"]
for u, (n, t) in sorted(a.items()):
    print(u, n + 4, t)  # and its four sentinels (amt 0)
PY

ev="kafka('ev', format => 'json', columns => 'session TEXT, user TEXT, ts INTEGER, amt INTEGER')"
script() { # script APP PARALLELISM WOUT AOUT
  cat <<SQL
SET application_id = '$1'; SET parallelism = $2; SET idle_timeout_ms = '10min';
SELECT user, window_start AS ws, count(*) AS n, sum(amt) AS total FROM $ev
  GROUP BY user, TUMBLE(ts, INTERVAL '10' SECOND) INTO kafka('$3', format => 'json');
SELECT user, count(*) AS n, sum(amt) AS total FROM $ev GROUP BY user
  INTO kafka('$4', format => 'json', key => 'user');
SQL
}
script ptwo 2 w2 a2 > two.sql
script pone 1 w1 a1 > one.sql

# ---- EXPLAIN -------------------------------------------------------------------
ex=$( (sed '/^SELECT/,$d' two.sql; echo "EXPLAIN SELECT user, count(*) AS n FROM $ev GROUP BY user
  INTO kafka('x', format => 'json');") | "$sluice" --brokers "$boot" 2>&1)
contains "EXPLAIN: the exchange" \
  "2 parallel tasks (consumers of the group), rows exchanged between them by the GROUP BY key" "$ex"

# ---- both runs while the input is produced in bursts --------------------------------
"$sluice" --brokers "$boot" --stats run two.sql 2> two.err &
pids="$pids $!"
"$sluice" --brokers "$boot" --stats run one.sql 2> one.err &
pids="$pids $!"
sleep 8 # every consumer in its group
$py - "$boot" <<'PY'
import subprocess, sys, random, time
chunks = open("bursts.txt").read().split("--\n")
r = random.Random(len(chunks))
for c in chunks:
    if not c.strip():
        continue
    subprocess.run(["kcat", "-P", "-b", sys.argv[1], "-t", "ev", "-K", "|"], input=c.encode(), check=True)
    time.sleep(r.random() * 0.3)
PY
for p in 0 1 2 3; do kcat -P -b "$boot" -t ev -p $p -K '|' -l sentinels.txt; done

nref=$(wc -l < ref_w.txt)
for t in w2 w1; do
  wait_for 120 holds "$t" "$nref" || bad "$t: $(count "$t") rows of $nref"
done
for t in a2 a1; do
  a_right() { cmp -s ref_a.txt <(last_a "$t"); }
  wait_for 60 a_right || true
done
sleep 2 # anything more (a duplicate) would be written by now
check "parallelism 2: each (user, window) once and right" "$(cat ref_w.txt)" "$(rows_w w2)"
check "parallelism 1: each (user, window) once and right" "$(cat ref_w.txt)" "$(rows_w w1)"
check "parallelism 2: the last value per user right" "$(cat ref_a.txt)" "$(last_a a2)"
check "parallelism 1: the last value per user right" "$(cat ref_a.txt)" "$(last_a a1)"
kill -TERM $pids
for p in $pids; do wait "$p" || bad "a run exited $? on SIGTERM"; done
pids=""
# each query counts every record once, over both consumers
total=$(($(wc -l < input.json) + 4 * $(wc -l < sentinels.txt)))
for f in two one; do
  for q in q1 q2; do
    check "$f: $q's --stats counts every record once" "$q: $total in" \
      "$(grep -o "^$q: [0-9]* in" $f.err | head -n 1)"
  done
  grep -qi "late" $f.err && bad "$f: late records: $(grep -i late $f.err)" || ok
done
cat two.err
finish parallel_kafka
