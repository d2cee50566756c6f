#!/usr/bin/env bash
# join_multi.sh - FROM lists of several items against the sqlite3 library
# (Python's sqlite3 module) on the same data: small random tables (NULLs,
# duplicates, TEXT values that read as numbers), 400 random queries of 2 to
# 4 items (comma, CROSS, [INNER] JOIN ... ON, LEFT [OUTER] JOIN ... ON,
# USING, NATURAL [LEFT], a parenthesised join on either side), ON and WHERE
# terms with equalities (the hash path), non-equalities, IS NULL and
# constants, * and t.* or chosen columns.  Each query also runs with its
# first item read as a stream from a JSON file (the driving input of the
# chain), and when every join is inner, with its second item a stream
# (which then drives the chain, its columns still in their place for *).
# Then joins of three and four streams (a JOIN b ON ... JOIN c ON ...:
# each join's rows feed the next as a stream join, sl_plan_join_nest):
# catalog streams over JSON files of bigger tables with fewer distinct
# keys, 300 random inner joins, each ON a key equality with an earlier item
# (of one type: numbers or text) and maybe other terms, WHERE terms,
# self-joins, * and t.* or chosen columns; for a share the same query over
# a FROM subquery of the first joins, (SELECT ...) AS j JOIN c ON ....
# The expected rows are sqlite3's, written into an .slt file that
# tests/slt runs (rowsort: the rows compared as multisets).  Seed fixed.
set -u
here=$(cd "$(dirname "$0")" && pwd)
slt=${top_builddir:-$here/..}/tests/slt
py=/usr/bin/python3
work=${JOIN_MULTI_KEEP:-$(mktemp -d)}
trap 'rm -rf "$work"' EXIT
. "$here/lib.sh"

$py - "$work/join_multi.slt" <<'PY' || { echo "join_multi.sh: the generator failed"; exit 1; }
import json, random, re, sqlite3, sys
random.seed(18)
out = open(sys.argv[1], "w")
tables = {
    "t1": [("a", "I"), ("b", "T"), ("c", "I")],
    "t2": [("a", "I"), ("d", "I"), ("e", "T")],
    "t3": [("b", "T"), ("d", "I"), ("f", "I")],
    "t4": [("c", "I"), ("e", "T"), ("g", "I")],
}
def value(t):
    if random.random() < 0.2:
        return None
    return random.randrange(4) if t == "I" else random.choice(["1", "2", "01", "1.0", "p", "q"])
db = sqlite3.connect(":memory:")
def sqlval(v):
    return "NULL" if v is None else (str(v) if isinstance(v, int) else "'%s'" % v)
def decl(cols):
    return ", ".join("%s %s" % (c, "INTEGER" if t == "I" else "TEXT") for c, t in cols)
for name, cols in tables.items():
    rows = [tuple(value(t) for _, t in cols) for _ in range(random.randrange(2, 8))]
    if rows and random.random() < 0.5:
        rows.append(rows[0])  # a duplicate row
    db.execute("CREATE TABLE %s (%s)" % (name, decl(cols)))
    db.executemany("INSERT INTO %s VALUES (%s)" % (name, ",".join("?" * len(cols))), rows)
    out.write("statement ok\nCREATE TABLE %s (%s)\n\n" % (name, decl(cols)))
    if rows:
        out.write("statement ok\nINSERT INTO %s VALUES %s\n\n" % (
            name, ", ".join("(" + ", ".join(sqlval(v) for v in r) + ")" for r in rows)))
    # the same rows as a stream s<N>, read from a JSON file
    out.write("file %s.json <<END\n" % name)
    for r in rows:
        out.write(json.dumps({c: v for (c, _), v in zip(cols, r)}) + "\n")
    out.write("END\n\n")
    out.write("statement ok\nCREATE STREAM s%s (%s) FROM file('%s.json')\n\n" % (name[1:], decl(cols), name))

