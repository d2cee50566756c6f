-- Nexmark q10: log the bids to a file system partitioned by day and minute
-- (Flink's PARTITIONED BY (dt, hm) filesystem sink with format csv):
-- q10/dt=<day>/hm=<HH%3Amm>/part-0.csv, the partition columns left out of
-- the rows and their values escaped as Flink does (':' is %3A).  Flink
-- commits a partition a minute after its time passes (success files); here
-- rows are written as they come.
SELECT auction, bidder, price, dateTime, extra,
       DATE_FORMAT(dateTime, 'yyyy-MM-dd') AS dt, DATE_FORMAT(dateTime, 'HH:mm') AS hm
FROM bid
INTO file('q10/', format => 'csv', partition_by => 'dt, hm');
