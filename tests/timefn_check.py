"""timefn_check.py - sluice's time functions for streams (to_timestamp,
epoch_ms, date_trunc, extract / EXTRACT(f FROM ts)) against Python's
datetime, over random instants from year 1 to 9999 (fixed seed) and texts
of them in SQLite's time-value formats with random zones.

Usage: timefn_check.py SLUICE [N]
"""
import datetime as dt
import json
import random
import subprocess
import sys

sluice = sys.argv[1]
N = int(sys.argv[2]) if len(sys.argv) > 2 else 400
rng = random.Random(5)
EPOCH = dt.datetime(1970, 1, 1)
LO = -62135596800000  # 0001-01-01 00:00:00
HI = 253402300799999  # 9999-12-31 23:59:59.999
UNITS = ["second", "minute", "hour", "day", "week", "month", "quarter", "year"]
FIELDS = ["year", "month", "day", "hour", "minute", "second", "millisecond", "dow", "doy"]


def to_dt(ms):
    return EPOCH + dt.timedelta(milliseconds=ms)


def to_ms(d):
    return (d - EPOCH) // dt.timedelta(milliseconds=1)


def stamp(d):
    return "%04d-%02d-%02d %02d:%02d:%02d.%03d" % (d.year, d.month, d.day, d.hour, d.minute,
                                                   d.second, d.microsecond // 1000)


def trunc(d, unit):
    if unit == "second":
        return d.replace(microsecond=0)
    if unit == "minute":
        return d.replace(second=0, microsecond=0)
    if unit == "hour":
        return d.replace(minute=0, second=0, microsecond=0)
    day = d.replace(hour=0, minute=0, second=0, microsecond=0)
    if unit == "day":
        return day
    if unit == "week":
        return day - dt.timedelta(days=d.weekday())
    if unit == "month":
        return day.replace(day=1)
    if unit == "quarter":
        return day.replace(month=(d.month - 1) // 3 * 3 + 1, day=1)
    return day.replace(month=1, day=1)


def field(d, f):
    return {"year": d.year, "month": d.month, "day": d.day, "hour": d.hour, "minute": d.minute,
            "second": d.second, "millisecond": d.microsecond // 1000,
            "dow": (d.weekday() + 1) % 7, "doy": d.timetuple().tm_yday}[f]


def random_ms():
    k = rng.randrange(4)
    if k == 0:
        return rng.randrange(LO, HI + 1)
    if k == 1:  # recent times, ms precision
        return rng.randrange(1500000000000, 1800000000000)
    if k == 2:  # around the epoch, before it too
        return rng.randrange(-10**11, 10**11)
    return rng.randrange(-62000000000000, 250000000000000) // 86400000 * 86400000


def text_of(ms):
    """A text for a random SQLite time-value format, and the epoch ms it means."""
    d = to_dt(ms)
    k = rng.randrange(5)
    date = "%04d-%02d-%02d" % (d.year, d.month, d.day)
    if k == 0:
        return date, to_ms(d.replace(hour=0, minute=0, second=0, microsecond=0))
    if k == 1:
        return "%sT%02d:%02d" % (date, d.hour, d.minute), to_ms(d.replace(second=0,
                                                                           microsecond=0))
    if k == 2:
        return "%s %02d:%02d:%02d" % (date, d.hour, d.minute, d.second), to_ms(
            d.replace(microsecond=0))
    if k == 3:
        return stamp(d), ms
    # a zone: the text is the local time at offset z, the instant d
    z = rng.randrange(-14 * 60, 14 * 60 + 1)
    loc = d + dt.timedelta(minutes=z)
    if loc.year < 1 or loc.year > 9999 or d.year < 2 or d.year > 9998:
        return stamp(d) + "Z", ms
    sign = "+" if z >= 0 else "-"
    return "%s%s%02d:%02d" % (stamp(loc), sign, abs(z) // 60, abs(z) % 60), ms


rows = []
for i in range(N):
    ms = random_ms()
    txt, tms = text_of(ms)
    rows.append((ms, txt, tms))

cols = ["to_timestamp(ms) AS ts", "epoch_ms(txt) AS em", "EXTRACT(epoch FROM ms) AS ep"]
for u in UNITS:
    cols.append("date_trunc('%s', ms) AS tm_%s" % (u, u))
    cols.append("date_trunc('%s', txt) AS tt_%s" % (u, u))
for f in FIELDS:
    cols.append("EXTRACT(%s FROM ms) AS xm_%s" % (f, f))
    cols.append("extract('%s', txt) AS xt_%s" % (f, f))
script = "CREATE TABLE r(i INTEGER, ms INTEGER, txt TEXT);\n"
for k in range(0, N, 100):
    script += "INSERT INTO r VALUES %s;\n" % ", ".join(
        "(%d, %d, '%s')" % (i, r[0], r[1]) for i, r in enumerate(rows[k:k + 100], k))
script += "SELECT i, %s FROM r;\n" % ", ".join(cols)
p = subprocess.run([sluice], input=script, capture_output=True, text=True, timeout=120)
if p.returncode != 0:
    print("sluice failed:", p.stderr)
    sys.exit(1)
got = {}
for line in p.stdout.splitlines():
    if line.strip():
        r = json.loads(line)
        got[r["i"]] = r
bad = 0
checked = 0
for i, (ms, txt, tms) in enumerate(rows):
    g = got.get(i)
    if g is None:
        print("row %d missing" % i)
        bad += 1
        continue
    d, dtxt = to_dt(ms), to_dt(tms)
    want = {"ts": stamp(d), "em": tms, "ep": ms / 1000.0}
    for u in UNITS:
        want["tm_" + u] = to_ms(trunc(d, u))
        want["tt_" + u] = stamp(trunc(dtxt, u))
    for f in FIELDS:
        want["xm_" + f] = field(d, f)
        want["xt_" + f] = field(dtxt, f)
    for k, w in want.items():
        checked += 1
        v = g.get(k)
        same = abs(v - w) < 1e-6 if isinstance(w, float) and isinstance(v, float) else v == w
        if not same:
            bad += 1
            if bad <= 20:
                print("ms %d txt %r: %s = %r, Python %r" % (ms, txt, k, v, w))
print("timefn_check: %d rows, %d values checked, %d wrong" % (N, checked, bad))
sys.exit(1 if bad else 0)
