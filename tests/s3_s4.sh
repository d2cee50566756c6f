#!/usr/bin/env bash
# s3_s4.sh - scenarios S3 (iris CSV -> random forest -> line,label) and S4
# (XGBoost fraud score fanned out to suspicious/normal) on files, checked
# against scikit-learn's and xgboost's own predictions of the same models.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=${top_srcdir:-$here/..}
sluice=${SLUICE:-$here/../sluice}
py=/usr/bin/python3
$py -c 'import sklearn, xgboost' 2>/dev/null || { echo "python3-sklearn/xgboost missing: skipped"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$top"
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

sed "s|'iris-out.csv'|'$work/iris-out.csv'|" sql-examples/s3_iris.sql > "$work/s3.sql"
"$sluice" --stats run "$work/s3.sql" 2> "$work/s3.err" && ok || { bad "s3 run"; cat "$work/s3.err"; }
# the forest, refitted exactly as gen_models.py fits it, labels each line
$py - "$work/iris-out.csv" sql-examples/data/iris.csv <<'PY' && ok || bad "S3 labels"
import sys
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier
import numpy as np
iris = load_iris()
names = np.array(["Iris-setosa", "Iris-versicolor", "Iris-virginica"])
rf = RandomForestClassifier(n_estimators=10, random_state=0).fit(iris.data, names[iris.target])
lines = [l.strip() for l in open(sys.argv[2]) if l.strip()]
want = [l + "," + rf.predict(np.array([[float(v) for v in l.split(",")]]))[0] for l in lines]
got = [l.rstrip("\n") for l in open(sys.argv[1])]
bad = sum(1 for a, b in zip(got, want) if a != b) + abs(len(got) - len(want))
print("S3: %d lines, %d differ from scikit-learn" % (len(got), bad))
sys.exit(1 if bad else 0)
PY

sed -e "s|'suspicious.jsonl'|'$work/suspicious.jsonl'|" -e "s|'normal.jsonl'|'$work/normal.jsonl'|" \
  sql-examples/s4_fraud.sql > "$work/s4.sql"
"$sluice" --stats run "$work/s4.sql" 2> "$work/s4.err" && ok || { bad "s4 run"; cat "$work/s4.err"; }
$py - sql-examples/models/fraud.xgb.json sql-examples/data/fraud.jsonl "$work/suspicious.jsonl" "$work/normal.jsonl" <<'PY' && ok || bad "S4 scores and split"
import json, sys
import numpy as np, xgboost as xgb
b = xgb.Booster()
b.load_model(sys.argv[1])
recs = [json.loads(l) for l in open(sys.argv[2])]
p = b.predict(xgb.DMatrix(np.array([r["featuresVector"] for r in recs], dtype=np.float32)))
want = {r["recordID"]: float(s) for r, s in zip(recs, p)}
sus = [json.loads(l) for l in open(sys.argv[3])]
nor = [json.loads(l) for l in open(sys.argv[4])]
err = 0
for r in sus + nor:
    if abs(r["score"] - want[r["recordID"]]) > 1e-6:
        err += 1
ok_split = {r["recordID"] for r in sus} == {k for k, v in want.items() if v > 0.5} and \
           {r["recordID"] for r in nor} == {k for k, v in want.items() if v <= 0.5}
print("S4: %d suspicious, %d normal, %d scores off by > 1e-6, split %s"
      % (len(sus), len(nor), err, "ok" if ok_split else "WRONG"))
sys.exit(0 if not err and ok_split and len(sus) + len(nor) == len(recs) else 1)
PY
echo "s3_s4: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
