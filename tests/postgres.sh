#!/usr/bin/env bash
# postgres.sh - the postgres() connector against a real PostgreSQL server
# (Debian's postgresql package: initdb and pg_ctl into a scratch directory,
# listening only on a Unix socket there, trust authentication; as the
# postgres user when the test runs as root).  Rows are read back with psql
# and compared with independent references (Python, its sqlite3):
#   - a batch insert of random rows (integers, reals, text with quotes,
#     commas, newlines and non-ASCII, NULLs) equals the input;
#   - an upsert by key equals SQLite's INSERT OR REPLACE of the same rows;
#   - a stream-table join with a PostgreSQL table equals SQLite's join;
#   - exactly once: a checkpointed query over a file killed between
#     PostgreSQL's commit and the state store's, then three times with
#     SIGKILL at random moments, then run to its end: every row once; an
#     upsert killed between the commits: the last row of every key;
#   - scenario S1 (sql-examples/s1_postgres.sql) into a table: the same
#     predictions as the file run, checked against scikit-learn too;
#   - a stop (SIGTERM) while the server does not answer ends the query
#     within about 5 s;
#   - conninfo: unknown options, service, a bad string (no password shown),
#     and sluice serve refusing a host it was not granted.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=${top_srcdir:-$here/..}
top=$(cd "$top" && pwd)
sluice=${SLUICE:-$here/../sluice}
sluice=$(cd "$(dirname "$sluice")" && pwd)/$(basename "$sluice")
. "$here/lib.sh"
py=/usr/bin/python3

