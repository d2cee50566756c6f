-- S1 over Kafka: the seed's pipeline.  Records arrive on topic `dsp` as JSON
-- {"G1": 0|1, ..., "G10": 0|1, "User_ID": "..."}, each is scored with the
-- churn model (P(class 0) of the fitted LogisticRegression, as the seed's UDF
-- returns), and {"User_ID": ..., "pred": ...} goes to topic `preds`.
-- Run it against a broker: sluice --brokers HOST:PORT run sql-examples/s1_kafka.sql
-- (or --dev-broker).  stop => 'end' reads what is on the topic now and ends;
-- without it the query runs until Ctrl-C.  Offsets are committed to the
-- group only after the outputs are delivered (at-least-once).
SELECT User_ID,
       1 / (1 + exp(-(2.1937900610372947
                      + 0.4351322413018128 * G1 - 0.33230369984873015 * G2
                      - 0.39772575065556903 * G3 + 0.41225819186667984 * G4
                      - 0.33705681747420124 * G5 + 0.1756879807828912 * G6
                      + 0.3662090690154342 * G7 + 0.48644977782885424 * G8
                      - 0.8838712859892756 * G9 - 1.7080603769472837 * G10))) AS pred
FROM kafka('dsp', format => 'json', offset => 'committed', stop => 'end')
INTO kafka('preds', format => 'json');
