#!/usr/bin/env bash
# cli.sh - the command line and the shell: usage, exit codes, output modes,
# -e, run FILE, scripts on stdin, error positions, --stats, and the
# interactive shell driven through a pseudo-terminal (script(1)).
set -u
here=$(cd "$(dirname "$0")" && pwd)
sluice=${SLUICE:-$here/../sluice}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pass=0 fail=0

# check NAME EXPECTED ACTUAL
check() {
  if [ "$2" = "$3" ]; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1))
    printf 'FAIL: %s\n--- expected\n%s\n--- actual\n%s\n' "$1" "$2" "$3"
  fi
}
# contains NAME NEEDLE HAYSTACK
contains() {
  case "$3" in
  *"$2"*) pass=$((pass + 1)) ;;
  *) fail=$((fail + 1)); printf 'FAIL: %s: %s not in:\n%s\n' "$1" "$2" "$3" ;;
  esac
}

out=$("$sluice" --help); check "help exit" 0 $?
contains "help text" "sluice run FILE.sql" "$out"
# The version is configure.ac's (make check exports it; tests/install.sh checks the others agree).
out=$("$sluice" --version); check "version" "sluice ${PACKAGE_VERSION:-unknown: run through make check}" "$out"
"$sluice" --bogus >/dev/null 2>&1; check "bad option exit" 2 $?
"$sluice" run >/dev/null 2>&1; check "run without file" 2 $?

out=$("$sluice" --format json -e "SELECT 1 + 1 AS two, 'x' AS s, 2.5 AS r, NULL AS n")
check "-e json" '{"two":2,"s":"x","r":2.5,"n":null}' "$out"
out=$("$sluice" --format csv -e "SELECT 1 AS a, 'x,y' AS b, NULL AS c")
check "-e csv" $'a,b,c\n1,"x,y",' "$out"
out=$("$sluice" --format table -e "SELECT 1 AS a, 'hello' AS b")
check "-e table" $'a | b    \n--+------\n1 | hello' "$out"

out=$(echo "SELECT 40 + 2 AS answer;" | "$sluice" --format json)
check "script on stdin" '{"answer":42}' "$out"

printf 'SELECT 6 * 7 AS v;\n' > "$work/ok.sql"
out=$("$sluice" run --format csv "$work/ok.sql"); check "run with options after run" $'v\n42' "$out"
out=$("$sluice" --format csv run "$work/ok.sql" --stats 2>&1); check "run with --stats" $'v\n42\nq1: 1 in, 1 out, 0 rejected' "$out"

printf 'SELECT 1;\nSELECT 2 +\n  FROM x;\n' > "$work/bad.sql"
err=$("$sluice" run "$work/bad.sql" 2>&1 >/dev/null); code=$?
check "syntax error exit" 1 $code
contains "syntax error position" "bad.sql:3:3: error: near \"FROM\": syntax error" "$err"
# A file with an error runs nothing of itself: the query planned before the
# error never starts, and its output file is left as it was.
printf 'old\n' > "$work/half.json"
printf "SELECT 1 AS a INTO file('%s');\nSELECT 2 AS b,\n  nosuch(1) AS c INTO file('%s');\n" "$work/half.json" "$work/half.json" > "$work/half.sql"
err=$("$sluice" run "$work/half.sql" 2>&1); check "a file with an error: exit" 1 $?
contains "a file with an error: position" "half.sql:3:3: error: no such function: nosuch" "$err"
check "a file with an error: output untouched" "old" "$(cat "$work/half.json")"
printf "SELECT 1 AS a INTO file('%s');\nSELECT nosuch(1) AS c INTO file('%s');\n" "$work/new.json" "$work/new.json" > "$work/new.sql"
"$sluice" run "$work/new.sql" 2>/dev/null
check "a file with an error: no output created" "no" "$([ -e "$work/new.json" ] && echo yes || echo no)"
err=$("$sluice" -e "SELECT nosuch(1)" 2>&1); check "unknown function exit" 1 $?
contains "unknown function" "1:8: error: no such function: nosuch" "$err"
err=$("$sluice" -e "SELECT 1 FROM file('$work/missing.json')" 2>&1); check "missing file exit" 1 $?
contains "missing file" "missing.json" "$err"
err=$("$sluice" run "$work/nope.sql" 2>&1); check "missing script exit" 1 $?

out=$(printf 'one\ntwo, three\n' | "$sluice" --format csv -e "SELECT upper(value) AS v FROM stdin()")
check "stdin() source" $'v\nONE\n"TWO, THREE"' "$out"
out=$(printf '{"x": 2}\n{"x": 5}\n' | "$sluice" --format json -e "SELECT x * 10 AS y FROM stdin(format => 'json') INTO stdout")
check "stdin() to stdout()" $'{"y":20}\n{"y":50}' "$out"

printf '{"a": 1}\n{"a": \n{"a": 3}\n' > "$work/in.json"
out=$("$sluice" --format json --stats -e "SELECT a FROM file('$work/in.json')" 2>"$work/err")
check "bad record skipped" $'{"a":1}\n{"a":3}' "$out"
contains "rejection logged with position" "in.json:2" "$(cat "$work/err")"
contains "stats line" "3 in, 2 out, 1 rejected" "$(cat "$work/err")"

