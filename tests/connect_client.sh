#!/usr/bin/env bash
# connect_client.sh - `sluice --connect URL`, the client side of the remote
# shell, against a fake POST /query server (tests/fake_query_server.py): the
# NDJSON rows printed exactly as the local engine prints the same values in
# table, csv and json mode, whether chunked in odd pieces, sent with a
# Content-Length or up to the close; several results in one answer; started
# queries; errors (a 400 with its position, an error line, a wrong token, an
# unreachable server, an answer cut short or not NDJSON); scripts on stdin,
# -e and .read; other addresses: localhost, the IPv6 loopback, a path
# prefix, proxies from the environment (never for loopback) and https with
# --cacert; and Ctrl-C during an endless stream in the shell on a
# pseudo-terminal: the shell is back at its prompt and usable, and the server
# saw the connection close.
set -u
here=$(cd "$(dirname "$0")" && pwd)
sluice=${SLUICE:-$here/../sluice}
py=/usr/bin/python3
work=$(mktemp -d)
fpid=""
trap '[ -n "$fpid" ] && kill $fpid 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
. "$here/lib.sh"
cd "$work" || exit 1
[ -x "$py" ] || { echo "connect_client: $py missing"; exit 77; }

# same NAME EXPECTED ACTUAL / has NAME NEEDLE HAYSTACK: a check each.
same() {
  if [ "$2" = "$3" ]; then ok; else bad "$1"; printf -- '--- expected\n%s\n--- actual\n%s\n' "$2" "$3"; fi
}
has() {
  case "$3" in *"$2"*) ok ;; *) bad "$1: '$2' not in:"; printf '%s\n' "$3" ;; esac
}
# start_fake [TOKEN]: the fake server on a new free port; sets url and fpid.
start_fake() {
  port=$(free_port)
  url=http://127.0.0.1:$port
  : > requests.log
  rm -f fake.out # made by the background child: the last server's "listening" must not count
  "$py" "$here/fake_query_server.py" "$port" requests.log "$@" > fake.out 2>&1 &
  fpid=$!
  for _ in $(seq 100); do grep -q listening fake.out 2>/dev/null && return 0; sleep 0.05; done
  return 1
}
stop_fake() { kill "$fpid"; wait "$fpid" 2>/dev/null; fpid=""; }
# wait_log TEXT: until TEXT is a line of requests.log (5 s at most).
wait_log() {
  for _ in $(seq 100); do grep -qx "$1" requests.log && return 0; sleep 0.05; done
  return 1
}

start_fake && ok || { bad "fake server started"; cat fake.out; finish connect_client; }

# The values of the fake's "SELECT types;" are those of this query, run here
# by the local engine: each mode prints the same bytes (integers beyond a
# double's precision, shortest reals, escaped and UTF-8 text, NULL, a BLOB).
printf '{"i":42,"r":2.5,"t":"h\\u00e9llo \\u2713"}\n{"i":9007199254740993,"r":2.5e20,"t":"a \\"q\\", b"}\n{"i":-7,"r":0.1,"t":""}\n' > rows.jsonl
ref="SELECT i, r, t, NULL AS n, x'414243' AS b, r + 0.2 AS r2 FROM file('rows.jsonl', format => 'json')"
for mode in table csv json; do
  want=$("$sluice" --format $mode -e "$ref")
  got=$("$sluice" --connect "$url" --format $mode -e 'SELECT types;'); rc=$?
  same "exit status, $mode" 0 $rc
  same "rows as the local engine prints them, $mode (chunked)" "$want" "$got"
done
same "the request" '{"method": "POST", "path": "/query", "auth": "", "body": "SELECT types;"}' \
  "$(head -1 requests.log)"
has "the table" '9007199254740993 | 2.5e+20 | a "q", b   | NULL | ABC | 2.5e+20' \
  "$("$sluice" --connect "$url" --format table -e 'SELECT types;')"
want=$("$sluice" --format csv -e "$ref")
same "Content-Length body" "$want" "$("$sluice" --connect "$url" --format csv -e 'SELECT length;')"
same "body up to the close" "$want" "$("$sluice" --connect "$url/" --format csv -e 'SELECT close;')"
same "two results" $'a\n1\nb,c\nx,2' "$("$sluice" --connect "$url" --format csv -e 'SELECT two;')"

# Persistent queries started: named on stderr, nothing on stdout.
out=$("$sluice" --connect "$url" -e "SELECT a FROM s INTO file('x');" 2> err); rc=$?
same "started: exit" 0 $rc
same "started: stdout" "" "$out"
same "started: note" "started q3, q4" "$(cat err)"

