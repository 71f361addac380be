-- Record the true effects of the demo pilots from the registered frame `demo_truths_input`.
-- Grain: one row per (pilot_code, metric_code, site_code).
INSERT INTO demo_truths BY NAME
SELECT
    CAST(pilot_code AS VARCHAR) AS pilot_code,
    CAST(metric_code AS VARCHAR) AS metric_code,
    CAST(site_code AS VARCHAR) AS site_code,
    CAST(go_live AS DATE) AS go_live,
    CAST(kind AS VARCHAR) AS kind,
    CAST(true_effect AS DOUBLE) AS true_effect,
    CAST(true_effect_pct AS DOUBLE) AS true_effect_pct,
    CAST(n_post_periods AS INTEGER) AS n_post_periods,
    CAST(counterfactual_mean AS DOUBLE) AS counterfactual_mean,
    CAST(design_pct AS DOUBLE) AS design_pct,
    CAST(ramp_days AS INTEGER) AS ramp_days,
    CAST(seed AS BIGINT) AS seed
FROM demo_truths_input
