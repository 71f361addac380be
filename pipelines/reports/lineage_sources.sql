-- Report lineage per estimate: for each reported pilot-metric, the uploads whose values at the sites the run estimated
-- it with (treated and control) were in force when the run started, and how many values each holds. $pilot_codes,
-- $metric_codes and $site_codes are parallel lists, one entry per pilot, metric and site (as for lineage_uploads.sql);
-- $as_of is the run's start. Grain: one row per (pilot_code, metric_code, upload_id).
WITH triples AS (
    SELECT DISTINCT unnest(CAST($pilot_codes AS VARCHAR[])) AS pilot_code,
                    unnest(CAST($metric_codes AS VARCHAR[])) AS metric_code,
                    unnest(CAST($site_codes AS VARCHAR[])) AS site_code
),
in_force AS (
    SELECT site_code, metric_code, upload_id FROM observation_current
    WHERE valid_from <= CAST($as_of AS TIMESTAMP)
    UNION ALL
    SELECT site_code, metric_code, upload_id FROM observation_superseded
    WHERE valid_from <= CAST($as_of AS TIMESTAMP) AND valid_to > CAST($as_of AS TIMESTAMP)
)
SELECT t.pilot_code, t.metric_code, f.upload_id, u.file_name, u.sha256, count(*) AS n_values
FROM in_force AS f
JOIN triples AS t ON t.metric_code = f.metric_code AND t.site_code = f.site_code
JOIN upload_log AS u ON u.upload_id = f.upload_id
GROUP BY t.pilot_code, t.metric_code, f.upload_id, u.file_name, u.sha256, u.uploaded_at
ORDER BY t.pilot_code, t.metric_code, u.uploaded_at, f.upload_id
