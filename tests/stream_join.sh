#!/usr/bin/env bash
# stream_join.sh - joins of two streams without a time bound (FROM a JOIN b
# ON a.k = b.k, both unbounded), on the dev broker with kafka-python on the
# other side:
#   - no state_ttl: every pair of records with equal keys joins once, whatever
#     the order the two topics' records come in (both topics written in
#     random interleaved bursts while the query runs); compared with sqlite3's
#     join of everything produced;
#   - SET state_ttl = '1s': records of one side written, then 3 s later the
#     other side's: nothing joins (the first side's records expired while both
#     inputs were idle) and --stats shows the state empty again; records of
#     both sides written together join;
#   - two catalog streams over files (CREATE STREAM ... FROM file(...)) join
#     as streams, the same rows as sqlite3's join; --stats and a server's
#     /metrics give the join's distinct keys per side (as Python counts
#     them) and bytes per key;
#   - three topics joined (a JOIN b ON ... JOIN c ON ...: the first join's
#     rows feed the second, three tasks pushing into two joins), written in
#     random interleaved bursts while the query runs: every triple once, as
#     sqlite3's join of everything produced;
#   - the refusals: DISTINCT over a LEFT JOIN of two streams without a time
#     bound (an updating result: tests/stream_outer.sh), and a join without
#     a key equality.
set -u
here=$(cd "$(dirname "$0")" && pwd)
sluice=${SLUICE:-$here/../sluice}
py=/usr/bin/python3
work=$(mktemp -d)
"$sluice" broker --topics sa:2,sb:3,ta:1,tb:1,out:1,tout:1,sa3:2,sb3:3,sc3:2,out3:1 > "$work/boot" 2> "$work/broker.log" &
bpid=$!
pids=""
spid=""
trap 'kill $bpid $pids $spid 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 50); do [ -s "$work/boot" ] && break; sleep 0.1; done
boot=$(head -n 1 "$work/boot")
. "$here/lib.sh"
cd "$work"

# wait_for FILE PATTERN: up to 30 s
wait_for() {
  for _ in $(seq 300); do grep -q "$2" "$1" 2> /dev/null && return 0; sleep 0.1; done
  return 1
}

# ---- no TTL: every pair once -------------------------------------------------------
"$sluice" --brokers "$boot" --stats -e "SELECT a.id AS aid, b.id AS bid, a.k
  FROM kafka('sa', format => 'json') AS a JOIN kafka('sb', format => 'json') AS b ON a.k = b.k
  INTO kafka('out', format => 'json')" 2> run.err &
pid=$!
pids=$pid
sleep 4 # both consumers joined their groups
$py - "$boot" <<'PY' || bad "producer"
import json, random, sys, time
from kafka import KafkaProducer
random.seed(31)
p = KafkaProducer(bootstrap_servers=sys.argv[1], value_serializer=lambda v: json.dumps(v).encode())
a = b = 0
rows = {"a": [], "b": []}
for burst in range(20):
    for _ in range(random.randrange(1, 60)):
        r = {"id": a, "k": random.choice([None, "x"] + ["k%d" % random.randrange(40)])}
        p.send("sa", r, partition=a % 2); rows["a"].append(r); a += 1
    for _ in range(random.randrange(1, 60)):
        r = {"id": b, "k": "k%d" % random.randrange(40)}
        p.send("sb", r, partition=b % 3); rows["b"].append(r); b += 1
    p.flush()
    time.sleep(random.random() * 0.2)
json.dump(rows, open("produced.json", "w"))
PY
$py - "$boot" <<'PY' && ok || bad "no TTL: every pair of equal keys once, as sqlite3"
import collections, json, sqlite3, sys
from kafka import KafkaConsumer
rows = json.load(open("produced.json"))
db = sqlite3.connect(":memory:")
db.execute("CREATE TABLE a(id, k)")
db.execute("CREATE TABLE b(id, k)")
db.executemany("INSERT INTO a VALUES (:id, :k)", rows["a"])
db.executemany("INSERT INTO b VALUES (:id, :k)", rows["b"])
want = collections.Counter(db.execute("SELECT a.id, b.id, a.k FROM a JOIN b ON a.k = b.k"))
c = KafkaConsumer("out", bootstrap_servers=sys.argv[1], auto_offset_reset="earliest",
                  consumer_timeout_ms=8000, value_deserializer=lambda v: json.loads(v.decode()))
