-- a named stream computed once, read by two queries (fan-out)
CREATE STREAM adults AS
  SELECT name, age FROM file('data/people.json') WHERE age >= 18;
CREATE STREAM people (name TEXT, age INTEGER) FROM file('data/people.json', format => 'json');
SELECT name FROM adults WHERE age < 40 INTO file('out/young.json');
SELECT name FROM adults WHERE age >= 40 INTO file('out/old.json');
SELECT * FROM people INTO file('out/all.json');
