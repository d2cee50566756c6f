#!/usr/bin/python3
# gen_fidelity.py - make the model fidelity test cases: train every model kind
# sluice scores, with fixed seeds, on generated data, and write per case NAME:
#   OUTDIR/NAME.json           the model (sluice model JSON from
#                              udf/export/sluice_export.py, or xgboost's own JSON)
#   OUTDIR/NAME.csv            >= 1000 test rows, header id,f0,f1,...; numbers
#                              written by repr() (exact); for XGBoost about 5%
#                              of the fields are empty (NULL = missing)
#   OUTDIR/NAME.expected.json  the library's own predict / predict_proba /
#                              decision_function / transform for every row
# check_fidelity.py compares sluice's output with NAME.expected.json.
#
#   /usr/bin/python3 tests/models/gen_fidelity.py OUTDIR [--selfcheck]
#
# --selfcheck also scores every written model with the small numpy/Python
# reference evaluator below, which follows docs/models.md (and, for XGBoost,
# the JSON xgboost writes) and nothing else, and checks it against the
# expected files with check_fidelity.compare: proof that the format carries
# everything needed to reproduce the library, before the C side exists.
# It also checks that unsupported estimators are refused.
# Output is byte-identical from run to run (fixed seeds, one thread).
"""Generate (and optionally self-check) the model fidelity test cases."""

import os

# One thread everywhere, before numpy/sklearn/xgboost load their runtimes:
# parallel reductions could otherwise change the last bits between runs.
for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_v] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import sys  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "udf", "export"))
sys.path.insert(0, os.path.join(ROOT, "sql-examples"))
sys.path.insert(0, HERE)

import check_fidelity  # noqa: E402
import gen_models  # noqa: E402
import sluice_export  # noqa: E402
import xgboost as xgb  # noqa: E402
from sklearn import cluster, datasets, ensemble, linear_model  # noqa: E402
from sklearn import neural_network, pipeline, preprocessing, tree  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402

N_TRAIN = 1000
N_TEST = 1000
MISSING_RATE = 0.05
XGB_PARAMS = dict(n_jobs=1, random_state=7)


# ---------------------------------------------------------------------------
# Data


def split(x, y=None):
    """Splits generated data into (x_train, y_train, x_test): the last N_TEST
    rows are the test rows, never trained on."""
    return (x[:-N_TEST], None if y is None else y[:-N_TEST], x[-N_TEST:])


def clf_data(n_classes, seed, n_features=8, labels=None):
    """Returns (x_train, y_train, x_test) for classification; y is mapped
    through `labels` (a list of n_classes labels) when given."""
    x, y = datasets.make_classification(
        n_samples=N_TRAIN + N_TEST, n_features=n_features, n_informative=5,
        n_redundant=1, n_classes=n_classes, n_clusters_per_class=1,
        class_sep=1.0, flip_y=0.03, random_state=seed)
    if labels is not None:
        y = np.array(labels)[y]
    return split(x, y)


def reg_data(seed, n_features=8, scale=1.0):
    """Returns (x_train, y_train, x_test) for regression; y is divided by
    its standard deviation when scale is None."""
    x, y = datasets.make_regression(
        n_samples=N_TRAIN + N_TEST, n_features=n_features, n_informative=6,
        noise=10.0, random_state=seed)
    y = y / y.std() if scale is None else y * scale
    return split(x, y)


def with_missing(x, seed):
    """Returns a copy of x with about MISSING_RATE of its entries NaN."""
    x = x.copy()
    x[np.random.RandomState(seed).rand(*x.shape) < MISSING_RATE] = np.nan
    return x


def iris_test_rows():
    """Returns the S3 article's three rows followed by N_TEST iris-like rows
    (iris rows plus noise, one decimal, as in the data set)."""
    x, _ = gen_models.iris_data()
    rs = np.random.RandomState(11)
    pick = x[rs.randint(0, len(x), N_TEST)]
    noisy = np.round(np.clip(pick + rs.normal(0, 0.3, pick.shape), 0.1, None), 1)
    article = np.array([r for r, _ in gen_models.IRIS_ARTICLE_ROWS])
    return np.vstack([article, noisy])


