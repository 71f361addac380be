-- Quality mart: coverage and the last upload per site x metric.
-- Grain: one row per (site_code, metric_code) with current observations. Reads quality_expected_periods.
WITH expected AS (
    SELECT site_code, metric_code, frequency, first_period, last_period, count(*) AS n_expected
    FROM quality_expected_periods
    GROUP BY ALL
),
observed AS (
    SELECT o.site_code, o.metric_code, count(*) AS n_observed, max(o.upload_id) AS last_upload_id
    FROM observation_current AS o
    SEMI JOIN expected AS e USING (site_code, metric_code)
    GROUP BY ALL
)
SELECT e.site_code, e.metric_code, e.frequency, e.first_period, e.last_period,
       CAST(o.n_observed AS BIGINT) AS n_observed, CAST(e.n_expected AS BIGINT) AS n_expected,
       CAST(e.n_expected - o.n_observed AS BIGINT) AS n_missing,
       o.last_upload_id, u.uploaded_at AS last_uploaded_at, u.file_name AS last_file_name,
       u.uploaded_by AS last_uploaded_by
FROM expected AS e
JOIN observed AS o USING (site_code, metric_code)
LEFT JOIN upload_log AS u ON u.upload_id = o.last_upload_id
ORDER BY e.site_code, e.metric_code
