-- Quality summary refresh 5/6: coverage, last upload and robust statistics per refreshed pair (n_expected: periods
-- at the metric's frequency from first to last value, summed from quality_monthly_summary, so run after 4/6).
-- Grain: one row per (site_code, metric_code) with current observations and a registered metric.
INSERT INTO quality_pair_summary (site_code, metric_code, frequency, first_period, last_period, n_observed,
                                  n_expected, n_missing, last_upload_id, median_value, median_lo, median_hi, mad,
                                  mad_lo, mad_hi)
WITH expected AS (
    SELECT q.site_code, q.metric_code, CAST(sum(q.n_expected) AS BIGINT) AS n_expected
    FROM quality_monthly_summary AS q
    SEMI JOIN quality_refresh_pairs AS p USING (site_code, metric_code)
    GROUP BY ALL
)
SELECT s.site_code, s.metric_code, s.frequency, s.first_period, s.last_period, s.n_observed, e.n_expected,
       e.n_expected - s.n_observed AS n_missing, s.last_upload_id, s.median_value, s.median_lo, s.median_hi, s.mad,
       s.mad_lo, s.mad_hi
FROM quality_refresh_stats AS s
JOIN expected AS e USING (site_code, metric_code)
