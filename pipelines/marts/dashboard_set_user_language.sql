-- Dashboard: remember a signed-in user's chosen language (ru, kk or en) for their next sign-in.
-- Grain: one row of users, by username. Touches only the language column.
UPDATE users SET language = $lang WHERE username = $username AND language <> $lang
