#!/usr/bin/env bash
# bench/kafka_run.sh - S1 through Kafka on the dev broker (`make bench`):
# N S1 messages on a 1-partition topic, scored by sluice into another topic,
# (N defaults to 25,000: librdkafka 2.0's mock cluster keeps only the last
# ~33,000 messages of a partition, so a larger input would be cut short),
# against the bare librdkafka consume -> produce loop (bench/kafka_loop.c),
# which does no processing and is the ceiling.  Same broker, same run;
# BENCH_REPEAT rounds, min and median messages/s and the ratio (target:
# sluice >= 70% of the bare loop).  Run from the build directory.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
N=${BENCH_KAFKA_RECORDS:-25000}
REPEAT=${BENCH_REPEAT:-3}
SLUICE=${SLUICE:-./sluice}
data=${BENCH_DATA:-bench-data}
mkdir -p "$data/bin"
data=$(cd "$data" && pwd)
[ -x "$SLUICE" ] || { echo "kafka bench: sluice not built"; exit 0; }
loop=$data/bin/kafka_loop
if [ ! -x "$loop" ] || [ "$here/kafka_loop.c" -nt "$loop" ]; then
  ${CC:-cc} -O2 -o "$loop" "$here/kafka_loop.c" $(pkg-config --cflags --libs rdkafka)
fi
gen=$data/bin/gen_s1
[ -x "$gen" ] || ${CC:-cc} -O2 -o "$gen" "$here/gen_s1.c"
input=$data/s1-kafka-$N.jsonl
[ -f "$input" ] || "$gen" -n "$N" -s 1 "$input"
w=$(grep -v '^#' "$here/weights.txt" | awk '{print $2}' | tr '\n' ' ')
read -r w0 w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 <<< "$w"
linear="$w0 + $w1*G1 + $w2*G2 + $w3*G3 + $w4*G4 + $w5*G5 + $w6*G6 + $w7*G7 + $w8*G8 + $w9*G9 + $w10*G10"

topics="s1in:1"
for r in $(seq "$REPEAT"); do topics="$topics,outs$r:1,outb$r:1"; done
"$SLUICE" broker --topics "$topics" > "$data/broker.boot" 2> "$data/broker.log" &
bpid=$!
trap 'kill $bpid 2>/dev/null; wait $bpid 2>/dev/null' EXIT
for _ in $(seq 50); do [ -s "$data/broker.boot" ] && break; sleep 0.1; done
boot=$(head -n 1 "$data/broker.boot")
echo "Kafka S1: $N messages on the dev broker at $boot, $REPEAT round(s)"
"$SLUICE" --brokers "$boot" -e "SELECT value FROM file('$input', format => 'raw')
  INTO kafka('s1in', format => 'raw')"

now() { date +%s.%N; }
ts=() tb=()
for r in $(seq "$REPEAT"); do
  t0=$(now)
  "$SLUICE" --brokers "$boot" -e "SELECT User_ID, 1/(1+exp(-($linear))) AS pred
    FROM kafka('s1in', format => 'json', stop => 'end', group => 's$r')
    INTO kafka('outs$r', format => 'json')"
  t1=$(now)
  "$loop" "$boot" s1in "outb$r" > /dev/null
  t2=$(now)
  ts+=("$(echo "$t1 - $t0" | bc -l)")
  tb+=("$(echo "$t2 - $t1" | bc -l)")
  printf '  round %d  sluice %.3f s   bare loop %.3f s\n' "$r" "${ts[-1]}" "${tb[-1]}"
done
n_out=$(kcat -b "$boot" -C -t outs1 -e -q 2>/dev/null | wc -l)
n_bare=$(kcat -b "$boot" -C -t outb1 -e -q 2>/dev/null | wc -l)
echo "messages out: sluice $n_out, bare loop $n_bare (of $N)"
stats() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {printf "%s %s", a[1], a[int((NR+1)/2)]}'; }
read -r smin smed <<< "$(stats "${ts[@]}")"
read -r bmin bmed <<< "$(stats "${tb[@]}")"
printf '%-10s min %.3f s  median %.3f s  median %.0f msg/s\n' sluice "$smin" "$smed" "$(echo "$N / $smed" | bc -l)"
printf '%-10s min %.3f s  median %.3f s  median %.0f msg/s\n' bare-loop "$bmin" "$bmed" "$(echo "$N / $bmed" | bc -l)"
printf 'sluice / bare loop throughput: %.0f%% (target >= 70%%)\n' "$(echo "100 * $bmed / $smed" | bc -l)"
