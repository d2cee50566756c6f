-- Nexmark q19: the 10 highest bids of each auction (a Top-N: ROW_NUMBER()
-- over the auction, highest price first, ranks 1 to 10 kept).  The
-- standard text as is: op_topn keeps 10 bids per auction and emits each
-- change of a rank as a -U of the bid that held it and a +U of the one
-- that holds it now, +I for a rank filled the first time (the last row
-- written for an auction and rank is its result).  Ties on the price keep
-- their arrival order, as Flink's Top-N.
SELECT * FROM
(SELECT *, ROW_NUMBER() OVER (PARTITION BY auction ORDER BY price DESC) AS rank_number FROM bid)
WHERE rank_number <= 10
INTO file('q19.jsonl', format => 'json');
