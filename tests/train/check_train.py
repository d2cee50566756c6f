#!/usr/bin/python3
"""tests/train/check_train.py SLUICE WORKDIR - fidelity of online learning.

Runs sluice's train() over fixed batches (one tumbling window each) and
compares the weights / centres after every update with spark_ref.py, a plain
NumPy implementation of Spark MLlib's rules, to 1e-9 (relative to the
magnitude).  Then checks that predict() uses the last version, that EXPORT
MODEL writes a model that CREATE MODEL reads back to the same predictions,
and that bad records are rejected and counted.  Prints one line per check
and exits 1 on any failure.
"""
import json
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import spark_ref as ref  # noqa: E402

SLUICE, WORK = sys.argv[1], sys.argv[2]
failures = 0


def check(ok, what):
    global failures
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures += 1


def close(a, b, tol=1e-9):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return a.shape == b.shape and bool(np.all(np.abs(a - b) <= tol * np.maximum(1.0, np.abs(b))))


def run(sql, stats=False):
    path = os.path.join(WORK, "q.sql")
    with open(path, "w") as f:
        f.write(sql)
    args = [SLUICE, "run"] + (["--stats"] if stats else []) + [path]
    p = subprocess.run(args, capture_output=True, text=True, cwd=WORK)
    if p.returncode != 0 and not stats:
        print(p.stderr)
        raise SystemExit("sluice failed")
    rows = [json.loads(l) for l in p.stdout.splitlines() if l.strip()]
    return rows, p.stderr


def write_batches(name, batches, fmt):
    """One line per record: ts<TAB>label<TAB>features; batch b at ts b*1000.."""
    path = os.path.join(WORK, name)
    with open(path, "w") as f:
        for b, (y, X) in enumerate(batches):
            for r in range(len(X)):
                f.write("%d\t%r\t%s\n" % (b * 1000 + r % 1000, float(y[r]), fmt(X[r])))
    return name


def comma(x):
    return ",".join(repr(float(v)) for v in x)


def jarr(x):
    return "[" + ", ".join(repr(float(v)) for v in x) + "]"


STREAM = ("CREATE STREAM pts (ts INT, label REAL, f TEXT) FROM file('%s', format => 'csv', "
          "delimiter => char(9));\n")
rng = np.random.default_rng(20261122)


def linear_case(title, d, sizes, opts, step, iters, fraction=1.0, reg=0.0, tol=0.001,
                logistic=False, intercept=False, w0=None, fmt=comma):
    wt = rng.normal(size=d)
    batches = []
    for n in sizes:
        X = rng.normal(size=(n, d))
        if logistic:
            y = (rng.random(n) < 1 / (1 + np.exp(-(X @ wt)))).astype(float)
        else:
            y = X @ wt + 0.3 + 0.1 * rng.normal(size=n)
        batches.append((y, X))
    name = write_batches("lin.tsv", batches, fmt)
    typ = "logistic_sgd" if logistic else "linear_sgd"
    sql = "CREATE MODEL m TYPE %s WITH (%s);\n" % (typ, opts) + STREAM % name
    sql += ("SELECT window_end, train(m, label, f) AS v FROM pts "
            "GROUP BY TUMBLE(ts, INTERVAL '1' SECOND);\n")
    rows, _ = run(sql)
    w = np.zeros(d + (1 if intercept else 0)) if w0 is None else np.array(w0, dtype=float)
    ok = len(rows) == len(sizes)
    worst = 0.0
    for b, (y, X) in enumerate(batches):
        w = ref.sgd_update(w, y, X, step, iters, fraction, reg, tol, logistic, intercept)
        if not ok:
            break
        v = rows[b]["v"]
        got = np.array(v["weights"] + ([v["intercept"]] if intercept else []))
        worst = max(worst, float(np.max(np.abs(got - w) / np.maximum(1.0, np.abs(w)))))
        ok = close(got, w) and v["version"] == b + 2 and v["count"] == len(y)
    check(ok, "%s: %d updates equal the NumPy reference (worst relative error %.1e)"
          % (title, len(sizes), worst))
    return batches, w


# ---- linear_sgd ---------------------------------------------------------------
sizes = [40, 77, 120, 1, 63, 200, 90, 55]
w0 = rng.normal(size=20)
linear_case("linear_sgd, initial weights, 5 iterations", 20, sizes,
            "step => 0.05, iterations => 5, convergence_tol => 0, initial_weights => '%s'" % jarr(w0),
            0.05, 5, tol=0.0, w0=w0)
linear_case("linear_sgd, 1 iteration (S6 settings)", 100, [50, 80, 60, 90],
            "step => 0.01, iterations => 1", 0.01, 1)
linear_case("linear_sgd, intercept, mini_batch_fraction 0.6", 6, sizes,
            "step => 0.1, iterations => 4, mini_batch_fraction => 0.6, intercept => true, "
            "convergence_tol => 0", 0.1, 4, fraction=0.6, tol=0.0, intercept=True, fmt=jarr)
batches, w_last = linear_case(
    "linear_sgd, early stop by convergence_tol", 5, [300, 300, 300],
    "step => 0.5, iterations => 200, convergence_tol => 0.01", 0.5, 200, tol=0.01)

