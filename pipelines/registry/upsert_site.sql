-- Registry: create or update one site.
INSERT OR REPLACE INTO sites (code, subsidiary_code, name_ru, name_kk, name_en, region, updated_at)
VALUES ($code, $subsidiary_code, $name_ru, $name_kk, $name_en, $region, current_timestamp)
