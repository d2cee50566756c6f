/* VECTOR values: a JSON array of numbers becomes a VECTOR;
   other arrays stay JSON text */
SELECT id, typeof(featuresVector) AS t, vector_len(featuresVector) AS n,
       featuresVector -> 1 AS second, vector_dot(featuresVector, featuresVector) AS sq,
       featuresVector AS v
FROM file('data/vectors.json') WHERE typeof(featuresVector) = 'vector';  -- trailing comment
SELECT id, typeof(featuresVector) AS t, featuresVector ->> 0 AS first
FROM file('data/vectors.json') WHERE typeof(featuresVector) <> 'vector';
SELECT vector(1, 2.5) AS v, vector('[3, 4]') AS w, vector_norm(vector('[3, 4]')) AS norm;
-- Spark's vector text: comma lists with or without brackets (correctly rounded, as strtod)
SELECT vector('1,2.5,-3e2') AS a, vector(' [ 0.1 , 1e-7 ] ') AS b, vector('') AS empty,
       vector('12345678901234567890, 0.30000000000000004') AS long_digits,
       vector_get(vector('-0.5,1E22,2e-22'), 1) AS big;
SELECT vector('1,,2');
