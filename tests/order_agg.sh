#!/usr/bin/env bash
# order_agg.sh - ORDER BY, aggregates without GROUP BY, GROUP BY ordinals
# and aliases, DISTINCT over a bounded GROUP BY, against the sqlite3
# library (tests/order_agg.py: random tables and queries, fixed seeds); and
# on a stream: an ORDER BY ... LIMIT per window (TUMBLE over stdin, which
# does not end as a file does) against the same top-N computed in Python,
# and the refusals of a global ORDER BY and of DISTINCT over a changelog.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
sluice=${top_builddir:-$here/..}/sluice
py=/usr/bin/python3
in_workdir

# ---- against SQLite ---------------------------------------------------------------------
for seed in 1 2 3 4; do
  if out=$("$py" "$here/order_agg.py" "$sluice" --seed "$seed" --tables 10 --queries 60 2>&1); then
    ok
  else
    bad "order_agg.py --seed $seed"$'\n'"$(printf '%s\n' "$out" | tail -n 40)"
  fi
done

# ---- a top-N per window on a stream -----------------------------------------------------
"$py" - > ev.jsonl <<'PY'
import json, random
rng = random.Random(5)
t = 0
for i in range(600):
    t += rng.randint(0, 400)
    print(json.dumps({"k": rng.choice("abcdefg"), "ts": t, "v": rng.choice([None, 1, 2, 3, 5, 8])}))
PY
"$py" - > want.txt <<'PY'
import json
rows = [json.loads(l) for l in open("ev.jsonl")]
size = 5000
groups = {}
for r in rows:
    w = r["ts"] // size * size
    g = groups.setdefault((w, r["k"]), [0, None])
    g[0] += 1
    if r["v"] is not None:
        g[1] = (g[1] or 0) + r["v"]
for w in sorted({w for w, _ in groups}):
    per = [(k, n, s) for (ww, k), (n, s) in groups.items() if ww == w]
    # ORDER BY n DESC, s DESC NULLS LAST, k LIMIT 3 OFFSET 1
    per.sort(key=lambda x: (-x[1], x[2] is None, -(x[2] or 0), x[0]))
    for k, n, s in per[1:4]:
        print(json.dumps({"w": w, "k": k, "n": n, "s": s}, separators=(",", ":")))
PY
cols="columns => 'k TEXT, ts INTEGER, v INTEGER'"
q="SELECT window_start AS w, k, count(*) AS n, sum(v) AS s FROM stdin(format => 'json', $cols)
   GROUP BY k, TUMBLE(ts, INTERVAL '5' SECOND) ORDER BY n DESC, s DESC NULLS LAST, k LIMIT 3 OFFSET 1"
for b in 1 7 1024; do
  "$sluice" -e "SET batch_size = $b; $q" < ev.jsonl > got.txt 2> err.txt
  check "top-N per window, batch $b" "$(cat want.txt)" "$(cat got.txt)"
  check "top-N per window, batch $b: no error" "" "$(cat err.txt)"
done
check "top-N per window: windows" "$("$py" -c "print(len({__import__('json').loads(l)['w'] for l in open('want.txt')}))")" \
  "$(sed 's/.*"w":\([0-9]*\).*/\1/' got.txt | sort -u | wc -l | tr -d ' ')"

