#!/usr/bin/env bash
# window_tvf.sh - Flink's windowing table functions, FROM TABLE(TUMBLE(TABLE
# s, DESCRIPTOR(ts), size)) (and HOP, SESSION) with GROUP BY ...,
# window_start, window_end: per window and key the counts and sums of random
# events against the same windows computed in Python, for random batch
# sizes; nested in a subquery and over a derived stream; and the errors
# (a function that is not a window, no GROUP BY of both bounds, a second
# FROM item) with their line:column.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
sluice=${top_builddir:-$here/..}/sluice
py=/usr/bin/python3
in_workdir

"$py" - > ev.jsonl <<'PY'
import json, random
rng = random.Random(11)
t = 1_700_000_000_000
for i in range(3000):
    t += rng.choice([0, 1, 5, 40, 200, 900, 2500, 7000])
    print(json.dumps({"k": rng.choice("abcde"), "ts": t, "v": rng.choice([None, 1, 2, 3, 5, 8, 13])}))
PY

# The windows in Python: (kind, key, start, end) -> [count, sum of v].
"$py" - > want.txt <<'PY'
import json
rows = [json.loads(l) for l in open("ev.jsonl")]
out = {}
def add(kind, k, s, e, v):
    g = out.setdefault((kind, k, s, e), [0, None])
    g[0] += 1
    if v is not None:
        g[1] = (g[1] or 0) + v
for r in rows:
    ts, k, v = r["ts"], r["k"], r["v"]
    s = ts // 5000 * 5000
    add("tumble", k, s, s + 5000, v)
    s = ts // 2000 * 2000
    while s > ts - 6000:
        add("hop", k, s, s + 6000, v)
        s -= 2000
sess = {}
for r in rows:
    ts, k, v = r["ts"], r["k"], r["v"]
    cur = sess.get(k)
    if cur and ts < cur[1] + 3000:
        cur[1] = ts; cur[2].append(v)
    else:
        if cur:
            for x in cur[2]: add("session", k, cur[0], cur[1] + 3000, x)
        sess[k] = [ts, ts, [v]]
for k, cur in sess.items():
    for x in cur[2]: add("session", k, cur[0], cur[1] + 3000, x)
for key in sorted(out):
    print(*key, *out[key])
PY

cat > q.sql <<'EOF2'
CREATE STREAM ev (k TEXT, ts INTEGER, v INTEGER) FROM file('ev.jsonl', format => 'json')
  WATERMARK ts - INTERVAL '1' SECOND;
CREATE STREAM ev2 AS SELECT * FROM ev WHERE k IS NOT NULL;
SELECT 'tumble' AS kind, k, window_start, window_end, count(*) AS n, sum(v) AS s
  FROM TABLE(TUMBLE(TABLE ev, DESCRIPTOR(ts), INTERVAL '5' SECOND))
  GROUP BY k, window_start, window_end INTO file('tumble.jsonl', format => 'json');
SELECT 'hop' AS kind, k, window_start, window_end, count(*) AS n, sum(v) AS s
  FROM TABLE(HOP(TABLE ev2, DESCRIPTOR(ts), INTERVAL '2' SECOND, INTERVAL '6' SECOND)) AS E
  GROUP BY E.window_start, k, E.window_end INTO file('hop.jsonl', format => 'json');
SELECT 'session' AS kind, k, ws AS window_start, we AS window_end, n, s FROM (
  SELECT k, window_start AS ws, window_end AS we, count(*) AS n, sum(v) AS s
  FROM TABLE(SESSION(TABLE ev, DESCRIPTOR(ts), INTERVAL '3' SECOND))
  GROUP BY window_end, window_start, k) INTO file('session.jsonl', format => 'json');
EOF2

for bs in 1024 1 7 333; do
  rm -f tumble.jsonl hop.jsonl session.jsonl
  { echo "SET batch_size = $bs;"; cat q.sql; } > qb.sql
  out=$("$sluice" run qb.sql 2>&1) || { bad "run (batch_size $bs): $out"; continue; }
  cat tumble.jsonl hop.jsonl session.jsonl | "$py" -c '
import json, sys
rows = [json.loads(l) for l in sys.stdin]
for r in sorted((r["kind"], r["k"], r["window_start"], r["window_end"], r["n"], r["s"]) for r in rows):
    print(*r)' > got.txt
  if cmp -s got.txt want.txt; then ok; else bad "batch_size $bs: windows differ"$'\n'"$(diff got.txt want.txt | head -20)"; fi
done

# ---- errors, with their positions --------------------------------------------------------
err() { # $1 SQL, $2 expected text of the message
  local out
  out=$("$sluice" -e "CREATE STREAM ev (k TEXT, ts INTEGER, v INTEGER) FROM file('ev.jsonl', format => 'json');
$1" 2>&1) && { bad "accepted: $1"; return; }
  contains "error for: $1" "$2" "$out"
}
err "SELECT count(*) FROM TABLE(CUMULATE(TABLE ev, DESCRIPTOR(ts), INTERVAL '1' SECOND, INTERVAL '5' SECOND)) GROUP BY window_start, window_end;" \
  '2:28: error: near "CUMULATE": windowing table functions are TUMBLE, HOP and SESSION'
err "SELECT count(*) FROM TABLE(TUMBLE(TABLE ev, DESCRIPTOR(ts), INTERVAL '1' SECOND)) GROUP BY k;" \
  "2:28: error: a windowing table function's rows are aggregated per window: GROUP BY window_start, window_end"
err "SELECT count(*) FROM TABLE(TUMBLE(TABLE ev, DESCRIPTOR(ts), INTERVAL '1' SECOND)) GROUP BY window_start;" \
  "GROUP BY window_start, window_end"
err "SELECT count(*) FROM TABLE(TUMBLE(TABLE ev, DESCRIPTOR(ts), INTERVAL '1' SECOND));" \
  "GROUP BY window_start, window_end"
err "SELECT count(*) FROM ev, TABLE(TUMBLE(TABLE ev, DESCRIPTOR(ts), INTERVAL '1' SECOND)) GROUP BY window_start, window_end;" \
  "2:32: error: a windowing table function must be the only item of its FROM"
err "SELECT count(*) FROM TABLE(TUMBLE(TABLE ev, DESCRIPTOR(ts, k), INTERVAL '1' SECOND)) GROUP BY window_start, window_end;" \
  '2:58: error: near ",": syntax error'
# DESCRIPTOR stays a name where a keyword would not be
out=$("$sluice" -e "SELECT 1 AS descriptor;" 2>&1)
contains "descriptor as a column name" '"descriptor":1' "$out"
finish window_tvf.sh
