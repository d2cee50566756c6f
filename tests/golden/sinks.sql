-- sinks: JSON lines and CSV files, one query each
SELECT name, score * 2 AS double_score FROM file('data/people.json') INTO file('out/scores.json', format => 'json');
INSERT INTO file('out/people.csv', format => 'csv', header => true)
SELECT name, age FROM file('data/people.json') WHERE age IS NOT NULL;
