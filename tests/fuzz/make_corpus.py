#!/usr/bin/env python3
"""make_corpus.py - (re)makes the seed corpora of tests/fuzz/corpus/ from the
repository's own inputs: statements of tests/sql/*.slt and sql-examples/*.sql
(a file() source replaced by the fuzz catalog's stream s), the data files
those tests write and sql-examples/data, and the model files; for fuzz_http,
requests to every endpoint of docs/serve.md, the examples as bodies of POST
/statements and /query, and malformed requests.  Run from the
top of the source tree; file names are content hashes, so reruns add nothing
twice.  Also writes the dictionaries tests/fuzz.sh passes to libFuzzer:
fuzz_sql.dict (the tokenizer's keywords, operators, the functions' names),
fuzz_json.dict and fuzz_http.dict."""
import glob, hashlib, json, os, re

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

# small models of the kinds no file above has (docs/models.md)
def sluice_model(kind, n, **fields):
    return dict(format='sluice-model', version=1, kind=kind, n_features=n, **fields)
mlp_reg = dict(kind='mlp', n_features=2, coefs=[[[1, -1], [0.5, 2]], [[1], [-1]]],
               intercepts=[[0, 0.1], [0.2]], activation='relu', out_activation='identity')
mlp_cls = dict(kind='mlp', n_features=2, classes=[0, 1], coefs=[[[1, -1, 0.5], [0.5, 2, 1]], [[1], [-1], [2]]],
               intercepts=[[0, 0.1, 0], [0.2]], activation='tanh', out_activation='logistic')
minmax = dict(kind='min_max_scaler', n_features=2, scale=[0.5, 2], min=[0, -1], feature_range=[0, 1], clip=True)
stdsc = dict(kind='standard_scaler', n_features=2, mean=[1, 2], scale=[2, 0.5])
kmeans = dict(kind='kmeans', n_features=2, centers=[[0, 0], [1, 1], [5, -2]])
for m in [mlp_reg, mlp_cls, minmax, kmeans]:
    put('fuzz_model', json.dumps(dict(format='sluice-model', version=1, **m)))
put('fuzz_model', json.dumps(sluice_model('mlp', 2, classes=['a', 'b', 'c'], coefs=[[[1, -1, 0.5], [0.5, 2, 1]]],
                                          intercepts=[[0, 0.1, 0]], activation='logistic', out_activation='softmax')))
put('fuzz_model', json.dumps(sluice_model('pipeline', 2, steps=[minmax, stdsc, mlp_cls])))
put('fuzz_model', json.dumps(sluice_model('pipeline', 2, steps=[stdsc, kmeans])))

def xgb_tree(i, feat, cond, leaves):
    # a root split and two leaves; a leaf's split_conditions entry is its value
    return dict(id=i, left_children=[1, -1, -1], right_children=[2, -1, -1], parents=[2147483647, 0, 0],
                split_indices=[feat, 0, 0], split_conditions=[cond] + leaves, default_left=[1, 0, 0],
                split_type=[0, 0, 0], base_weights=[0, 0, 0], loss_changes=[1, 0, 0], sum_hessian=[2, 1, 1],
                categories=[], categories_nodes=[], categories_segments=[], categories_sizes=[],
                tree_param=dict(num_deleted='0', num_feature='3', num_nodes='3', size_leaf_vector='0'))
def xgb(objective, num_class, trees, info):
    return json.dumps(dict(version=[1, 7, 6], learner=dict(
        attributes={}, feature_names=[], feature_types=[],
        gradient_booster=dict(name='gbtree', model=dict(
            gbtree_model_param=dict(num_parallel_tree='1', num_trees=str(len(trees)), size_leaf_vector='0'),
            tree_info=info, trees=trees)),
        learner_model_param=dict(base_score='5E-1', boost_from_average='1', num_class=str(num_class),
                                 num_feature='3', num_target='1'),
        objective=dict(name=objective))))
