#!/usr/bin/env bash
# func_flink.sh - the Flink functions of src/func_flink.c (HOUR, DATE_FORMAT,
# REGEXP_EXTRACT, SPLIT_INDEX) over random inputs (fixed seed), each result
# compared with an independent computation in Python (datetime for the
# calendar, re for the regular expressions, str.split); then the refusals:
# an invalid DATE_FORMAT pattern and a Java construct POSIX cannot say reject
# the row with a reason.
set -u
here=$(cd "$(dirname "$0")" && pwd)
sluice=${SLUICE:-$here/../sluice}
py=/usr/bin/python3
. "$here/lib.sh"
in_workdir

# ---- random inputs -----------------------------------------------------------
$py - <<'PY' || exit 1
import json, random
rnd = random.Random(19)
MIN, MAX = -11676096000000, 13569465600000  # 1600-01-01 .. 2400-01-01
TOKENS = ["yyyy", "yy", "y", "yyyyy", "MM", "M", "MMM", "MMMM", "L", "dd", "d", "HH", "H", "hh",
          "h", "kk", "K", "mm", "m", "ss", "s", "SSS", "S", "SS", "EEE", "EEEE", "E", "u", "a",
          "D", "DDD", "F", "G", "z", "Z", "X", "-", ":", " ", "/", ".", ",", "'T'", "''",
          "'o''clock'", "_"]
ALPHA = "ab c&=_-19x/.\tab"  # "ab" twice: more matches
PATTERNS = [r"(&|^)channel_id=([^&]*)", r"\d+", r"(\d+)-(\w*)", r"a(b*)c?", r"[a-c]+",
            r"[^ab]+", r"x(?:ab|cd)(\d)", r"\s+(\S+)", r"^a.b", r"b$", r"[\d.]+", r"(a)|(b)",
            r"[\-x]+(9)?", r"=(\w+)&?", r"\.(1)", r"[]a]+", r"(ab)+", r"c{2,}", r"[_\t]",
            r"ab*c", r"a(b)?c", r"x\.?1", r"[x]9{2}_", r"ab+", r"ab|c ", r"b{1,2}c", r"a.b*=",
            r"(x)1/", r"c&=?_"]
with open("in.jsonl", "w") as f:
    for k in range(3000):
        ts = rnd.randrange(MIN, MAX)
        if k % 10 == 0:
            ts = rnd.randrange(-86400000 * 3, 86400000 * 3)  # around the epoch
        pat = "".join(rnd.choice(TOKENS) for _ in range(rnd.randrange(1, 6)))
        if k % 7 == 0:
            s = "channel_id=%d" % rnd.randrange(100) if k % 2 else \
                "query=1&channel_id=%d&x=2" % rnd.randrange(100)
        else:
            s = "".join(rnd.choice(ALPHA) for _ in range(rnd.randrange(0, 16)))
        sep = rnd.choice(["/", "&", "ab", "a", "", "xx", "=", "  "[:rnd.randrange(1, 3)]])
        row = {"k": k, "ts": ts, "pat": pat, "s": s, "re": rnd.choice(PATTERNS),
               "g": rnd.randrange(-1, 4), "sep": sep, "i": rnd.randrange(-1, 6)}
        if k % 13 == 0:  # the same instant as a timestamp text
            ms = ts % 1000
            import datetime
            d = datetime.datetime(1970, 1, 1) + datetime.timedelta(milliseconds=ts)
            row["tt"] = d.strftime("%Y-%m-%d %H:%M:%S") + (".%03d" % ms if k % 2 else "")
            if not k % 2:
                row["ts"] = ts - ms
        if k % 17 == 0:
            row["s"] = None
        f.write(json.dumps(row) + "\n")
PY

cat > q.sql <<'SQL'
SELECT k, hour(ts) AS h, hour(tt) AS ht, date_format(ts, pat) AS df, date_format(tt, pat) AS dft,
       regexp_extract(s, re, g) AS rx, regexp_extract(s, re) AS rx0,
       split_index(s, sep, i) AS sp
FROM file('in.jsonl', format => 'json',
          columns => 'k INTEGER, ts INTEGER, tt TEXT, pat TEXT, s TEXT, re TEXT, g INTEGER, sep TEXT, i INTEGER')
INTO file('out.jsonl', format => 'json');
SQL
"$sluice" --stats run q.sql 2> q.err && ! grep -q "[1-9][0-9]* rejected" q.err && ok ||
  { bad "run"; cat q.err; }

$py - <<'PY' && ok || bad "results against Python"
import datetime, json, re
EPOCH = datetime.datetime(1970, 1, 1)
def dt(ms):
    return EPOCH + datetime.timedelta(milliseconds=ms)
