#!/usr/bin/env bash
# security_http.sh - a client of `sluice serve` is not trusted, over HTTP:
# a web page of another site (a foreign Origin) is refused 403 and nothing
# of its request runs; DNS rebinding (a foreign Host) is refused, also for
# a GET; --server-name grants a name, --allow-origin a site (CORS headers,
# preflight); POST bodies other than application/sql and application/json
# (text/plain, forms, none) are refused 415; bad values of the flags are
# refused.  Slow and idle clients: while a client holds 300 idle
# connections another client's request is answered within a second (the
# oldest idle connections are closed to make room); a client trickling a
# request a byte a second, or sending nothing, is closed after
# --request-timeout 2; a streaming POST /query is neither timed out nor
# evicted while connections churn.  Each against a real `sluice serve` on
# a free loopback port.
set -u
here=$(cd "$(dirname "$0")" && pwd)
sluice=${SLUICE:-$here/../sluice}
work=$(mktemp -d)
spid=""
gpid=""
trap '[ -n "$spid" ] && kill $spid 2>/dev/null; [ -n "$gpid" ] && kill $gpid 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
. "$here/lib.sh"
cd "$work" || exit 1
py=/usr/bin/python3

# start_server ARGS...: sluice serve on a new free port; sets port, url, spid.
start_server() { serve_start "$@"; }
stop_server() { serve_stop; }
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
SQL='Content-Type: application/sql'
# exists NAME: 200 when the server's catalog has NAME (GET /describe), else 404.
exists() { code "$url/describe/$1"; }

start_server --server-name sluice.test --allow-origin https://console.example ||
  { bad "server started"; cat serve.err; finish security_http; }

# A web page of another site: refused, and its statements never ran.
r=$(curl -s -w ' %{http_code}' -H "$SQL" -H 'Origin: http://evil.example' \
  --data-binary 'CREATE TABLE evil (a INTEGER);' "$url/statements")
contains "foreign Origin POST 403" '} 403' "$r"
contains "foreign Origin says why" 'Origin' "$r"
[ "$(code -H 'Origin: http://evil.example' -H 'Content-Type: text/plain' \
  --data-binary 'CREATE TABLE evil2 (a INTEGER);' "$url/statements")" = 403 ] && ok || bad "text/plain from a foreign Origin 403"
[ "$(code -H 'Origin: null' -H "$SQL" --data-binary 'CREATE TABLE evil3 (a INTEGER);' "$url/query")" = 403 ] &&
  ok || bad "Origin null 403"
check "the refused statements did not run" 404,404,404 "$(exists evil),$(exists evil2),$(exists evil3)"
[ "$(code -H 'Origin: http://evil.example' "$url/queries")" = 403 ] && ok || bad "foreign Origin GET 403"
[ "$(code -H 'Origin: http://127.0.0.1:'"$port"'.evil.example' "$url/queries")" = 403 ] && ok || bad "look-alike Origin 403"
# the same statement without a foreign Origin runs (so the checks above could fail)
[ "$(code -H "$SQL" --data-binary 'CREATE TABLE evil (a INTEGER);' "$url/statements")" = 200 ] && ok || bad "own POST 200"
[ "$(exists evil)" = 200 ] && ok || bad "own POST ran"

# The server's own pages (Origin of an allowed host) get no CORS headers.
for o in "http://127.0.0.1:$port" "http://localhost:$port" "http://sluice.test" "https://sluice.test:8443"; do
  h=$(curl -s -D - -o /dev/null -H "Origin: $o" "$url/queries" | tr -d '\r')
  contains "own Origin $o 200" 'HTTP/1.1 200' "$h"
  case "$h" in *Access-Control*) bad "own Origin $o has CORS headers: $h" ;; *) ok ;; esac
done

