-- Quality summary, stable pairs 3/3: score the restated values against their pair's unchanged median and MAD
-- (same rule as insert_outliers.sql; MAD > 0 for stable pairs). $upload_id: the upload that restated them.
-- Grain: one row per flagged (site_code, metric_code, period).
INSERT INTO quality_outlier_flags (site_code, metric_code, period, value, median_value, mad, robust_z, upload_id)
WITH scored AS (
    SELECT r.site_code, r.metric_code, r.period, r.value, q.median_value, q.mad,
           (r.value - q.median_value) / (1.4826 * q.mad) AS robust_z
    FROM quality_restated_values AS r
    SEMI JOIN quality_stable_pairs AS p USING (site_code, metric_code)
    JOIN quality_pair_summary AS q USING (site_code, metric_code)
    WHERE q.n_observed >= 8
)
SELECT site_code, metric_code, period, value, median_value, mad, robust_z, $upload_id
FROM scored
WHERE abs(robust_z) > 3.5
