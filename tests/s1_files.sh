#!/usr/bin/env bash
# s1_files.sh - scenario S1 on files, checked against scikit-learn: runs
# sql-examples/s1_files.sql and compares every record's pred with
# LogisticRegression.predict_proba(x)[0][0] of a model fitted on the S1
# training set (/usr/bin/python3 has scikit-learn), to 1e-12.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=${top_srcdir:-$here/..}
sluice=${SLUICE:-$here/../sluice}
shared=$top/../shared
if [ ! -f "$shared/data/games-expand.csv" ]; then echo "no ../shared/data: skipped"; exit 77; fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$top"
sed "s|'preds.jsonl'|'$work/preds.jsonl'|" sql-examples/s1_files.sql > "$work/s1.sql"
"$sluice" run "$work/s1.sql"
/usr/bin/python3 - "$shared/data/games-expand.csv" sql-examples/data/dsp.jsonl "$work/preds.jsonl" <<'PY'
import csv, json, sys
import numpy as np
from sklearn.linear_model import LogisticRegression
rows = list(csv.DictReader(open(sys.argv[1])))
X = np.array([[float(r["G%d" % k]) for k in range(1, 11)] for r in rows])
y = np.array([float(r["label"]) for r in rows])
m = LogisticRegression().fit(X, y)
inp = [json.loads(l) for l in open(sys.argv[2])]
out = [json.loads(l) for l in open(sys.argv[3])]
assert len(inp) == len(out), (len(inp), len(out))
want = m.predict_proba(np.array([[r["G%d" % k] for k in range(1, 11)] for r in inp]))[:, 0]
bad = 0
for r, o, w in zip(inp, out, want):
    if o["User_ID"] != r["User_ID"] or abs(o["pred"] - w) > 1e-12 * max(1.0, abs(w)):
        bad += 1
        if bad <= 5: print("mismatch", r["User_ID"], o, w)
print("s1_files: %d passed, %d failed" % (len(inp) - bad, bad))
sys.exit(1 if bad else 0)
PY
