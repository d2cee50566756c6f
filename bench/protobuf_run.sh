#!/usr/bin/env bash
# bench/protobuf_run.sh - decode throughput of format => 'protobuf' next to
# format => 'json' on the same records (`make bench`).
#
# The records: S4's PredictRequest grown to a few more fields of the usual
# kinds, {recordID: string, featuresVector: 10 floats, amount: double,
# count: int64, country: string, flag: bool}, made by Python (fixed seed)
# once as JSON lines and once as length-delimited Protobuf messages
# (Python's protobuf library).  sluice reads each file to its end, decoding
# all six columns of every record, with a filter that keeps none, so what
# is timed is reading and decoding.  Each run BENCH_REPEAT times,
# interleaved; the median rate is shown, and protobuf/json.  Then the
# decoder alone against protobuf-c's protobuf_c_message_unpack on the same
# messages (bench/protobuf_decode.c).
#
# Run from the build directory; scratch files go to ./bench-data/.
# Environment: BENCH_PB_RECORDS (500000), BENCH_REPEAT (3), SLUICE
# (./sluice), PYTHON (/usr/bin/python3), BENCH_DATA (bench-data).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
N=${BENCH_PB_RECORDS:-500000}
REPEAT=${BENCH_REPEAT:-3}
SLUICE=${SLUICE:-./sluice}
PYTHON=${PYTHON:-/usr/bin/python3}
data=${BENCH_DATA:-bench-data}
mkdir -p "$data/pb"
data=$(cd "$data" && pwd)
SLUICE=$(cd "$(dirname "$SLUICE")" && pwd)/$(basename "$SLUICE")

cat > "$data/pb/bench.proto" << 'EOF'
syntax = "proto3";
package bench;
message Rec {
  string recordID = 1;
  repeated float featuresVector = 2;
  double amount = 3;
  int64 count = 4;
  string country = 5;
  bool flag = 6;
}
EOF

if [ ! -s "$data/pb/recs.pb" ] || [ "$(cat "$data/pb/n" 2> /dev/null)" != "$N" ]; then
  echo "making $N records (JSON and Protobuf)"
  (cd "$data/pb" && protoc --python_out=. bench.proto)
  "$PYTHON" - "$data/pb" "$N" << 'PY'
import json, random, struct, sys
sys.path.insert(0, sys.argv[1])
import bench_pb2
from google.protobuf.internal.encoder import _VarintBytes
r, n = random.Random(1), int(sys.argv[2])
countries = ["DE", "FR", "US", "JP", "BR", "IN", "NG", "AU"]
with open(sys.argv[1] + "/recs.jsonl", "w") as fj, open(sys.argv[1] + "/recs.pb", "wb") as fp:
    for i in range(n):
        fv = [struct.unpack("f", struct.pack("f", r.gauss(0, 1)))[0] for _ in range(10)]
        rec = {"recordID": "r%08d" % i, "featuresVector": fv,
               "amount": round(r.uniform(0, 5000), 2), "count": r.randint(0, 10**9),
               "country": r.choice(countries), "flag": r.random() < 0.1}
        m = bench_pb2.Rec(**rec)
        b = m.SerializeToString()
        fp.write(_VarintBytes(len(b)) + b)
        rec["flag"] = int(rec["flag"])
        fj.write(json.dumps(rec, separators=(",", ":")) + "\n")
PY
  echo "$N" > "$data/pb/n"
fi

cols="recordID TEXT, featuresVector VECTOR, amount REAL, count INTEGER, country TEXT, flag INTEGER"
q_json="CREATE STREAM s ($cols) FROM file('$data/pb/recs.jsonl', format => 'json');
SELECT * FROM s WHERE count < 0 AND length(recordID) + length(country) + flag + amount > 0
  AND featuresVector IS NOT NULL"
q_pb="CREATE STREAM s ($cols) FROM file('$data/pb/recs.pb', format => 'protobuf',
  schema => '$data/pb/bench.proto', message => 'bench.Rec');
SELECT * FROM s WHERE count < 0 AND length(recordID) + length(country) + flag + amount > 0
  AND featuresVector IS NOT NULL"

declare -A times
run() { # run NAME QUERY: appends its wall time to times[NAME]
  local t0 t1 out
  t0=$(date +%s.%N)
  out=$("$SLUICE" --stats -e "$2" 2>&1 > /dev/null)
  t1=$(date +%s.%N)
  case "$out" in *"$N in, 0 out, 0 rejected"*) ;; *)
    echo "$1: unexpected result: $out" >&2
    exit 1
    ;;
  esac
  times[$1]="${times[$1]:-} $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')"
}
for round in $(seq "$REPEAT"); do
  run json "$q_json"
  run protobuf "$q_pb"
done
median() { tr ' ' '\n' | grep . | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
echo "decode throughput, $N records, 6 columns (median of $REPEAT runs):"
declare -A rps
for f in json protobuf; do
  m=$(echo "${times[$f]}" | median)
  rps[$f]=$(awk -v n="$N" -v t="$m" 'BEGIN { printf "%.0f", n / t }')
  bytes=$(stat -c %s "$data/pb/recs.$([ $f = json ] && echo jsonl || echo pb)")
  printf '  %-9s %8.3f s %11s rec/s  %6.1f MB/s of input\n' "$f" "$m" "${rps[$f]}" \
    "$(awk -v b="$bytes" -v t="$m" 'BEGIN { print b / t / 1e6 }')"
done
printf '  protobuf/json  %sx\n' "$(awk -v a="${rps[protobuf]}" -v b="${rps[json]}" 'BEGIN { printf "%.2f", a / b }')"
# the decoder alone, against protobuf-c's unpack (bench/protobuf_decode.c)
[ -x ./bench/protobuf_decode ] || make bench/protobuf_decode > /dev/null
./bench/protobuf_decode "$data/pb/recs.pb" "$data/pb/bench.proto"