# Errors, printed as the local shell prints them.
out=$("$sluice" --connect "$url" --format csv -e 'SELECT fail;' 2> err); rc=$?
same "error line: exit" 1 $rc
same "error line: rows before it" $'a\n1' "$out"
same "error line: message" "1:8: error: division by zero" "$(cat err)"
"$sluice" --connect "$url" -e 'SELECT nosuch(;' 2> err; rc=$?
same "400: exit" 1 $rc
same "400: as locally" "$("$sluice" -e 'SELECT nosuch(;' 2>&1)" "$(cat err)"
"$sluice" --connect "$url" --format csv -e 'SELECT cut;' > out 2> err; rc=$?
same "cut short: exit" 1 $rc
has "cut short: message" "broke off" "$(cat err)"
"$sluice" --connect "$url" -e 'SELECT garbage;' 2> err; rc=$?
same "malformed answer: exit" 1 $rc
same "malformed answer: message" "error: malformed answer from the server (not a JSON object): not json" \
  "$(cat err)"
"$sluice" --connect http://127.0.0.1:1 -e 'SELECT 1;' 2> err; rc=$?
same "unreachable: exit" 1 $rc
has "unreachable: message" "error: cannot reach http://127.0.0.1:1" "$(cat err)"
"$sluice" --connect localhost:80 -e 'SELECT 1;' 2> err; rc=$?
same "bad URL: exit" 1 $rc
has "bad URL: message" "bad server URL" "$(cat err)"
"$sluice" --connect ftp://127.0.0.1:21 -e 'SELECT 1;' 2> err; rc=$?
same "not http: exit" 1 $rc
has "not http: message" "bad server URL" "$(cat err)"
"$sluice" --connect "$url" --state-dir st -e 'SELECT 1;' 2> err; rc=$?
same "engine option refused: exit" 2 $rc
has "engine option refused: message" "--state-dir is for a local engine" "$(cat err)"

# A script on stdin (not a terminal) goes whole, as `sluice < file` runs it;
# error positions are the script's.
out=$(printf 'SELECT 1;\nSELECT 2;\n' | "$sluice" --connect "$url" --format json); rc=$?
same "stdin: exit" 0 $rc
same "stdin: sent whole" '{"sql":"SELECT 1;\nSELECT 2;\n"}' "$out"
printf 'SELECT 1;\nSELECT\n  nosuch(;\n' | "$sluice" --connect "$url" 2> err; rc=$?
same "stdin error: exit" 1 $rc
same "stdin error: position" 'stdin:3:10: error: near ";": syntax error' "$(cat err)"
printf 'SELECT types;\n' > types.sql
same "run FILE" "$("$sluice" --format csv -e "$ref")" \
  "$("$sluice" --connect "$url" --format csv run types.sql)"

# A token: --token, or SLUICE_TOKEN, as the other clients take it.
stop_fake
start_fake s3cret && ok || bad "fake server with a token"
same "--token" $'a\n1\nb,c\nx,2' "$("$sluice" --connect "$url" --token s3cret --format csv -e 'SELECT two;')"
has "--token sent" '"auth": "Bearer s3cret"' "$(cat requests.log)"
same "SLUICE_TOKEN" $'a\n1\nb,c\nx,2' \
  "$(SLUICE_TOKEN=s3cret "$sluice" --connect "$url" --format csv -e 'SELECT two;')"
"$sluice" --connect "$url" --token wrong -e 'SELECT two;' 2> err; rc=$?
same "wrong token: exit" 1 $rc
same "wrong token: message" "error: wrong token" "$(cat err)"
stop_fake

# Other ways to the server: localhost; a path prefix (a server behind a
# reverse proxy); the proxy of the environment, never used for loopback but
# used for other hosts (the fake, as the proxy, sees the absolute URL), and
# NO_PROXY as the environment says.
start_fake && ok || bad "fake server (addresses)"
two=$'a\n1\nb,c\nx,2'
same "localhost" "$two" "$("$sluice" --connect "http://localhost:$port" --format csv -e 'SELECT two;')"
"$sluice" --connect "$url/base/" -e 'SELECT two;' 2> err; rc=$?
same "a path prefix: exit (the fake knows /query only)" 1 $rc
has "a path prefix: the path" '"path": "/base/query"' "$(tail -n 1 requests.log)"
same "loopback is never proxied" "$two" \
  "$(http_proxy=http://127.0.0.1:1 HTTPS_PROXY=http://127.0.0.1:1 ALL_PROXY=http://127.0.0.1:1 \
    "$sluice" --connect "$url" --format csv -e 'SELECT two;')"
same "loopback is never proxied, whatever NO_PROXY says" "$two" \
  "$(http_proxy=http://127.0.0.1:1 NO_PROXY=example.com "$sluice" --connect "$url" --format csv -e 'SELECT two;')"
http_proxy=$url "$sluice" --connect http://sluice.invalid:9 -e 'SELECT two;' 2> err; rc=$?
same "through a proxy: exit (a 404 from the fake)" 1 $rc
has "through a proxy: the absolute URL" '"path": "http://sluice.invalid:9/query"' "$(tail -n 1 requests.log)"
http_proxy=$url NO_PROXY=sluice.invalid "$sluice" --connect http://sluice.invalid:9 -e 'SELECT two;' 2> err; rc=$?
same "NO_PROXY: exit" 1 $rc
has "NO_PROXY: not through the proxy" "cannot reach http://sluice.invalid:9" "$(cat err)"
stop_fake

