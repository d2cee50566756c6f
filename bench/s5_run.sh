#!/usr/bin/env bash
# bench/s5_run.sh - S5's per-user tumbling aggregate (`make bench`): N purchase
# events (default 1,000,000 JSON lines, 20 users, 4 products, event time
# increasing) -> per user and 10-second window: count(*) and sum(price).
# sluice (GROUP BY user, TUMBLE(ts, INTERVAL '10' SECOND), file to file)
# against sqlite3's library doing the same GROUP BY over the same lines
# (bench/s5_sqlite.c), same run, BENCH_REPEAT rounds; min and median
# records/s and the ratio (target: sluice >= 3x sqlite3).  Both outputs must
# hold the same (user, window, count, sum) rows.  Run from the build
# directory.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
N=${BENCH_S5_RECORDS:-1000000}
REPEAT=${BENCH_REPEAT:-3}
SLUICE=${SLUICE:-./sluice}
PYTHON=${PYTHON:-/usr/bin/python3}
data=${BENCH_DATA:-bench-data}
mkdir -p "$data/bin"
data=$(cd "$data" && pwd)
peer=$data/bin/s5_sqlite
if [ ! -x "$peer" ] || [ "$here/s5_sqlite.c" -nt "$peer" ]; then
  ${CC:-cc} -O2 -o "$peer" "$here/s5_sqlite.c" $(pkg-config --cflags --libs sqlite3)
fi
input=$data/s5-$N.jsonl
if [ ! -f "$input" ]; then
  "$PYTHON" - "$input" "$N" <<'PY'
import json, random, sys
random.seed(5)
names = ["u%02d" % i for i in range(20)]
products = [("iPhone Cover", 9.99), ("Headphones", 5.49), ("Samsung Galaxy Cover", 8.95), ("iPad Cover", 7.49)]
t = 1700000000000
with open(sys.argv[1], "w") as f:
    for i in range(int(sys.argv[2])):
        t += random.randrange(20)
        p, price = random.choice(products)
        f.write('{"user": "%s", "product": "%s", "price": %s, "ts": %d}\n' % (random.choice(names), p, price, t))
PY
fi
cat > "$data/s5.sql" <<SQL
SELECT user, window_start, count(*) AS n, sum(price) AS revenue
FROM file('$input', format => 'json', columns => 'user TEXT, product TEXT, price REAL, ts INTEGER')
GROUP BY user, TUMBLE(ts, INTERVAL '10' SECOND)
INTO file('$data/s5-sluice.csv', format => 'csv');
SQL
now() { date +%s.%N; }
ts=() tq=()
echo "S5 aggregate: $N events, $REPEAT round(s)"
for r in $(seq "$REPEAT"); do
  t0=$(now); "$SLUICE" run "$data/s5.sql"; t1=$(now)
  "$peer" "$input" "$data/s5-sqlite.csv"; t2=$(now)
  ts+=("$(echo "$t1 - $t0" | bc -l)"); tq+=("$(echo "$t2 - $t1" | bc -l)")
  printf '  round %d  sluice %.3f s   sqlite3 %.3f s\n' "$r" "${ts[-1]}" "${tq[-1]}"
done
"$PYTHON" - "$data/s5-sluice.csv" "$data/s5-sqlite.csv" <<'PY'
import sys
def rows(p):
    out = set()
    for l in open(p):
        u, ws, n, s = l.strip().split(",")
        out.add((u, int(ws), int(n), round(float(s), 6)))
    return out
a, b = rows(sys.argv[1]), rows(sys.argv[2])
print("outputs: sluice %d rows, sqlite3 %d rows, %s" % (len(a), len(b), "the same" if a == b else "DIFFERENT"))
sys.exit(0 if a == b else 1)
PY
stats() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {printf "%s %s", a[1], a[int((NR+1)/2)]}'; }
read -r smin smed <<< "$(stats "${ts[@]}")"
read -r qmin qmed <<< "$(stats "${tq[@]}")"
printf '%-8s min %.3f s  median %.3f s  median %.0f records/s\n' sluice "$smin" "$smed" "$(echo "$N / $smed" | bc -l)"
printf '%-8s min %.3f s  median %.3f s  median %.0f records/s\n' sqlite3 "$qmin" "$qmed" "$(echo "$N / $qmed" | bc -l)"
printf 'sluice / sqlite3: %.1fx (target >= 3x)\n' "$(echo "$qmed / $smed" | bc -l)"
