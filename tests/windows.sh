#!/usr/bin/env bash
# windows.sh - GROUP BY, windows and incremental aggregates against the
# sqlite3 library (Python's sqlite3 module) over the same events.
#
# 20,000 purchase events (20 users, 4 products, prices from a list) with
# event times that are out of order by up to 4 s, read through a stream
# declared WATERMARK ts - INTERVAL '5' SECOND (so none is late).  Queries:
#   TUMBLE(ts, 10 s) per user: count, sum, avg, min, max, count(DISTINCT),
#     a FILTER, HAVING, window_start/window_end; stddev/variance and top_k
#     checked in Python (sqlite3 has none);
#   HOP(ts, 5 s, 15 s) per product, with count(DISTINCT) and top_k over
#     hundreds of values per group (1 and 1.0 the same value);
#   SESSION(ts, 1.5 s) per user (sessions merge as out-of-order events
#     bridge them), checked against sessions computed in Python;
#   an unwindowed GROUP BY (a changelog): the last row per user equals the
#     final GROUP BY.
# sqlite3 computes each window as a GROUP BY over (ts / slide) arithmetic.
# Then lateness: a record older than the watermark is counted and dropped,
# and the output is the same whatever the batch size (determinism).
set -u
here=$(cd "$(dirname "$0")" && pwd)
sluice=${SLUICE:-$here/../sluice}
py=/usr/bin/python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
. "$here/lib.sh"

$py - "$work/ev.jsonl" <<'PY'
import json, random, sys
random.seed(5)
users = ["u%02d" % i for i in range(20)]
products = {"Headphones": [5.49, 19.99], "Laptop": [499.0, 899.5], "Phone": [199.0, 349.99],
            "Cable": [1.25, 2.5]}
t = 1_700_000_000_000
with open(sys.argv[1], "w") as f:
    for i in range(20000):
        t += random.randint(0, 60)
        p = random.choice(list(products))
        ev = {"user": random.choice(users), "product": p, "price": random.choice(products[p]),
              "ts": t - random.randint(0, 4000)}
        f.write(json.dumps(ev) + "\n")
PY

cat > "$work/q.sql" <<EOF
CREATE STREAM purchases (user TEXT, product TEXT, price REAL, ts INTEGER)
  FROM file('$work/ev.jsonl', format => 'json') WATERMARK ts - INTERVAL '5' SECOND;
SELECT user, window_start, window_end, count(*) AS n, sum(price) AS revenue, avg(price) AS mean,
       min(price) AS lo, max(price) AS hi, count(DISTINCT product) AS products,
       count(*) FILTER (WHERE price > 100) AS big, stddev(price) AS sd, var_pop(price) AS vp,
       top_k(product, 2) AS top
FROM purchases GROUP BY user, TUMBLE(ts, INTERVAL '10' SECOND) HAVING count(*) > 1
INTO file('$work/tumble.jsonl', format => 'json');
SELECT product, window_start AS ws, count(*) AS n, round(sum(price), 2) AS revenue,
       count(DISTINCT CASE WHEN ts % 2 = 0 THEN ts % 301 ELSE (ts % 301) * 1.0 END) AS d,
       top_k(ts % 40, 3) AS tk
FROM purchases GROUP BY product, HOP(ts, INTERVAL '5' SECOND, INTERVAL '15' SECOND)
INTO file('$work/hop.jsonl', format => 'json');
SELECT user, count(*) AS n, total(price) AS revenue FROM purchases GROUP BY user EMIT CHANGES
INTO file('$work/changes.jsonl', format => 'json');
SELECT user, window_start, window_end, count(*) AS n, total(price) AS revenue,
       count(DISTINCT product) AS products
FROM purchases GROUP BY user, SESSION(ts, INTERVAL '1500' MILLISECOND)
INTO file('$work/sessions.jsonl', format => 'json');
EOF
"$sluice" --stats run "$work/q.sql" 2> "$work/q.err" && ok || { bad "run"; cat "$work/q.err"; }
grep -q " 0 rejected" "$work/q.err" && ! grep -q "[1-9][0-9]* rejected" "$work/q.err" && ok ||
  { bad "nothing is late with a 5 s watermark"; cat "$work/q.err"; }

