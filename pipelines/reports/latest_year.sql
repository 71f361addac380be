-- Report: the latest calendar year the year-end report has numbers for, the Reports page's default year. It is the
-- year of the last day of the last period in the latest finished run's observed-vs-counterfactual series (a year's
-- realized gain sums them; a week counts its days in each year, so a week from Monday 30 December reaches into the
-- next year); with no finished run, the year of the latest current observation. NULL on an empty warehouse.
-- Grain: one row.
WITH run AS (
    SELECT max(run_id) AS run_id FROM estimate_runs WHERE status = 'finished'
),
series_end AS (
    -- the frequency the run priced each pilot-metric with (rows stored before migration 0009: the registry's), as
    -- reports/run_results.sql reads it
    SELECT max(CASE CASE WHEN r.capex_kzt IS NULL THEN m.frequency ELSE r.frequency END
                   WHEN 'weekly' THEN CAST(c.period + INTERVAL 6 DAY AS DATE)
                   ELSE c.period END) AS last_day
    FROM estimate_counterfactuals AS c
    JOIN run ON c.run_id = run.run_id
    LEFT JOIN estimate_results AS r
        ON r.run_id = c.run_id AND r.pilot_code = c.pilot_code AND r.metric_code = c.metric_code
    LEFT JOIN metrics AS m ON m.code = c.metric_code
    WHERE c.observed IS NOT NULL AND c.counterfactual IS NOT NULL
)
SELECT CAST(year(coalesce((SELECT last_day FROM series_end), (SELECT max(period) FROM observation_current)))
            AS INTEGER) AS latest_year