# ---------------------------------------------------------------------------
# The cases


def sklearn_cases():
    """Yields (name, fitted estimator, x_test, feature_names or None)."""
    lm, en = linear_model, ensemble
    xt, yt, xs = clf_data(2, 1)
    yield "logreg_bin", lm.LogisticRegression().fit(xt, yt), xs, None
    xt, yt, xs = clf_data(2, 2)
    yield ("logreg_bin_mn", lm.LogisticRegression(multi_class="multinomial")
           .fit(xt, yt), xs, None)
    xt, yt, xs = clf_data(4, 3)
    yield "logreg_multi", lm.LogisticRegression().fit(xt, yt), xs, None
    xt, yt, xs = clf_data(3, 4)
    yield ("logreg_ovr", lm.LogisticRegression(multi_class="ovr").fit(xt, yt),
           xs, None)
    xt, yt, xs = clf_data(3, 5, labels=["cat", "dog", "emu"])
    yield ("logreg_str", lm.LogisticRegression(C=0.5).fit(xt, yt), xs,
           ["a%d" % i for i in range(8)])

    xt, yt, xs = reg_data(6)
    yield "linreg", lm.LinearRegression().fit(xt, yt), xs, None
    yield "ridge", lm.Ridge(alpha=2.0).fit(xt, yt), xs, None
    yield "lasso", lm.Lasso(alpha=0.5).fit(xt, yt), xs, None
    yield ("enet", lm.ElasticNet(alpha=0.3, l1_ratio=0.4).fit(xt, yt), xs,
           None)
    yield ("sgd_reg", lm.SGDRegressor(random_state=6).fit(xt, yt), xs, None)

    xt, yt, xs = clf_data(3, 7)
    yield ("sgd_clf", lm.SGDClassifier(loss="log_loss", random_state=7)
           .fit(xt, yt), xs, None)
    xt, yt, xs = clf_data(2, 8)
    yield ("sgd_hinge", lm.SGDClassifier(loss="hinge", random_state=8)
           .fit(xt, yt), xs, None)

    xt, yt, xs = clf_data(3, 9, labels=[3, 7, 11])
    yield ("dt_clf", tree.DecisionTreeClassifier(max_depth=8, random_state=9)
           .fit(xt, yt), xs, None)
    xt, yt, xs = reg_data(10)
    yield ("dt_reg", tree.DecisionTreeRegressor(max_depth=8, random_state=10)
           .fit(xt, yt), xs, None)
    xt, yt, xs = clf_data(3, 11)
    yield ("rf_clf", en.RandomForestClassifier(
        n_estimators=20, max_depth=8, random_state=11).fit(xt, yt), xs, None)
    xt, yt, xs = reg_data(12)
    yield ("rf_reg", en.RandomForestRegressor(
        n_estimators=20, max_depth=8, random_state=12).fit(xt, yt), xs, None)
    xt, yt, xs = clf_data(2, 13)
    yield ("et_clf", en.ExtraTreesClassifier(
        n_estimators=20, max_depth=8, random_state=13).fit(xt, yt), xs, None)
    xt, yt, xs = reg_data(14)
    yield ("et_reg", en.ExtraTreesRegressor(
        n_estimators=20, max_depth=8, random_state=14).fit(xt, yt), xs, None)
    xt, yt, xs = clf_data(2, 15, labels=["no", "yes"])
    yield ("gb_bin", en.GradientBoostingClassifier(
        n_estimators=50, max_depth=3, random_state=15).fit(xt, yt), xs, None)
    xt, yt, xs = clf_data(3, 16)
    yield ("gb_multi", en.GradientBoostingClassifier(
        n_estimators=30, max_depth=3, learning_rate=0.2, random_state=16)
           .fit(xt, yt), xs, None)
    xt, yt, xs = reg_data(17)
    yield ("gb_reg", en.GradientBoostingRegressor(
        n_estimators=50, max_depth=3, subsample=0.8, random_state=17)
           .fit(xt, yt), xs, None)

    x, _ = datasets.make_blobs(n_samples=N_TRAIN + N_TEST, n_features=5,
                               centers=4, random_state=18)
    xt, _, xs = split(x)
    yield ("kmeans", cluster.KMeans(n_clusters=4, n_init=10, random_state=18)
           .fit(xt), xs, None)

    nn = neural_network
    xt, yt, xs = clf_data(2, 19)
    yield ("mlp_bin", nn.MLPClassifier(
        hidden_layer_sizes=(16, 8), activation="relu", max_iter=300,
        random_state=19).fit(xt, yt), xs, None)
    xt, yt, xs = clf_data(3, 20)
    yield ("mlp_multi", nn.MLPClassifier(
        hidden_layer_sizes=(12,), activation="tanh", max_iter=300,
        random_state=20).fit(xt, yt), xs, None)
    xt, yt, xs = reg_data(21, scale=0.01)
    yield ("mlp_reg", nn.MLPRegressor(
        hidden_layer_sizes=(10, 6), activation="logistic", max_iter=500,
        random_state=21).fit(xt, yt), xs, None)

    xt, _, xs = reg_data(22)
    xt, xs = xt * 3 + 5, xs * 3 + 5
    yield "std_scaler", preprocessing.StandardScaler().fit(xt), xs, None
    yield ("minmax_scaler", preprocessing.MinMaxScaler(
        feature_range=(-1, 2), clip=True).fit(xt), xs, None)

    xt, yt, xs = clf_data(2, 23)
    yield ("pipe_lr", pipeline.make_pipeline(
        preprocessing.StandardScaler(), lm.LogisticRegression())
           .fit(xt * 4 - 1, yt), xs * 4 - 1, None)
    xt, yt, xs = clf_data(3, 24)
    yield ("pipe_mlp", pipeline.make_pipeline(
        preprocessing.MinMaxScaler(), nn.MLPClassifier(
            hidden_layer_sizes=(10,), max_iter=400, random_state=24))
           .fit(xt, yt), xs, None)

    yield ("iris_rf", gen_models.train_iris(), iris_test_rows(),
           ["sepal_length", "sepal_width", "petal_length", "petal_width"])


