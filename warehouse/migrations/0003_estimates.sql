-- Estimate runs and their results. A run holds every pilot-metric of the portfolio: results whose
-- inputs did not change are carried forward from the earlier run (reused_from_run), so one run id
-- always names a complete, reproducible set of numbers.

CREATE SEQUENCE run_id_seq START 1;

CREATE TABLE estimate_runs (
    run_id         BIGINT PRIMARY KEY DEFAULT nextval('run_id_seq'),
    started_at     TIMESTAMP NOT NULL DEFAULT current_timestamp,
    finished_at    TIMESTAMP,
    status         VARCHAR NOT NULL CHECK (status IN ('running', 'finished', 'failed')),
    data_version   VARCHAR NOT NULL,   -- hash of the current observations and registry
    code_version   VARCHAR NOT NULL,
    parameters     JSON NOT NULL,      -- discount rate, horizon, seed, method options
    started_by     VARCHAR NOT NULL,
    n_estimates    INTEGER
);

-- Grain: one row per (run_id, pilot_code, metric_code): the primary method's result.
CREATE TABLE estimate_results (
    run_id               BIGINT NOT NULL,
    pilot_code           VARCHAR NOT NULL,
    metric_code          VARCHAR NOT NULL,
    inputs_hash          VARCHAR NOT NULL,
    reused_from_run      BIGINT,
    status               VARCHAR NOT NULL,  -- ok, insufficient_data, error
    reason               VARCHAR,           -- why a number is missing (insufficient_pre_periods, no_controls, ...)
    method               VARCHAR,
    method_reason        VARCHAR,
    effect               DOUBLE,            -- metric units per treated site and period
    se                   DOUBLE,
    effect_pct           DOUBLE,
    ci_low               DOUBLE,
    ci_high              DOUBLE,
    p_value              DOUBLE,
    q_value              DOUBLE,
    pre_trend_p          DOUBLE,
    mde                  DOUBLE,
    grade                VARCHAR NOT NULL,
    grade_reason         VARCHAR,
    n_treated            INTEGER,
    n_controls           INTEGER,
    n_pre_periods        INTEGER,
    n_post_periods       INTEGER,
    annual_gain_kzt      DOUBLE,
    annual_gain_ci_low   DOUBLE,
    annual_gain_ci_high  DOUBLE,
    npv_kzt              DOUBLE,
    npv_ci_low           DOUBLE,
    npv_ci_high          DOUBLE,
    roi                  DOUBLE,
    roi_ci_low           DOUBLE,
    roi_ci_high          DOUBLE,
    payback_months       DOUBLE,
    realized_gain_kzt    DOUBLE,
    diagnostics          JSON,
    summary              VARCHAR,
    PRIMARY KEY (run_id, pilot_code, metric_code)
);

-- Every applicable method side by side (robustness table). Grain: run, pilot, metric, method.
CREATE TABLE estimate_robustness (
    run_id       BIGINT NOT NULL,
    pilot_code   VARCHAR NOT NULL,
    metric_code  VARCHAR NOT NULL,
    method       VARCHAR NOT NULL,
    is_primary   BOOLEAN NOT NULL,
    status       VARCHAR NOT NULL,
    reason       VARCHAR,
    effect       DOUBLE,
    se           DOUBLE,
    ci_low       DOUBLE,
    ci_high      DOUBLE,
    p_value      DOUBLE,
    effect_pct   DOUBLE
);

-- Observed vs counterfactual for the treated sites (mean per site). Grain: run, pilot, metric, period.
CREATE TABLE estimate_counterfactuals (
    run_id          BIGINT NOT NULL,
    pilot_code      VARCHAR NOT NULL,
    metric_code     VARCHAR NOT NULL,
    period          DATE NOT NULL,
    observed        DOUBLE,
    counterfactual  DOUBLE,
    ci_low          DOUBLE,
    ci_high         DOUBLE
);

-- Event-study coefficients (leads and lags). Grain: run, pilot, metric, event_time.
CREATE TABLE estimate_event_study (
    run_id       BIGINT NOT NULL,
    pilot_code   VARCHAR NOT NULL,
    metric_code  VARCHAR NOT NULL,
    event_time   INTEGER NOT NULL,
    att          DOUBLE,
    se           DOUBLE,
    ci_low       DOUBLE,
    ci_high      DOUBLE
);

-- A reviewer marks one run as the official result of a year; frozen reports read only that run.
CREATE TABLE report_freezes (
    year        INTEGER PRIMARY KEY,
    run_id      BIGINT NOT NULL,
    frozen_by   VARCHAR NOT NULL,
    frozen_at   TIMESTAMP NOT NULL DEFAULT current_timestamp,
    snapshot    JSON               -- the assembled report numbers at freezing time
);
