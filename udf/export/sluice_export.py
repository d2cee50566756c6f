#!/usr/bin/python3
# sluice_export.py - write a fitted scikit-learn estimator as a sluice model JSON
# file (format "sluice-model", version 1, described in docs/models.md), which
# sluice loads with CREATE MODEL name FROM 'path'.
#
# Importable:
#     from sluice_export import export, to_dict
#     export(fitted_estimator, "model.json", feature_names=["a", "b"])
# Command line (IN.pkl is a pickled fitted estimator):
#     /usr/bin/python3 sluice_export.py IN.pkl OUT.json [--feature-names a,b,c]
#
# Written against scikit-learn 1.2.  Every number is written as a Python float
# or int by json, whose float repr is the shortest string that reads back as
# the same double, so a model round-trips exactly.  Estimators this file does
# not know are refused with ExportError rather than exported approximately.
"""Export fitted scikit-learn estimators to the sluice model JSON format."""

import argparse
import json
import math
import pickle
import sys

import numpy as np
from sklearn.cluster import KMeans
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.ensemble import (ExtraTreesClassifier, ExtraTreesRegressor,
                              GradientBoostingClassifier,
                              GradientBoostingRegressor,
                              RandomForestClassifier, RandomForestRegressor)
from sklearn.linear_model import (ElasticNet, Lasso, LinearRegression,
                                  LogisticRegression, Ridge, SGDClassifier,
                                  SGDRegressor)
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

FORMAT = "sluice-model"
VERSION = 1


class ExportError(ValueError):
    """An estimator that cannot be written in the sluice model format."""


# ---------------------------------------------------------------------------
# Plain-Python conversion helpers


def _source(est):
    """Returns the estimator's class as 'module.QualName' (the "source" field)."""
    return "%s.%s" % (type(est).__module__, type(est).__qualname__)


