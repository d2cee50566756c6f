-- what `sluice run` prints when records are malformed: each logged with its
-- file:line (the first few), the rows of the others, and the query's counts
-- at the end; the exit status stays 0
SELECT id, v * 2 AS v2 FROM file('data/bad.json', format => 'json');