got = collections.Counter()
for m in c:
    got[(m.value["aid"], m.value["bid"], m.value["k"])] += 1
    if sum(got.values()) >= sum(want.values()) and got == want:
        break
print("stream join: %d joined rows, sqlite3 %d (%d + %d records)"
      % (sum(got.values()), sum(want.values()), len(rows["a"]), len(rows["b"])))
sys.exit(0 if got == want else 1)
PY
kill -TERM $pid; wait $pid && ok || { bad "the join exited $? on SIGTERM"; cat run.err; }
pids=""

# ---- three topics: (a JOIN b) JOIN c ---------------------------------------------------
"$sluice" --brokers "$boot" --stats -e "SELECT a.id AS aid, b.id AS bid, c.id AS cid, b.k, c.j
  FROM kafka('sa3', format => 'json', columns => 'id INTEGER, k TEXT') AS a
  JOIN kafka('sb3', format => 'json', columns => 'id INTEGER, k TEXT, j INTEGER') AS b ON a.k = b.k
  JOIN kafka('sc3', format => 'json') AS c ON c.j = b.j
  INTO kafka('out3', format => 'json')" 2> run3.err &
pid=$!
pids=$pid
sleep 4 # the three consumers joined their groups
$py - "$boot" <<'PY' || bad "producer (three topics)"
import json, random, sys, time
from kafka import KafkaProducer
random.seed(32)
p = KafkaProducer(bootstrap_servers=sys.argv[1], value_serializer=lambda v: json.dumps(v).encode())
n = {"a": 0, "b": 0, "c": 0}
rows = {"a": [], "b": [], "c": []}
def make(t):
    i = n[t]
    n[t] += 1
    if t == "a":
        return {"id": i, "k": random.choice([None] + ["k%d" % random.randrange(40)])}
    if t == "b":
        return {"id": i, "k": "k%d" % random.randrange(40), "j": random.choice([None] + list(range(30)))}
    return {"id": i, "j": random.randrange(30)}
for burst in range(25):
    for t in random.sample("abc", 3):
        for _ in range(random.randrange(1, 16)):
            r = make(t)
            p.send({"a": "sa3", "b": "sb3", "c": "sc3"}[t], r, partition=r["id"] % (3 if t == "b" else 2))
            rows[t].append(r)
    p.flush()
    time.sleep(random.random() * 0.2)
json.dump(rows, open("produced3.json", "w"))
PY
$py - "$boot" <<'PY' && ok || { bad "three topics: every triple once, as sqlite3"; cat run3.err; }
import collections, json, sqlite3, sys
from kafka import KafkaConsumer
rows = json.load(open("produced3.json"))
db = sqlite3.connect(":memory:")
db.execute("CREATE TABLE a(id, k)")
db.execute("CREATE TABLE b(id, k, j)")
db.execute("CREATE TABLE c(id, j)")
db.executemany("INSERT INTO a VALUES (:id, :k)", rows["a"])
db.executemany("INSERT INTO b VALUES (:id, :k, :j)", rows["b"])
db.executemany("INSERT INTO c VALUES (:id, :j)", rows["c"])
want = collections.Counter(db.execute(
    "SELECT a.id, b.id, c.id, b.k, c.j FROM a JOIN b ON a.k = b.k JOIN c ON c.j = b.j"))
c = KafkaConsumer("out3", bootstrap_servers=sys.argv[1], auto_offset_reset="earliest",
                  consumer_timeout_ms=8000, value_deserializer=lambda v: json.loads(v.decode()))
got = collections.Counter()
for m in c:
    v = m.value
    got[(v["aid"], v["bid"], v["cid"], v["k"], v["j"])] += 1
    if sum(got.values()) >= sum(want.values()) and got == want:
        break
