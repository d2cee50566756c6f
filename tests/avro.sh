#!/usr/bin/env bash
# avro.sh - format => 'avro' (docs/avro.md) against Python's avro package
# (Debian's python3-avro, the reference implementation) on the embedded dev
# broker, with a schema registry served by the test (tests/fake_registry.py,
# the Confluent registry's REST protocol).  tests/avro_peer.py makes random
# records (a fixed seed) of tests/data/avro/all.avsc, which has every
# type: every scalar, enum, fixed, unions with null and a three-way union,
# arrays of numbers, strings and records, maps, a recursive record.
#  1. Python writes; sluice reads into JSON lines; Python checks every value
#     (and damaged messages are counted and skipped).
#  2. Schema evolution: sluice reads with a reader schema (fields dropped,
#     added with defaults, reordered, promoted, enum symbols changed);
#     Python's DatumReader with the same two schemas is the reference.
#  3. sluice writes Avro (Kafka to Kafka); Python reads every record back.
#  4. The Confluent wire format: records of two schema versions with a
#     registry; sluice asks once per schema id (the registry's log says)
#     and rejects unknown ids and bare records; the subject's latest schema
#     names the columns when no schema is given.
#  5. A sink with a registry registers its schema once and Python reads
#     the messages with the schema it fetches by id; a sink without schema
#     => derives one from the columns.
#  6. Errors: files, missing schema, bad registry, mismatched columns.
#  7. sluice serve refuses schema files and registries it was not granted.
set -u
here=$(cd "$(dirname "$0")" && pwd)
sluice=${SLUICE:-$here/../sluice}
sluice=$(cd "$(dirname "$sluice")" && pwd)/$(basename "$sluice")
py=/usr/bin/python3
if ! $py -c 'import avro, kafka' 2>/dev/null; then echo "python3-avro/python3-kafka missing (scripts/setup.sh): skipped"; exit 77; fi
peer=$here/avro_peer.py
D=$here/data/avro
. "$here/lib.sh"
in_workdir
"$sluice" broker --topics all:1,back:1,scores:1,regout:1,derived:1 > boot 2> broker.log &
bpid=$!
$py "$here/fake_registry.py" rport rlog &
rpid=$!
spid=
trap 'kill $bpid $rpid $spid 2>/dev/null; wait $bpid $rpid 2>/dev/null; cd /; rm -rf "$work"' EXIT
for _ in $(seq 50); do [ -s boot ] && [ -s rport ] && break; sleep 0.1; done
boot=$(head -n 1 boot)
[ -n "$boot" ] || { echo "broker did not start"; cat broker.log; exit 1; }
reg=http://127.0.0.1:$(cat rport)
S() { "$sluice" --brokers "$boot" --stats "$@"; }
N=300

# 1. Python writes, sluice reads
nbad=$($py "$peer" produce "$boot" all "$D/all.avsc" 7 $N --corrupt) || bad "producer"
S -e "SELECT * FROM kafka('all', format => 'avro', schema => '$D/all.avsc', offset => 'earliest', stop => 'end') INTO file('out.json')" 2> run1.err || bad "run 1"
contains "counts of run 1" "$((N + nbad)) in, $N out, $nbad rejected" "$(cat run1.err)"
contains "a reason" "malformed Avro record: the record ends" "$(cat run1.err)"
$py "$peer" expect-json "$D/all.avsc" 7 $N out.json && ok || bad "sluice's values differ from avro's"
"$sluice" --brokers "$boot" --format csv -e "SELECT typeof(fx), typeof(vd), typeof(r), typeof(i), typeof(f), typeof(e), typeof(nb) FROM kafka('all', format => 'avro', schema => '$D/all.avsc', offset => 'earliest', stop => 'end') WHERE vd <> '[]'" > types.out 2>&1
contains "column types" "blob,vector,text,integer,real,text," "$(cat types.out)"

# declared columns pick fields by name, with their affinity
S -e "SELECT * FROM kafka('all', format => 'avro', schema => '$D/all.avsc', columns => 'S TEXT, id TEXT, nb BLOB', offset => 'earliest', stop => 'end') INTO file('declared.json')" 2> run1b.err || bad "run 1b"
$py - out.json declared.json <<'PY' && ok || bad "declared columns"
import json, sys
a = [json.loads(l) for l in open(sys.argv[1])]
b = [json.loads(l) for l in open(sys.argv[2])]
sys.exit(0 if b == [{"S": r["s"], "id": str(r["id"]), "nb": r["nb"]} for r in a] else 1)
PY

