#!/usr/bin/env python3
"""gen_dsp.py - write S1 input records like the seed's producer does.

Reads the S1 training set (G1..G10 columns of games-expand.csv) and writes one
JSON object per line: {"G1": 1, ..., "G10": 0, "User_ID": "<uuid1>"}, as the
seed's kafka-python producer sends them.  Deterministic (fixed uuid1 node,
clock sequence and start time), so the committed sample never changes.

usage: gen_dsp.py GAMES_CSV OUT.jsonl [N]
"""
import csv
import json
import sys
import uuid


def main():
    src, out = sys.argv[1], sys.argv[2]
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
    t = 0x1EA21E74BE94CD4  # a fixed 60-bit uuid1 timestamp
    with open(src, newline="") as f, open(out, "w") as w:
        rows = csv.DictReader(f)
        for i, row in enumerate(rows):
            if i >= n:
                break
            ts = t + i * 10
            u = uuid.UUID(fields=(ts & 0xFFFFFFFF, (ts >> 32) & 0xFFFF,
                                  ((ts >> 48) & 0x0FFF) | 0x1000, 0xAE, 0x04,
                                  0x8C8590B3EEE6))
            rec = {"G%d" % k: int(row["G%d" % k]) for k in range(1, 11)}
            rec["User_ID"] = str(u)
            w.write(json.dumps(rec) + "\n")


if __name__ == "__main__":
    main()
