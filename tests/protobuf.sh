#!/usr/bin/env bash
# protobuf.sh - format => 'protobuf' against Python's protobuf library:
# random messages of every field kind (tests/data/pb_all.proto) made by
# Python are decoded by sluice and checked field by field; sluice encodes
# them back and Python finds the same messages; sluice encodes rows of JSON
# and Python finds their values; the same for a proto2 message; the .proto
# text parser gives the tables protoc's descriptor sets give; corrupt and
# cut messages are counted and skipped; schema errors are plan errors; the
# schema file goes through sluice serve's authorizer.  Then seed 003 (S4)
# end to end on the dev
# broker: Python produces PredictRequests, sql-examples/s4_protobuf.sql
# scores them with the XGBoost model, Python reads the PredictResponses and
# checks them against xgboost.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "${top_srcdir:-$here/..}" && pwd)
sluice=$(cd "$(dirname "${SLUICE:-$here/../sluice}")" && pwd)/$(basename "${SLUICE:-sluice}")
py=/usr/bin/python3
pbtest=${PB_SCHEMA_TEST:-${top_builddir:-$PWD}/tests/pb_schema_test}
. "$here/lib.sh"
in_workdir
spid="" bpid=""
trap 'for p in $spid $bpid; do kill $p 2> /dev/null; wait $p 2> /dev/null; done; rm -rf "$work"' EXIT
chk="$py $here/protobuf_check.py $work"

protoc -I "$top/tests/data" --python_out=. pb_all.proto || { bad "protoc"; finish protobuf; }
protoc -I "$top/tests/data" --include_imports --descriptor_set_out=pb_all.desc pb_all.proto ||
  bad "protoc descriptor set"
protoc -I "$top/sql-examples" --python_out=. predict.proto || bad "protoc predict"
$chk gen 400 20261207 all.pb rows.jsonl || bad "gen"

# the .proto text parser gives what protoc gives (tests/pb_schema_test.c)
for p in "$top/tests/data/pb_all.proto" "$top/tests/data/pb_two.proto" \
  "$top/tests/data/pb_scope.proto" "$top/sql-examples/predict.proto"; do
  protoc -I "$(dirname "$p")" --include_imports --descriptor_set_out=cmp.desc "$(basename "$p")" &&
    "$pbtest" "$p" cmp.desc > cmp.out && ok || { bad "text parser against protoc: $p"; cat cmp.out; }
done

# decode, with the schema as .proto text and as a descriptor set
for schema in "$top/tests/data/pb_all.proto" pb_all.desc; do
  "$sluice" --stats -e "SELECT * FROM file('all.pb', format => 'protobuf',
      schema => '$schema', message => 'sltest.All') INTO file('dec.jsonl', format => 'json')" \
    2> dec.err && ok || { bad "decode ($schema)"; cat dec.err; }
  contains "decode counts" "400 in, 400 out, 0 rejected" "$(cat dec.err)"
  $chk decoded all.pb dec.jsonl && ok || bad "decoded values ($schema)"
done

# encode what was decoded: the same messages (unknown fields dropped)
"$sluice" -e "SELECT * FROM file('all.pb', format => 'protobuf', schema => 'pb_all.desc',
    message => 'All') INTO file('out.pb', format => 'protobuf', schema => 'pb_all.desc',
    message => 'sltest.All')" 2> enc.err && ok || { bad "encode"; cat enc.err; }
$chk same all.pb out.pb && ok || bad "round trip through sluice"

# proto2: presence on every optional field (absent is NULL), a required
# field, an enum without 0, packed and unpacked repeated fields
protoc -I "$top/tests/data" --python_out=. pb_two.proto || bad "protoc pb_two"
PB_MSG=pb_two_pb2:Two $chk gen 300 7 two.pb /dev/null || bad "gen proto2"
"$sluice" -e "SELECT * FROM file('two.pb', format => 'protobuf', schema => '$top/tests/data/pb_two.proto')
    INTO file('two.jsonl', format => 'json')" 2> two.err && ok || { bad "decode proto2"; cat two.err; }
PB_MSG=pb_two_pb2:Two $chk decoded two.pb two.jsonl && ok || bad "decoded proto2 values"
"$sluice" -e "SELECT * FROM file('two.pb', format => 'protobuf', schema => '$top/tests/data/pb_two.proto')
    INTO file('two_out.pb', format => 'protobuf', schema => '$top/tests/data/pb_two.proto')" \
  2> two.err && ok || { bad "encode proto2"; cat two.err; }
