-- Data quality: the latest upload behind a subsidiary's current values (the newest of its site-metrics' last
-- uploads in the quality summary: no observation is scanned), or, with $subsidiary_code NULL, the latest upload of
-- all, whatever its outcome. Grain: at most one row.
SELECT u.upload_id, u.file_name, u.uploaded_by, u.uploaded_at, u.status
FROM upload_log AS u
WHERE CAST($subsidiary_code AS VARCHAR) IS NULL
   OR u.upload_id IN (
        SELECT q.last_upload_id
        FROM quality_pair_summary AS q
        JOIN sites AS s ON s.code = q.site_code
        WHERE s.subsidiary_code = $subsidiary_code
   )
ORDER BY u.uploaded_at DESC, u.upload_id DESC
LIMIT 1
