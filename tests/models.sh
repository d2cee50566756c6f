#!/usr/bin/env bash
# models.sh - model scoring against the training libraries, and bad model
# files.
#
# Fidelity: tests/models/gen_fidelity.py trains every supported kind with
# fixed seeds (scikit-learn 1.2, xgboost 1.7), exports it, and writes 1000+
# test rows with the library's own predict / predict_proba /
# decision_function / transform.  sluice scores the same rows through SQL
# (CREATE MODEL, predict, predict_label, predict_proba, decision_function,
# transform, the model's own name, and a VECTOR of features for some) and
# tests/models/check_fidelity.py compares: |diff| <= 1e-9 (float64 models),
# 1e-6 (XGBoost), labels identical.
#
# Bad files: missing, truncated, not JSON, unknown kind, wrong format
# version, NaN weights, a feature count mismatch: each is a clear error
# naming the file and the problem, and the statements after it still run.
set -u
here=$(cd "$(dirname "$0")" && pwd)
sluice=${SLUICE:-$here/../sluice}
py=/usr/bin/python3
$py -c 'import sklearn, xgboost' 2>/dev/null || { echo "python3-sklearn/xgboost missing: skipped"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
. "$here/lib.sh"

$py "$here/models/gen_fidelity.py" "$work/fid" > "$work/gen.log" 2>&1 || { cat "$work/gen.log"; exit 1; }

# One SQL file per case, selecting what its expected file has.
$py - "$work/fid" "$work" <<'PY' || exit 1
import glob, json, os, sys
fid, work = sys.argv[1], sys.argv[2]
vector_cases = {"rf_clf", "mlp_multi", "pipe_lr", "kmeans"}
for exp in sorted(glob.glob(os.path.join(fid, "*.expected.json"))):
    name = os.path.basename(exp)[:-len(".expected.json")]
    d = json.load(open(exp))
    n = d["n_features"]
    row = d["rows"][0]
    xgb = d["kind"] == "xgboost"
    feats = ", ".join("f%d" % i for i in range(n))
    cols = "id INTEGER, " + ", ".join("f%d REAL" % i for i in range(n))
    if name in vector_cases:
        feats = "vector(%s)" % feats
    sel = ["id", "predict(m, %s) AS predict" % feats, "m(%s) AS primary_out" % feats]
    if "label" in row:
        sel.append("predict_label(m, %s) AS label" % feats)
    if "proba" in row:
        sel.append("predict_proba(m, %s) AS proba" % feats)
        sel.append("predict_proba(m, %s, %s) AS proba1" % (feats, json.dumps(d["classes"][-1]).replace('"', "'")))
    if "decision" in row and d["kind"] in ("linear", "pipeline"):
        sel.append("decision_function(m, %s) AS decision" % feats)
    if "transform" in row:
        sel.append("transform(m, %s) AS transform" % feats)
    sql = ("CREATE MODEL m FROM '%s/%s.json';\n"
           "SELECT %s\nFROM file('%s/%s.csv', format => 'csv', header => true, columns => '%s')\n"
           "INTO file('%s/%s.out.jsonl', format => 'json');\n"
           % (fid, name, ",\n       ".join(sel), fid, name, cols, work, name))
    open(os.path.join(work, name + ".sql"), "w").write(sql)
    open(os.path.join(work, "cases"), "a").write(name + "\n")
PY

pairs=()
while read -r name; do
  if "$sluice" --stats run "$work/$name.sql" 2> "$work/$name.err"; then
    grep -q " 0 rejected" "$work/$name.err" && ok || { bad "$name: rejected rows"; cat "$work/$name.err"; }
    pairs+=("$work/fid/$name.expected.json" "$work/$name.out.jsonl")
  else
    bad "$name: sluice failed"
    cat "$work/$name.err"
  fi
done < "$work/cases"
# the checker also compares the extra columns: primary_out with predict, proba1 with proba
$py - "${pairs[@]}" <<'PY' && ok || bad "primary output and one-class proba"
import json, sys
args = sys.argv[1:]
bad = 0
for exp, out in zip(args[0::2], args[1::2]):
    d = json.load(open(exp))
    last = d["classes"][-1] if d.get("classes") else None
    for line in open(out):
        r = json.loads(line)
        if r["primary_out"] != r["predict"]:
            bad += 1
        if "proba1" in r:
            p = r["proba"]
            want = p[str(last)] if isinstance(p, dict) else p[-1]
            if r["proba1"] != want:
                bad += 1
if bad:
    print("%d mismatches between m(...) and predict(m, ...), or proba1 and proba" % bad)
sys.exit(1 if bad else 0)
PY
$py "$here/models/check_fidelity.py" "${pairs[@]}" && ok || bad "fidelity"

# S3's three iris cases (ids 0-2 of iris_rf)
grep -E '"id":[012],' "$work/iris_rf.out.jsonl" | $py -c '
import json, sys
want = {0: "Iris-setosa", 1: "Iris-versicolor", 2: "Iris-virginica"}
got = {r["id"]: r["label"] for r in map(json.loads, sys.stdin)}
print("iris:", got)
sys.exit(0 if got == want else 1)' && ok || bad "S3 iris labels"

# ---- bad model files ------------------------------------------------------
m=$work/bad
mkdir -p "$m"
good=$work/fid/logreg_bin.json
head -c 200 "$good" > "$m/truncated.json"
echo "this is not json" > "$m/notjson.json"
sed 's/"kind": *"linear"/"kind": "quantum"/' "$good" > "$m/kind.json"
sed 's/"version": *1/"version": 7/' "$good" > "$m/version.json"
$py - "$good" "$m/nan.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
text = json.dumps(d)
d["coef"][0][0] = float("nan")
open(sys.argv[2], "w").write(json.dumps(d))  # writes NaN, as Python does
PY
# Each through the interactive shell (on a pseudo-terminal via script(1)),
# which reports an error and goes on: the good model m stays as it was.
command -v script >/dev/null || { echo "script(1) missing"; exit 1; }
{
  echo "CREATE MODEL m FROM '$good';"
  for f in missing truncated notjson kind version nan; do
    echo "CREATE OR REPLACE MODEL m FROM '$m/$f.json';"
  done
  echo "SELECT b(1, 2, 3);"
  echo "CREATE MODEL b FROM '$good';"
  echo "SELECT b(1, 2, 3);"
  echo "SELECT round(m(1, 0, 0, 0, 0, 0, 0, 0), 6) AS still;"
  echo "SHOW MODELS;"
} > "$work/shell.in"
HOME=$work SHELL=/bin/sh script -qec "exec $sluice --format csv" /dev/null < "$work/shell.in" > "$work/shell.out" 2>&1
tr -d '\r' < "$work/shell.out" > "$work/shell.txt"
want() { # want TEXT: a line of the shell's output contains it
  grep -qF -- "$1" "$work/shell.txt" && ok || bad "shell output lacks: $1"
}
want "model $m/missing.json: No such file or directory"
want "model $m/truncated.json: not valid JSON (truncated or corrupt)"
want "model $m/notjson.json: not valid JSON (truncated or corrupt) near byte 0"
want "model $m/kind.json: unknown model kind \"quantum\""
want "model $m/version.json: format version 7 is not supported (this sluice reads 1)"
want "model $m/nan.json: "
want "model b takes 8 features (or one VECTOR of them); 3 given"
want "no such function: b"
$py - "$good" "$work/shell.txt" <<'PY' && ok || { bad "m unchanged after the failed replacements"; cat "$work/shell.txt"; }
import json, math, sys
d = json.load(open(sys.argv[1]))
p = 1 / (1 + math.exp(-(d["coef"][0][0] + d["intercept"][0])))
text = open(sys.argv[2]).read()
sys.exit(0 if ("%.6f" % p).rstrip("0") in text else 1)
PY
# the exporter's command line: a pickled pipeline -> JSON -> sluice
$py - "$work/pipe.pkl" <<'PY'
import pickle, sys
import numpy as np
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.linear_model import LogisticRegression
rng = np.random.RandomState(3)
X = rng.normal(size=(200, 3))
y = np.where(X[:, 0] + X[:, 1] > 0, "yes", "no")
pickle.dump(make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y), open(sys.argv[1], "wb"))
PY
$py "$here/../udf/export/sluice_export.py" "$work/pipe.pkl" "$work/pipe.json" --feature-names a,b,c &&
  "$sluice" --format csv -e "CREATE MODEL p FROM '$work/pipe.json';
    SELECT predict_label(p, 2.0, 1.0, 0.0) AS l, round(predict_proba(p, 2.0, 1.0, 0.0, 'yes'), 12) AS y;
    DESCRIBE p" > "$work/pipe.out" 2>&1
$py - "$work/pipe.pkl" "$work/pipe.out" <<'PY' && ok || { bad "exporter command line"; cat "$work/pipe.out"; }
import pickle, sys
m = pickle.load(open(sys.argv[1], "rb"))
out = open(sys.argv[2]).read()
label = m.predict([[2.0, 1.0, 0.0]])[0]
p = m.predict_proba([[2.0, 1.0, 0.0]])[0][list(m.classes_).index("yes")]
ok = ("%s,%s" % (label, repr(round(p, 12)))) in out and "inputs,\"3: a, b, c\"" in out
sys.exit(0 if ok else 1)
PY
$py "$here/../udf/export/sluice_export.py" "$work/nope.pkl" "$work/x.json" 2> "$work/exp.err"
[ $? -ne 0 ] && [ ! -f "$work/x.json" ] && ok || bad "exporter: a missing input is an error"

finish models
