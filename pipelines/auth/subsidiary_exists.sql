-- Auth: whether a subsidiary code is in the registry (an engineer's account names one). Grain: one row.
SELECT count(*) > 0 AS found
FROM subsidiaries
WHERE code = $code