PB_MSG=pb_two_pb2:Two $chk same two.pb two_out.pb && ok || bad "proto2 round trip through sluice"

# encode rows of JSON: Python reads their values
cols=$($py -c 'import json,sys
ks=set()
for l in open(sys.argv[1]): ks.update(json.loads(l))
print(", ".join("\"%s\"" % k for k in sorted(ks)))' rows.jsonl)
"$sluice" -e "SELECT $cols FROM file('rows.jsonl', format => 'json')
    INTO file('rows.pb', format => 'protobuf', schema => '$top/tests/data/pb_all.proto',
    message => 'sltest.All')" 2> rows.err && ok || { bad "encode rows"; cat rows.err; }
$chk rows rows.jsonl rows.pb && ok || bad "encoded rows"

# a Protobuf file as the table side of a stream-table join (loaded whole)
$py - all.pb << 'PY' > keys.jsonl || bad "join keys"
import collections, json, sys
sys.path.insert(0, ".")
import pb_all_pb2
from google.protobuf.internal.decoder import _DecodeVarint32
data, pos, msgs = open(sys.argv[1], "rb").read(), 0, []
while pos < len(data):
    n, pos = _DecodeVarint32(data, pos)
    m = pb_all_pb2.All(); m.ParseFromString(data[pos:pos + n]); msgs.append(m); pos += n
count = collections.Counter(m.i32 for m in msgs)
for m in msgs:
    if count[m.i32] == 1:
        print(json.dumps({"k": m.i32, "want": m.st}))
PY
"$sluice" -e "SELECT e.k AS k, e.want AS want, t.st AS st FROM file('keys.jsonl', format => 'json') AS e
    JOIN file('all.pb', format => 'protobuf', schema => 'pb_all.desc', message => 'All') AS t
    ON e.k = t.i32 INTO file('join.jsonl', format => 'json')" 2> join.err && ok ||
  { bad "join with a protobuf table"; cat join.err; }
$py -c 'import json, sys
rows = [json.loads(l) for l in open("join.jsonl")]
keys = sum(1 for l in open("keys.jsonl"))
sys.exit(0 if len(rows) == keys > 100 and all(r["st"] == r["want"] for r in rows) else 1)' &&
  ok || bad "join values"

# a corrupt message among good ones: counted, skipped, the rest decoded
$py - all.pb mix.pb << 'PY' || bad "corrupt input"
import sys
sys.path.insert(0, ".")
from google.protobuf.internal.decoder import _DecodeVarint32
data, pos, recs = open(sys.argv[1], "rb").read(), 0, []
while pos < len(data):
    n, p = _DecodeVarint32(data, pos)
    recs.append(data[pos:p + n]); pos = p + n
bad = [b"\x04\x0a\x05ab",  # a string longer than its message
       b"\x02\x07\x01",    # wire type 7
       b"\x03\x08\xff\xff"] # a varint cut short
out = recs[:5] + bad[:1] + recs[5:10] + bad[1:] + recs[10:20]
open(sys.argv[2], "wb").write(b"".join(out))
PY
"$sluice" --stats --format csv -e "SELECT i32 FROM file('mix.pb', format => 'protobuf',
    schema => 'pb_all.desc', message => 'All')" > mix.csv 2> mix.err
contains "corrupt messages counted" "23 in, 20 out, 3 rejected" "$(cat mix.err)"
contains "corrupt message reason" "protobuf: malformed message" "$(cat mix.err)"
check "good messages around the corrupt ones" 21 "$(wc -l < mix.csv)"
# a last message cut short: rejected, not waited for
head -c -3 all.pb > cut.pb
"$sluice" --stats -e "SELECT i32 FROM file('cut.pb', format => 'protobuf',
    schema => 'pb_all.desc', message => 'All')" > /dev/null 2> cut.err
contains "a cut message" "400 in, 399 out, 1 rejected" "$(cat cut.err)"

# schema and column errors are plan errors
err=$("$sluice" -e "SELECT 1 AS nope INTO file('x.pb', format => 'protobuf',
    schema => 'pb_all.desc', message => 'All')" 2>&1)
contains "encoder: column without a field" "output column nope: message sltest.All has no such field" "$err"
err=$("$sluice" -e "SELECT * FROM file('all.pb', format => 'protobuf', schema => 'pb_all.desc',
    message => 'Nope')" 2>&1)
