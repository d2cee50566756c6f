#!/usr/bin/env bash
# streamdiff.sh - make check's run of tests/streamdiff (random streams and
# queries in sluice against sqlite3 and a Python model of windows): a fixed
# seed and a fixed number of cases, so every run checks the same cases;
# then a share of them again as a client of `sluice serve` (its default
# limits and authorizer on: each case's files are its --data-dir).
# STREAMDIFF_CASES and STREAMDIFF_SEED change them; `make check-long` runs
# it for an hour from a random seed.
set -u
here=$(cd "$(dirname "$0")" && pwd)
sluice=${SLUICE:-$here/../sluice}
/usr/bin/python3 "$here/streamdiff" --sluice "$sluice" --seed "${STREAMDIFF_SEED:-1}" \
  --cases "${STREAMDIFF_CASES:-400}" --recovery-share 0.1 || exit 1
exec /usr/bin/python3 "$here/streamdiff" --sluice "$sluice" --seed "${STREAMDIFF_SEED:-1}" \
  --cases "$(((${STREAMDIFF_CASES:-400} + 3) / 4))" --serve
