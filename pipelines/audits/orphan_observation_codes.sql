-- Audit: current observations whose site or metric is not in the registry (must return no rows).
-- Grain: one row per offending (site_code, metric_code) pair.
SELECT o.site_code, o.metric_code, count(*) AS n_observations,
       s.code IS NULL AS site_missing, m.code IS NULL AS metric_missing
FROM observation_current AS o
LEFT JOIN sites AS s ON s.code = o.site_code
LEFT JOIN metrics AS m ON m.code = o.metric_code
WHERE s.code IS NULL OR m.code IS NULL
GROUP BY o.site_code, o.metric_code, s.code IS NULL, m.code IS NULL
