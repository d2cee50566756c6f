#!/usr/bin/env bash
# bench/ckpt_run.sh - the cost of checkpoints (`make bench`): the S1 pipeline
# (JSON lines -> the churn model -> JSON lines) and a windowed one (per-user
# 10-second tumbling count and sum) over 4,000,000 and 12,000,000 records,
# file to file, each run without a state directory and with one
# (--state-dir, SET checkpoint_interval = '1s'), interleaved, BENCH_REPEAT
# rounds; min and median seconds and the overhead of the median (target: at
# most 10%).  Both runs' outputs must be identical.  Then the restore of a
# big state: a running count and sum per key over BENCH_RESTORE_KEYS
# (1,000,000) distinct keys read from a pipe held open, killed with SIGKILL
# once everything is read and checkpointed, and started again on the same
# bytes as a file (it resumes at their end): the time and size of loading
# its state (--stats).  Run from the build directory.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
N=${BENCH_CKPT_RECORDS:-4000000}       # S1
NW=${BENCH_CKPT_WIN_RECORDS:-12000000} # windows (about 3 s a run)
REPEAT=${BENCH_REPEAT:-3}
SLUICE=${SLUICE:-./sluice}
PYTHON=${PYTHON:-/usr/bin/python3}
data=${BENCH_DATA:-bench-data}
mkdir -p "$data"
data=$(cd "$data" && pwd)
s1in=$data/ckpt-s1-$N.jsonl
evin=$data/ckpt-ev-$NW.jsonl
[ -f "$s1in" ] || "$PYTHON" - "$s1in" "$N" <<'PY'
import random, sys, uuid
random.seed(9)
with open(sys.argv[1], "w") as f:
    for i in range(int(sys.argv[2])):
        g = ", ".join('"G%d": %d' % (k, random.randrange(2)) for k in range(1, 11))
        f.write('{%s, "User_ID": "%s"}\n' % (g, uuid.UUID(int=random.getrandbits(128))))
PY
[ -f "$evin" ] || "$PYTHON" - "$evin" "$NW" <<'PY'
import random, sys
random.seed(10)
t = 1700000000000
with open(sys.argv[1], "w") as f:
    for i in range(int(sys.argv[2])):
        t += random.randrange(5)
        f.write('{"user": "u%02d", "price": %d.%02d, "ts": %d}\n' % (random.randrange(20), random.randrange(10), random.randrange(100), t))
PY
g='G1, G2, G3, G4, G5, G6, G7, G8, G9, G10'
cat > "$data/ckpt-s1.sql" <<SQL
SET checkpoint_interval = '1s';
CREATE MODEL churn FROM '$top/sql-examples/models/churn_lr.json';
SELECT User_ID, churn($g) AS pred FROM file('$s1in', format => 'json')
INTO file('@OUT@', format => 'json');
SQL
cat > "$data/ckpt-win.sql" <<SQL
SET checkpoint_interval = '1s';
SELECT user, window_start, count(*) AS n, sum(price) AS revenue
FROM file('$evin', format => 'json', columns => 'user TEXT, price REAL, ts INTEGER')
GROUP BY user, TUMBLE(ts, INTERVAL '10' SECOND)
INTO file('@OUT@', format => 'csv');
SQL
now() { date +%s.%N; }
stats() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {printf "%s %s", a[1], a[int((NR+1)/2)]}'; }
for job in s1 win; do
  sed "s|@OUT@|$data/ckpt-$job-plain.out|" "$data/ckpt-$job.sql" > "$data/ckpt-$job-plain.sql"
  sed "s|@OUT@|$data/ckpt-$job-ckpt.out|" "$data/ckpt-$job.sql" > "$data/ckpt-$job-ckpt.sql"
  tp=() tc=()
  n=$N
  [ $job = win ] && n=$NW
  echo "checkpoints, $job pipeline: $n records, $REPEAT round(s)"
  for r in $(seq "$REPEAT"); do
    t0=$(now); "$SLUICE" run "$data/ckpt-$job-plain.sql"; t1=$(now)
    "$SLUICE" --stats --state-dir "$data/ckpt-state-$job" --reset-state run "$data/ckpt-$job-ckpt.sql" \
      2> "$data/ckpt-$job.stats"
    t2=$(now)
    tp+=("$(echo "$t1 - $t0" | bc -l)"); tc+=("$(echo "$t2 - $t1" | bc -l)")
    printf '  round %d  without %.3f s   with (every 1 s) %.3f s   %s\n' "$r" "${tp[-1]}" "${tc[-1]}" \
      "$(grep -h 'checkpoints of' "$data/ckpt-$job.stats")"
  done
  cmp -s "$data/ckpt-$job-plain.out" "$data/ckpt-$job-ckpt.out" ||
    { echo "  outputs DIFFER"; exit 1; }
  read -r pmin pmed <<< "$(stats "${tp[@]}")"
  read -r cmin cmed <<< "$(stats "${tc[@]}")"
  printf '  without: min %.3f s  median %.3f s (%.0f records/s)\n' "$pmin" "$pmed" "$(echo "$n / $pmed" | bc -l)"
  printf '  with:    min %.3f s  median %.3f s (%.0f records/s)\n' "$cmin" "$cmed" "$(echo "$n / $cmed" | bc -l)"
  printf '  overhead of checkpoints every second: %+.1f%% (median; target <= 10%%), outputs identical\n' \
    "$(echo "($cmed / $pmed - 1) * 100" | bc -l)"
