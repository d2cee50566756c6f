-- S5: streaming analytics and running state over a socket of purchases.
-- Start the event server first:  python3 sql-examples/s5_gen.py   (port 9999)
-- then:                           build/sluice run sql-examples/s5.sql
-- Lines are `user,product,price,ts` (ts: event time in ms, which the
-- generator adds to the seed's three fields); windows use event time, with
-- 2 seconds of allowed lateness.  Ctrl-C stops it.
CREATE STREAM purchases
  FROM socket('127.0.0.1:9999', format => 'csv',
              columns => 'user TEXT, product TEXT, price REAL, ts INTEGER')
  WATERMARK ts - INTERVAL '2' SECOND;

-- every 10 seconds: purchases, unique users, revenue, the most popular product
SELECT window_start, count(*) AS purchases, count(DISTINCT user) AS users,
       round(sum(price), 2) AS revenue, top_k(product, 1) AS most_popular
FROM purchases GROUP BY TUMBLE(ts, INTERVAL '10' SECOND)
INTO file('s5-batches.jsonl', format => 'json');

-- running per-user state (the seed's updateStateByKey): a changelog
SELECT user, count(*) AS purchases, round(sum(price), 2) AS revenue
FROM purchases GROUP BY user EMIT CHANGES
INTO file('s5-users.jsonl', format => 'json');

-- per user over the last 60 seconds, every 30 seconds
SELECT user, window_start, window_end, count(*) AS purchases, round(sum(price), 2) AS revenue
FROM purchases GROUP BY user, HOP(ts, INTERVAL '30' SECOND, INTERVAL '60' SECOND)
INTO file('s5-sliding.jsonl', format => 'json');
