#!/usr/bin/env bash
# s1_files.sh - scenario S1 on files, checked against scikit-learn: runs
# sql-examples/s1_files.sql and compares every record's pred with
# LogisticRegression.predict_proba(x)[0][0] of a model fitted on the S1
# training set (/usr/bin/python3 has scikit-learn), to 1e-12.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=${top_srcdir:-$here/..}
sluice=${SLUICE:-$here/../sluice}
games=$here/data/games-expand.csv
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$top"
sed "s|'preds.jsonl'|'$work/preds.jsonl'|" sql-examples/s1_files.sql > "$work/s1.sql"
"$sluice" run "$work/s1.sql"
/usr/bin/python3 "$here/s1_check.py" "$games" sql-examples/data/dsp.jsonl \
  "$work/preds.jsonl" s1_files || exit 1
# P(class 1) too: the model's own name gives it (its primary output)
"$sluice" -e "CREATE MODEL churn FROM 'sql-examples/models/churn_lr.json';
  SELECT User_ID, churn(G1, G2, G3, G4, G5, G6, G7, G8, G9, G10) AS p1
  FROM file('sql-examples/data/dsp.jsonl', format => 'json')
  INTO file('$work/p1.jsonl', format => 'json')"
/usr/bin/python3 "$here/s1_check.py" "$games" sql-examples/data/dsp.jsonl \
  "$work/p1.jsonl" s1_files_class1 p1 1