# predict() with the last version; EXPORT / CREATE MODEL FROM round trip
X = rng.normal(size=(50, 5))
with open(os.path.join(WORK, "feat.csv"), "w") as f:
    for x in X:
        f.write('"%s"\n' % comma(x))
sql = ("CREATE MODEL m TYPE linear_sgd WITH (step => 0.5, iterations => 200, convergence_tol => 0.01);\n"
       + STREAM % "lin.tsv"
       + "SELECT train(m, label, f) AS v FROM pts GROUP BY TUMBLE(ts, INTERVAL '1' SECOND);\n"
       "EXPORT MODEL m TO 'exported.json';\n"
       "CREATE MODEL back FROM 'exported.json';\n"
       "SELECT predict(m, f) AS p, predict(back, vector(f)) AS q FROM file('feat.csv', format => 'csv', columns => 'f TEXT');\n")
rows, _ = run(sql)
preds = [r["p"] for r in rows if "p" in r]
back = [r["q"] for r in rows if "q" in r]
check(close(preds, X @ w_last, 1e-12), "predict() uses the last version (50 predictions)")
check(close(back, preds, 1e-15), "EXPORT MODEL then CREATE MODEL FROM: the same predictions")

# ---- logistic_sgd ---------------------------------------------------------------
linear_case("logistic_sgd, reg_param 0.05, intercept, 10 iterations", 8, sizes,
            "step => 0.5, iterations => 10, reg_param => 0.05, intercept => true, convergence_tol => 0",
            0.5, 10, reg=0.05, tol=0.0, logistic=True, intercept=True)
linear_case("logistic_sgd, defaults (step 0.1, 50 iterations, tol 0.001)", 4, [500, 500],
            "", 0.1, 50, logistic=True)

# ---- kmeans_stream ---------------------------------------------------------------


def clusters(n, d, k, spread=0.5):
    mu = rng.normal(scale=4.0, size=(k, d))
    lab = rng.integers(0, k, size=n)
    return mu[lab] + spread * rng.normal(size=(n, d))


def kmeans_case(title, d, sizes, opts, centers, weights, decay, points=False, positional=False):
    batches = [(np.zeros(n), clusters(n, d, 3)) for n in sizes]
    name = write_batches("km.tsv", batches, comma)
    sql = "CREATE MODEL k TYPE kmeans_stream WITH (%s);\n" % opts + STREAM % name
    feats = "f"
    if positional:
        sql = sql.replace("(ts INT, label REAL, f TEXT)", "(ts INT, label REAL, f TEXT)")
        feats = ", ".join("vector_get(vector(f), %d)" % j for j in range(d))
    sql += ("SELECT window_end, train(k, %s) AS v FROM pts "
            "GROUP BY TUMBLE(ts, INTERVAL '1' SECOND);\n" % feats)
    rows, _ = run(sql)
    ok = len(rows) == len(sizes)
    for b, (_, X) in enumerate(batches):
        centers, weights = ref.kmeans_update(centers, weights, X, decay, points)
        if not ok:
            break
        v = rows[b]["v"]
        ok = close(v["centers"], centers) and close(v["cluster_weights"], weights)
    check(ok, "%s: %d updates equal the NumPy reference" % (title, len(sizes)))
    return centers


c0 = rng.normal(size=(3, 4))
kmeans_case("kmeans_stream, initial centres and weights, decay 0.7", 4, sizes,
            "initial_centers => '%s', initial_weights => '[1, 2, 3]', decay => 0.7"
            % json.dumps(c0.tolist()), c0, [1.0, 2.0, 3.0], 0.7)
kmeans_case("kmeans_stream, random centres (seed 7), half_life 300 points", 4, sizes,
            "k => 3, seed => 7, half_life => 300, time_unit => 'points'",
            ref.random_centers(3, 4, 7), [0.0] * 3, np.exp(np.log(0.5) / 300), points=True,
            positional=True)
far = np.array([[0.0, 0.0], [1.0, 1.0], [1e6, 1e6]])
kmeans_case("kmeans_stream, a dying cluster is split", 2, [100, 100, 100],
            "initial_centers => '%s', decay => 1.0" % json.dumps(far.tolist()), far,
            [0.0] * 3, 1.0)

# ---- bad records and errors ---------------------------------------------------------
with open(os.path.join(WORK, "bad.tsv"), "w") as f:
    f.write("0\t1\t1,2\n10\t2\t1,2\n20\t0\t1,2,3\n30\tx\t1,2\n40\t0\tnot,numbers\n50\t1\t3,4\n")
sql = ("CREATE MODEL m TYPE logistic_sgd WITH (features => 2);\n" + STREAM % "bad.tsv"
       + "SELECT train(m, label, f) AS v FROM pts GROUP BY TUMBLE(ts, INTERVAL '1' SECOND);\n")
rows, err = run(sql, stats=True)
check(len(rows) == 1 and rows[0]["v"]["count"] == 2 and "4 rejected" in err,
      "bad labels / feature counts / text are rejected and counted (2 kept, 4 rejected)")
# (the bind errors of CREATE MODEL ... TYPE and train(): tests/sql/models.slt)

sys.exit(1 if failures else 0)
