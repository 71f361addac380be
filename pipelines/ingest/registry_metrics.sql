-- Ingest: the metrics an upload may name, with unit, frequency, bounds and aggregation (sum or mean: whether a wide
-- file's totals column is checked against its periods). Grain: one row per metric code.
SELECT CAST(code AS VARCHAR) AS metric_code, CAST(unit AS VARCHAR) AS unit, CAST(frequency AS VARCHAR) AS frequency,
       CAST(min_value AS DOUBLE) AS min_value, CAST(max_value AS DOUBLE) AS max_value,
       CAST(aggregation AS VARCHAR) AS aggregation
FROM metrics
