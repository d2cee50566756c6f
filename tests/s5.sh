#!/usr/bin/env bash
# s5.sh - scenario S5 over a socket: sql-examples/s5_gen.py serves seed-style
# purchases (fast, fixed seed, with event times) on a loopback port and
# sql-examples/s5.sql computes the per-10-second analytics, the running
# per-user changelog and the per-user sliding windows.  Each is checked
# against a computation in Python over the lines the generator logged.
# Then reconnection: sluice starts before the server, reads one server's
# events, the server goes away, a second one comes up on the same port, and
# every event of both is counted.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=${top_srcdir:-$here/..}
sluice=${SLUICE:-$here/../sluice}
py=/usr/bin/python3
work=$(mktemp -d)
pids=""
trap 'kill $pids 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
. "$here/lib.sh"
wait_listen() { for _ in $(seq 100); do grep -q listening "$1" 2>/dev/null && return 0; sleep 0.05; done; return 1; }

port=$(free_port)
timeout 60 $py "$top/sql-examples/s5_gen.py" --port "$port" --seconds 600 --seed 11 --fast \
  --start-ms 1700000000000 --log "$work/events.csv" > "$work/gen.out" &
pids=$!
wait_listen "$work/gen.out" || { echo "generator did not start"; exit 1; }
sed -e "s/127.0.0.1:9999', format => 'csv',/127.0.0.1:$port', format => 'csv', reconnect => false,/" \
  -e "s|'s5-|'$work/s5-|" "$top/sql-examples/s5.sql" > "$work/s5.sql"
"$sluice" --stats run "$work/s5.sql" 2> "$work/run.err" && ok || { bad "sluice run"; cat "$work/run.err"; }
wait $pids
pids=""
n=$(wc -l < "$work/events.csv")
[ "$(grep -c "q[123]: $n in, [0-9]* out, 0 rejected" "$work/run.err")" -eq 3 ] && ok ||
  { bad "each query saw all $n events, nothing rejected"; cat "$work/run.err"; }

$py - "$work" <<'PY' && ok || bad "S5 results against Python"
import collections, json, sys
w = sys.argv[1]
ev = []
for line in open(w + "/events.csv"):
    u, p, price, ts = line.rstrip("\n").split(",")
    ev.append((u, p, float(price), int(ts)))
fails = 0
def near(a, b):
    return abs(a - b) <= 0.0051
# per 10 seconds
win = collections.defaultdict(list)
for e in ev:
    win[e[3] // 10000 * 10000].append(e)
got = {r["window_start"]: r for r in map(json.loads, open(w + "/s5-batches.jsonl"))}
if set(got) != set(win):
    fails += 1; print("batch windows differ", len(got), len(win))
for ws, es in win.items():
    r = got.get(ws)
    if r is None: continue
    pop = sorted(collections.Counter(e[1] for e in es).items(), key=lambda kv: (-kv[1], kv[0]))[0]
    mp = r["most_popular"][0] if isinstance(r["most_popular"], list) else json.loads(r["most_popular"])[0]
    if (r["purchases"] != len(es) or r["users"] != len({e[0] for e in es})
            or not near(r["revenue"], sum(e[2] for e in es)) or (mp["value"], mp["count"]) != pop):
        fails += 1
        if fails < 5: print("batch mismatch", ws, r, len(es), pop)
# running per-user state: the last changelog row per user; counts never go back
last = {}
for r in map(json.loads, open(w + "/s5-users.jsonl")):
    if r["user"] in last and r["purchases"] < last[r["user"]]["purchases"]:
        fails += 1
    last[r["user"]] = r
tot = collections.defaultdict(lambda: [0, 0.0])
for e in ev:
    tot[e[0]][0] += 1
    tot[e[0]][1] += e[2]
if set(last) != set(tot):
    fails += 1; print("users differ")
for u, (n, rev) in tot.items():
    r = last.get(u)
    if not r or r["purchases"] != n or not near(r["revenue"], rev):
        fails += 1; print("user mismatch", u, r, n, rev)
# last 60 seconds every 30: windows [s, s + 60000), s a multiple of 30000
sl = collections.defaultdict(lambda: [0, 0.0])
for e in ev:
    s0 = e[3] // 30000 * 30000
    for s in (s0, s0 - 30000):
        sl[(e[0], s)][0] += 1
        sl[(e[0], s)][1] += e[2]
got = {(r["user"], r["window_start"]): r for r in map(json.loads, open(w + "/s5-sliding.jsonl"))}
if set(got) != set(sl):
    fails += 1; print("sliding windows differ", len(got), len(sl))
for k, (n, rev) in sl.items():
    r = got.get(k)
    if not r or r["purchases"] != n or not near(r["revenue"], rev) or r["window_end"] != k[1] + 60000:
        fails += 1
        if fails < 8: print("sliding mismatch", k, r, n, rev)
print("S5: %d events, %d windows of 10 s, %d users, %d sliding windows: %d mismatches"
      % (len(ev), len(win), len(tot), len(sl), fails))
sys.exit(1 if fails else 0)
PY

# reconnection: sluice first, then two servers one after the other
port=$(free_port)
"$sluice" --stats -e "SET commit_interval_ms = 100;
  SELECT user, count(*) AS n FROM socket('127.0.0.1:$port', format => 'csv',
    columns => 'user TEXT, product TEXT, price REAL, ts INTEGER')
  GROUP BY user EMIT CHANGES INTO file('$work/re.jsonl', format => 'json')" 2> "$work/re.err" &
spid=$!
pids=$spid
sleep 1
for seed in 1 2; do
  timeout 30 $py "$top/sql-examples/s5_gen.py" --port "$port" --seconds 50 --seed $seed --fast \
    --start-ms $((1700000000000 + seed * 100000)) --log "$work/ev$seed.csv" > "$work/gen$seed.out" &
  gpid=$!
  pids="$spid $gpid"
  wait $gpid
  sleep 1.5 # sluice notices the closed connection and tries again
done
kill -TERM $spid
wait $spid && ok || { bad "sluice exit on SIGTERM"; cat "$work/re.err"; }
pids=""
want=$(cat "$work/ev1.csv" "$work/ev2.csv" | wc -l)
got=$($py -c '
import json, sys
last = {}
for l in open(sys.argv[1]):
    r = json.loads(l); last[r["user"]] = r["n"]
print(sum(last.values()))' "$work/re.jsonl")
[ "$got" = "$want" ] && ok || { bad "after reconnecting: $got events counted of $want"; cat "$work/re.err"; }
finish s5
