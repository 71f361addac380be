-- Quality summary refresh 3/6: bounds, counts, last upload and robust centre/spread of each refreshed pair's
-- current values (metric units). median_lo/median_hi are the middle order statistics around the median, mad_lo/mad_hi
-- those of the absolute deviations around the MAD: a restated value that stays strictly outside them moves neither
-- (see pairs_from_upload.sql). mean_ad stands in for a MAD of 0 in the robust z.
-- Grain: one row per (site_code, metric_code) of quality_refresh_pairs with current observations.
-- Three passes over quality_refresh_values, each into a small per-pair table: as one statement with common table
-- expressions DuckDB materialised the scoped values and the joins at once (1.5 GB more for a 10M-row upload).
CREATE OR REPLACE TEMP TABLE quality_refresh_centre AS
SELECT site_code, metric_code, min(period) AS first_period, max(period) AS last_period,
       count(*) AS n_observed, max(upload_id) AS last_upload_id, median(value) AS median_value
FROM quality_refresh_values
GROUP BY site_code, metric_code;

CREATE OR REPLACE TEMP TABLE quality_refresh_spread AS
SELECT s.site_code, s.metric_code, median(abs(s.value - c.median_value)) AS mad,
       avg(abs(s.value - c.median_value)) AS mean_ad,
       max(s.value) FILTER (WHERE s.value <= c.median_value) AS median_lo,
       min(s.value) FILTER (WHERE s.value >= c.median_value) AS median_hi
FROM quality_refresh_values AS s
JOIN quality_refresh_centre AS c USING (site_code, metric_code)
GROUP BY s.site_code, s.metric_code;

CREATE OR REPLACE TEMP TABLE quality_refresh_stats AS
WITH deviation_bounds AS (
    SELECT s.site_code, s.metric_code,
           max(abs(s.value - c.median_value)) FILTER (WHERE abs(s.value - c.median_value) <= p.mad) AS mad_lo,
           min(abs(s.value - c.median_value)) FILTER (WHERE abs(s.value - c.median_value) >= p.mad) AS mad_hi
    FROM quality_refresh_values AS s
    JOIN quality_refresh_centre AS c USING (site_code, metric_code)
    JOIN quality_refresh_spread AS p USING (site_code, metric_code)
    GROUP BY s.site_code, s.metric_code
)
SELECT c.site_code, c.metric_code, m.frequency, c.first_period, c.last_period,
       CAST(c.n_observed AS BIGINT) AS n_observed, c.last_upload_id, c.median_value, p.median_lo, p.median_hi,
       p.mad, d.mad_lo, d.mad_hi, p.mean_ad
FROM quality_refresh_centre AS c
JOIN quality_refresh_spread AS p USING (site_code, metric_code)
JOIN deviation_bounds AS d USING (site_code, metric_code)
LEFT JOIN metrics AS m ON m.code = c.metric_code;
