#!/usr/bin/env bash
# nexmark.sh - Nexmark's queries in sluice's dialect (sql-examples/nexmark/):
# q0-q9, q11-q13, q18-q20, q23 (q5, q7, q8, q9 in their standard join
# forms, and the variants with top_k, max_by, one GROUP BY) over 200,000
# generated events, each checked against an independent computation in
# Python over the same events (q6 too); then q10, q14-q17, q21, q22 and again q4-q9
# over 100,000 events 500 ms apart (so that they span 14 hours and two days:
# HOUR and DATE_FORMAT see them change, q7's windows are many, and q6's
# frames have one order: no two bids at the same time).
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
for q in q0 q1 q2 q3 q3_table q4 q5 q5_topk q6 q7 q7_maxby q8 q8_group q9 q9_maxby q11 q18 q19 q20 q23; do
  cat "$nx/events.sql" "$nx/$q.sql" > "$q.sql"
  "$sluice" --stats run "$q.sql" 2> "$q.err" && ! grep -q "[1-9][0-9]* rejected" "$q.err" && ok ||
    { bad "$q run"; cat "$q.err"; }
done
# q18 and q19 over the events as a stream (stdin, which does not end as a
# file does): the incremental Top-N (op_topn), whose changelog's last row
# per key is the result; over the file above they are final rows (op_window)
for q in q18 q19; do
  sed "s/file('nexmark.jsonl', format => 'json')/stdin(format => 'json')/" "$nx/events.sql" > "s_$q.sql"
  sed "s/'$q.jsonl'/'s_$q.jsonl'/" "$nx/$q.sql" >> "s_$q.sql"
  { cat "s_$q.sql" | sed '/^SELECT/,$d'; echo EXPLAIN; sed -n '/^SELECT/,$p' "$nx/$q.sql"; } > "x_$q.sql"
  contains "$q over a stream: op_topn" '"plan":"topn: ' "$("$sluice" run "x_$q.sql" 2>&1)"
  "$sluice" --stats run "s_$q.sql" < nexmark.jsonl 2> "s_$q.err" && ! grep -q "[1-9][0-9]* rejected" "s_$q.err" && ok ||
    { bad "$q over a stream"; cat "s_$q.err"; }
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
got = collections.Counter((x["name"], x["city"], x["state"], x["id"]) for x in rows("q3_table"))
report("q3 (stream-table)", got == want, "%d rows" % sum(got.values()))
# q11: per bidder, sessions of bids less than 10 s apart: [first, last + 10 s)
times = collections.defaultdict(list)
for b in bids:
    times[b["bidder"]].append(b["dateTime"])
want = collections.Counter()
for who, ts in times.items():
    ts.sort()
    first = last = ts[0]
    n = 1
    for t in ts[1:]:
        if t - last >= 10000:
            want[(who, n, first, last + 10000)] += 1
            first, n = t, 0
        last = t
        n += 1
    want[(who, n, first, last + 10000)] += 1
got = collections.Counter((x["bidder"], x["bid_count"], x["starttime"], x["endtime"]) for x in rows("q11"))
report("q11", got == want, "%d sessions" % sum(got.values()))
# q20: every bid of a category-10 auction with its auction, whichever came first
auc = {a["id"]: a for a in auctions}
want = collections.Counter((b["auction"], b["bidder"], b["price"], b["dateTime"], auc[b["auction"]]["dateTime"],
                            auc[b["auction"]]["seller"], auc[b["auction"]]["itemName"])
                           for b in bids if b["auction"] in auc and auc[b["auction"]]["category"] == 10)
got = collections.Counter((x["auction"], x["bidder"], x["price"], x["dateTime"], x["auction_dateTime"],
                           x["seller"], x["itemName"]) for x in rows("q20"))
report("q20", got == want, "%d rows" % sum(got.values()))
# q23: every bid with its bidder's person and each auction the bidder sells
# (a three-way join of the streams), whichever of the three came last;
# every column compared
by_seller = collections.defaultdict(list)
for a in auctions:
    by_seller[a["seller"]].append(a)
cols23 = ("bidder", "price", "channel", "url", "bid_extra", "person_id", "name", "emailAddress",
          "creditCard", "city", "state", "person_extra", "itemName", "description", "initialBid",
          "reserve", "auction_dateTime", "expires", "seller", "category", "auction_extra")
