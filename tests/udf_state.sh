#!/usr/bin/env bash
# udf_state.sh - C aggregates from an extension in checkpoints (API version
# 3): udf/libstats.so's ewma and geomean (SLUICE_PLAIN_STATE) and median
# (save/load of memory it allocates).
#   1. a windowed query's results against Python (median exactly, the others
#      to 1e-9), with no state directory;
#   2. the query with --state-dir, killed with SIGKILL after a checkpoint of its own
#      ROUNDS times and run to its end: the file equals the failure-free run's
#      byte for byte (every window once);
#   3. `sluice serve --state-dir --load`: the server killed while the query
#      runs and started again resumes it; every window once;
#   4. an aggregate of an extension built for version 1 (no flag, no
#      save/load) still loads and runs, and with a state directory is
#      refused with a message that says why.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
top_builddir=${top_builddir:-$here/..}
sluice=${SLUICE:-$top_builddir/sluice}
py=/usr/bin/python3
ROUNDS=${RECOVERY_ROUNDS:-4}
stats=$top_builddir/udf/libstats.so
in_workdir

$py - <<'PY'
import json, random
random.seed(11)
t = 0
with open("ev.jsonl", "w") as f:
    for i in range(1000000):
        t += random.randrange(4)
        f.write(json.dumps({"u": "u%d" % random.randrange(25), "x": round(random.uniform(0.5, 100), 3),
                            "ts": t}) + "\n")
PY
# (enough records that the query is still running after a few checkpoints
# of 100 ms, on a fast machine too)
cat > q.sql <<EOF
SET checkpoint_interval = '100ms';
LOAD '$stats';
CREATE STREAM ev (u TEXT, x REAL, ts INTEGER) FROM file('ev.jsonl');
SELECT u, window_start, count(*) AS n, median(x) AS med, geomean(x) AS gm, ewma(x, 0.3) AS ew
FROM ev GROUP BY u, TUMBLE(ts, INTERVAL '10' SECOND) INTO file('out.json');
EOF

# 1. against Python
mkdir ref && (cd ref && ln -s ../ev.jsonl . && "$sluice" run ../q.sql 2> err) || { bad "reference run"; cat ref/err; }
$py - <<'PY' && ok || bad "results against Python"
import json, math, statistics, collections
groups = collections.defaultdict(list)
for l in open("ev.jsonl"):
    r = json.loads(l)
    groups[(r["u"], r["ts"] // 10000 * 10000)].append(r["x"])
got = {}
for l in open("ref/out.json"):
    r = json.loads(l)
    got[(r["u"], r["window_start"])] = r
assert set(got) == set(groups), (len(got), len(groups))
for k, xs in groups.items():
    r = got[k]
    ew = xs[0]
    for x in xs[1:]:
        ew = 0.3 * x + 0.7 * ew
    gm = math.exp(sum(math.log(x) for x in xs) / len(xs))
    assert r["n"] == len(xs) and r["med"] == statistics.median(xs), (k, r, statistics.median(xs))
    assert math.isclose(r["gm"], gm, rel_tol=1e-9) and math.isclose(r["ew"], ew, rel_tol=1e-9), (k, r, gm, ew)
print("udf_state: %d windows: median, geomean, ewma as Python computes them" % len(groups))
PY

# 2. killed and restarted
t0=$(date +%s%N)
(cd ref && "$sluice" run ../q.sql 2> /dev/null)
total=$((($(date +%s%N) - t0) / 1000000))
kills=0
gen() { cut -d' ' -f3 st/sluice-state.id 2>/dev/null || echo 0; }
for r in $(seq "$ROUNDS"); do
  # killed after a checkpoint of this round (so that the next one resumes
  # from state with open windows), then a random moment more
  g0=$(gen)
  "$sluice" --state-dir st run q.sql 2> "kill$r.err" &
  pid=$!
  for _ in $(seq 200); do [ "$(gen)" -ge $((g0 + 2)) ] && break; sleep 0.02; done
  ms=$((RANDOM % (total / 10 + 1)))
  sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
  kill -KILL $pid 2>/dev/null && kills=$((kills + 1))
  wait $pid 2>/dev/null
done
"$sluice" --stats --state-dir st run q.sql 2> final.err && ok || { bad "final run"; cat final.err kill*.err; }
cmp -s out.json ref/out.json && ok || bad "killed $kills times: the output differs from the failure-free run"
echo "udf_state: $kills of $ROUNDS runs killed with SIGKILL; $(grep -h 'checkpoints of' final.err)"

# 3. a server killed and started again
rm -f out.json
port=$(free_port)
url=http://127.0.0.1:$port
serve() {
  rm -f serve.err
  "$sluice" serve --data-dir . --listen "127.0.0.1:$port" --state-dir sst --load "$stats" 2> serve.err &
  spid=$!
  for _ in $(seq 100); do grep -q listening serve.err 2>/dev/null && return 0; sleep 0.05; done
  return 1
}
state() { curl -s "$url/queries" | $py -c 'import json, sys; print(" ".join(q["state"] for q in json.load(sys.stdin)))'; }
serve && ok || { bad "server started"; cat serve.err; }
grep -v '^LOAD' q.sql > sq.sql
r=$(curl -s -H 'Content-Type: application/sql' -X POST --data-binary @sq.sql "$url/statements")
contains "submitted" '"status":"ok"' "$r"
for _ in $(seq 200); do [ "$(cut -d' ' -f3 sst/sluice-state.id 2>/dev/null || echo 0)" -ge 3 ] && break; sleep 0.05; done
before=$(state)
kill -KILL $spid; wait $spid 2>/dev/null
[ "$before" = running ] && ok || bad "the query was not running when the server was killed: '$before'"
serve && ok || { bad "server started again"; cat serve.err; }
for _ in $(seq 400); do [ "$(state)" = finished ] && break; sleep 0.05; done
[ "$(state)" = finished ] && ok || { bad "resumed query did not finish: $(state)"; cat serve.err; }
kill $spid; wait $spid
cmp -s out.json ref/out.json && ok || bad "serve, killed and started again: the output differs from the failure-free run"

# 4. a version 1 aggregate: runs without a state directory, refused with one
printf '{"k":"a","x":1}\n{"k":"a","x":2}\n' > agg.jsonl
v1="LOAD '$top_builddir/tests/libudfv1.so'; SELECT k, v1_count(x) AS n FROM file('agg.jsonl') GROUP BY k;"
out=$("$sluice" --format csv -e "$v1" 2>&1)
check "v1 aggregate" $'k,n\na,2' "$out"
out=$("$sluice" --state-dir st1 --format csv -e "$v1" 2>&1)
contains "v1 aggregate with a state directory" \
  "aggregate v1_count() cannot be checkpointed (a C function with neither save/load nor SLUICE_PLAIN_STATE: see docs/udf.md): run it without a state directory" "$out"
finish udf_state
