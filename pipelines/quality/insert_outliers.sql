-- Quality summary refresh 6/6: values of the refreshed pairs far from their series by a robust z-score, flagged
-- (never rejected). robust_z = (value - median) / (1.4826 * MAD); when MAD is 0, the mean absolute deviation
-- x 1.2533 stands in. Kept from |robust_z| > 3.5 (the ingestion report's default) on series of at least 8 values;
-- readers pick a stricter threshold.
-- Grain: one row per flagged (site_code, metric_code, period).
INSERT INTO quality_outlier_flags (site_code, metric_code, period, value, median_value, mad, robust_z, upload_id)
WITH scored AS (
    SELECT o.site_code, o.metric_code, o.period, o.value, o.upload_id, s.median_value, s.mad,
           CASE WHEN s.mad > 0 THEN (o.value - s.median_value) / (1.4826 * s.mad)
                WHEN s.mean_ad > 0 THEN (o.value - s.median_value) / (1.2533 * s.mean_ad)
                ELSE 0 END AS robust_z
    FROM quality_refresh_values AS o
    JOIN quality_refresh_stats AS s USING (site_code, metric_code)
    WHERE s.n_observed >= 8
)
SELECT site_code, metric_code, period, value, median_value, mad, robust_z, upload_id
FROM scored
WHERE abs(robust_z) > 3.5