put('fuzz_model', xgb('reg:squarederror', 0, [xgb_tree(0, 1, 0.5, [-0.25, 0.75]), xgb_tree(1, 2, -1, [0.1, -0.1])], [0, 0]))
put('fuzz_model', xgb('multi:softprob', 3, [xgb_tree(i, i, 0.5 * i, [0.3, -0.2]) for i in range(3)], [0, 1, 2]))
put('fuzz_model', xgb('binary:logistic', 0, [xgb_tree(0, 0, 1.5, [-0.4, 0.6])], [0]))

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
    "SELECT k, (SELECT label FROM t AS i WHERE i.k = t.k + 1) FROM t WHERE k IN (SELECT k FROM t WHERE w > 0)",
    "SELECT k FROM t WHERE EXISTS (SELECT 1 FROM t AS i WHERE i.w < t.w AND i.k NOT IN (SELECT (SELECT k FROM t AS j WHERE j.k = i.k)))",
    "SELECT k, label FROM t UNION SELECT 1, 'x' EXCEPT SELECT k, label FROM t WHERE k = 2 INTERSECT SELECT k, label FROM t LIMIT 2",
    "SELECT * FROM (SELECT k, k, w * 2 AS d FROM t UNION ALL SELECT 3, 4, 5) AS u WHERE d IN t",
    "EXPLAIN SELECT id, (SELECT label FROM t WHERE k = id) FROM s WHERE name IN (SELECT label FROM t)",
    "SELECT k, row_number() OVER (PARTITION BY label ORDER BY w DESC), rank() OVER w, lag(w, 2, 0) OVER w, sum(w) OVER (w ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING) FROM t WINDOW w AS (ORDER BY k)",
    "SELECT k, count(*) FILTER (WHERE w > 0) OVER (ORDER BY k RANGE BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING), lead(label) OVER (ORDER BY k, w) FROM t ORDER BY 2",
    "SELECT * FROM (SELECT id, name, ROW_NUMBER() OVER (PARTITION BY name ORDER BY v DESC) AS rn FROM s) WHERE rn <= 3",
    "SELECT * FROM (SELECT *, DENSE_RANK() OVER (PARTITION BY name ORDER BY ts) AS r FROM s) WHERE 2 >= r",
    "SELECT id, lag(v) OVER w, lead(v, 1, -1) OVER w, avg(v) OVER (w ROWS 3 PRECEDING), count(*) OVER w FROM s WINDOW w AS (PARTITION BY name ORDER BY ts)",
]:
    put('fuzz_sql', q)
# checkpoint states: the query's index (fuzz_ckpt.c: NQUERY queries, then the
# value reader), then a count of nothing
NQUERY = 11
for q in range(NQUERY + 1):
    put('fuzz_ckpt', bytes([q]) + bytes(8))
    put('fuzz_ckpt', bytes([q]) + (1).to_bytes(8, 'little') + (3).to_bytes(8, 'little') + b'abc')
put('fuzz_ckpt', bytes([NQUERY]) + bytes([0]) + (5).to_bytes(8, 'little') + bytes([3]) + bytes(9))

# fuzz_origin: values of the sluice-origin Kafka header (src/kafka.c), valid
# ones and the edges of the contract: leading zeros, the largest partition
# and offset and one past them, empty parts, signs, spaces, other separators
for v in ['0:0', '3:12345', '007:000042', '2147483646:9223372036854775807',
          '2147483647:0', '0:9223372036854775808', '4294967296:0', '99999999999:1', '1:99999999999999999999',
          '0' * 30 + '1:2', '0' * 37 + '1:2', '0' * 38 + '1:2', '0' * 40 + ':0', '', ':', '1:', ':1', '1', '1:2:3', '-1:5', '+1:5',
          '1:-5', ' 1:2', '1:2 ', '1 :2', '1: 2', '1;2', '1:2\n', '1:2\0', '0x1:2', '1.5:2']:
    put('fuzz_origin', v)  # the empty one: libFuzzer always runs it

# fuzz_http: a first byte (bit 0: the server wants "Bearer fuzz"), then the
# bytes of one connection.  The catalog has stream s (s.jsonl), table t and
# model m (fuzz_http.c); paths are plain names in its temporary directory.
def request(method, path, body=None, headers=(), version='HTTP/1.1'):
    head = '%s %s %s\r\nHost: localhost\r\n' % (method, path, version)
    if method == 'POST' and body is not None and not any(h.startswith('Content-Type:') for h in headers):
        headers = ['Content-Type: application/sql'] + list(headers)  # the server refuses other types
    for h in headers:
        head += h + '\r\n'
    if body is None:
        return (head + '\r\n').encode()
    body = body.encode() if isinstance(body, str) else body
    return (head + 'Content-Length: %d\r\n\r\n' % len(body)).encode() + body

def http_seed(*requests, token=False, auth='Bearer fuzz'):
    data = b''
    for r in requests:
        if token and auth is not None:
            r = r.replace(b'\r\nHost:', ('\r\nAuthorization: %s\r\nHost:' % auth).encode(), 1)
        data += r
    put('fuzz_http', bytes([1 if token else 0]) + data, limit=4096)

