#!/usr/bin/env bash
# repartition.sh - SET repartition = 'on' on the dev broker: a GROUP BY
# whose key (the user) is not the input's partition key (a session id) is
# planned as two queries meeting at a topic keyed by the user, so two
# sluice processes running the same script each hold whole users.
#   - EXPLAIN shows both stages and the topic, <application_id>-<identity>-
#     repartition, the same on both processes;
#   - a TUMBLE count/sum per user and a running count/sum per user (upserts)
#     into Kafka, read back with kcat and compared with Python over the
#     input: each (user, window) row once and right, the last value per
#     user right;
#   - the same with repartition off gives partial rows (each process counts
#     the users of its partitions): its outputs differ from the reference
#     whenever a window of a user has records in every input partition and
#     both processes read some, which the data makes certain;
#   - on a server, DESCRIBE q1 names the topic and TERMINATE q1 stops both
#     stages;
#   - a few more GROUP BY shapes (a multi-column key, an expression as key,
#     HAVING, a join with a table before the GROUP BY) on one process over
#     the same input, compared with Python.
# The input has 4 partitions, as the repartition topics the dev broker
# makes (it has no CreateTopics: a topic is made with 4 partitions when it
# is first named), so that stage 2 expects as many origins as there are
# input partitions (docs/scale-out.md); the processes start one after the
# other and data flows once both are in every group (rebalances and crashes
# are tests/scale_out.sh's).
set -u
here=$(cd "$(dirname "$0")" && pwd)
sluice=${SLUICE:-$here/../sluice}
py=/usr/bin/python3
command -v kcat > /dev/null || { echo "kcat missing (scripts/setup.sh)"; exit 77; }
. "$here/lib.sh"
in_workdir
dev_broker ev:4,ev2:4,wout:1,aout:1,wout2:1,aout2:1

# ---- the input: random records keyed by session, 4 partitions ----------------
seed=${SEED:-$RANDOM}
echo "seed $seed"
$py - "$seed" > input.txt <<'PY'
import json, random, sys
r = random.Random(int(sys.argv[1]))
for i in range(3000):
    rec = {"session": "s%d" % r.randrange(60), "user": "u%d" % r.randrange(8),
           "ts": r.randrange(60000), "amt": r.randrange(1, 100), "region": r.choice("abc")}
    print("%s|%s" % (rec["session"], json.dumps(rec)))
PY
printf 'region|label\n' > regions.csv
printf 'a|north\nb|south\nc|north\n' >> regions.csv

stream="CREATE STREAM ev (session TEXT, user TEXT, ts INTEGER, amt INTEGER, region TEXT)
  FROM kafka('ev', format => 'json', 'session.timeout.ms' => '6000',
             'heartbeat.interval.ms' => '500') WATERMARK ts - INTERVAL '1' HOUR;"
qw="SELECT user, window_start AS ws, count(*) AS n, sum(amt) AS total FROM ev
  GROUP BY user, TUMBLE(ts, INTERVAL '10' SECOND) INTO kafka('WOUT', format => 'json');"
qa="SELECT user, count(*) AS n, sum(amt) AS total FROM ev GROUP BY user
  INTO kafka('AOUT', format => 'json');"
script() { # script APP REPARTITION WOUT AOUT
  echo "SET application_id = '$1'; SET repartition = '$2'; SET idle_timeout_ms = '10min';"
  echo "$stream"
  echo "${qw/WOUT/$3}"
  echo "${qa/AOUT/$4}"
}
script rtest on wout aout > on.sql
script roff off wout2 aout2 > off.sql

# ---- EXPLAIN: both stages, the topic --------------------------------------------
ex=$( (cat on.sql | sed '/^SELECT/,$d'; echo "EXPLAIN ${qw/WOUT/wout}") | "$sluice" --brokers "$boot" 2>&1)
topic=$(echo "$ex" | grep -o 'into repartition topic rtest-[0-9a-f]\{16\}-repartition' | head -n 1 |
  cut -d' ' -f4)