# the same over the file: it ends, so ORDER BY sorts the whole result once
"$py" - > want_all.txt <<'PY'
import json
rows = [json.loads(l) for l in open("ev.jsonl")]
groups = {}
for r in rows:
    g = groups.setdefault((r["ts"] // 5000 * 5000, r["k"]), [0, None])
    g[0] += 1
    if r["v"] is not None:
        g[1] = (g[1] or 0) + r["v"]
per = [(w, k, n, s) for (w, k), (n, s) in groups.items()]
per.sort(key=lambda x: (-x[2], x[3] is None, -(x[3] or 0), x[1], -x[0]))
for w, k, n, s in per[:5]:
    print(json.dumps({"w": w, "k": k, "n": n, "s": s}, separators=(",", ":")))
PY
check "ORDER BY over a file's windows: one sort" "$(cat want_all.txt)" \
  "$("$sluice" -e "SELECT window_start AS w, k, count(*) AS n, sum(v) AS s FROM file('ev.jsonl', $cols)
     GROUP BY k, TUMBLE(ts, INTERVAL '5' SECOND) ORDER BY n DESC, s DESC NULLS LAST, k, w DESC LIMIT 5" 2>&1)"

# ---- what a stream refuses --------------------------------------------------------------
"$sluice" -e "SELECT k FROM stdin(format => 'json', $cols) ORDER BY k" < ev.jsonl > out.txt 2> err.txt
check "global ORDER BY on a stream: fails" "" "$(cat out.txt)"
contains "global ORDER BY on a stream: why" "ORDER BY over an unbounded stream" "$(cat err.txt)"
contains "global ORDER BY on a stream: what instead" "sort each window's rows" "$(cat err.txt)"
"$sluice" -e "SELECT k, count(*) FROM stdin(format => 'json', $cols) GROUP BY k ORDER BY 2" \
  < ev.jsonl > out.txt 2> err.txt
contains "ORDER BY over a changelog: why" "ORDER BY over a running aggregate" "$(cat err.txt)"
"$sluice" -e "SELECT DISTINCT count(*) FROM stdin(format => 'json', $cols) GROUP BY k" \
  < ev.jsonl > out.txt 2> err.txt
contains "DISTINCT over a changelog" "SELECT DISTINCT over a running GROUP BY" "$(cat err.txt)"

# aggregates without GROUP BY on a stream: a one-row changelog, a row per batch
check "count(*) on a stream: a row per batch" '{"n":3}
{"n":6}
{"n":7}' "$(head -n 7 ev.jsonl | "$sluice" -e "SET batch_size = 3; SELECT count(*) AS n FROM stdin(format => 'json', $cols)")"
check "count(*) on an empty stream: one row" '{"n":0,"s":null}' \
  "$("$sluice" -e "SELECT count(*) AS n, sum(v) AS s FROM stdin(format => 'json', $cols)" < /dev/null)"

# exactly-once: a bounded GROUP BY's final rows are the same on replay, a stream's
# one-row changelog is not
eo="SET processing.guarantee = 'exactly_once';"
"$sluice" --state-dir st_eo -e "$eo SELECT k, count(*) AS n FROM file('ev.jsonl', $cols) GROUP BY k ORDER BY k INTO file('eo.jsonl')" 2> eo.err
check "exactly-once over a file's GROUP BY: no error" "" "$(cat eo.err)"
check "exactly-once over a file's GROUP BY: 7 keys" 7 "$(wc -l < eo.jsonl | tr -d ' ')"
"$sluice" --state-dir st_eo2 -e "$eo SELECT count(*) FROM kafka('t', brokers => 'localhost:1') INTO file('eo2.jsonl')" 2> eo.err
contains "exactly-once refuses a stream's count(*)" "a changelog" "$(cat eo.err)"

# ---- the kept rows survive a crash (checkpoints) --------------------------------------
"$py" -c "
import json, random
rng = random.Random(9)
for i in range(200000):
    print(json.dumps({'id': i, 'x': rng.randint(0, 10**9), 't': rng.choice(['a', 'B', None])}))
" > big.jsonl
q="SET checkpoint_interval = '50ms'; SELECT id, x, t FROM file('big.jsonl') ORDER BY t COLLATE NOCASE DESC, x, id LIMIT 20 OFFSET 3 INTO file('top.jsonl')"
"$sluice" -e "$q" 2> ref.err && mv top.jsonl ref.jsonl
t0=$(date +%s%N)
"$sluice" --state-dir st0 -e "$q" 2> /dev/null
total=$((($(date +%s%N) - t0) / 1000000))
rm -rf st top.jsonl
for r in 1 2 3; do
  ms=$((total / 5 + RANDOM % (total / 3 + 1)))
  "$sluice" --state-dir st -e "$q" 2> /dev/null &
  pid=$!
  sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
  kill -KILL $pid 2> /dev/null
  wait $pid 2> /dev/null
done
"$sluice" --state-dir st -e "$q" 2> final.err
check "top-N after SIGKILLs: no error" "" "$(cat final.err)"
check "top-N after SIGKILLs: the failure-free rows" "$(cat ref.jsonl)" "$(cat top.jsonl)"
check "top-N: 20 rows" 20 "$(wc -l < ref.jsonl | tr -d ' ')"

# the kept rows are the query's state: max_query_memory bounds a full sort,
# a top-N keeps only its rows
"$sluice" -e "SET max_query_memory = '1MB'; SELECT id, x FROM file('big.jsonl') ORDER BY x" > out.txt 2> err.txt
contains "a full sort over max_query_memory" "passed max_query_memory" "$(cat err.txt)"
check "a top-N under max_query_memory" 3 \
  "$("$sluice" -e "SET max_query_memory = '1MB'; SELECT id, x FROM file('big.jsonl') ORDER BY x LIMIT 3" | wc -l | tr -d ' ')"

finish order_agg
