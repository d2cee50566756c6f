#!/usr/bin/env bash
# kafka_s1.sh - S1 over Kafka with ordinary clients on both sides, on the
# embedded dev broker (librdkafka's mock cluster on 127.0.0.1, started and
# stopped here): a kafka-python producer writes the seed's messages to `dsp`
# (3 partitions) as the seed does, sluice scores them into `preds`, and a
# kafka-python consumer checks that every User_ID arrives with the value
# scikit-learn gives; kcat counts the messages as a second client.  Then:
# a second run with offset => 'committed' finds nothing left (offsets were
# committed after delivery), and bad records (broken JSON, binary garbage,
# empty values) are counted and skipped while the rest flows.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=${top_srcdir:-$here/..}
sluice=${SLUICE:-$here/../sluice}
py=/usr/bin/python3
if ! $py -c 'import kafka, sklearn' 2>/dev/null; then echo "python3-kafka/sklearn missing: skipped"; exit 77; fi
work=$(mktemp -d)
"$sluice" broker --topics dsp:3,preds:1,raw:1,keyed:3,keyed2:1 > "$work/boot" 2> "$work/broker.log" &
bpid=$!
trap 'kill $bpid 2>/dev/null; wait $bpid 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 50); do [ -s "$work/boot" ] && break; sleep 0.1; done
boot=$(head -n 1 "$work/boot")
[ -n "$boot" ] || { echo "broker did not start"; cat "$work/broker.log"; exit 1; }
. "$here/lib.sh"

# 1. the seed's producer
$py - "$boot" "$top/sql-examples/data/dsp.jsonl" <<'PY' || bad "producer"
import json, sys
from kafka import KafkaProducer
p = KafkaProducer(bootstrap_servers=sys.argv[1], value_serializer=lambda v: json.dumps(v).encode())
for line in open(sys.argv[2]):
    p.send('dsp', json.loads(line))
p.flush()
PY

# 2. sluice
cd "$top"
if "$sluice" --brokers "$boot" --stats run sql-examples/s1_kafka.sql 2> "$work/run1.err"; then ok; else bad "sluice run"; cat "$work/run1.err"; fi
grep -q "1000 in, 1000 out, 0 rejected" "$work/run1.err" && ok || { bad "counts of run 1"; cat "$work/run1.err"; }

# 3. the seed's consumer, checked against scikit-learn
$py - "$boot" "$here/data/games-expand.csv" sql-examples/data/dsp.jsonl <<'PY' && ok || bad "consumer check"
import csv, json, sys
import numpy as np
from kafka import KafkaConsumer
from sklearn.linear_model import LogisticRegression
rows = list(csv.DictReader(open(sys.argv[2])))
X = np.array([[float(r["G%d" % k]) for k in range(1, 11)] for r in rows])
y = np.array([float(r["label"]) for r in rows])
m = LogisticRegression().fit(X, y)
inp = [json.loads(l) for l in open(sys.argv[3])]
want = dict(zip((r["User_ID"] for r in inp),
                m.predict_proba(np.array([[r["G%d" % k] for k in range(1, 11)] for r in inp]))[:, 0]))
c = KafkaConsumer('preds', bootstrap_servers=sys.argv[1], auto_offset_reset='earliest',
                  consumer_timeout_ms=5000, value_deserializer=lambda v: json.loads(v.decode()))
got = {}
for msg in c:
    got[msg.value["User_ID"]] = msg.value["pred"]
    if len(got) == len(want):
        break
missing = [u for u in want if u not in got]
wrong = [u for u in want if u in got and abs(got[u] - want[u]) > 1e-12]
print("kafka consumer: %d preds, %d missing, %d wrong" % (len(got), len(missing), len(wrong)))
sys.exit(1 if missing or wrong else 0)
PY
n=$(kcat -b "$boot" -C -t preds -e -q 2>/dev/null | wc -l)
[ "$n" -eq 1000 ] && ok || bad "kcat counted $n messages in preds, not 1000"

# 4. committed offsets: a second run has nothing left to do
"$sluice" --brokers "$boot" --stats run sql-examples/s1_kafka.sql 2> "$work/run2.err"
grep -q "0 in, 0 out, 0 rejected" "$work/run2.err" && ok || { bad "second run re-read records"; cat "$work/run2.err"; }

# 5. bad records are counted and skipped; the rest flows
$py - "$boot" <<'PY' || bad "producer of bad records"
import sys
from kafka import KafkaProducer
p = KafkaProducer(bootstrap_servers=sys.argv[1])
for v in [b'{"a": 1}', b'{"a": ', b'\x00\xff\xfe garbage', b'', b'{"a": 2}', b'[1,2]', b'{"a": 3}']:
    p.send('raw', v)
