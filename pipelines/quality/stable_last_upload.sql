-- Quality summary, stable pairs 1/3: their restated values now carry the upload ($upload_id, the highest id yet).
-- Grain: quality_pair_summary, one row per (site_code, metric_code) of quality_stable_pairs.
UPDATE quality_pair_summary AS q
SET last_upload_id = $upload_id
FROM quality_stable_pairs AS p
WHERE q.site_code = p.site_code AND q.metric_code = p.metric_code
