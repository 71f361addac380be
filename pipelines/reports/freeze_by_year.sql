-- Report: the freeze of one year, if any. Grain: one row per year.
SELECT year, run_id, frozen_by, frozen_at, CAST(snapshot AS VARCHAR) AS snapshot
FROM report_freezes
WHERE year = $year
