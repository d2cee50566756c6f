-- Nexmark q8: people who created an account and an auction in the same
-- 10 s window: the standard text, two TUMBLE aggregates (persons, sellers)
-- joined on the person and the window bounds (the join's time bound: each
-- side keeps a window or two).  q8_group.sql says it as one GROUP BY.
SELECT P.id, P.name, P.starttime
FROM (
  SELECT id, name, window_start AS starttime, window_end AS endtime
  FROM TABLE(TUMBLE(TABLE person, DESCRIPTOR(dateTime), INTERVAL '10' SECOND))
  GROUP BY id, name, window_start, window_end
) P
JOIN (
  SELECT seller, window_start AS starttime, window_end AS endtime
  FROM TABLE(TUMBLE(TABLE auction, DESCRIPTOR(dateTime), INTERVAL '10' SECOND))
  GROUP BY seller, window_start, window_end
) A
ON P.id = A.seller AND P.starttime = A.starttime AND P.endtime = A.endtime
INTO file('q8.jsonl', format => 'json');
