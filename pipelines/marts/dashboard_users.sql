-- Dashboard admin: accounts without their secrets. Grain: one row per user.
SELECT username, role, subsidiary_code, language, disabled, locked_until
FROM users
ORDER BY username
