-- S4 over Kafka: records {recordID, featuresVector} on topic fraud-input are
-- scored with the XGBoost model once (the named stream `scored`) and split:
-- score > 0.5 to topic suspicious, the rest to topic normal.  stop => 'end'
-- reads what is on the topic now and ends; without it the query runs on.
CREATE MODEL fraud FROM 'sql-examples/models/fraud.xgb.json';
CREATE STREAM scored AS
  SELECT recordID, fraud(featuresVector) AS score
  FROM kafka('fraud-input', format => 'json', offset => 'committed', stop => 'end');
SELECT recordID, score FROM scored WHERE score > 0.5 INTO kafka('suspicious', format => 'json');
SELECT recordID, score FROM scored WHERE score <= 0.5 INTO kafka('normal', format => 'json');
