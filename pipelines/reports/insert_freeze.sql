-- Report: mark a run as the official result of a year, with the assembled numbers. Grain: one row per year.
INSERT INTO report_freezes (year, run_id, frozen_by, frozen_at, snapshot)
VALUES ($year, $run_id, $frozen_by, CAST($frozen_at AS TIMESTAMP), CAST($snapshot AS JSON))
