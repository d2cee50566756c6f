#!/usr/bin/python3
"""bench/check_s1.py - checks one engine's benchmark S1 output against the reference
(the Python peer's output), so that no engine is fast by being wrong.

Every OUTPUT and the reference must be JSON lines with COUNT lines.  Line by line,
each output line must be a JSON object whose keys are exactly User_ID and pred, with
the same User_ID as the reference and a pred within 1e-12 relative of the
reference's (floats printed with fewer digits, like SQLite's %.15g, pass).
Prints one verdict line per OUTPUT ("OUTPUT: ok ..." or "OUTPUT: FAIL ..."); exits 0
when every OUTPUT passes and 1 when one does not.  The reference is read once.

Usage: /usr/bin/python3 bench/check_s1.py REFERENCE COUNT OUTPUT...
"""
import json
import sys

REL_TOL = 1e-12


class Mismatch(Exception):
    """Raised with a description of the first difference found in an output."""


def read_reference(path):
    """Returns the reference's (User_ID list, pred list)."""
    ids, preds = [], []
    loads = json.loads
    with open(path) as f:
        for line in f:
            r = loads(line)
            ids.append(r["User_ID"])
            preds.append(r["pred"])
    return ids, preds


def check(out_path, ids, preds):
    """Checks one output file against the reference lists; returns the largest
    relative pred error, or raises Mismatch."""
    loads = json.loads
    worst = 0.0
    n = 0
    with open(out_path) as out:
        for n, line in enumerate(out, 1):
            if n > len(ids):
                raise Mismatch("more than %d lines" % len(ids))
            try:
                got = loads(line)
            except ValueError as e:
                raise Mismatch("line %d is not JSON (%s): %r" % (n, e, line[:120]))
            if not isinstance(got, dict) or sorted(got) != ["User_ID", "pred"]:
                raise Mismatch("line %d: expected keys User_ID, pred: %r" % (n, line[:120]))
            if got["User_ID"] != ids[n - 1]:
                raise Mismatch("line %d: User_ID %r, expected %r" % (n, got["User_ID"], ids[n - 1]))
            g, w = got["pred"], preds[n - 1]
            if g is None or w is None or isinstance(g, bool) or not isinstance(g, (int, float)):
                if g != w:
                    raise Mismatch("line %d: pred %r, expected %r" % (n, g, w))
                continue
            err = abs(g - w) / max(abs(w), 1e-300)
            if err > REL_TOL:
                raise Mismatch("line %d: pred %r, expected %r (relative error %.3g)" % (n, g, w, err))
            worst = max(worst, err)
    if n != len(ids):
        raise Mismatch("%d lines, expected %d" % (n, len(ids)))
    return worst


def main():
    """Checks every OUTPUT against REFERENCE; exits 0 when all pass, 1 otherwise."""
    ref_path, count, outputs = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    ids, preds = read_reference(ref_path)
    status = 0
    if len(ids) != count:
        print("%s: FAIL reference has %d lines, expected %d" % (ref_path, len(ids), count))
        status = 1
    for out_path in outputs:
        try:
            worst = check(out_path, ids, preds)
            print("%s: ok, %d lines, max relative pred error %.3g" % (out_path, len(ids), worst))
        except (Mismatch, OSError) as e:
            print("%s: FAIL %s" % (out_path, e))
            status = 1
    sys.exit(status)


if __name__ == "__main__":
    main()
