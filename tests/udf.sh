#!/usr/bin/env bash
# udf.sh - C functions: the example extensions of udf/ (scalar, aggregates,
# batch, state), the batch form on the engine's hot path, the API as the
# probe extension exercises it, an extension built for API version 1, every
# LOAD error, load_path and --load, and the how-to of docs/udf.md compiled
# with `pkg-config --cflags sluice` and loaded.  (tests/udf_test.c checks
# the embedding side: a failed LOAD leaves the engine unchanged, inverse.)
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
top_srcdir=${top_srcdir:-$here/..}
top_builddir=${top_builddir:-$here/..}
sluice=${SLUICE:-$top_builddir/sluice}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$top_builddir" || exit 1

# q SQL...: the rows (csv, no header) of running the statements.
q() { "$sluice" --format csv -e "$*" 2>&1 | tail -n +2; }
# err SQL...: what a failing statement prints, and that it fails.
err() {
  local out
  out=$("$sluice" --format csv -e "$*" 2>&1) && echo "UNEXPECTED SUCCESS: $out"
  printf '%s' "$out"
}

geo="LOAD 'udf/libgeo.so';"
stats="LOAD 'udf/libstats.so';"
batch="LOAD 'udf/libbatch.so';"
probe="LOAD 'tests/libudfprobe.so';"
airports="SET airports.file = '$top_srcdir/udf/airports.csv'; LOAD 'udf/libairports.so';"

# ---- the examples -----------------------------------------------------------------
check "haversine" "5833.5" "$(q "$geo SELECT round(haversine(49.0097, 2.5479, 40.6413, -73.7781), 1)")"
check "haversine same point" "0.0" "$(q "$geo SELECT haversine(10, 20, 10, 20)")"
check "haversine NULL" "" "$(q "$geo SELECT haversine(NULL, 2, 3, 4)")"
contains "haversine range error" "latitude 91 is out of range" "$(err "$geo SELECT haversine(91, 0, 0, 0)")"
# A failing call rejects its record, counted like a malformed one.
printf '{"a":10,"b":20}\n{"a":95,"b":20}\n{"a":-10,"b":0}\n{"a":null,"b":1}\n' > "$work/pts.jsonl"
out=$("$sluice" --stats --format csv -e "$geo SELECT round(haversine(a, b, 0, 0)) AS d FROM file('$work/pts.jsonl')" 2>&1)
contains "rejected record logged" "pts.jsonl:2: haversine(): latitude 95 is out of range" "$out"
contains "rejected record counted" "4 in, 3 out, 1 rejected" "$out"
check "haversine rows" $'d\n2476.0\n1112.0' "$(echo "$out" | grep -v '^sluice\|^q1')"

printf '{"k":"a","x":1}\n{"k":"a","x":2}\n{"k":"b","x":4}\n{"k":"a","x":3}\n{"k":"b","x":16}\n{"k":"b","x":null}\n' > "$work/agg.jsonl"
check "ewma and geomean by key" $'a,2.25,1.81712059283214\nb,10.0,8.0' \
  "$(q "$stats SELECT k, ewma(x, 0.5), geomean(x) FROM file('$work/agg.jsonl') GROUP BY k")"
check "ewma changes (value)" $'a,1.0\na,1.5\nb,4.0\na,2.25\nb,10.0\nb,10.0' \
  "$(q "$stats SET batch_size = 1; SELECT k, ewma(x, 0.5) FROM file('$work/agg.jsonl') GROUP BY k EMIT CHANGES")"
out=$("$sluice" --stats --format csv -e "$stats SELECT k, ewma(x, x - 1) AS m FROM file('$work/agg.jsonl') GROUP BY k" 2>&1)
contains "aggregate error rejects the record" "ewma(): alpha 0 is not in (0, 1]" "$out"
contains "aggregate errors counted" "6 in, 2 out, 4 rejected" "$out"
check "geomean without FROM" "4.0" "$(q "$stats SELECT geomean(4)")"

