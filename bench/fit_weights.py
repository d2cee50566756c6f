#!/usr/bin/python3
"""bench/fit_weights.py - how bench/weights.txt was made (not run by the benchmark).

Fits sklearn's LogisticRegression (default settings) on G1..G10 -> label of the S1
training set (games-expand.csv, 22,905 rows, given as the first argument) and prints
the weights in the format of bench/weights.txt.  The S1 seed's UDF returns
predict_proba(x)[0][0], the probability of class 0, which equals
1/(1+exp(-(w0 + w1*G1 + ... + w10*G10))) with w = -(intercept, coef); so the
printed weights are the negated sklearn parameters.

Usage: /usr/bin/python3 bench/fit_weights.py path/to/games-expand.csv > bench/weights.txt
"""
import csv
import sys

import numpy as np
from sklearn.linear_model import LogisticRegression


def main():
    """Fits the model on the CSV named by argv[1] and prints weights.txt."""
    with open(sys.argv[1], newline="") as f:
        rows = list(csv.reader(f))
    data = np.array(rows[1:], dtype=float)
    x, y = data[:, :10], data[:, 10]
    model = LogisticRegression().fit(x, y)
    weights = [-model.intercept_[0]] + [-c for c in model.coef_[0]]
    print("# S1 benchmark weights: P(class 0) = 1/(1+exp(-(w0 + w1*G1 + ... + w10*G10))).")
    print("# Negated intercept/coefficients of sklearn LogisticRegression() fitted on")
    print("# games-expand.csv (G1..G10 -> label); made by bench/fit_weights.py.")
    print("# Every S1 peer (sluice, sqlite3, cJSON, Python) reads its weights from here.")
    for i, w in enumerate(weights):
        print("w%d %r" % (i, float(w)))


if __name__ == "__main__":
    main()
