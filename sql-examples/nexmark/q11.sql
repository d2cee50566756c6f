-- Nexmark q11: how many bids each user makes in a session of activity: a
-- SESSION window of 10 s gap per bidder (Flink's SESSION_START/SESSION_END
-- are window_start and window_end; a session is [first bid, last bid + gap)).
SELECT bidder, count(*) AS bid_count, window_start AS starttime, window_end AS endtime
FROM bid
GROUP BY bidder, SESSION(dateTime, INTERVAL '10' SECOND)
INTO file('q11.jsonl', format => 'json');
