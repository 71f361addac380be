-- Dashboard admin: registered pilots with their sites, controls and metrics, names in $lang.
-- Grain: one row per pilot.
SELECT p.code AS pilot_code,
       CASE $lang WHEN 'kk' THEN p.name_kk WHEN 'en' THEN p.name_en ELSE p.name_ru END AS pilot_name,
       p.subsidiary_code, p.use_case, p.capex_kzt, p.opex_kzt_per_year,
       coalesce((SELECT string_agg(site_code || ' (' || strftime(go_live, '%Y-%m-%d') || ')', ', ' ORDER BY site_code)
                 FROM pilot_treated_sites AS t WHERE t.pilot_code = p.code), '') AS treated,
       coalesce((SELECT string_agg(site_code, ', ' ORDER BY site_code)
                 FROM pilot_control_sites AS c WHERE c.pilot_code = p.code), '') AS controls,
       coalesce((SELECT string_agg(metric_code, ', ' ORDER BY metric_code)
                 FROM pilot_metrics AS pm WHERE pm.pilot_code = p.code), '') AS metrics
FROM pilot_registry AS p
ORDER BY p.code
