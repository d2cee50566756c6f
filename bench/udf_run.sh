#!/usr/bin/env bash
# bench/udf_run.sh - C functions (`make bench`, `make bench-udf`): a trivial C
# function called per row against the same expression built in, and its batch
# form against its scalar form, in the same run.
#
# The function: 2 * x + 1 over REAL x, three ways (bench/udf_bench.c):
#   builtin  the SQL expression 2 * x + 1, compiled to the VM
#   scalar   lin(x), a C function called once per row
#   batch    lin_batch(x), its batch form, called once per batch of 1024 rows
# Two measurements:
#   engine      bench/udf_time: an in-memory table through sluice_exec, rows
#               dropped at the end, so the time is the scan, the projection and
#               the function (and "base", SELECT x, shows the first two alone)
#   end to end  `sluice run`: a CSV file in, a CSV file out (decode and encode
#               included, as a user sees it)
# Targets: scalar/builtin < 2, batch/builtin <= 1.2.  Rounds interleaved; min
# and median.  Run from the build directory.  Environment: BENCH_REPEAT (5,
# end to end), BENCH_UDF_REPEAT (11, the engine: a round is 0.3 s),
# BENCH_UDF_ROWS (2000000, the engine), BENCH_UDF_CSV_ROWS (1000000, end to
# end), SLUICE (./sluice), BENCH_DATA.
set -euo pipefail
REPEAT=${BENCH_REPEAT:-5}
UDF_REPEAT=${BENCH_UDF_REPEAT:-11}
ROWS=${BENCH_UDF_ROWS:-2000000}
CSV_ROWS=${BENCH_UDF_CSV_ROWS:-1000000}
SLUICE=${SLUICE:-./sluice}
data=${BENCH_DATA:-bench-data}/udf
mkdir -p "$data"
data=$(cd "$data" && pwd)
[ -x ./bench/udf_time ] && [ -f ./bench/libudfbench.so ] || make bench/udf_time bench/libudfbench.so > /dev/null
lib=$(pwd)/bench/libudfbench.so

./bench/udf_time "$lib" "$ROWS" "$UDF_REPEAT"

# ---- end to end ------------------------------------------------------------------------
awk -v n="$CSV_ROWS" 'BEGIN { print "x"; for (i = 0; i < n; i++) printf "%.2f\n", (i % 1000) * 0.25 - 100 }' > "$data/x.csv"
exprs=("2 * x + 1" "lin(x)" "lin_batch(x)")
names=(builtin scalar batch)
for k in 0 1 2; do
  # one task (SET parallelism = 1): the outputs are compared in order
  printf "SET parallelism = 1;\nLOAD '%s';\nSELECT %s AS y FROM file('%s/x.csv', format => 'csv', header => true, columns => 'x REAL')\nINTO file('%s/%s.csv', format => 'csv');\n" \
    "$lib" "${exprs[$k]}" "$data" "$data" "${names[$k]}" > "$data/${names[$k]}.sql"
done
declare -A times
for _ in $(seq "$REPEAT"); do
  for k in 0 1 2; do
    t0=$(date +%s.%N)
    "$SLUICE" run "$data/${names[$k]}.sql"
    t1=$(date +%s.%N)
    times[$k]="${times[$k]:-} $(echo "$t1 - $t0" | bc -l)"
  done
done
for k in 1 2; do
  cmp -s "$data/builtin.csv" "$data/${names[$k]}.csv" || { echo "udf_run.sh: ${names[$k]} output differs from builtin" >&2; exit 1; }
done
stats() { printf '%s\n' $1 | sort -g | awk '{a[NR]=$1} END {printf "%s %s", a[1], a[int((NR+1)/2)]}'; }
echo "End to end, sluice run: $CSV_ROWS CSV rows in and out; rows/s (best / median)"
declare -a med
for k in 0 1 2; do
  read -r tmin tmed <<< "$(stats "${times[$k]}")"
  med[$k]=$tmed
  printf '  %-8s %9.0f / %9.0f   %s\n' "${names[$k]}" "$(echo "$CSV_ROWS / $tmin" | bc -l)" \
    "$(echo "$CSV_ROWS / $tmed" | bc -l)" "${exprs[$k]}"
done
printf '  time ratios (medians): scalar/builtin %.2fx   batch/builtin %.2fx   batch/scalar %.2fx\n' \
  "$(echo "${med[1]} / ${med[0]}" | bc -l)" "$(echo "${med[2]} / ${med[0]}" | bc -l)" \
  "$(echo "${med[2]} / ${med[1]}" | bc -l)"
