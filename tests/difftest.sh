#!/usr/bin/env bash
# difftest.sh - 2 x 10,000 random expressions, sluice against the sqlite3
# library, value and type (see tests/difftest.c).
set -u
here=$(cd "$(dirname "$0")" && pwd)
bin=${top_builddir:-$here/..}/tests/difftest
status=0
for seed in 1 2; do
  "$bin" --seed $seed --count 10000 || status=1
done
exit $status
