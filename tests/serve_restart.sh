#!/usr/bin/env bash
# serve_restart.sh - the restart strategy of `sluice serve --state-dir`: a
# submission whose queries were running when the server was killed (kill
# -9, as a crash would end it) --restart-attempts times in a row is listed
# failed with why and how often, and no longer started (its source is not
# even opened), while the others go on and the server serves; a query that
# failed of its own error is not started again; a clean stop, and a
# submission that ran --stable-after seconds, count no attempt; a failed
# query is removed from the list by DELETE (and stays removed); raising
# --restart-attempts starts a given-up submission again; --reset-state
# clears it all.  Also: a submission starting with blank lines and a
# record cut short at the end of the log survive a restart.
set -u
here=$(cd "$(dirname "$0")" && pwd)
sluice=${SLUICE:-$here/../sluice}
work=$(mktemp -d)
spid=""
gpids=""
trap '[ -n "$spid" ] && kill -9 $spid 2>/dev/null; [ -n "$gpids" ] && kill $gpids 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
. "$here/lib.sh"
cd "$work" || exit 1
command -v curl > /dev/null || { echo "serve_restart: curl missing (scripts/setup.sh)"; exit 77; }
py=/usr/bin/python3
printf '{"a":1}\n{"a":2}\n{"a":3}\n' > in.jsonl
log=st/serve-submissions.log

# the socket generators' ports, granted to the server's clients
declare -a gport
for i in 1 2; do gport[$i]=$(free_port); done
gens=$(printf '127.0.0.1:%s,' "${gport[@]}")
# start_server ARGS...: sluice serve --state-dir st on a new free port.
start_server() { serve_start --data-dir . --allow-broker "$gens" --state-dir st "$@"; }
# stop_server SIGNAL: end the server with SIGNAL (TERM: a clean stop; KILL).
stop_server() { serve_stop "$1"; }
post() { curl -s -H 'Content-Type: application/sql' -X POST --data-binary "$1" "$url/statements"; }
queries() { curl -s "$url/queries"; }
# field ID KEY: that field of query ID in GET /queries ("" if none).
field() {
  queries | $py -c '
import json, sys
for q in json.load(sys.stdin):
    if q["id"] == sys.argv[1]:
        print(q.get(sys.argv[2], ""))' "$1" "$2"
}
# wait_state ID STATE: until query ID is in STATE (10 s at most).
wait_state() {
  for _ in $(seq 200); do [ "$(field "$1" state)" = "$2" ] && return 0; sleep 0.05; done
  return 1
}
# conns N: connections generator N has accepted so far.
conns() { grep -c conn "gen$1.out"; }
# wait_conns N COUNT: until generator N has accepted COUNT connections.
wait_conns() {
  for _ in $(seq 200); do [ "$(conns "$1")" -ge "$2" ] && return 0; sleep 0.05; done
  return 1
}
# gen.py PORT: sends 0, 1, 2, ... every 10 ms to every client, each on a
# thread of its own; prints "conn" for each client.
cat > gen.py <<'PY'
import socket, sys, threading, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(16); print("listening", flush=True)
def feed(c):
    try:
        for i in range(100000):
            c.sendall(b"%d\n" % i); time.sleep(0.01)
    except OSError:
        pass
while True:
    c, _ = s.accept()
    print("conn", flush=True)
    threading.Thread(target=feed, args=(c,), daemon=True).start()
PY
start_gen() {
  timeout 600 $py gen.py "${gport[$1]}" > "gen$1.out" &
  gpids="$gpids $!"
  for _ in $(seq 100); do grep -q listening "gen$1.out" && return 0; sleep 0.05; done
}
start_gen 1
start_gen 2

