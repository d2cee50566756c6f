#!/usr/bin/python3
"""check_s4.py - S4's split against xgboost.

Scores the input records with xgboost's own Booster on the same model file
and checks every output score (to 1e-6) and that the records with score >
0.5 are exactly the suspicious ones and the rest the normal ones.

usage: check_s4.py MODEL.json INPUT.jsonl SUSPICIOUS.jsonl NORMAL.jsonl
"""
import json, sys
import numpy as np, xgboost as xgb
b = xgb.Booster()
b.load_model(sys.argv[1])
recs = [json.loads(l) for l in open(sys.argv[2])]
p = b.predict(xgb.DMatrix(np.array([r["featuresVector"] for r in recs], dtype=np.float32)))
want = {r["recordID"]: float(s) for r, s in zip(recs, p)}
sus = [json.loads(l) for l in open(sys.argv[3])]
nor = [json.loads(l) for l in open(sys.argv[4])]
err = 0
for r in sus + nor:
    if abs(r["score"] - want[r["recordID"]]) > 1e-6:
        err += 1
ok_split = {r["recordID"] for r in sus} == {k for k, v in want.items() if v > 0.5} and \
           {r["recordID"] for r in nor} == {k for k, v in want.items() if v <= 0.5}
print("S4: %d suspicious, %d normal, %d scores off by > 1e-6, split %s"
      % (len(sus), len(nor), err, "ok" if ok_split else "WRONG"))
sys.exit(0 if not err and ok_split and len(sus) + len(nor) == len(recs) else 1)