-- Dashboard: every registered pilot's code and name in $lang (navigation and pickers).
-- Grain: one row per pilot.
SELECT code AS pilot_code, CASE $lang WHEN 'kk' THEN name_kk WHEN 'en' THEN name_en ELSE name_ru END AS pilot_name
FROM pilot_registry
ORDER BY code
