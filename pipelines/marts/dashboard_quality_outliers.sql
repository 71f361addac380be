-- Dashboard mart: flagged values with |robust z| > $z_threshold (at least 3.5, the stored flags' floor), from the
-- precomputed quality summary. Filters: $subsidiary_code (NULL: all), $limit.
-- Grain: one row per flagged (site_code, metric_code, period).
SELECT q.site_code, q.metric_code, q.period, q.value, q.median_value AS median, q.robust_z, 'robust_z' AS reason
FROM quality_outlier_flags AS q
JOIN sites AS s ON s.code = q.site_code
WHERE abs(q.robust_z) > $z_threshold AND ($subsidiary_code IS NULL OR s.subsidiary_code = $subsidiary_code)
ORDER BY q.site_code, q.metric_code, q.period
LIMIT $limit
