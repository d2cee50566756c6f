-- Nexmark q3, stream-table variant: auctions of category 10 joined with
-- their seller from the table of persons (persons.jsonl, written by gen.py
-- --persons) in Oregon, Idaho or California, loaded when the query starts
-- (q3.sql is the standard join of two streams).
SELECT p.name, p.city, p.state, a.id
FROM auction AS a
JOIN file('persons.jsonl', format => 'json',
          columns => 'event_type INTEGER, id INTEGER, name TEXT, emailAddress TEXT, creditCard TEXT, city TEXT, state TEXT, dateTime INTEGER, extra TEXT') AS p
  ON a.seller = p.id
WHERE a.category = 10 AND p.state IN ('OR', 'ID', 'CA')
INTO file('q3_table.jsonl', format => 'json');
