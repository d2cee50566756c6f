#!/usr/bin/env bash
# over.sh - window functions (f(...) OVER (...)):
#   bounded inputs against the sqlite3 library (tests/over_bounded.py: random
#   tables with ties and NULLs, every function and frame);
#   the Top-N pattern over a stream (op_topn) against Python: ROW_NUMBER's
#   changelog, whose last row per (partition, rank) is the result, over
#   random input and random batch sizes (tests/topn_test checks every row
#   kind, RANK and DENSE_RANK, and restarts from checkpoints);
#   LAG, LEAD, ROW_NUMBER, RANK and running aggregates over a stream ordered
#   by event time (op_over) against a Python model of the watermark: rows
#   released in time order, late ones dropped, the same for every batch size;
#   keep-first deduplication (op_dedup: ROW_NUMBER ordered by the event
#   time or PROCTIME() ascending, rn = 1) against a Python model: the first
#   row per key by event time once the watermark passes it (late rows
#   dropped) or the first to come, append-only, the same for every batch
#   size; a window aggregate over it (refused over a Top-1's changelog);
#   and the errors, with line:column.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
sluice=${top_builddir:-$here/..}/sluice
py=/usr/bin/python3
in_workdir

# ---- bounded: against SQLite ------------------------------------------------------------
for seed in 1 2 3 4; do
  if out=$("$py" "$here/over_bounded.py" "$sluice" --seed "$seed" --tables 8 --queries 40 2>&1); then
    ok
  else
    bad "over_bounded.py --seed $seed"$'\n'"$(printf '%s\n' "$out" | tail -n 30)"
  fi
done

# ---- Top-N over a stream ------------------------------------------------------------------
"$py" - > ev.jsonl <<'PY'
import json, random
rng = random.Random(11)
for i in range(3000):
    print(json.dumps({"id": i, "k": rng.choice([None, "a", "b", "c", "d", "e"]),
                      "v": rng.choice([None] + list(range(40)))}))
PY
cols="columns => 'id INTEGER, k TEXT, v INTEGER'"
for spec in "DESC:3" "ASC:1" "DESC NULLS FIRST:5" "ASC NULLS LAST:2"; do
  ord=${spec%:*} n=${spec#*:}
  "$py" - "$ord" "$n" > want.txt <<'PY'
import json, sys
ordr, n = sys.argv[1], int(sys.argv[2])
desc = ordr.startswith("DESC")
nulls_first = "NULLS FIRST" in ordr or ("NULLS" not in ordr and not desc)
rows = [json.loads(l) for l in open("ev.jsonl")]
part = {}
for r in rows:
    part.setdefault(r["k"], []).append(r)
def key(r):
    v = r["v"]
    if v is None:
        return (0 if nulls_first else 2, 0)
    return (1, -v if desc else v)
out = []
for k, l in part.items():
    for i, r in enumerate(sorted(l, key=key)[:n]):  # stable: arrival order on ties
        out.append((str(k), i + 1, r["id"], str(r["v"])))
for t in sorted(out):
    print(*t)
PY
  for b in 1 7 100 1024; do
    "$sluice" -e "SET batch_size = $b; SELECT id, k, v, rn FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY k ORDER BY v $ord) AS rn
      FROM stdin(format => 'json', $cols)) WHERE rn <= $n" < ev.jsonl > got.jsonl 2> err.txt
    check "Top-N $ord $n, batch $b: no error" "" "$(cat err.txt)"
    # the changelog's last row per (partition, rank) is the result
    check "Top-N $ord $n, batch $b" "$(cat want.txt)" "$("$py" -c "
import json
last = {}
for l in open('got.jsonl'):
    x = json.loads(l)
    last[(str(x['k']), x['rn'])] = (x['id'], str(x['v']))
for (k, rn), (i, v) in sorted(last.items()):
    print(k, rn, i, v)")"
  done
done
# more rows out than kept: each change of a rank is a -U and a +U
contains "Top-N: EXPLAIN" '"plan":"topn: the rows of row_number() <= 3 per partition' \
  "$("$sluice" -e "EXPLAIN SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY k ORDER BY v DESC) AS rn
     FROM stdin(format => 'json', $cols)) WHERE rn < 4" < /dev/null)"
