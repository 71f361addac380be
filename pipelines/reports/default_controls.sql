-- Report: default control sites (the subsidiary's sites never treated by any pilot), for pilots without
-- explicit controls. Grain: subsidiary, site.
SELECT s.subsidiary_code, s.code AS site_code, s.name_ru, s.name_kk, s.name_en
FROM sites AS s
WHERE s.code NOT IN (SELECT site_code FROM pilot_treated_sites)
ORDER BY s.subsidiary_code, s.code
