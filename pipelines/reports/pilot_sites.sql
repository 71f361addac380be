-- Report: treated and explicit control sites of every pilot, with site names. Grain: pilot, site, role.
SELECT x.pilot_code, x.role, x.site_code, x.go_live,
       coalesce(s.name_ru, x.site_code) AS name_ru, coalesce(s.name_kk, x.site_code) AS name_kk,
       coalesce(s.name_en, x.site_code) AS name_en
FROM (
    SELECT pilot_code, 'treated' AS role, site_code, go_live FROM pilot_treated_sites
    UNION ALL
    SELECT pilot_code, 'control' AS role, site_code, CAST(NULL AS DATE) AS go_live FROM pilot_control_sites
) AS x
LEFT JOIN sites AS s ON s.code = x.site_code
ORDER BY x.pilot_code, x.role DESC, x.go_live, x.site_code
