-- Report lineage: values restated before the run started, per (earlier upload, restating upload), for the
-- metrics run $run_id estimated for the reported pilots $pilots. Grain: one row per pair of uploads.
WITH pilot_metrics_used AS (
    SELECT DISTINCT metric_code FROM estimate_results WHERE run_id = $run_id AND list_contains($pilots, pilot_code)
)
SELECT o.upload_id, coalesce(a.file_name, '') AS file_name, o.superseded_by_upload_id,
       coalesce(b.file_name, '') AS superseded_by_file, max(o.valid_to) AS restated_at, count(*) AS n_values
FROM observation_superseded AS o
LEFT JOIN upload_log AS a ON a.upload_id = o.upload_id
LEFT JOIN upload_log AS b ON b.upload_id = o.superseded_by_upload_id
WHERE o.valid_to <= CAST($as_of AS TIMESTAMP)
  AND o.metric_code IN (SELECT metric_code FROM pilot_metrics_used)
GROUP BY o.upload_id, a.file_name, o.superseded_by_upload_id, b.file_name
ORDER BY restated_at, o.upload_id, o.superseded_by_upload_id
