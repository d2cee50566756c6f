#!/usr/bin/env bash
# changelog.sh - updating streams (changelogs) through every operator, the
# sinks and the sources, against sqlite3 and Python (changelog_check.py).
#
# A random changelog (inserts, updates as -U/+U, deletes; whole keys deleted
# at the end) is read with changelog => 'op' at a random batch size and fed
# to: a filter and projection, SELECT DISTINCT, a running GROUP BY with
# every retracting aggregate (count, count(x), sum, total, avg, min, max on
# numbers and text, count/sum DISTINCT, top_k, var_pop) and HAVING, a
# GROUP BY's final rows, aggregates without GROUP BY, a GROUP BY of a
# GROUP BY's changelog (a named stream), and LIMIT.  Each output, written
# with changelog => 'op', is checked as a sequence (exactly, where batching
# cannot change it; otherwise every take-back names the row given last for
# its key) and as a final table equal to sqlite3's query over the rows left.
# Then: a GROUP BY changelog written to Kafka (the dev broker) as upserts,
# read back with kcat (-K key, -Z tombstones as NULL), compacted (each key's
# last message, a tombstone removing it): one live row per key equal to
# sqlite3's GROUP BY; the topic read back with changelog => 'upsert'; the
# state kept across a restart (a checkpoint of the retracting aggregate);
# min/max memory with and without take-backs (--stats); and the plan-time
# refusals of the operators that cannot fold take-backs in.
set -u
export LC_ALL=C
here=$(cd "$(dirname "$0")" && pwd)
sluice=${SLUICE:-$here/../sluice}
py=/usr/bin/python3
chk="$here/changelog_check.py"
. "$here/lib.sh"
in_workdir

seed=${CHANGELOG_SEED:-$RANDOM}
echo "changelog: seed $seed"
$py "$chk" gen "$seed" 6000 cl.jsonl || bad "gen"
bs() { echo $(((RANDOM % 300) + 1)); }
src="file('cl.jsonl', format => 'json', changelog => 'op')"

# ---- filter and projection: the same changes, in order ------------------------------
b=$(bs)
"$sluice" -e "SET batch_size = $b; SELECT k, v * 2 AS w, upper(t) AS u FROM $src
  WHERE v IS NULL OR v % 3 <> 0 INTO file('project.jsonl', changelog => 'op')" 2> p.err &&
  ok || { bad "project"; cat p.err; }
$py "$chk" project cl.jsonl project.jsonl && ok || bad "project (batch size $b)"

# ---- a model's scores (op_score) pass the kinds on, into a GROUP BY too ------------------
echo '{"format": "sluice-model", "version": 1, "kind": "linear", "n_features": 2, "feature_names": ["a", "b"], "coef": [[2, 3]], "intercept": [1], "link": "identity"}' > lin.json
b=$(bs)
"$sluice" -e "SET batch_size = $b; CREATE MODEL m FROM 'lin.json';
  SELECT k, m(g, g) AS y FROM $src WHERE v IS NULL OR v % 3 <> 0
  INTO file('score.jsonl', changelog => 'op');
  SELECT k, sum(m(g, 1)) AS y FROM $src GROUP BY k EMIT CHANGES
  INTO file('score_agg.jsonl', changelog => 'op')" 2> m.err && ok || { bad "model"; cat m.err; }
$py - <<'PY' && ok || bad "scores: the input's changes that pass, each with its kind (batch size $b)"
import json
src = [json.loads(l) for l in open("cl.jsonl")]
want = [{"op": r["op"], "k": r["k"], "y": 1.0 + 5 * r["g"]} for r in src
        if r["v"] is None or r["v"] % 3 != 0]
got = [json.loads(l) for l in open("score.jsonl")]
assert got == want, (len(got), len(want))
PY
$py "$chk" keyed cl.jsonl score_agg.jsonl "SELECT k, sum(1.0 + 2 * g + 3) FROM src GROUP BY k" 1 &&
  ok || bad "a GROUP BY of scores takes them back"

# ---- DISTINCT: the changelog of the set of rows ---------------------------------------
b=$(bs)
"$sluice" -e "SET batch_size = $b; SELECT DISTINCT k, g FROM $src
  INTO file('distinct.jsonl', changelog => 'op')" 2> d.err && ok || { bad "distinct"; cat d.err; }
$py "$chk" distinct cl.jsonl distinct.jsonl && ok || bad "distinct (batch size $b)"

