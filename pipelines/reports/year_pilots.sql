-- Report: pilots live by the end of the year (first go-live on or before year end), with their subsidiary.
-- Grain: one row per pilot.
SELECT p.code, p.name_ru, p.name_kk, p.name_en, p.subsidiary_code,
       coalesce(s.name_ru, p.subsidiary_code) AS sub_name_ru,
       coalesce(s.name_kk, p.subsidiary_code) AS sub_name_kk,
       coalesce(s.name_en, p.subsidiary_code) AS sub_name_en,
       p.use_case, CAST(p.capex_kzt AS DOUBLE) AS capex_kzt, CAST(p.opex_kzt_per_year AS DOUBLE) AS opex_kzt_per_year
FROM pilot_registry AS p
LEFT JOIN subsidiaries AS s ON s.code = p.subsidiary_code
WHERE p.code IN (
    SELECT pilot_code FROM pilot_treated_sites GROUP BY pilot_code HAVING min(go_live) <= CAST($year_end AS DATE)
)
ORDER BY p.subsidiary_code, p.code
