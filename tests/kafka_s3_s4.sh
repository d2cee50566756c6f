#!/usr/bin/env bash
# kafka_s3_s4.sh - S3 and S4 over Kafka on the dev broker, with ordinary
# clients on both sides: kafka-python writes the iris CSV lines and the fraud
# records, sluice runs sql-examples/s3_kafka.sql and s4_kafka.sql, kcat reads
# the output topics, and the same checks as for files compare them with
# scikit-learn and xgboost.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=${top_srcdir:-$here/..}
sluice=${SLUICE:-$here/../sluice}
py=/usr/bin/python3
$py -c 'import kafka, sklearn, xgboost' 2>/dev/null || { echo "python3-kafka/sklearn/xgboost missing: skipped"; exit 77; }
work=$(mktemp -d)
"$sluice" broker --port 0 --topics iris-classifier-input:2,iris-classifier-output:1,fraud-input:3,suspicious:1,normal:1 \
  > "$work/boot" 2> "$work/broker.log" &
bpid=$!
trap 'kill $bpid 2>/dev/null; wait $bpid 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do [ -s "$work/boot" ] && break; sleep 0.1; done
boot=$(head -n 1 "$work/boot")
[ -n "$boot" ] || { echo "broker did not start"; cat "$work/broker.log"; exit 1; }
cd "$top"
. "$here/lib.sh"

# S3: one partition's order is kept; with two, compare as sets of lines
$py - "$boot" sql-examples/data/iris.csv sql-examples/data/fraud.jsonl <<'PY' || bad "producers"
import sys
from kafka import KafkaProducer
p = KafkaProducer(bootstrap_servers=sys.argv[1])
for line in open(sys.argv[2]):
    if line.strip():
        p.send('iris-classifier-input', line.strip().encode())
for line in open(sys.argv[3]):
    p.send('fraud-input', line.strip().encode())
p.flush()
PY
"$sluice" --brokers "$boot" --stats run sql-examples/s3_kafka.sql 2> "$work/s3.err" &&
  grep -q "150 in, 150 out, 0 rejected" "$work/s3.err" && ok || { bad "s3 run"; cat "$work/s3.err"; }
kcat -b "$boot" -C -t iris-classifier-output -e -q > "$work/s3.out" 2> /dev/null
# order across the two input partitions is not defined: sort both sides
sort sql-examples/data/iris.csv | grep . > "$work/iris.sorted"
$py - "$work/s3.out" "$work/iris.sorted" <<'PY' || bad "S3 output lines"
import sys
got = sorted(l.rstrip("\n") for l in open(sys.argv[1]))
src = [l.strip() for l in open(sys.argv[2])]
ins = sorted(l.rsplit(",", 1)[0] for l in got)
sys.exit(0 if ins == sorted(src) else 1)
PY
sort "$work/s3.out" > "$work/s3.sorted"
cut -d, -f1-4 "$work/s3.sorted" > "$work/s3.in"
$py "$here/models/check_s3.py" "$work/s3.sorted" "$work/s3.in" && ok || bad "S3 labels"

"$sluice" --brokers "$boot" --stats run sql-examples/s4_kafka.sql 2> "$work/s4.err" &&
  grep -q "scored: 1000 in" "$work/s4.err" && ok || { bad "s4 run"; cat "$work/s4.err"; }
kcat -b "$boot" -C -t suspicious -e -q > "$work/sus.jsonl" 2> /dev/null
kcat -b "$boot" -C -t normal -e -q > "$work/nor.jsonl" 2> /dev/null
$py "$here/models/check_s4.py" sql-examples/models/fraud.xgb.json sql-examples/data/fraud.jsonl \
  "$work/sus.jsonl" "$work/nor.jsonl" && ok || bad "S4 scores and split"
# event time from the Kafka timestamp: rowtime()
"$sluice" --brokers "$boot" --format csv -e "SELECT window_start, count(*) AS n
  FROM kafka('fraud-input', format => 'json', stop => 'end', group => 'rt')
  GROUP BY TUMBLE(rowtime(), INTERVAL '1' HOUR)" > "$work/rt.csv" 2> "$work/rt.err"
$py - "$work/rt.csv" <<'PY' && ok || { bad "rowtime() windows"; cat "$work/rt.csv" "$work/rt.err"; }
import csv, sys, time
rows = list(csv.DictReader(open(sys.argv[1])))
now = time.time() * 1000
ok = sum(int(r["n"]) for r in rows) == 1000 and all(
    int(r["window_start"]) % 3600000 == 0 and abs(int(r["window_start"]) - now) < 2 * 3600000
    for r in rows)
sys.exit(0 if ok else 1)
PY
finish kafka_s3_s4