start_server && ok || { bad "server started"; cat serve.err; finish serve_restart; }
# q1 runs until it is stopped; q2 (a text starting with blank lines) ends;
# q3 fails of its own error.
r=$(post "SELECT n FROM socket('127.0.0.1:${gport[1]}', format => 'csv', columns => 'n INTEGER') INTO file('a.csv', format => 'csv');")
[ "$r" = '{"submission":1,"queries":["q1"],"status":"ok"}' ] && ok || bad "submit q1: $r"
r=$(post $'\n\n  SELECT a FROM file(\'in.jsonl\', format => \'json\') INTO file(\'b.jsonl\', format => \'json\');')
[ "$r" = '{"submission":2,"queries":["q2"],"status":"ok"}' ] && ok || bad "submit q2: $r"
printf '{"a":1}\nnot json\n' > bad.jsonl
r=$(post "SELECT a FROM file('bad.jsonl', format => 'json', errors => 'fail') INTO file('bad.out', format => 'json');")
[ "$r" = '{"submission":3,"queries":["q3"],"status":"ok"}' ] && ok || bad "submit q3: $r"
wait_state q1 running && wait_state q2 finished && wait_state q3 failed && ok || bad "first states: $(queries)"
[ -z "$(field q1 attempts)$(field q2 attempts)" ] && [ "$(field q3 attempts)" = 1 ] && ok ||
  bad "attempts at first: $(queries)"
# the failure is logged (within 100 ms) before the server is killed
for _ in $(seq 100); do grep -q '^F [0-9]* 3$' $log && break; sleep 0.05; done
grep -q '^F [0-9]* 3$' $log && ok || bad "q3's failure is logged: $(cat $log)"
# q3's input is mended: were q3 started again, it would now finish
printf '{"a":1}\n{"a":2}\n' > bad.jsonl

# Killed with q1 running, three times: q1 counts an attempt each time, and
# after the third it is failed, not started (its generator sees no new
# client); q2 and q3 count none.
for n in 1 2 3; do
  wait_conns 1 "$n" || bad "q1 connected ($n)"
  stop_server KILL
  start_server && ok || bad "restart $n after kill -9"
  if [ $n -lt 3 ]; then
    wait_state q1 running && [ "$(field q1 attempts)" = $n ] && ok || bad "q1 runs again, attempts $n: $(queries)"
  fi
  [ "$(field q2 state)" = finished ] && [ "$(field q2 records_in)" = 0 ] && [ -z "$(field q2 attempts)" ] && ok ||
    bad "q2 (blank lines first) applied again from its checkpoint ($n): $(queries)"
  [ "$(field q3 state)" = failed ] && [ "$(field q3 records_in)" = 0 ] && [ "$(field q3 attempts)" = 1 ] && ok ||
    bad "q3 stays failed, not started again ($n): $(queries)"
  field q3 error | grep -q 'bad.jsonl:2' && ok || bad "q3 keeps its error ($n): $(field q3 error)"
done
[ "$(field q1 state)" = failed ] && [ "$(field q1 attempts)" = 3 ] && ok || bad "q1 failed after 3 kills: $(queries)"
field q1 error | grep -q '^not restarted: the server ended abnormally (a crash or a kill) 3 times in a row while its submission ran (--restart-attempts 3)$' &&
  ok || bad "q1's reason: $(field q1 error)"
grep -q 'submission 1: not restarted' serve.err && ok || bad "the log of the server says so: $(cat serve.err)"
sleep 0.3
[ "$(conns 1)" = 3 ] && ok || bad "the given-up q1 opened nothing: $(conns 1) connections"
[ "$(tr -d '\n' < b.jsonl)" = '{"a":1}{"a":2}{"a":3}' ] && [ ! -s bad.out ] && ok || bad "outputs once"

# The server serves on: a new submission runs; SHOW QUERIES has the states,
# attempts and errors.
r=$(post "SELECT n FROM socket('127.0.0.1:${gport[2]}', format => 'csv', columns => 'n INTEGER') INTO file('c.csv', format => 'csv');")
[ "$r" = '{"submission":4,"queries":["q4"],"status":"ok"}' ] && ok || bad "a submission after: $r"
wait_state q4 running && ok || bad "q4 runs: $(queries)"
r=$(curl -s -N -H 'Content-Type: application/sql' -X POST --data-binary 'SHOW QUERIES;' "$url/query")
echo "$r" | head -n 1 | grep -q '"columns":\["id","state","kind","records_in","records_out","rejected","attempts","error","sql"\]' &&
  echo "$r" | grep -q '"row":\["q1","failed","persistent","0","0","0","3","not restarted: ' &&
  echo "$r" | grep -q '"row":\["q3","failed","persistent","0","0","0","1",".*bad.jsonl:2' &&
  echo "$r" | grep -q '"row":\["q4","running","persistent","[0-9]*","[0-9]*","0","0",null,' && ok || bad "SHOW QUERIES: $r"
