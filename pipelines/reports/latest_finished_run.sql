-- Report: the latest finished estimate run, the default source of an unfrozen report. Grain: one row or none.
SELECT max(run_id) AS run_id FROM estimate_runs WHERE status = 'finished'
