#!/usr/bin/env bash
# shell_cmds.sh - the shell's .tables, .schema, .show, Tab completion and
# table widths, driven on a pseudo-terminal (script(1)); SHOW SCHEMA; SHOW
# TOPICS against the dev broker (`sluice broker`, a free port), and refused
# to a client of `sluice serve` that was not granted the broker.
set -u
here=$(cd "$(dirname "$0")" && pwd)
sluice=$(cd "$(dirname "${SLUICE:-$here/../sluice}")" && pwd)/$(basename "${SLUICE:-sluice}")
. "$here/lib.sh"
in_workdir
command -v script > /dev/null || { echo "script(1) missing (bsdutils)"; exit 99; }

# shell INPUT-FILE: the shell's output on a pseudo-terminal.
shell() { HOME=$work SHELL=/bin/sh timeout 30 script -qec "exec $sluice" /dev/null < "$1" 2>&1 | tr -d '\r'; }

cat > in1 <<'SQL'
CREATE TABLE orders(order_id INTEGER PRIMARY KEY, amount REAL);
INSERT INTO orders VALUES (1, 2.5), (22, 1234.75);
CREATE VIEW big AS SELECT order_id FROM orders WHERE amount > 100;
.tables
.schema
.schema big
.show
.quit
SQL
out=$(shell in1)
contains ".tables" $'.tables\norders\nbig\n' "$out"
contains ".schema" $'.schema\nCREATE TABLE orders(order_id INTEGER PRIMARY KEY, amount REAL);\nCREATE VIEW big AS SELECT order_id FROM orders WHERE amount > 100;\n' "$out"
contains ".schema NAME" $'.schema big\nCREATE VIEW big AS SELECT order_id FROM orders WHERE amount > 100;\nsluice>' "$out"
contains ".show: mode" "        mode: table" "$out"
contains ".show: engine" "      engine: local" "$out"
contains ".show: the engine's settings" "max_query_memory" "$out"

# Tab: a keyword in the case begun, a column, a table, a function
printf 'CREATE TABLE shipments(ship_id INTEGER PRIMARY KEY, amount REAL);\nINSERT INTO shipments VALUES (7, 2.5);\n.mode csv\nsel\tamo\t, uppe\t('"'"'x'"'"') AS u FROM shipm\t;\nSELECT ship_\t FROM shipments;\nSELECT s.amo\t * 2 AS twice FROM shipments AS s;\n.quit\n' > in2
out=$(shell in2)
contains "completion: keyword, column, function, table" $'amount,u\n2.5,X' "$out"
contains "completion: a column by its prefix" $'ship_id\n7' "$out"
contains "completion: a qualified column" $'twice\n5.0' "$out"

# table mode: widths fit every row of the result, not only the first
printf 'CREATE TABLE t(a, b);\nINSERT INTO t VALUES (1, '"'"'x'"'"'), (123456789, '"'"'a much longer text'"'"');\nSELECT a, b FROM t;\n.quit\n' > in3
out=$(shell in3)
contains "table widths" $'a         | b                 \n----------+-------------------\n        1 | x\n123456789 | a much longer text\n' "$out"

# SHOW SCHEMA as a statement
check "SHOW SCHEMA" '{"type":"table","name":"t","sql":"CREATE TABLE t(a);"}' \
  "$("$sluice" -e "CREATE TABLE t(a); SHOW SCHEMA t" 2>&1)"

# SHOW TOPICS
"$sluice" broker --port 0 --topics alpha:3,beta:1 < /dev/null > boot 2> broker.log &
bpid=$!
trap 'kill $bpid 2>/dev/null; [ -n "${spid:-}" ] && kill $spid 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do [ -s boot ] && break; sleep 0.1; done
boot=$(head -n 1 boot)
if [ -n "$boot" ]; then
  ok
  # (only alpha and beta: a producer of a suite running beside this one may
  # reach this broker through a port its own broker had, and make topics)
  check "SHOW TOPICS" $'{"topic":"alpha","partitions":"3"}\n{"topic":"beta","partitions":"1"}' \
    "$("$sluice" --brokers "$boot" -e "SHOW TOPICS" 2>&1 | grep -E '"topic":"(alpha|beta)"')"
  contains "SHOW TOPICS without brokers" "no brokers" "$("$sluice" -e "SHOW TOPICS" 2>&1)"
  # a bounded read of a topic makes a table (docs/dml.md)
  # (two runs: the queries of one script run together, in no fixed order)
  "$sluice" --brokers "$boot" -e "SELECT 'v1' AS v INTO kafka('beta', format => 'json')" 2>&1
  "$sluice" --brokers "$boot" -e "SELECT 'w' AS v INTO kafka('beta', format => 'json')" 2>&1
  check "CREATE TABLE AS over kafka(..., stop => 'end')" $'{"v":"v1"}\n{"v":"w"}' \
    "$(timeout 60 "$sluice" --brokers "$boot" -e "CREATE TABLE k AS SELECT v FROM kafka('beta', format => 'json', stop => 'end', offset => 'earliest'); SELECT * FROM k" 2>&1)"
  if serve_start; then
    ok
    out=$(curl -s -X POST -H 'Content-Type: application/sql' \
      --data-binary "SET kafka.brokers = '$boot'; SHOW TOPICS" "$url/query")
    contains "SHOW TOPICS refused to a client without the broker" "not authorized" "$out"
    serve_stop
  else
    bad "sluice serve did not start"
  fi
else
  bad "the dev broker did not start: $(cat broker.log)"
fi
finish shell_cmds.sh
