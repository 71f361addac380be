-- How the latest estimates compare with the demo's true effects. Grain: one row.
-- with_ci: pilot-metrics whose estimate has a finite interval; covering: those whose interval holds the truth.
SELECT
    CAST(count(*) AS INTEGER) AS pilot_metrics,
    CAST(count(*) FILTER (WHERE ci_low IS NOT NULL AND ci_high IS NOT NULL
                          AND isfinite(ci_low) AND isfinite(ci_high)) AS INTEGER) AS with_ci,
    CAST(count(*) FILTER (WHERE ci_covers_truth) AS INTEGER) AS covering
FROM demo_truth_vs_estimates
