-- Auth: a new password (admin reset); clears the failure count and lock. Grain: one user row updated.
UPDATE users
SET password_hash = $password_hash,
    failed_attempts = 0,
    locked_until = NULL,
    updated_at = $now
WHERE username = $username
