-- Report: every pilot-metric result of one run with the economic inputs the run priced it with (the metric's
-- frequency, direction and tenge value, the pilot's costs: recorded per row since migration 0009), so that a later
-- registry change never reprices an earlier run; names and unit come from the registry. Rows stored before 0009
-- recorded nothing (capex_kzt is NULL: every later row has its pilot's costs) and take the current registry's
-- inputs instead. Grain: pilot, metric.
SELECT r.pilot_code, r.metric_code, m.name_ru, m.name_kk, m.name_en, m.unit,
       CASE WHEN r.capex_kzt IS NULL THEN m.frequency ELSE r.frequency END AS frequency,
       CASE WHEN r.capex_kzt IS NULL THEN m.higher_is_better ELSE r.higher_is_better END AS higher_is_better,
       CAST(CASE WHEN r.capex_kzt IS NULL THEN m.value_kzt_per_unit ELSE r.value_kzt_per_unit END AS DOUBLE)
           AS value_kzt_per_unit,
       CAST(CASE WHEN r.capex_kzt IS NULL THEN p.capex_kzt ELSE r.capex_kzt END AS DOUBLE) AS capex_kzt,
       CAST(CASE WHEN r.capex_kzt IS NULL THEN p.opex_kzt_per_year ELSE r.opex_kzt_per_year END AS DOUBLE)
           AS opex_kzt_per_year,
       r.reused_from_run, r.status, r.reason, r.method, r.method_reason, r.effect, r.se, r.effect_pct,
       r.ci_low, r.ci_high, r.p_value, r.q_value, r.pre_trend_p, r.mde, r.grade, r.grade_reason,
       r.n_treated, r.n_controls, r.n_pre_periods, r.n_post_periods,
       r.annual_gain_kzt, r.annual_gain_ci_low, r.annual_gain_ci_high, r.npv_kzt, r.npv_ci_low, r.npv_ci_high,
       r.roi, r.roi_ci_low, r.roi_ci_high, r.payback_months, r.realized_gain_kzt,
       CAST(r.diagnostics AS VARCHAR) AS diagnostics
FROM estimate_results AS r
LEFT JOIN metrics AS m ON m.code = r.metric_code
LEFT JOIN pilot_registry AS p ON p.code = r.pilot_code
WHERE r.run_id = $run_id
ORDER BY r.pilot_code, r.metric_code
