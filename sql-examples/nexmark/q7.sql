-- Nexmark q7: the highest bids of each 10 s window, ties kept: the standard
-- text.  Each window's maximum price (a TUMBLE aggregate) is joined back to
-- the bids of the window: an interval join on the price, each bid's time
-- within the 10 s before its window's end.  q7_maxby.sql says it with max_by.
SELECT B.auction, B.price, B.bidder, B.dateTime, B.extra
FROM bid B
JOIN (
  SELECT MAX(price) AS maxprice, window_end AS dateTime
  FROM TABLE(TUMBLE(TABLE bid, DESCRIPTOR(dateTime), INTERVAL '10' SECOND))
  GROUP BY window_start, window_end
) B1
ON B.price = B1.maxprice
WHERE B.dateTime BETWEEN B1.dateTime - INTERVAL '10' SECOND AND B1.dateTime
INTO file('q7.jsonl', format => 'json');
