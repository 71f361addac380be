-- Quality mart: every period a site x metric should have between its first and last observed period, at the
-- metric's frequency (monthly and coarser: first day of the period; weekly: Monday steps from the first one).
-- Grain: one row per (site_code, metric_code, period). Filters: $site_code, $metric_code, $subsidiary_code (NULL: all).
CREATE OR REPLACE TEMP TABLE quality_expected_periods AS
WITH pairs AS (
    SELECT o.site_code, o.metric_code, m.frequency, min(o.period) AS first_period, max(o.period) AS last_period
    FROM observation_current AS o
    JOIN metrics AS m ON m.code = o.metric_code
    JOIN sites AS s ON s.code = o.site_code
    WHERE ($site_code IS NULL OR o.site_code = $site_code)
      AND ($metric_code IS NULL OR o.metric_code = $metric_code)
      AND ($subsidiary_code IS NULL OR s.subsidiary_code = $subsidiary_code)
    GROUP BY o.site_code, o.metric_code, m.frequency
)
SELECT site_code, metric_code, frequency, first_period, last_period,
       CAST(unnest(generate_series(first_period, last_period,
           CASE frequency WHEN 'daily' THEN INTERVAL 1 DAY WHEN 'weekly' THEN INTERVAL 7 DAY
                          WHEN 'monthly' THEN INTERVAL 1 MONTH WHEN 'quarterly' THEN INTERVAL 3 MONTH
                          ELSE INTERVAL 1 YEAR END)) AS DATE) AS period
FROM pairs
