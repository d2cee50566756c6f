-- S1 over Kafka: the seed's pipeline.  Records arrive on topic `dsp` as JSON
-- {"G1": 0|1, ..., "G10": 0|1, "User_ID": "..."}, each is scored with the
-- churn model (P(class 0) of the fitted LogisticRegression, as the seed's UDF
-- returns), and {"User_ID": ..., "pred": ...} goes to topic `preds`.
-- Run it against a broker that has topic dsp: sluice --brokers HOST:PORT run
-- sql-examples/s1_kafka.sql (scripts/demo.sh fills one on `sluice broker
-- --topics dsp:3,preds:1`).  stop => 'end' reads what is on the topic now and ends;
-- without it the query runs until Ctrl-C.  Offsets are committed to the
-- group only after the outputs are delivered (at-least-once).
CREATE MODEL churn FROM 'sql-examples/models/churn_lr.json';
SELECT User_ID,
       predict_proba(churn, G1, G2, G3, G4, G5, G6, G7, G8, G9, G10, 0) AS pred
FROM kafka('dsp', format => 'json', offset => 'committed', stop => 'end')
INTO kafka('preds', format => 'json');
