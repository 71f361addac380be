-- Dashboard pilot page: the values received for a pilot-metric without an estimate, so that the reader sees the
-- data the estimate could not use. Mean per period over the pilot's treated sites and over its control sites
-- (the current observations, not a run's). Grain: one row per period. $treated and $controls: lists of site codes.
SELECT period,
       avg(CAST(value AS DOUBLE)) FILTER (WHERE list_contains($treated, site_code)) AS treated,
       avg(CAST(value AS DOUBLE)) FILTER (WHERE list_contains($controls, site_code)) AS controls
FROM observation_current
WHERE metric_code = $metric_code
  AND (list_contains($treated, site_code) OR list_contains($controls, site_code))
GROUP BY period
ORDER BY period
