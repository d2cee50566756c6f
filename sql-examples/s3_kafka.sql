-- S3 over Kafka: CSV iris lines ("5.1,3.5,1.4,0.2") on topic
-- iris-classifier-input; the line plus the forest's species
-- ("5.1,3.5,1.4,0.2,Iris-setosa") to iris-classifier-output.  See s3_iris.sql
-- for the model.  stop => 'end' reads what is on the topic now and ends;
-- without it the query runs until Ctrl-C.
CREATE MODEL iris FROM 'sql-examples/models/iris_rf.json';
SELECT sl || ',' || sw || ',' || pl || ',' || pw || ',' || predict_label(iris, sl, sw, pl, pw) AS line
FROM kafka('iris-classifier-input', format => 'csv',
           columns => 'sl TEXT, sw TEXT, pl TEXT, pw TEXT', offset => 'committed', stop => 'end')
INTO kafka('iris-classifier-output', format => 'raw');
