-- Dashboard audit page: the audit log, newest first, filtered by user, action and a date range of
-- occurred_at (each NULL = any; $date_to inclusive), one page of $limit rows after $offset.
-- n_total is the number of events matching the filters (the same on every row of the page).
-- Grain: one row per audit event.
SELECT event_id, occurred_at, username, action, target, CAST(details AS VARCHAR) AS details, remote_addr,
       count(*) OVER () AS n_total
FROM audit_log
WHERE (CAST($username AS VARCHAR) IS NULL OR username = $username)
  AND (CAST($action AS VARCHAR) IS NULL OR action = $action)
  AND (CAST($date_from AS DATE) IS NULL OR occurred_at >= CAST($date_from AS DATE))
  AND (CAST($date_to AS DATE) IS NULL OR occurred_at < CAST($date_to AS DATE) + INTERVAL 1 DAY)
ORDER BY occurred_at DESC, event_id DESC
LIMIT $limit OFFSET $offset