def xgb_cases():
    """Yields (name, Booster, x_test with NaN, objective, note or None)."""
    xt, yt, xs = clf_data(2, 31, n_features=10)
    m = xgb.XGBClassifier(n_estimators=40, max_depth=4, tree_method="hist",
                          **XGB_PARAMS).fit(with_missing(xt, 31), yt)
    xs = with_missing(xs, 131)
    yield "xgb_bin", m.get_booster(), xs, None
    yield ("xgb_bin_vec", m.get_booster(), xs,
           "the xgb_bin model with base_score spelled %s instead of %s "
           "(text edit); predictions unchanged")

    xt, yt, xs = reg_data(32, n_features=10, scale=None)
    m = xgb.XGBRegressor(n_estimators=50, max_depth=4, tree_method="exact",
                         objective="reg:squarederror",
                         **XGB_PARAMS).fit(with_missing(xt, 32), yt)
    yield "xgb_reg", m.get_booster(), with_missing(xs, 132), None

    xt, yt, xs = clf_data(3, 33, n_features=10)
    m = xgb.XGBClassifier(n_estimators=20, max_depth=3, tree_method="hist",
                          objective="multi:softprob",
                          **XGB_PARAMS).fit(with_missing(xt, 33), yt)
    yield "xgb_softprob", m.get_booster(), with_missing(xs, 133), None

    xt, yt, xs = clf_data(4, 34, n_features=10)
    d = xgb.DMatrix(with_missing(xt, 34), label=yt)
    b = xgb.train({"objective": "multi:softmax", "num_class": 4,
                   "max_depth": 3, "eta": 0.3, "tree_method": "exact",
                   "nthread": 1, "seed": 34}, d, num_boost_round=15)
    yield "xgb_softmax", b, with_missing(xs, 134), None


