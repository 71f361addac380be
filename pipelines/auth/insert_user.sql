-- Auth: create one account. Grain: one row per user.
INSERT INTO users (username, password_hash, role, subsidiary_code, language, created_at, updated_at)
VALUES ($username, $password_hash, $role, $subsidiary_code, $language, $now, $now)
