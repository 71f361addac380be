-- Dashboard pilot page: the pilot's treated sites (with go-live) and named control sites, names in $lang.
-- Grain: one row per (site_code, role).
SELECT ps.site_code,
       coalesce(CASE $lang WHEN 'kk' THEN s.name_kk WHEN 'en' THEN s.name_en ELSE s.name_ru END, ps.site_code)
           AS site_name,
       ps.role,
       ps.go_live
FROM (
    SELECT site_code, 'treated' AS role, go_live FROM pilot_treated_sites WHERE pilot_code = $pilot_code
    UNION ALL
    SELECT site_code, 'control' AS role, CAST(NULL AS DATE) FROM pilot_control_sites WHERE pilot_code = $pilot_code
) AS ps
LEFT JOIN sites AS s ON s.code = ps.site_code
ORDER BY ps.role DESC, ps.site_code
