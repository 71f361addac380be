-- Report: the pilots $pilots (those live by the end of the year: the report decides it from the go-lives the run used,
-- pipelines/reports/pilot_sites.sql) with their subsidiary, names and use case from the registry.
-- Grain: one row per pilot.
SELECT p.code, p.name_ru, p.name_kk, p.name_en, p.subsidiary_code,
       coalesce(s.name_ru, p.subsidiary_code) AS sub_name_ru,
       coalesce(s.name_kk, p.subsidiary_code) AS sub_name_kk,
       coalesce(s.name_en, p.subsidiary_code) AS sub_name_en,
       p.use_case, CAST(p.capex_kzt AS DOUBLE) AS capex_kzt, CAST(p.opex_kzt_per_year AS DOUBLE) AS opex_kzt_per_year
FROM pilot_registry AS p
LEFT JOIN subsidiaries AS s ON s.code = p.subsidiary_code
WHERE list_contains($pilots, p.code)
ORDER BY p.subsidiary_code, p.code
