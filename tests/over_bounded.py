#!/usr/bin/python3
"""over_bounded.py - the differential test of window functions over a
bounded input (tests/over.sh runs it): random small tables (partitions of
random sizes, ties, NULLs, text and numbers) and random queries calling
ROW_NUMBER, RANK, DENSE_RANK, LAG, LEAD and aggregates over every kind of
frame sluice has (ROWS with any bounds, RANGE without offsets, the
default), through OVER (...), OVER name and WINDOW clauses, run by sluice
(over the same rows in a CREATE TABLE) and by the sqlite3 library, and
compared row by row (every query ends ORDER BY id, a unique column).

group_concat() of '' is NULL over a window in SQLite (its xValue) and ''
as an aggregate; sluice's is '' in both, so the test concatenates numbers.
Functions that depend on the order of peers (ROW_NUMBER, LAG, LEAD, ROWS
frames) get ORDER BY terms that end with id, so that both engines see one
order; RANK, DENSE_RANK and RANGE frames are tested over ties.
Usage: over_bounded.py SLUICE [--seed N] [--tables N] [--queries N] [-v]
"""
import json
import math
import random
import sqlite3
import subprocess
import sys

TEXTS = ["a", "B", "b", "abc", "", "zz"]


def sql_lit(v):
    if v is None:
        return "NULL"
    if isinstance(v, str):
        return "'" + v.replace("'", "''") + "'"
    return repr(v)


def make_rows(rng, n):
    rows = []
    nk = rng.randint(1, 5)
    for i in range(n):
        k = None if rng.random() < 0.15 else rng.randint(0, nk)
        x = None if rng.random() < 0.2 else rng.randint(-3, 6)
        s = None if rng.random() < 0.2 else rng.choice(TEXTS)
        r = None if rng.random() < 0.2 else rng.choice([0.5, -1.25, 2.0, 7.5])
        rows.append((i + 1, k, x, s, r))
    return rows


def order_by(rng, peer_free):
    terms = []
    for _ in range(rng.randint(1, 2)):
        col = rng.choice(["x", "s", "r", "x + k"])
        t = col + rng.choice(["", " ASC", " DESC"])
        if rng.random() < 0.3:
            t += rng.choice([" NULLS FIRST", " NULLS LAST"])
        terms.append(t)
    if peer_free:
        terms.append("id" + rng.choice(["", " DESC"]))
    return "ORDER BY " + ", ".join(terms)


def partition(rng):
    return rng.choice(["", "", "PARTITION BY k ", "PARTITION BY s ", "PARTITION BY k, s "])


def bound(rng, start):
    kinds = ["UNBOUNDED PRECEDING", "n PRECEDING", "CURRENT ROW", "n FOLLOWING"]
    if not start:
        kinds = kinds[1:] + ["UNBOUNDED FOLLOWING"]
    b = rng.choice(kinds)
    return b.replace("n ", "%d " % rng.randint(0, 3))


def frame(rng):
    """A ROWS frame SQLite accepts, or a RANGE one without offsets, or none."""
    what = rng.choice(["none", "rows", "rows", "rows1", "range"])
    if what == "none":
        return "", False
    if what == "rows1":
        return "ROWS %s" % rng.choice(["UNBOUNDED PRECEDING", "2 PRECEDING", "CURRENT ROW"]), True
    if what == "range":
        s = rng.choice(["UNBOUNDED PRECEDING", "CURRENT ROW"])
        e = rng.choice(["CURRENT ROW", "UNBOUNDED FOLLOWING"])
        return "RANGE BETWEEN %s AND %s" % (s, e), False
    order = ["UNBOUNDED PRECEDING", "PRECEDING", "CURRENT ROW", "FOLLOWING", "UNBOUNDED FOLLOWING"]
    while True:
        s, e = bound(rng, True), bound(rng, False)
        ks = [o for o in order if s.endswith(o)][-1]
        ke = [o for o in order if e.endswith(o)][-1]
        if (ks == "CURRENT ROW" and ke == "PRECEDING") or (
                ks == "FOLLOWING" and ke in ("PRECEDING", "CURRENT ROW")):
            continue
        return "ROWS BETWEEN %s AND %s" % (s, e), True