[ -n "$topic" ] && ok || bad "EXPLAIN: stage 1 and its topic: $ex"
contains "EXPLAIN: stage 1" "query q1_repartition: stage 1 of q1, into repartition topic $topic" "$ex"
contains "EXPLAIN: stage 2" "query q1: stage 2, from repartition topic $topic" "$ex"
contains "EXPLAIN: stage 2's group" "consumer group rtest-$topic-${topic:6:16}" "$ex"
contains "EXPLAIN: the aggregate in stage 2" "aggregate: 1 key, 2 aggregates, window TUMBLE" "$ex"
exoff=$( (cat off.sql | sed '/^SELECT/,$d'; echo "EXPLAIN ${qw/WOUT/wout}") | "$sluice" --brokers "$boot" 2>&1)
case "$exoff" in *repartition*) bad "repartition off: one query: $exoff" ;; *) ok ;; esac
exkey=$("$sluice" --brokers "$boot" -e "SET repartition = 'on'; EXPLAIN SELECT key, count(*) AS n
  FROM kafka('ev', format => 'json') GROUP BY key INTO kafka('x', format => 'json');" 2>&1)
case "$exkey" in *repartition*) bad "grouped by the message key: not split: $exkey" ;; *) ok ;; esac

# ---- two processes, repartition on --------------------------------------------
start() { # start SQL NAME: a sluice run of SQL, its stderr in NAME.err
  "$sluice" --brokers "$boot" --stats run "$1" 2> "$2.err" &
  pids="$pids $!"
}
start on.sql on1
# the first process makes the repartition topics (on the dev broker, which
# has no CreateTopics, after 5 s each); then the second joins every group
topics_made() { kcat -L -b "$boot" 2> /dev/null | grep -c 'repartition"' | grep -qx 2; }
wait_for 60 topics_made && ok || { bad "the repartition topics were made"; cat on1.err; }
sleep 6
start on.sql on2
sleep 12 # both share every group before data flows
reptopics=$(kcat -L -b "$boot" | grep -o '"rtest-[0-9a-f]*-repartition"' | tr -d '"' | sort -u)
check "two repartition topics" 2 "$(echo "$reptopics" | wc -l)"
kcat -P -b "$boot" -t ev -K '|' -l input.txt
# every input record in both repartition topics, then records 10 hours later
# closing every window: one per repartition partition (by Kafka's
# partitioner: CRC32 of the key) and input partition
for t in $reptopics; do
  wait_for 120 holds "$t" 3000 || bad "$t holds every input record: $(count "$t")"
done
nrep=$(kcat -L -b "$boot" -t "$topic" | grep -c 'partition [0-9]*,')
$py - "$nrep" > sentinels.txt <<'PY'
import json, sys, zlib
n, users, i = int(sys.argv[1]), [], 0
while len({zlib.crc32(u.encode()) % n for u in users}) < n:
    users.append("zz%d" % i)
    i += 1
for k, u in enumerate(users):
    print("%s|%s" % (u, json.dumps({"session": u, "user": u, "ts": 36000000 + k, "amt": 0, "region": "a"})))
PY
for p in 0 1 2 3; do kcat -P -b "$boot" -t ev -p $p -K '|' -l sentinels.txt; done
cat input.txt sentinels.txt sentinels.txt sentinels.txt sentinels.txt > all.txt

