-- Dashboard pilot page: one pilot's registry entry with names in $lang and its first go-live.
-- Grain: one row (or none when the code is unknown).
SELECT
    p.code AS pilot_code,
    CASE $lang WHEN 'kk' THEN p.name_kk WHEN 'en' THEN p.name_en ELSE p.name_ru END AS pilot_name,
    p.subsidiary_code,
    coalesce(CASE $lang WHEN 'kk' THEN s.name_kk WHEN 'en' THEN s.name_en ELSE s.name_ru END, p.subsidiary_code)
        AS subsidiary_name,
    p.use_case,
    p.capex_kzt,
    p.opex_kzt_per_year,
    (SELECT min(go_live) FROM pilot_treated_sites AS t WHERE t.pilot_code = p.code) AS first_go_live
FROM pilot_registry AS p
LEFT JOIN subsidiaries AS s ON s.code = p.subsidiary_code
WHERE p.code = $pilot_code
