-- Ingest: the sites an upload may name, with their subsidiary. Grain: one row per site code.
SELECT CAST(code AS VARCHAR) AS site_code, CAST(subsidiary_code AS VARCHAR) AS subsidiary_code
FROM sites
