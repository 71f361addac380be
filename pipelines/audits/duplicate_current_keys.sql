-- Audit: keys with more than one current value (must return no rows). Grain: one row per offending key.
SELECT site_code, metric_code, period, count(*) AS n_current
FROM observation_current
GROUP BY site_code, metric_code, period
HAVING count(*) > 1
