#!/usr/bin/env bash
# difftest.sh - the differential test of `make check`: 4 x 10,000 random
# expressions evaluated by sluice and by the sqlite3 library, compared by
# type and value (tests/difftest.c).  Fails on any mismatch; a run is
# reproduced by `TZ=... tests/difftest --seed N --count 10000` (add -v for
# all).  The date and time functions read the process's time zone
# ('localtime', 'utc'): three runs in UTC, one in a zone with summer time.
set -u
here=$(cd "$(dirname "$0")" && pwd)
bin=${top_builddir:-$here/..}/tests/difftest
if [ ! -x "$bin" ]; then
  echo "difftest.sh: $bin is not built"
  exit 99
fi
status=0
for seed in 1 2 3; do
  TZ=UTC "$bin" --count 10000 --seed $seed || status=1
done
TZ=America/New_York "$bin" --count 10000 --seed 7 || status=1
exit $status
