-- S6, streaming k-means: centres learnt from a stream of clustered points,
-- older batches forgotten with a decay factor (Spark's StreamingKMeans).
-- Start the point server first:
--   python3 sql-examples/s6_gen.py --clusters 3 --features 2
-- then:  build/sluice run sql-examples/s6_kmeans.sql
-- Each 10 seconds of event time is one mini-batch.  decay => 0.5: each
-- batch counts half as much as the one after it (0: only the newest batch,
-- 1: everything since the start).  Ctrl-C stops it.
CREATE STREAM points (label REAL, features TEXT, ts INTEGER)
  FROM socket('127.0.0.1:9999', format => 'csv', delimiter => char(9))
  WATERMARK ts - INTERVAL '1' SECOND;

-- 3 random initial centres (seeded), 2 features
CREATE MODEL clusters TYPE kmeans_stream WITH (k => 3, decay => 0.5, features => 2, seed => 42);

-- the centres and their weights after each batch
SELECT window_end AS time, count(*) AS n,
       train(clusters, features) -> '$.centers' AS centers
FROM points
GROUP BY TUMBLE(ts, INTERVAL '10' SECOND)
INTO stdout;

-- how many points of each batch went to each cluster (with the centres
-- from before the batch), to a file
SELECT window_end AS time, predict(clusters, features) AS cluster, count(*) AS n
FROM points
GROUP BY predict(clusters, features), TUMBLE(ts, INTERVAL '10' SECOND)
INTO file('s6-clusters.jsonl', format => 'json');