# 2. a reader schema
S -e "SELECT * FROM kafka('all', format => 'avro', schema => '$D/all.avsc', reader_schema => '$D/all_reader.avsc', offset => 'earliest', stop => 'end') INTO file('evolved.json')" 2> run2.err || bad "run 2"
contains "counts of run 2" "$((N + nbad)) in, $N out, $nbad rejected" "$(cat run2.err)"
$py "$peer" expect-json "$D/all.avsc" 7 $N evolved.json --reader "$D/all_reader.avsc" && ok || bad "evolved values differ"
# a query naming some columns, with an expression
S -e "SELECT id, added_l + 1 AS x, r FROM kafka('all', format => 'avro', schema => '$D/all.avsc', reader_schema => '$D/all_reader.avsc', offset => 'earliest', stop => 'end') INTO file('few.json')" 2> run2b.err || bad "run 2b"
check "added default" "43" "$(head -n 1 few.json | $py -c 'import json,sys; print(json.load(sys.stdin)["x"])')"

# 3. sluice writes, Python reads
S -e "SELECT * FROM kafka('all', format => 'avro', schema => '$D/all.avsc', offset => 'earliest', stop => 'end') INTO kafka('back', format => 'avro', schema => '$D/all.avsc')" 2> run3.err || bad "run 3"
contains "counts of run 3" "$N out" "$(cat run3.err)"
$py "$peer" expect-topic "$boot" back "$D/all.avsc" 7 $N && ok || bad "avro read back differs"

# 4. the wire format with a registry: two versions
M=150
$py "$peer" produce "$boot" scores "$D/reg_v1.avsc" 3 $M --registry "$reg" --subject scores-value > /dev/null || bad "producer v1"
nbad=$($py "$peer" produce "$boot" scores "$D/reg_v2.avsc" 4 $M --registry "$reg" --subject scores-value --corrupt) || bad "producer v2"
: > rlog
S -e "SELECT * FROM kafka('scores', format => 'avro', registry => '$reg', reader_schema => '$D/reg_v2.avsc', offset => 'earliest', stop => 'end') INTO file('reg.json')" 2> run4.err || bad "run 4"
contains "counts of run 4" "$((2 * M + nbad)) in, $((2 * M)) out, $nbad rejected" "$(cat run4.err)"
contains "unknown id rejected" "schema id 999: schema registry" "$(cat run4.err)"
check "the registry asked once per id" "GET /schemas/ids/1
GET /schemas/ids/2
GET /schemas/ids/999" "$(sort rlog)"
head -n $M reg.json > v1.json
tail -n +$((M + 1)) reg.json > v2.json
$py "$peer" expect-json "$D/reg_v1.avsc" 3 $M v1.json --reader "$D/reg_v2.avsc" && ok || bad "v1 records read as v2 differ"
$py "$peer" expect-json "$D/reg_v2.avsc" 4 $M v2.json && ok || bad "v2 records differ"
# without a schema: the subject's latest version names the columns
S -e "SELECT * FROM kafka('scores', format => 'avro', registry => '$reg', offset => 'earliest', stop => 'end') INTO file('latest.json')" 2> run4b.err || bad "run 4b"
cmp -s reg.json latest.json && ok || bad "the latest schema read differently"

# aliases: fields renamed in the reader schema
S -e "SELECT * FROM kafka('scores', format => 'avro', registry => '$reg', reader_schema => '$D/reg_alias.avsc', offset => 'earliest', stop => 'end') INTO file('alias.json')" 2> run4d.err || bad "run 4d"
$py - reg.json alias.json <<'PY' && ok || bad "fields found by their aliases"
import json, sys
a = [json.loads(l) for l in open(sys.argv[1])]
b = [json.loads(l) for l in open(sys.argv[2])]
want = [{"title": r["name"], "id": r["id"], "points": r["score"]} for r in a]
sys.exit(0 if want == b and len(b) > 0 else 1)
PY

# a registry that does not answer: the records are rejected with its reason,
# the query goes on (a sink that cannot register fails at its start)
dead=http://127.0.0.1:$(free_port)
S -e "SELECT * FROM kafka('scores', format => 'avro', registry => '$dead', reader_schema => '$D/reg_v2.avsc', offset => 'earliest', stop => 'end') INTO file('dead.json')" 2> run4c.err || bad "run 4c"
contains "counts without a registry" "$((2 * M + nbad)) in, 0 out, $((2 * M + nbad)) rejected" "$(cat run4c.err)"
contains "the registry's failure is the reason" "schema id 1: schema registry $dead/schemas/ids/1: " "$(cat run4c.err)"
err=$(S -e "SELECT * FROM kafka('all', format => 'avro', schema => '$D/all.avsc', offset => 'earliest', stop => 'end') INTO kafka('regout', format => 'avro', schema => '$D/all.avsc', registry => '$dead')" 2>&1)
contains "a sink without its registry" "schema registry $dead/subjects/regout-value/versions: " "$err"
err=$(S -e "SELECT * FROM kafka('scores', format => 'avro', registry => '$dead')" 2>&1)
contains "no latest schema without a registry" "schema registry $dead/subjects/scores-value/versions/latest" "$err"