# ---------------------------------------------------------------------------
# Expected outputs


def _label(v):
    """Returns a label as a plain int or str (integral floats become int)."""
    v = v.item() if hasattr(v, "item") else v
    if isinstance(v, float) and v == int(v):
        return int(v)
    return v


def _vec(a):
    """Returns a 1-D array as a list of Python floats."""
    return [float(v) for v in a]


def last_kind(model):
    """Returns the kind of a model's last step (the model's own if not a
    pipeline)."""
    return model["steps"][-1]["kind"] if model["kind"] == "pipeline" \
        else model["kind"]


def sklearn_expected(est, model, x):
    """Returns the expected-file dict of a scikit-learn estimator on rows x,
    from its own predict / predict_proba / decision_function / transform."""
    classes = model.get("classes")
    lk = last_kind(model)
    transformer = lk in ("standard_scaler", "min_max_scaler")
    has_proba = classes is not None and hasattr(est, "predict_proba")
    has_dec = hasattr(est, "decision_function")
    cols = {}
    if transformer:
        cols["transform"] = est.transform(x)
        cols["predict"] = cols["transform"]
        ptype = "vector"
    elif lk == "kmeans":
        cols["predict"] = est.predict(x)
        cols["transform"] = est.transform(x)
        ptype = "index"
    elif classes is not None:
        cols["label"] = est.predict(x)
        if has_proba:
            cols["proba"] = est.predict_proba(x)
        if len(classes) == 2 and has_proba:
            cols["predict"] = cols["proba"][:, 1]
            ptype = "real"
        else:
            cols["predict"] = cols["label"]
            ptype = "label"
    else:
        cols["predict"] = est.predict(x)
        ptype = "real"
    if has_dec:
        cols["decision"] = est.decision_function(x)

    rows = []
    for i in range(len(x)):
        r = {"id": i}
        for c in ("predict", "label", "proba", "decision", "transform"):
            if c not in cols:
                continue
            v = cols[c][i]
            if c == "label" or (c == "predict" and ptype in ("label", "index")):
                r[c] = _label(v)
            elif np.ndim(v) == 0:
                r[c] = float(v)
            else:
                r[c] = _vec(v)
        rows.append(r)
    return {"kind": model["kind"], "n_features": model["n_features"],
            "classes": classes, "predict_type": ptype, "source": model["source"],
            "rows": rows}


def xgb_expected(booster, x, objective, n_classes, note):
    """Returns the expected-file dict of an XGBoost Booster on rows x (NaN =
    missing), from Booster.inplace_predict on the same float data."""
    margin = booster.inplace_predict(x, predict_type="margin")
    out = booster.inplace_predict(x)
    classes = None
    rows = []
    for i in range(len(x)):
        r = {"id": i}
        if objective == "binary:logistic":
            p = np.float32(out[i])
            r["predict"] = float(p)
            r["label"] = int(p > 0.5)
            r["proba"] = [float(np.float32(1) - p), float(p)]
            r["margin"] = float(margin[i])
            classes, ptype = [0, 1], "real"
        elif objective == "multi:softprob":
            k = int(np.argmax(out[i]))
            r["predict"] = k
            r["label"] = k
            r["proba"] = _vec(out[i])
            r["margin"] = _vec(margin[i])
            classes, ptype = list(range(n_classes)), "label"
        elif objective == "multi:softmax":
            r["predict"] = int(out[i])
            r["label"] = int(out[i])
            r["margin"] = _vec(margin[i])
            classes, ptype = list(range(n_classes)), "label"
        else:
            r["predict"] = float(out[i])
            r["margin"] = float(margin[i])
            ptype = "real"
        rows.append(r)
    d = {"kind": "xgboost", "objective": objective,
         "n_features": booster.num_features(), "classes": classes,
         "predict_type": ptype}
    if note:
        d["note"] = note
    d["rows"] = rows
    return d