def java_format(d, ms, pat):
    """SimpleDateFormat, Locale.US, UTC, over a Python datetime."""
    out, i = [], 0
    while i < len(pat):
        c = pat[i]
        if c == "'":
            if pat[i + 1:i + 2] == "'":
                out.append("'"); i += 2; continue
            j = i + 1
            while True:
                if pat[j] == "'":
                    if pat[j + 1:j + 2] == "'":
                        out.append("'"); j += 2; continue
                    break
                out.append(pat[j]); j += 1
            i = j + 1; continue
        if not c.isalpha():
            out.append(c); i += 1; continue
        n = 1
        while i + n < len(pat) and pat[i + n] == c:
            n += 1
        i += n
        num = lambda v: str(v).zfill(n)
        if c == "y": out.append("%02d" % (d.year % 100) if n == 2 else num(d.year))
        elif c in "ML": out.append(d.strftime("%B")[:None if n >= 4 else 3] if n >= 3 else num(d.month))
        elif c == "d": out.append(num(d.day))
        elif c == "D": out.append(num(d.timetuple().tm_yday))
        elif c == "E": out.append(d.strftime("%A")[:None if n >= 4 else 3])
        elif c == "u": out.append(num(d.isoweekday()))
        elif c == "F": out.append(num((d.day - 1) // 7 + 1))
        elif c == "a": out.append("AM" if d.hour < 12 else "PM")
        elif c == "H": out.append(num(d.hour))
        elif c == "k": out.append(num(d.hour or 24))
        elif c == "K": out.append(num(d.hour % 12))
        elif c == "h": out.append(num(d.hour % 12 or 12))
        elif c == "m": out.append(num(d.minute))
        elif c == "s": out.append(num(d.second))
        elif c == "S": out.append(num(ms))
        elif c == "G": out.append("AD")
        elif c == "z": out.append("UTC")
        elif c == "Z": out.append("+0000")
        elif c == "X": out.append("Z")
        else: raise ValueError(c)
    return "".join(out)
def extract(s, pat, g):
    if s is None: return None
    m = re.search(pat, s)
    if not m or g < 0 or g > (re.compile(pat).groups): return None
    return m.group(g)
def split(s, sep, i):
    if s is None or i < 0 or s == "": return None
    parts = re.split(r"[\t\n\v\f\r \x1c-\x1f]", s) if sep == "" else s.split(sep)
    return parts[i] if i < len(parts) else None
ins = {r["k"]: r for r in map(json.loads, open("in.jsonl"))}
outs = [json.loads(l) for l in open("out.jsonl")]
bad = 0
def expect(k, what, want, got):
    global bad
    if want != got:
        bad += 1
        if bad <= 10: print("k=%d %s: want %r got %r (input %r)" % (k, what, want, got, ins[k]))
for o in outs:
    r = ins[o["k"]]
    ms = r["ts"] % 1000
    d = dt(r["ts"])
    expect(r["k"], "hour", d.hour, o["h"])
    expect(r["k"], "date_format", java_format(d, ms, r["pat"]), o["df"])
    if "tt" in r:
        expect(r["k"], "hour(text)", d.hour, o["ht"])
        expect(r["k"], "date_format(text)", java_format(d, ms, r["pat"]), o["dft"])
    else:
        expect(r["k"], "hour(NULL)", None, o["ht"])
    expect(r["k"], "regexp_extract", extract(r["s"], r["re"], r["g"]), o["rx"])
    expect(r["k"], "regexp_extract/2", extract(r["s"], r["re"], 0), o["rx0"])
    expect(r["k"], "split_index", split(r["s"], r["sep"], r["i"]), o["sp"])
print("%d rows, %d mismatches" % (len(outs), bad))
raise SystemExit(1 if bad or len(outs) != len(ins) else 0)
PY

# ---- refusals and edge cases: constant arguments ------------------------------
printf '{"x":1}\n' > one.jsonl
cat > e.sql <<'SQL'
SELECT split_index('a,b,,c', ',', 2) AS a, split_index('', ',', 0) AS b, split_index('a,b', ',', 2) AS c,
       regexp_extract('foothebar', 'foo(.*)(bar)', 2) AS d, regexp_extract('ab', 'a(x)?b', 1) AS e,
       regexp_extract('ab', '(', 0) AS f, hour('2024-02-30 10:00:00') AS g, hour(1.5e3) AS h,
       date_format(0, 'yyyy-MM-dd''T''HH:mm:ss.SSS') AS i, hour(-1) AS j
FROM file('one.jsonl', format => 'json', columns => 'x INTEGER') INTO file('e.jsonl', format => 'json');
SQL
"$sluice" run e.sql 2> e.err || { bad "edge run"; cat e.err; }
check "edge cases" '{"a":"","b":null,"c":null,"d":"bar","e":null,"f":null,"g":null,"h":0,"i":"1970-01-01T00:00:00.000","j":23}' "$(cat e.jsonl)"
for bad_call in "date_format(x, 'yyyy-ww')" "date_format(x, 'Q')" "date_format(x, '''open')" \
  "regexp_extract('ab', 'a+?', 0)" "regexp_extract('ab', '(?=a)', 0)" "regexp_extract('aa', '(a)\\1', 0)" \
  "regexp_extract('aa', '(a{100}){1001}', 0)" "regexp_extract('aa', 'a**', 0)" \
  "regexp_extract('aa', 'a+{2}', 0)" "regexp_extract('aa', 'a$(printf '*%.0s' $(seq 130))', 0)"; do
  cat > r.sql <<SQL
SELECT $bad_call AS v FROM file('one.jsonl', format => 'json', columns => 'x INTEGER') INTO file('r.jsonl', format => 'json');
SQL
  "$sluice" --stats run r.sql > /dev/null 2> r.err
  if grep -q "1 rejected" r.err && grep -qi "not supported\|illegal\|unterminated\|too large\|cannot follow" r.err; then ok; else
    bad "$bad_call is not refused with a reason"; cat r.err; fi
done
finish func_flink