p.flush()
PY
out=$("$sluice" --brokers "$boot" --format csv --stats -e "SELECT a FROM kafka('raw', format => 'json', stop => 'end')" 2> "$work/run3.err")
[ "$out" = $'a\n1\n2\n3' ] && ok || bad "bad records: got [$out]"
grep -q "7 in, 3 out, 4 rejected" "$work/run3.err" && ok || { bad "bad record counts"; cat "$work/run3.err"; }
grep -q "raw\[0\]@1: malformed JSON" "$work/run3.err" && ok || { bad "bad record position"; cat "$work/run3.err"; }

# 5b. LIMIT on a continuous source is a peek: it ends after n rows (the
# topic has more, and a continuous read would wait for more forever)
out=$(timeout 60 "$sluice" --brokers "$boot" --format csv -e "SELECT G1 FROM kafka('dsp', format => 'json') LIMIT 3 OFFSET 2" 2> "$work/peek.err")
rc=$?
[ $rc = 0 ] && [ "$(printf '%s\n' "$out" | wc -l)" = 4 ] && ok || { bad "LIMIT peek on a stream: rc $rc, [$out]"; cat "$work/peek.err"; }
out=$(timeout 60 "$sluice" --brokers "$boot" --format csv -e "SELECT DISTINCT G1 FROM kafka('dsp', format => 'json') LIMIT 2" 2> "$work/peek2.err")
[ "$(printf '%s\n' "$out" | sort)" = $'0\n1\nG1' ] && ok || { bad "DISTINCT peek on a stream: [$out]"; cat "$work/peek2.err"; }

# 6. an unknown option is a bind error; a bad librdkafka property says librdkafka's words
"$sluice" --brokers "$boot" -e "SELECT 1 FROM kafka('dsp', stop => 'end', ofset => 'x')" 2> "$work/e1" && bad "unknown option accepted" || ok
grep -q "unknown option 'ofset' for kafka()" "$work/e1" && ok || { bad "unknown option message"; cat "$work/e1"; }
"$sluice" --brokers "$boot" -e "SELECT 1 FROM kafka('dsp', stop => 'end', 'no.such.property' => 'x')" 2> "$work/e2" && bad "bad property accepted" || ok
grep -q "No such configuration property" "$work/e2" && ok || { bad "property message"; cat "$work/e2"; }

# 7. message keys: a selected column named key is the key (not in the value);
#    key => 'column' names one (kept in the value); messages are partitioned by key
"$sluice" --brokers "$boot" -e "SELECT User_ID AS key, G1 FROM kafka('dsp', format => 'json', stop => 'end', group => 'k1')
  INTO kafka('keyed', format => 'json');
  SELECT User_ID, G2 FROM kafka('dsp', format => 'json', stop => 'end', group => 'k2')
  INTO kafka('keyed2', format => 'json', key => 'User_ID');" 2> "$work/k.err" && ok || { bad "keyed run"; cat "$work/k.err"; }
$py - "$boot" <<'PY' && ok || bad "message keys"
import json, sys, collections
from kafka import KafkaConsumer
def read(topic):
    c = KafkaConsumer(topic, bootstrap_servers=sys.argv[1], auto_offset_reset='earliest',
                      consumer_timeout_ms=5000)
    out = []
    for m in c:
        out.append((m.key.decode() if m.key else None, json.loads(m.value), m.partition))
        if len(out) == 1000:
            break
    return out
a = read('keyed')
assert len(a) == 1000 and all(k and set(v) == {"G1"} for k, v, p in a), a[:3]
parts = collections.defaultdict(set)
for k, v, p in a:
    parts[k].add(p)
assert all(len(ps) == 1 for ps in parts.values())
assert len({p for k, v, p in a}) > 1, "all keys in one partition"
b = read('keyed2')
assert len(b) == 1000 and all(k == v["User_ID"] for k, v, p in b), b[:3]
print("keys: ok, %d partitions used" % len({p for k, v, p in a}))
PY
"$sluice" --brokers "$boot" -e "SELECT G1 FROM kafka('dsp', format => 'json', stop => 'end') INTO kafka('x', key => 'nope')" 2> "$work/e3" && bad "missing key column accepted" || ok
grep -q "key => 'nope': no such column" "$work/e3" && ok || { bad "key column message"; cat "$work/e3"; }

# 8. --dev-broker: a run with its own embedded broker (sink delivery checked)
printf 'one\ntwo\n' | "$sluice" --dev-broker=0 --stats -e "SELECT upper(value) AS v FROM stdin() INTO kafka('echo', format => 'raw')" 2> "$work/dev.err" && ok || { bad "--dev-broker run"; cat "$work/dev.err"; }
grep -q "dev broker at 127.0.0.1:" "$work/dev.err" && grep -q "2 in, 2 out, 0 rejected" "$work/dev.err" && ok || { bad "--dev-broker output"; cat "$work/dev.err"; }

finish kafka_s1
