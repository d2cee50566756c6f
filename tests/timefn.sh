#!/usr/bin/env bash
# timefn.sh - the time functions for event times in epoch milliseconds
# (to_timestamp, epoch_ms, date_trunc, extract / EXTRACT(f FROM ts); docs/sql.md)
# against Python's datetime over random instants (tests/timefn_check.py,
# fixed seed), and their NULL and error cases.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=${top_srcdir:-$here/..}
sluice=$(cd "$(dirname "${SLUICE:-$here/../sluice}")" && pwd)/$(basename "${SLUICE:-sluice}")
py=/usr/bin/python3
. "$here/lib.sh"
in_workdir

$py "$top/tests/timefn_check.py" "$sluice" 2000 && ok || bad "random instants against Python"

run() { "$sluice" -e "$1" 2>&1; }
check "NULL and malformed inputs are NULL" \
  '{"a":null,"b":null,"c":null,"d":null,"e":null,"f":null,"g":null}' \
  "$(run "SELECT to_timestamp(NULL) AS a, to_timestamp('abc') AS b, epoch_ms('2024-13-01') AS c,
          date_trunc('day', NULL) AS d, extract(year FROM 'x') AS e, to_timestamp(1e18) AS f,
          date_trunc('year', -300000000000000) AS g")"
contains "an unknown unit is an error" "date_trunc: unknown unit 'fortnight'" \
  "$(run "SELECT date_trunc('fortnight', 1)")"
contains "an unknown field is an error" "extract: unknown field 'century'" \
  "$(run "SELECT EXTRACT(century FROM 1)")"
check "plural units, any case; REAL ms rounded down" '{"a":60000,"b":"1969-12-31 23:59:59.998"}' \
  "$(run "SELECT date_trunc('MINUTES', 119999) AS a, to_timestamp(-1.5) AS b")"
check "epoch_ms takes the modifiers of datetime()" '{"a":86400000,"b":1000}' \
  "$(run "SELECT epoch_ms('1970-01-01', '+1 day') AS a, epoch_ms(1, 'unixepoch') AS b")"
finish timefn.sh
