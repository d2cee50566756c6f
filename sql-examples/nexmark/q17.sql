-- Nexmark q17: auction statistics per day - bids per price range and the
-- prices (Flink's text).  avg is REAL here (Flink's avg of a BIGINT is a
-- BIGINT, truncated).  An upsert stream as q15: the last row of an
-- (auction, day) is its result.
SELECT
    auction,
    DATE_FORMAT(dateTime, 'yyyy-MM-dd') AS day,
    count(*) AS total_bids,
    count(*) FILTER (WHERE price < 10000) AS rank1_bids,
    count(*) FILTER (WHERE price >= 10000 AND price < 1000000) AS rank2_bids,
    count(*) FILTER (WHERE price >= 1000000) AS rank3_bids,
    min(price) AS min_price,
    max(price) AS max_price,
    avg(price) AS avg_price,
    sum(price) AS sum_price
FROM bid
GROUP BY auction, DATE_FORMAT(dateTime, 'yyyy-MM-dd')
INTO file('q17.jsonl', format => 'json');