# DNS rebinding: a Host that is not the server's, for a GET and a POST.
[ "$(code -H "Host: evil.example:$port" "$url/queries")" = 403 ] && ok || bad "foreign Host GET 403"
[ "$(code -H "Host: evil.example:$port" "$url/metrics")" = 403 ] && ok || bad "foreign Host /metrics 403"
r=$(curl -s -w ' %{http_code}' -H "Host: evil.example:$port" -H "$SQL" --data-binary 'CREATE TABLE rebound (a INTEGER);' "$url/statements")
contains "foreign Host POST 403" '} 403' "$r"
contains "foreign Host says why" 'Host' "$r"
[ "$(exists rebound)" = 404 ] && ok || bad "the rebound POST did not run"
[ "$(code -H "Host: localhost:1" "$url/queries")" = 403 ] && ok || bad "another port 403"
[ "$(code -H "Host: localhost" "$url/queries")" = 403 ] && ok || bad "no port (80) 403"
for h in "127.0.0.1:$port" "localhost:$port" "LOCALHOST:$port" "[::1]:$port" sluice.test "sluice.test:8443"; do
  [ "$(code -H "Host: $h" "$url/queries")" = 200 ] && ok || bad "Host $h 200"
done
[ "$(code -H "Host: other.test" "$url/queries")" = 403 ] && ok || bad "a name not given 403"
[ "$(code --http1.0 -H 'Host:' "$url/queries")" = 200 ] && ok || bad "HTTP/1.0 without Host 200"

# --allow-origin: CORS headers on its answers, its preflight answered.
h=$(curl -s -D - -o body.out -H 'Origin: https://console.example' "$url/queries" | tr -d '\r')
contains "allowed origin 200" 'HTTP/1.1 200' "$h"
contains "allowed origin ACAO" 'Access-Control-Allow-Origin: https://console.example' "$h"
contains "allowed origin Vary" 'Vary: Origin' "$h"
h=$(curl -s -D - -o /dev/null -X OPTIONS -H 'Origin: https://console.example' \
  -H 'Access-Control-Request-Method: POST' -H 'Access-Control-Request-Headers: content-type' "$url/statements" | tr -d '\r')
contains "preflight 204" 'HTTP/1.1 204' "$h"
contains "preflight ACAO" 'Access-Control-Allow-Origin: https://console.example' "$h"
contains "preflight methods" 'Access-Control-Allow-Methods: GET, POST, DELETE' "$h"
contains "preflight headers" 'Access-Control-Allow-Headers: Authorization, Content-Type' "$h"
h=$(curl -s -D - -H 'Origin: https://console.example' -H "$SQL" --data-binary 'CREATE TABLE fromconsole (a INTEGER);' "$url/statements" | tr -d '\r')
contains "allowed origin POST" '{"status":"ok"}' "$h"
contains "allowed origin POST ACAO" 'Access-Control-Allow-Origin: https://console.example' "$h"
[ "$(exists fromconsole)" = 200 ] && ok || bad "allowed origin's POST ran"
for o in http://console.example https://console.example.evil.example https://console.example:444; do
  [ "$(code -X OPTIONS -H "Origin: $o" "$url/statements")" = 403 ] && ok || bad "preflight of $o 403"
  [ "$(code -H "Origin: $o" "$url/queries")" = 403 ] && ok || bad "GET from $o 403"
done

# POST bodies: application/sql or application/json only.
r=$(curl -s -w ' %{http_code}' -H 'Content-Type: text/plain' --data-binary 'CREATE TABLE plain (a INTEGER);' "$url/statements")
contains "text/plain 415" '} 415' "$r"
contains "415 names application/sql" 'application/sql' "$r"
contains "415 names application/json" 'application/json' "$r"
[ "$(code --data-binary 'CREATE TABLE form (a INTEGER);' "$url/statements")" = 415 ] && ok || bad "urlencoded form 415"
[ "$(code -F 'sql=CREATE TABLE multi (a INTEGER);' "$url/query")" = 415 ] && ok || bad "multipart form 415"
[ "$(code -H 'Content-Type:' --data-binary 'CREATE TABLE none (a INTEGER);' "$url/statements")" = 415 ] && ok || bad "no Content-Type 415"
[ "$(code -H 'Content-Type: application/sqlx' --data-binary 'CREATE TABLE sqlx (a INTEGER);' "$url/query")" = 415 ] && ok || bad "application/sqlx 415"
check "the refused bodies did not run" 404,404,404,404,404 \
  "$(exists plain),$(exists form),$(exists multi),$(exists none),$(exists sqlx)"