check "logistic, logit" "0.5,0.0,1.0" "$(q "$batch SELECT logistic(0), logit(0.5), round(logistic(logit(0.73)), 2) * 100 / 73")"
seq 0 999 | awk '{printf "{\"p\":%s}\n", ($1 - 100) / 1000}' > "$work/p.jsonl"
out=$("$sluice" --stats --format csv -e "$batch SELECT p, logit(p) AS l FROM file('$work/p.jsonl')" 2>&1)
contains "batch: a failing row is rejected" "p.jsonl:1: logit(): -0.1 is not in (0, 1)" "$out"
contains "batch: failing rows counted" "1000 in, 899 out, 101 rejected" "$out"
# The batch results are those of the one-row calls CASE makes.
check "batch = one row at a time" "899" "$(q "$batch SELECT count(*) FROM file('$work/p.jsonl') WHERE p > 0 AND
  logistic(p) = CASE WHEN p > 0 THEN logistic(p) END GROUP BY 1 = 1")"

check "airports lookup" "London Heathrow,,5833.5" "$(q "$airports $geo SELECT airport_name('lhr'), airport_name('ZZZ'),
  round(haversine(airport_lat('CDG'), airport_lon('CDG'), airport_lat('JFK'), airport_lon('JFK')), 1)")"
contains "airports: the setting is needed" "SET airports.file = 'path/to/airports.csv' before LOAD" \
  "$(err "LOAD 'udf/libairports.so'")"
contains "airports: bad file" "cannot open airports.file '/nonexistent'" \
  "$(err "SET airports.file = '/nonexistent'; LOAD 'udf/libairports.so'")"

funcs=$("$sluice" --format csv -e "$geo $stats $batch $airports SHOW FUNCTIONS")
contains "show: scalar" 'haversine,4,scalar,"haversine(LAT1, LON1, LAT2, LON2): great-circle distance in km"' "$funcs"
contains "show: aggregate" "ewma,2,aggregate" "$funcs"
contains "show: batch" "logit,1,batch" "$funcs"
contains "show: state" "airport_name,1,scalar" "$funcs"
contains "show: model functions" "predict_proba,1+,model" "$funcs"

# ---- the batch form is what the engine calls ------------------------------------------
seq 1 3000 | awk '{printf "{\"x\":%d,\"s\":\"w%d\"}\n", $1, $1 % 7}' > "$work/x.jsonl"
check "one call per batch" $'2048 1024\n952 952' \
  "$(q "$probe SELECT batch_rows(x) FROM file('$work/x.jsonl')" | uniq -c | awk '{print $1, $2}')"
check "batch_size batches" "100" "$(q "$probe SET batch_size = 100; SELECT batch_rows(x) FROM file('$work/x.jsonl')" | sort -u)"
check "WHERE before the batch" $'136\n146' "$(q "$probe SELECT batch_rows(x) FROM file('$work/x.jsonl') WHERE x % 7 = 0" | sort -u)"
check "WHERE's own batch call" "3000" \
  "$(q "$probe SELECT twice(x) FROM file('$work/x.jsonl') WHERE batch_rows(x) > 1" | wc -l | tr -d ' ')"
check "lazy branches: one row" "1" "$(q "$probe SELECT CASE WHEN x > 0 THEN batch_rows(x) END FROM file('$work/x.jsonl')" | sort -u)"
check "aggregate arguments: one row" "1" \
  "$(q "$probe SELECT max(batch_rows(x)) FROM file('$work/x.jsonl') GROUP BY 1 = 1" | sort -u)"
check "batch integers" "2,6000" \
  "$(q "$probe SELECT min(twice(x)), max(twice(x)) FROM file('$work/x.jsonl') GROUP BY 1 = 1" | tail -1)"
check "computed arguments" $'1000,20002\n2000,40002\n3000,60002' \
  "$(q "$probe SELECT x, twice(x * 10 + 1) FROM file('$work/x.jsonl') WHERE x % 1000 = 0")"
check "computed text arguments" $'W1-1\nW2-2\nW3-3' \
  "$(q "$probe SELECT shout(s || '-' || x) FROM file('$work/x.jsonl') WHERE x <= 3")"
