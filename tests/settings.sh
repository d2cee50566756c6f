#!/usr/bin/env bash
# settings.sh - the registry of settings (src/settings.c): SET's errors (an
# unknown name lists the settings and names the closest one; a value of the
# wrong type says what the setting takes, at the value's position), the
# values each type accepts and how SHOW SETTINGS writes them, NULL back to
# the default, connector options and extension settings passed through (a
# connector checks its option when a query uses it), the command line's
# settings, a failed script's settings rolled back on a running server, and
# docs/sql.md's table of settings against SHOW SETTINGS.
set -u
here=$(cd "$(dirname "$0")" && pwd)
sluice=${SLUICE:-$here/../sluice}
top=$(cd "${top_srcdir:-$here/..}" && pwd)
work=$(mktemp -d)
spid=""
trap '[ -n "$spid" ] && kill $spid 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
. "$here/lib.sh"
cd "$work" || exit 1

# same NAME EXPECTED ACTUAL / has NAME NEEDLE HAYSTACK: a check each.
same() {
  if [ "$2" = "$3" ]; then ok; else bad "$1"; printf -- '--- expected\n%s\n--- actual\n%s\n' "$2" "$3"; fi
}
has() {
  case "$3" in *"$2"*) ok ;; *) bad "$1: '$2' not in:"; printf '%s\n' "$3" ;; esac
}
# err SQL: what sluice -e SQL prints on stderr (and exit status 1).
err() {
  local out rc
  out=$("$sluice" -e "$1" 2>&1 >/dev/null); rc=$?
  [ $rc = 1 ] || echo "(exit $rc)"
  printf '%s\n' "$out"
}
# setting NAME [SQL]: NAME's value in SHOW SETTINGS after SQL (csv).
setting() {
  "$sluice" --format csv -e "${2:-} SHOW SETTINGS" | awk -F, -v n="$1" '$1 == n { print $2 }'
}

# ---- errors ----------------------------------------------------------------
out=$(err "SET batchsize = 10")
has "unknown name" "1:1: error: unknown setting batchsize (did you mean batch_size?)" "$out"
has "unknown name lists the settings" "the settings are application_id, batch_size, checkpoint_interval," "$out"
has "unknown name: passthrough explained" "CONNECTOR.OPTION" "$out"
has "a misspelled dotted name" "unknown setting kafak.brokers (did you mean kafka.brokers?)" \
  "$(err "SET kafak.brokers = 'h:1'")"
has "a registered prefix is not passed through" "unknown setting processing.guarante (did you mean processing.guarantee?)" \
  "$(err "SET processing.guarante = 'exactly_once'")"
same "a duration" "1:23: error: idle_timeout_ms takes a duration: milliseconds, or text with a unit ('500ms', '2s', '1min', '1h'), not 'banana'" \
  "$(err "SET idle_timeout_ms = 'banana'")"
same "an enum" "1:28: error: processing.guarantee takes 'at_least_once' or 'exactly_once', not 'twice'" \
  "$(err "SET processing.guarantee = 'twice'")"
same "an integer out of range" "1:18: error: batch_size takes an integer from 1 to 1024, not 0" \
  "$(err "SET batch_size = 0")"
has "an integer, text" "batch_size takes an integer from 1 to 1024, not '12x'" "$(err "SET batch_size = '12x'")"
has "a boolean" "reset_state takes true or false (also on/off, yes/no, 1/0), not 'maybe'" \
  "$(err "SET reset_state = 'maybe'")"
has "a path" "state_dir takes a path (text), not 5" "$(err "SET state_dir = 5")"
has "a positive duration" "checkpoint_interval takes a duration above 0" "$(err "SET checkpoint_interval = 0")"
has "a negative duration" "commit_interval_ms takes a duration" "$(err "SET commit_interval_ms = -1")"
same "a size" "1:24: error: max_query_memory takes a size in bytes: a number, or text with a unit ('64kB', '256MB', '1GB'; a kB is 1024 bytes), not '12 parsecs'" \
  "$(err "SET max_query_memory = '12 parsecs'")"
