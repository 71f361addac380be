-- Ingest merge 2/3: remove the restated current values (their old versions are in observation_superseded).
-- Grain: observation_current, one row per (site_code, metric_code, period). Row ids were captured by
-- match_current.sql inside the same transaction, so they still name exactly those rows.
DELETE FROM observation_current
WHERE rowid IN (SELECT old_rowid FROM ingest_matched WHERE value IS DISTINCT FROM old_value)
