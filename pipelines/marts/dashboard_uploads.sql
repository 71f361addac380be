-- Dashboard upload page and data quality: the most recent uploads, of one user or (NULL) of everyone.
-- Grain: one row per upload.
SELECT upload_id, file_name, uploaded_by, uploaded_at, status, rows_read, rows_inserted, rows_updated,
       rows_unchanged, rows_rejected
FROM upload_log
WHERE CAST($username AS VARCHAR) IS NULL OR uploaded_by = $username
ORDER BY uploaded_at DESC, upload_id DESC
LIMIT $limit
