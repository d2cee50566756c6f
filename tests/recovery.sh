#!/usr/bin/env bash
# recovery.sh - checkpoints and crash recovery on files: each pipeline runs
# with --state-dir and is killed with SIGKILL at random moments, ROUNDS times,
# then run to its end; its output must equal a failure-free run's:
#   - stateless (S1-like projection): every input once, in order (files are
#     cut back to their checkpointed length, so replay writes exactly once);
#   - event-time tumbling windows (count, sum, max, DISTINCT, top_k): every
#     window's result equal, and the file byte for byte;
#   - running per-key totals (EMIT CHANGES): the last value per key equal;
#   - online learning (train()): the model versions equal;
#   - a LEFT interval join of two files (two tasks checkpointing together):
#     every joined row once (and every impression without a click once, with
#     NULLs), equal to sqlite3's LEFT JOIN of the same records.
# Then the faults: a changed query (clear error; --reset-state discards), a
# corrupt state database (clear error; --reset-state recovers), an output
# cut shorter than its checkpoint, a state database deleted, emptied or
# without its write-ahead log, a damaged store record (each a clear error,
# never a fresh start), a full disk (checkpoints fail, the query goes on and
# reports it).
set -u
here=$(cd "$(dirname "$0")" && pwd)
sluice=${SLUICE:-$here/../sluice}
py=/usr/bin/python3
ROUNDS=${RECOVERY_ROUNDS:-5}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
. "$here/lib.sh"

