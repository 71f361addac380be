-- Registry: create or update one subsidiary.
INSERT OR REPLACE INTO subsidiaries (code, name_ru, name_kk, name_en, sector, updated_at)
VALUES ($code, $name_ru, $name_kk, $name_en, $sector, current_timestamp)
