#!/usr/bin/env bash
# console.sh - the web console of `sluice serve` in a real browser.  A
# server with a token runs scenario S1 over Kafka (its embedded dev broker,
# a kafka-python producer writing dsp all along), S5 over a socket and S6
# (online learning) over a socket (their generators), and a query that
# fails.  Debian's chromium, headless, driven through the DevTools protocol
# by tests/console_test.mjs (puppeteer-core from npm, installed into the
# build tree, pointed at /usr/bin/chromium, never downloading a browser):
# the page asks for the token (and refuses a wrong one); the queries table
# shows the live counts rising, the failed query with its error (removed
# from the page); one query's plan graph, throughput and latency charts,
# state and per-partition lag; the editor streams a SELECT's rows, which is
# then terminated from the table, another is stopped from the editor, an
# error is shown at its line and column; the models, a trained model's loss
# per version as a chart.  Then a server without a token.  Screenshots are
# kept in tests/console-artifacts/ of the build tree.  With curl: the static
# files (Content-Type, Content-Security-Policy, ETag, no token needed), the
# API they use (token needed), GET /queries/ID (plan graph, of a finished
# interval join too; latency histogram with p50/p99 checked against
# Prometheus' quantile rule computed here; per-partition lag, also in
# /metrics; history), the same through the CLI (describe), and S6's loss
# per version against Spark's update rules (tests/train/spark_ref.py).
# Fails, never skips, when chromium, node or npm are missing.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=${top_srcdir:-$here/..}
sluice=${SLUICE:-$here/../sluice}
builddir=${top_builddir:-$here/..}
chromium=${CHROMIUM:-/usr/bin/chromium}
py=/usr/bin/python3
. "$here/lib.sh"
for tool in node npm curl; do
  command -v $tool > /dev/null || { echo "console: $tool missing (scripts/setup.sh installs it)"; exit 1; }
done
[ -x "$chromium" ] || { echo "console: $chromium missing (scripts/setup.sh installs chromium)"; exit 1; }
$py -c 'import kafka' || { echo "console: python3-kafka missing (scripts/setup.sh)"; exit 1; }

# puppeteer-core for Node 20 (25.x wants Node 22), kept in the build tree
pver=24.43.1
nodedir=$builddir/tests/node
if [ "$(node -p "try { require('$nodedir/node_modules/puppeteer-core/package.json').version } catch (e) { '' }")" != $pver ]; then
  mkdir -p "$nodedir"
  PUPPETEER_SKIP_DOWNLOAD=1 npm install --prefix "$nodedir" --no-audit --no-fund --loglevel=error \
    "puppeteer-core@$pver" > "$nodedir/npm.log" 2>&1 || { cat "$nodedir/npm.log"; echo "console: npm install failed"; exit 1; }
fi
out=$builddir/tests/console-artifacts
rm -rf "$out"
mkdir -p "$out"

work=$(mktemp -d)
spid="" gpid="" g6pid="" ppid2=""
trap 'kill $spid $gpid $g6pid $ppid2 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
cd "$work" || exit 1
token=console-test-token
bport=$(free_port)
gport=$(free_port)
g6port=$(free_port)
auth=(-H "Authorization: Bearer $token")
get() { curl -s "${auth[@]}" "$url$1"; }
post() { curl -s "${auth[@]}" -H 'Content-Type: application/sql' -X POST --data-binary "$1" "$url/statements"; }

# S5's generator, the server (S1's topics on its dev broker), S1's producer
$py "$top/sql-examples/s5_gen.py" --port "$gport" > gen.out 2>&1 &
gpid=$!
$py "$top/sql-examples/s6_gen.py" --port "$g6port" --log s6.log > gen6.out 2>&1 &
g6pid=$!
for _ in $(seq 100); do grep -q listening gen.out && grep -q listening gen6.out && break; sleep 0.05; done
serve_start --token "$token" --dev-broker="$bport" --topics dsp:3,preds:1 \
  --data-dir . --data-dir "$top/sql-examples/models" --allow-broker "127.0.0.1:$gport,127.0.0.1:$g6port" &&
  ok || { bad "server started"; cat serve.err; finish console; }
