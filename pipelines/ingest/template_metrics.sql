-- Template: every metric with its unit and frequency (metrics are shared by all subsidiaries).
-- Grain: one row per metric code.
SELECT code, name_ru, name_kk, name_en, unit, frequency FROM metrics ORDER BY code
