#!/usr/bin/python3
"""subquery_gen.py - the differential test of subqueries and compound
SELECTs (tests/subquery.sh): small random tables (NULLs, duplicates, text
that looks like numbers) and random queries with scalar, IN, NOT IN, EXISTS
subqueries (correlated or not, nested), x IN table, FROM (SELECT ...) and
UNION [ALL] / INTERSECT / EXCEPT, each run by the sqlite3 library; prints a
.slt file (tests/slt.c's format) whose expected rows are SQLite's.  Queries
SQLite refuses are left out.  Usage: subquery_gen.py SEED COUNT
"""
import random
import sqlite3
import sys

seed = int(sys.argv[1]) if len(sys.argv) > 1 else 1
count = int(sys.argv[2]) if len(sys.argv) > 2 else 300
rng = random.Random(seed)

TABLES = {
    "t1": [("a", "INTEGER"), ("b", "INTEGER"), ("c", "TEXT")],
    "t2": [("x", "INTEGER"), ("y", "TEXT")],
    "t3": [("p", "INTEGER"), ("q", "INTEGER")],
    "t4": [("v", "INTEGER")],
    "t5": [("w", "TEXT")],
}
TEXTS = ["a", "b", "c", "1", "2", "10", ""]


def value(typ):
    if rng.random() < 0.2:
        return None
    if typ == "INTEGER":
        if rng.random() < 0.1:  # a REAL: 2.5 stays one, 1.0 becomes 1
            return rng.choice([2.5, 1.0, -0.5])
        return rng.randint(-1, 5)
    return rng.choice(TEXTS)


def lit(v):
    if v is None:
        return "NULL"
    if isinstance(v, (int, float)):
        return repr(v)
    return "'" + v + "'"


def make_rows(cols):
    rows = [tuple(value(t) for _, t in cols) for _ in range(rng.randint(0, 8))]
    if rows and rng.random() < 0.7:  # duplicates
        rows += rng.sample(rows, rng.randint(1, len(rows)))
    return rows


def ints(table):
    return [c for c, t in TABLES[table] if t == "INTEGER"]


def col(table, alias=None, typ=None):
    cs = [c for c, t in TABLES[table] if typ is None or t == typ]
    c = rng.choice(cs)
    return (alias + "." + c) if alias else c


def scalar_operand(table, alias):
    r = rng.random()
    if r < 0.6:
        return col(table, alias)
    if r < 0.8:
        return lit(rng.randint(-1, 5))
    return lit(rng.choice(TEXTS + [None]))


def cmp():
    return rng.choice(["=", "<>", "<", ">", "<=", ">="])


def inner_where(inner, ialias, outer, oalias, depth):
    """A WHERE for a subquery over inner: plain, correlated with the outer
    query, or with a nested subquery."""
    r = rng.random()
    if r < 0.3:
        return ""
    if r < 0.75:  # correlated
        return " WHERE %s %s %s" % (col(inner, ialias), cmp(), col(outer, oalias))
    if r < 0.9:
        return " WHERE %s %s %s" % (col(inner, ialias), cmp(), scalar_operand(inner, ialias))
    return " WHERE " + predicate(inner, ialias, depth + 1)


def subselect(outer, oalias, depth, one_col=True):
    inner = rng.choice(list(TABLES))
    ialias = rng.choice([None, "i%d" % depth])
    cols = col(inner, ialias) if one_col else "*"
    frm = inner + (" AS " + ialias if ialias else "")
    s = "SELECT %s FROM %s%s" % (cols, frm, inner_where(inner, ialias, outer, oalias, depth))
    if rng.random() < 0.15 and one_col:
        s += " UNION SELECT %s" % lit(rng.randint(-1, 5))
    return s


