-- Nexmark q0: pass-through (the cost of reading and writing the bids).
SELECT auction, bidder, price, dateTime, extra FROM bid INTO file('q0.jsonl', format => 'json');