$py - all.txt > ref_w.txt <<'PY'
import json, sys, collections
w = collections.defaultdict(lambda: [0, 0])
for line in open(sys.argv[1]):
    r = json.loads(line.split("|", 1)[1])
    if r["user"].startswith("zz"):
        continue
    g = w[(r["user"], r["ts"] // 10000 * 10000)]
    g[0] += 1
    g[1] += r["amt"]
for (u, ws), (n, t) in sorted(w.items()):
    print(u, ws, n, t)
PY
$py - all.txt > ref_a.txt <<'PY'
import json, sys, collections
a = collections.defaultdict(lambda: [0, 0])
for line in open(sys.argv[1]):
    r = json.loads(line.split("|", 1)[1])
    a[r["user"]][0] += 1
    a[r["user"]][1] += r["amt"]
for u, (n, t) in sorted(a.items()):
    print(u, n, t)
PY
nref=$(wc -l < ref_w.txt)
wait_for 180 holds wout "$nref" || bad "wout: $(count wout) rows of $nref"
a_right() { cmp -s ref_a.txt <(last_a aout); }
wait_for 120 a_right || true
check "each (user, window) once and right (repartition on)" "$(cat ref_w.txt)" "$(rows_w wout)"
check "the last value per user right (repartition on)" "$(cat ref_a.txt)" "$(last_a aout)"
kill -TERM $pids
i=0
for p in $pids; do
  i=$((i + 1))
  wait "$p" && ok || { bad "on$i exited $? on SIGTERM"; cat "on$i.err"; }
done
pids=""
for i in 1 2; do
  grep -qi late "on$i.err" && bad "on$i: late records: $(grep -i late "on$i.err")" || ok
done
in1=$(grep -o '^q1_repartition: [0-9]* in' on1.err | grep -o '[0-9]* in' | cut -d' ' -f1)
in2=$(grep -o '^q1_repartition: [0-9]* in' on2.err | grep -o '[0-9]* in' | cut -d' ' -f1)
echo "repartition on: stage 1 read ${in1:-?} + ${in2:-?} records"
[ "${in1:-0}" -gt 0 ] && [ "${in2:-0}" -gt 0 ] && ok ||
  { bad "both processes read the input"; cat on1.err on2.err; }

# ---- the same with repartition off: partial rows --------------------------------
start off.sql off1
sleep 6
start off.sql off2
sleep 12
kcat -P -b "$boot" -t ev -K '|' -l input.txt
for p in 0 1 2 3; do kcat -P -b "$boot" -t ev -p $p -K '|' -l sentinels.txt; done
# every window of the reference has come out (in whatever count)
covered() { [ "$(rows_w wout2 | cut -d' ' -f1,2 | sort -u | wc -l)" -ge "$nref" ]; }
wait_for 180 covered || bad "wout2: every window came out"
all_users() { [ "$(last_a aout2 | wc -l)" -ge "$(wc -l < ref_a.txt)" ]; }
wait_for 60 all_users || true
kill -TERM $pids
for p in $pids; do wait "$p" || bad "a repartition-off process exited $? on SIGTERM"; done
pids=""
in1=$(grep -o '^q1: [0-9]* in' off1.err | grep -o '[0-9]* in' | cut -d' ' -f1)
in2=$(grep -o '^q1: [0-9]* in' off2.err | grep -o '[0-9]* in' | cut -d' ' -f1)
echo "repartition off: the windowed query read ${in1:-?} + ${in2:-?} records"
kcat -C -b "$boot" -t ev -e -q -f '%p|%s\n' > placed.txt 2> /dev/null
# certain: both processes read records, and some (user, window) and some
# user have records in all 4 input partitions (each process saw part of it)
certain=$($py - placed.txt <<'PY'
import json, sys, collections
w, a = collections.defaultdict(set), collections.defaultdict(set)
for line in open(sys.argv[1]):
    p, v = line.split("|", 1)
    r = json.loads(v)
    if r["user"].startswith("zz"): continue
    w[(r["user"], r["ts"] // 10000)].add(p)
    a[r["user"]].add(p)
print(int(any(len(s) == 4 for s in w.values()) and any(len(s) == 4 for s in a.values())))
PY
)
if [ "$certain" = 1 ] && [ "${in1:-0}" -gt 0 ] && [ "${in2:-0}" -gt 0 ]; then
  [ "$(rows_w wout2)" != "$(cat ref_w.txt)" ] && ok ||
    bad "repartition off gave the reference's windows: the test cannot tell"
  [ "$(last_a aout2)" != "$(cat ref_a.txt)" ] && ok ||
    bad "repartition off gave the reference's last values: the test cannot tell"
else
  bad "repartition off: the data did not make partial rows certain ($certain, ${in1:-0}, ${in2:-0})"
fi

# ---- more GROUP BY shapes, chosen at random, on two processes ------------------
$py - "$seed" > shapes.txt <<'PY'
import random, sys
r = random.Random(int(sys.argv[1]) + 1)
size = r.choice([5, 10, 20])
shapes = [
  ("multi", "SELECT user, region, window_start AS ws, count(*) AS n, sum(amt) AS total FROM ev2 "
            "GROUP BY user, region, TUMBLE(ts, INTERVAL '%d' SECOND)" % size),
  ("expr", "SELECT upper(user) AS u, window_start AS ws, sum(amt) AS total FROM ev2 "
           "GROUP BY upper(user), TUMBLE(ts, INTERVAL '%d' SECOND)" % size),
  ("having", "SELECT user, window_start AS ws, count(*) AS n FROM ev2 WHERE amt > %d "
             "GROUP BY user, TUMBLE(ts, INTERVAL '%d' SECOND) HAVING count(*) > %d"
             % (r.randrange(10, 60), size, r.randrange(2, 12))),
  ("join", "SELECT t.label, window_start AS ws, count(*) AS n, max(e.amt) AS top FROM ev2 e "
           "JOIN regions t ON e.region = t.region GROUP BY t.label, TUMBLE(e.ts, INTERVAL '%d' SECOND)"
           % size),
  ("alias", "SELECT user || '-' || region AS k, window_start AS ws, min(amt) AS lo FROM ev2 "
            "GROUP BY k, TUMBLE(ts, INTERVAL '%d' SECOND)" % size),
]
for name, q in r.sample(shapes, 3):
    print("%s\t%s" % (name, q))
PY
{
  echo "SET application_id = 'rshape'; SET repartition = 'on';"
  echo "CREATE TABLE regions (region TEXT, label TEXT);"
  echo "INSERT INTO regions VALUES ('a', 'north'), ('b', 'south'), ('c', 'north');"
  echo "$stream" | sed "s/CREATE STREAM ev /CREATE STREAM ev2 /; s/kafka('ev'/kafka('ev2'/"
} > shapes_head.sql
{
  cat shapes_head.sql
  while IFS=$'\t' read -r name q; do echo "$q INTO kafka('out_$name', format => 'json');"; done < shapes.txt
} > shapes.sql
cut -f1 shapes.txt | tr '\n' ' '; echo
# each shape's repartition topic (EXPLAIN names it) and how many rows its
# stage 1 writes there
: > shape_topics.txt
while IFS=$'\t' read -r name q; do
  t=$( (cat shapes_head.sql; echo "EXPLAIN $q INTO kafka('out_$name', format => 'json');") |
    "$sluice" --brokers "$boot" 2>&1 | grep -o 'into repartition topic rshape-[0-9a-f]*-repartition' |
    cut -d' ' -f4)
  n=$($py -c 'import json, re, sys
q = sys.argv[2]
m = re.search(r"amt > (\d+)", q)
print(sum(1 for l in open(sys.argv[1]) if not m or json.loads(l.split("|", 1)[1])["amt"] > int(m.group(1))))' input.txt "$q")
  [ -n "$t" ] && ok || bad "EXPLAIN names $name's topic"
  echo "$t $n" >> shape_topics.txt
done < shapes.txt
start shapes.sql sh1
shape_topics() { [ "$(kcat -L -b "$boot" 2> /dev/null | grep -c 'rshape-[0-9a-f]*-repartition"')" -ge 3 ]; }
wait_for 90 shape_topics && ok || { bad "the shapes' repartition topics were made"; cat sh1.err; }
sleep 6
start shapes.sql sh2
sleep 12
kcat -P -b "$boot" -t ev2 -K '|' -l input.txt
while read -r t n; do
  wait_for 120 holds "$t" "$n" || bad "$t holds its $n rows: $(count "$t")"
done < shape_topics.txt
# records 10 hours later close the windows; a partition of a repartition
# topic that no key of a shape reaches (a join's two labels) stops holding
# the watermark after idle_timeout_ms (10 s here): every input record is in
# the topics already, so nothing comes late to it
$py > late.txt <<'PY'
import json
for k in range(40):
    u = "zz%d" % k
    print("%s|%s" % (u, json.dumps({"session": u, "user": u, "ts": 36000000 + k, "amt": 1000, "region": "abc"[k % 3]})))
PY
for p in 0 1 2 3; do kcat -P -b "$boot" -t ev2 -p $p -K '|' -l late.txt; done
$py - input.txt shapes.txt > ref_shapes.txt <<'PY'
import json, re, sys, collections
recs = [json.loads(l.split("|", 1)[1]) for l in open(sys.argv[1])]
label = {"a": "north", "b": "south", "c": "north"}
for line in open(sys.argv[2]):
    name, q = line.rstrip("\n").split("\t")
    size = int(re.search(r"INTERVAL '(\d+)' SECOND", q).group(1)) * 1000
    g = collections.defaultdict(list)
    for r in recs:
        ws = r["ts"] // size * size
        if name == "multi": g[(r["user"], r["region"], ws)].append(r)
        elif name == "expr": g[(r["user"].upper(), ws)].append(r)
        elif name == "having":
            if r["amt"] > int(re.search(r"amt > (\d+)", q).group(1)): g[(r["user"], ws)].append(r)
        elif name == "join": g[(label[r["region"]], ws)].append(r)
        elif name == "alias": g[(r["user"] + "-" + r["region"], ws)].append(r)
    rows = []
    for k, rs in g.items():
        amts = [r["amt"] for r in rs]
        if name == "multi": rows.append(k + (len(rs), sum(amts)))
        elif name == "expr": rows.append(k + (sum(amts),))
        elif name == "having":
            if len(rs) > int(re.search(r"count\(\*\) > (\d+)", q).group(1)): rows.append(k + (len(rs),))
        elif name == "join": rows.append(k + (len(rs), max(amts)))
        elif name == "alias": rows.append(k + (min(amts),))
    for row in sorted(rows):
        print(name, *row)
PY
shape_rows() { # every shape's output rows, in shapes.txt's order
  for name in $(cut -f1 shapes.txt); do
    kcat -C -b "$boot" -t "out_$name" -e -q -f '%s\n' 2> /dev/null | $py -c 'import json, sys
rows = [tuple(json.loads(l).values()) for l in sys.stdin if l.strip()]
rows = [r for r in rows if not str(r[0]).lower().startswith("zz")]
for r in sorted(rows): print(sys.argv[1], *r)' "$name"
  done
}
shapes_done() { [ "$(shape_rows | wc -l)" -ge "$(wc -l < ref_shapes.txt)" ]; }
wait_for 180 shapes_done || true
check "GROUP BY shapes through repartition topics ($(cut -f1 shapes.txt | tr '\n' ' '))" \
  "$(cat ref_shapes.txt)" "$(shape_rows)"
kill -TERM $pids
for p in $pids; do wait "$p" || bad "a shapes process exited $? on SIGTERM"; done
pids=""
grep -qi late sh1.err sh2.err && bad "shapes: late records" || ok

# ---- a server: DESCRIBE names the topic, TERMINATE stops both stages ----------
cat > srv.sql <<'SQL'
SET application_id = 'rsrv'; SET repartition = 'on';
SELECT user, count(*) AS n FROM kafka('ev', format => 'json') GROUP BY user,
  TUMBLE(ts, INTERVAL '10' SECOND) INTO kafka('srvout', format => 'json');
SQL
serve_start --brokers "$boot" && ok || { bad "the server started"; cat serve.err; }
spids=$spid
pids="$pids $spid"
sub=$("$sluice" submit srv.sql --server "$url")
contains "submit: both stages" '"queries":["q1_repartition","q1"]' "$sub"
d=$("$sluice" describe q1 --server "$url")
contains "DESCRIBE q1: its topic" '["repartition_topic","rsrv-' "$d"
contains "DESCRIBE q1: its plan reads the topic" 'reads repartition topic rsrv-' "$d"
d1=$("$sluice" describe q1_repartition --server "$url")
contains "DESCRIBE q1_repartition: the topic it writes" 'repartitioned into topic rsrv-' "$d1"
"$sluice" terminate q1 --server "$url" > /dev/null
stopped() { [ "$("$sluice" queries --server "$url" | grep -o '"state":"terminated"' | wc -l)" = 2 ]; }
wait_for 60 stopped && ok || bad "TERMINATE q1 stops both stages: $("$sluice" queries --server "$url")"
pids=${pids% $spids}
serve_stop && ok || bad "the server stopped"

finish repartition
