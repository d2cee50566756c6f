#!/usr/bin/env bash
# kafka_broker.sh - the dev broker's topics, made as a broker makes them and
# never by the Kafka connector:
#   1. `sluice broker --topics NAME:N,...` makes them up front with N
#      partitions (1 when N is left out);
#   2. a consumer does not create a topic (sluice's source on a missing
#      topic is an error, as on a real broker), a producer does (the mock
#      cluster's default of 4 partitions);
#   3. the control line "topics NAME:N" makes topics while it runs;
#   4. `--dev-broker --topics` does the same for the broker inside a run;
#   5. a malformed --topics is an error, and --topics without a broker a
#      usage error.
# kcat reads partition counts, only of topics that exist (its metadata
# request would create a missing one).
set -u
here=$(cd "$(dirname "$0")" && pwd)
sluice=${SLUICE:-$here/../sluice}
command -v kcat > /dev/null || { echo "kcat missing: skipped"; exit 77; }
work=$(mktemp -d)
mkfifo "$work/ctl"
"$sluice" broker --port 0 --topics three:3,one < "$work/ctl" > "$work/boot" 2> "$work/broker.log" &
bpid=$!
exec 3> "$work/ctl"
trap 'exec 3>&-; kill $bpid 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do [ -s "$work/boot" ] && break; sleep 0.1; done
boot=$(head -n 1 "$work/boot")
[ -n "$boot" ] || { echo "broker did not start"; cat "$work/broker.log"; exit 1; }
. "$here/lib.sh"

partitions() { # partitions TOPIC: its partition count, read with kcat
  kcat -b "$boot" -L -t "$1" 2> /dev/null | sed -n 's/.*topic "'"$1"'" with \([0-9]*\) partitions.*/\1/p'
}

# 1. --topics
[ "$(partitions three)" = 3 ] && ok || bad "three has $(partitions three) partitions"
[ "$(partitions one)" = 1 ] && ok || bad "one has $(partitions one) partitions"

# 2. a consumer creates nothing, a producer creates its topic
"$sluice" --brokers "$boot" -e "SELECT value FROM kafka('absent', stop => 'end')" 2> "$work/absent.err" &&
  bad "reading a missing topic succeeded" || ok
grep -q "kafka: topic absent: Broker: Unknown topic or partition" "$work/absent.err" && ok ||
  { bad "missing topic message"; cat "$work/absent.err"; }
"$sluice" --brokers "$boot" -e "SELECT value FROM kafka('absent', stop => 'end')" 2> /dev/null &&
  bad "the first read created the topic" || ok
printf 'a\nb\n' | "$sluice" --brokers "$boot" -e "SELECT value FROM stdin() INTO kafka('fresh', format => 'raw')" \
  2> "$work/fresh.err" && ok || { bad "producing to a new topic"; cat "$work/fresh.err"; }
[ "$(partitions fresh)" = 4 ] && ok || bad "fresh has $(partitions fresh) partitions (the mock's default is 4)"
out=$("$sluice" --brokers "$boot" --format csv -e "SELECT value FROM kafka('fresh', stop => 'end')" 2>&1 | sort)
[ "$out" = $'a\nb\nvalue' ] && ok || bad "reading the new topic: [$out]"

# 3. the control line
echo "topics late:2,later" >&3
for _ in $(seq 50); do grep -q "sluice broker: topics late:2,later" "$work/broker.log" && break; sleep 0.1; done
[ "$(partitions late)" = 2 ] && [ "$(partitions later)" = 1 ] && ok || { bad "topics made by control"; cat "$work/broker.log"; }
echo "topics bad:0" >&3
for _ in $(seq 50); do grep -q "bad topic 'bad:0'" "$work/broker.log" && break; sleep 0.1; done
grep -q "sluice broker: dev broker: bad topic 'bad:0': give NAME or NAME:PARTITIONS" "$work/broker.log" && ok ||
  { bad "bad control topic"; cat "$work/broker.log"; }

# 4. --dev-broker --topics (the broker inside the run)
"$sluice" --dev-broker=0 -e "SELECT value FROM kafka('made', stop => 'end')" 2> "$work/dev1.err" &&
  bad "--dev-broker: reading a missing topic succeeded" || ok
grep -q "Unknown topic or partition" "$work/dev1.err" && ok || { bad "--dev-broker missing topic"; cat "$work/dev1.err"; }
"$sluice" --dev-broker=0 --topics made:2 --stats -e "SELECT value FROM kafka('made', stop => 'end')" \
  2> "$work/dev2.err" && ok || { bad "--dev-broker --topics"; cat "$work/dev2.err"; }
grep -q "0 in, 0 out" "$work/dev2.err" && ok || { bad "--dev-broker --topics counts"; cat "$work/dev2.err"; }

# 5. bad --topics
"$sluice" broker --port 0 --topics 'ok:2,x:many' > /dev/null 2> "$work/b1.err" < /dev/null
rc=$?
[ $rc -eq 1 ] && grep -q "bad topic 'x:many'" "$work/b1.err" && ok || { bad "malformed --topics (exit $rc)"; cat "$work/b1.err"; }
"$sluice" --dev-broker=0 --topics ',' -e "SELECT 1" > /dev/null 2> "$work/b2.err"
rc=$?
[ $rc -eq 1 ] && grep -q "bad topic ''" "$work/b2.err" && ok || { bad "empty topic name (exit $rc)"; cat "$work/b2.err"; }
"$sluice" --topics a:1 -e "SELECT 1" > /dev/null 2> "$work/b3.err"
rc=$?
[ $rc -eq 2 ] && grep -q -- "--topics goes with" "$work/b3.err" && ok || { bad "--topics without a broker (exit $rc)"; cat "$work/b3.err"; }

finish kafka_broker
