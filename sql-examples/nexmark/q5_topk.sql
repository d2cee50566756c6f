-- Nexmark q5 with top_k (q5.sql is the standard text): hot items - the
-- auction with the most bids in each 10 s window, every 2 s.  The original
-- counts per (auction, window) and joins back to the windows' maximum
-- (keeping ties); this variant says it with top_k, which gives the most
-- frequent auction with its count (on a tie, the smallest id).
SELECT window_start, window_end, top_k(auction, 1) AS hot
FROM bid GROUP BY HOP(dateTime, INTERVAL '2' SECOND, INTERVAL '10' SECOND)
INTO file('q5_topk.jsonl', format => 'json');
