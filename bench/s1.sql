-- bench/s1.sql - benchmark S1 for sluice: the S1 scenario's model (logistic
-- regression, weights in bench/weights.txt) applied to every record of a JSON-lines
-- file, written as JSON lines {"User_ID": ..., "pred": ...}.
-- This is a template: bench/run.sh replaces @LINEAR@ with w0 + w1*G1 + ... + w10*G10
-- (the numbers of bench/weights.txt) and @IN@ / @OUT@ with the data files, and runs
-- the result as `sluice run bench-data/s1.sql`.
SELECT User_ID, 1/(1+exp(-(@LINEAR@))) AS pred
FROM file('@IN@', format => 'json')
INTO file('@OUT@', format => 'json');