# The IPv6 loopback, when the kernel has one.
if "$py" -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2> /dev/null; then
  FAKE_HOST=::1 start_fake && ok || bad "fake server on ::1"
  same "IPv6" "$two" "$("$sluice" --connect "http://[::1]:$port" --format csv -e 'SELECT two;')"
  "$sluice" --connect "http://[::1]:$port" -e 'SELECT 1;' --token t6 > /dev/null
  has "IPv6: the token" '"auth": "Bearer t6"' "$(tail -n 1 requests.log)"
  stop_fake
else
  echo "connect_client: no IPv6 loopback in this kernel: the IPv6 checks are skipped"
fi

# https, with a certificate made here and trusted with --cacert.
if command -v openssl > /dev/null 2>&1; then
  openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 2 \
    -subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" > /dev/null 2>&1
  FAKE_CERT=cert.pem FAKE_KEY=key.pem start_fake && ok || bad "fake server with TLS"
  same "https" "$two" \
    "$("$sluice" --connect "https://localhost:$port" --cacert cert.pem --format csv -e 'SELECT two;')"
  same "https, a script" "$(printf 'a\n1\nb,c\nx,2')" \
    "$(printf 'SELECT two;\n' | "$sluice" --connect "https://127.0.0.1:$port" --cacert cert.pem --format csv)"
  "$sluice" --connect "https://localhost:$port" -e 'SELECT two;' 2> err; rc=$?
  same "https, not trusted: exit" 1 $rc
  has "https, not trusted: message" "certificate" "$(cat err)"
  "$sluice" --connect "http://localhost:$port" -e 'SELECT two;' 2> err; rc=$?
  same "http to a TLS server: exit" 1 $rc
  stop_fake
else
  echo "connect_client: openssl missing: the https checks are skipped"
fi

# The shell on a pseudo-terminal (script(1)): a multi-line statement, .mode,
# .read, then an endless stream stopped by a real Ctrl-C (the byte 0x03 typed
# into the terminal, which sends SIGINT); the shell then runs one more
# statement and quits.
if command -v script > /dev/null 2>&1; then
  start_fake && ok || bad "fake server (shell)"
  printf 'SELECT 1;\nSELECT\n  nosuch(;\n' > bad.sql
  {
    printf 'SELECT\n  types;\n.mode csv\nSELECT two;\n.read bad.sql\n.stats on\nSELECT slow;\n'
    wait_log "streaming q7" && sleep 0.3
    printf '\003'
    wait_log "closed q7"
    sleep 0.3
    printf 'SELECT two;\n'
    # .quit only once the answer is printed: typed earlier, the terminal
    # would echo it in the middle of the rows
    for _ in $(seq 100); do [ "$(grep -c '"body": "SELECT two;"' requests.log)" -ge 2 ] && break; sleep 0.05; done
    sleep 0.5
    printf '.quit\n'
  } | HOME=$work SHELL=/bin/sh timeout 30 script -qec "exec '$sluice' --connect $url --format table" /dev/null > shell.raw 2>&1
  rc=$?
  tr -d '\r' < shell.raw > shell.out
  out=$(cat shell.out)
  same "shell: exit" 0 $rc
  has "shell: banner" "streaming SQL on $url.  Enter .help for help." "$out"
  has "shell: table" "$("$sluice" --format table -e "$ref")" "$out"
  has "shell: .mode csv" $'a\n1\nb,c\nx,2' "$out"
  has "shell: .read's error" 'bad.sql:3:10: error: near ";": syntax error' "$out"
  has "shell: .stats" "error: .stats is for the local engine" "$out"
  has "shell: rows streamed" $'\n3\n' "$out"
  has "shell: stopped" "(stopped q7)" "$out"
  grep -qx "closed q7" requests.log && ok || bad "shell: the server saw the connection close"
  has "shell: usable after Ctrl-C" $'(stopped q7)\nsluice> SELECT two;\na\n1\nb,c\nx,2\nsluice> .quit' "$out"
  /usr/bin/python3 - requests.log > bodies <<'PY'
import json, sys
for line in open(sys.argv[1]):
    if line.startswith("{"):
        print(repr(json.loads(line)["body"]))
PY
  same "shell: the bodies sent" "$(printf '%s\n' "'SELECT\\n  types;'" "'SELECT two;'" \
    "'SELECT 1;\\nSELECT\\n  nosuch(;\\n'" "'SELECT slow;'" "'SELECT two;'")" "$(cat bodies)"
  [ -s .sluice_history ] && ok || bad "shell: history written"
  stop_fake
else
  echo "script(1) not available: shell test skipped"
fi

finish connect_client
