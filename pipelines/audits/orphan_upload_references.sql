-- Audit: observations (current or superseded) and errors that name an upload missing from upload_log
-- (must return no rows). Grain: one row per offending (source table, upload_id).
SELECT 'observation_current' AS source, o.upload_id, count(*) AS n_rows
FROM observation_current AS o ANTI JOIN upload_log AS u USING (upload_id)
GROUP BY o.upload_id
UNION ALL
SELECT 'observation_superseded', o.upload_id, count(*)
FROM observation_superseded AS o ANTI JOIN upload_log AS u USING (upload_id)
GROUP BY o.upload_id
UNION ALL
SELECT 'upload_errors', e.upload_id, count(*)
FROM upload_errors AS e ANTI JOIN upload_log AS u USING (upload_id)
GROUP BY e.upload_id
