#!/usr/bin/env bash
# slt.sh - SQLite's sqllogictest files, vendored in tests/slt/, through sluice
# (tests/slt.c), run by `make check`.  Every record of every file must pass,
# except those its NAME.expect (for NAME.test) lists with a reason (features
# sluice does not have yet): a listed record must fail the way the list
# says, and one that passes must be taken off the list (tests/slt/README.md).
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=${top_srcdir:-$here/..}
slt=${top_builddir:-$here/..}/tests/slt
if [ ! -x "$slt" ]; then
  echo "slt.sh: $slt is not built"
  exit 99
fi
cd "$top" || exit 99
files=$(find tests/slt -name '*.test' | LC_ALL=C sort)
[ -n "$files" ] || { echo "slt.sh: no .test files in tests/slt"; exit 99; }
# shellcheck disable=SC2086
"$slt" $files
