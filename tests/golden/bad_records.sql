-- malformed records are counted, logged with file:line, and skipped
SELECT id, v * 2 AS v2 FROM file('data/bad.json', format => 'json');
