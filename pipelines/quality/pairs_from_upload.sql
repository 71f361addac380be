-- Quality summary scope of an upload (reads ingest_stage and ingest_matched of the running load):
--   quality_restated_values: the upload's changed current values, with the value they replace;
--   quality_stable_pairs: pairs whose only change is restated values that stay strictly on their side of the
--     median's and the MAD's middle order statistics (and MAD > 0): their median and MAD cannot move, so only the
--     restated values are re-scored (a small restatement of a long series costs its rows, not the series);
--   quality_refresh_pairs: every other pair with new or changed values: recounted from its observations.
-- Grain: one row per (site_code, metric_code) in the two pair tables.
CREATE OR REPLACE TEMP TABLE quality_restated_values AS
SELECT site_code, metric_code, period, value, old_value
FROM ingest_matched
WHERE value IS DISTINCT FROM old_value;

-- Pairs with new keys: more staged rows than rows matching a current value (counts, cheaper than a key anti join).
CREATE OR REPLACE TEMP TABLE quality_new_key_pairs AS
WITH staged AS (SELECT site_code, metric_code, count(*) AS n FROM ingest_stage GROUP BY ALL),
matched AS (SELECT site_code, metric_code, count(*) AS n FROM ingest_matched GROUP BY ALL)
SELECT s.site_code, s.metric_code
FROM staged AS s
LEFT JOIN matched AS m USING (site_code, metric_code)
WHERE s.n > coalesce(m.n, 0);

CREATE OR REPLACE TEMP TABLE quality_stable_pairs AS
SELECT r.site_code, r.metric_code
FROM quality_restated_values AS r
JOIN quality_pair_summary AS q USING (site_code, metric_code)
JOIN metrics AS m ON m.code = q.metric_code AND m.frequency = q.frequency
ANTI JOIN quality_new_key_pairs AS n USING (site_code, metric_code)
WHERE q.mad > 0
GROUP BY r.site_code, r.metric_code
HAVING bool_and(
    ((r.old_value < q.median_lo AND r.value < q.median_lo) OR (r.old_value > q.median_hi AND r.value > q.median_hi))
    AND ((abs(r.old_value - q.median_value) < q.mad_lo AND abs(r.value - q.median_value) < q.mad_lo)
         OR (abs(r.old_value - q.median_value) > q.mad_hi AND abs(r.value - q.median_value) > q.mad_hi))
);

CREATE OR REPLACE TEMP TABLE quality_refresh_pairs AS
SELECT site_code, metric_code FROM quality_new_key_pairs
UNION
SELECT site_code, metric_code FROM quality_restated_values
EXCEPT
SELECT site_code, metric_code FROM quality_stable_pairs;
