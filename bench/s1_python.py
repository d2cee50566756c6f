#!/usr/bin/python3
"""bench/s1_python.py - the Python peer of benchmark S1, the way the S1 article's
consumer scores records: per line json.loads, the logistic regression
    pred = 1/(1+exp(-(w0 + w1*G1 + ... + w10*G10)))
with math.exp and the weights of bench/weights.txt, and json.dumps of
{"User_ID": ..., "pred": ...} (compact separators, so every peer writes the same
shape; floats as repr, which round-trips).  A record whose G fields are missing or
not numbers gets "pred": null, as SQL's NULL arithmetic would give.  Its output is
the reference the benchmark checks the other peers against.

Usage: /usr/bin/python3 bench/s1_python.py WEIGHTS IN OUT
"""
import json
import math
import sys


def read_weights(path):
    """Returns [w0, ..., w10] from a weights file (lines 'wN VALUE', '#' comments)."""
    weights = {}
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 2 and parts[0].startswith("w") and not line.startswith("#"):
                weights[int(parts[0][1:])] = float(parts[1])
    return [weights[i] for i in range(11)]


def main():
    """Scores every line of IN into OUT (arguments: WEIGHTS IN OUT)."""
    weights_path, in_path, out_path = sys.argv[1:4]
    w0, w1, w2, w3, w4, w5, w6, w7, w8, w9, w10 = read_weights(weights_path)
    loads, dumps, exp = json.loads, json.dumps, math.exp
    with open(in_path) as src, open(out_path, "w") as dst:
        write = dst.write
        for line in src:
            if not line.strip():
                continue
            r = loads(line)
            try:
                z = (w0 + w1 * r["G1"] + w2 * r["G2"] + w3 * r["G3"] + w4 * r["G4"]
                     + w5 * r["G5"] + w6 * r["G6"] + w7 * r["G7"] + w8 * r["G8"]
                     + w9 * r["G9"] + w10 * r["G10"])
                pred = 1 / (1 + exp(-z))
            except (KeyError, TypeError):
                pred = None
            write(dumps({"User_ID": r.get("User_ID"), "pred": pred}, separators=(",", ":")))
            write("\n")


if __name__ == "__main__":
    main()
