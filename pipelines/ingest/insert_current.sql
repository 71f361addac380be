-- Ingest merge 3/3: new and restated observations become current. Unchanged ones are left as they are,
-- so each key has exactly one current row (no index needed; audits/duplicate_current_keys.sql checks it).
-- Grain: one row per (site_code, metric_code, period).
INSERT INTO observation_current (site_code, metric_code, period, value, upload_id, valid_from)
SELECT s.site_code, s.metric_code, s.period, s.value, $upload_id, $valid_from
FROM ingest_stage AS s
ANTI JOIN (SELECT site_code, metric_code, period FROM ingest_matched WHERE value IS NOT DISTINCT FROM old_value) AS u
    USING (site_code, metric_code, period)
