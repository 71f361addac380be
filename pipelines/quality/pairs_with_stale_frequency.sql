-- Quality summary scope: pairs summarised at a frequency the registry no longer gives their metric (a metric's
-- frequency changed: every pair of that metric is recounted).
-- Grain: one row per (site_code, metric_code).
CREATE OR REPLACE TEMP TABLE quality_refresh_pairs AS
SELECT q.site_code, q.metric_code
FROM quality_pair_summary AS q
JOIN metrics AS m ON m.code = q.metric_code
WHERE q.frequency IS DISTINCT FROM m.frequency
