#!/usr/bin/env bash
# lookup_join.sh - PROCTIME() and Flink's lookup join: a stream joined to a
# table FOR SYSTEM_TIME AS OF its PROCTIME() column gives the rows sqlite3's
# join gives over the same data (LEFT JOIN too); a window over a view's
# PROCTIME() column is in processing time (its bounds are the clock's, the
# counts add up to the input's); and the refusals of AS OF anything else
# (event time, a stream on the right, the first item) with their positions.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
sluice=${top_builddir:-$here/..}/sluice
py=/usr/bin/python3
in_workdir

"$py" - <<'PY'
import json, random
rng = random.Random(7)
with open("ev.jsonl", "w") as f:
    for i in range(2000):
        f.write(json.dumps({"id": i, "k": rng.randrange(60), "ts": 1600000000000 + i * 10}) + "\n")
with open("dim.csv", "w") as f:
    for k in range(0, 50):
        if rng.random() < 0.8:
            f.write("%d,%s\n" % (k, rng.choice(["a", "b", "c", ""]) + str(k * 7)))
PY
cat > q.sql <<'EOF2'
CREATE STREAM ev (id INTEGER, k INTEGER, ts INTEGER) FROM file('ev.jsonl', format => 'json');
CREATE TABLE dim AS SELECT * FROM file('dim.csv', format => 'csv', columns => 'key INTEGER, v TEXT');
CREATE VIEW E AS SELECT *, PROCTIME() AS pt FROM ev;
SELECT E.id, D.v FROM E JOIN dim FOR SYSTEM_TIME AS OF E.pt AS D ON E.k = D.key
  INTO file('inner.jsonl', format => 'json');
SELECT X.id, D.v FROM (SELECT id, k, PROCTIME() AS p FROM ev) AS X
  LEFT JOIN dim FOR SYSTEM_TIME AS OF p AS D ON X.k = D.key INTO file('left.jsonl', format => 'json');
SELECT k, count(*) AS n, window_start, window_end
  FROM TABLE(TUMBLE(TABLE E, DESCRIPTOR(pt), INTERVAL '5' SECOND))
  GROUP BY k, window_start, window_end INTO file('win.jsonl', format => 'json');
EOF2
t0=$(date +%s%3N)
out=$("$sluice" run q.sql 2>&1) || bad "run: $out"
t1=$(date +%s%3N)
sqlite3 -json ref.db > /dev/null <<'EOF2'
CREATE TABLE ev (id INTEGER, k INTEGER, ts INTEGER);
CREATE TABLE dim (key INTEGER, v TEXT);
.import --csv dim.csv dim
EOF2
"$py" -c '
import json, sqlite3
db = sqlite3.connect("ref.db")
db.executemany("INSERT INTO ev VALUES (?, ?, ?)", [(r["id"], r["k"], r["ts"]) for r in map(json.loads, open("ev.jsonl"))])
db.commit()'
for j in inner left; do
  if [ $j = inner ]; then sql="SELECT ev.id, dim.v FROM ev JOIN dim ON ev.k = dim.key"; else
    sql="SELECT ev.id, dim.v FROM ev LEFT JOIN dim ON ev.k = dim.key"; fi
  sqlite3 ref.db "$sql" | sort > want.txt
  "$py" -c '
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    print("%s|%s" % (r["id"], "" if r["v"] is None else r["v"]))' "$j.jsonl" | sort > got.txt
  [ -s want.txt ] && cmp -s got.txt want.txt && ok || bad "$j lookup join differs from sqlite3"$'\n'"$(diff got.txt want.txt | head)"
done
"$py" - "$t0" "$t1" <<'PY' && ok || bad "windows over PROCTIME()"
import collections, json, sys
t0, t1 = int(sys.argv[1]), int(sys.argv[2])
rows = [json.loads(l) for l in open("win.jsonl")]
per = collections.Counter()
for r in rows:
    per[r["k"]] += r["n"]
    assert r["window_end"] - r["window_start"] == 5000 and r["window_start"] % 5000 == 0, r
    assert t0 - 5000 < r["window_start"] <= t1, (r, t0, t1)
want = collections.Counter(json.loads(l)["k"] for l in open("ev.jsonl"))
assert per == want, (per, want)
PY

err() { # $1 the FROM clause, $2 the expected message
  local out
  out=$("$sluice" -e "CREATE STREAM ev (id INTEGER, k INTEGER, ts INTEGER) FROM file('ev.jsonl', format => 'json');
CREATE TABLE dim (key INTEGER, v TEXT);
SELECT count(*) FROM $1;" 2>&1) && { bad "accepted: $1"; return; }
  contains "error for: $1" "$2" "$out"
}
err "ev JOIN dim FOR SYSTEM_TIME AS OF ev.ts ON ev.k = dim.key" \
  "3:56: error: FOR SYSTEM_TIME AS OF takes the processing time of the stream joined (its PROCTIME() column)"
err "(SELECT *, PROCTIME() AS p FROM ev) AS x JOIN dim FOR SYSTEM_TIME AS OF y.p ON x.k = dim.key" \
  "FOR SYSTEM_TIME AS OF takes the processing time"
err "(SELECT *, PROCTIME() AS p FROM ev) AS x JOIN ev FOR SYSTEM_TIME AS OF x.p AS e2 ON x.k = e2.k" \
  "FOR SYSTEM_TIME AS OF is a lookup of a table joined to a stream: e2 is a stream"
err "dim FOR SYSTEM_TIME AS OF 1 JOIN ev ON ev.k = dim.key" \
  "3:48: error: FOR SYSTEM_TIME AS OF is a lookup of a table joined to a stream: dim is the first item of FROM"
out=$("$sluice" -e "SELECT 1 AS of, 2 AS system_time;" 2>&1)
contains "OF and SYSTEM_TIME as names" '"of":1,"system_time":2' "$out"
finish lookup_join.sh
