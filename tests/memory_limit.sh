#!/usr/bin/env bash
# memory_limit.sh - SET max_query_memory: one query cannot take the
# machine's memory.  A query whose state (groups, DISTINCT values, open
# sessions) passes its limit fails with a message that says so, and only
# that query: another query of the same script, or another reader of the
# same stream, goes on to a complete result.  With a larger limit the same
# queries give the reference result (computed here in Python).  A function
# that would build a string or blob over min(10^9, max_query_memory) fails
# its row ("string or blob too big", a rejected record), checked before it
# allocates: printf('%.*c', 500000000, 'x') under a 64 MB limit costs no
# 500 MB of memory.
set -u
export LC_ALL=C
here=$(cd "$(dirname "$0")" && pwd)
sluice=${SLUICE:-$here/../sluice}
py=/usr/bin/python3
. "$here/lib.sh"
in_workdir

# 300,000 records over 200,000 distinct keys (every third key twice), with
# event times 1 ms apart: sessions of a 1 hour gap never close before the end
$py - <<'PY'
with open("keys.jsonl", "w") as f:
    for i in range(300000):
        k = i if i < 200000 else (i - 200000) * 2
        f.write('{"k":"key%d","v":%d,"ts":%d}\n' % (k, k % 7, i))
PY

# run NAME SQL: run SQL as a script; stdout to NAME.out, stderr to NAME.err,
# and the exit status to NAME.rc
run() {
  printf '%s\n' "$2" > "$1.sql"
  "$sluice" run "$1.sql" > "$1.out" 2> "$1.err"
  echo $? > "$1.rc"
}

# last KEYCOLS: of a changelog (JSON lines on stdin), the last row of each
# key (the columns named, comma-separated), sorted, one JSON object a line
last() {
  $py -c '
import json, sys
cols = sys.argv[1].split(",")
last = {}
for line in sys.stdin:
    r = json.loads(line)
    last[tuple(r[c] for c in cols)] = r
for k in sorted(last):
    print(json.dumps(last[k], separators=(",", ":")))
' "$1"
}

# expect KIND: the reference result of each query below, from keys.jsonl
expect() {
  $py - "$1" <<'PY'
import json, sys
from collections import Counter, defaultdict
rows = [json.loads(l) for l in open("keys.jsonl")]
kind = sys.argv[1]
if kind == "group":
    n = Counter(r["k"] for r in rows)
    out = [{"k": k, "n": n[k]} for k in sorted(n)]
elif kind == "distinct":
    d = defaultdict(set)
    for r in rows:
        d[r["v"]].add(r["k"])
    out = [{"v": v, "n": len(d[v])} for v in sorted(d)]
elif kind == "small":
    n = Counter(r["v"] for r in rows)
    out = [{"v": v, "n": n[v]} for v in sorted(n)]
for o in out:
    print(json.dumps(o, separators=(",", ":")))
PY
}

over="its state passed max_query_memory (4 MiB)"
raise="(SET max_query_memory raises it)"

# ---- GROUP BY over 200,000 keys --------------------------------------------------
q="SELECT k, count(*) AS n FROM file('keys.jsonl') GROUP BY k"
run group_small "SET max_query_memory = '4MB';
$q;"
check "GROUP BY, 4MB: fails" 1 "$(cat group_small.rc)"
contains "GROUP BY, 4MB: the message" "$over" "$(cat group_small.err)"
contains "GROUP BY, 4MB: what to do" "$raise" "$(cat group_small.err)"
contains "GROUP BY, 4MB: groups counted" "groups or kept rows" "$(cat group_small.err)"
run group_big "SET max_query_memory = '256MB';
$q;"
check "GROUP BY, 256MB: succeeds" "0" "$(cat group_big.rc)"
check "GROUP BY, 256MB: no error" "" "$(cat group_big.err)"
expect group > group.want
last k < group_big.out > group.got
check "GROUP BY, 256MB: every key's count" "$(cat group.want)" "$(cat group.got)"
check "GROUP BY, 256MB: 200,000 keys" 200000 "$(wc -l < group.got | tr -d ' ')"
# the default (1 GiB) is enough too, and 0 is no limit
run group_default "$q;"
check "GROUP BY, default limit" "0" "$(cat group_default.rc)"
run group_nolimit "SET max_query_memory = 0;
$q;"
check "GROUP BY, no limit" "0" "$(cat group_nolimit.rc)"
check "GROUP BY, no limit: the same" "$(cat group.want)" "$(last k < group_nolimit.out)"

# ---- count(DISTINCT): 7 groups, 200,000 distinct values ----------------------------
q="SELECT v, count(DISTINCT k) AS n FROM file('keys.jsonl') GROUP BY v"
run distinct_small "SET max_query_memory = '4MB';
$q;"
check "DISTINCT, 4MB: fails" 1 "$(cat distinct_small.rc)"
contains "DISTINCT, 4MB: the message" "$over" "$(cat distinct_small.err)"
run distinct_big "SET max_query_memory = '256MB';
$q;"
check "DISTINCT, 256MB: succeeds" "0" "$(cat distinct_big.rc)"
check "DISTINCT, 256MB: the distinct counts" "$(expect distinct)" "$(last v < distinct_big.out)"

# ---- SESSION windows over ever-new keys: all of them open until the end -----------
q="SELECT k, count(*) AS n FROM file('keys.jsonl') GROUP BY k, SESSION(ts, INTERVAL '1' HOUR)"
run session_small "SET max_query_memory = '4MB';
$q;"
check "SESSION, 4MB: fails" 1 "$(cat session_small.rc)"
contains "SESSION, 4MB: the message" "$over" "$(cat session_small.err)"
run session_big "SET max_query_memory = '256MB';
$q;"
check "SESSION, 256MB: succeeds" "0" "$(cat session_big.rc)"
check "SESSION, 256MB: one session a key, its count" "$(cat group.want)" \
  "$($py -c '
