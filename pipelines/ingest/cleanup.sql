-- Ingest: drop the temporary staging objects of an upload.
DROP VIEW IF EXISTS ingest_stage;
DROP TABLE IF EXISTS ingest_matched;
