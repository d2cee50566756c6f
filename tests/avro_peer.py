#!/usr/bin/python3
"""avro_peer.py - the Python side of tests/avro.sh, with Debian's python3-avro
(the reference implementation of Avro) and kafka-python.

Random records are made from a schema with a fixed seed, so that every
command remakes the same records.  Commands:

  produce BOOT TOPIC SCHEMA SEED N [--registry URL --subject S] [--corrupt]
      N random records of SCHEMA written by avro's DatumWriter, one per
      message (with --registry: registered there, in the Confluent wire
      format); --corrupt adds damaged messages after them.
  expect-json SCHEMA SEED N OUT [--reader R]
      sluice's JSON lines in OUT are the records as avro's DatumReader reads
      them (with reader schema R), each value as sluice's columns show it
      (docs/avro.md): booleans 1/0, bytes as hex, records, maps and arrays
      as JSON (bytes in them as code points), arrays of numbers as vectors.
  expect-topic BOOT TOPIC SCHEMA SEED N [--registry URL] [--json FILE]
      TOPIC holds the records (or, with --json, the objects of the JSON
      lines of FILE), decoded by avro's DatumReader as SCHEMA ("-": as
      written): with --registry each message's writer schema is fetched
      from the registry by its id.
Exit status 0 when everything matched; differences are printed.
"""
import io
import json
import math
import random
import struct
import sys
import urllib.request

import avro.io
import avro.schema


def opt(name, default=None):
    if name in sys.argv:
        i = sys.argv.index(name)
        v = sys.argv[i + 1] if i + 1 < len(sys.argv) and not sys.argv[i + 1].startswith("--") else True
        return v
    return default


def load(path):
    return json.load(open(path))


def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


TEXT = "abcxyzABC 012_-\"\\/\n\t\x01éüß中文𝄞😀'"


class Gen:
    """Random values for a schema given as parsed JSON."""

    def __init__(self, schema, seed):
        self.rnd = random.Random(seed)
        self.named = {}
        self.collect(schema, "")

    def collect(self, t, ns):
        if isinstance(t, list):
            for b in t:
                self.collect(b, ns)
        elif isinstance(t, dict):
            k = t["type"]
            if k in ("record", "enum", "fixed"):
                name = t["name"]
                space = t.get("namespace", ns)
                full = name if "." in name or not space else space + "." + name
                self.named[full] = t
                self.named[name] = t
                for f in t.get("fields", []):
                    self.collect(f["type"], space)
            elif k == "array":
                self.collect(t["items"], ns)
            elif k == "map":
                self.collect(t["values"], ns)

    def value(self, t, depth=0, in_vec=False):
        r = self.rnd
        if isinstance(t, str) and t in self.named:
            t = self.named[t]
        if isinstance(t, list):
            if depth > 3 and "null" in t:
                return None
            return self.value(r.choice(t), depth + 1)
        k = t if isinstance(t, str) else t["type"]
        if k == "null":
            return None
        if k == "boolean":
            return r.random() < 0.5
        if k == "int":
            return r.choice([0, 1, -1, 2**31 - 1, -(2**31), r.randint(-1000, 1000), r.randint(-(2**31), 2**31 - 1)])
        if k == "long":
            if in_vec:
                return r.randint(-(2**53), 2**53)
            return r.choice([0, -1, 2**63 - 1, -(2**63), r.randint(-(2**63), 2**63 - 1), r.randint(-99, 99)])
        if k == "float":
            return f32(r.choice([0.0, -1.5, r.uniform(-1e6, 1e6), r.uniform(-1, 1) * 1e30, math.inf]))
        if k == "double":
            return r.choice([0.0, 0.1, -2.5e-300, r.uniform(-1e9, 1e9), r.random() * 1e300, -math.inf])
        if k == "string":
            return "".join(r.choice(TEXT) for _ in range(r.randint(0, 12)))
        if k == "bytes":
            return bytes(r.randint(0, 255) for _ in range(r.randint(0, 10)))
        if k == "fixed":
            return bytes(r.randint(0, 255) for _ in range(t["size"]))
        if k == "enum":
            return r.choice(t["symbols"])
        if k == "array":
            items = t["items"]
            num = items in ("int", "long", "float", "double")
            return [self.value(items, depth + 1, num) for _ in range(r.randint(0, 4))]
        if k == "map":
            return {"k%d" % i + r.choice(["", "é", "\""]): self.value(t["values"], depth + 1) for i in range(r.randint(0, 3))}
        if k == "record":
            return {f["name"]: self.value(f["type"], depth + 1) for f in t["fields"]}
        if isinstance(t, dict):
            return self.value(k, depth)
        raise ValueError("type %r" % (t,))


