#!/usr/bin/python3
"""bench/models_gen.py - models and data for the scoring benchmark, and the
training libraries' own timings.

usage: models_gen.py OUTDIR ROWS

Trains four models on the same generated data (10 features, fixed seeds):
  lr   LogisticRegression
  rf   RandomForestClassifier(n_estimators=100, max_depth=8)
  xgb  XGBClassifier(n_estimators=100, max_depth=6), binary:logistic
  mlp  MLPClassifier(hidden_layer_sizes=(64, 64))
exports them (OUTDIR/NAME.json; xgb in xgboost's own JSON), writes ROWS
test rows to OUTDIR/x.csv (header id,f0..f9), and times the library on the
same rows, single-threaded: per row (the seeds' UDF pattern, one
predict_proba call per record) and batched (1000 rows per call; the median
of three passes).  Prints
one line per model: "python NAME per_row R batched B" in rows/s, and
writes the library's P(class 1) for every row to OUTDIR/NAME.expected.
"""
import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import xgboost as xgb  # noqa: E402
from sklearn.datasets import make_classification  # noqa: E402
from sklearn.ensemble import RandomForestClassifier  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "udf", "export"))
import sluice_export  # noqa: E402


def rate(fn, rows, budget=3.0):
    """Rows per second of fn(rows) -> calls fn on growing prefixes until the
    time budget is spent; fn returns how many rows it scored."""
    n, t, done = 0, 0.0, 0
    start = time.perf_counter()
    while time.perf_counter() - start < budget and done < len(rows):
        t0 = time.perf_counter()
        k = fn(rows[done:done + 200])
        t += time.perf_counter() - t0
        done += 200
        n += k
    return n / t


def main():
    out, nrows = sys.argv[1], int(sys.argv[2])
    os.makedirs(out, exist_ok=True)
    X, y = make_classification(n_samples=20000 + nrows, n_features=10, n_informative=6,
                               random_state=7)
    Xtr, ytr, Xte = X[:20000], y[:20000], X[20000:]
    models = {
        "lr": LogisticRegression(max_iter=1000),
        "rf": RandomForestClassifier(n_estimators=100, max_depth=8, random_state=1, n_jobs=1),
        "xgb": xgb.XGBClassifier(n_estimators=100, max_depth=6, n_jobs=1, random_state=1,
                                 tree_method="hist"),
        "mlp": MLPClassifier(hidden_layer_sizes=(64, 64), max_iter=50, random_state=1),
    }
    with open(os.path.join(out, "x.csv"), "w") as f:
        f.write("id," + ",".join("f%d" % i for i in range(10)) + "\n")
        for i, r in enumerate(Xte):
            f.write("%d,%s\n" % (i, ",".join(repr(float(v)) for v in r)))
    for name, m in models.items():
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m.fit(Xtr, ytr)
        path = os.path.join(out, name + ".json")
        if name == "xgb":
            m.save_model(path)
        else:
            sluice_export.export(m, path)
        p1 = m.predict_proba(Xte)[:, 1]
        with open(os.path.join(out, name + ".expected"), "w") as f:
            f.write("\n".join(repr(float(v)) for v in p1) + "\n")

        def per_row(rows, m=m):
            for r in rows:
                m.predict_proba(r.reshape(1, -1))
            return len(rows)

        def batched(rows, m=m, X=Xte):
            for i in range(0, len(X), 1000):
                m.predict_proba(X[i:i + 1000])
            return len(X)

        runs = []
        for _ in range(3):  # the median of three: the machine is noisy
            t0 = time.perf_counter()
            batched(None)
            runs.append(time.perf_counter() - t0)
        t_b = sorted(runs)[1]
        r = rate(per_row, Xte)
        print("python %s per_row %.0f batched %.0f" % (name, r, len(Xte) / t_b), flush=True)


if __name__ == "__main__":
    main()
