#!/usr/bin/env bash
# s6.sh - scenario S6 (online learning) over a socket: sql-examples/s6_gen.py
# serves seed-style labelled points (fast, fixed seed, with event times) and
# sql-examples/s6.sql trains two linear_sgd models (step 0.01 and 1.0) on
# one-second windows, printing each window's MSE per model before the
# update.  Asserted: both start equal (zero weights), the first converges
# (MSE of the last 20 windows well below the first 20), the second diverges.
# Then streaming k-means (s6_kmeans.sql) on clustered points: every true
# centre ends near a learnt one, and the per-cluster counts add up.
# The exact update rules are checked in train.sh.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=${top_srcdir:-$here/..}
sluice=${SLUICE:-$here/../sluice}
py=/usr/bin/python3
$py -c 'import numpy' 2>/dev/null || { echo "python3-numpy missing: skipped"; exit 77; }
work=$(mktemp -d)
pids=""
trap 'kill $pids 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
. "$here/lib.sh"
wait_listen() { for _ in $(seq 100); do grep -q listening "$1" 2>/dev/null && return 0; sleep 0.05; done; return 1; }

# serve: NAME SECONDS [generator options...]; runs sql-examples/NAME.sql against it
serve_and_run() {
  name=$1 secs=$2
  shift 2
  port=$(free_port)
  timeout 120 $py "$top/sql-examples/s6_gen.py" --port "$port" --seconds "$secs" --seed 6 --fast \
    --start-ms 1700000000000 --log "$work/$name.log" --truth "$work/$name.truth" "$@" \
    > "$work/$name.gen" &
  pids=$!
  wait_listen "$work/$name.gen" || { echo "generator did not start"; exit 1; }
  sed -e "s/127.0.0.1:9999', format => 'csv',/127.0.0.1:$port', format => 'csv', reconnect => false,/" \
    -e "s|'s6-|'$work/s6-|" "$top/sql-examples/$name.sql" > "$work/$name.sql"
  timeout 120 "$sluice" --stats run "$work/$name.sql" > "$work/$name.out" 2> "$work/$name.err" && ok ||
    { bad "sluice run $name"; cat "$work/$name.err"; }
  wait $pids
  pids=""
  n=$(wc -l < "$work/$name.log")
  grep -q "q1: $n in, [0-9]* out, 0 rejected" "$work/$name.err" && ok ||
    { bad "$name: all $n points read, none rejected"; cat "$work/$name.err"; }
}

serve_and_run s6 200
$py - "$work" <<'PY' && ok || bad "S6: model 1 converges, model 2 diverges"
import json, sys
w = sys.argv[1]
rows = [json.loads(l) for l in open(w + "/s6.out")]
n = sum(1 for _ in open(w + "/s6.log"))
assert sum(r["n"] for r in rows) == n, "every point in one window"
assert [r["version1"] for r in rows] == list(range(2, len(rows) + 2)), "one update per window"
first, last = rows[:20], rows[-20:]
assert rows[0]["mse1"] == rows[0]["mse2"], "both start from zero weights"
# no model has an intercept: the generator's intercept squared is the floor
floor = json.load(open(w + "/s6.truth"))["intercept"] ** 2
m1a = sum(r["mse1"] for r in first) / 20
m1b = sum(r["mse1"] for r in last) / 20
# model 2's MSE overflows to NULL (inf) once it has diverged far enough
m2b = [r["mse2"] for r in last]
diverged = all(v is None or v > 1e6 * rows[0]["mse2"] for v in m2b)
print("S6: %d windows; intercept^2 %.1f; model 1 (step 0.01) MSE %.1f -> %.1f; "
      "model 2 (step 1.0) MSE %.1f -> %s" % (len(rows), floor, m1a, m1b, rows[0]["mse2"],
                                              "NULL (overflow)" if m2b[-1] is None else "%.3g" % m2b[-1]))
assert m1b - floor < 0.75 * (m1a - floor), "model 1 converges"
assert diverged, "model 2 diverges"
PY

serve_and_run s6_kmeans 120 --clusters 3 --features 2
$py - "$work" <<'PY' && ok || bad "S6 k-means: centres found, counts add up"
import json, sys
w = sys.argv[1]
rows = [json.loads(l) for l in open(w + "/s6_kmeans.out")]
truth = json.load(open(w + "/s6_kmeans.truth"))["centers"]
learnt = rows[-1]["centers"]
n = sum(1 for _ in open(w + "/s6_kmeans.log"))
assert sum(r["n"] for r in rows) == n
for c in truth:
    d = min(((c[0] - l[0]) ** 2 + (c[1] - l[1]) ** 2) ** 0.5 for l in learnt)
    assert d < 0.3, "true centre %s: nearest learnt %.3f away" % (c, d)
counts = [json.loads(l) for l in open(w + "/s6-clusters.jsonl")]
assert sum(r["n"] for r in counts) == n and {r["cluster"] for r in counts} <= {0, 1, 2}
print("S6 k-means: %d windows; true centres %s; learnt %s" % (
    len(rows), [[round(v, 2) for v in c] for c in truth], [[round(v, 2) for v in c] for c in learnt]))
PY
finish s6