print("three topics: %d joined rows, sqlite3 %d (%d + %d + %d records)"
      % (sum(got.values()), sum(want.values()), len(rows["a"]), len(rows["b"]), len(rows["c"])))
sys.exit(0 if got == want and want else 1)
PY
kill -TERM $pid; wait $pid && ok || { bad "the three-way join exited $? on SIGTERM"; cat run3.err; }
pids=""

# ---- state_ttl: records expire while both inputs are idle ----------------------------
"$sluice" --brokers "$boot" --stats -e "SET state_ttl = '1s';
  SELECT a.id AS aid, b.id AS bid FROM kafka('ta', format => 'json') AS a
  JOIN kafka('tb', format => 'json') AS b ON a.k = b.k INTO kafka('tout', format => 'json')" 2> ttl.err &
pid=$!
pids=$pid
sleep 4
$py - "$boot" <<'PY' || bad "producer (ttl)"
import json, sys, time
from kafka import KafkaProducer
p = KafkaProducer(bootstrap_servers=sys.argv[1], value_serializer=lambda v: json.dumps(v).encode())
for i in range(100):
    p.send("ta", {"id": i, "k": i % 10})
p.flush()
time.sleep(3)   # longer than the TTL: the a records expire
for i in range(100):
    p.send("tb", {"id": i, "k": i % 10})
p.flush()
time.sleep(0.3)
for i in range(100, 110):  # now both sides within the TTL: these join
    p.send("ta", {"id": i, "k": 3})
p.flush()
PY
$py - "$boot" <<'PY' && ok || bad "state_ttl: expired records join nothing, fresh ones join"
import collections, json, sys
from kafka import KafkaConsumer
c = KafkaConsumer("tout", bootstrap_servers=sys.argv[1], auto_offset_reset="earliest",
                  consumer_timeout_ms=6000, value_deserializer=lambda v: json.loads(v.decode()))
got = collections.Counter((m.value["aid"], m.value["bid"]) for m in c)
want = collections.Counter((a, b) for a in range(100, 110) for b in range(100) if b % 10 == 3)
print("state_ttl: %d joined rows (want %d: the late a records with the b records of key 3)"
      % (sum(got.values()), sum(want.values())))
sys.exit(0 if got == want else 1)
PY
kill -TERM $pid; wait $pid && ok || { bad "the TTL join exited $? on SIGTERM"; cat ttl.err; }
pids=""
grep -q "q1: 210 in, 100 out" ttl.err && ok || { bad "state_ttl: counts"; cat ttl.err; }

# ---- two catalog streams over files --------------------------------------------------
$py - <<'PY'
import json, random
random.seed(32)
with open("fa.jsonl", "w") as f:
    for i in range(3000):
        f.write(json.dumps({"id": i, "k": random.randrange(300)}) + "\n")
with open("fb.jsonl", "w") as f:
    for i in range(2000):
        f.write(json.dumps({"id": i, "k": random.randrange(300), "v": random.random()}) + "\n")
PY
"$sluice" --stats -e "CREATE STREAM fa (id INTEGER, k INTEGER) FROM file('fa.jsonl', format => 'json');
  CREATE STREAM fb (id INTEGER, k INTEGER, v REAL) FROM file('fb.jsonl', format => 'json');
  EXPLAIN SELECT fa.id, fb.id AS bid, fb.v FROM fa JOIN fb ON fa.k = fb.k;
  SELECT fa.id, fb.id AS bid, fb.v FROM fa JOIN fb ON fa.k = fb.k INTO file('fj.jsonl', format => 'json')" \
  > fexplain.txt 2> f.err && ok || { bad "catalog streams join"; cat f.err; }
grep -q "stream join: 1 key, no time bound, records kept forever" fexplain.txt && ok ||
  { bad "EXPLAIN of a stream join"; cat fexplain.txt; }