def records(schema_path, seed, n):
    s = load(schema_path)
    g = Gen(s, seed)
    return [g.value(s) for _ in range(n)]


def encode(schema, rec):
    b = io.BytesIO()
    avro.io.DatumWriter(schema).write(rec, avro.io.BinaryEncoder(b))
    return b.getvalue()


def decode(data, wschema, rschema=None):
    return avro.io.DatumReader(wschema, rschema or wschema).read(avro.io.BinaryDecoder(io.BytesIO(data)))


def registry_post(url, subject, text):
    body = json.dumps({"schema": text}).encode()
    req = urllib.request.Request("%s/subjects/%s/versions" % (url, subject), data=body,
                                 headers={"Content-Type": "application/vnd.schemaregistry.v1+json"})
    return json.load(urllib.request.urlopen(req))["id"]


def registry_get(url, i):
    return json.load(urllib.request.urlopen("%s/schemas/ids/%d" % (url, i)))["schema"]


# ---- the values sluice shows ---------------------------------------------------


def branch(t, v, named):
    """The branch of union t that value v is in."""
    for b in t:
        bt = named.get(b, b) if isinstance(b, str) else b
        k = bt if isinstance(bt, str) else bt["type"]
        if v is None and k == "null":
            return b
        if isinstance(v, bool):
            if k == "boolean":
                return b
            continue
        if isinstance(v, int) and k in ("int", "long"):
            return b
        if isinstance(v, float) and k in ("float", "double"):
            return b
        if isinstance(v, str) and (k == "string" or (k == "enum" and v in bt["symbols"])):
            return b
        if isinstance(v, bytes) and (k == "bytes" or (k == "fixed" and len(v) == bt["size"])):
            return b
        if isinstance(v, list) and k == "array":
            return b
        if isinstance(v, dict) and k in ("map", "record"):
            return b
    raise ValueError("no branch of %r for %r" % (t, v))


def nested(t, v, named):
    """v (of type t) as sluice writes it inside JSON text."""
    if isinstance(t, str) and t in named:
        t = named[t]
    if isinstance(t, list):
        return nested(branch(t, v, named), v, named)
    k = t if isinstance(t, str) else t["type"]
    if v is None:
        return None
    if k in ("bytes", "fixed"):
        return v.decode("latin-1")
    if k == "array":
        return [nested(t["items"], x, named) for x in v]
    if k == "map":
        return {a: nested(t["values"], x, named) for a, x in v.items()}
    if k == "record":
        return {f["name"]: nested(f["type"], v[f["name"]], named) for f in t["fields"]}
    if k in ("float", "double"):
        return float(v)
    return v


def column(t, v, named):
    """v (of type t) as a column value in sluice's JSON lines."""
    if isinstance(t, str) and t in named:
        t = named[t]
    if isinstance(t, list):
        return column(branch(t, v, named), v, named)
    k = t if isinstance(t, str) else t["type"]
    if v is None:
        return None
    if k == "boolean":
        return int(v)
    if k in ("bytes", "fixed"):
        return v.hex().upper()
    if k in ("float", "double"):
        return float(v)
    if k == "array" and (t["items"] in ("int", "long", "float", "double")):
        return [float(x) for x in v]
    if k in ("array", "map", "record"):
        return nested(t, v, named)
    return v


