-- Nexmark q13: bids joined with a side input by a lookup in processing
-- time (Flink's FOR SYSTEM_TIME AS OF the PROCTIME() column): side_input.csv
-- holds key,value lines (the benchmark's side_input.txt), read into a table
-- when the script runs; each bid looks up the row of auction mod 10000.
CREATE TABLE side_input AS
  SELECT * FROM file('side_input.csv', format => 'csv', columns => 'key INTEGER, value TEXT');
SELECT B.auction, B.bidder, B.price, B.dateTime, S.value
FROM (SELECT *, PROCTIME() AS p_time FROM bid) B
JOIN side_input FOR SYSTEM_TIME AS OF B.p_time AS S
ON mod(B.auction, 10000) = S.key
INTO file('q13.jsonl', format => 'json');
