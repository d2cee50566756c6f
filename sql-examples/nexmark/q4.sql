-- Nexmark q4: the average winning price per category: the standard text.
-- The inner GROUP BY (the highest bid of each auction within its lifetime,
-- over the join with a time bound per row) is an updating stream: each new
-- maximum takes the auction's previous one back (-U/+U), and the outer AVG
-- folds the take-backs in (its inverse).  The file gets each category's
-- average as it changes, the last row final.
SELECT
    Q.category,
    AVG(Q.final) AS avg_final
FROM (
    SELECT MAX(B.price) AS final, A.category
    FROM auction A, bid B
    WHERE A.id = B.auction AND B.dateTime BETWEEN A.dateTime AND A.expires
    GROUP BY A.id, A.category
) Q
GROUP BY Q.category
INTO file('q4.jsonl', format => 'json');
