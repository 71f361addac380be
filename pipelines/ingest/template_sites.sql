-- Template: the sites of one subsidiary, for the drop-down list. Grain: one row per site code.
SELECT code, name_ru, name_kk, name_en FROM sites WHERE subsidiary_code = $subsidiary ORDER BY code