def term(items, k, lo=0):
    """A condition over item k and items lo..k-1 (k == lo: item k alone)."""
    xk, ck = items[k]["alias"], random.choice(tables[items[k]["t"]])
    j = random.randrange(lo, k) if k > lo else k
    xj, cj = items[j]["alias"], random.choice(tables[items[j]["t"]])
    r = random.random()
    if r < 0.45: return "%s.%s = %s.%s" % (xj, cj[0], xk, ck[0])
    if r < 0.55: return "%s.%s = %s.%s + 1" % (xk, ck[0], xj, cj[0])
    if r < 0.65: return "%s.%s < %s.%s" % (xj, cj[0], xk, ck[0])
    if r < 0.72: return "%s.%s IS NULL" % (xk, ck[0])
    if r < 0.77: return "NULL IS NULL"
    if r < 0.85: return "%s.%s <> %s.%s" % (xj, cj[0], xk, ck[0])
    if r < 0.93: return "(%s.%s = %s.%s OR %s.%s IS NULL)" % (xj, cj[0], xk, ck[0], xk, ck[0])
    return "%s.%s > 1" % (xk, ck[0])

def shared(items, k, name, lo=0):
    """Items lo..k-1 with an unhidden column name."""
    return [j for j in range(lo, k) if any(c == name for c, _ in tables[items[j]["t"]]) and name not in items[j]["hidden"]]

def query():
    n = random.randint(2, 4)
    items = [{"t": random.choice(list(tables)), "alias": "x%d" % (i + 1), "hidden": set()} for i in range(n)]
    group = None  # (s, e): items s..e in parentheses
    r = random.random()
    if r < 0.15 and n >= 3: group = (0, 1)
    elif r < 0.3 and n >= 3: group = (n - 2, n - 1)
    parts = []
    for k, it in enumerate(items):
        a = it["alias"]
        ref = "%s %s%s" % (it["t"], "AS " if random.random() < 0.5 else "", a)
        if k == 0:
            parts.append(ref); continue
        lo = group[0] if group and group[0] < k <= group[1] else 0
        inner_group = group and group[0] == k and k > 0  # the group's first item: joined after ')'
        r = random.random()
        op, cond = None, ""
        if inner_group:
            op = random.choice([",", "CROSS JOIN", "JOIN"])
        elif r < 0.15:
            op = ","
        elif r < 0.25:
            op = "CROSS JOIN"
        elif r < 0.45:
            op = random.choice(["JOIN", "INNER JOIN"])
            cond = " ON " + " AND ".join(term(items, k, lo) for _ in range(random.choice([1, 1, 2])))
        elif r < 0.7:
            op = random.choice(["LEFT JOIN", "LEFT OUTER JOIN"])
            cond = " ON " + " AND ".join(term(items, k, lo) for _ in range(random.choice([1, 1, 2])))
        elif r < 0.85:
            cols = [c for c, _ in tables[it["t"]] if len(shared(items, k, c, lo)) == 1]
            if cols:
                use = random.sample(cols, random.randint(1, len(cols)))
                op = random.choice(["JOIN", "LEFT JOIN"])
                cond = " USING (%s)" % ", ".join(use)
                it["hidden"].update(use)
            else:
                op = ","
        else:
            common = [c for c, _ in tables[it["t"]] if shared(items, k, c, lo)]
            if all(len(shared(items, k, c, lo)) == 1 for c in common):
                op = random.choice(["NATURAL JOIN", "NATURAL LEFT JOIN"])
                it["hidden"].update(common)
            else:
                op = "CROSS JOIN"
        it["op"], it["cond"], it["ref"] = op, cond, ref
        if inner_group:
            parts.append(None)  # its text is the parenthesised group's, written below
        else:
            parts.append((" " if op != "," else "") + op + " " + ref + cond)
    if group:
        s, e = group
        inside = items[s]["ref"] if s > 0 else parts[0]
        inside += "".join(parts[i] for i in range(s + 1, e + 1))
        if s == 0:
            sql_from = "(" + inside + ")" + "".join(parts[i] for i in range(e + 1, n))
        else:
            it = items[s]
            outer = ""
            if it["op"] == "JOIN":
                outer = " ON " + term(items, e, 0) if e > 0 else ""
            sql_from = parts[0] + "".join(parts[i] for i in range(1, s)) + \
                (" " if it["op"] != "," else "") + it["op"] + " (" + inside + ")" + outer
            if it["op"] == "JOIN" and not outer:
                sql_from = sql_from.replace(" JOIN (", " CROSS JOIN (")
    else:
        sql_from = parts[0] + "".join(parts[1:])
    where = ""
    if random.random() < 0.4:
        ts = []
        for _ in range(random.randint(1, 2)):
            k = random.randrange(n)
            ts.append(term(items, k, 0))
        where = " WHERE " + " AND ".join(ts)
    r = random.random()
    # (SQLite 3.40 orders the columns of a parenthesised LEFT JOIN ... USING
    # on the right of a join with the USING column first: no * there)
    if r < 0.25 and not (group and group[0] > 0):
        sel, types = "*", None
    elif r < 0.35 and not (group and group[0] > 0):
        it = random.choice(items)
        sel = "%s.*" % it["alias"]
        types = "".join(t for _, t in tables[it["t"]])
    else:
        cs = []
        for _ in range(random.randint(1, 5)):
            it = random.choice(items)
            c = random.choice(tables[it["t"]])
            cs.append((it["alias"] + "." + c[0], c[1]))
        sel, types = ", ".join(c for c, _ in cs), "".join(t for _, t in cs)
    return items, sql_from, where, sel, types

