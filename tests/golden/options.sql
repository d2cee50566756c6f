-- unknown options are errors, not ignored
SELECT a FROM file('data/people.json', formt => 'json');
