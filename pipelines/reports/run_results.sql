-- Report: every pilot-metric result of one run with its metric's registry facts. Grain: pilot, metric.
SELECT r.pilot_code, r.metric_code, m.name_ru, m.name_kk, m.name_en, m.unit, m.frequency, m.higher_is_better,
       CAST(m.value_kzt_per_unit AS DOUBLE) AS value_kzt_per_unit,
       r.reused_from_run, r.status, r.reason, r.method, r.method_reason, r.effect, r.se, r.effect_pct,
       r.ci_low, r.ci_high, r.p_value, r.q_value, r.pre_trend_p, r.mde, r.grade, r.grade_reason,
       r.n_treated, r.n_controls, r.n_pre_periods, r.n_post_periods,
       r.annual_gain_kzt, r.annual_gain_ci_low, r.annual_gain_ci_high, r.npv_kzt, r.npv_ci_low, r.npv_ci_high,
       r.roi, r.roi_ci_low, r.roi_ci_high, r.payback_months, r.realized_gain_kzt,
       CAST(r.diagnostics AS VARCHAR) AS diagnostics
FROM estimate_results AS r
LEFT JOIN metrics AS m ON m.code = r.metric_code
WHERE r.run_id = $run_id
ORDER BY r.pilot_code, r.metric_code
