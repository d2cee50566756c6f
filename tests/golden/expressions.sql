-- constant expressions with SQLite semantics
SELECT 1 + 2 AS three, 7 / 2 AS intdiv, 7.0 / 2 AS realdiv, 5 % 3, -7 % 3, 1 / 0 AS divzero;
SELECT 9223372036854775807 + 1 AS overflow, -9223372036854775808 AS minint, typeof(9223372036854775808);
SELECT NULL AND 0, NULL OR 1, NULL = NULL, NULL IS NULL, 1 IS NOT 2, 2 IS DISTINCT FROM 2;
SELECT '10' + 5, '3abc' * 2, 'abc' + 1, '1e3' + 0, typeof('1e3' + 0);
SELECT 1 < '1', CAST('1' AS INTEGER) = 1, CAST(3.9 AS INTEGER), CAST('12.5abc' AS REAL), CAST(12 AS TEXT) || 'x';
SELECT CASE 3 WHEN 1 THEN 'one' WHEN 3 THEN 'three' ELSE 'many' END, CASE WHEN NULL THEN 1 ELSE 2 END;
SELECT 2 IN (1, 2, 3), 5 NOT IN (1, 2), NULL IN (1), 1 IN (NULL, 1), 2 IN (NULL, 1), 5 BETWEEN 1 AND 10;
SELECT 'abc' LIKE 'A%', 'abc' GLOB 'A*', 'a_c' LIKE 'a\_c' ESCAPE '\', 'x' || NULL;
SELECT coalesce(NULL, NULL, 3), ifnull(NULL, 'd'), nullif(4, 4), iif(1 > 2, 'y', 'n');
SELECT upper('héllo'), length('héllo'), substr('streaming', 2, 4), replace('a-b-c', '-', '+'), trim('  x  ');
SELECT round(2.5), round(-2.5), round(3.14159, 2), abs(-3), sqrt(16), exp(0), ln(1), pow(2, 10);
SELECT printf('%5.2f|%-4d|%s|%x', 3.14159, 42, 'str', 255), format('%03d', 7);
SELECT json_extract('{"a":{"b":[1,2,3]}}', '$.a.b[1]'), '{"a":2}' -> '$.a', '{"a":"x"}' ->> 'a', json_object('k', 1, 'v', 'two');
SELECT typeof(1), typeof(1.5), typeof('t'), typeof(x'00'), typeof(NULL), hex('AB'), quote('it''s');
SELECT 0.1 + 0.2 AS r1, 1e300 * 10 AS big, 100.0 AS hundred, -0.0 AS negzero, 1.5e-7 AS small;
SELECT count(*), sum(3), max(1, 5, 3), min('b', 'a');
