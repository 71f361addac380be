-- Auth: every account without its password hash, for `pilot-roi users list`. Grain: one row per user.
SELECT
    username,
    role,
    subsidiary_code,
    language,
    disabled,
    failed_attempts,
    CAST(locked_until AS TIMESTAMP) AS locked_until,
    CAST(created_at AS TIMESTAMP) AS created_at
FROM users
ORDER BY username