# ---------------------------------------------------------------------------
# Writing


def write_csv(path, x):
    """Writes rows x as 'id,f0,f1,...' CSV; NaN becomes an empty field."""
    with open(path, "w") as f:
        f.write(",".join(["id"] + ["f%d" % j for j in range(x.shape[1])]) + "\n")
        for i, row in enumerate(x.tolist()):
            f.write(",".join([str(i)] + ["" if math.isnan(v) else repr(v)
                                         for v in row]) + "\n")


def write_expected(path, d):
    """Writes an expected-file dict as JSON, one row per line."""
    head = {k: v for k, v in d.items() if k != "rows"}
    text = json.dumps(head, allow_nan=False)[:-1]
    lines = [json.dumps(r, allow_nan=False) for r in d["rows"]]
    with open(path, "w") as f:
        f.write(text + ', "rows": [\n' + ",\n".join(lines) + "\n]}\n")


def read_csv(path):
    """Reads a case CSV back: (ids, rows as float64 with NaN for empty)."""
    ids, rows = [], []
    with open(path) as f:
        next(f)
        for line in f:
            fields = line.rstrip("\n").split(",")
            ids.append(int(fields[0]))
            rows.append([float(v) if v else math.nan for v in fields[1:]])
    return ids, np.array(rows, dtype=np.float64)


def generate(outdir):
    """Trains, exports and writes every case into outdir; returns the list
    of (name, model path, expected dict) written."""
    os.makedirs(outdir, exist_ok=True)
    written = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for name, est, x, names in sklearn_cases():
            mpath = os.path.join(outdir, name + ".json")
            model = sluice_export.export(est, mpath, names)
            exp = sklearn_expected(est, model, x)
            write_csv(os.path.join(outdir, name + ".csv"), x)
            write_expected(os.path.join(outdir, name + ".expected.json"), exp)
            written.append((name, mpath, exp))

    for name, booster, x, note in xgb_cases():
        mpath = os.path.join(outdir, name + ".json")
        booster.save_model(mpath)
        cfg = json.loads(booster.save_config())
        objective = cfg["learner"]["objective"]["name"]
        n_classes = int(cfg["learner"]["learner_model_param"]["num_class"])
        if note:
            # Respell base_score: "5E-1" <-> "[5E-1]" (xgboost 1.x vs 2.x).
            with open(mpath) as f:
                text = f.read()
            key = '"base_score":"'
            start = text.index(key) + len(key)
            end = text.index('"', start)
            old = text[start:end]
            new = old[1:-1] if old.startswith("[") else "[%s]" % old
            text = text[:start] + new + text[end:]
            with open(mpath, "w") as f:
                f.write(text)
            note = note % (json.dumps(new), json.dumps(old))
        exp = xgb_expected(booster, x, objective, n_classes, note)
        write_csv(os.path.join(outdir, name + ".csv"), x)
        write_expected(os.path.join(outdir, name + ".expected.json"), exp)
        written.append((name, mpath, exp))
    return written


# ---------------------------------------------------------------------------
# Reference evaluator of the sluice model JSON format (docs/models.md)


def f32(v):
    """Rounds a double to float32 and back, as the trees do with features."""
    return float(np.float32(v))


def expit(z):
    """1 / (1 + exp(-z)), without overflow."""
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def softmax(d):
    """exp(d - max) normalised (the form sklearn uses)."""
    m = max(d)
    e = [math.exp(v - m) for v in d]
    s = sum(e)
    return [v / s for v in e]


def argmax(v):
    """Index of the first maximum."""
    best = 0
    for i in range(1, len(v)):
        if v[i] > v[best]:
            best = i
    return best


def dot(row, x):
    """Sum of row[j] * x[j] in index order."""
    s = 0.0
    for a, b in zip(row, x):
        s += a * b
    return s


