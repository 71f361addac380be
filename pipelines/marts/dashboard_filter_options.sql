-- Dashboard portfolio filters: the values present among registered pilots, with names in $lang.
-- Grain: one row per (kind, value); kind is subsidiary, use_case or year.
SELECT 'subsidiary' AS kind, p.subsidiary_code AS value,
       coalesce(any_value(CASE $lang WHEN 'kk' THEN s.name_kk WHEN 'en' THEN s.name_en ELSE s.name_ru END),
                p.subsidiary_code) AS label
FROM pilot_registry AS p LEFT JOIN subsidiaries AS s ON s.code = p.subsidiary_code
GROUP BY p.subsidiary_code
UNION ALL
SELECT DISTINCT 'use_case', use_case, use_case FROM pilot_registry
UNION ALL
SELECT DISTINCT 'year', CAST(year(min(go_live)) AS VARCHAR), CAST(year(min(go_live)) AS VARCHAR)
FROM pilot_treated_sites GROUP BY pilot_code
ORDER BY kind, value