$py - <<'PY'
import json, random
random.seed(5)
with open("in.jsonl", "w") as f:
    for i in range(600000):
        f.write(json.dumps({"id": i, "g": [i % 2, (i // 2) % 2, i % 3 == 0]}) + "\n")
t = 0
with open("ev.jsonl", "w") as f:
    for i in range(600000):
        t += random.randrange(3)
        f.write(json.dumps({"user": "u%d" % random.randrange(40), "v": random.randrange(100),
                            "ts": t + random.randrange(-300, 1)}) + "\n")
t = 1700000000000
with open("imp.jsonl", "w") as f:
    for i in range(300000):
        t += random.randrange(0, 40)
        f.write(json.dumps({"ad": random.randrange(500), "ts": t, "imp": i}) + "\n")
t = 1700000000000
with open("clk.jsonl", "w") as f:
    for i in range(120000):
        t += random.randrange(0, 100)
        f.write(json.dumps({"ad": random.randrange(500), "ts": t, "clk": i}) + "\n")
with open("pts.tsv", "w") as f:
    w = [random.gauss(0, 1) for _ in range(5)]
    for i in range(150000):
        x = [round(random.gauss(0, 1), 6) for _ in range(5)]
        f.write("%d\t%r\t%s\n" % (i, sum(a * b for a, b in zip(w, x)), ",".join(map(repr, x))))
PY

# one task: the failure-free reference (no state directory) would otherwise
# run as parallel tasks, whose rows meet the file in no fixed order, and the
# runs are compared byte for byte
cat > s1.sql <<'EOF'
SET checkpoint_interval = '100ms';
SET parallelism = 1;
SELECT id, g ->> 0 + 2 * (g ->> 1) AS code, iif(g ->> 2, 'third', 'other') AS kind
FROM file('in.jsonl') INTO file('s1-out.json');
EOF
cat > agg.sql <<'EOF'
SET checkpoint_interval = '100ms';
CREATE STREAM ev (user TEXT, v INTEGER, ts INTEGER) FROM file('ev.jsonl')
  WATERMARK ts - INTERVAL '1' SECOND;
SELECT user, window_start, count(*) AS n, sum(v) AS s, max(v) AS mx,
       count(DISTINCT v % 7) AS d, top_k(v % 3, 2) AS tk
FROM ev GROUP BY user, TUMBLE(ts, INTERVAL '10' SECOND) INTO file('win-out.json');
SELECT user, count(*) AS n, sum(v) AS total FROM ev GROUP BY user EMIT CHANGES
INTO file('run-out.json');
EOF
cat > train.sql <<'EOF'
SET checkpoint_interval = '100ms';
CREATE MODEL m TYPE linear_sgd WITH (step => 0.05, iterations => 3, features => 5);
CREATE STREAM pts (ts INTEGER, label REAL, f TEXT)
  FROM file('pts.tsv', format => 'csv', delimiter => char(9));
SELECT window_end, train(m, label, f) AS v FROM pts GROUP BY TUMBLE(ts, INTERVAL '1' SECOND)
INTO file('train-out.json');
EOF

cat > ijoin.sql <<'EOF'
SET checkpoint_interval = '100ms';
SELECT i.imp, c.clk, c.ts - i.ts AS delay
FROM file('imp.jsonl', format => 'json') AS i
LEFT JOIN file('clk.jsonl', format => 'json') AS c
  ON i.ad = c.ad AND c.ts BETWEEN i.ts AND i.ts + INTERVAL '5' SECOND
INTO file('ij-out.json');
EOF

# crash NAME: failure-free reference (NAME.ref/), then ROUNDS kills, then the end
crash() {
  name=$1
  mkdir -p ref && (cd ref && ln -sf ../in.jsonl ../ev.jsonl ../pts.tsv ../imp.jsonl ../clk.jsonl . &&
    "$sluice" run "../$name.sql") ||
    bad "$name: reference run"
  rm -rf "st-$name"
  kills=0
  # each round is killed after a random 10-30% of the failure-free run's time
  t0=$(date +%s%N)
  (cd ref && "$sluice" run "../$name.sql")
  total=$((($(date +%s%N) - t0) / 1000000))
  for r in $(seq "$ROUNDS"); do
    ms=$((total / 10 + RANDOM % (total / 5 + 1)))
    "$sluice" --state-dir "st-$name" run "$name.sql" 2> "$name.err$r" &
    pid=$!
    sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
    kill -KILL $pid 2>/dev/null && kills=$((kills + 1))
    wait $pid 2>/dev/null
  done
  "$sluice" --stats --state-dir "st-$name" run "$name.sql" 2> "$name.final" && ok ||
    { bad "$name: final run"; cat "$name.final"; }
  echo "$name: $kills of $ROUNDS runs killed with SIGKILL; $(grep -h 'checkpoints of' "$name.final")"
}

crash s1
$py - <<'PY' && ok || bad "s1: every input exactly once"
import json
ids = [json.loads(l)["id"] for l in open("s1-out.json")]
ref = [json.loads(l)["id"] for l in open("ref/s1-out.json")]
dups = len(ids) - len(set(ids))
missing = len(set(ref) - set(ids))
print("s1: %d outputs for %d inputs: %d missing, %d duplicates, malformed: %s"
      % (len(ids), len(ref), missing, dups, "none" if open("s1-out.json").read() == open("ref/s1-out.json").read() else "DIFFERENT"))
assert open("s1-out.json").read() == open("ref/s1-out.json").read()
PY

crash agg
cmp -s win-out.json ref/win-out.json && ok || bad "agg: window results differ from the failure-free run"
$py - <<'PY' && ok || bad "agg: last running total per key"
import json
def last(p):
    d = {}
    for l in open(p):
        r = json.loads(l)
        d[r["user"]] = (r["n"], r["total"])
    return d
a, b = last("run-out.json"), last("ref/run-out.json")
print("agg: %d windows equal the failure-free run's; %d keys' last totals %s"
      % (sum(1 for _ in open("win-out.json")), len(b), "equal" if a == b else "DIFFER"))
assert a == b
PY

crash train
cmp -s train-out.json ref/train-out.json && ok || bad "train: model versions differ from the failure-free run"
echo "train: $(wc -l < train-out.json) model versions equal the failure-free run's"

crash ijoin
$py - <<'PY' && ok || bad "ijoin: every joined row once"
import collections, json, sqlite3
db = sqlite3.connect(":memory:")
db.execute("CREATE TABLE i(ad, ts, imp)")
db.execute("CREATE TABLE c(ad, ts, clk)")
db.executemany("INSERT INTO i VALUES (:ad, :ts, :imp)", map(json.loads, open("imp.jsonl")))
db.executemany("INSERT INTO c VALUES (:ad, :ts, :clk)", map(json.loads, open("clk.jsonl")))
want = collections.Counter(db.execute(
    "SELECT i.imp, c.clk, c.ts - i.ts FROM i LEFT JOIN c ON i.ad = c.ad AND c.ts BETWEEN i.ts AND i.ts + 5000"))
got = collections.Counter((r["imp"], r["clk"], r["delay"]) for r in map(json.loads, open("ij-out.json")))
dups = sum(c - 1 for c in got.values() if c > 1)
print("ijoin (LEFT): %d joined rows (%d without a click), sqlite3 %d: %d missing, %d duplicates, %d not in sqlite3's"
      % (sum(got.values()), sum(c for k, c in got.items() if k[1] is None), sum(want.values()),
         sum((want - got).values()), dups,
         sum((got - want).values())))
assert got == want
PY

# a changed query is refused; --reset-state starts afresh
sed 's/count(DISTINCT v % 7) AS d/count(DISTINCT v % 5) AS d/' agg.sql > agg2.sql
"$sluice" --state-dir st-agg run agg2.sql 2> changed.err && bad "a changed query ran on old state" ||
  { grep -q "written by a different query" changed.err && ok || { bad "changed query message"; cat changed.err; }; }
"$sluice" --state-dir st-agg --reset-state run agg2.sql 2> reset.err && ok ||
  { bad "--reset-state"; cat reset.err; }

# a corrupt state database: a clear error, and --reset-state recovers
head -c 4096 /dev/urandom > st-s1/sluice-state.db
rm -f st-s1/sluice-state.db-wal st-s1/sluice-state.db-shm
"$sluice" --state-dir st-s1 run s1.sql 2> corrupt.err && bad "ran on a corrupt state database" ||
  { grep -q "corrupt" corrupt.err && grep -q -- "--reset-state" corrupt.err && ok ||
    { bad "corrupt database message"; cat corrupt.err; }; }
"$sluice" --state-dir st-s1 --reset-state run s1.sql 2> corrupt2.err && cmp -s s1-out.json ref/s1-out.json && ok ||
  { bad "--reset-state after corruption"; cat corrupt2.err; }

# What a checkpoint covers must still be there at a restart.  An output cut
# shorter than its checkpointed length (a power cut before the data reached
# the disk) is an error, not filled up with NUL bytes; a state database
# deleted, emptied, or without the write-ahead log that held its last
# checkpoints, and a damaged store record, are errors, not a fresh start;
# --reset-state recovers from each.
refuses() { # refuses NAME NEEDLE: the run just made failed, saying NEEDLE and --reset-state
  if [ "$rc" = 0 ]; then bad "$1: ran"; return; fi
  grep -q -- "$2" "$1.err" && grep -q -- "--reset-state" "$1.err" && ok || { bad "$1 message"; cat "$1.err"; }
}
half=$(($(stat -c %s ref/s1-out.json) / 2))
truncate -s "$half" s1-out.json
"$sluice" --state-dir st-s1 run s1.sql 2> cut.err; rc=$?
refuses cut "is $half bytes, shorter than the $(stat -c %s ref/s1-out.json) its last checkpoint covers"
[ "$(stat -c %s s1-out.json)" = "$half" ] && ok || bad "the cut output was changed: $(stat -c %s s1-out.json) bytes"
"$sluice" --state-dir st-s1 --reset-state run s1.sql 2> cut2.err && cmp -s s1-out.json ref/s1-out.json && ok ||
  { bad "--reset-state after a cut output"; cat cut2.err; }
: > st-s1/sluice-state.db
"$sluice" --state-dir st-s1 run s1.sql 2> empty.err; rc=$?
refuses empty "sluice-state.db is empty, but st-s1/sluice-state.id says [0-9]* checkpoints were committed"
rm st-s1/sluice-state.db
"$sluice" --state-dir st-s1 run s1.sql 2> missing.err; rc=$?
refuses missing "sluice-state.db is missing"
"$sluice" --state-dir st-s1 --reset-state run s1.sql 2> missing2.err && cmp -s s1-out.json ref/s1-out.json && ok ||
  { bad "--reset-state after a missing database"; cat missing2.err; }
echo "sluice-state 0123" > st-s1/sluice-state.id
"$sluice" --state-dir st-s1 run s1.sql 2> record.err; rc=$?
refuses record "sluice-state.id is damaged"
rm st-s1/sluice-state.id # without the record, the database is trusted as it is
"$sluice" --state-dir st-s1 run s1.sql 2> record2.err && [ -s st-s1/sluice-state.id ] && ok ||
  { bad "a database without its record"; cat record2.err; }
cmp -s s1-out.json ref/s1-out.json && ok || bad "resumed without its record: output differs"
# the write-ahead log: a first query runs to its end (its checkpoints reach
# the database file when it closes); then a second one in the same directory
# is killed while its checkpoints are only in the WAL, which is then lost
printf '{"id": 1}\n' > one.jsonl
echo "SELECT id FROM file('one.jsonl') INTO file('one-out.json');" > wal1.sql
cat wal1.sql s1.sql > wal2.sql
generation() { cut -d' ' -f3 "$1/sluice-state.id" 2>/dev/null || echo 0; }
for how in deleted overwritten; do
  rm -rf "st-$how"
  "$sluice" --state-dir "st-$how" run wal1.sql 2> "$how.err1" || { bad "wal1 ($how)"; cat "$how.err1"; }
  g0=$(generation "st-$how")
  "$sluice" --state-dir "st-$how" run wal2.sql 2> "$how.err2" &
  pid=$!
  for _ in $(seq 400); do [ "$(generation "st-$how")" -ge $((g0 + 3)) ] && break; sleep 0.05; done
  if kill -KILL $pid 2>/dev/null; then
    wait $pid 2>/dev/null
    if [ $how = deleted ]; then rm "st-$how/sluice-state.db-wal"; else
      head -c "$(stat -c %s "st-$how/sluice-state.db-wal")" /dev/urandom > "st-$how/sluice-state.db-wal"; fi
    rm -f "st-$how/sluice-state.db-shm"
    "$sluice" --state-dir "st-$how" run wal2.sql 2> "$how.err"; rc=$?
    refuses "$how" "write-ahead log st-$how/sluice-state.db-wal deleted or damaged"
  else
    bad "WAL $how: the run ended before it could be killed"; cat "$how.err2"
  fi
done

# a full disk: a file size limit (ulimit -f, SIGXFSZ ignored: writes past
# it fail with EFBIG) stops the state database growing, while the output goes
# to a pipe; checkpoints fail, the query runs to its end and says so
rm -rf st-full
sed "s/INTO file('s1-out.json')/INTO stdout/; s/'100ms'/'10ms'/" s1.sql > full.sql
( trap '' XFSZ; ulimit -f 256; exec "$sluice" --stats --state-dir st-full run full.sql ) 2> full.err |
  cat > full-out.json
cmp -s full-out.json ref/s1-out.json && ok || { bad "full disk: the query must go on"; cat full.err; }
grep -q "checkpoint failed" full.err && ok || { bad "full disk: checkpoint failures reported"; cat full.err; }
echo "full disk: $(grep -h 'checkpoints of' full.err); first failure: $(grep -m1 'checkpoint failed' full.err | cut -c1-160)"
finish recovery
