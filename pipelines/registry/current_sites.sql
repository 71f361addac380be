-- Registry: sites as stored. Grain: one row per site code.
SELECT code, subsidiary_code, name_ru, name_kk, name_en, region FROM sites