want = collections.Counter()
for b in bids:
    p = persons.get(b["bidder"])
    for a in by_seller[b["bidder"]] if p else ():
        want[(b["bidder"], b["price"], b["channel"], b["url"], b["extra"], p["id"], p["name"],
              p["emailAddress"], p["creditCard"], p["city"], p["state"], p["extra"], a["itemName"],
              a["description"], a["initialBid"], a["reserve"], a["dateTime"], a["expires"],
              a["seller"], a["category"], a["extra"])] += 1
r = rows("q23")
got = collections.Counter(tuple(x[c] for c in cols23) for x in r)
report("q23", got == want and all(len(x) == len(cols23) for x in r), "%d rows" % len(r))
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
for x in rows("q5_topk"):
    h = x["hot"] if isinstance(x["hot"], list) else json.loads(x["hot"])
    got[x["window_start"]] = (h[0]["value"], h[0]["count"])
report("q5 (top_k)", got == want, "%d windows" % len(got))
# q7: per 10 s window the highest price and its first bid
best = {}
for b in bids:
    s = b["dateTime"] // 10000 * 10000
    if s not in best or b["price"] > best[s]["price"]:
        best[s] = b
got = {x["window_start"]: (x["price"], x["auction"], x["bidder"]) for x in rows("q7_maxby")}
report("q7 (max_by)", got == {s: (b["price"], b["auction"], b["bidder"]) for s, b in best.items()},
       "%d windows" % len(got))
