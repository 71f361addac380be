-- Registry: pilots as stored, with their children as sorted lists so a pilot diffs as one value.
-- Grain: one row per pilot code.
SELECT p.code, p.name_ru, p.name_kk, p.name_en, p.subsidiary_code, p.use_case, p.capex_kzt, p.opex_kzt_per_year,
       coalesce((SELECT list(site_code || '@' || strftime(go_live, '%Y-%m-%d') ORDER BY site_code)
                 FROM pilot_treated_sites t WHERE t.pilot_code = p.code), []) AS treated,
       coalesce((SELECT list(site_code ORDER BY site_code)
                 FROM pilot_control_sites c WHERE c.pilot_code = p.code), []) AS controls,
       coalesce((SELECT list(metric_code ORDER BY metric_code)
                 FROM pilot_metrics m WHERE m.pilot_code = p.code), []) AS metrics
FROM pilot_registry AS p
