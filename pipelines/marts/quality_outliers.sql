-- Quality mart: values far from their site x metric series by a robust z-score, flagged (never rejected).
-- robust_z = (value - median) / (1.4826 * MAD); when MAD is 0, the mean absolute deviation x 1.2533 stands in.
-- Grain: one row per flagged (site_code, metric_code, period). Parameters: $z_threshold and the filters.
WITH scoped AS (
    SELECT o.site_code, o.metric_code, o.period, o.value, o.upload_id
    FROM observation_current AS o
    JOIN sites AS s ON s.code = o.site_code
    WHERE ($site_code IS NULL OR o.site_code = $site_code)
      AND ($metric_code IS NULL OR o.metric_code = $metric_code)
      AND ($subsidiary_code IS NULL OR s.subsidiary_code = $subsidiary_code)
),
centre AS (
    SELECT site_code, metric_code, median(value) AS median_value, count(*) AS n
    FROM scoped GROUP BY ALL
),
spread AS (
    SELECT s.site_code, s.metric_code, median(abs(s.value - c.median_value)) AS mad,
           avg(abs(s.value - c.median_value)) AS mean_ad
    FROM scoped AS s JOIN centre AS c USING (site_code, metric_code)
    GROUP BY ALL
),
scored AS (
    SELECT s.site_code, s.metric_code, s.period, s.value, s.upload_id, c.median_value, p.mad, c.n,
           CASE WHEN p.mad > 0 THEN (s.value - c.median_value) / (1.4826 * p.mad)
                WHEN p.mean_ad > 0 THEN (s.value - c.median_value) / (1.2533 * p.mean_ad)
                ELSE 0 END AS robust_z
    FROM scoped AS s
    JOIN centre AS c USING (site_code, metric_code)
    JOIN spread AS p USING (site_code, metric_code)
)
SELECT site_code, metric_code, period, value, median_value, mad, robust_z, upload_id
FROM scored
WHERE n >= $min_points AND abs(robust_z) > $z_threshold
ORDER BY site_code, metric_code, period
