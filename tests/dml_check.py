"""dml_check.py - differential test of sluice's INSERT / REPLACE / UPDATE /
DELETE / INSERT ... SELECT / CREATE TABLE AS / views on catalog tables against the
sqlite3 library (the reference), over random tables and statements (fixed
seed).

Each round is one script: two tables, random statements, then both tables
(and a CREATE TABLE AS copy) selected.  The script runs in sqlite3 (Python's
module) and in `sluice` (stdin); the final rows must be the same multisets,
value for value (type included).  Usage: dml_check.py SLUICE [ROUNDS]
"""
import json
import random
import sqlite3
import subprocess
import sys

sluice = sys.argv[1]
rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 40
rng = random.Random(18)

WORDS = ["a", "bb", "abc", "x", "12", "3.5", "", "zz", "Ab"]


def lit():
    k = rng.randrange(6)
    if k == 0:
        return "NULL"
    if k == 1:
        return str(rng.randrange(-20, 50))
    if k == 2:
        return repr(rng.randrange(-40, 80) / 4)
    return "'" + rng.choice(WORDS) + "'"


def cond(cols):
    c = rng.choice(cols)
    k = rng.randrange(7)
    if k == 0:
        return "%s > %d" % (c, rng.randrange(-10, 40))
    if k == 1:
        return "%s IS NULL" % c
    if k == 2:
        return "%s LIKE '%s%%'" % (c, rng.choice("abx1"))
    if k == 3:
        return "%s %% 3 = %d" % (c, rng.randrange(3))
    if k == 4:
        return "%s BETWEEN %d AND %d" % (c, rng.randrange(-5, 10), rng.randrange(10, 40))
    if k == 5:
        return "%s <> %s" % (c, lit())
    return "%s IN (%s, %s)" % (c, lit(), lit())


def value_expr(col, cols):
    k = rng.randrange(7)
    other = rng.choice(cols)
    if k == 0:
        return lit()
    if k == 1:
        return "%s + %d" % (other, rng.randrange(1, 9))
    if k == 2:
        return "%s || '%s'" % (other, rng.choice(WORDS))
    if k == 3:
        return "%s * 2" % other
    if k == 4:
        return "CASE WHEN %s THEN %s ELSE %s END" % (cond(cols), lit(), other)
    if k == 5:
        return "coalesce(%s, %s)" % (other, lit())
    return "abs(%s)" % other


TCOLS = ["b", "c", "d"]  # t(a INTEGER PRIMARY KEY, b INTEGER, c TEXT, d REAL)
SCOLS = ["x", "y"]  # s(x INTEGER, y)


def statement():
    k = rng.randrange(10)
    if k <= 1:  # INSERT with a column list (a omitted: the next key)
        cols = rng.sample(TCOLS, rng.randrange(1, 4))
        rows = ", ".join(
            "(" + ", ".join(lit() for _ in cols) + ")" for _ in range(rng.randrange(1, 4)))
        return "INSERT INTO t(%s) VALUES %s" % (", ".join(cols), rows)
    if k == 2:  # replace by key
        verb = rng.choice(["INSERT OR REPLACE", "REPLACE"])
        return "%s INTO t VALUES (%d, %s, %s, %s)" % (verb, rng.randrange(1, 12), lit(), lit(),
                                                       lit())
    if k == 3:
        rows = ", ".join("(%s, %s)" % (lit(), lit()) for _ in range(rng.randrange(1, 4)))
        return "INSERT INTO s VALUES %s" % rows
    if k == 4:
        sets = ", ".join("%s = %s" % (c, value_expr(c, TCOLS)) for c in
                         rng.sample(TCOLS, rng.randrange(1, 4)))
        w = " WHERE " + cond(TCOLS + ["a"]) if rng.random() < 0.8 else ""
        return "UPDATE t SET %s%s" % (sets, w)
    if k == 5:
        sets = ", ".join("%s = %s" % (c, value_expr(c, SCOLS)) for c in
                         rng.sample(SCOLS, rng.randrange(1, 3)))
        w = " WHERE " + cond(SCOLS) if rng.random() < 0.8 else ""
        return "UPDATE s SET %s%s" % (sets, w)
    if k == 6:
        return "DELETE FROM %s WHERE %s" % rng.choice([("t", cond(TCOLS + ["a"])),
                                                       ("s", cond(SCOLS))])
    if k == 7:  # INSERT INTO s SELECT
        return "INSERT INTO s SELECT %s, %s FROM t WHERE %s" % (
            value_expr("x", TCOLS), rng.choice(TCOLS), cond(TCOLS))
    if k == 8:  # INSERT INTO t(cols) SELECT
        return "INSERT INTO t(%s) SELECT x, y FROM s WHERE %s" % (
            ", ".join(rng.sample(TCOLS, 2)), cond(SCOLS))
    return "DELETE FROM s WHERE x IS NULL"


