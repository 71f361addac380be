-- The data quality summary the dashboard reads instead of scanning the observations (issue 5). Kept up to date by
-- src/pilot_roi/warehouse/quality_summary.py (pipelines/quality/) in the transaction of every load, restatement and
-- metric frequency change; filled below for the observations already in the warehouse (a copy of the pipelines'
-- full rebuild as of this migration). No primary keys: a refresh deletes and re-inserts a pair's rows in one
-- transaction, and each key is unique by construction.

-- Grain: one row per (site_code, metric_code) with current observations and a registered metric.
CREATE TABLE quality_pair_summary (
    site_code       VARCHAR NOT NULL,
    metric_code     VARCHAR NOT NULL,
    frequency       VARCHAR NOT NULL,  -- the metric's frequency the counts were made at
    first_period    DATE NOT NULL,
    last_period     DATE NOT NULL,
    n_observed      BIGINT NOT NULL,   -- current values
    n_expected      BIGINT NOT NULL,   -- periods at the frequency from first to last value
    n_missing       BIGINT NOT NULL,   -- n_expected - n_observed
    last_upload_id  BIGINT NOT NULL,   -- the latest upload whose values are current for the pair
    median_value    DOUBLE NOT NULL,   -- metric units
    median_lo       DOUBLE NOT NULL,   -- the middle value(s) the median is taken from: lower ...
    median_hi       DOUBLE NOT NULL,   -- ... and upper (equal for an odd count)
    mad             DOUBLE NOT NULL,   -- median absolute deviation from the median, metric units
    mad_lo          DOUBLE NOT NULL,   -- the middle absolute deviation(s) the MAD is taken from: lower ...
    mad_hi          DOUBLE NOT NULL    -- ... and upper
);

-- Grain: one row per (site_code, metric_code, month) with at least one expected period (a period counts in the
-- month it starts in).
CREATE TABLE quality_monthly_summary (
    site_code    VARCHAR NOT NULL,
    metric_code  VARCHAR NOT NULL,
    month        DATE NOT NULL,
    n_expected   BIGINT NOT NULL,
    n_observed   BIGINT NOT NULL  -- current values on the expected periods
);

-- Grain: one row per flagged (site_code, metric_code, period): |robust z| > 3.5 on a series of at least 8 values.
CREATE TABLE quality_outlier_flags (
    site_code     VARCHAR NOT NULL,
    metric_code   VARCHAR NOT NULL,
    period        DATE NOT NULL,
    value         DOUBLE NOT NULL,
    median_value  DOUBLE NOT NULL,
    mad           DOUBLE NOT NULL,
    robust_z      DOUBLE NOT NULL,  -- unitless
    upload_id     BIGINT NOT NULL
);

-- Full rebuild: pipelines/quality/pairs_all.sql, then the refresh steps (the deletes would find nothing here).
CREATE OR REPLACE TEMP TABLE quality_refresh_pairs AS
SELECT site_code, metric_code FROM observation_current
UNION
SELECT site_code, metric_code FROM quality_pair_summary;

CREATE OR REPLACE TEMP TABLE quality_refresh_values AS
SELECT o.site_code, o.metric_code, o.period, o.value, o.upload_id
FROM observation_current AS o
SEMI JOIN quality_refresh_pairs AS p USING (site_code, metric_code);

CREATE OR REPLACE TEMP TABLE quality_refresh_stats AS
WITH scoped AS (SELECT * FROM quality_refresh_values),
centre AS (
    SELECT site_code, metric_code, min(period) AS first_period, max(period) AS last_period,
           count(*) AS n_observed, max(upload_id) AS last_upload_id, median(value) AS median_value
    FROM scoped
    GROUP BY site_code, metric_code
),
spread AS (
    SELECT s.site_code, s.metric_code, median(abs(s.value - c.median_value)) AS mad,
           avg(abs(s.value - c.median_value)) AS mean_ad,
           max(s.value) FILTER (WHERE s.value <= c.median_value) AS median_lo,
           min(s.value) FILTER (WHERE s.value >= c.median_value) AS median_hi
    FROM scoped AS s JOIN centre AS c USING (site_code, metric_code)
    GROUP BY s.site_code, s.metric_code
),
deviation_bounds AS (
    SELECT s.site_code, s.metric_code,
           max(abs(s.value - c.median_value)) FILTER (WHERE abs(s.value - c.median_value) <= p.mad) AS mad_lo,
           min(abs(s.value - c.median_value)) FILTER (WHERE abs(s.value - c.median_value) >= p.mad) AS mad_hi
    FROM scoped AS s
    JOIN centre AS c USING (site_code, metric_code)
    JOIN spread AS p USING (site_code, metric_code)
    GROUP BY s.site_code, s.metric_code
)
SELECT c.site_code, c.metric_code, m.frequency, c.first_period, c.last_period,
       CAST(c.n_observed AS BIGINT) AS n_observed, c.last_upload_id, c.median_value, p.median_lo, p.median_hi,
       p.mad, d.mad_lo, d.mad_hi, p.mean_ad