# 5. sinks with a registry
: > rlog
S -e "SELECT * FROM kafka('all', format => 'avro', schema => '$D/all.avsc', offset => 'earliest', stop => 'end') INTO kafka('regout', format => 'avro', schema => '$D/all.avsc', registry => '$reg')" 2> run5.err || bad "run 5"
check "registered once" "POST /subjects/regout-value/versions" "$(cat rlog)"
$py "$peer" expect-topic "$boot" regout "$D/all.avsc" 7 $N --registry "$reg" > ids.out && ok || { bad "registry sink"; cat ids.out; }
# a schema derived from the columns
$py - > derived.jsonl <<'PY'
import json, random
r = random.Random(5)
for i in range(100):
    o = {"id": i, "x": r.choice([None, r.uniform(-1e6, 1e6), 0.5]), "name": r.choice([None, "a\u00e9\"", ""]),
         "n": r.choice([None, r.randint(-2**63, 2**63 - 1)]), "v": [r.random() for _ in range(r.randint(1, 4))],
         "tags": ["t%d" % k for k in range(r.randint(1, 3))], "obj": {"k": i, "s": "x"}}
    print(json.dumps(o))
PY
S -e "SELECT id, x, name, n, v, id * 2 AS \"2x\", tags, obj FROM file('derived.jsonl') INTO kafka('derived', format => 'avro', registry => '$reg', subject => 'mine')" 2> run5b.err || bad "run 5b"
$py - derived.jsonl > derived.want <<'PY'
import json, sys
for l in open(sys.argv[1]):
    o = json.loads(l); o["_2x"] = o["id"] * 2
    for k in ("tags", "obj"):  # JSON text that is not a vector: the string branch
        o[k] = json.dumps(o[k], separators=(",", ":"))
    print(json.dumps(o))
PY
$py "$peer" expect-topic "$boot" derived - 0 100 --registry "$reg" --json derived.want > ids2.out && ok || { bad "derived schema"; cat ids2.out; }
contains "derived subject" "POST /subjects/mine/versions" "$(cat rlog)"

# 6. errors
err=$(S -e "SELECT * FROM file('x.avro', format => 'avro', schema => '$D/all.avsc')" 2>&1)
contains "files refused" "Avro container files" "$err"
err=$(S -e "SELECT * FROM kafka('all', format => 'avro')" 2>&1)
contains "no schema" "needs schema =>" "$err"
err=$(S -e "SELECT * FROM kafka('all', format => 'avro', schema => 'nope.avsc')" 2>&1)
contains "missing file" "cannot read 'nope.avsc'" "$err"
echo '{"type": "record", "name": "X", "fields": [{"name": "a", "type": "nosuch"}]}' > bad.avsc
err=$(S -e "SELECT * FROM kafka('all', format => 'avro', schema => 'bad.avsc')" 2>&1)
contains "bad schema" "not an Avro schema" "$err"
err=$(S -e "SELECT * FROM kafka('all', format => 'avro', schema => '$D/reg_v1.avsc', reader_schema => '$D/all.avsc')" 2>&1)
contains "incompatible reader" "cannot read what schema => wrote" "$err"
err=$(S -e "SELECT 1 AS nothere FROM kafka('all', format => 'avro', schema => '$D/all.avsc', offset => 'earliest', stop => 'end') INTO kafka('back', format => 'avro', schema => '$D/reg_v1.avsc')" 2>&1)
contains "sink column not a field" "no column for the field 'id'" "$err"
err=$(S -e "SELECT * FROM kafka('all', format => 'avro', registry => 'ftp://x')" 2>&1)
contains "bad registry" "registry => needs 'http://host:port'" "$err"
err=$(S -e "SELECT * FROM kafka('nosubject', format => 'avro', registry => '$reg')" 2>&1)
contains "no subject" "HTTP 404" "$err"

# 7. a client of sluice serve reaches neither a schema file nor a registry not granted
if serve_start --allow-broker "$boot"; then
  for q in "schema => '$D/all.avsc'" "registry => '$reg'"; do
    r=$(curl -s -w ' %{http_code}' -X POST -H 'Content-Type: application/sql' \
      --data-binary "SELECT * FROM kafka('all', brokers => '$boot', format => 'avro', $q)" "$url/query")
    case "$r" in *"not authorized"*403) ok ;; *) bad "serve let $q through: $r" ;; esac
  done
  serve_stop
else
  bad "sluice serve did not start"
fi

finish avro
