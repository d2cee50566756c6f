-- a script's queries into sinks start together, after every statement of
-- the script ran: two read one named stream, each gets the rows meant for it
CREATE STREAM adults AS
  SELECT name, age FROM file('data/people.json') WHERE age >= 18;
CREATE STREAM people (name TEXT, age INTEGER) FROM file('data/people.json', format => 'json');
SELECT name FROM adults WHERE age < 40 INTO file('out/young.json');
SELECT name FROM adults WHERE age >= 40 INTO file('out/old.json');
SELECT * FROM people INTO file('out/all.json');
