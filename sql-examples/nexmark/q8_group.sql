-- Nexmark q8 as one GROUP BY (q8.sql is the standard text): people who
-- created an account and an auction in the same 10 s window.  The original
-- joins two windowed aggregates (persons, auctions) on (id, window); on the
-- one event stream this is a single GROUP BY on the person (a person's id,
-- an auction's seller) and the window, keeping the groups that saw both
-- kinds.
SELECT CASE WHEN event_type = 0 THEN id ELSE seller END AS id, max(name) AS name,
       window_start, window_end
FROM events WHERE event_type IN (0, 1)
GROUP BY CASE WHEN event_type = 0 THEN id ELSE seller END, TUMBLE(dateTime, INTERVAL '10' SECOND)
HAVING count(*) FILTER (WHERE event_type = 0) > 0 AND count(*) FILTER (WHERE event_type = 1) > 0
INTO file('q8_group.jsonl', format => 'json');
