-- Dashboard pilot page: the pilot's estimates in the latest finished run, one per metric, with the metric's
-- names in $lang, unit, and the direction, tenge value and frequency the run priced with (recorded per row since migration
-- 0009; earlier rows, whose capex_kzt is NULL, take the registry's), and whether the run recorded the sites the
-- row rests on (migration 0010; dashboard_pilot_sites_used.sql lists them). Grain: one row per metric_code.
WITH run AS (
    SELECT max(run_id) AS run_id FROM estimate_runs WHERE status = 'finished'
)
SELECT
    r.metric_code,
    coalesce(CASE $lang WHEN 'kk' THEN m.name_kk WHEN 'en' THEN m.name_en ELSE m.name_ru END, r.metric_code)
        AS metric_name,
    m.unit,
    CASE WHEN r.capex_kzt IS NULL THEN m.higher_is_better ELSE r.higher_is_better END AS higher_is_better,
    CASE WHEN r.capex_kzt IS NULL THEN m.value_kzt_per_unit ELSE r.value_kzt_per_unit END AS value_kzt_per_unit,
    CASE WHEN r.capex_kzt IS NULL THEN m.frequency ELSE r.frequency END AS frequency,
    r.status, r.reason, r.method, r.method_reason,
    r.effect, r.se, r.effect_pct, r.ci_low, r.ci_high, r.p_value, r.q_value, r.pre_trend_p, r.mde,
    r.grade, r.grade_reason,
    r.n_treated, r.n_controls, r.n_pre_periods, r.n_post_periods,
    r.annual_gain_kzt, r.annual_gain_ci_low, r.annual_gain_ci_high,
    r.npv_kzt, r.npv_ci_low, r.npv_ci_high,
    r.roi, r.roi_ci_low, r.roi_ci_high,
    r.payback_months, r.realized_gain_kzt,
    CAST(r.diagnostics AS VARCHAR) AS diagnostics,
    r.treated_sites IS NOT NULL AS sites_recorded,
    r.run_id
FROM estimate_results AS r
JOIN run ON r.run_id = run.run_id
LEFT JOIN metrics AS m ON m.code = r.metric_code
WHERE r.pilot_code = $pilot_code
ORDER BY r.metric_code
