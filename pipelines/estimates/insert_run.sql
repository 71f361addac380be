-- Estimates: record one finished run (the caller holds the transaction that also writes its results).
INSERT INTO estimate_runs (started_at, finished_at, status, data_version, code_version, parameters, started_by,
                           n_estimates)
VALUES (CAST($started_at AS TIMESTAMP), CAST($finished_at AS TIMESTAMP), 'finished', $data_version, $code_version,
        CAST($parameters AS JSON), $started_by, CAST($n_estimates AS INTEGER))
RETURNING run_id