# over a file (it ends): the final rows, as SQLite's
check "Top-N over a file: final rows" "$(cat want.txt | wc -l | tr -d ' ')" \
  "$("$sluice" -e "SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY k ORDER BY v ASC NULLS LAST) AS rn
     FROM file('ev.jsonl', $cols)) WHERE rn <= 2" | wc -l | tr -d ' ')"

# ---- the Top-N over named streams --------------------------------------------------------
# a stream of the catalog (CREATE STREAM s FROM ..., AS SELECT ...) as the
# ranking's input, and a stream that ranks (CREATE STREAM ranked AS SELECT
# ..., ROW_NUMBER() ...) read with WHERE rn <= N: each an op_topn, the same
# result as over the source itself (Python: rows with v NULL dropped, then
# the top 3 by v DESC per k, ties in arrival order)
"$py" - > want_named.txt <<'PY'
import json
part = {}
for r in map(json.loads, open("ev.jsonl")):
    if r["v"] is not None:
        part.setdefault(r["k"], []).append(r)
for t in sorted((str(k), i + 1, r["id"], str(r["v"]))
                for k, l in part.items() for i, r in enumerate(sorted(l, key=lambda r: -r["v"])[:3])):
    print(*t)
PY
src="CREATE STREAM s FROM stdin(format => 'json', $cols);"
named_ddl=(
  "$src"
  "$src CREATE STREAM s2 AS SELECT id, k, v FROM s WHERE v IS NOT NULL;"
  "$src CREATE STREAM ranked AS SELECT id, k, v, ROW_NUMBER() OVER (PARTITION BY k ORDER BY v DESC) AS rn
     FROM s WHERE v IS NOT NULL;"
  "$src CREATE VIEW ranked AS SELECT id, k, v, ROW_NUMBER() OVER w AS rn FROM s WHERE v IS NOT NULL
     WINDOW w AS (PARTITION BY k ORDER BY v DESC);")
named_sel=(
  "SELECT id, k, v, rn FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY k ORDER BY v DESC) AS rn
     FROM s WHERE v IS NOT NULL) WHERE rn <= 3"
  "SELECT x.id, x.k, x.v, x.rn FROM (SELECT id, k, v, ROW_NUMBER() OVER (PARTITION BY k ORDER BY v DESC) AS rn
     FROM s2) AS x WHERE x.rn < 4"
  "SELECT id, k, v, rn FROM ranked WHERE rn <= 3"
  "SELECT r.id, r.k, r.v, r.rn FROM ranked AS r WHERE 3 >= r.rn AND r.id >= 0")
for i in "${!named_sel[@]}"; do
  contains "Top-N over a named stream $i: EXPLAIN" '"plan":"topn: the rows of row_number() <= 3 per partition' \
    "$("$sluice" -e "${named_ddl[$i]} EXPLAIN ${named_sel[$i]}" < /dev/null 2>&1)"
  for b in 1 $((RANDOM % 1023 + 2)) $((RANDOM % 1023 + 2)); do
    "$sluice" -e "SET batch_size = $b; ${named_ddl[$i]} ${named_sel[$i]}" < ev.jsonl > got.jsonl 2> err.txt
    check "Top-N over a named stream $i, batch $b: no error" "" "$(cat err.txt)"
    check "Top-N over a named stream $i, batch $b" "$(cat want_named.txt)" "$("$py" -c "
import json
last = {}
for l in open('got.jsonl'):
    x = json.loads(l)
    last[(str(x['k']), x['rn'])] = (x['id'], str(x['v']))
for (k, rn), (i, v) in sorted(last.items()):
    print(k, rn, i, v)")"
  done
done
# a Kafka stream of the catalog: planned (EXPLAIN opens nothing) as a Top-N
contains "Top-N over a Kafka stream: EXPLAIN" '"plan":"topn: the rows of row_number() <= 2 per partition' \
  "$("$sluice" -e "CREATE STREAM ks FROM kafka('ev', brokers => '127.0.0.1:1', format => 'json', $cols);
     EXPLAIN SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY k ORDER BY v DESC) AS rn FROM ks) WHERE rn <= 2" \
     < /dev/null 2>&1)"