"$sluice" describe q1 --server "$url" | grep -q '\["attempts","3"\]' && ok || bad "DESCRIBE q1 has its attempts"

# A clean stop counts no attempt (q4), and does not forgive q1 either.
stop_server TERM
start_server && ok || bad "restart after a clean stop"
wait_state q4 running && [ -z "$(field q4 attempts)" ] && ok || bad "q4 runs, no attempt after SIGTERM: $(queries)"
[ "$(field q1 state),$(field q1 attempts)" = failed,3 ] && ok || bad "q1 stays failed: $(queries)"

# A submission that has run --stable-after seconds counts no attempt when
# the server is killed; one that has not, does.
stop_server TERM
start_server --stable-after 1 && ok || bad "restart with --stable-after 1"
wait_state q4 running || bad "q4 runs (stable)"
for _ in $(seq 100); do [ "$(grep -c '^U [0-9]* 4$' $log)" -ge 1 ] && break; sleep 0.05; done
grep -q '^U [0-9]* 4$' $log && ok || bad "q4 is logged stable: $(grep -a '^[A-Z] ' $log | tr '\n' ' ')"
stop_server KILL
start_server && ok || bad "restart after kill -9 of a stable submission"
wait_state q4 running && [ -z "$(field q4 attempts)" ] && ok || bad "a stable q4 counts no attempt: $(queries)"
stop_server KILL
start_server && ok || bad "restart after kill -9"
wait_state q4 running && [ "$(field q4 attempts)" = 1 ] && ok || bad "q4 counts an attempt now: $(queries)"

# More attempts allowed: q1 starts again (with the attempts it has), and
# counts on.
stop_server TERM
start_server --restart-attempts 4 && ok || bad "restart with --restart-attempts 4"
wait_state q1 running && [ "$(field q1 attempts)" = 3 ] && wait_conns 1 4 && ok || bad "q1 starts again: $(queries)"
stop_server KILL
start_server --restart-attempts 4 && ok || bad "restart after kill -9 (4)"
[ "$(field q1 state),$(field q1 attempts)" = failed,4 ] && ok || bad "q1 failed again at 4: $(queries)"
field q1 error | grep -q '4 times in a row.*(--restart-attempts 4)' && ok || bad "q1's reason (4): $(field q1 error)"

# A failed query is removed from the list by terminating it, for good; its
# id stays taken.  A running one is terminated as ever.
[ "$(curl -s -X DELETE "$url/queries/q1")" = '{"id":"q1","status":"removed"}' ] && ok || bad "remove q1"
r=$(curl -s -N -H 'Content-Type: application/sql' -X POST --data-binary 'TERMINATE q3;' "$url/query")
echo "$r" | grep -q '"row":\["q3","removed"\]' && ok || bad "TERMINATE q3 removes it: $r"
[ "$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "$url/queries/q1")" = 404 ] && ok || bad "q1 is gone"
[ "$(queries | $py -c 'import json,sys; print(" ".join(q["id"] for q in json.load(sys.stdin)))')" = "q2 q4" ] &&
  ok || bad "the list without q1 and q3: $(queries)"
curl -s "$url/metrics" | grep -q 'query="q1"' && bad "q1 in the metrics" || ok
stop_server TERM
# A record cut short at the end of the log (a crash while writing it) is
# cut off at the next start; the records before it hold.
printf 'S 100 0\nTORN' >> $log
start_server && ok || bad "restart with a record cut short"
wait_state q4 running && [ -z "$(field q1 state)$(field q3 state)" ] && ok || bad "q1 and q3 stay removed: $(queries)"
! grep -q TORN $log && ok || bad "the unfinished record is cut off"
sleep 0.3
[ "$(conns 1)" = 4 ] && ok || bad "removed q1 is not started: $(conns 1) connections"
r=$(post "SELECT a FROM file('in.jsonl', format => 'json') INTO file('d.jsonl', format => 'json');")
[ "$r" = '{"submission":5,"queries":["q5"],"status":"ok"}' ] && ok || bad "ids stay taken: $r"
stop_server KILL

# --reset-state: nothing is left of it.
start_server --reset-state && ok || bad "restart with --reset-state"
[ "$(queries)" = '[]' ] && ok || bad "nothing after --reset-state: $(queries)"
stop_server TERM

finish serve_restart
