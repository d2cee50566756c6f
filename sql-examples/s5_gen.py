#!/usr/bin/env python3
"""s5_gen.py - the purchase event server of scenario S5.

Like the seed's producer (Spark Streaming's PageViewGenerator pattern): it
listens on a TCP port and, to each client that connects, sends every second
a random number (0 to 5) of purchase lines `user,product,price`, with users
from 20 names and products from the seed's four with their prices.  sluice
uses event time, so each line also carries its time in milliseconds since
the epoch as a fourth field: `Michael,Headphones,5.49,1700000000123`.

usage: s5_gen.py [--port 9999] [--seconds N] [--seed S] [--fast]
                 [--start-ms T] [--log FILE]
  --seconds N  send N seconds of events, then close the connection (default:
               forever)
  --fast       do not wait a real second between seconds (simulated time;
               with --seed the output is the same every run)
  --start-ms   event time of the first second (default: now)
  --log FILE   also write every line sent to FILE (for tests)
Prints "listening on 127.0.0.1:PORT" once it listens.
"""
import argparse
import random
import socket
import sys
import time

NAMES = ["Michael", "Frank", "Eric", "Malinda", "James", "Doug", "Juan", "Richard", "Janet",
         "Gloria", "Ann", "Bob", "Carol", "Dennis", "Elena", "Fiona", "George", "Hannah",
         "Ivan", "Julia"]
PRODUCTS = [("iPhone Cover", 9.99), ("Headphones", 5.49), ("Samsung Galaxy Cover", 8.95),
            ("iPad Cover", 7.49)]
MAX_EVENTS = 6  # 0..5 a second, as the seed's random.nextInt(MaxEvents)


def serve_one(conn, args, rnd, log):
    """Send the events to one client; returns when done or when it leaves."""
    t = args.start_ms if args.start_ms is not None else int(time.time() * 1000)
    second = 0
    while args.seconds is None or second < args.seconds:
        if not args.fast:
            time.sleep(1.0)
        lines = []
        for _ in range(rnd.randrange(MAX_EVENTS)):
            product, price = rnd.choice(PRODUCTS)
            user = rnd.choice(NAMES)
            ts = t + second * 1000 + rnd.randrange(1000)
            lines.append("%s,%s,%s,%d\n" % (user, product, price, ts))
        data = "".join(lines).encode()
        try:
            conn.sendall(data)
        except OSError:
            return
        if log:
            log.write(data.decode())
            log.flush()
        second += 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=9999)
    ap.add_argument("--seconds", type=int)
    ap.add_argument("--seed", type=int)
    ap.add_argument("--fast", action="store_true")
    ap.add_argument("--start-ms", type=int)
    ap.add_argument("--log")
    args = ap.parse_args()
    rnd = random.Random(args.seed)
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", args.port))
    srv.listen(1)
    print("listening on 127.0.0.1:%d" % srv.getsockname()[1], flush=True)
    log = open(args.log, "w") if args.log else None
    while True:
        conn, _ = srv.accept()
        serve_one(conn, args, rnd, log)
        conn.close()
        if args.seconds is not None:
            break


if __name__ == "__main__":
    sys.exit(main())