# a stream that ranks is read through a Top-N only
contains "a ranking stream read whole" "3:3: error: a window over a stream must be ordered by its event time" \
  "$("$sluice" -e "$src
CREATE STREAM ranked AS SELECT id, k, v,
  ROW_NUMBER() OVER (PARTITION BY k ORDER BY v DESC) AS rn FROM s;
SELECT * FROM ranked WHERE rn > 3" < /dev/null 2>&1)"

# ---- OVER in event-time order --------------------------------------------------------------
"$py" - > ts.jsonl <<'PY'
import json, random
rng = random.Random(7)
t = 0
for i in range(2500):
    t += rng.randint(0, 30)
    ts = t - rng.randint(0, 2500)  # disorder, some of it past the 2 s of lateness
    print(json.dumps({"id": i, "k": rng.choice(["a", "b", "c", None]), "ts": ts,
                      "v": rng.choice([None, 1, 2, 3, 5, 8, 13, -4])}))
PY
"$py" - > want_over.txt <<'PY'
import json
rows = [json.loads(l) for l in open("ts.jsonl")]
lateness, wm, kept = 2000, None, []
for r in rows:  # the watermark per record: late ones are dropped
    if wm is not None and r["ts"] < wm:
        continue
    kept.append(r)
    m = r["ts"] - lateness
    wm = m if wm is None or m > wm else wm
kept.sort(key=lambda r: r["ts"])  # stable: arrival order on equal times
part = {}
for r in kept:
    part.setdefault(r["k"], []).append(r)
out = []
def s(x):
    return "null" if x is None else str(x)
for k, l in part.items():
    rank = dense = 0
    for i, r in enumerate(l):
        peer = i > 0 and l[i - 1]["ts"] == r["ts"]
        rank = rank if peer else i + 1
        dense = dense if peer else dense + 1
        lag = l[i - 1]["v"] if i >= 1 else None
        lead2 = l[i + 2]["v"] if i + 2 < len(l) else -1
        vals = [x["v"] for x in l[max(0, i - 2): i + 1] if x["v"] is not None]
        s3 = sum(vals) if vals else None
        # the default frame: up to the row's last peer
        upto = [x for x in l if x["ts"] <= r["ts"]]
        cnt = len(upto)
        mx = max([x["v"] for x in upto if x["v"] is not None], default=None)
        out.append(" ".join(map(s, [r["id"], i + 1, rank, dense, lag, lead2, s3, cnt, mx])))
for o in sorted(out):
    print(o)
PY
q="CREATE STREAM ev (id INTEGER, k TEXT, ts INTEGER, v INTEGER) FROM stdin(format => 'json')
     WATERMARK ts - INTERVAL '2' SECOND;
   SELECT id, row_number() OVER w AS rn, rank() OVER w AS rk, dense_rank() OVER w AS dr,
     lag(v) OVER w AS lg, lead(v, 2, -1) OVER w AS ld,
     sum(v) OVER (w ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) AS s3,
     count(*) OVER w AS c, max(v) OVER w AS mx
   FROM ev WINDOW w AS (PARTITION BY k ORDER BY ts)"
for b in 1 5 64 1024; do
  "$sluice" --stats -e "SET batch_size = $b; $q" < ts.jsonl > got.jsonl 2> err.txt
  check "OVER in event-time order, batch $b" "$(cat want_over.txt)" "$("$py" -c "
import json
def s(x):
    return 'null' if x is None else str(x)
for o in sorted(' '.join(s(v) for v in json.loads(l).values()) for l in open('got.jsonl')):
    print(o)")"
  contains "OVER, batch $b: late rows counted" "late record: the watermark passed its time" "$(cat err.txt)"
done
# without LEAD a row goes as soon as the watermark passes it: in time order
"$sluice" -e "SET batch_size = 3; CREATE STREAM ev (id INTEGER, k TEXT, ts INTEGER, v INTEGER) FROM stdin(format => 'json')
   WATERMARK ts - INTERVAL '2' SECOND; SELECT ts, sum(v) OVER (ORDER BY ts ROWS UNBOUNDED PRECEDING) AS s FROM ev" \
  < ts.jsonl > got.jsonl 2> /dev/null
