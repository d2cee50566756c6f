#!/usr/bin/env bash
# decode.sh - input that is hard to decode, at sizes and with checks the
# .slt files cannot express (tests/sql/decode.slt has the small cases):
#   - CSV: a 200,001-line file whose line 2 opens a quote it never closes
#     gives the other 200,000 rows (the bad line rejected, with its line),
#     both when the file ends inside the quote and when max_record_bytes is
#     hit first;
#   - max_record_bytes: an overlong line of a file (made with head -c) is
#     rejected and skipped, the lines after it read; an endless line of a
#     source that is not a regular file (/dev/zero) stops the query with an
#     error instead of growing memory;
#   - invalid UTF-8 and lone surrogates in JSON, CSV and raw input: what
#     sinks write parses with Python's json module strictly (UTF-8 bytes,
#     no lone surrogates, no NaN/Infinity words), replaced by U+FFFD by
#     default, the records rejected under SET invalid_utf8 = 'reject'; CSV
#     header names, sqlite() rows and the table sides of joins repaired too;
#   - infinities written as 9.0e+999 read back (Python too).
set -u
here=$(cd "$(dirname "$0")" && pwd)
sluice=${SLUICE:-$here/../sluice}
py=/usr/bin/python3
. "$here/lib.sh"
in_workdir

# ---- CSV: one stray quote costs one line ------------------------------------------
$py - <<'PY'
with open("big.csv", "w") as f:
    f.write("1,1,fine\n2,2,\"oops\n")
    for i in range(3, 200002):
        f.write("%d,%d,fine\n" % (i, i))
PY
check "200,001 lines" "200001" "$(wc -l < big.csv | tr -d ' ')"
for bound in "" "SET max_record_bytes = 65536;"; do
  out=$("$sluice" --stats -e "$bound SELECT id, s FROM file('big.csv', columns => 'id INTEGER, v INTEGER, s TEXT')" 2> err)
  check "stray quote ($bound): rows" "200000" "$(printf '%s\n' "$out" | wc -l | tr -d ' ')"
  check "stray quote ($bound): ids" "$($py -c 'print(sum(i for i in range(1, 200002) if i != 2))')" \
    "$(printf '%s\n' "$out" | $py -c 'import json,sys; print(sum(json.loads(l)["id"] for l in sys.stdin))')"
  contains "stray quote ($bound): logged with its line" "big.csv:2: " "$(cat err)"
  contains "stray quote ($bound): counted" "200001 in, 200000 out, 1 rejected" "$(cat err)"
done

# ---- max_record_bytes ----------------------------------------------------------------
{ printf '{"a":1}\n{"a":"'; head -c 300000 /dev/zero | tr '\0' x; printf '"}\n{"a":3}\n'; } > long.json
out=$("$sluice" --stats -e "SET max_record_bytes = 100000; SELECT a FROM file('long.json')" 2> err)
check "overlong line skipped" '{"a":1}
{"a":3}' "$out"
contains "overlong line logged" "long.json:2: a line longer than max_record_bytes" "$(cat err)"
contains "overlong line counted" "3 in, 2 out, 1 rejected" "$(cat err)"
# within the bound it is read
out=$("$sluice" -e "SELECT length(a) AS n FROM file('long.json')" 2> err)
check "a long line within the bound" '{"n":1}
{"n":300000}
{"n":1}' "$out"
# an endless line of a device: a clear error, not endless reading
out=$("$sluice" -e "SET max_record_bytes = 1000000; SELECT * FROM file('/dev/zero')" 2> err)
rc=$?
check "/dev/zero: fails" "1" "$rc"
contains "/dev/zero: says why" "/dev/zero:1: a line longer than max_record_bytes (1000000 bytes), and '/dev/zero' is not a regular file" "$(cat err)"

# ---- invalid UTF-8 and lone surrogates ---------------------------------------------
# strict: UTF-8 bytes, every line one JSON value, no NaN/Infinity words, no
# lone surrogate in any string (Python's json reads "\ud800" into a str that
# cannot be encoded)
strict_json() {
  $py - "$1" <<'PY'
import json, sys
def walk(o):
    if isinstance(o, str): o.encode("utf-8")
    elif isinstance(o, dict): [walk(k) or walk(v) for k, v in o.items()]
    elif isinstance(o, list): [walk(v) for v in o]
def refuse(word): raise ValueError("not JSON: " + word)
try:
    text = open(sys.argv[1], "rb").read().decode("utf-8")
    for line in text.splitlines():
        walk(json.loads(line, parse_constant=refuse))
except Exception as e:
    print("%s: %s" % (sys.argv[1], e))
PY
}
printf '{"s":"a\\ud800b","t":"\\udc00","u":"\\ud83d\\ude00","o":{"k":"\\ud800"},"r":"x\xffy\xed\xa0\x80z\xc0\xaf"}\n{"s":"ok","t":"\\\\ud800","u":"\xe2\x82","o":[1,"\\udbff"],"r":"fine"}\n' > u.json
printf 'a,b\n1,x\xffy\n2,ok\n3,"\xf4\x90\x80\x80"\n' > u.csv
printf 'l\xfe1\nok\n\xf0\x9f\x98\n' > u.txt
"$sluice" -e "SELECT s, t, u, o, r FROM file('u.json') INTO file('uo.json');
  SELECT a, b FROM file('u.csv', header => true) INTO file('uc.json');
  SELECT value FROM file('u.txt') INTO file('ur.json');
  SELECT value || '' AS v, value AS w FROM file('u.txt') INTO file('ur.csv', format => 'csv')" 2> err