def _floats(a, what):
    """Returns array-like a as nested lists of Python floats.

    Raises ExportError naming `what` if any entry is NaN or infinite.
    """
    arr = np.asarray(a, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        raise ExportError("%s contains NaN or infinite values" % what)
    return arr.tolist()


def _ints(a):
    """Returns integer array-like a as (nested) lists of Python ints."""
    return np.asarray(a, dtype=np.int64).tolist()


def _classes(est):
    """Returns est.classes_ as a list of plain str or plain int.

    Integral floats (labels read from a float column) become ints; booleans,
    non-integral floats and mixed types are refused, because the format
    allows only all-string or all-integer classes.
    """
    out = []
    for c in np.asarray(est.classes_).tolist():
        if isinstance(c, bool):
            raise ExportError("boolean class labels are not supported; "
                              "use 0/1 or strings")
        if isinstance(c, float):
            if not (math.isfinite(c) and c == int(c)):
                raise ExportError("class label %r is neither an integer nor "
                                  "a string" % c)
            c = int(c)
        if not isinstance(c, (int, str)):
            raise ExportError("class label %r of type %s is not supported"
                              % (c, type(c).__name__))
        out.append(c)
    if len({type(c) for c in out}) > 1:
        raise ExportError("class labels mix strings and integers: %r" % out)
    return out


def _n_features(est):
    """Returns the number of input features est was fitted with."""
    n = getattr(est, "n_features_in_", None)
    if n is None:
        raise ExportError("%s is not fitted (no n_features_in_)"
                          % type(est).__name__)
    return int(n)


def _header(kind, est, n_features, classes=None):
    """Returns the common fields of a model object (without format/version)."""
    d = {"kind": kind, "n_features": n_features}
    if classes is not None:
        d["classes"] = classes
    d["source"] = _source(est)
    return d


# ---------------------------------------------------------------------------
# Linear models


def _lr_link(est, n_classes):
    """Returns the link ("logistic", "softmax" or "ovr") of a LogisticRegression.

    Follows sklearn 1.2 LogisticRegression.predict_proba: one-vs-rest when
    multi_class is "ovr"/"warn", or "auto" with two classes or a one-vs-rest
    solver (liblinear, newton-cholesky); softmax otherwise.
    """
    ovr = est.multi_class in ("ovr", "warn") or (
        est.multi_class == "auto"
        and (n_classes <= 2 or est.solver in ("liblinear", "newton-cholesky")))
    if not ovr:
        return "softmax"
    return "logistic" if n_classes <= 2 else "ovr"


def _linear(est):
    """Returns the "linear" model dict of a linear regressor or classifier."""
    coef = np.asarray(est.coef_, dtype=np.float64)
    classes = None
    if isinstance(est, (LogisticRegression, SGDClassifier)):
        classes = _classes(est)
        if len(classes) < 2:
            raise ExportError("a classifier needs at least two classes")
        if isinstance(est, LogisticRegression):
            link = _lr_link(est, len(classes))
        elif est.loss in ("log_loss", "log"):
            link = "logistic" if len(classes) == 2 else "ovr"
        else:
            link = "none"
    else:
        link = "identity"
        if coef.ndim == 2:
            if coef.shape[0] != 1:
                raise ExportError("%s has %d outputs; multi-output regressors "
                                  "are not supported"
                                  % (type(est).__name__, coef.shape[0]))
    coef = coef.reshape(-1, coef.shape[-1])
    n_rows, n_features = coef.shape
    intercept = np.broadcast_to(
        np.asarray(est.intercept_, dtype=np.float64).ravel(), (n_rows,))
    d = _header("linear", est, n_features, classes)
    d["coef"] = _floats(coef, "coef_")
    d["intercept"] = _floats(intercept, "intercept_")
    d["link"] = link
    return d


# ---------------------------------------------------------------------------
# Trees


def _tree(dt, output=0):
    """Returns one tree object (parallel node arrays) of a fitted sklearn tree.

    `value` is, per node, the list tree_.value[node][0]: class counts for a
    classifier tree, a one-element list for a regression tree.
    """
    t = dt.tree_
    if t.n_outputs != 1:
        raise ExportError("multi-output trees are not supported")
    value = np.asarray(t.value)[:, 0, :]
    return {
        "left": _ints(t.children_left),
        "right": _ints(t.children_right),
        "feature": _ints(t.feature),
        "threshold": _floats(t.threshold, "tree threshold"),
        "value": _floats(value, "tree value"),
        "output": output,
    }


def _forest(est, trees, classifier):
    """Returns the tree_ensemble dict averaging `trees` (a forest or one tree)."""
    if getattr(est, "n_outputs_", 1) != 1:
        raise ExportError("%s has %d outputs; multi-output models are not "
                          "supported" % (type(est).__name__, est.n_outputs_))
    classes = _classes(est) if classifier else None
    d = _header("tree_ensemble", est, _n_features(est), classes)
    d["combine"] = "proba_mean" if classifier else "mean"
    d["n_outputs"] = len(classes) if classifier else 1
    d["trees"] = [_tree(t) for t in trees]
    return d


def _boost_init(est, n_features, k):
    """Returns the k raw starting scores of a fitted GradientBoosting model.

    Computed by sklearn's own _raw_predict_init, after checking that the init
    estimator ignores its input (so one constant vector describes it).
    """
    if not (isinstance(est.init_, str) and est.init_ == "zero") and \
            type(est.init_) not in (DummyClassifier, DummyRegressor):
        raise ExportError("GradientBoosting with init=%s is not supported: "
                          "only the default init or 'zero'"
                          % type(est.init_).__name__)
    probes = np.array([np.zeros(n_features), np.ones(n_features),
                       np.full(n_features, -1e3)])
    raw = est._raw_predict_init(probes)
    if raw.shape != (3, k) or not np.all(raw == raw[0]):
        raise ExportError("the init estimator's raw prediction is not constant")
    return _floats(raw[0], "init")


def _boost(est, classifier):
    """Returns the tree_ensemble dict of a GradientBoosting model."""
    n_features = _n_features(est)
    stages = est.estimators_
    k = stages.shape[1]
    classes = None
    if classifier:
        classes = _classes(est)
        if type(est._loss).__name__ == "ExponentialLoss":
            raise ExportError("GradientBoostingClassifier(loss='exponential') "
                              "is not supported (its probability is "
                              "expit(2 * raw))")
        link = "logistic" if k == 1 else "softmax"
    else:
        link = "identity"
    d = _header("tree_ensemble", est, n_features, classes)
    d["combine"] = "boost"
    d["n_outputs"] = k
    d["init"] = _boost_init(est, n_features, k)
    d["learning_rate"] = float(est.learning_rate)
    d["link"] = link
    d["trees"] = [_tree(stages[i, j], j if k > 1 else 0)
                  for i in range(stages.shape[0]) for j in range(k)]
    return d


# ---------------------------------------------------------------------------
# Neural networks, k-means, scalers


def _mlp(est, classifier):
    """Returns the "mlp" model dict of an MLPClassifier / MLPRegressor."""
    classes = None
    if classifier:
        if est._label_binarizer.y_type_ == "multilabel-indicator":
            raise ExportError("multilabel MLPClassifier is not supported")
        classes = _classes(est)
    elif est.n_outputs_ != 1:
        raise ExportError("MLPRegressor has %d outputs; multi-output "
                          "regressors are not supported" % est.n_outputs_)
    d = _header("mlp", est, _n_features(est), classes)
    d["coefs"] = [_floats(c, "coefs_[%d]" % i) for i, c in enumerate(est.coefs_)]
    d["intercepts"] = [_floats(b, "intercepts_[%d]" % i)
                       for i, b in enumerate(est.intercepts_)]
    d["activation"] = est.activation
    d["out_activation"] = est.out_activation_
    return d


def _kmeans(est):
    """Returns the "kmeans" model dict of a fitted KMeans."""
    d = _header("kmeans", est, _n_features(est))
    d["centers"] = _floats(est.cluster_centers_, "cluster_centers_")
    return d


def _standard_scaler(est):
    """Returns the "standard_scaler" dict; mean/scale are null when unused."""
    d = _header("standard_scaler", est, _n_features(est))
    d["mean"] = _floats(est.mean_, "mean_") if est.with_mean else None
    d["scale"] = (_floats(est.scale_, "scale_")
                  if est.with_std and est.scale_ is not None else None)
    return d


def _min_max_scaler(est):
    """Returns the "min_max_scaler" dict (scale, min, clip, feature_range)."""
    d = _header("min_max_scaler", est, _n_features(est))
    d["scale"] = _floats(est.scale_, "scale_")
    d["min"] = _floats(est.min_, "min_")
    d["clip"] = bool(est.clip)
    d["feature_range"] = _floats(list(est.feature_range), "feature_range")
    return d


TRANSFORMER_KINDS = ("standard_scaler", "min_max_scaler")


def _pipeline(est):
    """Returns the "pipeline" dict; nested pipelines are flattened and
    'passthrough' / None steps dropped."""
    steps = []

    def add(p):
        for _, step in p.steps:
            if step is None or (isinstance(step, str) and step == "passthrough"):
                continue
            if type(step) is Pipeline:
                add(step)
            else:
                steps.append(_model(step))
    add(est)
    if not steps:
        raise ExportError("the pipeline has no steps")
    for i, s in enumerate(steps[:-1]):
        if s["kind"] not in TRANSFORMER_KINDS:
            raise ExportError("pipeline step %d (%s) is not a supported "
                              "transformer; only StandardScaler and "
                              "MinMaxScaler may precede the last step"
                              % (i, s["source"]))
    for prev, s in zip(steps, steps[1:]):
        if s["n_features"] != prev["n_features"]:
            raise ExportError("pipeline step %s takes %d features but the "
                              "step before gives %d" % (s["source"],
                                                        s["n_features"],
                                                        prev["n_features"]))
    d = _header("pipeline", est, steps[0]["n_features"],
                steps[-1].get("classes"))
    d["steps"] = steps
    return d


# Exact types only: a subclass may change predict() and would be exported wrong.
_EXPORTERS = {
    LinearRegression: _linear,
    Ridge: _linear,
    Lasso: _linear,
    ElasticNet: _linear,
    SGDRegressor: _linear,
    LogisticRegression: _linear,
    SGDClassifier: _linear,
    DecisionTreeClassifier: lambda e: _forest(e, [e], True),
    DecisionTreeRegressor: lambda e: _forest(e, [e], False),
    RandomForestClassifier: lambda e: _forest(e, e.estimators_, True),
    RandomForestRegressor: lambda e: _forest(e, e.estimators_, False),
    ExtraTreesClassifier: lambda e: _forest(e, e.estimators_, True),
    ExtraTreesRegressor: lambda e: _forest(e, e.estimators_, False),
    GradientBoostingClassifier: lambda e: _boost(e, True),
    GradientBoostingRegressor: lambda e: _boost(e, False),
    MLPClassifier: lambda e: _mlp(e, True),
    MLPRegressor: lambda e: _mlp(e, False),
    KMeans: _kmeans,
    StandardScaler: _standard_scaler,
    MinMaxScaler: _min_max_scaler,
    Pipeline: _pipeline,
}


def _model(est):
    """Returns the model dict (without format/version/feature_names) of est.

    Raises ExportError for an unsupported or unfitted estimator.
    """
    fn = _EXPORTERS.get(type(est))
    if fn is None:
        raise ExportError("unsupported estimator %s; supported: %s"
                          % (_source(est), ", ".join(sorted(
                              t.__name__ for t in _EXPORTERS))))
    try:
        return fn(est)
    except AttributeError as e:
        raise ExportError("%s looks unfitted or unusual (%s)"
                          % (type(est).__name__, e)) from e


# ---------------------------------------------------------------------------
# Public API


def to_dict(estimator, feature_names=None):
    """Returns the sluice model JSON object (a dict) for a fitted estimator.

    feature_names (a sequence of n_features strings) overrides the
    estimator's feature_names_in_; without either, none are written.
    Raises ExportError if the estimator or the names cannot be exported.
    """
    body = _model(estimator)
    n = body["n_features"]
    if feature_names is None and hasattr(estimator, "feature_names_in_"):
        feature_names = estimator.feature_names_in_
    d = {"format": FORMAT, "version": VERSION, "kind": body.pop("kind"),
         "n_features": body.pop("n_features")}
    if feature_names is not None:
        names = [str(x) for x in feature_names]
        if len(names) != n:
            raise ExportError("%d feature names given for %d features"
                              % (len(names), n))
        d["feature_names"] = names
    d.update(body)
    return d


def dumps(d):
    """Returns the JSON text of a model dict: compact, one trailing newline.

    Floats are written by repr (shortest round-trip); NaN/inf raise.
    """
    return json.dumps(d, separators=(",", ":"), allow_nan=False) + "\n"


def export(estimator, path, feature_names=None):
    """Writes the sluice model JSON of a fitted estimator to `path`.

    Same arguments and errors as to_dict(); returns the dict written.
    """
    d = to_dict(estimator, feature_names)
    text = dumps(d)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return d


def main(argv=None):
    """Command line: sluice_export.py IN.pkl OUT.json [--feature-names a,b,c]."""
    ap = argparse.ArgumentParser(
        description="Write a pickled, fitted scikit-learn estimator as a "
                    "sluice model JSON file (docs/models.md).")
    ap.add_argument("input", help="pickled fitted estimator (.pkl)")
    ap.add_argument("output", help="sluice model JSON file to write")
    ap.add_argument("--feature-names",
                    help="comma-separated feature names (default: the "
                         "estimator's feature_names_in_, if any)")
    args = ap.parse_args(argv)
    with open(args.input, "rb") as f:
        est = pickle.load(f)
    names = args.feature_names.split(",") if args.feature_names else None
    try:
        d = export(est, args.output, names)
    except ExportError as e:
        print("sluice_export: %s: %s" % (args.input, e), file=sys.stderr)
        return 1
    print("sluice_export: wrote %s (%s, %d features)"
          % (args.output, d["kind"], d["n_features"]), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
