-- Ingest merge 1/3: current values that the upload restates move to the history, closed at the upload's time.
-- Grain: one row per replaced version of (site_code, metric_code, period). Reads the versions captured by
-- match_current.sql in the same transaction.
INSERT INTO observation_superseded (site_code, metric_code, period, value, upload_id, valid_from, valid_to,
                                    superseded_by_upload_id)
SELECT site_code, metric_code, period, old_value, old_upload_id, old_valid_from, $valid_to, $upload_id
FROM ingest_matched
WHERE value IS DISTINCT FROM old_value
