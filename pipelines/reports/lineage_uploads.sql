-- Report lineage: the uploads whose values were in force when the run started, for the sites the report lists for the
-- reported pilots ($sites: the treated and control sites the run used, pipelines/reports/pilot_sites.sql) and the
-- metrics the run estimated for those pilots (not the registry's today: a metric dropped since still backs the run's
-- figures). Grain: one row per upload. $as_of is the run's start; $pilots the reported pilot codes; $run_id the run.
WITH pilot_sites AS (
    SELECT unnest(CAST($sites AS VARCHAR[])) AS site_code
),
pilot_metrics_used AS (
    SELECT DISTINCT metric_code FROM estimate_results WHERE run_id = $run_id AND list_contains($pilots, pilot_code)
),
in_force AS (
    SELECT site_code, metric_code, upload_id FROM observation_current
    WHERE valid_from <= CAST($as_of AS TIMESTAMP)
    UNION ALL
    SELECT site_code, metric_code, upload_id FROM observation_superseded
    WHERE valid_from <= CAST($as_of AS TIMESTAMP) AND valid_to > CAST($as_of AS TIMESTAMP)
),
used AS (
    SELECT upload_id, count(*) AS n_values
    FROM in_force
    WHERE site_code IN (SELECT site_code FROM pilot_sites)
      AND metric_code IN (SELECT metric_code FROM pilot_metrics_used)
    GROUP BY upload_id
)
SELECT u.upload_id, u.file_name, u.sha256, u.size_bytes, u.uploaded_by, u.uploaded_at, u.status,
       u.rows_read, u.rows_inserted, u.rows_updated, used.n_values
FROM used
JOIN upload_log AS u ON u.upload_id = used.upload_id
ORDER BY u.uploaded_at, u.upload_id
