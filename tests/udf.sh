#!/usr/bin/env bash
# udf.sh - C functions, what needs a shell: SHOW FUNCTIONS of the examples,
# the batch form on the engine's hot path (one call per batch), the layout of
# an extension built for API version 1, load_path over directories and
# links, --load, and the how-to of docs/udf.md compiled with `pkg-config
# --cflags sluice` and loaded.  The examples' results, the API as the probe
# extension sees it and every LOAD error are in tests/sql/udf.slt;
# tests/udf_test.c checks the embedding side (a failed LOAD leaves the
# engine unchanged, inverse).
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

# ---- SHOW FUNCTIONS: the kind of each example (their results: tests/sql/udf.slt) ----------
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

# ---- an extension built for API version 1 ---------------------------------------------------
v1="LOAD 'tests/libudfv1.so';"
check "v1 layout read" $'v1_add,2,scalar,x + y (API version 1)\nv1_count,1,aggregate,count of non-NULL x (API version 1)' \
  "$("$sluice" --format csv -e "$v1 SHOW FUNCTIONS" | grep '^v1_')"

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
contains "--load-path is fixed" "load_path is fixed by the command line (--load-path)" "$out"
out=$("$sluice" --load-path "$work/allowed" --load udf/libgeo.so -e "SELECT 1" 2>&1)
check "--load refused (exit)" 1 $?
contains "--load refused" "sluice: --load: not authorized: LOAD 'udf/libgeo.so': not in a directory of load_path" "$out"

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
