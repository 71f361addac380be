-- Template: the subsidiary the template is for (no row when unknown). Grain: one row per subsidiary code.
SELECT code FROM subsidiaries WHERE code = $subsidiary
