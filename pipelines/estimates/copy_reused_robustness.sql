-- Estimates: carry the robustness rows of reused pilot-metrics from run $from_run into run $run_id.
-- `staged_reused` lists the reused (pilot_code, metric_code). Grain as the target table.
INSERT INTO estimate_robustness
SELECT CAST($run_id AS BIGINT), r.pilot_code, r.metric_code, r.method, r.is_primary, r.status, r.reason, r.effect,
       r.se, r.ci_low, r.ci_high, r.p_value, r.effect_pct
FROM estimate_robustness AS r
JOIN staged_reused AS s ON s.pilot_code = r.pilot_code AND s.metric_code = r.metric_code
WHERE r.run_id = $from_run