$py - <<'PY' && ok || bad "catalog streams: the join as sqlite3's"
import collections, json, sqlite3
db = sqlite3.connect(":memory:")
db.execute("CREATE TABLE fa(id, k)")
db.execute("CREATE TABLE fb(id, k, v)")
db.executemany("INSERT INTO fa VALUES (:id, :k)", map(json.loads, open("fa.jsonl")))
db.executemany("INSERT INTO fb VALUES (:id, :k, :v)", map(json.loads, open("fb.jsonl")))
want = collections.Counter(db.execute("SELECT fa.id, fb.id, fb.v FROM fa JOIN fb ON fa.k = fb.k"))
got = collections.Counter((r["id"], r["bid"], r["v"]) for r in map(json.loads, open("fj.jsonl")))
print("catalog streams: %d joined rows, sqlite3 %d" % (sum(got.values()), sum(want.values())))
assert got == want
PY

# --stats: the join's distinct keys per side, and bytes per key (the
# sides' bytes add up to the query's state)
$py - f.err <<'PY' && ok || { bad "--stats: join keys"; cat f.err; }
import json, re, sys
line = open(sys.argv[1]).read()
m = re.search(r"state: at most (\d+) groups or kept records, (\d+) bytes.*; join keys: left (\d+) keys "
              r"\((\d+) bytes each\), right (\d+) keys \((\d+) bytes each\)", line)
assert m, line
recs, total, kl, bl, kr, br = map(int, m.groups())
ka = len({json.loads(l)["k"] for l in open("fa.jsonl")})
kb = len({json.loads(l)["k"] for l in open("fb.jsonl")})
assert (kl, kr) == (ka, kb), ((kl, kr), (ka, kb))
assert recs == 5000 and 0 <= total - (kl * bl + kr * br) < kl + kr, (total, kl * bl + kr * br)
print("--stats: join keys %d (%d bytes each) and %d (%d bytes each)" % (kl, bl, kr, br))
PY
# /metrics of a server running the join: keys and bytes per key per side
serve_start --data-dir . && ok || bad "serve start"
curl -s -H 'Content-Type: application/sql' -X POST --data-binary "CREATE STREAM fa (id INTEGER, k INTEGER) FROM file('fa.jsonl', format => 'json');
  CREATE STREAM fb (id INTEGER, k INTEGER, v REAL) FROM file('fb.jsonl', format => 'json');
  SELECT fa.id, fb.id AS bid FROM fa JOIN fb ON fa.k = fb.k INTO file('fj2.jsonl', format => 'json');" \
  "$url/statements" > sub.txt
for _ in $(seq 200); do curl -s "$url/queries" | grep -q '"finished"' && break; sleep 0.05; done
curl -s "$url/metrics" > metrics.txt
serve_stop
$py - metrics.txt f.err <<'PY' && ok || bad "/metrics: join keys $(grep join metrics.txt) $(cat sub.txt)"
import re, sys
m = {}
for l in open(sys.argv[1]):
    x = re.match(r'(sluice_query_join_key\w*)\{query="q1",side="(\w+)"\} (\d+)', l)
    if x:
        m[(x.group(1), x.group(2))] = int(x.group(3))
s = re.search(r"left (\d+) keys \((\d+) bytes each\), right (\d+) keys \((\d+) bytes each\)",
              open(sys.argv[2]).read())
want = dict(zip([("sluice_query_join_keys", "left"), ("sluice_query_join_key_bytes", "left"),
                 ("sluice_query_join_keys", "right")], map(int, s.groups()[:3])))
assert all(m[k] == v for k, v in want.items()), (m, want)
assert 0 < m[("sluice_query_join_key_bytes", "right")] < m[("sluice_query_join_key_bytes", "left")], m
PY

# ---- refusals ------------------------------------------------------------------------
out=$("$sluice" --brokers "$boot" -e "SELECT DISTINCT b.k FROM kafka('sa', format => 'json') AS a
  LEFT JOIN kafka('sb', format => 'json') AS b ON a.k = b.k" 2>&1)
contains "DISTINCT over a LEFT JOIN of two streams" \
  "an outer join of two streams without a time bound is updating" "$out"
out=$("$sluice" --brokers "$boot" -e "SELECT a.id FROM kafka('sa', format => 'json') AS a
  JOIN kafka('sb', format => 'json') AS b ON a.k < b.k" 2>&1)
contains "no key equality" "a join of two streams needs a key equality" "$out"
finish stream_join
