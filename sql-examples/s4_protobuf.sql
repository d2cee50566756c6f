-- S4 over Kafka with Protobuf, as in the article (seed 003): PredictRequest
-- messages {recordID, featuresVector: repeated float} on topic
-- fraud-pb-input are scored with the XGBoost model once (the named stream
-- `scored`) and split into PredictResponse messages {recordID, score}:
-- score > 0.5 to topic suspicious-pb, the rest to topic normal-pb.  The
-- schema is the .proto itself, read at run time (docs/protobuf.md).
CREATE MODEL fraud FROM 'sql-examples/models/fraud.xgb.json';
CREATE STREAM scored AS
  SELECT recordID, fraud(featuresVector) AS score
  FROM kafka('fraud-pb-input', format => 'protobuf', schema => 'sql-examples/predict.proto',
             message => 'fraud.PredictRequest', offset => 'committed', stop => 'end');
SELECT recordID, score FROM scored WHERE score > 0.5
  INTO kafka('suspicious-pb', format => 'protobuf', schema => 'sql-examples/predict.proto',
             message => 'fraud.PredictResponse');
SELECT recordID, score FROM scored WHERE score <= 0.5
  INTO kafka('normal-pb', format => 'protobuf', schema => 'sql-examples/predict.proto',
             message => 'fraud.PredictResponse');
