-- Audit log: append one event (the log is never updated or deleted).
INSERT INTO audit_log (username, action, target, details, remote_addr)
VALUES ($username, $action, $target, $details, $remote_addr)
