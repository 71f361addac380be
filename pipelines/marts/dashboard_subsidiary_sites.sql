-- Dashboard upload template: the sites of one subsidiary (NULL: all) and the metrics their pilots measure.
-- Grain: one row per (site_code, metric_code).
SELECT DISTINCT s.code AS site_code, pm.metric_code, m.unit
FROM sites AS s
JOIN pilot_registry AS p ON p.subsidiary_code = s.subsidiary_code
JOIN pilot_metrics AS pm ON pm.pilot_code = p.code
JOIN metrics AS m ON m.code = pm.metric_code
WHERE CAST($subsidiary AS VARCHAR) IS NULL OR s.subsidiary_code = $subsidiary
ORDER BY s.code, pm.metric_code
