#!/usr/bin/python3
"""bench/train_numpy.py - the peer of bench/train_run.sh: the same streaming
updates as sluice's train(), done with NumPy (tests/train/spark_ref.py).

  train_numpy.py gen linear|kmeans FILE N      write N records, 1000 per second
  train_numpy.py run linear|kmeans FILE        read FILE, one update per
                                               1000-record window; prints
                                               JSON {"total_s", "update_s", "final"}

Lines are `ts<TAB>label<TAB>f1,...,fd` (ts in ms: record i at i ms, so each
1-second window holds 1000 records).  `run` reads the file line by line,
groups a window's lines, parses their features with np.fromstring and calls
the reference update: total_s is the whole run (read, parse, update),
update_s the update calls alone (NumPy on arrays already in memory).
"""
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "train"))
import spark_ref as ref  # noqa: E402

LINEAR_D, KMEANS_D, KMEANS_K = 100, 10, 10
STEP, ITERS = 0.01, 1
DECAY = 0.9


def gen(kind, path, n):
    rng = np.random.default_rng(7)
    with open(path, "w") as f:
        if kind == "linear":
            w = rng.normal(size=LINEAR_D)
            for s in range(0, n, 1000):
                X = np.round(rng.normal(size=(min(1000, n - s), LINEAR_D)), 6)
                y = X @ w + 3.0
                f.writelines("%d\t%.6f\t%s\n" % (s + i, y[i], ",".join("%.6f" % v for v in X[i]))
                             for i in range(len(X)))
        else:
            mu = rng.normal(scale=5.0, size=(KMEANS_K, KMEANS_D))
            for s in range(0, n, 1000):
                m = min(1000, n - s)
                X = np.round(mu[rng.integers(0, KMEANS_K, size=m)] + rng.normal(size=(m, KMEANS_D)), 6)
                f.writelines("%d\t0\t%s\n" % (s + i, ",".join("%.6f" % v for v in X[i]))
                             for i in range(m))


def run(kind, path):
    t0 = time.perf_counter()
    upd = 0.0
    d = LINEAR_D if kind == "linear" else KMEANS_D
    w = np.zeros(d)
    centers = ref.random_centers(KMEANS_K, KMEANS_D, 42)
    weights = np.zeros(KMEANS_K)

    def update(labels, feats):
        nonlocal w, centers, weights, upd
        X = np.fromstring(",".join(feats), sep=",").reshape(len(feats), d)
        y = np.array(labels, dtype=float)
        u0 = time.perf_counter()
        if kind == "linear":
            w = ref.sgd_update(w, y, X, STEP, ITERS)
        else:
            centers, weights = ref.kmeans_update(centers, weights, X, DECAY)
        upd += time.perf_counter() - u0

    window, labels, feats = None, [], []
    with open(path) as f:
        for line in f:
            ts, label, fs = line.rstrip("\n").split("\t")
            win = int(ts) // 1000
            if win != window and feats:
                update(labels, feats)
                labels, feats = [], []
            window = win
            labels.append(label)
            feats.append(fs)
    if feats:
        update(labels, feats)
    total = time.perf_counter() - t0
    final = w.tolist() if kind == "linear" else centers.tolist()
    print(json.dumps({"total_s": total, "update_s": upd, "final": final}))


if __name__ == "__main__":
    if sys.argv[1] == "gen":
        gen(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        run(sys.argv[2], sys.argv[3])
