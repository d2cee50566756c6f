-- Nexmark q3: auctions of category 10 joined with their seller, a person
-- of Oregon, Idaho or California: a join of two unbounded streams on the
-- key alone (no time bound), every auction with its seller whichever came
-- first, as Flink's regular join.  Both sides are kept (SET state_ttl bounds
-- them); q3_table.sql is the stream-table variant.
SELECT p.name, p.city, p.state, a.id
FROM auction AS a INNER JOIN person AS p ON a.seller = p.id
WHERE a.category = 10 AND (p.state = 'OR' OR p.state = 'ID' OR p.state = 'CA')
INTO file('q3.jsonl', format => 'json');
