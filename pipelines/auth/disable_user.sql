-- Auth: disable one account (never deleted: the audit log names it). Grain: one user row updated.
UPDATE users
SET disabled = true,
    updated_at = $now
WHERE username = $username
