-- Quality summary scope for a full rebuild: every pair with current observations, and every pair summarised now
-- (so a pair that lost its observations is removed).
-- Grain: one row per (site_code, metric_code).
CREATE OR REPLACE TEMP TABLE quality_refresh_pairs AS
SELECT site_code, metric_code FROM observation_current
UNION
SELECT site_code, metric_code FROM quality_pair_summary