def classifier_out(model, proba, label_index, decision=None):
    """Returns the output columns of a classifier from its probabilities
    (or None), the index of its label and its decision (or None)."""
    classes = model["classes"]
    out = {"label": classes[label_index]}
    if proba is not None:
        out["proba"] = proba
        out["predict"] = proba[1] if len(classes) == 2 else out["label"]
    else:
        out["predict"] = out["label"]
    if decision is not None:
        out["decision"] = decision
    return out


def eval_linear(m, x):
    """Scores one row with a "linear" model."""
    d = [dot(row, x) + b for row, b in zip(m["coef"], m["intercept"])]
    link = m["link"]
    if link == "identity":
        return {"predict": d[0]}
    dec = d[0] if len(d) == 1 else d
    label = (1 if d[0] > 0 else 0) if len(d) == 1 else argmax(d)
    if link == "logistic":
        p = expit(d[0])
        proba = [1.0 - p, p]
    elif link == "softmax":
        proba = softmax([-d[0], d[0]] if len(d) == 1 else d)
    elif link == "ovr":
        p = [expit(v) for v in d]
        s = sum(p)
        proba = [v / s for v in p]
    elif link == "none":
        proba = None
    else:
        raise AssertionError("unknown link %r" % link)
    return classifier_out(m, proba, label, dec)


def tree_leaf(t, x):
    """Returns the value array of the leaf row x reaches in tree t."""
    node = 0
    while t["left"][node] != -1:
        if f32(x[t["feature"][node]]) <= t["threshold"][node]:
            node = t["left"][node]
        else:
            node = t["right"][node]
    v = t["value"][node]
    return v if isinstance(v, list) else [v]


def eval_trees(m, x):
    """Scores one row with a "tree_ensemble" model."""
    trees = m["trees"]
    if m["combine"] == "proba_mean":
        acc = [0.0] * m["n_outputs"]
        for t in trees:
            v = tree_leaf(t, x)
            s = sum(v) or 1.0
            for k in range(len(acc)):
                acc[k] += v[k] / s
        proba = [a / len(trees) for a in acc]
        return classifier_out(m, proba, argmax(proba))
    if m["combine"] == "mean":
        s = 0.0
        for t in trees:
            s += tree_leaf(t, x)[0]
        return {"predict": s / len(trees)}
    raw = list(m["init"])
    for t in trees:
        raw[t["output"]] += m["learning_rate"] * tree_leaf(t, x)[0]
    if m["link"] == "identity":
        return {"predict": raw[0]}
    if m["link"] == "logistic":
        p = expit(raw[0])
        proba = [1.0 - p, p]
        return classifier_out(m, proba, argmax(proba), raw[0])
    mx = max(raw)
    lse = mx + math.log(sum(math.exp(r - mx) for r in raw))
    proba = [math.exp(r - lse) for r in raw]
    return classifier_out(m, proba, argmax(proba), raw)


ACTIVATIONS = {
    "identity": lambda h: h,
    "relu": lambda h: [max(v, 0.0) for v in h],
    "tanh": lambda h: [math.tanh(v) for v in h],
    "logistic": lambda h: [expit(v) for v in h],
    "softmax": softmax,
}


def eval_mlp(m, x):
    """Scores one row with an "mlp" model."""
    h = list(x)
    n = len(m["coefs"])
    for i, (w, b) in enumerate(zip(m["coefs"], m["intercepts"])):
        h = [dot([w[j][o] for j in range(len(w))], h) + b[o]
             for o in range(len(b))]
        h = ACTIVATIONS[m["activation"] if i < n - 1 else m["out_activation"]](h)
    if "classes" not in m:
        return {"predict": h[0]}
    if len(h) == 1:
        proba = [1.0 - h[0], h[0]]
        return classifier_out(m, proba, 1 if h[0] > 0.5 else 0)
    return classifier_out(m, h, argmax(h))


