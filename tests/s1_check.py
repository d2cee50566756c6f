#!/usr/bin/python3
"""s1_check.py - checks S1 predictions against scikit-learn.

Fits LogisticRegression on the S1 training set (G1..G10 -> label), as the S1
article does, and checks that every input record's User_ID appears in the
predictions with pred == predict_proba(x)[0][0] (the seed's UDF) to 1e-12.

usage: s1_check.py GAMES_CSV INPUT.jsonl PREDS.jsonl [LABEL [FIELD CLASS]]
(FIELD CLASS: check that field against predict_proba(x)[0][CLASS] instead;
the default is pred and class 0).
Prints "LABEL: N passed, M failed"; exit status 1 on any failure.
"""
import csv
import json
import sys

import numpy as np
from sklearn.linear_model import LogisticRegression


def main():
    games, inp_path, preds_path = sys.argv[1:4]
    label = sys.argv[4] if len(sys.argv) > 4 else "s1"
    field = sys.argv[5] if len(sys.argv) > 5 else "pred"
    cls = int(sys.argv[6]) if len(sys.argv) > 6 else 0
    rows = list(csv.DictReader(open(games)))
    X = np.array([[float(r["G%d" % k]) for k in range(1, 11)] for r in rows])
    y = np.array([float(r["label"]) for r in rows])
    model = LogisticRegression().fit(X, y)
    inp = [json.loads(line) for line in open(inp_path)]
    want = model.predict_proba(np.array([[r["G%d" % k] for k in range(1, 11)] for r in inp]))[:, cls]
    got = {}
    for line in open(preds_path):
        o = json.loads(line)
        got[o["User_ID"]] = o[field]
    bad = 0
    for r, w in zip(inp, want):
        p = got.get(r["User_ID"])
        if p is None or abs(p - w) > 1e-12 * max(1.0, abs(w)):
            bad += 1
            if bad <= 5:
                print("mismatch", r["User_ID"], p, w)
    print("%s: %d passed, %d failed" % (label, len(inp) - bad, bad))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