done

# ---- restore: a state of K keys --------------------------------------------
K=${BENCH_RESTORE_KEYS:-1000000}
keys=$data/ckpt-keys-$K.jsonl
[ -f "$keys" ] || "$PYTHON" - "$keys" "$K" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    for i in range(int(sys.argv[2])):
        f.write('{"k": "key%07d", "v": %d}\n' % (i, i % 100))
PY
cat > "$data/ckpt-restore.sql" <<SQL
SET checkpoint_interval = '1s';
SELECT k, count(*) AS n, sum(v) AS s FROM stdin(format => 'json', columns => 'k TEXT, v INTEGER')
GROUP BY k EMIT CHANGES INTO file('$data/ckpt-restore.out', format => 'json');
SQL
gen() { cut -d' ' -f3 "$data/ckpt-state-restore/sluice-state.id" 2>/dev/null || echo 0; }
echo "checkpoints, restore: a running aggregate of $K keys, $REPEAT round(s)"
for r in $(seq "$REPEAT"); do
  rm -rf "$data/ckpt-state-restore" "$data/ckpt-restore.out" "$data/ckpt-restore.fifo"
  mkfifo "$data/ckpt-restore.fifo"
  (cat "$keys"; exec sleep 600) > "$data/ckpt-restore.fifo" &
  wpid=$!
  "$SLUICE" --state-dir "$data/ckpt-state-restore" run "$data/ckpt-restore.sql" < "$data/ckpt-restore.fifo" &
  pid=$!
  # everything read (the output has one change per key) and then a checkpoint after that
  for _ in $(seq 1200); do
    [ "$({ wc -l < "$data/ckpt-restore.out"; } 2>/dev/null || echo 0)" -ge "$K" ] && break; sleep 0.1
  done
  g0=$(gen)
  for _ in $(seq 100); do [ "$(gen)" -ge $((g0 + 2)) ] && break; sleep 0.1; done
  kill -KILL $pid 2>/dev/null; wait $pid 2>/dev/null
  kill $wpid 2>/dev/null; wait $wpid 2>/dev/null
  t0=$(now)
  "$SLUICE" --stats --state-dir "$data/ckpt-state-restore" run "$data/ckpt-restore.sql" < "$keys" \
    2> "$data/ckpt-restore.stats"
  t1=$(now)
  printf '  round %d  the run after SIGKILL: %.3f s in all; %s\n' "$r" "$(echo "$t1 - $t0" | bc -l)" \
    "$(grep -ho 'resumed from one: [^)]*' "$data/ckpt-restore.stats")"
done
