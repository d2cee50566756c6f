#!/usr/bin/env bash
# bench/nexmark_run.sh - Nexmark q0-q23 (`make bench`; q5, q7, q8, q9 in their standard
# join forms and as q5_topk, q7_maxby, q8_group, q9_maxby):
# events/s of sluice over N generated events (default 1,000,000, from a
# file; sql-examples/nexmark/), each query run alone, BENCH_REPEAT rounds,
# min and median, on one core (taskset -c 0: the task and its output encoder
# share it).  For scale, Flink's published per-core rates
# (shared/nexmark/flink GUIDE_V1/V2): q0-q2 about 150-400K/s, q5 22-75K/s,
# q7 12-23K/s, q8 about 150K/s, q10 58-133K/s, q14 161-259K/s, q15 72-168K/s, q16 19-45K/s,
# q17 117-161K/s, q21 98-147K/s, q22 130-212K/s, q3 152-219K/s, q11 40-46K/s, q12 76-194K/s,
# q13 131-188K/s, q20 18-19K/s, q4 28-34K/s, q6 none (Flink does not run it), q9 about 14K/s,
# q18 54-65K/s, q19 43-44K/s, q23 none published.  q9_stream, q18_stream and q19_stream read the
# events from stdin (a stream: the incremental Top-N, op_topn) where q18 and q19 read the file
# (final rows, op_window).  BENCH_QUERIES picks some ("q0 q14").  Run from the build directory.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
N=${BENCH_NEXMARK_EVENTS:-1000000}
REPEAT=${BENCH_REPEAT:-3}
SLUICE=$(cd "$(dirname "${SLUICE:-./sluice}")" && pwd)/$(basename "${SLUICE:-./sluice}")
PYTHON=${PYTHON:-/usr/bin/python3}
data=${BENCH_DATA:-bench-data}/nexmark
mkdir -p "$data"
data=$(cd "$data" && pwd)
nx=$here/../sql-examples/nexmark
[ -f "$data/nexmark-$N.jsonl" ] ||
  "$PYTHON" "$nx/gen.py" "$data/nexmark-$N.jsonl" "$N" --persons "$data/persons-$N.jsonl"
cd "$data"
ln -sf "nexmark-$N.jsonl" nexmark.jsonl
ln -sf "persons-$N.jsonl" persons.jsonl
# q13's side input: 10,000 key,value lines
[ -f side_input.csv ] || "$PYTHON" -c 'for k in range(10000): print("%d,%d" % (k, k * 7919 % 100003))' > side_input.csv
now() { date +%s.%N; }
pin=""
command -v taskset > /dev/null && pin="taskset -c 0"
stats() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {printf "%s %s", a[1], a[int((NR+1)/2)]}'; }
echo "Nexmark: $N events, $REPEAT round(s), ${pin:-no taskset: all cores}"
for q in ${BENCH_QUERIES:-q0 q1 q2 q3 q4 q5 q5_topk q6 q7 q7_maxby q8 q8_group q9 q9_stream q9_maxby q10 q11 q12 q13 q14 q15 q16 q17 q18 q18_stream q19 q19_stream q20 q21 q22 q23}; do
  base=${q%_stream} in=/dev/null
  if [ "$base" != "$q" ]; then # the events from stdin: a stream
    sed "s/file('nexmark.jsonl', format => 'json')/stdin(format => 'json')/" "$nx/events.sql" > "$q.sql"
    cat "$nx/$base.sql" >> "$q.sql"
    in=nexmark.jsonl
  else
    cat "$nx/events.sql" "$nx/$q.sql" > "$q.sql"
  fi
  ts=()
  for _ in $(seq "$REPEAT"); do
    t0=$(now); $pin "$SLUICE" run "$q.sql" < "$in"; t1=$(now)
    ts+=("$(echo "$t1 - $t0" | bc -l)")
  done
  read -r tmin tmed <<< "$(stats "${ts[@]}")"
  if [ -d "$base" ]; then out=$(find "$base" -type f -exec cat {} + | wc -l); else out=$(wc -l < "$base.jsonl"); fi
  printf '%-10s min %.3f s  median %.3f s  median %8.0f events/s  (%d rows out)\n' "$q" "$tmin" "$tmed" \
    "$(echo "$N / $tmed" | bc -l)" "$out"
done