$py - "127.0.0.1:$bport" "$top/sql-examples/data/dsp.jsonl" > producer.out 2>&1 <<'PY' &
import json, sys, time
from kafka import KafkaProducer
p = KafkaProducer(bootstrap_servers=sys.argv[1], value_serializer=lambda v: v.encode())
lines = open(sys.argv[2]).read().splitlines()
i = 0
while True:  # 100 records a second, the file over and over
    for _ in range(20):
        p.send('dsp', lines[i % len(lines)]); i += 1
    p.flush(); time.sleep(0.2)
PY
ppid2=$!

# S1 as sql-examples/s1_kafka.sql, reading on (no stop => 'end'); then S5
s1=$(sed -e "s|'sql-examples/models/|'$top/sql-examples/models/|" -e "s|, stop => 'end'||" "$top/sql-examples/s1_kafka.sql")
r=$(post "$s1")
contains "S1 submitted" '"queries":["q1"]' "$r"
r=$(post "$(sed "s/127.0.0.1:9999/127.0.0.1:$gport/" "$top/sql-examples/s5.sql")")
contains "S5 submitted" '"queries":["q2","q3","q4"]' "$r"
# S6, its rows into a file (a submission needs INTO)
r=$(post "$(sed -e "s/127.0.0.1:9999/127.0.0.1:$g6port/" \
  -e "s/GROUP BY TUMBLE(ts, INTERVAL '1' SECOND);/GROUP BY TUMBLE(ts, INTERVAL '1' SECOND) INTO file('s6.jsonl', format => 'json');/" \
  "$top/sql-examples/s6.sql")")
contains "S6 submitted" '"queries":["q5"]' "$r"
# a query that fails: its error is shown, and it is removed from the page
printf '{"a": 1}\nnot json\n' > bad.jsonl
r=$(post "SELECT a FROM file('bad.jsonl', format => 'json', errors => 'fail') INTO file('bad-out.jsonl', format => 'json');")
contains "a failing query submitted" '"queries":["q6"]' "$r"

# ---- the static files and the API, with curl ---------------------------------
echo "started at ${SECONDS} s"
h=$(curl -s -D - -o index.html "$url/")
contains "/ without the token" "200 OK" "$h"
contains "/ is HTML" "Content-Type: text/html; charset=utf-8" "$h"
contains "/ has a CSP without inline script" "Content-Security-Policy: default-src 'none'; script-src 'self';" "$h"
grep -q '<script src="/console.js"' index.html && ! grep -q '<script>' index.html && ok || bad "index.html loads its script from a file"
etag=$(printf '%s\n' "$h" | tr -d '\r' | sed -n 's/^ETag: //p')
check "ETag revalidated" 304 "$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $etag" "$url/")"
check "console.js" "200 text/javascript; charset=utf-8" "$(curl -s -o /dev/null -w '%{http_code} %{content_type}' "$url/console.js")"
check "console.css" "200 text/css; charset=utf-8" "$(curl -s -o /dev/null -w '%{http_code} %{content_type}' "$url/console.css")"
cmp -s <(curl -s "$url/console.js") "$top/src/console/console.js" && ok || bad "console.js served as it is in the source tree"
check "the API needs the token" 401 "$(curl -s -o /dev/null -w '%{http_code}' "$url/queries")"
check "so does GET /queries/ID" 401 "$(curl -s -o /dev/null -w '%{http_code}' "$url/queries/q1")"
check "an unknown path is not a console file" 404 "$(curl -s -o /dev/null -w '%{http_code}' "${auth[@]}" "$url/console.jsx")"
check "another site's page gets no file" 403 "$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: evil.example' "$url/")"
check "GET /queries/q99" 404 "$(curl -s -o /dev/null -w '%{http_code}' "${auth[@]}" "$url/queries/q99")"
for _ in $(seq 100); do
  [ "$(get /queries/q1 | $py -c 'import json,sys; print(len(json.load(sys.stdin)["partitions"]))')" = 3 ] && break
  sleep 0.1
