-- Auth: count one failed sign-in; lock the account until $locked_until once the count reaches the limit.
-- Grain: one user row updated.
UPDATE users
SET failed_attempts = $failed_attempts,
    locked_until = CAST($locked_until AS TIMESTAMP),
    updated_at = $now
WHERE username = $username
