-- Registry: sites that hold current values or that a pilot names (treated or listed control), with how many values
-- and which pilots: such a site stays in its subsidiary (a registry file may move only a site nothing refers to yet).
-- Grain: one row per site code in use.
WITH stored AS (
    SELECT site_code, count(*) AS n_values FROM observation_current GROUP BY site_code
),
named AS (
    SELECT site_code, list(DISTINCT pilot_code ORDER BY pilot_code) AS pilots
    FROM (SELECT site_code, pilot_code FROM pilot_treated_sites
          UNION ALL
          SELECT site_code, pilot_code FROM pilot_control_sites)
    GROUP BY site_code
)
SELECT s.code, coalesce(v.n_values, 0) AS n_values, coalesce(n.pilots, []) AS pilots
FROM sites AS s
LEFT JOIN stored AS v ON v.site_code = s.code
LEFT JOIN named AS n ON n.site_code = s.code
WHERE v.n_values IS NOT NULL OR n.pilots IS NOT NULL
ORDER BY s.code
