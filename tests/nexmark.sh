#!/usr/bin/env bash
# nexmark.sh - Nexmark q0, q1, q2, q3 (stream-table variant), q5, q7, q8 in
# sluice's dialect (sql-examples/nexmark/) over 200,000 generated events,
# each checked against an independent computation in Python over the same
# events.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=${top_srcdir:-$here/..}
sluice=${SLUICE:-$here/../sluice}
py=/usr/bin/python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
. "$here/lib.sh"
nx=$top/sql-examples/nexmark
cd "$work"
$py "$nx/gen.py" nexmark.jsonl 200000 --persons persons.jsonl --seed 4 || exit 1
for q in q0 q1 q2 q3 q5 q7 q8; do
  cat "$nx/events.sql" "$nx/$q.sql" > "$q.sql"
  "$sluice" --stats run "$q.sql" 2> "$q.err" && ! grep -q "[1-9][0-9]* rejected" "$q.err" && ok ||
    { bad "$q run"; cat "$q.err"; }
done

$py - <<'PY' && ok || bad "results against Python"
import collections, json
ev = [json.loads(l) for l in open("nexmark.jsonl")]
bids = [e for e in ev if e["event_type"] == 2]
auctions = [e for e in ev if e["event_type"] == 1]
persons = {e["id"]: e for e in ev if e["event_type"] == 0}
def rows(q):
    return [json.loads(l) for l in open(q + ".jsonl")]
fails = 0
def report(q, ok, detail=""):
    global fails
    print("%s: %s %s" % (q, "ok" if ok else "MISMATCH", detail))
    fails += not ok
r = rows("q0")
report("q0", [(x["auction"], x["bidder"], x["price"], x["dateTime"]) for x in r] ==
       [(b["auction"], b["bidder"], b["price"], b["dateTime"]) for b in bids], "%d rows" % len(r))
r = rows("q1")
report("q1", len(r) == len(bids) and all(abs(x["price"] - 0.908 * b["price"]) <= 1e-9 * b["price"]
                                        for x, b in zip(r, bids)), "%d rows" % len(r))
r = rows("q2")
report("q2", [(x["auction"], x["price"]) for x in r] ==
       [(b["auction"], b["price"]) for b in bids if b["auction"] % 123 == 0], "%d rows" % len(r))
want = collections.Counter((persons[a["seller"]]["name"], persons[a["seller"]]["city"],
                            persons[a["seller"]]["state"], a["id"]) for a in auctions
                           if a["category"] == 10 and a["seller"] in persons
                           and persons[a["seller"]]["state"] in ("OR", "ID", "CA"))
got = collections.Counter((x["name"], x["city"], x["state"], x["id"]) for x in rows("q3"))
report("q3", got == want, "%d rows" % sum(got.values()))
# q5: windows [s, s + 10000), s multiple of 2000
cnt = collections.defaultdict(collections.Counter)
for b in bids:
    s0 = b["dateTime"] // 2000 * 2000
    for s in range(s0 - 8000, s0 + 1, 2000):
        cnt[s][b["auction"]] += 1
want = {}
for s, c in cnt.items():
    a, n = sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))[0]
    want[s] = (a, n)
got = {}
for x in rows("q5"):
    h = x["hot"] if isinstance(x["hot"], list) else json.loads(x["hot"])
    got[x["window_start"]] = (h[0]["value"], h[0]["count"])
report("q5", got == want, "%d windows" % len(got))
# q7: per 10 s window the highest price and its first bid
best = {}
for b in bids:
    s = b["dateTime"] // 10000 * 10000
    if s not in best or b["price"] > best[s]["price"]:
        best[s] = b
got = {x["window_start"]: (x["price"], x["auction"], x["bidder"]) for x in rows("q7")}
report("q7", got == {s: (b["price"], b["auction"], b["bidder"]) for s, b in best.items()},
       "%d windows" % len(got))
# q8: people created in a window who also opened an auction in it
made = collections.defaultdict(set)
for e in ev:
    if e["event_type"] == 1:
        made[e["dateTime"] // 10000 * 10000].add(e["seller"])
want = {(p["id"], p["name"], p["dateTime"] // 10000 * 10000) for p in persons.values()
        if p["id"] in made[p["dateTime"] // 10000 * 10000]}
got = {(x["id"], x["name"], x["window_start"]) for x in rows("q8")}
report("q8", got == want, "%d rows" % len(got))
raise SystemExit(1 if fails else 0)
PY
finish nexmark