def eval_kmeans(m, x):
    """Scores one row with a "kmeans" model."""
    dist = [math.sqrt(sum((a - c) ** 2 for a, c in zip(x, ctr)))
            for ctr in m["centers"]]
    best = 0
    for i in range(1, len(dist)):
        if dist[i] < dist[best]:
            best = i
    return {"predict": best, "transform": dist}


def eval_standard_scaler(m, x):
    """Transforms one row with a "standard_scaler"."""
    y = list(x)
    if m["mean"] is not None:
        y = [v - mu for v, mu in zip(y, m["mean"])]
    if m["scale"] is not None:
        y = [v / s for v, s in zip(y, m["scale"])]
    return {"predict": y, "transform": y}


def eval_min_max_scaler(m, x):
    """Transforms one row with a "min_max_scaler"."""
    y = [v * s + mn for v, s, mn in zip(x, m["scale"], m["min"])]
    if m["clip"]:
        lo, hi = m["feature_range"]
        y = [min(max(v, lo), hi) for v in y]
    return {"predict": y, "transform": y}


def eval_pipeline(m, x):
    """Scores one row with a "pipeline": transforms, then the last step."""
    for step in m["steps"][:-1]:
        x = EVALUATORS[step["kind"]](step, x)["transform"]
    return EVALUATORS[m["steps"][-1]["kind"]](m["steps"][-1], x)


EVALUATORS = {
    "linear": eval_linear,
    "tree_ensemble": eval_trees,
    "mlp": eval_mlp,
    "kmeans": eval_kmeans,
    "standard_scaler": eval_standard_scaler,
    "min_max_scaler": eval_min_max_scaler,
    "pipeline": eval_pipeline,
}


def eval_sluice(model, x):
    """Scores one row (list of floats) with a parsed sluice model JSON."""
    assert model["format"] == "sluice-model" and model["version"] == 1
    assert len(x) == model["n_features"]
    return EVALUATORS[model["kind"]](model, x)


# ---------------------------------------------------------------------------
# Reference evaluator of xgboost 1.x JSON models


class XgbModel:
    """An xgboost JSON model parsed for scoring, float32 like xgboost."""

    def __init__(self, doc):
        """Reads trees, tree_info, base_score and the objective from doc."""
        learner = doc["learner"]
        mp = learner["learner_model_param"]
        base = mp["base_score"].strip()
        if base.startswith("["):
            base = base[1:-1]
        self.objective = learner["objective"]["name"]
        self.num_class = int(mp["num_class"])
        self.n_features = int(mp["num_feature"])
        base = np.float32(float(base))
        if self.objective == "binary:logistic":
            # xgboost's ProbToMargin, in float32: -log(1/p - 1)
            base = np.float32(-np.log(np.float32(1) / base - np.float32(1)))
        self.base = base
        model = learner["gradient_booster"]["model"]
        self.groups = model["tree_info"]
        self.trees = []
        for t in model["trees"]:
            self.trees.append((t["left_children"], t["right_children"],
                               t["split_indices"],
                               np.array(t["split_conditions"], np.float32),
                               t["default_left"]))

    def margin(self, x):
        """Returns the float32 margins (one per output group) of one row."""
        xs = np.array(x, dtype=np.float32)
        k = max(self.num_class, 1)
        out = np.full(k, self.base, dtype=np.float32)
        for (left, right, feat, cond, dleft), g in zip(self.trees, self.groups):
            node = 0
            while left[node] != -1:
                v = xs[feat[node]]
                if np.isnan(v):
                    node = left[node] if dleft[node] else right[node]
                elif v < cond[node]:
                    node = left[node]
                else:
                    node = right[node]
            out[g] = np.float32(out[g] + cond[node])
        return out

    def score(self, x):
        """Returns the output columns of one row (NaN = missing)."""
        m = self.margin(x)
        if self.objective == "binary:logistic":
            p = expit(float(m[0]))
            return {"predict": p, "label": 1 if p > 0.5 else 0,
                    "proba": [1.0 - p, p], "margin": float(m[0])}
        if self.objective.startswith("multi:"):
            k = argmax([float(v) for v in m])
            out = {"predict": k, "label": k, "margin": [float(v) for v in m]}
            if self.objective == "multi:softprob":
                out["proba"] = softmax([float(v) for v in m])
            return out
        return {"predict": float(m[0]), "margin": float(m[0])}


