#!/usr/bin/env bash
# file_partition.sh - the partitioned file sink, file('dir/', partition_by =>
# 'a, b') (src/conn_file.c; Nexmark q10): random rows with awkward
# partition values (slashes, '..', ':', '%', NULL, empty, non-ASCII) over
# more partitions than the sink keeps open, the files and their rows
# compared with a Python model of Flink's layout and escaping; a CSV header
# starts every file; mode => 'append'; an unknown column is a planning
# error; under `sluice serve --data-dir` a directory outside is refused and
# values cannot lead out of the directory granted.
set -u
here=$(cd "$(dirname "$0")" && pwd)
sluice=${SLUICE:-$here/../sluice}
py=/usr/bin/python3
work=$(mktemp -d)
spid=""
trap '[ -n "$spid" ] && kill $spid 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
. "$here/lib.sh"
cd "$work" || exit 1

$py - <<'PY' || exit 1
import json, random
rnd = random.Random(10)
KS = ["a", "b/c", "..", ".", "x:y", "50%", "", None, "é ü", "a=b", "#q?", "[x]^{}", "tab\tx",
      "../up", "'*\"\\", "plain-1"]
with open("in.jsonl", "w") as f:
    for i in range(4000):
        k = rnd.choice(KS)
        f.write(json.dumps({"k": k, "j": rnd.randrange(-2, 3), "v": "r%d" % i, "n": i}) + "\n")
PY

cat > p.sql <<'SQL'
SELECT v, k, n, j FROM file('in.jsonl', format => 'json', columns => 'k TEXT, j INTEGER, v TEXT, n INTEGER')
INTO file('p/', format => 'json', partition_by => 'k, j');
SELECT v, n, j FROM file('in.jsonl', format => 'json', columns => 'k TEXT, j INTEGER, v TEXT, n INTEGER')
INTO file('c/', format => 'csv', header => true, partition_by => 'j');
SQL
"$sluice" run p.sql 2> p.err && ok || { bad "run"; cat p.err; }

check_layout() {
  $py - "$@" <<'PY'
import json, os, sys, collections
mode = sys.argv[1]
def esc(v):
    if v is None or v == "": return "__DEFAULT_PARTITION__"
    if v in (".", ".."): return "%2E" * len(v)
    return "".join("%%%02X" % ord(c) if ord(c) < 0x20 or ord(c) == 0x7F or c in "\"#%'*/:=?\\{[]^"
                   else c for c in v)
rows = [json.loads(l) for l in open("in.jsonl")]
want = collections.defaultdict(list)
for r in rows:
    want["p/k=%s/j=%s/part-0.json" % (esc(r["k"]), esc(str(r["j"])))].append({"v": r["v"], "n": r["n"]})
if mode == "append":
    want = {p: v + v for p, v in want.items()}
got = {}
for d, _, fs in os.walk("p"):
    for f in fs:
        p = os.path.join(d, f)
        got[p] = [json.loads(l) for l in open(p, encoding="utf-8")]
ok = got == dict(want)
print("%s: %d files, %d rows, %s" % (mode, len(got), sum(map(len, got.values())), "ok" if ok else "MISMATCH"))
if not ok:
    print(sorted(set(got) ^ set(want))[:10])
sys.exit(0 if ok else 1)
PY
}
check_layout overwrite && ok || bad "the partitions' files against Python"
$py - <<'PY' && ok || bad "a CSV header starts every file"
import csv, json, os, collections
want = collections.defaultdict(list)
for r in map(json.loads, open("in.jsonl")):
    want[r["j"]].append([r["v"], str(r["n"])])
for j, rs in want.items():
    got = list(csv.reader(open("c/j=%d/part-0.csv" % j)))
    assert got == [["v", "n"]] + rs, (j, got[:3])
assert sorted(os.listdir("c")) == sorted("j=%d" % j for j in want)
PY

# append: the same rows again after those there; overwrite empties again
sed -i "s|partition_by => 'k, j')|partition_by => 'k, j', mode => 'append')|" p.sql
"$sluice" run p.sql 2> p.err && ok || { bad "append run"; cat p.err; }
check_layout append && ok || bad "append: the files hold both runs"

echo "SELECT 1 AS a, 2 AS b INTO file('q/', partition_by => 'a, zz');" > e1.sql
err=$("$sluice" run e1.sql 2>&1)
contains "unknown partition column" "no column 'zz'" "$err"
echo "SELECT 1 AS a INTO file('q/', partition_by => 'a');" > e2.sql
err=$("$sluice" run e2.sql 2>&1)
contains "no column left" "no column left" "$err"
[ ! -e q ] && ok || bad "a failed plan created its directory"

# ---- under sluice serve: only what --data-dir grants -----------------------------
mkdir -p data outside
cp in.jsonl data/
post() {
  curl -s -o body.out -w '%{http_code}' -X POST -H 'Content-Type: application/sql' \
    --data-binary "$2" "$url/$1" > code.out
  echo "$(cat code.out) $(cat body.out)"
}
serve_start --data-dir data && ok || { bad "serve: $(cat serve.err)"; finish file_partition; }
r=$(post statements "SELECT v, k FROM file('data/in.jsonl', columns => 'k TEXT, v TEXT') INTO file('outside/p/', partition_by => 'k');")
contains "a partitioned sink outside --data-dir" "not authorized" "$r"
r=$(post statements "SELECT v, k FROM file('data/in.jsonl', columns => 'k TEXT, v TEXT') INTO file('data/p/', partition_by => 'k');")
contains "one inside" '"status":"ok"' "$r"
for _ in $(seq 100); do [ -s "data/p/k=..%2Fup/part-0.json" ] && break; sleep 0.05; done
[ -s "data/p/k=..%2Fup/part-0.json" ] && [ -z "$(ls outside)" ] && [ ! -e data/up ] && ok ||
  bad "a value '../up' stays inside: $(find data outside | head -20)"
serve_stop
finish file_partition
