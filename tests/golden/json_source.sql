-- JSON lines: top-level fields become columns, nested values reachable
SELECT name, age, score, typeof(score) AS t, addr ->> '$.city' AS city, tags -> 0 AS first_tag
FROM file('data/people.json', format => 'json');

SELECT name, age + 1 AS next_age FROM file('data/people.json') WHERE age >= 18;

SELECT name, extra ->> '$.deep[1].x' AS x FROM file('data/people.json') WHERE extra IS NOT NULL;
