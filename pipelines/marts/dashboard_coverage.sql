-- Dashboard data quality: share of expected observations present per site and month (mean over the site's
-- metrics; a daily metric expects one value per day of the month, weekly about 4.35, monthly one).
-- Optionally limited to one subsidiary. Grain: one row per (site_code, month).
WITH per_metric AS (
    SELECT o.site_code, o.metric_code, CAST(date_trunc('month', o.period) AS DATE) AS month, count(*) AS n
    FROM observation_current AS o
    JOIN sites AS s ON s.code = o.site_code
    WHERE CAST($subsidiary AS VARCHAR) IS NULL OR s.subsidiary_code = $subsidiary
    GROUP BY ALL
)
SELECT
    pm.site_code,
    pm.month,
    avg(least(1.0, pm.n / CASE m.frequency
        WHEN 'daily' THEN CAST(day(last_day(pm.month)) AS DOUBLE)
        WHEN 'weekly' THEN 4.35
        ELSE 1.0 END)) AS coverage
FROM per_metric AS pm
JOIN metrics AS m ON m.code = pm.metric_code
GROUP BY pm.site_code, pm.month
ORDER BY pm.site_code, pm.month