check "OVER: rows in event-time order" "" "$("$py" -c "
import json
t = [json.loads(l)['ts'] for l in open('got.jsonl')]
print('' if t == sorted(t) and len(t) > 2000 else 'out of order or missing: %d rows' % len(t))")"
contains "OVER: EXPLAIN" '"plan":"over: 8 calls over a stream in event-time order' \
  "$("$sluice" -e "$(printf '%s' "$q" | sed 's/SELECT id, row_number/EXPLAIN SELECT id, row_number/')" < /dev/null)"

# ---- keep-first deduplication -------------------------------------------------------------
"$py" - > dd.jsonl <<'PY'
import json, random
rng = random.Random(23)
t = 0
for i in range(4000):
    t += rng.randint(0, 20)
    ts = t - rng.randint(0, 1500)  # disorder, some of it past the 1 s of lateness
    print(json.dumps({"id": i, "k": rng.choice([None] + list(range(300))), "ts": ts,
                      "v": rng.choice([None, "x", "y"])}))
PY
"$py" - > want_dd.txt <<'PY'
import json
rows = [json.loads(l) for l in open("dd.jsonl")]
def s(x):
    return "null" if x is None else str(x)
# event time: a key's earliest row (ties: the first to come) once the
# watermark (largest time - 1000) passes it; late rows (behind it) dropped
lateness, wm, held, went, out = 1000, None, {}, set(), []
for n, r in enumerate(rows):
    key = (r["k"], r["v"])
    late = wm is not None and r["ts"] < wm
    if key not in went and not late and (key not in held or r["ts"] < held[key][0]):
        held[key] = (r["ts"], n, r)
    # every record moves the watermark (a key's repeats too)
    m = r["ts"] - lateness
    wm = m if wm is None or m > wm else wm
    for k2 in sorted([k for k in held if held[k][0] < wm], key=lambda k: held[k][:2]):
        out.append(held.pop(k2)[2])
        went.add(k2)
for k2 in sorted(held, key=lambda k: held[k][:2]):
    out.append(held[k2][2])
print("event", len(out))
for r in sorted(out, key=lambda r: r["id"]):
    print(r["id"], s(r["k"]), r["ts"], s(r["v"]))
# processing time: the first row of each key to come
seen, first = set(), []
for r in rows:
    if (r["k"], r["v"]) not in seen:
        seen.add((r["k"], r["v"]))
        first.append(r)
print("proctime", len(first))
for r in first:
    print(r["id"], s(r["k"]), r["ts"], s(r["v"]))
PY
dd_stream="CREATE STREAM ev (id INTEGER, k INTEGER, ts INTEGER, v TEXT) FROM stdin(format => 'json')
  WATERMARK ts - INTERVAL '1' SECOND;"
dd_query() { # $1: the ORDER BY, $2: the rank bound
  printf '%s' "SELECT id, k, ts, v, rn FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY k, v ORDER BY $1) AS rn
    FROM ev) WHERE $2"
}
for b in 1 3 50 1024; do
  "$sluice" -e "SET batch_size = $b; $dd_stream $(dd_query ts 'rn = 1')" < dd.jsonl > got.jsonl 2> err.txt
  "$sluice" -e "SET batch_size = $b; $dd_stream $(dd_query 'PROCTIME() ASC' 'rn < 2')" < dd.jsonl > gotp.jsonl 2> errp.txt
  check "dedup, batch $b: rows as Python's" "$(cat want_dd.txt)" "$("$py" -c "
import json
def s(x):
    return 'null' if x is None else str(x)
for name, f in (('event', 'got.jsonl'), ('proctime', 'gotp.jsonl')):
    rows = [json.loads(l) for l in open(f)]
    assert all(r['rn'] == 1 for r in rows), 'a row not first'
    if name == 'event':  # it goes in event-time order
        assert [r['ts'] for r in rows] == sorted(r['ts'] for r in rows), 'out of time order'
        rows.sort(key=lambda r: r['id'])
    print(name, len(rows))
    for r in rows:
        print(r['id'], s(r['k']), r['ts'], s(r['v']))")"
  contains "dedup, batch $b: late rows counted" "late record: the watermark passed its time (deduplication)" "$(cat err.txt)"
  check "dedup in processing time, batch $b: no error" "" "$(cat errp.txt)"