# q8: people created in a window who also opened an auction in it
made = collections.defaultdict(set)
for e in ev:
    if e["event_type"] == 1:
        made[e["dateTime"] // 10000 * 10000].add(e["seller"])
want = {(p["id"], p["name"], p["dateTime"] // 10000 * 10000) for p in persons.values()
        if p["id"] in made[p["dateTime"] // 10000 * 10000]}
got = {(x["id"], x["name"], x["window_start"]) for x in rows("q8_group")}
report("q8 (one GROUP BY)", got == want, "%d rows" % len(got))
# q18: per (bidder, auction) its latest bid (of equal times the first);
# from the file the final rows, from the stream the changelog's last row
# per key
last = {}
for b in bids:
    k = (b["bidder"], b["auction"])
    if k not in last or b["dateTime"] > last[k]["dateTime"]:
        last[k] = b
want = {k: (b["price"], b["dateTime"], b["url"]) for k, b in last.items()}
r = rows("q18")
got = {(x["bidder"], x["auction"]): (x["price"], x["dateTime"], x["url"]) for x in r}
report("q18", got == want and len(r) == len(want), "%d keys" % len(want))
got = {}
for x in rows("s_q18"):
    got[(x["bidder"], x["auction"])] = (x["price"], x["dateTime"], x["url"])
report("q18 (stream)", got == want, "%d keys" % len(want))
# q19: per auction the 10 highest bids, ranked (ties in arrival order)
per = collections.defaultdict(list)
for b in bids:
    per[b["auction"]].append(b)
want = {}
for a, l in per.items():
    for i, b in enumerate(sorted(l, key=lambda b: -b["price"])[:10]):
        want[(a, i + 1)] = (b["bidder"], b["price"], b["dateTime"])
r = rows("q19")
got = {(x["auction"], x["rank_number"]): (x["bidder"], x["price"], x["dateTime"]) for x in r}
report("q19", got == want and len(r) == len(want), "%d ranks" % len(want))
got = {}
for x in rows("s_q19"):
    got[(x["auction"], x["rank_number"])] = (x["bidder"], x["price"], x["dateTime"])
report("q19 (stream)", got == want, "%d ranks" % len(want))
raise SystemExit(1 if fails else 0)
PY
# q4, q5, q7, q8, q9 in their standard join forms, ties kept, and q6 (here and
# over the events of 14 hours below)
cat > joins.py <<'PY'
import collections, json
ev = [json.loads(l) for l in open("nexmark.jsonl")]
bids = [e for e in ev if e["event_type"] == 2]
def rows(q):
    return [json.loads(l) for l in open(q + ".jsonl")]
fails = 0
def report(q, ok, detail=""):
    global fails
    print("%s: %s %s" % (q, "ok" if ok else "MISMATCH", detail))
    fails += not ok
# q5: per HOP window [s, s + 10 s), s a multiple of 2 s, every auction with the most bids
cnt = collections.defaultdict(collections.Counter)
for b in bids:
    s0 = b["dateTime"] // 2000 * 2000
    for s in range(s0 - 8000, s0 + 1, 2000):
        cnt[s][b["auction"]] += 1
want = collections.Counter()
for s, c in cnt.items():
    m = max(c.values())
    want.update((a, n) for a, n in c.items() if n == m)
got = collections.Counter((x["auction"], x["num"]) for x in rows("q5"))
report("q5", got == want, "%d rows, %d windows" % (sum(got.values()), len(cnt)))
# q7: per TUMBLE window ending at w, its highest price; every bid of that
# price within [w - 10 s, w]
top = {}
for b in bids:
    w = b["dateTime"] // 10000 * 10000 + 10000
    top[w] = max(top.get(w, b["price"]), b["price"])
want = collections.Counter()
for w, p in top.items():
    want.update((b["auction"], b["price"], b["bidder"], b["dateTime"]) for b in bids
                if b["price"] == p and w - 10000 <= b["dateTime"] <= w)
got = collections.Counter((x["auction"], x["price"], x["bidder"], x["dateTime"]) for x in rows("q7"))
report("q7", got == want, "%d rows, %d windows" % (sum(got.values()), len(top)))
# q8: persons (id, name, window) with an auction of theirs in the same window
sellers = {(e["seller"], e["dateTime"] // 10000 * 10000) for e in ev if e["event_type"] == 1}
want = collections.Counter({(p["id"], p["name"], p["dateTime"] // 10000 * 10000) for p in ev
                            if p["event_type"] == 0
                            and (p["id"], p["dateTime"] // 10000 * 10000) in sellers})
got = collections.Counter((x["id"], x["name"], x["starttime"]) for x in rows("q8"))
report("q8", got == want, "%d rows" % sum(got.values()))
# q9: per auction, of the bids of its id within [dateTime, expires], the
# highest price, the earliest on a tie; the last row of an auction is its winner
win = {}
auc = {e["id"]: e for e in ev if e["event_type"] == 1}
for b in bids:
    a = auc.get(b["auction"])
    if a is None or not a["dateTime"] <= b["dateTime"] <= a["expires"]:
        continue
    w = win.get(a["id"])
    if w is None or (b["price"], -b["dateTime"]) > (w["price"], -w["dateTime"]):
        win[a["id"]] = b
want = {i: (auc[i]["seller"], auc[i]["expires"], b["auction"], b["bidder"], b["price"], b["dateTime"])
        for i, b in win.items()}
for q in ("q9", "q9_maxby"):
    got = {x["id"]: (x["seller"], x["expires"], x["auction"], x["bidder"], x["price"], x["bid_dateTime"])
           for x in rows(q)}
    report(q, got == want, "%d auctions with a winner" % len(got))
# q4: per category the average of its auctions' winning prices (the last row
# of a category is its result)
per = collections.defaultdict(list)
for i, b in win.items():
    per[auc[i]["category"]].append(b["price"])
want = {c: sum(v) / len(v) for c, v in per.items()}
got = {x["category"]: x["avg_final"] for x in rows("q4")}
report("q4", got.keys() == want.keys() and all(abs(got[c] - want[c]) <= 1e-9 * want[c] for c in want),
       "%d categories" % len(got))
# q6: per seller, over its winning bids in time order, the average price of
# each one and the 10 before it.  ROW_NUMBER breaks a tie of prices in an
# auction and the OVER's ORDER BY a tie of times as it may: a seller with
# either tie is checked by its number of rows only (over the events 500 ms
# apart no two bids share a time)
top = collections.Counter()
for b in bids:
    a = auc.get(b["auction"])
    if a and a["dateTime"] <= b["dateTime"] <= a["expires"] and b["price"] == win[a["id"]]["price"]:
        top[a["id"]] += 1
per = collections.defaultdict(list)
tied = set()
for i, b in win.items():
    per[auc[i]["seller"]].append((b["dateTime"], b["price"]))
    if top[i] > 1:
        tied.add(auc[i]["seller"])
want = collections.Counter()
for s, l in per.items():
    l.sort()
    if len({t for t, _ in l}) < len(l):
        tied.add(s)
    for k in range(len(l)):
        f = [p for _, p in l[max(0, k - 10):k + 1]]
        want[(s, None if s in tied else round(sum(f) / len(f), 3))] += 1
got = collections.Counter((x["seller"], None if x["seller"] in tied else round(x["avg_price"], 3))
                          for x in rows("q6"))
report("q6", got == want, "%d rows, %d sellers (%d with ties)" % (sum(got.values()), len(per), len(tied)))
raise SystemExit(1 if fails else 0)
PY
$py joins.py && ok || bad "q4, q5, q6, q7, q8, q9 (join forms) against Python"

# ---- processing time: q12 (windows of the clock), q13 (a lookup join) -------
# q12's counts depend on the clock; what does not: every bid is counted once,
# in 10 s windows aligned on the clock's multiples of 10 s that overlap the
# run.  q13: each bid once, with the side input's value of auction mod 10000.
$py -c '
import random
rng = random.Random(13)
for k in range(10000): print("%d,%s" % (k, rng.choice(["", "x"]) + str(rng.randrange(10**6))))' > side_input.csv
for q in q12 q13; do
  cat "$nx/events.sql" "$nx/$q.sql" > "$q.sql"
  t0=$(date +%s%3N)
  "$sluice" --stats run "$q.sql" 2> "$q.err" && ! grep -q "[1-9][0-9]* rejected" "$q.err" && ok ||
    { bad "$q run"; cat "$q.err"; }
  t1=$(date +%s%3N)
  echo "$t0 $t1" > "$q.clock"
done
$py - <<'PY' && ok || bad "q12, q13 against Python"
import collections, csv, json
ev = [json.loads(l) for l in open("nexmark.jsonl")]
bids = [e for e in ev if e["event_type"] == 2]
fails = 0
def report(q, ok, detail=""):
    global fails
    print("%s: %s %s" % (q, "ok" if ok else "MISMATCH", detail))
    fails += not ok
r = [json.loads(l) for l in open("q12.jsonl")]
t0, t1 = map(int, open("q12.clock").read().split())
per = collections.Counter()
for x in r:
    per[x["bidder"]] += x["bid_count"]
keys = collections.Counter((x["bidder"], x["starttime"]) for x in r)
report("q12", per == collections.Counter(b["bidder"] for b in bids) and max(keys.values()) == 1 and
       all(x["endtime"] - x["starttime"] == 10000 and x["starttime"] % 10000 == 0 and
           t0 - 10000 < x["starttime"] <= t1 for x in r), "%d windows" % len(r))
side = {int(k): v for k, v in csv.reader(open("side_input.csv"))}
want = collections.Counter((b["auction"], b["bidder"], b["price"], b["dateTime"], side[b["auction"] % 10000])
                           for b in bids)
got = collections.Counter((x["auction"], x["bidder"], x["price"], x["dateTime"], x["value"])
                          for x in (json.loads(l) for l in open("q13.jsonl")))
report("q13", got == want, "%d rows" % sum(got.values()))
raise SystemExit(1 if fails else 0)
PY

# ---- the queries of the Flink functions, over 14 hours of events -------------
mkdir slow && cd slow || exit 1
$py "$nx/gen.py" nexmark.jsonl 100000 --seed 5 --rate 2 || exit 1
slowq="q10 q14 q15 q16 q17 q21 q22 q4 q5 q6 q7 q8 q9 q9_maxby"
for q in $slowq; do
  cat "$nx/events.sql" "$nx/$q.sql" > "$q.sql"
  "$sluice" --stats run "$q.sql" 2> "$q.err" && ! grep -q "[1-9][0-9]* rejected" "$q.err" && ok ||
    { bad "$q run"; cat "$q.err"; }
done
$py - <<'PY' && ok || bad "q10, q14-q17, q21, q22 against Python"
import collections, csv, datetime, json, os, re
ev = [json.loads(l) for l in open("nexmark.jsonl")]
bids = [e for e in ev if e["event_type"] == 2]
def utc(ms):
    return datetime.datetime(1970, 1, 1) + datetime.timedelta(milliseconds=ms)
def rows(q):
    return [json.loads(l) for l in open(q + ".jsonl")]
fails = 0
def report(q, ok, detail=""):
    global fails
    print("%s: %s %s" % (q, "ok" if ok else "MISMATCH", detail))
    fails += not ok
def last(rs, key):
    # an upsert stream: the last row of each key is its result
    return {key(x): x for x in rs}
# q10: a CSV file per day and minute, the rows without dt and hm
want = collections.defaultdict(list)
for b in bids:
    d = utc(b["dateTime"])
    want[os.path.join("q10", d.strftime("dt=%Y-%m-%d"), d.strftime("hm=%H%%3A%M"), "part-0.csv")].append(
        [str(b["auction"]), str(b["bidder"]), str(b["price"]), str(b["dateTime"]), b["extra"]])
got = {}
for dirpath, _, files in os.walk("q10"):
    for f in files:
        got[os.path.join(dirpath, f)] = list(csv.reader(open(os.path.join(dirpath, f))))
report("q10", got == want, "%d files" % len(got))
# q14
want = []
for b in bids:
    p = 0.908 * b["price"]
    if not (1000000 < p < 50000000): continue
    h = utc(b["dateTime"]).hour
    t = "dayTime" if 8 <= h <= 18 else "nightTime" if h <= 6 or h >= 20 else "otherTime"
    want.append((b["auction"], b["bidder"], t, b["dateTime"], b["extra"], b["extra"].count("c"), p))
got = [(x["auction"], x["bidder"], x["bidTimeType"], x["dateTime"], x["extra"], x["c_counts"],
        x["price"]) for x in rows("q14")]
report("q14", len(got) == len(want) and all(g[:6] == w[:6] and abs(g[6] - w[6]) <= 1e-9 * w[6]
                                            for g, w in zip(got, want)),
       "%d rows, %s" % (len(got), sorted(collections.Counter(g[2] for g in got).items())))
# q21
named = {"apple": "0", "google": "1", "facebook": "2", "baidu": "3"}
want = []
for b in bids:
    m = re.search(r"(&|^)channel_id=([^&]*)", b["url"])
    rx = m.group(2) if m else None
    ch = b["channel"].lower()
    if rx is not None or ch in named:
        want.append((b["auction"], b["bidder"], b["price"], b["channel"], named.get(ch, rx)))
got = [(x["auction"], x["bidder"], x["price"], x["channel"], x["channel_id"]) for x in rows("q21")]
report("q21", got == want, "%d rows" % len(got))
# q22
def piece(u, i):
    p = u.split("/") if u else []
    return p[i] if i < len(p) else None
want = [(b["auction"], b["bidder"], b["price"], b["channel"], piece(b["url"], 3),
         piece(b["url"], 4), piece(b["url"], 5)) for b in bids]
got = [(x["auction"], x["bidder"], x["price"], x["channel"], x["dir1"], x["dir2"], x["dir3"])
       for x in rows("q22")]
report("q22", got == want, "%d rows" % len(got))
# q15, q16: per day (and channel)
RANKS = [lambda p: True, lambda p: p < 10000, lambda p: 10000 <= p < 1000000,
         lambda p: p >= 1000000]
NAMES = ["total", "rank1", "rank2", "rank3"]
def stats(bs):
    r = {}
    for n, f in zip(NAMES, RANKS):
        sel = [b for b in bs if f(b["price"])]
        r[n + "_bids"] = len(sel)
        r[n + "_bidders"] = len({b["bidder"] for b in sel})
        r[n + "_auctions"] = len({b["auction"] for b in sel})
    return r
byday = collections.defaultdict(list)
bych = collections.defaultdict(list)
for b in bids:
    d = utc(b["dateTime"])
    byday[d.strftime("%Y-%m-%d")].append(b)
    bych[(b["channel"], d.strftime("%Y-%m-%d"))].append(b)
want = {k: stats(v) for k, v in byday.items()}
got = {k: {c: v for c, v in x.items() if c != "day"} for k, x in last(rows("q15"), lambda x: x["day"]).items()}
report("q15", got == want, "%d days" % len(got))
want = {}
for k, v in bych.items():
    want[k] = stats(v)
    want[k]["minute"] = max(utc(b["dateTime"]).strftime("%H:%M") for b in v)
got = {k: {c: v for c, v in x.items() if c not in ("channel", "day")}
       for k, x in last(rows("q16"), lambda x: (x["channel"], x["day"])).items()}
report("q16", got == want, "%d groups" % len(got))
# q17: per auction and day
byad = collections.defaultdict(list)
for b in bids:
    byad[(b["auction"], utc(b["dateTime"]).strftime("%Y-%m-%d"))].append(b["price"])
want = {k: (len(v), sum(p < 10000 for p in v), sum(10000 <= p < 1000000 for p in v),
            sum(p >= 1000000 for p in v), min(v), max(v), sum(v), sum(v) / len(v))
        for k, v in byad.items()}
got = {k: (x["total_bids"], x["rank1_bids"], x["rank2_bids"], x["rank3_bids"], x["min_price"],
           x["max_price"], x["sum_price"], x["avg_price"])
       for k, x in last(rows("q17"), lambda x: (x["auction"], x["day"])).items()}
report("q17", got.keys() == want.keys() and all(got[k][:7] == want[k][:7] and
                                                 abs(got[k][7] - want[k][7]) <= 1e-9 * want[k][7]
                                                 for k in want), "%d groups" % len(got))
raise SystemExit(1 if fails else 0)
PY
$py ../joins.py && ok || bad "q4, q5, q6, q7, q8, q9 (join forms) against Python, 14 hours of events"
finish nexmark
