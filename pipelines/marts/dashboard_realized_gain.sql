-- Dashboard portfolio: realized gain by month, summed over the demonstrated pilot-metrics of the latest
-- finished run that pass the filters: (observed − counterfactual) × KZT per unit × treated sites, signed so
-- that a beneficial change is positive, over post-go-live periods only (from the earliest go-live among the
-- sites the estimate used). Reads estimate_counterfactuals (precomputed means per treated site), never raw
-- observations. Priced with the tenge value and direction the run recorded (migration 0009; rows stored before it
-- take the registry's), as the run's annual gain and the year report are.
-- Grain: one row per month.
WITH run AS (
    SELECT max(run_id) AS run_id FROM estimate_runs WHERE status = 'finished'
),
go AS (
    SELECT pilot_code, min(go_live) AS first_go_live, count(*) AS n_treated_sites
    FROM pilot_treated_sites
    GROUP BY pilot_code
),
est AS (
    SELECT r.run_id, r.pilot_code, r.metric_code, coalesce(r.n_treated, go.n_treated_sites, 1) AS n_treated,
           CASE WHEN r.capex_kzt IS NULL THEN m.higher_is_better ELSE r.higher_is_better END AS higher_is_better,
           CASE WHEN r.capex_kzt IS NULL THEN m.value_kzt_per_unit ELSE r.value_kzt_per_unit END AS value_kzt_per_unit,
           go.first_go_live,
           -- the first treated period of the earliest go-live among the treated sites the estimate used
           -- (economics.realized_gain_start): a site left out must not start the count before a later site's
           -- go-live, and never before the period that holds the registry's earliest go-live
           greatest(
               go_period.first_period,
               coalesce(TRY_CAST(json_extract_string(r.diagnostics, '$.design.first_go_live_used') AS DATE),
                        go_period.first_period)
           ) AS gain_start
    FROM estimate_results AS r
    JOIN run ON r.run_id = run.run_id
    JOIN pilot_registry AS p ON p.code = r.pilot_code
    LEFT JOIN metrics AS m ON m.code = r.metric_code
    LEFT JOIN go ON go.pilot_code = r.pilot_code
    -- economics.period_start: the warehouse labels weekly periods by their Monday, monthly and coarser by their
    -- first day
    CROSS JOIN LATERAL (
        SELECT CAST(CASE CASE WHEN r.capex_kzt IS NULL THEN m.frequency ELSE r.frequency END
                        WHEN 'weekly' THEN date_trunc('week', go.first_go_live)
                        WHEN 'monthly' THEN date_trunc('month', go.first_go_live)
                        WHEN 'quarterly' THEN date_trunc('quarter', go.first_go_live)
                        WHEN 'yearly' THEN date_trunc('year', go.first_go_live)
                        ELSE go.first_go_live END AS DATE) AS first_period
    ) AS go_period
    WHERE r.grade = 'demonstrated'
      AND (CAST($subsidiaries AS VARCHAR[]) IS NULL OR list_contains(CAST($subsidiaries AS VARCHAR[]), p.subsidiary_code))
      AND (CAST($use_cases AS VARCHAR[]) IS NULL OR list_contains(CAST($use_cases AS VARCHAR[]), p.use_case))
      AND (CAST($years AS INTEGER[]) IS NULL
           OR list_contains(CAST($years AS INTEGER[]), CAST(year(go.first_go_live) AS INTEGER)))
      AND (CAST($grades AS VARCHAR[]) IS NULL OR list_contains(CAST($grades AS VARCHAR[]), r.grade))
)
SELECT
    CAST(date_trunc('month', c.period) AS DATE) AS month,
    sum(
        CASE WHEN e.higher_is_better THEN c.observed - c.counterfactual ELSE c.counterfactual - c.observed END
        * e.value_kzt_per_unit * e.n_treated
    ) AS gain_kzt
FROM estimate_counterfactuals AS c
JOIN est AS e ON e.run_id = c.run_id AND e.pilot_code = c.pilot_code AND e.metric_code = c.metric_code
WHERE c.period >= e.gain_start
  AND c.observed IS NOT NULL
  AND c.counterfactual IS NOT NULL
GROUP BY 1
ORDER BY 1
