#!/usr/bin/env bash
# emit_batches.sh - windowed GROUP BY gives the same results at every batch
# size, with several keys and several windows closing inside one batch.
#
# Input: 12 events of 3 keys; one event can close several windows at once
# (ts 61000 closes [10000, 20000) and [20000, 30000) of every key).  For
# every batch size from 1 to 13 (13 holds everything in one batch) and 1024:
#   - EMIT ON CLOSE (TUMBLE, HOP, SESSION, and TUMBLE under a WATERMARK
#     with lateness): the rows, sorted, are the expected ones;
#   - EMIT CHANGES (TUMBLE, HOP, and the unwindowed GROUP BY): every row is
#     a state the group really went through (a row of the batch size 1
#     changelog, which is checked whole), and the last row of each group is
#     its final result (the ON CLOSE rows).
# A group freed when its window closed while it was still on the batch's
# list of changed groups used to be read after free here.
set -u
export LC_ALL=C
here=$(cd "$(dirname "$0")" && pwd)
sluice=${SLUICE:-$here/../sluice}
. "$here/lib.sh"
in_workdir

cat > ev.jsonl <<'EOF'
{"k":"a","v":1,"ts":1000}
{"k":"b","v":2,"ts":2000}
{"k":"a","v":3,"ts":3000}
{"k":"c","v":4,"ts":11000}
{"k":"a","v":5,"ts":12000}
{"k":"b","v":6,"ts":13000}
{"k":"c","v":7,"ts":14000}
{"k":"b","v":8,"ts":25000}
{"k":"a","v":9,"ts":26000}
{"k":"a","v":10,"ts":61000}
{"k":"c","v":11,"ts":62000}
{"k":"b","v":12,"ts":95000}
EOF
# the same events out of order by up to 2 s, for a 2 s lateness
cat > late.jsonl <<'EOF'
{"k":"a","v":1,"ts":1000}
{"k":"a","v":3,"ts":3000}
{"k":"b","v":2,"ts":2000}
{"k":"c","v":4,"ts":11000}
{"k":"a","v":5,"ts":12000}
{"k":"c","v":7,"ts":14000}
{"k":"b","v":6,"ts":13000}
{"k":"a","v":9,"ts":26000}
{"k":"b","v":8,"ts":25000}
{"k":"c","v":11,"ts":62000}
{"k":"a","v":10,"ts":61000}
{"k":"b","v":12,"ts":95000}
EOF

cols="k, window_start, window_end, count(*) AS n, sum(v) AS s"
tumble="GROUP BY k, TUMBLE(ts, INTERVAL '10' SECOND)"
hop="GROUP BY k, HOP(ts, INTERVAL '5' SECOND, INTERVAL '10' SECOND)"
session="GROUP BY k, SESSION(ts, INTERVAL '3' SECOND)"
stream="CREATE STREAM late (k TEXT, v INTEGER, ts INTEGER) FROM file('late.jsonl')
  WATERMARK ts - INTERVAL '2' SECOND;"

# run BATCH SQL: the rows as "k ws we n s" lines, in output order
run() {
  "$sluice" -e "SET batch_size = $1; $2" 2> err.txt |
    sed -E 's/[{}"]//g; s/[a-z_]+://g; s/,/ /g'
  [ -s err.txt ] && bad "batch $1: stderr: $(cat err.txt)"
}
# last_per_group: of "k ws we n s" lines, the last of each (k, ws), sorted
last_per_group() { awk '{ last[$1 " " $2] = $0 } END { for (g in last) print last[g] }' | sort; }

tumble_rows='a 0 10000 2 4
a 10000 20000 1 5
a 20000 30000 1 9
a 60000 70000 1 10
b 0 10000 1 2
b 10000 20000 1 6
b 20000 30000 1 8
b 90000 100000 1 12
c 10000 20000 2 11
c 60000 70000 1 11'
hop_rows='a -5000 5000 2 4
a 0 10000 2 4
a 10000 20000 1 5
a 20000 30000 1 9
a 25000 35000 1 9
a 5000 15000 1 5
a 55000 65000 1 10
a 60000 70000 1 10
b -5000 5000 1 2
b 0 10000 1 2
b 10000 20000 1 6
b 20000 30000 1 8
b 25000 35000 1 8
b 5000 15000 1 6
b 90000 100000 1 12
b 95000 105000 1 12
c 10000 20000 2 11
c 5000 15000 2 11
c 55000 65000 1 11
c 60000 70000 1 11'
session_rows='a 1000 6000 2 4
a 12000 15000 1 5
a 26000 29000 1 9
a 61000 64000 1 10
b 13000 16000 1 6
b 2000 5000 1 2
b 25000 28000 1 8
b 95000 98000 1 12
c 11000 14000 1 4
c 14000 17000 1 7
c 62000 65000 1 11'
# the changelog with one record per batch: every state of every group
tumble_changes1='a 0 10000 1 1
b 0 10000 1 2
a 0 10000 2 4
c 10000 20000 1 4
a 10000 20000 1 5
b 10000 20000 1 6
c 10000 20000 2 11
b 20000 30000 1 8
a 20000 30000 1 9
a 60000 70000 1 10
c 60000 70000 1 11
b 90000 100000 1 12'
nowin_rows='a 5 28
b 4 28
c 3 22'