def chunked(method, path, body, parts=3):
    step = max(1, len(body) // parts)
    data = ''.join('%x\r\n%s\r\n' % (len(body[i:i + step]), body[i:i + step])
                   for i in range(0, len(body), step))
    return ('%s %s HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/sql\r\n'
            'Transfer-Encoding: chunked\r\n\r\n%s0\r\n\r\n'
            % (method, path, data)).encode()

def plain_paths(sql):
    """file('dir/x.json' ...) and FROM 'dir/m.json' with the directories dropped."""
    return re.sub(r"'[^']*/([^'/]+)'", r"'\1'", sql)

def from_s(sql):
    """FROM file(...) read from the catalog's stream s instead."""
    return re.sub(r"(\bFROM\s+)file\s*\((?:[^()']|'[^']*')*\)", r"\1s", sql, flags=re.I)

GET = lambda path: request('GET', path)
submit = "SELECT id, x * 2 AS y FROM s WHERE x > 0 INTO file('out.jsonl', format => 'json');"
for token in (False, True):
    http_seed(GET('/queries'), GET('/metrics'), token=token)
    http_seed(request('POST', '/statements', submit), GET('/queries'), GET('/describe/q1'),
              request('DELETE', '/queries/q1'), GET('/metrics'), token=token)
    http_seed(request('POST', '/query', 'SELECT k, label, w FROM t;'), token=token)
http_seed(GET('/queries'), token=True, auth=None)
http_seed(GET('/queries'), token=True, auth='Bearer wrong')
http_seed(GET('/queries'), token=True, auth='Basic ZnV6ejp4')
for name in ['s', 't', 'm', 'q1', 'nope', 'a%22b', '%2e%2e', '']:
    http_seed(GET('/describe/' + name))
for body in [
    'SHOW QUERIES; SHOW STREAMS; SHOW SETTINGS;',
    'DESCRIBE s; DESCRIBE t; DESCRIBE m; EXPLAIN SELECT name, count(*) FROM s GROUP BY name;',
    "SELECT id, name, m(x, id) AS score FROM s;",
    "SELECT name, window_start, count(*), avg(x) FROM s GROUP BY name, TUMBLE(ts, INTERVAL '10' SECOND);",
    "SELECT id, x FROM s INTO file('a.jsonl', format => 'json'); SELECT * FROM t;",
    "CREATE TABLE u (a INTEGER); INSERT INTO u VALUES (1), (2); SELECT a * 3 FROM u;",
    "SELECT 1, 2.5, 'x', NULL, x'0aff', 1e308 * 10;",
    "TERMINATE ALL;",
    "EXPORT MODEL m TO 'm2.json'; CREATE MODEL m2 FROM 'm2.json'; DESCRIBE m2;",
    "SET state_dir = 'st';",
    "LOAD 'libgeo.so';",
    "SELECT * FROM file('/etc/passwd');",
    "SELECT a FROM nope;",
]:
    http_seed(request('POST', '/query', body))
http_seed(request('POST', '/statements', submit), request('POST', '/statements', submit),
          request('DELETE', '/queries/1'), request('DELETE', '/queries/2'), GET('/queries'))
http_seed(request('POST', '/statements', "CREATE STREAM big AS SELECT id, x FROM s; "
                  "SELECT id FROM big INTO file('b1.jsonl'); SELECT x FROM big INTO file('b2.jsonl');"),
          request('POST', '/query', 'SHOW QUERIES; TERMINATE q1;'), request('DELETE', '/queries/q2'),
          GET('/metrics'))
http_seed(request('POST', '/statements', json.dumps({'sql': submit}),
                  headers=['Content-Type: application/json']))
http_seed(request('POST', '/query', json.dumps({'ksql': 'SELECT * FROM t;'}),
                  headers=['Content-Type: application/json; charset=utf-8']))
http_seed(request('POST', '/query', '{"sql": 1}', headers=['Content-Type: application/json']))
http_seed(request('POST', '/query', '{"sql": "SELECT', headers=['Content-Type: application/json']))
http_seed(chunked('POST', '/query', 'SELECT k FROM t WHERE k > 1;'))
http_seed(chunked('POST', '/statements', submit, parts=5))
http_seed(request('POST', '/statements', submit, headers=['Expect: 100-continue']))
http_seed(request('POST', '/statements', 'SELECT 1 INTO stdout();', headers=['Connection: close']),
          GET('/queries'))
http_seed(request('GET', '/queries', version='HTTP/1.0'))
# who may ask: Host and Origin (403), the body's type (415), a preflight
http_seed(request('POST', '/statements', submit, headers=['Origin: http://evil.example']),
          request('GET', '/queries', headers=['Origin: http://localhost:8080']))
http_seed(request('POST', '/query', 'SELECT * FROM t;', headers=['Content-Type: text/plain']),
          request('POST', '/query', 'SELECT * FROM t;', headers=['Content-Type: application/sql; charset=utf-8']))
http_seed(request('OPTIONS', '/statements', headers=['Origin: http://127.0.0.1',
                                                     'Access-Control-Request-Method: POST']))
put('fuzz_http', b'\0GET /queries HTTP/1.1\r\nHost: evil.example:8080\r\n\r\n')
# wrong methods, unknown paths, bad bodies and malformed requests
http_seed(request('GET', '/statements'), request('PUT', '/query', 'x'), request('POST', '/queries'),
          request('GET', '/queries/q1'), request('DELETE', '/queries/x9'), request('DELETE', '/queries/0'),
          request('DELETE', '/queries/'), request('GET', '/nope'), request('HEAD', '/metrics'),
          request('OPTIONS', '*'))
http_seed(request('POST', '/statements', ''), request('POST', '/query', b'SELECT 1\0;'),
          request('POST', '/statements', 'SELECT 1 FROM;'))
for raw in [b'GARBAGE\r\n\r\n', b'GET /queries\r\n\r\n', b'GET /queries HTTP/1.1\r\n\r\n',
            b'GET /queries HTTP/9.9\r\nHost: x\r\n\r\n',
            b'POST /query HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nSELECT 1;',
            b'POST /query HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\nSELECT 1;',
            b'POST /query HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n',
            b'POST /query HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
            b'GET /queries HTTP/1.1\r\nHost: x\r\nX-Long: ' + b'a' * 3000 + b'\r\n\r\n',
            b'GET /metrics HTTP/1.1\nHost: x\n\n', b'GET /des%63ribe/t?x=1 HTTP/1.1\r\nHost: x\r\n\r\n']:
    put('fuzz_http', b'\0' + raw)
# the examples, a whole file as one request: a submission (its paths made
# plain names), and for the shell's endpoint with its sources stream s
for sql in sorted(glob.glob('sql-examples/*.sql')):
    text = '\n'.join(l for l in open(sql, encoding='utf-8').read().split('\n')
                     if not l.strip().startswith('--'))
    http_seed(request('POST', '/statements', plain_paths(text)))
    http_seed(request('POST', '/query', plain_paths(from_s(text))))

# dictionaries (libFuzzer -dict): tokens the fuzzer would take long to guess
def write_dict(name, words):
    with open(os.path.join('tests/fuzz', name), 'w') as f:
        f.write('# made by make_corpus.py\n')
        for w in sorted(set(words)):
            f.write('"%s"\n' % ''.join('\\' + c if c in '\\"' else c if ' ' <= c <= '~' else '\\x%02X' % ord(c)
                                       for c in w))
tok = open('src/tokenize.c', encoding='utf-8').read()
words = re.findall(r'\{"([A-Z_]+)", TK_', tok)
for c in sorted(glob.glob('src/*.c')):
    words += re.findall(r'^\s*[A-Z_]+\("([a-z_0-9]+)",', open(c, encoding='utf-8').read(), re.M)
words += ['->', '->>', '=>', '||', '<=', '>=', '<>', '!=', '==', '<<', '>>', "x'", "''", '/*', '*/', '--',
          'window_start', 'window_end', 'TUMBLE', 'HOP', 'SESSION', "INTERVAL '1' SECOND", 's', 't', 'm', 'lr',
          'loose', 'id', 'name', 'x', 'ts', 'v', 'k', 'label', 'w', 'predict_proba', 'predict_label', 'EXPLAIN']
write_dict('fuzz_sql.dict', words)
write_dict('fuzz_json.dict', ['{', '}', '[', ']', ':', ',', 'true', 'false', 'null', '"id"', '"name"', '"x"',
                              '"ts"', '"v"', '"nested"', '"tags"', '1e308', '-0', '\\u00e9', '\\ud83d\\ude00',
                              '\\"', '2024-01-01T00:00:00Z', '0.5', '-1'])
write_dict('fuzz_http.dict', ['GET', 'POST', 'DELETE', 'PUT', 'HEAD', 'OPTIONS', ' HTTP/1.1\r\n',
                              ' HTTP/1.0\r\n', '\r\n', '\r\n\r\n', '/statements', '/query', '/queries',
                              '/queries/', '/queries/q1', '/queries/1', '/describe/', '/metrics',
                              'Host: localhost\r\n', 'Authorization: Bearer fuzz\r\n', 'Bearer ',
                              'Content-Length: ', 'Content-Type: application/json\r\n',
                              'Content-Type: application/sql\r\n', 'Content-Type: text/plain\r\n',
                              'Origin: http://localhost\r\n', 'Origin: ', 'Host: 127.0.0.1:',
                              'Transfer-Encoding: chunked\r\n', '0\r\n\r\n', 'Expect: 100-continue\r\n',
                              'Connection: close\r\n', 'Connection: keep-alive\r\n', '{"sql": "', '{"ksql": "',
                              '"}', 'SELECT ', ' FROM s', ' FROM t', ' INTO file(\'o.jsonl\')', 'TERMINATE ALL;',
                              'SHOW QUERIES;', 'DESCRIBE ', 'EXPLAIN ', 'CREATE STREAM ', 'GROUP BY ',
                              "TUMBLE(ts, INTERVAL '1' SECOND)", 'm(x, id)', 'q1', 'q2', '%00', '%2F'])
