#!/usr/bin/python3
"""order_agg.py - the differential test of ORDER BY, aggregates without
GROUP BY, GROUP BY ordinals and aliases, and DISTINCT over GROUP BY
(tests/order_agg.sh runs it): random small tables (NULLs, duplicates, text
in different cases, a fixed seed) and random queries, each run by sluice
(over the same rows in a CREATE TABLE) and by the sqlite3 library, compared.

Rows are compared as multisets; for ORDER BY also the sequence of each
row's sort key values (ties may come in either order; a key compared with
NOCASE is compared lowercased), and the whole sequence when the order is
fully determined (the last key is a unique id).  Usage:
order_agg.py SLUICE [--seed N] [--tables N] [--queries N] [-v]
"""
import json
import math
import random
import sqlite3
import subprocess
import sys

TEXTS = ["a", "A", "b", "B", "abc", "Abc", "ab", "", "z", "Z "]


def sql_lit(v):
    if v is None:
        return "NULL"
    if isinstance(v, str):
        return "'" + v.replace("'", "''") + "'"
    if isinstance(v, float):
        return repr(v)
    return str(v)


def make_table(rng, name, nrow):
    rows = []
    for i in range(nrow):
        a = None if rng.random() < 0.2 else rng.randint(-3, 4)
        b = None if rng.random() < 0.2 else rng.choice(TEXTS)
        c = None if rng.random() < 0.2 else rng.choice([0.5, 1.0, -2.25, 3.0, 10.0, 2.5])
        rows.append((i + 1, a, b, c))
    return rows


class Q:
    """A query: its SQL, the sort key columns of its result (index, nocase)
    when it has ORDER BY, and whether its order is fully determined."""

    def __init__(self, sql, keys=None, exact=False, fold=()):
        self.sql, self.keys, self.exact, self.fold = sql, keys, exact, fold


def order_term(rng, idx, ncols, name, alias, expr, nocase_ok):
    """One ORDER BY term for result column idx: an ordinal, the alias or
    the expression, with a random direction, NULLS and maybe NOCASE."""
    how = rng.choice(["ordinal", "alias", "expr"])
    t = str(idx + 1) if how == "ordinal" else alias if how == "alias" else expr
    nocase = nocase_ok and rng.random() < 0.5
    if nocase:
        t += " COLLATE NOCASE"
    t += rng.choice(["", " ASC", " DESC"])
    t += rng.choice(["", "", " NULLS FIRST", " NULLS LAST"])
    return t, nocase


def gen_order(rng, table):
    cols = [("a", "x_a", False), ("b", "x_b", True), ("c", "x_c", False), ("a + 1", "x_e", False),
            ("id", "x_id", False)]
    rng.shuffle(cols)
    sel = cols[: rng.randint(1, len(cols))]
    nk = rng.randint(1, len(sel))
    keyidx = rng.sample(range(len(sel)), nk)
    terms, keys = [], []
    for i in keyidx:
        t, nocase = order_term(rng, i, len(sel), sel[i][0], sel[i][1], sel[i][0], sel[i][2])
        terms.append(t)
        keys.append((i, nocase))
    exact = sel[keyidx[-1]][0] == "id"
    sql = "SELECT %s FROM %s" % (", ".join("%s AS %s" % (e, a) for e, a, _ in sel), table)
    if rng.random() < 0.4:
        sql += " WHERE " + rng.choice(["a > 0", "b IS NOT NULL", "c < 3", "a IS NULL OR c > 1"])
    sql += " ORDER BY " + ", ".join(terms)
    if rng.random() < 0.5:
        sql += " LIMIT %d" % rng.randint(0, 8)
        if rng.random() < 0.5:
            sql += " OFFSET %d" % rng.randint(0, 4)
    return Q(sql, keys, exact)


def gen_hidden(rng, table):
    """ORDER BY an expression that is not in the select list, then id."""
    e = rng.choice(["b", "b COLLATE NOCASE", "c * 2", "a - c", "length(b)", "abs(a)"])
    d = rng.choice(["", " DESC"])
    n = rng.choice(["", " NULLS FIRST", " NULLS LAST"])
    sql = "SELECT id, a FROM %s ORDER BY %s%s%s, id" % (table, e, d, n)
    if rng.random() < 0.5:
        sql += " LIMIT %d" % rng.randint(1, 6)
    return Q(sql, [(0, False)], True)


def gen_agg(rng, table):
    aggs = ["count(*)", "count(a)", "count(b)", "sum(a)", "total(c)", "min(a)", "max(b)", "min(c)",
            "avg(a)", "max(a) - min(a)", "count(*) * 2 + 1", "sum(c) / 2", "count(DISTINCT b)",
            "group_concat(DISTINCT a)", "max(b COLLATE NOCASE)"]
    sel = rng.sample(aggs, rng.randint(1, 4))
    sql = "SELECT %s FROM %s" % (", ".join(sel), table)
    if rng.random() < 0.4:
        sql += " WHERE " + rng.choice(["a > 0", "b = 'a'", "c IS NULL", "a > 100"])
    if rng.random() < 0.3:
        sql += " HAVING " + rng.choice(["count(*) > 2", "sum(a) > 0", "max(c) IS NULL"])
    return Q(sql)


