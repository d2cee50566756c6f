#!/usr/bin/env bash
# bench/train_run.sh - online learning throughput (`make bench`): records per
# second through train() for linear_sgd with 100 features (step 0.01, one
# iteration, the S6 settings) and kmeans_stream with k=10 over 10 features
# (decay 0.9), one update per 1000-record window, file to file.  The peer,
# bench/train_numpy.py, does the same updates with NumPy (the reference
# implementation of tests/train) in the same run: reading the same file,
# parsing each window's features with np.fromstring, updating.  It also
# reports its update calls alone (NumPy on arrays already in memory).  The
# final weights / centres of both must agree to 1e-9.  BENCH_REPEAT rounds;
# min and median.  Run from the build directory.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
REPEAT=${BENCH_REPEAT:-3}
SLUICE=${SLUICE:-./sluice}
PYTHON=${PYTHON:-/usr/bin/python3}
data=${BENCH_DATA:-bench-data}
mkdir -p "$data"
data=$(cd "$data" && pwd)
now() { date +%s.%N; }
stats() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {printf "%s %s", a[1], a[int((NR+1)/2)]}'; }

bench() { # kind records model-definition
  kind=$1 n=$2 def=$3
  input=$data/train-$kind-$n.tsv
  [ -f "$input" ] || "$PYTHON" "$here/train_numpy.py" gen "$kind" "$input" "$n"
  cat > "$data/train-$kind.sql" <<SQL
$def
CREATE STREAM pts (ts INTEGER, label REAL, f TEXT)
  FROM file('$input', format => 'csv', delimiter => char(9));
SELECT train(m, $( [ "$kind" = linear ] && echo "label, " )f) AS v FROM pts
GROUP BY TUMBLE(ts, INTERVAL '1' SECOND)
INTO file('$data/train-$kind.jsonl', format => 'json');
SQL
  local ts=() tp=() tu=()
  echo "train() $kind: $n records, $REPEAT round(s)"
  for r in $(seq "$REPEAT"); do
    t0=$(now); "$SLUICE" run "$data/train-$kind.sql"; t1=$(now)
    "$PYTHON" "$here/train_numpy.py" run "$kind" "$input" > "$data/train-$kind-numpy.json"
    ts+=("$(echo "$t1 - $t0" | bc -l)")
    tp+=("$("$PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["total_s"])' "$data/train-$kind-numpy.json")")
    tu+=("$("$PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["update_s"])' "$data/train-$kind-numpy.json")")
    printf '  round %d  sluice %.3f s   numpy %.3f s (updates alone %.3f s)\n' "$r" "${ts[-1]}" "${tp[-1]}" "${tu[-1]}"
  done
  "$PYTHON" - "$data/train-$kind.jsonl" "$data/train-$kind-numpy.json" "$kind" <<'PY'
import json, sys
import numpy as np
rows = [json.loads(l) for l in open(sys.argv[1])]
ref = np.array(json.load(open(sys.argv[2]))["final"])
v = rows[-1]["v"]
got = np.array(v["weights"] if sys.argv[3] == "linear" else v["centers"])
ok = got.shape == ref.shape and np.all(np.abs(got - ref) <= 1e-9 * np.maximum(1, np.abs(ref)))
print("  %d updates; final %s: %s" % (len(rows), "weights" if sys.argv[3] == "linear" else "centres",
                                      "the same as NumPy's" if ok else "DIFFERENT"))
sys.exit(0 if ok else 1)
PY
  read -r smin smed <<< "$(stats "${ts[@]}")"
  read -r pmin pmed <<< "$(stats "${tp[@]}")"
  read -r umin umed <<< "$(stats "${tu[@]}")"
  printf '  %-22s min %.3f s  median %.3f s  median %.0f records/s\n' sluice "$smin" "$smed" "$(echo "$n / $smed" | bc -l)"
  printf '  %-22s min %.3f s  median %.3f s  median %.0f records/s\n' "numpy (read+parse+upd)" "$pmin" "$pmed" "$(echo "$n / $pmed" | bc -l)"
  printf '  %-22s min %.3f s  median %.3f s  median %.0f records/s\n' "numpy updates alone" "$umin" "$umed" "$(echo "$n / $umed" | bc -l)"
  printf '  sluice / numpy: %.2fx end to end\n' "$(echo "$pmed / $smed" | bc -l)"
}

bench linear "${BENCH_TRAIN_LINEAR:-200000}" \
  "CREATE MODEL m TYPE linear_sgd WITH (features => 100, step => 0.01, iterations => 1);"
bench kmeans "${BENCH_TRAIN_KMEANS:-1000000}" \
  "CREATE MODEL m TYPE kmeans_stream WITH (k => 10, features => 10, decay => 0.9, seed => 42);"
