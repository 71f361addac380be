-- The public views of PRODUCT.md: stable names and columns for analysts and auditors,
-- whatever the tables beneath them become.

-- Current values. Grain: site_code, metric_code, period.
CREATE VIEW observations AS
SELECT site_code, metric_code, period, value, upload_id
FROM observation_current;

-- Every version of every value; valid_to is NULL for the value in force.
CREATE VIEW observation_history AS
SELECT site_code, metric_code, period, value, upload_id, valid_from, CAST(NULL AS TIMESTAMP) AS valid_to
FROM observation_current
UNION ALL
SELECT site_code, metric_code, period, value, upload_id, valid_from, valid_to
FROM observation_superseded;

CREATE VIEW uploads AS
SELECT upload_id, file_name, sha256, size_bytes, uploaded_by, uploaded_at, status,
       rows_read, rows_inserted, rows_updated, rows_unchanged, rows_rejected
FROM upload_log;

CREATE VIEW pilots AS
SELECT code AS pilot_code, name_ru, name_kk, name_en, subsidiary_code, use_case, capex_kzt, opex_kzt_per_year
FROM pilot_registry;

CREATE VIEW pilot_sites AS
SELECT pilot_code, site_code, 'treated' AS role, go_live FROM pilot_treated_sites
UNION ALL
SELECT pilot_code, site_code, 'control' AS role, CAST(NULL AS DATE) AS go_live FROM pilot_control_sites;

-- The latest finished run's results.
CREATE VIEW estimates AS
SELECT r.pilot_code, r.metric_code, r.method, r.effect, r.effect_pct, r.ci_low, r.ci_high, r.p_value,
       r.q_value, r.grade, r.annual_gain_kzt, r.annual_gain_ci_low, r.annual_gain_ci_high, r.npv_kzt, r.roi,
       r.payback_months, r.run_id
FROM estimate_results AS r
WHERE r.run_id = (SELECT max(run_id) FROM estimate_runs WHERE status = 'finished');