$py - "$work" <<'PY' && ok || bad "results against sqlite3"
import json, math, sqlite3, statistics, sys
from collections import Counter
w = sys.argv[1]
db = sqlite3.connect(":memory:")
db.execute("CREATE TABLE p(user TEXT, product TEXT, price REAL, ts INTEGER)")
evs = [json.loads(l) for l in open(w + "/ev.jsonl")]
db.executemany("INSERT INTO p VALUES (?,?,?,?)", [(e["user"], e["product"], e["price"], e["ts"]) for e in evs])
fails = 0
def close(a, b):
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return a == b
# TUMBLE
want = {}
for r in db.execute("""SELECT user, (ts / 10000) * 10000 AS ws, count(*), sum(price), avg(price),
        min(price), max(price), count(DISTINCT product), count(*) FILTER (WHERE price > 100)
        FROM p GROUP BY user, ws HAVING count(*) > 1"""):
    want[(r[0], r[1])] = r[2:]
prices, prods = {}, {}
for e in evs:
    prices.setdefault((e["user"], e["ts"] // 10000 * 10000), []).append(e["price"])
    prods.setdefault((e["user"], e["ts"] // 10000 * 10000), []).append(e["product"])
got = [json.loads(l) for l in open(w + "/tumble.jsonl")]
if len(got) != len(want):
    print("tumble: %d rows, sqlite3 %d" % (len(got), len(want))); fails += 1
for g in got:
    k = (g["user"], g["window_start"])
    exp = want.get(k)
    mine = (g["n"], g["revenue"], g["mean"], g["lo"], g["hi"], g["products"], g["big"])
    if exp is None or not all(close(a, b) for a, b in zip(mine, exp)) or g["window_end"] != k[1] + 10000:
        fails += 1
        if fails < 5: print("tumble mismatch", k, mine, exp)
    from collections import Counter
    top = sorted(Counter(prods[k]).items(), key=lambda kv: (-kv[1], kv[0]))[:2]
    if (g["top"] if isinstance(g["top"], list) else json.loads(g["top"])) != [{"value": v, "count": c} for v, c in top]:
        fails += 1
        if fails < 5: print("top_k mismatch", k, g["top"], top)
    ps = prices[k]
    if not close(g["sd"], statistics.stdev(ps)) or not close(g["vp"], statistics.pvariance(ps)):
        fails += 1
        if fails < 5: print("stddev mismatch", k, g["sd"], statistics.stdev(ps))
# HOP: each event is in the 3 windows starting at floor(ts/5000)*5000 - k*5000, k = 0..2
want = {}
for r in db.execute("""WITH k(k) AS (VALUES (0), (1), (2))
        SELECT product, (ts / 5000) * 5000 - k * 5000 AS ws, count(*), round(sum(price), 2),
        count(DISTINCT CASE WHEN ts % 2 = 0 THEN ts % 301 ELSE (ts % 301) * 1.0 END)
        FROM p, k GROUP BY product, ws"""):
    want[(r[0], r[1])] = r[2:]
mods = {}
for e in evs:
    for k in range(3):
        mods.setdefault((e["product"], e["ts"] // 5000 * 5000 - k * 5000), []).append(e["ts"] % 40)
got = [json.loads(l) for l in open(w + "/hop.jsonl")]
if len(got) != len(want):
    print("hop: %d rows, sqlite3 %d" % (len(got), len(want))); fails += 1
for g in got:
    k = (g["product"], g["ws"])
    exp = want.get(k)
    if exp is None or not (g["n"] == exp[0] and close(g["revenue"], exp[1]) and g["d"] == exp[2]):
        fails += 1
        if fails < 5: print("hop mismatch", g, exp)
    top = sorted(Counter(mods[k]).items(), key=lambda kv: (-kv[1], kv[0]))[:3]
    if (g["tk"] if isinstance(g["tk"], list) else json.loads(g["tk"])) != [{"value": v, "count": c} for v, c in top]:
        fails += 1
        if fails < 5: print("hop top_k mismatch", k, g["tk"], top)
# changelog: the last row per user is the final aggregate; counts only grow
last = {}
for l in open(w + "/changes.jsonl"):
    g = json.loads(l)
    if g["user"] in last and g["n"] <= last[g["user"]]["n"]:
        fails += 1
    last[g["user"]] = g
want = {r[0]: r[1:] for r in db.execute("SELECT user, count(*), total(price) FROM p GROUP BY user")}
if set(last) != set(want): fails += 1
for u, g in last.items():
    if not (g["n"] == want[u][0] and close(g["revenue"], want[u][1])):
        fails += 1; print("changelog mismatch", u, g, want[u])
# sessions: per user, events closer than the gap chain into one session
# [first, last + gap); computed here by sorting, sluice merges as they come
by_user = {}
for e in evs:
    by_user.setdefault(e["user"], []).append(e)
want = {}
for u, es in by_user.items():
    es.sort(key=lambda e: e["ts"])
    cur = None
    for e in es:
        if cur and e["ts"] < cur["end"]:
            cur["end"] = e["ts"] + 1500
            cur["rows"].append(e)
        else:
            cur = {"start": e["ts"], "end": e["ts"] + 1500, "rows": [e]}
            want[(u, cur["start"])] = cur
got = [json.loads(l) for l in open(w + "/sessions.jsonl")]
if len(got) != len(want):
    print("sessions: %d, want %d" % (len(got), len(want))); fails += 1
for g in got:
    c = want.get((g["user"], g["window_start"]))
    if (not c or g["window_end"] != c["end"] or g["n"] != len(c["rows"])
            or not close(g["revenue"], sum(e["price"] for e in c["rows"]))
            or g["products"] != len({e["product"] for e in c["rows"]})):
        fails += 1
        if fails < 5: print("session mismatch", g, c and (c["end"], len(c["rows"])))
print("windows: tumble, hop, sessions and changelog checked against sqlite3/Python: %d mismatches" % fails)
sys.exit(1 if fails else 0)
PY

# lateness: with no allowed lateness, the out-of-order events behind the
# watermark are late: counted, logged, dropped; the result does not depend
# on the batch size
cat > "$work/late.sql" <<EOF
SELECT user, window_start, count(*) AS n FROM file('$work/ev.jsonl', format => 'json',
  columns => 'user TEXT, product TEXT, price REAL, ts INTEGER')
GROUP BY user, TUMBLE(ts, INTERVAL '10' SECOND)
INTO file('$work/late.jsonl', format => 'json');
EOF
"$sluice" --stats run "$work/late.sql" 2> "$work/late.err"
late=$(grep -o "[0-9]* rejected" "$work/late.err" | head -n 1 | cut -d' ' -f1)
[ "${late:-0}" -gt 0 ] && grep -q "late record" "$work/late.err" && ok || { bad "late records counted"; cat "$work/late.err"; }
# the same with one record per batch: byte for byte the same output
"$sluice" --stats -e "SET batch_size = 1; $(cat "$work/late.sql" | sed "s|late.jsonl|late1.jsonl|")" 2> "$work/late1.err"
cmp -s "$work/late.jsonl" "$work/late1.jsonl" && ok || bad "output depends on the batch size"

# EMIT CHANGES on windows that close inside a batch (a backlog read from a
# file closes many per batch): at every batch size, the last change of each
# (key, window) equals the row the same query emits ON CLOSE, and no window
# is missing or extra; TUMBLE and HOP, late records dropped alike.
for win in "TUMBLE(ts, INTERVAL '10' SECOND)" "HOP(ts, INTERVAL '5' SECOND, INTERVAL '15' SECOND)"; do
  q="SELECT user, window_start, count(*) AS n, sum(price) AS s, max(price) AS hi
FROM file('$work/ev.jsonl', format => 'json', columns => 'user TEXT, product TEXT, price REAL, ts INTEGER')
GROUP BY user, $win"
  "$sluice" -e "$q;" > "$work/close.jsonl" 2> /dev/null
  for bs in 1 2 3 7 64 1024; do
    "$sluice" -e "SET batch_size = $bs; $q EMIT CHANGES;" > "$work/changes.jsonl" 2> "$work/changes.err"
    rc=$?
    $py - "$work/close.jsonl" "$work/changes.jsonl" <<'PY' && [ $rc = 0 ] && ok || { bad "EMIT CHANGES, $win, batch_size $bs (exit $rc)"; head -5 "$work/changes.err"; }
import json, sys
close = {(r["user"], r["window_start"]): r for r in map(json.loads, open(sys.argv[1]))}
last = {}
for r in map(json.loads, open(sys.argv[2])):
    last[(r["user"], r["window_start"])] = r
bad = [k for k in close if last.get(k) != close[k]] + [k for k in last if k not in close]
if bad or not close:
    print("%d windows on close, %d in the changelog, %d differ, e.g. %s" % (len(close), len(last), len(bad), bad[:3]))
    sys.exit(1)
PY
  done
done
finish windows
