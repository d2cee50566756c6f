#!/usr/bin/env bash
# stream_outer.sh - outer joins of two streams without a time bound (LEFT,
# RIGHT, FULL on the key alone), whose results are updating: a record that
# meets nothing comes at once with NULLs, and that row is taken back (-D)
# when its first match comes.  tests/ijoin_test drives the join operator
# with random records, batches and interleavings (and, for half the runs,
# saves its state, starts a new operator from it and goes on); Python applies
# the changelog it printed and compares, after every batch, the rows it holds
# with the outer join of the records pushed so far (computed here from the
# records alone), and checks that nothing is taken back that was not given.
# Then the planner: EXPLAIN of a LEFT JOIN of two catalog streams says it
# is updating; DISTINCT, windows and aggregates without an inverse over it
# are refused; GROUP BY over LEFT and FULL joins of random streams against
# SQLite, their changelogs folded.
set -u
here=$(cd "$(dirname "$0")" && pwd)
sluice=${SLUICE:-$here/../sluice}
ijoin_test=${IJOIN_TEST:-${top_builddir:-$PWD}/tests/ijoin_test}
py=/usr/bin/python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
. "$here/lib.sh"
cd "$work"

cat > check.py <<'PY'
import collections, json, sys
kind = sys.argv[1]
left, right = kind in ("left", "full"), kind in ("right", "full")
seen = {"a": [], "b": []}
state = collections.Counter()
def outer_join():
    want = collections.Counter()
    met = {"a": set(), "b": set()}
    for ai, ak in seen["a"]:
        for bi, bk in seen["b"]:
            if ak is not None and ak == bk:
                want[(ai, ak, bi, bk)] += 1
                met["a"].add(ai)
                met["b"].add(bi)
    if left:
        want.update((ai, ak, None, None) for ai, ak in seen["a"] if ai not in met["a"])
    if right:
        want.update((None, None, bi, bk) for bi, bk in seen["b"] if bi not in met["b"])
    return want
def check(where):
    want = outer_join()
    if state != want:
        extra = state - want
        missing = want - state
        sys.exit("%s: after %d + %d records: %d rows too many %s, %d missing %s" % (
            where, len(seen["a"]), len(seen["b"]), sum(extra.values()), list(extra)[:3],
            sum(missing.values()), list(missing)[:3]))
batches = deletes = ckpts = 0
for line in open(sys.argv[2]):
    x = json.loads(line)
    if "side" in x:
        if batches: check("batch %d" % batches)
        batches += 1
        seen[x["side"]].extend(tuple(r) for r in x["rows"])
    elif "op" in x:
        r = tuple(x["row"])
        if x["op"] == "+I":
            state[r] += 1
        elif x["op"] == "-D":
            if state[r] <= 0:
                sys.exit("batch %d: -D of a row not given: %s" % (batches, r))
            if not (r[0] is None or r[2] is None):
                sys.exit("batch %d: -D of a joined row: %s" % (batches, r))
            state[r] -= 1
            state += collections.Counter()  # drop zero counts
            deletes += 1
        else:
            sys.exit("unknown row kind %s" % x["op"])
    elif "ckpt" in x:
        ckpts += 1
        if not x["same_bytes"]:
            sys.exit("batch %d: the state loaded from a checkpoint accounts other bytes" % batches)
check("the end")
print("%s: %d batches, %d rows, %d taken back, %d checkpoints" % (
    kind, batches, sum(state.values()), deletes, ckpts))
PY

runs=0
fails=0
dels=0
for seed in $(seq 1 60); do
  for kind in inner left right full; do
    ck=""
    [ $((seed % 2)) -eq 0 ] && ck=--checkpoint
    "$ijoin_test" "$seed" "$kind" $ck > "out-$seed-$kind.jsonl" 2> err.txt ||
      { bad "ijoin_test $seed $kind $ck exited $?: $(cat err.txt)"; fails=$((fails + 1)); continue; }
    if $py check.py "$kind" "out-$seed-$kind.jsonl" > res.txt 2>&1; then
      runs=$((runs + 1))
      d=$(grep -o "[0-9]* taken back" res.txt | cut -d' ' -f1)
      dels=$((dels + d))
    else
      bad "seed $seed $kind $ck: $(cat res.txt)"
      fails=$((fails + 1))
    fi
  done
done
echo "$runs runs as the outer joins of the records so far, $dels NULL-padded rows taken back"
[ "$fails" -eq 0 ] && [ "$dels" -gt 0 ] && ok || bad "updating outer joins ($fails failed runs)"
grep -q '"op": "-D"' out-1-inner.jsonl && bad "an inner join took a row back" || ok

# ---- the planner ---------------------------------------------------------------------
printf '{"k": 1, "id": 0}\n{"k": 2, "id": 1}\n' > a.jsonl
printf '{"k": 1, "bid": 0}\n' > b.jsonl
decl="CREATE STREAM a (k INTEGER, id INTEGER) FROM file('a.jsonl', format => 'json');
  CREATE STREAM b (k INTEGER, bid INTEGER) FROM file('b.jsonl', format => 'json');"
out=$("$sluice" -e "$decl EXPLAIN SELECT a.id, b.bid FROM a LEFT JOIN b ON a.k = b.k" 2>&1)
contains "EXPLAIN of a LEFT JOIN of two streams" \
  "left stream join: 1 key, no time bound, records kept forever (no state_ttl); joined row = 2 left columns, then 2 right; updating" "$out"
