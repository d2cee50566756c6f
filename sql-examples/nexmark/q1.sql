-- Nexmark q1: currency conversion.  Flink's result type is DECIMAL(23, 3);
-- sluice computes in REAL (SQLite's arithmetic).
SELECT auction, bidder, 0.908 * price AS price, dateTime, extra FROM bid
INTO file('q1.jsonl', format => 'json');
