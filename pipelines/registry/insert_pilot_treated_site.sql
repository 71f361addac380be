-- Registry: one treated site of a pilot with its go-live.
INSERT INTO pilot_treated_sites (pilot_code, site_code, go_live) VALUES ($pilot_code, $site_code, $go_live)