done
for _ in $(seq 100); do # a second with records read (two samples make a point)
  [ "$(get /queries/q1 | $py -c 'import json,sys; print(any(p[1] > 0 for p in json.load(sys.stdin)["history"]["points"]))')" = True ] && break
  sleep 0.1
done
get /queries/q1 > q1.json
$py - q1.json <<'PY' && ok || bad "GET /queries/q1: $(head -c 600 q1.json)"
import json, sys
q = json.load(open(sys.argv[1]))
kinds = [n["name"] if n["kind"] == "operator" else n["kind"] for n in q["plan"]["nodes"]]
assert kinds == ["source", "score", "project", "sink"], kinds
assert q["plan"]["nodes"][0]["name"] == "kafka"
ids = [n["id"] for n in q["plan"]["nodes"]]
assert q["plan"]["edges"] == [[a, b] for a, b in zip(ids, ids[1:])], q["plan"]["edges"]
assert sorted(p["partition"] for p in q["partitions"]) == [0, 1, 2], q["partitions"]
assert all(p["source"] == "source0" and p["lag"] >= 0 for p in q["partitions"])
# p50 and p99: Prometheus' histogram_quantile over the same histogram
le, counts = q["latency"]["le_ms"], q["latency"]["counts"]
def quantile(phi):
    rank = phi * counts[-1]
    for i, c in enumerate(counts):
        if c >= rank:
            if le[i] is None:
                return le[i - 1]
            lo, below = (le[i - 1], counts[i - 1]) if i else (0.0, 0)
            return lo + (le[i] - lo) * (rank - below) / (c - below)
assert counts[-1] == q["batches"] > 0, (counts, q["batches"])
for name, phi in (("batch_p50_ms", 0.5), ("batch_p99_ms", 0.99)):
    assert abs(q[name] - quantile(phi)) < 1e-9, (name, q[name], quantile(phi))
# the last seconds: the producer writes 100 records a second
pts = q["history"]["points"]
assert len(pts) >= 1 and all(0 < p[0] <= q["history"]["now_ms"] for p in pts), q["history"]
assert all(len(p) == 5 and p[1] >= 0 and p[2] >= 0 for p in pts), pts
assert max(p[1] for p in pts) > 0, pts
PY
get /queries/q2 | $py -c '
import json, sys
q = json.load(sys.stdin)
kinds = [n["kind"] for n in q["plan"]["nodes"]]
assert kinds[:2] == ["source", "stream"] and q["plan"]["nodes"][2]["name"] == "aggregate", kinds
assert q["groups"] >= 0 and q["state_bytes"] >= 0 and q["partitions"] == []' && ok || bad "GET /queries/q2: $(get /queries/q2 | head -c 600)"
# the plan of a finished interval join: both sources feed the join
printf '{"ad": 1, "ts": 1000}\n' > imp.jsonl
printf '{"ad": 1, "user": "u", "ts": 2000}\n' > clk.jsonl
r=$(post "SELECT i.ad, c.user FROM file('imp.jsonl', format => 'json') AS i JOIN file('clk.jsonl', format => 'json') AS c ON i.ad = c.ad AND c.ts BETWEEN i.ts AND i.ts + INTERVAL '5' SECOND INTO file('joined.jsonl', format => 'json');")
contains "a join submitted" '"queries":["q7"]' "$r"
for _ in $(seq 100); do [ "$(get /queries/q7 | $py -c 'import json,sys; print(json.load(sys.stdin)["state"])')" = finished ] && break; sleep 0.1; done
get /queries/q7 | $py -c '
import json, sys
q = json.load(sys.stdin)
assert q["state"] == "finished", q["state"]
n = {x["id"]: x for x in q["plan"]["nodes"]}
join = [i for i, x in n.items() if x["name"] == "interval join"]
assert len(join) == 1, n
srcs = sorted(a for a, b in q["plan"]["edges"] if b == join[0])
assert len(srcs) == 2 and all(n[a]["kind"] == "source" for a in srcs), q["plan"]' && ok ||
  bad "the plan of a finished join: $(get /queries/q7 | head -c 800)"
