# tests/scale_out_lib.sh - sourced by scale_out.sh and scale_out_eos.sh
# (after lib.sh, with sluice, py, work and boot set): sluice processes of
# one application, the clicks input written throughout, and the Python
# reference of the per-user 2 s TUMBLE windows compared with a topic.
#
# start N: a `sluice --stats run $work/app.sql` process (stderr in pN.err;
#   its pid in pN and added to pids).
# (count TOPIC, how many messages TOPIC holds, is lib.sh's.)
# produce_clicks: in the background (pid in ppid), 4 partitions of clicks,
#   a record's partition its session's (session % 4), users u0..u5 spread
#   over every partition, event time 100 ms a round on every partition,
#   every record logged to produced.jsonl; once the file stop exists, for
#   every partition and user a record far ahead in time (closing every
#   window), then produced.done.
# make_refs: ref-1.jsonl (count and sum of amount per user and window) and
#   ref-table.jsonl (the sum of amount times the user's mult, 1 + its
#   number, as the table mults of the scripts says).
# compare TOPIC [REF]: "missing extra duplicates reference-rows" of TOPIC
#   against ref-REF.jsonl (1 by default).
# settle TOPIC [REF]: compare until nothing is missing (5 minutes at most);
#   sets missing, extra, dups, nref.
# scenario TOPIC SECONDS: processes 1, 2 and 3 started and the clicks
#   produced; once TOPIC has output and SECONDS more passed, process 2 is
#   killed with SIGKILL, started again 6 s later (2b), a fourth joins 6 s
#   after that (a rebalance), and 8 s later the producer is stopped and
#   waited for.
start() {
  "$sluice" --brokers "$boot" --stats run "$work/app.sql" 2> "$work/p$1.err" &
  eval "p$1=$!"
  pids="$pids $!"
}
produce_clicks() {
  $py - "$boot" "$work" <<'PY' &
import json, os, random, sys, time
from kafka import KafkaProducer
boot, work = sys.argv[1], sys.argv[2]
rnd = random.Random(20)
p = KafkaProducer(bootstrap_servers=boot)
log = open(os.path.join(work, "produced.jsonl"), "w")
users = ["u%d" % i for i in range(6)]
r = 0
while not os.path.exists(os.path.join(work, "stop")) and r < 6000:
    for part in range(4):
        for j in range(rnd.randint(1, 4)):
            sess = rnd.randrange(6) * 4 + part
            rec = {"user": rnd.choice(users), "session": "s%d" % sess, "ts": r * 100 + j,
                   "amount": rnd.randint(1, 100)}
            p.send("clicks", json.dumps(rec).encode(), key=rec["session"].encode(), partition=part)
            log.write(json.dumps(rec) + "\n")
    r += 1
    if r % 10 == 0:
        p.flush()
    time.sleep(0.05)
for part in range(4):
    for u in users:
        rec = {"user": u, "session": "s%d" % part, "ts": 10**9, "amount": 0}
        p.send("clicks", json.dumps(rec).encode(), key=rec["session"].encode(), partition=part)
p.flush()
log.close()
open(os.path.join(work, "produced.done"), "w").close()
PY
  ppid=$!
}
make_refs() {
  for m in 1 table; do
    $py - "$work/produced.jsonl" "$m" > "$work/ref-$m.jsonl" <<'PY'
import json, sys, collections
agg = collections.defaultdict(lambda: [0, 0])
for line in open(sys.argv[1]):
    r = json.loads(line)
    a = agg[(r["user"], r["ts"] // 2000 * 2000)]
    a[0] += 1
    a[1] += r["amount"] * (1 if sys.argv[2] == "1" else int(r["user"][1:]) + 1)
for (u, w), (c, s) in sorted(agg.items()):
    print(json.dumps({"user": u, "window_start": w, "c": c, "s": s}, sort_keys=True))
PY
  done
}
compare() {
  kcat -C -b "$boot" -t "$1" -e -q 2> /dev/null > "$work/$1.jsonl"
  $py - "$work/ref-${2:-1}.jsonl" "$work/$1.jsonl" <<'PY'
import json, sys, collections
ref = set(open(sys.argv[1]).read().split("\n")) - {""}
out = collections.Counter(json.dumps(json.loads(l), sort_keys=True)
                          for l in open(sys.argv[2]) if l.strip())
missing = len(ref - set(out))
extra = len(set(out) - ref)
dups = sum(n - 1 for n in out.values())
print(missing, extra, dups, len(ref))
PY
}
settle() {
  for _ in $(seq 300); do
    read -r missing extra dups nref < <(compare "$@")
    [ "$missing" -eq 0 ] && break
    sleep 1
  done
}
scenario() {
  start 1
  start 2
  start 3
  produce_clicks
  for _ in $(seq 300); do [ "$(count "$1")" -gt 0 ] && break; sleep 0.2; done
  [ "$(count "$1")" -gt 0 ] && ok || bad "no output from the three processes"
  sleep "$2"
  kill -KILL "$p2"
  echo "killed process 2 (SIGKILL)"
  sleep 6
  start 2b
  echo "started process 2 again"
  sleep 6
  start 4
  echo "started a fourth process (a rebalance)"
  sleep 8
  touch "$work/stop"
  for _ in $(seq 600); do [ -e "$work/produced.done" ] && break; sleep 0.1; done
  [ -e "$work/produced.done" ] && ok || bad "the producer did not end"
  ppid=""
}