check "invalid UTF-8: nothing rejected by default" "" "$(cat err)"
for f in uo.json uc.json ur.json; do
  check "$f: strict JSON" "" "$(strict_json $f)"
done
check "ur.csv: UTF-8" "ok" "$($py -c 'open("ur.csv","rb").read().decode("utf-8"); print("ok")' 2>&1)"
fffd=$'\xef\xbf\xbd'
check "JSON: U+FFFD for each bad sequence" "{\"s\":\"a${fffd}b\",\"t\":\"${fffd}\",\"u\":\"😀\",\"o\":{\"k\":\"\\ufffd\"},\"r\":\"x${fffd}y${fffd}${fffd}${fffd}z${fffd}${fffd}\"}
{\"s\":\"ok\",\"t\":\"\\\\ud800\",\"u\":\"${fffd}\",\"o\":[1,\"\\ufffd\"],\"r\":\"fine\"}" "$(cat uo.json)"
check "CSV: U+FFFD" "{\"a\":\"1\",\"b\":\"x${fffd}y\"}
{\"a\":\"2\",\"b\":\"ok\"}
{\"a\":\"3\",\"b\":\"${fffd}${fffd}${fffd}${fffd}\"}" "$(cat uc.json)"
check "raw: U+FFFD" "{\"value\":\"l${fffd}1\"}
{\"value\":\"ok\"}
{\"value\":\"${fffd}\"}" "$(cat ur.json)"
# a CSV header names columns: a name that is not UTF-8 gets U+FFFD (sinks
# write names as JSON keys); sources without a decoder (sqlite()) and table
# sides of joins (file(), sqlite()) get U+FFFD too
printf 'a\xff,b\n1,2\n' > uh.csv
printf 'k,v\nfine,x\xffy\nok,\xc0\n' > side.csv
printf '{"a":"fine"}\n{"a":"ok"}\n' > l.json
$py -c 'import sqlite3; c = sqlite3.connect("u.db"); c.executescript("CREATE TABLE t(a TEXT, b TEXT); INSERT INTO t VALUES(CAST(X'"'61FF62'"' AS TEXT), '"'ok'"'), ('"'fine'"', CAST(X'"'EDA080'"' AS TEXT));")'
"$sluice" -e "SELECT * FROM file('uh.csv', header => true) INTO file('uh.json');
  SELECT * FROM sqlite('u.db', 't') INTO file('us.json');
  SELECT l.a, u.b FROM file('l.json', columns => 'a TEXT') AS l JOIN sqlite('u.db', 't') AS u ON l.a = u.a
    INTO file('uj.json');
  SELECT l.a, s.v FROM file('l.json', columns => 'a TEXT') AS l JOIN file('side.csv', header => true) AS s
    ON l.a = s.k INTO file('uk.json')" 2> err
check "header, sqlite(), table sides: nothing rejected" "" "$(cat err)"
for f in uh.json us.json uj.json uk.json; do
  check "$f: strict JSON" "" "$(strict_json $f)"
done
check "CSV header: U+FFFD" "{\"a${fffd}\":\"1\",\"b\":\"2\"}" "$(cat uh.json)"
check "sqlite(): U+FFFD" "{\"a\":\"a${fffd}b\",\"b\":\"ok\"}
{\"a\":\"fine\",\"b\":\"${fffd}${fffd}${fffd}\"}" "$(cat us.json)"
check "sqlite() table side: U+FFFD" "{\"a\":\"fine\",\"b\":\"${fffd}${fffd}${fffd}\"}" "$(cat uj.json)"
check "file() table side: U+FFFD" "{\"a\":\"fine\",\"v\":\"x${fffd}y\"}
{\"a\":\"ok\",\"v\":\"${fffd}\"}" "$(cat uk.json)"

# SET invalid_utf8 = 'reject': those records are rejected, with where
printf '{"s":"\\ud800"}\n{"s":"fine"}\n{"s":"\\ud800\\udc00"}\n' > sur.json
out=$("$sluice" --stats -e "SET invalid_utf8 = 'reject'; SELECT s FROM file('sur.json');
  SELECT b FROM file('u.csv', header => true); SELECT value FROM file('u.txt')" 2> err)
check "reject: the good records" "{\"s\":\"fine\"}
{\"s\":\"𐀀\"}
{\"b\":\"ok\"}
{\"value\":\"ok\"}" "$out"
contains "reject: lone surrogate logged" "sur.json:1: a lone surrogate escape (\\uD800..\\uDFFF) is not Unicode (invalid_utf8 = 'reject')" "$(cat err)"
contains "reject: CSV logged" "u.csv:2: invalid UTF-8 at byte 4 (invalid_utf8 = 'reject')" "$(cat err)"
contains "reject: raw logged" "u.txt:3: invalid UTF-8 at byte 1" "$(cat err)"
contains "reject: counted" "q1: 3 in, 2 out, 1 rejected" "$(cat err)"

# ---- infinities round trip, Python too -----------------------------------------------
printf '{"a":1e309,"b":-%s}\n' "$($py -c 'print("9"*400)')" > inf.json
"$sluice" -e "SELECT a, b, a * 0 AS nan FROM file('inf.json') INTO file('inf_out.json')"
check "infinities written" '{"a":9.0e+999,"b":-9.0e+999,"nan":null}' "$(cat inf_out.json)"
check "infinities: strict JSON" "" "$(strict_json inf_out.json)"
check "infinities: Python reads them" "inf -inf" "$($py -c 'import json; o=json.load(open("inf_out.json")); print(o["a"], o["b"])')"
check "infinities: read back" '{"x":1,"y":1}' "$("$sluice" -e "SELECT a = 1e999 AS x, b = -1e999 AS y FROM file('inf_out.json')")"

finish decode
