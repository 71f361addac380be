-- Quality mart: expected and observed periods per site x metric and calendar month (a period counts in the month
-- it starts in), for coverage views over time.
-- Grain: one row per (site_code, metric_code, month) with at least one expected period. Reads quality_expected_periods.
SELECT e.site_code, e.metric_code, CAST(date_trunc('month', e.period) AS DATE) AS month,
       CAST(count(*) AS BIGINT) AS n_expected, CAST(count(o.period) AS BIGINT) AS n_observed
FROM quality_expected_periods AS e
LEFT JOIN observation_current AS o USING (site_code, metric_code, period)
GROUP BY ALL
ORDER BY e.site_code, e.metric_code, month
