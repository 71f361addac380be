-- Dashboard mart: coverage per site and calendar month (observed / expected periods in the month, mean over the
-- site's metrics), from the precomputed quality summary. Filter: $subsidiary_code (NULL: all).
-- Grain: one row per (site_code, month).
SELECT q.site_code, q.month, avg(q.n_observed / q.n_expected) AS coverage
FROM quality_monthly_summary AS q
JOIN sites AS s ON s.code = q.site_code
WHERE $subsidiary_code IS NULL OR s.subsidiary_code = $subsidiary_code
GROUP BY q.site_code, q.month
ORDER BY q.site_code, q.month