def render(v):
    return "NULL" if v is None else str(v)

nq = 0
while nq < 400:
    items, sql_from, where, sel, types = query()
    sql = "SELECT %s FROM %s%s" % (sel, sql_from, where)
    try:
        cur = db.execute(sql)
        rows = cur.fetchall()
    except sqlite3.Error as e:
        continue  # a shape SQLite refuses: not a test of ours
    if types is None:
        types = "?" * len(cur.description)
    if len(rows) > 2000:
        continue
    nq += 1
    body = "".join(" ".join(render(v) for v in r) + "\n" for r in rows)
    variants = [sql, sql.replace("FROM %s " % items[0]["t"], "FROM s%s " % items[0]["t"][1:], 1)
                .replace("FROM (%s " % items[0]["t"], "FROM (s%s " % items[0]["t"][1:], 1)]
    if "(" not in sql_from and all(it["op"] in (",", "CROSS JOIN", "JOIN", "INNER JOIN") and
                                   "USING" not in it["cond"] for it in items[1:]):
        # the second item a stream: it moves to the front of the chain
        ref = items[1]["ref"]
        variants.append(sql.replace(" " + ref, " s" + ref[1:], 1))
    for q in variants:
        out.write("query %s rowsort\n%s\n----\n%s\n" % (types, q, body))

# ---- joins of three and four streams ----------------------------------------------------
def key_pair(items, k):
    """x_j.c = x_k.c for an earlier item j sharing column c with item k, or None."""
    pairs = [(j, c) for j in range(k) for c, _ in tables[items[k]["t"]]
             if any(c == d for d, _ in tables[items[j]["t"]])]
    if not pairs:
        return None
    j, c = random.choice(pairs)
    return "%s.%s = %s.%s" % (items[j]["alias"], c, items[k]["alias"], c) if random.random() < 0.5 \
        else "%s.%s = %s.%s" % (items[k]["alias"], c, items[j]["alias"], c)

def extra(items, k):
    """Another term over items 0..k (not an equality of two types)."""
    xk, (ck, tk) = items[k]["alias"], random.choice(tables[items[k]["t"]])
    j = random.randrange(k + 1)
    xj, (cj, tj) = items[j]["alias"], random.choice(tables[items[j]["t"]])
    r = random.random()
    if r < 0.3 and tk == tj == "I": return "%s.%s < %s.%s" % (xj, cj, xk, ck)
    if r < 0.45 and tk == tj: return "%s.%s <> %s.%s" % (xj, cj, xk, ck)
    if r < 0.6: return "%s.%s IS NULL" % (xk, ck)
    if r < 0.7 and tk == "I": return "%s.%s = %s.%s + 1" % (xk, ck, xj, cj) if tj == "I" else "%s.%s > 1" % (xk, ck)
    if r < 0.85: return "(%s.%s IS NOT NULL OR %s.%s IS NULL)" % (xk, ck, xj, cj)
    return "%s.%s > 1" % (xk, ck) if tk == "I" else "%s.%s <> 'p'" % (xk, ck)