# ---- a running GROUP BY: every retracting aggregate, HAVING ------------------------------
b=$(bs)
"$sluice" -e "SET batch_size = $b; SELECT k, count(*) AS n, count(v) AS nv, sum(v) AS s,
  total(v) AS tot, avg(v) AS a, min(v) AS mn, max(v) AS mx, min(t) AS tmin, max(t) AS tmax,
  count(DISTINCT g) AS dg, sum(DISTINCT g) AS sdg, var_pop(v) AS vp, top_k(g, 2) AS tk
  FROM $src GROUP BY k HAVING count(*) >= 2 EMIT CHANGES
  INTO file('agg.jsonl', changelog => 'op')" 2> a.err && ok || { bad "aggregate"; cat a.err; }
$py "$chk" keyed cl.jsonl agg.jsonl "SELECT k, count(*), count(v), sum(v), total(v), avg(v),
  min(v), max(v), min(t), max(t), count(DISTINCT g), sum(DISTINCT g),
  CASE WHEN count(v) THEN avg(v * v) - avg(v) * avg(v) END, NULL AS topk_g2
  FROM src GROUP BY k HAVING count(*) >= 2" 1 && ok || bad "aggregate changelog (batch size $b)"
grep -q '"op":"-D"' agg.jsonl && grep -q '"op":"-U"' agg.jsonl && ok ||
  bad "the aggregate's changelog has -U and -D rows"

# ---- final rows of a bounded input, and aggregates without GROUP BY ---------------------
b=$(bs)
"$sluice" -e "SET batch_size = $b; SELECT g, count(*) AS n, sum(v) AS s, min(v) AS mn,
  max(t) AS mx, count(DISTINCT k) AS dk FROM $src GROUP BY g
  INTO file('final.jsonl')" 2> f.err && ok || { bad "final rows"; cat f.err; }
$py "$chk" final cl.jsonl final.jsonl "SELECT g, count(*), sum(v), min(v), max(t),
  count(DISTINCT k) FROM src GROUP BY g" && ok || bad "final rows (batch size $b)"
"$sluice" -e "SET batch_size = $b; SELECT count(*) AS n, sum(v) AS s, max(v) AS mx FROM $src
  EMIT CHANGES INTO file('global.jsonl', changelog => 'op')" 2> gl.err && ok ||
  { bad "no GROUP BY"; cat gl.err; }
$py "$chk" keyed cl.jsonl global.jsonl "SELECT count(*), sum(v), max(v) FROM src" 0 && ok ||
  bad "aggregates without GROUP BY"

# ---- a GROUP BY of a GROUP BY's changelog (a named stream) ------------------------------
b=$(bs)
"$sluice" -e "SET batch_size = $b;
  CREATE STREAM per_k AS SELECT k, count(*) AS n FROM $src GROUP BY k EMIT CHANGES;
  SELECT n, count(*) AS keys, max(k) AS last FROM per_k GROUP BY n EMIT CHANGES
  INTO file('twolevel.jsonl', changelog => 'op')" 2> t.err && ok || { bad "two levels"; cat t.err; }
$py "$chk" keyed cl.jsonl twolevel.jsonl "SELECT n, count(*), max(k) FROM
  (SELECT k, count(*) AS n FROM src GROUP BY k) GROUP BY n" 1 && ok ||
  bad "a GROUP BY over a changelog stream (batch size $b)"

# ---- LIMIT passes the first changes with their kinds ------------------------------------
"$sluice" -e "SELECT k, g FROM $src LIMIT 40 INTO file('limit.jsonl', changelog => 'op')" \
  2> l.err && ok || { bad "limit"; cat l.err; }
$py - <<'PY' && ok || bad "LIMIT: the first 40 changes"
import json
src = [json.loads(l) for l in open("cl.jsonl")][:40]
got = [json.loads(l) for l in open("limit.jsonl")]
assert got == [{"op": r["op"], "k": r["k"], "g": r["g"]} for r in src], got[:3]
PY

# ---- what the caller sees: the rows the changelog adds ----------------------------------
q="SET batch_size = 50; SELECT k, count(*) AS n FROM $src GROUP BY k EMIT CHANGES"
"$sluice" -e "$q" > shell.jsonl 2> s.err && ok || { bad "to the caller"; cat s.err; }
"$sluice" -e "$q INTO file('shell_op.jsonl', changelog => 'op')" 2> s.err && ok || { bad "op file"; cat s.err; }
$py - <<'PY' && ok || bad "the caller gets the +I and +U rows of the changelog, in order"
import json
want = [{"k": r["k"], "n": r["n"]} for r in map(json.loads, open("shell_op.jsonl"))
        if r["op"] in ("+I", "+U")]
got = [json.loads(l) for l in open("shell.jsonl")]
ops = {json.loads(l)["op"] for l in open("shell_op.jsonl")}
assert ops == {"+I", "-U", "+U", "-D"}, ops
assert got == want, (len(got), len(want))
PY

