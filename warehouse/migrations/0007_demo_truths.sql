-- The true effects of the synthetic demo pilots, so that estimates can be checked against the truth.
-- Written only by `pilot-roi demo`; empty in a real warehouse.
-- Grain: one row per (pilot_code, metric_code, site_code): a treated site of a pilot on one metric.

CREATE TABLE demo_truths (
    pilot_code           VARCHAR NOT NULL,
    metric_code          VARCHAR NOT NULL,
    site_code            VARCHAR NOT NULL,
    go_live              DATE NOT NULL,
    kind                 VARCHAR NOT NULL CHECK (kind IN ('real', 'null', 'harmful')),
    true_effect          DOUBLE,            -- mean (with pilot - without) over the site's observed post periods, units per site-period
    true_effect_pct      DOUBLE,            -- 100 * true_effect / counterfactual_mean
    n_post_periods       INTEGER NOT NULL,  -- observed periods on or after go_live
    counterfactual_mean  DOUBLE,            -- mean value without the pilot over the same periods
    design_pct           DOUBLE NOT NULL,   -- the effect the scenario asked for, percent of the site's base level
    ramp_days            INTEGER NOT NULL,  -- days over which the effect ramps up linearly after go_live
    seed                 BIGINT NOT NULL,   -- generator seed
    PRIMARY KEY (pilot_code, metric_code, site_code)
);

-- The truth per pilot and metric, pooled over treated site-periods (the simple ATT aggregation).
-- Grain: one row per (pilot_code, metric_code).
CREATE VIEW demo_truth_pilots AS
SELECT
    pilot_code,
    metric_code,
    any_value(kind) AS kind,
    sum(true_effect * n_post_periods) / sum(n_post_periods) AS true_effect,
    100.0 * sum(true_effect * n_post_periods) / sum(counterfactual_mean * n_post_periods) AS true_effect_pct,
    CAST(count(*) AS INTEGER) AS n_treated,
    CAST(sum(n_post_periods) AS INTEGER) AS n_post_periods
FROM demo_truths
GROUP BY pilot_code, metric_code;

-- The latest estimates beside the truth, for checking the methods on the demo.
-- Grain: one row per (pilot_code, metric_code); estimate columns are NULL until a run has finished.
CREATE VIEW demo_truth_vs_estimates AS
SELECT
    t.pilot_code,
    t.metric_code,
    t.kind,
    t.true_effect,
    t.true_effect_pct,
    e.method,
    e.effect,
    e.effect_pct,
    e.ci_low,
    e.ci_high,
    e.grade,
    t.true_effect BETWEEN e.ci_low AND e.ci_high AS ci_covers_truth,
    e.run_id
FROM demo_truth_pilots AS t
LEFT JOIN estimates AS e ON e.pilot_code = t.pilot_code AND e.metric_code = t.metric_code;
