#!/usr/bin/env python3
"""make_corpus.py - (re)makes the seed corpora of tests/fuzz/corpus/ from the
repository's own inputs: statements of tests/sql/*.slt and sql-examples/*.sql
(a file() source replaced by the fuzz catalog's stream s), the data files
those tests write and sql-examples/data, and the model files.  Run from the
top of the source tree; file names are content hashes, so reruns add nothing
twice."""
import glob, hashlib, os, re

OUT = 'tests/fuzz/corpus'
IO = re.compile(r'file|sqlite|socket|stdin|stdout|kafka', re.I)
seen = {}

def put(target, data, limit=4000):
    if isinstance(data, str):
        data = data.encode()
    if not data or len(data) > limit:
        return
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()[:16]), 'wb') as f:
        f.write(data)

def sql_seed(stmt):
    stmt = re.sub(r"\bfile\s*\((?:[^()']|'[^']*')*\)", 's', stmt.strip(), flags=re.I)
    if stmt and not IO.search(stmt):
        put('fuzz_sql', stmt)

def slt_blocks(path):
    """(kind, name, lines) for each record of an .slt file."""
    lines = open(path, encoding='utf-8').read().split('\n')
    i = 0
    while i < len(lines):
        head = lines[i]
        i += 1
        if not head.strip() or head.startswith('#'):
            continue
        body = []
        while i < len(lines) and lines[i].strip() and lines[i] != '----':
            body.append(lines[i])
            i += 1
        yield head.split(), body

for slt in sorted(glob.glob('tests/sql/*.slt')):
    for head, body in slt_blocks(slt):
        if head[0] in ('statement', 'query'):
            sql_seed('\n'.join(body))
        elif head[0] == 'file' and len(head) > 1:
            text = '\n'.join(body) + '\n'
            name = head[1]
            if name.endswith('.csv'):
                put('fuzz_csv', b'\0' + text.encode())  # header line names the columns
                put('fuzz_raw', b'\0' + text.encode())
            elif name.endswith('.json') or name.endswith('.jsonl'):
                if '"format"' in text or '"learner"' in text:
                    put('fuzz_model', text)
                else:
                    put('fuzz_json', b'\0' + text.encode())
                    put('fuzz_json', b'\1' + text.encode())
for sql in sorted(glob.glob('sql-examples/*.sql')) + sorted(glob.glob('tests/golden/*.sql')):
    for stmt in open(sql, encoding='utf-8').read().split(';'):
        stmt = '\n'.join(l for l in stmt.split('\n') if not l.strip().startswith('--'))
        sql_seed(stmt)
for data in sorted(glob.glob('sql-examples/data/*')) + sorted(glob.glob('tests/golden/data/*')):
    lines = open(data, encoding='utf-8').read().split('\n')
    head = '\n'.join(lines[:6]) + '\n'
    target = 'fuzz_csv' if data.endswith('.csv') else 'fuzz_json'
    put(target, b'\0' + head.encode())
    put(target, b'\1' + head.encode())
    put('fuzz_raw', b'\0' + head.encode())
for model in sorted(glob.glob('sql-examples/models/*.json')):
    put('fuzz_model', open(model, 'rb').read(), limit=64000)

# queries over the fuzz catalog (fuzz_catalog.h): s, loose, t, m, lr
for q in [
    "SELECT id, name, x * 2 + 1, upper(name) || '!' FROM s WHERE x BETWEEN 1 AND 10",
    "SELECT m(x, id), predict(m, x, 1), decision_function(m, 1, 2) FROM s",
    "SELECT name, window_start, count(*), avg(x) FROM s GROUP BY name, TUMBLE(ts, INTERVAL '10' SECOND) HAVING count(*) > 1",
    "SELECT s.id, t.label, t.w FROM s JOIN t ON s.id = t.k WHERE t.w > 0",
    "SELECT a.id, b.name FROM s AS a JOIN s AS b ON a.id = b.id AND b.ts BETWEEN a.ts AND a.ts + INTERVAL '5' SECOND",
    "SELECT train(lr, x, v) FROM s GROUP BY TUMBLE(ts, INTERVAL '1' SECOND)",
    "SELECT k, label, CASE WHEN w IS NULL THEN 'none' ELSE printf('%.2f', w) END FROM t ORDER BY k",
    "SELECT json_extract('{\"a\": [1, 2, {\"b\": 3}]}', '$.a[2].b'), vector(1, 2, 3), cast('12' AS INTEGER)",
    "SELECT a.b, tags FROM loose WHERE nested IS NOT NULL",
    "EXPLAIN SELECT window_start, count(*) FROM s GROUP BY HOP(ts, INTERVAL '5' SECOND, INTERVAL '10' SECOND) EMIT CHANGES",
    "SELECT count(*), sum(w), min(label), max(k) FROM t",
    "SELECT abs(-1), round(2.5), length('abc'), substr('hello', 2, 3), coalesce(NULL, 1), nullif(1, 1), 1 / 0, 7 % 3",
]:
    put('fuzz_sql', q)
# checkpoint states: the query's index, then a count of nothing
for q in range(11):
    put('fuzz_ckpt', bytes([q]) + bytes(8))
    put('fuzz_ckpt', bytes([q]) + (1).to_bytes(8, 'little') + (3).to_bytes(8, 'little') + b'abc')
put('fuzz_ckpt', bytes([11]) + bytes([0]) + (5).to_bytes(8, 'little') + bytes([3]) + bytes(9))
