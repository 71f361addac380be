-- Report: one estimate run's identity and parameters. Grain: one row (the run), or none.
SELECT run_id, started_at, finished_at, status, data_version, code_version,
       CAST(parameters AS VARCHAR) AS parameters, started_by, n_estimates
FROM estimate_runs
WHERE run_id = $run_id
