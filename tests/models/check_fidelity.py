#!/usr/bin/python3
# check_fidelity.py - compare sluice's model scores with the library's own, as
# recorded by gen_fidelity.py in NAME.expected.json.
#
#   check_fidelity.py EXPECTED.json SLUICE_OUT.jsonl [EXPECTED2.json OUT2.jsonl ...]
#
# SLUICE_OUT.jsonl has one JSON object per line with "id" and any of the
# columns predict, label, proba, decision, transform (and margin for XGBoost,
# whose raw margin is also what a "decision" column is compared with);
# proba may be an array in class order or an object {"label": p}.  Every id of
# the expected file must appear exactly once.  Numbers must agree to 1e-9
# (absolute) for scikit-learn models, 1e-6 for XGBoost (float32) models; labels
# must be identical.  Prints one line per case and exits 1 on any failure.
"""Check sluice model output against gen_fidelity.py's expected file."""

import json
import math
import os
import sys

COLUMNS = ("predict", "label", "proba", "decision", "transform", "margin")
TOL_FLOAT64 = 1e-9
TOL_XGBOOST = 1e-6
MAX_REPORTED = 5


def tolerance(expected):
    """Returns the absolute tolerance for an expected file's kind."""
    return TOL_XGBOOST if expected["kind"] == "xgboost" else TOL_FLOAT64


def case_name(path):
    """Returns NAME for a path like dir/NAME.expected.json."""
    base = os.path.basename(path)
    for suffix in (".expected.json", ".json"):
        if base.endswith(suffix):
            return base[:-len(suffix)]
    return base


def _is_number(v):
    """True for a JSON number (int or float, not bool)."""
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _is_label(v):
    """True for a JSON string or integer (a class label or index)."""
    return isinstance(v, str) or (isinstance(v, int) and not isinstance(v, bool))


class Case:
    """Comparison state of one case: max differences and failure messages."""

    def __init__(self, name, expected):
        """Starts comparing against the parsed expected file `expected`."""
        self.name = name
        self.expected = expected
        self.tol = tolerance(expected)
        self.maxdiff = {}        # column -> max |diff| seen
        self.labels_checked = False
        self.label_errors = 0
        self.errors = []
        self.n_errors = 0

    def fail(self, msg):
        """Records one failure (only the first few are kept verbatim)."""
        self.n_errors += 1
        if len(self.errors) < MAX_REPORTED:
            self.errors.append(msg)

    def num(self, rid, col, what, got, want):
        """Compares one number; records the difference or a failure."""
        if not _is_number(got) or not math.isfinite(got):
            self.fail("id %s: %s is %r, expected a number near %r"
                      % (rid, what, got, want))
            return
        d = abs(got - want)
        self.maxdiff[col] = max(self.maxdiff.get(col, 0.0), d)
        if not d <= self.tol:
            self.fail("id %s: %s = %r, expected %r (|diff| %.3g > %g)"
                      % (rid, what, got, want, d, self.tol))

    def vec(self, rid, col, got, want):
        """Compares a vector (a scalar counts as a vector of one)."""
        if _is_number(got):
            got = [got]
        if _is_number(want):
            want = [want]
        if not isinstance(got, list) or len(got) != len(want):
            self.fail("id %s: %s is %r, expected %d numbers"
                      % (rid, col, got, len(want)))
            return
        for i, (g, w) in enumerate(zip(got, want)):
            self.num(rid, col, "%s[%d]" % (col, i), g, w)

    def label(self, rid, col, got, want):
        """Compares a label or index exactly (same value, same JSON type)."""
        self.labels_checked = True
        if not _is_label(got) or type(got) is not type(want) or got != want:
            self.label_errors += 1
            self.fail("id %s: %s is %s %r, expected %s %r"
                      % (rid, col, type(got).__name__, got,
                         type(want).__name__, want))

    def proba(self, rid, got, want):
        """Compares probabilities given as an array or a {label: p} object."""
        classes = self.expected.get("classes")
        if isinstance(got, dict):
            if classes is None:
                self.fail("id %s: proba is an object but the model has no "
                          "classes" % rid)
                return
            keys = [str(c) for c in classes]
            if sorted(got) != sorted(keys):
                self.fail("id %s: proba keys %r, expected %r"
                          % (rid, sorted(got), keys))
                return
            for k, w in zip(keys, want):
                self.num(rid, "proba", "proba[%s]" % k, got[k], w)
        else:
            self.vec(rid, "proba", got, want)

    def row(self, rid, got, want):
        """Compares every known column of one sluice output row."""
        for col in COLUMNS:
            if col not in got:
                continue
            wcol = col
            if col == "decision" and col not in want and "margin" in want:
                wcol = "margin"  # an XGBoost model's raw score
            if wcol not in want:
                self.fail("id %s: column %s is not in the expected file"
                          % (rid, col))
                continue
            g, w = got[col], want[wcol]
            if col == "label":
                self.label(rid, col, g, w)
            elif col == "proba":
                self.proba(rid, g, w)
            elif col == "predict":
                ptype = self.expected.get("predict_type", "real")
                if ptype in ("label", "index"):
                    self.label(rid, col, g, w)
                elif ptype == "vector":
                    self.vec(rid, col, g, w)
                else:
                    self.num(rid, col, col, g, w)
            else:
                self.vec(rid, col, g, w)

    def summary(self, n_rows):
        """Returns the one-line report of this case."""
        parts = ["%s=%.3g" % (c, self.maxdiff[c]) for c in COLUMNS
                 if c in self.maxdiff]
        line = "%s: %d rows" % (self.name, n_rows)
        if parts:
            line += ", max |diff| " + ", ".join(parts)
        if self.labels_checked:
            line += ", labels " + ("ok" if not self.label_errors else
                                   "WRONG (%d)" % self.label_errors)
        return line


