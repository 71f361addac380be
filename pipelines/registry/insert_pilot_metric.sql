-- Registry: one metric a pilot is measured on.
INSERT INTO pilot_metrics (pilot_code, metric_code) VALUES ($pilot_code, $metric_code)
