-- Estimates: every pilot-metric of the portfolio with what its economics and grade need.
-- Grain: one row per (pilot_code, metric_code). A metric named by a pilot but missing from `metrics`
-- still gets a row (metric columns NULL) so the runner can report it instead of dropping it.
SELECT
    pm.pilot_code,
    pm.metric_code,
    p.subsidiary_code,
    CAST(p.capex_kzt AS DOUBLE)          AS capex_kzt,
    CAST(p.opex_kzt_per_year AS DOUBLE)  AS opex_kzt_per_year,
    m.frequency,
    m.aggregation,
    m.higher_is_better,
    CAST(m.value_kzt_per_unit AS DOUBLE) AS value_kzt_per_unit,
    CAST(m.min_value AS DOUBLE)          AS min_value,
    CAST(m.max_value AS DOUBLE)          AS max_value,
    (SELECT min(t.go_live) FROM pilot_treated_sites AS t WHERE t.pilot_code = pm.pilot_code) AS first_go_live,
    (SELECT count(*) FROM pilot_control_sites AS c WHERE c.pilot_code = pm.pilot_code)      AS n_listed_controls
FROM pilot_metrics AS pm
JOIN pilot_registry AS p ON p.code = pm.pilot_code
LEFT JOIN metrics AS m ON m.code = pm.metric_code
WHERE $pilot_code IS NULL OR pm.pilot_code = $pilot_code
ORDER BY pm.pilot_code, pm.metric_code
