-- Auth: a successful sign-in clears the failure count and any expired lock; may upgrade the hash.
-- Grain: one user row updated.
UPDATE users
SET failed_attempts = 0,
    locked_until = NULL,
    password_hash = $password_hash,
    updated_at = $now
WHERE username = $username
