-- Ingest check: staged observations whose key already has a current value, with that value's version
-- (upload, validity start and row id, so the merge never has to search observation_current again).
-- Grain: one row per (site_code, metric_code, period) present both in the upload and in observation_current.
-- Rows where value = old_value are unchanged; the others restate the current value.
CREATE OR REPLACE TEMP TABLE ingest_matched AS
SELECT s.site_code, s.metric_code, s.period, s.value, c.value AS old_value, c.upload_id AS old_upload_id,
       c.valid_from AS old_valid_from, c.rowid AS old_rowid
FROM ingest_stage AS s
JOIN observation_current AS c USING (site_code, metric_code, period)
