-- Dashboard portfolio: every pilot-metric estimate of the latest finished run, with names in $lang and
-- the filter keys (subsidiary, use case, year of first go-live, grade). Reads precomputed results only.
-- Grain: one row per (pilot_code, metric_code). Filters are bound lists; NULL means "all".
WITH run AS (
    SELECT max(run_id) AS run_id FROM estimate_runs WHERE status = 'finished'
),
go AS (
    SELECT pilot_code, min(go_live) AS first_go_live, CAST(count(*) AS INTEGER) AS n_treated_sites
    FROM pilot_treated_sites
    GROUP BY pilot_code
)
SELECT
    r.pilot_code,
    CASE $lang WHEN 'kk' THEN p.name_kk WHEN 'en' THEN p.name_en ELSE p.name_ru END AS pilot_name,
    p.subsidiary_code,
    coalesce(CASE $lang WHEN 'kk' THEN s.name_kk WHEN 'en' THEN s.name_en ELSE s.name_ru END, p.subsidiary_code)
        AS subsidiary_name,
    p.use_case,
    go.first_go_live,
    CAST(year(go.first_go_live) AS INTEGER) AS go_live_year,
    r.metric_code,
    coalesce(CASE $lang WHEN 'kk' THEN m.name_kk WHEN 'en' THEN m.name_en ELSE m.name_ru END, r.metric_code)
        AS metric_name,
    m.unit,
    r.status,
    r.reason,
    r.method,
    r.effect,
    r.effect_pct,
    r.ci_low,
    r.ci_high,
    -- The CI in percent, scaled like the point estimate (effect_pct / effect is 100 / counterfactual mean).
    CASE WHEN r.effect <> 0 AND r.effect_pct IS NOT NULL THEN r.ci_low * r.effect_pct / r.effect END AS ci_low_pct,
    CASE WHEN r.effect <> 0 AND r.effect_pct IS NOT NULL THEN r.ci_high * r.effect_pct / r.effect END AS ci_high_pct,
    r.p_value,
    r.q_value,
    r.grade,
    r.annual_gain_kzt,
    r.annual_gain_ci_low,
    r.annual_gain_ci_high,
    r.npv_kzt,
    r.roi,
    r.payback_months,
    r.realized_gain_kzt,
    -- the costs the run priced with (recorded per row since migration 0009; earlier rows take the registry's), so
    -- the invested total beside the run's NPV and ROI is the one they were computed from, as in the year report
    CASE WHEN r.capex_kzt IS NULL THEN p.capex_kzt ELSE r.capex_kzt END AS capex_kzt,
    CASE WHEN r.capex_kzt IS NULL THEN p.opex_kzt_per_year ELSE r.opex_kzt_per_year END AS opex_kzt_per_year,
    r.run_id
FROM estimate_results AS r
JOIN run ON r.run_id = run.run_id
JOIN pilot_registry AS p ON p.code = r.pilot_code
LEFT JOIN subsidiaries AS s ON s.code = p.subsidiary_code
LEFT JOIN metrics AS m ON m.code = r.metric_code
LEFT JOIN go ON go.pilot_code = r.pilot_code
WHERE (CAST($subsidiaries AS VARCHAR[]) IS NULL OR list_contains(CAST($subsidiaries AS VARCHAR[]), p.subsidiary_code))
  AND (CAST($use_cases AS VARCHAR[]) IS NULL OR list_contains(CAST($use_cases AS VARCHAR[]), p.use_case))
  AND (CAST($years AS INTEGER[]) IS NULL
       OR list_contains(CAST($years AS INTEGER[]), CAST(year(go.first_go_live) AS INTEGER)))
  AND (CAST($grades AS VARCHAR[]) IS NULL OR list_contains(CAST($grades AS VARCHAR[]), r.grade))
ORDER BY r.annual_gain_kzt DESC NULLS LAST, r.pilot_code, r.metric_code
