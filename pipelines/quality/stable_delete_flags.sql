-- Quality summary, stable pairs 2/3: drop the flags of the restated values (re-scored by 3/3).
-- Grain: quality_outlier_flags, one row per (site_code, metric_code, period).
DELETE FROM quality_outlier_flags AS f
USING (SELECT r.* FROM quality_restated_values AS r SEMI JOIN quality_stable_pairs AS p USING (site_code, metric_code))
    AS r
WHERE f.site_code = r.site_code AND f.metric_code = r.metric_code AND f.period = r.period
