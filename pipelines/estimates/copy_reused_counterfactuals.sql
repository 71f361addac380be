-- Estimates: carry the observed-vs-counterfactual rows of reused pilot-metrics from run $from_run into run $run_id.
-- `staged_reused` lists the reused (pilot_code, metric_code). Grain as the target table.
INSERT INTO estimate_counterfactuals
SELECT CAST($run_id AS BIGINT), c.pilot_code, c.metric_code, c.period, c.observed, c.counterfactual, c.ci_low,
       c.ci_high
FROM estimate_counterfactuals AS c
JOIN staged_reused AS s ON s.pilot_code = c.pilot_code AND s.metric_code = c.metric_code
WHERE c.run_id = $from_run
