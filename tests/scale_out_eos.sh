#!/usr/bin/env bash
# scale_out_eos.sh - exactly once on several sluice processes whose query
# keeps its state per partition (docs/scale-out.md, "Exactly once").  On
# the dev broker, three processes run one script of one application: a
# per-user 2 s TUMBLE count and sum over clicks (4 partitions keyed by
# session, so the GROUP BY key is not the partition key) joined with a
# table, under SET repartition = 'on' and processing.guarantee =
# 'exactly_once' (no state directory: the states are in Kafka).  While the
# input is written, one process is killed with SIGKILL and started again,
# and a fourth process joins (a rebalance).  Every window must then be in
# the output once, as Python computes it: 0 missing, 0 wrong, 0 duplicates.
# The same script's first query is the same aggregate at least once, through
# the same kills: its duplicates are printed (a window closed between a
# partition's last state and the kill is written again after the restore;
# whether one did in a given run depends on timing, so it is not asserted).
set -u
here=$(cd "$(dirname "$0")" && pwd)
sluice=${SLUICE:-$here/../sluice}
py=/usr/bin/python3
. "$here/lib.sh"
kafka_clients
in_workdir
ppid=""
dev_broker clicks:4,out-alo:2,out-eos:2
. "$here/scale_out_lib.sh"

# the plan: stage 1 at least once (no state directory needed), stage 2
# exactly once with its state per partition
"$sluice" --brokers "$boot" -e "SET application_id = 'x'; SET repartition = 'on';
  SET processing.guarantee = 'exactly_once';
  EXPLAIN SELECT user, window_start, count(*) AS c FROM kafka('clicks', format => 'json')
  GROUP BY user, TUMBLE(ts, INTERVAL '2' SECOND) INTO kafka('o', format => 'json');" \
  > "$work/explain" 2>&1
grep -q "state kept per partition" "$work/explain" && ok ||
  { bad "EXPLAIN of an exactly-once repartitioned query"; cat "$work/explain"; }

cat > "$work/app.sql" <<'SQL'
SET application_id = 'app';
SET checkpoint_interval = '3s';
SET idle_timeout_ms = '600s';
SET repartition = 'on';
CREATE TABLE mults (user TEXT, mult INTEGER);
INSERT INTO mults VALUES ('u0', 1), ('u1', 2), ('u2', 3), ('u3', 4), ('u4', 5), ('u5', 6);
SELECT k.user, window_start, count(*) AS c, sum(k.amount * m.mult) AS s
  FROM kafka('clicks', format => 'json') AS k JOIN mults m ON k.user = m.user
  GROUP BY k.user, TUMBLE(k.ts, INTERVAL '2' SECOND) INTO kafka('out-alo', format => 'json');
SET processing.guarantee = 'exactly_once';
SELECT k.user, window_start, count(*) AS c, sum(k.amount * m.mult) AS s
  FROM kafka('clicks', format => 'json') AS k JOIN mults m ON k.user = m.user
  GROUP BY k.user, TUMBLE(k.ts, INTERVAL '2' SECOND) INTO kafka('out-eos', format => 'json');
SQL

scenario out-eos 4

make_refs
settle out-eos table
echo "exactly once: $nref reference windows; missing $missing, wrong $extra, duplicates $dups"
check "every window of the reference in out-eos (no loss)" 0 "$missing"
check "no row in out-eos that is not the reference's" 0 "$extra"
check "no window twice in out-eos (exactly once)" 0 "$dups"
settle out-alo table
echo "at least once: $nref reference windows; missing $missing, wrong $extra, duplicates $dups"
check "every window of the reference in out-alo (no loss)" 0 "$missing"
check "no row in out-alo that is not the reference's" 0 "$extra"

# every message of out-eos carries a sluice-id, and no id twice
kcat -C -b "$boot" -t out-eos -e -q -f '%h\n' 2> /dev/null > "$work/ids"
nids=$(grep -c "sluice-id=" "$work/ids")
check "every message of out-eos has its sluice-id" "$(count out-eos)" "$nids"
check "no sluice-id twice in out-eos" 0 "$(sort "$work/ids" | uniq -d | wc -l)"

kill -TERM $p1 $p3 $p2b $p4
for p in $p1 $p3 $p2b $p4; do wait $p || bad "a process exited $? on SIGTERM"; done
pids=""
grep -h "state per partition\|out-eos" "$work"/p*.err
# what the processes read back after a restore and skipped (how many
# depends on when the kill came: printed)
grep -h "out-eos: [0-9]* outputs of input partition\|out-eos: [0-9]* replayed" "$work"/p*.err
finish scale_out_eos
