-- Report: every method's result of one run (robustness tables). Grain: pilot, metric, method.
SELECT pilot_code, metric_code, method, is_primary, status, reason, effect, se, ci_low, ci_high, p_value, effect_pct
FROM estimate_robustness
WHERE run_id = $run_id
ORDER BY pilot_code, metric_code, is_primary DESC, method
