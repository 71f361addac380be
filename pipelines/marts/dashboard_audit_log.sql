-- Dashboard audit page: the audit log, newest first, filtered by user, action and a range of occurred_at
-- ($from_utc inclusive, $to_utc exclusive: the UTC moments the chosen local days begin and end; each NULL = any),
-- one page of $limit rows after $offset.
-- n_total is the number of events matching the filters (the same on every row of the page).
-- Grain: one row per audit event.
SELECT event_id, occurred_at, username, action, target, CAST(details AS VARCHAR) AS details, remote_addr,
       count(*) OVER () AS n_total
FROM audit_log
WHERE (CAST($username AS VARCHAR) IS NULL OR username = $username)
  AND (CAST($action AS VARCHAR) IS NULL OR action = $action)
  AND (CAST($from_utc AS TIMESTAMP) IS NULL OR occurred_at >= CAST($from_utc AS TIMESTAMP))
  AND (CAST($to_utc AS TIMESTAMP) IS NULL OR occurred_at < CAST($to_utc AS TIMESTAMP))
ORDER BY occurred_at DESC, event_id DESC
LIMIT $limit OFFSET $offset
