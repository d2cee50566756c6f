#!/usr/bin/env bash
# model_files.sh - CREATE MODEL reads only regular files of a bounded size.
#
# A path naming a device (/dev/urandom, /dev/zero), a directory or a FIFO is
# the error "not a regular file" (a FIFO without a writer must not block
# the statement); a file larger than 1 GiB (a sparse one here: nothing is
# written) is the error "larger than 1073741824 bytes" before anything is
# read.  /dev/urandom used to be read until memory ran out.  A regular
# model file still loads and scores, and EXPORT MODEL copies it.
set -u
export LC_ALL=C
here=$(cd "$(dirname "$0")" && pwd)
sluice=${SLUICE:-$here/../sluice}
. "$here/lib.sh"
in_workdir

# load PATH: the error (stderr) of CREATE MODEL from PATH
load() { "$sluice" -e "CREATE MODEL x FROM '$1'" 2>&1 >/dev/null; }

for dev in /dev/urandom /dev/zero; do
  [ -c "$dev" ] || continue
  check "$dev" "1:1: error: model $dev: not a regular file" "$(load "$dev")"
done
mkdir adir
check "a directory" "1:1: error: model adir: not a regular file" "$(load adir)"
if mkfifo afifo 2>/dev/null; then
  check "a FIFO" "1:1: error: model afifo: not a regular file" "$(load afifo)"
fi
if truncate -s 1073741825 big.json 2>/dev/null; then
  check "a file of 1 GiB + 1 byte" \
    "1:1: error: model big.json: larger than 1073741824 bytes (the most a model file may have)" \
    "$(load big.json)"
  rm -f big.json
fi
check "a missing file" "1:1: error: model nosuch.json: No such file or directory" "$(load nosuch.json)"

printf '%s\n' '{"format": "sluice-model", "version": 1, "kind": "linear", "n_features": 1, "coef": [[2]], "intercept": [1], "link": "identity"}' > lin.json
check "a regular file" '{"v":7.0}' \
  "$("$sluice" -e "CREATE MODEL m FROM 'lin.json'; SELECT m(3) AS v;" 2>&1)"
"$sluice" -e "CREATE MODEL m FROM 'lin.json'; EXPORT MODEL m TO 'out.json';" > err.txt 2>&1
check "export: no error" "" "$(cat err.txt)"
check "export: the same file" "$(cat lin.json)" "$(cat out.json 2>&1)"

finish model_files
