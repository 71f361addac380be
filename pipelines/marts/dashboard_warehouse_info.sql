-- Dashboard: warehouse facts (demo flag, data start) and the latest finished estimate run.
-- Grain: one row per key; also latest_run_id, latest_run_finished_at, the latest run's discount rate and NPV
-- horizon (latest_run_discount_rate, latest_run_horizon_years: the terms its NPV and ROI were computed with) and
-- registry_updated_at.
SELECT key, value FROM warehouse_info
UNION ALL
SELECT 'latest_run_id', CAST(max(run_id) AS VARCHAR) FROM estimate_runs WHERE status = 'finished' HAVING max(run_id) IS NOT NULL
UNION ALL
SELECT 'latest_run_finished_at', CAST(max(finished_at) AS VARCHAR) FROM estimate_runs WHERE status = 'finished'
HAVING max(finished_at) IS NOT NULL
UNION ALL
SELECT 'latest_run_' || key, json_extract_string(r.parameters, '$.' || key)
FROM (SELECT parameters FROM estimate_runs WHERE status = 'finished' ORDER BY run_id DESC LIMIT 1) AS r
CROSS JOIN (VALUES ('discount_rate'), ('horizon_years')) AS k(key)
WHERE json_extract_string(r.parameters, '$.' || key) IS NOT NULL
UNION ALL
-- When the registry last changed (names, costs, KZT values): part of the dashboard's cache key.
SELECT 'registry_updated_at', CAST(greatest(
    (SELECT max(updated_at) FROM pilot_registry), (SELECT max(updated_at) FROM metrics),
    (SELECT max(updated_at) FROM subsidiaries), (SELECT max(updated_at) FROM sites)) AS VARCHAR)
