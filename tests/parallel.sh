#!/usr/bin/env bash
# parallel.sh - SET parallelism: a query run as parallel tasks gives the
# same rows (as a multiset) as one task, and sqlite3 agrees.
#   - S1's query (the logistic model of bench/weights.txt) over random S1
#     records at parallelism 1, 2 and 3 (the file divided into chunks of
#     min_split_bytes, set small so that a few MB make several);
#   - random filter/project queries (WHERE, arithmetic, text functions,
#     CASE, NULLs) over random JSON lines with malformed lines and rows that
#     fail evaluation, random batch sizes: parallelism 2 and 3 against 1
#     (rows, and the counts of --stats: in, out, rejected) and against
#     sqlite3's library over the same records;
#   - random GROUP BY queries (keys, expressions, COLLATE, HAVING, DISTINCT
#     aggregates, TUMBLE and HOP windows), random batch sizes: planned as
#     parallel tasks meeting at an exchange (EXPLAIN says so), rows and
#     --stats counts at parallelism 2 and 3 those of 1, and sqlite3's rows
#     (TUMBLE as a computed window start); a global aggregate and DISTINCT
#     stay one task and EXPLAIN says why; a plain stream read by one query
#     runs as that query's tasks, read by two as one task, both right;
#   - the file read in chunks the tasks claim as they go (of min_split_bytes):
#     every rejection logged names a malformed line at parallelism 1, 2 and
#     3 with chunks of a few kB;
#   - CSV with a header and quoted fields holding newlines and quotes: the
#     chunks begin outside quotes; every line a task logs as rejected is one
#     that one task's dead-letter sink names;
#   - parts smaller than a line (some parts empty) and a file too small to
#     divide.
set -u
here=$(cd "$(dirname "$0")" && pwd)
sluice=${SLUICE:-$here/../sluice}
py=/usr/bin/python3
. "$here/lib.sh"
in_workdir

cat > par.py <<'PY'
import json, math, os, random, re, sqlite3, subprocess, sys, uuid

sluice, weights_file = sys.argv[1], sys.argv[2]
rng = random.Random(int(os.environ.get("PARALLEL_SEED", "20")))
failures = []

def run(sql, stats=True):
    """sluice -e sql: (exit status, stderr)."""
    args = [sluice] + (["--stats"] if stats else []) + ["-e", sql]
    p = subprocess.run(args, capture_output=True, text=True)
    return p.returncode, p.stderr

def lines(path):
    with open(path) as f:
        return sorted(f.read().splitlines())

def counts(err):
    m = re.search(r"q1: (\d+) in, (\d+) out, (\d+) rejected", err)
    return m.groups() if m else None

def fail(what, detail=""):
    failures.append(what)
    print("FAIL: %s %s" % (what, detail[:2000]))

# ---- S1 ------------------------------------------------------------------------
w = {}
for l in open(weights_file):
    m = re.match(r"w(\d+)\s+(\S+)", l)
    if m:
        w[int(m.group(1))] = m.group(2)
linear = w[0] + "".join(" + (%s)*G%d" % (w[i], i) for i in range(1, 11))
with open("s1.json", "w") as f:
    for i in range(60000):
        rec = {"G%d" % g: rng.randrange(2) for g in range(1, 11)}
        rec["User_ID"] = str(uuid.UUID(int=rng.getrandbits(128)))
        f.write(json.dumps(rec) + "\n")
outs = {}
for p in (1, 2, 3):
    sql = ("SET parallelism = %d; SET min_split_bytes = '256kB'; SET batch_size = %d; "
           "SELECT User_ID, 1/(1+exp(-(%s))) AS pred FROM file('s1.json', format => 'json') "
           "INTO file('s1-%d.json', format => 'json');" % (p, rng.randrange(1, 1025), linear, p))
    rc, err = run(sql)
    if rc:
        fail("S1 at parallelism %d exits %d" % (p, rc), err)
    outs[p] = lines("s1-%d.json" % p)
if len(outs[1]) != 60000:
    fail("S1: %d outputs of 60000" % len(outs[1]))
for p in (2, 3):
    if outs[p] != outs[1]:
        fail("S1: parallelism %d differs from 1" % p)
# the Python model of S1 agrees with sluice's rows
ref = []
for l in open("s1.json"):
    r = json.loads(l)
    z = float(w[0]) + sum(float(w[i]) * r["G%d" % i] for i in range(1, 11))
    ref.append((r["User_ID"], 1 / (1 + math.exp(-z))))
