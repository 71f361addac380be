-- Estimates: the current observations of one metric at the given sites (a pilot-metric's panel), each with the moment
-- (UTC) its current version was loaded (a total loaded before its period ended may cover part of it).
-- Grain: one row per (site_code, period). $sites is a list of site codes.
SELECT o.site_code, o.period, CAST(o.value AS DOUBLE) AS value, o.valid_from AS loaded_at
FROM observation_current AS o
WHERE o.metric_code = $metric_code AND list_contains($sites, o.site_code)
ORDER BY o.site_code, o.period
