#!/usr/bin/env bash
# joins.sh - stream-table joins against the sqlite3 library (Python's sqlite3
# module) over the same data: 5,000 purchase events (JSON lines) enriched
# from a users table read two ways: sqlite('users.db', 'users') and a CSV
# file with a header.  Inner join, LEFT JOIN with a
# condition on the table in ON, a key expression on the stream side
# (lower(name) = t.name), an INTEGER key met by TEXT, a key many rows of the
# table share (and NULL keys on both sides: they match nothing), and a join
# feeding a GROUP BY; and stream-stream interval joins (clicks within 5 s of
# an impression), inner and LEFT (an impression without a click once, with
# NULLs).  Rows are compared as multisets, those of the shared key
# in order (each record's matches in table order).
set -u
here=$(cd "$(dirname "$0")" && pwd)
sluice=${SLUICE:-$here/../sluice}
py=/usr/bin/python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
. "$here/lib.sh"

$py - "$work" <<'PY'
import json, random, sqlite3, sys
w = sys.argv[1]
random.seed(9)
db = sqlite3.connect(w + "/users.db")
db.execute("CREATE TABLE users(id INTEGER, name TEXT, country TEXT, tier TEXT)")
users = [(i, "u%02d" % i, random.choice(["FR", "DE", "US", None]), random.choice(["gold", "silver"]))
         for i in range(30)]  # ids 30..39 of the events have no user
db.executemany("INSERT INTO users VALUES (?,?,?,?)", users)
db.commit()
with open(w + "/users.csv", "w") as f:
    f.write("id,name,country,tier\n")
    for u in users:
        f.write("%d,%s,%s,%s\n" % (u[0], u[1], u[2] or "", u[3]))
with open(w + "/ev.jsonl", "w") as f:
    for i in range(5000):
        uid = random.randrange(40)
        ev = {"uid": uid if i % 7 else str(uid), "name": ("U%02d" % uid), "price": random.choice([1.5, 2, 7.25]), "n": i}
        f.write(json.dumps(ev) + "\n")
PY

ev="file('$work/ev.jsonl', format => 'json', columns => 'uid INTEGER, name TEXT, price REAL, n INTEGER')"
cat > "$work/q.sql" <<EOF
SELECT e.n, u.name, u.country, e.price FROM $ev AS e JOIN sqlite('$work/users.db', 'users') AS u
  ON e.uid = u.id INTO file('$work/inner.jsonl', format => 'json');
SELECT e.n, u.tier FROM $ev AS e LEFT JOIN sqlite('$work/users.db', 'users') AS u
  ON u.id = e.uid AND u.tier = 'gold' INTO file('$work/left.jsonl', format => 'json');
SELECT e.n, u.id FROM $ev AS e JOIN file('$work/users.csv', format => 'csv', header => true,
  columns => 'id INTEGER, name TEXT, country TEXT, tier TEXT') AS u
  ON u.name = lower(e.name) INTO file('$work/expr.jsonl', format => 'json');
SELECT u.country, count(*) AS n, sum(e.price) AS revenue
  FROM $ev AS e JOIN sqlite('$work/users.db', 'users') AS u ON e.uid = u.id
  GROUP BY u.country INTO file('$work/agg.jsonl', format => 'json');
SELECT e.n, u.id FROM $ev AS e LEFT JOIN sqlite('$work/users.db', 'users') AS u
  ON u.country = CASE e.n % 4 WHEN 0 THEN 'FR' WHEN 1 THEN 'DE' WHEN 2 THEN 'US' END
  INTO file('$work/shared.jsonl', format => 'json');
EOF
"$sluice" --stats run "$work/q.sql" 2> "$work/q.err" && ok || { bad "run"; cat "$work/q.err"; }

$py - "$work" <<'PY' && ok || bad "joins against sqlite3"
import collections, json, sqlite3, sys
w = sys.argv[1]
db = sqlite3.connect(w + "/users.db")
db.execute("CREATE TEMP TABLE e(uid INTEGER, name TEXT, price REAL, n INTEGER)")
db.executemany("INSERT INTO e VALUES (?,?,?,?)",
               [(r["uid"], r["name"], r["price"], r["n"]) for r in map(json.loads, open(w + "/ev.jsonl"))])
fails = 0
def check(name, sql, cols, changelog=False, ordered=False):
    global fails
    want = collections.Counter(tuple(r) for r in db.execute(sql))
    rows = [tuple(r[c] for c in cols) for r in map(json.loads, open(w + "/" + name + ".jsonl"))]
    if changelog:  # the last row per key
        rows = list({r[0]: r for r in rows}.values())
    got = collections.Counter(rows)
    if ordered and rows != [tuple(r) for r in db.execute(sql)]:
        fails += 1
        print("%s: not in the order of sqlite3's ORDER BY" % name)
    elif want != got:
        fails += 1
        print("%s: %d rows, sqlite3 %d; e.g. only sluice %s, only sqlite3 %s" % (
            name, sum(got.values()), sum(want.values()), list((got - want).items())[:2],
            list((want - got).items())[:2]))
    else:
        print("%s: %d rows, same as sqlite3" % (name, sum(got.values())))
check("inner", "SELECT e.n, u.name, u.country, e.price FROM e JOIN users u ON e.uid = u.id",
      ["n", "name", "country", "price"])
check("left", "SELECT e.n, u.tier FROM e LEFT JOIN users u ON u.id = e.uid AND u.tier = 'gold'",
      ["n", "tier"])
