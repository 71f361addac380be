-- Estimates: carry the event-study rows of reused pilot-metrics from run $from_run into run $run_id.
-- `staged_reused` lists the reused (pilot_code, metric_code). Grain as the target table.
INSERT INTO estimate_event_study
SELECT CAST($run_id AS BIGINT), e.pilot_code, e.metric_code, e.event_time, e.att, e.se, e.ci_low, e.ci_high
FROM estimate_event_study AS e
JOIN staged_reused AS s ON s.pilot_code = e.pilot_code AND s.metric_code = e.metric_code
WHERE e.run_id = $from_run