got = sorted((json.loads(l)["User_ID"], json.loads(l)["pred"]) for l in outs[2])
ref.sort()
if len(got) != len(ref) or any(a[0] != b[0] or abs(a[1] - b[1]) > 1e-12 * abs(b[1]) for a, b in zip(got, ref)):
    fail("S1 at parallelism 2: not Python's predictions")
p = subprocess.run([sluice, "-e", "SET parallelism = 3; SET min_split_bytes = '256kB'; EXPLAIN SELECT "
                    "User_ID FROM file('s1.json') INTO file('x.json');"], capture_output=True, text=True)
if "up to 3 parallel tasks (claiming chunks of 262144 bytes)" not in p.stdout:
    fail("EXPLAIN names the parallel tasks", p.stdout + p.stderr)

# ---- random filter / project queries ----------------------------------------------
words = ["alpha", "Beta", "gamma", "delta", "", "x y", "zeta"]
recs = []
bad_lines = []  # the line numbers of the malformed records
with open("r.json", "w") as f:
    for i in range(40000):
        if rng.random() < 0.003:
            f.write("{not json %d\n" % i)  # malformed: rejected by the decoder
            bad_lines.append(i + 1)
            continue
        r = {"id": i}
        r["a"] = None if rng.random() < 0.05 else rng.randrange(-50, 50)
        r["b"] = None if rng.random() < 0.05 else round(rng.uniform(-10, 10), 3)
        r["s"] = None if rng.random() < 0.05 else rng.choice(words)
        recs.append(r)
        f.write(json.dumps(r) + "\n")
db = sqlite3.connect(":memory:")
db.execute("CREATE TABLE t(id INTEGER, a INTEGER, b REAL, s TEXT)")
db.executemany("INSERT INTO t VALUES (?,?,?,?)", [(r["id"], r["a"], r["b"], r["s"]) for r in recs])
cols = "id INTEGER, a INTEGER, b REAL, s TEXT"

def pred():
    c = rng.choice([
        "a > %d" % rng.randrange(-50, 50), "b < %s" % rng.uniform(-10, 10), "a IS NULL",
        "s = '%s'" % rng.choice(words), "length(s) > %d" % rng.randrange(5), "a %% 3 = %d" % rng.randrange(3),
        "b BETWEEN %d AND %d" % (rng.randrange(-10, 0), rng.randrange(0, 10)), "s LIKE '%a%'",
        "coalesce(a, 0) + id % 7 > 20", "s IS NOT NULL AND a < 0"])
    return c if rng.random() < 0.6 else "(%s) %s (%s)" % (c, rng.choice(["AND", "OR"]), pred())

def expr():
    return rng.choice(["a + id", "b * 2", "upper(s)", "a * b", "substr(s, 2, 3)", "abs(a)",
                       "CASE WHEN a > 0 THEN 'pos' ELSE s END", "id % 13", "round(b, 1)",
                       "coalesce(s, 'none') || '-' || a", "a / 7", "typeof(b)", "-a", "length(s)"])

# the chunks a part claims begin with the right line numbers: every
# rejection logged names a malformed line (small chunks: many claims; the
# first malformed line is far past the first chunk)
for p, split in ((1, "1MB"), (2, "8kB"), (3, "3kB")):
    rc, err = run("SET parallelism = %d; SET min_split_bytes = '%s'; SELECT id FROM file('r.json', "
                  "format => 'json', columns => '%s') INTO file('ids-%d.json');" % (p, split, cols, p))
    got = [int(x) for x in re.findall(r"r\.json:(\d+): malformed JSON", err)]
    if rc or not got or not set(got) <= set(bad_lines) or (p == 1 and got != bad_lines[:len(got)]):
        fail("logged lines at parallelism %d, chunks of %s: %s" % (p, split, got), err[-300:])
    if not rc and len(lines("ids-%d.json" % p)) != len(recs):
        fail("rows at parallelism %d, chunks of %s: %d, not %d" % (p, split, len(lines("ids-%d.json" % p)), len(recs)))

