#!/usr/bin/env python3
# changelog_check.py - the reference side of tests/changelog.sh: makes random
# changelogs (inserts, updates as -U/+U pairs, deletes) and checks what
# sluice made of them against sqlite3 over the final table and against
# Python models of the exact sequence of changes where it is defined.
#
#   gen SEED N FILE            a changelog of N changes as JSON lines with an
#                              op column; FILE.final.json the live rows at the end
#   project IN OUT             filter/project: exactly the input's rows that pass,
#                              each with its op, in order; final table = sqlite3's
#   distinct IN OUT            DISTINCT k, g: the changelog of the set of rows, exactly
#   keyed IN OUT SQL KEYS      a keyed changelog (a running GROUP BY): every take-back
#                              is the key's current row, +U follows -U of the same key,
#                              +I only for an absent key; the final table = sqlite3's SQL
#                              over the final input (KEYS: how many leading key columns)
#   final IN OUT SQL           final rows (no op column) = sqlite3's SQL
#   prefix IN N OUT            the first N changes (and OUT.final.json, OUT.rest: the others)
#   compact TSV SQL            kcat output (partition, key, value; -Z: NULL): each key's
#                              last message, tombstones removing it, = sqlite3's SQL
# Exit status 0 when it holds; a message says what differs.
import collections
import json
import random
import sqlite3
import sys

COLS = ("k", "g", "v", "t")


def gen(seed, n, path):
    rnd = random.Random(seed)
    live = []  # the rows now, each a dict
    out = []

    def row():
        return {"k": "k%d" % rnd.randrange(25), "g": rnd.randrange(6),
                "v": None if rnd.random() < 0.1 else rnd.randrange(-40, 200),
                "t": rnd.choice(["ash", "Birch", "cedar", "elm", "fir", "oak", "Yew"])}

    for i in range(n):
        r = rnd.random()
        # near the end, whole keys go away: groups whose every row is deleted
        if i > n * 0.9 and len({x["k"] for x in live}) > 15 and r < 0.05:
            victim = live[0]["k"]
            for x in [x for x in live if x["k"] == victim]:
                live.remove(x)
                out.append(dict(op="-D", **x))
            continue
        if not live or r < 0.55:
            x = row()
            live.append(x)
            out.append(dict(op="+I", **x))
        elif r < 0.8:
            x = live.pop(rnd.randrange(len(live)))
            out.append(dict(op="-D", **x))
        else:
            j = rnd.randrange(len(live))
            old = live[j]
            new = row()
            if rnd.random() < 0.7:
                new["k"] = old["k"]
            live[j] = new
            out.append(dict(op="-U", **old))
            out.append(dict(op="+U", **new))
    with open(path, "w") as f:
        for x in out:
            f.write(json.dumps(x) + "\n")
    with open(path + ".final.json", "w") as f:
        json.dump(live, f)


def prefix(inp, n, outp):
    """The first n changes of inp (n moved past a -U so that its +U comes along) into outp,
    and the rows they leave into outp.final.json."""
    lines = open(inp).readlines()
    while n < len(lines) and json.loads(lines[n - 1])["op"] == "-U":
        n += 1
    live = collections.Counter()
    with open(outp, "w") as f:
        for line in lines[:n]:
            f.write(line)
            r = json.loads(line)
            key = tuple(r[c] for c in COLS)
            live[key] += 1 if r["op"] in ("+I", "+U") else -1
    with open(outp + ".final.json", "w") as f:
        json.dump([dict(zip(COLS, k)) for k, c in live.items() for _ in range(c)], f)
    with open(outp + ".rest", "w") as f:
        f.writelines(lines[n:])


def load(path):
    return [json.loads(line) for line in open(path)]


def db_of(final_path):
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE src(k TEXT, g INTEGER, v INTEGER, t TEXT)")
    db.executemany("INSERT INTO src VALUES (:k, :g, :v, :t)", json.load(open(final_path)))
    return db


def norm(v):
    if isinstance(v, float):
        return round(v, 6)
    return v


def rows_equal(got, want, what):
    g = collections.Counter(tuple(norm(v) for v in r) for r in got)
    w = collections.Counter(tuple(norm(v) for v in r) for r in want)
    if g != w:
        print("%s: %d rows, reference %d" % (what, sum(g.values()), sum(w.values())))
        print("  only in sluice:", list((g - w).items())[:5])
        print("  only in reference:", list((w - g).items())[:5])
        return False
    print("%s: %d rows, equal" % (what, sum(g.values())))
    return True


def apply_unkeyed(out):
    """A changelog without keys applied to a multiset: a take-back must find its row."""
    live = collections.Counter()
    for r in out:
        vals = tuple(v for k, v in r.items() if k != "op")
        if r["op"] in ("+I", "+U"):
            live[vals] += 1
        else:
            if live[vals] <= 0:
                raise SystemExit("a take-back of a row not given: %r" % (r,))
            live[vals] -= 1
    return [k for k, n in live.items() for _ in range(n)]


