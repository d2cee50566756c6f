-- errors => 'fail' stops the query at the first malformed record
SELECT id FROM file('data/bad.json', format => 'json', errors => 'fail');