contains "unknown message" "has no message 'Nope'" "$err"
err=$("$sluice" -e "SELECT * FROM file('all.pb', format => 'protobuf', schema => 'pb_all.desc')" 2>&1)
contains "message needed" "say which with message" "$err"
printf 'syntax = "proto3";\nmessage M { int32 a = 1; strin b = 2; }\n' > bad.proto
err=$("$sluice" -e "SELECT * FROM file('all.pb', format => 'protobuf', schema => 'bad.proto')" 2>&1)
contains "bad .proto" "unknown type strin" "$err"
err=$("$sluice" -e "SELECT * FROM file('all.pb', format => 'protobuf')" 2>&1)
contains "schema needed" "needs schema =>" "$err"
err=$("$sluice" -e "SELECT * FROM file('all.pb', format => 'protobuf', schema => 'all.pb')" 2>&1)
contains "not a descriptor set" "protobuf descriptor set: malformed" "$err"
# declared columns: a subset, checked against the message
"$sluice" --format json -e "CREATE STREAM s (st TEXT, i32 INTEGER) FROM file('all.pb',
    format => 'protobuf', schema => 'pb_all.desc', message => 'All');
    SELECT i32, st FROM s" > decl.json 2> decl.err && ok || { bad "declared"; cat decl.err; }
check "declared columns" 400 "$(grep -c '^{"i32":-*[0-9]*,"st":' decl.json)"
err=$("$sluice" -e "CREATE STREAM s (nope TEXT) FROM file('all.pb', format => 'protobuf',
    schema => 'pb_all.desc', message => 'All'); SELECT * FROM s" 2>&1)
contains "declared column without a field" "column nope: message sltest.All has no such field" "$err"

# sluice serve: the schema file is asked for like any file a query names
mkdir -p data && cp all.pb pb_all.desc data/
if serve_start --data-dir data; then
  ok
  post() {
    curl -s -o body.out -w '%{http_code}' -X POST -H 'Content-Type: application/sql' \
      --data-binary "$1" "$url/query" > code.out
    echo "$(cat code.out) $(cat body.out)"
  }
  r=$(post "SELECT i32 FROM file('data/all.pb', format => 'protobuf', schema => '$work/pb_all.desc', message => 'All');")
  case "$r" in "403 "*"not authorized"*"pb_all.desc"*) ok ;; *) bad "schema outside --data-dir refused: $r" ;; esac
  r=$(post "SELECT i32 FROM file('data/all.pb', format => 'protobuf', schema => 'data/pb_all.desc', message => 'All') WHERE i32 = 0;")
  case "$r" in "200 "*"row"*) ok ;; *) bad "schema under --data-dir allowed: $r" ;; esac
  serve_stop || bad "server stop"
else
  bad "server start: $(cat serve.err)"
  kill "$spid" 2> /dev/null
  spid=""
fi

# seed 003 end to end: Kafka in, XGBoost, Kafka out, Python on both sides
$py -c 'import kafka, xgboost' 2> /dev/null || { bad "python3-kafka / xgboost missing"; finish protobuf; }
"$sluice" broker --port 0 --topics fraud-pb-input:3,suspicious-pb:1,normal-pb:1 \
  > boot 2> broker.log &
bpid=$!
for _ in $(seq 100); do [ -s boot ] && break; sleep 0.1; done
boot=$(head -n 1 boot)
[ -n "$boot" ] || { bad "broker did not start"; cat broker.log; finish protobuf; }
$chk produce "$boot" fraud-pb-input "$top/sql-examples/data/fraud.jsonl" && ok || bad "producer"
(cd "$top" && "$sluice" --brokers "$boot" --stats run sql-examples/s4_protobuf.sql) 2> s4.err &&
  ok || { bad "s4_protobuf run"; cat s4.err; }
contains "S4: the corrupt message counted" "scored: 1001 in, 0 out, 1 rejected" "$(cat s4.err)"
nsus=$(sed -n 's/^q1: 1001 in, \([0-9]*\) out.*/\1/p' s4.err)
nnor=$(sed -n 's/^q2: 1001 in, \([0-9]*\) out.*/\1/p' s4.err)
check "S4: every record scored" 1000 "$((${nsus:-0} + ${nnor:-0}))"
$chk consume "$boot" suspicious-pb sus.jsonl "${nsus:-0}" || bad "consume suspicious"
$chk consume "$boot" normal-pb nor.jsonl "${nnor:-0}" || bad "consume normal"
$py "$here/models/check_s4.py" "$top/sql-examples/models/fraud.xgb.json" \
  "$top/sql-examples/data/fraud.jsonl" sus.jsonl nor.jsonl && ok || bad "S4 scores and split"
finish protobuf
