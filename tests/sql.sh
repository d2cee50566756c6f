#!/usr/bin/env bash
# sql.sh - sluice's data-driven SQL tests, tests/sql/*.slt, through the
# runner (tests/slt.c), run by `make check`.  Each file runs with a fresh
# engine in a temporary directory and reports every failing record with its
# file:line; tests/sql/README.md says how to write one.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=${top_srcdir:-$here/..}
slt=${top_builddir:-$here/..}/tests/slt
if [ ! -x "$slt" ]; then
  echo "sql.sh: $slt is not built"
  exit 99
fi
# the .slt files name built files as ${top_builddir}/...: absolute paths,
# since each file runs in a temporary directory
top_srcdir=$(cd "$top" && pwd)
top_builddir=$(cd "${top_builddir:-$here/..}" && pwd)
export top_srcdir top_builddir
# datetime.slt's expected values were taken in UTC ('localtime', 'utc')
export TZ=UTC
cd "$top" || exit 99
files=$(find tests/sql -name '*.slt' | LC_ALL=C sort)
[ -n "$files" ] || { echo "sql.sh: no .slt files in tests/sql"; exit 99; }
# shellcheck disable=SC2086
"$slt" $files
