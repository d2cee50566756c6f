#!/usr/bin/env bash
# subquery.sh - subqueries and compound SELECTs against the sqlite3 library:
# tests/subquery_gen.py makes small random tables (NULLs, duplicates, text
# that reads as numbers) and random queries (scalar, IN, NOT IN, EXISTS
# subqueries, correlated or not and nested; x IN table; FROM (SELECT ...);
# UNION [ALL], INTERSECT, EXCEPT, with LIMIT), runs them with Python's
# sqlite3 module and writes a .slt file of its answers, which the runner
# (tests/slt) checks sluice against, 4 fixed seeds x 400 queries.  Then
# what sluice adds: EXPLAIN shows each subquery's plan, a subquery or a
# compound (but UNION ALL) over a stream is refused with its reason, FROM
# (SELECT ...) over a stream runs as an anonymous stream, UNION ALL merges
# two Kafka topics read on two threads.
set -u
here=$(cd "$(dirname "$0")" && pwd)
sluice=${SLUICE:-$here/../sluice}
slt=${top_builddir:-$here/..}/tests/slt
py=/usr/bin/python3
[ -x "$slt" ] || { echo "subquery.sh: $slt is not built"; exit 99; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
. "$here/lib.sh"

for seed in 1 2 3 4; do
  $py "$here/subquery_gen.py" $seed 400 >"$work/subq_$seed.slt" || { bad "generator, seed $seed"; continue; }
  if out=$("$slt" "$work/subq_$seed.slt" 2>&1); then ok; else bad "seed $seed: $out"; fi
done

cd "$work" || exit 99
t="CREATE TABLE t (a INTEGER, b TEXT); INSERT INTO t VALUES (1, 'x'), (2, 'y');"
out=$("$sluice" -e "$t EXPLAIN SELECT a, (SELECT b FROM t AS i WHERE i.a = t.a + 1) FROM t WHERE a IN (SELECT a FROM t UNION SELECT 5)" 2>&1)
contains "EXPLAIN: the correlated subquery" "subquery 1: correlated: run again for each new value of its 1 outer column" "$out"
contains "EXPLAIN: its outer value" "Param" "$out"
contains "EXPLAIN: the compound" "compound: subquery 3 UNION subquery 4" "$out"
contains "EXPLAIN: the compound's arms" "subquery 4: an arm of a compound SELECT" "$out"

s="CREATE STREAM s (a INTEGER) FROM kafka('topic1', brokers => '127.0.0.1:1');"
out=$("$sluice" -e "$s SELECT 1 IN (SELECT a FROM s)" 2>&1)
contains "a subquery over a stream" "a subquery reads kafka(), which does not end" "$out"
out=$("$sluice" -e "$s SELECT a FROM s UNION SELECT a FROM s" 2>&1)
contains "UNION of streams" "a compound SELECT (UNION, INTERSECT, EXCEPT) reads kafka(), which does not end" "$out"
out=$("$sluice" -e "$s EXPLAIN SELECT * FROM (SELECT a + 1 AS b FROM s) AS x WHERE b > 2" 2>&1)
contains "FROM (SELECT ...) over a stream" "stream (subquery 1): computed once, fanout" "$out"

printf 'a,b\n1,x\n5,y\n7,z\n' >ev.csv
out=$("$sluice" --format csv -e "CREATE STREAM ev (a INTEGER, b TEXT) FROM file('ev.csv', format => 'csv', header => true); SELECT * FROM (SELECT a * 2 AS d, b FROM ev WHERE a > 1) AS x WHERE d < 14" 2>&1)
check "FROM (SELECT ...) over a file stream" "$(printf 'd,b\n10,y')" "$out"

# UNION ALL of two streams: two Kafka topics (each its own task and thread)
# merged as they come; every row of both, compared as a multiset with the
# files they were written from
"$sluice" broker --topics m1:2,m2:1 >boot 2>broker.log &
bpid=$!
trap 'kill $bpid 2>/dev/null; wait $bpid 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 50); do [ -s boot ] && break; sleep 0.1; done
boot=$(head -n 1 boot)
$py - <<'PY'
import random
r = random.Random(3)
for name, n in (("m1", 3000), ("m2", 2000)):
    with open(name + ".csv", "w") as f:
        f.write("k,v\n")
        for i in range(n):
            f.write("%d,%s%d\n" % (r.randint(0, 50), name, i))
PY
for m in m1 m2; do
  "$sluice" --brokers "$boot" -e "SELECT k, v FROM file('$m.csv', format => 'csv', header => true) INTO kafka('$m', format => 'json')" 2>>run.err || bad "producing $m"
done
"$sluice" --brokers "$boot" --format csv -e "SELECT k, v FROM kafka('m1', format => 'json', stop => 'end') UNION ALL SELECT k * 100, upper(v) FROM kafka('m2', format => 'json', stop => 'end') WHERE CAST(k AS INTEGER) > 10" >merged.csv 2>>run.err || bad "the merge: $(cat run.err)"
want=$($py -c '
import csv
rows = [(r["k"], r["v"]) for r in csv.DictReader(open("m1.csv"))]
rows += [(str(int(r["k"]) * 100), r["v"].upper()) for r in csv.DictReader(open("m2.csv")) if int(r["k"]) > 10]
print("\n".join(sorted(",".join(x) for x in rows)))')
check "UNION ALL of two Kafka topics" "$want" "$(tail -n +2 merged.csv | LC_ALL=C sort)"
# a Kafka read with stop => 'end' ends: it may be a subquery, and an arm of
# a UNION
got=$("$sluice" --brokers "$boot" --format csv -e "CREATE TABLE q (n INTEGER); INSERT INTO q VALUES (5), (51), (60), (NULL); SELECT n, n IN (SELECT CAST(k AS INTEGER) FROM kafka('m2', format => 'json', stop => 'end')) FROM q" 2>&1)
want=$($py -c '
import csv
ks = {int(r["k"]) for r in csv.DictReader(open("m2.csv"))}
print("n,\"n IN (SELECT CAST(k AS INTEGER) FROM kafka(%sm2%s, format => %sjson%s, stop => %send%s))\"" % (("\x27",) * 6))
for n in (5, 51, 60):
    print("%d,%d" % (n, n in ks))
print(",")')
check "IN over a Kafka read to its end" "$want" "$got"
got=$("$sluice" --brokers "$boot" --format csv -e "SELECT CAST(k AS INTEGER) AS k FROM kafka('m1', format => 'json', stop => 'end') WHERE CAST(k AS INTEGER) < 3 UNION SELECT 7" 2>&1)
check "UNION over a Kafka read to its end" "$(printf 'k\n0\n1\n2\n7')" "$got"
out=$("$sluice" --brokers "$boot" -e "EXPLAIN SELECT k FROM kafka('m1', format => 'json') UNION ALL SELECT k FROM kafka('m2', format => 'json')" 2>&1)
contains "EXPLAIN of a merge" "union all: the rows of (subquery 1) and (subquery 2) as they come" "$out"

out=$("$sluice" -e "SELECT (SELECT 1, 2)" 2>&1)
contains "a scalar subquery of two columns" "sub-select returns 2 columns - expected 1" "$out"
out=$("$sluice" -e "SELECT 1 LIMIT 1 UNION SELECT 2" 2>&1)
contains "LIMIT before UNION" "LIMIT clause should come after UNION not before" "$out"
out=$("$sluice" -e "SELECT 1 UNION SELECT 1, 2" 2>&1)
contains "arms of different widths" "do not have the same number of result columns" "$out"

finish subquery.sh
