-- CSV: header, typed columns, quoted fields with commas, quotes and newlines
SELECT class, sepal_length * 2 AS twice, typeof(sepal_length) AS t
FROM file('data/iris.csv', format => 'csv', header => true,
          columns => 'sepal_length REAL, sepal_width REAL, petal_length REAL, petal_width REAL, class TEXT');

SELECT a, b FROM file('data/quoted.csv', format => 'csv', header => true, columns => 'a TEXT, b INTEGER');

SELECT value, length(value) AS n FROM file('data/lines.txt', format => 'raw');
