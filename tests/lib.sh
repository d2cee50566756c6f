# tests/lib.sh - sourced by the shell tests: a tally of checks and small
# helpers.  ok / bad "what" count a check; check and contains compare;
# finish NAME prints the tally and exits 0 only when nothing failed;
# in_workdir makes and enters a scratch directory.
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