def project(inp, outp):
    src, out = load(inp), load(outp)
    want = []
    for r in src:
        if r["v"] is None or r["v"] % 3 != 0:
            want.append({"op": r["op"], "k": r["k"], "w": None if r["v"] is None else r["v"] * 2,
                         "u": r["t"].upper()})
    if out != want:
        print("project: the sequence differs: %d rows, model %d; first difference at %s" % (
            len(out), len(want), next((i for i, (a, b) in enumerate(zip(out, want)) if a != b),
                                      min(len(out), len(want)))))
        return False
    print("project: the exact sequence of %d changes" % len(out))
    db = db_of(inp + ".final.json")
    return rows_equal(apply_unkeyed(out),
                      db.execute("SELECT k, v * 2, upper(t) FROM src WHERE v IS NULL OR v % 3 <> 0"),
                      "project: final table")


def distinct(inp, outp):
    src, out = load(inp), load(outp)
    count, want = collections.Counter(), []
    for r in src:
        key = (r["k"], r["g"])
        if r["op"] in ("+I", "+U"):
            count[key] += 1
            if count[key] == 1:
                want.append({"op": "+I", "k": key[0], "g": key[1]})
        else:
            count[key] -= 1
            if count[key] == 0:
                want.append({"op": "-D", "k": key[0], "g": key[1]})
    if out != want:
        print("distinct: the sequence differs: %d rows, model %d" % (len(out), len(want)))
        return False
    print("distinct: the exact sequence of %d changes" % len(out))
    db = db_of(inp + ".final.json")
    return rows_equal(apply_unkeyed(out), db.execute("SELECT DISTINCT k, g FROM src"),
                      "distinct: final table")


def apply_keyed(out, nkeys):
    live, pending = {}, None
    for i, r in enumerate(out):
        vals = [v for k, v in r.items() if k != "op"]
        key, op = tuple(vals[:nkeys]), r["op"]
        if pending is not None and (op != "+U" or key != pending):
            raise SystemExit("change %d: -U of %r not followed by its +U" % (i, pending))
        if op == "+I":
            if key in live:
                raise SystemExit("change %d: +I of a key that has a row: %r" % (i, r))
            live[key] = vals
        elif op in ("-U", "-D"):
            if live.get(key) != vals:
                raise SystemExit("change %d: %s %r takes back a row not the key's current %r"
                                 % (i, op, vals, live.get(key)))
            del live[key]
            pending = key if op == "-U" else None
        elif op == "+U":
            if pending != key:
                raise SystemExit("change %d: +U without its -U: %r" % (i, r))
            pending = None
            live[key] = vals
    if pending is not None:
        raise SystemExit("the last -U has no +U")
    return list(live.values())


def topk(db, col, k):
    """top_k(col, k) per key k of the final table: [{"value", "count"}], most frequent first."""
    res = {}
    for key, in db.execute("SELECT DISTINCT k FROM src"):
        c = collections.Counter(v for v, in db.execute(
            "SELECT %s FROM src WHERE k = ? AND %s IS NOT NULL" % (col, col), (key,)))
        best = sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))[:k]
        res[key] = json.dumps([{"value": v, "count": n} for v, n in best], separators=(",", ":"))
    return res


def keyed(inp, outp, sql, nkeys):
    out = load(outp)
    db = db_of(inp + ".final.json")
    got = apply_keyed(out, int(nkeys))
    want = [list(r) for r in db.execute(sql)]
    if "topk_g2" in sql:  # the last column: top_k(g, 2), which sqlite3 lacks: Python's
        tk = topk(db, "g", 2)
        for r in want:
            r[-1] = tk.get(r[0])
        got = [r[:-1] + [json.dumps(json.loads(r[-1]) if isinstance(r[-1], str) else r[-1],
                                    separators=(",", ":"))] for r in got]
    ok = rows_equal(got, want, "keyed changelog applied (%d changes)" % len(out))
    return ok


def final(inp, outp, sql):
    out = load(outp)
    db = db_of(inp + ".final.json")
    return rows_equal([list(r.values()) for r in out], db.execute(sql), "final rows")


def compact(tsv, inp, sql):
    live, n, tomb = {}, 0, 0
    for line in open(tsv):
        _, k, v = line.rstrip("\n").split("\t", 2)
        n += 1
        if v == "NULL":
            tomb += 1
            live.pop(k, None)
        else:
            r = json.loads(v)
            if str(r["k"]) != k:
                raise SystemExit("message key %r, row %r" % (k, r))
            live[k] = list(r.values())
    db = db_of(inp + ".final.json")
    print("kafka: %d messages, %d tombstones, %d live keys" % (n, tomb, len(live)))
    if not tomb:
        raise SystemExit("no tombstone: every key stayed")
    return rows_equal(list(live.values()), db.execute(sql), "kafka: compacted topic")


def main(a):
    cmd = a[0]
    if cmd == "gen":
        gen(int(a[1]), int(a[2]), a[3])
        return True
    if cmd == "prefix":
        prefix(a[1], int(a[2]), a[3])
        return True
    if cmd == "project":
        return project(a[1], a[2])
    if cmd == "distinct":
        return distinct(a[1], a[2])
    if cmd == "keyed":
        return keyed(a[1], a[2], a[3], a[4])
    if cmd == "final":
        return final(a[1], a[2], a[3])
    if cmd == "compact":
        return compact(a[1], a[2], a[3])
    raise SystemExit("unknown command " + cmd)


if __name__ == "__main__":
    sys.exit(0 if main(sys.argv[1:]) else 1)