pgbin=$(ls -d /usr/lib/postgresql/*/bin 2> /dev/null | sort -V | tail -n 1)
if [ -z "$pgbin" ] || [ ! -x "$pgbin/initdb" ]; then
  echo "postgres.sh: no PostgreSQL server (scripts/setup.sh installs postgresql)"
  exit 1
fi

work=$(mktemp -d) || exit 99
chmod 755 "$work"
cd "$work" || exit 99
# initdb and postgres refuse to run as root
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
mkdir pgdata sock
[ "$(id -u)" = 0 ] && chown postgres pgdata sock
stop_pg() {
  as_pg "$pgbin/pg_ctl" -D "$work/pgdata" -m immediate stop > /dev/null 2>&1
  rm -rf "$work"
}
trap stop_pg EXIT
as_pg "$pgbin/initdb" -D "$work/pgdata" -A trust -U postgres --no-sync > initdb.log 2>&1 ||
  { cat initdb.log; exit 1; }
as_pg "$pgbin/pg_ctl" -D "$work/pgdata" -l "$work/pgdata/server.log" -w -o \
  "-c listen_addresses='' -c unix_socket_directories=$work/sock -c fsync=off" start > /dev/null ||
  { cat pgdata/server.log; exit 1; }
CI="host=$work/sock user=postgres dbname=postgres"
psql() { command psql -X -q -v ON_ERROR_STOP=1 -h "$work/sock" -U postgres -d postgres "$@"; }

# ---- a batch insert of random rows ---------------------------------------------
$py - > rows.jsonl <<'PY'
import json, random
random.seed(22)
words = ['plain', 'comma,inside', 'quote"inside', "it's", 'new\nline', 'crlf\r\nend', '',
         ' spaces ', 'ünïcødé €', '\\backslash', 'tab\there', 'NULL', '\\N', ',"', '""']
for n in range(3000):
    r = {'n': n}
    if random.random() > 0.1:
        r['i'] = random.choice([random.randint(-1000, 1000), random.randint(-2**63, 2**63 - 1)])
    if random.random() > 0.1:
        r['r'] = random.choice([random.uniform(-1e6, 1e6), random.uniform(-1, 1) * 1e-300, 0.5])
    if random.random() > 0.1:
        r['t'] = ''.join(random.choice(words) for _ in range(random.randint(0, 4)))
    print(json.dumps(r))
PY
"$sluice" -e "SELECT n, i, r, t FROM file('rows.jsonl', format => 'json')
  INTO postgres('t1', conninfo => '$CI')" || bad "batch insert ran"
psql -Atc "SELECT coalesce(json_agg(x ORDER BY n), '[]') FROM t1 x" > t1.json
types=$(psql -Atc "SELECT string_agg(data_type, ',' ORDER BY ordinal_position)
  FROM information_schema.columns WHERE table_name = 't1'")
check "created types" "bigint,bigint,double precision,text" "$types"
$py - rows.jsonl t1.json <<'PY' && ok || bad "batch insert equals the input"
import json, math, sys
want = [json.loads(l) for l in open(sys.argv[1])]
got = json.load(open(sys.argv[2]))
assert len(got) == len(want), (len(got), len(want))
for w, g in zip(want, got):
    for c in ('n', 'i', 't'):
        assert w.get(c) == g[c], (c, w, g)
    # sluice reads JSON numbers as SQLite does, which may be an ulp off
    # the correctly rounded double for extreme exponents
    assert (w.get('r') is None) == (g['r'] is None), (w, g)
    assert w.get('r') is None or math.isclose(w['r'], g['r'], rel_tol=1e-15), (w, g)
PY

# ---- upsert by key ----------------------------------------------------------------
$py - > ups.jsonl <<'PY'
import json, random
random.seed(7)
for n in range(20000):
    k = random.randint(0, 300)
    v = None if random.random() < 0.05 else random.randint(-10**6, 10**6)
    print(json.dumps({'k': 'key %d, "q"' % k, 'v': v, 'n': n}))
PY
"$sluice" -e "SELECT k, v, n FROM file('ups.jsonl', format => 'json')
  INTO postgres('t2', conninfo => '$CI', key => 'k')" || bad "upsert ran"
psql -Atc "SELECT coalesce(json_agg(x ORDER BY k), '[]') FROM t2 x" > t2.json
$py - ups.jsonl t2.json <<'PY' && ok || bad "upsert equals sqlite's INSERT OR REPLACE"
import json, sqlite3, sys
db = sqlite3.connect(':memory:')
db.execute('CREATE TABLE t (k TEXT PRIMARY KEY, v, n)')
for l in open(sys.argv[1]):
    r = json.loads(l)
    db.execute('INSERT OR REPLACE INTO t VALUES (?, ?, ?)', (r['k'], r['v'], r['n']))
want = sorted(db.execute('SELECT k, v, n FROM t'))
got = sorted((r['k'], r['v'], r['n']) for r in json.load(open(sys.argv[2])))
assert want == got, (len(want), len(got))
PY
pk=$(psql -Atc "SELECT count(*) FROM information_schema.table_constraints
  WHERE table_name = 't2' AND constraint_type = 'PRIMARY KEY'")
check "upsert table has its key" 1 "$pk"
# a second run upserts into the table as it is (the same rows: no change)
"$sluice" -e "SELECT k, v, n FROM file('ups.jsonl', format => 'json')
  INTO postgres('t2', conninfo => '$CI', key => 'k')" || bad "upsert again ran"
check "upsert is idempotent" "$(cat t2.json)" \
  "$(psql -Atc "SELECT coalesce(json_agg(x ORDER BY k), '[]') FROM t2 x")"

# ---- a stream-table join with a PostgreSQL table ----------------------------------
$py - > users.sql 3> events.jsonl <<'PY'
import json, os, random
random.seed(3)
ev = os.fdopen(3, 'w')
print('CREATE TABLE users (id integer PRIMARY KEY, name text, score real, '
      'big bigint, vip boolean, note varchar(20), num numeric);')
for i in range(200):
    name = 'NULL' if i % 17 == 0 else "'user %d''s'" % i
    print("INSERT INTO users VALUES (%d, %s, %s, %d, %s, %s, %s);" % (
        i, name, 'NULL' if i % 13 == 0 else '%.3f' % random.uniform(0, 100),
        random.randint(-2**62, 2**62), 'true' if i % 3 == 0 else 'false',
        "'n%d'" % i, '%d.25' % i))
for n in range(2000):
    ev.write(json.dumps({'n': n, 'uid': random.randint(-10, 230)}) + '\n')
PY
psql -f users.sql || bad "users table"
"$sluice" -e "SELECT e.n, u.name, u.score, u.big, u.vip, u.note, u.num
  FROM file('events.jsonl', format => 'json') AS e
  LEFT JOIN postgres('users', conninfo => '$CI') AS u ON e.uid = u.id
  INTO file('joined.jsonl', format => 'json')" || bad "join ran"
psql -Atc "COPY (SELECT row_to_json(u) FROM users u) TO STDOUT" > users.jsonl
$py - users.jsonl events.jsonl joined.jsonl <<'PY' && ok || bad "join equals sqlite3's"
import json, sqlite3, sys
db = sqlite3.connect(':memory:')
db.execute('CREATE TABLE u (id INTEGER, name TEXT, score REAL, big INTEGER, vip INTEGER, '
           'note TEXT, num REAL)')
for l in open(sys.argv[1]):
    r = json.loads(l)
    db.execute('INSERT INTO u VALUES (?,?,?,?,?,?,?)', (r['id'], r['name'], r['score'], r['big'],
               int(r['vip']), r['note'], r['num']))
db.execute('CREATE TABLE e (n INTEGER, uid INTEGER)')
for l in open(sys.argv[2]):
    r = json.loads(l)
    db.execute('INSERT INTO e VALUES (?,?)', (r['n'], r['uid']))
want = sorted(db.execute('SELECT e.n, u.name, u.score, u.big, u.vip, u.note, u.num '
                         'FROM e LEFT JOIN u ON e.uid = u.id'), key=lambda r: r[0])
got = sorted((tuple(json.loads(l).values()) for l in open(sys.argv[3])), key=lambda r: r[0])
assert len(want) == len(got), (len(want), len(got))
for w, g in zip(want, got):
    # real is float4 in PostgreSQL: compared as float4
    same = all(a == b or (isinstance(a, float) and b is not None and abs(a - b) < 1e-4)
               for a, b in zip(w, g))
    assert same, (w, g)
PY

# ---- exactly once across SIGKILLs ---------------------------------------------------
N=1000000
$py -c "
for n in range(1, $N + 1): print('{\"n\":%d,\"g\":%d}' % (n, n % 97))" > big.jsonl
q="SET checkpoint_interval = '150ms';
SELECT n, g, 'row ' || n AS t FROM file('big.jsonl', format => 'json')
INTO postgres('eo', conninfo => '$CI');"
echo "$q" > eo.sql
counts() { psql -Atc "SELECT count(*), count(DISTINCT n) FROM eo" 2> /dev/null; }
# killed right after PostgreSQL committed its 4th checkpoint, before the
# state store did: PostgreSQL is one checkpoint ahead of the store
SLUICE_TEST_PG_KILL_AFTER_COMMIT=4 "$sluice" --state-dir st run eo.sql 2> eo.err &
wait $! 2> /dev/null
rc=$?
check "killed between the commits" 137 "$rc"
ahead=$(counts)
RANDOM=22
for i in 1 2 3; do
  "$sluice" --state-dir st run eo.sql 2>> eo.err &
  p=$!
  sleep "0.$((RANDOM % 6 + 3))"
  kill -9 "$p" 2> /dev/null
  wait "$p" 2> /dev/null
  echo "after kill $i: $(counts)" >> eo.log
done
"$sluice" --state-dir st run eo.sql 2>> eo.err || { bad "exactly-once run to its end"; cat eo.err; }
got=$(psql -Atc "SELECT count(*), count(DISTINCT n), min(n), max(n), sum(g) FROM eo")
want=$($py -c "print('$N|$N|1|$N|%d' % sum(n % 97 for n in range(1, $N + 1)))")
[ -n "${PG_TEST_VERBOSE:-}" ] && cat eo.log && echo "ahead: $ahead"
check "exactly once after SIGKILLs (ahead: $ahead; $(tr '\n' ' ' < eo.log))" "$want" "$got"
case "$ahead" in 0\|0 | "") bad "the first run committed rows before its kill: $ahead" ;; *) ok ;; esac

# an upsert with a state directory, killed between the two commits, then run
# to its end: the last row of each key
echo "SET checkpoint_interval = '150ms';
SELECT g, n, 'row ' || n AS t FROM file('big.jsonl', format => 'json')
INTO postgres('eo_up', conninfo => '$CI', key => 'g');" > eo_up.sql
SLUICE_TEST_PG_KILL_AFTER_COMMIT=3 "$sluice" --state-dir st_up run eo_up.sql 2> eo_up.err &
wait $! 2> /dev/null
"$sluice" --state-dir st_up run eo_up.sql 2>> eo_up.err || { bad "upsert run to its end"; cat eo_up.err; }
got=$(psql -Atc "SELECT count(*), sum(n), count(*) FILTER (WHERE t = 'row ' || n) FROM eo_up")
want=$($py -c "
last = {n % 97: n for n in range(1, $N + 1)}
print('%d|%d|%d' % (len(last), sum(last.values()), len(last)))")
check "upsert with a state directory after a kill" "$want" "$got"

# a server that stops answering (its backend stopped with SIGSTOP) does not
# hold a stop: SIGTERM ends the query about 5 s later, with an error
"$sluice" -e "SELECT n FROM file('big.jsonl', format => 'json')
  INTO postgres('hang', conninfo => '$CI')" 2> hang.err &
sp=$!
bp=
for _ in $(seq 100); do
  bp=$(psql -Atc "SELECT pid FROM pg_stat_activity WHERE application_name = 'sluice'")
  [ -n "$bp" ] && break
  sleep 0.1
done
if [ -n "$bp" ]; then
  sleep 0.3
  kill -STOP "$bp"
  sleep 0.5
  t0=$(date +%s%N)
  kill -TERM "$sp"
  wait "$sp"
  rc=$?
  ms=$((($(date +%s%N) - t0) / 1000000))
  kill -CONT "$bp"
  [ "$rc" != 0 ] && [ "$ms" -lt 9000 ] && ok || bad "a stop with the server stopped: rc $rc, $ms ms"
  contains "a stop with the server stopped" "did not answer within 5 s of the stop" "$(cat hang.err)"
else
  bad "no backend of sluice's in pg_stat_activity"
  wait "$sp"
fi

# ---- scenario S1 into PostgreSQL ----------------------------------------------------
(cd "$top" && PGHOST=$work/sock PGUSER=postgres PGDATABASE=postgres \
  "$sluice" run sql-examples/s1_postgres.sql) || bad "s1_postgres.sql ran"
sed "s|'preds.jsonl'|'$work/preds.jsonl'|" "$top/sql-examples/s1_files.sql" > s1.sql
(cd "$top" && "$sluice" run "$work/s1.sql") || bad "s1_files.sql ran"
psql -Atc 'COPY (SELECT json_build_object($$User_ID$$, "User_ID", $$pred$$, pred)
  FROM s1_preds) TO STDOUT' > s1_pg.jsonl
$py - preds.jsonl s1_pg.jsonl <<'PY' && ok || bad "S1 in PostgreSQL equals the file output"
import json, sys
a = sorted((r['User_ID'], r['pred']) for r in map(json.loads, open(sys.argv[1])))
b = sorted((r['User_ID'], r['pred']) for r in map(json.loads, open(sys.argv[2])))
assert len(a) == len(b) == 1000, (len(a), len(b))
for x, y in zip(a, b):
    assert x[0] == y[0] and abs(x[1] - y[1]) <= 1e-15, (x, y)
PY
(cd "$top" && $py "$here/s1_check.py" "$here/data/games-expand.csv" sql-examples/data/dsp.jsonl \
  "$work/s1_pg.jsonl" s1_postgres > /dev/null) && ok || bad "S1 in PostgreSQL against scikit-learn"

# ---- options and conninfo -----------------------------------------------------------
out=$("$sluice" -e "SELECT 1 FROM postgres('t1', conninfo => '$CI', bogus => 1)" 2>&1)
contains "unknown option" "unknown option 'bogus'" "$out"
out=$("$sluice" -e "SELECT 1 FROM postgres('t1', conninfo => 'password=hunter2 oops')" 2>&1)
contains "bad conninfo" "not a connection string" "$out"
case "$out" in *hunter2*) bad "a password in a message: $out" ;; *) ok ;; esac
out=$("$sluice" -e "SELECT 1 FROM postgres('t1', conninfo => 'service=x')" 2>&1)
contains "service refused" "service is not supported" "$out"
out=$("$sluice" -e "SELECT 1 FROM postgres('nosuch', conninfo => '$CI')" 2>&1)
contains "no such table" 'relation "nosuch" does not exist' "$out"
out=$("$sluice" -e "SELECT 1 AS zz INTO postgres('t1', conninfo => '$CI')" 2>&1)
contains "a column the table lacks" "has no column zz" "$out"
# sluice serve: a client reaches no server it was not granted
if serve_start; then
  out=$(curl -s -X POST --data-binary "SELECT * FROM postgres('t1', conninfo => '$CI')" \
    -H 'Content-Type: application/sql' "$url/query" 2>&1)
  contains "serve refuses the socket" "not authorized: connect to '$work/sock/.s.PGSQL.5432'" "$out"
  out=$(curl -s -X POST --data-binary \
    "SELECT * FROM postgres('t1', conninfo => 'host=127.0.0.1 port=5 dbname=x')" \
    -H 'Content-Type: application/sql' "$url/query" 2>&1)
  contains "serve refuses the host" "connect to '127.0.0.1:5'" "$out"
  serve_stop
else
  bad "sluice serve did not start"
fi

finish postgres
