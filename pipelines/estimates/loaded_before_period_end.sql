-- Estimates: the values of one metric at the given sites whose current version was loaded before its period could
-- have ended (a month-to-date total is a sum over part of its month). The bound has a day to spare for the product's
-- zone (stored moments are UTC); the runner compares each load's local date with the period's end.
-- Grain: one row per (site_code, period). $sites is a list of site codes; $frequency the metric's.
SELECT o.site_code, o.period, o.valid_from AS loaded_at
FROM observation_current AS o
WHERE o.metric_code = $metric_code
  AND list_contains($sites, o.site_code)
  AND o.valid_from < o.period + CASE $frequency
                                   WHEN 'daily' THEN INTERVAL 1 DAY
                                   WHEN 'weekly' THEN INTERVAL 7 DAY
                                   WHEN 'monthly' THEN INTERVAL 1 MONTH
                                   WHEN 'quarterly' THEN INTERVAL 3 MONTH
                                   ELSE INTERVAL 1 YEAR END + INTERVAL 1 DAY
ORDER BY o.period, o.site_code