for qn in range(12):
    sel = ", ".join("%s AS c%d" % (expr(), k) for k in range(rng.randrange(1, 4)))
    where = pred()
    body = "SELECT id, %s FROM file('r.json', format => 'json', columns => '%s') WHERE %s" % (sel, cols, where)
    res = {}
    for p in (1, 2, 3):
        out = "q%d-%d.json" % (qn, p)
        rc, err = run("SET parallelism = %d; SET min_split_bytes = '64kB'; SET batch_size = %d; %s "
                      "INTO file('%s', format => 'json');" % (p, rng.randrange(1, 1025), body, out))
        if rc:
            fail("query %d at parallelism %d exits %d" % (qn, p, rc), err)
            break
        res[p] = (lines(out), counts(err))
    else:
        for p in (2, 3):
            if res[p][0] != res[1][0]:
                fail("query %d: parallelism %d rows differ from 1: %s" % (qn, p, body))
            if res[p][1] != res[1][1]:
                fail("query %d: parallelism %d counts %s, not %s" % (qn, p, res[p][1], res[1][1]))
        names = ["id"] + ["c%d" % k for k in range(sel.count(" AS c"))]
        want = sorted(json.dumps(dict(zip(names, row)), separators=(",", ":"))
                      for row in db.execute("SELECT id, %s FROM t WHERE %s" % (sel, where)))
        mine = sorted(json.dumps(json.loads(l), separators=(",", ":")) for l in res[2][0])
        if want != mine:
            fail("query %d at parallelism 2: not sqlite3's rows: %s" % (qn, body),
                 "\n".join(sorted(set(want) ^ set(mine))[:5]))

# ---- GROUP BY: parallel tasks meeting at an exchange, sqlite3's rows -------------------
def norm(v):
    """A field as a sortable pair: (0, number) or (1, text); NULL is (1, "")."""
    if v is None or v == "":
        return (1, "")
    try:
        return (0, float(v))
    except ValueError:
        return (1, v)

def same_rows(x, y):
    """Sorted rows of norm()ed fields equal, numbers to 1e-9 (sums taken in another order)."""
    if len(x) != len(y):
        return False
    for rx, ry in zip(x, y):
        if len(rx) != len(ry):
            return False
        for a, b in zip(rx, ry):
            if a[0] != b[0] or (a[1] != b[1] if a[0] else not math.isclose(a[1], b[1], rel_tol=1e-9, abs_tol=1e-9)):
                return False
    return True

def agg_list():
    aggs = rng.sample(["count(*)", "sum(a)", "min(b)", "max(id)", "count(s)", "avg(b)",
                       "count(DISTINCT a)", "max(s)", "total(b)"], rng.randrange(1, 4))
    return aggs

for qn in range(14):
    key = rng.choice(["s", "a % 5", "s, a % 3", "upper(s)", "b > 0", "s COLLATE NOCASE"])
    aggs = agg_list()
    where = pred()
    having = rng.choice(["", "", " HAVING count(*) > %d" % rng.randrange(1, 40)])
    win = rng.choice(["", "tumble", "tumble", "hop"])
    wsql = {"": "", "tumble": ", TUMBLE(id * 37, INTERVAL '%d' SECOND)",
            "hop": ", HOP(id * 37, INTERVAL '1' SECOND, INTERVAL '%d' SECOND)"}[win]
    size = rng.randrange(2, 30)
    if wsql:
        wsql = wsql % size
    nkeys = key.count(",") + 1
    knames = ", ".join("k%d" % i for i in range(nkeys))
    ksel = ", ".join("%s AS k%d" % (k.strip(), i) for i, k in enumerate(key.split(",")))
    gby = ", ".join(k.strip() for k in key.split(","))
    sel = ksel + (", window_start" if win else "") + "".join(
        ", %s AS v%d" % (a, i) for i, a in enumerate(aggs))
    body = ("SELECT %s FROM file('r.json', format => 'json', columns => '%s') WHERE %s "
            "GROUP BY %s%s%s" % (sel, cols, where, gby, wsql, having))
    res = {}
    for p in (1, 2, 3):
        sql = ("SET parallelism = %d; SET min_split_bytes = '64kB'; SET batch_size = %d; %s "
               "INTO file('g%d-%d.csv', format => 'csv');" % (p, rng.randrange(1, 1025), body, qn, p))
        rc, err = run(sql)
        if rc:
            fail("group %d at parallelism %d exits %d" % (qn, p, rc), err)
            break
        res[p] = (sorted(tuple(norm(x) for x in l.split(",")) for l in lines("g%d-%d.csv" % (qn, p))),
                  counts(err))
    else:
        for p in (2, 3):
            if not same_rows(res[p][0], res[1][0]) or res[p][1] != res[1][1]:
                fail("group %d: parallelism %d differs from 1 (rows or counts %s / %s): %s"
                     % (qn, p, res[p][1], res[1][1], body),
                     str(sorted(set(res[p][0]) ^ set(res[1][0]))[:5]))
        ex = subprocess.run([sluice, "-e", "SET parallelism = 3; SET min_split_bytes = '64kB'; "
                             "EXPLAIN %s INTO file('g.csv', format => 'csv');" % body],
                            capture_output=True, text=True).stdout
        if "rows exchanged between them by the GROUP BY key" not in ex:
            fail("EXPLAIN says a GROUP BY runs as parallel tasks with an exchange", ex[:300])
        if win == "hop":
            continue  # sqlite3 has no HOP: parallelism 1 is the reference above
        wcol = ""
        if win:
            w = size * 1000
            wcol = ", ((id * 37) / %d) * %d" % (w, w)
        ref = ("SELECT %s%s%s FROM t WHERE %s GROUP BY %s%s%s"
               % (ksel, wcol, "".join(", %s" % a for a in aggs), where, gby, wcol, having))
        want = sorted(tuple(norm(x) for x in row) for row in db.execute(ref))
        if not same_rows(res[2][0], want):
            fail("group %d at parallelism 2: not sqlite3's rows: %s" % (qn, body),
                 str(sorted(set(res[2][0]) ^ set(want))[:5]))