[ "$(code -H 'Content-Type: application/sql; charset=utf-8' --data-binary 'CREATE TABLE s1 (a INTEGER);' "$url/statements")" = 200 ] &&
  ok || bad "application/sql; charset=utf-8 200"
[ "$(code -H 'Content-Type: Application/JSON' --data-binary '{"sql": "CREATE TABLE j1 (a INTEGER);"}' "$url/statements")" = 200 ] &&
  ok || bad "application/json 200"
r=$(curl -s -N -H "$SQL" --data-binary 'SHOW QUERIES;' "$url/query")
contains "application/sql on /query" '{"status":"ok"}' "$r"
[ "$(exists s1),$(exists j1)" = 200,200 ] && ok || bad "the accepted bodies ran"
[ "$(code -X PUT -H 'Content-Type: text/plain' --data-binary x "$url/statements")" = 405 ] && ok || bad "PUT still 405"

# A client holding 300 idle connections does not hold up another's request.
cat > idle.py <<'PY'
import select, socket, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
socks = []
for _ in range(n):
    try:
        socks.append(socket.create_connection(("127.0.0.1", port), timeout=5))
    except OSError:
        pass
print("held %d" % len(socks), flush=True)
time.sleep(float(sys.argv[3]))
closed = 0
for s in socks:  # closed by the server: readable, and the read is the end
    r, _, _ = select.select([s], [], [], 0)
    try:
        closed += bool(r) and s.recv(1) == b""
    except OSError:
        closed += 1
print("closed %d" % closed, flush=True)
PY
$py idle.py "$port" 300 3 > idle.out &
ipid=$!
for _ in $(seq 200); do grep -q held idle.out && break; sleep 0.05; done
t=$(curl -s -o /dev/null -m 10 -w '%{http_code} %{time_total}' "$url/queries")
wait $ipid
echo "request during 300 idle connections: $t s ($(tr '\n' ' ' < idle.out))"
grep -q 'held 300' idle.out && ok || bad "300 idle connections held: $(cat idle.out)"
[ "${t% *}" = 200 ] && ok || bad "request during the idle connections: $t"
awk -v t="${t#* }" 'BEGIN { exit !(t < 1.0) }' && ok || bad "answered within 1 s during 300 idle connections: ${t#* } s"
closed=$(sed -n 's/^closed //p' idle.out)
[ "${closed:-0}" -ge 44 ] && ok || bad "the oldest idle connections were closed to make room: ${closed:-none}"
stop_server && ok || bad "clean stop"

# Bad values of the new flags.
p=$(free_port)
"$sluice" serve --listen "127.0.0.1:$p" --allow-origin 'https://console.example/app' 2> err.out
[ $? = 2 ] && grep -q 'allow-origin' err.out && ok || bad "--allow-origin with a path: $(cat err.out)"
"$sluice" serve --listen "127.0.0.1:$p" --server-name 'bad name' 2> err.out
[ $? = 2 ] && grep -q 'server-name' err.out && ok || bad "bad --server-name: $(cat err.out)"
"$sluice" serve --listen "127.0.0.1:$p" --request-timeout 0 2> err.out
[ $? = 2 ] && ok || bad "--request-timeout 0: $(cat err.out)"

# --request-timeout 2: a slow client and a silent one are closed; a
# streaming POST /query is not, while 300 connections come and go.
gport=$(free_port) # the socket generator's (below), granted to the server's clients
start_server --request-timeout 2 --allow-broker "127.0.0.1:$gport" || bad "server with --request-timeout"
cat > slow.py <<'PY'
import socket, sys, time
port, mode = int(sys.argv[1]), sys.argv[2]
s = socket.create_connection(("127.0.0.1", port))
s.settimeout(1.0)
start = time.monotonic()
req = b"GET /queries HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nX-Slow: " % port + b"a" * 100
i = 0
while time.monotonic() - start < 10:  # the server's own idle timeout is 30 s
    try:
        if mode == "slow" and i < len(req):
            s.send(req[i:i + 1]); i += 1
        if s.recv(1) == b"":
            print("closed after %.1f s" % (time.monotonic() - start)); sys.exit(0)
    except socket.timeout:
        pass
    except OSError:
        print("closed after %.1f s" % (time.monotonic() - start)); sys.exit(0)
