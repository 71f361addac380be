-- Quality summary refresh 4/6: expected and observed periods per refreshed pair and calendar month (a period
-- counts in the month it starts in; expected periods run from the pair's first to last value at the metric's
-- frequency). Daily pairs are counted by date arithmetic (every day is on the grid); coarser ones generate their
-- few expected periods and count the values on them.
-- Grain: one row per (site_code, metric_code, month) with at least one expected period.
INSERT INTO quality_monthly_summary (site_code, metric_code, month, n_expected, n_observed)
WITH daily_months AS (
    SELECT site_code, metric_code, first_period, last_period,
           CAST(unnest(generate_series(date_trunc('month', first_period), last_period, INTERVAL 1 MONTH)) AS DATE)
               AS month
    FROM quality_refresh_stats
    WHERE frequency = 'daily'
),
daily_observed AS (
    SELECT o.site_code, o.metric_code, CAST(date_trunc('month', o.period) AS DATE) AS month, count(*) AS n_observed
    FROM quality_refresh_values AS o
    SEMI JOIN (SELECT site_code, metric_code FROM quality_refresh_stats WHERE frequency = 'daily') AS p
        USING (site_code, metric_code)
    GROUP BY ALL
),
coarse_expected AS (
    SELECT site_code, metric_code,
           CAST(unnest(generate_series(first_period, last_period,
               CASE frequency WHEN 'weekly' THEN INTERVAL 7 DAY WHEN 'monthly' THEN INTERVAL 1 MONTH
                              WHEN 'quarterly' THEN INTERVAL 3 MONTH ELSE INTERVAL 1 YEAR END)) AS DATE) AS period
    FROM quality_refresh_stats
    WHERE frequency IS NOT NULL AND frequency <> 'daily'
)
SELECT d.site_code, d.metric_code, d.month,
       CAST(date_diff('day', greatest(d.month, d.first_period),
                      least(CAST(d.month + INTERVAL 1 MONTH AS DATE), d.last_period + 1)) AS BIGINT) AS n_expected,
       CAST(coalesce(o.n_observed, 0) AS BIGINT) AS n_observed
FROM daily_months AS d
LEFT JOIN daily_observed AS o USING (site_code, metric_code, month)
UNION ALL
SELECT e.site_code, e.metric_code, CAST(date_trunc('month', e.period) AS DATE) AS month,
       CAST(count(*) AS BIGINT) AS n_expected, CAST(count(o.period) AS BIGINT) AS n_observed
FROM coarse_expected AS e
LEFT JOIN quality_refresh_values AS o USING (site_code, metric_code, period)
GROUP BY ALL
