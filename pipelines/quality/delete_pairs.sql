-- Quality summary refresh 1/6: drop the summary rows of the pairs in quality_refresh_pairs.
DELETE FROM quality_pair_summary AS q USING quality_refresh_pairs AS p
WHERE q.site_code = p.site_code AND q.metric_code = p.metric_code;
DELETE FROM quality_monthly_summary AS q USING quality_refresh_pairs AS p
WHERE q.site_code = p.site_code AND q.metric_code = p.metric_code;
DELETE FROM quality_outlier_flags AS q USING quality_refresh_pairs AS p
WHERE q.site_code = p.site_code AND q.metric_code = p.metric_code;
