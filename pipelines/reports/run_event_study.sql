-- Report: event-study coefficients of one run. Grain: pilot, metric, event_time.
SELECT pilot_code, metric_code, event_time, att, ci_low, ci_high
FROM estimate_event_study
WHERE run_id = $run_id
ORDER BY pilot_code, metric_code, event_time