print("still open after 10 s")
PY
# the stream: a socket source sending a line every 20 ms, read by a transient SELECT
cat > gen.py <<'PY'
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1); print("listening", flush=True)
c, _ = s.accept()
try:
    for i in range(100000):
        c.sendall(b"%d\n" % i); time.sleep(0.02)
except OSError:
    pass
PY
timeout 60 $py gen.py "$gport" > gen.out &
gpid=$!
for _ in $(seq 100); do grep -q listening gen.out && break; sleep 0.05; done
curl -s -N -H "$SQL" --data-binary "SELECT n FROM socket('127.0.0.1:$gport', format => 'csv', columns => 'n INTEGER');" \
  "$url/query" > stream.out &
cpid=$!
for _ in $(seq 100); do grep -q '"row"' stream.out 2> /dev/null && break; sleep 0.05; done
# the slow and the silent client (closed by the timeout: nothing else is idle
# for longer, so no eviction takes them first)
$py slow.py "$port" slow > slow.out &
spy=$!
$py slow.py "$port" silent > silent.out &
spy2=$!
wait $spy $spy2
grep -q 'closed after' slow.out && ok || bad "the slow client was closed: $(cat slow.out)"
grep -q 'closed after' silent.out && ok || bad "the silent client was closed: $(cat silent.out)"
echo "slow client: $(cat slow.out); silent client: $(cat silent.out)"
# connections churn (each round past the cap: the oldest idle ones evicted)
for round in 1 2; do $py idle.py "$port" 300 0.5 > churn$round.out; done
grep -q 'held 300' churn1.out && grep -q 'held 300' churn2.out && ok || bad "the churn: $(cat churn1.out churn2.out)"
before=$(grep -c '"row"' stream.out)
sleep 1
after=$(grep -c '"row"' stream.out)
kill -0 $cpid 2> /dev/null && ok || bad "the stream was cut: $(tail -n 2 stream.out)"
kill $cpid 2> /dev/null
wait $cpid
[ "$after" -gt "$before" ] && [ "$before" -gt 0 ] && ok || bad "the stream went on after the timeout and the churn: $before, then $after rows"
! grep -q '"error"' stream.out && ok || bad "the stream ended in an error: $(grep '"error"' stream.out)"
[ "$(code "$url/queries")" = 200 ] && ok || bad "served after all that"
stop_server && ok || bad "clean stop (timeout)"
kill $gpid 2> /dev/null
gpid=""
# On every address (a token is then required), any IP address with the
# server's port is its own; a name is not, unless given.
p=$(free_port)
"$sluice" serve --listen "0.0.0.0:$p" --token tk 2> wild.err &
wpid=$!
for _ in $(seq 200); do grep -q listening wild.err 2>/dev/null && break; sleep 0.05; done
auth='Authorization: Bearer tk'
check "wildcard: 127.0.0.1" 200 "$(code -H "$auth" -H "Host: 127.0.0.1:$p" "http://127.0.0.1:$p/queries")"
check "wildcard: another address" 200 "$(code -H "$auth" -H "Host: 192.0.2.7:$p" "http://127.0.0.1:$p/queries")"
check "wildcard: [::1]" 200 "$(code -H "$auth" -H "Host: [::1]:$p" "http://127.0.0.1:$p/queries")"
check "wildcard: a name" 403 "$(code -H "$auth" -H "Host: evil.example:$p" "http://127.0.0.1:$p/queries")"
check "wildcard: another port" 403 "$(code -H "$auth" -H "Host: 192.0.2.7:1" "http://127.0.0.1:$p/queries")"
kill $wpid
wait $wpid
finish security_http
