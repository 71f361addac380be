-- Auth: one account by username, with its lockout state. Grain: one row per user (0 or 1 rows).
SELECT
    username,
    password_hash,
    role,
    subsidiary_code,
    language,
    disabled,
    failed_attempts,
    CAST(locked_until AS TIMESTAMP) AS locked_until
FROM users
WHERE username = $username
