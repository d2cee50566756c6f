#!/usr/bin/env bash
# dml.sh - statements on catalog tables (docs/dml.md): INSERT with a column
# list, INSERT ... SELECT, INSERT OR REPLACE / REPLACE, UPDATE, DELETE,
# CREATE TABLE AS, views.  The differential part (tests/dml_check.py)
# compares the tables after random scripts with the sqlite3 library; the
# checks here are the errors and the all-or-nothing rules.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=${top_srcdir:-$here/..}
sluice=$(cd "$(dirname "${SLUICE:-$here/../sluice}")" && pwd)/$(basename "${SLUICE:-sluice}")
py=/usr/bin/python3
. "$here/lib.sh"
in_workdir

$py "$top/tests/dml_check.py" "$sluice" 40 && ok || bad "random scripts against sqlite3"

run() { "$sluice" -e "$1" 2>&1; }
T="CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT); INSERT INTO t VALUES (1, 'x'), (2, 'y');"

contains "plain INSERT of a key taken" "UNIQUE constraint failed: t.a" "$(run "$T INSERT INTO t VALUES (2, 'z');")"
contains "UPDATE of a column that is not there" "no such column: z" "$(run "$T UPDATE t SET z = 1;")"
contains "INSERT with an unknown column" "table t has no column named q" "$(run "$T INSERT INTO t(q) VALUES (1);")"
contains "too few values" "2 values for 1 columns" "$(run "$T INSERT INTO t(b) VALUES (1, 2);")"
contains "INTEGER PRIMARY KEY takes integers" "datatype mismatch" "$(run "$T INSERT INTO t VALUES ('k', 'z');")"
V="$T CREATE VIEW v AS SELECT a FROM t WHERE a > 1;"
contains "a view is read" '{"a":2}' "$(run "$V SELECT * FROM v;")"
contains "INSERT into a view" "cannot modify v because it is a view" "$(run "$V INSERT INTO v VALUES (3);")"
contains "UPDATE of a view" "cannot modify v because it is a view" "$(run "$V UPDATE v SET a = 3;")"
contains "DELETE from a view" "cannot modify v because it is a view" "$(run "$V DELETE FROM v;")"
contains "DROP TABLE of a view" "use DROP VIEW to delete view v" "$(run "$V DROP TABLE v;")"
contains "DROP VIEW twice" "no such view: v" "$(run "$V DROP VIEW v; DROP VIEW v;")"
check "DROP VIEW IF EXISTS" "" "$(run "$V DROP VIEW v; DROP VIEW IF EXISTS v;")"
check "CREATE VIEW IF NOT EXISTS" "" "$(run "$V CREATE VIEW IF NOT EXISTS v AS SELECT 1;")"
# INSERT INTO t SELECT ... FROM t reads the rows t had when it started
check "INSERT INTO t SELECT FROM t reads a snapshot" '{"b":"x"}
{"b":"y"}
{"b":"x!"}
{"b":"y!"}' "$("$sluice" 2>/dev/null <<SQL
$T INSERT INTO t(b) SELECT b || '!' FROM t;
SELECT b FROM t;
SQL
)"
contains "a table refuses a query that never ends" "kafka() without stop => 'end' never does" \
  "$("$sluice" --brokers 127.0.0.1:1 -e "CREATE TABLE k AS SELECT value FROM kafka('x')" 2>&1)"

# views over a stream (a file read to its end), tables made of one
printf '{"a":1}\n{"a":5}\n{"a":9}\n' > v.json
check "a view over a file, a table made of it, INSERT SELECT from it" '{"a10":50}
{"a10":90}
{"a10":50}
{"a10":90}
{"a10":51}
{"a10":91}' "$(run "CREATE VIEW big AS SELECT a * 10 AS a10 FROM file('v.json', format => 'json') WHERE a > 2;
  SELECT a10 FROM big; CREATE TABLE snap AS SELECT * FROM big; INSERT INTO snap SELECT a10 + 1 FROM big;
  SELECT * FROM snap;")"

# All or nothing, in the shell (which goes on after an error): an INSERT ...
# SELECT whose third row is refused adds none, an UPDATE that fails on one
# row changes none, a multi-row INSERT with a bad row adds none.
if command -v script > /dev/null; then
  cat > shell.in <<SQL
.mode json
$T
CREATE TABLE s(k INTEGER); INSERT INTO s VALUES (5), (6), (1);
INSERT INTO t(a) SELECT k FROM s;
UPDATE t SET a = 5;
INSERT INTO t VALUES (3, 'p'), (1, 'q');
SELECT * FROM t;
.quit
SQL
  out=$(HOME=$PWD SHELL=/bin/sh timeout 30 script -qec "exec $sluice" /dev/null < shell.in 2>&1 | tr -d '\r')
  contains "failed statements change nothing" 'SELECT * FROM t;
{"a":1,"b":"x"}
{"a":2,"b":"y"}
sluice>' "$out"
  [ "$(printf '%s' "$out" | grep -c 'UNIQUE constraint failed: t.a')" = 3 ] && ok ||
    bad "three UNIQUE errors: $out"
else
  bad "script(1) missing (bsdutils)"
fi
finish dml.sh
