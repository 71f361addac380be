-- Quality summary refresh 2/6: the current values of the refreshed pairs, read from observation_current once for
-- the steps below.
-- Grain: one row per (site_code, metric_code, period) of quality_refresh_pairs.
CREATE OR REPLACE TEMP TABLE quality_refresh_values AS
SELECT o.site_code, o.metric_code, o.period, o.value, o.upload_id
FROM observation_current AS o
SEMI JOIN quality_refresh_pairs AS p USING (site_code, metric_code)