check "tumble changes, batch 1" "$tumble_changes1" \
  "$(run 1 "SELECT $cols FROM file('ev.jsonl') $tumble EMIT CHANGES")"
hop_changes1=$(run 1 "SELECT $cols FROM file('ev.jsonl') $hop EMIT CHANGES")
nowin_changes1=$(run 1 "SELECT k, count(*) AS n, sum(v) AS s FROM file('ev.jsonl') GROUP BY k EMIT CHANGES")
check "hop changes, batch 1, final" "$hop_rows" "$(printf '%s\n' "$hop_changes1" | last_per_group)"
check "unwindowed changes, batch 1" 12 "$(printf '%s\n' "$nowin_changes1" | wc -l | tr -d ' ')"

# changes_ok NAME CHANGES1 CHANGES: every line of CHANGES is one of CHANGES1
changes_ok() {
  local extra
  extra=$(printf '%s\n' "$3" | grep -vxF -f <(printf '%s\n' "$2"))
  [ -z "$extra" ] && ok || bad "$1: rows no batch-1 state has: $extra"
}

for b in $(seq 1 13) 1024; do
  check "tumble on close, batch $b" "$tumble_rows" \
    "$(run "$b" "SELECT $cols FROM file('ev.jsonl') $tumble" | sort)"
  check "hop on close, batch $b" "$hop_rows" \
    "$(run "$b" "SELECT $cols FROM file('ev.jsonl') $hop" | sort)"
  check "session on close, batch $b" "$session_rows" \
    "$(run "$b" "SELECT $cols FROM file('ev.jsonl') $session" | sort)"
  check "tumble with lateness on close, batch $b" "$tumble_rows" \
    "$(run "$b" "$stream SELECT $cols FROM late $tumble" | sort)"

  out=$(run "$b" "SELECT $cols FROM file('ev.jsonl') $tumble EMIT CHANGES")
  check "tumble changes, batch $b, final" "$tumble_rows" "$(printf '%s\n' "$out" | last_per_group)"
  changes_ok "tumble changes, batch $b" "$tumble_changes1" "$out"
  out=$(run "$b" "$stream SELECT $cols FROM late $tumble EMIT CHANGES")
  check "tumble with lateness changes, batch $b, final" "$tumble_rows" \
    "$(printf '%s\n' "$out" | last_per_group)"
  out=$(run "$b" "SELECT $cols FROM file('ev.jsonl') $hop EMIT CHANGES")
  check "hop changes, batch $b, final" "$hop_rows" "$(printf '%s\n' "$out" | last_per_group)"
  changes_ok "hop changes, batch $b" "$hop_changes1" "$out"
  out=$(run "$b" "SELECT k, count(*) AS n, sum(v) AS s FROM file('ev.jsonl') GROUP BY k EMIT CHANGES")
  check "unwindowed changes, batch $b, final" "$nowin_rows" \
    "$(printf '%s\n' "$out" | awk '{ last[$1] = $0 } END { for (k in last) print last[k] }' | sort)"
  changes_ok "unwindowed changes, batch $b" "$nowin_changes1" "$out"
  # a file ends: without EMIT CHANGES its final rows, once
  check "unwindowed final rows, batch $b" "$nowin_rows" \
    "$(run "$b" "SELECT k, count(*) AS n, sum(v) AS s FROM file('ev.jsonl') GROUP BY k" | sort)"
done

# SESSION windows only emit on close: EMIT CHANGES is a clear error
"$sluice" -e "SELECT $cols FROM file('ev.jsonl') $session EMIT CHANGES" > out.txt 2> err.txt
contains "session changes refused" "EMIT CHANGES is not supported" "$(cat err.txt)"

finish emit_batches
