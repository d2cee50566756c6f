# tests/lib.sh - sourced by the shell tests: a tally of checks and small
# helpers.  ok / bad "what" count a check; check and contains compare;
# finish NAME prints the tally and exits 0 only when nothing failed;
# in_workdir makes and enters a scratch directory; serve_start and
# serve_stop run a `sluice serve` on a free loopback port; dev_broker runs
# the dev broker; wait_for retries a check; count and holds read a topic;
# rows_w and last_a read the per-user outputs of the Kafka GROUP BY tests.
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
# check NAME EXPECTED ACTUAL: ACTUAL is EXPECTED (both shown when not).
check() {
  if [ "$2" = "$3" ]; then ok; else bad "$1"$'\n--- expected\n'"$2"$'\n--- actual\n'"$3"; fi
}
# contains NAME NEEDLE HAYSTACK: HAYSTACK holds NEEDLE.
contains() {
  case "$3" in
  *"$2"*) ok ;;
  *) bad "$1: '$2' not in: $3" ;;
  esac
}
finish() {
  echo "$1: $pass passed, $fail failed"
  [ "$fail" -eq 0 ]
  exit $?
}
# in_workdir: a fresh directory $work, removed at exit, made the current one.
in_workdir() {
  work=$(mktemp -d) || exit 99
  trap 'rm -rf "$work"' EXIT
  cd "$work" || exit 99
}
# A TCP port free on the loopback now.
free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# serve_start ARGS...: `$sluice serve` with ARGS on a new free loopback port,
# its stderr in serve.err (the last server's removed first, so that its
# "listening" is not taken for this one's); sets port, url and spid; 0 once
# it listens (10 s at most).
serve_start() {
  port=$(free_port)
  url=http://127.0.0.1:$port
  rm -f serve.err
  "$sluice" serve --listen "127.0.0.1:$port" "$@" 2> serve.err &
  spid=$!
  for _ in $(seq 200); do grep -q listening serve.err 2>/dev/null && return 0; sleep 0.05; done
  return 1
}
# serve_stop [SIGNAL]: end the server (TERM by default; KILL) and wait for
# it; returns its exit status (after a clean stop, the last lines of
# serve.err are shown when it is not 0).
serve_stop() {
  kill -"${1:-TERM}" "$spid"
  wait "$spid" 2> /dev/null
  local rc=$?
  spid=""
  [ "${1:-TERM}" != TERM ] || [ $rc = 0 ] || tail -n 40 serve.err
  return $rc
}
# kafka_clients: the suite reads Kafka with kafka-python ($py) and kcat; a
# skip (77) when either is missing (scripts/test.sh installs both).
kafka_clients() {
  "${py:-/usr/bin/python3}" -c 'import kafka' 2> /dev/null || { echo "python3-kafka missing: skipped"; exit 77; }
  command -v kcat > /dev/null || { echo "kcat missing: skipped"; exit 77; }
}
# dev_broker TOPICS: `$sluice broker --topics TOPICS` (in_workdir first),
# its address in boot and pid in bpid; at exit it and the processes in
# $pids and $ppid are killed and the work directory removed.
dev_broker() {
  pids=${pids:-}
  "$sluice" broker --topics "$1" > "$work/boot" 2> "$work/broker.log" &
  bpid=$!
  trap 'kill $bpid $pids ${ppid:-} 2>/dev/null; wait 2>/dev/null; cd /; rm -rf "$work"' EXIT
  for _ in $(seq 100); do [ -s "$work/boot" ] && break; sleep 0.1; done
  boot=$(head -n 1 "$work/boot")
}
# wait_for SECONDS CMD...: run CMD every half second until it succeeds (0)
# or SECONDS pass (1).
wait_for() {
  local n=$(($1 * 2))
  shift
  for _ in $(seq "$n"); do "$@" && return 0; sleep 0.5; done
  return 1
}
# count TOPIC: the messages in TOPIC now (kcat, from $boot); holds TOPIC N:
# at least N.
count() { kcat -C -b "$boot" -t "$1" -e -q -f '%p\n' 2> /dev/null | wc -l; }
holds() { [ "$(count "$1")" -ge "$2" ]; }
# rows_w TOPIC: the rows of a windowed output of user, ws, n and total
# (JSON), sorted, duplicates kept; last_a TOPIC: the last value of each key
# of an upsert output of user, n and total (a tombstone removes it).
rows_w() { kcat -C -b "$boot" -t "$1" -e -q -f '%s\n' 2> /dev/null |
  $py -c 'import json,sys
rows = [json.loads(l) for l in sys.stdin if l.strip()]
for r in sorted((r["user"], r["ws"], r["n"], r["total"]) for r in rows): print(*r)'; }
last_a() { kcat -C -b "$boot" -t "$1" -e -q -f '%k|%s\n' 2> /dev/null |
  $py -c 'import json,sys
last = {}
for l in sys.stdin:
    if not l.strip(): continue
    k, v = l.rstrip("\n").split("|", 1)
    last[k] = json.loads(v) if v else None
for k in sorted(last):
    v = last[k]
    if v is not None: print(v["user"], v["n"], v["total"])'; }
