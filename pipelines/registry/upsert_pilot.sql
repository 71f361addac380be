-- Registry: create or update one pilot's own row (its sites, controls and metrics are replaced separately).
INSERT OR REPLACE INTO pilot_registry (code, name_ru, name_kk, name_en, subsidiary_code, use_case, capex_kzt,
                                      opex_kzt_per_year, updated_at)
VALUES ($code, $name_ru, $name_kk, $name_en, $subsidiary_code, $use_case, $capex_kzt, $opex_kzt_per_year,
        current_timestamp)