# a plain stream read by one query runs as that query's parallel tasks; read
# by two, as one task feeding both
stream = ("CREATE STREAM rs (%s) FROM file('r.json', format => 'json') "
          "WATERMARK id * 37 - INTERVAL '1' SECOND;" % cols)
qa = "SELECT s, window_start, count(*) AS n, sum(a) AS t FROM rs GROUP BY s, TUMBLE(id * 37, INTERVAL '5' SECOND)"
qb = "SELECT id, upper(s) AS u FROM rs WHERE a > 10"
ex = subprocess.run([sluice, "-e", "SET parallelism = 3; SET min_split_bytes = '64kB'; %s EXPLAIN %s "
                     "INTO file('g.csv', format => 'csv');" % (stream, qa)],
                    capture_output=True, text=True).stdout
if "task rs: source file, format json, up to 3 parallel tasks" not in ex or "rows exchanged" not in ex:
    fail("EXPLAIN: a stream read by one query runs as its parallel tasks", ex[:300])
res = {}
for p in (1, 3):
    for two in (0, 1):
        sql = ("SET parallelism = %d; SET min_split_bytes = '64kB'; SET batch_size = %d; %s %s "
               "INTO file('sa-%d-%d.csv', format => 'csv');" % (p, rng.randrange(1, 1025), stream, qa, p, two))
        if two:
            sql += " %s INTO file('sb-%d.csv', format => 'csv');" % (qb, p)
        rc, err = run(sql)
        if rc:
            fail("stream at parallelism %d (%d readers) exits %d" % (p, 1 + two, rc), err)
        res[(p, two)] = sorted(tuple(norm(x) for x in l.split(",")) for l in lines("sa-%d-%d.csv" % (p, two)))
want = sorted(tuple(norm(x) for x in row) for row in db.execute(
    "SELECT s, ((id * 37) / 5000) * 5000 AS w, count(*), sum(a) FROM t GROUP BY s, w"))
for key, rows in res.items():
    if not same_rows(rows, want):
        fail("stream read at parallelism %d by %d queries: not sqlite3's rows" % (key[0], 1 + key[1]),
             str(sorted(set(rows) ^ set(want))[:5]))
wantb = sorted(tuple(norm(x) for x in row) for row in db.execute("SELECT id, upper(s) FROM t WHERE a > 10"))
for p in (1, 3):
    got = sorted(tuple(norm(x) for x in l.split(",")) for l in lines("sb-%d.csv" % p))
    if not same_rows(got, wantb):
        fail("the stream's second reader at parallelism %d: not sqlite3's rows" % p)