# ---- take-backs of rows never given are rejected ----------------------------------------
printf '%s\n' '{"op":"-D","k":"x","g":1,"v":1,"t":"a"}' '{"op":"+I","k":"x","g":1,"v":2,"t":"a"}' \
  '{"op":"?","k":"y","g":1,"v":2,"t":"a"}' > bad.jsonl
out=$("$sluice" --stats -e "SELECT k, sum(v) AS s FROM file('bad.jsonl', format => 'json',
  changelog => 'op') GROUP BY k" 2> bad.err)
check "a take-back of nothing and a bad op are rejected" '{"k":"x","s":2}' "$out"
contains "a take-back of nothing is logged" "a take-back of a row that no group holds" "$(cat bad.err)"
contains "a bad op is logged" "op is not '+I', '-U', '+U' or '-D'" "$(cat bad.err)"

# ---- Kafka: upserts with tombstones, read back with kcat and as a changelog -------------
"$sluice" broker --topics agg:3,clin:1 > boot 2> broker.log &
bpid=$!
trap 'kill $bpid 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 50); do [ -s boot ] && break; sleep 0.1; done
boot=$(head -n 1 boot)
b=$(bs)
"$sluice" -e "SET batch_size = $b; SELECT k, count(*) AS n, sum(v) AS s, max(t) AS mx FROM $src
  GROUP BY k EMIT CHANGES INTO kafka('agg', brokers => '$boot', format => 'json')" 2> k.err &&
  ok || { bad "GROUP BY into kafka"; cat k.err; }
kcat -b "$boot" -C -t agg -e -q -Z -K '\t' -f '%p\t%k\t%s\n' > agg.tsv 2> kcat.err ||
  { bad "kcat"; cat kcat.err; }
$py "$chk" compact agg.tsv cl.jsonl "SELECT k, count(*), sum(v), max(t) FROM src GROUP BY k" &&
  ok || bad "one live row per key after compaction = sqlite3's GROUP BY (batch size $b)"
"$sluice" --stats -e "SELECT k, n, s, mx FROM kafka('agg', brokers => '$boot', format => 'json',
  changelog => 'upsert', stop => 'end') INTO file('upsert.jsonl', changelog => 'op')" 2> u.err &&
  ok || { bad "changelog => 'upsert'"; cat u.err; }
# the source's last value per key is the query's state (a projection keeps none)
peak=$(sed -n 's/.*state: at most \([0-9]*\) groups.*/\1/p' u.err)
live=$(cut -f2 agg.tsv | sort -u | wc -l)
[ -n "$peak" ] && [ "$peak" -ge "$($py -c "import json; print(len({r['k'] for r in json.load(open('cl.jsonl.final.json'))}))")" ] &&
  [ "$peak" -le "$live" ] && ok || { bad "the upsert source's keys are counted in state ($peak)"; cat u.err; }
$py "$chk" keyed cl.jsonl upsert.jsonl "SELECT k, count(*), sum(v), max(t) FROM src GROUP BY k" 1 &&
  ok || bad "the topic read as a changelog applies to sqlite3's GROUP BY"
out=$("$sluice" -e "SET batch_size = 7; SELECT count(*) AS keys, sum(n) AS rows FROM kafka('agg',
  brokers => '$boot', format => 'json', changelog => 'upsert', stop => 'end')" 2> u2.err)
