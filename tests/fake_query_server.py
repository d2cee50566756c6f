#!/usr/bin/python3
"""tests/fake_query_server.py - a stand-in for the POST /query endpoint of
`sluice serve`, for tests/connect_client.sh (standard library only).

    fake_query_server.py PORT LOG [TOKEN]

Listens on 127.0.0.1:PORT (FAKE_HOST: another address, such as ::1; with
FAKE_CERT and FAKE_KEY, PEM files, it speaks TLS) and answers POST /query with canned NDJSON chosen
by a marker in the SQL text: chunked in small pieces that cut lines, chunk
sizes and frames apart (with a chunk extension and a trailer), or with a
Content-Length, or up to the close.  Appends one JSON line per request to LOG
(method, path, authorization, body), "streaming q7" when the endless answer
starts and "closed q7" when its client went away.  With TOKEN, a request
without "Authorization: Bearer TOKEN" gets 401.  Stops by itself after two
minutes.
"""
import json
import os
import socket
import ssl
import sys
import threading
import time

PORT, LOG = int(sys.argv[1]), sys.argv[2]
TOKEN = sys.argv[3] if len(sys.argv) > 3 else ""
REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found"}
lock = threading.Lock()

# The rows of tests/connect_client.sh's reference query, as the server
# writes them: integers without '.', reals with the shortest digits and a '.'
# or an exponent, a BLOB as {"blob": "hex"}.
TYPES = [
    '{"columns": ["i", "r", "t", "n", "b", "r2"]}',
    '{"row": [42, 2.5, "h\\u00e9llo \u2713", null, {"blob": "414243"}, 2.7]}',
    '{"row":[9007199254740993,2.5e+20,"a \\"q\\", b",null,{"blob":"414243"},2.5e+20]}',
    '{"row": [-7, 0.1, "", null, {"blob": "414243"}, 0.30000000000000004]}',
    '{"status": "ok"}',
]


def log(line):
    """Append one line to LOG."""
    with lock, open(LOG, "a") as f:
        f.write(line + "\n")


def read_request(c):
    """The request on c: (method, path, headers, body), or None."""
    data = b""
    while b"\r\n\r\n" not in data:
        got = c.recv(4096)
        if not got:
            return None
        data += got
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    n = int(headers.get("content-length", "0"))
    while len(body) < n:
        got = c.recv(4096)
        if not got:
            break
        body += got
    return method, path, headers, body[:n].decode()


def head(c, status, extra=""):
    """Send the status line and headers (extra: more header lines)."""
    c.sendall(("HTTP/1.1 %d %s\r\nContent-Type: application/x-ndjson\r\n%s\r\n"
               % (status, REASONS[status], extra)).encode())


def body_of(lines):
    return "".join(line + "\n" for line in lines).encode()


def send_chunked(c, lines, end=True):
    """lines as chunks of 1, 2, 3, 5, ... bytes, each frame sent in two
    writes cut at a different place; end: the last chunk and a trailer."""
    data, sizes, i, k = body_of(lines), [1, 2, 3, 5, 8, 13, 21, 34], 0, 0
    while i < len(data):
        part = data[i:i + sizes[k % len(sizes)]]
        i, k = i + len(part), k + 1
        size = ("%X" if k % 2 else "%x") % len(part)
        frame = (size + (";x=y" if k == 3 else "") + "\r\n").encode() + part + b"\r\n"
        cut = k % len(frame) or 1
        c.sendall(frame[:cut])
        time.sleep(0.002)
        c.sendall(frame[cut:])
    if end:
        c.sendall(b"0\r\nX-Trailer: 1\r\n\r\n")


def position(sql, at):
    """Line and column (1-based) of offset at in sql."""
    line = sql.count("\n", 0, at) + 1
    return line, at - (sql.rfind("\n", 0, at) + 1) + 1


