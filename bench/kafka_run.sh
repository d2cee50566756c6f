#!/usr/bin/env bash
# bench/kafka_run.sh - S1 through Kafka on the dev broker (`make bench`).
#
# Throughput: N S1 messages (default 1,000,000) on a 50-partition topic,
# scored by sluice into another topic, against the bare librdkafka consume ->
# produce loop (bench/kafka_loop.c), which does no processing and is the
# ceiling.  (librdkafka 2.0's mock cluster keeps about 5 MB per partition, so
# the messages are spread evenly over 50 partitions to keep all of them.)
# Target: sluice >= 70% of the bare loop.
#
# Latency: bench/kafka_latency.c produces S1 messages stamped with their send
# time at RATE/s for SECS seconds while the pipeline runs continuously (sluice,
# then the bare loop in follow mode), and measures send -> receipt of the
# output.  Both consumers use fetch.wait.max.ms=10, because the mock broker
# holds an empty fetch for the whole wait.  Target: sluice p99 <= 2x the loop's.
#
# Same broker, same run; BENCH_REPEAT rounds, min and median.  Run from the
# build directory.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
N=${BENCH_KAFKA_RECORDS:-1000000}
RATE=${BENCH_LATENCY_RATE:-2000}
SECS=${BENCH_LATENCY_SECS:-10}
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
lat=$data/bin/kafka_latency
if [ ! -x "$lat" ] || [ "$here/kafka_latency.c" -nt "$lat" ]; then
  ${CC:-cc} -O2 -o "$lat" "$here/kafka_latency.c" $(pkg-config --cflags --libs rdkafka) -lpthread
fi
gen=$data/bin/gen_s1
[ -x "$gen" ] || ${CC:-cc} -O2 -o "$gen" "$here/gen_s1.c"
input=$data/s1-kafka-$N.jsonl
[ -f "$input" ] || "$gen" -n "$N" -s 1 "$input"
w=$(grep -v '^#' "$here/weights.txt" | awk '{print $2}' | tr '\n' ' ')
read -r w0 w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 <<< "$w"
linear="$w0 + $w1*G1 + $w2*G2 + $w3*G3 + $w4*G4 + $w5*G5 + $w6*G6 + $w7*G7 + $w8*G8 + $w9*G9 + $w10*G10"

P=50
topics="s1in:$P"
for r in $(seq "$REPEAT"); do topics="$topics,outs$r:$P,outb$r:$P,lis$r:4,los$r:4,lib$r:4,lob$r:4"; done
"$SLUICE" broker --topics "$topics" > "$data/broker.boot" 2> "$data/broker.log" &
bpid=$!
trap 'kill $bpid 2>/dev/null; wait $bpid 2>/dev/null' EXIT
for _ in $(seq 600); do [ -s "$data/broker.boot" ] && break; sleep 0.1; done
boot=$(head -n 1 "$data/broker.boot")
[ -n "$boot" ] || { echo "kafka bench: the dev broker did not start"; exit 1; }
echo "Kafka S1: $N messages on the dev broker at $boot, $REPEAT round(s)"
"$SLUICE" --brokers "$boot" -e "SELECT value FROM file('$input', format => 'raw')
  INTO kafka('s1in', format => 'raw', 'sticky.partitioning.linger.ms' => '0')"

now() { date +%s.%N; }
ts=() tb=()
run_sluice() {
  "$SLUICE" --brokers "$boot" -e "SELECT User_ID, 1/(1+exp(-($linear))) AS pred
    FROM kafka('s1in', format => 'json', stop => 'end', group => 's$1')
    INTO kafka('outs$1', format => 'json', 'sticky.partitioning.linger.ms' => '0')"
}
for r in $(seq "$REPEAT"); do
  # alternate who goes first, so neither pays for the other's leftovers
  if [ $((r % 2)) -eq 1 ]; then
    t0=$(now); run_sluice "$r"; t1=$(now); "$loop" "$boot" s1in "outb$r" > /dev/null; t2=$(now)
    ts+=("$(echo "$t1 - $t0" | bc -l)"); tb+=("$(echo "$t2 - $t1" | bc -l)")
  else
    t0=$(now); "$loop" "$boot" s1in "outb$r" > /dev/null; t1=$(now); run_sluice "$r"; t2=$(now)
    tb+=("$(echo "$t1 - $t0" | bc -l)"); ts+=("$(echo "$t2 - $t1" | bc -l)")
  fi
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

echo
echo "Latency: $RATE messages/s for $SECS s, $REPEAT round(s)"
# measure PID LABEL IN OUT: the latency through the pipeline PID (already
# started, reading IN and writing OUT) into $out, then stop the pipeline
measure() {
  out=$("$lat" "$boot" "$3" "$4" "$RATE" "$SECS")
  kill -TERM "$1"
  wait "$1" || true
  echo "  round $r  $(printf '%-10s' "$2") $out"
}
ls=() lb=() l50s=() l50b=()
for r in $(seq "$REPEAT"); do
  "$SLUICE" --brokers "$boot" -e "SELECT User_ID, 1/(1+exp(-($linear))) AS pred, ts
    FROM kafka('lis$r', format => 'json', group => 'lat$r', 'fetch.wait.max.ms' => '10')
    INTO kafka('los$r', format => 'json')" &
  measure $! sluice "lis$r" "los$r"
  ls+=("$(echo "$out" | awk '{print $9}')")
  l50s+=("$(echo "$out" | awk '{print $6}')")
  "$loop" "$boot" "lib$r" "lob$r" follow > /dev/null &
  measure $! "bare loop" "lib$r" "lob$r"
  lb+=("$(echo "$out" | awk '{print $9}')")
  l50b+=("$(echo "$out" | awk '{print $6}')")
done
read -r s50min s50med <<< "$(stats "${l50s[@]}")"
read -r b50min b50med <<< "$(stats "${l50b[@]}")"
read -r smin smed <<< "$(stats "${ls[@]}")"
read -r bmin bmed <<< "$(stats "${lb[@]}")"
for who in sluice bare-loop; do
  if [ $who = sluice ]; then set -- "$s50min" "$s50med" "$smin" "$smed"; else set -- "$b50min" "$b50med" "$bmin" "$bmed"; fi
  printf '%-10s p50 min %.2f ms  median %.2f ms   p99 min %.2f ms  median %.2f ms\n' $who "$@"
done
printf 'sluice / bare loop p99: %.2fx (target <= 2x)\n' "$(echo "$smed / $bmed" | bc -l)"
