#!/usr/bin/env python3
"""gen.py - a Nexmark event generator (the standard streaming benchmark's
event model), writing JSON lines for sluice.

usage: gen.py OUT.jsonl N [--persons PERSONS.jsonl] [--seed S] [--rate R]
              [--base-ms T]

Follows the Nexmark generator (GeneratorConfig, Person/Auction/BidGenerator
of nexmark-flink, as summarised in shared/nexmark/README.md):
  - event n is a person when n % 50 == 0, an auction when n % 50 in 1..3,
    a bid otherwise (1 : 3 : 46);
  - event time = base + n / rate (rate 10,000 events/s), in order;
  - person and auction ids are sequential from 1000; categories 10..14;
  - prices log-uniform: round(10^(U*6) * 100);
  - hot auctions / sellers / bidders with ratios 2 / 4 / 4 (the current
    hundred-block of ids), otherwise a recent one (the last 100 auctions,
    the last 1000 people, plus a lead of 10 not yet created);
  - channels: half one of Google/Facebook/Baidu/Apple, else channel-<k>;
    states, cities and names from the Nexmark lists.
Differences, on purpose: one random stream for all events (Nexmark seeds a
java.util.Random per event), no `extra` padding (the field is empty), bidder
ids offset by 1000 once (nexmark-flink adds it twice), auction length
uniform in [1 s, 20 s).  The wire form is flat: one object per event with
event_type (0 person, 1 auction, 2 bid) and that kind's fields.
--persons also writes every person to a file of its own (q3's table).
"""
import argparse
import json
import random
import sys

PERSON, AUCTION, BID = 0, 1, 2
PROPORTION = 50
FIRST_ID = 1000
STATES = ["AZ", "CA", "ID", "OR", "WA", "WY"]
CITIES = ["Phoenix", "Los Angeles", "San Francisco", "Boise", "Portland", "Bend", "Redmond",
          "Seattle", "Kent", "Cheyenne"]
FIRST = ["Peter", "Paul", "Luke", "John", "Saul", "Vicky", "Kate", "Julie", "Sarah", "Deiter",
         "Walter"]
LAST = ["Shultz", "Abrams", "Spencer", "White", "Bartels", "Walton", "Smith", "Jones", "Noris"]
CHANNELS = ["Google", "Facebook", "Baidu", "Apple"]


def last_person(n):
    """Base-0 id of the last person created at or before event n."""
    return n // PROPORTION


def last_auction(n):
    """Base-0 id of the last auction created at or before event n."""
    epoch, off = divmod(n, PROPORTION)
    if off < 1:
        epoch, off = epoch - 1, 2
    elif off >= 4:
        off = 2
    else:
        off -= 1
    return epoch * 3 + off


def next_person(n, rnd):
    people = last_person(n) + 1
    active = min(people, 1000)
    return people - active + rnd.randrange(active + 10)


def next_auction(n, rnd):
    hi = last_auction(n)
    lo = max(hi - 100, 0)
    return lo + rnd.randrange(hi - lo + 1 + 10)


def next_price(rnd):
    return round(10 ** (rnd.random() * 6) * 100)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out")
    ap.add_argument("n", type=int)
    ap.add_argument("--persons")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--rate", type=int, default=10000)
    ap.add_argument("--base-ms", type=int, default=1700000000000)
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    out = open(a.out, "w")
    persons = open(a.persons, "w") if a.persons else None
    dumps = json.JSONEncoder(separators=(", ", ": ")).encode
    for n in range(a.n):
        t = a.base_ms + n * 1000 // a.rate
        kind = n % PROPORTION
        if kind == 0:
            name = "%s %s" % (rnd.choice(FIRST), rnd.choice(LAST))
            ev = {"event_type": PERSON, "id": last_person(n) + FIRST_ID, "name": name,
                  "emailAddress": "%s@%s.com" % (name.split()[0].lower(), rnd.choice(LAST).lower()),
                  "creditCard": " ".join("%04d" % rnd.randrange(10000) for _ in range(4)),
                  "city": rnd.choice(CITIES), "state": rnd.choice(STATES), "dateTime": t,
                  "extra": ""}
            if persons:
                persons.write(dumps(ev) + "\n")
        elif kind < 4:
            if rnd.randrange(4) > 0:
                seller = last_person(n) // 100 * 100
            else:
                seller = next_person(n, rnd)
            initial = next_price(rnd)
            ev = {"event_type": AUCTION, "id": last_auction(n) + FIRST_ID,
                  "itemName": "item%d" % rnd.randrange(100000), "description": "d%d" % rnd.randrange(1000),
                  "initialBid": initial, "reserve": initial + next_price(rnd), "dateTime": t,
                  "expires": t + 1000 + rnd.randrange(19000), "seller": seller + FIRST_ID,
                  "category": 10 + rnd.randrange(5), "extra": ""}
        else:
            if rnd.randrange(2) > 0:
                auction = last_auction(n) // 100 * 100
            else:
                auction = next_auction(n, rnd)
            if rnd.randrange(4) > 0:
                bidder = last_person(n) // 100 * 100 + 1
            else:
                bidder = next_person(n, rnd)
            if rnd.randrange(2):
                ch = CHANNELS[rnd.randrange(4)]
                url = "https://www.nexmark.com/%s/item.htm?query=1" % ch.lower()
            else:
                k = rnd.randrange(10000)
                ch = "channel-%d" % k
                url = "https://www.nexmark.com/item.htm?query=1&channel_id=%d" % k
            ev = {"event_type": BID, "auction": auction + FIRST_ID, "bidder": bidder + FIRST_ID,
                  "price": next_price(rnd), "channel": ch, "url": url, "dateTime": t, "extra": ""}
        out.write(dumps(ev) + "\n")
    out.close()
    if persons:
        persons.close()


if __name__ == "__main__":
    sys.exit(main())
