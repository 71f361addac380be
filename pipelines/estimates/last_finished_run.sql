-- Estimates: the latest finished run, if any. Grain: at most one row.
SELECT run_id, data_version, code_version, parameters
FROM estimate_runs
WHERE status = 'finished'
ORDER BY run_id DESC
LIMIT 1
