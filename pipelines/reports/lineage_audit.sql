-- Report audit trail: every audit-log event of the report's year up to the moment the run started
-- (sign-ins, uploads, restatements, registry and user changes, estimate runs, exports, ...), plus the
-- data and registry changes of earlier years that the year's numbers rest on. Events after the run's
-- start are left out, so the trail of a frozen report never moves. Grain: one event.
SELECT event_id, occurred_at, username, action, target, CAST(details AS VARCHAR) AS details
FROM audit_log
WHERE occurred_at <= CAST($as_of AS TIMESTAMP)
  AND (
      occurred_at >= make_timestamp(CAST($year AS BIGINT), 1, 1, 0, 0, 0)
      OR action IN ('restatement', 'upload', 'registry_load')
  )
ORDER BY occurred_at, event_id
