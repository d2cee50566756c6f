#!/usr/bin/env bash
# bench/parallel_run.sh - SET parallelism (`make bench`): S1 (the logistic
# model over JSON lines, bench/s1.sql) and S5 (the per-user tumbling
# aggregate of bench/s5_run.sh) at parallelism 1 and 2, file to file, the
# same input, BENCH_REPEAT interleaved rounds; min and median wall time and
# the ratio of medians (goal on 2 cores: >= 1.8x).  S5 keeps state per
# user: at parallelism 2 its tasks meet at an exchange that sends each row
# to the copy of the aggregate holding its user (op_exchange.c).  Both
# parallelisms' outputs must hold the same lines (as a multiset, REALs to 9
# significant digits: a sum's last digits follow the order rows meet); the CPU
# time of each run (user + system, from /usr/bin/time) is printed too: at
# parallelism 1 the sink's encoder thread already uses part of the second
# core.  Before each input's rounds and after the last, the speed of each
# core (bench/core_speed.c: the same loop pinned to each) and the speedup
# it allows: a virtual machine's cores can differ, for minutes at a time.
# Run from the build directory.  Environment:
#   BENCH_REPEAT (3)  BENCH_RECORDS (1000000)  BENCH_S5_RECORDS (1000000)
#   SLUICE (./sluice)  PYTHON (/usr/bin/python3)  BENCH_DATA (bench-data)  CC (cc)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
N=${BENCH_RECORDS:-1000000}
N5=${BENCH_S5_RECORDS:-1000000}
REPEAT=${BENCH_REPEAT:-3}
SLUICE=${SLUICE:-./sluice}
PYTHON=${PYTHON:-/usr/bin/python3}
data=${BENCH_DATA:-bench-data}
mkdir -p "$data/bin"
data=$(cd "$data" && pwd)

# S1's input and query (the generator and weights of bench/run.sh)
. "$here/s1_data.sh"
# S5's input (the generator of bench/s5_run.sh: the same file when it made one)
s5in=$data/s5-$N5.jsonl
if [ ! -f "$s5in" ]; then
  "$PYTHON" - "$s5in" "$N5" <<'PY'
import random, sys
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
for p in 1 2; do
  cat > "$data/par-s1-$p.sql" <<SQL
SET parallelism = $p;
SELECT User_ID, 1/(1+exp(-($linear))) AS pred
FROM file('$s1in', format => 'json')
INTO file('$data/par-s1-$p.jsonl', format => 'json');
SQL
  cat > "$data/par-s5-$p.sql" <<SQL
SET parallelism = $p;
SELECT user, window_start, count(*) AS n, sum(price) AS revenue
FROM file('$s5in', format => 'json', columns => 'user TEXT, product TEXT, price REAL, ts INTEGER')
GROUP BY user, TUMBLE(ts, INTERVAL '10' SECOND)
INTO file('$data/par-s5-$p.csv', format => 'csv');
SQL
done
# the machine's cores: the same loop pinned to each, and the most two
# tasks can do against one on the fastest (speeds a >= b: (a + b) / a)
${CC:-cc} -std=c11 -O1 -o "$data/bin/core_speed" "$here/core_speed.c"
cores() {
  "$data/bin/core_speed" | "$PYTHON" -c '
import sys
t = [float(l.split()[1]) for l in sys.stdin]
s = sorted((1 / x for x in t), reverse=True)
print("  cores (the same loop pinned to each): %s s; two tasks can do at most %.2fx one on the fastest"
      % (", ".join("%.3f" % x for x in t), (s[0] + s[1]) / s[0] if len(s) > 1 else 1.0))'
}
# timed FILE CMD...: run CMD, its wall, user and system seconds into FILE
TIMEFORMAT='%R %U %S'
timed() {
  local f=$1
  shift
  { time "$@" 2> /dev/null; } 2> "$f"
}
status=0
for s in s1 s5; do
  n=$N
  [ $s = s5 ] && n=$N5
  t1=() t2=() c1=() c2=()
  echo "$s at parallelism 1 and 2: $n records, $REPEAT round(s), $(nproc) cores"
  cores
  for r in $(seq "$REPEAT"); do
    timed "$data/time1" "$SLUICE" run "$data/par-$s-1.sql"
    timed "$data/time2" "$SLUICE" run "$data/par-$s-2.sql"
    read -r w1 u1 s1 < "$data/time1"
    read -r w2 u2 s2 < "$data/time2"
    t1+=("$w1") t2+=("$w2")
    c1+=("$(echo "$u1 + $s1" | bc -l)") c2+=("$(echo "$u2 + $s2" | bc -l)")
    printf '  round %d  parallelism 1 %.3f s (CPU %.2f s)   parallelism 2 %.3f s (CPU %.2f s)\n' \
      "$r" "$w1" "${c1[-1]}" "$w2" "${c2[-1]}"
  done
  out=$data/par-$s-1.jsonl
  [ $s = s5 ] && out=$data/par-s5-1.csv
  # the same lines, but for the last digits of a floating-point sum: a
  # group's rows meet from both tasks in no set order (docs/scale-out.md)
  if ! "$PYTHON" - "$out" "${out/-1./-2.}" <<'PY'; then
import re, sys
def rows(path):
    num = re.compile(r"-?[0-9.]+(?:[eE][-+]?[0-9]+)?")
    out = []
    for line in open(path):
        out.append(num.sub(lambda m: "%.9g" % float(m.group()) if "." in m.group() else m.group(), line))
    return sorted(out)
sys.exit(0 if rows(sys.argv[1]) == rows(sys.argv[2]) else 1)
PY
    echo "  $s: parallelism 2's output is not parallelism 1's"
    status=1
  fi
  "$PYTHON" - "$n" "${t1[*]}" "${t2[*]}" "${c1[*]}" "${c2[*]}" <<'PY'
import statistics, sys
n = int(sys.argv[1])
a = [float(x) for x in sys.argv[2].split()]
b = [float(x) for x in sys.argv[3].split()]
ca = [float(x) for x in sys.argv[4].split()]
cb = [float(x) for x in sys.argv[5].split()]
for name, t, c in (("parallelism 1", a, ca), ("parallelism 2", b, cb)):
    print("  %s: min %.3f s, median %.3f s (%.0f records/s at the median), CPU median %.3f s"
          % (name, min(t), statistics.median(t), n / statistics.median(t), statistics.median(c)))
print("  speedup of 2 over 1: %.2fx (medians), %.2fx (mins)"
      % (statistics.median(a) / statistics.median(b), min(a) / min(b)))
PY
done
cores
exit $status
