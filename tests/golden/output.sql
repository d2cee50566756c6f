-- rows printed by `sluice --format json run`: one object per row keyed by
-- column name (an expression's text when it has no alias), each storage
-- class in JSON: INTEGER, REAL with the fewest digits that read back (always
-- with a . or an exponent), TEXT escaped, NULL, BLOB as hex, VECTOR and JSON
-- text as JSON; rows of the script's SELECTs in order
SELECT 1 + 2, 7 / 2 AS intdiv, 7.0 / 2 AS realdiv, 9223372036854775807 + 1 AS big, -0.0 AS negzero;
SELECT 0.1 + 0.2 AS r1, 1e300 * 10 AS huge, 100.0 AS hundred, 1.5e-7 AS small, NULL AS n;
SELECT 'it''s "quoted"' AS q, 'héllo' || char(10) || char(9) AS esc, x'00ff' AS b;
SELECT vector(1, 2.5) AS v, json_object('k', 1, 'v', 'two') AS j, json_array(1, 'a') AS a, '{"x":1}' AS text_not_json;
SELECT name, age FROM file('data/people.json') WHERE age > 30;
