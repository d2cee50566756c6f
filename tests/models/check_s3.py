#!/usr/bin/python3
"""check_s3.py - S3's output lines against scikit-learn.

Refits the iris forest exactly as sql-examples/gen_models.py does and checks
that every output line is the input line plus the forest's label, in order.

usage: check_s3.py OUTPUT_LINES INPUT_CSV
"""
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