done
# the stream's PROCTIME() column is processing time too; append-only: a
# plain file sink takes it, with no op column
"$sluice" -e "$dd_stream CREATE STREAM evp AS SELECT *, PROCTIME() AS pt FROM ev;
  SELECT id, k, ts, v FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY k, v ORDER BY pt) AS rn FROM evp)
  WHERE rn = 1 INTO file('pt.jsonl', format => 'json')" < dd.jsonl 2> err.txt
check "dedup over a PROCTIME() column into a file" "$(sed -n '/^proctime/,$p' want_dd.txt | tail -n +2)" \
  "$("$py" -c "
import json
def s(x):
    return 'null' if x is None else str(x)
for l in open('pt.jsonl'):
    r = json.loads(l)
    assert set(r) == {'id', 'k', 'ts', 'v'}, sorted(r)
    print(r['id'], s(r['k']), r['ts'], s(r['v']))")"
contains "dedup: EXPLAIN (event time)" '"plan":"dedup: each key'"'"'s first row in event time, emitted as the watermark passes it (lateness 1000 ms; append-only)' \
  "$("$sluice" -e "$dd_stream EXPLAIN $(dd_query ts 'rn = 1')" < /dev/null)"
contains "dedup: EXPLAIN (processing time, state_ttl)" '"plan":"dedup: each key'"'"'s first row in processing time, emitted at once (append-only), keys forgotten 60000 ms after' \
  "$("$sluice" -e "SET state_ttl = '1min'; $dd_stream EXPLAIN $(dd_query 'PROCTIME()' 'rn <= 1')" < /dev/null)"
for keep_last in "ts DESC:rn = 1" "ts:rn <= 2" "v:rn = 1"; do # stays the updating Top-N
  contains "not a dedup: ${keep_last%%:*}, ${keep_last#*:}" '"plan":"topn: the rows of row_number()' \
    "$("$sluice" -e "$dd_stream EXPLAIN $(dd_query "${keep_last%%:*}" "${keep_last#*:}")" < /dev/null)"
done
# a window aggregate over the dedup's rows (in event-time order: nothing late
# for it), against Python; over a keep-last Top-1 (updating) it is refused
"$sluice" -e "SET batch_size = 17; $dd_stream SELECT window_start, count(*) AS n
  FROM ($(dd_query ts 'rn = 1')) GROUP BY TUMBLE(ts, INTERVAL '5' SECOND)" < dd.jsonl > gotw.jsonl 2> /dev/null
