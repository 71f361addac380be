-- Registry: subsidiaries as stored, to diff a registry file against. Grain: one row per code.
SELECT code, name_ru, name_kk, name_en, sector FROM subsidiaries
