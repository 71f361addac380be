-- Estimates: the sites of one pilot-metric panel and the role of each. Grain: one row per site.
-- treated:  the pilot's treated sites, with their go-live.
-- control:  the pilot's listed controls or, when it lists none, its subsidiary's other sites;
--           either way never treated by another pilot in the window.
-- excluded: a would-be control that another pilot treats in the window (`touched_by` names the pilots).
-- The window ends at the last period observed for the metric at the pilot's treated sites: a site whose
-- other pilot goes live on or before that day is contaminated for the whole panel. With
-- $same_metric_only false (the default) any other pilot contaminates a site; with true only another
-- pilot measured on the same metric does.
WITH treated AS (
    SELECT site_code, go_live
    FROM pilot_treated_sites
    WHERE pilot_code = $pilot_code
),
window_end AS (
    SELECT max(o.period) AS stop
    FROM observation_current AS o
    JOIN treated AS t ON t.site_code = o.site_code
    WHERE o.metric_code = $metric_code
),
listed AS (
    SELECT site_code FROM pilot_control_sites WHERE pilot_code = $pilot_code
),
candidates AS (
    SELECT site_code FROM listed
    UNION
    SELECT s.code AS site_code
    FROM sites AS s
    JOIN pilot_registry AS p ON p.subsidiary_code = s.subsidiary_code
    WHERE p.code = $pilot_code AND NOT EXISTS (SELECT 1 FROM listed)
),
other_pilots AS (
    SELECT t.site_code, string_agg(DISTINCT t.pilot_code, ',' ORDER BY t.pilot_code) AS touched_by
    FROM pilot_treated_sites AS t
    CROSS JOIN window_end AS w
    WHERE t.pilot_code <> $pilot_code
      AND (w.stop IS NULL OR t.go_live <= w.stop)
      AND (NOT $same_metric_only OR EXISTS (
              SELECT 1 FROM pilot_metrics AS pm WHERE pm.pilot_code = t.pilot_code AND pm.metric_code = $metric_code))
    GROUP BY t.site_code
)
SELECT t.site_code, 'treated' AS role, t.go_live, o.touched_by
FROM treated AS t
LEFT JOIN other_pilots AS o ON o.site_code = t.site_code
UNION ALL
SELECT c.site_code,
       CASE WHEN o.site_code IS NULL THEN 'control' ELSE 'excluded' END AS role,
       CAST(NULL AS DATE) AS go_live,
       o.touched_by
FROM candidates AS c
LEFT JOIN other_pilots AS o ON o.site_code = c.site_code
WHERE c.site_code NOT IN (SELECT site_code FROM treated)
ORDER BY role, site_code
