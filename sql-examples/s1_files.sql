-- S1 on files: score the seed's churn model (scikit-learn LogisticRegression
-- fitted on the S1 training set, G1..G10 -> label) for every record.
--
-- The model is the fitted estimator exported with udf/export/sluice_export.py
-- (sql-examples/gen_models.py makes it).  pred is predict_proba(x)[0][0], the
-- probability of class 0, exactly what the seed's UDF returns;
-- churn(G1, ..., G10) would give P(class 1).
CREATE MODEL churn FROM 'sql-examples/models/churn_lr.json';
SELECT User_ID,
       predict_proba(churn, G1, G2, G3, G4, G5, G6, G7, G8, G9, G10, 0) AS pred
FROM file('sql-examples/data/dsp.jsonl', format => 'json')
INTO file('preds.jsonl', format => 'json');
