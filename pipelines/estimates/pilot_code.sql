-- Estimates: the registry's spelling of a pilot code typed in another case or with spaces around it
-- (as ingestion accepts site and metric codes). Grain: one row per registry pilot that matches.
SELECT code
FROM pilot_registry
WHERE upper(trim(code)) = upper(trim($pilot_code))
ORDER BY code