def compare(name, expected, out_rows):
    """Compares parsed sluice output rows with a parsed expected file.

    Returns (ok, lines): ok is False on any mismatch, missing or repeated id,
    or when no known column was present; lines is the report to print.
    """
    case = Case(name, expected)
    want = {r["id"]: r for r in expected["rows"]}
    seen = set()
    compared = 0
    for got in out_rows:
        if not isinstance(got, dict) or "id" not in got:
            case.fail("output row without an id: %r" % (got,))
            continue
        rid = got["id"]
        if isinstance(rid, str) and rid.lstrip("-").isdigit():
            rid = int(rid)
        if rid in seen:
            case.fail("id %s appears more than once" % rid)
            continue
        seen.add(rid)
        if rid not in want:
            case.fail("id %s is not in the expected file" % rid)
            continue
        if any(c in got for c in COLUMNS):
            compared += 1
        case.row(rid, got, want[rid])
    missing = [i for i in want if i not in seen]
    if missing:
        case.fail("%d ids missing from the output (first: %s)"
                  % (len(missing), ", ".join(str(i) for i in missing[:5])))
    if want and not compared:
        case.fail("no row has any of the columns %s" % ", ".join(COLUMNS))
    lines = [case.summary(len(seen))]
    if case.n_errors:
        lines[0] += "  FAILED (%d problems)" % case.n_errors
        lines += ["  " + e for e in case.errors]
        if case.n_errors > len(case.errors):
            lines.append("  ... and %d more" % (case.n_errors - len(case.errors)))
    return case.n_errors == 0, lines


def read_jsonl(path):
    """Returns the JSON objects of a JSON-lines file (blank lines skipped)."""
    rows = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except ValueError as e:
                    raise SystemExit("%s:%d: not JSON: %s" % (path, n, e))
    return rows


def main(argv):
    """Checks each (EXPECTED.json, OUT.jsonl) pair; returns the exit status."""
    if len(argv) < 2 or len(argv) % 2:
        print("usage: check_fidelity.py EXPECTED.json SLUICE_OUT.jsonl "
              "[EXPECTED.json SLUICE_OUT.jsonl ...]", file=sys.stderr)
        return 2
    status = 0
    for exp_path, out_path in zip(argv[0::2], argv[1::2]):
        with open(exp_path, encoding="utf-8") as f:
            expected = json.load(f)
        ok, lines = compare(case_name(exp_path), expected, read_jsonl(out_path))
        print("\n".join(lines))
        if not ok:
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