check "computed, no WHERE" "6000" "$(q "$probe SELECT twice(x + 0) FROM file('$work/x.jsonl')" | tail -1)"
explain=$(q "$probe EXPLAIN SELECT twice(x) + 1 FROM file('$work/x.jsonl') WHERE x > 2")
contains "EXPLAIN shows the batch call" "1 batch call, each once per batch: [0] twice(1)" "$explain"
contains "EXPLAIN shows BatchResult" "BatchResult" "$explain"
out=$("$sluice" --stats --format csv -e "$probe SELECT x, shout(s) AS s FROM file('$work/x.jsonl') WHERE x <= 10" 2>&1)
check "batch text row by row" $'1,W1\n2,W2\n3,W3\n4,W4\n5,W5\n6,W6\n7,W0\n8,W1\n9,W2\n10,W3' "$(echo "$out" | sed -n '2,11p')"
printf '{"s":"a"}\n{"s":"boom"}\n{"s":null}\n{"s":"boom"}\n{"s":"b"}\n' > "$work/boom.jsonl"
out=$("$sluice" --stats --format csv -e "$probe SELECT shout(s) AS s FROM file('$work/boom.jsonl')" 2>&1)
contains "batch row error message" "boom.jsonl:4: shout(): boom at row 3" "$out"
contains "batch row errors counted" "5 in, 3 out, 2 rejected" "$out"
check "batch rows kept" $'A\n\nB' "$(echo "$out" | grep -v '^sluice:\|^q1:' | sed -n '2,4p')"
contains "one-row batch error" "shout(): boom at row 0" "$(err "$probe SELECT CASE WHEN 1 THEN shout('boom') END")"

# ---- the API, through the probe ------------------------------------------------------------
check "describe int" "1|42|42|42|2" "$(q "$probe SELECT describe(42)")"
check "describe real" "2|2|2.5|2.5|3" "$(q "$probe SELECT describe(2.5)")"
check "describe text" "3|12|12.5|12.5ab|6" "$(q "$probe SELECT describe('12.5ab')")"
check "describe null" "0|0|0|-|0!" "$(q "$probe SELECT describe(NULL)")"
check "describe blob" "4|0|0|ab|2" "$(q "$probe SELECT describe(x'6162')")"
check "echo keeps types" "integer,real,text,blob,null" \
  "$(q "$probe SELECT typeof(echo(1)), typeof(echo(1.5)), typeof(echo('a')), typeof(echo(x'00')), typeof(echo(NULL))")"
check "vectors" '6.0,"[2.0,4.0,6.0]",' "$(q "$probe SELECT vsum(vector(1, 2, 3)), vdouble(vector(1, 2, 3)), vsum(1)")"
check "blob result" "610062" "$(q "$probe SELECT hex(blob3())")"
check "setting read at load" "hi there" "$(q "SET probe.greeting = 'hi there'; $probe SELECT greeting()")"
check "setting unset" "" "$(q "$probe SELECT greeting()")"

# ---- an extension built for API version 1 ---------------------------------------------------
v1="LOAD 'tests/libudfv1.so';"
check "v1 scalar" "5" "$(q "$v1 SELECT v1_add(2, 3)")"
check "v1 aggregate" $'a,3\nb,2' "$(q "$v1 SELECT k, v1_count(x) FROM file('$work/agg.jsonl') GROUP BY k")"
check "v1 layout read" $'v1_add,2,scalar,x + y (API version 1)\nv1_count,1,aggregate,count of non-NULL x (API version 1)' \
  "$("$sluice" --format csv -e "$v1 SHOW FUNCTIONS" | grep '^v1_')"

# ---- LOAD errors ---------------------------------------------------------------------------------
contains "newer API version" "LOAD 'tests/libbad_FUTURE.so': it was built for the sluice extension API version 99; this sluice provides versions 1 to 2" \
  "$(err "LOAD 'tests/libbad_FUTURE.so'")"
contains "extension error" "LOAD 'tests/libbad_FAIL.so': deliberate failure after registering bad_fn" \
  "$(err "LOAD 'tests/libbad_FAIL.so'")"
contains "no version declared" "did not declare its API version" "$(err "LOAD 'tests/libbad_NODECL.so'")"
contains "no entry point" "LOAD 'tests/libbad_NOINIT.so': not a sluice extension (it has no sluice_extension_init function)" \
  "$(err "LOAD 'tests/libbad_NOINIT.so'")"
