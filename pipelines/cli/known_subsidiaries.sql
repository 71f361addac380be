-- CLI: the subsidiary codes the registry has, named beside a refusal of an unknown one. Grain: one row per subsidiary.
SELECT code FROM subsidiaries ORDER BY code
