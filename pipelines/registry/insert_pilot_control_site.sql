-- Registry: one control site of a pilot.
INSERT INTO pilot_control_sites (pilot_code, site_code) VALUES ($pilot_code, $site_code)
