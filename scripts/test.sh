#!/usr/bin/env bash
# scripts/test.sh - the whole test suite from a fresh clone: installs what the
# build needs, builds with AddressSanitizer + UndefinedBehaviorSanitizer, and
# runs `make check` and `make check-kafka09`.  Prints "N passed, M failed" at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
builddir=build-asan
[ -f configure ] || autoreconf -fi >/dev/null
mkdir -p "$builddir"
cd "$builddir"
if [ ! -f Makefile ]; then
  ../configure --enable-sanitizers --enable-debug CFLAGS="-O1" >/dev/null
fi
make -j2 >/dev/null
# Sanitizer reports also go to files, so that one from a process whose exit
# status a test does not look at (a broker or server stopped at the end) still
# fails the run.  The file is named after the program (log_exe_name).
reports=$PWD/sanitizer-reports
rm -rf "$reports"; mkdir -p "$reports"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:log_exe_name=1:log_path=$reports/asan
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:log_exe_name=1:log_path=$reports/ubsan
status=0
make -j2 check || status=$?
# S1 against a real Kafka 0.9.0.1 broker (skipped without java/npm)
k09=pass
make check-kafka09 > kafka09.out 2>&1 || { k09=fail; status=1; }
grep -qx "check-kafka09: skipped" kafka09.out && k09=skip
for log in tests/*.log; do
  case "$log" in */test-suite.log) continue ;; esac
  echo "== $log"
  # a failed suite's whole story (up to 80 lines), the others' last lines
  if grep -qE ':test-result: (FAIL|ERROR)' "${log%.log}.trs" 2>/dev/null; then tail -n 80 "$log"; else tail -n 3 "$log"; fi
done
# The runtime can create its file before it writes a report (the report
# decorator opens it to ask whether it may use colours): a process killed
# by a test at such a moment leaves an empty file: listed, but it holds no
# finding.  Every file with something in it fails the run.
for r in $(find "$reports" -type f -empty); do echo "== empty sanitizer log (no report in it): $r"; done
nrep=$(find "$reports" -type f ! -empty | wc -l)
if [ "$nrep" -gt 0 ]; then
  status=1
  for r in $(find "$reports" -type f ! -empty); do echo "== sanitizer report $r"; head -n 60 "$r"; done
fi
pass=$(grep -h '^# PASS:' test-suite.log | awk '{print $3}')
fail=$(grep -h '^# FAIL:' test-suite.log | awk '{print $3}')
errs=$(grep -h '^# ERROR:' test-suite.log | awk '{print $3}')
skip=$(grep -h '^# SKIP:' test-suite.log | awk '{print $3}')
echo "== check-kafka09 ($k09)"; tail -n 3 kafka09.out
case $k09 in pass) pass=$(( ${pass:-0} + 1 )) ;; fail) fail=$(( ${fail:-0} + 1 )) ;; skip) skip=$(( ${skip:-0} + 1 )) ;; esac
echo "${pass:-0} passed, $(( ${fail:-0} + ${errs:-0} )) failed, ${skip:-0} skipped, $nrep sanitizer reports"
exit $status
