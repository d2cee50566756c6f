-- Nexmark q12: how many bids each bidder makes in a fixed window of
-- processing time (10 s): Flink's text, the view B giving each bid the
-- time it is processed (PROCTIME()), the window TVF over that column.  A
-- window over a PROCTIME() column closes on the task's clock; the counts
-- depend on how fast the events are read (the test checks what does not:
-- every bid is counted once, in a window of the clock around the run).
CREATE VIEW B AS SELECT *, PROCTIME() AS p_time FROM bid;
SELECT bidder, count(*) AS bid_count, window_start AS starttime, window_end AS endtime
FROM TABLE(TUMBLE(TABLE B, DESCRIPTOR(p_time), INTERVAL '10' SECOND))
GROUP BY bidder, window_start, window_end
INTO file('q12.jsonl', format => 'json');
