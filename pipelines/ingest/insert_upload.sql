-- Ingest: record one upload (every upload, rejected ones included). Grain: one row per upload.
INSERT INTO upload_log (file_name, sha256, size_bytes, uploaded_by, status, rows_read, rows_inserted,
                        rows_updated, rows_unchanged, rows_rejected, source_format, notes)
VALUES ($file_name, $sha256, $size_bytes, $uploaded_by, $status, $rows_read, $rows_inserted,
        $rows_updated, $rows_unchanged, $rows_rejected, $source_format, $notes)
RETURNING upload_id, CAST(uploaded_at AS TIMESTAMP) AS uploaded_at
