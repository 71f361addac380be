-- Dashboard pilot page: the sites one pilot-metric's estimate in run $run_id rests on, as the run recorded them on its
-- result row (estimate_results.treated_sites / control_sites, migration 0010), names in $lang: the treated sites it
-- estimated, each with its go-live (not one it left out for too little history, too many gaps or no post period), and
-- the control sites it compared them with (only those reporting on both sides of go-live; none for an interrupted
-- time series). A row without an estimate keeps the sites the pilot-metric was offered; a row stored before 0010
-- recorded none (NULL lists) and gives no rows. The same sites as the year-end report's (pipelines/reports/
-- pilot_sites.sql), not the registry's listing (dashboard_pilot_sites.sql).
-- Grain: one row per (role, site_code); treated first by go-live then code, then controls by code.
WITH result AS (
    SELECT treated_sites, control_sites
    FROM estimate_results
    WHERE run_id = $run_id AND pilot_code = $pilot_code AND metric_code = $metric_code
),
used AS (
    SELECT 'treated' AS role, CAST(s.site.site_code AS VARCHAR) AS site_code, CAST(s.site.go_live AS DATE) AS go_live
    FROM (SELECT unnest(treated_sites) AS site FROM result) AS s
    UNION ALL
    SELECT 'control' AS role, CAST(c.site_code AS VARCHAR) AS site_code, CAST(NULL AS DATE) AS go_live
    FROM (SELECT unnest(control_sites) AS site_code FROM result) AS c
)
SELECT u.site_code,
       coalesce(CASE $lang WHEN 'kk' THEN s.name_kk WHEN 'en' THEN s.name_en ELSE s.name_ru END, u.site_code)
           AS site_name,
       u.role,
       u.go_live
FROM used AS u
LEFT JOIN sites AS s ON s.code = u.site_code
ORDER BY u.role DESC, u.go_live NULLS LAST, u.site_code