check "a window aggregate over the dedup" "$("$py" -c "
import collections
c = collections.Counter()
lines = open('want_dd.txt').read().split('\n')
n = int(lines[0].split()[1])
for l in lines[1:1 + n]:
    c[int(l.split()[2]) // 5000 * 5000] += 1
for w in sorted(c):
    print(w, c[w])")" "$("$py" -c "
import json
for l in open('gotw.jsonl'):
    r = json.loads(l)
    print(r['window_start'], r['n'])" | sort -n)"
contains "a window over a keep-last Top-1 is refused" "a window (TUMBLE, HOP, SESSION) cannot read an updating input" \
  "$("$sluice" -e "$dd_stream SELECT window_start, count(*) AS n
     FROM ($(dd_query 'ts DESC' 'rn = 1')) GROUP BY TUMBLE(ts, INTERVAL '5' SECOND)" < /dev/null 2>&1)"

# ---- errors ---------------------------------------------------------------------------------
err() { "$sluice" -e "$1" < /dev/null 2>&1 > /dev/null; }
t="CREATE TABLE t (a INTEGER, b INTEGER);"
contains "window function without OVER" "1:50: error: misuse of window function row_number()" \
  "$(err "$t SELECT a, row_number() FROM t")"
contains "window function in WHERE" "misuse of window function rank()" \
  "$(err "$t SELECT a FROM t WHERE rank() OVER (ORDER BY a) > 1")"
contains "a scalar over a window" "abs() may not be used as a window function" \
  "$(err "$t SELECT abs(a) OVER () FROM t")"
contains "DISTINCT" "DISTINCT is not supported for window functions" \
  "$(err "$t SELECT count(DISTINCT a) OVER () FROM t")"
contains "unknown window" "1:59: error: no such window: w" "$(err "$t SELECT sum(a) OVER w FROM t")"
contains "frame offset" "frame starting offset must be a non-negative integer" \
  "$(err "$t SELECT sum(a) OVER (ORDER BY a ROWS BETWEEN -1 PRECEDING AND CURRENT ROW) FROM t")"
contains "frame order" "unsupported frame specification" \
  "$(err "$t SELECT sum(a) OVER (ORDER BY a ROWS BETWEEN CURRENT ROW AND 1 PRECEDING) FROM t")"
contains "GROUPS" "GROUPS frames are not supported" \
  "$(err "$t SELECT sum(a) OVER (ORDER BY a GROUPS UNBOUNDED PRECEDING) FROM t")"
contains "syntax error with line:column" "2:32: error: near \"PRECEDING\": syntax error" \
  "$(err "$t
SELECT sum(a) OVER (ORDER BY a PRECEDING) FROM t")"
contains "override ORDER BY" "cannot override ORDER BY clause of window: w" \
  "$(err "$t SELECT sum(a) OVER (w ORDER BY b) FROM t WINDOW w AS (ORDER BY a)")"
s="stdin(format => 'json', $cols)"
contains "a stream's window not in time order" "must be ordered by its event time" \
  "$(err "SELECT sum(v) OVER (PARTITION BY k ORDER BY v DESC) FROM $s")"
contains "a stream's aggregate past the row" "ends at the current row" \
  "$(err "SELECT sum(v) OVER (ORDER BY id ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING) FROM $s")"
contains "a stream's LAG offset" "need a constant non-negative offset" \
  "$(err "SELECT lag(v, v) OVER (ORDER BY id) FROM $s")"
contains "Top-N of two calls" "computes one ROW_NUMBER()" \
  "$(err "SELECT * FROM (SELECT v, ROW_NUMBER() OVER (ORDER BY v) AS rn, lag(v) OVER (ORDER BY id) AS l FROM $s) WHERE rn <= 2")"
contains "window over GROUP BY" "window functions over a GROUP BY or aggregates are not supported" \
  "$(err "$t SELECT a, sum(b), rank() OVER (ORDER BY a) FROM t GROUP BY a")"
# an event time more than 10^18 ms from the epoch is rejected (logged with
# its position, counted), as a window GROUP BY rejects it: the time
# arithmetic of the watermark cannot overflow
printf '%s\n' '{"k":"a","ts":1e300}' '{"k":"a","ts":-1e300}' '{"k":"a","ts":9223372036854775807}' \
  '{"k":"a","ts":1000}' '{"k":"a","ts":1000000000000000000}' > far.json
"$sluice" -e "CREATE STREAM s FROM stdin(format => 'json', columns => 'k TEXT, ts INTEGER');
SELECT ts, lag(ts) OVER (ORDER BY ts) AS p FROM s" < far.json > far.out 2> far.err
check "event times out of range: the rest" '{"ts":1000,"p":null}
{"ts":1000000000000000000,"p":1000}' "$(cat far.out)"
check "event times out of range: rejected" 3 "$(grep -c 'stdin:[123]: the event time (the window.s ORDER BY) is NULL, not a number or out of range' far.err)"
# the keywords stay names where SQLite lets them be
check "new keywords as names" '{"over":1,"window":2,"rows":3,"range":4,"partition":5,"preceding":6}' \
  "$("$sluice" -e "SELECT 1 AS over, 2 AS window, 3 AS rows, 4 AS range, 5 AS partition, 6 AS preceding")"
check "a column named over and window" '{"over":1,"window":2}' \
  "$("$sluice" -e "CREATE TABLE w (over INTEGER, window INTEGER); INSERT INTO w VALUES (1, 2); SELECT over, window FROM w")"

finish over