has "a negative size" "max_query_memory takes a size in bytes" "$(err "SET max_query_memory = -1")"
printf 'SELECT 1 AS one;\nSET batch_size =\n    2000;\n' > pos.sql
same "position of the value" "pos.sql:3:5: error: batch_size takes an integer from 1 to 1024, not 2000" \
  "$("$sluice" run pos.sql 2>&1 >/dev/null)"
printf 'SELECT 1 AS one;\n  SET batchsize = 1;\n' > pos2.sql
has "position of an unknown name" "pos2.sql:2:3: error: unknown setting batchsize" \
  "$("$sluice" run pos2.sql 2>&1 >/dev/null)"

# ---- values ------------------------------------------------------------------
same "1.5s" 1500ms "$(setting checkpoint_interval "SET checkpoint_interval = '1.5s';")"
same "2 min" 2min "$(setting checkpoint_interval "SET checkpoint_interval = '2 min';")"
same "a number is milliseconds" 250ms "$(setting commit_interval_ms "SET commit_interval_ms = 250;")"
same "text milliseconds" 3s "$(setting idle_timeout_ms "SET idle_timeout_ms = '3000';")"
same "a size: 256MB" 256MB "$(setting max_query_memory "SET max_query_memory = '256MB';")"
same "a size: 64 MiB" 64MB "$(setting max_query_memory "SET max_query_memory = '64 MiB';")"
same "a size: 1.5g" 1536MB "$(setting max_query_memory "SET max_query_memory = '1.5g';")"
same "a size: bytes" 1000 "$(setting max_query_memory "SET max_query_memory = 1000;")"
same "a size: 4096 is 4kB" 4kB "$(setting max_query_memory "SET max_query_memory = '4096';")"
same "a size: 0, no limit" 0 "$(setting max_query_memory "SET max_query_memory = 0;")"
same "a size: the default" 1GB "$(setting max_query_memory "SET max_query_memory = NULL;")"
same "an integer as text" 12 "$(setting batch_size "SET batch_size = '12';")"
same "yes" true "$(setting reset_state "SET reset_state = 'yes';")"
same "0" false "$(setting reset_state "SET reset_state = 0;")"
same "an enum in any case, a bare word" exactly_once \
  "$(setting processing.guarantee "SET processing.guarantee = EXACTLY_ONCE;")"
same "NULL: the default again" 1024 "$(setting batch_size "SET batch_size = 5; SET batch_size = NULL;")"
same "'': none" "" "$(setting state_dir "SET state_dir = 'x'; SET state_dir = '';")"

# ---- SHOW SETTINGS ----------------------------------------------------------------
out=$("$sluice" --format csv -e "SHOW SETTINGS")
same "SHOW SETTINGS: header" "name,value,default,description" "$(echo "$out" | head -n 1)"
same "SHOW SETTINGS: every registered setting, unset" \
  "application_id batch_size checkpoint_interval commit_interval_ms idle_timeout_ms invalid_utf8 kafka.brokers load_path max_query_memory max_record_bytes min_split_bytes parallelism processing.guarantee repartition repartition_partitions reset_state state_dir state_ttl vm_trace" \
  "$(echo "$out" | tail -n +2 | cut -d, -f1 | tr '\n' ' ' | sed 's/ $//')"
has "SHOW SETTINGS: values and defaults" "checkpoint_interval,5s,5s,how often" "$out"
has "SHOW SETTINGS: no default" "state_dir,,,checkpoint queries" "$out"
out=$("$sluice" --format csv -e "SET kafka.security.protocol = 'plaintext'; SET airports.file = 'a.csv'; SET batch_size = 3; SHOW SETTINGS")
has "a connector option" "kafka.security.protocol,plaintext,,option security.protocol of every kafka() call that does not give it" "$out"
has "an extension setting" "airports.file,a.csv,,a setting of extensions (read when a library loads)" "$out"
has "a value set" "batch_size,3,1024," "$out"
same "passthrough after the registered ones, by name" "airports.file kafka.security.protocol" \
  "$(echo "$out" | tail -n 2 | cut -d, -f1 | tr '\n' ' ' | sed 's/ $//')"
