-- Estimates: every result row of one run, as stored. Grain: one row per (pilot_code, metric_code).
SELECT *
FROM estimate_results
WHERE run_id = $run_id
ORDER BY pilot_code, metric_code
