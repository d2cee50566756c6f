-- Nexmark q7 with max_by (q7.sql is the standard text): the highest bid of
-- each 10 s window.  The original joins the window's maximum back to the
-- bids (an interval join, keeping ties); this variant takes the bid with
-- max_by (on a tie, the first seen).
SELECT window_start, window_end, max(price) AS price, max_by(auction, price) AS auction,
       max_by(bidder, price) AS bidder
FROM bid GROUP BY TUMBLE(dateTime, INTERVAL '10' SECOND)
INTO file('q7_maxby.jsonl', format => 'json');