FROM centre AS c
JOIN spread AS p USING (site_code, metric_code)
JOIN deviation_bounds AS d USING (site_code, metric_code)
LEFT JOIN metrics AS m ON m.code = c.metric_code;

INSERT INTO quality_monthly_summary (site_code, metric_code, month, n_expected, n_observed)
WITH daily_months AS (
    SELECT site_code, metric_code, first_period, last_period,
           CAST(unnest(generate_series(date_trunc('month', first_period), last_period, INTERVAL 1 MONTH)) AS DATE)
               AS month
    FROM quality_refresh_stats
    WHERE frequency = 'daily'
),
daily_observed AS (
    SELECT o.site_code, o.metric_code, CAST(date_trunc('month', o.period) AS DATE) AS month, count(*) AS n_observed
    FROM quality_refresh_values AS o
    SEMI JOIN (SELECT site_code, metric_code FROM quality_refresh_stats WHERE frequency = 'daily') AS p
        USING (site_code, metric_code)
    GROUP BY ALL
),
coarse_expected AS (
    SELECT site_code, metric_code,
           CAST(unnest(generate_series(first_period, last_period,
               CASE frequency WHEN 'weekly' THEN INTERVAL 7 DAY WHEN 'monthly' THEN INTERVAL 1 MONTH
                              WHEN 'quarterly' THEN INTERVAL 3 MONTH ELSE INTERVAL 1 YEAR END)) AS DATE) AS period
    FROM quality_refresh_stats
    WHERE frequency IS NOT NULL AND frequency <> 'daily'
)
SELECT d.site_code, d.metric_code, d.month,
       CAST(date_diff('day', greatest(d.month, d.first_period),
                      least(CAST(d.month + INTERVAL 1 MONTH AS DATE), d.last_period + 1)) AS BIGINT) AS n_expected,
       CAST(coalesce(o.n_observed, 0) AS BIGINT) AS n_observed
FROM daily_months AS d
LEFT JOIN daily_observed AS o USING (site_code, metric_code, month)
UNION ALL
SELECT e.site_code, e.metric_code, CAST(date_trunc('month', e.period) AS DATE) AS month,
       CAST(count(*) AS BIGINT) AS n_expected, CAST(count(o.period) AS BIGINT) AS n_observed
FROM coarse_expected AS e
LEFT JOIN quality_refresh_values AS o USING (site_code, metric_code, period)
GROUP BY ALL;

INSERT INTO quality_pair_summary (site_code, metric_code, frequency, first_period, last_period, n_observed,
                                  n_expected, n_missing, last_upload_id, median_value, median_lo, median_hi, mad,
                                  mad_lo, mad_hi)
WITH expected AS (
    SELECT q.site_code, q.metric_code, CAST(sum(q.n_expected) AS BIGINT) AS n_expected
    FROM quality_monthly_summary AS q
    SEMI JOIN quality_refresh_pairs AS p USING (site_code, metric_code)
    GROUP BY ALL
)
SELECT s.site_code, s.metric_code, s.frequency, s.first_period, s.last_period, s.n_observed, e.n_expected,
       e.n_expected - s.n_observed AS n_missing, s.last_upload_id, s.median_value, s.median_lo, s.median_hi, s.mad,
       s.mad_lo, s.mad_hi
FROM quality_refresh_stats AS s
JOIN expected AS e USING (site_code, metric_code);

INSERT INTO quality_outlier_flags (site_code, metric_code, period, value, median_value, mad, robust_z, upload_id)
WITH scored AS (
    SELECT o.site_code, o.metric_code, o.period, o.value, o.upload_id, s.median_value, s.mad,
           CASE WHEN s.mad > 0 THEN (o.value - s.median_value) / (1.4826 * s.mad)
                WHEN s.mean_ad > 0 THEN (o.value - s.median_value) / (1.2533 * s.mean_ad)
                ELSE 0 END AS robust_z
    FROM quality_refresh_values AS o
    JOIN quality_refresh_stats AS s USING (site_code, metric_code)
    WHERE s.n_observed >= 8
)
SELECT site_code, metric_code, period, value, median_value, mad, robust_z, upload_id
FROM scored
WHERE abs(robust_z) > 3.5;

DROP TABLE IF EXISTS quality_refresh_pairs;
DROP TABLE IF EXISTS quality_refresh_stats;
DROP TABLE IF EXISTS quality_stable_pairs;
DROP TABLE IF EXISTS quality_restated_values;
DROP TABLE IF EXISTS quality_refresh_values;
DROP TABLE IF EXISTS quality_new_key_pairs;
