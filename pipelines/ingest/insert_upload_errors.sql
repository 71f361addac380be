-- Ingest: the problems of one upload, from the registered frame `ingest_errors`. Grain: one row per problem.
INSERT INTO upload_errors (upload_id, sheet, line, column_name, value, code, message)
SELECT $upload_id, CAST(sheet AS VARCHAR), CAST(line AS BIGINT), CAST("column" AS VARCHAR),
       CAST(value AS VARCHAR), CAST(code AS VARCHAR), CAST(message AS VARCHAR)
FROM ingest_errors
