-- CLI: the pilot codes the registry has, named beside a refusal of an unknown one. Grain: one row per pilot.
SELECT code FROM pilot_registry ORDER BY code
