#!/usr/bin/env bash
# scale_out.sh - one stateful query on several sluice processes, its state
# moving with its partitions (docs/scale-out.md).  On the dev broker, three
# processes run one script of one application: query A repartitions clicks
# (4 partitions keyed by session) by user into app-agg-repartition with
# origin headers; query B counts and sums per user and 2 s TUMBLE window,
# reading the repartition topic with state_topic => 'app-agg-state'.  While
# the input is written, one process is killed with SIGKILL and started again
# later, and a fourth process joins (a rebalance).  Then every input
# partition gets, for every user, a record far ahead in time, which closes
# every window.  The union of the outputs must equal a Python reference over
# everything produced: every reference row there (no loss), no row that is
# not one (no partial count); identical duplicates are allowed
# (at-least-once) and counted.  The same script's query C, the same
# aggregate without state_topic (its state stays with the process), runs
# through the same kills and rebalances and must get some windows wrong: the
# negative check that the test can fail.  Query D is issue 20's whole
# case written as one query: the same per-user window over clicks joined
# with a table (each user's amount times the table's mult), under SET
# repartition = 'on', which the planner splits into such a writer and
# reader by itself; it goes through the same kills and rebalances and must
# equal its reference too.  Also: the origin headers checked
# with kcat against the input, --stats naming the partitions each process
# owns and the states restored, and the options refused where they cannot
# work.
set -u
here=$(cd "$(dirname "$0")" && pwd)
sluice=${SLUICE:-$here/../sluice}
py=/usr/bin/python3
. "$here/lib.sh"
kafka_clients
in_workdir
ppid=""
dev_broker clicks:4,app-agg-repartition:4,app-agg-state:4,out:1,out-nostate:1,out-split:1
. "$here/scale_out_lib.sh"

# ---- options refused where they cannot work -------------------------------
"$sluice" --brokers "$boot" -e "SELECT user, count(*) AS c FROM kafka('clicks', format => 'json',
  stop => 'end', state_topic => 'st-x') GROUP BY user INTO kafka('o-x', format => 'json');" \
  > /dev/null 2> "$work/bounded.err"
grep -q "state_topic => keeps the state of a continuous group read per partition: not with stop => 'end'" \
  "$work/bounded.err" && ok || { bad "state_topic with a bounded read"; cat "$work/bounded.err"; }
"$sluice" --brokers "$boot" -e "SET processing.guarantee = 'exactly_once';
  SELECT user, count(*) AS c FROM kafka('clicks', format => 'json', state_topic => 'st-x')
  GROUP BY user, TUMBLE(ts, INTERVAL '2' SECOND) INTO file('$work/o-x.json');" \
  > /dev/null 2> "$work/eos.err"
grep -q "processing.guarantee = 'exactly_once' with state_topic => writes INTO kafka(...) only" \
  "$work/eos.err" && grep -q "^3:[0-9]*: error" "$work/eos.err" && ok ||
  { bad "state_topic with exactly once into a file"; cat "$work/eos.err"; }
"$sluice" --brokers "$boot" -e "SET processing.guarantee = 'exactly_once';
  SELECT user, count(*) AS c FROM kafka('clicks', format => 'json', state_topic => 'st-x')
  GROUP BY user INTO kafka('o-x', format => 'json');" > /dev/null 2> "$work/eos2.err"
grep -q "needs results that are the same on replay" "$work/eos2.err" &&
  grep -q "^3:[0-9]*: error" "$work/eos2.err" && ok ||
  { bad "state_topic with exactly once and an updating GROUP BY"; cat "$work/eos2.err"; }

cat > "$work/app.sql" <<'SQL'
SET application_id = 'app';
SET checkpoint_interval = '1s';
SET idle_timeout_ms = '600s';
SELECT user, ts, amount FROM kafka('clicks', format => 'json')
  INTO kafka('app-agg-repartition', key => 'user', format => 'json', origin => true);
SELECT user, window_start, count(*) AS c, sum(amount) AS s
  FROM kafka('app-agg-repartition', format => 'json', state_topic => 'app-agg-state')
  GROUP BY user, TUMBLE(ts, INTERVAL '2' SECOND) INTO kafka('out', format => 'json');
