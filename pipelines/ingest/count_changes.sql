-- Ingest check: what the merge will do. Grain: one row for the whole upload.
SELECT (SELECT count(*) FROM ingest_stage) AS staged,
       count(*) FILTER (WHERE value IS DISTINCT FROM old_value) AS updated,
       count(*) FILTER (WHERE value IS NOT DISTINCT FROM old_value) AS unchanged
FROM ingest_matched
