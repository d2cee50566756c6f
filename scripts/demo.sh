#!/usr/bin/env bash
# scripts/demo.sh - the main job: install what is needed, build sluice, and
# run scenario S1 on files end to end (JSON records in, model scores out).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
[ -f configure ] || autoreconf -fi >/dev/null
mkdir -p build
(cd build && { [ -f Makefile ] || ../configure >/dev/null; } && make -j2 >/dev/null)
echo "== sql-examples/s1_files.sql"
cat sql-examples/s1_files.sql
echo
echo "== running: build/sluice run --stats sql-examples/s1_files.sql"
build/sluice run --stats sql-examples/s1_files.sql
echo
echo "== first records of preds.jsonl ($(wc -l < preds.jsonl) lines)"
head -n 5 preds.jsonl
echo
echo "== the same engine, interactively: build/sluice -e \"SELECT ...\" --format table"
build/sluice --format table -e "SELECT User_ID, G1 + G2 + G3 AS owned
  FROM file('sql-examples/data/dsp.jsonl') WHERE G9 = 1 AND G10 = 1;" | head -n 8
