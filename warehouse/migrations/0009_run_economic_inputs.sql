-- The economic inputs each run priced its results with, per pilot-metric: the metric's tenge value, direction and
-- frequency, and the pilot's costs, as the registry had them when the run was made. A report of an earlier run
-- reads these, so a later tariff or cost change in the registry does not reprice that run's numbers. The run's
-- discount rate and horizon are already in estimate_runs.parameters.
-- Rows stored before this migration keep NULL here; readers fall back to the current registry for them.
-- Grain unchanged: one row per (run_id, pilot_code, metric_code).

ALTER TABLE estimate_results ADD COLUMN value_kzt_per_unit DOUBLE;   -- KZT per metric unit (NULL: metric unknown)
ALTER TABLE estimate_results ADD COLUMN higher_is_better BOOLEAN;
ALTER TABLE estimate_results ADD COLUMN frequency VARCHAR;           -- daily, weekly, monthly, quarterly, yearly
ALTER TABLE estimate_results ADD COLUMN capex_kzt DOUBLE;            -- the whole pilot's capex, KZT
ALTER TABLE estimate_results ADD COLUMN opex_kzt_per_year DOUBLE;    -- the whole pilot's opex, KZT per year
