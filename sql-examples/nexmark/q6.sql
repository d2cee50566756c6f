-- Nexmark q6: per seller, the average selling price of its last closed
-- auctions (a frame of 10 preceding winning bids and the current one, as the
-- standard text's ROWS BETWEEN 10 PRECEDING AND CURRENT ROW).  The standard
-- text names A.id inside a query where A is not in scope and filters on
-- rownum in the SELECT that defines it; here the ROW_NUMBER is one
-- subquery deeper, over the joined columns.  Flink does not run q6 (its
-- OVER aggregation cannot take the Top-1's take-backs); neither does sluice
-- over an unbounded stream: over a file that ends it is computed whole, as
-- SQLite would (op_window).
SELECT Q.seller, AVG(Q.price) OVER
         (PARTITION BY Q.seller ORDER BY Q.dateTime ROWS BETWEEN 10 PRECEDING AND CURRENT ROW)
         AS avg_price
FROM (
  SELECT * FROM (
    SELECT id, seller, price, dateTime,
           ROW_NUMBER() OVER (PARTITION BY id, seller ORDER BY price DESC) AS rownum
    FROM (SELECT A.id, A.seller, B.price, B.dateTime
          FROM auction AS A, bid AS B
          WHERE A.id = B.auction AND B.dateTime BETWEEN A.dateTime AND A.expires))
  WHERE rownum <= 1
) AS Q
INTO file('q6.jsonl', format => 'json');
