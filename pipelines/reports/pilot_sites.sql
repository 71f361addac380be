-- Report: the sites run $run_id estimated each pilot-metric with: the treated sites with their go-lives and the control
-- sites, as the run recorded them per result row (migration 0010), with names from the registry (a renamed site shows
-- its new name), so that a later change of a pilot's sites, go-lives or controls never changes which sites the run's
-- report lists. The controls are those the estimate reports it used (none for an interrupted time series), the treated
-- sites those it estimated (not one it left out for too little history, too many gaps or no post period), or, in rows
-- of runs before they did so and rows without an estimate, those the pilot-metric was offered: as recorded, either way.
-- Rows stored before 0010 recorded none (treated_sites is NULL: every later row has a list, maybe
-- empty) and take the current registry's sites instead (`recorded` false), as does a pilot the run has no row of
-- (metric_code NULL): its treated sites, its listed controls or, when it lists none, its subsidiary's sites that no
-- pilot treats. Treated sites by go-live then code, controls by code.
-- Grain: one row per (pilot_code, metric_code) of the run, plus one per registered pilot without a row in it.
WITH run_rows AS (
    SELECT pilot_code, metric_code, treated_sites, control_sites, control_rule
    FROM estimate_results
    WHERE run_id = $run_id
),
registry_treated AS (
    SELECT pilot_code, list({'site_code': site_code, 'go_live': go_live} ORDER BY site_code) AS treated_sites
    FROM pilot_treated_sites
    GROUP BY pilot_code
),
registry_listed AS (
    SELECT pilot_code, list(site_code ORDER BY site_code) AS control_sites
    FROM pilot_control_sites
    GROUP BY pilot_code
),
registry_default AS (
    SELECT p.code AS pilot_code, list(s.code ORDER BY s.code) AS control_sites
    FROM pilot_registry AS p
    JOIN sites AS s ON s.subsidiary_code = p.subsidiary_code
    WHERE s.code NOT IN (SELECT site_code FROM pilot_treated_sites)
    GROUP BY p.code
),
registry AS (
    SELECT p.code AS pilot_code,
           coalesce(t.treated_sites, CAST([] AS STRUCT(site_code VARCHAR, go_live DATE)[])) AS treated_sites,
           coalesce(l.control_sites, d.control_sites, CAST([] AS VARCHAR[])) AS control_sites,
           CASE WHEN l.pilot_code IS NULL THEN 'subsidiary_never_treated' ELSE 'listed' END AS control_rule
    FROM pilot_registry AS p
    LEFT JOIN registry_treated AS t ON t.pilot_code = p.code
    LEFT JOIN registry_listed AS l ON l.pilot_code = p.code
    LEFT JOIN registry_default AS d ON d.pilot_code = p.code
),
chosen AS (
    SELECT r.pilot_code, r.metric_code, r.treated_sites IS NOT NULL AS recorded,
           CASE WHEN r.treated_sites IS NULL THEN g.treated_sites ELSE r.treated_sites END AS treated_sites,
           CASE WHEN r.treated_sites IS NULL THEN g.control_sites ELSE coalesce(r.control_sites, []) END
               AS control_sites,
           CASE WHEN r.treated_sites IS NULL THEN g.control_rule ELSE r.control_rule END AS control_rule
    FROM run_rows AS r
    LEFT JOIN registry AS g ON g.pilot_code = r.pilot_code
    UNION ALL
    SELECT g.pilot_code, CAST(NULL AS VARCHAR) AS metric_code, false AS recorded, g.treated_sites, g.control_sites,
           g.control_rule
    FROM registry AS g
    WHERE g.pilot_code NOT IN (SELECT pilot_code FROM run_rows)
),
treated_rows AS (
    SELECT pilot_code, metric_code, unnest(treated_sites) AS site FROM chosen
),
treated AS (
    SELECT t.pilot_code, t.metric_code,
           list({'site_code': t.site.site_code, 'go_live': t.site.go_live,
                 'name_ru': coalesce(s.name_ru, t.site.site_code), 'name_kk': coalesce(s.name_kk, t.site.site_code),
                 'name_en': coalesce(s.name_en, t.site.site_code)}
                ORDER BY t.site.go_live, t.site.site_code) AS treated
    FROM treated_rows AS t
    LEFT JOIN sites AS s ON s.code = t.site.site_code
    GROUP BY t.pilot_code, t.metric_code
),
control_rows AS (
    SELECT pilot_code, metric_code, unnest(control_sites) AS site_code FROM chosen
),
controls AS (
    SELECT c.pilot_code, c.metric_code,
           list({'site_code': c.site_code, 'name_ru': coalesce(s.name_ru, c.site_code),
                 'name_kk': coalesce(s.name_kk, c.site_code), 'name_en': coalesce(s.name_en, c.site_code)}
                ORDER BY c.site_code) AS controls
    FROM control_rows AS c
    LEFT JOIN sites AS s ON s.code = c.site_code
    GROUP BY c.pilot_code, c.metric_code
)
SELECT c.pilot_code, c.metric_code, c.recorded,
       coalesce(c.control_rule = 'subsidiary_never_treated', false) AS controls_default,
       coalesce(t.treated, []) AS treated,
       coalesce(k.controls, []) AS controls
FROM chosen AS c
LEFT JOIN treated AS t ON t.pilot_code = c.pilot_code AND t.metric_code IS NOT DISTINCT FROM c.metric_code
LEFT JOIN controls AS k ON k.pilot_code = c.pilot_code AND k.metric_code IS NOT DISTINCT FROM c.metric_code
ORDER BY c.pilot_code, c.metric_code NULLS FIRST
