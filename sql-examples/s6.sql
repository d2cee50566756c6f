-- S6: online learning on a stream, two models compared as they learn.
-- Start the point server first:  python3 sql-examples/s6_gen.py   (port 9999)
-- then:                           build/sluice run sql-examples/s6.sql
-- Lines are `label<TAB>f1,...,f100<TAB>ts`: the seed's label and 100
-- features, plus the event time in ms that the generator adds.  Every
-- second of event time is one mini-batch: each model's error on it (scored
-- with the model as it was before this batch: test, then train), then one
-- update of each (Spark's StreamingLinearRegressionWithSGD, one iteration).
-- The model with step 0.01 converges; the one with step 1.0 diverges (its
-- MSE overflows to NULL after a few minutes).  Why batches of one second:
-- one SGD step with step 1.0 diverges when a batch has fewer points than
-- features (the generator sends 0-99 a second, for 100 features); over the
-- seed's 10-second batches (about 500 points) it would converge as well.
-- Ctrl-C stops it.
CREATE STREAM points (label REAL, features TEXT, ts INTEGER)
  FROM socket('127.0.0.1:9999', format => 'csv', delimiter => char(9))
  WATERMARK ts - INTERVAL '1' SECOND;

-- zero initial weights for the 100 features, as the seed's setInitialWeights
CREATE MODEL model1 TYPE linear_sgd WITH (features => 100, iterations => 1, step => 0.01);
CREATE MODEL model2 TYPE linear_sgd WITH (features => 100, iterations => 1, step => 1.0);

SELECT window_end AS time, count(*) AS n,
       avg(power(predict(model1, features) - label, 2)) AS mse1,
       sqrt(avg(power(predict(model1, features) - label, 2))) AS rmse1,
       avg(power(predict(model2, features) - label, 2)) AS mse2,
       sqrt(avg(power(predict(model2, features) - label, 2))) AS rmse2,
       train(model1, label, features) ->> '$.version' AS version1,
       train(model2, label, features) ->> '$.version' AS version2
FROM points
GROUP BY TUMBLE(ts, INTERVAL '1' SECOND);