# A connector checks the option a setting gives its calls when a query uses it.
echo '{"a": 1}' > in.json
same "a connector option in use" "1:35: error: unknown option 'bogus' for file()" \
  "$(err "SET file.bogus = 1; SELECT a FROM file('in.json')")"
same "a connector option, unused" "" "$(err "SET file.bogus = 1; SELECT 1 AS a" | grep error)"

# ---- the command line ---------------------------------------------------------------
out=$("$sluice" --format csv --state-dir st --reset-state --brokers h:1 --load-path "$work" -e "SHOW SETTINGS")
has "--state-dir" "state_dir,st," "$out"
has "--reset-state" "reset_state,true,false" "$out"
has "--brokers" "kafka.brokers,h:1," "$out"
has "--load-path" "load_path,$work," "$out"
has "--load-path fixes it" "load_path is fixed by the command line (--load-path)" \
  "$("$sluice" --load-path "$work" -e "SET load_path = '/'" 2>&1)"

# ---- a failed script's settings are rolled back (a running server) ---------------------
port=$(free_port)
url=http://127.0.0.1:$port
"$sluice" serve --data-dir . --listen "127.0.0.1:$port" 2> serve.err &
spid=$!
for _ in $(seq 100); do grep -q listening serve.err 2>/dev/null && break; sleep 0.05; done
grep -q listening serve.err && ok || bad "server started"
"$sluice" --connect "$url" -e "SET batch_size = 7; SET kafka.acks = 'all';" && ok || bad "settings set"
printf "SET batch_size = 9;\nSET batch_size = NULL;\nSET kafka.acks = NULL;\nSET x.y = 1;\nSET commit_interval_ms = '5s';\nSET vm_trace = nosuch(1);\n" > bad.sql
has "the failing script" "bad.sql:6:16: error: no such function: nosuch" \
  "$("$sluice" --connect "$url" run bad.sql 2>&1)"
out=$("$sluice" --connect "$url" --format csv -e "SHOW SETTINGS;")
has "rolled back: a value" "batch_size,7,1024," "$out"
has "rolled back: a passthrough removed" "kafka.acks,all," "$out"
has "rolled back: a default" "commit_interval_ms,1s,1s," "$out"
case "$out" in *x.y*) bad "rolled back: an added setting is gone" ;; *) ok ;; esac
kill "$spid"; wait "$spid" && ok || bad "server stop"; spid=""

# ---- docs/sql.md: its table of settings is SHOW SETTINGS' ------------------------------
"$sluice" --format json -e "SHOW SETTINGS" > show.json
/usr/bin/python3 - "$top/docs/sql.md" show.json > docs.diff 2>&1 <<'PY'
import json, sys
doc = open(sys.argv[1]).read().split("\n")
try:
    start = doc.index("<!-- settings: the rows are SHOW SETTINGS' (tests/settings.sh) -->")
    end = doc.index("<!-- /settings -->", start)
except ValueError:
    print("docs/sql.md: no settings table between its markers")
    sys.exit(0)
rows = [l for l in doc[start + 1:end] if l.startswith("| `")]
want = []
for line in open(sys.argv[2]):
    s = json.loads(line)
    want.append("| `%s` | %s | %s |" % (s["name"], "`%s`" % s["default"] if s["default"] else "(none)",
                                       s["description"]))
for w in want:
    if w not in rows:
        print("missing or different in docs/sql.md: " + w)
for r in rows:
    if r not in want:
        print("not a setting (any more): " + r)
PY
[ $? = 0 ] || echo "(the comparison failed)" >> docs.diff
same "docs/sql.md's table of settings" "" "$(cat docs.diff)"

finish settings