import json, sys
for r in sorted((json.loads(l) for l in sys.stdin), key=lambda r: r["k"]):
    print(json.dumps({"k": r["k"], "n": r["n"]}, separators=(",", ":")))' < session_big.out)"

# ---- two queries of one script: only the one over its limit fails ---------------------
run two "SET max_query_memory = '4MB';
SELECT k, count(*) AS n FROM file('keys.jsonl') GROUP BY k INTO file('two_big.jsonl');
SELECT v, count(*) AS n FROM file('keys.jsonl') GROUP BY v INTO file('two_small.jsonl');"
check "two queries: the script fails" 1 "$(cat two.rc)"
contains "two queries: q1 failed" "q1 stopped: $over" "$(cat two.err)"
case "$(cat two.err)" in *q2*) bad "two queries: q2 is not in the errors: $(cat two.err)" ;; *) ok ;; esac
check "two queries: q2's output is complete" "$(expect small)" "$(last v < two_small.jsonl)"

# ---- two readers of one stream: only the one over its limit stops ---------------------
run stream "SET max_query_memory = '4MB';
CREATE STREAM s (k TEXT, v INTEGER, ts INTEGER) FROM file('keys.jsonl');
SELECT k, count(*) AS n FROM s GROUP BY k INTO file('stream_big.jsonl');
SELECT v, count(*) AS n FROM s GROUP BY v INTO file('stream_small.jsonl');"
check "a stream's readers: the script fails" 1 "$(cat stream.rc)"
contains "a stream's readers: q1 stopped alone" "q1 stopped: $over" "$(cat stream.err)"
check "a stream's readers: q2's output is complete" "$(expect small)" \
  "$(last v < stream_small.jsonl)"

# ---- values: a string or blob over the limit fails its row, before it is made -------------
printf '{"w":3}\n{"w":500000000}\n{"w":4}\n' > w.jsonl
# peak NAME SQL: the output, the errors and the peak RSS (MB) of running SQL
peak() {
  printf '%s\n' "$2" > "$1.sql"
  $py - "$sluice" "$1.sql" <<'PY'
import resource, subprocess, sys
out = subprocess.run([sys.argv[1], "run", sys.argv[2]], capture_output=True)
print(out.stdout.decode() + out.stderr.decode() + "rc=%d" % out.returncode)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)
PY
}
out=$(peak printf "SET max_query_memory = '64MB';
SELECT w, length(printf('%.*c', w, 'x')) AS n FROM file('w.jsonl');")
check "printf over 64MB: the other rows" '{"w":3,"n":3}
{"w":4,"n":4}' "$(printf '%s\n' "$out" | grep '^{')"
contains "printf over 64MB: a rejected record" \
  "w.jsonl:2: string or blob too big (over max_query_memory, 64 MiB) (record skipped)" "$out"
contains "printf over 64MB: the query goes on" "rc=0" "$out"
rss=$(printf '%s\n' "$out" | tail -1)
[ "$rss" -lt 300 ] && ok || bad "printf over 64MB: peak RSS $rss MB (500 MB were not to be allocated)"
# a constant is not folded over the limit either: its rows fail at run time
out=$(peak constant "SET max_query_memory = '64MB';
SELECT w, length(printf('%.*c', 500000000, 'x')) AS n FROM file('w.jsonl');")
contains "printf constant over 64MB: rejected" "string or blob too big (over max_query_memory, 64 MiB)" "$out"
rss=$(printf '%s\n' "$out" | tail -1)
[ "$rss" -lt 300 ] && ok || bad "printf constant over 64MB: peak RSS $rss MB"
# without a lower limit printf stays SQLite's: NULL over 10^9 bytes
check "printf over 10^9: NULL" '{"n":null}' \
  "$("$sluice" -e "SELECT printf('%.*c', 1000000001, 'x') AS n" 2>&1)"

# ||, replace, hex, quote, zeroblob, randomblob, concat, group_concat, json over 1 MB
printf '{"a":"%s"}\n' "$($py -c 'print("x" * 400000)')" > big.jsonl
for e in "a || a || a" "replace(a, 'x', 'yyy')" "hex(a || a)" "quote(a || a || a)" "zeroblob(2000000)" \
  "randomblob(2000000)" "concat(a, a, a)" "concat_ws(',', a, a, a)" "json_array(a, a, a)" \
  "json_object('a', a, 'b', a, 'c', a)" "printf('%s%s%s', a, a, a)"; do
  out=$("$sluice" -e "SET max_query_memory = '1MB'; SELECT length($e) AS n FROM file('big.jsonl')" 2>&1)
  contains "$e over 1MB: rejected" "big.jsonl:1: string or blob too big (over max_query_memory, 1 MiB)" "$out"
  out=$("$sluice" -e "SET max_query_memory = '4MB'; SELECT length($e) > 0 AS n FROM file('big.jsonl')" 2>&1)
  check "$e under 4MB: made" '{"n":1}' "$out"
done
$py -c 'import json
for i in range(4): print(json.dumps({"g": 1, "a": "x" * 400000}))' > agg.jsonl
out=$("$sluice" -e "SET max_query_memory = '1MB'; SELECT g, length(group_concat(a)) AS n FROM file('agg.jsonl') GROUP BY g" 2>&1)
# its text counts as the group's state too: whichever limit it meets first
contains "group_concat over 1MB: stopped" "max_query_memory" "$out"
case "$out" in *'"n":1200002'*) bad "group_concat over 1MB: made: $out" ;; *) ok ;; esac

finish memory_limit