# bigger tables u1..u4 with fewer distinct keys (more rows joined), their
# streams w1..w4
for name, cols in tables.items():
    u = "u" + name[1:]
    rows = [tuple(None if random.random() < 0.1 else
                  random.randrange(3) if t == "I" else random.choice(["1", "01", "p"])
                  for _, t in cols) for _ in range(random.randrange(6, 16))]
    db.execute("CREATE TABLE %s (%s)" % (u, decl(cols)))
    db.executemany("INSERT INTO %s VALUES (%s)" % (u, ",".join("?" * len(cols))), rows)
    out.write("file %s.json <<END\n" % u)
    for r in rows:
        out.write(json.dumps({c: v for (c, _), v in zip(cols, r)}) + "\n")
    out.write("END\n\n")
    out.write("statement ok\nCREATE STREAM w%s (%s) FROM file('%s.json')\n\n" % (name[1:], decl(cols), u))

nq = 0
while nq < 300:
    n = random.choice([3, 3, 4])
    items = [{"t": random.choice(list(tables)), "alias": "x%d" % (i + 1)} for i in range(n)]
    conds = [None] + [key_pair(items, k) for k in range(1, n)]
    if any(c is None for c in conds[1:]):
        continue
    for k in range(1, n):
        for _ in range(random.choice([0, 0, 0, 1, 2])):
            conds[k] += " AND " + extra(items, k)
    as_ = ["AS " if random.random() < 0.5 else "" for it in items]
    ops = [random.choice(["JOIN", "INNER JOIN"]) for it in items]
    def from_list(prefix, last):
        refs = ["%s%s %s%s" % (prefix, it["t"][1:], as_[k], it["alias"]) for k, it in enumerate(items)]
        return refs[0] + "".join(" %s %s ON %s" % (ops[k], refs[k], conds[k]) for k in range(1, last))
    sql_from = from_list("w", n)
    where = ""
    if random.random() < 0.3:
        where = " WHERE " + " AND ".join(extra(items, random.randrange(n)) for _ in range(random.randint(1, 2)))
    r = random.random()
    if r < 0.25:
        sel, types = "*", "".join(t for it in items for _, t in tables[it["t"]])
    elif r < 0.35:
        it = random.choice(items)
        sel, types = "%s.*" % it["alias"], "".join(t for _, t in tables[it["t"]])
    else:
        cs = []
        for _ in range(random.randint(1, 5)):
            it = random.choice(items)
            c = random.choice(tables[it["t"]])
            cs.append((it["alias"] + "." + c[0], c[1]))
        sel, types = ", ".join(c for c, _ in cs), "".join(t for _, t in cs)
    sql = "SELECT %s FROM %s%s" % (sel, sql_from, where)
    rows = db.execute("SELECT %s FROM %s%s" % (sel, from_list("u", n), where)).fetchall()
    if len(rows) > 2000:
        continue
    nq += 1
    body = "".join(" ".join(render(v) for v in r) + "\n" for r in rows)
    out.write("query %s rowsort\n%s\n----\n%s\n" % (types, sql, body))
    if "*" not in sel and random.random() < 0.3:
        # the first joins said as a FROM subquery: its columns named x<i>_<c>
        sub_cols = ", ".join("%s.%s AS %s_%s" % (items[i]["alias"], c, items[i]["alias"], c)
                             for i in range(n - 1) for c, _ in tables[items[i]["t"]])
        rename = lambda e: re.sub(r"\b(x[1-%d])\.(\w+)" % (n - 1), r"j.\1_\2", e)
        alt = "SELECT %s FROM (SELECT %s FROM %s) AS j JOIN w%s %sx%d ON %s%s" % (
            rename(sel), sub_cols, from_list("w", n - 1), items[-1]["t"][1:], as_[-1], n,
            rename(conds[-1]), rename(where))
        out.write("query %s rowsort\n%s\n----\n%s\n" % (types, alt, body))
out.close()
PY

"$slt" "$work/join_multi.slt" > "$work/out" 2>&1 && ok || { bad "sluice's rows differ from sqlite3's"; head -60 "$work/out"; }
tail -1 "$work/out"
finish join_multi.sh
