#!/usr/bin/python3
# gen_models.py - train the models and write the input data the scenario
# examples in sql-examples/ use, deterministically (fixed seeds, one thread):
#   S1  models/churn_lr.json   LogisticRegression on games-expand.csv, as the seed
#   S3  models/iris_rf.json    RandomForestClassifier(10 trees) on iris, string labels
#       data/iris.csv          the 150 iris rows, "5.1,3.5,1.4,0.2"
#   S4  models/fraud.xgb.json  XGBoost binary:logistic (xgboost's own JSON)
#       data/fraud.jsonl       1000 records {"recordID", "featuresVector"}
# Paths are relative to this file, so it runs from any directory:
#   /usr/bin/python3 sql-examples/gen_models.py [--games PATH/games-expand.csv]
# (default: ../tests/data/games-expand.csv from here).  Needs Debian's
# python3-sklearn 1.2 and python3-xgboost 1.7 (/usr/bin/python3).
"""Train and write the S1, S3 and S4 example models and data."""

import os

# One thread everywhere, before numpy/sklearn/xgboost load their runtimes:
# parallel reductions could otherwise change the last bits between runs.
for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_v] = "1"

import argparse  # noqa: E402
import csv  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402

import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "udf", "export"))

import sluice_export  # noqa: E402

GAMES_CSV = os.path.join(HERE, "..", "tests", "data", "games-expand.csv")

IRIS_LABELS = ["Iris-setosa", "Iris-versicolor", "Iris-virginica"]
IRIS_SEED = 0  # checked: the forest gives the article's three answers
# The S3 article's tests: features -> label.
IRIS_ARTICLE_ROWS = [
    ([5.1, 3.5, 1.4, 0.2], "Iris-setosa"),
    ([6.2, 2.2, 4.5, 1.5], "Iris-versicolor"),
    ([6.1, 2.6, 5.6, 1.4], "Iris-virginica"),
]

FRAUD_SEED = 4
FRAUD_TRAIN = 5000
FRAUD_RECORDS = 1000


def train_churn(games_csv):
    """Fits S1's model: LogisticRegression() on G1..G10 -> label.

    Exactly the seed's fit (pd.read_csv, then model.fit(df.iloc[:, 0:10],
    df['label'])) without pandas: the integer columns become float64 as sklearn
    would convert them, the label stays integer so classes are [0, 1].  Same
    fit as bench/fit_weights.py.  Returns the fitted model.
    """
    from sklearn.linear_model import LogisticRegression
    with open(games_csv, newline="") as f:
        rows = list(csv.reader(f))
    if rows[0][:11] != ["G%d" % i for i in range(1, 11)] + ["label"]:
        raise SystemExit("%s: unexpected header %r" % (games_csv, rows[0]))
    data = np.array(rows[1:], dtype=np.int64)
    x, y = data[:, :10].astype(np.float64), data[:, 10]
    return LogisticRegression().fit(x, y)


def iris_data():
    """Returns (X, y) of sklearn's bundled iris: 150x4 floats, string labels."""
    from sklearn.datasets import load_iris
    d = load_iris()
    return d.data, np.array(IRIS_LABELS)[d.target]


def train_iris():
    """Fits S3's RandomForestClassifier(n_estimators=10) on all of iris.

    Checks that it labels the article's three rows as the article does and
    returns the fitted forest.
    """
    from sklearn.ensemble import RandomForestClassifier
    x, y = iris_data()
    rf = RandomForestClassifier(n_estimators=10, random_state=IRIS_SEED)
    rf.fit(x, y)
    got = rf.predict(np.array([r for r, _ in IRIS_ARTICLE_ROWS])).tolist()
    want = [label for _, label in IRIS_ARTICLE_ROWS]
    if got != want:
        raise SystemExit("iris forest labels the article rows %r, not %r"
                         % (got, want))
    return rf


def fraud_data():
    """Returns (X_train, y_train, X_records) of the S4 fraud data set.

    10 features, about 5% positives, values rounded to 4 decimals as a
    producer would send them; the 1000 scored records are not training rows.
    """
    from sklearn.datasets import make_classification
    x, y = make_classification(
        n_samples=FRAUD_TRAIN + FRAUD_RECORDS, n_features=10, n_informative=6,
        n_redundant=2, weights=[0.95], flip_y=0.005, class_sep=1.2,
        random_state=FRAUD_SEED)
    x = np.round(x, 4)
    return x[:FRAUD_TRAIN], y[:FRAUD_TRAIN], x[FRAUD_TRAIN:]


def train_fraud(x, y):
    """Fits S4's XGBClassifier (binary:logistic) on (x, y); returns it."""
    import xgboost as xgb
    m = xgb.XGBClassifier(n_estimators=30, max_depth=3, learning_rate=0.3,
                          objective="binary:logistic", tree_method="exact",
                          n_jobs=1, random_state=FRAUD_SEED)
    return m.fit(x, y)


def write_iris_csv(path):
    """Writes the 150 iris rows as 'f1,f2,f3,f4' lines, no header."""
    x, _ = iris_data()
    with open(path, "w") as f:
        for row in x.tolist():
            f.write(",".join(repr(v) for v in row) + "\n")


def write_fraud_jsonl(path, records):
    """Writes one {"recordID": "r000001", "featuresVector": [...]} per line."""
    with open(path, "w") as f:
        for i, row in enumerate(records.tolist(), 1):
            f.write(json.dumps({"recordID": "r%06d" % i,
                                "featuresVector": row}) + "\n")


def main():
    """Writes every model and data file; prints what it wrote."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--games", default=GAMES_CSV,
                    help="S1 training set (default: %(default)s)")
    args = ap.parse_args()
    models = os.path.join(HERE, "models")
    data = os.path.join(HERE, "data")
    os.makedirs(models, exist_ok=True)
    os.makedirs(data, exist_ok=True)

    written = []
    churn = train_churn(args.games)
    p = os.path.join(models, "churn_lr.json")
    sluice_export.export(churn, p, ["G%d" % i for i in range(1, 11)])
    written.append(p)

    p = os.path.join(models, "iris_rf.json")
    sluice_export.export(train_iris(), p, ["sepal_length", "sepal_width",
                                           "petal_length", "petal_width"])
    written.append(p)
    p = os.path.join(data, "iris.csv")
    write_iris_csv(p)
    written.append(p)

    x, y, records = fraud_data()
    fraud = train_fraud(x, y)
    p = os.path.join(models, "fraud.xgb.json")
    fraud.save_model(p)
    written.append(p)
    p = os.path.join(data, "fraud.jsonl")
    write_fraud_jsonl(p, records)
    written.append(p)
    scores = fraud.predict_proba(records)[:, 1]
    print("fraud: %d of %d training rows positive; %d of %d records score > 0.5"
          % (int(y.sum()), len(y), int((scores > 0.5).sum()), len(records)))
    for p in written:
        print("wrote %s (%d bytes)" % (os.path.relpath(p), os.path.getsize(p)))


if __name__ == "__main__":
    main()