get /metrics | $py -c '
import sys
from prometheus_client.parser import text_string_to_metric_families
lags = {}
for f in text_string_to_metric_families(sys.stdin.read()):
    for x in f.samples:
        if x.name == "sluice_query_partition_lag" and x.labels["query"] == "q1":
            lags[x.labels["partition"]] = x.value
assert sorted(lags) == ["0", "1", "2"], lags' && ok || bad "sluice_query_partition_lag in /metrics"
d=$("$sluice" describe q1 --server "$url" --token "$token")
contains "describe q1: the plan, its consumer group" '["plan","source kafka, format json, consumer group sluice-dsp-' "$d"
contains "describe q1: the plan's operators" '11 columns -> score: 1 model call' "$d"
contains "describe q1: the lag per partition" '["partition_lag","source0 partition 0: ' "$d"
contains "describe q1: latency" '["batch_p99_ms",' "$d"

# ---- the browser ------------------------------------------------------------------
echo "browser at ${SECONDS} s"
export NODE_DIR=$nodedir CHROMIUM=$chromium URL=$url TOKEN=$token OUT=$out S1=q1 S5=q3 TRAINED=model1 FAILED=q6
timeout 120 node "$here/console_test.mjs" token > driver.out 2>&1
rc=$?
cat driver.out
pass=$((pass + $(grep -c '^ok ' driver.out)))
fail=$((fail + $(grep -c '^FAIL ' driver.out)))
[ $rc = 0 ] || grep -q '^FAIL ' driver.out || bad "the driver ended with status $rc"
# The error per window of model1 (S6's step 0.01): what Spark's update rules
# (tests/train/spark_ref.py) give over the generator's points, each window
# scored with the weights before its update.
get /describe/model1 > model1.json
$py - model1.json s6.log "$top/tests/train" <<'PY' && ok || bad "model1's history against the reference: $(head -c 400 model1.json)"
import json, sys
import numpy as np
sys.path.insert(0, sys.argv[3])
from spark_ref import sgd_update
hist = json.loads(dict(json.load(open(sys.argv[1]))["rows"])["history"])
windows = {}
for line in open(sys.argv[2]):
    label, feats, ts = line.rstrip("\n").split("\t")
    windows.setdefault(int(ts) // 1000 * 1000 + 1000, []).append((float(label), [float(f) for f in feats.split(",")]))
assert len(hist) >= 2, hist
w = np.zeros(100)
for k, h in enumerate(hist):
    assert h["version"] == k + 2, h
    rows = windows[h["time"]]
    assert h["count"] == len(rows), (h, len(rows))
    y = np.array([r[0] for r in rows]); X = np.array([r[1] for r in rows])
    mse = float(np.mean((X @ w - y) ** 2))
    assert abs(h["loss"] - mse) <= 1e-9 * max(1.0, mse), (h, mse)
    w = sgd_update(w, y, X, 0.01, 1)
print(len(hist), "windows")
PY
for f in queries query sql sql-error model; do [ -s "$out/$f.png" ] && ok || bad "screenshot $f.png"; done
kill $ppid2 2>/dev/null
serve_stop && ok || bad "server stopped cleanly"

# ---- without a token ------------------------------------------------------------
echo "without a token at ${SECONDS} s"
serve_start --data-dir . --allow-broker "127.0.0.1:$gport" && ok || { bad "server started"; cat serve.err; finish console; }
auth=()
r=$(post "$(sed "s/127.0.0.1:9999/127.0.0.1:$gport/" "$top/sql-examples/s5.sql")")
contains "S5 submitted" '"status":"ok"' "$r"
export URL=$url S5=q1
timeout 60 node "$here/console_test.mjs" open > driver2.out 2>&1
rc=$?
cat driver2.out
pass=$((pass + $(grep -c '^ok ' driver2.out)))
fail=$((fail + $(grep -c '^FAIL ' driver2.out)))
[ $rc = 0 ] || grep -q '^FAIL ' driver2.out || bad "the driver ended with status $rc"
serve_stop && ok || bad "server stopped cleanly"
echo "ended at ${SECONDS} s"
finish console
