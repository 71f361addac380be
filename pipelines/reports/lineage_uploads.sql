-- Report lineage: the uploads whose values were in force when the run started at the (metric, site) pairs the run
-- estimated the reported pilots with ($metric_codes, $site_codes: parallel lists, one pair per metric and each of its
-- treated and control sites, pipelines/reports/pilot_sites.sql), and how many of their values those pairs hold. Only
-- the pairs, not every metric at every listed site: a control site of one pilot reporting another pilot's metric does
-- not back a figure with that metric. Grain: one row per upload. $as_of is the run's start.
WITH pairs AS (
    SELECT DISTINCT unnest(CAST($metric_codes AS VARCHAR[])) AS metric_code,
                    unnest(CAST($site_codes AS VARCHAR[])) AS site_code
),
in_force AS (
    SELECT site_code, metric_code, upload_id FROM observation_current
    WHERE valid_from <= CAST($as_of AS TIMESTAMP)
    UNION ALL
    SELECT site_code, metric_code, upload_id FROM observation_superseded
    WHERE valid_from <= CAST($as_of AS TIMESTAMP) AND valid_to > CAST($as_of AS TIMESTAMP)
),
used AS (
    SELECT f.upload_id, count(*) AS n_values
    FROM in_force AS f
    JOIN pairs AS p ON p.metric_code = f.metric_code AND p.site_code = f.site_code
    GROUP BY f.upload_id
)
SELECT u.upload_id, u.file_name, u.sha256, u.size_bytes, u.uploaded_by, u.uploaded_at, u.status,
       u.rows_read, u.rows_inserted, u.rows_updated, used.n_values
FROM used
JOIN upload_log AS u ON u.upload_id = used.upload_id
ORDER BY u.uploaded_at, u.upload_id
