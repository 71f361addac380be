-- The sites each run estimated each pilot-metric with: the treated sites with their go-lives and the control sites
-- (listed, or by default the subsidiary's sites no other pilot treats in the window; either way without the ones
-- another pilot touches), as the registry had them when the estimate was made. A report of an earlier run reads
-- these, so a later change of a pilot's sites, go-lives or controls in the registry does not change which sites that
-- run's report says it used. A result carried forward from an earlier run keeps the sites of the run that made it.
-- Rows stored before this migration keep NULL here; readers fall back to the current registry for them.
-- Grain unchanged: one row per (run_id, pilot_code, metric_code).

ALTER TABLE estimate_results ADD COLUMN treated_sites STRUCT(site_code VARCHAR, go_live DATE)[];  -- by site code
ALTER TABLE estimate_results ADD COLUMN control_sites VARCHAR[];  -- by code; [] when none was left
ALTER TABLE estimate_results ADD COLUMN control_rule VARCHAR;     -- listed, subsidiary_never_treated
