-- Nexmark q18: the last bid of each bidder on each auction, a
-- deduplication (ROW_NUMBER() over the bidder and auction, latest first,
-- rank 1 kept).  The standard text as is: an incremental Top-1 per key
-- (op_topn) whose output is an updating stream, each new last bid a
-- -U of the one it replaces and a +U of itself (a key's last row written
-- is its result).
SELECT auction, bidder, price, channel, url, dateTime, extra
FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY bidder, auction ORDER BY dateTime DESC) AS rank_number
      FROM bid)
WHERE rank_number <= 1
INTO file('q18.jsonl', format => 'json');