# The shell, on a pseudo-terminal: multi-line statements, dot-commands, errors.
if command -v script >/dev/null 2>&1; then
  printf 'SELECT 1 +\n  2 AS three;\n.mode json\nSELECT upper('"'"'abc'"'"') AS u;\nSELECT oops(;\n.help\n.quit\n' > "$work/shell.in"
  out=$(HOME=$work SHELL=/bin/sh script -qec "exec $sluice" /dev/null < "$work/shell.in" 2>&1 | tr -d '\r')
  contains "shell banner" "Enter .help for help" "$out"
  contains "shell multi-line" "    3" "$out"
  contains "shell json mode" '{"u":"ABC"}' "$out"
  contains "shell error goes on" 'error: near ";": syntax error' "$out"
  contains "shell help" ".read FILE" "$out"
  # Ctrl-C at the prompt drops the statement being typed; the shell goes on.
  out=$({ printf 'SELECT\n'; sleep 0.5; printf '\003'; sleep 0.5; printf 'SELECT 5 AS five;\n'; sleep 0.3; printf '.quit\n'; } |
    HOME=$work SHELL=/bin/sh timeout 20 script -qec "exec $sluice --format csv" /dev/null 2>&1 | tr -d '\r')
  contains "Ctrl-C at the prompt" $'   ...> ^C\nsluice> SELECT 5 AS five;\nfive\n5\nsluice> .quit' "$out"
else
  echo "script(1) not available: shell test skipped"
fi

# Deep expression trees: a chain of 50,000 operators (left-deep: the
# parser's stack does not grow) is an error naming the limit, not a stack
# overflow in the binder; 999 levels still run, against sqlite3's answer.
for op in "+" "||" " AND " " COLLATE nocase"; do
  if [ "$op" = " COLLATE nocase" ]; then sql="SELECT 1$(printf "$op%.0s" $(seq 50000));"
  else sql="SELECT $(for i in $(seq 50000); do printf "1$op"; done)1;"; fi
  out=$(printf '%s\n' "$sql" | "$sluice" 2>&1); rc=$?
  check "deep chain '$op' exit" 1 $rc
  contains "deep chain '$op'" "expression tree is too deep (more than 1000 levels)" "$out"
done
sql="SELECT $(for i in $(seq 998); do printf "1+"; done)1 AS n;"
out=$(printf '%s\n' "$sql" | "$sluice" --format csv 2>&1)
contains "999 levels run" $'n\n999' "$out"

# INSERT ... VALUES with 40,000 rows (780 KB of SQL) parses in memory
# proportional to it (the row array was copied per row: 6 GB), and every
# row arrives.
out=$(/usr/bin/python3 - "$sluice" 2>&1 <<'PY'
import resource, subprocess, sys
n = 40000
sql = ("CREATE TABLE t (a INTEGER, b TEXT);\nINSERT INTO t VALUES "
       + ",".join("(%d, 'row%d')" % (i, i) for i in range(n))
       + ";\nSELECT a FROM t WHERE a % 10000 = 0;\n")
out = subprocess.run([sys.argv[1], "--format", "csv"], input=sql.encode(), capture_output=True)
kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
rows = out.stdout.decode().split()
if out.returncode or rows != ["a", "0", "10000", "20000", "30000"] or kb > 1024 * 1024:
    print("exit %d, rows %s, %d MB at most" % (out.returncode, rows, kb // 1024))
    sys.exit(1)
print("ok")
PY
)
check "INSERT of 40,000 rows" ok "$out"

# SIGTERM stops a query whose input is a quiet pipe (its writer still
# there): the reader waits on the pipe at most 200 ms at a time, so the stop
# is seen; it waited in read() until the writer went away.  What came before
# the signal is written.
rm -f "$work/quiet.fifo"; mkfifo "$work/quiet.fifo"
for src in "stdin()" "file('/dev/stdin', format => 'raw')"; do
  (printf 'a\nb\n'; exec sleep 60) > "$work/quiet.fifo" &
  wpid=$!
  "$sluice" -e "SELECT value AS v FROM $src INTO file('$work/quiet.out', format => 'raw')" < "$work/quiet.fifo" &
  qpid=$!
  for _ in $(seq 100); do [ "$(cat "$work/quiet.out" 2>/dev/null | wc -l)" = 2 ] && break; sleep 0.05; done
  kill -TERM $qpid
  stopped=no
  for _ in $(seq 200); do kill -0 $qpid 2>/dev/null || { stopped=yes; break; }; sleep 0.05; done
  check "SIGTERM stops a query on a quiet pipe ($src)" yes "$stopped"
  wait $qpid; check "its exit status ($src)" 0 $?
  check "what came before SIGTERM ($src)" $'a\nb' "$(cat "$work/quiet.out")"
  kill $wpid 2>/dev/null
  rm -f "$work/quiet.out"
done

# sigterm_stops NAME SECONDS SQL: sluice -e SQL gets SIGTERM after a second
# and must end within SECONDS, with exit status 1; its stderr in $work/term.err.
sigterm_stops() {
  "$sluice" -e "$3" > "$work/term.err" 2>&1 &
  local kpid=$! stopped=no
  sleep 1
  kill -TERM $kpid
  for _ in $(seq $(($2 * 20))); do kill -0 $kpid 2>/dev/null || { stopped=yes; break; }; sleep 0.05; done
  check "SIGTERM during $1" yes "$stopped"
  wait $kpid
  check "its exit status ($1)" 1 $?
}

# SIGTERM while a Kafka source waits for an unreachable broker's metadata
# (10 s) ends the wait: the metadata is asked half a second at a time.
sigterm_stops "a Kafka source's open" 3 \
  "SELECT value FROM kafka('t', brokers => '127.0.0.1:1') INTO file('$work/k.out', format => 'raw')"

# SIGTERM while a query that has ended writes its last records to a Kafka
# broker that does not answer (librdkafka would retry for 5 minutes): the
# sink gives up after 5 s, says so, and the exit status says it failed.
sigterm_stops "a Kafka sink's last flush" 10 "SELECT 1 AS x INTO kafka('t', brokers => '127.0.0.1:1')"
contains "the sink says what it dropped" "1 message(s) to t not acknowledged" "$(cat "$work/term.err")"

echo "cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