# what keeps one task: no key to send rows by, joins, DISTINCT, ORDER BY
for body, why in [
        ("SELECT count(*) AS n FROM file('r.json', format => 'json', columns => '%s')" % cols,
         "one task: it keeps state other than a GROUP BY with keys"),
        ("SELECT DISTINCT s FROM file('r.json', format => 'json', columns => '%s')" % cols,
         "one task: it keeps state other than a GROUP BY with keys"),
        # its result depends on the order of a group's rows, which a lane does not keep
        ("SELECT s, group_concat(a) AS g FROM file('r.json', format => 'json', columns => '%s') "
         "GROUP BY s" % cols, "one task: it keeps state other than a GROUP BY with keys")]:
    ex = subprocess.run([sluice, "-e", "SET parallelism = 3; SET min_split_bytes = '64kB'; "
                         "EXPLAIN %s INTO file('g.csv', format => 'csv');" % body],
                        capture_output=True, text=True).stdout
    if why not in ex:
        fail("EXPLAIN says why %s runs as one task" % body, ex[:300])

# ---- CSV: a header, newlines and quotes inside quoted fields ------------------------------
with open("c.csv", "w") as f:
    f.write("id,note,v\n")
    for i in range(30000):
        k = rng.random()
        if k < 0.1:
            note = '"line one\nline ""two""\n%d"' % i
        elif k < 0.2:
            note = '"a, ""quoted"" one"'
        elif k < 0.203:
            f.write('%d,unterminated "x,1\n' % i)  # a field with a bare quote
            continue
        else:
            note = "plain%d" % (i % 17)
        v = "oops" if rng.random() < 0.01 else str(rng.randrange(1000))
        f.write("%d,%s,%s\n" % (i, note, v))
res = {}
for p in (1, 2, 3):
    rc, err = run("SET parallelism = %d; SET min_split_bytes = '32kB'; SELECT id, note, v + 1 AS w "
                  "FROM file('c.csv', format => 'csv', header => true) WHERE CAST(v AS INTEGER) = v "
                  "INTO file('c-%d.json', format => 'json');" % (p, p))
    if rc:
        fail("CSV at parallelism %d exits %d" % (p, rc), err)
    rejected = set(int(x) for x in re.findall(r"c\.csv:(\d+)", err))
    res[p] = (lines("c-%d.json" % p), counts(err), rejected)
# every rejection's line, from one task with a dead-letter sink (which keeps
# a query on one task): each line a task logs at 2 and 3 must be one of them
rc, err = run("SELECT id FROM file('c.csv', format => 'csv', header => true, "
              "dlq => file('c-dlq.jsonl')) INTO file('c-ids.json', format => 'json');", stats=False)
all_bad = set(json.loads(l)["line"] for l in lines("c-dlq.jsonl")) if not rc else set()
if rc or len(all_bad) < 10 or not res[1][2] <= all_bad:
    fail("CSV: the dead letters of one task (%d lines)" % len(all_bad), err[-300:])
for p in (2, 3):
    if not res[p][2] or not res[p][2] <= all_bad:
        fail("CSV: parallelism %d logs lines %s, not rejected ones" % (p, sorted(res[p][2] - all_bad)[:5]))
    if res[p][0] != res[1][0]:
        fail("CSV: parallelism %d rows differ from 1" % p, "\n".join(sorted(set(res[p][0]) ^ set(res[1][0]))[:5]))
    if res[p][1] != res[1][1]:
        fail("CSV: parallelism %d counts %s, not %s" % (p, res[p][1], res[1][1]))
multi = [l for l in res[1][0] if "line one" in l]
if not multi or len(res[1][0]) < 10000:
    fail("CSV: quoted newlines kept (%d rows, %d with newlines)" % (len(res[1][0]), len(multi)))

# ---- parts smaller than a line; a file too small to divide ---------------------------------
with open("small.json", "w") as f:
    for i in range(50):
        f.write(json.dumps({"n": i, "pad": "p" * rng.randrange(200)}) + "\n")
for split, p in (("16", 8), ("1MB", 3)):
    rc, err = run("SET parallelism = %d; SET min_split_bytes = '%s'; SELECT n FROM file('small.json') "
                  "INTO file('small-%d.json');" % (p, split, p))
    got = sorted(json.loads(l)["n"] for l in lines("small-%d.json" % p)) if not rc else None
    if got != list(range(50)):
        fail("small file, parts of %s bytes at parallelism %d" % (split, p), err)

print("parallel: %d failure(s)" % len(failures))
sys.exit(1 if failures else 0)
PY
$py par.py "$sluice" "$here/../bench/weights.txt" && ok || bad "parallel comparisons (above)"
finish parallel