contains "compiled without SLUICE_EXTENSION" "an extension must #define SLUICE_EXTENSION" \
  "$(err "LOAD 'tests/libbad_NOEXT.so'")"
contains "bad definition" "function bad_fn: it sets both scalar and aggregate callbacks" \
  "$(err "LOAD 'tests/libbad_DEF.so'")"
echo "not a library" > "$work/text.so"
contains "not a shared library" "LOAD '$work/text.so': not a loadable shared library" "$(err "LOAD '$work/text.so'")"
contains "no such file" "LOAD 'nowhere/libx.so': no such file" "$(err "LOAD 'nowhere/libx.so'")"
contains "error position" "1:1: error: LOAD" "$(err "LOAD 'nowhere/libx.so'")"
check "loading twice" "5833.5" "$(q "$geo $geo SELECT round(haversine(49.0097, 2.5479, 40.6413, -73.7781), 1)")"
check "load is still an identifier" "1" "$(q "SELECT 1 AS load")"

# ---- load_path and the command line ------------------------------------------------------------
mkdir -p "$work/allowed" "$work/other"
cp udf/libgeo.so "$work/allowed/"
cp udf/libgeo.so "$work/other/"
ln -s "$work/other/libgeo.so" "$work/allowed/escape.so"
check "load_path lookup" "0.0" "$(q "SET load_path = '$work/nothere:$work/allowed'; LOAD 'libgeo.so'; SELECT haversine(1, 1, 1, 1)")"
contains "load_path refuses" "not in a directory of load_path" \
  "$(err "SET load_path = '$work/allowed'; LOAD '$work/other/libgeo.so'")"
contains "load_path follows links" "not in a directory of load_path" \
  "$(err "SET load_path = '$work/allowed'; LOAD '$work/allowed/escape.so'")"
contains "load_path: bare name missing" "LOAD 'libstats.so': no such file in load_path" \
  "$(err "SET load_path = '$work/allowed'; LOAD 'libstats.so'")"
check "--load" "0.0" "$("$sluice" --format csv --load udf/libgeo.so -e "SELECT haversine(1, 1, 1, 1)" | tail -1)"
check "--load-path with --load" "0.0" \
  "$("$sluice" --format csv --load-path "$work/allowed" --load libgeo.so -e "SELECT haversine(1, 1, 1, 1)" | tail -1)"
out=$("$sluice" --load-path "$work/allowed" -e "SET load_path = '/'" 2>&1)
check "--load-path is fixed (exit)" 1 $?
contains "--load-path is fixed" "load_path is fixed by --load-path" "$out"
out=$("$sluice" --load-path "$work/allowed" --load udf/libgeo.so -e "SELECT 1" 2>&1)
check "--load refused (exit)" 1 $?
contains "--load refused" "sluice: --load: LOAD 'udf/libgeo.so': not in a directory of load_path" "$out"

# ---- the how-to of docs/udf.md, as a user follows it ----------------------------------------------
awk '/^```c$/ && !done { on = 1; next } /^```$/ && on { on = 0; done = 1 } on' "$top_srcdir/docs/udf.md" > "$work/hello.c"
cflags=$(echo $(PKG_CONFIG_PATH="$top_builddir" pkg-config --cflags sluice))
case "$cflags" in -I*) [ -f "${cflags#-I}/sluice.h" ] && ok || bad "pkg-config --cflags sluice: $cflags" ;; *) bad "pkg-config --cflags sluice: '$cflags'" ;; esac
# shellcheck disable=SC2086
if ${CC:-cc} -shared -fPIC $cflags -o "$work/libhello.so" "$work/hello.c" 2> "$work/cc.err"; then
  ok
  check "how-to" '{"g":"hello, world"}' "$("$sluice" -e "LOAD '$work/libhello.so'; SELECT greet('world') AS g;")"
  check "how-to --load" '{"g":"hello, sluice"}' "$("$sluice" --load "$work/libhello.so" -e "SELECT greet('sluice') AS g")"
else
  bad "the how-to does not compile: $(cat "$work/cc.err")"
fi

finish udf
