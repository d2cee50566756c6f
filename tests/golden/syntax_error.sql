SELECT 1;
SELECT a,
  FROM file('data/people.json');
