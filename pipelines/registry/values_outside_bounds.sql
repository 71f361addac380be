-- Registry: current values of the named metrics outside the metrics' bounds as stored now (a load that tightens
-- min_value/max_value leaves them in place and says so), with the value furthest outside as an example.
-- Grain: one row per metric with such values; $codes: the metrics whose bounds the load changed.
SELECT o.metric_code AS code, count(*) AS n_values, count(DISTINCT o.site_code) AS n_sites,
       min(o.value) AS lowest, max(o.value) AS highest, any_value(m.min_value) AS min_value,
       any_value(m.max_value) AS max_value,
       arg_min({'site': o.site_code, 'period': o.period, 'value': o.value},
               CASE WHEN o.value < m.min_value THEN o.value - m.min_value ELSE m.max_value - o.value END) AS example
FROM observation_current AS o
JOIN metrics AS m ON m.code = o.metric_code
WHERE list_contains($codes, o.metric_code) AND (o.value < m.min_value OR o.value > m.max_value)
GROUP BY o.metric_code
ORDER BY o.metric_code