def answer(c, sql):
    """Answer one POST /query for sql."""
    if "nosuch(" in sql:  # an error found before anything runs
        line, col = position(sql, sql.index("nosuch(") + 7)
        body = json.dumps({"error": 'near ";": syntax error', "line": line, "column": col})
        head(c, 400, "Content-Length: %d\r\n" % len(body))
        c.sendall(body.encode())
    elif "types;" in sql:
        head(c, 200, "Transfer-Encoding: chunked\r\n")
        send_chunked(c, TYPES)
    elif "SELECT length;" in sql:
        data = body_of(TYPES)
        head(c, 200, "Content-Length: %d\r\n" % len(data))
        c.sendall(data)
    elif "SELECT close;" in sql:
        head(c, 200, "Connection: close\r\n")
        c.sendall(body_of(TYPES))
    elif "SELECT two;" in sql:
        head(c, 200, "Transfer-Encoding: chunked\r\n")
        send_chunked(c, ['{"columns":["a"]}', '{"row":[1]}', '{"columns":["b","c"]}',
                         '{"row":["x",2]}', '{"status":"ok"}'])
    elif "INTO" in sql:
        head(c, 200, "Transfer-Encoding: chunked\r\n")
        send_chunked(c, ['{"started": ["q3", "q4"]}', '{"status": "ok"}'])
    elif "SELECT fail;" in sql:
        head(c, 200, "Transfer-Encoding: chunked\r\n")
        send_chunked(c, ['{"columns":["a"]}', '{"row":[1]}',
                         '{"error": "division by zero", "line": 1, "column": 8}'])
    elif "garbage;" in sql:  # not the protocol
        head(c, 200, "Transfer-Encoding: chunked\r\n")
        send_chunked(c, ['{"columns":["a"]}', 'not json'])
    elif "SELECT cut;" in sql:  # the connection goes before the answer ends
        head(c, 200, "Transfer-Encoding: chunked\r\n")
        send_chunked(c, ['{"columns":["a"]}', '{"row":[1]}'], end=False)
    elif "SELECT slow;" in sql:  # a transient query that never ends
        head(c, 200, "Transfer-Encoding: chunked\r\n")
        send_chunked(c, ['{"query": "q7"}', '{"columns": ["n"]}'], end=False)
        log("streaming q7")
        try:
            for n in range(3000):
                send_chunked(c, ['{"row": [%d]}' % n], end=False)
                time.sleep(0.02)
            log("ended q7")
        except OSError:
            log("closed q7")
    else:  # echo: one row holding the body as it came
        head(c, 200, "Transfer-Encoding: chunked\r\n")
        send_chunked(c, ['{"columns":["sql"]}', json.dumps({"row": [sql]}), '{"status":"ok"}'])


def serve(c, tls):
    """One connection: one request, answered, then closed (tls: an
    SSLContext for the handshake first, or None)."""
    try:
        if tls:
            c.settimeout(10)
            c = tls.wrap_socket(c, server_side=True)
        req = read_request(c)
        if not req:
            return
        method, path, headers, body = req
        auth = headers.get("authorization", "")
        log(json.dumps({"method": method, "path": path, "auth": auth, "body": body}))
        if TOKEN and auth != "Bearer " + TOKEN:
            msg = b'{"error": "wrong token"}'
            head(c, 401, "Content-Length: %d\r\n" % len(msg))
            c.sendall(msg)
        elif method != "POST" or path != "/query":
            head(c, 404, "Content-Length: 0\r\n")
        else:
            answer(c, body)
    except OSError:
        pass
    finally:
        c.close()


def main():
    host = os.environ.get("FAKE_HOST", "127.0.0.1")
    s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, PORT))
    s.listen(8)
    tls = None
    if os.environ.get("FAKE_CERT"):
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(os.environ["FAKE_CERT"], os.environ["FAKE_KEY"])
    s.settimeout(1)
    print("listening", flush=True)
    until = time.time() + 120
    while time.time() < until:
        try:
            c, _ = s.accept()
        except socket.timeout:
            continue
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=serve, args=(c, tls), daemon=True).start()


main()
