#!/bin/sh
# tests/fuzz.sh - runs each libFuzzer target (tests/fuzz/) over its seed
# corpus (tests/fuzz/corpus/<target>/), then for a while more: 15 seconds
# with a fixed seed, or FUZZ_SECONDS with --long (make check-long).  New
# inputs go to a scratch corpus in the build tree, never the source tree;
# a crash leaves its input in tests/fuzz/run/ as crash-<hash>.  Skips (77)
# only when no clang with libFuzzer is there: configure then built nothing.
top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
fuzzdir=$top_builddir/tests/fuzz
targets="fuzz_sql fuzz_json fuzz_csv fuzz_raw fuzz_model fuzz_ckpt fuzz_http fuzz_avro fuzz_pg fuzz_protobuf fuzz_flink fuzz_origin"

missing=
for t in $targets; do [ -x "$fuzzdir/$t" ] || missing="$missing $t"; done
if [ -n "$missing" ]; then
  # no targets: fine only if this system's clang cannot link a fuzzer
  tmp=$(mktemp -d) || exit 1
  printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
    'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { return 0; }' > "$tmp/t.c"
  if ${FUZZ_CC:-clang} -fsanitize=fuzzer "$tmp/t.c" -o "$tmp/t" >/dev/null 2>&1; then
    rm -rf "$tmp"
    echo "fuzz.sh: clang has libFuzzer but targets are not built:$missing (rerun configure, make check)" >&2
    exit 1
  fi
  rm -rf "$tmp"
  echo "fuzz.sh: no clang with libFuzzer (-fsanitize=fuzzer): skipped"
  exit 77
fi

if [ "$1" = --long ]; then seconds=${FUZZ_SECONDS:-3600}; else seconds=15; fi
# libFuzzer's own handling of errors; leak checks stay on.  4 GB of memory:
# printf('%999999999d', 1) is a legal text of 10^9 bytes (SQLite's limit),
# made twice under ASan.
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=1:abort_on_error=0
UBSAN_OPTIONS=${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}print_stacktrace=1:halt_on_error=1
export ASAN_OPTIONS UBSAN_OPTIONS
status=0
for t in $targets; do
  run=$fuzzdir/run/$t
  mkdir -p "$run/new"
  corpus=$top_srcdir/tests/fuzz/corpus/$t
  dict=
  [ -f "$top_srcdir/tests/fuzz/$t.dict" ] && dict=-dict=$top_srcdir/tests/fuzz/$t.dict
  maxlen=4096
  [ $t = fuzz_model ] && maxlen=65536 # an XGBoost model of a few trees
  echo "== $t: ${seconds}s"
  if "$fuzzdir/$t" -seed=1 -timeout=25 -rss_limit_mb=4096 -max_len=$maxlen \
      -max_total_time="$seconds" -print_final_stats=1 $dict -artifact_prefix="$run/" \
      "$run/new" "$corpus" > "$run/log" 2>&1; then
    grep -E '^stat::number_of_executed_units|^#[0-9]+.*DONE' "$run/log" | tail -n 2
  else
    echo "FAIL: $t (log: $run/log)"
    tail -n 40 "$run/log"
    status=1
  fi
done
exit $status
