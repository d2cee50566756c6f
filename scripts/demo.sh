#!/usr/bin/env bash
# scripts/demo.sh - the main job: install what is needed, build sluice, and
# run scenario S1 end to end: on files, then over Kafka on the embedded dev
# broker with the seed's own kafka-python producer and kcat as the consumer.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
[ -f configure ] || autoreconf -fi >/dev/null
mkdir -p build
(cd build && { [ -f Makefile ] || ../configure >/dev/null; } && make -j2 >/dev/null)
echo "== sql-examples/s1_files.sql"
cat sql-examples/s1_files.sql
echo
echo "== running: build/sluice run --stats sql-examples/s1_files.sql"
build/sluice run --stats sql-examples/s1_files.sql
echo
echo "== first records of preds.jsonl ($(wc -l < preds.jsonl) lines)"
head -n 5 preds.jsonl
echo
echo "== the same engine, interactively: build/sluice -e \"SELECT ...\" --format table"
build/sluice --format table -e "SELECT User_ID, G1 + G2 + G3 AS owned
  FROM file('sql-examples/data/dsp.jsonl') WHERE G9 = 1 AND G10 = 1;" | head -n 8 || true

echo
echo "== S1 over Kafka, on the embedded dev broker (nothing else to install)"
build/sluice broker --topics dsp:3,preds:1 > /tmp/sluice-demo-broker.$$ 2>/dev/null &
broker=$!
trap 'kill $broker 2>/dev/null' EXIT
for _ in $(seq 50); do [ -s /tmp/sluice-demo-broker.$$ ] && break; sleep 0.1; done
boot=$(head -n 1 /tmp/sluice-demo-broker.$$)
rm -f /tmp/sluice-demo-broker.$$
echo "dev broker at $boot"
echo "-- the seed's producer (kafka-python) sends 1000 records to topic dsp"
/usr/bin/python3 - "$boot" <<'PY'
import json, sys
from kafka import KafkaProducer
producer = KafkaProducer(bootstrap_servers=sys.argv[1],
                         value_serializer=lambda v: json.dumps(v).encode('utf-8'))
for line in open('sql-examples/data/dsp.jsonl'):
    producer.send('dsp', json.loads(line))
producer.flush()
PY
echo "-- build/sluice --brokers $boot --stats run sql-examples/s1_kafka.sql"
build/sluice --brokers "$boot" --stats run sql-examples/s1_kafka.sql
echo "-- the first records of topic preds, read with kcat"
kcat -b "$boot" -C -t preds -e -q -c 5
