-- Nexmark q14: calculation - the bids priced (0.908 * price) between 1M and
-- 50M, with the time of day of the bid and the count of 'c' in extra.  The
-- original calls a Java UDF count_char(extra, 'c'); here it is the same
-- count said in SQL (the length of extra minus that of extra without 'c').
-- price is REAL (the original's DECIMAL(23, 3)).
SELECT
    auction,
    bidder,
    0.908 * price AS price,
    CASE
        WHEN HOUR(dateTime) >= 8 AND HOUR(dateTime) <= 18 THEN 'dayTime'
        WHEN HOUR(dateTime) <= 6 OR HOUR(dateTime) >= 20 THEN 'nightTime'
        ELSE 'otherTime'
    END AS bidTimeType,
    dateTime,
    extra,
    length(extra) - length(replace(extra, 'c', '')) AS c_counts
FROM bid
WHERE 0.908 * price > 1000000 AND 0.908 * price < 50000000
INTO file('q14.jsonl', format => 'json');
