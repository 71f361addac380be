-- Dashboard pilot page: observed vs counterfactual (mean per treated site) for one pilot-metric and run.
-- Grain: one row per period.
SELECT period, observed, counterfactual, ci_low, ci_high
FROM estimate_counterfactuals
WHERE run_id = $run_id AND pilot_code = $pilot_code AND metric_code = $metric_code
ORDER BY period