want=$($py -c "
import json; r = json.load(open('cl.jsonl.final.json'))
print(json.dumps({'keys': len({x['k'] for x in r}), 'rows': len(r)}, separators=(',', ':')))")
check "an aggregate over an upsert topic" "$want" "$out"

# ---- the state of a retracting aggregate across a restart -------------------------------
# a continuous Kafka source of changelog rows (one partition: in order): the first part, SIGTERM (a
# checkpoint of the groups, their row counts, DISTINCT counts and min/max
# values), the rest, a restart: the changelog written goes on from there.
$py "$chk" prefix cl.jsonl 3000 part.jsonl || bad "prefix"
kcat -b "$boot" -P -t clin -l part.jsonl 2> kp.err || { bad "kcat -P"; cat kp.err; }
sql="SET checkpoint_interval = '200ms'; SET batch_size = $(bs);
  SELECT k, count(*) AS n, sum(v) AS s, min(v) AS mn, max(t) AS mx, count(DISTINCT g) AS dg
  FROM kafka('clin', brokers => '$boot', format => 'json', changelog => 'op') GROUP BY k
  EMIT CHANGES INTO file('ck.jsonl', changelog => 'op')"
ref="SELECT k, count(*), sum(v), min(v), max(t), count(DISTINCT g) FROM src GROUP BY k"
# run_until INPUT: run the query until its changelog applies to sqlite3's
# GROUP BY over INPUT's rows (waiting up to a minute), then stop it with SIGTERM
run_until() {
  "$sluice" --stats --state-dir st -e "$sql" 2>> ck.err &
  local qpid=$! i
  for i in $(seq 600); do
    [ -s ck.jsonl ] && $py "$chk" keyed "$1" ck.jsonl "$ref" 1 > /dev/null 2>&1 && break
    sleep 0.1
  done
  kill -TERM $qpid
  wait $qpid
}
run_until part.jsonl && ok || { bad "first run"; cat ck.err; }
$py "$chk" keyed part.jsonl ck.jsonl "$ref" 1 && ok || bad "the changelog of the first part"
kcat -b "$boot" -P -t clin -l part.jsonl.rest 2> kp.err || { bad "kcat -P"; cat kp.err; }
run_until cl.jsonl && ok || { bad "second run"; cat ck.err; }
grep -q "resumed from one" ck.err && ok || { bad "the second run loads a checkpoint"; cat ck.err; }
$py "$chk" keyed cl.jsonl ck.jsonl "$ref" 1 && ok || { bad "the changelog across a restart"; cat ck.err; }
grep -q "rejected" ck.err && ! grep -q "take-back of a row that no group holds" ck.err && ok ||
  { bad "no take-back is lost across the restart"; cat ck.err; }

# ---- min/max keep every value only when they must take one back --------------------------
$py -c "
import json, random
r = random.Random(3)
with open('mm.jsonl', 'w') as f:
    for i in range(50000):
        f.write(json.dumps({'op': '+I', 'k': 'k%d' % r.randrange(20), 'v': r.randrange(10**6)}) + '\n')"
for mode in plain op; do
  opt=""; [ $mode = op ] && opt=", changelog => 'op'"
  "$sluice" --stats -e "SELECT k, min(v), max(v) FROM file('mm.jsonl', format => 'json'$opt)
    GROUP BY k" > mm-$mode.out 2> mm-$mode.err || bad "min/max ($mode)"
  sed -n 's/.*kept records, \([0-9]*\) bytes.*/\1/p' mm-$mode.err > mm-$mode.bytes
done
check "min/max: the same rows" "$(sort mm-plain.out)" "$(sort mm-op.out)"
pb=$(cat mm-plain.bytes) ob=$(cat mm-op.bytes)
echo "min/max state: $pb bytes append-only, $ob bytes retracting"
[ -n "$pb" ] && [ -n "$ob" ] && [ "$ob" -gt $((pb * 20)) ] && ok ||
  bad "min/max over append-only input keep one value per group ($pb vs $ob bytes)"

# ---- operators that cannot fold take-backs in refuse an updating input -------------------
err_of() { "$sluice" -e "$1" 2>&1 >/dev/null; }
contains "a window refuses a changelog" "1:91: error: a window (TUMBLE, HOP, SESSION) cannot read an updating input" \
  "$(err_of "SELECT k, count(*) FROM $src GROUP BY k, TUMBLE(v, INTERVAL '1' SECOND)")"
contains "group_concat refuses a changelog" "1:11: error: group_concat() cannot take a row back" \
  "$(err_of "SELECT k, group_concat(t) FROM $src GROUP BY k")"
contains "ORDER BY refuses a changelog" "error: ORDER BY cannot read an updating input" \
  "$(err_of "SELECT k FROM $src ORDER BY k")"
contains "a join refuses a changelog" "error: a join cannot read an updating input" \
  "$(err_of "SELECT s.k FROM $src AS s JOIN file('cl.jsonl', format => 'json') AS x
    ON s.k = x.k AND s.v BETWEEN x.v - 1 AND x.v + 1")"
contains "a subquery refuses a changelog" "error: a subquery cannot read an updating input" \
  "$(err_of "SELECT 1 WHERE 'k1' IN (SELECT k FROM $src)")"
contains "an op column is needed" "no such column (declare op TEXT)" \
  "$(err_of "SELECT k FROM file('cl.jsonl', format => 'json', columns => 'k TEXT', changelog => 'op')")"
contains "changelog takes op" "changelog => takes 'op', not 'x'" \
  "$(err_of "SELECT k FROM file('cl.jsonl', format => 'json', changelog => 'x')")"
contains "an upsert sink needs its keys" "select every GROUP BY column" \
  "$(err_of "SELECT count(*) FROM $src GROUP BY k EMIT CHANGES INTO kafka('agg', brokers => '$boot')")"
finish changelog
