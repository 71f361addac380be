-- Dashboard data quality: flagged values: outside the metric's registered bounds, or more than 5 robust
-- standard deviations (1.4826 × MAD) from the site-metric median. Optionally limited to one subsidiary.
-- Grain: one row per flagged (site_code, metric_code, period).
WITH obs AS (
    SELECT o.site_code, o.metric_code, o.period, o.value
    FROM observation_current AS o
    JOIN sites AS s ON s.code = o.site_code
    WHERE CAST($subsidiary AS VARCHAR) IS NULL OR s.subsidiary_code = $subsidiary
),
med AS (
    SELECT site_code, metric_code, median(value) AS med FROM obs GROUP BY ALL
),
mad AS (
    SELECT o.site_code, o.metric_code, any_value(d.med) AS med, median(abs(o.value - d.med)) * 1.4826 AS scale
    FROM obs AS o JOIN med AS d USING (site_code, metric_code)
    GROUP BY ALL
)
SELECT o.site_code, o.metric_code, o.period, o.value, d.med AS median,
       CASE WHEN o.value < m.min_value OR o.value > m.max_value THEN 'bounds' ELSE 'robust_z' END AS reason
FROM obs AS o
JOIN mad AS d USING (site_code, metric_code)
JOIN metrics AS m ON m.code = o.metric_code
WHERE o.value < m.min_value OR o.value > m.max_value
   OR (d.scale > 0 AND abs(o.value - d.med) > 5 * d.scale)
ORDER BY o.site_code, o.metric_code, o.period
LIMIT 200
