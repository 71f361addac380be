-- Dashboard pilot page: every method's estimate side by side for one pilot-metric, latest finished run.
-- Grain: one row per method.
SELECT method, is_primary, status, reason, effect, se, ci_low, ci_high, p_value, effect_pct
FROM estimate_robustness
WHERE run_id = $run_id AND pilot_code = $pilot_code AND metric_code = $metric_code
ORDER BY is_primary DESC, method