def gen_group(rng, table):
    """GROUP BY an ordinal or an alias (never an input column's name)."""
    k = rng.choice(["a % 2", "upper(b)", "c > 1", "a", "lower(b)", "b COLLATE NOCASE"])
    # a NOCASE group shows one of its values: compared lowercased
    fold = (0,) if "NOCASE" in k else ()
    aggs = rng.sample(["count(*)", "sum(a)", "max(c)", "min(b)", "count(DISTINCT a)"],
                      rng.randint(1, 2))
    by = rng.choice(["1", "g"])
    sql = "SELECT %s AS g, %s FROM %s GROUP BY %s" % (k, ", ".join(aggs), table, by)
    if rng.random() < 0.3:
        sql += " HAVING count(*) > 1"
    if rng.random() < 0.5:
        return Q(sql + " ORDER BY 1 DESC NULLS LAST", [(0, bool(fold))], False, fold)
    return Q(sql, fold=fold)


def gen_distinct(rng, table):
    k = rng.choice(["a", "b", "c", "a, b"])
    agg = rng.choice(["count(*)", "max(a)", "count(c)", "min(b)"])
    sql = "SELECT DISTINCT %s FROM %s GROUP BY %s" % (agg, table, k)
    if rng.random() < 0.5:
        return Q(sql + " ORDER BY 1", [(0, False)], False)
    return Q(sql)


def same_value(x, y):
    if isinstance(x, bool) or isinstance(y, bool):
        return x == y
    if isinstance(x, (int, float)) and isinstance(y, (int, float)):
        if isinstance(x, float) or isinstance(y, float):
            return math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12)
        return x == y
    return x == y


def norm_row(r):
    return tuple((0, "") if v is None else (1, round(float(v), 9)) if isinstance(v, (int, float))
                 else (2, v) for v in r)


def key_seq(rows, keys):
    out = []
    for r in rows:
        k = []
        for i, nocase in keys:
            v = r[i]
            if nocase and isinstance(v, str):
                v = v.lower()
            k.append(v)
        out.append(k)
    return out


def rows_same(a, b):
    return len(a) == len(b) and all(
        len(x) == len(y) and all(same_value(p, q) for p, q in zip(x, y)) for x, y in zip(a, b))


def main():
    args = sys.argv[1:]
    sluice = args[0]
    seed, ntab, nq, verbose = 1, 6, 60, "-v" in args
    if "--seed" in args:
        seed = int(args[args.index("--seed") + 1])
    if "--tables" in args:
        ntab = int(args[args.index("--tables") + 1])
    if "--queries" in args:
        nq = int(args[args.index("--queries") + 1])
    rng = random.Random(seed)
    failures, total = 0, 0
    for tn in range(ntab):
        rows = make_table(rng, "t", 0 if tn == 0 else rng.randint(1, 14 if tn % 2 else 40))
        db = sqlite3.connect(":memory:")
        setup = "CREATE TABLE t (id INTEGER, a INTEGER, b TEXT, c REAL);\n"
        if rows:
            setup += "INSERT INTO t VALUES %s;\n" % ", ".join(
                "(%s)" % ", ".join(sql_lit(v) for v in r) for r in rows)
        db.executescript(setup)
        gens = [gen_order, gen_hidden, gen_agg, gen_group, gen_distinct]
        qs = [gens[i % len(gens)](rng, "t") for i in range(nq)]
        script = setup
        for i, q in enumerate(qs):
            script += "SELECT 'mark %d' AS mark;\n%s;\n" % (i, q.sql)
        p = subprocess.run([sluice], input=script.encode(), capture_output=True, timeout=300)
        lines = p.stdout.decode().splitlines()
        if p.returncode != 0:
            print("FAIL: sluice exited %d on table %d: %s" % (p.returncode, tn,
                                                           p.stderr.decode()[-2000:]))
            failures += 1
            continue
        got = {}
        cur = None
        for ln in lines:
            o = json.loads(ln)
            if list(o.keys()) == ["mark"] and str(o["mark"]).startswith("mark "):
                cur = int(o["mark"].split()[1])
                got[cur] = []
            elif cur is not None:
                got[cur].append(tuple(o.values()))
        for i, q in enumerate(qs):
            total += 1
            want = [tuple(r) for r in db.execute(q.sql).fetchall()]
            have = got.get(i, [])
            if q.fold:
                low = lambda r: tuple(v.lower() if j in q.fold and isinstance(v, str) else v
                                      for j, v in enumerate(r))
                want, have = [low(r) for r in want], [low(r) for r in have]
            why = None
            if q.keys is None:
                if not rows_same(sorted(want, key=norm_row), sorted(have, key=norm_row)):
                    why = "rows differ"
            elif q.exact:
                if not rows_same(want, have):
                    why = "rows or their order differ"
            else:
                limited = " LIMIT " in q.sql
                if not limited and not rows_same(sorted(want, key=norm_row),
                                                 sorted(have, key=norm_row)):
                    why = "rows differ"
                elif not rows_same(key_seq(want, q.keys), key_seq(have, q.keys)):
                    why = "the order of the sort keys differs"
            if why or verbose:
                print("%s: table %d (%d rows): %s" % ("FAIL" if why else "ok", tn, len(rows), q.sql))
            if why:
                failures += 1
                print("  %s\n  sqlite: %s\n  sluice: %s" % (why, want, have))
    print("order_agg: %d queries, %d failed (seed %d)" % (total, failures, seed))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
