-- Dashboard audit page filters: every user name and every action that occurs in the audit log.
-- Grain: one row per (kind, value), kind in ('user', 'action').
SELECT 'user' AS kind, username AS value FROM audit_log GROUP BY username
UNION ALL
SELECT 'action' AS kind, action AS value FROM audit_log GROUP BY action
ORDER BY kind, value
