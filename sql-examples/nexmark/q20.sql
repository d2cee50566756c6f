-- Nexmark q20: bids of category-10 auctions with their auction's columns:
-- a join of two unbounded streams on the key alone (every bid with its
-- auction whichever came first).  The second dateTime and extra are renamed
-- (Flink's result names them auction_dateTime and auction_extra too).
SELECT auction, bidder, price, channel, url, b.dateTime, b.extra,
       itemName, description, initialBid, reserve, a.dateTime AS auction_dateTime, expires,
       seller, category, a.extra AS auction_extra
FROM bid AS b INNER JOIN auction AS a ON b.auction = a.id
WHERE a.category = 10
INTO file('q20.jsonl', format => 'json');
