-- Ingest staging: the upload's valid observations, renamed and cast, nothing else.
-- Grain: one row per (site_code, metric_code, period); unique by construction (the validator collapses
-- exact duplicates and rejects conflicting ones before this view is read). Source: the registered frame
-- `ingest_frame`.
CREATE OR REPLACE TEMP VIEW ingest_stage AS
SELECT CAST(site_code AS VARCHAR) AS site_code,
       CAST(metric_code AS VARCHAR) AS metric_code,
       CAST(period AS DATE) AS period,
       CAST(value AS DOUBLE) AS value
FROM ingest_frame
