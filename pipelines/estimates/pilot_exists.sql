-- Estimates: whether the registry has the pilot $pilot_code. Grain: one row (a count, 0 or 1).
SELECT count(*) AS n FROM pilot_registry WHERE code = $pilot_code
