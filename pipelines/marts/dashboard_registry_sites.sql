-- Dashboard admin: registered sites with names in $lang. Grain: one row per site.
SELECT code AS site_code, subsidiary_code,
       CASE $lang WHEN 'kk' THEN name_kk WHEN 'en' THEN name_en ELSE name_ru END AS site_name, region
FROM sites
ORDER BY subsidiary_code, code
