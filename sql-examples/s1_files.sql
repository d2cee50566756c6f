-- S1 on files: score the seed's churn model (scikit-learn LogisticRegression
-- fitted on the S1 training set, G1..G10 -> label) for every record.
--
-- pred is predict_proba(x)[0][0], the probability of class 0, exactly what the
-- seed's UDF returns: with the fitted intercept b and coefficients w,
-- P(class 0) = 1 / (1 + exp(b + w.x)) = 1 / (1 + exp(-(w0 + w1*G1 + ...)))
-- where w0 = -b and wi = -coef_i.  (Once models land, CREATE MODEL loads the
-- exported estimator instead of spelling its weights out.)
SELECT User_ID,
       1 / (1 + exp(-(2.1937900610372947
                      + 0.4351322413018128 * G1 - 0.33230369984873015 * G2
                      - 0.39772575065556903 * G3 + 0.41225819186667984 * G4
                      - 0.33705681747420124 * G5 + 0.1756879807828912 * G6
                      + 0.3662090690154342 * G7 + 0.48644977782885424 * G8
                      - 0.8838712859892756 * G9 - 1.7080603769472837 * G10))) AS pred
FROM file('sql-examples/data/dsp.jsonl', format => 'json')
INTO file('preds.jsonl', format => 'json');