def norm(v):
    if isinstance(v, float):
        return ("r", round(v, 9))
    if isinstance(v, bool):
        return ("i", int(v))
    if isinstance(v, int):
        return ("i", v)
    if v is None:
        return ("n",)
    return ("t", v)


def parse_sluice(out, names):
    """The JSON lines of the three final SELECTs, split at the marker rows."""
    groups, cur = [], []
    for line in out.splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        if "mark__" in row:
            groups.append(cur)
            cur = []
            continue
        cur.append(row)
    groups.append(cur)
    res = []
    for g, cols in zip(groups, names):
        res.append(sorted(tuple(norm(r.get(c)) for c in cols) for r in g))
    return res


failures = 0
nrows = 0
for rnd in range(rounds):
    stmts = ["CREATE TABLE t(a INTEGER PRIMARY KEY, b INTEGER, c TEXT, d REAL)",
             "CREATE TABLE s(x INTEGER, y)",
             "CREATE VIEW w AS SELECT a, c || '!' AS c2 FROM t WHERE %s" % cond(TCOLS)]
    stmts += [statement() for _ in range(rng.randrange(8, 20))]
    stmts.append("CREATE TABLE u AS SELECT a, b + 1 AS b1, c FROM t WHERE a % 2 = 1")
    finals = ["SELECT a, b, c, d FROM t", "SELECT x, y FROM s", "SELECT a, b1, c FROM u",
              "SELECT a, c2 FROM w"]
    names = [["a", "b", "c", "d"], ["x", "y"], ["a", "b1", "c"], ["a", "c2"]]
    db = sqlite3.connect(":memory:")
    want = []
    for st in stmts:
        db.execute(st)
    for q in finals:
        want.append(sorted(tuple(norm(v) for v in r) for r in db.execute(q)))
    script = ";\n".join(stmts) + ";\n" + ";\nSELECT 1 AS mark__;\n".join(finals) + ";\n"
    p = subprocess.run([sluice], input=script, capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        print("round %d: sluice failed: %s\n%s" % (rnd, p.stderr, script))
        failures += 1
        continue
    got = parse_sluice(p.stdout, names)
    nrows += sum(len(w) for w in want)
    for i, q in enumerate(finals):
        if got[i] != want[i]:
            print("round %d: %s differs\n--- sqlite3\n%s\n--- sluice\n%s\n--- script\n%s" %
                  (rnd, q, want[i], got[i], script))
            failures += 1
            break
    # the same declared types as sqlite3 for CREATE TABLE AS
    want_types = [r[2] for r in db.execute("PRAGMA table_info(u)")]
    p = subprocess.run([sluice], input=script.split("SELECT a, b, c, d")[0] + "DESCRIBE u;\n",
                       capture_output=True, text=True, timeout=60)
    got_types = [json.loads(l)["type"] for l in p.stdout.splitlines()
                 if l.strip() and "column" in l]
    if got_types != want_types:
        print("round %d: CREATE TABLE AS types %s, sqlite3 %s" % (rnd, got_types, want_types))
        failures += 1
print("dml_check: %d rounds, %d rows compared, %d failures" % (rounds, nrows, failures))
sys.exit(1 if failures else 0)
