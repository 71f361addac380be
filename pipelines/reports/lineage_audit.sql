-- Report lineage: audit-log events that changed data or registry before the run started. Grain: one event.
SELECT event_id, occurred_at, username, action, target, CAST(details AS VARCHAR) AS details
FROM audit_log
WHERE occurred_at <= CAST($as_of AS TIMESTAMP)
  AND action IN ('restatement', 'upload', 'registry_load')
ORDER BY occurred_at, event_id
