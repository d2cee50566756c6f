-- S1 into PostgreSQL: score the seed's churn model for every record, as
-- s1_files.sql does, and write the predictions into the table s1_preds
-- (created from the first rows' types when it does not exist: User_ID
-- bigint, pred double precision).
--
-- The server is libpq's default one (PGHOST, PGPORT, PGUSER, PGDATABASE in
-- the environment, else the local socket), or name it: SET postgres.conninfo
-- = 'host=/var/run/postgresql dbname=sluice' before the query, or give
-- conninfo => '...' in the call.  With --state-dir the rows are written
-- exactly once (docs/postgres.md).
CREATE MODEL churn FROM 'sql-examples/models/churn_lr.json';
SELECT User_ID,
       predict_proba(churn, G1, G2, G3, G4, G5, G6, G7, G8, G9, G10, 0) AS pred
FROM file('sql-examples/data/dsp.jsonl', format => 'json')
INTO postgres('s1_preds');