# ---------------------------------------------------------------------------
# Self-check


def check_refusals():
    """Checks that the exporter refuses what the format cannot express."""
    from sklearn.svm import SVC
    xt, yt, _ = clf_data(2, 90)
    xr, yr, _ = reg_data(91)
    bad = {
        "SVC": SVC().fit(xt, yt),
        "multi-output Ridge": linear_model.Ridge().fit(
            xr, np.c_[yr, yr]),
        "exponential-loss GB": ensemble.GradientBoostingClassifier(
            loss="exponential", n_estimators=2).fit(xt, yt),
        "multi-output tree": tree.DecisionTreeRegressor(max_depth=2).fit(
            xr, np.c_[yr, yr]),
        "unfitted LogisticRegression": linear_model.LogisticRegression(),
    }
    nan_lr = linear_model.LogisticRegression().fit(xt, yt)
    nan_lr.coef_[0, 0] = np.nan
    bad["NaN coefficient"] = nan_lr
    for what, est in bad.items():
        try:
            sluice_export.to_dict(est)
        except sluice_export.ExportError as e:
            print("refused %s: %s" % (what, e))
        else:
            raise AssertionError("%s was exported" % what)


def selfcheck(outdir, written):
    """Scores every written case with the reference evaluators and compares
    with the expected files; returns True when all agree."""
    all_ok = True
    for name, mpath, exp in written:
        with open(mpath) as f:
            text = f.read()
        doc = json.loads(text)
        ids, x = read_csv(os.path.join(outdir, name + ".csv"))
        assert ids == list(range(len(exp["rows"]))), name
        if exp["kind"] == "xgboost":
            xm = XgbModel(doc)
            rows = [xm.score(list(r)) for r in x]
        else:
            # every float survives the JSON text exactly
            assert sluice_export.dumps(doc) == text, name
            rows = [eval_sluice(doc, list(r)) for r in x]
        out = []
        for i, r in zip(ids, rows):
            r = dict(r, id=i)
            if "proba" in r and i % 2 and exp["classes"] is not None:
                # exercise both proba spellings the checker accepts
                r["proba"] = {str(c): p for c, p in zip(exp["classes"],
                                                        r["proba"])}
            out.append(r)
        ok, lines = check_fidelity.compare(name, exp, out)
        print("\n".join(lines))
        all_ok = all_ok and ok
    iris = os.path.join(outdir, "iris_rf.expected.json")
    with open(iris) as f:
        rows = json.load(f)["rows"]
    for (feat, label), r in zip(gen_models.IRIS_ARTICLE_ROWS, rows):
        assert r["label"] == label, (feat, r)
    shipped = os.path.join(ROOT, "sql-examples", "models", "iris_rf.json")
    if os.path.exists(shipped):
        with open(shipped) as a, open(os.path.join(outdir, "iris_rf.json")) as b:
            assert a.read() == b.read(), "iris_rf.json differs from " + shipped
    check_refusals()
    return all_ok


def main():
    """Generates the cases into OUTDIR; with --selfcheck also verifies them."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("outdir")
    ap.add_argument("--selfcheck", action="store_true",
                    help="score every case with the reference evaluators "
                         "and compare with the expected files")
    args = ap.parse_args()
    written = generate(args.outdir)
    print("wrote %d cases to %s" % (len(written), args.outdir))
    if args.selfcheck:
        if not selfcheck(args.outdir, written):
            print("selfcheck FAILED", file=sys.stderr)
            return 1
        print("selfcheck ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
