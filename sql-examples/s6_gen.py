#!/usr/bin/env python3
"""s6_gen.py - the labelled-point server of scenario S6 (online learning).

Like the seed's StreamingModelProducer: a fixed random weight vector w (100
standard normal features) and intercept (10 times a standard normal); every
second a random number (0 to 99) of points x (standard normal features) with
label y = w . x + intercept, sent to each client that connects as lines
`label<TAB>f1,f2,...,f100`.  sluice windows on event time, so each line
also carries its time in milliseconds since the epoch as a third field:
`label<TAB>f1,...,f100<TAB>ts` (the S5 generator does the same).

With --clusters K it serves points for streaming k-means instead: K fixed
centres (standard normal times 5), each point a centre plus a standard
normal offset, as `0<TAB>f1,...,fD<TAB>ts` (label 0).

usage: s6_gen.py [--port 9999] [--seconds N] [--max-events 100]
                 [--features 100] [--clusters K] [--seed S] [--fast]
                 [--start-ms T] [--log FILE] [--truth FILE]
  --seconds N   send N seconds of points, then close (default: forever)
  --fast        do not wait a real second between seconds (simulated time;
                with --seed the output is the same every run)
  --truth FILE  write the generating weights and intercept (or the
                centres) to FILE as JSON
Prints "listening on 127.0.0.1:PORT" once it listens.
"""
import argparse
import json
import random
import socket
import time


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=9999)
    ap.add_argument("--seconds", type=int)
    ap.add_argument("--max-events", type=int, default=100)
    ap.add_argument("--features", type=int, default=100)
    ap.add_argument("--clusters", type=int, default=0)
    ap.add_argument("--seed", type=int)
    ap.add_argument("--fast", action="store_true")
    ap.add_argument("--start-ms", type=int)
    ap.add_argument("--log")
    ap.add_argument("--truth")
    args = ap.parse_args()
    rnd = random.Random(args.seed)
    d = args.features
    if args.clusters:
        centres = [[5 * rnd.gauss(0, 1) for _ in range(d)] for _ in range(args.clusters)]
        truth = {"centers": centres}
    else:
        w = [rnd.gauss(0, 1) for _ in range(d)]
        intercept = rnd.gauss(0, 1) * 10
        truth = {"weights": w, "intercept": intercept}
    if args.truth:
        with open(args.truth, "w") as f:
            json.dump(truth, f)

    def point():
        if args.clusters:
            c = rnd.choice(centres)
            x = [round(c[j] + rnd.gauss(0, 1), 6) for j in range(d)]
            return 0.0, x
        x = [round(rnd.gauss(0, 1), 6) for _ in range(d)]
        return sum(wj * xj for wj, xj in zip(w, x)) + intercept, x

    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", args.port))
    srv.listen(1)
    print("listening on 127.0.0.1:%d" % args.port, flush=True)
    log = open(args.log, "w") if args.log else None
    conn, _ = srv.accept()
    t0 = args.start_ms if args.start_ms is not None else int(time.time() * 1000)
    second = 0
    while args.seconds is None or second < args.seconds:
        if not args.fast:
            time.sleep(1.0)
        lines = []
        for _ in range(rnd.randrange(args.max_events)):
            y, x = point()
            ts = t0 + second * 1000 + rnd.randrange(1000)
            lines.append("%r\t%s\t%d\n" % (y, ",".join(repr(v) for v in x), ts))
        data = "".join(lines)
        try:
            conn.sendall(data.encode())
        except OSError:
            break
        if log:
            log.write(data)
        second += 1
    conn.close()
    if log:
        log.close()


if __name__ == "__main__":
    main()