def call(rng):
    """One window call: its text (with OVER) ."""
    kind = rng.choice(["row_number", "rank", "dense_rank", "lag", "lead", "agg", "agg", "agg"])
    part = partition(rng)
    if kind in ("rank", "dense_rank"):
        return "%s() OVER (%s%s)" % (kind, part, order_by(rng, False))
    if kind == "row_number":
        return "row_number() OVER (%s%s)" % (part, order_by(rng, True))
    if kind in ("lag", "lead"):
        args = rng.choice(["x", "s", "x, 2", "r, 1, -9", "s, 0", "x, 3, 'd'", "x, k - 1"])
        return "%s(%s) OVER (%s%s)" % (kind, args, part, order_by(rng, True))
    fn = rng.choice(["sum(x)", "count(*)", "count(s)", "avg(r)", "min(s)", "max(x)", "total(r)",
                     "min(x)", "max(s)", "group_concat(x)", "sum(r)"])
    if fn == "group_concat(x)":  # its order is the frame's: keep peers apart
        fr, peer_free = frame(rng)
        return "%s OVER (%s%s %s)" % (fn, part, order_by(rng, True), fr)
    # (FILTER with min() or max() over a sliding frame: SQLite 3.40 ignores the
    # FILTER there, a bug of its own)
    if rng.random() < 0.2 and not fn.startswith(("min", "max")):
        fn += " FILTER (WHERE x > 0)"
    fr, peer_free = frame(rng)
    if rng.random() < 0.15 and not fr:
        return "%s OVER (%s)" % (fn, part.strip())
    return "%s OVER (%s%s %s)" % (fn, part, order_by(rng, peer_free), fr)


def gen_query(rng):
    n = rng.randint(1, 4)
    cols = ["id"] + ["%s AS c%d" % (call(rng), i) for i in range(n)]
    where = rng.choice(["", "", " WHERE x IS NOT NULL", " WHERE id % 3 <> 0"])
    if rng.random() < 0.2:  # a named window
        cols.append("count(*) OVER w AS cw")
        cols.append("sum(x) OVER (w ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING) AS sw")
        return "SELECT %s FROM t%s WINDOW w AS (%s%s) ORDER BY id" % (
            ", ".join(cols), where, partition(rng), order_by(rng, True))
    if rng.random() < 0.1:  # a window call inside an expression
        cols.append("coalesce(lag(x) OVER (ORDER BY id), 0) + 1 AS e")
    return "SELECT %s FROM t%s ORDER BY id" % (", ".join(cols), where)


def same_value(x, y):
    if isinstance(x, (int, float)) and isinstance(y, (int, float)):
        if isinstance(x, float) or isinstance(y, float):
            return math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12)
        return x == y
    return x == y


def main():
    args = sys.argv[1:]
    sluice = args[0]
    seed, ntab, nq, verbose = 1, 6, 40, "-v" in args
    if "--seed" in args:
        seed = int(args[args.index("--seed") + 1])
    if "--tables" in args:
        ntab = int(args[args.index("--tables") + 1])
    if "--queries" in args:
        nq = int(args[args.index("--queries") + 1])
    rng = random.Random(seed)
    failures = total = 0
    for tn in range(ntab):
        rows = make_rows(rng, 0 if tn == 0 else rng.randint(1, 12 if tn % 2 else 45))
        setup = "CREATE TABLE t (id INTEGER, k INTEGER, x INTEGER, s TEXT, r REAL);\n"
        if rows:
            setup += "INSERT INTO t VALUES %s;\n" % ", ".join(
                "(%s)" % ", ".join(sql_lit(v) for v in r) for r in rows)
        db = sqlite3.connect(":memory:")
        db.executescript(setup)
        qs = [gen_query(rng) for _ in range(nq)]
        script = setup + "".join("SELECT 'mark %d' AS mark;\n%s;\n" % (i, q) for i, q in enumerate(qs))
        p = subprocess.run([sluice], input=script.encode(), capture_output=True, timeout=300)
        if p.returncode != 0:
            print("FAIL: sluice exited %d on table %d: %s" % (p.returncode, tn,
                                                           p.stderr.decode()[-2000:]))
            failures += 1
            continue
        got, cur = {}, None
        for line in p.stdout.decode().splitlines():
            o = json.loads(line)
            if list(o.keys()) == ["mark"] and str(o["mark"]).startswith("mark "):
                cur = int(o["mark"][5:])
                got[cur] = []
            else:
                got[cur].append(list(o.values()))
        for i, q in enumerate(qs):
            total += 1
            want = [list(r) for r in db.execute(q).fetchall()]
            have = got.get(i, [])
            ok = len(want) == len(have) and all(
                len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b))
                for a, b in zip(want, have))
            if not ok:
                failures += 1
                print("FAIL: table %d query %d: %s" % (tn, i, q))
                print("  rows: %s" % setup.splitlines()[-1][:3000])
                for a, b in zip(want, have):
                    if a != b:
                        print("  sqlite: %s\n  sluice: %s" % (a, b))
                        break
                if len(want) != len(have):
                    print("  sqlite %d rows, sluice %d" % (len(want), len(have)))
            elif verbose:
                print("ok: %s" % q)
    print("%d queries, %d failed" % (total, failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
