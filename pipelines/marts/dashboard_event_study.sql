-- Dashboard pilot page: event-study coefficients (leads and lags) for one pilot-metric and run.
-- Grain: one row per event_time.
SELECT event_time, att, se, ci_low, ci_high
FROM estimate_event_study
WHERE run_id = $run_id AND pilot_code = $pilot_code AND metric_code = $metric_code
ORDER BY event_time