out=$("$sluice" -e "$decl SELECT DISTINCT b.bid FROM a FULL JOIN b ON a.k = b.k" 2>&1)
contains "DISTINCT over it is refused" \
  "an outer join of two streams without a time bound is updating" "$out"
out=$("$sluice" -e "$decl SELECT count(*) FROM a LEFT JOIN b ON a.k = b.k GROUP BY TUMBLE(a.id, 10)" 2>&1)
contains "a window over it is refused" \
  "a window (TUMBLE, HOP, SESSION) cannot read an updating input" "$out"
out=$("$sluice" -e "$decl SELECT a.k, group_concat(b.bid) FROM a LEFT JOIN b ON a.k = b.k GROUP BY a.k" 2>&1)
contains "an aggregate without an inverse over it is refused" \
  "group_concat() cannot take a row back" "$out"

# ---- GROUP BY over an outer join of two streams ------------------------------------------
# random streams (NULL keys, keys on one side only), LEFT and FULL joins
# grouped with count, sum, min, max at random batch sizes (EMIT CHANGES):
# the changelog (+I, -U/+U, -D) applied row by row must take back only rows
# it gave and end as SQLite's result over the same records.
"$py" - <<'PY'
import json, random
rng = random.Random(5)
with open("ga.jsonl", "w") as f:
    for i in range(700):
        f.write(json.dumps({"k": rng.choice([None] + list(range(60))), "x": rng.randint(-50, 50)}) + "\n")
with open("gb.jsonl", "w") as f:
    for i in range(500):
        f.write(json.dumps({"k": rng.choice([None] + list(range(30, 90))), "y": rng.choice([None] + list(range(-20, 80)))}) + "\n")
PY
cat > fold.py <<'PY'
import collections, json, sqlite3, sys
# argv: the changelog, the SQL over tables a(k, x) and b(k, y)
state = collections.Counter()
for line in open(sys.argv[1]):
    x = json.loads(line)
    op = x.pop("op")
    r = json.dumps(list(x.values()))
    if op in ("+I", "+U"):
        state[r] += 1
    elif op in ("-U", "-D"):
        if state[r] <= 0:
            sys.exit("%s of a row not given: %s" % (op, r))
        state[r] -= 1
        state += collections.Counter()
    else:
        sys.exit("unknown row kind %s" % op)
db = sqlite3.connect(":memory:")
db.execute("CREATE TABLE a (k INTEGER, x INTEGER)")
db.execute("CREATE TABLE b (k INTEGER, y INTEGER)")
for t, c in (("a", "x"), ("b", "y")):
    for line in open("g%s.jsonl" % t):
        r = json.loads(line)
        db.execute("INSERT INTO %s VALUES (?, ?)" % t, (r["k"], r[c]))
want = collections.Counter(json.dumps(list(r)) for r in db.execute(sys.argv[2]))
if state != want:
    sys.exit("%d rows too many %s, %d missing %s" % (sum((state - want).values()), list(state - want)[:3],
                                                      sum((want - state).values()), list(want - state)[:3]))
print(len(want))
PY
gdecl="CREATE STREAM a (k INTEGER, x INTEGER) FROM file('ga.jsonl', format => 'json');
  CREATE STREAM b (k INTEGER, y INTEGER) FROM file('gb.jsonl', format => 'json');"
gq1="SELECT a.k AS k, count(*) AS n, count(b.y) AS ny, sum(b.y) AS s, min(b.y) AS mn, max(b.y) AS mx
  FROM a LEFT JOIN b ON a.k = b.k GROUP BY a.k"
gq2="SELECT b.k AS k, count(*) AS n, count(a.x) AS nx, sum(a.x) AS s, min(a.x) AS mn, max(a.x) AS mx,
  sum(b.y) AS sy FROM a FULL JOIN b ON a.k = b.k GROUP BY b.k"
gq3="SELECT count(*) AS n, sum(a.x) AS sx, min(b.y) AS mn, max(a.x) AS mx FROM a FULL JOIN b ON a.k = b.k"
# a NULL-padded row's group is gone when its match comes: -D
gq4="SELECT coalesce(b.y, -1000 - a.k) AS g, count(*) AS n, sum(a.x) AS s, max(a.x) AS mx
  FROM a LEFT JOIN b ON a.k = b.k GROUP BY coalesce(b.y, -1000 - a.k)"
# the join itself: its -D reach the sink
gq5="SELECT a.k AS k, a.x AS x, b.k AS bk, b.y AS y FROM a FULL JOIN b ON a.k = b.k"
for q in "$gq1" "$gq2" "$gq3" "$gq4" "$gq5"; do
  emit="EMIT CHANGES"
  [ "$q" = "$gq5" ] && emit=
  for b in 1 13 1024; do
    rm -f ch.jsonl
    # EMIT CHANGES: the files end, and would give only the final rows
    "$sluice" -e "SET batch_size = $b; $gdecl $q $emit
      INTO file('ch.jsonl', format => 'json', changelog => 'op')" 2> err.txt
    check "aggregate over an outer join, batch $b: no error" "" "$(cat err.txt)"
    cat ch.jsonl >> all.jsonl
    if res=$("$py" fold.py ch.jsonl "$q" 2>&1); then
      ok
    else
      bad "aggregate over an outer join, batch $b: ${q%%FROM*}: $res"
    fi
  done
done
for op in +I -U +U -D; do
  grep -q "\"op\":\"$op\"" all.jsonl && ok || bad "the aggregates' changelogs have no $op"
done
finish stream_outer
