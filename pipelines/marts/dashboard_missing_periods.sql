-- Dashboard data quality: per site and metric, how many periods between the first and the last value are
-- missing, given the metric's frequency. Optionally limited to one subsidiary.
-- Grain: one row per (site_code, metric_code) with at least one missing period.
WITH spans AS (
    SELECT o.site_code, o.metric_code, min(o.period) AS first_period, max(o.period) AS last_period,
           count(*) AS n_present
    FROM observation_current AS o
    JOIN sites AS s ON s.code = o.site_code
    WHERE CAST($subsidiary AS VARCHAR) IS NULL OR s.subsidiary_code = $subsidiary
    GROUP BY ALL
)
SELECT sp.site_code, sp.metric_code, sp.first_period, sp.last_period, sp.n_present,
       CASE m.frequency
           WHEN 'daily' THEN date_diff('day', sp.first_period, sp.last_period) + 1
           WHEN 'weekly' THEN date_diff('week', sp.first_period, sp.last_period) + 1
           WHEN 'monthly' THEN date_diff('month', sp.first_period, sp.last_period) + 1
           WHEN 'quarterly' THEN date_diff('quarter', sp.first_period, sp.last_period) + 1
           ELSE date_diff('year', sp.first_period, sp.last_period) + 1
       END - sp.n_present AS n_missing
FROM spans AS sp
JOIN metrics AS m ON m.code = sp.metric_code
WHERE n_missing > 0
ORDER BY n_missing DESC, sp.site_code, sp.metric_code
LIMIT 200
