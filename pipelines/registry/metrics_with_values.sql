-- Registry: metrics that already have current observations, with the unit and frequency the values were stored
-- in, how many there are, where and when, and the pilots measured on the metric (a registry file may not change
-- the unit or frequency under them). Grain: one row per metric code with at least one current value.
WITH stored AS (
    SELECT metric_code, count(*) AS n_values, count(DISTINCT site_code) AS n_sites, min(period) AS first_period,
           max(period) AS last_period
    FROM observation_current
    GROUP BY metric_code
)
SELECT m.code, m.unit, m.frequency, s.n_values, s.n_sites, s.first_period, s.last_period,
       coalesce((SELECT list(pm.pilot_code ORDER BY pm.pilot_code)
                 FROM pilot_metrics AS pm WHERE pm.metric_code = m.code), []) AS pilots
FROM metrics AS m
JOIN stored AS s ON s.metric_code = m.code