check("expr", "SELECT e.n, u.id FROM e JOIN users u ON u.name = lower(e.name)", ["n", "id"])
check("agg", "SELECT u.country, count(*), sum(e.price) FROM e JOIN users u ON e.uid = u.id GROUP BY u.country",
      ["country", "n", "revenue"], changelog=True)
check("shared", """SELECT e.n, u.id FROM e LEFT JOIN users u
      ON u.country = CASE e.n % 4 WHEN 0 THEN 'FR' WHEN 1 THEN 'DE' WHEN 2 THEN 'US' END
      ORDER BY e.n, u.rowid""", ["n", "id"], ordered=True)
sys.exit(1 if fails else 0)
PY
# stream-stream interval join: impressions and clicks, two files read by two
# tasks (two threads); a click joins the impressions of its ad in the 5 s
# before it
$py - "$work" <<'PY'
import json, random, sys
w = sys.argv[1]
random.seed(12)
t = 1700000000000
with open(w + "/imp.jsonl", "w") as f:
    for i in range(4000):
        t += random.randrange(0, 40)
        f.write(json.dumps({"ad": random.randrange(50), "ts": t, "imp": i}) + "\n")
t = 1700000000000
with open(w + "/clk.jsonl", "w") as f:
    for i in range(1500):
        t += random.randrange(0, 100)
        f.write(json.dumps({"ad": random.randrange(50), "ts": t, "clk": i}) + "\n")
PY
"$sluice" --stats -e "SELECT i.imp, c.clk, c.ts - i.ts AS delay
  FROM file('$work/imp.jsonl', format => 'json') AS i
  JOIN file('$work/clk.jsonl', format => 'json') AS c
    ON i.ad = c.ad AND c.ts BETWEEN i.ts AND i.ts + INTERVAL '5' SECOND
  INTO file('$work/ij.jsonl', format => 'json')" 2> "$work/ij.err" && ok || { bad "interval join run"; cat "$work/ij.err"; }
$py - "$work" <<'PY' && ok || bad "interval join against sqlite3"
import collections, json, sqlite3, sys
w = sys.argv[1]
db = sqlite3.connect(":memory:")
db.execute("CREATE TABLE i(ad, ts, imp)")
db.execute("CREATE TABLE c(ad, ts, clk)")
db.executemany("INSERT INTO i VALUES (:ad, :ts, :imp)", map(json.loads, open(w + "/imp.jsonl")))
db.executemany("INSERT INTO c VALUES (:ad, :ts, :clk)", map(json.loads, open(w + "/clk.jsonl")))
want = collections.Counter(db.execute(
    "SELECT i.imp, c.clk, c.ts - i.ts FROM i JOIN c ON i.ad = c.ad AND c.ts BETWEEN i.ts AND i.ts + 5000"))
got = collections.Counter((r["imp"], r["clk"], r["delay"]) for r in map(json.loads, open(w + "/ij.jsonl")))
print("interval join: %d rows, sqlite3 %d" % (sum(got.values()), sum(want.values())))
sys.exit(0 if got == want else 1)
PY

# LEFT interval join: impressions without a click in the 5 s after them come
# out once with NULLs (when the clicks' watermark passes them, or at the end),
# NULL ads included (they meet nothing)
$py - "$work" <<'PY'
import json, random, sys
w = sys.argv[1]
random.seed(13)
t = 1700000000000
with open(w + "/limp.jsonl", "w") as f:
    for i in range(3000):
        t += random.randrange(0, 40)
        f.write(json.dumps({"ad": random.choice([None] + list(range(60))), "ts": t, "imp": i}) + "\n")
t = 1700000000000
with open(w + "/lclk.jsonl", "w") as f:
    for i in range(800):
        t += random.randrange(0, 150)
        f.write(json.dumps({"ad": random.randrange(60), "ts": t, "clk": i}) + "\n")
PY
"$sluice" -e "SELECT i.imp, c.clk, c.ts - i.ts AS delay
  FROM file('$work/limp.jsonl', format => 'json') AS i
  LEFT JOIN file('$work/lclk.jsonl', format => 'json') AS c
    ON i.ad = c.ad AND c.ts BETWEEN i.ts AND i.ts + INTERVAL '5' SECOND
  INTO file('$work/lj.jsonl', format => 'json')" 2> "$work/lj.err" && ok || { bad "LEFT interval join run"; cat "$work/lj.err"; }
$py - "$work" <<'PY' && ok || bad "LEFT interval join against sqlite3"
import collections, json, sqlite3, sys
w = sys.argv[1]
db = sqlite3.connect(":memory:")
db.execute("CREATE TABLE i(ad, ts, imp)")
db.execute("CREATE TABLE c(ad, ts, clk)")
db.executemany("INSERT INTO i VALUES (:ad, :ts, :imp)", map(json.loads, open(w + "/limp.jsonl")))
db.executemany("INSERT INTO c VALUES (:ad, :ts, :clk)", map(json.loads, open(w + "/lclk.jsonl")))
want = collections.Counter(db.execute(
    "SELECT i.imp, c.clk, c.ts - i.ts FROM i LEFT JOIN c ON i.ad = c.ad AND c.ts BETWEEN i.ts AND i.ts + 5000"))
got = collections.Counter((r["imp"], r["clk"], r["delay"]) for r in map(json.loads, open(w + "/lj.jsonl")))
print("LEFT interval join: %d rows (%d without a click), sqlite3 %d"
      % (sum(got.values()), sum(c for k, c in got.items() if k[1] is None), sum(want.values())))
sys.exit(0 if got == want else 1)
PY

finish joins
