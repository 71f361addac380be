-- Dashboard mart: site-metrics with gaps between their first and last value, most gaps first, from the
-- precomputed quality summary. Filters: $subsidiary_code (NULL: all), $limit.
-- Grain: one row per (site_code, metric_code) with n_missing > 0.
SELECT q.site_code, q.metric_code, q.first_period, q.last_period, q.n_observed AS n_present, q.n_missing
FROM quality_pair_summary AS q
JOIN sites AS s ON s.code = q.site_code
WHERE q.n_missing > 0 AND ($subsidiary_code IS NULL OR s.subsidiary_code = $subsidiary_code)
ORDER BY q.n_missing DESC, q.site_code, q.metric_code
LIMIT $limit
