#!/usr/bin/env bash
# golden.sh - what the command line prints for a script: for every
# tests/golden/NAME.sql, run `sluice --format json run NAME.sql` in
# tests/golden (so relative paths name the data files there), capture stdout
# and stderr together plus the exit status and the files written to out/,
# and compare with NAME.out.  SLUICE_BLESS=1 rewrites the .out files (review
# the diff before committing).  The SQL behaviour itself is tested in
# tests/sql/*.slt (one engine, record by record); these are the few cases
# about the CLI's own output: JSON rows, the log of rejected records and the
# counts line, queries of a script starting together.
set -u
here=$(cd "$(dirname "$0")" && pwd)
sluice=${SLUICE:-$here/../sluice}
cd "$here/golden"
pass=0 fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for sql in *.sql; do
  name=${sql%.sql}
  rm -rf out && mkdir -p out
  { "$sluice" --format json run "$sql" 2>&1; echo "[exit $?]"; } > "$tmp/$name.actual"
  # Files a test writes into out/ are part of its result.
  for f in $(ls out 2>/dev/null | sort); do
    echo "[file out/$f]"; cat "out/$f"
  done >> "$tmp/$name.actual"
  rm -rf out
  if [ "${SLUICE_BLESS:-0}" = 1 ]; then cp "$tmp/$name.actual" "$name.out"; fi
  if diff -u "$name.out" "$tmp/$name.actual" > "$tmp/$name.diff" 2>&1; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1))
    echo "FAIL: $name"; head -n 40 "$tmp/$name.diff"
  fi
done
echo "golden: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
