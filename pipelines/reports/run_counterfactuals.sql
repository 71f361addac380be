-- Report: observed vs counterfactual series of one run (mean per treated site). Grain: pilot, metric, period.
SELECT pilot_code, metric_code, period, observed, counterfactual, ci_low, ci_high
FROM estimate_counterfactuals
WHERE run_id = $run_id
ORDER BY pilot_code, metric_code, period