SELECT user, window_start, count(*) AS c, sum(amount) AS s
  FROM kafka('app-agg-repartition', format => 'json', group => 'app-nostate')
  GROUP BY user, TUMBLE(ts, INTERVAL '2' SECOND) INTO kafka('out-nostate', format => 'json');
SET repartition = 'on';
CREATE TABLE mults (user TEXT, mult INTEGER);
INSERT INTO mults VALUES ('u0', 1), ('u1', 2), ('u2', 3), ('u3', 4), ('u4', 5), ('u5', 6);
SELECT k.user, window_start, count(*) AS c, sum(k.amount * m.mult) AS s
  FROM kafka('clicks', format => 'json') AS k JOIN mults m ON k.user = m.user
  GROUP BY k.user, TUMBLE(k.ts, INTERVAL '2' SECOND) INTO kafka('out-split', format => 'json');
SQL

# The input, written throughout, and the kills and the rebalance
# (scale_out_lib.sh).
scenario out 3

# the origin headers: "<partition>:<offset>" of the clicks record each row
# came from (three of them looked up in clicks with kcat)
kcat -C -b "$boot" -t app-agg-repartition -p 0 -c 3 -e -q -f '%h\t%s\n' 2> /dev/null > "$work/hdr"
n=0
while IFS=$'\t' read -r h v; do
  o=${h#sluice-origin=}
  src=$(kcat -C -b "$boot" -t clicks -p "${o%%:*}" -o "${o##*:}" -c 1 -e -q 2> /dev/null)
  $py -c 'import json,sys; a=json.loads(sys.argv[1]); b=json.loads(sys.argv[2]);
sys.exit(0 if all(a[k] == b[k] for k in ("user","ts","amount")) else 1)' "$v" "$src" && n=$((n + 1))
done < "$work/hdr"
check "three repartitioned rows whose sluice-origin header names their clicks record" 3 "$n"

# The reference, and a wait until every reference row is in out (each
# window's count and sum), 5 minutes at most.
# (mult 1: queries B and C; the table's mult of each user: query D)
make_refs
settle out
echo "state_topic: $nref reference windows; missing $missing, not in the reference $extra, duplicates $dups"
check "every window of the reference in out (no loss)" 0 "$missing"
check "no row in out that is not the reference's (no partial count)" 0 "$extra"

# query D: the same window as one query with SET repartition = 'on' and a
# join with a table: the planner's two stages (origin => true, state_topic)
settle out-split table
echo "SET repartition: $nref reference windows; missing $missing, not in the reference $extra, duplicates $dups"
check "every window of the reference in out-split (no loss)" 0 "$missing"
check "no row in out-split that is not the reference's (no partial count)" 0 "$extra"

# query C, without state_topic, through the same kills and rebalances: its
# outputs settle, and some are wrong or missing
prev=-1
for _ in $(seq 60); do
  now=$(count out-nostate)
  [ "$now" -eq "$prev" ] && break
  prev=$now
  sleep 2
done
read -r nmissing nextra ndups nref < <(compare out-nostate)
echo "without state_topic: missing $nmissing, not in the reference $nextra, duplicates $ndups"
[ $((nmissing + nextra)) -gt 0 ] && ok ||
  bad "the same aggregate without state_topic came out right: the check cannot fail"

kill -TERM $p1 $p3 $p2b $p4
for p in $p1 $p3 $p2b $p4; do wait $p || bad "a process exited $? on SIGTERM"; done
pids=""
grep -h "state per partition" "$work"/p*.err
restored=0
for f in "$work"/p1.err "$work"/p3.err "$work"/p2b.err "$work"/p4.err; do
  grep -q "^q2: state per partition: owns" "$f" && ok || { bad "no state line in $f"; tail -5 "$f"; }
  r=$(sed -n 's/^q2: state per partition: owns [^;]*; \([0-9]*\) states restored.*/\1/p' "$f")
  restored=$((restored + ${r:-0}))
done
[ "$restored" -gt 0 ] && ok || bad "no process restored a partition's state"
finish scale_out
