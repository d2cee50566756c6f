-- Nexmark q9: the winning bid of each auction, the highest of the bids made
-- between its start and its expiry (on a tie, the earliest).  The join is
-- the standard text's: each auction meets the bids of its id whose time is
-- within [A.dateTime, A.expires], a bound per row (the join keeps an auction
-- until the bids' watermark passes its expiry).  The standard text then keeps
-- ROW_NUMBER() OVER (PARTITION BY A.id ORDER BY B.price DESC, B.dateTime)
-- <= 1; this one takes the bid's columns with max_by per auction (on a tie
-- the first joined: bids come in time order).  A GROUP BY without a window
-- over a stream writes each batch's changed groups (an upsert stream: an
-- auction's last row is its winner).
SELECT A.id, A.itemName, A.description, A.initialBid, A.reserve, A.dateTime, A.expires,
       A.seller, A.category, A.extra,
       max_by(B.auction, B.price) AS auction, max_by(B.bidder, B.price) AS bidder,
       max(B.price) AS price, max_by(B.dateTime, B.price) AS bid_dateTime,
       max_by(B.extra, B.price) AS bid_extra
FROM auction A, bid B
WHERE A.id = B.auction AND B.dateTime BETWEEN A.dateTime AND A.expires
GROUP BY A.id, A.itemName, A.description, A.initialBid, A.reserve, A.dateTime, A.expires,
         A.seller, A.category, A.extra
INTO file('q9.jsonl', format => 'json');