def predicate(outer, oalias, depth=0):
    r = rng.random()
    if depth > 1:
        r = 0.95
    if r < 0.3:
        return "%s %sIN (%s)" % (scalar_operand(outer, oalias), rng.choice(["", "NOT "]),
                                 subselect(outer, oalias, depth))
    if r < 0.5:
        return "%sEXISTS (%s)" % (rng.choice(["", "NOT "]), subselect(outer, oalias, depth, False))
    if r < 0.7:
        return "%s %s (%s)" % (scalar_operand(outer, oalias), cmp(), subselect(outer, oalias, depth))
    if r < 0.85:
        t = rng.choice(["t4", "t5"])
        return "%s %sIN %s" % (scalar_operand(outer, oalias), rng.choice(["", "NOT "]), t)
    return "%s %s %s" % (col(outer, oalias), cmp(), scalar_operand(outer, oalias))


def simple_query():
    outer = rng.choice(["t1", "t2", "t3"])
    oalias = rng.choice([None, "o"])
    frm = outer + (" AS " + oalias if oalias else "")
    items = [col(outer, oalias) for _ in range(rng.randint(1, 2))]
    if rng.random() < 0.5:
        items.append("(%s)" % subselect(outer, oalias, 0))
    if rng.random() < 0.3:
        items.append(predicate(outer, oalias))
    where = " WHERE " + predicate(outer, oalias) if rng.random() < 0.8 else ""
    return "SELECT %s FROM %s%s" % (", ".join(items), frm, where), "rowsort"


def arm(ncol):
    t = rng.choice(["t1", "t2", "t3"])
    cs = [c for c, _ in TABLES[t]]
    picked = [rng.choice(cs + [lit(rng.randint(0, 3)), lit(rng.choice([1.0, 2.5]))])
              for _ in range(ncol)]
    where = ""
    if rng.random() < 0.5:
        where = " WHERE " + predicate(t, None, 1)
    return "SELECT %s FROM %s%s" % (", ".join(picked), t, where)


def compound_query():
    ncol = rng.randint(1, 2)
    s = arm(ncol)
    for _ in range(rng.randint(1, 3)):
        s += " %s %s" % (rng.choice(["UNION", "UNION ALL", "INTERSECT", "EXCEPT"]), arm(ncol))
    if rng.random() < 0.25 and "UNION ALL" not in s:
        # distinct rows come sorted: LIMIT picks the same ones as SQLite
        return s + " LIMIT %d" % rng.randint(0, 4), "nosort"
    if rng.random() < 0.3:
        return "SELECT * FROM (%s) AS u WHERE %s IS NOT NULL" % (s, "1"), "rowsort"
    return s, "rowsort"


def from_query():
    inner = rng.choice(["t1", "t2", "t3"])
    cs = [c for c, _ in TABLES[inner]]
    where = " WHERE " + predicate(inner, None, 1) if rng.random() < 0.5 else ""
    s = "SELECT %s FROM %s%s" % (", ".join(cs), inner, where)
    outer_where = ""
    if rng.random() < 0.6:
        outer_where = " WHERE s.%s IN (SELECT %s FROM %s)" % (rng.choice(cs), col("t3"), "t3")
    return "SELECT * FROM (%s) AS s%s" % (s, outer_where), "rowsort"


def render(v):
    if v is None:
        return "NULL"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v)
    return v if v != "" else "(empty)"


db = sqlite3.connect(":memory:")
out = ["# generated by tests/subquery_gen.py %d %d: expected rows are sqlite3's" % (seed, count), ""]
for t, cols in TABLES.items():
    ddl = "CREATE TABLE %s(%s)" % (t, ", ".join("%s %s" % c for c in cols))
    db.execute(ddl)
    out += ["statement ok", ddl, ""]
    rows = make_rows(cols)
    if rows:
        ins = "INSERT INTO %s VALUES %s" % (t, ", ".join("(%s)" % ", ".join(lit(v) for v in r) for r in rows))
        db.execute(ins)
        out += ["statement ok", ins, ""]

made = 0
while made < count:
    r = rng.random()
    q, mode = simple_query() if r < 0.6 else compound_query() if r < 0.85 else from_query()
    try:
        cur = db.execute(q)
        rows = cur.fetchall()
        ncol = len(cur.description)
        lines = [" ".join(render(v) for v in row) for row in rows]
    except (sqlite3.Error, ValueError):
        continue
    out += ["query %s %s" % ("?" * ncol, mode), q, "----"] + lines + [""]
    made += 1
print("\n".join(out))
