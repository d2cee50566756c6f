#!/usr/bin/python3
"""fake_registry.py - a small schema registry for tests/avro.sh.

Speaks the few endpoints of the Confluent schema registry's REST protocol
that sluice uses, with the same JSON shapes:
  POST /subjects/{subject}/versions   {"schema": "..."} -> {"id": N}
  GET  /schemas/ids/{id}              -> {"schema": "..."}
  GET  /subjects/{subject}/versions/latest
                                      -> {"subject", "id", "version", "schema"}
Unknown ids and subjects answer 404 with {"error_code": 40403|40401,
"message": ...}.  The same schema text registered twice gets the same id.

Usage: fake_registry.py PORTFILE LOGFILE
Listens on 127.0.0.1 on an ephemeral port, writes the port to PORTFILE and
appends one line per request ("GET /schemas/ids/1") to LOGFILE, so tests
can count what sluice asked.  Stops on SIGTERM.
"""
import json
import re
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

schemas = []  # id - 1 -> schema text
subjects = {}  # subject -> [ids]


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/vnd.schemaregistry.v1+json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def note(self):
        with open(sys.argv[2], "a") as f:
            f.write("%s %s\n" % (self.command, self.path))

    def do_GET(self):
        self.note()
        m = re.fullmatch(r"/schemas/ids/(\d+)", self.path)
        if m:
            i = int(m.group(1))
            if 1 <= i <= len(schemas):
                return self.answer(200, {"schema": schemas[i - 1]})
            return self.answer(404, {"error_code": 40403, "message": "Schema not found"})
        m = re.fullmatch(r"/subjects/([^/]+)/versions/latest", self.path)
        if m and m.group(1) in subjects:
            ids = subjects[m.group(1)]
            return self.answer(200, {"subject": m.group(1), "id": ids[-1], "version": len(ids),
                                     "schema": schemas[ids[-1] - 1]})
        return self.answer(404, {"error_code": 40401, "message": "Subject not found"})

    def do_POST(self):
        self.note()
        m = re.fullmatch(r"/subjects/([^/]+)/versions", self.path)
        n = int(self.headers.get("Content-Length", "0"))
        try:
            body = json.loads(self.rfile.read(n))
            text = body["schema"]
            json.loads(text)
        except (ValueError, KeyError, TypeError):
            return self.answer(422, {"error_code": 42201, "message": "Invalid schema"})
        if not m:
            return self.answer(404, {"error_code": 404, "message": "HTTP 404 Not Found"})
        if text in schemas:
            i = schemas.index(text) + 1
        else:
            schemas.append(text)
            i = len(schemas)
        ids = subjects.setdefault(m.group(1), [])
        if i not in ids:
            ids.append(i)
        return self.answer(200, {"id": i})


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write("%d\n" % server.server_address[1])
import os  # noqa: E402

os.rename(sys.argv[1] + ".tmp", sys.argv[1])
server.serve_forever()
