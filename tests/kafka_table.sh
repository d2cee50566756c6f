#!/usr/bin/env bash
# kafka_table.sh - a GROUP BY changelog written to Kafka as upserts and a
# topic read back as a table (kafka(..., as_table => true)), on the dev
# broker, with ordinary clients on the other side:
#   - a running GROUP BY (EMIT CHANGES) over 20,000 random events into a
#     topic keyed by the group (key => 'user'); kcat reads the topic back and
#     compaction is applied in Python (each key's last value): exactly one
#     live row per key, equal to sqlite3's GROUP BY over the same events;
#   - kafka-python then writes tombstones (no value) for some keys, new values
#     for others, and messages without a key; sluice reads the topic with
#     as_table => true: each key's last non-tombstone value, the keyless
#     messages left out (one logged), the same table Python computes;
#   - the table as the side of a stream-table join (file events enriched
#     from the topic), against sqlite3's join of the same rows.
set -u
here=$(cd "$(dirname "$0")" && pwd)
sluice=${SLUICE:-$here/../sluice}
py=/usr/bin/python3
work=$(mktemp -d)
"$sluice" broker --topics totals:3,users:2 > "$work/boot" 2> "$work/broker.log" &
bpid=$!
trap 'kill $bpid 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 50); do [ -s "$work/boot" ] && break; sleep 0.1; done
boot=$(head -n 1 "$work/boot")
. "$here/lib.sh"
cd "$work"

$py - <<'PY'
import json, random
random.seed(21)
with open("ev.jsonl", "w") as f:
    for i in range(20000):
        f.write(json.dumps({"user": "u%d" % random.randrange(300), "amount": random.randrange(1, 100)}) + "\n")
PY

# ---- a GROUP BY changelog as upserts, read back with kcat -----------------------
"$sluice" -e "SELECT user, count(*) AS n, sum(amount) AS total
  FROM file('ev.jsonl', format => 'json') GROUP BY user EMIT CHANGES
  INTO kafka('totals', brokers => '$boot', format => 'json', key => 'user')" 2> g.err &&
  ok || { bad "the GROUP BY into kafka"; cat g.err; }
kcat -b "$boot" -C -t totals -e -q -f '%p\t%k\t%s\n' > totals.tsv 2> kcat.err ||
  { bad "kcat"; cat kcat.err; }
$py - <<'PY' && ok || bad "one live row per key after compaction, equal to sqlite3's GROUP BY"
import json, sqlite3
live = {}
n = 0
for line in open("totals.tsv"):
    p, k, v = line.rstrip("\n").split("\t", 2)
    n += 1
    r = json.loads(v)
    assert r["user"] == k, (k, r)
    live[k] = (r["n"], r["total"])
db = sqlite3.connect(":memory:")
db.execute("CREATE TABLE ev(user, amount)")
db.executemany("INSERT INTO ev VALUES (:user, :amount)", map(json.loads, open("ev.jsonl")))
want = {u: (c, s) for u, c, s in db.execute("SELECT user, count(*), sum(amount) FROM ev GROUP BY user")}
print("changelog: %d messages, %d live keys after compaction, sqlite3 %d groups, %s"
      % (n, len(live), len(want), "equal" if live == want else "DIFFERENT"))
assert n > len(live) and live == want
PY

# ---- tombstones, new values, keyless messages; read back as a table ---------------
# (each key to the partition it is in: kafka-python's partitioner is not
# librdkafka's, and a table's key lives in one partition)
$py - "$boot" <<'PY' || bad "producer"
import json, sys
from kafka import KafkaProducer
part = {}
for line in open("totals.tsv"):
    pa, k, _ = line.split("\t", 2)
    part[k] = int(pa)
p = KafkaProducer(bootstrap_servers=sys.argv[1])
def send(i, value):
    p.send("totals", key=b"u%d" % i, value=value, partition=part["u%d" % i])
for i in range(0, 300, 7):   # tombstones: these users are deleted
    send(i, None)
for i in range(1, 300, 11):  # new values (some of deleted keys come back)
    send(i, json.dumps({"user": "u%d" % i, "n": -i, "total": 0}).encode())
send(14, json.dumps({"user": "u14", "n": 14, "total": 1}).encode())
for i in range(3):           # no key: not a table row
    p.send("totals", value=json.dumps({"user": "nokey", "n": 0, "total": 0}).encode())
p.flush()
PY
kcat -b "$boot" -C -t totals -e -q -Z -f '%p\t%k\t%s\n' > all.tsv 2> kcat.err || { bad "kcat"; cat kcat.err; }
"$sluice" --stats -e "SELECT user, n, total FROM kafka('totals', brokers => '$boot', format => 'json',
  as_table => true)" --format json > table.jsonl 2> t.err && ok || { bad "as_table read"; cat t.err; }
grep -q "a message without a key, left out of the table" t.err && ok || { bad "the keyless message is logged"; cat t.err; }
$py - <<'PY' && ok || bad "as_table: each key's last non-tombstone value"
import json
live = {}
for line in open("all.tsv"):    # in partition order: each key is in one
    _, k, v = line.rstrip("\n").split("\t", 2)
    if k == "NULL":   # kcat -Z: no key
        continue
    if v == "NULL":   # a tombstone
        live.pop(k, None)
    else:
        live[k] = json.loads(v)
got = {}
for line in open("table.jsonl"):
    r = json.loads(line)
    assert r["user"] not in got, "a key twice: " + r["user"]
    got[r["user"]] = r
print("as_table: %d rows, compaction in Python %d, %s" % (len(got), len(live), "equal" if got == live else "DIFFERENT"))
assert got == live and "u0" not in got and "u14" in got
PY

# ---- the table as a join's side ----------------------------------------------------
"$sluice" -e "SELECT e.user, e.amount, t.n FROM file('ev.jsonl', format => 'json') AS e
  JOIN kafka('totals', brokers => '$boot', format => 'json', as_table => true,
             columns => 'user TEXT, n INTEGER, total INTEGER') AS t ON t.user = e.user
  INTO file('joined.jsonl', format => 'json')" 2> j.err && ok || { bad "join with a table topic"; cat j.err; }
$py - <<'PY' && ok || bad "join with the table against sqlite3"
import collections, json, sqlite3
db = sqlite3.connect(":memory:")
db.execute("CREATE TABLE ev(user, amount)")
db.execute("CREATE TABLE t(user, n, total)")
db.executemany("INSERT INTO ev VALUES (:user, :amount)", map(json.loads, open("ev.jsonl")))
db.executemany("INSERT INTO t VALUES (:user, :n, :total)", map(json.loads, open("table.jsonl")))
want = collections.Counter(db.execute("SELECT ev.user, ev.amount, t.n FROM ev JOIN t ON t.user = ev.user"))
got = collections.Counter((r["user"], r["amount"], r["n"]) for r in map(json.loads, open("joined.jsonl")))
print("join: %d rows, sqlite3 %d" % (sum(got.values()), sum(want.values())))
assert got == want
PY
finish kafka_table
