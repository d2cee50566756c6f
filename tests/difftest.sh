#!/usr/bin/env bash
# difftest.sh - the differential test of `make check`: 2 x 10,000 random
# expressions evaluated by sluice and by the sqlite3 library, compared by
# type and value (tests/difftest.c).  Fails on any mismatch; a run is
# reproduced by `tests/difftest --seed N --count 10000` (add -v for all).
set -u
here=$(cd "$(dirname "$0")" && pwd)
bin=${top_builddir:-$here/..}/tests/difftest
if [ ! -x "$bin" ]; then
  echo "difftest.sh: $bin is not built"
  exit 99
fi
status=0
for seed in 1 2; do
  "$bin" --count 10000 --seed $seed || status=1
done
exit $status
