-- S4 on files: records {recordID, featuresVector: [10 numbers]} are scored
-- with an XGBoost binary classifier (saved by xgboost as JSON, read as is);
-- the named stream `scored` is computed once and fanned out: score > 0.5 to
-- `suspicious`, the rest to `normal`.
CREATE MODEL fraud FROM 'sql-examples/models/fraud.xgb.json';
CREATE STREAM scored AS
  SELECT recordID, fraud(featuresVector) AS score
  FROM file('sql-examples/data/fraud.jsonl', format => 'json');
SELECT recordID, score FROM scored WHERE score > 0.5 INTO file('suspicious.jsonl', format => 'json');
SELECT recordID, score FROM scored WHERE score <= 0.5 INTO file('normal.jsonl', format => 'json');
