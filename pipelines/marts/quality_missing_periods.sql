-- Quality mart: periods with no current value between a pair's first and last observation.
-- Grain: one row per (site_code, metric_code, missing period). Reads quality_expected_periods.
SELECT e.site_code, e.metric_code, e.period
FROM quality_expected_periods AS e
ANTI JOIN observation_current AS o USING (site_code, metric_code, period)
ORDER BY e.site_code, e.metric_code, e.period
