#!/usr/bin/env bash
# bench/models_run.sh - model scoring (`make bench`): sluice against the
# training libraries, same machine, same run, single thread.
#
# Models (bench/models_gen.py, fixed seeds, 10 features): LogisticRegression,
# RandomForest (100 trees, depth 8), XGBoost (100 trees, depth 6), MLP
# (64-64).  For each:
#   python per row  - predict_proba on one record per call (the seeds' UDF)
#   python batched  - predict_proba on 1000 rows per call
#   sluice          - `sluice run`: CSV rows in, P(class 1) as JSON lines
#                     out, end to end (decode, score in batches, encode)
#   sluice evaluator per row / batched - the model code alone
#                     (bench/model_score.c), and libxgboost's C API for XGBoost
# Target: sluice scoring one row at a time (the evaluator called with one
# row) faster than the library batched.  Medians of BENCH_REPEAT runs.
# BENCH_REPEAT rounds of the sluice run; min and median.  Run from the build
# directory.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
N=${BENCH_MODEL_ROWS:-100000}
REPEAT=${BENCH_REPEAT:-3}
SLUICE=${SLUICE:-./sluice}
PYTHON=${PYTHON:-/usr/bin/python3}
data=${BENCH_DATA:-bench-data}/models
mkdir -p "$data"
data=$(cd "$data" && pwd)
[ -x ./bench/model_score ] || make bench/model_score > /dev/null
echo "Model scoring: $N rows of 10 features, $REPEAT round(s)"
OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 "$PYTHON" "$here/models_gen.py" "$data" "$N" > "$data/python.txt"
feats="f0, f1, f2, f3, f4, f5, f6, f7, f8, f9"
cols="id INTEGER, f0 REAL, f1 REAL, f2 REAL, f3 REAL, f4 REAL, f5 REAL, f6 REAL, f7 REAL, f8 REAL, f9 REAL"
stats() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {printf "%s %s", a[1], a[int((NR+1)/2)]}'; }
for m in lr rf xgb mlp; do
  read -r _ _ _ py_row _ py_batch <<< "$(grep "^python $m " "$data/python.txt")"
  # one task (SET parallelism = 1): the model's cost per row, as Python's loop
  printf "SET parallelism = 1;\nCREATE MODEL m FROM '%s/%s.json';\nSELECT id, predict_proba(m, %s, 1) AS p\nFROM file('%s/x.csv', format => 'csv', header => true, columns => '%s')\nINTO file('%s/%s.out', format => 'json');\n" \
    "$data" "$m" "$feats" "$data" "$cols" "$data" "$m" > "$data/$m.sql"
  ts=()
  for _ in $(seq "$REPEAT"); do
    t0=$(date +%s.%N)
    "$SLUICE" run "$data/$m.sql"
    t1=$(date +%s.%N)
    ts+=("$(echo "$t1 - $t0" | bc -l)")
  done
  read -r tmin tmed <<< "$(stats "${ts[@]}")"
  maxd=$("$PYTHON" - "$data/$m.out" "$data/$m.expected" <<'PY'
import json, sys
got = [json.loads(l)["p"] for l in open(sys.argv[1])]
want = [float(l) for l in open(sys.argv[2])]
assert len(got) == len(want), "row count"
print("%.3g" % max(abs(a - b) for a, b in zip(got, want)))
PY
)
  s_rate=$(echo "$N / $tmed" | bc -l)
  printf '%-4s python per row %9.0f rows/s   python batched %10.0f rows/s\n' "$m" "$py_row" "$py_batch"
  printf '     sluice run     %9.0f rows/s (median; best %.0f)  max |diff| %s   = %.1fx python batched, %.0fx per row\n' \
    "$s_rate" "$(echo "$N / $tmin" | bc -l)" "$maxd" "$(echo "$s_rate / $py_batch" | bc -l)" "$(echo "$s_rate / $py_row" | bc -l)"
  # the evaluator alone, BENCH_REPEAT times: the median of each figure
  for _ in $(seq "$REPEAT"); do
    ./bench/model_score "$data/$m.json" "$data/x.csv" "$data/$m.expected"
  done > "$data/$m.eval"
  "$PYTHON" - "$data/$m.eval" "$py_batch" <<'PY'
import re, statistics, sys
lines = open(sys.argv[1]).read().splitlines()
batch = float(sys.argv[2])
for kind in ("sluice evaluator", "libxgboost C API"):
    rows = [l for l in lines if kind in l]
    if not rows:
        continue
    per = statistics.median(float(re.search(r"per_row (\d+)", l).group(1)) for l in rows)
    bat = statistics.median(float(re.search(r"batched (\d+)", l).group(1)) for l in rows)
    extra = re.search(r"max \|diff\| \S+", rows[0])
    print("  %-17s per row %9.0f rows/s (%.1fx python batched)  batched %9.0f rows/s  %s"
          % (kind, per, per / batch, bat, extra.group(0) if extra else ""))
PY
done
