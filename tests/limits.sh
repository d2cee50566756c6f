#!/usr/bin/env bash
# limits.sh - statements at the engine's size limits get the right result or
# a clear error, never a crash: expression trees deeper than
# SL_MAX_EXPR_DEPTH (1000, SQLite's limit) built from long chains of binary
# and postfix operators (50,000 terms), which the binder and the compiler
# used to recurse over until the stack overflowed; an INSERT of 12,000 rows
# in memory that grows linearly, and 1 MiB of INSERT rows in less than 60
# times their text.  The statements are generated here
# (Python), too long to write out.
set -u
export LC_ALL=C
here=$(cd "$(dirname "$0")" && pwd)
sluice=${SLUICE:-$here/../sluice}
py=/usr/bin/python3
. "$here/lib.sh"
in_workdir

printf '{"x":1}\n{"x":2}\n' > n.jsonl

# chain N KIND: a SELECT whose expression is a left-deep chain of N terms
chain() {
  $py - "$1" "$2" <<'PY'
import sys
n, kind = int(sys.argv[1]), sys.argv[2]
terms = {
    "plus": lambda: "+".join(["1"] * n),
    "concat": lambda: "||".join(["'a'"] * n),
    "eq": lambda: " = ".join(["x"] * n),
    "isnull": lambda: "x" + " ISNULL" * (n - 1),
    "in": lambda: "x" + " IN (1, 2)" * (n - 1),
    "between": lambda: "x" + " BETWEEN 0 AND 5" * (n - 1),
    "like": lambda: "'a'" + " LIKE 'a'" * (n - 1),
    "collate": lambda: "'a'" + " COLLATE nocase" * (n - 1),
}
print("SELECT %s AS v FROM file('n.jsonl');" % terms[kind]())
PY
}

# 1000 levels (SQLite's limit) is fine; one more is an error at the
# expression's first token (or the COLLATE's name), for every operator
check "1000 terms of +" '{"v":1000}
{"v":1000}' "$(chain 1000 plus | "$sluice" 2>&1)"
check "1000 terms of ||, length" '{"v":1000}' \
  "$(chain 1000 concat | sed "s/AS v FROM file('n.jsonl')/AS v/" | "$sluice" 2>&1 |
    $py -c 'import json, sys; print(json.dumps({"v": len(json.loads(sys.stdin.read())["v"])}, separators=(",", ":")))')"
for kind in plus concat eq isnull in between like collate; do
  for n in 1001 50000; do
    out=$(chain "$n" "$kind" | "$sluice" 2>&1)
    contains "$n terms of $kind" "error: expression tree is too deep (more than 1000 levels)" "$out"
    check "$n terms of $kind: one line" 1 "$(printf '%s\n' "$out" | wc -l | tr -d ' ')"
  done
done
check "1001 terms of +: position" "stdin:1:8: error: expression tree is too deep (more than 1000 levels)" \
  "$(chain 1001 plus | "$sluice" 2>&1)"
# with -e too, and in a WHERE clause: 999 ANDs over comparisons are 1001 levels
and=$($py -c "print(' AND '.join(['x > 0'] * 1000))")
check "WHERE of 1000 comparisons" "1:37: error: expression tree is too deep (more than 1000 levels)" \
  "$("$sluice" -e "SELECT x FROM file('n.jsonl') WHERE $and" 2>&1)"
and=$($py -c "print(' AND '.join(['x > 0'] * 999))")
check "WHERE of 999 comparisons" '{"x":1}
{"x":2}' "$("$sluice" -e "SELECT x FROM file('n.jsonl') WHERE $and" 2>&1)"

# INSERT ... VALUES with many rows: the parser's row array grows by doubling.
# It was copied whole for every row, O(n^2) memory: 12,000 rows took
# 600 MB (40,000 rows 6 GB).  The peak memory of the whole process may grow
# by less than 200 MB over a 10-row INSERT (about 60 MB under the
# sanitizers).
# insert_rss N: the result of the query, then the peak RSS in MB
insert_rss() {
  $py - "$sluice" "$1" <<'PY'
import resource, subprocess, sys
n = int(sys.argv[2])
sql = ("CREATE TABLE t (a INTEGER, b TEXT); INSERT INTO t VALUES "
       + ", ".join("(%d, 'r%d')" % (i, i) for i in range(n))
       + "; SELECT a, b FROM t WHERE a >= %d;" % (n - 2))
out = subprocess.run([sys.argv[1]], input=sql.encode(), capture_output=True)
print(out.stdout.decode() + out.stderr.decode() + "%d" % (resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024))
PY
}
small=$(insert_rss 10)
big=$(insert_rss 12000)
check "INSERT of 12,000 rows" '{"a":11998,"b":"r11998"}
{"a":11999,"b":"r11999"}' "$(printf '%s\n' "$big" | sed '$d')"
grow=$(($(printf '%s\n' "$big" | tail -1) - $(printf '%s\n' "$small" | tail -1)))
[ "$grow" -lt 200 ] && ok || bad "INSERT of 12,000 rows: peak memory grew by $grow MB over 10 rows"

# INSERT ... VALUES of 1 MiB of one-column rows, "(1),(1),...": 262,144 rows.
# Each row's parse tree (about 300 bytes) was kept until the statement ran:
# the peak grew by 73 MB, 70 times the text (a release build).  A row of
# literals now keeps its values only, its tree released as it is parsed:
# 30 MB (47 MB under the sanitizers); more than 60 MB fails.
# values_rss ROWSQL N: the peak RSS in MB of inserting N rows ROWSQL
values_rss() {
  $py - "$sluice" "$1" "$2" <<'PY'
import resource, subprocess, sys
sql = "CREATE TABLE t (a INTEGER); INSERT INTO t VALUES " + ",".join([sys.argv[2]] * int(sys.argv[3])) + ";"
subprocess.run([sys.argv[1]], input=sql.encode(), capture_output=True)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)
PY
}
small=$(values_rss "(1)" 10)
big=$(values_rss "(1)" 262144)
[ $((big - small)) -lt 60 ] && ok || bad "1 MiB of INSERT rows: peak memory grew by $((big - small)) MB"
# rows of literals and rows of expressions, mixed, in order, every type
check "INSERT rows of literals and expressions" '{"a":1,"b":"x","c":1.5,"d":null,"h":"00FF"}
{"a":-2,"b":"YY","c":2.0,"d":null,"h":""}
{"a":3,"b":"it'"'"'s","c":null,"d":"z","h":"41"}
{"a":4,"b":"","c":4.25,"d":null,"h":""}
{"a":5,"b":"v","c":5.0,"d":"w","h":"4243"}' \
  "$("$sluice" -e "CREATE TABLE t (a INTEGER, b TEXT, c REAL, d TEXT, e BLOB);
INSERT INTO t VALUES (1, 'x', 1.5, NULL, X'00FF'), (-2, upper('yy'), 2, NULL, X''),
  (3, 'it''s', NULL, 'z', X'41'), (4, '', 4.25, NULL, NULL), (5, 'v', 5, 'w', X'4243');
SELECT a, b, c, d, hex(e) AS h FROM t" 2>&1)"
check "INSERT rows: a row of the wrong width" "1:37: error: table t has 2 columns but 1 values were supplied" \
  "$("$sluice" -e "CREATE TABLE t (a INTEGER, b TEXT); INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3)" 2>&1)"

finish limits