def same(a, b):
    if isinstance(a, float) and isinstance(b, (int, float)) and not isinstance(b, bool):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[x], b[x]) for x in a)
    return type(a) is type(b) and a == b


def differ(what, want, got):
    bad = 0
    if len(want) != len(got):
        print("%s: %d records expected, %d found" % (what, len(want), len(got)))
        return 1
    for i, (w, g) in enumerate(zip(want, got)):
        if not same(w, g):
            bad += 1
            if bad <= 3:
                for key in w:
                    if not same(w[key], g.get(key)):
                        print("%s: record %d field %s: expected %r, got %r" % (what, i, key, w[key], g.get(key)))
    if bad:
        print("%s: %d of %d records differ" % (what, bad, len(want)))
    return bad


def named_of(schema):
    return Gen(schema, 0).named


CORRUPT = [b"", b"\x01", b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", b"garbage that is not avro at all",
           b"\x02" + b"\x80" * 12]


def cmd_produce():
    from kafka import KafkaProducer
    boot, topic, path, seed, n = sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6])
    text = open(path).read()
    schema = avro.schema.parse(text)
    prefix = b""
    url = opt("--registry")
    if url:
        sid = registry_post(url, opt("--subject"), text)
        prefix = b"\x00" + struct.pack(">i", sid)
    p = KafkaProducer(bootstrap_servers=boot)
    recs = records(path, seed, n)
    for r in recs:
        p.send(topic, prefix + encode(schema, r))
    if opt("--corrupt"):
        good = encode(schema, recs[0])
        bad = [prefix + c for c in CORRUPT] + [prefix + good[: len(good) // 2], prefix + good + b"\x00\x07"]
        if url:  # first: an unknown id (999), no magic byte
            bad = [b"\x00\x00\x00\x03\xe7" + good, b"\x01" + prefix[1:] + good] + bad
        for b in bad:
            p.send(topic, b)
        print(len(bad))
    p.flush()
    return 0


def cmd_expect_json():
    path, seed, n, out = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
    ws = avro.schema.parse(open(path).read())
    rpath = opt("--reader") or path
    rjson = load(rpath)
    rs = avro.schema.parse(open(rpath).read())
    named = named_of(rjson)
    want = []
    for r in records(path, seed, n):
        v = decode(encode(ws, r), ws, rs)
        want.append({f["name"]: column(f["type"], v[f["name"]], named) for f in rjson["fields"]})
    got = [json.loads(line) for line in open(out)]
    return 1 if differ(out, want, got) else 0


def cmd_expect_topic():
    from kafka import KafkaConsumer
    boot, topic, path, seed, n = sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6])
    url = opt("--registry")
    schema = avro.schema.parse(open(path).read()) if path != "-" else None
    if opt("--json"):  # the JSON lines sluice read, compared field by field
        want = [json.loads(line) for line in open(opt("--json"))]
    else:
        want = records(path, seed, n)
    c = KafkaConsumer(topic, bootstrap_servers=boot, auto_offset_reset="earliest", consumer_timeout_ms=8000)
    got, ids = [], set()
    for m in c:
        data = m.value
        ws = schema
        if url:
            if data[0] != 0:
                print("message %d: no magic byte" % len(got))
                return 1
            sid = struct.unpack(">i", data[1:5])[0]
            ids.add(sid)
            ws = avro.schema.parse(registry_get(url, sid))
            data = data[5:]
        got.append(decode(data, ws, schema or ws))
        if len(got) == len(want):
            break
    if url:
        print("schema ids: %s" % sorted(ids))
    return 1 if differ(topic, want, got) else 0


if __name__ == "__main__":
    sys.exit({"produce": cmd_produce, "expect-json": cmd_expect_json,
              "expect-topic": cmd_expect_topic}[sys.argv[1]]())
