#!/usr/bin/env bash
# format_test.sh - the record formats and file connectors (tests/format_test.c)
# in its quick mode: the 1M-record speed measurement is left to `make bench`.
here=$(cd "$(dirname "$0")" && pwd)
exec "${top_builddir:-$here/..}/tests/format_test" --quick
