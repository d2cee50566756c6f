-- Nexmark q5: hot items - the auctions with the most bids in each 10 s
-- window, every 2 s, ties kept: the standard text.  The bids counted per
-- auction and HOP window are joined with each window's maximum, itself an
-- aggregate grouped by the window bounds of the counts (a cascaded window
-- aggregate: its groups are final once a later window comes), on the window
-- bounds (the join's time bound: each side's bounds never go down, so it
-- keeps a few windows only).  q5_topk.sql says it with top_k.
SELECT AuctionBids.auction, AuctionBids.num
FROM (
  SELECT auction, count(*) AS num, window_start AS starttime, window_end AS endtime
  FROM TABLE(HOP(TABLE bid, DESCRIPTOR(dateTime), INTERVAL '2' SECOND, INTERVAL '10' SECOND))
  GROUP BY auction, window_start, window_end
) AS AuctionBids
JOIN (
  SELECT max(CountBids.num) AS maxn, CountBids.starttime, CountBids.endtime
  FROM (
    SELECT count(*) AS num, window_start AS starttime, window_end AS endtime
    FROM TABLE(HOP(TABLE bid, DESCRIPTOR(dateTime), INTERVAL '2' SECOND, INTERVAL '10' SECOND))
    GROUP BY auction, window_start, window_end
  ) AS CountBids
  GROUP BY CountBids.starttime, CountBids.endtime
) AS MaxBids
ON AuctionBids.starttime = MaxBids.starttime AND AuctionBids.endtime = MaxBids.endtime AND
   AuctionBids.num >= MaxBids.maxn
INTO file('q5.jsonl', format => 'json');
