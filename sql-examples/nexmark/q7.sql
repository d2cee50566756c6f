-- Nexmark q7: the highest bid of each 10 s window.  The original joins the
-- window's maximum back to the bids (an interval join, keeping ties);
-- sluice takes the bid with max_by (on a tie, the first seen).
SELECT window_start, window_end, max(price) AS price, max_by(auction, price) AS auction,
       max_by(bidder, price) AS bidder
FROM bid GROUP BY TUMBLE(dateTime, INTERVAL '10' SECOND)
INTO file('q7.jsonl', format => 'json');
