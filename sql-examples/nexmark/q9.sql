-- Nexmark q9: the winning bid of each auction, the highest of the bids made
-- between its start and its expiry (on a tie, the earliest): the standard
-- text.  The join keeps each auction until the bids' watermark passes its
-- expiry (a time bound per row); ROW_NUMBER() ... <= 1 over it is an
-- incremental Top-1 per auction whose changes (a better bid replacing the
-- winner) are an updating stream: the file gets each auction's winners as
-- they come, the last one final.  q9_maxby.sql says it with max_by.
SELECT
    id, itemName, description, initialBid, reserve, dateTime, expires, seller, category, extra,
    auction, bidder, price, bid_dateTime, bid_extra
FROM (
   SELECT A.*, B.auction, B.bidder, B.price, B.dateTime AS bid_dateTime, B.extra AS bid_extra,
     ROW_NUMBER() OVER (PARTITION BY A.id ORDER BY B.price DESC, B.dateTime ASC) AS rownum
   FROM auction A, bid B
   WHERE A.id = B.auction AND B.dateTime BETWEEN A.dateTime AND A.expires
)
WHERE rownum <= 1
INTO file('q9.jsonl', format => 'json');
