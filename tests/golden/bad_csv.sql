-- CSV records with the wrong field count or text in a REAL column are
-- counted, logged with file:line, and skipped; an empty numeric field is NULL
SELECT name, price * qty AS total
FROM file('data/bad.csv', format => 'csv', header => true,
          columns => 'name TEXT, price REAL, qty INTEGER');
