-- S3 on files: iris measurements as CSV lines in, the line plus the predicted
-- species out ("5.1,3.5,1.4,0.2,Iris-setosa").  The model is a random forest
-- (10 trees) fitted on the iris data with string labels, exported with
-- udf/export/sluice_export.py by sql-examples/gen_models.py; its classes are
-- the species names, so the label indexing of the original Spark pipeline
-- (StringIndexer ... IndexToString) is part of the model.  The columns are
-- read as TEXT so the line goes out exactly as it came in; the model reads
-- the numbers from the text.
CREATE MODEL iris FROM 'sql-examples/models/iris_rf.json';
SELECT sl || ',' || sw || ',' || pl || ',' || pw || ',' || predict_label(iris, sl, sw, pl, pw) AS line
FROM file('sql-examples/data/iris.csv', format => 'csv',
          columns => 'sl TEXT, sw TEXT, pl TEXT, pw TEXT')
INTO file('iris-out.csv', format => 'raw');
