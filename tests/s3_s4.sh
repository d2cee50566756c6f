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
. "$here/lib.sh"

sed "s|'iris-out.csv'|'$work/iris-out.csv'|" sql-examples/s3_iris.sql > "$work/s3.sql"
"$sluice" --stats run "$work/s3.sql" 2> "$work/s3.err" && ok || { bad "s3 run"; cat "$work/s3.err"; }
# the forest, refitted exactly as gen_models.py fits it, labels each line
$py "$here/models/check_s3.py" "$work/iris-out.csv" sql-examples/data/iris.csv && ok || bad "S3 labels"

sed -e "s|'suspicious.jsonl'|'$work/suspicious.jsonl'|" -e "s|'normal.jsonl'|'$work/normal.jsonl'|" \
  sql-examples/s4_fraud.sql > "$work/s4.sql"
"$sluice" --stats run "$work/s4.sql" 2> "$work/s4.err" && ok || { bad "s4 run"; cat "$work/s4.err"; }
$py "$here/models/check_s4.py" sql-examples/models/fraud.xgb.json sql-examples/data/fraud.jsonl \
  "$work/suspicious.jsonl" "$work/normal.jsonl" && ok || bad "S4 scores and split"
finish s3_s4
