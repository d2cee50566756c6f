#!/usr/bin/env bash
# train.sh - online learning fidelity: train() over fixed batches against a
# NumPy implementation of Spark MLlib's streaming update rules
# (tests/train/spark_ref.py), to 1e-9; predict() with the last version;
# EXPORT MODEL round trip; bad records (check_train.py).  The bind errors of
# CREATE MODEL ... TYPE and train() are in tests/sql/models.slt.
set -u
here=$(cd "$(dirname "$0")" && pwd)
sluice=${SLUICE:-$here/../sluice}
py=/usr/bin/python3
$py -c 'import numpy' 2>/dev/null || { echo "python3-numpy missing: skipped"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
. "$here/lib.sh"
$py "$here/train/check_train.py" "$(cd "$(dirname "$sluice")" && pwd)/$(basename "$sluice")" "$work" &&
  ok || bad "check_train.py"
finish train
